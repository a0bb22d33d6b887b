/**
 * The lock under ambiguous and transient AWS failures (port-level fakes, virtual clock):
 * a 412 caused by our own applied write is ours; transient errors are retried in clock time;
 * a release that keeps failing says so plainly; deploy's read-only check.
 */
import test from 'ava';
import type { AwsPort } from '../../orchestrator/aws/port';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError } from '../../orchestrator/errors';
import { acquireRunLock, checkEnvironmentLock, freezeEnvironment, LockCodes } from '../../orchestrator/lock/lock';
import { isTransient, withTransientRetry } from '../../orchestrator/lock/transient';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { FakeLockPort } from './fake-port';

const throttling = () => Object.assign(new Error('Rate exceeded'), { name: 'SlowDown', $metadata: { httpStatusCode: 503 } });

function setup() {
  const fake = new FakeLockPort(['qa-a', 'qa-b']);
  const clock = new VirtualClock();
  const reporter = new RecordingReporter(clock);
  return { fake, clock, reporter };
}

/** The port with some methods replaced (the rest as the fake has them). */
function patched(port: AwsPort, over: Partial<AwsPort>): AwsPort {
  return { ...port, ...over };
}

test('isTransient: throttling, 5xx, contention and network errors; not 4xx, DeployErrors or aborts', (t) => {
  const table: Array<[string, unknown, boolean]> = [
    ['S3 SlowDown', throttling(), true],
    ['ASG Throttling 400', Object.assign(new Error('x'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } }), true],
    ['InternalFailure 500', Object.assign(new Error('x'), { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } }), true],
    ['ResourceContention', Object.assign(new Error('x'), { name: 'ResourceContentionFault', $metadata: { httpStatusCode: 500 } }), true],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['ValidationError 400', Object.assign(new Error('x'), { name: 'ValidationError', $metadata: { httpStatusCode: 400 } }), false],
    ['NoSuchBucket 404', Object.assign(new Error('x'), { name: 'NoSuchBucket', $metadata: { httpStatusCode: 404 } }), false],
    ['DeployError', new DeployError('x', 'y'), false],
    ['AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
  ];
  for (const [name, err, expected] of table) t.is(isTransient(err), expected, name);
});

test('withTransientRetry backs off in clock time (1, 2, 4 s …, the one policy) and gives up after its bound with the last error', async (t) => {
  const clock = new VirtualClock();
  let calls = 0;
  const t0 = clock.now();
  const ok = await withTransientRetry('op', async () => (++calls < 3 ? Promise.reject(throttling()) : 'fine'), { clock });
  t.is(ok, 'fine');
  t.is(clock.now() - t0, 1000 + 2000);
  const start = clock.now();
  const err = await t.throwsAsync(withTransientRetry('op', async () => Promise.reject(throttling()), { clock, retries: 3 }));
  t.is(err!.name, 'SlowDown');
  t.is(clock.now() - start, 1000 + 2000 + 4000);
});

test('S3: a heartbeat applied whose response was lost (the SDK retry then gets 412) is still ours: ETag adopted, released', async (t) => {
  const { fake, clock, reporter } = setup();
  const base = fake.port();
  // The write lands, then the SDK's retry of it (old ETag) answers 412 → undefined.
  const port = patched(base, {
    async replaceLockObject(bucket, key, record, etag) {
      await base.replaceLockObject!(bucket, key, record, etag);
      return base.replaceLockObject!(bucket, key, record, etag);
    },
  });
  const t0 = clock.now();
  const lock = await acquireRunLock({ port, clock, reporter }, { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab', runId: 'r1', heartbeatMs: 1000 });
  await clock.sleep(3500);
  t.false(lock.lost);
  t.false(reporter.codes().includes(LockCodes.lost));
  t.is(fake.objects.get('locks/qa.lock')!.record.heartbeat, t0 + 3000, 'the heartbeat kept being refreshed');
  await lock.release();
  t.is(fake.objects.size, 0, 'released');
});

test('S3: a lock write applied whose response was lost (retry gets 412) is won, not refused', async (t) => {
  const { fake, clock, reporter } = setup();
  const base = fake.port();
  const port = patched(base, {
    async putLockObject(bucket, key, record) {
      await base.putLockObject(bucket, key, record);
      return base.putLockObject(bucket, key, record); // false: "someone holds it" — us
    },
  });
  const lock = await acquireRunLock({ port, clock, reporter }, { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab', runId: 'r1' });
  t.is(lock.record.runId, 'r1');
  await lock.release();
  t.is(fake.objects.size, 0);
});

test('release rides out throttling; one that keeps failing throws exit 1 naming the lock and the unlock command', async (t) => {
  const { fake, clock, reporter } = setup();
  const base = fake.port();
  let failures = 0;
  const port = patched(base, {
    async getLockObject(bucket, key) {
      if (failures > 0) {
        failures--;
        throw throttling();
      }
      return base.getLockObject(bucket, key);
    },
  });
  let lock = await acquireRunLock({ port, clock, reporter }, { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab', runId: 'r1' });
  failures = 3;
  const t0 = clock.now();
  await lock.release();
  t.is(fake.objects.size, 0);
  t.is(clock.now() - t0, 1000 + 2000 + 4000, 'three back-offs in clock time');
  t.is(reporter.ofCode('aws.throttled').length, 3);

  let down = false;
  const flaky = patched(base, { getLockObject: async (b, k) => (down ? Promise.reject(throttling()) : base.getLockObject(b, k)) });
  lock = await acquireRunLock({ port: flaky, clock, reporter }, { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab', runId: 'r2' });
  down = true;
  const start = clock.now();
  const err = await t.throwsAsync(lock.release(), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.is(err!.code, 'lock-release-failed');
  t.regex(err!.message, /s3:\/\/locks\/qa\.lock/);
  t.regex(err!.message, /unlock --environment qa --lock-bucket-name locks --force/);
  t.true(clock.now() - start >= 60_000, 'retried with back-off first');
  t.is(fake.objects.size, 1, 'the lock is still there, as said');
});

test('checkEnvironmentLock (for deploy): free → resolves; held → the exit-3 refusal an ab run gives; no groups, no bucket → nothing to check', async (t) => {
  const { fake, clock, reporter } = setup();
  const port = fake.port();
  await t.notThrowsAsync(checkEnvironmentLock({ port, clock }, { environment: 'qa', bucket: 'locks' }));
  await t.notThrowsAsync(checkEnvironmentLock({ port, clock }, { environment: 'qa' }));
  await t.notThrowsAsync(checkEnvironmentLock({ port, clock }, { environment: 'nowhere' }));
  await freezeEnvironment({ port, clock, reporter }, { environment: 'qa', reason: 'incident 42', holder: 'ann@laptop pid 1' });
  const err = await t.throwsAsync(checkEnvironmentLock({ port, clock }, { environment: 'qa' }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.is(err!.code, 'locked');
  t.regex(err!.message, /ann@laptop pid 1/);
  t.regex(err!.message, /incident 42/);
  t.true(fake.calls.every((c) => !/^(put|delete)/.test(c) || c.startsWith('putGroupTags')), 'read-only apart from the freeze itself');
});
