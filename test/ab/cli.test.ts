import test from 'ava';
import { main } from '../../orchestrator/cli';
import { abOptionsFromArgs } from '../../orchestrator/commands/ab';
import { DeployError } from '../../orchestrator/errors';
import { capture } from '../helpers/io';


async function run(argv: string[]) {
  const io = capture();
  const code = await main(argv, { stdout: io.out, stderr: io.err, signal: new AbortController().signal, env: { CI: '1' } });
  return { code, ...io };
}

test('bad values are exit 2 naming the flag, the value and what is allowed', async (t) => {
  const rows: Array<[string[], RegExp]> = [
    [['ab', '--environment', 'qa', '--instance-count', '0'], /--instance-count 0: expected a whole number ≥ 1/],
    [['ab', '--environment', 'qa', '--instance-count', 'many'], /--instance-count many/],
    [['ab', '--environment', 'qa', '--instance-count-step', '1.5'], /--instance-count-step 1.5/],
    [['ab', '--environment', 'qa', '--health-check-timeout', 'soon'], /--health-check-timeout soon/],
    [['ab', '--environment', 'qa', '--update-timeout', '-3'], /--update-timeout -3/],
    [['ab', '--environment', 'qa', '--zero', '--clean-up'], /--zero and --clean-up/],
    [['ab', '--environment', 'bad env!'], /--environment "bad env!"/],
    [['ab', '--environment', 'qa', '--lock-bucket-name', 'Not_A_Bucket'], /--lock-bucket-name "Not_A_Bucket"/],
    [['ab', '--environment', 'qa', '--elb-name', 'has space'], /--elb-name has space/],
    [['ab'], /environment/],
    [['lock', '--environment', 'qa', '--reason', ''], /--reason/],
  ];
  for (const [argv, message] of rows) {
    const r = await run(argv);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.stderr, message, argv.join(' '));
  }
});

test('every seed flag parses into the abDeploy options', (t) => {
  const o = abOptionsFromArgs({
    environment: 'qa',
    'elb-name': ['qa-public'],
    'instance-count': 4,
    'instance-count-match': true,
    'instance-count-step': 2,
    'poll-interval': '30',
    'health-check-timeout': '10m',
    'clean-up': true,
    'lock-bucket-name': 'my-locks',
    'single-asg': false,
    zero: false,
    'dry-run': true,
    yes: true,
    rollback: true,
  });
  t.like(o, {
    environment: 'qa',
    elbNames: ['qa-public'],
    instanceCount: 4,
    instanceCountMatch: true,
    instanceCountStep: 2,
    pollInterval: 30,
    healthCheckTimeout: 600,
    cleanUp: true,
    lockBucket: 'my-locks',
    dryRun: true,
    yes: true,
    rollback: true,
  });
  t.throws(() => abOptionsFromArgs({ environment: 'qa', 'single-asg': true, 'clean-up': true }), { instanceOf: DeployError });
});

test('--update-timeout is the seed alias of --poll-interval', async (t) => {
  // Parsing through the real CLI: the alias must reach the same option (a bad value names it).
  const r = await run(['ab', '--environment', 'qa', '--update-timeout', 'x']);
  t.is(r.code, 2);
  const r2 = await run(['ab', '--environment', 'qa', '--poll-interval', 'x']);
  t.is(r2.code, 2);
});

test('ab --alarm (repeatable, comma-separated) and --ignore-alarms-at-start parse into the options; the flag alone is exit 2', (t) => {
  const o = abOptionsFromArgs({ environment: 'qa', alarm: ['qa-5xx', 'qa-slo,qa-p99'], 'ignore-alarms-at-start': true });
  t.deepEqual(o.alarms, ['qa-5xx', 'qa-slo', 'qa-p99']);
  t.true(o.ignoreAlarmsAtStart);
  t.false('alarms' in abOptionsFromArgs({ environment: 'qa' }));
  const err = t.throws(() => abOptionsFromArgs({ environment: 'qa', 'ignore-alarms-at-start': true }), { instanceOf: DeployError });
  t.is(err!.exit, 2);
  t.regex(err!.message, /needs --alarm/);
});
