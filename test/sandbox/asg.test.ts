import test from 'ava';
import { DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import type { Sandbox } from '../../orchestrator/sandbox';
import { SCALE_DELAY_MS, TICK_MS } from '../../orchestrator/sandbox/world';
import { Z, active, byZone, instances, resume, sandbox, setDesired, suspend, terminating, update } from './helpers';

test('launches spread across AZs to keep them balanced; an AZ without capacity fails once, then launches go elsewhere', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 7 });
  t.deepEqual(Object.values(byZone(active(sb, 'g'))).sort(), [2, 2, 3]);
  sb.faults.unavailableZones = ['us-east-1a'];
  setDesired(sb, 'g', 10);
  sb.settle();
  const z = byZone(active(sb, 'g'));
  t.is(z['us-east-1a'], 3 - (z['us-east-1a'] === 2 ? 1 : 0) + (z['us-east-1a'] === 2 ? 1 : 0));
  t.is(z['us-east-1b'] + z['us-east-1c'], 10 - z['us-east-1a']);
  t.true(Math.abs(z['us-east-1b'] - z['us-east-1c']) <= 1);
});

test('the ASG acts on a new desired capacity promptly (SCALE_DELAY_MS after the call), not instantly', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1 });
  setDesired(sb, 'g', 2);
  t.is(active(sb, 'g').length, 1);
  sb.advance(SCALE_DELAY_MS);
  t.is(active(sb, 'g').length, 2);
  t.is(active(sb, 'g')[1].lifecycle, 'Pending');
  sb.advance(40_000);
  t.is(active(sb, 'g')[1].lifecycle, 'InService');
});

test('min and max are enforced: SetDesiredCapacity outside them is a ValidationError; UpdateAutoScalingGroup adjusts desired implicitly', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, min: 1, max: 3 });
  const e: any = await t.throwsAsync(sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 4 })));
  t.is(e.name, 'ValidationError');
  t.regex(e.message, /above max value 3/);
  const e2: any = await t.throwsAsync(sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 0 })));
  t.regex(e2.message, /below min value 1/);
  await sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', MaxSize: 1 }));
  const { AutoScalingGroups } = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.is(AutoScalingGroups![0].DesiredCapacity, 1);
  const e3: any = await t.throwsAsync(sb.clients.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: active(sb, 'g')[0].id, ShouldDecrementDesiredCapacity: true })));
  t.regex(e3.message, /min size constraint/);
});

/**
 * Builds a single-AZ group whose instances were launched 10 minutes apart from the given
 * launch template versions (the group's version switched before each launch), then sets the
 * group's current version. Returns the instance ids in launch order.
 */
function singleZoneGroup(sb: Sandbox, versions: number[], current: number, policies: string[]): string[] {
  sb.seedGroup({ name: 'g', capacity: 0, max: 10, availabilityZones: [Z[0]], terminationPolicies: policies });
  for (let v = 2; v <= Math.max(...versions, current); v++) sb.newLaunchTemplateVersion('g-lt', { ImageId: `ami-v${v}` });
  versions.forEach((v, k) => {
    update(sb, { AutoScalingGroupName: 'g', LaunchTemplate: { LaunchTemplateName: 'g-lt', Version: String(v) } });
    setDesired(sb, 'g', k + 1);
    sb.settle();
    sb.advance(600_000 - (sb.clock.now() % 600_000));
  });
  update(sb, { AutoScalingGroupName: 'g', LaunchTemplate: { LaunchTemplateName: 'g-lt', Version: String(current) } });
  return instances(sb, 'g').map((i) => i.id);
}

// Instances: #0 v1 (oldest), #1 v2, #2 v1 (newest); the group's current version is 2.
const policyTable: Array<{ policies: string[]; expect: number; why: string }> = [
  { policies: ['OldestInstance'], expect: 0, why: 'oldest launch time' },
  { policies: ['NewestInstance'], expect: 2, why: 'newest launch time' },
  { policies: ['OldestLaunchTemplate', 'NewestInstance'], expect: 2, why: 'oldest version (v1) first, then the newest of those' },
  { policies: ['OldestLaunchTemplate', 'OldestInstance'], expect: 0, why: 'oldest version (v1), then the oldest of those' },
  { policies: ['Default'], expect: 0, why: 'Default: oldest template version, then closest to the next instance hour' },
  { policies: ['NewestInstance', 'OldestLaunchTemplate'], expect: 2, why: 'policies apply in order: NewestInstance alone decides' },
];

for (const row of policyTable) {
  test(`termination policy ${row.policies.join(',')}: ${row.why}`, (t) => {
    const sb = sandbox();
    const ids = singleZoneGroup(sb, [1, 2, 1], 2, row.policies);
    setDesired(sb, 'g', 2);
    sb.advance(TICK_MS);
    t.deepEqual(terminating(sb, 'g'), [ids[row.expect]]);
  });
}

test('termination policy OldestLaunchConfiguration: a non-current configuration goes first, even if newer', (t) => {
  const sb = sandbox();
  sb.direct('autoscaling', 'CreateLaunchConfiguration', { LaunchConfigurationName: 'lc-a', ImageId: 'ami-a', InstanceType: 't3.small' });
  sb.advance(60_000);
  sb.direct('autoscaling', 'CreateLaunchConfiguration', { LaunchConfigurationName: 'lc-b', ImageId: 'ami-b', InstanceType: 't3.small' });
  sb.direct('autoscaling', 'CreateAutoScalingGroup', {
    AutoScalingGroupName: 'g', LaunchConfigurationName: 'lc-b', MinSize: 0, MaxSize: 5, DesiredCapacity: 1,
    AvailabilityZones: [Z[0]], TerminationPolicies: ['OldestLaunchConfiguration'],
  });
  sb.settle();
  sb.advance(600_000);
  update(sb, { AutoScalingGroupName: 'g', LaunchConfigurationName: 'lc-a', DesiredCapacity: 2 });
  sb.settle();
  update(sb, { AutoScalingGroupName: 'g', LaunchConfigurationName: 'lc-b' });
  const [first, second] = instances(sb, 'g').map((i) => i.id);
  setDesired(sb, 'g', 1);
  sb.advance(TICK_MS);
  t.deepEqual(terminating(sb, 'g'), [second]);
  t.not(first, second);
});

test('AZ balance comes before every termination policy', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 3, availabilityZones: [Z[0], Z[1]], terminationPolicies: ['NewestInstance'] });
  // a: 2 instances (launched first), b: 1; now add one more: it goes to b (2/2) and is the newest.
  setDesired(sb, 'g', 5);
  sb.settle();
  const z = byZone(active(sb, 'g'));
  t.deepEqual([z[Z[0]], z[Z[1]]].sort(), [2, 3]);
  const big = z[Z[0]] === 3 ? Z[0] : Z[1];
  setDesired(sb, 'g', 4);
  sb.advance(TICK_MS);
  const victim = sb.world.state.instances[terminating(sb, 'g')[0]];
  t.is(victim.az, big);
  const newestInBig = active(sb, 'g').concat(victim).filter((i) => i.az === big).sort((a, b) => b.launchTime - a.launchTime)[0];
  t.is(victim.id, newestInBig.id);
});

test('scale-in never picks a protected instance; if all are protected, nothing is terminated', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 3, terminationPolicies: ['OldestInstance'] });
  const ids = active(sb, 'g').map((i) => i.id);
  sb.direct('autoscaling', 'SetInstanceProtection', { AutoScalingGroupName: 'g', InstanceIds: ids.slice(0, 2), ProtectedFromScaleIn: true });
  setDesired(sb, 'g', 1);
  sb.advance(TICK_MS);
  t.deepEqual(terminating(sb, 'g'), [ids[2]]);
  sb.advance(120_000);
  t.is(active(sb, 'g').length, 2);
  t.true(active(sb, 'g').every((i) => i.protected));
  // Protection does not stop an explicit terminate.
  sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: ids[0], ShouldDecrementDesiredCapacity: false });
  t.is(sb.world.state.instances[ids[0]].lifecycle, 'Terminating');
});

test('suspended Launch: no launches until resumed', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, max: 5 });
  suspend(sb, 'g', ['Launch']);
  setDesired(sb, 'g', 3);
  sb.advance(300_000);
  t.is(active(sb, 'g').length, 1);
  resume(sb, 'g', ['Launch']);
  sb.advance(TICK_MS);
  t.is(active(sb, 'g').length, 3);
});

test('suspended Terminate: no scale-in and no unhealthy replacement until resumed', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 3 });
  suspend(sb, 'g', ['Terminate']);
  setDesired(sb, 'g', 1);
  sb.advance(300_000);
  t.is(active(sb, 'g').length, 3);
  resume(sb, 'g', ['Terminate']);
  sb.advance(TICK_MS);
  t.is(active(sb, 'g').length, 1);
});

test('suspended HealthCheck: a dead instance is not marked Unhealthy; ReplaceUnhealthy suspended: marked but not replaced', (t) => {
  for (const process of ['HealthCheck', 'ReplaceUnhealthy']) {
    const sb = sandbox();
    sb.seedGroup({ name: 'g', capacity: 2 });
    suspend(sb, 'g', [process]);
    const victim = active(sb, 'g')[0];
    sb.direct('ec2', 'TerminateInstances', { InstanceIds: [victim.id] });
    sb.advance(120_000);
    t.is(victim.health, process === 'HealthCheck' ? 'Healthy' : 'Unhealthy', process);
    t.is(victim.lifecycle, 'InService', process);
    t.is(active(sb, 'g').length, 2, process);
    resume(sb, 'g', [process]);
    sb.settle();
    t.is(victim.lifecycle, 'Terminated', process);
    t.is(active(sb, 'g').length, 2, process);
  }
});

test('an instance terminated through EC2 is marked Unhealthy and replaced (terminate first, then launch)', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2 });
  const victim = active(sb, 'g')[0];
  sb.direct('ec2', 'TerminateInstances', { InstanceIds: [victim.id] });
  sb.advance(TICK_MS);
  t.is(victim.health, 'Unhealthy');
  t.is(victim.lifecycle, 'Terminating');
  t.is(active(sb, 'g').length, 2);
  t.is(sb.monitor.terminations({ cause: ['api'] })[0].instanceId, victim.id);
});

test('suspended AddToLoadBalancer: new instances are not registered with the ELB', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, elb: { name: 'lb' } });
  suspend(sb, 'g', ['AddToLoadBalancer']);
  setDesired(sb, 'g', 2);
  sb.advance(120_000);
  const fresh = active(sb, 'g')[1];
  t.is(fresh.lifecycle, 'InService');
  t.false(fresh.id in sb.world.state.elbs.lb.registrations);
  t.false(sb.world.isHealthy(fresh));
});

test('AlarmNotification and ScheduledActions are recorded as suspended and reported back', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1 });
  suspend(sb, 'g', ['AlarmNotification', 'ScheduledActions']);
  const { AutoScalingGroups } = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.deepEqual(AutoScalingGroups![0].SuspendedProcesses!.map((p) => p.ProcessName).sort(), ['AlarmNotification', 'ScheduledActions']);
  const e: any = t.throws(() => suspend(sb, 'g', ['Bogus']));
  t.regex(e.message, /Invalid processes: Bogus/);
});

test('AZRebalance launches first (may exceed max by 10% or 1), then terminates in the largest AZ; suspended, nothing happens', (t) => {
  for (const keepSuspended of [false, true]) {
    const sb = sandbox();
    sb.seedGroup({ name: 'g', capacity: 6, max: 6, terminationPolicies: ['NewestInstance'] });
    suspend(sb, 'g', ['AZRebalance']);
    // Remove both instances of one AZ with decrement: 0/2/2 is unbalanced.
    update(sb, { AutoScalingGroupName: 'g', MinSize: 0 });
    for (const i of active(sb, 'g').filter((x) => x.az === Z[0])) {
      sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: i.id, ShouldDecrementDesiredCapacity: true });
    }
    update(sb, { AutoScalingGroupName: 'g', MaxSize: 4 });
    sb.settle();
    t.deepEqual(byZone(active(sb, 'g')), { [Z[1]]: 2, [Z[2]]: 2 });
    if (keepSuspended) {
      sb.advance(600_000);
      t.deepEqual(byZone(active(sb, 'g')), { [Z[1]]: 2, [Z[2]]: 2 });
      continue;
    }
    resume(sb, 'g', ['AZRebalance']);
    sb.advance(TICK_MS);
    // Launch first: 5 active with max 4 (allowed: max + max(1, 10% of max) = 5), nothing terminated yet.
    t.is(active(sb, 'g').length, 5);
    t.is(active(sb, 'g').filter((i) => i.lifecycle === 'Pending')[0].az, Z[0]);
    t.is(sb.monitor.terminations({ cause: ['rebalance'] }).length, 0);
    sb.settle();
    const z = byZone(active(sb, 'g'));
    t.is(z[Z[0]], 1);
    t.deepEqual([z[Z[1]], z[Z[2]]].sort(), [1, 2]);
    t.is(sb.monitor.terminations({ cause: ['rebalance'] }).length, 1);
    t.is(sb.monitor.healthyUpToDateTerminated().filter((r) => r.cause !== 'api').length, 0, 'rebalance terminations are not API-caused');
  }
});

test('scale-ins are attributed to the call that lowered desired', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2 });
  sb.monitor.baseline();
  setDesired(sb, 'g', 1);
  sb.advance(TICK_MS);
  const [rec] = sb.monitor.healthyUpToDateTerminated('g');
  t.is(rec.cause, 'scale-in');
  t.is(rec.call?.operation, 'SetDesiredCapacity');
  t.deepEqual(sb.monitor.leftovers('g').map((l) => l.what), ['desired']);
});
