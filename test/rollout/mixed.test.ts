/**
 * Mixed instances groups in the rolling rollout (issue 15 items 4, 6, 7) as tables: an instance is
 * outdated by its template version only, whatever its type or market; the plan's lines and data
 * about the policy and AWS's own replacers (rollout/rolling/mixed.ts).
 */
import test from 'ava';
import type { GroupSnapshot, InstanceView, MixedPolicyView } from '../../orchestrator/aws/port';
import { lifetimeLabel, marketCounts, mixedPlan } from '../../orchestrator/rollout/rolling/mixed';
import { isOutdated } from '../../orchestrator/rollout/rolling/strategy';
import { instanceView } from './instance-view';

const POLICY: MixedPolicyView = { instanceTypes: ['m5.large', 'c5.large'], onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 50, spotAllocationStrategy: 'price-capacity-optimized', onDemandAllocationStrategy: 'prioritized' };

function group(instances: InstanceView[], over: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return {
    name: 'web', observedAt: 0, desired: instances.length, min: 0, max: 10, launch: { launchTemplate: { id: 'lt-1', name: 'web-lt', version: 3 } },
    mixedInstancesPolicy: true, mixedPolicy: POLICY, healthCheckType: 'ELB', healthCheckGracePeriod: 300,
    availabilityZones: ['us-east-1a'], suspendedProcesses: [], loadBalancerNames: [], targetGroupARNs: [], tags: {}, instances, ...over,
  };
}
const at = (version: number, market: 'spot' | 'on-demand' | undefined, instanceType: string, id = `i-${version}-${market}-${instanceType}`) =>
  instanceView({ instanceId: id, launchedFrom: { launchTemplate: { id: 'lt-1', version } }, ...(market ? { market } : {}), instanceType });

const outdatedRows: Array<[string, InstanceView, boolean]> = [
  ['current version, On-Demand, the first override', at(3, 'on-demand', 'm5.large'), false],
  ['current version, Spot, another override', at(3, 'spot', 'c5.large'), false],
  ['current version, a type no override names any more', at(3, 'spot', 'r4.large'), false],
  ['previous version, Spot', at(2, 'spot', 'c5.large'), true],
  ['previous version, On-Demand', at(2, 'on-demand', 'm5.large'), true],
  ['another template, same version number', instanceView({ launchedFrom: { launchTemplate: { id: 'lt-9', version: 3 } }, market: 'spot', instanceType: 'm5.large' }), true],
];
for (const [title, i, outdated] of outdatedRows) {
  test(`isOutdated on a mixed group: ${title} → ${outdated}`, (t) => {
    t.is(isOutdated(i, group([i])), outdated);
  });
}

const planRows: Array<[string, GroupSnapshot, RegExp | '', Record<string, unknown>]> = [
  ['a plain group: nothing', group([at(2, 'on-demand', 't3.small')], { mixedInstancesPolicy: false, mixedPolicy: undefined }), '', {}],
  [
    'a mixed group: types, distribution, live counts; Spot interruptions are AWS\'s',
    group([at(2, 'on-demand', 'm5.large'), at(2, 'spot', 'c5.large'), at(3, 'spot', 'm5.large')]),
    /^\n  mixed instances policy: m5\.large, c5\.large; On-Demand base 1 \+ 50 % above, Spot price-capacity-optimized; 1 On-Demand, 2 Spot live: replaced alike, whatever their type\n  AWS replaces on its own \(Spot interruptions\): tolerated, not counted as the tool's$/,
    { mixedInstancesPolicy: { ...POLICY, onDemand: 1, spot: 2 } },
  ],
  [
    'all On-Demand (100 %), Capacity Rebalancing and a lifetime of 36 h',
    group([at(2, 'on-demand', 'm5.large')], { mixedPolicy: { ...POLICY, onDemandPercentageAboveBaseCapacity: 100 }, capacityRebalance: true, maxInstanceLifetime: 129_600 }),
    /AWS replaces on its own \(Capacity Rebalancing, maximum instance lifetime 36 h\)/,
    { mixedInstancesPolicy: { ...POLICY, onDemandPercentageAboveBaseCapacity: 100, onDemand: 1, spot: 0 }, capacityRebalance: true, maxInstanceLifetimeSeconds: 129_600 },
  ],
  [
    'a plain group with a maximum lifetime: only that line',
    group([at(2, 'on-demand', 't3.small')], { mixedInstancesPolicy: false, mixedPolicy: undefined, maxInstanceLifetime: 86_400 }),
    /^\n  AWS replaces on its own \(maximum instance lifetime 1 d\): tolerated, not counted as the tool's$/,
    { maxInstanceLifetimeSeconds: 86_400 },
  ],
  [
    'instances EC2 has not reported yet are counted apart',
    group([at(2, undefined, 'm5.large'), at(2, 'spot', 'c5.large')]),
    /0 On-Demand, 1 Spot live \(1 not reported yet\)/,
    { mixedInstancesPolicy: { ...POLICY, onDemand: 0, spot: 1 } },
  ],
];
for (const [title, g, line, data] of planRows) {
  test(`mixedPlan: ${title}`, (t) => {
    const p = mixedPlan(g);
    if (line === '') t.is(p.line, '');
    else t.regex(p.line, line);
    t.deepEqual(p.data, data);
  });
}

test('lifetimeLabel and marketCounts', (t) => {
  t.deepEqual([86_400, 604_800, 129_600, 5400].map(lifetimeLabel), ['1 d', '7 d', '36 h', '90 min']);
  t.deepEqual(marketCounts([at(1, 'spot', 'a.b'), at(1, 'on-demand', 'a.b', 'x'), at(1, undefined, 'a.b', 'y')]), { spot: 1, onDemand: 1, unknown: 1 });
});
