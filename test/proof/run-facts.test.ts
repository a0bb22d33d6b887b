/**
 * The harness's fact-gathering rules that judge what AWS did on its own (./run.ts): a rebalancing
 * launch after the tool handed the group back, and spontaneous losses not yet made good. Each is
 * checked on the simulated AWS against the record it reads (activities, call log, monitor), with
 * the case it must NOT excuse beside the one it must.
 */
import test from 'ava';
import { ResumeProcessesCommand, SuspendProcessesCommand } from '@aws-sdk/client-auto-scaling';
import { awsAfterHandBack, lastToolCall, awsShortfall, sizedAsConfigured } from '../../orchestrator/proof/run';
import { Sandbox } from '../../orchestrator/sandbox';

const live = (sb: Sandbox, g: string) => sb.world.groupInstances(sb.world.state.groups[g]).filter((i) => sb.world.isActive(i));

/** A group of 3 in one zone (settled), then allowed all three zones, so AZRebalance wants to act. */
async function unevenGroup(): Promise<Sandbox> {
  const sb = Sandbox.create({ seed: 7, faults: { bootSeconds: 30, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'g', capacity: 3, max: 3, availabilityZones: [sb.world.zones()[0]], elb: { name: 'g-elb', drainingTimeout: 0 } });
  await sb.newClients('tool-1').autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'g', ScalingProcesses: ['AZRebalance'] }));
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'g', AvailabilityZones: sb.world.zones() });
  return sb;
}

test('a rebalancing launch that started after the tool resumed AZRebalance is AWS’s; an ordinary launch is not', async (t) => {
  const sb = await unevenGroup();
  sb.advance(30_000);
  t.is(live(sb, 'g').length, 3, 'no rebalancing while suspended');
  await sb.newClients('tool-1').autoScaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: 'g', ScalingProcesses: ['AZRebalance'] }));
  const handBack = lastToolCall(sb, 'ResumeProcesses');
  t.is(handBack, sb.clock.now());
  sb.advance(10_000); // the next ASG loop
  const insts = live(sb, 'g');
  t.is(insts.length, 4, 'AWS launched one to rebalance');
  const aws = awsAfterHandBack(sb, 'g', insts, handBack);
  t.is(aws.length, 1);
  t.regex(sb.world.state.activities[aws[0].launchActivity!].cause, /Availability Zone rebalancing/);
  // Not excused: the same launch judged against a hand-back after it, or with no hand-back at all.
  t.deepEqual(awsAfterHandBack(sb, 'g', insts, sb.clock.now() + 1), []);
  t.deepEqual(awsAfterHandBack(sb, 'g', insts, undefined), []);
  // Not excused: a launch toward a raised desired capacity, even after the hand-back.
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'g', MaxSize: 6, DesiredCapacity: 5 });
  sb.advance(2_000);
  const after = live(sb, 'g');
  t.true(after.length >= 5);
  t.deepEqual(awsAfterHandBack(sb, 'g', after, handBack).map((i) => i.id), [aws[0].id]);
});

test('capacity as configured allows AWS’s rebalancing launches above the size, never a deficit', (t) => {
  const rows: Array<[live: number, size: number, launches: number, ok: boolean]> = [
    [10, 10, 0, true],
    [11, 10, 0, false],
    [11, 10, 1, true],
    [10, 10, 1, true], // the rebalance finished: one launched, one in the largest zone terminated
    [9, 10, 1, false],
    [12, 10, 1, false],
  ];
  for (const [n, size, launches, ok] of rows) t.is(sizedAsConfigured(n, size, launches), ok, `${n} live, size ${size}, ${launches} launch(es)`);
});

test('spontaneous losses count until a replacement is healthy, and only those AWS made', async (t) => {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 60, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'old', capacity: 4, max: 4, elb: { name: 'old-elb', drainingTimeout: 0, healthCheck: { interval: 10, healthyThreshold: 3 } } });
  const from = sb.clock.now();
  sb.advance(1_000);
  const victims = live(sb, 'old').slice(0, 2);
  // What the sandbox's spontaneous-termination fault does [FAULT-4], for two chosen instances.
  for (const v of victims) {
    sb.monitor.terminated({ time: sb.clock.now(), instanceId: v.id, group: 'old', cause: 'spontaneous', healthy: true, upToDate: true, launch: v.launch, launchTime: v.launchTime });
    sb.world.ec2Terminate(v, 'Server.SpotInstanceTermination: Spot instance termination');
  }
  const lostAt = sb.clock.now();
  t.is(awsShortfall(sb, 'old', from, lostAt), 2);
  sb.advance(40_000); // replacements launched at the next loop, still booting (60 s)
  t.is(awsShortfall(sb, 'old', from, sb.clock.now()), 2);
  sb.settle({ group: 'old' });
  t.is(awsShortfall(sb, 'old', from, sb.clock.now() + 1), 0, 'both replacements healthy: nothing outstanding');
  // Losses before the window are not counted.
  t.is(awsShortfall(sb, 'old', lostAt + 1, sb.clock.now()), 0);
});

test('a deficit AWS did not cause is not excused, even beside one it did', (t) => {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 60, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'old', capacity: 4, max: 4, elb: { name: 'old-elb', drainingTimeout: 0 } });
  const from = sb.clock.now();
  sb.advance(1_000);
  const [v, other] = live(sb, 'old');
  sb.monitor.terminated({ time: sb.clock.now(), instanceId: v.id, group: 'old', cause: 'spontaneous', healthy: true, upToDate: true, launch: v.launch, launchTime: v.launchTime });
  sb.world.ec2Terminate(v, 'Server.SpotInstanceTermination: Spot instance termination');
  t.is(awsShortfall(sb, 'old', from, sb.clock.now()), 1);
  // Someone (not AWS) takes a second one out of the ELB: the deficit is 2, AWS explains 1.
  sb.direct('elb', 'DeregisterInstancesFromLoadBalancer', { LoadBalancerName: 'old-elb', Instances: [{ InstanceId: other.id }] });
  t.is(sb.monitor.healthyCount('old', sb.clock.now()), 2);
  t.is(awsShortfall(sb, 'old', from, sb.clock.now()), 1);
});

test('an AZ rebalance that ends by terminating a healthy instance counts until its launch is healthy', async (t) => {
  const sb = await unevenGroup();
  const from = sb.clock.now();
  await sb.newClients('tool-1').autoScaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: 'g', ScalingProcesses: ['AZRebalance'] }));
  let at: number | undefined;
  for (let i = 0; i < 120 && at === undefined; i++) {
    sb.advance(1_000);
    at = sb.monitor.terminations({ group: 'g', cause: ['rebalance'] }).find((x) => x.healthy)?.time;
  }
  t.truthy(at, 'AWS terminated a healthy instance to rebalance');
  t.is(awsShortfall(sb, 'g', from, at!), 3 - sb.monitor.healthyCount('g', at!));
  t.true(awsShortfall(sb, 'g', from, at!) <= 1);
  sb.settle({ group: 'g' });
  t.is(awsShortfall(sb, 'g', from, sb.clock.now()), 0);
});
