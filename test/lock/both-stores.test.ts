/**
 * The two lock stores see each other (issue 10 defect 10): a group has one lock whatever the
 * store. A run with `--lock-bucket-name` and one without can no longer both take "the" lock.
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { DeployError } from '../../orchestrator/errors';
import { acquireRunLock, freezeEnvironment, groupLockOptions, unlockEnvironment } from '../../orchestrator/lock/lock';
import { LOCK_TAG } from '../../orchestrator/lock/record';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { Sandbox } from '../../orchestrator/sandbox';

function world() {
  const sandbox = Sandbox.create({ seed: 4 });
  sandbox.seedGroup({ name: 'qa-rabbit', capacity: 1, min: 1, max: 2, launchTemplateName: 'r', imageId: 'ami-1' });
  const reporter = new RecordingReporter(sandbox.clock);
  const deps = { port: createAwsPort(sandbox.clients, sandbox.clock), clock: sandbox.clock, reporter };
  const tag = () => sandbox.world.state.groups['qa-rabbit'].tags.find((x) => x.key === LOCK_TAG);
  const object = (): unknown => sandbox.world.state.buckets['locks']?.objects['qa-rabbit.lock'];
  return { sandbox, deps, tag, object };
}

test('a run holding the S3 lock marks the group: a run without a bucket is refused (exit 3) naming it; released: both gone', async (t) => {
  const w = world();
  const lock = await acquireRunLock(w.deps, { ...groupLockOptions('qa-rabbit', 'locks'), reason: 'roll with bucket', holder: 'ci@a pid 1' });
  t.truthy(w.object());
  t.truthy(w.tag(), 'the group carries the same record');
  const err = await t.throwsAsync(acquireRunLock(w.deps, { ...groupLockOptions('qa-rabbit'), reason: 'roll without bucket', holder: 'ci@b pid 2' }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.regex(err!.message, /ci@a pid 1/);
  await lock.release();
  t.is(w.object(), undefined);
  t.is(w.tag(), undefined);
});

test('a run (or freeze) without a bucket: a run with a bucket reads the group tag and is refused (exit 3), nothing written to S3', async (t) => {
  const w = world();
  await freezeEnvironment(w.deps, { ...groupLockOptions('qa-rabbit'), reason: 'maintenance', holder: 'ann@box pid 3' });
  const err = await t.throwsAsync(acquireRunLock(w.deps, { ...groupLockOptions('qa-rabbit', 'locks'), reason: 'roll with bucket' }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.regex(err!.message, /maintenance/);
  t.is(w.object(), undefined);
  // unlock with the bucket given finds the tag-only freeze and releases it.
  await unlockEnvironment(w.deps, { ...groupLockOptions('qa-rabbit', 'locks'), force: true });
  t.is(w.tag(), undefined);
  const lock = await acquireRunLock(w.deps, { ...groupLockOptions('qa-rabbit', 'locks'), reason: 'roll with bucket' });
  await lock.release();
});
