import test from 'ava';
import { DeployError } from '../../orchestrator/errors';
import { Codes } from '../../orchestrator/report/reporter';
import { abEnv } from './harness';

test('the full swap: b grows to 4 and serves, then a drains; never below 4 serving', async (t) => {
  const env = abEnv({ count: 4 });
  const oldIds = env.ids('qa-a');
  const start = env.sandbox.clock.now();
  const result = await env.run();
  t.is(result.status, 'done');
  t.deepEqual([...result.replaced].sort(), oldIds);
  t.is(env.group('qa-b').desired, 4);
  t.is(env.group('qa-a').desired, 0);
  t.is(env.group('qa-a').min, 0);
  t.is(env.group('qa-b').min, 4, 'the floor moved to the new color');
  t.deepEqual(env.live('qa-a'), [], 'drained: the old instances are out of service and shutting down');
  t.is(env.sandbox.monitor.healthyCount('qa-b'), 4);

  // Serving count: a keeps all 4 until b has 4 healthy; a+b never below 4 at any change.
  const timeline = env.servingTimeline().filter((s) => s.time >= start);
  for (const s of timeline) t.true(s.a + s.b >= 4, `serving ${s.a}+${s.b} at ${new Date(s.time).toISOString()}`);
  const firstADrop = timeline.find((s) => s.a < 4);
  t.truthy(firstADrop);
  t.is(firstADrop!.b, 4, 'a only loses instances once b serves all 4');

  // The events tell the story in order: plan, scale b, healthy, scale a down, drained, done.
  const codes = env.reporter.codes();
  const i = (c: string) => codes.indexOf(c);
  t.true(i(Codes.plan) < i(Codes.scale));
  const scales = env.reporter.ofCode(Codes.scale).map((e) => e.data);
  t.like(scales[0], { asg: 'qa-b', from: 0, to: 4 });
  t.like(scales[scales.length - 1], { asg: 'qa-a', from: 4, to: 0 });
  t.true(codes.includes('ab.drained'));
  // Each drained instance appears as instance.terminate (reason drained), after b served.
  const terminated = env.reporter.ofCode(Codes.terminate);
  t.deepEqual(terminated.map((e) => e.data.instanceId).sort(), oldIds);
  for (const e of terminated) {
    t.like(e.data, { asg: 'qa-a', reason: 'drained', decrement: false });
    t.is(env.sandbox.monitor.healthyCount('qa-b', Date.parse(e.time)), 4);
  }
  const done = env.reporter.ofCode(Codes.done)[0];
  t.deepEqual([...(done.data.replaced as string[])].sort(), oldIds);
  t.is(done.data.environment, 'qa');
  t.true((done.data.apiCalls as number) > 0);

  // Nothing left behind but the intended sizes: no suspended process, no tag.
  const left = (g: string) => env.sandbox.monitor.leftovers(g).filter((l) => !['desired', 'min'].includes(l.what));
  t.deepEqual(left('qa-a'), []);
  t.deepEqual(left('qa-b'), []);
  t.deepEqual(env.sandbox.monitor.healthyUpToDateTerminated(), []);
});

test('a bad image halts: exit 1 naming the instances and the ELB reason; a untouched and serving; b left for inspection', async (t) => {
  const env = abEnv({ count: 3, badV2: true });
  const oldIds = env.ids('qa-a');
  const start = env.sandbox.clock.now();
  const err = await t.throwsAsync(env.run({ healthCheckTimeout: 300 }), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.is(err!.code, 'ab.unhealthy');
  t.regex(err!.message, /qa-b: 0 of 3 instance\(s\) serving after 30\d s/);
  for (const id of env.ids('qa-b')) t.regex(err!.message, new RegExp(id));
  t.regex(err!.message, /OutOfService in ELB qa-b/);
  // a: never touched, all serving throughout.
  t.deepEqual(env.ids('qa-a'), oldIds);
  t.is(env.sandbox.monitor.minHealthy('qa-a', start), 3);
  t.is(env.mutations().filter((c) => c.operation === 'UpdateAutoScalingGroup' || c.operation === 'SetDesiredCapacity').length, 1, 'only b was scaled');
  // b left at 3 for inspection (the seed's behaviour), said so; nothing else left behind.
  t.is(env.group('qa-b').desired, 3);
  t.is(env.reporter.ofCode('ab.left-for-inspection').length, 1);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-a'), []);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-b').filter((l) => l.what !== 'desired'), []);
  t.is(env.reporter.ofCode(Codes.failed).length, 1);
});

test('a bad image with --rollback: b scaled back to 0, a serving throughout', async (t) => {
  const env = abEnv({ count: 3, badV2: true });
  const start = env.sandbox.clock.now();
  const err = await t.throwsAsync(env.run({ healthCheckTimeout: 300, rollback: true }), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.is(env.group('qa-b').desired, 0);
  t.is(env.sandbox.monitor.minHealthy('qa-a', start), 3);
  t.is(env.reporter.ofCode('ab.rolled-back').length, 1);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-a'), []);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-b'), []);
});

test('stepwise growth (--instance-count-step 2 of 5): each step serving before the next', async (t) => {
  const env = abEnv({ count: 5 });
  await env.run({ instanceCountStep: 2 });
  const scalesB = env.reporter.ofCode(Codes.scale).filter((e) => e.data.asg === 'qa-b');
  t.deepEqual(scalesB.map((e) => [e.data.from, e.data.to]), [[0, 2], [2, 4], [4, 5]]);
  for (const e of scalesB.slice(1)) {
    const at = Date.parse(e.time);
    t.true(env.sandbox.monitor.healthyCount('qa-b', at) >= (e.data.from as number), `step to ${e.data.to} only after ${e.data.from} serve`);
  }
  t.is(env.sandbox.monitor.healthyCount('qa-b'), 5);
  t.is(env.group('qa-a').desired, 0);
});

test('--instance-count-match: the new color gets the active color\'s desired', async (t) => {
  const env = abEnv({ count: 5 });
  const r = await env.run({ instanceCount: undefined, instanceCountMatch: true });
  t.is(r.status, 'done');
  t.is(env.group('qa-b').desired, 5);
  t.is(env.sandbox.monitor.healthyCount('qa-b'), 5);
});

test('neither color populated: the first deploy goes into a', async (t) => {
  const env = abEnv({ count: 3, empty: true });
  const r = await env.run();
  t.is(r.status, 'done');
  t.is(env.group('qa-a').desired, 3);
  t.is(env.group('qa-b').desired, 0);
  t.is(env.sandbox.monitor.healthyCount('qa-a'), 3);
  t.deepEqual(r.replaced, []);
});

test('both colors populated: exit 3, nothing changed', async (t) => {
  const env = abEnv({ count: 3, bCount: 2 });
  const before = env.sandbox.calls.length;
  const err = await t.throwsAsync(env.run(), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.is(err!.code, 'both-populated');
  t.regex(err!.message, /qa-a \(desired 3.*qa-b \(desired 2/);
  // Only the lock tag was written and removed: no size, process or instance change.
  const mutating = env.sandbox.calls.slice(before).filter((c) => c.mutating).map((c) => c.operation);
  t.deepEqual([...new Set(mutating)].sort(), ['CreateOrUpdateTags', 'DeleteTags']);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-a'), []);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-b'), []);
});

test('--zero drains the active color; both empty is nothing to do; both populated is refused', async (t) => {
  const env = abEnv({ count: 3 });
  const oldIds = env.ids('qa-a');
  const r = await env.run({ zero: true });
  t.is(r.status, 'done');
  t.deepEqual([...r.replaced].sort(), oldIds);
  t.is(env.group('qa-a').desired, 0);
  t.deepEqual(env.live('qa-a'), [], 'drained: the old instances are out of service and shutting down');
  t.is(env.group('qa-b').desired, 0);
  t.true(env.reporter.codes().includes('ab.drained'));
  const again = await env.run({ zero: true });
  t.is(again.status, 'noop');
  t.regex(again.summary, /nothing to zero/);

  const both = abEnv({ count: 2, bCount: 2 });
  const err = await t.throwsAsync(both.run({ zero: true }), { instanceOf: DeployError });
  t.is(err!.exit, 3);
});

test('--single-asg: the group named ENV drains to 0 and comes back on the new version (downtime said)', async (t) => {
  const env = abEnv({ count: 2 });
  env.sandbox.seedGroup({ name: 'load', capacity: 3, min: 3, max: 6, launchTemplateName: 'load-lt', imageId: 'ami-l1' });
  env.sandbox.newLaunchTemplateVersion('load-lt', { ImageId: 'ami-l2' });
  env.sandbox.monitor.baseline(['load']);
  const oldIds = env.ids('load');
  const r = await env.run({ environment: 'load', singleAsg: true, instanceCount: 3 });
  t.is(r.status, 'done');
  t.deepEqual([...r.replaced].sort(), oldIds);
  const now = env.ids('load');
  t.is(now.length, 3);
  t.deepEqual(now.filter((id) => oldIds.includes(id)), []);
  t.is(env.group('load').desired, 3);
  t.is(env.group('load').min, 3, 'min given back');
  t.is(env.reporter.ofCode('ab.downtime').length, 1);
  t.deepEqual(env.sandbox.monitor.leftovers('load'), []);
  // Downtime really happened (and is what the user was told): zero healthy at some point.
  t.is(env.sandbox.monitor.minHealthy('load', Date.parse(env.reporter.ofCode('ab.downtime')[0].time)), 0);
});

test('--clean-up keeps the up-to-date serving color and drains the other; asks first', async (t) => {
  const mk = () => abEnv({ count: 3, bCount: 2, bOnV2: true });
  // Not interactive, no --yes: refused as bad input, nothing changed.
  const noYes = mk();
  const e1 = await t.throwsAsync(noYes.run({ cleanUp: true }), { instanceOf: DeployError });
  t.is(e1!.exit, 2);
  t.regex(e1!.message, /--yes/);
  t.is(noYes.group('qa-a').desired, 3);
  // Asked and declined: exit 3, nothing changed.
  const declined = mk();
  let asked = '';
  const e2 = await t.throwsAsync(declined.run({ cleanUp: true, confirm: async (q) => ((asked = q), false) }), { instanceOf: DeployError });
  t.is(e2!.exit, 3);
  t.regex(asked, /Keep qa-b and DRAIN qa-a/);
  t.is(declined.group('qa-a').desired, 3);
  // Dry run: says which and why, no mutating call.
  const dry = mk();
  const before = dry.sandbox.calls.length;
  const planned = await dry.run({ cleanUp: true, dryRun: true });
  t.is(planned.status, 'planned');
  t.regex(dry.reporter.ofCode('ab.keep')[0].message, /keep qa-b and drain qa-a: qa-b runs its group's current launch template version/);
  t.is(dry.sandbox.calls.slice(before).filter((c) => c.mutating).length, 0);
  // --yes: a drained, b kept.
  const env = mk();
  const bIds = env.ids('qa-b');
  const r = await env.run({ cleanUp: true, yes: true });
  t.is(r.status, 'done');
  t.is(env.group('qa-a').desired, 0);
  t.deepEqual(env.live('qa-a'), [], 'drained: the old instances are out of service and shutting down');
  t.deepEqual(env.ids('qa-b'), bIds);
  t.is(env.sandbox.monitor.minHealthy('qa-b', Date.parse(env.reporter.ofCode(Codes.plan)[0].time)), 2);
});

test('dry run: the plan, and no mutating call at all (not even the lock)', async (t) => {
  const env = abEnv({ count: 3 });
  const before = env.sandbox.calls.length;
  const r = await env.run({ dryRun: true });
  t.is(r.status, 'planned');
  t.regex(r.summary, /swap qa-a → qa-b: scale qa-b 0 → 3/);
  t.is(env.sandbox.calls.slice(before).filter((c) => c.mutating).length, 0);
  t.is(env.reporter.ofCode(Codes.plan).length, 1);
  t.is(env.reporter.ofCode(Codes.plan)[0].data.dryRun, true);
});

test('--elb-name qa-public (the seed\'s shared ELB): the new color is judged by it; an ELB not attached is exit 2', async (t) => {
  const env = abEnv({ count: 2 });
  env.sandbox.direct('elb', 'CreateLoadBalancer', {
    LoadBalancerName: 'qa-public',
    Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8080 }],
    AvailabilityZones: env.sandbox.world.zones(),
  });
  for (const g of ['qa-a', 'qa-b']) env.sandbox.direct('autoscaling', 'AttachLoadBalancers', { AutoScalingGroupName: g, LoadBalancerNames: ['qa-public'] });
  env.sandbox.settle();
  const wrong = await t.throwsAsync(env.run({ elbNames: ['qa-private'] }), { instanceOf: DeployError });
  t.is(wrong!.exit, 2);
  t.regex(wrong!.message, /--elb-name qa-private: not attached to qa-b \(attached: qa-b, qa-public\)/);
  t.is(env.group('qa-b').desired, 0);
  const r = await env.run({ elbNames: ['qa-public'] });
  t.is(r.status, 'done');
  const plan = env.reporter.ofCode(Codes.plan).at(-1)!;
  t.deepEqual(plan.data.elbNames, ['qa-public']);
  t.regex(plan.message, /InService in ELB qa-public/);
  const health = env.sandbox.calls.filter((c) => c.operation === 'DescribeInstanceHealth' && c.time >= Date.parse(plan.time));
  t.true(health.length > 0);
  t.is(env.sandbox.monitor.healthyCount('qa-b'), 2);
});
