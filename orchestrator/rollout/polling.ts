/**
 * Polling that is fast and frugal: no blind 30 s sleep.
 *
 * A new instance cannot pass before (a) it booted (ASG InService, which is when it registers with
 * the ELB) and (b) the ELB saw HealthyThreshold consecutive passing checks, Interval seconds apart;
 * the ELB's check timer falls anywhere in the Interval after registering (AWS states no phase), so
 * it passes some time in (registered + (HealthyThreshold − 1) × Interval, registered +
 * HealthyThreshold × Interval]. Boot times vary from instance to instance (60–180 s is common),
 * so no single boot figure predicts the next instance: the poller SEARCHES, per instance, for two
 * moments, cheaply:
 *  1. the moment it goes InService — looks while it is Pending, from just before the shortest
 *     plausible boot, spaced by a share of the boot spread ({@link bootSpread}: what AWS reports of
 *     the group's recent launches, StartTime → EndTime, and this run's own boots), so that the
 *     moment is pinned within one gap;
 *  2. the moment the ELB passes it — a few looks spread evenly over the window that moment leaves
 *     (the last one at its end, when a healthy application has surely passed), then back-off.
 * A narrow boot spread (every boot alike) gives brisk looks and a window of one Interval and a
 * half; a wide one trades a wider window for fewer looks while Pending.
 *
 * {@link earliestPassAt} is the sound lower bound (used to decide when the ELB cannot matter yet:
 * only what AWS reported about THIS instance, never another instance's figures);
 * {@link nextLookAt} is one instance's schedule, {@link batchLookAt} a step's.
 *
 * Worked example (recent boots spread over 60–180 s, ELB 10 s × 3, brisk 1.5 s): launched at t=0
 * → looks at 59.25 s, then every 24.5 s ({@link pendingGapMs}): Pending at 108.25 s, InService at
 * 132.75 s → it passes in (128.25, 162.75]: the ELB alone is asked at 133.2, 138.2 … 162.75 (seven
 * looks, 4.9 s apart): healthy at the look after it passed, ≤ 4.9 s late.
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
/** Longest gap between looks while an instance is Pending ({@link pendingGapMs}). */
export const MAX_PENDING_GAP_MS = 30_000;
/** Looks in the pass window are at most this far apart (the latency of noticing a pass, ≤ this; 2.5 s on average). */
export const PASS_GAP_MS = 5_000;
/**
 * The pending gap's weight against the pass window's looks ({@link pendingGapMs}): with a 5-s
 * pass gap, 2 measured best on the variance scenarios (orchestrator/proof/variance.ts; 1 and 1.5
 * cost more calls for the same ratio, 2.5 a worse ratio).
 */
const PENDING_GAP_FACTOR = 2;

/** What the poller knows about one instance it waits for. */
export interface WatchedInstance {
  /** When it launched: EC2 LaunchTime, else first seen by this run (clock ms). */
  firstSeen: number;
  /** Last poll at which it was NOT yet InService (it registered with the ELB after this). */
  notInServiceAt?: number;
  /** First poll at which it was seen InService. */
  inServiceSeen?: number;
  /**
   * When it went InService (and registered with its load balancers) as AWS reports it (its launch
   * activity's EndTime), within (notInServiceAt, inServiceSeen]: a schedule estimate that narrows
   * the pass window to the ELB's check phase ({@link pinRegistration}); never a bound.
   */
  registeredAt?: number;
  /** Last poll at which it had not passed yet (the ELB was asked, or it was not InService). */
  notHealthyAt?: number;
  /** True when it already passed everything. */
  healthy: boolean;
}

/** What this rollout learned about its instances (statistics for the schedule, never bounds for another instance). */
export interface Learned {
  /** Shortest boot seen: launch → InService (its last Pending poll). */
  bootMs?: number;
  /** Shortest launch → healthy seen (its last not-healthy poll). */
  passMs?: number;
  /**
   * Boot time of the instance whose InService moment was pinned most tightly (its last poll
   * still Pending, lower bound) and that window — a schedule estimate, not a bound.
   */
  bootEstimateMs?: number;
  bootWindowMs?: number;
  /** This run's boots (launch → the middle of the window in which it went InService), ms. */
  bootsMs?: number[];
  /**
   * Shortest registration → pass this run saw (per instance a lower bound: its last not-passed
   * look minus its first InService look), ms: the ELB's check phase as it falls for this load
   * balancer. Schedules the first look of the pass window; never a bound for another instance.
   */
  passOffsetMs?: number;
}

/** The plausible boot range (launch → InService), ms. */
export interface BootSpread {
  lowMs: number;
  highMs: number;
  /**
   * One look this early first (≤ lowMs): the next boot is below the shortest of n samples with
   * probability 1/(n + 1) whatever their distribution, and an instance that booted before the
   * first look is noticed only then.
   */
  floorMs?: number;
}

/**
 * The boot range from samples (AWS's recent launch activities, this run's boots): the smallest
 * and largest, each widened by the mean gap between samples — n draws understate the range they
 * come from by about one gap at each end. The floor: the smallest less the larger of that gap and
 * its (n + 1)-th part. One sample: that figure, floor at half of it… n equal samples: a floor
 * of n/(n + 1) of it.
 * Example: [84, 96, 108] s → gap 12 s → 72–120 s, floor 84 − 21 = 63 s.
 */
export function bootSpread(samplesMs: readonly number[]): BootSpread | undefined {
  if (samplesMs.length === 0) return undefined;
  let lo = Infinity;
  let hi = -Infinity;
  for (const x of samplesMs) {
    lo = Math.min(lo, x);
    hi = Math.max(hi, x);
  }
  const n = samplesMs.length;
  const pad = n > 1 ? (hi - lo) / (n - 1) : 0;
  const lowMs = Math.max(0, lo - pad);
  const floorMs = Math.max(0, lo - Math.max(pad, lo / (n + 1)));
  return { lowMs, highMs: hi + pad, ...(floorMs < lowMs ? { floorMs } : {}) };
}

/**
 * The gap between looks while an instance is Pending: the moment it goes InService is then known
 * within one gap, which widens the window in which it may pass by as much. Looks while Pending (the
 * spread over twice the gap on average) and looks in the pass window (gap + Interval over
 * {@link PASS_GAP_MS}) cost the same one call each, so the gap that makes the fewest calls is
 * √(spread × PASS_GAP_MS / 2) for a uniform spread; weighted by 2 (a wider gap, as measured),
 * between brisk and {@link MAX_PENDING_GAP_MS}.
 * Example: boots 60–180 s → spread 120 s → gap √(120 × 5 × 2 / 2) ≈ 24.5 s; every boot alike → brisk.
 */
export function pendingGapMs(spread: BootSpread, briskMs = DEFAULT_BRISK_MS): number {
  const s = Math.max(0, spread.highMs - spread.lowMs);
  return Math.max(briskMs, Math.min(MAX_PENDING_GAP_MS, Math.sqrt((s * PASS_GAP_MS * PENDING_GAP_FACTOR) / 2)));
}

/**
 * The pending gap when the moment an instance goes InService is pinned from AWS's report of it
 * ({@link pinRegistration}): the pass window is then one Interval whatever the gap, and a look
 * that finds it InService up to (HealthyThreshold − 1) × Interval after it registered loses
 * nothing (it cannot have passed yet); HealthyThreshold × Interval (one Interval more: at most
 * one Interval's lateness, measured on the variance scenarios as the best trade), between brisk
 * and {@link MAX_PENDING_GAP_MS}. Undefined without a health check to wait for.
 * Example: ELB 10 s × 3 → 30 s.
 */
export function pinnedGapMs(timing: HealthCheckTiming | undefined, briskMs = DEFAULT_BRISK_MS): number | undefined {
  if (!timing || timing.interval <= 0) return undefined;
  const ms = Math.max(1, timing.healthyThreshold) * timing.interval * 1000;
  return Math.max(briskMs, Math.min(MAX_PENDING_GAP_MS, ms));
}

/**
 * Whether pinning the InService moment from AWS's launch activities (one call per step) pays:
 * boots that spread (pending looks {@link pendingGapMs} apart wider than a pass look's
 * {@link PASS_GAP_MS}: the pass window would widen by as much) and a health check to wait for.
 * Every boot alike: the brisk looks around it pin the moment within a brisk period for free.
 * Example: boots 84–108 s → gap ≈ 10 s → yes; 90, 90, 90 s → brisk → no.
 */
export function pinsPay(spread: BootSpread | undefined, timing: HealthCheckTiming | undefined, briskMs = DEFAULT_BRISK_MS): boolean {
  return spread !== undefined && pinnedGapMs(timing, briskMs) !== undefined && pendingGapMs(spread, briskMs) > PASS_GAP_MS;
}

/**
 * Earliest clock time at which `w` could pass, as the largest of two lower bounds that hold
 * whatever the ELB's check phase and whatever other instances did:
 *  - launch + (HealthyThreshold − 1) × Interval (booting takes ≥ 0);
 *  - last poll at which it was not InService, t → t + (HealthyThreshold − 1) × Interval (it
 *    registered after t; the first check may fall at once).
 * Undefined when it already passed.
 */
export function earliestPassAt(w: WatchedInstance, timing: HealthCheckTiming | undefined, _learned: Learned = {}): number | undefined {
  if (w.healthy) return undefined;
  const checksMs = timing ? Math.max(0, timing.healthyThreshold - 1) * timing.interval * 1000 : 0;
  return Math.max(w.firstSeen, w.notInServiceAt ?? w.firstSeen) + checksMs;
}

/**
 * Pins when `w` went InService from AWS's report of it (`endedAt`, its launch activity's EndTime,
 * on AWS's clock), kept within what the tool's own looks saw — after its last look while Pending,
 * no later than the look that saw it InService — so that a clock off from AWS's costs at most
 * what the looks alone would. Example: Pending at 100 s, InService seen at 125 s, EndTime 103.2 s
 * → registered at 103.2 s: it passes in (123.2, 133.2] (ELB 10 s × 3), two looks instead of seven.
 */
export function pinRegistration(w: WatchedInstance, endedAt: number): void {
  if (w.inServiceSeen === undefined || w.healthy) return;
  const after = w.notInServiceAt ?? w.firstSeen;
  w.registeredAt = Math.min(w.inServiceSeen, Math.max(after, endedAt));
}

/**
 * When `w` is expected to pass at the earliest: {@link earliestPassAt}, or later when AWS reported
 * when it registered (registeredAt + (HealthyThreshold − 1) × Interval). An estimate: it decides
 * only when a look at the load balancer is worth a call (a look skipped can only delay, never act).
 */
export function expectedPassFrom(w: WatchedInstance, timing: HealthCheckTiming | undefined): number | undefined {
  const sure = earliestPassAt(w, timing);
  if (sure === undefined || w.registeredAt === undefined) return sure;
  const checksMs = timing ? Math.max(0, timing.healthyThreshold - 1) * timing.interval * 1000 : 0;
  return Math.max(sure, w.registeredAt + checksMs);
}

/** Updates what was learned when `w` is first seen healthy. */
export function learn(learned: Learned, w: WatchedInstance): void {
  if (w.notInServiceAt !== undefined && w.inServiceSeen !== undefined) {
    const boot = (w.registeredAt ?? w.notInServiceAt) - w.firstSeen;
    learned.bootMs = learned.bootMs === undefined ? boot : Math.min(learned.bootMs, boot);
    const window = w.registeredAt !== undefined ? 0 : w.inServiceSeen - w.notInServiceAt;
    if (learned.bootWindowMs === undefined || window < learned.bootWindowMs) {
      learned.bootWindowMs = window;
      learned.bootEstimateMs = boot;
    }
    (learned.bootsMs ??= []).push(boot + window / 2);
  }
  if (w.notHealthyAt !== undefined) {
    const pass = w.notHealthyAt - w.firstSeen;
    learned.passMs = learned.passMs === undefined ? pass : Math.min(learned.passMs, pass);
    if (w.inServiceSeen !== undefined) {
      const offset = Math.max(0, w.notHealthyAt - (w.registeredAt ?? w.inServiceSeen));
      learned.passOffsetMs = learned.passOffsetMs === undefined ? offset : Math.min(learned.passOffsetMs, offset);
    }
  }
}

/**
 * When to look at a new instance next (clock ms). Undefined when it already passed.
 *  - Pending, boot spread known (`boot`: the group's recent launches and this run's): first just
 *    before launch + the shortest plausible boot, then every quarter of the spread (brisk ≤ gap ≤
 *    30 s), never less than a tenth of the time past that shortest boot (≤ 10 s): the moment it
 *    goes InService is pinned within one gap;
 *  - Pending, nothing known: back off with the time since launch (a tenth of it, brisk … 10 s);
 *  - InService first seen at t1, Pending at t0 before: it passes in (t0 + (HealthyThreshold − 1) ×
 *    Interval, t1 + HealthyThreshold × Interval]; the window opens later by what this run learned of
 *    the ELB's phase (`passOffsetMs`); looks spread evenly over it, ≤ 5 s apart, the last at its
 *    end; past the end, back off (a tenth of the overrun, brisk … 10 s).
 *
 * Worked example (boot 90 s for every recent launch, ELB 10 s × 3, brisk 1.5 s): launched at 0 →
 * look at 89.25 (Pending), 90.75 (InService since 90) → pass window (109.25, 120.75]: looks at
 * 113.1, 116.9, 120.75 → healthy at the first look after it passed.
 */
export function nextLookAt(
  w: WatchedInstance,
  now: number,
  timing: HealthCheckTiming | undefined,
  learned: Learned = {},
  boot?: number | BootSpread,
  briskMs = DEFAULT_BRISK_MS,
  pins = false,
  passGapMs = PASS_GAP_MS,
): number | undefined {
  if (w.healthy) return undefined;
  const backoff = (since: number) => now + Math.max(briskMs, Math.min(10_000, (now - since) / 10));
  if (w.inServiceSeen === undefined) {
    const spread = typeof boot === 'number' ? { lowMs: boot, highMs: boot } : (boot ?? bootSpread(learned.bootsMs ?? []) ?? (learned.bootMs !== undefined ? { lowMs: learned.bootMs, highMs: learned.bootMs } : undefined));
    if (spread === undefined) return backoff(w.firstSeen);
    // Looks on a grid from just before the shortest plausible boot: first + k × gap.
    // A look less than a brisk period before a grid point stands for it (the poll right after
    // launching comes a scaling delay early).
    // Pinned from AWS's report (`pins`): the pass window is one Interval however late the look
    // that finds it InService, so the looks are {@link pinnedGapMs} apart from the floor (the
    // shortest plausible boot, less what few samples understate), (HealthyThreshold − 1.5) ×
    // Interval later: found up to (HealthyThreshold − 1) × Interval after it registered, a pinned
    // instance loses nothing, so a boot at the floor is found free and one up to half an Interval
    // below it at most that late; each look later saves one call in two on the grid (issue 21:
    // 15 s at 10 s × 3 measured best on the variance scenarios, 20 s let the worst case near 1.10).
    const pinned = pins ? pinnedGapMs(timing, briskMs) : undefined;
    const gap = pinned ?? pendingGapMs(spread, briskMs);
    const lead = pinned !== undefined && timing ? Math.max(0, timing.healthyThreshold - 1.5) * timing.interval * 1000 : 0;
    const slack = Math.min(briskMs, gap) - 1;
    const floor = spread.floorMs !== undefined && pinned === undefined ? w.firstSeen + spread.floorMs - briskMs / 2 : undefined;
    if (floor !== undefined && now + slack < floor) return floor;
    const first = w.firstSeen + (pinned !== undefined ? (spread.floorMs ?? spread.lowMs) + lead : spread.lowMs) - briskMs / 2;
    if (now + slack < first) return first;
    const k = Math.floor((now + slack - first) / gap) + 1;
    const onGrid = first + k * gap;
    // Past the longest plausible boot: back off too (a tenth of the overrun, ≤ 10 s).
    return now > w.firstSeen + spread.highMs ? Math.max(onGrid, backoff(w.firstSeen + spread.lowMs)) : onGrid;
  }
  const intervalMs = timing ? timing.interval * 1000 : 0;
  const checksMs = timing ? Math.max(0, timing.healthyThreshold - 1) * intervalMs : 0;
  // Registered in (notInServiceAt, inServiceSeen], or at registeredAt as AWS reported it.
  const registeredAfter = w.registeredAt ?? w.notInServiceAt ?? w.firstSeen;
  const start = Math.max(registeredAfter + checksMs, w.registeredAt !== undefined ? 0 : registeredAfter + Math.min(checksMs + intervalMs, learned.passOffsetMs ?? 0), earliestPassAt(w, timing) ?? now);
  const end = Math.max(start, (w.registeredAt ?? w.inServiceSeen) + checksMs + intervalMs);
  if (now >= end) return backoff(end);
  const n = Math.max(1, Math.ceil((end - start) / Math.max(briskMs, passGapMs)));
  const gap = (end - start) / n;
  // The first of start + gap, start + 2 gap, … end after now (1 ms slack: sleeps are rounded).
  const k = Math.max(1, Math.floor((now + 1 - start) / gap) + 1);
  return Math.min(end, start + k * gap);
}

/**
 * When to look next at a step's new instances: a step is over only when ALL of them passed, so
 *  - while any is Pending, its look (the cheap group read; the earliest among the Pending ones);
 *  - once all are InService, the latest of their looks — looking earlier cannot end the step.
 * Undefined when none is waited for.
 */
export function batchLookAt(looks: ReadonlyArray<{ pending: boolean; at: number | undefined }>): number | undefined {
  let pending: number | undefined;
  let latest: number | undefined;
  for (const l of looks) {
    if (l.at === undefined) continue;
    if (l.pending) pending = pending === undefined ? l.at : Math.min(pending, l.at);
    else latest = latest === undefined ? l.at : Math.max(latest, l.at);
  }
  return pending ?? latest;
}

/** How a new instance starts: launched cold (EC2 boot) or drawn from the group's warm pool (a warm start). */
export type StartKind = 'cold' | 'warm';

/**
 * How a new instance starts, for its schedule (issue 15 item 3: a warm pool's instance starts again
 * in seconds where a cold launch boots in minutes, sandbox [WARM-4]): each kind is scheduled on its
 * own boots (this run's warm starts; the group's recent launches and this run's cold boots), so a
 * warm start is not looked at a cold boot later, nor a cold boot polled at a warm start's pace.
 *  - an instance seen in the group's warm pool (`fromPool` true) → warm; not seen there (false) → cold;
 *  - a launch about to be made (`fromPool` undefined: which instance comes is not known yet): warm
 *    when the pool, as last read, holds instances of the group's launch spec, ready or still
 *    warming (AWS draws on the pool first; one warming when read may be ready by now), else cold.
 *    Guessing warm for a cold launch costs a few early looks (the instance, not seen in the pool,
 *    is then scheduled as cold); guessing cold for a warm start would look a cold boot late.
 * Examples: {fromPool: true} → warm; {fromPool: false, inPool: 4} → cold; {inPool: 2} → warm;
 * {inPool: 0} → cold.
 */
export function startKind(o: { fromPool?: boolean; inPool?: number }): StartKind {
  if (o.fromPool !== undefined) return o.fromPool ? 'warm' : 'cold';
  return (o.inPool ?? 0) > 0 ? 'warm' : 'cold';
}

/**
 * When to look next while the run waits only for replaced instances to leave the load balancers
 * (connection draining; the rollout is done when ALL have left). Each leaves by its drain's end
 * (terminated + drain timeout) at the latest, and earlier when its connections close: the looks
 * are spread evenly up to the LATEST end — looking for the earliest end cannot end the wait — at
 * most `maxMs` apart (an early end is noticed within it); past the latest end (AWS a little late),
 * back off with the overrun (a tenth of it, brisk … 10 s).
 * Example: terminated at 196.7 s and 395 s, drain 300 s, now 489.4 s → ends 496.7 and 695 s →
 * looks at 540.8, 592.2, 643.6, 695 s (four, 51.4 s apart), not at 496.7, 506.7, 566.7 … 695 s.
 */
export function drainLookAt(terminatedAt: readonly number[], drainMs: number, now: number, briskMs = DEFAULT_BRISK_MS, maxMs = DEFAULT_MAX_MS): number {
  const end = Math.max(...terminatedAt) + drainMs;
  if (end - now > briskMs) {
    const n = Math.ceil((end - now) / maxMs);
    return now + (end - now) / n;
  }
  return now + Math.max(briskMs, Math.min(10_000, (now - Math.min(end, now)) / 10));
}

/**
 * When to look next while the run waits only for its warm pool to refill (rolling/lifecycle.ts
 * decideLifecycleEnd): each launch into the pool is a cold boot, warmed (`Warmed:Stopped` …) when
 * it has booted, so it cannot be warmed before its launch + the shortest plausible cold boot
 * (`boot`, the floor when few samples). The pool is back only when ALL are warmed, so the looks
 * start at the LATEST of those moments (`launchedAfter`: per instance awaited, a moment it was
 * launched after — the last pool read it was not in, a weak bound when the reads were far apart),
 * then every `gapMs` until the pool is back (no back-off: such a look reads the pool alone, one
 * call, and the end waits at most the step timeout). Without a boot spread: every 10 s.
 * Example: launched after 415.8 s (two), cold boots 60–180 s (low 60 s), brisk 1.5 s, gap 5 s,
 * now 425.8 s → 475.05 s, then 480.05, 485.05 … until the pool is back.
 */
export function poolLookAt(launchedAfter: readonly number[], now: number, boot: BootSpread | undefined, gapMs = PASS_GAP_MS, briskMs = DEFAULT_BRISK_MS): number {
  if (boot === undefined || launchedAfter.length === 0) return now + 10_000;
  const first = Math.max(...launchedAfter) + (boot.floorMs ?? boot.lowMs) - briskMs / 2;
  if (now + 1 < first) return first;
  return first + (Math.floor((now + 1 - first) / gapMs) + 1) * gapMs;
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
