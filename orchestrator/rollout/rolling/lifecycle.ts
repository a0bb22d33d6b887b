/**
 * Lifecycle hooks and warm pools in a rolling rollout (issue 15 items 1–3): pure decisions of an
 * observed view, called from decideRolling (strategy.ts) at two points — before a step (the warm
 * pool's outdated instances go first) and at the end (the final "done" waits for the tool's own
 * terminations held in `Terminating:Wait`, and for the warm pool to be refilled).
 *
 * What AWS does (sandbox/autoscaling/SPEC.md [HOOK-*], [WARM-*]):
 *  - a launch hook holds a new instance in `Pending:Wait` (then `Pending:Proceed`) before InService:
 *    it is not healthy yet (the ASG signal says so), counts toward desired capacity, and ends
 *    InService (CONTINUE) or terminated (ABANDON, also the default result at the heartbeat timeout);
 *  - a termination hook holds a terminated instance in `Terminating:Wait` AFTER the load balancers
 *    deregistered it: it serves nothing and no longer counts toward capacity, so the next step need
 *    not wait for it; it ends terminated whatever the result, by the heartbeat timeout at the latest;
 *  - a scale-out draws on the warm pool first, and a warmed instance keeps the launch spec it was
 *    launched from: an outdated warmed instance would bring the old version back.
 *
 * What the tool does: never completes an action itself; waits for a `Pending:Wait` instance within
 * the step timeout; counts a launch that ended ABANDON as a failed replacement; at the end waits for
 * its terminations still in `Terminating:Wait` at most the termination hooks' heartbeat timeout
 * (from when it first saw each one there), and says how long; terminates the warm pool's outdated
 * instances BEFORE the first step (Instance Refresh does the pool last — meanwhile a scale-out may
 * draw an old-version instance from it) and, at the end, waits for the pool to be back at its size,
 * every instance up to date and in the pool's state (Stopped/Running/Hibernated), within the step
 * timeout.
 */
import type { GroupSnapshot, InstanceView, LifecycleHookView, WarmPoolView } from '../../aws/port';
import { wait, type Action } from '../action';
import { sameLaunch } from './strategy';

/** The hooks and the warm pool as the runner last read them, and what the run did to the pool. */
export interface LifecycleFacts {
  /** The group's lifecycle hooks (read once, when an instance is first seen in a `*:Wait` state). */
  hooks?: LifecycleHookView[];
  /** The warm pool as last read (DescribeWarmPool), undefined without one. */
  pool?: WarmPoolView;
  /** Warmed instances this run terminated (outdated). */
  warmTerminated: ReadonlySet<string>;
  /** When (the tool's clock) each of the tool's terminations was first seen in `Terminating:Wait`. */
  hookWaitSince: Readonly<Record<string, number>>;
  /** Since when (the tool's clock) the end has waited for the warm pool to refill. */
  poolWaitSince?: number;
  /** How long (ms) each of the tool's terminations was seen in a termination hook's wait, once it left it. */
  hookWaited: Readonly<Record<string, number>>;
  /** When to look at the refilling pool next, ms from now (polling.ts poolLookAt); undefined: every 10 s. */
  poolLookInMs?: number;
}

/** `Terminating:Proceed` is past the hook (EC2 terminating it), as ordinary as `Terminating`. */
const TERMINATING_HOOK = new Set(['Terminating:Wait']);
const WARM_READY = new Set(['Warmed:Stopped', 'Warmed:Running', 'Warmed:Hibernated']);

/** In a launch hook's wait: not healthy yet, the hook named in the verdict. */
export function inLaunchHook(i: Pick<InstanceView, 'lifecycleState'>): boolean {
  return i.lifecycleState === 'Pending:Wait' || i.lifecycleState === 'Pending:Proceed';
}

/** In a termination hook's wait (deregistered already; EC2 still running it). */
export function inTerminationHook(i: Pick<InstanceView, 'lifecycleState'>): boolean {
  return TERMINATING_HOOK.has(i.lifecycleState);
}

/**
 * The ASG signal's "not yet" for an instance in a hook's wait, with the hooks named:
 * "Pending:Wait (launch lifecycle hook boot: heartbeat timeout 300 s, default result ABANDON)".
 * Without known hooks, the state alone.
 */
export function hookState(state: string, hooks: readonly LifecycleHookView[] | undefined): string {
  const launch = state.startsWith('Pending:');
  const mine = (hooks ?? []).filter((h) => h.transition === (launch ? 'launch' : 'terminate'));
  if (mine.length === 0) return state;
  return `${state} (${launch ? 'launch' : 'termination'} lifecycle hook ${mine.map((h) => `${h.name}: heartbeat timeout ${h.heartbeatTimeout} s, default result ${h.defaultResult}`).join('; ')})`;
}

/**
 * Why a new instance last seen in a launch hook's wait went away without ever serving: the hook
 * ended ABANDON — completed so, or its heartbeat timed out with that default result.
 * Example: hooks [boot, ABANDON] → "launch lifecycle hook boot ended ABANDON (completed ABANDON, or
 * no answer within its 300 s heartbeat timeout: default result ABANDON)".
 */
export function abandonedWhy(hooks: readonly LifecycleHookView[] | undefined): string {
  const mine = (hooks ?? []).filter((h) => h.transition === 'launch');
  if (mine.length === 0) return 'launch lifecycle hook ended ABANDON: terminated before it went InService';
  return mine
    .map((h) => `launch lifecycle hook ${h.name} ended ABANDON (completed ABANDON${h.defaultResult === 'ABANDON' ? `, or no answer within its ${h.heartbeatTimeout} s heartbeat timeout: default result ABANDON` : ''})`)
    .join('; ');
}

/** The termination hooks' longest heartbeat timeout, ms (undefined without termination hooks). */
export function terminationHookTimeoutMs(hooks: readonly LifecycleHookView[] | undefined): number | undefined {
  const t = (hooks ?? []).filter((h) => h.transition === 'terminate').map((h) => h.heartbeatTimeout);
  return t.length ? Math.max(...t) * 1000 : undefined;
}

/** A warmed instance launched from another spec than the group's: a scale-out would bring it back. */
export function outdatedWarm(pool: WarmPoolView | undefined, group: GroupSnapshot): WarmPoolView['instances'] {
  return (pool?.instances ?? []).filter((w) => !w.lifecycleState.startsWith('Warmed:Terminat') && !sameLaunch(w.launchedFrom, group.launch));
}

/**
 * Before a step: the warm pool's outdated instances not yet terminated by this run → terminate
 * them (TerminateInstanceInAutoScalingGroup; they are not the group's capacity, nothing to
 * decrement; the pool launches their replacements from the current spec). Undefined when none.
 * Example: pool [w1 v1 Warmed:Stopped, w2 v2 Warmed:Stopped], group at v2 → terminate w1.
 */
export function decideWarmPool(group: GroupSnapshot, facts: LifecycleFacts): Action | undefined {
  const go = outdatedWarm(facts.pool, group).filter((w) => !facts.warmTerminated.has(w.instanceId));
  if (go.length === 0) return undefined;
  const ids = go.map((w) => w.instanceId);
  return {
    kind: 'terminate',
    group: group.name,
    instanceIds: ids,
    decrement: false,
    warmPool: true,
    reason: `warm pool: ${ids.join(', ')} outdated (${go.map((w) => w.lifecycleState).join(', ')}): a scale-out would bring the old version back; the pool launches replacements from the current launch spec`,
  };
}

/**
 * At the end, once the group itself is done: what is left to wait for, or undefined (done).
 *  1. the tool's terminations still in a termination hook's wait (`Terminating:Wait`): waited for,
 *     each at most the termination hooks' heartbeat timeout since first seen there (AWS ends the
 *     wait then with the default result; a heartbeat may extend it — not waited for beyond);
 *  2. the warm pool: outdated warmed instances not yet terminated (one that appeared since the
 *     start, e.g. returned on scale-in) → terminate; then the pool back at its size with every
 *     instance up to date and in the pool's state, within the step timeout since the end began
 *     waiting for it.
 * `terminated`: the group's instances this run terminated. Examples: i-o1 in Terminating:Wait seen
 * 30 s ago, hooks' timeout 300 s → wait; seen 301 s ago → not waited for (done says so).
 */
export function decideLifecycleEnd(
  group: GroupSnapshot,
  terminated: ReadonlySet<string>,
  facts: LifecycleFacts,
  now: number,
  stepTimeoutMs: number,
  hint?: number,
): Action | undefined {
  const bound = terminationHookTimeoutMs(facts.hooks);
  const holding = group.instances.filter((i) => terminated.has(i.instanceId) && inTerminationHook(i));
  const waiting = holding.filter((i) => bound === undefined || now - (facts.hookWaitSince[i.instanceId] ?? now) < bound);
  if (waiting.length > 0) {
    const secs = Math.round(Math.max(...waiting.map((i) => now - (facts.hookWaitSince[i.instanceId] ?? now))) / 1000);
    return wait(
      `${group.name}: waiting for ${waiting.map((i) => `${i.instanceId} (${hookState(i.lifecycleState, facts.hooks)})`).join(', ')} to finish: ${secs} s so far, at most ${bound !== undefined ? `${Math.round(bound / 1000)} s (the hook's heartbeat timeout)` : 'the hook’s heartbeat timeout'}`,
      hint ?? Math.min(10_000, Math.max(1_500, (now - Math.min(...waiting.map((i) => facts.hookWaitSince[i.instanceId] ?? now))) / 10)),
    );
  }
  const pool = facts.pool;
  if (!pool) return undefined;
  const fresh = decideWarmPool(group, facts);
  if (fresh) return fresh;
  const left = poolUnsettled(group, pool);
  if (left && now - (facts.poolWaitSince ?? now) <= stepTimeoutMs) {
    return { kind: 'wait', reason: `${group.name}: warm pool refilling: ${left}; at most ${Math.round(stepTimeoutMs / 1000)} s (--step-timeout)`, waitMs: facts.poolLookInMs ?? 10_000, awaiting: 'warm-pool' };
  }
  return undefined;
}

/**
 * What keeps the warm pool from being back as it was: fewer up-to-date instances in the pool's
 * state than its size, or outdated ones still leaving. Undefined when settled.
 * Example: size 2, Stopped, [n1 Warmed:Stopped, n2 Warmed:Pending] → "1 of 2 Warmed:Stopped (n2 Warmed:Pending)".
 */
export function poolUnsettled(group: GroupSnapshot, pool: WarmPoolView): string | undefined {
  const size = warmPoolSize(group, pool);
  const live = pool.instances.filter((w) => !w.lifecycleState.startsWith('Warmed:Terminat'));
  const ready = live.filter((w) => w.lifecycleState === `Warmed:${pool.poolState}` && sameLaunch(w.launchedFrom, group.launch));
  const leaving = pool.instances.filter((w) => w.lifecycleState.startsWith('Warmed:Terminat') && w.lifecycleState !== 'Warmed:Terminated');
  if (ready.length >= size && leaving.length === 0 && live.length === ready.length) return undefined;
  const others = live.filter((w) => !ready.includes(w)).concat(leaving);
  return `${ready.length} of ${size} Warmed:${pool.poolState}${others.length ? ` (${others.map((w) => `${w.instanceId} ${w.lifecycleState}`).join(', ')})` : ''}`;
}

/**
 * The pool's size as AWS keeps it: max(MinSize, (MaxGroupPreparedCapacity or the group's max) −
 * desired). Example: desired 4, max 8, min 0 → 4; prepared 5 → 1; min 3, prepared 5 → 3.
 */
export function warmPoolSize(group: Pick<GroupSnapshot, 'desired' | 'max'>, pool: Pick<WarmPoolView, 'minSize' | 'maxPrepared'>): number {
  return Math.max(pool.minSize, (pool.maxPrepared ?? group.max) - group.desired);
}

/**
 * Up-to-date instances of the pool a scale-out may draw on, ready or still warming (not leaving):
 * what the polling expects the next launch to start from (polling.ts startKind). Example: [n1 v2
 * Warmed:Stopped, n2 v2 Warmed:Pending, o1 v1 Warmed:Stopped, n3 v2 Warmed:Terminating], group at
 * v2 → 2.
 */
export function upToDateWarm(pool: WarmPoolView | undefined, group: GroupSnapshot): number {
  return (pool?.instances ?? []).filter((w) => !w.lifecycleState.startsWith('Warmed:Terminat') && sameLaunch(w.launchedFrom, group.launch)).length;
}

/** Ready to warm-start a scale-out: warmed, up to date, in a ready state. */
export function readyWarm(pool: WarmPoolView | undefined, group: GroupSnapshot): number {
  return (pool?.instances ?? []).filter((w) => WARM_READY.has(w.lifecycleState) && sameLaunch(w.launchedFrom, group.launch)).length;
}

/**
 * What the done summary adds about hooks and the warm pool ('' when nothing):
 * "; termination lifecycle hooks: waited 95 s for i-o1, 40 s for i-o2; warm pool: 2 outdated
 * warmed instance(s) replaced, back at 2 Warmed:Stopped".
 */
export function lifecycleDoneNote(group: GroupSnapshot, terminated: ReadonlySet<string>, facts: LifecycleFacts, now: number): string {
  const parts: string[] = [];
  const waited = Object.entries(facts.hookWaited).filter(([id]) => terminated.has(id));
  const still = group.instances.filter((i) => terminated.has(i.instanceId) && inTerminationHook(i));
  if (waited.length || still.length) {
    const w = waited.map(([id, ms]) => `${Math.round(ms / 1000)} s for ${id}`);
    const s = still.map((i) => `${i.instanceId} still in ${i.lifecycleState} after ${Math.round((now - (facts.hookWaitSince[i.instanceId] ?? now)) / 1000)} s (past its hook's heartbeat timeout: not waited for further; AWS ends it with the default result)`);
    parts.push(`termination lifecycle hooks: ${[...(w.length ? [`waited ${w.join(', ')}`] : []), ...s].join('; ')}`);
  }
  if (facts.pool) {
    const left = poolUnsettled(group, facts.pool);
    const n = facts.warmTerminated.size;
    const what = n ? `${n} outdated warmed instance(s) replaced` : 'nothing outdated';
    parts.push(`warm pool: ${what}, ${left ? `not back yet after --step-timeout: ${left}` : `back at ${warmPoolSize(group, facts.pool)} Warmed:${facts.pool.poolState}`}`);
  }
  return parts.length ? `; ${parts.join('; ')}` : '';
}
