/**
 * [ASG-10] EnterStandby / ExitStandby, [ASG-8] deletion in progress, [TERM-5] the "all remaining
 * instances are protected" activity — each rule through the real SDK client where the API is
 * involved.
 */
import test from 'ava';
import {
  CreateAutoScalingGroupCommand, DeleteAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand,
  EnterStandbyCommand, ExitStandbyCommand, SetDesiredCapacityCommand, SetInstanceProtectionCommand, SuspendProcessesCommand,
  UpdateAutoScalingGroupCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceHealthCommand } from '@aws-sdk/client-elastic-load-balancing';
import type { Sandbox } from '../../orchestrator/sandbox';
import { SCALE_DELAY_MS, TICK_MS } from '../../orchestrator/sandbox/world';
import { active, instances, sandbox } from './helpers';

async function lifecycle(sb: Sandbox, id: string): Promise<string | undefined> {
  const out = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  return out.AutoScalingGroups?.[0]?.Instances?.find((i) => i.InstanceId === id)?.LifecycleState;
}

async function registered(sb: Sandbox, id: string): Promise<boolean> {
  const out = await sb.clients.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: 'lb' }));
  return (out.InstanceStates ?? []).some((s) => s.InstanceId === id);
}

test('[ASG-10] EnterStandby with decrement: EnteringStandby while the ELB drains it, then Standby; desired shrinks, nothing launched', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 3, elb: { name: 'lb', drainingTimeout: 60 } });
  const victim = active(sb, 'g')[0];
  const out = await sb.clients.autoScaling.send(new EnterStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [victim.id], ShouldDecrementDesiredCapacity: true }));
  const act = out.Activities![0];
  t.is(act.Description, `Moving EC2 instance to Standby: ${victim.id}`);
  t.regex(act.Cause!, new RegExp(`instance ${victim.id} was moved to standby in response to a user request, shrinking the capacity from 3 to 2\\.$`));
  t.is(act.StatusCode, 'InProgress');
  t.is(act.Progress, 50);
  t.is(sb.world.state.groups.g.desired, 2);
  t.is(await lifecycle(sb, victim.id), 'EnteringStandby');
  t.false(sb.world.isHealthy(victim), 'draining: takes no new requests');
  sb.advance(60_000);
  t.is(await lifecycle(sb, victim.id), 'Standby');
  t.false(await registered(sb, victim.id), 'deregistered from the group\'s load balancer');
  sb.advance(5 * TICK_MS);
  t.is(instances(sb, 'g').length, 3, 'still part of the group');
  t.is(active(sb, 'g').length, 2, 'not counted toward capacity, and no launch');
  t.is(victim.ec2State, 'running');
});

test('[ASG-10] EnterStandby without decrement: the group launches a replacement for the instance on standby, promptly', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, elb: { name: 'lb', drainingTimeout: 0 } });
  const victim = active(sb, 'g')[0];
  const out = await sb.clients.autoScaling.send(new EnterStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [victim.id], ShouldDecrementDesiredCapacity: false }));
  t.regex(out.Activities![0].Cause!, /was moved to standby in response to a user request\.$/);
  t.is(await lifecycle(sb, victim.id), 'Standby', 'no draining: Standby at once');
  t.is(sb.world.state.groups.g.desired, 2);
  sb.advance(SCALE_DELAY_MS);
  t.is(active(sb, 'g').filter((i) => i.lifecycle === 'Pending').length, 1, 'a replacement is launching');
});

test('[ASG-10] no health checks in Standby: an instance EC2 terminated there stays Standby and Healthy; ExitStandby finds it and replaces it', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, elb: { name: 'lb', drainingTimeout: 0 } });
  const victim = active(sb, 'g')[0];
  await sb.clients.autoScaling.send(new EnterStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [victim.id], ShouldDecrementDesiredCapacity: true }));
  sb.world.ec2Terminate(victim);
  sb.advance(3 * TICK_MS);
  t.is(victim.ec2State, 'terminated');
  t.is(victim.lifecycle, 'Standby');
  t.is(victim.health, 'Healthy', 'health status as before standby');
  await sb.clients.autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [victim.id] }));
  sb.advance(2 * TICK_MS);
  t.not(victim.health, 'Healthy', 'checked again once back: unhealthy');
  t.false(active(sb, 'g').includes(victim));
  t.is(active(sb, 'g').length, 2, 'replaced');
});

test('[ASG-10] ExitStandby: desired incremented, Pending (PreInService) then InService at the next scaling activity, registered again, grace period restarts', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, healthCheckGracePeriod: 120, elb: { name: 'lb', drainingTimeout: 0 } });
  const victim = active(sb, 'g')[0];
  await sb.clients.autoScaling.send(new EnterStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [victim.id], ShouldDecrementDesiredCapacity: true }));
  sb.advance(TICK_MS);
  const out = await sb.clients.autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [victim.id] }));
  const act = out.Activities![0];
  t.is(act.Description, `Moving EC2 instance out of Standby: ${victim.id}`);
  t.regex(act.Cause!, /was moved out of standby in response to a user request, increasing the capacity from 1 to 2\.$/);
  t.is(act.StatusCode, 'PreInService');
  t.is(act.Progress, 30);
  t.is(sb.world.state.groups.g.desired, 2);
  t.is(await lifecycle(sb, victim.id), 'Pending');
  const back = sb.clock.now() + SCALE_DELAY_MS;
  sb.advance(SCALE_DELAY_MS);
  t.is(await lifecycle(sb, victim.id), 'InService');
  t.is(victim.inServiceAt, back, 'the grace period counts from its return');
  t.true(await registered(sb, victim.id));
  const done = await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g', ActivityIds: [act.ActivityId!] }));
  t.is(done.Activities![0].StatusCode, 'Successful');
  t.is(active(sb, 'g').length, 2, 'no launch: it is the capacity it added');
});

test('[ASG-10] scale-in never picks an instance in Standby; validation: not InService, below min, above max, more than 20', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 3, max: 3, elb: { name: 'lb', drainingTimeout: 0 } });
  const [a, b] = active(sb, 'g');
  await sb.clients.autoScaling.send(new EnterStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [a.id], ShouldDecrementDesiredCapacity: false }));
  const again: any = await t.throwsAsync(sb.clients.autoScaling.send(new EnterStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [a.id], ShouldDecrementDesiredCapacity: true })));
  t.is(again.name, 'ValidationError');
  t.regex(again.message, /is not in InService/);
  const notStandby: any = await t.throwsAsync(sb.clients.autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [b.id] })));
  t.regex(notStandby.message, /is not in Standby/);
  sb.settle({ group: 'g' });
  // desired 3 = max 3 with a replacement running: ExitStandby would make desired 4 > max.
  const overMax: any = await t.throwsAsync(sb.clients.autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [a.id] })));
  t.is(overMax.name, 'ValidationError');
  t.regex(overMax.message, /above the group's max size 3/);
  await sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', MinSize: 3 }));
  const belowMin: any = await t.throwsAsync(sb.clients.autoScaling.send(new EnterStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: [b.id], ShouldDecrementDesiredCapacity: true })));
  t.regex(belowMin.message, /below the group's min size 3/);
  const many: any = await t.throwsAsync(sb.clients.autoScaling.send(new EnterStandbyCommand({ AutoScalingGroupName: 'g', InstanceIds: Array.from({ length: 21 }, (_, i) => `i-${i}`), ShouldDecrementDesiredCapacity: false })));
  t.regex(many.message, /between 1 and 20/);
  await sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', MinSize: 0 }));
  await sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 1 }));
  sb.advance(3 * TICK_MS);
  t.is(a.lifecycle, 'Standby', 'scale-in to 1 left the Standby instance alone');
  t.is(active(sb, 'g').length, 1);
});

test('[ASG-8] ForceDelete: "Delete in progress" while its instances terminate, changes refused as pending delete, then gone', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, elb: { name: 'lb', drainingTimeout: 30 } });
  await sb.clients.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'g', ForceDelete: true }));
  const during = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.is(during.AutoScalingGroups![0].Status, 'Delete in progress');
  t.true(during.AutoScalingGroups![0].Instances!.every((i) => i.LifecycleState?.startsWith('Terminating')));
  const upd: any = await t.throwsAsync(sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', MaxSize: 5 })));
  t.is(upd.name, 'ValidationError');
  t.is(upd.message, 'The AutoScaling group may not be modified while it is pending delete');
  const sus: any = await t.throwsAsync(sb.clients.autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'g' })));
  t.is(sus.message, 'Processes may not be suspended while the AutoScaling group is pending delete');
  const dup: any = await t.throwsAsync(sb.clients.autoScaling.send(new CreateAutoScalingGroupCommand({
    AutoScalingGroupName: 'g', MinSize: 0, MaxSize: 1, LaunchTemplate: { LaunchTemplateName: 'g-lt' }, AvailabilityZones: sb.world.zones(),
  })));
  t.is(dup.name, 'AlreadyExistsFault');
  await sb.clients.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'g', ForceDelete: true })); // again: accepted
  sb.advance(30_000 + 20_000 + TICK_MS); // draining, shutdown, then the loop
  const after = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.deepEqual(after.AutoScalingGroups, []);
});

test('[ASG-8] deleting a group with no instances is immediate', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 0 });
  await sb.clients.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'g' }));
  const out = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.deepEqual(out.AutoScalingGroups, []);
});

test('[TERM-5] scale-in with every remaining instance protected: desired lowered, instances kept, the activity says so once', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 3 });
  const ids = active(sb, 'g').map((i) => i.id);
  await sb.clients.autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'g', InstanceIds: ids.slice(0, 2), ProtectedFromScaleIn: true }));
  await sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 1 }));
  sb.advance(5 * TICK_MS);
  t.is(sb.world.state.groups.g.desired, 1);
  t.deepEqual(active(sb, 'g').map((i) => i.id).sort(), ids.slice(0, 2).sort(), 'the unprotected one went, the protected stay');
  const acts = await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g' }));
  const notes = acts.Activities!.filter((a) => a.Description === 'Could not scale to desired capacity because all remaining instances are protected from scale-in.');
  t.is(notes.length, 1, 'recorded once, not every loop');
  t.is(notes[0].StatusCode, 'Failed');
  t.is(notes[0].StatusMessage, notes[0].Description);
  await sb.clients.autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'g', InstanceIds: [ids[0]], ProtectedFromScaleIn: false }));
  sb.advance(2 * TICK_MS);
  t.is(active(sb, 'g').length, 1, 'once unprotected, the loop scales in');
});

test('[HEALTH-7] instance maintenance policy: validated and reported; with MaxHealthyPercentage over 100 an unhealthy instance stays until its replacement is ready', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, healthCheckGracePeriod: 60, elb: { name: 'lb', drainingTimeout: 0 } });
  const bad: any = await t.throwsAsync(sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', InstanceMaintenancePolicy: { MinHealthyPercentage: 50, MaxHealthyPercentage: 200 } })));
  t.is(bad.name, 'ValidationError');
  t.regex(bad.message, /cannot be greater than 100/);
  const half: any = await t.throwsAsync(sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', InstanceMaintenancePolicy: { MinHealthyPercentage: 100 } })));
  t.regex(half.message, /Both MinHealthyPercentage and MaxHealthyPercentage/);
  await sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', InstanceMaintenancePolicy: { MinHealthyPercentage: 100, MaxHealthyPercentage: 150 } }));
  const out = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.deepEqual(out.AutoScalingGroups![0].InstanceMaintenancePolicy, { MinHealthyPercentage: 100, MaxHealthyPercentage: 150 });
  const sick = active(sb, 'g')[0];
  sick.failAt = sb.clock.now(); // its application stops answering now
  sb.world.pokeElbs(sick);
  sb.advance(60_000); // ELB marks it OutOfService (2 x 10 s), the loop marks it Unhealthy
  t.is(sick.health, 'Unhealthy');
  t.is(sick.lifecycle, 'InService', 'kept: the replacement launches first');
  t.is(instances(sb, 'g').filter((i) => i.lifecycle === 'Pending' || (i.lifecycle === 'InService' && i !== sick)).length, 2, 'one healthy + one replacement');
  t.is(sb.monitor.terminations({ group: 'g', cause: ['replace-unhealthy'] }).length, 0);
  sb.advance(5 * 60_000);
  t.true(sick.lifecycle === undefined || sick.lifecycle.startsWith('Terminat'), 'terminated once its replacement is ready');
  t.is(active(sb, 'g').length, 2);
  t.true(active(sb, 'g').every((i) => sb.world.isHealthy(i)));
  t.true(sb.monitor.minHealthy('g') >= 1);
  await sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', InstanceMaintenancePolicy: { MinHealthyPercentage: -1, MaxHealthyPercentage: -1 } }));
  const cleared = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.is(cleared.AutoScalingGroups![0].InstanceMaintenancePolicy, undefined);
});
