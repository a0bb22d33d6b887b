import test from 'ava';
import { DeployError } from '../../orchestrator/errors';
import { acquireRunLock, unlockEnvironment } from '../../orchestrator/lock/lock';
import { LOCK_TAG } from '../../orchestrator/lock/record';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { abDeploy } from '../../orchestrator/rollout/ab/runner';
import { SWAP_TAG } from '../../orchestrator/rollout/ab/strategy';
import { abEnv } from './harness';
import { onFirstEvent } from '../helpers/reporter-tap';

for (const bucket of [undefined, 'qa-locks']) {
  test(`two concurrent runs on one environment: exactly one proceeds (${bucket ? 'S3 lock' : 'tag lock'})`, async (t) => {
    const env = abEnv({ count: 3 });
    const start = env.sandbox.clock.now();
    const results = await Promise.allSettled([env.run({ lockBucket: bucket }, 'run-1'), env.run({ lockBucket: bucket }, 'run-2')]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    t.is(ok.length, 1);
    t.is(refused.length, 1);
    const err = refused[0].reason as DeployError;
    t.is(err.exit, 3);
    t.is(err.code, 'locked');
    // The loser changed nothing but (for tags) its own attempt at the lock.
    const loser = results[0].status === 'rejected' ? 'run-1' : 'run-2';
    const loserOps = new Set(env.sandbox.calls.filter((c) => c.actor === loser && c.mutating).map((c) => c.operation));
    for (const op of loserOps) t.true(['CreateOrUpdateTags', 'DeleteTags', 'PutObject'].includes(op), op);
    // One swap happened, cleanly: b serves 3, a drained, serving never below 3.
    t.is(env.group('qa-b').desired, 3);
    t.is(env.group('qa-a').desired, 0);
    for (const s of env.servingTimeline().filter((s) => s.time >= start)) t.true(s.a + s.b >= 3);
    t.is(env.group('qa-a').tags.find((x) => x.key === LOCK_TAG), undefined, 'lock released');
  });
}

test('a lock left by a crashed run: refused naming it as such; unlock --force clears it', async (t) => {
  const env = abEnv({ count: 2 });
  const port = env.port('crashed');
  const clock = env.sandbox.clock;
  // A run took the S3 lock and died: its heartbeat stopped an hour ago.
  await port.putLockObject('qa-locks', 'qa.lock', { holder: 'ci@runner-7 pid 4242', reason: 'asg-deploy ab qa', since: clock.now() - 3_700_000, runId: 'dead-run', heartbeat: clock.now() - 3_600_000 });
  const err = await t.throwsAsync(env.run({ lockBucket: 'qa-locks' }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.regex(err!.message, /ci@runner-7 pid 4242/);
  t.regex(err!.message, /left by a crashed run at/);
  t.regex(err!.message, /unlock --force/);
  t.is(env.group('qa-b').desired, 0, 'nothing changed');
  const reporter = new RecordingReporter(clock);
  await unlockEnvironment({ port, clock, reporter }, { environment: 'qa', bucket: 'qa-locks', force: true });
  t.regex(reporter.ofCode('lock.released')[0].message, /ci@runner-7 pid 4242.*left by a crashed run/);
  const r = await env.run({ lockBucket: 'qa-locks' });
  t.is(r.status, 'done');
});

test('a freeze (asg-deploy lock) refuses the run with holder, reason and age', async (t) => {
  const env = abEnv({ count: 2 });
  const clock = env.sandbox.clock;
  const port = env.port('ops');
  await acquireRunLock({ port, clock, reporter: new RecordingReporter(clock) }, { environment: 'qa', reason: 'unused', runId: 'x' }).then((l) => l.release());
  const { freezeEnvironment } = await import('../../orchestrator/lock/lock');
  await freezeEnvironment({ port, clock, reporter: new RecordingReporter(clock) }, { environment: 'qa', reason: 'incident 42: do not deploy', holder: 'ann@laptop pid 1' });
  await clock.sleep(600_000);
  const err = await t.throwsAsync(env.run(), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.regex(err!.message, /ann@laptop pid 1 \(incident 42: do not deploy\).*10m \d+s ago/);
  t.is(env.group('qa-b').desired, 0);
});

test('SIGINT mid-swap (new color launching): exit 130, b scaled back, a untouched; a re-run finishes', async (t) => {
  const env = abEnv({ count: 3 });
  const start = env.sandbox.clock.now();
  const controller = new AbortController();
  const reporter = onFirstEvent(env.reporter, Codes.launch, 'qa-b', () => controller.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' })));
  const err = await t.throwsAsync(
    abDeploy({ clients: env.sandbox.clients, clock: env.sandbox.clock, reporter, signal: controller.signal, environment: 'qa', instanceCount: 3 }),
    { instanceOf: DeployError },
  );
  t.is(err!.exit, 130);
  t.is(env.group('qa-b').desired, 0, 'what the tool raised is restored');
  t.is(env.group('qa-a').desired, 3);
  t.is(env.sandbox.monitor.minHealthy('qa-a', start), 3);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-a'), [], 'no suspended process, tag or size left on a');
  t.deepEqual(env.sandbox.monitor.leftovers('qa-b'), []);
  const r = await env.run();
  t.is(r.status, 'done');
  t.is(env.sandbox.monitor.healthyCount('qa-b'), 3);
  t.is(env.group('qa-a').desired, 0);
});

test('SIGINT after the commit point (old color draining): the swap stands; a re-run waits for the drain instead of swapping back', async (t) => {
  const env = abEnv({ count: 3, drainingTimeout: 120 });
  const controller = new AbortController();
  const reporter = onFirstEvent(env.reporter, Codes.scale, 'qa-a', () => controller.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' })));
  const err = await t.throwsAsync(
    abDeploy({ clients: env.sandbox.clients, clock: env.sandbox.clock, reporter, signal: controller.signal, environment: 'qa', instanceCount: 3 }),
    { instanceOf: DeployError },
  );
  t.is(err!.exit, 130);
  t.is(env.group('qa-a').desired, 0, 'the drain is not undone');
  t.is(env.group('qa-b').desired, 3);
  t.truthy(env.group('qa-b').tags.find((x) => x.key === SWAP_TAG), 'the swap record stays for the re-run');
  const r = await env.run();
  t.is(r.status, 'done');
  t.is(env.group('qa-b').desired, 3, 'not swapped back');
  t.deepEqual(env.live('qa-a'), [], 'drained: the old instances are out of service and shutting down');
  t.true(env.reporter.codes().includes('ab.resumed'));
  t.is(env.group('qa-b').tags.find((x) => x.key === SWAP_TAG), undefined);
});

test('a crash mid-growth (kill -9): the re-run is refused by the stale lock until unlock --force, then finishes the swap', async (t) => {
  const env = abEnv({ count: 4 });
  const start = env.sandbox.clock.now();
  const clients = env.sandbox.newClients('doomed');
  const reporter = onFirstEvent(env.reporter, Codes.healthy, 'qa-b', () => env.sandbox.crashAfter(0, 'doomed'));
  await t.throwsAsync(abDeploy({ clients, clock: env.sandbox.clock, reporter, environment: 'qa', instanceCount: 4, instanceCountStep: 2 }));
  t.true(env.sandbox.crashed('doomed'));
  // Left behind: b partly grown, both populated, the swap record and the lock.
  t.true(env.group('qa-b').desired >= 2);
  t.is(env.group('qa-a').desired, 4);
  await env.sandbox.clock.sleep(10 * 60_000);
  const refused = await t.throwsAsync(env.run({}, 'rerun'), { instanceOf: DeployError });
  t.is(refused!.exit, 3);
  t.regex(refused!.message, /left by a crashed run/);
  await unlockEnvironment({ port: env.port('ops'), clock: env.sandbox.clock, reporter: env.reporter }, { environment: 'qa', force: true });
  const r = await env.run({}, 'rerun');
  t.is(r.status, 'done');
  t.true(env.reporter.codes().includes('ab.resumed'));
  t.is(env.sandbox.monitor.healthyCount('qa-b'), 4);
  t.is(env.group('qa-a').desired, 0);
  t.is(env.sandbox.monitor.minHealthy('qa-a', start, Date.parse(env.reporter.ofCode(Codes.scale).find((e) => e.data.asg === 'qa-a')!.time)), 4);
  const left = (g: string) => env.sandbox.monitor.leftovers(g).filter((l) => !['desired', 'min'].includes(l.what));
  t.deepEqual(left('qa-a'), []);
  t.deepEqual(left('qa-b'), []);
});

test('a drain that cannot finish (Terminate suspended by someone mid-swap): exit 1 after the drain timeout, the swap stands, a re-run finishes it', async (t) => {
  const env = abEnv({ count: 2, drainingTimeout: 30 });
  const reporter = onFirstEvent(env.reporter, Codes.scale, 'qa-a', () =>
    env.sandbox.direct('autoscaling', 'SuspendProcesses', { AutoScalingGroupName: 'qa-a', ScalingProcesses: ['Terminate'] }),
  );
  const err = await t.throwsAsync(
    abDeploy({ clients: env.sandbox.clients, clock: env.sandbox.clock, reporter, environment: 'qa', instanceCount: 2, healthCheckTimeout: 120 }),
    { instanceOf: DeployError },
  );
  t.is(err!.exit, 1);
  t.is(err!.code, 'ab.drain-timeout');
  t.regex(err!.message, /qa-a: still 2 instance\(s\) after 1\d\d s of draining/);
  t.is(env.group('qa-b').desired, 2, 'the new color keeps serving');
  t.is(env.sandbox.monitor.healthyCount('qa-b'), 2);
  t.truthy(env.group('qa-a').tags.find((x) => x.key === SWAP_TAG), 'the swap record stays');
  t.true(env.reporter.codes().includes('ab.committed'));
  env.sandbox.direct('autoscaling', 'ResumeProcesses', { AutoScalingGroupName: 'qa-a', ScalingProcesses: ['Terminate'] });
  const r = await env.run();
  t.is(r.status, 'done');
  t.deepEqual(env.live('qa-a'), [], 'drained: the old instances are out of service and shutting down');
  t.is(env.group('qa-b').desired, 2);
});

test('--single-asg: a crash after the drain resumes with the growth and gives the min back', async (t) => {
  const env = abEnv({ count: 2 });
  env.sandbox.seedGroup({ name: 'load', capacity: 3, min: 3, max: 6, launchTemplateName: 'load-lt', imageId: 'ami-l1' });
  env.sandbox.newLaunchTemplateVersion('load-lt', { ImageId: 'ami-l2' });
  const reporter = onFirstEvent(env.reporter, 'ab.drained', 'load', () => env.sandbox.crashAfter(0, 'doomed'));
  await t.throwsAsync(abDeploy({ clients: env.sandbox.newClients('doomed'), clock: env.sandbox.clock, reporter, environment: 'load', singleAsg: true, instanceCount: 3, lock: false }));
  t.is(env.group('load').desired, 0);
  t.is(env.group('load').min, 0);
  const r = await env.run({ environment: 'load', singleAsg: true, instanceCount: 5, lock: false }, 'rerun');
  t.is(r.status, 'done');
  t.true(env.reporter.codes().includes('ab.resumed'));
  t.is(env.group('load').desired, 3, 'the recorded count, not the new flag');
  t.is(env.group('load').min, 3);
  t.is(env.group('load').tags.find((x) => x.key === SWAP_TAG), undefined);
});
