/**
 * `ab --alarm` on the simulated AWS: real SDK clients (CloudWatch included), the sandbox's
 * CloudWatch alarms (orchestrator/sandbox/cloudwatch/SPEC.md), virtual clock.
 */
import test from 'ava';
import { DeployError } from '../../orchestrator/errors';
import { Codes } from '../../orchestrator/report/reporter';
import { abEnv } from './harness';

const describes = (env: ReturnType<typeof abEnv>) => env.sandbox.calls.filter((c) => c.service === 'cloudwatch' && c.operation === 'DescribeAlarms').length;

/** Trips `alarm` the first time `when` holds on the world (checked at every clock advance); returns the DescribeAlarms count then. */
function tripWhen(env: ReturnType<typeof abEnv>, alarm: string, when: () => boolean): { reads?: number } {
  const at: { reads?: number } = {};
  env.sandbox.clock.onAdvance(() => {
    if (at.reads === undefined && when()) {
      env.sandbox.setAlarm(alarm, 'ALARM', 'Threshold Crossed: 3 out of the last 3 datapoints were greater than the threshold (1.0)');
      at.reads = describes(env);
    }
  });
  return at;
}

test('an alarm tripping while the new color grows halts the swap at the next poll; with --rollback b goes back to 0, a serves throughout', async (t) => {
  const env = abEnv({ count: 3 });
  env.sandbox.setAlarm('qa-5xx', 'OK');
  const start = env.sandbox.clock.now();
  const oldIds = env.ids('qa-a');
  const at = tripWhen(env, 'qa-5xx', () => env.live('qa-b').length > 0);
  const err = await t.throwsAsync(env.run({ alarms: ['qa-5xx'], rollback: true }), { instanceOf: DeployError });
  t.is(err!.code, 'alarm');
  t.is(err!.exit, 1);
  t.regex(err!.message, /qa: alarm qa-5xx \(Threshold Crossed.*went into ALARM; rollout halted/);
  t.is(describes(env) - at.reads!, 1, 'halted by the first read after the trip');
  t.deepEqual(env.ids('qa-a'), oldIds, 'the old color was never touched');
  t.is(env.sandbox.monitor.minHealthy('qa-a', start), 3, 'a served all 3 throughout');
  t.is(env.group('qa-b').desired, 0, 'b scaled back');
  t.is(env.reporter.ofCode('ab.rolled-back').length, 1);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-a'), []);
  t.deepEqual(env.sandbox.monitor.leftovers('qa-b').filter((l) => l.what !== 'desired'), []);
  t.like(env.reporter.ofCode(Codes.failed)[0].data, { reason: 'alarm', alarms: ['qa-5xx'] });
});

test('without --rollback an alarm leaves the new color for inspection, the old one serving', async (t) => {
  const env = abEnv({ count: 3 });
  env.sandbox.setAlarm('qa-5xx', 'OK');
  tripWhen(env, 'qa-5xx', () => env.live('qa-b').length > 0);
  const err = await t.throwsAsync(env.run({ alarms: ['qa-5xx'] }), { instanceOf: DeployError });
  t.is(err!.code, 'alarm');
  t.is(env.group('qa-a').desired, 3);
  t.is(env.reporter.ofCode('ab.left-for-inspection').length, 1);
});

test('an alarm after the swap is committed (the old color draining) does not halt it: nothing left to switch back to', async (t) => {
  const env = abEnv({ count: 3 });
  env.sandbox.setAlarm('qa-5xx', 'OK');
  tripWhen(env, 'qa-5xx', () => env.group('qa-a').desired < 3);
  const r = await env.run({ alarms: ['qa-5xx'] });
  t.is(r.status, 'done');
  t.is(env.group('qa-a').desired, 0);
  t.is(env.group('qa-b').desired, 3);
});

test('ab: ALARM before the start is refused (exit 3) and an unknown alarm is bad input (exit 2), nothing changed; a clean swap reads the alarms once per poll', async (t) => {
  const env = abEnv({ count: 2 });
  env.sandbox.setAlarm('qa-5xx', 'ALARM', 'sandbox: burning');
  const refused = await t.throwsAsync(env.run({ alarms: ['qa-5xx'] }), { instanceOf: DeployError });
  t.is(refused!.exit, 3);
  t.is(refused!.code, 'alarm-at-start');
  const missing = await t.throwsAsync(env.run({ alarms: ['no-such-alarm'] }), { instanceOf: DeployError });
  t.is(missing!.exit, 2);
  t.is(missing!.code, 'alarm-not-found');
  t.deepEqual(env.mutations().filter((c) => c.service === 'autoscaling' && !/Tags$/.test(c.operation)), [], 'no group changed');
  // Refused before the swap record: no "left for inspection" about a swap that never began.
  t.deepEqual(env.reporter.codes().filter((c) => c.startsWith('ab.')), []);
  t.is(env.mutations('CreateOrUpdateTags').length, env.mutations('DeleteTags').length, 'only the lock was written (and released)');
  env.sandbox.setAlarm('qa-5xx', 'OK');
  const r = await env.run({ alarms: ['qa-5xx'] });
  t.is(r.status, 'done');
  const polls = env.sandbox.calls.filter((c) => c.actor !== 'setup' && c.operation === 'DescribeAutoScalingGroups').length;
  t.true(describes(env) <= polls, `${describes(env)} DescribeAlarms, ${polls} DescribeAutoScalingGroups`);
});

test('ab --ignore-alarms-at-start: an alarm in ALARM at the start does not refuse; the swap goes on', async (t) => {
  const env = abEnv({ count: 2 });
  env.sandbox.setAlarm('qa-5xx', 'ALARM', 'sandbox: a known, unrelated burn');
  const r = await env.run({ alarms: ['qa-5xx'], ignoreAlarmsAtStart: true });
  t.is(r.status, 'done');
});
