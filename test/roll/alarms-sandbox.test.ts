/**
 * `roll --alarm` on the simulated AWS: real SDK clients (CloudWatch included), the real adapter,
 * the sandbox's CloudWatch alarms (orchestrator/sandbox/cloudwatch/SPEC.md), virtual clock.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';

const ELB = { name: 'qa-rabbit', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 30 };

function world() {
  const sb = Sandbox.create({ seed: 5, faults: { bootSeconds: 40 } });
  sb.seedGroup({ name: 'qa-rabbit', capacity: 3, elb: ELB });
  sb.advance(3600_000);
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
  return sb;
}

function roll(sb: Sandbox, o: Partial<RollOptions> = {}) {
  const reporter = new RecordingReporter(sb.clock);
  return { p: rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'qa-rabbit', ...o }), reporter };
}

const describes = (sb: Sandbox) => sb.calls.filter((c) => c.service === 'cloudwatch' && c.operation === 'DescribeAlarms').length;

test('an alarm tripping after the first replacement halts the rollout at the next poll: exit 1, surge removed, group restored, min healthy held', async (t) => {
  const sb = world();
  sb.setAlarm('qa-rabbit-5xx', 'OK');
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const g0 = sb.world.state.groups['qa-rabbit'];
  const before = { desired: g0.desired, max: g0.max, suspended: [...g0.suspended] };
  let readsAtTrip: number | undefined;
  sb.clock.onAdvance(() => {
    if (readsAtTrip === undefined && sb.monitor.terminations({ group: 'qa-rabbit', cause: ['api', 'scale-in'] }).length > 0) {
      sb.setAlarm('qa-rabbit-5xx', 'ALARM', 'Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (5.0)');
      readsAtTrip = describes(sb);
    }
  });
  const { p, reporter } = roll(sb, { alarms: ['qa-rabbit-5xx'] });
  const err = await t.throwsAsync(p, { instanceOf: DeployError });
  t.is(err?.code, 'alarm');
  t.is(err?.exit, 1);
  t.regex(err!.message, /qa-rabbit-5xx \(Threshold Crossed.*ALARM; rollout halted/);
  t.is(describes(sb) - readsAtTrip!, 1, 'halted by the first read after the trip');
  const g = sb.world.state.groups['qa-rabbit'];
  t.deepEqual({ desired: g.desired, max: g.max, suspended: g.suspended }, before, 'desired, max and processes restored');
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3, `min healthy ${sb.monitor.minHealthy('qa-rabbit', t0)}`);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
  t.truthy(reporter.events.find((e) => e.code === 'alarm.state' && e.data.state === 'ALARM'));
});

test('a clean run with --alarm: done, one DescribeAlarms per poll (never more than one per DescribeAutoScalingGroups or light look)', async (t) => {
  const sb = world();
  sb.setAlarm('qa-rabbit-5xx', 'OK');
  sb.setAlarm('qa-rabbit-slo', 'INSUFFICIENT_DATA', 'sandbox: no data', 'CompositeAlarm');
  const { p } = roll(sb, { alarms: ['qa-rabbit-5xx', 'qa-rabbit-slo'] });
  const r = await p;
  t.is(r.status, 'done');
  // A poll reads the group (DescribeAutoScalingGroups) or, in a light look, the batch (DescribeAutoScalingInstances).
  const polls = sb.calls.filter((c) => c.actor !== 'setup' && (c.operation === 'DescribeAutoScalingGroups' || c.operation === 'DescribeAutoScalingInstances')).length;
  t.true(describes(sb) >= 2);
  t.true(describes(sb) <= polls, `${describes(sb)} DescribeAlarms, ${polls} DescribeAutoScalingGroups`);
});

test('ALARM before the start: exit 3, nothing changed; a composite alarm counts; an unknown alarm: exit 2, nothing changed', async (t) => {
  const sb = world();
  sb.setAlarm('qa-rabbit-slo', 'ALARM', 'sandbox: SLO burn', 'CompositeAlarm');
  const refused = await t.throwsAsync(roll(sb, { alarms: ['qa-rabbit-slo'] }).p, { instanceOf: DeployError });
  t.is(refused?.exit, 3);
  t.is(refused?.code, 'alarm-at-start');
  const missing = await t.throwsAsync(roll(sb, { alarms: ['no-such-alarm'] }).p, { instanceOf: DeployError });
  t.is(missing?.exit, 2);
  t.is(missing?.code, 'alarm-not-found');
  // Only the run's own lock, taken and released each time (invariant 6 allows it): nothing else written.
  t.deepEqual(
    sb.calls.filter((c) => c.mutating && c.service === 'autoscaling').map((c) => c.operation),
    ['CreateOrUpdateTags', 'DeleteTags', 'CreateOrUpdateTags', 'DeleteTags'],
    'no mutating Auto Scaling call but the lock',
  );
  t.deepEqual(sb.world.state.groups['qa-rabbit'].tags.filter((x) => x.key.startsWith('asg-deploy:')), [], 'no lock or restore tag left');
});
