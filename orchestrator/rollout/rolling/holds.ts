/**
 * Canary, checkpoints and bake of a rolling rollout (issue 16): holds — waits at fixed points of
 * the rollout during which nothing more is replaced while health and alarms are watched (the
 * engine reads the alarms after every observation; an unhealthy new instance holds the wait and
 * fails it at its step timeout, as any step).
 *
 *  - `--canary N`: the first N outdated instances are replaced (the steps never go past N), then
 *    the rollout holds for `--canary-wait`;
 *  - `--checkpoints 20,50`: after ceil(P% × the planned count) outdated instances are replaced,
 *    hold for `--checkpoint-wait` (the percentages of the outdated instances replaced, as Instance
 *    Refresh's `CheckpointPercentages`);
 *  - `--bake D`: once every instance is replaced and the group is settled, hold D before done.
 *
 * A hold starts once the group is settled at its point (no new instance still on its way to
 * healthy, desired back at capacity, every instance launched) and ends its wait later; the runner
 * remembers when each started (`since`) and when the rollout reached it (`settling`), the decision
 * here is pure. The wait to settle is bounded by the step timeout from when the point was reached
 * (then the rollout fails, `step-timeout`, naming what is unsettled). AWS's own replacements (Spot,
 * Capacity Rebalancing) are NOT left out of "settled": each is an instance of the new version the
 * hold is there to watch, the tool cannot tell them from its own launches by the snapshot, and at a
 * realistic rate a settled moment comes within a poll or two; the bound covers the rest.
 *
 * Example: 10 outdated, --canary 1 --checkpoints 50 --bake 10m, surge 2:
 *   replace 1 (the step is cut to 1) → hold canary → replace 2, 2 (the step reaches 5 = 50%) →
 *   hold checkpoint 50% → replace 2, 2, 1 → settled → bake 10 m → done.
 */
import { abort, wait, type Action } from '../action';
import type { InstanceView } from '../../aws/port';
import { decideRolling, isLive, isOutdated, isStandby, type RollingView } from './strategy';

export interface HoldOptions {
  /** Replace this many first, then hold `canaryWaitMs`. */
  canary?: number;
  canaryWaitMs?: number;
  /** Percentages (1–100, ascending) of the planned instances replaced after which to hold `checkpointWaitMs`. */
  checkpoints?: number[];
  checkpointWaitMs?: number;
  /** After the last step, settled: hold this long before done. */
  bakeMs?: number;
}

/** Defaults for the waits when only the point is given (Instance Refresh's checkpoint delay defaults to 1 hour; a canary or checkpoint without a wait is a pause of this long). */
export const DEFAULT_HOLD_WAIT_MS = 5 * 60_000;

/** How often a hold looks again (alarms and health) at the latest: the hold is watched, not slept through. */
export const HOLD_POLL_MS = 10_000;

export interface Hold {
  kind: 'canary' | 'checkpoint' | 'bake';
  /** Stable id for the run's memory, e.g. "canary", "checkpoint-50", "bake". */
  id: string;
  /** Hold once this many planned instances are replaced. */
  after: number;
  waitMs: number;
  /** What the user reads: "canary (1 of 10 replaced)", "checkpoint 50% (5 of 10 replaced)", "bake". */
  label: string;
  percent?: number;
}

/**
 * The holds of a rollout of `total` planned instances, in the order they come. Two points at the
 * same count are one hold (the first: the canary before a checkpoint), so a wait is never doubled;
 * the bake always comes last.
 * Example: total 3, checkpoints [20, 30, 100], bake 5 m → checkpoint 20% after 1, 100% after 3,
 * bake after 3 (30% is also 1: merged into 20%).
 */
export function planHolds(o: HoldOptions, total: number): Hold[] {
  const out: Hold[] = [];
  if (total <= 0) return out;
  const taken = new Set<number>();
  if (o.canary !== undefined && o.canary > 0) {
    const after = Math.min(o.canary, total);
    taken.add(after);
    out.push({ kind: 'canary', id: 'canary', after, waitMs: o.canaryWaitMs ?? DEFAULT_HOLD_WAIT_MS, label: `canary (${after} of ${total} replaced)` });
  }
  for (const p of o.checkpoints ?? []) {
    const after = Math.max(1, Math.ceil((p * total) / 100));
    if (taken.has(after)) continue;
    taken.add(after);
    out.push({ kind: 'checkpoint', id: `checkpoint-${p}`, after, percent: p, waitMs: o.checkpointWaitMs ?? DEFAULT_HOLD_WAIT_MS, label: `checkpoint ${p}% (${after} of ${total} replaced)` });
  }
  out.sort((a, b) => a.after - b.after);
  if (o.bakeMs !== undefined && o.bakeMs > 0) out.push({ kind: 'bake', id: 'bake', after: total, waitMs: o.bakeMs, label: `bake (all ${total} replaced)` });
  return out;
}

/** Bad input (exit 2 by the caller): checkpoints not whole numbers 1–100 in strictly ascending order, a canary below 1. Undefined when fine. */
export function holdOptionsProblem(o: HoldOptions): string | undefined {
  const cps = o.checkpoints ?? [];
  const bad = cps.find((p) => !Number.isInteger(p) || p < 1 || p > 100);
  if (bad !== undefined) return `--checkpoints ${cps.join(',')}: ${bad} is not a whole percentage from 1 to 100`;
  for (let i = 1; i < cps.length; i++) {
    if (cps[i] <= cps[i - 1]) return `--checkpoints ${cps.join(',')}: expected percentages in ascending order, each once (e.g. 20,50)`;
  }
  if (o.canary !== undefined && (!Number.isInteger(o.canary) || o.canary < 1)) return `--canary ${o.canary}: expected a whole number of instances ≥ 1`;
  return undefined;
}

/** The canary is larger than the group: exit 2 before any change (the caller). Example: canary 4, capacity 3 → a message. */
export function canaryProblem(o: HoldOptions, capacity: number): string | undefined {
  if (o.canary !== undefined && o.canary > capacity) return `--canary ${o.canary} is larger than the group (capacity ${capacity}); expected 1 to ${capacity}`;
  return undefined;
}

/** What the run remembers of its holds: when each started (settled at its point), by id. */
export type HoldMemory = Record<string, number>;

/** How many planned instances are replaced: the plan's count less those still live and not terminated by this run. */
export function replacedCount(view: RollingView): number {
  const planned = view.facts?.planned;
  if (!planned) return 0;
  const terminated = new Set(view.memory.terminated);
  let left = 0;
  for (const i of view.group.instances) if (planned.has(i.instanceId) && isLive(i) && !terminated.has(i.instanceId)) left++;
  return planned.size - left;
}

/**
 * Settled at a point: nothing on its way — every up-to-date instance healthy, the group launched
 * all it wants, desired back at capacity. (Connection draining of the terminated ones need not end.)
 */
export function settled(view: RollingView): boolean {
  return unsettledWhy(view) === undefined;
}

/**
 * What keeps the group from being settled at a point (see {@link settled}), as the user reads it;
 * undefined when settled. Example: "desired 25 above capacity 24; i-n7 not healthy (asg Pending)".
 */
export function unsettledWhy(view: RollingView): string | undefined {
  const { group, config } = view;
  const terminated = new Set(view.memory.terminated);
  const live = group.instances.filter((i) => isLive(i) && !isStandby(i) && !terminated.has(i.instanceId));
  const unhealthyNew = live.filter((i: InstanceView) => !isOutdated(i, group) && !view.verdict(i).healthy);
  const why: string[] = [];
  if (group.desired > config.capacity) why.push(`desired ${group.desired} above capacity ${config.capacity}`);
  if (live.length < group.desired) why.push(`${live.length} of ${group.desired} instance(s) live`);
  const shown = unhealthyNew.slice(0, 3).map((i) => {
    const v = view.verdict(i);
    return `${i.instanceId} not healthy (${v.gate ?? 'check'} ${v.state ?? 'unknown'})`;
  });
  if (unhealthyNew.length > 3) shown.push(`${unhealthyNew.length - 3} more not healthy`);
  why.push(...shown);
  return why.length > 0 ? why.join('; ') : undefined;
}

/** The hold the rollout is at (reached and its wait not over), or undefined. Bake is reached only once decideRolling says done. */
export function currentHold(view: RollingView, holds: readonly Hold[], memory: HoldMemory): Hold | undefined {
  const replaced = replacedCount(view);
  for (const h of holds) {
    if (h.after > replaced) return undefined;
    const since = memory[h.id];
    if (since === undefined || view.now - since < h.waitMs) return h;
  }
  return undefined;
}

/** The next point not reached yet (its count), to cut a step short of it; undefined when none is ahead. */
export function nextPoint(view: RollingView, holds: readonly Hold[]): number | undefined {
  const replaced = replacedCount(view);
  return holds.find((h) => h.kind !== 'bake' && h.after > replaced)?.after;
}

/** Whether a hold at its point may start its clock now (the runner records `since` then). */
export function holdCanStart(view: RollingView, hold: Hold): boolean {
  if (hold.kind === 'bake') return decideRolling(view).kind === 'done';
  return settled(view);
}

const secondsText = (ms: number) => {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${s % 60 ? ` ${s % 60}s` : ''}` : `${s}s`;
};

/**
 * decideRolling with the holds. In order:
 *  1. at a hold whose clock runs (settled there before): wait out the rest, looking again at
 *     least every {@link HOLD_POLL_MS} (alarms, health) — unless something must be done first:
 *     a failure (abort) or putting the group back at rest (surplus, desired back to capacity)
 *     comes from decideRolling; launching or replacing more never does;
 *  2. at a hold not settled yet: decideRolling, without launching or replacing more (wait instead);
 *  3. between holds: decideRolling with its step cut so it never replaces past the next point.
 * Example: canary 1 of 5, surge 2, the canary n1 healthy, its hold started 2 min ago, wait 5 min →
 * wait "holding at the canary (1 of 5 replaced) …", waitMs 10 s; at 5 min → replace on (2 at once).
 */
export function decideWithHolds(view: RollingView, holds: readonly Hold[], memory: HoldMemory, settling: HoldMemory = {}): Action {
  const hold = currentHold(view, holds, memory);
  if (hold) {
    // The step cut to the point here too (room 1 at the point): what decideRolling would do next
    // is then to finish the step in flight, never to launch a whole new one (see below).
    const inner = decideRolling(cutToPoint(view, hold.kind === 'bake' ? undefined : hold.after));
    if (inner.kind === 'abort') return inner;
    if (hold.kind === 'bake' && inner.kind !== 'done') return inner; // settle first (drain, desired), then bake
    // Back to rest (surplus, desired) is done during a hold; the next step never is.
    if (hold.kind !== 'bake' && inner.kind !== 'wait' && inner.kind !== 'done' && !launchesOrReplaces(inner, view)) return inner;
    const since = memory[hold.id];
    if (since === undefined) {
      // The wait to settle is bounded like any step (chaos seed 2052541170 of 2027 waited 24 h).
      const from = settling[hold.id];
      const why = unsettledWhy(view);
      if (from !== undefined && why !== undefined && view.now - from > view.config.stepTimeoutMs) {
        const secs = Math.round((view.now - from) / 1000);
        return abort('step-timeout', `${view.group.name}: not settled at the ${hold.label} after ${secs} s (--step-timeout ${Math.round(view.config.stepTimeoutMs / 1000)} s): ${why}`, {
          asg: view.group.name,
          hold: hold.id,
          seconds: secs,
          unsettled: why,
        });
      }
      return wait(`${view.group.name}: at the ${hold.label}: waiting for the group to settle before the hold`, HOLD_POLL_MS);
    }
    const left = hold.waitMs - (view.now - since);
    return wait(`${view.group.name}: holding at the ${hold.label} for ${secondsText(hold.waitMs)}, watching health and alarms`, Math.max(0, Math.min(left, HOLD_POLL_MS)));
  }
  return decideRolling(cutToPoint(view, nextPoint(view, holds)));
}

/**
 * The view with its step cut so that it never replaces past `point` (at least 1: at the point
 * itself, a step whose surge is already launched can still finish). Example: surge 9, point 5,
 * 2 replaced → surge and batch 3; at the point (5 replaced) → 1.
 */
function cutToPoint(view: RollingView, point: number | undefined): RollingView {
  if (point === undefined) return view;
  const room = Math.max(1, point - replacedCount(view));
  const c = view.config;
  const config = { ...c, batch: Math.min(c.batch, room), surge: c.surge > 0 ? Math.min(c.surge, room) : 0 };
  return { ...view, config };
}

/**
 * Would `a` launch a new instance or replace an outdated one (the next step)? A terminate with
 * decrement while desired is above capacity finishes the step whose instances were already
 * launched: it only brings the group back to rest. That happens at a hold when AWS took a planned
 * outdated instance itself (a Spot interruption, a spontaneous termination) after the step's surge
 * was launched: the count reached the point with desired still raised, and waiting for desired to
 * come back by itself would wait forever (chaos seed 156174424 of 4242, on the mixed branch).
 */
function launchesOrReplaces(a: Action, view: RollingView): boolean {
  if (a.kind === 'setDesired') return a.desired > view.group.desired;
  if (a.kind === 'terminate') return !a.surplus && !(a.decrement && view.group.desired > view.config.capacity);
  return false;
}
