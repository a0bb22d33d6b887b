/**
 * Mixed instances groups and AWS's own replacements in the simulated Auto Scaling, rule by rule
 * through the real SDK clients: [MIX-1..6] (the policy, its validation, On-Demand/Spot split,
 * instance types, what Describe* report, partial updates), [SPOT-1] Spot interruptions, [SPOT-2]
 * Capacity Rebalancing, [LIFE-1] maximum instance lifetime.
 */
import test from 'ava';
import { CreateAutoScalingGroupCommand, DescribeAutoScalingGroupsCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import type { Sandbox } from '../../orchestrator/sandbox';
import { onDemandCount, planMixedLaunch } from '../../orchestrator/sandbox/autoscaling/mixed';
import { SPOT_NOTICE_MS } from '../../orchestrator/sandbox/autoscaling/spot';
import { TICK_MS } from '../../orchestrator/sandbox/world';
import { active, instances, sandbox } from './helpers';

const TYPES = ['m5.large', 'c5.large', 'r5.large'];

function mixedGroup(o: { capacity?: number; base?: number; percent?: number; capacityRebalance?: boolean; maxInstanceLifetime?: number; elb?: boolean } = {}): Sandbox {
  const sb = sandbox();
  sb.seedGroup({
    name: 'g',
    capacity: o.capacity ?? 10,
    mixed: { instanceTypes: TYPES, onDemandBaseCapacity: o.base ?? 2, onDemandPercentageAboveBaseCapacity: o.percent ?? 50, spotAllocationStrategy: 'price-capacity-optimized' },
    capacityRebalance: o.capacityRebalance,
    maxInstanceLifetime: o.maxInstanceLifetime,
    ...(o.elb === false ? {} : { elb: { name: 'lb', drainingTimeout: 30 } }),
  });
  return sb;
}

const onDemandRows: Array<[number, number, number, number]> = [
  // n, base, percent → On-Demand
  [10, 2, 50, 6],
  [10, 0, 0, 0],
  [10, 0, 100, 10],
  [3, 5, 0, 3],
  [5, 1, 25, 2], // 1 + ceil(4 × 0.25) = 2
  [4, 0, 30, 2], // ceil(1.2) = 2: rounded toward On-Demand
];
for (const [n, base, percent, want] of onDemandRows) {
  test(`[MIX-3] onDemandCount(${n}, base ${base}, ${percent} %) = ${want}`, (t) => {
    t.is(onDemandCount(n, base, percent), want);
  });
}

test('[MIX-3, MIX-4, MIX-5] a mixed group of 10 (base 2, 50 %): 6 On-Demand on the first override, 4 Spot spread over the overrides; EC2 says spot, the ASG the type and the policy\'s template version', async (t) => {
  const sb = mixedGroup();
  const live = active(sb, 'g');
  t.is(live.length, 10);
  const spot = live.filter((i) => i.market === 'spot');
  t.is(spot.length, 4);
  t.true(live.filter((i) => i.market !== 'spot').every((i) => i.instanceType === 'm5.large'), 'On-Demand: prioritized, the first override');
  t.deepEqual([...new Set(spot.map((i) => i.instanceType))].sort(), ['c5.large', 'm5.large', 'r5.large'], 'Spot spread over every override');
  const ec2 = await sb.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: live.map((i) => i.id) }));
  const lifecycles = ec2.Reservations!.flatMap((r) => r.Instances!).map((i) => i.InstanceLifecycle);
  t.is(lifecycles.filter((l) => l === 'spot').length, 4);
  t.is(lifecycles.filter((l) => l === undefined).length, 6, 'On-Demand: no InstanceLifecycle');
  const asg = (await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }))).AutoScalingGroups![0];
  t.is(asg.LaunchTemplate, undefined);
  t.deepEqual(asg.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.map((o) => o.InstanceType), TYPES);
  t.is(asg.MixedInstancesPolicy?.InstancesDistribution?.SpotAllocationStrategy, 'price-capacity-optimized');
  for (const i of asg.Instances!) {
    t.true(TYPES.includes(i.InstanceType!));
    t.is(i.LaunchTemplate?.Version, '1', 'per instance: the resolved version of the policy\'s template');
  }
});

test('[MIX-4] planMixedLaunch: no overrides — the template\'s own type (none chosen), Spot once the On-Demand share is met', (t) => {
  const sb = mixedGroup({ capacity: 2, base: 1, percent: 0, elb: false });
  const g = sb.world.state.groups.g;
  g.mixedInstancesPolicy.LaunchTemplate.Overrides = [];
  t.deepEqual(planMixedLaunch(g!, active(sb, "g")), { spot: true });
});

const invalid: Array<[string, Record<string, unknown>, RegExp]> = [
  ['an unknown Spot allocation strategy', { SpotAllocationStrategy: 'cheapest' }, /valid values are lowest-price, capacity-optimized, capacity-optimized-prioritized, price-capacity-optimized/],
  ['a percentage above 100', { OnDemandPercentageAboveBaseCapacity: 101 }, /between 0 and 100/],
  ['a negative base', { OnDemandBaseCapacity: -1 }, /OnDemandBaseCapacity/],
  ['an unknown On-Demand allocation strategy', { OnDemandAllocationStrategy: 'random' }, /lowest-price, prioritized/],
];
for (const [title, distribution, message] of invalid) {
  test(`[MIX-2] CreateAutoScalingGroup refuses ${title} (ValidationError)`, async (t) => {
    const sb = sandbox();
    sb.seedGroup({ name: 'seed', capacity: 0, settle: false });
    const lt = sb.world.findLaunchTemplate({ name: 'seed-lt' })!;
    const err = await t.throwsAsync(
      sb.clients.autoScaling.send(
        new CreateAutoScalingGroupCommand({
          AutoScalingGroupName: 'bad', MinSize: 0, MaxSize: 2, AvailabilityZones: ['us-east-1a'],
          MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: lt.id }, Overrides: [{ InstanceType: 'm5.large' }] }, InstancesDistribution: distribution },
        }),
      ),
    );
    t.is(err?.name, 'ValidationError');
    t.regex(err!.message, message);
    t.false('bad' in sb.world.state.groups);
  });
}

test('[MIX-1] more than 40 instance types, and weights on some overrides only, are refused', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'seed', capacity: 0, settle: false });
  const lt = sb.world.findLaunchTemplate({ name: 'seed-lt' })!;
  const create = (Overrides: Array<Record<string, string>>) =>
    sb.clients.autoScaling.send(new CreateAutoScalingGroupCommand({ AutoScalingGroupName: 'bad', MinSize: 0, MaxSize: 2, AvailabilityZones: ['us-east-1a'], MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: lt.id }, Overrides } } }));
  const many = await t.throwsAsync(create(Array.from({ length: 41 }, (_, n) => ({ InstanceType: `t${n}.large` }))));
  t.regex(many!.message, /less than or equal to 40/);
  const weights = await t.throwsAsync(create([{ InstanceType: 'm5.large', WeightedCapacity: '2' }, { InstanceType: 'c5.large' }]));
  t.regex(weights!.message, /WeightedCapacity for all of them/);
});

test('[MIX-6] an UpdateAutoScalingGroup naming only the policy\'s launch template keeps its overrides and distribution', async (t) => {
  const sb = mixedGroup({ elb: false });
  const lt = sb.world.findLaunchTemplate({ name: 'g-lt' })!;
  await sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: lt.id, Version: '1' } } } }));
  const asg = (await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }))).AutoScalingGroups![0];
  t.is(asg.MixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.Version, '1');
  t.deepEqual(asg.MixedInstancesPolicy?.LaunchTemplate?.Overrides?.map((o) => o.InstanceType), TYPES);
  t.is(asg.MixedInstancesPolicy?.InstancesDistribution?.OnDemandBaseCapacity, 2);
});

test('[LIFE-1] MaxInstanceLifetime below one day is refused; 0 clears it; reported by DescribeAutoScalingGroups', async (t) => {
  const sb = mixedGroup({ elb: false, maxInstanceLifetime: 86_400 });
  const describe = async () => (await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }))).AutoScalingGroups![0];
  t.is((await describe()).MaxInstanceLifetime, 86_400);
  const err = await t.throwsAsync(sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', MaxInstanceLifetime: 3600 })));
  t.is(err?.name, 'ValidationError');
  await sb.clients.autoScaling.send(new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'g', MaxInstanceLifetime: 0 }));
  t.is((await describe()).MaxInstanceLifetime, undefined);
});

test('[SPOT-1] a Spot interruption: two minutes\' notice, then EC2 terminates it; the group\'s health check replaces it (a new Spot launch)', (t) => {
  const sb = mixedGroup({ capacity: 4, base: 0, percent: 0 });
  const victim = active(sb, 'g')[0];
  t.is(victim.market, 'spot');
  const t0 = sb.clock.now();
  sb.world.spot.interrupt(victim);
  sb.advance(SPOT_NOTICE_MS - TICK_MS);
  t.is(victim.ec2State, 'running', 'still running during the notice');
  sb.advance(2 * TICK_MS);
  t.not(victim.ec2State, 'running');
  t.regex(victim.stateReason ?? '', /Server\.SpotInstanceTermination/);
  const rec = sb.monitor.terminations({ group: 'g' }).find((r) => r.instanceId === victim.id)!;
  t.is(rec.cause, 'spot-interruption');
  t.true(rec.time >= t0 + SPOT_NOTICE_MS);
  sb.settle({ group: 'g' });
  t.is(active(sb, 'g').length, 4);
  t.false(active(sb, 'g').some((i) => i.id === victim.id));
});

test('[SPOT-2] Capacity Rebalancing: the replacement launches first (the group one above desired), the at-risk instance is terminated only once the replacement serves', (t) => {
  const sb = mixedGroup({ capacity: 4, base: 0, percent: 0, capacityRebalance: true });
  const atRisk = active(sb, 'g')[0];
  const t0 = sb.clock.now();
  sb.world.spot.recommendRebalance(atRisk);
  sb.advance(TICK_MS);
  const replacement = active(sb, 'g').find((i) => i.replacesAtRisk === atRisk.id);
  t.truthy(replacement, 'a replacement launched');
  t.is(active(sb, 'g').length, 5, 'above desired while both run');
  t.is(sb.world.state.groups.g.desired, 4, 'desired unchanged');
  // Not scaled in, not terminated while the replacement is not serving yet.
  sb.advance(40_000);
  t.true(sb.world.isActive(atRisk));
  sb.settle({ group: 'g' });
  const rec = sb.monitor.terminations({ group: 'g' }).find((r) => r.instanceId === atRisk.id)!;
  t.is(rec.cause, 'capacity-rebalance');
  t.true(sb.world.isHealthy(replacement!), 'its replacement serves');
  t.is(active(sb, 'g').length, 4);
  t.true(sb.monitor.minHealthy('g', t0) >= 4, 'never below desired healthy');
  t.is(sb.monitor.terminations({ group: 'g' }).length, 1, 'nothing else terminated');
});

test('[SPOT-2] without CapacityRebalance a recommendation changes nothing', (t) => {
  const sb = mixedGroup({ capacity: 3, base: 0, percent: 0 });
  sb.world.spot.recommendRebalance(active(sb, 'g')[0]);
  sb.advance(120_000);
  t.is(instances(sb, 'g').length, 3);
  t.is(sb.monitor.terminations({ group: 'g' }).length, 0);
});

test('[LIFE-1] instances reaching the maximum lifetime are replaced one at a time, oldest first, terminate then launch', (t) => {
  const sb = mixedGroup({ capacity: 3, elb: false, maxInstanceLifetime: 86_400 });
  const first = [...active(sb, 'g')].sort((a, b) => a.launchTime - b.launchTime || a.id.localeCompare(b.id));
  sb.advance(86_400_000 - 60_000);
  t.is(sb.monitor.terminations({ group: 'g' }).length, 0, 'none before the lifetime');
  sb.advance(60_000 + TICK_MS);
  const recs = sb.monitor.terminations({ group: 'g', cause: ['max-lifetime'] });
  t.is(recs.length, 1, 'one at a time');
  t.is(recs[0].instanceId, first[0].id);
  sb.advance(10 * 60_000);
  const all = sb.monitor.terminations({ group: 'g', cause: ['max-lifetime'] });
  t.deepEqual(all.map((r) => r.instanceId), first.map((i) => i.id), 'each in turn, oldest first');
  for (let k = 1; k < all.length; k++) t.true(all[k].time > all[k - 1].time);
  t.is(active(sb, 'g').length, 3);
});
