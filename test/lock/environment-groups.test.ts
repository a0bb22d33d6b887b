/**
 * An environment's groups and its lock (issue 10 defect 5, issue 22 item 4): the lock covers
 * `ENV-a`/`ENV-b` even when a group is named exactly like the environment, and finding them is
 * one DescribeAutoScalingGroups call by name, however many groups the region has.
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { DeployError } from '../../orchestrator/errors';
import { environmentGroups, freezeEnvironment, unlockEnvironment } from '../../orchestrator/lock/lock';
import { LOCK_TAG } from '../../orchestrator/lock/record';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { abDeploy } from '../../orchestrator/rollout/ab/runner';
import { Sandbox } from '../../orchestrator/sandbox';

function world(extra: number) {
  const sandbox = Sandbox.create({ seed: 5, faults: { bootSeconds: { min: 30, max: 40 }, appStartSeconds: 5 } });
  sandbox.seedGroup({ name: 'qa', capacity: 1, min: 1, max: 2, launchTemplateName: 'qa-one', imageId: 'ami-1' });
  sandbox.seedGroup({ name: 'qa-a', capacity: 2, min: 2, max: 4, launchTemplateName: 'qa-lt', imageId: 'ami-1' });
  sandbox.seedGroup({ name: 'qa-b', capacity: 0, min: 0, max: 4, launchTemplateName: 'qa-lt' });
  for (let i = 0; i < extra; i++) sandbox.seedGroup({ name: `other-${String(i).padStart(2, '0')}`, capacity: 0, min: 0, max: 1, launchTemplateName: `o-${i}`, imageId: 'ami-1' });
  sandbox.seedGroup({ name: 'qa-web', capacity: 0, min: 0, max: 1, launchTemplateName: 'qa-web', imageId: 'ami-1' });
  sandbox.newLaunchTemplateVersion('qa-lt', { ImageId: 'ami-2' });
  const reporter = new RecordingReporter(sandbox.clock);
  return { sandbox, reporter, port: createAwsPort(sandbox.clients, sandbox.clock) };
}

test('groups qa, qa-a, qa-b: lock --environment qa freezes all three; ab --environment qa is refused (exit 3) and changes nothing', async (t) => {
  const w = world(0);
  await freezeEnvironment({ port: w.port, clock: w.sandbox.clock, reporter: w.reporter }, { environment: 'qa', reason: 'release freeze' });
  for (const g of ['qa', 'qa-a', 'qa-b']) t.truthy(w.sandbox.world.state.groups[g].tags.find((x) => x.key === LOCK_TAG), `${g} carries the freeze`);
  t.falsy(w.sandbox.world.state.groups['qa-web'].tags.find((x) => x.key === LOCK_TAG), 'qa-web is another environment');
  const mark = w.sandbox.calls.length;
  const err = await t.throwsAsync(abDeploy({ clients: w.sandbox.clients, clock: w.sandbox.clock, reporter: w.reporter, environment: 'qa', instanceCount: 2 }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.is(err!.code, 'locked');
  t.regex(err!.message, /release freeze/);
  t.deepEqual(w.sandbox.calls.slice(mark).filter((c) => c.mutating && !['CreateOrUpdateTags', 'DeleteTags'].includes(c.operation)).map((c) => c.operation), []);
  t.is(w.sandbox.world.state.groups['qa-b'].desired, 0);
  // --single-asg on the group qa is frozen by the same lock; after unlock both run.
  const single = await t.throwsAsync(abDeploy({ clients: w.sandbox.clients, clock: w.sandbox.clock, reporter: w.reporter, environment: 'qa', singleAsg: true, instanceCount: 1 }), { instanceOf: DeployError });
  t.is(single!.code, 'locked');
  await unlockEnvironment({ port: w.port, clock: w.sandbox.clock, reporter: w.reporter }, { environment: 'qa' });
  for (const g of ['qa', 'qa-a', 'qa-b']) t.falsy(w.sandbox.world.state.groups[g].tags.find((x) => x.key === LOCK_TAG), `${g} unlocked`);
  const r = await abDeploy({ clients: w.sandbox.clients, clock: w.sandbox.clock, reporter: w.reporter, environment: 'qa', instanceCount: 2 });
  t.is(r.status, 'done');
});

test('an ab run on qa holds the lock on qa too: a freeze of the group qa (lock --asg qa) taken meanwhile is refused', async (t) => {
  const w = world(0);
  // While the run holds the environment lock, someone tries to freeze the environment through the one group.
  let refused: unknown;
  const reporter = {
    emit: (level: 'info' | 'warn' | 'error', code: string, message: string, data?: Record<string, unknown>) => {
      w.reporter.emit(level, code, message, data);
      if (code === 'lock.acquired' && refused === undefined) {
        refused = 'pending';
        void freezeEnvironment({ port: w.port, clock: w.sandbox.clock, reporter: w.reporter }, { environment: 'qa', groups: ['qa'], reason: 'hotfix' }).then(
          () => (refused = false),
          (e) => (refused = e),
        );
      }
    },
  };
  await abDeploy({ clients: w.sandbox.clients, clock: w.sandbox.clock, reporter, environment: 'qa', instanceCount: 2 });
  t.true(refused instanceof DeployError && refused.code === 'locked', String(refused));
});

test('finding an environment’s groups is one DescribeAutoScalingGroups call by name among 60 groups (no prefix paging)', async (t) => {
  const w = world(60);
  const mark = w.sandbox.calls.length;
  t.deepEqual(await environmentGroups(w.port, 'qa'), ['qa', 'qa-a', 'qa-b']);
  const calls = w.sandbox.calls.slice(mark);
  t.deepEqual(calls.map((c) => c.operation), ['DescribeAutoScalingGroups']);
  // An environment with only its colors, and one with no group at all.
  t.deepEqual(await environmentGroups(w.port, 'other-01'), ['other-01']);
  t.deepEqual(await environmentGroups(w.port, 'nope'), []);
  t.is(w.sandbox.calls.slice(mark).length, 3);
});
