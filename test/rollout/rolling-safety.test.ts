/**
 * Issue 10, rolling side, as tables (pure decide) — Standby instances (defect 9), a step that
 * gets no instance (defect 2), the launch template changing mid-roll (defect 7) — and end to end
 * on the simulated AWS: launches that never succeed, a runner clock ahead of AWS (defect 8), a
 * template version published mid-roll.
 */
import test from 'ava';
import type { GroupSnapshot, InstanceView } from '../../orchestrator/aws/port';
import type { Clock } from '../../orchestrator/clock';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import type { Action } from '../../orchestrator/rollout/action';
import { RESTORE_TAG } from '../../orchestrator/rollout/guard';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';
import {
  ROLLOUT_PROCESSES,
  balancedOrder,
  baseVerdict,
  cleanupRolling,
  decideRolling,
  isOurs,
  mayTerminate,
  planRolling,
  type RollingConfig,
  type RollingMemory,
  type RollingView,
  type RunFacts,
} from '../../orchestrator/rollout/rolling/strategy';
import { Sandbox, type FaultConfig } from '../../orchestrator/sandbox';

const NEW = { launchTemplate: { id: 'lt-1', version: 2 } };
const OLD = { launchTemplate: { id: 'lt-1', version: 1 } };
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** `o1` old healthy (launched minute 1); `n4` new; `n4~` Pending; `o2s` / `n2s` Standby; `n5p` protected from scale-in. */
function inst(spec: string): InstanceView {
  const [, kind, n, flag] = /^([on])(\d+)([~sp!]?)$/.exec(spec)!;
  const standby = flag === 's';
  return {
    instanceId: `i-${kind}${n}`,
    availabilityZone: 'us-east-1a',
    lifecycleState: flag === '~' ? 'Pending' : standby ? 'Standby' : 'InService',
    healthStatus: 'Healthy',
    protectedFromScaleIn: flag === 'p',
    launchedFrom: kind === 'o' ? OLD : NEW,
    launchTime: T0 + Number(n) * 60_000,
    elb: { lb: { state: flag === '~' || flag === '!' || standby ? 'OutOfService' : 'InService', reasonCode: 'Instance', description: 'x' } },
  };
}

function group(desired: number, specs: string): GroupSnapshot {
  return {
    name: 'rabbit',
    observedAt: T0,
    desired,
    min: 0,
    max: 10,
    launch: NEW,
    mixedInstancesPolicy: false,
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 300,
    availabilityZones: ['us-east-1a'],
    suspendedProcesses: ROLLOUT_PROCESSES,
    loadBalancerNames: ['lb'],
    targetGroupARNs: [],
    tags: {},
    instances: specs.split(/\s+/).filter(Boolean).map(inst),
  };
}

/** Every instance first seen a minute before `now` (the tool's clock), launched long before. */
function view(g: GroupSnapshot, config: Partial<RollingConfig> = {}, memory: Partial<RollingMemory> = {}, extra: Partial<RollingView> = {}): RollingView {
  const now = T0 + 10 * 3_600_000;
  const firstSeen: Record<string, number> = {};
  for (const i of g.instances) firstSeen[i.instanceId] = now - 60_000;
  return {
    group: g,
    config: { capacity: 3, surge: 1, batch: 1, minHealthy: 3, stepTimeoutMs: 8 * 60_000, maxReplacements: 2, processes: ROLLOUT_PROCESSES, ...config },
    verdict: (i) => baseVerdict(i, g.loadBalancerNames),
    memory: { firstSeen, terminated: [], lost: [], ...memory },
    now,
    ...extra,
  };
}

function summary(a: Action | undefined): string {
  if (!a) return 'none';
  switch (a.kind) {
    case 'setDesired':
      return `desired ${a.desired}`;
    case 'terminate':
      return `terminate ${a.instanceIds.join(',')}${a.decrement ? ' -1' : ''}`;
    case 'abort':
      return `abort ${a.code}`;
    default:
      return a.kind;
  }
}

const NOW = T0 + 10 * 3_600_000;

// [title, desired, instances, config, memory, expected]
const cases: Array<[string, number, string, Partial<RollingConfig>, Partial<RollingMemory>, string]> = [
  // Defect 9: Standby.
  ['an up-to-date Standby instance launched long ago: no bogus step timeout, not waited for', 3, 'o1 o2 o3 n4s', {}, {}, 'desired 4'],
  ['an outdated Standby instance is never picked: the oldest InService outdated goes', 4, 'o1s o2 o3 o4 n5', {}, {}, 'terminate i-o2 -1'],
  ['only an outdated Standby instance left: done, it stays (policy ignore)', 3, 'o1s n2 n3 n4', {}, {}, 'done'],
  ['Standby instances are not in desired: one set aside with decrement is not waited for as a replacement', 3, 'o1 o2 o3 n4s n5s', {}, {}, 'desired 4'],
  // Defect 2: a step that gets no instance.
  ['instances never launch, within the step timeout → wait', 4, 'o1 o2 o3', {}, { waitingSince: NOW - 7 * 60_000 }, 'wait'],
  ['instances never launch, past the step timeout → abort step-timeout', 4, 'o1 o2 o3', {}, { waitingSince: NOW - 9 * 60_000, lastLaunchFailure: 'We currently do not have sufficient t3.small capacity' }, 'abort step-timeout'],
  ['surge 0: the replacement never launches past the step timeout → abort', 3, 'o2 o3', { surge: 0, minHealthy: 2 }, { terminated: ['i-o1'], waitingSince: NOW - 9 * 60_000 }, 'abort step-timeout'],
  ['waiting for nothing: an old waitingSince does not abort', 3, 'o1 o2 o3', {}, { waitingSince: NOW - 60 * 60_000 }, 'desired 4'],
];

for (const [title, desired, specs, config, memory, expected] of cases) {
  test(`decide: ${title}`, (t) => {
    t.is(summary(decideRolling(view(group(desired, specs), config, memory))), expected);
  });
}

test('decide: the step timeout names the last failed launch', (t) => {
  const a = decideRolling(view(group(4, 'o1 o2 o3'), {}, { waitingSince: NOW - 9 * 60_000, lastLaunchFailure: 'The image id [ami-0bad] does not exist' }));
  t.is(a.kind, 'abort');
  t.regex((a as { reason: string }).reason, /no healthy replacement after 540 s \(--step-timeout 480 s\): 1 of 4 instance\(s\) never launched; last failed launch: The image id \[ami-0bad\] does not exist/);
});

test('decide: a step timeout under churn names the instance waited for longest, and how long it has been there when instances came and went', (t) => {
  // Waiting 9 min against 8; n5 came 8 min ago, n6 20 s ago (the ASG replaced two new ones before).
  const v = view(group(4, 'o1 o2 o3 n6~ n5~'), {}, { waitingSince: NOW - 9 * 60_000, lost: [{ instanceId: 'i-n8' }, { instanceId: 'i-n9' }] });
  v.memory.firstSeen['i-n5'] = NOW - 8 * 60_000;
  v.memory.firstSeen['i-n6'] = NOW - 20_000;
  const a = decideRolling(v);
  t.is(summary(a), 'abort step-timeout');
  t.regex((a as { reason: string }).reason, /no healthy replacement after 540 s \(--step-timeout 480 s\): i-n5 \(there 480 s; the ASG replaced 2 new instance\(s\) during the run\) /);
  // No replacement by the ASG: just how long it has been there.
  const w = view(group(4, 'o1 o2 o3 n5~'), {}, { waitingSince: NOW - 9 * 60_000 });
  t.regex((decideRolling(w) as { reason: string }).reason, /: i-n5 \(there 60 s\) asg — Pending/);
});

test('decide: the launch template changed mid-roll → halt cleanly, refused (exit 3), saying what to re-run for', (t) => {
  const a = decideRolling(view(group(4, 'o1 o2 o3 n4'), {}, {}, { launchChanged: 'version 3' }));
  t.is(summary(a), 'abort launch-template-changed');
  t.regex((a as { reason: string }).reason, /the launch template changed during the rollout: re-run to roll to version 3/);
  t.true((a as { data?: { refused?: boolean } }).data?.refused);
});

function facts(g: GroupSnapshot, before: string, recovered: boolean): RunFacts {
  const initial = new Set(before.split(/\s+/).filter(Boolean).map((x) => `i-${x}`));
  const planned = new Set(g.instances.filter((i) => initial.has(i.instanceId) && i.launchedFrom === OLD && i.lifecycleState !== 'Standby').map((i) => i.instanceId));
  return { initial, planned, recovered };
}

test('Standby and scale-in protected instances are never the tool\'s: not ours on a crash re-run, never terminable', (t) => {
  const g = group(5, 'o1s o2 n3s n4p n5');
  const f = facts(g, 'o1 o2 n3 n4 n5', true);
  const by = (id: string) => g.instances.find((i) => i.instanceId === id)!;
  const v = (i: InstanceView) => baseVerdict(i, ['lb']);
  t.false(isOurs(by('i-n3'), f), 'Standby: not the crashed run\'s');
  t.false(isOurs(by('i-n4'), f), 'protected from scale-in: not the crashed run\'s');
  t.true(isOurs(by('i-n5'), f));
  t.false(mayTerminate(by('i-o1'), g, v(by('i-o1')), { ...f, planned: new Set(['i-o1', 'i-o2']) }), 'an outdated Standby instance, even planned');
  t.false(mayTerminate(by('i-n3'), g, v(by('i-n3')), f));
  t.deepEqual(planRolling(g, view(g).config, v).order.map((i) => i.instanceId), ['i-o2']);
});

test('crash re-run cleanup never terminates a Standby or protected up-to-date instance as the crashed run\'s surge', (t) => {
  // Capacity 3 recorded by the crashed run; desired 4; n4 (Standby) and n5 (protected, not healthy) were there at the start.
  const g = group(4, 'o1 o2 n4s n5p n6');
  g.instances = g.instances.map((i) => (i.instanceId === 'i-n5' ? { ...i, elb: { lb: { state: 'OutOfService' as const } } } : i));
  const v = { ...view(g), facts: facts(g, 'o1 o2 n4 n5 n6', true) };
  const a = cleanupRolling(v);
  t.false(a?.kind === 'terminate' && a.instanceIds.some((id) => id === 'i-n4' || id === 'i-n5'), summary(a));
});

// End balanced: which outdated instance goes. [title, instances as id@zone, n, expected picks]
const zoned = (spec: string): InstanceView[] =>
  spec.split(/\s+/).map((x) => {
    const [id, zone] = x.split('@');
    // Launched together (one LaunchTime), as a group's instances are: the balance rule picks among them.
    return { ...inst(id), availabilityZone: `us-east-1${zone}`, launchTime: T0 };
  });
const balanceCases: Array<[string, string, number, string]> = [
  ['the doc example: the surge n1 landed in a → o2 (fewest new, b before c by age), not the older o1', 'o1@a n1@a o2@b o3@c', 1, 'i-o2'],
  ['next step of the doc example: new a 1, b 1 → o3 in c', 'o1@a n1@a n2@b o3@c n4@b', 1, 'i-o3'],
  ['two picks in one step: each pick makes room for a new one in its zone', 'o1@a o2@a o3@b o4@c n5@a n6@b', 2, 'i-o4,i-o1'],
  ['new ones balanced: the zone with the surplus goes first, then the oldest', 'o1@a o2@b o3@c o4@c n5@a n6@b n7@c', 1, 'i-o3'],
  ['no zone differs → the first in order', 'o1@a o2@b o3@c', 1, 'i-o1'],
];
for (const [title, spec, n, expected] of balanceCases) {
  test(`end balanced: ${title}`, (t) => {
    const live = zoned(spec);
    const outdated = live.filter((i) => i.launchedFrom === OLD).sort((a, b) => a.launchTime! - b.launchTime!);
    t.is(balancedOrder(outdated, live, (i) => i.launchedFrom === NEW, ['us-east-1a', 'us-east-1b', 'us-east-1c'], n).map((i) => i.instanceId).join(','), expected);
  });
}

test('end balanced: decide terminates from the zone with a surplus; unhealthy outdated still first', (t) => {
  const g = group(4, 'o1 o2 o3 n4');
  g.availabilityZones = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
  const zoneOf: Record<string, string> = { 'i-o1': 'a', 'i-o2': 'b', 'i-o3': 'c', 'i-n4': 'a' };
  g.instances = g.instances.map((i) => ({ ...i, availabilityZone: `us-east-1${zoneOf[i.instanceId]}`, launchTime: T0 }));
  t.is(summary(decideRolling(view(g))), 'terminate i-o2 -1', 'not o1 (launched at the same time): its zone already has the new n4');
  const older = { ...g, instances: g.instances.map((i) => (i.instanceId === 'i-o1' ? { ...i, launchTime: T0 - 60_000 } : i)) };
  t.is(summary(decideRolling(view(older))), 'terminate i-o1 -1', 'an older one still goes first: oldest first stays the rule');
  const sick = { ...g, instances: g.instances.map((i) => (i.instanceId === 'i-o1' ? { ...i, healthStatus: 'Unhealthy' } : i)) };
  t.is(summary(decideRolling(view(sick, { minHealthy: 3 }))), 'terminate i-o1 -1');
});

// --- end to end on the simulated AWS -------------------------------------------------------

const ELB = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 };

function world(capacity = 3, faults: Partial<FaultConfig> = {}) {
  const sb = Sandbox.create({ seed: 5, faults: { bootSeconds: 60, appStartSeconds: 0, ...faults } });
  sb.seedGroup({ name: 'web', capacity, max: capacity, healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: { name: 'web', healthCheck: { target: 'HTTP:8080/health', ...ELB }, drainingTimeout: 0 } });
  sb.advance(3600_000);
  sb.newLaunchTemplateVersion('web-lt', { ImageId: 'ami-0new000000000000' });
  sb.monitor.baseline();
  return sb;
}

const restoreTag = (sb: Sandbox) => sb.world.state.groups.web.tags.some((x) => x.key === RESTORE_TAG);

function roll(sb: Sandbox, o: Partial<RollOptions> = {}, clock: Clock = sb.clock) {
  const reporter = new RecordingReporter(sb.clock);
  return { p: rollGroup({ clients: sb.newClients('tool'), clock, reporter, asg: 'web', ...o }), reporter };
}

test('defect 2: launches that never succeed fail the step within its timeout, naming the failed launch; everything restored', async (t) => {
  const sb = world(3);
  sb.faults.launchFailureRate = 1;
  const t0 = sb.clock.now();
  // Without a step timeout for "no instance", this run would wait until the overall timeout (code 'timeout').
  const err = await t.throwsAsync(roll(sb, { stepTimeoutMs: 8 * 60_000, timeoutMs: 3 * 3600_000 }).p, { instanceOf: DeployError });
  t.is(err!.code, 'step-timeout', err!.message);
  t.is(err!.exit, 1);
  t.regex(err!.message, /never launched; last failed launch: We currently do not have sufficient t3\.\w+ capacity/);
  t.true(sb.clock.now() - t0 < 15 * 60_000, 'failed within the step timeout (plus a poll)');
  t.is(sb.world.state.groups.web.desired, 3);
  t.deepEqual(sb.monitor.leftovers('web'), []);
  t.false(restoreTag(sb));
});

test('defect 8: a runner clock 10 min ahead of AWS does not shorten the step timeout (first seen on the tool\'s clock)', async (t) => {
  const sb = world(3);
  const ahead: Clock = { now: () => sb.clock.now() + 10 * 60_000, sleep: (ms, signal) => sb.clock.sleep(ms, signal) };
  const { p } = roll(sb, { stepTimeoutMs: 8 * 60_000 }, ahead);
  const r = await p;
  t.is(r.status, 'done');
  t.is(r.replaced.length, 3);
  t.deepEqual(sb.monitor.leftovers('web'), []);
});

test('defect 7: a launch template version published mid-roll halts cleanly (exit 3, re-run to roll to it), restored; a re-run finishes', async (t) => {
  const sb = world(3);
  const reporter = new RecordingReporter(sb.clock);
  let published = false;
  const emit = reporter.emit.bind(reporter);
  reporter.emit = (level, code, message, data) => {
    emit(level, code, message, data);
    if (code === Codes.terminate && !published) {
      published = true;
      sb.newLaunchTemplateVersion('web-lt', { ImageId: 'ami-0newer00000000000' });
    }
  };
  const err = await t.throwsAsync(rollGroup({ clients: sb.newClients('tool'), clock: sb.clock, reporter, asg: 'web' }), { instanceOf: DeployError });
  t.is(err!.code, 'launch-template-changed', err!.message);
  t.is(err!.exit, 3);
  t.regex(err!.message, /the launch template changed during the rollout: re-run to roll to version 3/);
  t.is(sb.world.state.groups.web.desired, 3);
  t.deepEqual(sb.monitor.leftovers('web'), []);
  t.false(restoreTag(sb));
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('web'), []);
  const again = await roll(sb).p;
  t.is(again.status, 'done');
  const live = sb.world.groupInstances(sb.world.state.groups.web).filter((i) => sb.world.isActive(i));
  t.true(live.every((i) => sb.world.isUpToDate(i, sb.world.state.groups.web)));
});

test('launch spec changed mid-run: this run\'s own not-healthy launches of the old target may go (they serve nothing); instances there at the start may not', (t) => {
  // Judged against the new spec (version 2 here): n9 was launched by this run from version 1.
  const g = group(4, 'o1 o2 n3');
  g.instances.push({ ...inst('o9~'), instanceId: 'i-o9' });
  const f: RunFacts = { initial: new Set(['i-o1', 'i-o2', 'i-n3']), planned: new Set(['i-o1', 'i-o2']), recovered: false };
  const by = (id: string) => g.instances.find((i) => i.instanceId === id)!;
  t.true(mayTerminate(by('i-o9'), g, baseVerdict(by('i-o9'), ['lb']), f));
  const v = { ...view(g), facts: f };
  t.is(summary(cleanupRolling(v)), 'terminate i-o9 -1');
});
