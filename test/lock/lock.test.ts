import test from 'ava';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError } from '../../orchestrator/errors';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { acquireRunLock, freezeEnvironment, unlockEnvironment, LockCodes } from '../../orchestrator/lock/lock';
import { LOCK_TAG, decodeTagValue, describeLock, encodeTagValue, isMine, isStale } from '../../orchestrator/lock/record';
import { FakeLockPort } from './fake-port';

function setup(groups = ['qa-a', 'qa-b']) {
  const fake = new FakeLockPort(groups);
  const clock = new VirtualClock();
  const reporter = new RecordingReporter(clock);
  return { fake, clock, reporter, deps: { port: fake.port(), clock, reporter } };
}

// --- pure record questions -------------------------------------------------------------------

test('isMine: freezes by person, run locks by run id', (t) => {
  const table: Array<[string, Parameters<typeof isMine>[0], Parameters<typeof isMine>[1], boolean]> = [
    ['my freeze from another shell', { holder: 'ann@box pid 1', reason: 'x', since: 0 }, { holder: 'ann@box pid 2' }, true],
    ['someone else freeze', { holder: 'bob@box pid 1', reason: 'x', since: 0 }, { holder: 'ann@box pid 2' }, false],
    ['another run of mine (maybe crashed)', { holder: 'ann@box pid 1', reason: 'x', since: 0, runId: 'r1' }, { holder: 'ann@box pid 2' }, false],
    ['this run', { holder: 'ann@box pid 1', reason: 'x', since: 0, runId: 'r1' }, { holder: 'ann@box pid 1', runId: 'r1' }, true],
  ];
  for (const [name, record, me, expected] of table) t.is(isMine(record, me), expected, name);
});

test('isStale: only run locks whose heartbeat stopped; a freeze never goes stale', (t) => {
  const min = 60_000;
  t.false(isStale({ holder: 'a', reason: '', since: 0, runId: 'r', heartbeat: 9 * min }, 10 * min, 5 * min));
  t.true(isStale({ holder: 'a', reason: '', since: 0, runId: 'r', heartbeat: 4 * min }, 10 * min, 5 * min));
  t.true(isStale({ holder: 'a', reason: '', since: 0, runId: 'r' }, 10 * min, 5 * min));
  t.false(isStale({ holder: 'a', reason: '', since: 0 }, 1000 * min, 5 * min));
});

test('describeLock names holder, reason, age; a stale run lock says crashed and how to clear', (t) => {
  const since = Date.parse('2026-01-01T00:00:00Z');
  const fresh = describeLock({ holder: 'ann@ci pid 7', reason: 'ab qa', since, runId: 'r', heartbeat: since + 290_000 }, since + 300_000);
  t.regex(fresh, /ann@ci pid 7/);
  t.regex(fresh, /ab qa/);
  t.regex(fresh, /5m 0s ago/);
  t.notRegex(fresh, /crashed/);
  const stale = describeLock({ holder: 'ann@ci pid 7', reason: 'ab qa', since, runId: 'r', heartbeat: since + 60_000 }, since + 3_600_000);
  t.regex(stale, /left by a crashed run at 2026-01-01T00:01:00.000Z/);
  t.regex(stale, /unlock --force/);
});

test('tag values stay within 256 characters and round-trip', (t) => {
  const record = { holder: 'someone@a-rather-long-hostname.example.internal pid 123456', reason: 'x'.repeat(400), since: 1, runId: 'f'.repeat(36), heartbeat: 2 };
  const value = encodeTagValue(record);
  t.true(value.length <= 256);
  const back = decodeTagValue(value);
  t.is(back.holder, record.holder);
  t.is(back.runId, record.runId);
  t.true(back.reason.startsWith('xxx'));
  t.is(decodeTagValue('frozen by hand').holder, 'unknown (hand-written tag)');
});

// --- S3 store -------------------------------------------------------------------------------

test('S3: a second run is refused with exit 3 naming holder, reason and age; release frees it', async (t) => {
  const { deps, clock, fake, reporter } = setup();
  const first = await acquireRunLock(deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab qa', holder: 'ann@ci pid 1' });
  t.truthy(fake.objects.get('locks/qa.lock'));
  await clock.sleep(120_000);
  const err = await t.throwsAsync(acquireRunLock(deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'other', holder: 'bob@ci pid 2' }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.regex(err!.message, /ann@ci pid 1/);
  t.regex(err!.message, /ab qa/);
  t.regex(err!.message, /2m 0s ago/);
  t.false(err!.data.stale);
  t.is(err!.code, 'locked');
  t.like(err!.data, { holder: 'ann@ci pid 1', reason: 'ab qa', ageSeconds: 120 });
  await first.release();
  t.false(fake.objects.has('locks/qa.lock'));
  const again = await acquireRunLock(deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'retry', holder: 'bob@ci pid 2' });
  await again.release();
});

test('S3: two concurrent runs, exactly one wins', async (t) => {
  const { deps } = setup();
  const results = await Promise.allSettled([
    acquireRunLock(deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'one', holder: 'a@h pid 1' }),
    acquireRunLock(deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'two', holder: 'b@h pid 2' }),
  ]);
  t.is(results.filter((r) => r.status === 'fulfilled').length, 1);
  const lost = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
  t.is((lost.reason as DeployError).exit, 3);
  for (const r of results) if (r.status === 'fulfilled') await r.value.release();
});

test('S3: the heartbeat is refreshed while held; a crashed run is recognised as such', async (t) => {
  const { deps, clock, fake } = setup();
  const lock = await acquireRunLock(deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab', holder: 'a@h pid 1', heartbeatMs: 30_000 });
  const start = clock.now();
  await clock.sleep(95_000);
  const stored = fake.objects.get('locks/qa.lock')!.record;
  t.is(stored.heartbeat, start + 90_000);
  // Crash: the process is gone, nothing releases the lock; simulate by stopping the heartbeat
  // without removing the object.
  const orphan = { ...fake.objects.get('locks/qa.lock')! };
  await lock.release();
  fake.objects.set('locks/qa.lock', orphan);
  await clock.sleep(10 * 60_000);
  const err = await t.throwsAsync(acquireRunLock(deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'next', holder: 'a@h pid 2' }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.true(err!.data.stale as boolean);
  t.regex(err!.message, /left by a crashed run/);
  t.regex(err!.message, /unlock --force/);
  // Not mine (another run's lock) without --force...
  const refused = await t.throwsAsync(unlockEnvironment(deps, { environment: 'qa', bucket: 'locks', groups: [], holder: 'a@h pid 3' }), { instanceOf: DeployError });
  t.is(refused!.exit, 3);
  // ...and with --force it goes, the event naming whose it was.
  const released = await unlockEnvironment({ ...deps }, { environment: 'qa', bucket: 'locks', groups: [], holder: 'a@h pid 3', force: true });
  t.is(released!.record.holder, 'a@h pid 1');
  t.false(fake.objects.has('locks/qa.lock'));
});

test('S3: someone force-unlocking during a run is noticed by the heartbeat, and release leaves the new lock alone', async (t) => {
  const { deps, clock, fake, reporter } = setup();
  const lock = await acquireRunLock(deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab', holder: 'a@h pid 1', heartbeatMs: 30_000 });
  await unlockEnvironment(deps, { environment: 'qa', bucket: 'locks', groups: [], holder: 'b@h pid 9', force: true });
  await freezeEnvironment(deps, { environment: 'qa', bucket: 'locks', groups: [], holder: 'b@h pid 9', reason: 'incident' });
  await clock.sleep(31_000);
  t.true(lock.lost);
  t.is(reporter.ofCode(LockCodes.lost).length, 1);
  await lock.release();
  t.is(fake.objects.get('locks/qa.lock')!.record.reason, 'incident');
});

test('freeze and unlock: a freeze refuses runs; its owner unlocks without --force, others need it', async (t) => {
  const { deps } = setup();
  await freezeEnvironment(deps, { environment: 'qa', bucket: 'locks', groups: [], holder: 'ann@laptop pid 5', reason: 'release freeze' });
  const err = await t.throwsAsync(acquireRunLock(deps, { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab', holder: 'ci@runner pid 1' }), { instanceOf: DeployError });
  t.regex(err!.message, /release freeze/);
  t.regex(err!.message, /freeze/);
  const notYours = await t.throwsAsync(unlockEnvironment(deps, { environment: 'qa', bucket: 'locks', groups: [], holder: 'ci@runner pid 1' }), { instanceOf: DeployError });
  t.regex(notYours!.message, /--force/);
  const released = await unlockEnvironment(deps, { environment: 'qa', bucket: 'locks', groups: [], holder: 'ann@laptop pid 77' });
  t.is(released!.record.reason, 'release freeze');
  t.is(await unlockEnvironment(deps, { environment: 'qa', bucket: 'locks' }), undefined);
});

// --- tag store ------------------------------------------------------------------------------

test('tags: the lock is a tag on every group of the environment, removed on release', async (t) => {
  const { deps, fake } = setup();
  const lock = await acquireRunLock(deps, { environment: 'qa', reason: 'ab', holder: 'a@h pid 1' });
  t.truthy(fake.tags.get('qa-a')![LOCK_TAG]);
  t.truthy(fake.tags.get('qa-b')![LOCK_TAG]);
  t.regex(lock.location, /qa-a, qa-b/);
  await lock.release();
  t.is(fake.tags.get('qa-a')![LOCK_TAG] as string | undefined, undefined);
  t.is(fake.tags.get('qa-b')![LOCK_TAG] as string | undefined, undefined);
});

test('tags: two runs racing on one clock, exactly one proceeds and the loser leaves no tag', async (t) => {
  const { deps, fake } = setup();
  const results = await Promise.allSettled([
    acquireRunLock(deps, { environment: 'qa', reason: 'one', holder: 'a@h pid 1' }),
    acquireRunLock(deps, { environment: 'qa', reason: 'two', holder: 'b@h pid 2' }),
  ]);
  const won = results.filter((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<typeof acquireRunLock>>>[];
  t.is(won.length, 1);
  const value = decodeTagValue(fake.tags.get('qa-a')![LOCK_TAG]!);
  t.is(value.runId, won[0].value.record.runId);
  t.is(decodeTagValue(fake.tags.get('qa-b')![LOCK_TAG]!).runId, won[0].value.record.runId);
  await won[0].value.release();
});

test('tags: a hand-written lock tag is respected', async (t) => {
  const { deps, fake } = setup();
  fake.tags.get('qa-b')![LOCK_TAG] = 'do not deploy: migration';
  const err = await t.throwsAsync(acquireRunLock(deps, { environment: 'qa', reason: 'ab' }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.regex(err!.message, /do not deploy: migration/);
  t.is(fake.tags.get('qa-a')![LOCK_TAG] as string | undefined, undefined);
});

test('tags: no group for the environment is bad input (exit 2)', async (t) => {
  const { deps } = setup(['prod-a']);
  const err = await t.throwsAsync(acquireRunLock(deps, { environment: 'qa', reason: 'ab' }), { instanceOf: DeployError });
  t.is(err!.exit, 2);
});

test('S3: a missing bucket is bad input (exit 2) naming it; other AWS errors exit 1 naming the lock', async (t) => {
  const { deps } = setup();
  const failing = (name: string) => ({
    ...deps,
    port: { ...deps.port, putLockObject: async () => { throw Object.assign(new Error('boom'), { name }); } },
  });
  const e2 = await t.throwsAsync(acquireRunLock(failing('NoSuchBucket'), { environment: 'qa', bucket: 'nope', reason: 'ab' }), { instanceOf: DeployError });
  t.is(e2!.exit, 2);
  t.regex(e2!.message, /s3:\/\/nope\/qa.lock/);
  const e1 = await t.throwsAsync(acquireRunLock(failing('AccessDenied'), { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab' }), { instanceOf: DeployError });
  t.is(e1!.exit, 1);
  t.regex(e1!.message, /AccessDenied/);
});

test('S3: a store that rejects conditional deletes still releases our own lock (and only ours)', async (t) => {
  const { deps, fake } = setup();
  const port = { ...deps.port };
  const plainDelete = port.deleteLockObject;
  port.deleteLockObject = async (bucket, key, etag) => {
    if (etag) throw Object.assign(new Error('If-Match not implemented'), { name: 'NotImplemented' });
    return plainDelete(bucket, key);
  };
  const lock = await acquireRunLock({ ...deps, port }, { environment: 'qa', bucket: 'locks', groups: [], reason: 'ab', holder: 'a@h pid 1' });
  await lock.release();
  t.false(fake.objects.has('locks/qa.lock'));
});

test('tags: interrupted while the lock settles: exit 130 and our tag taken back off', async (t) => {
  const { deps, fake, clock } = setup();
  const controller = new AbortController();
  const p = acquireRunLock({ ...deps, signal: controller.signal }, { environment: 'qa', reason: 'ab', holder: 'a@h pid 1', settleMs: 3000 });
  await clock.sleep(1000);
  controller.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
  const err = await t.throwsAsync(p, { instanceOf: DeployError });
  t.is(err!.exit, 130);
  t.is(fake.tags.get('qa-a')![LOCK_TAG] as string | undefined, undefined);
  t.is(fake.tags.get('qa-b')![LOCK_TAG] as string | undefined, undefined);
});
