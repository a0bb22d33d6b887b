/**
 * Chaos for lifecycle hooks and warm pools (issue 15 items 1–3): the draw (made after every other
 * draw of a scenario, so that no earlier draw of any seed moved), the setup on the rolling group,
 * and the checker's judgement.
 *
 * Drawn on a quarter of the scenarios (applied to rolling runs not on a launch configuration): a
 * launch hook (heartbeat 60–600 s, default result CONTINUE or ABANDON; the simulated bootstrap
 * script answers in 5–120 s, sometimes never — a hook that times out — and sometimes ABANDON),
 * a termination hook (heartbeat 60–900 s; the drain script answers in 5–300 s or never), and a
 * warm pool (Stopped/Running/Hibernated, MinSize 1–3) filled from the OLD version before the new
 * one is published: a warm pool of outdated instances.
 *
 * Judged: the tool never completes a lifecycle action nor records a heartbeat (it is the user's
 * script's answer); after a run that ended done, no outdated instance is left ready in the warm
 * pool, and none is live in the group (a scale-out would otherwise bring the old version back).
 */
import type { Sandbox } from '../sandbox';
import type { HookAgent, Seconds } from '../sandbox/model';
import type { Prng } from './prng';
import type { Attempt, Violation } from './invariants';

export interface LifecycleCase {
  launchHook?: { heartbeat: number; defaultResult: 'CONTINUE' | 'ABANDON'; agent: HookAgent };
  terminateHook?: { heartbeat: number; agent: HookAgent };
  warmPool?: { poolState: 'Stopped' | 'Running' | 'Hibernated'; minSize: number };
}

/** The draw (always the same number of draws whatever comes out, but for the nested choices). */
export function drawLifecycle(r: Prng): LifecycleCase | undefined {
  const drawn = r.chance(0.25);
  const launch = r.chance(0.6);
  const launchHook = {
    heartbeat: r.int(60, 600),
    defaultResult: r.chance(0.5) ? ('ABANDON' as const) : ('CONTINUE' as const),
    agent: { seconds: { min: 5, max: r.int(10, 120) }, hangRate: r.chance(0.3) ? r.int(10, 50) / 100 : 0, abandonRate: r.chance(0.3) ? r.int(5, 30) / 100 : 0 },
  };
  const terminate = r.chance(0.5);
  const terminateHook = { heartbeat: r.int(60, 900), agent: { seconds: { min: 5, max: r.int(10, 300) }, hangRate: r.chance(0.3) ? r.int(10, 50) / 100 : 0, abandonRate: 0 } };
  const warm = r.chance(0.5);
  const warmPool = { poolState: r.pick(['Stopped', 'Running', 'Hibernated'] as const), minSize: r.int(1, 3) };
  if (!drawn || (!launch && !terminate && !warm)) return undefined;
  return { ...(launch ? { launchHook } : {}), ...(terminate ? { terminateHook } : {}), ...(warm ? { warmPool } : {}) };
}

/**
 * A launch hook that may time out or end ABANDON: a new instance may fail (done or a clean halt).
 * An agent slower than the hook's heartbeat timeout fails too when the default result is ABANDON
 * (chaos seed 1477319734: answers drawn up to 109 s against a 64-s heartbeat, the re-run's first
 * two replacements both abandoned → the documented "replaced 2, none passed" halt).
 */
export function lifecycleMayFail(c: LifecycleCase | undefined): boolean {
  const h = c?.launchHook;
  if (!h) return false;
  const a = h.agent;
  return a.hangRate > 0 || a.abandonRate > 0 || (h.defaultResult === 'ABANDON' && longestAnswer(a.seconds) > h.heartbeat);
}

/** The longest an agent may take to answer (an unbounded distribution: any time). */
function longestAnswer(s: Seconds): number {
  if (typeof s === 'number') return s;
  return 'max' in s ? s.max : Infinity;
}

export function lifecycleTags(c: LifecycleCase | undefined): string[] {
  if (!c) return [];
  const t: string[] = [];
  if (c.launchHook) t.push(`launch-hook${c.launchHook.agent.hangRate > 0 ? ':times-out' : ''}${c.launchHook.agent.abandonRate > 0 ? ':abandon' : ''}`);
  if (c.terminateHook) t.push(`terminate-hook${c.terminateHook.agent.hangRate > 0 ? ':times-out' : ''}`);
  if (c.warmPool) t.push(`warm-pool:${c.warmPool.poolState.toLowerCase()}:outdated`);
  return t;
}

/**
 * On the settled rolling group, before the new version is published: the hooks (answered at once
 * by a prompt script while the pool fills) and the warm pool, filled from the old version.
 */
export function prepareLifecycle(sb: Sandbox, group: string, c: LifecycleCase | undefined): void {
  if (!c) return;
  sb.faults.lifecycleAgents = { launch: { seconds: 5, abandonRate: 0, hangRate: 0 }, terminate: { seconds: 5, abandonRate: 0, hangRate: 0 } };
  if (c.launchHook) sb.direct('autoscaling', 'PutLifecycleHook', { AutoScalingGroupName: group, LifecycleHookName: 'chaos-bootstrap', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: c.launchHook.heartbeat, DefaultResult: c.launchHook.defaultResult });
  if (c.terminateHook) sb.direct('autoscaling', 'PutLifecycleHook', { AutoScalingGroupName: group, LifecycleHookName: 'chaos-drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: c.terminateHook.heartbeat, DefaultResult: 'CONTINUE' });
  if (c.warmPool) {
    sb.direct('autoscaling', 'PutWarmPool', { AutoScalingGroupName: group, PoolState: c.warmPool.poolState, MinSize: c.warmPool.minSize });
    sb.settle({ group });
  }
}

/** At the rollout's start: the scripts as drawn. */
export function applyLifecycle(sb: Sandbox, c: LifecycleCase | undefined): void {
  if (!c) return;
  sb.faults.lifecycleAgents = { ...(c.launchHook ? { launch: c.launchHook.agent } : {}), ...(c.terminateHook ? { terminate: c.terminateHook.agent } : {}) };
}

/** The judgement (see the file comment). */
export function judgeLifecycle(sb: Sandbox, group: string, c: LifecycleCase | undefined, attempts: Attempt[], oldImage: string): Violation[] {
  if (!c) return [];
  const out: Violation[] = [];
  const answered = sb.calls.filter((x) => x.actor.startsWith('tool') && (x.operation === 'CompleteLifecycleAction' || x.operation === 'RecordLifecycleActionHeartbeat'));
  if (answered.length) out.push({ code: 'policy', message: `the tool answered a lifecycle action itself (${answered.map((x) => x.operation).join(', ')}): that is the user's script's answer` });
  const last = attempts[attempts.length - 1];
  const g = sb.world.state.groups[group];
  if (last?.exit === 0 && last.status === 'done' && g && c.warmPool) {
    // Outdated: the version rolled away from — unless the group runs it again at the end (a
    // rollback set it back: chaos seed 3543197495, a SIGINT during the rollback, then a re-run).
    const stale = sb.world.warmPool.instances(g).filter((i) => i.imageId === oldImage && !sb.world.isUpToDate(i, g) && !i.lifecycle?.startsWith('Warmed:Terminat'));
    if (stale.length) out.push({ code: 'leftover', message: `done with outdated warmed instances in the pool (a scale-out would bring the old version back): ${stale.map((i) => `${i.id} ${i.lifecycle}`).join(', ')}` });
  }
  return out;
}
