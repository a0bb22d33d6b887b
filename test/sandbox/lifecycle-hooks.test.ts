/**
 * [HOOK-1..6] lifecycle hooks and [WARM-1..6] warm pools in the simulated Auto Scaling, through the
 * real SDK client where the API is involved.
 */
import test from 'ava';
import {
  CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeLifecycleHooksCommand, DescribeScalingActivitiesCommand,
  DescribeWarmPoolCommand, PutLifecycleHookCommand, RecordLifecycleActionHeartbeatCommand, TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { DescribeInstanceHealthCommand } from '@aws-sdk/client-elastic-load-balancing';
import type { Sandbox } from '../../orchestrator/sandbox';
import { SCALE_DELAY_MS } from '../../orchestrator/sandbox/world';
import { active, sandbox, setDesired } from './helpers';

const hang = { seconds: 1, abandonRate: 0, hangRate: 1 };

async function states(sb: Sandbox): Promise<Record<string, string>> {
  const out = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  return Object.fromEntries((out.AutoScalingGroups?.[0]?.Instances ?? []).map((i) => [i.InstanceId!, i.LifecycleState!]));
}

async function registered(sb: Sandbox, id: string): Promise<boolean> {
  const out = await sb.clients.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: 'lb' }));
  return (out.InstanceStates ?? []).some((s) => s.InstanceId === id);
}

test('[HOOK-1] PutLifecycleHook defaults (3600 s, ABANDON, global 48 h or 100 × heartbeat) and bounds; DescribeLifecycleHooks lists them', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1 });
  const asg = sb.clients.autoScaling;
  await asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'g', LifecycleHookName: 'boot', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING' }));
  await asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'g', LifecycleHookName: 'drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 120, DefaultResult: 'CONTINUE' }));
  const out = await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'g' }));
  t.deepEqual(
    out.LifecycleHooks!.map((h) => [h.LifecycleHookName, h.LifecycleTransition, h.HeartbeatTimeout, h.GlobalTimeout, h.DefaultResult]),
    [
      ['boot', 'autoscaling:EC2_INSTANCE_LAUNCHING', 3600, 172800, 'ABANDON'],
      ['drain', 'autoscaling:EC2_INSTANCE_TERMINATING', 120, 12000, 'CONTINUE'],
    ],
  );
  const bad = await t.throwsAsync(asg.send(new PutLifecycleHookCommand({ AutoScalingGroupName: 'g', LifecycleHookName: 'x', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 10 })));
  t.is(bad!.name, 'ValidationError');
});

test('[HOOK-2] a launch hook holds a new instance in Pending:Wait, out of the load balancer, until CompleteLifecycleAction CONTINUE; then InService', async (t) => {
  const sb = sandbox({ faults: { lifecycleAgents: { launch: hang } } });
  sb.seedGroup({ name: 'g', capacity: 1, max: 3, elb: { name: 'lb', drainingTimeout: 0 } });
  sb.direct('autoscaling', 'PutLifecycleHook', { AutoScalingGroupName: 'g', LifecycleHookName: 'boot', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 300 });
  setDesired(sb, 'g', 2);
  sb.advance(SCALE_DELAY_MS + 41_000);
  const fresh = active(sb, 'g').find((i) => i.lifecycle !== 'InService')!;
  t.is((await states(sb))[fresh.id], 'Pending:Wait');
  t.is(fresh.ec2State, 'running');
  t.false(await registered(sb, fresh.id), 'not registered with the load balancer while waiting');
  sb.advance(200_000);
  t.is((await states(sb))[fresh.id], 'Pending:Wait', 'nobody answered, the heartbeat timeout not yet passed');
  await sb.clients.autoScaling.send(new CompleteLifecycleActionCommand({ AutoScalingGroupName: 'g', LifecycleHookName: 'boot', InstanceId: fresh.id, LifecycleActionResult: 'CONTINUE' }));
  t.is((await states(sb))[fresh.id], 'InService');
  t.true(await registered(sb, fresh.id));
});

test('[HOOK-4] the heartbeat timeout applies the default result: ABANDON terminates the instance and fails its launch activity [HOOK-5]; a heartbeat extends the wait', async (t) => {
  const sb = sandbox({ faults: { lifecycleAgents: { launch: hang } } });
  sb.seedGroup({ name: 'g', capacity: 1, max: 3 });
  sb.direct('autoscaling', 'PutLifecycleHook', { AutoScalingGroupName: 'g', LifecycleHookName: 'boot', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 60 });
  setDesired(sb, 'g', 2);
  sb.advance(SCALE_DELAY_MS + 41_000);
  const fresh = active(sb, 'g').find((i) => i.lifecycle === 'Pending:Wait')!;
  sb.advance(50_000);
  await sb.clients.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({ AutoScalingGroupName: 'g', LifecycleHookName: 'boot', InstanceId: fresh.id }));
  sb.advance(50_000);
  t.is(fresh.lifecycle, 'Pending:Wait', 'the heartbeat restarted the 60 s timeout');
  sb.advance(15_000);
  t.not(fresh.lifecycle, 'Pending:Wait');
  t.true(fresh.lifecycle!.startsWith('Terminat'), `abandoned: ${fresh.lifecycle}`);
  const acts = await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g' }));
  const launch = acts.Activities!.find((a) => a.Description === `Launching a new EC2 instance: ${fresh.id}`)!;
  t.is(launch.StatusCode, 'Failed');
  t.regex(launch.StatusMessage!, /Lifecycle Action with token .* was abandoned: Heartbeat Timeout/);
  sb.advance(SCALE_DELAY_MS + 11_000);
  t.true(active(sb, 'g').some((i) => i.id !== fresh.id && i.lifecycle === 'Pending'), 'the group launches a replacement');
});

test('[HOOK-3] a termination hook: deregistered (drained) first, then Terminating:Wait with EC2 still running, then Terminating:Proceed and terminated', async (t) => {
  const sb = sandbox({ faults: { lifecycleAgents: { terminate: { seconds: 100, abandonRate: 0, hangRate: 0 } } } });
  sb.seedGroup({ name: 'g', capacity: 2, elb: { name: 'lb', drainingTimeout: 30 } });
  sb.direct('autoscaling', 'PutLifecycleHook', { AutoScalingGroupName: 'g', LifecycleHookName: 'drain', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 300 });
  const victim = active(sb, 'g')[0];
  await sb.clients.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim.id, ShouldDecrementDesiredCapacity: true }));
  t.is(victim.lifecycle, 'Terminating');
  sb.advance(31_000);
  t.is((await states(sb))[victim.id], 'Terminating:Wait');
  t.false(await registered(sb, victim.id));
  t.is(victim.ec2State, 'running');
  sb.advance(100_000);
  t.is(victim.ec2State, 'shutting-down');
  t.is(victim.lifecycle, 'Terminating:Proceed');
  sb.advance(30_000);
  t.false(victim.id in (await states(sb)), 'gone from the group once EC2 terminated it');
});

test('[WARM-1..4] a warm pool fills to max − desired, Warmed:Stopped; a scale-out draws on it (fast) with the spec the warmed instance was launched from', async (t) => {
  const sb = sandbox({ faults: { warmStartSeconds: 5 } });
  const { launchTemplateName } = sb.seedGroup({ name: 'g', capacity: 2, max: 4, warmPool: { poolState: 'Stopped' } });
  const pool = await sb.clients.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'g' }));
  t.deepEqual(pool.WarmPoolConfiguration, { MinSize: 0, PoolState: 'Stopped', InstanceReusePolicy: { ReuseOnScaleIn: false } });
  t.deepEqual(pool.Instances!.map((i) => i.LifecycleState), ['Warmed:Stopped', 'Warmed:Stopped']);
  const pooled = pool.Instances!.map((i) => i.InstanceId!);
  t.true(pooled.every((id) => sb.world.state.instances[id].ec2State === 'stopped'));
  const g = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.is(g.AutoScalingGroups![0].WarmPoolSize, 2);
  const v2 = sb.newLaunchTemplateVersion(launchTemplateName, { ImageId: 'ami-2' });
  sb.advance(3600_000);
  const launchedIntoPool = Object.fromEntries(pooled.map((id) => [id, sb.world.state.instances[id].launchTime]));
  const asked = sb.clock.now();
  setDesired(sb, 'g', 3);
  sb.advance(SCALE_DELAY_MS + 6_000);
  const warmed = pooled.find((id) => sb.world.state.instances[id].group === 'g')!;
  t.truthy(warmed, 'one of the warmed instances joined the group');
  const ec2 = await sb.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [warmed] }));
  const launchTime = ec2.Reservations![0].Instances![0].LaunchTime!.getTime();
  t.true(launchTime >= asked && launchTime > launchedIntoPool[warmed] + 3_000_000, 'EC2 LaunchTime is its start out of the pool ("the time that the instance was last launched"), not its launch into the pool an hour before');
  t.is((await states(sb))[warmed], 'InService', 'a warm start: InService a few seconds later');
  t.is(sb.world.state.instances[warmed].launch.kind === 'lt' && sb.world.state.instances[warmed].launch.version, 1, 'still the old version');
  t.true(v2 > 1);
});

test('[WARM-5] TerminateInstanceInAutoScalingGroup on a warmed instance: the pool launches its replacement from the current spec', async (t) => {
  const sb = sandbox();
  const { launchTemplateName } = sb.seedGroup({ name: 'g', capacity: 1, max: 2, warmPool: {} });
  const [old] = sb.world.warmPool.instances(sb.world.state.groups.g);
  const v2 = sb.newLaunchTemplateVersion(launchTemplateName, { ImageId: 'ami-2' });
  await sb.clients.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: old.id, ShouldDecrementDesiredCapacity: false }));
  sb.settle({ group: 'g' });
  const pool = await sb.clients.autoScaling.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'g' }));
  t.is(pool.Instances!.length, 1);
  t.not(pool.Instances![0].InstanceId, old.id);
  t.is(pool.Instances![0].LaunchTemplate!.Version, String(v2));
  t.is(pool.Instances![0].LifecycleState, 'Warmed:Stopped');
});

test('[WARM-3] with a launch hook, an instance launched into the pool waits in Warmed:Pending:Wait, and again in Pending:Wait when it leaves the pool', async (t) => {
  const sb = sandbox({ faults: { lifecycleAgents: { launch: { seconds: 20, abandonRate: 0, hangRate: 0 } }, warmStartSeconds: 5 } });
  sb.seedGroup({ name: 'g', capacity: 1, max: 2, lifecycleHooks: [{ name: 'boot', transition: 'launch', heartbeatTimeout: 300 }], settle: false });
  sb.advance(SCALE_DELAY_MS + 1);
  sb.direct('autoscaling', 'PutWarmPool', { AutoScalingGroupName: 'g', PoolState: 'Running' });
  sb.advance(45_000);
  const [w] = sb.world.warmPool.instances(sb.world.state.groups.g);
  t.is(w.lifecycle, 'Warmed:Pending:Wait');
  sb.advance(20_000);
  t.is(w.lifecycle, 'Warmed:Running');
  sb.settle({ group: 'g' });
  // The group's one instance sits in another zone than the warmed one: the next launch goes to the warmed one's zone.
  t.not(sb.world.groupInstances(sb.world.state.groups.g)[0].az, w.az);
  setDesired(sb, 'g', 2);
  sb.advance(SCALE_DELAY_MS + 1);
  t.is(w.lifecycle, 'Pending:Wait', 'kept running: straight to the launch hook');
  sb.advance(20_000);
  t.is(w.lifecycle, 'InService');
});

test('[WARM-4] a warm start takes a warmed instance in the zone the launch goes to (fewest instances), else launches cold there', async (t) => {
  const sb = sandbox({ faults: { warmStartSeconds: 5 } });
  sb.seedGroup({ name: 'g', capacity: 3, max: 6, warmPool: { poolState: 'Stopped' } });
  const g = sb.world.state.groups.g;
  // The group spans three zones, one instance each; the pool holds one per zone too.
  const smallest = [...g.azs].sort()[0];
  const [victim] = active(sb, 'g').filter((i) => i.az === smallest);
  sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: victim.id, ShouldDecrementDesiredCapacity: true });
  sb.advance(60_000);
  const warmThere = sb.world.warmPool.instances(g).find((i) => i.az === smallest && i.lifecycle === 'Warmed:Stopped');
  t.truthy(warmThere, 'a warmed instance waits in that zone');
  setDesired(sb, 'g', 3);
  sb.advance(SCALE_DELAY_MS + 6_000);
  t.is(warmThere!.group, 'g', 'the warmed instance of the zone with the fewest instances joined the group');
  t.is(warmThere!.az, smallest);
});
