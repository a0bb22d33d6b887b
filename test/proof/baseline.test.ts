/**
 * The 30-s baselines behave like the seed tools: rolling replaces the oldest outdated instance
 * first without decrementing desired (3-2-3) and checks every 30 s; A/B scales the empty color,
 * checks ASG then ELB every 30 s, then sets the old color's desired to 0.
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { baselineAb, baselineRolling } from '../../orchestrator/proof/baseline';
import { overshoot } from '../../orchestrator/proof/bench';
import { Sandbox } from '../../orchestrator/sandbox';

const elb = (name: string, drainingTimeout = 0) => ({ name, healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 }, drainingTimeout });

test.serial('rolling baseline: oldest first, no decrement, every check on the 30-s rhythm', async (t) => {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 90, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'q', capacity: 3, max: 3, healthCheckGracePeriod: 300, elb: elb('q-elb') });
  const g = sb.world.state.groups.q;
  // Make the launch order explicit: age the instances 3, 2, 1 minutes.
  const ids = [...g.instances];
  ids.forEach((id, k) => (sb.world.state.instances[id].launchTime -= (3 - k) * 60_000));
  sb.newLaunchTemplateVersion('q-lt', { ImageId: 'ami-new' });
  sb.monitor.baseline();
  const port = createAwsPort(sb.newClients('baseline'), sb.clock);
  const t0 = sb.clock.now();
  const r = await baselineRolling({ port, clock: sb.clock, group: 'q' });
  t.deepEqual(r.replaced, ids);
  const terms = sb.calls.filter((c) => c.actor === 'baseline' && c.operation === 'TerminateInstanceInAutoScalingGroup');
  t.is(terms.length, 3);
  t.true(terms.every((c) => (c.time - t0) % 30_000 === 0), 'acts only on its 30-s checks');
  t.is((sb.clock.now() - t0) % 30_000, 0);
  t.false(sb.calls.some((c) => c.actor === 'baseline' && (c.operation === 'SetDesiredCapacity' || c.operation === 'UpdateAutoScalingGroup')), 'never touches desired');
  t.true(sb.monitor.minHealthy('q', t0) <= 2, 'the seed dips to 2 of 3 (3-2-3)');
  t.deepEqual(sb.monitor.leftovers('q'), []);
});

test.serial('A/B baseline: scale the empty color, check ASG then ELB every 30 s, then desired 0 on the old one', async (t) => {
  const sb = Sandbox.create({ seed: 4, faults: { bootSeconds: 90, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'e-a', capacity: 4, max: 4, launchTemplateName: 'e-lt', healthCheckGracePeriod: 300, elb: elb('e-a', 60) });
  sb.seedGroup({ name: 'e-b', capacity: 0, max: 1, launchTemplateName: 'e-lt', healthCheckGracePeriod: 300, elb: elb('e-b', 60) });
  sb.newLaunchTemplateVersion('e-lt', { ImageId: 'ami-new' });
  const port = createAwsPort(sb.newClients('baseline'), sb.clock);
  const t0 = sb.clock.now();
  const r = await baselineAb({ port, clock: sb.clock, groups: ['e-a', 'e-b'], instanceCount: 4 });
  t.is(r.replaced.length, 4);
  t.is(sb.world.state.groups['e-b'].desired, 4);
  t.is(sb.world.state.groups['e-a'].desired, 0);
  t.is(sb.world.groupInstances(sb.world.state.groups['e-a']).length, 0);
  t.is((sb.clock.now() - t0) % 30_000, 0);
  t.true(sb.monitor.minHealthy('e-a', t0, t0 + 120_000) === 4, 'the old color serves until the new one is healthy');
  // overshoot() reads the same records: one launch of the new color.
  const o = overshoot(sb, 'baseline', t0, sb.clock.now(), 60);
  t.is(o.batches, 1);
  t.true(o.launchLatency >= 0 && o.launchLatency <= 10);
});

test.serial('A/B baseline refuses when both colors have instances', async (t) => {
  const sb = Sandbox.create({ seed: 5, faults: { bootSeconds: 30, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'e-a', capacity: 1, launchTemplateName: 'e-lt', elb: elb('e-a') });
  sb.seedGroup({ name: 'e-b', capacity: 1, launchTemplateName: 'e-lt', elb: elb('e-b') });
  const port = createAwsPort(sb.newClients('baseline'), sb.clock);
  await t.throwsAsync(baselineAb({ port, clock: sb.clock, groups: ['e-a', 'e-b'] }), { message: /both e-a and e-b/ });
});
