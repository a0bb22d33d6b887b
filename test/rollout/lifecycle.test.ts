/** The pure decisions of rolling/lifecycle.ts (lifecycle hooks and warm pools), one row per situation. */
import test from 'ava';
import type { GroupSnapshot, InstanceView, LifecycleHookView, WarmPoolView } from '../../orchestrator/aws/port';
import {
  abandonedWhy,
  decideLifecycleEnd,
  decideWarmPool,
  hookState,
  lifecycleDoneNote,
  poolUnsettled,
  upToDateWarm,
  warmPoolSize,
  type LifecycleFacts,
} from '../../orchestrator/rollout/rolling/lifecycle';

const NEW = { launchTemplate: { id: 'lt-1', version: 2 } };
const OLD = { launchTemplate: { id: 'lt-1', version: 1 } };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const BOOT: LifecycleHookView = { name: 'boot', transition: 'launch', heartbeatTimeout: 300, defaultResult: 'ABANDON' };
const DRAIN: LifecycleHookView = { name: 'drain', transition: 'terminate', heartbeatTimeout: 120, defaultResult: 'CONTINUE' };

function inst(id: string, lifecycleState: string, launchedFrom = NEW): InstanceView {
  return { instanceId: id, availabilityZone: 'a', lifecycleState, healthStatus: 'Healthy', protectedFromScaleIn: false, launchedFrom, elb: {} };
}

function group(instances: InstanceView[], over: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return {
    name: 'web', observedAt: T0, desired: 2, min: 0, max: 4, launch: NEW, mixedInstancesPolicy: false, healthCheckType: 'EC2', healthCheckGracePeriod: 0,
    availabilityZones: ['a'], suspendedProcesses: [], loadBalancerNames: [], targetGroupARNs: [], tags: {}, instances, ...over,
  };
}

function pool(states: Array<[string, string, 'old' | 'new']>, over: Partial<WarmPoolView> = {}): WarmPoolView {
  return { poolState: 'Stopped', minSize: 0, reuseOnScaleIn: false, instances: states.map(([id, s, v]) => ({ instanceId: id, availabilityZone: 'a', lifecycleState: s, launchedFrom: v === 'old' ? OLD : NEW })), ...over };
}

function facts(over: Partial<LifecycleFacts> = {}): LifecycleFacts {
  return { warmTerminated: new Set(), hookWaitSince: {}, hookWaited: {}, ...over };
}

test('hookState names the hook waited on, or only the state when no hook is known', (t) => {
  t.is(hookState('Pending:Wait', [BOOT, DRAIN]), 'Pending:Wait (launch lifecycle hook boot: heartbeat timeout 300 s, default result ABANDON)');
  t.is(hookState('Terminating:Wait', [BOOT, DRAIN]), 'Terminating:Wait (termination lifecycle hook drain: heartbeat timeout 120 s, default result CONTINUE)');
  t.is(hookState('Pending:Wait', undefined), 'Pending:Wait');
});

test('abandonedWhy: ABANDON completed, or the default result at the heartbeat timeout when that is ABANDON', (t) => {
  t.is(abandonedWhy([BOOT]), 'launch lifecycle hook boot ended ABANDON (completed ABANDON, or no answer within its 300 s heartbeat timeout: default result ABANDON)');
  t.is(abandonedWhy([{ ...BOOT, defaultResult: 'CONTINUE' }]), 'launch lifecycle hook boot ended ABANDON (completed ABANDON)');
  t.is(abandonedWhy(undefined), 'launch lifecycle hook ended ABANDON: terminated before it went InService');
});

const warmRows: Array<[string, WarmPoolView | undefined, string[], string[] | undefined]> = [
  ['no pool', undefined, [], undefined],
  ['pool up to date', pool([['w1', 'Warmed:Stopped', 'new']]), [], undefined],
  ['one outdated stopped, one new', pool([['w1', 'Warmed:Stopped', 'old'], ['w2', 'Warmed:Stopped', 'new']]), [], ['w1']],
  ['outdated still pending into the pool, outdated running', pool([['w1', 'Warmed:Pending', 'old'], ['w2', 'Warmed:Running', 'old']]), [], ['w1', 'w2']],
  ['already terminated by this run', pool([['w1', 'Warmed:Terminating', 'old'], ['w2', 'Warmed:Stopped', 'old']]), ['w2'], undefined],
];
for (const [name, p, done, expected] of warmRows) {
  test(`decideWarmPool: ${name}`, (t) => {
    const a = decideWarmPool(group([]), facts({ pool: p, warmTerminated: new Set(done) }));
    if (!expected) return t.is(a, undefined);
    t.is(a?.kind, 'terminate');
    if (a?.kind !== 'terminate') return;
    t.deepEqual(a.instanceIds, expected);
    t.false(a.decrement);
    t.true(a.warmPool);
  });
}

test('warmPoolSize: max(MinSize, (MaxGroupPreparedCapacity or max) − desired)', (t) => {
  t.is(warmPoolSize({ desired: 4, max: 8 }, { minSize: 0 }), 4);
  t.is(warmPoolSize({ desired: 4, max: 8 }, { minSize: 0, maxPrepared: 5 }), 1);
  t.is(warmPoolSize({ desired: 4, max: 8 }, { minSize: 3, maxPrepared: 5 }), 3);
  t.is(warmPoolSize({ desired: 9, max: 8 }, { minSize: 0 }), 0);
});

test('poolUnsettled: back at its size, every instance up to date in the pool state — or what is missing', (t) => {
  const g = group([], { desired: 2, max: 4 });
  t.is(poolUnsettled(g, pool([['n1', 'Warmed:Stopped', 'new'], ['n2', 'Warmed:Stopped', 'new']])), undefined);
  t.is(poolUnsettled(g, pool([['n1', 'Warmed:Stopped', 'new'], ['n2', 'Warmed:Pending', 'new']])), '1 of 2 Warmed:Stopped (n2 Warmed:Pending)');
  t.is(poolUnsettled(g, pool([['n1', 'Warmed:Stopped', 'new'], ['n2', 'Warmed:Stopped', 'new'], ['o1', 'Warmed:Terminating', 'old']])), '2 of 2 Warmed:Stopped (o1 Warmed:Terminating)');
  t.is(poolUnsettled(g, pool([['n1', 'Warmed:Running', 'new'], ['n2', 'Warmed:Running', 'new']], { poolState: 'Running' })), undefined);
});

const endRows: Array<{ name: string; instances: InstanceView[]; f: Partial<LifecycleFacts>; now: number; expect: RegExp | 'terminate' | undefined }> = [
  { name: 'nothing held, no pool: done', instances: [inst('n1', 'InService')], f: {}, now: T0, expect: undefined },
  { name: 'our termination in Terminating:Wait for 30 s of 120: wait', instances: [inst('o1', 'Terminating:Wait', OLD)], f: { hooks: [DRAIN], hookWaitSince: { o1: T0 - 30_000 } }, now: T0, expect: /waiting for o1 \(Terminating:Wait \(termination lifecycle hook drain.*30 s so far, at most 120 s/ },
  { name: 'past the heartbeat timeout: not waited for further', instances: [inst('o1', 'Terminating:Wait', OLD)], f: { hooks: [DRAIN], hookWaitSince: { o1: T0 - 121_000 } }, now: T0, expect: undefined },
  { name: 'someone else\'s instance in Terminating:Wait: not ours to wait for', instances: [inst('x1', 'Terminating:Wait')], f: { hooks: [DRAIN] }, now: T0, expect: undefined },
  { name: 'Terminating:Proceed: the hook is over', instances: [inst('o1', 'Terminating:Proceed', OLD)], f: { hooks: [DRAIN], hookWaitSince: { o1: T0 - 10_000 } }, now: T0, expect: undefined },
  { name: 'warm pool: an outdated warmed instance appeared: terminate', instances: [], f: { pool: pool([['w9', 'Warmed:Stopped', 'old']]) }, now: T0, expect: 'terminate' },
  { name: 'warm pool refilling within the step timeout: wait', instances: [], f: { pool: pool([['n1', 'Warmed:Pending', 'new']]), poolWaitSince: T0 - 60_000 }, now: T0, expect: /warm pool refilling: 0 of 2 Warmed:Stopped/ },
  { name: 'warm pool still refilling past the step timeout: done (the summary says so)', instances: [], f: { pool: pool([['n1', 'Warmed:Pending', 'new']]), poolWaitSince: T0 - 601_000 }, now: T0, expect: undefined },
];
for (const row of endRows) {
  test(`decideLifecycleEnd: ${row.name}`, (t) => {
    const a = decideLifecycleEnd(group(row.instances), new Set(['o1']), facts(row.f), row.now, 600_000);
    if (row.expect === undefined) return t.is(a, undefined);
    if (row.expect === 'terminate') return t.is(a?.kind, 'terminate');
    t.is(a?.kind, 'wait');
    t.regex(a?.kind === 'wait' ? a.reason : '', row.expect);
  });
}

test('decideLifecycleEnd: the wait for the warm pool alone says so (the next look may read the pool alone) and looks when the runner\'s schedule says, else in 10 s', (t) => {
  const f = { pool: pool([['n1', 'Warmed:Pending', 'new']]), poolWaitSince: T0 - 60_000 };
  const a = decideLifecycleEnd(group([]), new Set(), facts({ ...f, poolLookInMs: 47_250 }), T0, 600_000);
  t.like(a, { kind: 'wait', awaiting: 'warm-pool', waitMs: 47_250 });
  t.like(decideLifecycleEnd(group([]), new Set(), facts(f), T0, 600_000), { kind: 'wait', awaiting: 'warm-pool', waitMs: 10_000 });
  // A termination hook's wait is not the pool's: the whole look follows it.
  const held = decideLifecycleEnd(group([inst('o1', 'Terminating:Wait', OLD)]), new Set(['o1']), facts({ ...f, hooks: [DRAIN], hookWaitSince: { o1: T0 - 30_000 }, poolLookInMs: 47_250 }), T0, 600_000);
  t.is(held?.kind, 'wait');
  t.is(held?.kind === 'wait' ? held.awaiting : 'x', undefined);
});

test('lifecycleDoneNote: the waits and the warm pool in the summary', (t) => {
  const g = group([inst('o2', 'Terminating:Wait', OLD)], { desired: 2, max: 4 });
  const note = lifecycleDoneNote(g, new Set(['o1', 'o2']), facts({ hooks: [DRAIN], hookWaited: { o1: 95_000 }, hookWaitSince: { o2: T0 - 130_000 }, pool: pool([['n1', 'Warmed:Stopped', 'new'], ['n2', 'Warmed:Stopped', 'new']]), warmTerminated: new Set(['w1', 'w2']) }), T0);
  t.is(note, "; termination lifecycle hooks: waited 95 s for o1; o2 still in Terminating:Wait after 130 s (past its hook's heartbeat timeout: not waited for further; AWS ends it with the default result); warm pool: 2 outdated warmed instance(s) replaced, back at 2 Warmed:Stopped");
  t.is(lifecycleDoneNote(group([]), new Set(), facts(), T0), '');
});

test('upToDateWarm: the pool\'s instances of the group\'s launch spec a scale-out may draw on, ready or still warming, not leaving', (t) => {
  const rows: Array<[string, WarmPoolView | undefined, number]> = [
    ['no pool', undefined, 0],
    ['ready and warming count; outdated and leaving do not', pool([['n1', 'Warmed:Stopped', 'new'], ['n2', 'Warmed:Pending', 'new'], ['o1', 'Warmed:Stopped', 'old'], ['n3', 'Warmed:Terminating', 'new']]), 2],
    ['all outdated (the start of a rollout)', pool([['o1', 'Warmed:Stopped', 'old'], ['o2', 'Warmed:Running', 'old']]), 0],
    ['a Running pool', pool([['n1', 'Warmed:Running', 'new']], { poolState: 'Running' }), 1],
  ];
  for (const [name, p, want] of rows) t.is(upToDateWarm(p, group([])), want, name);
});
