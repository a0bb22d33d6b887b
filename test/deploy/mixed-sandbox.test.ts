/**
 * A rolling service declaring a mixed instances policy, deployed with the real infra/ program on
 * the sandbox stack (issue 15 item 4): the group is created with the policy (overrides,
 * distribution, Capacity Rebalancing), its instances are Spot and On-Demand of several types;
 * the next deploy (a new image) re-pins the policy's launch template and rolls every instance,
 * Spot and On-Demand alike, whatever its type.
 */
import test from 'ava';
import * as fs from 'node:fs';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';

const MIXED = `      mixedInstances:
        instanceTypes: [m5.large, c5.large, r5.large]
        onDemandBaseCapacity: 1
        onDemandPercentageAboveBaseCapacity: 0
        spotAllocationStrategy: price-capacity-optimized
        capacityRebalance: true
`;

test('deploy: a rolling service with a mixed instances policy is created with it, and a new image rolls every Spot and On-Demand instance', async (t) => {
  const w = sandboxDeployWorld({ tmpPrefix: 'sbx-mixed-' });
  const config = (image: string) => {
    const f = w.config(image);
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('      strategy: rolling\n', `      strategy: rolling\n${MIXED}`));
    return f;
  };
  await runDeploy({ stack: 'demo', create: true, configFile: config('ami-0m1') }, w.deps());
  const sb = w.sandbox;
  const rabbit = () => sb.world.state.groups['demo-rabbit'];
  const live = () => sb.world.groupInstances(rabbit()).filter((i) => sb.world.isActive(i));
  t.is(rabbit().launchTemplate, undefined, 'the policy carries the template');
  t.deepEqual(rabbit().mixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType), ['m5.large', 'c5.large', 'r5.large']);
  t.true(rabbit().capacityRebalance);
  sb.settle({ group: 'demo-rabbit' });
  t.is(live().filter((i) => i.market === 'spot').length, 2, 'base 1 On-Demand, the rest Spot');
  const v1 = Number(rabbit().mixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version);
  const before = live().map((i) => i.id);
  sb.monitor.baseline(['demo-rabbit']);
  const t0 = sb.clock.now();

  await runDeploy({ stack: 'demo', configFile: config('ami-0m2') }, w.deps());
  const v2 = Number(rabbit().mixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.Version);
  t.is(v2, v1 + 1, 'the policy re-pinned to the new template version');
  t.deepEqual(rabbit().mixedInstancesPolicy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType), ['m5.large', 'c5.large', 'r5.large'], 'overrides kept');
  t.true(live().every((i) => i.imageId === 'ami-0m2' && !before.includes(i.id)), 'every instance replaced with the new image');
  t.true(live().some((i) => i.market === 'spot'), 'Spot again after the rollout');
  t.true(sb.monitor.minHealthy('demo-rabbit', t0) >= 2);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('demo-rabbit'), []);
  t.deepEqual(sb.monitor.leftovers('demo-rabbit'), []);
});
