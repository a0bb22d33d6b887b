/**
 * The chaos suite's rolling classes of issue 10: the checker's new rules (pure, facts in) and the
 * new faults run through the harness with our real engine.
 */
import test from 'ava';
import { parseArgs } from '../../orchestrator/proof/chaos';
import { checkRun, type RunFacts } from '../../orchestrator/proof/invariants';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario, rollingFaultsOf, type Scenario } from '../../orchestrator/proof/scenario';
import { rollingScenario } from '../helpers/chaos-scenario';

const sound = (): RunFacts => ({
  strategy: 'rolling',
  expect: 'done',
  dryRun: false,
  attempts: [{ kind: 'run', exit: 0, status: 'done' }],
  requiredHealthy: 3,
  observedMinHealthy: 3,
  excusedAtEnd: 0,
  healthyAtStart: 3,
  toolTerminations: [],
  plannedTerminations: 3,
  mutatingCalls: 12,
  leftovers: [],
  lockHeld: false,
  foreignLock: false,
  final: { allUpToDateAndHealthy: true, capacityAsConfigured: true, oldHealthyServing: 0, healthyServing: 3, detail: '3/3' },
});

test('checker: ending unbalanced is a violation', (t) => {
  t.deepEqual(checkRun(sound()), []);
  const f = { ...sound(), unbalanced: 'chaos-app ended unbalanced: a 2, b 0, c 1' };
  t.deepEqual(checkRun(f).map((v) => v.code), ['unbalanced']);
});

test('checker: exit 3 launch-template-changed is allowed only when the template did change mid-run', (t) => {
  const halted = { ...sound(), attempts: [{ kind: 'run' as const, exit: 3, code: 'launch-template-changed' }] };
  t.deepEqual(checkRun(halted).map((v) => v.code), ['outcome'], 'no change: exit 3 is not an outcome a correct tool reaches');
  t.deepEqual(checkRun({ ...halted, launchTemplateChanged: true }), []);
  t.deepEqual(checkRun({ ...halted, launchTemplateChanged: true, attempts: [{ kind: 'run', exit: 3, code: 'below-min-healthy' }] }).map((v) => v.code), ['outcome']);
});

test('checker: a refused run\'s terminations are its own — an interrupted earlier attempt\'s are not counted against it, the refused attempt\'s own still are (chaos seed 3935578497)', (t) => {
  const term = (actor: string, id: string) => ({ instanceId: id, group: 'chaos-app', time: 1, operation: 'TerminateInstanceInAutoScalingGroup', wasHealthy: true, wasUpToDate: false, planned: true, actor });
  const refusedRerun: RunFacts = {
    ...sound(),
    expect: 'done-or-halt',
    attempts: [
      { kind: 'sigint', actor: 'tool-1', exit: 130, code: 'interrupted' },
      { kind: 'rerun', actor: 'tool-2', exit: 3, code: 'locked' },
    ],
    toolTerminations: [term('tool-1', 'i-o1'), term('tool-1', 'i-o2')],
  };
  t.false(checkRun(refusedRerun).some((v) => /refused run terminated/.test(v.message)), 'the SIGINT run replaced them, not the refusal');
  const guilty = { ...refusedRerun, toolTerminations: [...refusedRerun.toolTerminations, term('tool-2', 'i-o3')] };
  t.true(checkRun(guilty).some((v) => v.code === 'outcome' && /refused run terminated 1 instance/.test(v.message)), 'the refused attempt terminating anything is still caught');
  // A single refused run that terminated: caught as before.
  const single: RunFacts = { ...sound(), expect: 'refused', attempts: [{ kind: 'run', actor: 'tool-1', exit: 3, code: 'locked' }], toolTerminations: [term('tool-1', 'i-o1')] };
  t.true(checkRun(single).some((v) => /refused run terminated 1 instance/.test(v.message)));
});

test('the rolling classes are drawn after everything else and only apply to rolling runs', (t) => {
  let seen = { never: 0, lt: 0, skew: 0 };
  for (let seed = 1; seed <= 400; seed++) {
    const s = generateScenario(seed, 'rolling');
    const rf = rollingFaultsOf(s);
    seen = { never: seen.never + Number(rf.launchesNeverSucceed), lt: seen.lt + Number(rf.launchTemplateChangeAfterSeconds !== undefined), skew: seen.skew + Number(rf.clockSkewSeconds !== 0) };
    const ab = rollingFaultsOf(generateScenario(seed, 'ab'));
    t.false(ab.launchesNeverSucceed);
    t.is(ab.clockSkewSeconds, 0);
  }
  t.true(seen.never > 0 && seen.lt > 0 && seen.skew > 0, JSON.stringify(seen));
});

/** A fault-free rolling scenario of 4 instances, surge 1, with the given rolling faults. */
const withFaults = (faults: Partial<Scenario['faults']>): Scenario => rollingScenario(faults);

test.serial('chaos: launches that never succeed halt at the step timeout (exit 1), restored, lock released', async (t) => {
  const s = withFaults({ launchesNeverSucceed: true });
  t.is(s.expect, 'halt');
  const r = await runScenario(s);
  t.deepEqual(r.violations, []);
  t.is(r.exit, 1);
  t.is(r.attempts[0].code, 'step-timeout');
});

test.serial('chaos: a template version published mid-run and a runner clock 10 min ahead: no violation', async (t) => {
  const r = await runScenario(withFaults({ launchTemplateChangeAfterSeconds: 100, clockSkewSeconds: 600 }));
  t.deepEqual(r.violations, []);
  t.true(r.exit === 0 || (r.exit === 3 && r.attempts[0].code === 'launch-template-changed'), `exit ${r.exit} ${r.attempts[0].code ?? ''}`);
});

test('chaos argv: util.parseArgs, values checked, unknown options named', (t) => {
  t.deepEqual(parseArgs(['--runs', '20', '--seed=7', '--strategy', 'rolling', '--jobs', '2']), { runs: 20, seed: 7, jobs: 2, strategy: 'rolling' });
  t.throws(() => parseArgs(['--runs', '0']), { message: /--runs must be an integer ≥ 1, got '0'/ });
  t.throws(() => parseArgs(['--strategy', 'blue']), { message: /--strategy must be rolling or ab/ });
  t.throws(() => parseArgs(['--speed', '3']), { message: /Unknown option '--speed'.*allowed: --runs, --seed, --strategy, --jobs, --trace/ });
});
