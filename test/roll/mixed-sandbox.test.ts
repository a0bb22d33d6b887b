/**
 * Rolling a mixed instances group on the simulated AWS (real SDK clients, the real adapter,
 * virtual clock; issue 15 items 4, 6, 7 and issue 16's rollback of such a group): the policy's
 * launch template is what is rolled to; Spot and On-Demand instances are replaced alike, whatever
 * their instance type; AWS's own replacements during a step (a Spot interruption, Capacity
 * Rebalancing, the maximum instance lifetime) are tolerated, not counted as the tool's, and do not
 * break the min-healthy accounting; `--rollback` puts the policy's previous version back.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';

const TYPES = ['m5.large', 'c5.large', 'r5.large'];
const ALARM = 'web-5xx';

function world(o: { capacity?: number; capacityRebalance?: boolean; maxInstanceLifetime?: number; seed?: number; percent?: number } = {}) {
  const sb = Sandbox.create({ seed: o.seed ?? 11, faults: { bootSeconds: 40 } });
  sb.seedGroup({
    name: 'web',
    capacity: o.capacity ?? 6,
    elb: { name: 'web', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 30 },
    mixed: { instanceTypes: TYPES, onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: o.percent ?? 50, spotAllocationStrategy: 'price-capacity-optimized' },
    capacityRebalance: o.capacityRebalance,
    maxInstanceLifetime: o.maxInstanceLifetime,
  });
  sb.advance(3600_000);
  sb.newLaunchTemplateVersion('web-lt', { ImageId: 'ami-0new000000000000' });
  sb.setAlarm(ALARM, 'OK');
  sb.monitor.baseline();
  return sb;
}

function roll(sb: Sandbox, o: Partial<RollOptions> = {}) {
  const reporter = new RecordingReporter(sb.clock);
  return { p: rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'web', ...o }), reporter };
}

const group = (sb: Sandbox) => sb.world.state.groups.web;
const live = (sb: Sandbox) => sb.world.groupInstances(group(sb)).filter((i) => sb.world.isActive(i));
const versions = (sb: Sandbox) => live(sb).map((i) => (i.launch.kind === 'lt' ? i.launch.version : -1));

/** Runs `f` once, the first time the tool has terminated `n` instances. */
function afterToolTerminated(sb: Sandbox, n: number, f: () => void): void {
  let done = false;
  sb.clock.onAdvance(() => {
    if (!done && sb.monitor.terminations({ group: 'web', cause: ['api', 'scale-in'] }).length >= n) {
      done = true;
      f();
    }
  });
}

test('a mixed group (base 1, 50 % On-Demand, 3 instance types): every Spot and On-Demand instance replaced, whatever its type; min healthy held, nothing left behind', async (t) => {
  const sb = world();
  const t0 = sb.clock.now();
  const before = live(sb);
  t.true(before.some((i) => i.market === 'spot') && before.some((i) => i.market !== 'spot'), 'both markets at the start');
  t.true(new Set(before.map((i) => i.instanceType)).size > 1, 'several instance types at the start');
  const { p, reporter } = roll(sb);
  const r = await p;
  t.is(r.status, 'done');
  t.deepEqual([...r.replaced].sort(), before.map((i) => i.id).sort(), 'every old instance replaced, Spot and On-Demand alike');
  t.deepEqual(versions(sb), [2, 2, 2, 2, 2, 2]);
  t.true(sb.monitor.minHealthy('web', t0) >= 6);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('web'), []);
  t.deepEqual(sb.monitor.leftovers('web'), []);
  const plan = reporter.ofCode('rollout.plan')[0];
  t.regex(plan.message, /mixed instances policy/);
});

test('an instance of the current template version is up to date whatever its instance type: changing the overrides alone replaces nothing', async (t) => {
  const sb = world();
  await roll(sb).p;
  const lt = sb.world.findLaunchTemplate({ name: 'web-lt' })!;
  // New overrides (another type first), same template version.
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', {
    AutoScalingGroupName: 'web',
    MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: lt.id, Version: '$Latest' }, Overrides: [{ InstanceType: 'm6i.large' }, { InstanceType: 'c6i.large' }] } },
  });
  const r = await roll(sb).p;
  t.is(r.status, 'noop');
  t.deepEqual(r.replaced, []);
});

test('--rollback on a mixed group: the alarm halts the rollout, the policy\'s launch template goes back to version 1 (overrides and distribution kept), the new instances replaced; exit 1', async (t) => {
  const sb = world();
  const t0 = sb.clock.now();
  afterToolTerminated(sb, 2, () => sb.setAlarm(ALARM, 'ALARM', 'Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (5.0)'));
  const { p, reporter } = roll(sb, { alarms: [ALARM], rollback: true });
  const err = await t.throwsAsync(p, { instanceOf: DeployError });
  t.is(err?.exit, 1);
  t.is(err?.code, 'alarm');
  t.like(err!.data, { rollback: { status: 'done' } });
  const policy = group(sb).mixedInstancesPolicy;
  t.is(policy.LaunchTemplate.LaunchTemplateSpecification.Version, '1', 'the policy\'s template is set back to version 1');
  t.deepEqual(policy.LaunchTemplate.Overrides.map((o: { InstanceType: string }) => o.InstanceType), TYPES, 'overrides kept');
  t.like(policy.InstancesDistribution, { OnDemandBaseCapacity: 1, OnDemandPercentageAboveBaseCapacity: 50, SpotAllocationStrategy: 'price-capacity-optimized' }, 'distribution kept');
  t.is(group(sb).launchTemplate, undefined, 'still a mixed instances group');
  t.deepEqual(versions(sb), [1, 1, 1, 1, 1, 1]);
  t.true(sb.monitor.minHealthy('web', t0) >= 6);
  t.deepEqual(sb.monitor.leftovers('web'), []);
  t.deepEqual(reporter.ofCode('rollout.rollback').map((e) => e.data.state), ['start', 'plan', 'done']);
});

test('a Spot interruption during a step: AWS\'s replacement is tolerated and not counted as the tool\'s; the rollout finishes, min healthy accounted', async (t) => {
  const sb = world({ percent: 0 });
  const t0 = sb.clock.now();
  let victim: string | undefined;
  let order: string[] = [];
  afterToolTerminated(sb, 1, () => {
    // The outdated Spot instance the tool would reach last gets its two-minute notice.
    const v = [...order].reverse().map((id) => sb.world.state.instances[id]).find((i) => i.market === 'spot' && sb.world.isActive(i));
    if (v) {
      victim = v.id;
      sb.world.spot.interrupt(v);
    }
  });
  const { p, reporter } = roll(sb);
  sb.clock.onAdvance(() => {
    if (order.length === 0) order = ((reporter.ofCode('rollout.plan')[0]?.data.order ?? []) as Array<{ instanceId: string }>).map((o) => o.instanceId);
  });
  const r = await p;
  t.truthy(victim, 'a Spot instance was interrupted mid-rollout');
  t.is(r.status, 'done');
  t.false(r.replaced.includes(victim!), 'AWS took it: not in the tool\'s replaced list');
  t.deepEqual(sb.monitor.terminations({ group: 'web', cause: ['spot-interruption'] }).map((x) => x.instanceId), [victim]);
  t.false(sb.monitor.terminations({ group: 'web', cause: ['api'] }).some((x) => x.instanceId === victim), 'the tool never terminated it');
  t.deepEqual(versions(sb), [2, 2, 2, 2, 2, 2]);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('web'), []);
  // The only dip below 6 healthy is AWS's own loss (one instance), never the tool's doing.
  t.true(sb.monitor.minHealthy('web', t0) >= 5, `min healthy ${sb.monitor.minHealthy('web', t0)}`);
  t.deepEqual(sb.monitor.leftovers('web'), []);
});

test('Capacity Rebalancing during a rollout: AWS launches first and terminates its at-risk Spot instance; the tool neither counts it nor loses capacity', async (t) => {
  const sb = world({ capacityRebalance: true, percent: 0 });
  const t0 = sb.clock.now();
  let atRisk: string | undefined;
  let order: string[] = [];
  afterToolTerminated(sb, 1, () => {
    const v = [...order].reverse().map((id) => sb.world.state.instances[id]).find((i) => i.market === 'spot' && sb.world.isActive(i));
    if (v) {
      atRisk = v.id;
      sb.world.spot.recommendRebalance(v);
    }
  });
  const { p, reporter } = roll(sb);
  sb.clock.onAdvance(() => {
    if (order.length === 0) order = ((reporter.ofCode('rollout.plan')[0]?.data.order ?? []) as Array<{ instanceId: string }>).map((o) => o.instanceId);
  });
  const r = await p;
  t.truthy(atRisk);
  t.is(r.status, 'done');
  t.deepEqual(versions(sb), [2, 2, 2, 2, 2, 2]);
  const took = sb.monitor.terminations({ group: 'web' }).find((x) => x.instanceId === atRisk);
  t.is(took?.cause, 'capacity-rebalance', 'AWS took the at-risk instance once its replacement served');
  t.false(r.replaced.includes(atRisk!), 'AWS took it: not the tool\'s');
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('web'), []);
  t.true(sb.monitor.minHealthy('web', t0) >= 6, `min healthy ${sb.monitor.minHealthy('web', t0)}`);
  t.deepEqual(sb.monitor.leftovers('web'), []);
});

test('maximum instance lifetime terminations during a rollout are AWS\'s: tolerated, not the tool\'s, and the rollout still ends on the new version', async (t) => {
  // A lifetime of a day, and the clock moved to 2 min before the fleet reaches it.
  const sb = world({ maxInstanceLifetime: 86_400 });
  const launched = Math.min(...live(sb).map((i) => i.launchTime));
  sb.advance(launched + 86_400_000 - 120_000 - sb.clock.now());
  t.is(sb.monitor.terminations({ group: 'web' }).length, 0, 'nothing replaced before the rollout');
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const r = await roll(sb).p;
  t.is(r.status, 'done');
  const aws = sb.monitor.terminations({ group: 'web', cause: ['max-lifetime'] }).filter((x) => x.time >= t0);
  t.true(aws.length >= 1, 'AWS replaced at least one instance for its lifetime during the rollout');
  for (const x of aws) t.false(r.replaced.includes(x.instanceId), `${x.instanceId}: AWS's, not in the tool's replaced list`);
  t.deepEqual(versions(sb), [2, 2, 2, 2, 2, 2]);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('web'), []);
  t.true(sb.monitor.minHealthy('web', t0) >= 5, `min healthy ${sb.monitor.minHealthy('web', t0)}`);
  t.deepEqual(sb.monitor.leftovers('web'), []);
});
