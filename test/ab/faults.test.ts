/**
 * A/B and its lock under throttling, 5xx (also after the write was applied) and crashes, on the
 * simulated AWS: every AWS error ends as a DeployError with its exit code, transient ones are
 * ridden out in clock time, the lock is released and nothing the run changed is left behind.
 * (Regression tests for the chaos findings: seeds 4225125759, 3036630016, 64746484, 12345.)
 */
import test from 'ava';
import { DeployError } from '../../orchestrator/errors';
import { unlockEnvironment } from '../../orchestrator/lock/lock';
import { LOCK_TAG } from '../../orchestrator/lock/record';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { SWAP_TAG } from '../../orchestrator/rollout/ab/strategy';
import { abEnv } from './harness';
import { onFirstEvent } from '../helpers/reporter-tap';

type Env = ReturnType<typeof abEnv>;

/** What a finished run must not leave: tags (lock, swap record, restore), suspended processes, protection. */
function leftBehind(env: Env): string[] {
  return ['qa-a', 'qa-b'].flatMap((g) =>
    env.sandbox.monitor
      .leftovers(g)
      .filter((l) => !['min', 'max', 'desired'].includes(l.what))
      .map((l) => `${g}: ${l.detail}`),
  );
}

function lockObject(env: Env, bucket = 'qa-locks'): unknown {
  return env.sandbox.world.state.buckets[bucket]?.objects['qa.lock'];
}

for (const lock of ['s3', 'tags'] as const) {
  const bucket = lock === 's3' ? { lockBucket: 'qa-locks' } : {};

  test(`throttling storm (${lock} lock): the swap completes, throttling is reported, the lock is released and nothing is left`, async (t) => {
    const env = abEnv({ count: 4, seed: 11 });
    env.sandbox.faults = { ...env.sandbox.faults, throttleRate: 0.45, serverErrorRate: 0.1, resourceContentionRate: 0.1 };
    const r = await env.run(bucket);
    t.is(r.status, 'done');
    t.is(env.group('qa-b').desired, 4);
    t.deepEqual(env.live('qa-a'), []);
    t.true(env.reporter.codes().includes('aws.throttled'), 'riding out throttling is reported');
    t.deepEqual(leftBehind(env), []);
    t.is(lockObject(env), undefined);
  });

  test(`5xx after the write was applied (${lock} lock): heartbeats, swap record and release all survive the SDK's retry`, async (t) => {
    const env = abEnv({ count: 3, seed: 5, drainingTimeout: 120 });
    env.sandbox.faults = { ...env.sandbox.faults, serverErrorRate: 0.35, serverErrorAfterCommitRate: 1 };
    const r = await env.run({ ...bucket, lock: { heartbeatMs: 10_000 } });
    t.is(r.status, 'done');
    t.false(env.reporter.codes().includes('lock.lost'), 'our own applied heartbeat is not taken for someone else’s');
    t.deepEqual(leftBehind(env), []);
    t.is(lockObject(env), undefined);
  });
}

test('persistent throttling: a DeployError with exit 1 naming AWS’s error, never a raw SDK error; nothing changed', async (t) => {
  const env = abEnv({ count: 2 });
  env.sandbox.faults = { ...env.sandbox.faults, throttleRate: 1 };
  const start = env.sandbox.clock.now();
  const err = await t.throwsAsync(env.run({ lockBucket: 'qa-locks' }), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.regex(err!.message, /Throttling/);
  t.regex(err!.message, /after retries/);
  const waited = env.sandbox.clock.now() - start;
  t.true(waited >= 60_000 && waited <= 10 * 60_000, `rode it out for a bounded time (${waited / 1000} s)`);
  env.sandbox.faults = { ...env.sandbox.faults, throttleRate: 0 };
  t.deepEqual(leftBehind(env), []);
  t.is(env.group('qa-b').desired, 0);
  t.is(lockObject(env), undefined);
});

test('throttling once the swap is committed (old color draining): the run still finishes and clears the record', async (t) => {
  const env = abEnv({ count: 3, drainingTimeout: 120 });
  const reporter = onFirstEvent(env.reporter, 'group.scale', 'qa-a', () => {
    env.sandbox.faults = { ...env.sandbox.faults, throttleRate: 0.6, serverErrorRate: 0.2 };
  });
  const r = await env.run({ lockBucket: 'qa-locks', reporter });
  t.is(r.status, 'done');
  t.is(env.group('qa-a').desired, 0);
  t.is(env.group('qa-b').desired, 3);
  t.true(env.reporter.codes().includes('aws.throttled'));
  if (leftBehind(env).length > 0) {
    // Throttled past the port's retry budget (5 min of back-off), the record's removal gives up:
    // the run says so (never silently), and the next run, seeing the finished swap's record, clears it.
    t.true(env.reporter.codes().includes('ab.record-left'), 'a record left behind is reported');
    env.sandbox.faults = { ...env.sandbox.faults, throttleRate: 0, serverErrorRate: 0 };
    const again = await env.run({ lockBucket: 'qa-locks' });
    t.is(again.status, 'done');
    t.is(env.group('qa-b').desired, 3, 'the re-run swaps nothing back');
  }
  t.deepEqual(leftBehind(env), []);
  t.is(env.group('qa-b').tags.find((x) => x.key === SWAP_TAG), undefined);
  t.is(lockObject(env), undefined);
});

test('the release itself throttled beyond its retries: exit 1 after a finished swap, naming the lock and how to clear it', async (t) => {
  const env = abEnv({ count: 2 });
  // Once the old color has drained, S3 answers nothing but SlowDown (the SDK gave up each time).
  let s3Down = false;
  const real = env.port('tool');
  const slowDown = () => Object.assign(new Error('Please reduce your request rate.'), { name: 'SlowDown', $fault: 'client', $metadata: { httpStatusCode: 503, attempts: 3 } });
  const port = new Proxy(real, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      if (/LockObject$/.test(String(prop))) return async (...args: unknown[]) => (s3Down ? Promise.reject(slowDown()) : v.apply(target, args));
      return v.bind(target);
    },
  });
  const reporter = onFirstEvent(env.reporter, 'ab.drained', 'qa-a', () => {
    s3Down = true;
  });
  const err = await t.throwsAsync(env.run({ port, clients: undefined, lockBucket: 'qa-locks', reporter }), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.is(err!.code, 'lock-release-failed');
  t.regex(err!.message, /s3:\/\/qa-locks\/qa\.lock/);
  t.regex(err!.message, /SlowDown/);
  t.regex(err!.message, /asg-deploy unlock --environment qa --lock-bucket-name qa-locks --force/);
  t.is(env.reporter.ofCode('lock.release-failed').length, 1, 'said once, as an error event');
  t.is(env.group('qa-b').desired, 2, 'the swap itself finished');
  t.truthy(lockObject(env), 'the lock is still there, as the message says');
  // The operator clears it as told; then nothing is left.
  s3Down = false;
  const clock = env.sandbox.clock;
  await unlockEnvironment({ port: env.port('ops'), clock, reporter: new RecordingReporter(clock) }, { environment: 'qa', bucket: 'qa-locks', force: true });
  t.is(lockObject(env), undefined);
  t.deepEqual(leftBehind(env), []);
});

test('kill -9 mid-swap (crashAfter): the lock is recognisable as the crashed run’s; after unlock --force a re-run finishes and leaves nothing', async (t) => {
  const env = abEnv({ count: 3, drainingTimeout: 60 });
  const clients = env.sandbox.newClients('doomed');
  env.sandbox.crashAfter(25, 'doomed');
  const { abDeploy } = await import('../../orchestrator/rollout/ab/runner');
  const clock = env.sandbox.clock;
  await t.throwsAsync(abDeploy({ clients, clock, reporter: env.reporter, environment: 'qa', instanceCount: 3, lockBucket: 'qa-locks' }));
  t.true(env.sandbox.crashed('doomed'));
  await clock.sleep(10 * 60_000); // the heartbeat stopped with the process
  const refused = await t.throwsAsync(env.run({ lockBucket: 'qa-locks' }, 'rerun-1'), { instanceOf: DeployError });
  t.is(refused!.exit, 3);
  t.regex(refused!.message, /left by a crashed run/);
  await unlockEnvironment({ port: env.port('ops'), clock, reporter: new RecordingReporter(clock) }, { environment: 'qa', bucket: 'qa-locks', force: true });
  const r = await env.run({ lockBucket: 'qa-locks' }, 'rerun-2');
  t.is(r.status, 'done');
  t.is(env.group('qa-b').desired, 3);
  t.deepEqual(env.live('qa-a'), []);
  t.deepEqual(leftBehind(env), []);
  t.is(lockObject(env), undefined);
});

test('tag lock: 5xx after applied tag writes and throttling do not leave the lock tag behind', async (t) => {
  const env = abEnv({ count: 2, seed: 3 });
  env.sandbox.faults = { ...env.sandbox.faults, throttleRate: 0.3, serverErrorRate: 0.3, serverErrorAfterCommitRate: 0.5 };
  const r = await env.run({ lock: { heartbeatMs: 15_000 } });
  t.is(r.status, 'done');
  for (const g of ['qa-a', 'qa-b']) t.is(env.group(g).tags.find((x) => x.key === LOCK_TAG), undefined, `${g}: lock tag removed`);
  t.deepEqual(leftBehind(env), []);
});
