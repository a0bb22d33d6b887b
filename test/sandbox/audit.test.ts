/**
 * Rules added or corrected by the rule-by-rule audit of the simulated AWS (issue 20): ELB-unhealthy
 * replacement pacing [HEALTH-6], load balancer attachment states [ELB-7], connection draining with
 * in-flight connections [ELB-6], AZRebalance with Terminate suspended [AZ-2/PROC-2], scale-in
 * protection from InService [TERM-5], ScalingActivityInProgress [ASG-9], the multi-instance
 * TerminateInstanceInAutoScalingGroup [ASG-7], the classic ELB's default health check [ELB-1] and
 * the health-replacement cause texts [HEALTH-4].
 */
import test from 'ava';
import {
  DescribeAutoScalingGroupsCommand, DescribeLoadBalancersCommand as AsgDescribeLoadBalancersCommand, DescribeScalingActivitiesCommand,
  ScalingActivityInProgressFault, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceHealthCommand, DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing';
import { TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import type { Sandbox } from '../../orchestrator/sandbox';
import { TICK_MS } from '../../orchestrator/sandbox/world';
import { active, byZone, sandbox, setDesired, suspend, update } from './helpers';

/** Over `minutes`, the most ELB-health replacements in flight at one loop: instances marked Unhealthy (until gone) and replacements not yet healthy. */
function maxConcurrentReplacements(sb: Sandbox, group: string, minutes: number): { unhealthy: number; replacements: number; replaced: number } {
  let unhealthy = 0;
  let replacements = 0;
  for (let k = 0; k < minutes * 6; k++) {
    sb.advance(TICK_MS);
    const insts = sb.world.groupInstances(sb.world.state.groups[group]);
    unhealthy = Math.max(unhealthy, insts.filter((i) => i.health === 'Unhealthy').length);
    replacements = Math.max(replacements, insts.filter((i) => i.elbReplacement).length);
  }
  return { unhealthy, replacements, replaced: sb.monitor.terminations({ group, cause: ['replace-unhealthy'] }).length };
}

/** The application of these instances stops answering now (the ELB notices at its next checks). */
function failNow(sb: Sandbox, insts: { id: string }[]): void {
  for (const i of insts) {
    const rec = sb.world.state.instances[i.id];
    rec.failAt = sb.clock.now();
    sb.world.pokeElbs(rec);
  }
}

test('[HEALTH-6] ELB-unhealthy instances of a small group are replaced one at a time, not all at once', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 4, healthCheckGracePeriod: 60, elb: { name: 'lb', healthCheck: { interval: 10, healthyThreshold: 2 } } });
  sb.setImage('ami-bad', { healthy: false });
  sb.newLaunchTemplateVersion('g-lt', { ImageId: 'ami-bad' });
  // Four never-healthy instances.
  for (const i of active(sb, 'g')) sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: i.id, ShouldDecrementDesiredCapacity: false });
  sb.advance(120_000);
  t.is(active(sb, 'g').filter((i) => i.launch.kind === 'lt' && i.launch.version === 2).length, 4);
  const r = maxConcurrentReplacements(sb, 'g', 20);
  // Budget max(1, floor(10 % of 4)) = 1: one marked, one replacement at a time.
  t.is(r.unhealthy, 1);
  t.is(r.replacements, 1);
  t.true(r.replaced >= 3, `replaced ${r.replaced}`);
  // Fewer marked unhealthy than are failing: at any moment at most one of the four is Unhealthy.
  t.true(active(sb, 'g').filter((i) => i.health === 'Unhealthy').length <= 1);
  t.true(active(sb, 'g').filter((i) => sb.world.elbStates(i).lb === 'OutOfService').length >= 3);
});

test('[HEALTH-6] a large group replaces at most 10 % of desired at a time', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 30, max: 40, healthCheckGracePeriod: 30, elb: { name: 'lb', healthCheck: { interval: 10, healthyThreshold: 2 } } });
  // Every instance's application dies at once, and so do their replacements.
  sb.setImage('ami-0123456789abcdef0', { healthy: false });
  failNow(sb, active(sb, 'g'));
  const r = maxConcurrentReplacements(sb, 'g', 10);
  // Budget max(1, floor(10 % of 30)) = 3.
  t.is(r.unhealthy, 3);
  t.is(r.replacements, 3);
  t.true(r.replaced >= 6, `replaced ${r.replaced}`);
});

test('[HEALTH-6] a replacement that becomes healthy frees its slot; default instance warm-up delays that', (t) => {
  for (const warmup of [0, 300]) {
    const sb = sandbox();
    sb.seedGroup({ name: 'g', capacity: 3, healthCheckGracePeriod: 30, elb: { name: 'lb', healthCheck: { interval: 10, healthyThreshold: 2 } } });
    update(sb, { AutoScalingGroupName: 'g', DefaultInstanceWarmup: warmup });
    failNow(sb, active(sb, 'g').slice(0, 2));
    sb.advance(60_000);
    const first = sb.monitor.terminations({ group: 'g', cause: ['replace-unhealthy'] });
    t.is(first.length, 1, 'one of the two failing instances is replaced first');
    // The replacement boots (40 s) and passes 2 checks at 10 s: healthy about 60-70 s after launch.
    sb.advance(120_000);
    const afterHealthy = sb.monitor.terminations({ group: 'g', cause: ['replace-unhealthy'] }).length;
    t.is(afterHealthy, warmup === 0 ? 2 : 1, `warm-up ${warmup}`);
    sb.advance(300_000);
    t.is(sb.monitor.terminations({ group: 'g', cause: ['replace-unhealthy'] }).length, 2);
  }
});

test('[ELB-7] an attached load balancer: Adding, Added, InService once an instance passed; only then are ELB-unhealthy instances replaced', async (t) => {
  const sb = sandbox();
  sb.setImage('ami-never', { healthy: false });
  sb.seedGroup({ name: 'g', capacity: 2, imageId: 'ami-never', healthCheckType: 'ELB', healthCheckGracePeriod: 0, settle: false });
  sb.advance(120_000);
  sb.direct('elb', 'CreateLoadBalancer', { LoadBalancerName: 'lb2', Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 80 }], AvailabilityZones: sb.world.zones() });
  sb.direct('autoscaling', 'AttachLoadBalancers', { AutoScalingGroupName: 'g', LoadBalancerNames: ['lb2'] });
  const state = async () => (await sb.clients.autoScaling.send(new AsgDescribeLoadBalancersCommand({ AutoScalingGroupName: 'g' }))).LoadBalancers![0].State;
  t.is(await state(), 'Adding');
  sb.advance(TICK_MS);
  t.is(await state(), 'Added');
  // Never-healthy instances: nobody passes, the attachment stays Added and nothing is replaced.
  sb.advance(20 * 60_000);
  t.is(await state(), 'Added');
  t.is(sb.monitor.terminations({ group: 'g', cause: ['replace-unhealthy'] }).length, 0);
  // A healthy instance joins: the attachment goes InService and the failing ones get replaced.
  sb.setImage('ami-never', {});
  update(sb, { AutoScalingGroupName: 'g', MaxSize: 4 });
  setDesired(sb, 'g', 3);
  sb.advance(30 * 60_000);
  t.is(await state(), 'InService');
  t.true(sb.monitor.terminations({ group: 'g', cause: ['replace-unhealthy'] }).length >= 1);
  // Detach: Removing while deregistering, then gone.
  sb.direct('autoscaling', 'DetachLoadBalancers', { AutoScalingGroupName: 'g', LoadBalancerNames: ['lb2'] });
  const lbs = (await sb.clients.autoScaling.send(new AsgDescribeLoadBalancersCommand({ AutoScalingGroupName: 'g' }))).LoadBalancers!;
  t.deepEqual(lbs.map((l) => l.State), ['Removing']);
  sb.advance(TICK_MS);
  t.deepEqual((await sb.clients.autoScaling.send(new AsgDescribeLoadBalancersCommand({ AutoScalingGroupName: 'g' }))).LoadBalancers, []);
});

test('[ELB-7] with EC2 health checks an attached load balancer stays Added', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, healthCheckType: 'EC2' });
  sb.direct('elb', 'CreateLoadBalancer', { LoadBalancerName: 'lb2', Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 80 }], AvailabilityZones: sb.world.zones() });
  sb.direct('autoscaling', 'AttachLoadBalancers', { AutoScalingGroupName: 'g', LoadBalancerNames: ['lb2'] });
  sb.advance(10 * 60_000);
  const out = await sb.clients.autoScaling.send(new AsgDescribeLoadBalancersCommand({ AutoScalingGroupName: 'g' }));
  t.is(out.LoadBalancers![0].State, 'Added');
  // Attached at creation: InService from the start.
  sb.seedGroup({ name: 'h', capacity: 1, elb: { name: 'lbh' } });
  const h = await sb.clients.autoScaling.send(new AsgDescribeLoadBalancersCommand({ AutoScalingGroupName: 'h' }));
  t.is(h.LoadBalancers![0].State, 'InService');
});

async function drainOnce(connectionDrain: { idle: number; long: number; seconds: number | { min: number; max: number } }, seed: number) {
  const sb = sandbox({ seed, faults: { connectionDrain } });
  sb.seedGroup({ name: 'g', capacity: 1, elb: { name: 'lb', drainingTimeout: 300 } });
  const inst = active(sb, 'g')[0];
  const t0 = sb.clock.now();
  sb.direct('elb', 'DeregisterInstancesFromLoadBalancer', { LoadBalancerName: 'lb', Instances: [{ InstanceId: inst.id }] });
  const until = sb.world.state.elbs.lb.registrations[inst.id]?.drainingUntil;
  const out = await sb.clients.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: 'lb', Instances: [{ InstanceId: inst.id }] }));
  return { seconds: until === undefined ? 0 : (until - t0) / 1000, state: out.InstanceStates![0] };
}

test('[ELB-6] connection draining: no in-flight connections completes at once; long ones take the full timeout; some take their time', async (t) => {
  const none = await drainOnce({ idle: 1, long: 0, seconds: 0 }, 5);
  t.is(none.seconds, 0);
  t.is(none.state.State, 'OutOfService');
  t.is(none.state.Description, 'Instance is not currently registered with the LoadBalancer.');
  const long = await drainOnce({ idle: 0, long: 1, seconds: 0 }, 5);
  t.is(long.seconds, 300);
  t.is(long.state.Description, 'Instance deregistration currently in progress.');
  const some = await drainOnce({ idle: 0, long: 0, seconds: 42 }, 5);
  t.is(some.seconds, 42);
  const capped = await drainOnce({ idle: 0, long: 0, seconds: 900 }, 5);
  t.is(capped.seconds, 300, 'capped at the draining timeout');
  // A mixture draws all three outcomes.
  const seen = new Set<string>();
  for (let s = 1; s <= 40; s++) {
    const r = await drainOnce({ idle: 0.3, long: 0.3, seconds: { min: 5, max: 60 } }, s);
    seen.add(r.seconds === 0 ? 'none' : r.seconds === 300 ? 'long' : 'some');
  }
  t.deepEqual([...seen].sort(), ['long', 'none', 'some']);
});

test('[ELB-6] an ASG termination of an idle instance does not wait for the draining timeout', (t) => {
  const sb = sandbox({ faults: { connectionDrain: { idle: 1, long: 0, seconds: 0 } } });
  sb.seedGroup({ name: 'g', capacity: 2, elb: { name: 'lb', drainingTimeout: 300 } });
  const inst = active(sb, 'g')[0];
  sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: inst.id, ShouldDecrementDesiredCapacity: true });
  t.is(inst.ec2State, 'shutting-down');
  t.is(sb.world.state.activities[inst.terminateActivity!].status, 'InProgress');
});

test('[AZ-2, PROC-2] AZRebalance with Terminate suspended launches past desired, up to 10 % (or one) over max', (t) => {
  for (const { capacity, max, expected } of [
    { capacity: 6, max: 6, expected: 7 }, // 10 % of 6 < 1: one over max
    { capacity: 20, max: 20, expected: 22 }, // 10 % of 20 = 2 over max
  ]) {
    const sb = sandbox();
    sb.seedGroup({ name: 'g', capacity, max, availabilityZones: ['us-east-1a'] });
    suspend(sb, 'g', ['Terminate']);
    update(sb, { AutoScalingGroupName: 'g', AvailabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] });
    sb.advance(60 * 60_000);
    const a = active(sb, 'g');
    t.is(a.length, expected, `max ${max}`);
    t.is(sb.monitor.terminations({ group: 'g' }).length, 0, 'nothing terminated');
    t.is(byZone(a)['us-east-1a'], capacity);
  }
});

test('[TERM-5] scale-in protection starts at InService: a Pending instance of a protecting group can be scaled in', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, max: 4 });
  update(sb, { AutoScalingGroupName: 'g', NewInstancesProtectedFromScaleIn: true });
  setDesired(sb, 'g', 2);
  sb.advance(2000);
  const pending = active(sb, 'g').find((i) => i.lifecycle === 'Pending')!;
  const out = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.false(out.AutoScalingGroups![0].Instances!.find((i) => i.InstanceId === pending.id)!.ProtectedFromScaleIn);
  sb.advance(60_000);
  t.is(pending.lifecycle, 'InService');
  t.true(pending.protected);
  // Before InService it is fair game for scale-in.
  setDesired(sb, 'g', 3);
  sb.advance(2000);
  const p2 = active(sb, 'g').find((i) => i.lifecycle === 'Pending')!;
  sb.world.state.groups.g.terminationPolicies = ['NewestInstance'];
  setDesired(sb, 'g', 2);
  sb.advance(2000);
  t.true(p2.lifecycle!.startsWith('Terminat'), 'the Pending (unprotected) instance was scaled in');
});

test('[ASG-9] ScalingActivityInProgress on SetDesiredCapacity and TerminateInstanceInAutoScalingGroup while an activity runs', async (t) => {
  const sb = sandbox({ maxAttempts: 1, faults: { scalingActivityInProgressRate: 1 } });
  sb.seedGroup({ name: 'g', capacity: 1, max: 4 });
  // Settled: no activity in progress, the call succeeds.
  await sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 2 }));
  sb.advance(2000); // the launch activity is InProgress
  const e1 = await t.throwsAsync(sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 3 })));
  t.true(e1 instanceof ScalingActivityInProgressFault);
  t.is((e1 as any).Code, 'ScalingActivityInProgress');
  const id = active(sb, 'g')[0].id;
  const e2 = await t.throwsAsync(sb.clients.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: id, ShouldDecrementDesiredCapacity: true })));
  t.true(e2 instanceof ScalingActivityInProgressFault);
  t.is(sb.world.state.groups.g.desired, 2, 'nothing changed');
});

test('[ASG-7] TerminateInstanceInAutoScalingGroup with InstanceIds terminates several and answers Activities', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 4 });
  const ids = active(sb, 'g').slice(0, 2).map((i) => i.id);
  const out = await sb.clients.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ AutoScalingGroupName: 'g', InstanceIds: ids, ShouldDecrementDesiredCapacity: true }));
  t.is(out.Activity, undefined);
  t.is(out.Activities!.length, 2);
  t.deepEqual(out.Activities!.map((a) => a.Description), ids.map((id) => `Terminating EC2 instance: ${id}`));
  t.is(sb.world.state.groups.g.desired, 2);
  // Below min: refused, nothing changed.
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'g', MinSize: 2 });
  const rest = active(sb, 'g').map((i) => i.id);
  await t.throwsAsync(sb.clients.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ AutoScalingGroupName: 'g', InstanceIds: rest, ShouldDecrementDesiredCapacity: true })), { name: 'ValidationError' });
  t.is(active(sb, 'g').length, 2);
});

test('[ELB-1] a classic ELB created without a health check has the API default TCP:80', async (t) => {
  const sb = sandbox();
  sb.direct('elb', 'CreateLoadBalancer', { LoadBalancerName: 'x', Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8080 }], AvailabilityZones: ['us-east-1a'] });
  const out = await sb.clients.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: ['x'] }));
  t.is(out.LoadBalancerDescriptions![0].HealthCheck!.Target, 'TCP:80');
});

test('[HEALTH-4] the replacement cause says why: terminated/stopped vs ELB health check', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, elb: { name: 'lb' } });
  const [a] = active(sb, 'g');
  await sb.clients.ec2.send(new TerminateInstancesCommand({ InstanceIds: [a.id] }));
  sb.advance(TICK_MS);
  const acts = (await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g' }))).Activities!;
  const term = acts.find((x) => x.Description === `Terminating EC2 instance: ${a.id}`)!;
  t.regex(term.Cause!, /in response to an EC2 health check indicating it has been terminated or stopped\.$/);
});
