/**
 * `deploy --stack S --rehearse [--faults ...]`: the stack's own rollout on a fresh simulated AWS
 * under named faults, through the CLI (`main`), with the demo stack config as "your" stack.
 * The prediction (rehearse.result) is checked against what the faults must do: none → done,
 * invariants held; slow-boots → boots of 4-7 min do not fit the demo's 4 min step timeout: the
 * deploy would fail (exit 1), halted safe; failing-version → it would fail with the old version
 * still serving (invariants held). The account read is an empty sandbox state (--sandbox --rehearse): the
 * stack is built from its config. Bad faults: exit 2 with
 * the allowed list, nothing run.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../orchestrator/cli';
import { faultsFlag, FAULT_PROFILES, lowestTogether } from '../../orchestrator/commands/rehearse';
import { DeployError } from '../../orchestrator/errors';
import { capture } from '../helpers/io';

const DEMO = path.resolve(__dirname, '../../examples/demo/Pulumi.demo.yaml');

interface Ev {
  code: string;
  level: string;
  message: string;
  data: Record<string, unknown>;
}
interface Row {
  group: string;
  strategy: string;
  outcome: string;
  lowestHealthy: number;
  floor: number;
  held: boolean;
  seconds?: number;
}

async function cli(argv: string[]) {
  const io = capture();
  const code = await main(argv, { stdout: io.out, stderr: io.err, signal: new AbortController().signal, env: { CI: '1' } });
  const events = io.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
  return { code, events, stderr: io.stderr };
}

// "Your account" is an empty sandbox state (--sandbox --rehearse reads it, read-only): the demo stack is not there, so it is built from its config.
const EMPTY = path.join(os.tmpdir(), `asg-deploy-rehearse-empty-${process.pid}.json`);
const rehearse = (faults: string[], extra: string[] = []) => cli(['deploy', '--stack', 'demo', '--config-file', DEMO, '--rehearse', '--sandbox-state', EMPTY, ...faults.flatMap((f) => ['--faults', f]), '--json', ...extra]);
const result = (events: Ev[]) => events.find((e) => e.code === 'rehearse.result')!.data as { exit: number; outcome: string; seconds: number; apiCalls: number; invariantsHeld: boolean; groups: Row[]; faults: string[] };

test('--faults: names in order without repeats, comma-separated or repeated; default none; unknown names are exit 2 listing the allowed', (t) => {
  t.deepEqual(faultsFlag(undefined), ['none']);
  t.deepEqual(faultsFlag(['slow-boots,az-outage', 'slow-boots']), ['slow-boots', 'az-outage']);
  const e = t.throws(() => faultsFlag(['slow-boots,fast-boots']), { instanceOf: DeployError })!;
  t.is(e.exit, 2);
  t.is(e.message, '--faults fast-boots: unknown fault; the faults are: none, slow-boots, failing-version, az-outage, throttling, spot-interruptions, or a YAML file of fault options (FILE.yaml)');
  t.deepEqual(Object.keys(FAULT_PROFILES), ['none', 'slow-boots', 'failing-version', 'az-outage', 'throttling', 'spot-interruptions']);
  t.throws(() => faultsFlag(['a,,b']), { message: /empty fault name/ });
});

test('lowestTogether: the lowest sum of both colors, changes at one instant counted once', (t) => {
  const a = [{ time: 0, healthy: 4 }, { time: 50, healthy: 0 }];
  const b = [{ time: 0, healthy: 0 }, { time: 20, healthy: 2 }, { time: 30, healthy: 4 }];
  t.is(lowestTogether([a, b], 0), 4);
  t.is(lowestTogether([a, [{ time: 0, healthy: 0 }, { time: 50, healthy: 3 }]], 0), 3, 'a swap at one instant: 4 → 3, never 0');
  t.is(lowestTogether([[{ time: 0, healthy: 1 }, { time: 10, healthy: 3 }]], 5), 3, 'before `from` does not count');
});

test('bad rehearsal input is exit 2 before anything runs', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['deploy', '--stack', 'demo', '--config-file', DEMO, '--rehearse', '--faults', 'slow'], /--faults slow: unknown fault; the faults are: none, slow-boots, /],
    [['deploy', '--stack', 'demo', '--config-file', DEMO, '--faults', 'slow-boots'], /--faults needs --rehearse/],
    [['deploy', '--stack', 'demo', '--config-file', DEMO, '--rehearse', '--dry-run'], /--rehearse and --dry-run/],
    [['deploy', '--stack', 'demo', '--config-file', DEMO, '--rehearse', '--skip-rollout'], /--rehearse and --skip-rollout/],
    [['deploy', '--stack', 'nowhere', '--rehearse'], /no stack config to rehearse/],
  ];
  for (const [argv, re] of cases) {
    const r = await cli(argv);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.stderr, re);
  }
});

test('rehearsals of the demo stack: none (with --report), slow-boots (past the 4 min step timeout), failing-version (would fail, old version serving)', async (t) => {
  t.timeout(300_000, 'three rehearsals, two simulated deploys each');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-rehearse-test-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const report = path.join(dir, 'rehearsal.html');

  const none = await rehearse(['none'], ['--report', report]);
  t.false(fs.existsSync(EMPTY), 'the sandbox state read as the account was not written');
  t.is(none.code, 0, none.stderr);
  t.is(none.events[0].code, 'rehearse.start');
  t.deepEqual(none.events[0].data.missing, ['demo-rabbit', 'demo-web-a', 'demo-web-b'], 'not in the account: built from the config');
  const ok = result(none.events);
  t.is(ok.outcome, 'done');
  t.true(ok.invariantsHeld);
  t.deepEqual(ok.groups.map((g) => [g.group, g.strategy, g.outcome]), [
    ['demo-rabbit', 'rolling', 'done'],
    ['demo-web', 'ab', 'done'],
  ]);
  for (const g of ok.groups) t.true(g.held && g.lowestHealthy >= g.floor, `${g.group}: ${g.lowestHealthy} ≥ ${g.floor}`);
  t.deepEqual(ok.groups.map((g) => g.floor), [2, 4], 'rabbit minHealthy 2; web: its active color\'s 4');
  t.true(ok.seconds > 0 && ok.apiCalls > 0);
  // The rehearsal's deploy is a sandbox deploy rolling out the stack's real images.
  t.true(none.events.some((e) => e.code === 'deploy.simulation'));
  t.is(none.events.filter((e) => e.code === 'rollout.done').length, 2);
  const html = fs.readFileSync(report, 'utf8');
  t.regex(html, /data-outcome="done"/);
  t.regex(html, /id="prediction" data-outcome="done" data-invariants="held"/);
  t.is((html.match(/<section class="group"/g) ?? []).length, 2);

  // The demo's steps allow 4 minutes; boots of 4-7 minutes do not fit: the rehearsal says so.
  const slowRun = await rehearse(['slow-boots']);
  t.is(slowRun.code, 1);
  const slow = result(slowRun.events);
  t.is(slow.outcome, 'failed');
  t.true(slow.invariantsHeld);
  // Still booting at the timeout ("no healthy replacement", Pending) or booted but not yet healthy: either way the step timeout.
  t.regex(slowRun.events.find((e) => e.code === 'rollout.failed')!.message, /(not healthy|no healthy replacement) after 24\d s \(--step-timeout 240 s\)/);
  t.true(slow.seconds >= 240);

  const failing = await rehearse(['failing-version']);
  t.is(failing.code, 1, 'the predicted deploy fails: exit 1');
  const bad = result(failing.events);
  t.is(bad.outcome, 'failed');
  t.true(bad.invariantsHeld, 'halted safe: the old version kept serving');
  t.true(bad.groups.some((g) => g.outcome === 'failed'));
  t.regex(failing.events.find((e) => e.code === 'rehearse.result')!.message, /the deploy would FAIL \(exit 1\)/);
});
