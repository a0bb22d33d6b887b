import test from 'ava';
import {
  DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand, ResourceContentionFault, SetDesiredCapacityCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { Sandbox, SandboxCrashedError } from '../../orchestrator/sandbox';
import type { InstanceRec } from '../../orchestrator/sandbox/model';
import { FAILED_ZONE_AVOID_MS } from '../../orchestrator/sandbox/autoscaling/state';
import { SCALE_DELAY_MS, TICK_MS } from '../../orchestrator/sandbox/world';
import { active, byZone, sandbox, setDesired } from './helpers';

test('boot time follows the configured distribution, per image', (t) => {
  const sb = Sandbox.create({ seed: 9, faults: { bootSeconds: { min: 100, max: 200 } } });
  sb.setImage('ami-slow', { bootSeconds: { mean: 600, sd: 30 } });
  sb.seedGroup({ name: 'g', capacity: 20, settle: false });
  sb.seedGroup({ name: 's', capacity: 5, imageId: 'ami-slow', settle: false });
  sb.advance(TICK_MS);
  const boots = active(sb, 'g').map((i) => (i.runningAt - i.launchTime) / 1000);
  t.true(boots.every((b) => b >= 100 && b <= 200));
  t.true(new Set(boots).size > 10, 'not all equal');
  const slow = active(sb, 's').map((i) => (i.runningAt - i.launchTime) / 1000);
  t.true(slow.every((b) => b > 450 && b < 750));
});

test('a bad image (never healthy) stays OutOfService; an ELB-type ASG keeps replacing its instances', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, healthCheckGracePeriod: 120, elb: { name: 'lb' } });
  sb.setImage('ami-bad', { healthy: false });
  sb.newLaunchTemplateVersion('g-lt', { ImageId: 'ami-bad' });
  setDesired(sb, 'g', 3);
  sb.advance(30 * 60_000);
  const healthy = active(sb, 'g').filter((i) => sb.world.isHealthy(i));
  t.is(healthy.length, 2, 'the old instances keep serving');
  t.true(sb.monitor.terminations({ cause: ['replace-unhealthy'] }).length >= 3);
  t.true(sb.monitor.terminations({ cause: ['replace-unhealthy'] }).every((r) => r.launch.kind === 'lt' && r.launch.version === 2));
});

test('a launch template version can be bad while the image is fine (fails after N seconds)', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, elb: { name: 'lb' } });
  const v2 = sb.newLaunchTemplateVersion('g-lt', { InstanceType: 't3.large' });
  sb.setLaunchTemplateVersion('g-lt', v2, { failAfterSeconds: 150 });
  setDesired(sb, 'g', 2);
  sb.advance(TICK_MS);
  const fresh = active(sb, 'g').find((i) => i.lifecycle === 'Pending')!;
  sb.clock.advanceTo(fresh.launchTime + 120_000);
  t.true(sb.world.isHealthy(fresh));
  sb.clock.advanceTo(fresh.launchTime + 200_000);
  t.false(sb.world.isHealthy(fresh));
});

test('launch failures are Failed scaling activities (InsufficientInstanceCapacity); launches resume when capacity returns', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1 });
  sb.faults.launchFailureRate = 1;
  setDesired(sb, 'g', 2);
  sb.advance(120_000);
  t.is(active(sb, 'g').length, 1);
  const { Activities } = await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g' }));
  const failed = Activities!.filter((a) => a.StatusCode === 'Failed');
  t.true(failed.length >= 2);
  t.regex(failed[0].StatusMessage!, /We currently do not have sufficient t3\.small capacity/);
  t.true(failed.length < 12, 'backs off between attempts');
  sb.faults.launchFailureRate = 0;
  sb.advance(600_000);
  t.is(active(sb, 'g').length, 2);
});

test('[ASG-3a] a zone without capacity: the launch is tried there and fails (InsufficientInstanceCapacity), then goes to another zone; the zone is avoided for a while, then tried again', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 3, max: 10 });
  t.deepEqual(byZone(active(sb, 'g')), { 'us-east-1a': 1, 'us-east-1b': 1, 'us-east-1c': 1 });
  sb.faults.unavailableZones = ['us-east-1a'];
  const failedIn1a = async () => {
    const { Activities } = await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g' }));
    return Activities!.filter((a) => a.StatusCode === 'Failed' && /\(us-east-1a\)/.test(a.StatusMessage ?? ''));
  };
  // Fewest instances, ties by name: 1a — tried, fails; after the back-off the launch goes to 1b.
  setDesired(sb, 'g', 4);
  sb.advance(SCALE_DELAY_MS);
  t.is(active(sb, 'g').length, 3);
  const failed = await failedIn1a();
  t.is(failed.length, 1);
  t.is(
    failed[0].StatusMessage,
    'We currently do not have sufficient t3.small capacity in the Availability Zone you requested (us-east-1a). Our system will be working on provisioning additional capacity. You can currently get t3.small capacity by not specifying an Availability Zone in your request or choosing us-east-1b, us-east-1c. Launching EC2 instance failed.',
  );
  t.is(failed[0].Description, 'Launching a new EC2 instance.  Status Reason: ' + failed[0].StatusMessage);
  sb.advance(TICK_MS * 2);
  t.deepEqual(byZone(active(sb, 'g')), { 'us-east-1a': 1, 'us-east-1b': 2, 'us-east-1c': 1 });
  // Within the avoid period: 1a (now among the fewest) is not tried again.
  setDesired(sb, 'g', 5);
  sb.advance(TICK_MS * 2);
  t.deepEqual(byZone(active(sb, 'g')), { 'us-east-1a': 1, 'us-east-1b': 2, 'us-east-1c': 2 });
  t.is((await failedIn1a()).length, 1);
  // After it: tried again (still without capacity: a second failure), then elsewhere.
  sb.advance(FAILED_ZONE_AVOID_MS);
  setDesired(sb, 'g', 6);
  sb.advance(TICK_MS * 2);
  t.is((await failedIn1a()).length, 2);
  t.is(byZone(active(sb, 'g'))['us-east-1a'], 1);
  t.is(active(sb, 'g').length, 6);
  // Capacity back: after the avoid period the zone takes launches again (no new failure).
  sb.faults.unavailableZones = [];
  sb.advance(FAILED_ZONE_AVOID_MS);
  setDesired(sb, 'g', 7);
  sb.advance(TICK_MS * 2);
  t.true(byZone(active(sb, 'g'))['us-east-1a'] >= 2);
  t.is((await failedIn1a()).length, 2);
});

test('spontaneous terminations happen at the configured rate and the ASG replaces them', (t) => {
  const sb = sandbox({ seed: 21 });
  sb.seedGroup({ name: 'g', capacity: 20 });
  sb.faults.spontaneousTerminationsPerHour = 0.5;
  sb.advance(3600_000);
  const n = sb.monitor.terminations({ cause: ['spontaneous'] }).length;
  t.true(n >= 4 && n <= 25, `${n} spontaneous terminations of 20 instances in an hour at 0.5/h`);
  sb.faults.spontaneousTerminationsPerHour = 0;
  sb.settle();
  t.is(active(sb, 'g').length, 20);
});

test('5xx errors are retried by the SDK; with one attempt they surface as InternalFailure (server, 500)', async (t) => {
  const sb = Sandbox.create({ seed: 2, maxAttempts: 1 });
  sb.faults.serverErrorRate = 1;
  const e: any = await t.throwsAsync(sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({})));
  t.is(e.name, 'InternalFailure');
  t.is(e.$fault, 'server');
  t.is(e.$metadata.httpStatusCode, 500);
  const sb2 = Sandbox.create({ seed: 2, maxAttempts: 5 });
  sb2.faults.serverErrorRate = 0.5;
  const out = await Promise.all(Array.from({ length: 10 }, () => sb2.clients.ec2.send(new DescribeInstancesCommand({}))));
  t.true(out.some((o) => o.$metadata.attempts! > 1));
  t.true(sb2.calls.some((c) => c.error === 'InternalError'));
});

test('a 5xx after commit: the change is applied although the call failed', async (t) => {
  const sb = Sandbox.create({ seed: 2, maxAttempts: 1 });
  sb.seedGroup({ name: 'g', capacity: 1 });
  sb.faults.serverErrorRate = 1;
  sb.faults.serverErrorAfterCommitRate = 1;
  await t.throwsAsync(sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 2 })), { name: 'InternalFailure' });
  t.is(sb.world.state.groups.g.desired, 2);
});

test('ResourceContention is the modeled ResourceContentionFault', async (t) => {
  const sb = Sandbox.create({ maxAttempts: 1 });
  sb.seedGroup({ name: 'g', capacity: 1 });
  sb.faults.resourceContentionRate = 1;
  const e = await t.throwsAsync(sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 2 })));
  t.true(e instanceof ResourceContentionFault);
  t.is(sb.world.state.groups.g.desired, 1);
});

test('eventual consistency: a new instance is in the ASG at once but unknown to DescribeInstances for a while', async (t) => {
  const sb = sandbox({ faults: { describeDelaySeconds: 30 } });
  sb.seedGroup({ name: 'g', capacity: 0, max: 2 });
  setDesired(sb, 'g', 1);
  sb.advance(TICK_MS);
  const { AutoScalingGroups } = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  const id = AutoScalingGroups![0].Instances![0].InstanceId!;
  const e: any = await t.throwsAsync(sb.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] })));
  t.is(e.name, 'InvalidInstanceID.NotFound');
  sb.advance(30_000);
  const r = await sb.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [id] }));
  t.is(r.Reservations![0].Instances![0].InstanceId, id);
});

test('crashAfter: the crashed client set fails every call from then on; a new client set works', async (t) => {
  const sb = Sandbox.create();
  sb.seedGroup({ name: 'g', capacity: 1 });
  sb.crashAfter(2);
  await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
  await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
  await t.throwsAsync(sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 0 })), { instanceOf: SandboxCrashedError });
  await t.throwsAsync(sb.clients.ec2.send(new DescribeInstancesCommand({})), { instanceOf: SandboxCrashedError });
  t.is(sb.world.state.groups.g.desired, 1, 'nothing reached the simulated AWS');
  t.true(sb.crashed());
  const rerun = sb.newClients('rerun');
  await rerun.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 0 }));
  t.is(sb.world.state.groups.g.desired, 0);
  t.is(sb.callCount({ actor: 'rerun' }), 1);
});

test('same seed, same run', (t) => {
  const run = () => {
    const sb = Sandbox.create({ seed: 77, faults: { bootSeconds: { min: 20, max: 90 }, spontaneousTerminationsPerHour: 1, launchFailureRate: 0.2 } });
    sb.seedGroup({ name: 'g', capacity: 6, elb: { name: 'lb' } });
    sb.advance(2 * 3600_000);
    return JSON.stringify({ i: sb.world.state.instances, m: sb.monitor.terminations() });
  };
  t.is(run(), run());
});

test('an AZ without capacity, then recovering: launches go elsewhere, then AZRebalance moves instances back', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 6, max: 8 });
  sb.faults.unavailableZones = ['us-east-1a'];
  // Replace the two instances in 1a (EC2 terminations): the ASG relaunches them in 1b/1c.
  for (const i of active(sb, 'g').filter((x) => x.az === 'us-east-1a')) sb.direct('ec2', 'TerminateInstances', { InstanceIds: [i.id] });
  sb.settle();
  const zones = () => active(sb, 'g').reduce((m: Record<string, number>, i) => ((m[i.az] = (m[i.az] ?? 0) + 1), m), {});
  t.false('us-east-1a' in zones());
  t.is(sb.monitor.terminations({ cause: ['rebalance'] }).length, 0);
  sb.faults.unavailableZones = [];
  sb.advance(30 * 60_000);
  t.deepEqual(zones(), { 'us-east-1a': 2, 'us-east-1b': 2, 'us-east-1c': 2 });
  t.is(sb.monitor.terminations({ cause: ['rebalance'] }).length, 2);
});

// [FAULT-11] Per-instance boot failures, per image (or everywhere), seeded.
const bootFailureModes: Array<{ mode: 'never-healthy' | 'terminated'; check: (t: any, sb: Sandbox, inst: InstanceRec) => void }> = [
  {
    mode: 'never-healthy',
    check(t, sb, inst) {
      t.is(inst.ec2State, 'running', 'EC2 booted');
      t.is(sb.world.elbStates(inst).lb, 'OutOfService', 'the application never answers');
    },
  },
  {
    mode: 'terminated',
    check(t, _sb, inst) {
      t.is(inst.ec2State, 'terminated', 'pending -> terminated during launch');
      t.is(inst.stateReason, 'Server.InternalError: Internal error on launch');
    },
  },
];

for (const { mode, check } of bootFailureModes) {
  test(`boot failures (${mode}): about the configured share of one image's instances fail; other images boot; the ASG replaces them`, (t) => {
    const sb = sandbox({ seed: 11 });
    sb.seedGroup({ name: 'g', capacity: 40, max: 200, healthCheckGracePeriod: 60, elb: { name: 'lb' } });
    sb.setImage('ami-flaky', { bootFailureRate: 0.3, bootFailureMode: mode });
    const v2 = sb.newLaunchTemplateVersion('g-lt', { ImageId: 'ami-flaky' });
    t.true(active(sb, 'g').every((i) => i.bootFailure === undefined), 'the seeded image is not affected');
    setDesired(sb, 'g', 140);
    sb.advance(1_000);
    const fresh = active(sb, 'g').filter((i) => i.launch.kind === 'lt' && i.launch.version === v2);
    t.is(fresh.length, 100);
    const failing = fresh.filter((i) => i.bootFailure === mode);
    t.true(failing.length >= 15 && failing.length <= 45, `${failing.length} of 100 fail`);
    t.true(fresh.every((i) => i.bootFailure === undefined || i.bootFailure === mode));
    sb.advance(40_000 + 60_000); // boot, then ELB checks
    for (const inst of failing.slice(0, 3)) check(t, sb, inst);
    t.true(fresh.filter((i) => !i.bootFailure).every((i) => sb.world.isHealthy(i)), 'the others are healthy');
    sb.advance(10 * 60_000);
    const replaced = sb.monitor.terminations({ group: 'g', cause: ['replace-unhealthy'] }).map((r) => r.instanceId);
    t.true(failing.every((i) => replaced.includes(i.id)), 'every failed boot was replaced');
    t.true(replaced.every((id) => failing.some((i) => i.id === id) || sb.world.state.instances[id]?.bootFailure === mode));
  });
}

test('boot failures are deterministic from the seed, and the global rate applies to every image', (t) => {
  const run = (seed: number) => {
    const sb = sandbox({ seed, faults: { bootFailureRate: 0.5 } });
    sb.seedGroup({ name: 'g', capacity: 200, settle: false });
    sb.advance(1_000);
    return active(sb, 'g').map((i) => `${i.id}:${i.bootFailure ?? 'ok'}`);
  };
  t.deepEqual(run(3), run(3));
  t.notDeepEqual(run(3), run(4));
  const failed = run(3).filter((x) => x.endsWith('never-healthy')).length;
  t.true(failed > 70 && failed < 130, `${failed} of 200`);
});

test('a terminated boot fails its launch activity with the StateReason and EC2 reports it', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, max: 3 });
  sb.setImage('ami-dead', { bootFailureRate: 1, bootFailureMode: 'terminated' });
  sb.newLaunchTemplateVersion('g-lt', { ImageId: 'ami-dead' });
  setDesired(sb, 'g', 2);
  sb.advance(1_000);
  const inst = active(sb, 'g').find((i) => i.lifecycle === 'Pending')!;
  sb.advance(40_000);
  const out = await sb.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [inst.id] }));
  const ec2 = out.Reservations![0].Instances![0];
  t.is(ec2.State!.Name, 'terminated');
  t.is(ec2.StateReason!.Code, 'Server.InternalError');
  const acts = await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g' }));
  const launch = acts.Activities!.find((a) => a.Description === `Launching a new EC2 instance: ${inst.id}`)!;
  t.is(launch.StatusCode, 'Failed');
  t.regex(launch.StatusMessage!, /Server\.InternalError/);
});

test('[FAULT-15] API latency: a call takes its drawn latency of simulated time, is carried out halfway, and concurrent calls overlap', async (t) => {
  const sb = Sandbox.create({ seed: 4, faults: { apiLatencyMs: { min: 400, max: 400 } } });
  sb.seedGroup({ name: 'g', capacity: 2 });
  const t0 = sb.clock.now();
  await sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 3 }));
  t.is(sb.clock.now() - t0, 400, 'answered after the latency');
  const call = sb.calls.find((c) => c.operation === 'SetDesiredCapacity')!;
  t.is(call.time - t0, 200, 'carried out halfway through it');
  const t1 = sb.clock.now();
  await Promise.all([1, 2, 3].map(() => sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }))));
  t.is(sb.clock.now() - t1, 400, 'three reads at once take one latency, not three');
  const none = Sandbox.create({ seed: 4 });
  none.seedGroup({ name: 'g', capacity: 2 });
  const t2 = none.clock.now();
  await none.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.is(none.clock.now() - t2, 0, 'unset: no latency');
});
