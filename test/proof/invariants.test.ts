import test from 'ava';
import { checkRun, type RunFacts, type ToolTermination, type ViolationCode } from '../../orchestrator/proof/invariants';

const T0 = Date.parse('2026-01-01T00:00:00Z');

const term = (over: Partial<ToolTermination> = {}): ToolTermination => ({
  instanceId: 'i-old1',
  group: 'qa-rabbit',
  time: T0 + 120_000,
  operation: 'TerminateInstanceInAutoScalingGroup',
  wasHealthy: true,
  wasUpToDate: false,
  planned: true,
  healthyAfter: 3,
  ...over,
});

/** A sound rolling run: 3 nodes, surge 1, minHealthy 3, all replaced, all restored. */
const sound = (): RunFacts => ({
  strategy: 'rolling',
  expect: 'done',
  dryRun: false,
  attempts: [{ kind: 'run', exit: 0, status: 'done' }],
  requiredHealthy: 3,
  observedMinHealthy: 3,
  excusedAtEnd: 0,
  healthyAtStart: 3,
  toolTerminations: [term({ instanceId: 'i-old1' }), term({ instanceId: 'i-old2' }), term({ instanceId: 'i-old3' })],
  plannedTerminations: 3,
  mutatingCalls: 12,
  leftovers: [],
  lockHeld: false,
  foreignLock: false,
  final: { allUpToDateAndHealthy: true, capacityAsConfigured: true, oldHealthyServing: 0, healthyServing: 3, detail: '3/3 up to date' },
});

test('a sound run has no violation', (t) => {
  t.deepEqual(checkRun(sound()), []);
});

// Each row breaks one rule; the checker must name it. (A checker that cannot fail is a defect.)
const broken: Array<{ name: string; code: ViolationCode; mutate: (f: RunFacts) => void }> = [
  { name: 'healthy count dipped below minHealthy', code: 'min-healthy', mutate: (f) => (f.observedMinHealthy = 2) },
  { name: 'a stale-reads halt with no throttling storm to explain it (done-or-halt allows exit 1, not this reason)', code: 'outcome', mutate: (f) => ((f.expect = 'done-or-halt'), (f.attempts = [{ kind: 'run', exit: 1, code: 'stale-reads', message: 'not terminated: for 303 s (79 looks) …' }])) },
  {
    name: 'with AWS losses excused over time, a tool termination below the floor',
    code: 'min-healthy',
    mutate: (f) => {
      f.observedMinHealthy = 3; // AWS's own losses are counted as serving over time...
      f.toolTerminations[1] = term({ instanceId: 'i-old2', healthyAfter: 2 }); // ...but this one is the tool's
    },
  },
  { name: 'a refused run that changed something besides the lock', code: 'refused-mutated', mutate: (f) => ((f.expect = 'refused'), (f.attempts = [{ kind: 'run', exit: 3 }]), (f.toolTerminations = []), (f.mutatingBesidesLock = 1), (f.mutatingBesidesLockOps = ['SetDesiredCapacity ×1'])) },
  { name: 'terminated a healthy up-to-date instance', code: 'terminated-healthy-up-to-date', mutate: (f) => f.toolTerminations.push(term({ instanceId: 'i-new9', wasUpToDate: true, planned: false })) },
  {
    name: 'a "surplus pick" with decrement while an outdated instance was left to take instead',
    code: 'terminated-healthy-up-to-date',
    mutate: (f) => f.toolTerminations.push(term({ instanceId: 'i-new9', wasUpToDate: true, planned: false, surplusPick: { liveAfter: 3, outdatedLeft: 1, capacity: 3 } })),
  },
  {
    name: 'a "surplus pick" with decrement that left the group below its capacity (it was no surplus)',
    code: 'terminated-healthy-up-to-date',
    mutate: (f) => f.toolTerminations.push(term({ instanceId: 'i-new9', wasUpToDate: true, planned: false, surplusPick: { liveAfter: 2, outdatedLeft: 0, capacity: 3 } })),
  },
  { name: 'terminated more than planned', code: 'terminated-more-than-planned', mutate: (f) => (f.plannedTerminations = 2) },
  { name: 'terminated a healthy instance outside the plan', code: 'terminated-more-than-planned', mutate: (f) => f.toolTerminations.push(term({ instanceId: 'i-x', wasUpToDate: false, planned: false })) },
  { name: 'left AZRebalance suspended', code: 'leftover', mutate: (f) => f.leftovers.push({ group: 'qa-rabbit', what: 'suspended', detail: 'AZRebalance' }) },
  { name: 'left max raised', code: 'leftover', mutate: (f) => f.leftovers.push({ group: 'qa-rabbit', what: 'max', detail: '3 → 4' }) },
  { name: 'lock still held', code: 'lock-held', mutate: (f) => (f.lockHeld = true) },
  { name: "removed someone else's lock", code: 'lock-held', mutate: (f) => ((f.foreignLock = true), (f.expect = 'refused'), (f.attempts = [{ kind: 'run', exit: 3 }]), (f.toolTerminations = [])) },
  { name: 'dry run mutated', code: 'dry-run-mutated', mutate: (f) => ((f.dryRun = true), (f.expect = 'planned'), (f.toolTerminations = [])) },
  { name: 'bad image reported done', code: 'not-halted', mutate: (f) => ((f.expect = 'halt'), (f.final.allUpToDateAndHealthy = false)) },
  { name: 'done but instances not healthy', code: 'outcome', mutate: (f) => (f.final.allUpToDateAndHealthy = false) },
  { name: 'done but capacity changed', code: 'outcome', mutate: (f) => (f.final.capacityAsConfigured = false) },
  { name: 'clean scenario halted', code: 'outcome', mutate: (f) => (f.attempts = [{ kind: 'run', exit: 1, code: 'rollout.step-timeout' }]) },
  { name: 'refused but terminated', code: 'outcome', mutate: (f) => ((f.expect = 'refused'), (f.attempts = [{ kind: 'run', exit: 3 }])) },
  {
    name: 'halted with old instances gone',
    code: 'old-not-serving',
    mutate: (f) => ((f.expect = 'halt'), (f.attempts = [{ kind: 'run', exit: 1 }]), (f.final.healthyServing = 1)),
  },
  { name: 're-run after a crash did not finish', code: 'rerun-not-finished', mutate: (f) => (f.attempts = [{ kind: 'crash' }, { kind: 'rerun', exit: 1, code: 'x' }]) },
  { name: 'no attempt completed', code: 'rerun-not-finished', mutate: (f) => (f.attempts = [{ kind: 'crash' }]) },
  { name: 'SIGINT exited 2', code: 'interrupt-exit', mutate: (f) => (f.attempts = [{ kind: 'sigint', exit: 2 }, { kind: 'rerun', exit: 0 }]) },
  { name: 'hung', code: 'hung', mutate: (f) => (f.hung = 'still running after 12 simulated hours') },
];

for (const b of broken) {
  test(`checkRun reports: ${b.name}`, (t) => {
    const f = sound();
    b.mutate(f);
    const codes = checkRun(f).map((v) => v.code);
    t.true(codes.includes(b.code), `expected ${b.code}, got [${codes.join(', ')}]`);
  });
}

test('invariant 1 is judged over time whatever the faults: the count (AWS losses excused) below the floor is a violation, at the floor is not', (t) => {
  const f = sound();
  f.observedMinHealthy = 2;
  t.deepEqual(checkRun(f).map((v) => v.code), ['min-healthy']);
  f.observedMinHealthy = 3;
  t.deepEqual(checkRun(f), []);
});

test('a halt is judged with AWS’s unreplaced losses counted as serving, and no more', (t) => {
  const f = sound();
  f.expect = 'done-or-halt';
  f.attempts = [{ kind: 'run', exit: 1, code: 'rollout.unhealthy' }];
  f.toolTerminations = [];
  f.final = { allUpToDateAndHealthy: false, capacityAsConfigured: true, oldHealthyServing: 2, healthyServing: 2, detail: 'AWS took one' };
  f.excusedAtEnd = 1;
  t.deepEqual(checkRun(f), []);
  f.excusedAtEnd = 0;
  t.deepEqual(checkRun(f).map((v) => v.code), ['old-not-serving']);
});

test('a refused run: the lock’s own calls are allowed, nothing else', (t) => {
  const f = sound();
  f.expect = 'refused';
  f.attempts = [{ kind: 'run', exit: 3 }];
  f.toolTerminations = [];
  f.mutatingCalls = 3; // lock taken, renewed, released
  f.mutatingBesidesLock = 0;
  t.deepEqual(checkRun(f), []);
});

test('SIGINT then a re-run that finishes is sound', (t) => {
  const f = sound();
  f.attempts = [{ kind: 'sigint', exit: 130, code: 'interrupted' }, { kind: 'rerun', exit: 0, status: 'done' }];
  t.deepEqual(checkRun(f), []);
});

test('a halt with the old instances serving is sound when a halt is expected', (t) => {
  const f = sound();
  f.expect = 'halt';
  f.attempts = [{ kind: 'run', exit: 1, code: 'rollout.unhealthy' }];
  f.toolTerminations = [];
  f.final = { allUpToDateAndHealthy: false, capacityAsConfigured: true, oldHealthyServing: 3, healthyServing: 3, detail: 'new instance never healthy' };
  t.deepEqual(checkRun(f), []);
});

test('an unexpected exception is reported even when the exit code would pass', (t) => {
  const f = sound();
  f.expect = 'done-or-halt';
  f.attempts = [{ kind: 'run', exit: 1, code: 'internal', message: 'TypeError: x is undefined' }];
  t.true(checkRun(f).some((v) => v.code === 'internal-error'));
});

test('A/B: once the new color is healthy the floor is its size, not the old color size', (t) => {
  const f = sound();
  f.strategy = 'ab';
  f.requiredHealthy = 42;
  f.healthyAtStart = 42;
  f.observedMinHealthy = 42;
  f.plannedTerminations = 42;
  f.toolTerminations = [term({ instanceId: 'i-old', healthyAfter: 16, floor: 16 })];
  t.deepEqual(checkRun(f), []);
  f.toolTerminations = [term({ instanceId: 'i-old', healthyAfter: 16 })]; // before the new color was healthy
  t.true(checkRun(f).some((v) => v.code === 'min-healthy'));
});

test('A/B scale-back before the new color serves: judged against the floor minus AWS’s unreplaced spontaneous losses, and no further', (t) => {
  // 27 old instances serving; AWS took 2 spontaneously (replacements still booting); SIGINT scales
  // the new color back, leaving the 25 old ones: not the tool's doing.
  const scaleBack = (healthyAfter: number, awsShortfall: number | undefined) => {
    const f = sound();
    f.strategy = 'ab';
    f.requiredHealthy = 27;
    f.healthyAtStart = 27;
    f.observedMinHealthy = 27; // over time: 25 serving + AWS's 2 unreplaced losses excused
    f.plannedTerminations = 27;
    f.attempts = [{ kind: 'sigint', exit: 130, code: 'interrupted' }, { kind: 'rerun', exit: 0, status: 'done' }];
    f.toolTerminations = [term({ instanceId: 'i-new1', group: 'env-b', operation: 'UpdateAutoScalingGroup', wasUpToDate: true, planned: true, healthyAfter, awsShortfall })];
    return checkRun(f).map((v) => v.code);
  };
  t.deepEqual(scaleBack(25, 2), []);
  t.deepEqual(scaleBack(24, 2), ['min-healthy'], 'one below what AWS took is the tool’s');
  t.deepEqual(scaleBack(25, undefined), ['min-healthy'], 'no allowance unless the harness grants it');
});

/** A/B on target groups (issue 14): the traffic invariants, one row per way to break them. */
const TRAFFIC_SOUND = () => ({
  changes: [
    { time: T0 + 60_000, groups: [{ tg: 'qa-a', before: 100, after: 50, healthy: 3, required: 1 }, { tg: 'qa-b', before: 0, after: 50, healthy: 3, required: 3 }] },
    { time: T0 + 180_000, groups: [{ tg: 'qa-a', before: 50, after: 0, healthy: 3, required: 1 }, { tg: 'qa-b', before: 50, after: 100, healthy: 3, required: 3 }] },
  ],
  scaleInsUnderWeight: [] as Array<{ group: string; time: number; weight: number; desired: { from: number; to: number } }>,
  atExit: [{ after: 'tool-1 exit 0', time: T0 + 600_000, groups: [{ tg: 'qa-a', weight: 0, healthy: 0 }, { tg: 'qa-b', weight: 100, healthy: 3 }] }],
  exogenous: false,
});

test('traffic invariants: a sound weighted swap has no violation', (t) => {
  t.deepEqual(checkRun({ ...sound(), traffic: TRAFFIC_SOUND() }), []);
});

const trafficBroken: Array<{ name: string; code: ViolationCode; mutate: (f: ReturnType<typeof TRAFFIC_SOUND>) => void }> = [
  { name: 'weight given to the new color with 2 of the 3 healthy targets the plan requires', code: 'weight-to-unhealthy', mutate: (f) => (f.changes[0].groups[1].healthy = 2) },
  { name: 'a switch-back to an old color with no healthy target', code: 'weight-to-unhealthy', mutate: (f) => f.changes.push({ time: T0 + 200_000, groups: [{ tg: 'qa-a', before: 0, after: 100, healthy: 0, required: 1 }, { tg: 'qa-b', before: 100, after: 0, healthy: 3, required: 3 }] }) },
  { name: 'the old color scaled in while it carried weight', code: 'scaled-in-under-weight', mutate: (f) => f.scaleInsUnderWeight.push({ group: 'qa-a', time: T0 + 100_000, weight: 50, desired: { from: 3, to: 0 } }) },
  { name: 'after the exit, weight on a target group with no healthy target while the other has some', code: 'weights-at-exit', mutate: (f) => (f.atExit[0].groups = [{ tg: 'qa-a', weight: 100, healthy: 3 }, { tg: 'qa-b', weight: 10, healthy: 0 }]) },
];
for (const b of trafficBroken) {
  test(`checkRun reports (traffic): ${b.name}`, (t) => {
    const traffic = TRAFFIC_SOUND();
    b.mutate(traffic);
    const codes = checkRun({ ...sound(), traffic }).map((v) => v.code);
    t.true(codes.includes(b.code), `expected ${b.code}, got [${codes.join(', ')}]`);
  });
}

test('traffic invariants: nothing healthy anywhere at the exit (a failed first deploy) is not a weights violation; exogenous losses excuse one target short', (t) => {
  const traffic = TRAFFIC_SOUND();
  traffic.atExit[0].groups = [{ tg: 'qa-a', weight: 100, healthy: 0 }, { tg: 'qa-b', weight: 0, healthy: 0 }];
  t.deepEqual(checkRun({ ...sound(), traffic }), []);
  const lossy = { ...TRAFFIC_SOUND(), exogenous: true };
  lossy.changes[0].groups[1].healthy = 2;
  t.deepEqual(checkRun({ ...sound(), traffic: lossy }), []);
  lossy.changes[0].groups[1].healthy = 1;
  t.deepEqual(checkRun({ ...sound(), traffic: lossy }).map((v) => v.code), ['weight-to-unhealthy']);
});

test('invariant 2 refined (issue 10): at back to capacity, a surplus healthy up-to-date instance the tool named and terminated with decrement, nothing outdated left, capacity kept — sound', (t) => {
  const f = sound();
  f.toolTerminations.push(term({ instanceId: 'i-new4', wasUpToDate: true, planned: false, surplusPick: { liveAfter: 3, outdatedLeft: 0, capacity: 3 } }));
  t.deepEqual(checkRun(f), []);
  // The same instance taken by a scale-in (desired lowered, AWS's termination policy chose): no surplusPick, a violation.
  const g = sound();
  g.toolTerminations.push(term({ instanceId: 'i-new4', operation: 'SetDesiredCapacity', wasUpToDate: true, planned: false }));
  t.deepEqual(checkRun(g).map((v) => v.code), ['terminated-healthy-up-to-date']);
});

test('invariant 1 at a termination AWS carried out after the tool\'s call: capacity AWS itself took in between counts as still serving, and no more (chaos seed 326880920)', (t) => {
  // The drain of the old color, called with the new color 3/3 serving; AWS's scale-in came seconds
  // later, after the new version's application had failed on one instance (its own fail time).
  const f = sound();
  f.toolTerminations = [term({ instanceId: 'i-old1', operation: 'UpdateAutoScalingGroup', healthyAfter: 2, lostSinceCall: 1 })];
  t.deepEqual(checkRun(f), []);
  const g = sound();
  g.toolTerminations = [term({ instanceId: 'i-old1', operation: 'UpdateAutoScalingGroup', healthyAfter: 1, lostSinceCall: 1 })];
  t.deepEqual(checkRun(g).map((v) => v.code), ['min-healthy'], 'one below the floor even with AWS\'s loss counted');
});

/**
 * A stand-in share (docs/commands/ab.md): a swap given up (the new color scaled back below the
 * plan's count) while the old color is short keeps k of the new color's serving instances with
 * k / (k + f) of the traffic. Chaos seed 4252552436 (of 140432538): 20 % onto b's 2 healthy
 * targets beside 80 % on a's 4 — sound; the plan's 49 does not apply to it.
 */
const standInChange = (b: { after: number; healthy: number; desired: number }) => ({
  changes: [
    {
      time: T0 + 60_000,
      groups: [
        { tg: 'qa-a', before: 100, after: 100 - b.after, healthy: 4, required: 1, desired: 5 },
        { tg: 'qa-b', before: 0, after: b.after, healthy: b.healthy, required: 49, desired: b.desired },
      ],
    },
  ],
  scaleInsUnderWeight: [] as Array<{ group: string; time: number; weight: number; desired: { from: number; to: number } }>,
  atExit: [] as Array<{ after: string; time: number; groups: Array<{ tg: string; weight: number; healthy: number }> }>,
  exogenous: false,
});
const standInRows: Array<{ name: string; b: { after: number; healthy: number; desired: number }; violation: boolean }> = [
  { name: '20 % onto 2 healthy stand-ins beside 80 % on 4 (seed 4252552436)', b: { after: 20, healthy: 2, desired: 2 }, violation: false },
  { name: '20 % onto 1 healthy stand-in beside 80 % on 4: one stand-in, its share', b: { after: 20, healthy: 1, desired: 1 }, violation: false },
  { name: '20 % onto a scaled-back color with no healthy target (a stale look)', b: { after: 20, healthy: 0, desired: 2 }, violation: true },
  { name: '50 % onto 1 healthy target beside 50 % on 4: stands for 4 stand-ins', b: { after: 50, healthy: 1, desired: 2 }, violation: true },
  { name: 'all the traffic onto 2 healthy targets: not a share, the plan’s 49 apply', b: { after: 100, healthy: 2, desired: 2 }, violation: true },
  { name: 'the swap’s own shift (color at the plan’s size) onto 2 of 49 healthy', b: { after: 20, healthy: 2, desired: 49 }, violation: true },
];
for (const row of standInRows) {
  test(`traffic invariants, stand-in share: ${row.name} → ${row.violation ? 'weight-to-unhealthy' : 'sound'}`, (t) => {
    const codes = checkRun({ ...sound(), traffic: standInChange(row.b) }).map((v) => v.code);
    t.deepEqual(codes, row.violation ? ['weight-to-unhealthy'] : []);
  });
}

test('a stale-reads halt is allowed when a throttling storm was drawn', (t) => {
  const f = sound();
  f.expect = 'done-or-halt';
  f.attempts = [{ kind: 'run', exit: 1, code: 'stale-reads' }];
  f.staleReadsExcused = true;
  f.final = { ...f.final, allUpToDateAndHealthy: false, oldHealthyServing: 3 };
  t.deepEqual(checkRun(f).filter((v) => /stale/.test(v.message)), []);
});
