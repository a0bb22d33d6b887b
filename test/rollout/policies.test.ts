/**
 * Issue 15 item 5: `--standby ignore|terminate|wait` and `--protected ignore|replace|wait` (Instance
 * Refresh's StandbyInstances / ScaleInProtectedInstances), as tables of the pure decision and end
 * to end on the simulated AWS: what each policy terminates, waits for, skips (and says so), and the
 * capacity following someone else's Standby moves during a run.
 */
import test from 'ava';
import { CancelInstanceRefreshCommand, EnterStandbyCommand, ExitStandbyCommand, SetInstanceProtectionCommand, StartInstanceRefreshCommand } from '@aws-sdk/client-auto-scaling';
import type { GroupSnapshot, InstanceView } from '../../orchestrator/aws/port';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import type { Action } from '../../orchestrator/rollout/action';
import { RESTORE_TAG } from '../../orchestrator/rollout/guard';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';
import {
  ROLLOUT_PROCESSES,
  baseVerdict,
  decideRolling,
  heldBack,
  mayTerminate,
  planRolling,
  type RollingConfig,
  type RollingMemory,
  type RunFacts,
} from '../../orchestrator/rollout/rolling/strategy';
import { Sandbox } from '../../orchestrator/sandbox';

const NEW = { launchTemplate: { id: 'lt-1', version: 2 } };
const OLD = { launchTemplate: { id: 'lt-1', version: 1 } };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const NOW = T0 + 10 * 3_600_000;

/** `o1` old healthy; `n4` new; `o2s` Standby; `o3p` protected from scale-in. */
function inst(spec: string): InstanceView {
  const [, kind, n, flag] = /^([on])(\d+)([sp]?)$/.exec(spec)!;
  const standby = flag === 's';
  return {
    instanceId: `i-${kind}${n}`,
    availabilityZone: 'us-east-1a',
    lifecycleState: standby ? 'Standby' : 'InService',
    healthStatus: 'Healthy',
    protectedFromScaleIn: flag === 'p',
    launchedFrom: kind === 'o' ? OLD : NEW,
    launchTime: T0 + Number(n) * 60_000,
    elb: { lb: { state: standby ? 'OutOfService' : 'InService', reasonCode: 'Instance', description: 'x' } },
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

/** Facts as the runner keeps them: every instance given was there at the start; the outdated ones (any state) planned. */
function facts(g: GroupSnapshot): RunFacts {
  const initial = new Set(g.instances.filter((i) => i.launchedFrom === OLD || !/n[4-9]$/.test(i.instanceId)).map((i) => i.instanceId));
  return { initial, planned: new Set(g.instances.filter((i) => i.launchedFrom === OLD).map((i) => i.instanceId)), recovered: false };
}

function decide(desired: number, specs: string, config: Partial<RollingConfig>, memory: Partial<RollingMemory> = {}): Action {
  const g = group(desired, specs);
  const firstSeen: Record<string, number> = {};
  for (const i of g.instances) firstSeen[i.instanceId] = NOW - 60_000;
  return decideRolling({
    group: g,
    config: { capacity: 3, surge: 1, batch: 1, minHealthy: 3, stepTimeoutMs: 8 * 60_000, maxReplacements: 2, processes: ROLLOUT_PROCESSES, ...config },
    verdict: (i) => baseVerdict(i, g.loadBalancerNames),
    memory: { firstSeen, terminated: [], lost: [], ...memory },
    now: NOW,
    facts: facts(g),
  });
}

function summary(a: Action): string {
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

// [title, desired, instances, policies, memory, expected]
const cases: Array<[string, number, string, Partial<RollingConfig>, Partial<RollingMemory>, string]> = [
  // --standby
  ['standby ignore (default): an outdated Standby one is not replaced; the rest is', 4, 'o1s o2 o3 o4 n5', {}, {}, 'terminate i-o2 -1'],
  ['standby ignore: only the Standby one left → done (it is skipped, listed)', 3, 'o1s n2 n3 n4', {}, {}, 'done'],
  ['standby terminate: the outdated Standby one goes first, without decrement (not in desired, not replaced)', 3, 'o1s o2 o3 o4', { standby: 'terminate' }, {}, 'terminate i-o1'],
  ['standby terminate: an up-to-date Standby one stays', 3, 'n1s n2 n3 n4', { standby: 'terminate' }, {}, 'done'],
  ['standby wait: the rest is replaced first', 3, 'o1s o2 o3 o4', { standby: 'wait' }, {}, 'desired 4'],
  ['standby wait: only the Standby one left → wait for it', 3, 'o1s n2 n3 n4', { standby: 'wait' }, { heldSince: NOW - 60_000 }, 'wait'],
  ['standby wait: still in Standby past the step timeout → abort held-back', 3, 'o1s n2 n3 n4', { standby: 'wait' }, { heldSince: NOW - 9 * 60_000 }, 'abort held-back'],
  // --protected
  ['protected ignore (default): a protected outdated one is not replaced; the rest is', 4, 'o1p o2 o3 n4', { capacity: 3 }, {}, 'terminate i-o2 -1'],
  ['protected ignore: only protected outdated left → done (skipped, listed)', 3, 'o1p n2 n3', {}, {}, 'done'],
  ['protected replace: replaced like any other, oldest first', 4, 'o1p o2 o3 n4', { protected: 'replace' }, {}, 'terminate i-o1 -1'],
  ['protected wait: only protected outdated left → wait', 3, 'o1p n2 n3', { protected: 'wait' }, { heldSince: NOW - 60_000 }, 'wait'],
  ['protected wait: still protected past the step timeout → abort held-back', 3, 'o1p n2 n3', { protected: 'wait' }, { heldSince: NOW - 9 * 60_000 }, 'abort held-back'],
  ['protected wait: protection removed → replaced', 3, 'o1 n2 n3', { protected: 'wait' }, {}, 'desired 4'],
];

for (const [title, desired, specs, config, memory, expected] of cases) {
  test(`decide: ${title}`, (t) => {
    t.is(summary(decide(desired, specs, config, memory)), expected);
  });
}

test('mayTerminate: Standby only with --standby terminate (outdated, in Standby); protected outdated only with --protected replace', (t) => {
  const g = group(3, 'o1s o2p n3s n4');
  const f = facts(g);
  const by = (id: string) => g.instances.find((i) => i.instanceId === id)!;
  const may = (id: string, p: Partial<RollingConfig>) => mayTerminate(by(id), g, baseVerdict(by(id), ['lb']), f, p);
  t.false(may('i-o1', {}));
  t.false(may('i-o1', { standby: 'wait' }));
  t.true(may('i-o1', { standby: 'terminate' }));
  t.false(may('i-n3', { standby: 'terminate' }), 'an up-to-date Standby one, never');
  t.false(may('i-o2', {}));
  t.false(may('i-o2', { protected: 'wait' }));
  t.true(may('i-o2', { protected: 'replace' }));
});

test('plan and held-back lists name what each policy skips or waits for, and why', (t) => {
  const g = group(3, 'o1s o2p o3 n4');
  const config = { capacity: 3, surge: 1, batch: 1, minHealthy: 3, stepTimeoutMs: 60_000, maxReplacements: 2, processes: ROLLOUT_PROCESSES };
  const v = (i: InstanceView) => baseVerdict(i, ['lb']);
  t.deepEqual(planRolling(g, config, v).order.map((i) => i.instanceId), ['i-o3']);
  t.deepEqual(planRolling(g, { ...config, protected: 'replace' }, v).order.map((i) => i.instanceId), ['i-o2', 'i-o3']);
  t.deepEqual(heldBack(g, {}, 'skip'), [
    { instanceId: 'i-o1', why: 'in Standby, --standby ignore' },
    { instanceId: 'i-o2', why: 'protected from scale-in, --protected ignore' },
  ]);
  t.deepEqual(heldBack(g, { standby: 'wait', protected: 'wait' }, 'wait').map((h) => h.instanceId), ['i-o1', 'i-o2']);
  t.deepEqual(heldBack(g, { standby: 'terminate', protected: 'replace' }, 'skip'), []);
});

// --- end to end on the simulated AWS -------------------------------------------------------

function world(capacity = 3) {
  const sb = Sandbox.create({ seed: 7, faults: { bootSeconds: 60, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'web', capacity, max: capacity + 1, healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: { name: 'web', healthCheck: { target: 'HTTP:8080/health', interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 }, drainingTimeout: 0 } });
  sb.advance(3600_000);
  sb.newLaunchTemplateVersion('web-lt', { ImageId: 'ami-0new000000000000' });
  return sb;
}

const ids = (sb: Sandbox) => sb.world.groupInstances(sb.world.state.groups.web).filter((i) => i.lifecycle !== 'Terminated');
const outdatedLeft = (sb: Sandbox) => ids(sb).filter((i) => !i.lifecycle?.startsWith('Terminat') && !sb.world.isUpToDate(i, sb.world.state.groups.web)).map((i) => `${i.id} ${i.lifecycle}`);
const restoreTag = (sb: Sandbox) => sb.world.state.groups.web.tags.some((x) => x.key === RESTORE_TAG);

function roll(sb: Sandbox, o: Partial<RollOptions> = {}) {
  const reporter = new RecordingReporter(sb.clock);
  return { p: rollGroup({ clients: sb.newClients('tool'), clock: sb.clock, reporter, asg: 'web', stepTimeoutMs: 8 * 60_000, ...o }), reporter };
}

async function standby(sb: Sandbox, id: string, decrement: boolean): Promise<void> {
  await sb.newClients('someone').autoScaling.send(new EnterStandbyCommand({ AutoScalingGroupName: 'web', InstanceIds: [id], ShouldDecrementDesiredCapacity: decrement }));
}

test('sandbox: --protected ignore (default) leaves a protected outdated instance, says so in the summary and a warning; nothing else left behind', async (t) => {
  const sb = world(3);
  const [first] = ids(sb);
  await sb.clients.autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'web', InstanceIds: [first.id], ProtectedFromScaleIn: true }));
  sb.monitor.baseline();
  const { p, reporter } = roll(sb);
  const r = await p;
  t.is(r.status, 'done');
  t.is(r.replaced.length, 2);
  t.regex(r.summary, new RegExp(`skipped 1 outdated: ${first.id} \\(protected from scale-in, --protected ignore\\)`));
  t.true(reporter.events.some((e) => e.code === 'rollout.skipped'));
  t.deepEqual(outdatedLeft(sb), [`${first.id} InService`]);
  t.deepEqual(sb.monitor.leftovers('web'), []);
  t.true(sb.monitor.minHealthy('web') >= 3);
});

test('sandbox: --protected replace replaces it like the others', async (t) => {
  const sb = world(3);
  const [first] = ids(sb);
  await sb.clients.autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'web', InstanceIds: [first.id], ProtectedFromScaleIn: true }));
  sb.monitor.baseline();
  const r = await roll(sb, { protected: 'replace' }).p;
  t.is(r.replaced.length, 3);
  t.deepEqual(outdatedLeft(sb), []);
  t.deepEqual(sb.monitor.leftovers('web'), []);
});

test('sandbox: --protected wait replaces it once someone removes the protection; never while protected', async (t) => {
  const sb = world(3);
  const [first] = ids(sb);
  await sb.clients.autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'web', InstanceIds: [first.id], ProtectedFromScaleIn: true }));
  sb.monitor.baseline();
  const { p, reporter } = roll(sb, { protected: 'wait' });
  let unprotectedAt: number | undefined;
  const emit = reporter.emit.bind(reporter);
  reporter.emit = (level, code, message, data) => {
    emit(level, code, message, data);
    if (code === 'rollout.wait' && /waiting for .*protected from scale-in, --protected wait/.test(message) && unprotectedAt === undefined) {
      unprotectedAt = sb.clock.now();
      void sb.newClients('someone').autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'web', InstanceIds: [first.id], ProtectedFromScaleIn: false }));
    }
  };
  const r = await p;
  t.truthy(unprotectedAt, 'it waited for the protection to go');
  t.is(r.replaced.length, 3);
  const gone = sb.monitor.terminations({ group: 'web', cause: ['api'] }).find((x) => x.instanceId === first.id);
  t.true(gone !== undefined && gone.time >= unprotectedAt!);
  t.deepEqual(outdatedLeft(sb), []);
  t.deepEqual(sb.monitor.leftovers('web'), []);
});

test('sandbox: --protected wait, never unprotected → fails within the step timeout naming it; restored (exit 1)', async (t) => {
  const sb = world(3);
  const [first] = ids(sb);
  await sb.clients.autoScaling.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'web', InstanceIds: [first.id], ProtectedFromScaleIn: true }));
  sb.monitor.baseline();
  const err = await t.throwsAsync(roll(sb, { protected: 'wait' }).p, { instanceOf: DeployError });
  t.is(err!.code, 'held-back', err!.message);
  t.is(err!.exit, 1);
  t.regex(err!.message, new RegExp(`${first.id} \\(protected from scale-in, --protected wait\\)`));
  t.deepEqual(sb.monitor.leftovers('web'), []);
  t.false(restoreTag(sb));
});

test('sandbox: --standby terminate terminates the outdated Standby instance (not replaced: desired unchanged), replaces the rest', async (t) => {
  const sb = world(3);
  const [first] = ids(sb);
  await standby(sb, first.id, true);
  sb.advance(60_000);
  sb.monitor.baseline();
  const r = await roll(sb, { standby: 'terminate' }).p;
  t.is(r.status, 'done');
  t.true(r.replaced.includes(first.id));
  t.is(sb.world.state.groups.web.desired, 2);
  t.deepEqual(outdatedLeft(sb), []);
  t.deepEqual(sb.monitor.leftovers('web'), []);
});

test('sandbox: --standby ignore (default) leaves the outdated Standby instance, listed; --standby wait waits for ExitStandby and replaces it', async (t) => {
  const sb = world(3);
  const [first] = ids(sb);
  await standby(sb, first.id, true);
  sb.advance(60_000);
  sb.monitor.baseline();
  const r = await roll(sb).p;
  t.regex(r.summary, new RegExp(`${first.id} \\(in Standby, --standby ignore\\)`));
  t.deepEqual(outdatedLeft(sb), [`${first.id} Standby`]);
  t.is(sb.world.state.groups.web.desired, 2);

  const { p, reporter } = roll(sb, { standby: 'wait' });
  let exited = false;
  const emit = reporter.emit.bind(reporter);
  reporter.emit = (level, code, message, data) => {
    emit(level, code, message, data);
    if (code === 'rollout.wait' && /in Standby, --standby wait/.test(message) && !exited) {
      exited = true;
      void sb.newClients('someone').autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: 'web', InstanceIds: [first.id] }));
    }
  };
  const again = await p;
  t.true(exited);
  t.true(again.replaced.includes(first.id));
  t.deepEqual(outdatedLeft(sb), []);
  t.is(sb.world.state.groups.web.desired, 3, 'ExitStandby incremented desired: the capacity followed, 3 serving at the end');
  t.is(ids(sb).filter((i) => sb.world.isActive(i)).length, 3);
  t.deepEqual(sb.monitor.leftovers('web').filter((l) => l.what !== 'desired'), []);
  t.false(restoreTag(sb));
});

test('sandbox: someone takes an instance out of Standby mid-run → the capacity follows (no scale-in of a serving node), it is replaced too', async (t) => {
  const sb = world(4);
  const [first] = ids(sb);
  await standby(sb, first.id, true);
  sb.advance(60_000);
  sb.monitor.baseline();
  const { p, reporter } = roll(sb);
  let exited = false;
  const emit = reporter.emit.bind(reporter);
  reporter.emit = (level, code, message, data) => {
    emit(level, code, message, data);
    if (code === Codes.terminate && !exited) {
      exited = true;
      void sb.newClients('someone').autoScaling.send(new ExitStandbyCommand({ AutoScalingGroupName: 'web', InstanceIds: [first.id] }));
    }
  };
  const r = await p;
  t.true(exited);
  t.true(reporter.events.some((e) => e.code === 'rollout.capacity-followed'), 'said so');
  t.true(r.replaced.includes(first.id), 'back in service, outdated: replaced with the rest');
  t.is(sb.world.state.groups.web.desired, 4);
  t.is(ids(sb).filter((i) => sb.world.isActive(i) && sb.world.isHealthy(i)).length, 4);
  t.deepEqual(outdatedLeft(sb), []);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('web'), []);
  t.false(restoreTag(sb));
});

test('sandbox: someone puts an instance into Standby and back between two looks → the capacity follows from AWS\'s ExitStandby activity, nothing taken back as surplus (issue 10, chaos seeds 3994021010, 1121815054)', async (t) => {
  const sb = world(4);
  sb.monitor.baseline();
  const { p, reporter } = roll(sb, { surge: 0, minHealthy: 3 });
  let moved: string | undefined;
  const emit = reporter.emit.bind(reporter);
  reporter.emit = (level, code, message, data) => {
    emit(level, code, message, data);
    if (code === Codes.terminate && !moved) {
      // Right after the tool's act, before its next look: in and out of Standby (without decrement:
      // AWS launches a replacement for it; ExitStandby increments desired). The tool never sees Standby.
      const pick = ids(sb).find((i) => i.lifecycle === 'InService' && i.id !== (data as { instanceId: string }).instanceId)!;
      moved = pick.id;
      const c = sb.newClients('someone').autoScaling;
      void c.send(new EnterStandbyCommand({ AutoScalingGroupName: 'web', InstanceIds: [pick.id], ShouldDecrementDesiredCapacity: false })).then(() => c.send(new ExitStandbyCommand({ AutoScalingGroupName: 'web', InstanceIds: [pick.id] })));
    }
  };
  const r = await p;
  t.truthy(moved);
  t.true(
    sb.calls.some((c) => c.actor === 'someone' && c.operation === 'ExitStandby'),
    'the put-back happened',
  );
  t.true(reporter.events.some((e) => e.code === 'rollout.capacity-followed'), 'said so');
  t.is(r.status, 'done');
  t.is(sb.world.state.groups.web.desired, 5, 'ExitStandby incremented desired: the rollout ends at 5, not 4');
  t.is(ids(sb).filter((i) => sb.world.isActive(i) && sb.world.isHealthy(i)).length, 5);
  t.deepEqual(outdatedLeft(sb), []);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('web'), []);
  t.false(restoreTag(sb));
});

test('in Standby AND protected from scale-in: --protected has the last word (chaos seed 3563581946 terminated it under --standby terminate, --protected ignore)', (t) => {
  const g = group(3, 'o1s n2 n3 n4');
  g.instances[0] = { ...g.instances[0], protectedFromScaleIn: true };
  const f = facts(g);
  const o1 = g.instances[0];
  t.false(mayTerminate(o1, g, baseVerdict(o1, ['lb']), f, { standby: 'terminate' }));
  t.false(mayTerminate(o1, g, baseVerdict(o1, ['lb']), f, { standby: 'terminate', protected: 'wait' }));
  t.true(mayTerminate(o1, g, baseVerdict(o1, ['lb']), f, { standby: 'terminate', protected: 'replace' }));
  t.deepEqual(heldBack(g, { standby: 'terminate' }, 'skip'), [{ instanceId: 'i-o1', why: 'in Standby, --standby terminate, but protected from scale-in, --protected ignore' }]);
  const firstSeen = Object.fromEntries(g.instances.map((i) => [i.instanceId, NOW - 60_000]));
  const config = { capacity: 3, surge: 1, batch: 1, minHealthy: 3, stepTimeoutMs: 8 * 60_000, maxReplacements: 2, processes: ROLLOUT_PROCESSES, standby: 'terminate' as const };
  t.is(decideRolling({ group: g, config, verdict: (i) => baseVerdict(i, ['lb']), memory: { firstSeen, terminated: [], lost: [] }, now: NOW, facts: f }).kind, 'done');
});

test('sandbox: an instance refresh in progress refuses the run (exit 3 naming it, no mutating call); once cancelled the run proceeds (issue 15 item 7)', async (t) => {
  const sb = world(3);
  const { InstanceRefreshId: id } = await sb.clients.autoScaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
  sb.monitor.baseline();
  const before = sb.calls.length;
  const err = await t.throwsAsync(roll(sb).p, { instanceOf: DeployError });
  t.is(err!.code, 'instance-refresh-in-progress', err!.message);
  t.is(err!.exit, 3);
  t.regex(err!.message, new RegExp(`web: instance refresh ${id} is InProgress .*two replacers would fight.*cancel-instance-refresh --auto-scaling-group-name web`));
  t.deepEqual(sb.calls.slice(before).filter((c) => c.mutating && c.actor === 'tool').map((c) => c.operation).filter((op) => op !== 'CreateOrUpdateTags' && op !== 'DeleteTags'), [], 'nothing but its own lock');
  t.deepEqual(sb.monitor.leftovers('web'), []);
  const dry = await t.throwsAsync(roll(sb, { dryRun: true }).p, { instanceOf: DeployError });
  t.is(dry!.exit, 3, 'a dry run says the real run would be refused');
  await sb.clients.autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'web' }));
  const r = await roll(sb).p;
  t.is(r.replaced.length, 3);
});
