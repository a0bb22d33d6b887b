import test from 'ava';
import { Prng, seedOf } from '../../orchestrator/proof/prng';
import { expectationOf, generateScenario, hasExogenousLoss, imageFaultsOf, reproduceCommand } from '../../orchestrator/proof/scenario';

test('the same seed gives the same scenario', (t) => {
  t.deepEqual(generateScenario(12345), generateScenario(12345));
  t.notDeepEqual(generateScenario(1), generateScenario(2));
});

test('--strategy forces the strategy without changing the rest of the draw', (t) => {
  for (let i = 0; i < 50; i++) {
    const free = generateScenario(seedOf(7, i));
    const forced = generateScenario(seedOf(7, i), free.strategy);
    t.deepEqual(forced, free);
    const other = generateScenario(seedOf(7, i), free.strategy === 'ab' ? 'rolling' : 'ab');
    t.deepEqual(other.faults, free.faults);
  }
});

test('seedOf: run 0 is the master seed, so the printed command replays the run', (t) => {
  t.is(seedOf(42, 0), 42);
  t.is(seedOf(42, 1), 2654435811);
  const s = generateScenario(seedOf(42, 17));
  t.is(reproduceCommand(s), `npm run chaos -- --runs 1 --seed ${seedOf(42, 17)} --strategy ${s.strategy}`);
});

test('500 scenarios cover sizes 1..50, both strategies, surge and no-surge, every fault and interruption', (t) => {
  const all = Array.from({ length: 500 }, (_, i) => generateScenario(seedOf(1, i)));
  const rolling = all.filter((s) => s.strategy === 'rolling');
  t.true(rolling.length > 150 && all.length - rolling.length > 150);
  t.true(rolling.every((s) => s.size >= 1 && s.size <= 50));
  t.true(all.some((s) => s.size === 1) && all.some((s) => s.size >= 45));
  t.true(rolling.some((s) => s.surge === 0) && rolling.some((s) => s.surge === 1) && rolling.some((s) => s.surge > 1));
  t.true(rolling.some((s) => s.batchSize > 1));
  const tags = new Set(all.flatMap((s) => s.tags));
  for (const tag of ['launch-configuration', 'bad-image', 'slow-boot', 'failing-boot:never-healthy', 'failing-boot:terminated', 'launch-failure', 'spontaneous-termination', 'az-rebalance', 'throttling', '5xx', 'crash+rerun', 'sigint+rerun', 'dry-run', 'small-pages', 'eventual-consistency']) {
    t.true(tags.has(tag), tag);
  }
  const expects = new Set(all.map((s) => s.expect));
  t.deepEqual([...expects].sort(), ['done', 'done-or-halt', 'halt', 'planned', 'refused']);
});

test('expectations: bad image halts, quorum-breaking no-surge is refused, dry run plans', (t) => {
  const base = generateScenario(3, 'rolling');
  const clean = { ...base, dryRun: false, surge: 1, batchSize: 1, minHealthy: undefined, faults: { ...base.faults, badImage: false, failAfterSeconds: undefined, bootFailureRate: 0, launchFailureRate: 0, spontaneousTerminationsPerHour: 0 } };
  t.is(expectationOf(clean), 'done');
  t.is(expectationOf({ ...clean, faults: { ...clean.faults, badImage: true } }), 'halt');
  t.is(expectationOf({ ...clean, faults: { ...clean.faults, launchFailureRate: 0.3 } }), 'done-or-halt');
  t.is(expectationOf({ ...clean, surge: 0, size: 3, minHealthy: 3 }), 'refused');
  t.is(expectationOf({ ...clean, surge: 0, size: 3, minHealthy: 2 }), 'done');
  t.is(expectationOf({ ...clean, dryRun: true }), 'planned');
  t.is(expectationOf({ ...clean, dryRun: true, surge: 0, size: 3, minHealthy: 3 }), 'refused');
  t.is(expectationOf({ ...clean, strategy: 'ab', abCase: 'swap', faults: { ...clean.faults, bootSeconds: { min: 60, max: 600 } } }), 'done-or-halt');
  t.is(expectationOf({ ...clean, strategy: 'ab', abCase: 'both-populated' }), 'refused');
});

test('Prng: int stays in range and is uniform enough', (t) => {
  const r = new Prng(9);
  const counts = [0, 0, 0, 0];
  for (let i = 0; i < 4000; i++) counts[r.int(0, 3)]++;
  t.true(counts.every((c) => c > 850 && c < 1150), String(counts));
});

test('issue 16 alarm faults: drawn last (earlier draws unchanged), applied to rolling runs and ab swaps alone; at the start refused, during done-or-halt', (t) => {
  const all = Array.from({ length: 500 }, (_, i) => generateScenario(seedOf(1, i)));
  const tags = new Set(all.flatMap((s) => s.tags));
  t.true(tags.has('alarm-trip') && tags.has('alarm-at-start'));
  for (const s of all.filter((x) => x.tags.includes('alarm-trip') || x.tags.includes('alarm-at-start'))) {
    t.false(s.dryRun);
    t.is(s.interruption.kind, 'none');
    t.true(s.strategy === 'rolling' || (s.abCase === 'swap' && s.via === 'ab'));
  }
  const base = generateScenario(3, 'rolling');
  const clean = { ...base, dryRun: false, interruption: { kind: 'none' as const }, surge: 1, batchSize: 1, minHealthy: undefined, faults: { ...base.faults, badImage: false, failAfterSeconds: undefined, bootFailureRate: 0, launchFailureRate: 0, spontaneousTerminationsPerHour: 0, alarmTripAfterSeconds: undefined } };
  t.is(expectationOf(clean), 'done');
  t.is(expectationOf({ ...clean, faults: { ...clean.faults, alarmTripAfterSeconds: -1 } }), 'refused');
  t.is(expectationOf({ ...clean, faults: { ...clean.faults, alarmTripAfterSeconds: 120 } }), 'done-or-halt');
  t.is(expectationOf({ ...clean, faults: { ...clean.faults, alarmTripAfterSeconds: 120, badImage: true } }), 'halt');
  t.is(expectationOf({ ...clean, dryRun: true, faults: { ...clean.faults, alarmTripAfterSeconds: -1 } }), 'planned', 'not applied to a dry run');
  t.is(expectationOf({ ...clean, interruption: { kind: 'sigint', afterSeconds: 60 }, faults: { ...clean.faults, alarmTripAfterSeconds: 120 } }), 'done', 'not applied with an interrupt');
});

test('issue 16 holds: drawn for a fifth of the runs, on rolling runs only, a canary within the group', (t) => {
  const all = Array.from({ length: 500 }, (_, i) => generateScenario(seedOf(1, i)));
  const held = all.filter((s) => s.holds);
  t.true(held.length > 20);
  for (const s of held) {
    t.is(s.strategy, 'rolling');
    if (s.holds!.canary !== undefined) t.true(s.holds!.canary >= 1 && s.holds!.canary <= s.size);
    const cps = s.holds!.checkpoints ?? [];
    for (let i = 1; i < cps.length; i++) t.true(cps[i] > cps[i - 1]);
  }
  const tags = new Set(all.flatMap((s) => s.tags));
  for (const tag of ['canary', 'checkpoints', 'bake']) t.true(tags.has(tag), tag);
});

test('issue 16 rollback: drawn last for about a third of the rolling runs (earlier draws unchanged), tagged', (t) => {
  const all = Array.from({ length: 500 }, (_, i) => generateScenario(seedOf(1, i)));
  const rolling = all.filter((s) => s.strategy === 'rolling');
  const back = rolling.filter((s) => s.rollback);
  t.true(back.length > rolling.length / 5 && back.length < rolling.length / 2, `${back.length} of ${rolling.length}`);
  t.false(all.some((s) => s.strategy === 'ab' && s.rollback), 'A/B runs draw their own --rollback in the harness');
  for (const s of back) t.true(s.tags.includes('rollback'));
});

test('Standby in A/B colors (issue 10 item 9): drawn on A/B swaps only (never a dry run, a rolling run or a refusal), both colors, with and without a put-back', (t) => {
  const drawn = Array.from({ length: 2000 }, (_, i) => generateScenario(seedOf(2027, i), 'ab')).filter((s) => s.abStandby);
  t.true(drawn.length > 50, `${drawn.length} of 2000 A/B scenarios`);
  t.true(drawn.every((s) => s.abCase === 'swap' && !s.dryRun && !s.cleanUpConfirm));
  t.true(drawn.some((s) => s.abStandby!.color === 'active') && drawn.some((s) => s.abStandby!.color === 'target'));
  t.true(drawn.some((s) => s.abStandby!.exitAfterSeconds !== undefined) && drawn.some((s) => s.abStandby!.exitAfterSeconds === undefined));
  t.true(drawn.every((s) => s.tags.some((x) => x.startsWith('standby-in-color:'))));
  t.false(Array.from({ length: 300 }, (_, i) => generateScenario(seedOf(2027, i), 'rolling')).some((s) => s.abStandby));
});

test('issue 14 rolling on target groups: drawn for about two in five rolling runs (never A/B), ALB and NLB, with and without the classic ELB, AWS defaults, slow registration; tagged', (t) => {
  const rolling = Array.from({ length: 1000 }, (_, i) => generateScenario(seedOf(14, i), 'rolling'));
  const drawn = rolling.filter((s) => s.rollingTargetGroup);
  t.true(drawn.length > 300 && drawn.length < 500, `${drawn.length} of 1000`);
  const cases = drawn.map((s) => s.rollingTargetGroup!);
  t.true(cases.some((c) => c.type === 'application') && cases.some((c) => c.type === 'network'));
  t.true(cases.some((c) => c.withElb) && cases.some((c) => !c.withElb));
  t.true(cases.some((c) => c.awsDefaults) && cases.some((c) => c.registrationSeconds) && cases.some((c) => c.unhealthyRate) && cases.some((c) => c.failAfterSeconds));
  t.deepEqual([...new Set(cases.map((c) => c.deregistrationDelay))].sort((a, b) => a - b), [0, 5, 30, 120, 300, 600]);
  for (const s of drawn) t.true(s.tags.some((x) => /^(alb|nlb)-tg/.test(x)), s.tags.join(','));
  t.false(Array.from({ length: 300 }, (_, i) => generateScenario(seedOf(14, i), 'ab')).some((s) => s.rollingTargetGroup));
});

test('issue 14 rolling on target groups: the target group\'s image faults replace the scenario\'s (targets that never pass) or add to them (fails after passing), and the expectation follows', (t) => {
  const base = generateScenario(seedOf(14, 0), 'rolling');
  const clean = { ...base, rollingTargetGroup: undefined, faults: { ...base.faults, badImage: false, failAfterSeconds: undefined, bootFailureRate: 0.2, bootFailureMode: 'terminated' as const } };
  const tg = { type: 'application' as const, withElb: false, awsDefaults: false, deregistrationDelay: 30 };
  const rows: Array<[string, Partial<typeof tg> & { unhealthyRate?: number; failAfterSeconds?: number } | undefined, number | undefined, ReturnType<typeof imageFaultsOf>]> = [
    ['no target group: the scenario\'s', undefined, undefined, { failAfterSeconds: undefined, bootFailureRate: 0.2, bootFailureMode: 'terminated' }],
    ['targets that never pass replace the failing boots', { unhealthyRate: 0.3 }, undefined, { failAfterSeconds: undefined, bootFailureRate: 0.3, bootFailureMode: 'never-healthy' }],
    ['fails after passing, where the scenario has none', { failAfterSeconds: 120 }, undefined, { failAfterSeconds: 120, bootFailureRate: 0.2, bootFailureMode: 'terminated' }],
    ['the scenario\'s fail-after wins', { failAfterSeconds: 120 }, 400, { failAfterSeconds: 400, bootFailureRate: 0.2, bootFailureMode: 'terminated' }],
  ];
  for (const [name, extra, scenarioFailAfter, expected] of rows) {
    const s = { ...clean, faults: { ...clean.faults, failAfterSeconds: scenarioFailAfter }, ...(extra ? { rollingTargetGroup: { ...tg, ...extra } } : {}) };
    t.deepEqual(imageFaultsOf(s), expected, name);
  }
  // Only rolling runs see them.
  t.is(imageFaultsOf({ ...clean, strategy: 'ab', rollingTargetGroup: { ...tg, unhealthyRate: 0.3 } }).bootFailureRate, 0.2);
  const fault = { ...clean, faults: { ...clean.faults, bootFailureRate: 0 }, holds: undefined, rollback: undefined, dryRun: false, interruption: { kind: 'none' as const } };
  t.is(expectationOf({ ...fault, rollingTargetGroup: { ...tg, failAfterSeconds: 90 } }), 'done-or-halt');
  t.true(hasExogenousLoss({ ...fault, rollingTargetGroup: { ...tg, failAfterSeconds: 90 } }));
});
