/**
 * Drift safety (issue 13): `deploy` refuses `pulumi up` while a group of the stack carries an
 * unfinished rollout record, naming the group and the command that finishes it; nothing changes.
 */
import test from 'ava';
import { DeployError } from '../../orchestrator/errors';
import { DeployCodes } from '../../orchestrator/report/summary';
import { RESTORE_TAG } from '../../orchestrator/rollout/guard';
import { SWAP_TAG } from '../../orchestrator/rollout/strategies/ab';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { awsRecordReader, recordTargets, unfinishedRecords } from '../../orchestrator/stack/records';
import { parseServices } from '../../infra/config';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';

test('unfinishedRecords: which tags are records and the command that finishes each', (t) => {
  const [rabbit, webA] = [
    { service: 'rabbit', group: 'qa-rabbit', strategy: 'rolling' as const, environment: 'qa-rabbit' },
    { service: 'web', group: 'qa-web-a', strategy: 'ab' as const, environment: 'qa-web' },
  ];
  t.deepEqual(unfinishedRecords(rabbit, { Name: 'qa-rabbit', 'asg-deploy:stack': 'qa' }), []);
  t.deepEqual(unfinishedRecords(rabbit, { [RESTORE_TAG]: '{"v":1}' }).map((r) => [r.tag, r.finish]), [[RESTORE_TAG, 'asg-deploy roll --asg qa-rabbit']]);
  t.deepEqual(unfinishedRecords(webA, { [RESTORE_TAG]: '{}', [SWAP_TAG]: '{}' }).map((r) => [r.tag, r.finish]), [
    [RESTORE_TAG, 'asg-deploy ab --environment qa-web'],
    [SWAP_TAG, 'asg-deploy ab --environment qa-web'],
  ]);
  const services = parseServices({ web: { strategy: 'ab', imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 2, availabilityZones: ['us-east-1a'] } }, 'qa');
  t.deepEqual(recordTargets(services).map((x) => x.group), ['qa-web-a', 'qa-web-b']);
});

test('deploy refuses up (exit 3, nothing changed) while a group carries an unfinished record; a dry run says so too', async (t) => {
  const w = sandboxDeployWorld({ tmpPrefix: 'sbx-unfinished-' });
  const deps = () => ({ ...w.deps(), records: awsRecordReader(w.port) });
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, deps());
  const groups = w.sandbox.toJSON().groups as unknown as Record<string, unknown>;
  const rolling = Object.keys(groups).find((g) => g.endsWith('rabbit'))!;
  const blue = Object.keys(groups).find((g) => g.endsWith('web-b'))!;
  await w.port.putGroupTags(rolling, { [RESTORE_TAG]: JSON.stringify({ v: 1, desired: 3, max: 3, suspended: [], protected: [], since: 0 }) });
  await w.port.putGroupTags(blue, { [SWAP_TAG]: JSON.stringify({ v: 1, mode: 'swap', to: blue, count: 2, step: 1, runId: 'r1', since: 0 }) });
  const stackBefore = JSON.stringify(w.stacks.demo);
  const mark = w.sandbox.calls.length;

  const err = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, deps()), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.is(err!.code, 'deploy.unfinished-rollout');
  t.true(err!.message.includes(`${rolling} (service rabbit) carries ${RESTORE_TAG}: run 'asg-deploy roll --asg ${rolling}'`), err!.message);
  t.regex(err!.message, new RegExp(`${blue} \\(service web\\) carries ${SWAP_TAG}: run 'asg-deploy ab --environment \\S+-web'`));
  t.regex(err!.message, /nothing was changed/);
  t.deepEqual(w.sandbox.calls.slice(mark).filter((c) => c.mutating), [], 'no mutating AWS call');
  t.is(JSON.stringify(w.stacks.demo), stackBefore, 'no pulumi up');

  const dry = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2'), dryRun: true }, deps()), { instanceOf: DeployError });
  t.is(dry!.exit, 3);
  t.is(w.reporter.ofCode(DeployCodes.unfinished).length, 1);
});
