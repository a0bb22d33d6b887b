/**
 * Health signals: the one seam through which an instance's verdict is made.
 *
 * An instance's verdict (healthy, or not healthy with the signal that says no and what it saw —
 * the reason shown to the user) is the combination of independent signals, each a small module
 * with the same interface:
 *  - `asg`            the Auto Scaling group's lifecycle state and health status (asg.ts);
 *  - `elb <name>`     each attached classic ELB's DescribeInstanceHealth state (elb.ts);
 *  - `gate <name>`    each health gate (HTTP, SSH command) on up-to-date instances (gates.ts);
 *  - later: each target group (ELBv2 DescribeTargetHealth), lifecycle hooks, alarms.
 *
 * The combination is "first no wins", in the order the signals are given (cheap, AWS-read
 * signals first; the gates, which call out to the instance, only once every AWS signal says yes).
 * Strategies never know which signals exist: they ask the runner's verdict ("which instances
 * serve"), and the runner asks {@link groupSignals} (health/index.ts) and the gates.
 *
 * Each signal may carry its polling hint: the checks it needs once the instance is InService
 * ({@link HealthCheckTiming}, e.g. a classic ELB's HealthyThreshold × Interval), from which the
 * poller derives the earliest useful re-look (polling.ts nextLookAt). Signals without a hint
 * (the ASG's: booting is learned from launches) leave the poller to the boot estimate.
 */
import type { GroupSnapshot, InstanceView } from '../../aws/port';
import type { HealthCheckTiming } from '../polling';

/** Why an instance is not (yet) healthy: the check that failed and its last state. */
export interface Verdict {
  healthy: boolean;
  /** The signal that said no: 'asg' | 'elb <name>' | 'gate <name>' (later 'tg <name>', …). */
  gate?: string;
  state?: string;
}

export const HEALTHY: Verdict = { healthy: true };

export interface HealthSignal {
  /** Shown in plans and in the verdict's `gate` ('asg', 'elb web', 'gate http …'). */
  readonly name: string;
  /**
   * The signal's verdict on instance `i` of group `g`, from what was observed (the snapshot).
   * Synchronous signals read the snapshot only; a signal that must look elsewhere (the gates)
   * returns a promise and never changes AWS.
   */
  judge(i: InstanceView, g?: GroupSnapshot): Verdict | Promise<Verdict>;
  /** Polling hint: the checks this signal needs once the instance is InService (none: undefined). */
  readonly timing?: HealthCheckTiming;
}

/** A signal judged from the snapshot alone (no I/O). */
export interface SnapshotSignal extends HealthSignal {
  judge(i: InstanceView, g?: GroupSnapshot): Verdict;
}

/** The verdict of snapshot signals: the first that says no, else healthy. */
export function combine(signals: readonly SnapshotSignal[], i: InstanceView, g?: GroupSnapshot): Verdict {
  for (const s of signals) {
    const v = s.judge(i, g);
    if (!v.healthy) return v;
  }
  return HEALTHY;
}

/**
 * The verdict of any signals, in order: the first that says no, else healthy. A later signal is
 * not asked once one said no (a gate is never called on an instance the ELB does not serve yet).
 */
export async function combineAsync(signals: readonly HealthSignal[], i: InstanceView, g?: GroupSnapshot): Promise<Verdict> {
  for (const s of signals) {
    const v = await s.judge(i, g);
    if (!v.healthy) return v;
  }
  return HEALTHY;
}

/**
 * The polling hint of several signals: the longest interval and the highest threshold among
 * them (undefined when none gives one, or every interval is 0).
 * Example: elb a 10 s × 3, elb b 5 s × 5 → 10 s × 5.
 */
export function pollTiming(signals: readonly HealthSignal[]): HealthCheckTiming | undefined {
  let interval = 0;
  let healthyThreshold = 0;
  for (const s of signals) {
    if (!s.timing) continue;
    interval = Math.max(interval, s.timing.interval);
    healthyThreshold = Math.max(healthyThreshold, s.timing.healthyThreshold);
  }
  return interval > 0 ? { interval, healthyThreshold } : undefined;
}
