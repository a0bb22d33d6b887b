/**
 * `ab --keep-old` on the simulated AWS (classic ELBs, real SDK clients, virtual clock): the old
 * color stays at full size for the window once the new one serves; an alarm or a failure of the
 * new color in the window switches back (the new color scaled back while the old still serves);
 * `--keep-old` with `--zero` is bad input.
 */
import test from 'ava';
import { DeployError } from '../../orchestrator/errors';
import { Codes } from '../../orchestrator/report/reporter';
import { abOptionsFromArgs } from '../../orchestrator/commands/ab';
import { abEnv } from './harness';

const at = (e: { time: string }) => Date.parse(e.time);

test('--keep-old 5m: a stays at full size 5 min after b serves, then drains; the window is reported and in the plan', async (t) => {
  const env = abEnv({ count: 3 });
  const start = env.sandbox.clock.now();
  const r = await env.run({ keepOld: 300 });
  t.is(r.status, 'done');
  t.is(env.group('qa-a').desired, 0);
  t.regex(env.reporter.ofCode(Codes.plan)[0].message, /qa-a is kept at full size for --keep-old 300 s once qa-b serves/);
  const keep = env.reporter.ofCode('ab.keep-old');
  t.deepEqual(keep.map((e) => e.data.state), ['start', 'passed']);
  const drainAt = at(env.reporter.ofCode(Codes.scale).find((e) => e.data.asg === 'qa-a' && e.data.to === 0)!);
  t.true(drainAt - at(keep[0]) >= 300_000, `a drained ${(drainAt - at(keep[0])) / 1000} s after b served`);
  t.true(drainAt - at(keep[0]) <= 315_000, 'within one poll of the window\'s end');
  t.is(env.sandbox.monitor.minHealthy('qa-a', start, at(keep[0]) + 300_000), 3, 'a served all 3 through the window');
});

test('--keep-old: an alarm in the window switches back — b scaled back (without --rollback), a never touched and serving', async (t) => {
  const env = abEnv({ count: 3 });
  env.sandbox.setAlarm('qa-5xx', 'OK');
  const start = env.sandbox.clock.now();
  const oldIds = env.ids('qa-a');
  let opened: number | undefined;
  const tap = env.reporter;
  env.sandbox.clock.onAdvance(() => {
    const k = tap.ofCode('ab.keep-old')[0];
    if (k && opened === undefined) opened = at(k);
    if (opened !== undefined && env.sandbox.clock.now() > opened + 60_000) env.sandbox.setAlarm('qa-5xx', 'ALARM', 'Threshold Crossed: 3 datapoints were greater than the threshold (1.0)');
  });
  const err = await t.throwsAsync(env.run({ keepOld: 600, alarms: ['qa-5xx'] }), { instanceOf: DeployError });
  t.is(err!.code, 'alarm');
  t.is(err!.exit, 1);
  t.deepEqual(env.ids('qa-a'), oldIds);
  t.is(env.group('qa-a').desired, 3);
  t.is(env.sandbox.monitor.minHealthy('qa-a', start), 3, 'a served all 3 throughout');
  t.is(env.group('qa-b').desired, 0, 'switched back: b scaled back');
  t.is(env.group('qa-b').min, 0, 'and its floor back');
  t.is(env.group('qa-a').min, 3);
  t.true(env.reporter.ofCode('ab.keep-old').length >= 1, 'the alarm came in the window');
  t.is(env.reporter.ofCode('ab.rolled-back').length, 1);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-a'), []);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-b').filter((l) => l.what !== 'desired' && l.what !== 'min'), []);
});

test('--keep-old: the new version failing in the window (passes its checks, dies later) switches back: exit 1, b scaled back, a serving', async (t) => {
  const env = abEnv({ count: 3, noV2: true });
  env.sandbox.setImage('ami-dies', { failAfterSeconds: 240 });
  env.sandbox.newLaunchTemplateVersion('qa-lt', { ImageId: 'ami-dies' });
  const start = env.sandbox.clock.now();
  const err = await t.throwsAsync(env.run({ keepOld: 900 }), { instanceOf: DeployError });
  t.is(err!.code, 'ab.keep-old-failed');
  t.is(err!.exit, 1);
  t.regex(err!.message, /qa-b: \d of 3 instance\(s\) serving \d+ s into --keep-old \(900 s\); switching back/);
  t.is(env.group('qa-a').desired, 3);
  t.is(env.sandbox.monitor.minHealthy('qa-a', start), 3);
  t.is(env.group('qa-b').desired, 0);
  t.is(env.group('qa-b').min, 0);
  t.deepEqual(env.reporter.ofCode('ab.keep-old').map((e) => e.data.state), ['start'], 'failed in the window, which never passed');
});

test('--keep-old with --zero or --single-asg is bad input (exit 2), nothing changed', async (t) => {
  for (const args of [{ zero: true }, { 'single-asg': true }]) {
    const err = t.throws(() => abOptionsFromArgs({ environment: 'qa', 'keep-old': '10m', ...args }), { instanceOf: DeployError });
    t.is(err!.exit, 2);
    t.regex(err!.message, /--keep-old/);
  }
  t.is(abOptionsFromArgs({ environment: 'qa', 'keep-old': '10m' }).keepOld, 600);
  const env = abEnv({ count: 2 });
  const err = await t.throwsAsync(env.run({ keepOld: 60, zero: true }), { instanceOf: DeployError });
  t.is(err!.exit, 2);
  t.deepEqual(env.mutations(), []);
});
