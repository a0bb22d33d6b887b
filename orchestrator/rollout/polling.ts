/**
 * Polling that is fast and frugal: no blind 30 s sleep.
 *
 * A new instance cannot pass before (a) it booted (ASG InService, which is when it registers with
 * the ELB) and (b) the ELB saw HealthyThreshold consecutive passing checks, Interval seconds apart.
 * So the engine sleeps until just before the moment it expects a change, and looks cheaply:
 *  - the boot time comes from what AWS already knows (the group's recent launch activities,
 *    StartTime → EndTime) and from this rollout's own launches once one was pinned closely;
 *  - while an instance is Pending it looks just before launch + boot, then every brisk period,
 *    backing off with any overrun (the caller skips the ELB query then: it cannot matter);
 *  - once it is seen InService it looks HealthyThreshold × Interval after the moment it went
 *    InService (known within a brisk period), then briskly with back-off.
 * {@link earliestPassAt} is the sound lower bound (used to decide when the ELB cannot matter yet);
 * {@link nextLookAt} is the schedule.
 *
 * Worked example (boot 90 s known from the launch activities, ELB 10 s × 3, brisk 1.5 s):
 * launched at t=0 → look at 89.25 s (Pending, one DescribeAutoScalingGroups), 90.75 s
 * (InService since 90 s; ELB not asked, it cannot have passed) → look at 120.75 s with the ELB:
 * healthy (it passed at 120 s). Three polls, 0.75 s after the physical limit.
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
export const DEFAULT_MAX_MS = 60_000;

/** What the poller knows about one instance it waits for. */
export interface WatchedInstance {
  /** When it launched: EC2 LaunchTime, else first seen by this run (clock ms). */
  firstSeen: number;
  /** Last poll at which it was NOT yet InService (it registered with the ELB after this). */
  notInServiceAt?: number;
  /** First poll at which it was seen InService. */
  inServiceSeen?: number;
  /** Last poll at which it had not passed yet. */
  notHealthyAt?: number;
  /** True when it already passed everything. */
  healthy: boolean;
}

/** What this rollout learned about its instances (lower bounds, from the instances that passed). */
export interface Learned {
  /** Shortest boot seen: launch → InService, lower bound. */
  bootMs?: number;
  /** Shortest launch → healthy seen, lower bound. */
  passMs?: number;
  /**
   * Boot time of the instance whose InService moment was pinned most tightly (its last poll
   * still Pending, lower bound) and that window — a schedule estimate, not a bound.
   */
  bootEstimateMs?: number;
  bootWindowMs?: number;
}

/**
 * Earliest clock time at which `w` could pass, as the largest of several lower bounds:
 *  - launch + (HealthyThreshold − 1) × Interval (booting takes ≥ 0);
 *  - still not InService at the last poll t → t + (HealthyThreshold − 1) × Interval;
 *  - launch + shortest boot seen + (HealthyThreshold − 1) × Interval;
 *  - launch + shortest launch-to-healthy seen in this rollout.
 * Undefined when it already passed.
 */
export function earliestPassAt(w: WatchedInstance, timing: HealthCheckTiming | undefined, learned: Learned = {}): number | undefined {
  if (w.healthy) return undefined;
  const checksMs = timing ? Math.max(0, timing.healthyThreshold - 1) * timing.interval * 1000 : 0;
  let t = w.firstSeen + checksMs;
  if (w.inServiceSeen === undefined && w.notInServiceAt !== undefined) t = Math.max(t, w.notInServiceAt + checksMs);
  if (w.inServiceSeen !== undefined && w.notInServiceAt !== undefined) t = Math.max(t, w.notInServiceAt + checksMs);
  if (learned.bootMs !== undefined) t = Math.max(t, w.firstSeen + learned.bootMs + checksMs);
  if (learned.passMs !== undefined) t = Math.max(t, w.firstSeen + learned.passMs);
  return t;
}

/** Updates what was learned when `w` is first seen healthy (lower bounds: the last poll before). */
export function learn(learned: Learned, w: WatchedInstance): void {
  if (w.notInServiceAt !== undefined && w.inServiceSeen !== undefined) {
    const boot = w.notInServiceAt - w.firstSeen;
    learned.bootMs = learned.bootMs === undefined ? boot : Math.min(learned.bootMs, boot);
    const window = w.inServiceSeen - w.notInServiceAt;
    if (learned.bootWindowMs === undefined || window < learned.bootWindowMs) {
      learned.bootWindowMs = window;
      learned.bootEstimateMs = boot;
    }
  }
  if (w.notHealthyAt !== undefined) {
    const pass = w.notHealthyAt - w.firstSeen;
    learned.passMs = learned.passMs === undefined ? pass : Math.min(learned.passMs, pass);
  }
}

/**
 * When to look at a new instance next (clock ms), cheaply and close to the moment it changes:
 *  - Pending, boot time known (the group's recent launches, or this run's): just before launch +
 *    boot, then briskly, backing off with the overrun (a tenth of it, ≤ 10 s) — so the moment it
 *    goes InService, when it registers with the ELB, is pinned within a brisk period;
 *  - Pending, boot unknown: back off with the time since launch (a tenth of it, ≤ 10 s);
 *  - InService first seen at t1 (Pending at t0 before): the ELB passes it HealthyThreshold ×
 *    Interval after registering it, some time in (t0, t1]: look once, at min(t1, t0 + 2 brisk) +
 *    HealthyThreshold × Interval, then briskly with back-off if the check has not passed yet.
 * Undefined when it already passed.
 *
 * Worked example (boot 90 s known, ELB 10 s × 3, brisk 1.5 s): launched at 0 → look at 89.25
 * (Pending), 90.75 (InService since 90) → look at 120.75: healthy (passed at 120). Five polls.
 */
export function nextLookAt(
  w: WatchedInstance,
  now: number,
  timing: HealthCheckTiming | undefined,
  learned: Learned = {},
  bootMs?: number,
  briskMs = DEFAULT_BRISK_MS,
): number | undefined {
  if (w.healthy) return undefined;
  const backoff = (since: number) => now + Math.max(briskMs, Math.min(10_000, (now - since) / 10));
  if (w.inServiceSeen === undefined) {
    const boot = bootMs ?? learned.bootEstimateMs ?? learned.bootMs;
    if (boot === undefined) return backoff(w.firstSeen);
    const expected = w.firstSeen + boot;
    return now < expected - briskMs / 2 ? expected - briskMs / 2 : backoff(expected);
  }
  const passMs = timing ? timing.healthyThreshold * timing.interval * 1000 : 0;
  const earliest = earliestPassAt(w, timing, learned) ?? now;
  const registeredBy = w.notInServiceAt === undefined ? w.inServiceSeen : Math.min(w.inServiceSeen, w.notInServiceAt + 2 * briskMs);
  const passBy = Math.max(earliest, registeredBy + passMs);
  return now < passBy ? passBy : backoff(passBy);
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
export function throttleBackoff(consecutive: number, maxMs = 30_000): number {
  return Math.min(maxMs, 1000 * 2 ** Math.max(1, consecutive));
}
