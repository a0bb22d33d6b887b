import test from 'ava';
import type { Action } from '../../orchestrator/rollout/action';
import {
  activeColorIsOutdated,
  chooseKeep,
  isStandby,
  planSwap,
  decideAbHook,
  decideDrain,
  decideGrow,
  decideSwap,
  isPopulated,
  planAb,
  SWAP_TAG,
  type AbPlanOptions,
} from '../../orchestrator/rollout/ab/strategy';
import { group, inst, many } from './fixtures';

const progress = { stepStartedAt: 0, healthCheckTimeoutMs: 600_000 };
const swapPlan = { count: 8, step: 8, elbNames: ['qa-b'], targetMin: 8 };

/** The fields of an action that matter for the tables (kind, group, sizes, code). */
function shape(a: Action): Record<string, unknown> {
  const { reason: _reason, ...rest } = a as Action & { reason?: string };
  if (a.kind === 'abort') return { kind: a.kind, code: a.code };
  if (a.kind === 'wait') return { kind: 'wait' };
  return rest;
}

test('decideSwap: one row per situation of a swap a → b', (t) => {
  const oldA = (o: Partial<Parameters<typeof group>[1]> = {}) => group('qa-a', { desired: 8, min: 8, instances: many('a', 8, 'serving', 1, 'qa-a'), ...o });
  const rows: Array<[string, Parameters<typeof decideSwap>[0], number, Record<string, unknown>]> = [
    ['b empty: grow b to the count', { from: oldA(), to: group('qa-b', { desired: 0 }) }, 0, { kind: 'setDesired', group: 'qa-b', desired: 8 }],
    ['b launched, some booting: wait', { from: oldA(), to: group('qa-b', { desired: 8, instances: [...many('b', 5), ...many('x', 3, 'booting')] }) }, 60_000, { kind: 'wait' }],
    ['b InService but OutOfService in the ELB: wait', { from: oldA(), to: group('qa-b', { desired: 8, instances: [...many('b', 7), inst('b8', 'outOfElb')] }) }, 60_000, { kind: 'wait' }],
    ['b not serving after the timeout: abort, a untouched', { from: oldA(), to: group('qa-b', { desired: 8, instances: [...many('b', 7), inst('b8', 'outOfElb')] }) }, 600_000, { kind: 'abort', code: 'ab.unhealthy' }],
    ['b serving, min still 0: hand over the floor first', { from: oldA(), to: group('qa-b', { desired: 8, instances: many('b', 8) }) }, 0, { kind: 'updateSizes', group: 'qa-b', min: 8 }],
    ['b serving with its floor: drain a', { from: oldA(), to: group('qa-b', { desired: 8, min: 8, instances: many('b', 8) }) }, 0, { kind: 'updateSizes', group: 'qa-a', desired: 0, min: 0 }],
    ['a draining: wait until empty', { from: oldA({ desired: 0, min: 0, instances: many('a', 3, 'terminating', 1, 'qa-a') }), to: group('qa-b', { desired: 8, min: 8, instances: many('b', 8) }) }, 0, { kind: 'wait' }],
    ['a drained even if b wobbles: committed, only finishing remains', { from: oldA({ desired: 0, min: 0, instances: many('a', 1, 'terminating', 1, 'qa-a') }), to: group('qa-b', { desired: 8, min: 8, instances: [...many('b', 7), inst('b8', 'outOfElb')] }) }, 0, { kind: 'wait' }],
    ['a empty: done', { from: oldA({ desired: 0, min: 0, instances: [] }), to: group('qa-b', { desired: 8, min: 8, instances: many('b', 8) }) }, 0, { kind: 'done' }],
    ['first deploy (no old color): done once serving', { to: group('qa-b', { desired: 8, instances: many('b', 8) }) }, 0, { kind: 'done' }],
    ['count above max: raise max with desired', { from: oldA(), to: group('qa-b', { desired: 0, max: 4 }) }, 0, { kind: 'updateSizes', group: 'qa-b', desired: 8, max: 8 }],
  ];
  for (const [name, groups, now, expected] of rows) t.deepEqual(shape(decideSwap(groups, swapPlan, progress, now)), expected, name);
});

test('decideGrow: stepwise, each step serving before the next', (t) => {
  const target = { count: 8, step: 3, elbNames: ['qa-b'] };
  const rows: Array<[string, Parameters<typeof group>[1], Record<string, unknown>]> = [
    ['empty: first step', { desired: 0 }, { kind: 'setDesired', group: 'qa-b', desired: 3 }],
    ['first step booting: wait', { desired: 3, instances: [...many('b', 2), inst('b3', 'booting')] }, { kind: 'wait' }],
    ['first step serving: second step', { desired: 3, instances: many('b', 3) }, { kind: 'setDesired', group: 'qa-b', desired: 6 }],
    ['last step is the remainder', { desired: 6, instances: many('b', 6) }, { kind: 'setDesired', group: 'qa-b', desired: 8 }],
    ['all serving: done', { desired: 8, instances: many('b', 8) }, { kind: 'done' }],
    ['an unhealthy instance is not serving', { desired: 3, instances: [...many('b', 2), inst('b3', 'unhealthy')] }, { kind: 'wait' }],
  ];
  for (const [name, g, expected] of rows) t.deepEqual(shape(decideGrow(group('qa-b', g), target, progress, 1000)), expected, name);
});

test('decideGrow: the timeout message names the unhealthy instances and the ELB reason', (t) => {
  const g = group('qa-b', { desired: 2, instances: [inst('i-good', 'serving'), inst('i-bad', 'outOfElb')] });
  const a = decideGrow(g, { count: 2, step: 2, elbNames: ['qa-b'] }, { stepStartedAt: 0, healthCheckTimeoutMs: 600_000 }, 600_000);
  t.is(a.kind, 'abort');
  if (a.kind !== 'abort') return;
  t.regex(a.reason, /i-bad/);
  t.notRegex(a.reason, /i-good/);
  t.regex(a.reason, /OutOfService in ELB qa-b: Instance has failed/);
  t.regex(a.reason, /600 s/);
  t.deepEqual((a.data!.unhealthy as Array<{ instanceId: string }>).map((u) => u.instanceId), ['i-bad']);
});

test('decideGrow: launch failures are named when no instance even appears', (t) => {
  const a = decideGrow(group('qa-b', { desired: 4, instances: [] }), { count: 4, step: 4, elbNames: ['qa-b'] }, progress, 700_000);
  t.is(a.kind, 'abort');
  if (a.kind === 'abort') t.regex(a.reason, /only 0 of 4 instance\(s\) launched/);
});

test('decideDrain: set desired and min to 0, wait until empty, done', (t) => {
  t.deepEqual(shape(decideDrain(group('qa-a', { desired: 4, min: 4, instances: many('a', 4) }))), { kind: 'updateSizes', group: 'qa-a', desired: 0, min: 0 });
  t.deepEqual(shape(decideDrain(group('qa-a', { desired: 0, min: 0, instances: many('a', 2, 'terminating') }))), { kind: 'wait' });
  t.deepEqual(shape(decideDrain(group('qa-a', { desired: 0, min: 0, instances: [] }))), { kind: 'done' });
});

const names = { a: 'qa-a', b: 'qa-b' };
const base: AbPlanOptions = { environment: 'qa' };

test('planAb: the seed Process, one row per case', (t) => {
  const full = (n: string, k = 8) => group(n, { desired: k, min: k, instances: many(`${n}-`, k, 'serving', 1, n) });
  const empty = (n: string) => group(n, { desired: 0 });
  const rows: Array<[string, Parameters<typeof planAb>[0], AbPlanOptions, Record<string, unknown>]> = [
    ['a active: swap to b, default count 8', { a: full('qa-a', 4), b: empty('qa-b'), names }, base, { kind: 'swap', from: 'qa-a', to: 'qa-b', count: 8, step: 8 }],
    ['b active: swap to a', { a: empty('qa-a'), b: full('qa-b'), names }, base, { kind: 'swap', from: 'qa-b', to: 'qa-a', count: 8 }],
    ['neither: first deploy into a', { a: empty('qa-a'), b: empty('qa-b'), names }, base, { kind: 'swap', from: undefined, to: 'qa-a', count: 8 }],
    ['--instance-count 4', { a: full('qa-a'), b: empty('qa-b'), names }, { ...base, instanceCount: 4 }, { kind: 'swap', count: 4 }],
    ['--instance-count-match follows the active color', { a: full('qa-a', 5), b: empty('qa-b'), names }, { ...base, instanceCountMatch: true, instanceCount: 2 }, { kind: 'swap', count: 5 }],
    ['--instance-count-step 3', { a: full('qa-a'), b: empty('qa-b'), names }, { ...base, instanceCountStep: 3 }, { kind: 'swap', count: 8, step: 3 }],
    ['step larger than count is the count', { a: full('qa-a'), b: empty('qa-b'), names }, { ...base, instanceCount: 2, instanceCountStep: 8 }, { kind: 'swap', count: 2, step: 2 }],
    ['both populated: refused, exit 3', { a: full('qa-a'), b: full('qa-b'), names }, base, { kind: 'refuse', exit: 3, code: 'both-populated' }],
    ['both populated --zero: refused, exit 3', { a: full('qa-a'), b: full('qa-b'), names }, { ...base, zero: true }, { kind: 'refuse', exit: 3 }],
    ['--zero: drain the active color', { a: empty('qa-a'), b: full('qa-b'), names }, { ...base, zero: true }, { kind: 'drain', group: 'qa-b' }],
    ['--zero, both empty: nothing to do', { a: empty('qa-a'), b: empty('qa-b'), names }, { ...base, zero: true }, { kind: 'nothing' }],
    ['a missing: exit 2', { b: empty('qa-b'), names }, base, { kind: 'refuse', exit: 2, code: 'unknown-group' }],
    ['--elb-name not attached to the new color: exit 2', { a: full('qa-a'), b: empty('qa-b'), names }, { ...base, elbNames: ['qa-public'] }, { kind: 'refuse', exit: 2, code: 'elb-not-attached' }],
    ['--instance-count 0: exit 2', { a: full('qa-a'), b: empty('qa-b'), names }, { ...base, instanceCount: 0 }, { kind: 'refuse', exit: 2, code: 'bad-instance-count' }],
    ['draining old color (desired 0, terminating) counts as empty', { a: group('qa-a', { desired: 0, instances: many('a', 2, 'terminating') }), b: full('qa-b'), names }, base, { kind: 'swap', from: 'qa-b', to: 'qa-a' }],
    ['--single-asg: refresh the group named ENV', { a: full('qa', 3), names: { a: 'qa', b: 'qa' } }, { ...base, singleAsg: true }, { kind: 'refresh', group: 'qa', count: 8 }],
    ['--single-asg --instance-count-match', { a: full('qa', 3), names: { a: 'qa', b: 'qa' } }, { ...base, singleAsg: true, instanceCountMatch: true }, { kind: 'refresh', count: 3 }],
    ['--single-asg --zero', { a: full('qa', 3), names: { a: 'qa', b: 'qa' } }, { ...base, singleAsg: true, zero: true }, { kind: 'drain', group: 'qa' }],
    ['--single-asg missing group', { names: { a: 'qa', b: 'qa' } }, { ...base, singleAsg: true }, { kind: 'refuse', exit: 2 }],
    ['new color on an ALB/NLB target group, the active one on a classic ELB: a mixed pair, refused, exit 3', { a: full('qa-a'), b: { ...empty('qa-b'), targetGroupARNs: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/qa-b/0123456789abcdef'] }, names }, base, { kind: 'refuse', exit: 3, code: 'mixed-load-balancers' }],
    ['active color on a target group, the empty one on a classic ELB: a mixed pair, refused, exit 3', { a: { ...full('qa-a'), targetGroupARNs: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/qa-a/0123456789abcdef'] }, b: empty('qa-b'), names }, base, { kind: 'refuse', exit: 3, code: 'mixed-load-balancers' }],
    ['--single-asg on a target group: refused, exit 3', { a: { ...full('qa', 3), targetGroupARNs: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/qa/0123456789abcdef'] }, names: { a: 'qa', b: 'qa' } }, { ...base, singleAsg: true }, { kind: 'refuse', exit: 3, code: 'target-groups-unsupported' }],
    ['--zero on a target group: the explicit drain is allowed', { a: empty('qa-a'), b: { ...full('qa-b'), targetGroupARNs: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/qa-b/0123456789abcdef'] }, names }, { ...base, zero: true }, { kind: 'drain', group: 'qa-b' }],
  ];
  for (const [name, observed, options, expected] of rows) {
    const plan = planAb(observed, options) as unknown as Record<string, unknown>;
    const picked = Object.fromEntries(Object.keys(expected).map((k) => [k, plan[k]]));
    t.deepEqual(picked, expected, name);
  }
});

test('planAb: the swap summary says what happens, in order', (t) => {
  const plan = planAb({ a: group('qa-a', { desired: 8, min: 8, instances: many('a', 8, 'serving', 1, 'qa-a') }), b: group('qa-b'), names }, { ...base, instanceCountStep: 4 });
  if (plan.kind !== 'swap') return t.fail(plan.kind);
  t.regex(plan.summary, /scale qa-b 0 → 8, 4 at a time, each step healthy before the next, wait for .*ELB qa-b.*then drain qa-a/);
  t.is(plan.targetMin, 8);
  t.deepEqual(plan.replacing.length, 8);
});

test('chooseKeep (--clean-up): version first, but never keep a color that does not serve', (t) => {
  const rows: Array<[string, ReturnType<typeof group>, ReturnType<typeof group>, string, RegExp]> = [
    ['b up to date and serving; a old', group('qa-a', { version: 2, instances: many('a', 4, 'serving', 1, 'qa-a') }), group('qa-b', { version: 2, instances: many('b', 2, 'serving', 2) }), 'qa-b', /current launch template version/],
    ['b up to date but its instances fail (bad image): keep a', group('qa-a', { version: 2, instances: many('a', 4, 'serving', 1, 'qa-a') }), group('qa-b', { version: 2, instances: many('b', 4, 'outOfElb', 2) }), 'qa-a', /more serving/],
    ['both current: more serving wins', group('qa-a', { instances: many('a', 2, 'serving', 2, 'qa-a') }), group('qa-b', { instances: many('b', 5, 'serving', 2) }), 'qa-b', /both run/],
    ['tie: color a', group('qa-a', { instances: many('a', 3, 'serving', 2, 'qa-a') }), group('qa-b', { instances: many('b', 3, 'serving', 2) }), 'qa-a', /by convention/],
  ];
  for (const [name, a, b, keep, why] of rows) {
    const r = chooseKeep(a, b);
    t.is(r.keep.name, keep, name);
    t.regex(r.why, why, name);
  }
});

test('activeColorIsOutdated (deploy hook): only the populated color counts', (t) => {
  const rows: Array<[string, ReturnType<typeof group> | undefined, ReturnType<typeof group> | undefined, boolean]> = [
    ['a on the current version', group('qa-a', { version: 2, instances: many('a', 2, 'serving', 2) }), group('qa-b'), false],
    ['a on an older version', group('qa-a', { version: 3, instances: many('a', 2, 'serving', 2) }), group('qa-b'), true],
    ['b active, outdated', group('qa-a'), group('qa-b', { version: 5, instances: many('b', 2, 'serving', 4) }), true],
    ['neither populated: first deploy', group('qa-a'), group('qa-b'), true],
    ['both populated: never guess', group('qa-a', { instances: many('a', 1, 'serving', 1) }), group('qa-b', { instances: many('b', 1) }), false],
  ];
  for (const [name, a, b, expected] of rows) t.is(activeColorIsOutdated(a, b), expected, name);
  t.false(isPopulated(group('qa-a', { desired: 0, instances: many('a', 2, 'terminating') })));
});

test('decideAbHook (deploy hook): an unfinished swap record is resumed first, whatever the versions say', (t) => {
  const rec = { [SWAP_TAG]: JSON.stringify({ v: 1, mode: 'swap', from: 'qa-a', to: 'qa-b', count: 2, step: 2, runId: 'r1', since: 0 }) };
  const upToDate = (name: string, o: Partial<Parameters<typeof group>[1]> = {}) => group(name, { version: 2, instances: many(name, 2, 'serving', 2, name), ...o });
  const rows: Array<[string, ReturnType<typeof group>, ReturnType<typeof group>, { force?: boolean; launchChanged?: boolean }, string]> = [
    ['crash mid-growth: both populated, a up to date, record', { ...upToDate('qa-a'), tags: rec }, { ...upToDate('qa-b', { desired: 1 }), tags: rec }, {}, 'resume'],
    ['crash mid-drain: b serves the new version, a draining, record', { ...group('qa-a', { desired: 0, min: 0, instances: many('a', 2, 'terminating', 1, 'qa-a') }), tags: rec }, { ...upToDate('qa-b'), tags: rec }, {}, 'resume'],
    ['both populated, no record: the run refuses', upToDate('qa-a'), upToDate('qa-b'), {}, 'refuse'],
    ['a up to date', upToDate('qa-a'), group('qa-b'), {}, 'none'],
    ['a up to date, --force', upToDate('qa-a'), group('qa-b'), { force: true }, 'swap'],
    ['a up to date, the preview changes the template', upToDate('qa-a'), group('qa-b'), { launchChanged: true }, 'swap'],
    ['a outdated', group('qa-a', { version: 3, instances: many('a', 2, 'serving', 2) }), group('qa-b'), {}, 'swap'],
    ['neither populated', group('qa-a'), group('qa-b'), {}, 'swap'],
  ];
  for (const [name, a, b, o, kind] of rows) t.is(decideAbHook(a, b, o).kind as string, kind, name);
});

test('Standby in the old color (issue 10 defect 9): not waited for by the drain, never counted as serving, said in the plan', (t) => {
  const standby = { ...inst('a9', 'serving', 1, 'qa-a'), lifecycleState: 'Standby', elb: {} };
  t.true(isStandby(standby));
  // The drain: a at desired 0 with only its Standby instance left is drained (AWS never scales Standby in).
  const drained = group('qa-a', { desired: 0, min: 0, instances: [standby] });
  t.is(decideDrain(drained).kind, 'done');
  t.is(decideDrain(drained, { elbChecked: true }).kind, 'done');
  const withDraining = group('qa-a', { desired: 0, min: 0, instances: [standby, inst('a1', 'terminating', 1, 'qa-a')] });
  t.is(decideDrain(withDraining).kind, 'wait', 'still waits for the instance that is draining');
  // The swap: b serving, a drained but for its Standby instance → done, not a drain timeout.
  const to = group('qa-b', { desired: 2, min: 2, instances: many('b', 2) });
  t.is(decideSwap({ from: drained, to }, { count: 2, step: 2, elbNames: ['qa-b'], targetMin: 2 }, { ...progress, drainStartedAt: 0, drainTimeoutMs: 1000 }, 5000).kind, 'done');
  // The plan names it and does not count it as replaced.
  const from = group('qa-a', { desired: 2, min: 2, instances: [...many('a', 2, 'serving', 1, 'qa-a'), standby] });
  const plan = planSwap(from, group('qa-b', { elbs: ['qa-b'] }), { ...base, instanceCount: 2 });
  t.is(plan.kind, 'swap');
  if (plan.kind === 'swap') {
    t.false(plan.replacing.includes('a9'));
    t.regex(plan.summary, /a9 in Standby in qa-a: not the tool's, left as they are and not waited for/);
  }
});

test('decideSwap: hold AZRebalance/alarms/scheduled actions on both colors before growing', (t) => {
  const suspend = ['AZRebalance', 'AlarmNotification', 'ScheduledActions'];
  const from = group('qa-a', { desired: 8, min: 8, instances: many('a', 8, 'serving', 1, 'qa-a') });
  const to = group('qa-b', { desired: 0 });
  t.deepEqual(shape(decideSwap({ from, to }, { ...swapPlan, suspend }, progress, 0)), { kind: 'suspend', group: 'qa-b', processes: suspend });
  const toHeld = { ...to, suspendedProcesses: suspend };
  t.deepEqual(shape(decideSwap({ from, to: toHeld }, { ...swapPlan, suspend }, progress, 0)), { kind: 'suspend', group: 'qa-a', processes: suspend });
  const fromHeld = { ...from, suspendedProcesses: ['AZRebalance', ...suspend.slice(1)] };
  t.deepEqual(shape(decideSwap({ from: fromHeld, to: toHeld }, { ...swapPlan, suspend }, progress, 0)), { kind: 'setDesired', group: 'qa-b', desired: 8 });
  // Once the drain began nothing is suspended any more (the swap is committed).
  const draining = group('qa-a', { desired: 0, min: 0, instances: many('a', 1, 'terminating') });
  t.is(decideSwap({ from: draining, to }, { ...swapPlan, suspend }, progress, 0).kind, 'wait');
});

test('decideDrain: a drain that does not finish in time aborts (the drain itself continues)', (t) => {
  const g = group('qa-a', { desired: 0, min: 0, instances: many('a', 2, 'terminating') });
  t.is(decideDrain(g, { drainStartedAt: 0, drainTimeoutMs: 900_000 }, 899_000).kind, 'wait');
  const a = decideDrain(g, { drainStartedAt: 0, drainTimeoutMs: 900_000 }, 900_000);
  t.is(a.kind, 'abort');
  if (a.kind === 'abort') t.is(a.code, 'ab.drain-timeout');
});

test('planAb: a swap record left by an interrupted run is resumed, not refused or reversed', (t) => {
  const record = (o: Record<string, unknown>) => ({ [SWAP_TAG]: JSON.stringify({ v: 1, mode: 'swap', from: 'qa-a', to: 'qa-b', count: 6, step: 2, runId: 'r1', since: 0, ...o }) });
  const a = group('qa-a', { desired: 8, min: 8, instances: many('a', 8, 'serving', 1, 'qa-a') });
  const bHalf = { ...group('qa-b', { desired: 2, instances: many('b', 2) }), tags: record({}) };
  // Crash mid-growth: both populated, but the record says which way the swap goes.
  const mid = planAb({ a, b: bHalf, names }, base);
  t.like(mid, { kind: 'swap', from: 'qa-a', to: 'qa-b', count: 6, step: 2 });
  t.truthy((mid as { resumed?: unknown }).resumed);
  // Crash mid-drain: a is draining (not populated), b serves: without the record this would swap back.
  const aDraining = { ...group('qa-a', { desired: 0, min: 0, instances: many('a', 3, 'terminating', 1, 'qa-a') }), tags: record({}) };
  const bFull = { ...group('qa-b', { desired: 6, min: 6, instances: many('b', 6) }), tags: record({}) };
  const late = planAb({ a: aDraining, b: bFull, names }, base);
  t.like(late, { kind: 'swap', from: 'qa-a', to: 'qa-b' });
  t.regex((late as { summary: string }).summary, /waiting for qa-a to finish draining/);
  // --zero while a swap is unfinished: refused, nothing changed.
  t.like(planAb({ a, b: bHalf, names }, { ...base, zero: true }), { kind: 'refuse', exit: 3, code: 'swap-in-progress' });
  // An unreadable tag is not a swap in progress.
  t.like(planAb({ a, b: { ...bHalf, tags: { [SWAP_TAG]: 'garbage' } }, names }, base), { kind: 'refuse', code: 'both-populated' });
});

test('planAb --single-asg: an interrupted refresh resumes in the half it was in', (t) => {
  const rec = (phase: string) => ({ [SWAP_TAG]: JSON.stringify({ v: 1, mode: 'refresh', to: 'qa', count: 3, step: 3, runId: 'r', since: 0, phase }) });
  const drained = { ...group('qa', { desired: 0, min: 0 }), tags: rec('drain') };
  t.like(planAb({ a: drained, names: { a: 'qa', b: 'qa' } }, { ...base, singleAsg: true }), { kind: 'refresh', phase: 'grow', count: 3 });
  const draining = { ...group('qa', { desired: 0, min: 0, instances: many('q', 2, 'terminating', 2, 'qa') }), tags: rec('drain') };
  t.like(planAb({ a: draining, names: { a: 'qa', b: 'qa' } }, { ...base, singleAsg: true }), { kind: 'refresh', phase: 'drain' });
  const growing = { ...group('qa', { desired: 3, instances: many('q', 1, 'booting', 2, 'qa') }), tags: rec('grow') };
  t.like(planAb({ a: growing, names: { a: 'qa', b: 'qa' } }, { ...base, singleAsg: true }), { kind: 'refresh', phase: 'grow' });
});

test('planSwap: a suspended Launch (new color) or Terminate (old color) is refused up front', (t) => {
  const a = group('qa-a', { desired: 8, instances: many('a', 8, 'serving', 1, 'qa-a') });
  t.like(planAb({ a, b: { ...group('qa-b'), suspendedProcesses: ['Launch'] }, names }, base), { kind: 'refuse', exit: 3, code: 'process-suspended' });
  t.like(planAb({ a: { ...a, suspendedProcesses: ['Terminate'] }, b: group('qa-b'), names }, base), { kind: 'refuse', exit: 3, code: 'process-suspended' });
});

test('planSwap: an old color with scale-in-protected instances could never drain: refused up front', (t) => {
  const a = group('qa-a', { desired: 2, instances: many('a', 2, 'serving', 1, 'qa-a').map((i, k) => ({ ...i, protectedFromScaleIn: k === 0 })) });
  const r = planAb({ a, b: group('qa-b'), names }, base);
  t.like(r, { kind: 'refuse', exit: 3, code: 'scale-in-protected' });
  t.regex((r as { message: string }).message, /a1 protected from scale-in/);
});

// Issue 11 ("ab doubles a fleet by default"): the plan says when the new color's count is not the active color's.
for (const [label, active, options, says] of [
  ['--instance-count 8 over 4', 4, { instanceCount: 8 }, /bringing up 8 \(the active color runs 4\)/],
  ['--instance-count 2 over 4', 4, { instanceCount: 2 }, /bringing up 2 \(the active color runs 4: capacity drops after the swap\)/],
  ['--instance-count 4 over 4', 4, { instanceCount: 4 }, undefined],
  ['--instance-count-match over 4', 4, { instanceCountMatch: true }, undefined],
] as const) {
  test(`planSwap: ${label}: ${says ? 'the plan names both counts' : 'nothing to say'}`, (t) => {
    const from = group('qa-a', { desired: active, min: active, instances: many('a', active, 'serving', 1, 'qa-a') });
    const plan = planSwap(from, group('qa-b', { elbs: ['qa-b'] }), { ...base, ...options });
    t.is(plan.kind, 'swap');
    if (plan.kind !== 'swap') return;
    if (says) t.regex(plan.summary, says);
    else t.notRegex(plan.summary, /bringing up|the active color runs/);
  });
}

test('decideSwap: committed (the drain began), someone puts an old-color instance back in service (desired 0 → 1): drained anew, never back to the growth or the traffic phase (chaos seed 1818288112 hung reading the weights)', (t) => {
  const putBack = group('qa-a', { desired: 1, min: 0, instances: [inst('a9', 'serving', 1, 'qa-a')] });
  const to = group('qa-b', { desired: 2, min: 2, instances: many('b', 2) });
  const traffic = { count: 2, step: 2, elbNames: [], targetMin: 2, targetGroupArns: ['tg-b'], traffic: { toTg: 'tg-b', fromTg: 'tg-a', steps: [100], stepWaitMs: 0, forwards: [] } } as unknown as Parameters<typeof decideSwap>[1];
  const a = decideSwap({ from: putBack, to }, traffic, { ...progress, drainStartedAt: 0, drainTimeoutMs: 600_000 }, 5000);
  t.deepEqual(shape(a), { kind: 'updateSizes', group: 'qa-a', desired: 0, min: 0 });
  t.regex((a as { reason: string }).reason, /again/);
  // Not committed yet: the same group is the old color being swapped from (traffic phase first).
  t.not(shape(decideSwap({ from: putBack, to }, traffic, progress, 5000)).kind, 'updateSizes');
});
