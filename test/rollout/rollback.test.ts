/**
 * Rollback of a rolling rollout (rollout/rolling/rollback.ts) as tables: what a rollback goes back
 * to (from the group at the run's start), whether a failure starts it, the refusals, the plan line.
 */
import test from 'ava';
import type { AlarmView, AwsPort, GroupSnapshot, LaunchSpec } from '../../orchestrator/aws/port';
import { DeployError, interruptedError, refusedError, rolloutError, usageError } from '../../orchestrator/errors';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { goneProblem, launchLabel, RollbackAlarms, rollbackGate, rollbackPlan, rollbackReporter, rollbackTarget, rolledBackError, stackDisagreement, type RollbackTarget } from '../../orchestrator/rollout/rolling/rollback';
import { instanceView } from './instance-view';

const lt = (version: number, id = 'lt-1'): LaunchSpec => ({ launchTemplate: { id, version } });
const LC1: LaunchSpec = { launchConfigurationName: 'web-lc-1' };
const LC2: LaunchSpec = { launchConfigurationName: 'web-lc-2' };

/** The group on `launch` with one instance per spec in `on` (`null`: no launch spec recorded; `'x'`: terminated). */
function group(launch: LaunchSpec, on: Array<LaunchSpec | null | ['x', LaunchSpec]>, over: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return {
    name: 'web', observedAt: 0, desired: on.length, min: 0, max: 10, launch, mixedInstancesPolicy: false, healthCheckType: 'ELB', healthCheckGracePeriod: 300,
    availabilityZones: ['us-east-1a'], suspendedProcesses: [], loadBalancerNames: [], targetGroupARNs: [], tags: {},
    instances: on.map((l, n) =>
      Array.isArray(l) ? instanceView({ instanceId: `i-${n}`, lifecycleState: 'Terminating', launchedFrom: l[1] }) : instanceView({ instanceId: `i-${n}`, launchedFrom: l ?? {} }),
    ),
    ...over,
  };
}

const GROUP_LT = (v: number): LaunchSpec => ({ launchTemplate: { id: 'lt-1', name: 'web-lt', version: v } });

const targets: Array<[string, GroupSnapshot, RollbackTarget['kind'], string | RegExp]> = [
  ['outdated on one version: back to it (named like the group\'s template)', group(GROUP_LT(3), [lt(2), lt(2), lt(3)]), 'to', 'launch template web-lt version 2'],
  ['outdated on a launch configuration, group on another', group(LC2, [LC1, LC1, LC2]), 'to', 'launch configuration web-lc-1'],
  ['group moved from a launch configuration to a template: back to the configuration', group(GROUP_LT(1), [LC1, LC1]), 'to', 'launch configuration web-lc-1'],
  ['another template entirely: back to it', group(GROUP_LT(3), [lt(7, 'lt-9')]), 'to', 'launch template lt-9 version 7'],
  ['nothing outdated: none', group(GROUP_LT(3), [lt(3), lt(3)]), 'none', ''],
  ['only terminating outdated instances: none', group(GROUP_LT(3), [['x', lt(2)], lt(3)]), 'none', ''],
  ['outdated on two versions: refused, both named with counts', group(GROUP_LT(3), [lt(1), lt(2), lt(2)]), 'refuse', /2 launch specs: launch template web-lt version 1 \(1\), launch template web-lt version 2 \(2\)/],
  ['a template version and a launch configuration: refused', group(GROUP_LT(3), [lt(2), LC1]), 'refuse', /2 launch specs/],
  ['an instance with no launch spec recorded: refused', group(GROUP_LT(3), [lt(2), null]), 'refuse', /launch spec of i-1 is unknown/],
  ['version 0 (the adapter could not tell which older version): refused', group(GROUP_LT(3), [lt(0)]), 'refuse', /unknown/],
  ['a mixed instances policy: back to the policy\'s previous template version, whatever the instance types', group(GROUP_LT(3), [lt(2), lt(2), lt(3)], { mixedInstancesPolicy: true, mixedPolicy: { instanceTypes: ['m5.large', 'c5.large'], onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 0, spotAllocationStrategy: 'price-capacity-optimized', onDemandAllocationStrategy: 'prioritized' } }), 'to', 'launch template web-lt version 2'],
  ['a mixed instances policy on two versions: refused as any group', group(GROUP_LT(3), [lt(1), lt(2)], { mixedInstancesPolicy: true }), 'refuse', /2 launch specs/],
  ['outdated on a NEWER version of the group\'s template: finishing a rollback', group(GROUP_LT(2), [lt(3), lt(2)]), 'finishing', /newer than the group's version 2: this run finishes a rollback/],
];

for (const [title, g, kind, text] of targets) {
  test(`rollbackTarget: ${title}`, (t) => {
    const r = rollbackTarget(g);
    t.is(r.kind, kind);
    if (r.kind === 'to') t.is(launchLabel(r.launch), text as string);
    if (r.kind === 'refuse' || r.kind === 'finishing') t.regex(r.reason, text as RegExp);
  });
}

test('rollbackTarget: the instances that ran the previous version are named', (t) => {
  const r = rollbackTarget(group(GROUP_LT(3), [lt(2), lt(3), lt(2)]));
  t.deepEqual(r.kind === 'to' ? r.instances : [], ['i-0', 'i-2']);
});

const TO: RollbackTarget = { kind: 'to', launch: lt(2), instances: ['i-0'] };
const failed = rolloutError('alarm', 'web: alarm web-5xx went into ALARM; rollout halted', { restored: true });

const gates: Array<[string, unknown, RollbackTarget | undefined, boolean, RegExp?]> = [
  ['a halt (exit 1) restored: go', failed, TO, true],
  ['a step timeout (exit 1): go', rolloutError('step-timeout', 'x'), TO, true],
  ['interrupted (130): no, a re-run rolls forward', interruptedError(), TO, false, /interrupted/],
  ['refused (3): nothing rolled out', refusedError('below-min-healthy', 'x'), TO, false, /exit 3/],
  ['bad input (2)', usageError('usage', 'x'), TO, false, /exit 2/],
  ['restore incomplete: re-run first', rolloutError('step-timeout', 'x', { restored: false }), TO, false, /incomplete/],
  ['nothing outdated at the start', failed, { kind: 'none' }, false, /nothing was outdated/],
  ['finishing a rollback: never back to the newer version', failed, { kind: 'finishing', launch: lt(3), reason: 'finishes a rollback' }, false, /finishes a rollback/],
  ['not a DeployError (a bug)', new Error('boom'), TO, false, /unexpected/],
];

for (const [title, err, target, go, why] of gates) {
  test(`rollbackGate: ${title}`, (t) => {
    const g = rollbackGate(err, target);
    t.is(g.go, go);
    if (!g.go && why) t.regex(g.why, why);
  });
}

test('goneProblem: a deleted version and a deleted launch configuration are named; an existing one is no problem', (t) => {
  t.is(goneProblem('web', lt(2), true), undefined);
  t.deepEqual(goneProblem('web', lt(2), false)?.code, 'rollback-version-gone');
  t.regex(goneProblem('web', lt(2), false)!.reason, /lt-1 version 2, which no longer exists/);
  t.is(goneProblem('web', LC1, false)?.code, 'rollback-launch-configuration-gone');
});

test('rollbackPlan: the plan says what a failure rolls back to, or why it would not', (t) => {
  t.regex(rollbackPlan(TO).line, /on failure or alarm: roll back — set the group to launch template lt-1 version 2 \(1 outdated instance\(s\) run it\)/);
  t.deepEqual(rollbackPlan(TO).data, { rollback: { to: lt(2), label: 'launch template lt-1 version 2' } });
  t.regex(rollbackPlan({ kind: 'finishing', launch: lt(3), reason: 'r' }).line, /no rollback on failure: r/);
  t.is(rollbackPlan({ kind: 'none' }).line, '');
});

test('rolledBackError: exit and message say where the group is and what a re-run does', (t) => {
  const done = rolledBackError(failed, 'web', { status: 'done', to: lt(2), replaced: ['i-9'] });
  t.is(done.exit, 1);
  t.is(done.code, 'alarm');
  t.regex(done.message, /rollout halted; rolled back: web is on launch template lt-1 version 2 again \(1 new instance\(s\) replaced\)/);
  t.like(done.data, { restored: true, rollback: { status: 'done', replaced: ['i-9'] } });
  const cut = rolledBackError(failed, 'web', { status: 'interrupted', to: lt(2) });
  t.is(cut.exit, 130);
  t.regex(cut.message, /re-run the same command to finish the rollback/);
  const broke = rolledBackError(failed, 'web', { status: 'failed', to: lt(2), reason: 'step timed out' });
  t.is(broke.exit, 1);
  t.regex(broke.message, /rollback failed: step timed out; web is set to launch template lt-1 version 2: re-run/);
  t.true(broke instanceof DeployError);
});

test('rollbackReporter: the rollback run\'s plan, done and failed become rollout.rollback; other events pass through', (t) => {
  const r = new RecordingReporter({ now: () => 0, sleep: async () => {} });
  const w = rollbackReporter(r, { asg: 'web', to: lt(2) });
  w.emit('info', 'rollout.plan', 'web: replace 2', { asg: 'web', capacity: 3 });
  w.emit('info', 'instance.terminate', 'web: terminating i-1', { asg: 'web' });
  w.emit('info', 'rollout.done', 'web: replaced 2', { asg: 'web' });
  w.emit('error', 'rollout.failed', 'web: step timed out', { asg: 'web' });
  t.deepEqual(r.codes(), ['rollout.rollback', 'instance.terminate', 'rollout.rollback', 'rollout.rollback']);
  t.deepEqual(r.events.map((e) => e.data.state), ['plan', undefined, 'done', 'failed']);
  t.is(r.events[0].data.capacity, 3, 'the plan data is kept (the live view counts from it)');
});

test('rollbackReporter and rolledBackError: alarms in ALARM while rolling back are tagged on the rollback\'s done/failed and its outcome (issue 16); the plan is not', (t) => {
  const r = new RecordingReporter({ now: () => 0, sleep: async () => {} });
  let seen: string[] = [];
  const w = rollbackReporter(r, { asg: 'web', to: lt(2) }, () => seen);
  w.emit('info', 'rollout.plan', 'web: replace 2', { asg: 'web' });
  w.emit('info', 'alarm.state', 'alarm web-5xx: OK', { alarm: 'web-5xx', state: 'OK' });
  seen = ['web-5xx'];
  w.emit('warn', 'alarm.state', 'alarm web-5xx: ALARM', { alarm: 'web-5xx', state: 'ALARM' });
  w.emit('info', 'rollout.done', 'web: replaced 2', { asg: 'web' });
  t.deepEqual(r.codes(), ['rollout.rollback', 'alarm.state', 'alarm.state', 'rollout.rollback']);
  t.is(r.events[0].data.alarms, undefined);
  t.deepEqual(r.events.slice(1, 3).map((e) => [e.data.state, e.data.phase]), [['OK', 'rolling back'], ['ALARM', 'rolling back']]);
  t.regex(r.events[2].message, /^rollback: alarm web-5xx: ALARM/);
  t.deepEqual(r.events[3].data.alarms, ['web-5xx']);
  t.regex(r.events[3].message, /replaced 2 \(alarm web-5xx was in ALARM during the rollback \(watched, not halting it\)\)$/);
  const done = rolledBackError(failed, 'web', { status: 'done', to: lt(2), replaced: ['i-9'], alarms: ['web-5xx', 'web-p99'] });
  t.regex(done.message, /again \(1 new instance\(s\) replaced\); alarm web-5xx, web-p99 were in ALARM during the rollback \(watched, not halting it\)$/);
  t.like(done.data, { rollback: { alarms: ['web-5xx', 'web-p99'] } });
  t.notRegex(rolledBackError(failed, 'web', { status: 'done', to: lt(2), replaced: [] }).message, /ALARM during/);
});

test('RollbackAlarms: notes alarms in ALARM without halting; a failed read is a warning and the rollback goes on; an interrupt still stops it', async (t) => {
  const r = new RecordingReporter({ now: () => 0, sleep: async () => {} });
  let answer: () => Promise<AlarmView[]> = async () => [{ name: 'web-5xx', state: 'ALARM', reason: 'Threshold Crossed' }];
  const port = { describeAlarms: () => answer() } as unknown as AwsPort;
  const w = new RollbackAlarms(port, ['web-5xx'], { target: 'web', reporter: r });
  t.is(await w.check(), undefined, 'never halts');
  t.deepEqual(w.alarming, ['web-5xx']);
  answer = async () => {
    throw new DeployError('aws', 'AccessDenied: not authorized to perform cloudwatch:DescribeAlarms');
  };
  t.is(await w.check(), undefined);
  await w.check();
  const unreadable = r.ofCode('alarm.state').filter((e) => e.data.state === 'unreadable');
  t.is(unreadable.length, 1, 'said once');
  t.like(unreadable[0].data, { alarm: 'web-5xx', reason: 'AccessDenied: not authorized to perform cloudwatch:DescribeAlarms' });
  answer = async () => {
    throw Object.assign(new Error('interrupted by SIGINT'), { name: 'AbortError' });
  };
  await t.throwsAsync(w.check(), { name: 'AbortError' });
});

test('stackDisagreement (deploy): a group set back behind the stack is named with how to reconcile; agreeing or undeclared: none', (t) => {
  const declared: LaunchSpec = { launchTemplate: { id: 'lt-1', name: 'web-lt', version: 5 } };
  const d = stackDisagreement(declared, lt(4));
  t.regex(d!.message, /^the stack declares launch template web-lt version 5, the group runs version 4 \(rolled back\); a deploy of the same config changes nothing .* the next deploy with a fixed config reconciles them$/);
  t.deepEqual(d!.data, { stack: declared, group: lt(4), reconcile: 'next-deploy-with-fixed-config' });
  t.is(stackDisagreement(declared, lt(5)), undefined, 'same version (the id names the same template)');
  t.is(stackDisagreement(undefined, lt(4)), undefined);
  t.regex(stackDisagreement(LC2, LC1)!.message, /declares launch configuration web-lc-2, the group runs launch configuration web-lc-1/);
});
