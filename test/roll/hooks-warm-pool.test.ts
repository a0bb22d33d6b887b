/**
 * Rolling a group with lifecycle hooks and a warm pool on the simulated AWS (issue 15 items 1–3):
 * real SDK clients, the real adapter, the virtual clock; the sandbox's safety monitor checked.
 */
import test from 'ava';
import { Sandbox, type FaultConfig } from '../../orchestrator/sandbox';
import type { SeedGroupSpec } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';

const ELB = { name: 'qa-rabbit', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 30 };

function world(extra: Partial<SeedGroupSpec>, faults: Partial<FaultConfig> = {}, capacity = 3) {
  const sb = Sandbox.create({ seed: 7, faults: { bootSeconds: 40, ...faults } });
  sb.seedGroup({ name: 'qa-rabbit', capacity, max: capacity * 2, elb: ELB, ...extra });
  sb.advance(600_000);
  return sb;
}

function roll(sb: Sandbox, o: Partial<RollOptions> = {}) {
  const reporter = new RecordingReporter(sb.clock);
  const p = rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'qa-rabbit', lock: false, ...o });
  return { p, reporter };
}

function seenIn(sb: Sandbox, id: string, lifecycle: string): boolean {
  return sb.monitor.timeline({ instanceId: id }).some((e) => e.lifecycle === lifecycle);
}

test('launch hook: every new instance waits in Pending:Wait, is not counted healthy meanwhile, the rollout never drops below capacity', async (t) => {
  const sb = world({ lifecycleHooks: [{ name: 'bootstrap', transition: 'launch', heartbeatTimeout: 300 }] }, { lifecycleAgents: { launch: { seconds: { min: 20, max: 40 }, abandonRate: 0, hangRate: 0 } } });
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-new' });
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb);
  const r = await p;
  t.is(r.status, 'done');
  t.is(r.replaced.length, 3);
  const fresh = sb.world.groupInstances(sb.world.state.groups['qa-rabbit']).filter((i) => sb.world.isActive(i));
  t.is(fresh.length, 3);
  for (const i of fresh) t.true(seenIn(sb, i.id, 'Pending:Wait'), `${i.id} went through Pending:Wait`);
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('qa-rabbit'), []);
  // No instance is terminated while a new one is still in its hook: each terminate follows a healthy.
  const codes = reporter.codes().filter((c) => c === Codes.healthy || c === Codes.terminate);
  t.is(codes[0], Codes.healthy);
});

test('launch hook that times out with default result ABANDON: each new instance is a failed replacement, reported as such; the rollout stops, the old instances untouched', async (t) => {
  const sb = world(
    { lifecycleHooks: [{ name: 'bootstrap', transition: 'launch', heartbeatTimeout: 60, defaultResult: 'ABANDON' }], settle: false },
    { lifecycleAgents: { launch: { seconds: 10, abandonRate: 0, hangRate: 0 } } },
  );
  sb.settle({ group: 'qa-rabbit' });
  // From now on nobody answers: the hook times out.
  sb.world.state.faults.lifecycleAgents = { launch: { seconds: 10, abandonRate: 0, hangRate: 1 } };
  const old = sb.world.groupInstances(sb.world.state.groups['qa-rabbit']).map((i) => i.id);
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-new' });
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb, { stepTimeoutMs: 600_000 });
  const err = (await t.throwsAsync(p, { instanceOf: DeployError })) as DeployError;
  t.is(err.code, 'replacement-failing');
  t.regex(err.message, /launch lifecycle hook bootstrap ended ABANDON/);
  const abandoned = reporter.ofCode('rollout.hook-abandoned');
  t.true(abandoned.length >= 2, `${abandoned.length} hook-abandoned events`);
  t.deepEqual(abandoned[0].data.hooks, ['bootstrap']);
  t.deepEqual(old.filter((id) => !sb.world.isActive(sb.world.state.instances[id])), [], 'no old instance terminated');
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
});

test('termination hook: the next step does not wait for Terminating:Wait; the final done waits for it and says how long', async (t) => {
  const sb = world({ lifecycleHooks: [{ name: 'drain', transition: 'terminate', heartbeatTimeout: 600, defaultResult: 'CONTINUE' }] }, { lifecycleAgents: { terminate: { seconds: 240, abandonRate: 0, hangRate: 0 } } });
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-new' });
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb);
  const r = await p;
  t.is(r.status, 'done');
  const terms = reporter.ofCode(Codes.terminate).map((e) => Date.parse(e.time));
  t.is(terms.length, 3);
  // Steps follow each other faster than the hook's 240 s: nobody waited for the drain script.
  t.true(terms[2] - terms[0] < 2 * 240_000, `steps ${(terms[2] - terms[0]) / 1000} s apart in all`);
  for (const id of r.replaced) t.true(seenIn(sb, id, 'Terminating:Wait'), `${id} went through Terminating:Wait`);
  const waits = reporter.ofCode('rollout.hook-wait');
  t.is(waits.length, 3, 'each termination hook wait reported');
  const done = reporter.ofCode(Codes.done)[0];
  t.true(Date.parse(done.time) >= terms[2] + 240_000, 'done after the last drain script finished');
  t.regex(done.message, /termination lifecycle hooks: waited \d+ s for i-/);
  t.true(Date.parse(done.time) - t0 < 40 * 60_000);
});

test('termination hook that never answers: done waits for it until AWS applies the default result at the heartbeat timeout, and says so', async (t) => {
  const sb = world({ lifecycleHooks: [{ name: 'drain', transition: 'terminate', heartbeatTimeout: 1200, defaultResult: 'CONTINUE' }] }, { lifecycleAgents: { terminate: { seconds: 1, abandonRate: 0, hangRate: 1 } } }, 1);
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-new' });
  const { p, reporter } = roll(sb);
  const r = await p;
  t.is(r.status, 'done');
  const term = Date.parse(reporter.ofCode(Codes.terminate)[0].time);
  const done = reporter.ofCode(Codes.done)[0];
  const waited = Date.parse(done.time) - term;
  t.true(waited >= 1200_000 && waited < 1200_000 + 120_000, `waited ${waited / 1000} s`);
  t.regex(done.message, /termination lifecycle hooks: waited 12\d\d s for i-/);
});

test('warm pool of outdated instances: replaced first, no scale-out brings the old version back, the pool is back at its size and state at the end', async (t) => {
  const sb = world({ warmPool: { poolState: 'Stopped' } }, { warmStartSeconds: 10 });
  const g = sb.world.state.groups['qa-rabbit'];
  const warmOld = sb.world.warmPool.instances(g).map((i) => i.id);
  t.is(warmOld.length, 3);
  const v2 = sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-new' });
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb);
  const r = await p;
  t.is(r.status, 'done');
  t.is(r.replaced.length, 3, 'the group\'s three; the warm pool\'s are not counted as replaced');
  const first = reporter.ofCode(Codes.terminate)[0];
  t.regex(first.message, /warm pool/);
  t.deepEqual(reporter.ofCode(Codes.terminate).filter((e) => /warm pool/.test(e.message)).map((e) => e.data.instanceId).sort(), [...warmOld].sort());
  // No outdated warmed instance ever joined the group.
  t.deepEqual(warmOld.filter((id) => sb.monitor.timeline({ instanceId: id }).some((e) => e.group === 'qa-rabbit')), []);
  const pool = sb.world.warmPool.instances(g);
  t.is(pool.length, 3);
  t.true(pool.every((i) => i.lifecycle === 'Warmed:Stopped' && i.launch.kind === 'lt' && i.launch.version === v2));
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
  t.regex(reporter.ofCode(Codes.done)[0].message, /warm pool: 3 outdated warmed instance\(s\) replaced, back at 3 Warmed:Stopped/);
  // A later scale-out warm-starts the new version.
  sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: 'qa-rabbit', DesiredCapacity: 4 });
  sb.settle({ group: 'qa-rabbit' });
  t.true(sb.world.groupInstances(g).filter((i) => sb.world.isActive(i)).every((i) => i.launch.kind === 'lt' && i.launch.version === v2));
});

test('warm pool with an outdated instance protected from scale-in (--protected ignore, skipped): the end re-reads the pool and finishes (chaos seed 2563016312 waited on a stale view for ever)', async (t) => {
  const sb = world({ warmPool: { poolState: 'Running', minSize: 1 } }, { warmStartSeconds: 10 });
  const g = sb.world.state.groups['qa-rabbit'];
  const kept = sb.world.groupInstances(g)[0].id;
  sb.direct('autoscaling', 'SetInstanceProtection', { AutoScalingGroupName: 'qa-rabbit', InstanceIds: [kept], ProtectedFromScaleIn: true });
  const v2 = sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-new' });
  const { p, reporter } = roll(sb, { stepTimeoutMs: 600_000 });
  const r = await p;
  t.is(r.status, 'done');
  t.is(r.replaced.length, 2, 'the protected one skipped');
  const done = reporter.ofCode(Codes.done)[0];
  t.regex(done.message, /warm pool: \d+ outdated warmed instance\(s\) replaced, back at 3 Warmed:Running/);
  t.true(sb.world.warmPool.instances(g).every((i) => i.launch.kind === 'lt' && i.launch.version === v2 && i.lifecycle === 'Warmed:Running'));
});

test('warm pool: the end waits for the refill by reading the pool alone, from when the last launch into it could be warmed, and notices it back within a few seconds (issue 15 item 3)', async (t) => {
  const sb = world({ warmPool: { poolState: 'Stopped' } }, { warmStartSeconds: 10 });
  const g = sb.world.state.groups['qa-rabbit'];
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-new' });
  const t0 = sb.clock.now();
  const { p } = roll(sb);
  t.is((await p).status, 'done');
  const calls = sb.calls.filter((c) => c.time >= t0);
  // The end: from the last step's terminate (with decrement) to the restore.
  const lastStep = Math.max(...calls.filter((c) => c.operation === 'TerminateInstanceInAutoScalingGroup').map((c) => c.time));
  const restored = calls.find((c) => c.operation === 'ResumeProcesses')!.time;
  const end = calls.filter((c) => c.time > lastStep && c.time <= restored);
  const count = (op: string) => end.filter((c) => c.operation === op).length;
  // The pool refilled after the last step: its last instance warmed at…
  const warmed = Math.max(...sb.world.warmPool.instances(g).map((i) => Math.min(...sb.monitor.timeline({ instanceId: i.id }).filter((e) => e.lifecycle === 'Warmed:Stopped').map((e) => e.time))));
  t.true(warmed > lastStep);
  t.true(restored >= warmed);
  // Before: a whole look (group, load balancer, pool) every 10 s, up to 10 s late.
  t.true(restored - warmed <= 5_000 + 1_500, `noticed ${(restored - warmed) / 1000} s after the pool was back`);
  t.true(count('DescribeWarmPool') > count('DescribeAutoScalingGroups'), `pool ${count('DescribeWarmPool')} vs group ${count('DescribeAutoScalingGroups')} reads`);
  // The group is still read at least every 30 s (GROUP_READ_MAX_AGE_MS), and once the pool is back, before done.
  const groupReads = end.filter((c) => c.operation === 'DescribeAutoScalingGroups').map((c) => c.time);
  for (let k = 1; k < groupReads.length; k++) t.true(groupReads[k] - groupReads[k - 1] <= 30_000 + 5_000 + 1_500);
  t.true(groupReads[groupReads.length - 1] >= warmed);
});
