/**
 * Round-2 regressions of the chaos suite on the simulated AWS: throttling storms are ridden out
 * (seed 360599742), restore under throttling is retried and never claimed when it did not happen
 * (3711504334, 1366260431), and a re-run after a crash with a bad image removes the crashed run's
 * surge instance (352356199, 2140814355). Plus the polling targets where virtual time makes them
 * deterministic.
 */
import test from 'ava';
import { Sandbox, SandboxCrashedError, type FaultConfig } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';
import { RESTORE_TAG } from '../../orchestrator/rollout/guard';
import { isTransient, withRetry } from '../../orchestrator/aws/transient';
import { VirtualClock } from '../../orchestrator/clock';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { forceUnlockGroup } from '../helpers/force-unlock';

const ELB = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 };

function world(capacity = 3, o: { seed?: number; faults?: Partial<FaultConfig>; drain?: number; boot?: number } = {}) {
  const sb = Sandbox.create({ seed: o.seed ?? 7, faults: { bootSeconds: o.boot ?? 90, appStartSeconds: 0, ...(o.faults ?? {}) } });
  sb.seedGroup({
    name: 'qa-rabbit',
    capacity,
    max: capacity,
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 300,
    elb: { name: 'qa-rabbit', healthCheck: { target: 'HTTP:8080/health', ...ELB }, drainingTimeout: o.drain ?? 0 },
  });
  sb.advance(3600_000);
  return sb;
}

function roll(sb: Sandbox, o: Partial<RollOptions> = {}, actor?: string) {
  const reporter = new RecordingReporter(sb.clock);
  const p = rollGroup({ clients: actor ? sb.newClients(actor) : sb.clients, clock: sb.clock, reporter, asg: 'qa-rabbit', ...o });
  return { p, reporter };
}

const hasRestoreTag = (sb: Sandbox) => sb.world.state.groups['qa-rabbit'].tags.some((x) => x.key === RESTORE_TAG);

test('isTransient: throttling, 5xx, contention, scaling activity in progress and the network are; validation is not', (t) => {
  for (const e of [
    { name: 'Throttling' },
    { name: 'RequestLimitExceeded' },
    { name: 'X', $metadata: { httpStatusCode: 503 } },
    { name: 'InternalFailure', $metadata: { httpStatusCode: 500 } },
    { name: 'ResourceContentionFault' },
    { name: 'ScalingActivityInProgress' },
    Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }),
    { name: 'TimeoutError' },
  ]) {
    t.true(isTransient(e), JSON.stringify(e));
  }
  for (const e of [{ name: 'ValidationError', $metadata: { httpStatusCode: 400 } }, { name: 'AccessDenied' }, new DeployError('x', 'y')]) t.false(isTransient(e), JSON.stringify(e));
});

test('withRetry backs off 1, 2, 4 … s in clock time and gives up after its budget with the last error', async (t) => {
  const clock = new VirtualClock();
  const start = clock.now();
  let n = 0;
  const ok = await withRetry(async () => {
    if (++n < 4) throw { name: 'Throttling' };
    return clock.now() - start;
  }, { clock });
  t.is(ok, 1000 + 2000 + 4000);
  const t1 = clock.now();
  let attempts = 0;
  const err = await t.throwsAsync(
    withRetry(async () => {
      attempts++;
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    }, { clock, budgetMs: 60_000 }),
  );
  // 1+2+4+8+16 = 31 s of back-off, the next (30 s) would pass the 60 s budget.
  t.is(clock.now() - t1, 31_000);
  t.is(attempts, 6);
  t.is(err?.name, 'Throttling');
  const t2 = clock.now();
  await t.throwsAsync(withRetry(async () => Promise.reject(Object.assign(new Error('bad'), { name: 'ValidationError' })), { clock }), { name: 'ValidationError' });
  t.is(clock.now(), t2, 'no back-off for an error that is not transient');
});

test('a throttling storm beyond the SDK\'s 3 attempts is ridden out: done, exit 0, nothing left behind', async (t) => {
  const sb = world(3, { faults: { throttleRate: 0.6 } });
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb);
  const r = await p;
  t.is(r.status, 'done');
  t.true(reporter.ofCode('aws.throttled').length > 0, 'the engine itself retried (the SDK gave up at least once)');
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('qa-rabbit'), []);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
  t.false(hasRestoreTag(sb));
});

test('SIGINT under throttling: the restore is retried until done, exit 130, nothing left changed', async (t) => {
  const sb = world(5, { faults: { throttleRate: 0.6 } });
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
  sb.monitor.baseline();
  const ac = new AbortController();
  const start = sb.clock.now();
  sb.clock.onAdvance((now) => {
    if (now - start > 150_000 && !ac.signal.aborted) ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
  });
  const { p, reporter } = roll(sb, { signal: ac.signal });
  const e = (await t.throwsAsync(p, { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 130);
  t.regex(e.message, /restored/);
  t.is(reporter.ofCode(Codes.failed)[0].data.restored, true);
  sb.advance(120_000);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
  t.false(hasRestoreTag(sb));
});

test('a restore that cannot finish is not claimed: exit 130 naming what is left changed, restore tag kept; a re-run finishes it', async (t) => {
  const sb = world(3);
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
  sb.monitor.baseline();
  const ac = new AbortController();
  const start = sb.clock.now();
  sb.clock.onAdvance((now) => {
    if (now - start > 30_000 && !ac.signal.aborted) {
      // AWS throttles every call from now on: nothing can be restored.
      sb.faults.throttleRate = 1;
      ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
    }
  });
  const { p, reporter } = roll(sb, { signal: ac.signal, transientBudgetMs: 60_000 });
  const e = (await t.throwsAsync(p, { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 130);
  t.notRegex(e.message, /everything the tool changed was restored/);
  t.regex(e.message, /restore incomplete/);
  t.regex(e.message, /suspended AZRebalance/);
  t.regex(e.message, /re-run/);
  const failed = reporter.ofCode(Codes.failed)[0];
  t.is(failed.data.restored, false);
  t.true((failed.data.left as string[]).length > 0);
  t.true(hasRestoreTag(sb), 'the restore tag stays so a re-run can finish');

  sb.faults.throttleRate = 0;
  // The lock could not be released either (every call throttled): the operator clears it.
  await forceUnlockGroup(createAwsPort(sb.newClients('operator'), sb.clock), sb.clock, 'qa-rabbit');
  const r = await roll(sb, {}, 'rerun').p;
  t.is(r.status, 'done');
  sb.advance(60_000);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
  t.false(hasRestoreTag(sb));
});

test('a failed restore after a normal failure exits 1 with the same honest message', async (t) => {
  const sb = world(3);
  sb.setImage('ami-0bad000000000000', { healthy: false });
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0bad000000000000' });
  const { p } = roll(sb, { stepTimeoutMs: 5 * 60_000, transientBudgetMs: 30_000 });
  const start = sb.clock.now();
  sb.clock.onAdvance((now) => {
    if (now - start > 5 * 60_000) sb.faults.throttleRate = 1;
  });
  const e = (await t.throwsAsync(p, { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 1);
  t.regex(e.message, /restore incomplete.*left changed: qa-rabbit: .*restore tag asg-deploy:restore kept/);
  t.true(hasRestoreTag(sb));
});

for (const crashAfter of [12, 16]) {
  test(`killed run (after ${crashAfter} calls) + bad image: the re-run halts, removes the killed run's surge, restores everything`, async (t) => {
    const sb = world(3, { boot: 40 });
    const old = sb.world.groupInstances(sb.world.state.groups['qa-rabbit']).map((i) => i.id);
    sb.setImage('ami-0bad000000000000', { healthy: false });
    sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0bad000000000000' });
    sb.monitor.baseline();
    const t0 = sb.clock.now();
    sb.crashAfter(crashAfter);
    // lock: false (both runs) — the kill point is counted in API calls from the run's start and
    // was chosen for the rollout's own calls; a killed run's lock is tested in test/roll/lock.test.ts.
    const first = roll(sb, { stepTimeoutMs: 5 * 60_000, lock: false });
    const err = await t.throwsAsync(first.p);
    t.true(sb.crashed());
    t.true(err instanceof SandboxCrashedError || (err as DeployError).cause instanceof SandboxCrashedError || /crash/i.test(String(err?.message)), String(err));
    t.true(hasRestoreTag(sb));
    const g = sb.world.state.groups['qa-rabbit'];
    t.true(g.desired > 3, 'the killed run left its surge');

    const { p, reporter } = roll(sb, { stepTimeoutMs: 5 * 60_000, lock: false }, 'rerun');
    const e = (await t.throwsAsync(p, { instanceOf: DeployError })) as DeployError;
    t.is(e.exit, 1);
    t.notRegex(e.message, /not in the plan/);
    t.is(reporter.ofCode(Codes.failed)[0].data.restored, true);
    sb.advance(120_000);
    t.is(g.desired, 3);
    t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
    t.false(hasRestoreTag(sb));
    t.deepEqual(sb.monitor.healthyUpToDateTerminated('qa-rabbit'), []);
    t.deepEqual(old.filter((id) => !sb.world.isActive(sb.world.state.instances[id])), [], 'every old node still serving');
    t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
  });
}

for (const { size, batch, maxCalls } of [
  { size: 3, batch: 1, maxCalls: 15 },
  { size: 100, batch: 10, maxCalls: 4 },
]) {
  test(`adaptive polling, ${size} instances at batch ${batch}: ≤ 1.03 × the physical limit and ≤ ${maxCalls} API calls per instance`, async (t) => {
    const sb = world(size);
    sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
    // lock: false — the engine's own calls per instance, against its target (as the benchmark measures them).
    const r = await roll(sb, { surge: batch, batchSize: batch, lock: false }).p;
    const limit = (size / batch) * (90 + ELB.interval * ELB.healthyThreshold);
    t.log(`${r.seconds} s (limit ${limit} s), ${(r.apiCalls / size).toFixed(1)} calls per instance`);
    t.true(r.seconds <= limit * 1.03, `${r.seconds} s > 1.03 × ${limit} s`);
    t.true(r.apiCalls / size <= maxCalls, `${r.apiCalls} calls for ${size} instances`);
    const tool = sb.calls.filter((c) => c.actor === 'tool');
    t.is(tool.filter((c) => c.operation === 'DescribeScalingActivities').length, 1, 'boot time read once from the launch activities');
    // While new instances are Pending or cannot have passed yet, the ELB is not asked; in the
    // window where they may pass (its check phase is unknown: 11.5 s here) at most three times per
    // step — two looks and the read that acts (polling.ts) — plus the first observation and the
    // final check.
    t.true(tool.filter((c) => c.operation === 'DescribeInstanceHealth').length <= 3 * (size / batch) + 2, `${tool.filter((c) => c.operation === 'DescribeInstanceHealth').length} DescribeInstanceHealth`);
  });
}

test('done means out of service: with draining the rollout ends when the last drain ends, not after EC2 shutdown', async (t) => {
  const sb = world(3, { drain: 60 });
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
  const { p } = roll(sb);
  const r = await p;
  const lastTerminate = Math.max(...sb.calls.filter((c) => c.actor === 'tool' && c.operation === 'TerminateInstanceInAutoScalingGroup').map((c) => c.time));
  const end = sb.clock.now();
  t.true(end - lastTerminate >= 60_000, 'waited for the drain');
  t.true(end - lastTerminate <= 60_000 + 3_000, `${(end - lastTerminate) / 1000} s after the last terminate`);
  t.is(r.status, 'done');
});

test('a dry run that would be refused says so: exit 3, no mutating call', async (t) => {
  const sb = world(3);
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
  const before = sb.calls.length;
  const e = (await t.throwsAsync(roll(sb, { surge: 0, minHealthy: 3, dryRun: true }).p, { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 3);
  t.deepEqual(
    sb.calls.slice(before).filter((c) => !/^Describe/.test(c.operation)).map((c) => c.operation),
    [],
  );
});

test('nothing outdated but a new instance still booting (the last replacement of an interrupted run): waits until it is healthy, changes nothing', async (t) => {
  const sb = world(3);
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'qa-rabbit', MaxSize: 4, DesiredCapacity: 4 });
  sb.advance(10_000);
  const before = sb.calls.length;
  // lock: false — this asserts that the engine itself writes nothing at all; the lock's own tag
  // writes (take, heartbeat, release) are tested in test/roll/lock.test.ts.
  const { p, reporter } = roll(sb, { lock: false });
  const r = await p;
  t.is(r.status, 'done');
  t.regex(String(reporter.ofCode(Codes.plan)[0].message), /waiting for/);
  const g = sb.world.state.groups['qa-rabbit'];
  const insts = sb.world.groupInstances(g).filter((i) => sb.world.isActive(i));
  t.is(insts.length, 4);
  t.true(insts.every((i) => sb.world.isHealthy(i)), 'done only once every instance is healthy');
  t.deepEqual(sb.calls.slice(before).filter((c) => c.actor === 'tool' && !/^Describe/.test(c.operation)).map((c) => c.operation), []);
});
