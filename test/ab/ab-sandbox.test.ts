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
  t.deepEqual(env.ids('qa-a'), []);
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
