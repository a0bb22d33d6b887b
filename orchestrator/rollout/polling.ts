/**
 * Polling that is fast and frugal: no blind 30 s sleep.
 *
 * A new instance cannot pass before (a) it booted (ASG InService, registered with the ELB) and
 * (b) the ELB saw HealthyThreshold consecutive passing checks, Interval seconds apart. So the
 * engine sleeps until the earliest moment that could have happened, then polls briskly.
 *
 * Worked example: ELB interval 10 s, healthy threshold 3; boot observed at 60 s in this rollout.
 * An instance first seen Pending at t=0 cannot be InService before t≈60 s; once we see it
 * InService at a poll whose previous poll was at t=58 s, it registered no earlier than 58 s and
 * its first check can come at once, so it cannot pass before 58 + (3−1)×10 = 78 s. We sleep to
 * 78 s, then poll every 1.5 s until it passes (at most one interval later, ≤ 7 polls).
 *
 * Before a boot time has been observed (the first instance of a rollout) we poll at a fraction
 * of the elapsed time (10 %, 1.5 s..10 s), so the detection delay stays a small share of it.
 */

export interface HealthCheckTiming {
  /** ELB health check interval, seconds. */
  interval: number;
  healthyThreshold: number;
}

export interface PollingOptions {
  /** Fixed polling (the seed's --sleep / --poll-interval), ms. Disables adaptive polling. */
  fixedMs?: number;
  /** Brisk poll period near an expected change, ms (default 1500). */
  briskMs?: number;
  /** Longest sleep between polls, ms (default 30 000). */
  maxMs?: number;
}

export const DEFAULT_BRISK_MS = 1500;
export const DEFAULT_MAX_MS = 30_000;

/** What the poller knows about one instance it waits for. */
export interface WatchedInstance {
  /** First time this run saw it (clock ms). */
  firstSeen: number;
  /** Last poll time at which it was NOT yet InService (lower bound of when it registered). */
  notInServiceAt?: number;
  /** First poll at which it was seen InService. */
  inServiceSeen?: number;
  /** True when it already passed everything. */
  healthy: boolean;
}

/**
 * Earliest clock time at which `w` could pass its ELB checks, or undefined when unknown.
 * `bootMs`: typical boot time observed in this rollout (first seen → InService).
 */
export function earliestPassAt(w: WatchedInstance, timing: HealthCheckTiming | undefined, bootMs: number | undefined): number | undefined {
  if (w.healthy) return undefined;
  const checksMs = timing ? Math.max(0, timing.healthyThreshold - 1) * timing.interval * 1000 : 0;
  if (w.inServiceSeen !== undefined) {
    const registered = w.notInServiceAt ?? w.firstSeen;
    return registered + checksMs;
  }
  if (bootMs !== undefined) return w.firstSeen + bootMs + checksMs;
  return undefined;
}

/**
 * How long to sleep before the next observation.
 * `untilMs`: ms until the earliest moment something we wait for could change (undefined: unknown).
 * `sinceMs`: ms since the awaited change became possible at all (e.g. since the instance launched),
 * used while nothing is known yet.
 */
export function nextDelay(opts: PollingOptions, untilMs: number | undefined, sinceMs?: number): number {
  if (opts.fixedMs !== undefined) return opts.fixedMs;
  const brisk = opts.briskMs ?? DEFAULT_BRISK_MS;
  const max = opts.maxMs ?? DEFAULT_MAX_MS;
  if (untilMs !== undefined && untilMs > brisk) return Math.min(max, Math.round(untilMs));
  if (untilMs !== undefined) return brisk;
  if (sinceMs !== undefined) return Math.min(10_000, Math.max(brisk, Math.round(sinceMs / 10)));
  return brisk;
}

/** Back-off after throttling: 2 s, 4 s, 8 s … capped at 30 s; reset after a good poll. */
export function throttleBackoff(consecutive: number, maxMs = DEFAULT_MAX_MS): number {
  return Math.min(maxMs, 1000 * 2 ** Math.max(1, consecutive));
}
