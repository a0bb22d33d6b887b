/**
 * `roll --rollback` on the simulated AWS (real SDK clients, the real adapter, virtual clock):
 * an alarmed rollout goes back to the previous launch template version, replacing the new
 * instances under the same rules; refusals where it cannot be safe; Ctrl-C during the rollback
 * and the re-run that finishes it.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';
import { LOCK_TAG } from '../../orchestrator/lock/record';

const ELB = { name: 'qa-rabbit', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 30 };
const ALARM = 'qa-rabbit-5xx';

function world(o: { capacity?: number; makeDefault?: boolean } = {}) {
  const sb = Sandbox.create({ seed: 7, faults: { bootSeconds: 40 } });
  sb.seedGroup({ name: 'qa-rabbit', capacity: o.capacity ?? 4, elb: ELB });
  sb.advance(3600_000);
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' }, { makeDefault: o.makeDefault });
  sb.setAlarm(ALARM, 'OK');
  sb.monitor.baseline();
  return sb;
}

function roll(sb: Sandbox, o: Partial<RollOptions> = {}) {
  const reporter = new RecordingReporter(sb.clock);
  return { p: rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'qa-rabbit', alarms: [ALARM], rollback: true, ...o }), reporter };
}

/** Trips the alarm once `n` instances were terminated by the tool. */
function tripAfter(sb: Sandbox, n: number): void {
  let tripped = false;
  sb.clock.onAdvance(() => {
    if (!tripped && sb.monitor.terminations({ group: 'qa-rabbit', cause: ['api', 'scale-in'] }).length >= n) {
      tripped = true;
      sb.setAlarm(ALARM, 'ALARM', 'Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (5.0)');
    }
  });
}

const group = (sb: Sandbox) => sb.world.state.groups['qa-rabbit'];
const live = (sb: Sandbox) => sb.world.groupInstances(group(sb)).filter((i) => sb.world.isActive(i));
const versions = (sb: Sandbox) => live(sb).map((i) => (i.launch.kind === 'lt' ? i.launch.version : -1));

test('an alarm after two replacements with --rollback: the group goes back to version 1, the new instances replaced, min healthy held, everything restored; exit 1', async (t) => {
  const sb = world();
  const t0 = sb.clock.now();
  tripAfter(sb, 2);
  const before = live(sb).map((i) => i.id);
  const { p, reporter } = roll(sb);
  const err = await t.throwsAsync(p, { instanceOf: DeployError });
  t.is(err?.exit, 1);
  t.is(err?.code, 'alarm');
  t.regex(err!.message, /rollout halted; rolled back: qa-rabbit is on launch template qa-rabbit-lt version 1 again \(\d new instance\(s\) replaced\)/);
  t.like(err!.data, { rollback: { status: 'done' } });
  t.is(group(sb).launchTemplate?.version, '1', 'the group is set back to version 1');
  t.deepEqual(versions(sb), [1, 1, 1, 1], 'every live instance runs version 1');
  t.true(live(sb).every((i) => sb.world.isHealthy(i)));
  t.true(live(sb).filter((i) => !before.includes(i.id)).length >= 2, 'the old instances replaced before the alarm stay replaced (by new version 1 instances)');
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 4, `min healthy ${sb.monitor.minHealthy('qa-rabbit', t0)}`);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), [], 'processes, sizes and tags restored');
  t.false(group(sb).tags.some((x) => x.key === LOCK_TAG), 'lock released');
  // One verdict for the rollout (rollout.failed), the rollback's own plan/start/done as rollout.rollback.
  t.is(reporter.ofCode('rollout.failed').length, 1);
  t.is(reporter.ofCode('rollout.done').length, 0);
  t.deepEqual(reporter.ofCode('rollout.rollback').map((e) => e.data.state), ['start', 'plan', 'done']);
  // The alarm that halted the rollout is still in ALARM while rolling back: reported, not halting it (issue 16).
  t.deepEqual(reporter.ofCode('rollout.rollback')[2].data.alarms, [ALARM]);
  t.like(err!.data, { rollback: { alarms: [ALARM] } });
  const start = reporter.ofCode('rollout.rollback')[0];
  t.like(start.data, { asg: 'qa-rabbit', reason: 'alarm', to: { launchTemplate: { version: 1 } }, from: { launchTemplate: { version: 2 } } });
  // The rollback's terminations are the version 2 instances, oldest first.
  const planAt = reporter.events.findIndex((e) => e.code === 'rollout.rollback' && e.data.state === 'plan');
  const rolledBack = reporter.events.slice(planAt).filter((e) => e.code === 'instance.terminate');
  t.true(rolledBack.length >= 1);
  const launchTimes = rolledBack.map((e) => Date.parse(String(e.data.launchTime)));
  t.deepEqual(launchTimes, [...launchTimes].sort((a, b) => a - b), 'oldest first');
});

test('an alarm that trips again while rolling back is watched and reported on the rollback, never halting it (issue 16)', async (t) => {
  const sb = world();
  const terminated = () => sb.monitor.terminations({ group: 'qa-rabbit', cause: ['api', 'scale-in'] }).length;
  // The alarm halts the rollout after two replacements; it clears as the rollback sets the group
  // back to version 1, and trips again at the rollback's first replacement.
  tripAfter(sb, 2);
  let clearedAt: number | undefined;
  let trippedAgainAt: number | undefined;
  let before = 0;
  sb.clock.onAdvance((now) => {
    if (clearedAt === undefined && group(sb).launchTemplate?.version === '1') {
      clearedAt = now;
      before = terminated();
      sb.setAlarm(ALARM, 'OK', 'Threshold Crossed: no datapoints were greater than the threshold (5.0)');
    } else if (clearedAt !== undefined && trippedAgainAt === undefined && terminated() > before) {
      trippedAgainAt = now;
      sb.setAlarm(ALARM, 'ALARM', 'Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (5.0)');
    }
  });
  const { p, reporter } = roll(sb);
  const err = await t.throwsAsync(p, { instanceOf: DeployError });
  t.is(err?.exit, 1);
  t.truthy(trippedAgainAt, 'the alarm tripped during the rollback');
  t.like(err!.data, { rollback: { status: 'done', alarms: [ALARM] } });
  t.regex(err!.message, /rolled back: qa-rabbit is on launch template qa-rabbit-lt version 1 again .*; alarm qa-rabbit-5xx was in ALARM during the rollback \(watched, not halting it\)$/);
  t.deepEqual(versions(sb), [1, 1, 1, 1], 'the rollback went on to the end');
  t.true(sb.calls.some((c) => c.operation === 'DescribeAlarms' && c.actor !== 'direct' && c.time > trippedAgainAt!), 'read after the trip');
  const done = reporter.ofCode('rollout.rollback').find((e) => e.data.state === 'done')!;
  t.deepEqual(done.data.alarms, [ALARM]);
  t.regex(done.message, /alarm qa-rabbit-5xx was in ALARM during the rollback/);
  const states = reporter.ofCode('alarm.state').filter((e) => e.data.phase === 'rolling back').map((e) => e.data.state);
  t.deepEqual(states.slice(-2), ['OK', 'ALARM'], 'the clearing and the new trip, both reported as the rollback\'s');
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('a rollback with no alarm in ALARM says nothing about alarms; without --alarm it reads none', async (t) => {
  const sb = world();
  sb.setImage('ami-0new000000000000', { healthy: false });
  const { p, reporter } = roll(sb);
  const err = await t.throwsAsync(p, { instanceOf: DeployError });
  t.like(err!.data, { rollback: { status: 'done' } });
  t.is((err!.data.rollback as { alarms?: string[] }).alarms, undefined);
  t.notRegex(err!.message, /during the rollback/);
  t.is(reporter.ofCode('rollout.rollback').find((e) => e.data.state === 'done')?.data.alarms, undefined);
  const sb2 = world();
  sb2.setImage('ami-0new000000000000', { healthy: false });
  const reads = () => sb2.calls.filter((c) => c.operation === 'DescribeAlarms').length;
  const err2 = await t.throwsAsync(roll(sb2, { alarms: undefined }).p, { instanceOf: DeployError });
  t.like(err2!.data, { rollback: { status: 'done' } });
  t.is(reads(), 0);
});

test('without --rollback the same alarm leaves the group on version 2 with its new instances (what --rollback changes)', async (t) => {
  const sb = world();
  tripAfter(sb, 2);
  const err = await t.throwsAsync(roll(sb, { rollback: false }).p, { instanceOf: DeployError });
  t.is(err?.exit, 1);
  t.is(err?.data.rollback, undefined);
  t.is(group(sb).launchTemplate?.version, '$Latest');
  t.true(versions(sb).includes(2));
});

test('the plan (and a dry run) says what a failure rolls back to', async (t) => {
  const sb = world();
  const { p, reporter } = roll(sb, { dryRun: true });
  const r = await p;
  t.is(r.status, 'planned');
  const plan = reporter.ofCode('rollout.plan')[0];
  t.regex(plan.message, /on failure or alarm: roll back — set the group to launch template qa-rabbit-lt version 1 \(4 outdated instance\(s\) run it\)/);
  t.like(plan.data, { rollback: { label: 'launch template qa-rabbit-lt version 1' } });
});

test('--rollback when the previous version was deleted: refused at the start (exit 3), nothing changed; a dry run says so too', async (t) => {
  const sb = world({ makeDefault: true });
  const lt = sb.world.findLaunchTemplate({ name: 'qa-rabbit-lt' })!;
  sb.direct('ec2', 'DeleteLaunchTemplateVersions', { LaunchTemplateId: lt.id, Versions: ['1'] });
  const mutatingBefore = sb.calls.filter((c) => c.mutating).length;
  const dry = await t.throwsAsync(roll(sb, { dryRun: true }).p, { instanceOf: DeployError });
  t.is(dry?.exit, 3);
  t.is(dry?.code, 'rollback-version-gone');
  const err = await t.throwsAsync(roll(sb).p, { instanceOf: DeployError });
  t.is(err?.exit, 3);
  t.is(err?.code, 'rollback-version-gone');
  t.regex(err!.message, /old instances ran launch template qa-rabbit-lt version 1, which no longer exists/);
  // Only the run's own lock, taken and released: nothing else written.
  t.deepEqual(
    sb.calls.slice(mutatingBefore).filter((c) => c.mutating && c.service === 'autoscaling').map((c) => c.operation),
    ['CreateOrUpdateTags', 'DeleteTags'],
  );
  t.deepEqual(versions(sb), [1, 1, 1, 1]);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('the previous version deleted during the run: the rollback is refused at rollback time, the group stays on version 2, exit 1 naming it', async (t) => {
  const sb = world({ makeDefault: true });
  const lt = sb.world.findLaunchTemplate({ name: 'qa-rabbit-lt' })!;
  let tripped = false;
  sb.clock.onAdvance(() => {
    if (!tripped && sb.monitor.terminations({ group: 'qa-rabbit', cause: ['api', 'scale-in'] }).length >= 1) {
      tripped = true;
      sb.direct('ec2', 'DeleteLaunchTemplateVersions', { LaunchTemplateId: lt.id, Versions: ['1'] });
      sb.setAlarm(ALARM, 'ALARM', 'Threshold Crossed');
    }
  });
  const { p, reporter } = roll(sb);
  const err = await t.throwsAsync(p, { instanceOf: DeployError });
  t.is(err?.exit, 1);
  t.is(err?.code, 'alarm');
  t.like(err!.data, { rollback: { status: 'refused' } });
  t.regex(err!.message, /not rolled back: .*version 1, which no longer exists/);
  t.is(group(sb).launchTemplate?.version, '$Latest');
  t.deepEqual(reporter.ofCode('rollout.rollback').map((e) => e.data.state), ['refused']);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('the old instances ran a launch configuration that was deleted: --rollback refused at the start (exit 3)', async (t) => {
  const sb = Sandbox.create({ seed: 7, faults: { bootSeconds: 40 } });
  sb.direct('autoscaling', 'CreateLaunchConfiguration', { LaunchConfigurationName: 'lc-1', ImageId: 'ami-0old0000000000000', InstanceType: 't3.small' });
  sb.direct('autoscaling', 'CreateAutoScalingGroup', { AutoScalingGroupName: 'qa-rabbit', LaunchConfigurationName: 'lc-1', MinSize: 0, MaxSize: 6, DesiredCapacity: 3, AvailabilityZones: sb.world.zones() });
  sb.settle({ group: 'qa-rabbit' });
  sb.direct('autoscaling', 'CreateLaunchConfiguration', { LaunchConfigurationName: 'lc-2', ImageId: 'ami-0new0000000000000', InstanceType: 't3.small' });
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'qa-rabbit', LaunchConfigurationName: 'lc-2' });
  sb.direct('autoscaling', 'DeleteLaunchConfiguration', { LaunchConfigurationName: 'lc-1' });
  const err = await t.throwsAsync(roll(sb, { alarms: undefined }).p, { instanceOf: DeployError });
  t.is(err?.exit, 3);
  t.is(err?.code, 'rollback-launch-configuration-gone');
  t.regex(err!.message, /launch configuration lc-1, which no longer exists/);
});

test('a launch configuration group rolls back to its old launch configuration', async (t) => {
  const sb = Sandbox.create({ seed: 7, faults: { bootSeconds: 40 } });
  sb.direct('autoscaling', 'CreateLaunchConfiguration', { LaunchConfigurationName: 'lc-1', ImageId: 'ami-0old0000000000000', InstanceType: 't3.small' });
  sb.direct('autoscaling', 'CreateAutoScalingGroup', { AutoScalingGroupName: 'qa-rabbit', LaunchConfigurationName: 'lc-1', MinSize: 0, MaxSize: 6, DesiredCapacity: 3, AvailabilityZones: sb.world.zones() });
  sb.settle({ group: 'qa-rabbit' });
  sb.direct('autoscaling', 'CreateLaunchConfiguration', { LaunchConfigurationName: 'lc-2', ImageId: 'ami-0new0000000000000', InstanceType: 't3.small' });
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'qa-rabbit', LaunchConfigurationName: 'lc-2' });
  sb.setAlarm(ALARM, 'OK');
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  tripAfter(sb, 1);
  const err = await t.throwsAsync(roll(sb).p, { instanceOf: DeployError });
  t.is(err?.exit, 1);
  t.like(err!.data, { rollback: { status: 'done' } });
  t.is(group(sb).launchConfigurationName, 'lc-1');
  t.deepEqual(live(sb).map((i) => (i.launch.kind === 'lc' ? i.launch.name : '?')), ['lc-1', 'lc-1', 'lc-1']);
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('Ctrl-C during the rollback: exit 130, restored, the group set to version 1; the re-run finishes the rollback (not forward again)', async (t) => {
  const sb = world();
  const t0 = sb.clock.now();
  tripAfter(sb, 2);
  const ac = new AbortController();
  const reporter = new RecordingReporter(sb.clock);
  const inner = reporter.emit.bind(reporter);
  let armed = false;
  reporter.emit = (level, code, message, data) => {
    inner(level, code, message, data);
    // Interrupt at the rollback's first termination.
    if (!armed && code === 'instance.terminate' && reporter.ofCode('rollout.rollback').some((e) => e.data.state === 'plan')) {
      armed = true;
      ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
    }
  };
  const err = await t.throwsAsync(rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'qa-rabbit', alarms: [ALARM], rollback: true, signal: ac.signal }), { instanceOf: DeployError });
  t.true(armed);
  t.is(err?.exit, 130);
  t.like(err!.data, { rollback: { status: 'interrupted' } });
  t.regex(err!.message, /re-run the same command to finish the rollback/);
  t.is(group(sb).launchTemplate?.version, '1');
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), [], 'restored on the interrupt');
  t.true(versions(sb).includes(2), 'new instances still there');
  // The operator re-runs the same command (the alarm is still in ALARM: ignored at the start, as they would).
  const again = await rollGroup({ clients: sb.clients, clock: sb.clock, reporter: new RecordingReporter(sb.clock), asg: 'qa-rabbit', alarms: [ALARM], ignoreAlarmsAtStart: true, rollback: true });
  t.is(again.status, 'done');
  t.deepEqual(versions(sb), [1, 1, 1, 1], 'finished the rollback: every live instance runs version 1');
  t.is(group(sb).launchTemplate?.version, '1');
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 4);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('a re-run that finishes a rollback does not roll "back" to the newer version: its plan says so', async (t) => {
  const sb = world();
  tripAfter(sb, 2);
  const ac = new AbortController();
  const reporter = new RecordingReporter(sb.clock);
  const inner = reporter.emit.bind(reporter);
  reporter.emit = (level, code, message, data) => {
    inner(level, code, message, data);
    if (code === 'rollout.rollback' && data?.state === 'plan') ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
  };
  await t.throwsAsync(rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'qa-rabbit', alarms: [ALARM], rollback: true, signal: ac.signal }));
  const dry = roll(sb, { dryRun: true, alarms: undefined });
  await dry.p;
  t.regex(dry.reporter.ofCode('rollout.plan')[0].message, /no rollback on failure: the outdated instances run launch template qa-rabbit-lt version 2, newer than the group's version 1: this run finishes a rollback/);
});
