import test from 'ava';
import { DescribeInstanceHealthCommand, ConfigureHealthCheckCommand, DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing';
import { DescribeScalingActivitiesCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import type { Sandbox } from '../../orchestrator/sandbox';
import { TICK_MS } from '../../orchestrator/sandbox/world';
import { active, sandbox, setDesired } from './helpers';

async function health(sb: Sandbox, elb: string, id: string) {
  const out = await sb.clients.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: elb, Instances: [{ InstanceId: id }] }));
  return out.InstanceStates![0];
}

/** Launch one instance into a settled 1-instance group; returns it and its launch time. */
function launchOne(sb: Sandbox) {
  setDesired(sb, 'g', 2);
  sb.advance(TICK_MS - (sb.clock.now() % TICK_MS));
  const inst = active(sb, 'g').find((i) => i.lifecycle === 'Pending')!;
  return { inst, t: inst.launchTime };
}

test('classic ELB: OutOfService until HealthyThreshold checks at Interval passed: InService at launch + boot + interval x threshold', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, elb: { name: 'lb', healthCheck: { interval: 10, healthyThreshold: 3 } } });
  const { inst, t: launched } = launchOne(sb);
  const at = (s: number) => sb.clock.advanceTo(launched + s * 1000);
  at(20);
  t.is(inst.ec2State, 'pending');
  at(40);
  t.is(inst.ec2State, 'running');
  t.is(inst.lifecycle, 'InService');
  let h = await health(sb, 'lb', inst.id);
  t.is(h.State, 'OutOfService');
  t.is(h.Description, 'Instance registration is still in progress.');
  at(55);
  h = await health(sb, 'lb', inst.id);
  t.is(h.State, 'OutOfService');
  t.is(h.ReasonCode, 'Instance');
  t.is(h.Description, 'Instance has not passed the configured HealthyThreshold number of health checks consecutively.');
  at(69.999);
  t.is((await health(sb, 'lb', inst.id)).State, 'OutOfService');
  at(70);
  h = await health(sb, 'lb', inst.id);
  t.is(h.State, 'InService');
  t.is(h.ReasonCode, 'N/A');
  t.true(sb.world.isHealthy(inst));
});

test('an application that dies goes OutOfService after UnhealthyThreshold failed checks; an ELB-type ASG then replaces it', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, healthCheckGracePeriod: 60, elb: { name: 'lb', healthCheck: { interval: 10, healthyThreshold: 2, unhealthyThreshold: 3 } } });
  sb.setImage('ami-0123456789abcdef0', { failAfterSeconds: 200 });
  const { inst, t: launched } = launchOne(sb);
  sb.clock.advanceTo(launched + 100_000);
  t.is((await health(sb, 'lb', inst.id)).State, 'InService');
  // Fails at +200 s; checks at +50,+60,... (registered at +40): failures at 200, 210, 220 -> out at 220.
  sb.clock.advanceTo(launched + 219_000);
  t.is((await health(sb, 'lb', inst.id)).State, 'InService');
  sb.clock.advanceTo(launched + 220_000);
  const h = await health(sb, 'lb', inst.id);
  t.is(h.State, 'OutOfService');
  t.is(h.Description, 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.');
  sb.advance(TICK_MS);
  t.is(inst.health, 'Unhealthy');
  t.true(inst.lifecycle!.startsWith('Terminating'));
  t.is(sb.monitor.terminations({ cause: ['replace-unhealthy'] })[0].instanceId, inst.id);
});

test('health check grace period: no Unhealthy before it ends', (t) => {
  const sb = sandbox();
  sb.setImage('ami-never', { healthy: false });
  sb.seedGroup({ name: 'g', capacity: 0, max: 2, imageId: 'ami-never', healthCheckGracePeriod: 300, elb: { name: 'lb' } });
  setDesired(sb, 'g', 1);
  sb.advance(TICK_MS + 40_000);
  const inst = active(sb, 'g')[0];
  t.is(inst.lifecycle, 'InService');
  sb.clock.advanceTo(inst.inServiceAt! + 299_000);
  t.is(inst.health, 'Healthy');
  sb.clock.advanceTo(inst.inServiceAt! + 300_000 + TICK_MS);
  t.is(inst.health, 'Unhealthy');
});

test('connection draining: a terminated instance stays "deregistration in progress" for the timeout, then EC2 shuts it down', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, elb: { name: 'lb', drainingTimeout: 120 } });
  const victim = active(sb, 'g')[0];
  const t0 = sb.clock.now();
  await sb.clients.autoScaling.send(new (await import('@aws-sdk/client-auto-scaling')).TerminateInstanceInAutoScalingGroupCommand({ InstanceId: victim.id, ShouldDecrementDesiredCapacity: true }));
  let h = await health(sb, 'lb', victim.id);
  t.is(h.State, 'InService');
  t.is(h.Description, 'Instance deregistration currently in progress.');
  t.false(sb.world.isHealthy(victim));
  const lbs = await sb.clients.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: ['lb'] }));
  t.false(lbs.LoadBalancerDescriptions![0].Instances!.some((i) => i.InstanceId === victim.id));
  const acts = await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g' }));
  t.is(acts.Activities![0].StatusCode, 'WaitingForELBConnectionDraining');
  sb.clock.advanceTo(t0 + 119_000);
  t.is(victim.ec2State, 'running');
  t.is(victim.lifecycle, 'Terminating');
  sb.clock.advanceTo(t0 + 120_000);
  t.is(victim.ec2State, 'shutting-down');
  sb.clock.advanceTo(t0 + 120_000 + sb.faults.shutdownSeconds * 1000);
  t.is(victim.ec2State, 'terminated');
  t.is(victim.lifecycle, 'Terminated');
  h = await health(sb, 'lb', victim.id);
  t.is(h.State, 'OutOfService');
  t.is(h.Description, 'Instance is not currently registered with the LoadBalancer.');
});

test('without draining, termination is immediate', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, elb: { name: 'lb', drainingTimeout: 0 } });
  const victim = active(sb, 'g')[0];
  sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: victim.id, ShouldDecrementDesiredCapacity: true });
  t.is(victim.ec2State, 'shutting-down');
  t.false(victim.id in sb.world.state.elbs.lb.registrations);
});

test('ConfigureHealthCheck validates and restarts the checks with the new thresholds', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, healthCheckGracePeriod: 600, elb: { name: 'lb' } });
  const e: any = await t.throwsAsync(sb.clients.elb.send(new ConfigureHealthCheckCommand({
    LoadBalancerName: 'lb', HealthCheck: { Target: 'HTTP:8080/health', Interval: 5, Timeout: 5, HealthyThreshold: 2, UnhealthyThreshold: 2 },
  })));
  t.is(e.name, 'ValidationError');
  const out = await sb.clients.elb.send(new ConfigureHealthCheckCommand({
    LoadBalancerName: 'lb', HealthCheck: { Target: 'HTTP:8080/health', Interval: 30, Timeout: 5, HealthyThreshold: 10, UnhealthyThreshold: 2 },
  }));
  t.is(out.HealthCheck!.HealthyThreshold, 10);
  // A new instance now needs 10 passes at 30 s.
  const { inst, t: launched } = launchOne(sb);
  sb.clock.advanceTo(launched + 40_000 + 299_000);
  t.is((await health(sb, 'lb', inst.id)).State, 'OutOfService');
  sb.clock.advanceTo(launched + 40_000 + 300_000);
  t.is((await health(sb, 'lb', inst.id)).State, 'InService');
});

test('connection draining ended: the Terminating instance is observably out of service before EC2 finishes shutting down', async (t) => {
  const sb = sandbox({ faults: { shutdownSeconds: 90 } });
  sb.seedGroup({ name: 'g', capacity: 2, elb: { name: 'lb', drainingTimeout: 60 } });
  const victim = active(sb, 'g')[0];
  const t0 = sb.clock.now();
  sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: victim.id, ShouldDecrementDesiredCapacity: true });
  const port = createAwsPort(sb.clients, sb.clock);
  const view = async () => (await port.observeGroup('g')).instances.find((i) => i.instanceId === victim.id);
  // Draining: still registered ("deregistration in progress").
  sb.clock.advanceTo(t0 + 59_999);
  let v = await view();
  t.is(v?.lifecycleState, 'Terminating');
  t.is(v?.elb.lb?.state, 'InService');
  t.is(v?.elb.lb?.description, 'Instance deregistration currently in progress.');
  // Draining over: deregistered from the ELB at once, EC2 shutting down, the activity past draining.
  sb.clock.advanceTo(t0 + 60_000);
  v = await view();
  t.is(v?.lifecycleState, 'Terminating');
  const ec2 = await sb.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: [victim.id] }));
  t.is(ec2.Reservations![0].Instances![0].State!.Name, 'shutting-down');
  t.false('lb' in (v?.elb ?? {}), 'no longer listed by DescribeInstanceHealth');
  t.is((await health(sb, 'lb', victim.id)).Description, 'Instance is not currently registered with the LoadBalancer.');
  const acts = await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g' }));
  t.is(acts.Activities!.find((a) => a.Description === `Terminating EC2 instance: ${victim.id}`)!.StatusCode, 'InProgress');
  t.false(sb.world.isHealthy(victim));
  // EC2 shutdown finishes later: then the group no longer lists it.
  sb.clock.advanceTo(t0 + 60_000 + 90_000);
  t.is(await view(), undefined);
  t.is(victim.ec2State, 'terminated');
});

test('an instance OutOfService in the ELB has nothing to drain: its termination deregisters it at once, never InService again', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, max: 3, healthCheckGracePeriod: 60, elb: { name: 'lb', drainingTimeout: 300 } });
  sb.setImage('ami-bad', { healthy: false });
  sb.newLaunchTemplateVersion('g-lt', { ImageId: 'ami-bad' });
  setDesired(sb, 'g', 2);
  sb.advance(1_000);
  const bad = active(sb, 'g').find((i) => i.lifecycle === 'Pending')!;
  sb.advance(40_000 + 30_000);
  t.is((await health(sb, 'lb', bad.id)).State, 'OutOfService');
  sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: bad.id, ShouldDecrementDesiredCapacity: true });
  const h = await health(sb, 'lb', bad.id);
  t.is(h.State, 'OutOfService');
  t.is(h.Description, 'Instance is not currently registered with the LoadBalancer.');
  t.is(bad.ec2State, 'shutting-down', 'no draining wait');
  // The same through the ASG's own health replacement.
  setDesired(sb, 'g', 2);
  sb.advance(1_000);
  const bad2 = active(sb, 'g').find((i) => i.lifecycle === 'Pending')!;
  const seen: string[] = [];
  sb.clock.onAdvance(() => {
    const reg = sb.world.state.elbs.lb.registrations[bad2.id];
    if (reg) seen.push(sb.world.elb.elbView(sb.world.state.elbs.lb, bad2, reg).state);
  });
  for (let k = 0; k < 300 && bad2.lifecycle !== 'Terminated'; k++) sb.advance(1_000);
  t.is(bad2.lifecycle, 'Terminated');
  t.true(sb.monitor.terminations({ cause: ['replace-unhealthy'] }).some((r) => r.instanceId === bad2.id));
  t.false(seen.includes('InService'), 'never reported InService while being replaced');
});

test('[ELB-8] an instance in an AZ the classic ELB is not enabled for: OutOfService with AWS\'s description, never healthy; an ELB-health group keeps replacing it', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, availabilityZones: ['us-east-1a'], healthCheckGracePeriod: 60, elb: { name: 'lb', availabilityZones: ['us-east-1a'], drainingTimeout: 0 } });
  const first = active(sb, 'g')[0];
  t.true(sb.world.isHealthy(first), 'in an enabled AZ: InService');
  // Widen the group to an AZ the load balancer does not route to; its next launch lands there.
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'g', AvailabilityZones: ['us-east-1a', 'us-east-1b'], MaxSize: 4 });
  setDesired(sb, 'g', 2);
  sb.advance(2 * TICK_MS);
  const inB = active(sb, 'g').find((i) => i.az === 'us-east-1b')!;
  t.truthy(inB);
  sb.advance(50_000); // booted (40 s), InService and registered, inside its 60 s grace period
  t.is(inB.lifecycle, 'InService');
  const h = await health(sb, 'lb', inB.id);
  t.is(h.State, 'OutOfService');
  t.is(h.ReasonCode, 'ELB');
  t.is(h.Description, 'Instance is in the EC2 Availability Zone for which LoadBalancer is not configured to route traffic to.');
  sb.advance(30_000);
  t.false(sb.world.isHealthy(inB), 'checks never bring it InService');
  sb.advance(30 * 60_000);
  const replaced = sb.monitor.terminations({ group: 'g', cause: ['replace-unhealthy'] });
  t.true(replaced.length >= 2, `instances in us-east-1b are replaced again and again (${replaced.length})`);
  t.true(sb.world.isHealthy(first), 'the instance in the enabled AZ is untouched');
});
