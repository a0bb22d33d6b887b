/**
 * S3 `409 ConditionalRequestConflict` on the lock's conditional writes (issue 13 defect 3): S3
 * says to retry it; it is not "someone holds the lock". Modelled by the sandbox ([S3-4]).
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { DeployError } from '../../orchestrator/errors';
import { acquireRunLock, freezeEnvironment } from '../../orchestrator/lock/lock';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { Sandbox } from '../../orchestrator/sandbox';
import { s3ConditionalConflicts } from '../../orchestrator/sandbox/s3/ops';

function world() {
  const sandbox = Sandbox.create({ seed: 9 });
  const reporter = new RecordingReporter(sandbox.clock);
  const deps = { port: createAwsPort(sandbox.clients, sandbox.clock), clock: sandbox.clock, reporter };
  const object = (): unknown => sandbox.world.state.buckets['locks']?.objects['qa.lock'];
  return { sandbox, reporter, deps, object };
}

test('the SDK surfaces the sandbox 409 as AWS does: name ConditionalRequestConflict, HTTP 409, nothing written', async (t) => {
  const w = world();
  s3ConditionalConflicts(w.sandbox.world, 'qa.lock', 1);
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const err = await t.throwsAsync(w.sandbox.clients.s3.send(new PutObjectCommand({ Bucket: 'locks', Key: 'qa.lock', Body: '{}', IfNoneMatch: '*' })));
  t.is(err!.name, 'ConditionalRequestConflict');
  t.is((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode, 409);
  t.is(w.object(), undefined);
});

test('taking the S3 lock through two 409s: retried, won; releasing through two 409s: released', async (t) => {
  const w = world();
  s3ConditionalConflicts(w.sandbox.world, 'qa.lock', 2);
  const lock = await acquireRunLock(w.deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'test' });
  t.truthy(w.object(), 'the lock object exists');
  t.deepEqual(
    w.sandbox.calls.filter((c) => c.operation === 'PutObject').map((c) => c.error ?? 'ok'),
    ['ConditionalRequestConflict', 'ConditionalRequestConflict', 'ok'],
  );
  s3ConditionalConflicts(w.sandbox.world, 'qa.lock', 2);
  await lock.release();
  t.is(w.object(), undefined, 'released');
});

test('a 409 while someone else takes the lock: the retry sees their lock and refuses (exit 3) naming them', async (t) => {
  const w = world();
  await freezeEnvironment(w.deps, { environment: 'qa', bucket: 'locks', reason: 'freeze by ann', holder: 'ann@box pid 1' });
  s3ConditionalConflicts(w.sandbox.world, 'qa.lock', 1);
  const err = await t.throwsAsync(acquireRunLock(w.deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'test' }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.regex(err!.message, /ann@box pid 1/);
});
