/**
 * [ASG-1a]: a capacity change requested through the API is acted on SCALE_DELAY_MS after the call;
 * health-check replacement and AZRebalance stay on the periodic loop [ASG-1].
 */
import test from 'ava';
import { SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceHealthCommand } from '@aws-sdk/client-elastic-load-balancing';
import type { Sandbox } from '../../orchestrator/sandbox';
import { SCALE_DELAY_MS, TICK_MS } from '../../orchestrator/sandbox/world';
import { active, sandbox, terminating } from './helpers';

/** Moves to 3.5 s past a loop tick, so "prompt" and "next loop" are told apart. */
function offTick(sb: Sandbox): number {
  sb.advance(TICK_MS - (sb.clock.now() % TICK_MS) + 3_500);
  return sb.clock.now();
}

const requests: Array<{ name: string; call: (sb: Sandbox) => Promise<unknown>; launched: number; terminated: number }> = [
  { name: 'SetDesiredCapacity up', call: (sb) => sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 5 })), launched: 2, terminated: 0 },
  { name: 'UpdateAutoScalingGroup DesiredCapacity', call: (sb) => sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 4 })), launched: 1, terminated: 0 },
  { name: 'UpdateAutoScalingGroup MinSize above the size (implicit desired)', call: (sb) => sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', MinSize: 5 })), launched: 2, terminated: 0 },
  { name: 'SetDesiredCapacity down (scale-in)', call: (sb) => sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 1 })), launched: 0, terminated: 2 },
  {
    name: 'TerminateInstanceInAutoScalingGroup without decrement (replacement)',
    call: (sb) => sb.clients.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: active(sb, 'g')[0].id, ShouldDecrementDesiredCapacity: false })),
    launched: 1, terminated: 1,
  },
];

for (const r of requests) {
  test(`prompt scaling activity: ${r.name} is acted on ${SCALE_DELAY_MS} ms after the call`, async (t) => {
    const sb = sandbox();
    sb.seedGroup({ name: 'g', capacity: 3, max: 6 });
    const before = new Set(active(sb, 'g').map((i) => i.id));
    const t0 = offTick(sb);
    await r.call(sb);
    const fresh = () => active(sb, 'g').filter((i) => !before.has(i.id));
    const scaledIn = () => terminating(sb, 'g').filter((id) => sb.monitor.terminations({ group: 'g', cause: ['scale-in'] }).some((x) => x.instanceId === id));
    sb.clock.advanceTo(t0 + SCALE_DELAY_MS - 1);
    t.is(fresh().length, 0, 'nothing launched before the delay');
    t.is(scaledIn().length, 0, 'nothing scaled in before the delay');
    sb.clock.advanceTo(t0 + SCALE_DELAY_MS);
    t.is(fresh().length, r.launched);
    t.true(fresh().every((i) => i.launchTime === t0 + SCALE_DELAY_MS && i.lifecycle === 'Pending'));
    t.is(terminating(sb, 'g').length, r.terminated);
    t.true(t0 + SCALE_DELAY_MS < Math.ceil(t0 / TICK_MS) * TICK_MS, 'before the next periodic loop');
  });
}

test('several capacity requests before the scaling activity starts make one activity toward the last desired capacity', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, max: 10 });
  const t0 = offTick(sb);
  sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: 'g', DesiredCapacity: 4 });
  sb.clock.advanceTo(t0 + 500);
  sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: 'g', DesiredCapacity: 6 });
  sb.clock.advanceTo(t0 + SCALE_DELAY_MS);
  t.is(active(sb, 'g').length, 6);
  t.true(active(sb, 'g').filter((i) => i.lifecycle === 'Pending').every((i) => i.launchTime === t0 + SCALE_DELAY_MS));
});

test('health-check replacement stays on the periodic loop: an instance terminated through EC2 is replaced at the next tick', (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2 });
  const victim = active(sb, 'g')[0];
  const t0 = offTick(sb);
  sb.direct('ec2', 'TerminateInstances', { InstanceIds: [victim.id] });
  sb.clock.advanceTo(t0 + SCALE_DELAY_MS);
  t.is(victim.health, 'Healthy', 'the ASG has not looked yet');
  const tick = Math.ceil((t0 + SCALE_DELAY_MS) / TICK_MS) * TICK_MS;
  sb.clock.advanceTo(tick - 1);
  t.is(victim.health, 'Healthy');
  sb.clock.advanceTo(tick);
  t.is(victim.health, 'Unhealthy');
  t.is(active(sb, 'g').filter((i) => i.lifecycle === 'Pending' && i.launchTime === tick).length, 1);
});

// The benchmark's physical limit per batch: a launch requested at T is InService in the ELB at
// T + SCALE_DELAY_MS + boot + Interval x HealthyThreshold, and not a millisecond earlier [EC2-2, ELB-2/3].
for (const hc of [{ interval: 10, healthyThreshold: 3 }, { interval: 5, timeout: 2, healthyThreshold: 2 }, { interval: 30, healthyThreshold: 10 }]) {
  test(`ELB limit: launched on request at T, InService at T + ${SCALE_DELAY_MS / 1000} s + boot + ${hc.interval} s x ${hc.healthyThreshold}`, async (t) => {
    const boot = 40;
    const sb = sandbox({ faults: { bootSeconds: boot } });
    sb.seedGroup({ name: 'g', capacity: 1, max: 3, elb: { name: 'lb', healthCheck: hc } });
    const t0 = offTick(sb);
    await sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'g', DesiredCapacity: 2 }));
    sb.clock.advanceTo(t0 + SCALE_DELAY_MS);
    const inst = active(sb, 'g').find((i) => i.lifecycle === 'Pending')!;
    t.is(inst.launchTime, t0 + SCALE_DELAY_MS);
    const limit = inst.launchTime + (boot + hc.interval * hc.healthyThreshold) * 1000;
    const state = async () => (await sb.clients.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: 'lb', Instances: [{ InstanceId: inst.id }] }))).InstanceStates![0].State;
    sb.clock.advanceTo(limit - 1);
    t.is(await state(), 'OutOfService');
    t.false(sb.world.isHealthy(inst));
    sb.clock.advanceTo(limit);
    t.is(await state(), 'InService');
    t.true(sb.world.isHealthy(inst));
  });
}
