/**
 * The physical limit of a rollout: the least time ANY tool could take, given what AWS itself
 * needs. For each batch of replacements a new instance must boot and then pass the classic
 * ELB's health check (HealthyThreshold consecutive passes, one every Interval); batches are
 * sequential, because the next batch may only start once this one is healthy (quorum safety).
 * Once the last batch is healthy the old instances still have to drain their connections.
 *
 *   limit = Σ over batches (max boot in the batch + interval × healthyThreshold) + drain
 *
 * Worked examples (these are also the unit tests):
 * - 3-node quorum, batch 1, boot 90 s, ELB 10 s × 3, no draining:
 *   3 batches × (90 + 30) + 0 = 360 s.
 * - 100 instances, batch 10, boot 90 s, ELB 10 s × 3, no draining:
 *   10 batches × 120 + 0 = 1,200 s.
 * - A/B with 8 instances (one batch: the whole new color), boot 90 s, ELB 10 s × 3, draining 300 s:
 *   1 × 120 + 300 = 420 s.
 * - The same on an ALB with traffic steps 10, 50, 100 holding 60 s at each (issue 14): the new
 *   color serves, then 2 holds, then the old color's deregistration delay: 120 + 2 × 60 + 300 = 540 s.
 * - 7 instances in batches of 3: batches of 3, 3, 1 → 3 × 120 = 360 s (a partial batch costs a
 *   whole batch: it still waits one boot and one health check).
 * - With holds (issue 16: canary, checkpoints, bake; rollout/rolling/holds.ts planHolds): the
 *   points cut the batches (a batch never replaces past a point), each canary/checkpoint wait
 *   follows its batch serving and precedes the next launch, and the bake follows the last batch:
 *   10 instances in batches of 2, canary 1 (wait 120 s), checkpoint 50 % (5; wait 120 s), bake
 *   300 s, no draining → segments 1, 4, 5 → 1 + 2 + 3 = 6 batches × 120 + 120 + 120 + max(0, 300)
 *   = 1,260 s.
 *
 * It deliberately ignores everything a tool could in principle overlap or AWS could speed up
 * (API latency, the ASG's activity loop), so a tool that gets within a few per cent of it wastes
 * essentially no time. It is the CONSTANT-boot formula of the fixed scenarios, where the
 * simulated ELB's first check comes one Interval after registration (sandbox [ELB-2]); it is a
 * lower bound only for that phase and for surge ≥ 1. With an arbitrary check phase the per-batch
 * bound is boot + (HealthyThreshold − 1) × Interval, and with surge 0 a batch's drain overlaps
 * the next boot: {@link drawnLimit} is the bound of a run as the simulation drew it, for every
 * shape (docs/benchmarks.md, "The limit").
 */

export interface LimitInput {
  /** Instances to replace (rolling) or to bring up in the new color (A/B). */
  replace: number;
  /** How many at a time. A/B without steps: equal to `replace`. */
  batchSize: number;
  /** Seconds from launch until the application answers (EC2 boot + app start). */
  bootSeconds: number | ((batchIndex: number) => number);
  /** Classic ELB health check. */
  healthCheck: { interval: number; healthyThreshold: number };
  /** Connection draining of the replaced instances after the last batch, seconds (0 when off). */
  drainSeconds: number;
  /**
   * Holds no tool may skip once the last batch serves, before the old instances go, seconds: A/B
   * traffic steps hold `stepWait` at each step but the last (issue 14: 10, 50, 100 with 60 s → 120).
   */
  holdSeconds?: number;
  /** The rollout's holds (rollout/rolling/holds.ts planHolds): where they cut the batches and how long each waits. */
  holds?: ReadonlyArray<LimitHold>;
}

/** A hold as the limit sees it: after how many replacements, how long (ms), and whether it is the bake. */
export interface LimitHold {
  kind: string;
  after: number;
  waitMs: number;
}

/**
 * Seconds the holds add to any rollout: every canary/checkpoint wait (nothing is launched while
 * it runs, and it starts only once its batch serves), and the bake, which runs after the last
 * batch serves alongside the last drain: the tail is max(drain, bake).
 */
export function holdSeconds(holds: ReadonlyArray<LimitHold> = []): { waits: number; bake: number } {
  let waits = 0;
  let bake = 0;
  for (const h of holds) {
    if (h.kind === 'bake') bake = Math.max(bake, h.waitMs / 1000);
    else waits += h.waitMs / 1000;
  }
  return { waits, bake };
}

export interface LimitBreakdown {
  batches: number;
  /** Seconds per batch: boot + interval × healthyThreshold. */
  perBatch: number[];
  /** The holds after the last batch (A/B traffic steps). */
  hold: number;
  drain: number;
  /** Σ canary and checkpoint waits, seconds (with holds). */
  waits?: number;
  /** The bake, seconds (with holds); the tail is max(drain, bake). */
  bake?: number;
  total: number;
}

/** The physical limit in seconds, with its breakdown. Zero replacements cost nothing. */
export function physicalLimit(input: LimitInput): LimitBreakdown {
  if (input.replace < 0 || !Number.isFinite(input.replace)) throw new RangeError(`replace must be ≥ 0, got ${input.replace}`);
  if (input.batchSize < 1) throw new RangeError(`batchSize must be ≥ 1, got ${input.batchSize}`);
  // The hold points cut the batches: a segment between two points costs its own whole batches.
  const cuts = [...new Set((input.holds ?? []).filter((h) => h.kind !== 'bake' && h.after > 0 && h.after < input.replace).map((h) => h.after))].sort((a, b) => a - b);
  let batches = 0;
  let from = 0;
  for (const to of input.replace === 0 ? [] : [...cuts, input.replace]) {
    batches += Math.ceil((to - from) / input.batchSize);
    from = to;
  }
  const health = input.healthCheck.interval * input.healthCheck.healthyThreshold;
  const perBatch: number[] = [];
  for (let i = 0; i < batches; i++) {
    const boot = typeof input.bootSeconds === 'function' ? input.bootSeconds(i) : input.bootSeconds;
    perBatch.push(boot + health);
  }
  const held = batches === 0 ? { waits: 0, bake: 0 } : holdSeconds(input.holds);
  const drain = batches === 0 ? 0 : input.drainSeconds;
  const hold = batches === 0 ? 0 : input.holdSeconds ?? 0;
  return { batches, perBatch, hold, drain, ...(input.holds ? { waits: held.waits, bake: held.bake } : {}), total: perBatch.reduce((a, b) => a + b, 0) + hold + held.waits + Math.max(drain, held.bake) };
}

/**
 * duration / limit, rounded to 3 decimals; a run that replaced nothing has ratio 1.
 * Example: a 372 s rollout against a 360 s limit → 1.033 (misses the 1.03 target).
 */
export function limitRatio(durationSeconds: number, limitSeconds: number): number {
  if (limitSeconds <= 0) return 1;
  return Math.round((durationSeconds / limitSeconds) * 1000) / 1000;
}

/**
 * The limit of one run as the simulation drew it: what ANY tool would have needed, given the
 * boots AWS drew for this run's instances and where the ELB's check timer fell.
 *
 * Each new instance has an interval [launched, healthy]: from the ASG's launch to the ELB's
 * HealthyThreshold-th pass. No tool can make it shorter (it is boot + the ELB's checks as drawn;
 * with an arbitrary check phase at least boot + (HealthyThreshold − 1) × Interval). Batches are
 * sequential (a batch starts only once the previous one serves: the quorum), so a rollout lasts
 * at least the union of those intervals — Σ per batch of its slowest instance when they do not
 * overlap — plus what follows the last one:
 *  - surge ≥ 1 (launch first): the last batch's old instances are deregistered once it serves
 *    and must drain: + drain;
 *  - surge 0 (terminate first): the last old instance was deregistered no earlier than the
 *    previous batch served, and its drain overlaps its replacement's boot:
 *    max(drain, last interval) in place of the last interval.
 * A/B is one batch per step (the new color), then the old color drains: + drain; with traffic
 * steps (issue 14) the holds at each step but the last come first: + holdSeconds + drain.
 *
 * Example (surge 0, draining 300 s, 3 instances, each 120 s launch → healthy):
 * 120 + 120 + max(300, 120) = 540 s — where Σ (boot + checks) + drain said 660 s, which a
 * rollout that overlaps the drains beats.
 *
 * With holds (issue 16): each canary/checkpoint wait starts once its batch serves and ends before
 * the next launch, so it lies between two spans and adds in full; the bake starts once the last
 * batch serves, so the tail is max(that tail, bake).
 */
export interface DrawnInterval {
  /** ms */
  launched: number;
  /** ms; undefined: never served (failed boot) — it bounds nothing. */
  healthy?: number;
}

export function drawnLimit(intervals: DrawnInterval[], o: { drainSeconds: number; terminateFirst: boolean; holdSeconds?: number; holds?: ReadonlyArray<LimitHold> }): { seconds: number; batches: number } {
  // One batch per launch moment (an activity launches a batch at once); its slowest instance ends it.
  const byLaunch = new Map<number, number>();
  for (const i of intervals) {
    if (i.healthy === undefined) continue;
    byLaunch.set(i.launched, Math.max(byLaunch.get(i.launched) ?? -Infinity, i.healthy));
  }
  const spans = [...byLaunch].map(([a, b]) => [a, b] as [number, number]).sort((x, y) => x[0] - y[0]);
  // The union of the spans (robust to overlaps, e.g. a replacement launched during a batch).
  let total = 0;
  let curA: number | undefined;
  let curB = -Infinity;
  let lastLen = 0;
  for (const [a, b] of spans) {
    if (curA === undefined || a > curB) {
      if (curA !== undefined) total += curB - curA;
      curA = a;
      curB = b;
    } else curB = Math.max(curB, b);
  }
  if (curA !== undefined) total += curB - curA;
  if (spans.length > 0) {
    const last = spans[spans.length - 1];
    lastLen = last[1] - last[0];
  }
  const drainMs = o.drainSeconds * 1000;
  // A/B traffic steps: the holds follow the last batch serving and come before the old color drains.
  const holdMs = spans.length === 0 ? 0 : (o.holdSeconds ?? 0) * 1000;
  const tail = spans.length === 0 ? 0 : o.terminateFirst ? Math.max(0, drainMs - lastLen) : drainMs;
  const held = spans.length === 0 ? { waits: 0, bake: 0 } : holdSeconds(o.holds);
  return { seconds: (total + holdMs + held.waits * 1000 + Math.max(tail, held.bake * 1000)) / 1000, batches: spans.length };
}

/** Where a run's time above its drawn limit went (seconds): see {@link timeAboveLimit}. */
export interface TimeAbove {
  /** Σ per batch: the tool's change → the ASG's launch (AWS's side, [ASG-1a]). */
  launch: number;
  /** The tool's side: before its first change, and each batch's last pass → the tool's next change (noticing it). */
  detection: number;
  /** After the run's last bound (the last batch serving, or the last drain where the limit counts it) until it was complete. */
  tail: number;
}

/**
 * Splits a run's duration above its drawn limit ({@link drawnLimit}, same spans and options) into
 * what AWS took and what the tool took, so that the parts add up to (end − t0) − limit when the
 * batches do not overlap:
 *  - launch: Σ per batch, its launch − the tool's latest change before it (the scaling activity's
 *    start, [ASG-1a]);
 *  - detection: the first change − t0, and per batch but the last, its last pass → the tool's next
 *    change (the next batch's terminate or raise);
 *  - tail: what follows the last batch beyond what the limit counts there. Launch first: the
 *    last pass → the tool's next change is detection, then (end − that change − drain). Terminate
 *    first (surge 0): the last old instance's drain overlaps its replacement's boot, so the run
 *    is bound by max(last pass, last launch + drain) — the time from the last pass to the
 *    restore that follows the drain is the drain, not detection (the accounting before issue 21's
 *    fix called 190 s of a 3-2-3 run's drain "healthy → next action"). When the drain binds, it
 *    ran from the tool's terminate, so the last launch latency lies within it: tail = end −
 *    (that terminate + drain), and that latency is not counted again.
 *
 * A limit bound by something that follows batches (`refill`: a warm pool's refill, warm-bench.ts
 * warmLimit — the batches that had served when it was launched, back to back, then its own span)
 * is split the same way up to that launch, and beyond it: the refill's launch − the tool's latest
 * change before it is AWS's side (the group's loop launching into the pool, counted as launch
 * latency), and its end → the run's end is the tail. `intervals` are then the group's own (what
 * the limit's batches are made of), not the pool's launches.
 * `changes`: the tool's successful mutating calls (ms); `end`: when the run was complete (ms).
 */
export function timeAboveLimit(intervals: DrawnInterval[], changes: readonly number[], o: { t0: number; end: number; drainSeconds: number; terminateFirst: boolean; refill?: DrawnInterval }): TimeAbove {
  const byLaunch = new Map<number, number>();
  for (const i of intervals) {
    if (i.healthy === undefined) continue;
    byLaunch.set(i.launched, Math.max(byLaunch.get(i.launched) ?? -Infinity, i.healthy));
  }
  const all = [...byLaunch].sort((x, y) => x[0] - y[0]);
  const acts = [...changes].sort((a, b) => a - b);
  if (o.refill?.healthy !== undefined) return aboveRefill(all, acts, o.refill as Required<DrawnInterval>, o);
  const spans = all;
  const drainMs = o.drainSeconds * 1000;
  let launch = 0;
  let detection = acts.length ? Math.max(0, Math.min(acts[0], spans[0]?.[0] ?? Infinity) - o.t0) : 0;
  let lastAsked = o.t0;
  spans.forEach(([at, healthy], k) => {
    const asked = Math.max(o.t0, ...acts.filter((c) => c <= at));
    lastAsked = asked;
    launch += at - asked;
    if (k === spans.length - 1) return;
    const next = acts.find((c) => c >= healthy);
    if (next !== undefined) detection += Math.max(0, Math.min(next, spans[k + 1][0]) - healthy);
  });
  let tail = 0;
  const last = spans[spans.length - 1];
  if (last) {
    const [at, healthy] = last;
    if (o.terminateFirst && at + drainMs > healthy) {
      // The drain binds: it started with the tool's terminate, before the launch — the last launch
      // latency lies within it (the limit counts the drain from the launch).
      launch -= at - lastAsked;
      tail = Math.max(0, o.end - (lastAsked + drainMs));
    } else if (o.terminateFirst) {
      tail = Math.max(0, o.end - healthy);
    } else {
      const next = acts.find((c) => c >= healthy);
      const acted = next !== undefined && next <= o.end ? next : o.end;
      detection += acted - healthy;
      tail = Math.max(0, o.end - acted - drainMs);
    }
  }
  return { launch: launch / 1000, detection: detection / 1000, tail: tail / 1000 };
}

/**
 * {@link timeAboveLimit} when the limit is the batches served before a refill, back to back, then
 * the refill's span: before the refill's launch as between batches (launch latency, noticing), the
 * refill's launch − the tool's change before it (AWS's loop), then its end → the run's end (tail).
 */
function aboveRefill(all: Array<[number, number]>, acts: number[], refill: Required<DrawnInterval>, o: { t0: number; end: number }): TimeAbove {
  const spans = all.filter(([, healthy]) => healthy <= refill.launched);
  const askedBefore = (at: number) => Math.max(o.t0, ...acts.filter((c) => c <= at));
  let launch = 0;
  let detection = acts.length ? Math.max(0, Math.min(acts[0], spans[0]?.[0] ?? refill.launched) - o.t0) : 0;
  spans.forEach(([at, healthy], k) => {
    launch += at - askedBefore(at);
    const until = k + 1 < spans.length ? spans[k + 1][0] : refill.launched;
    const next = acts.find((c) => c >= healthy);
    if (next !== undefined) detection += Math.max(0, Math.min(next, until) - healthy);
  });
  launch += refill.launched - askedBefore(refill.launched);
  return { launch: launch / 1000, detection: detection / 1000, tail: Math.max(0, o.end - refill.healthy) / 1000 };
}
