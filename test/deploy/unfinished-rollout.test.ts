/**
 * Drift safety (issue 13): `deploy` refuses `pulumi up` while a group of the stack carries an
 * unfinished rollout record, naming the group and the command that finishes it; nothing changes.
 */
import test from 'ava';
import { DeployCodes } from '../../orchestrator/report/summary';
import { RESTORE_TAG } from '../../orchestrator/rollout/guard';
import { SWAP_TAG } from '../../orchestrator/rollout/ab/strategy';
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

test('deploy re-run with an unfinished record finishes that rollout first (as roll/ab would), then runs up; a dry run says it would', async (t) => {
  const w = sandboxDeployWorld({ tmpPrefix: 'sbx-unfinished-' });
  const deps = () => ({ ...w.deps(), records: awsRecordReader(w.port) });
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, deps());
  const groups = w.sandbox.toJSON().groups as unknown as Record<string, unknown>;
  const rolling = Object.keys(groups).find((g) => g.endsWith('rabbit'))!;
  // A rolling run killed after raising desired: its restore record names what to give back.
  const before = await w.port.observeGroup(rolling, { elbHealth: false });
  await w.port.updateSizes(rolling, { max: before.max + 1 });
  await w.port.putGroupTags(rolling, { [RESTORE_TAG]: JSON.stringify({ v: 1, desired: before.desired, max: before.max, suspended: [], protected: [], since: 0 }) });
  const stackBefore = JSON.stringify(w.stacks.demo);

  // The dry run says it would finish it first, and changes nothing.
  const mark = w.sandbox.calls.length;
  await runDeploy({ stack: 'demo', configFile: w.config('ami-0a2'), dryRun: true }, deps());
  t.deepEqual(w.sandbox.calls.slice(mark).filter((c) => c.mutating), [], 'dry run: no mutating AWS call');
  t.regex(w.reporter.ofCode(DeployCodes.unfinished)[0]!.message, new RegExp(`would first finish .*${rolling} \\(service rabbit\\) carries ${RESTORE_TAG}`));
  t.is(JSON.stringify(w.stacks.demo), stackBefore);

  const out = await runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, deps());
  t.is(out.exit, 0);
  const finishing = w.reporter.ofCode(DeployCodes.unfinished).at(-1)!;
  t.regex(finishing.message, /finishing it before pulumi up/);
  const after = await w.port.observeGroup(rolling, { elbHealth: false });
  t.false(RESTORE_TAG in after.tags, 'the record is gone');
  t.is(after.max, before.max, 'the raised max was given back');
  t.not(JSON.stringify(w.stacks.demo), stackBefore, 'then pulumi up ran');
  t.true(out.rows.every((r) => r.result !== 'failed'), 'and the hooks after it ran');
});
