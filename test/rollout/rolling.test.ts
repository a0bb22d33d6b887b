import test from 'ava';
import type { GroupSnapshot, InstanceView } from '../../orchestrator/aws/port';
import {
  ROLLOUT_PROCESSES,
  baseVerdict,
  cleanupLeft,
  cleanupRolling,
  decideRolling,
  isOurs,
  newSpecBroken,
  mayTerminate,
  oldestFirst,
  surplusAtCapacity,
  planRolling,
  rebalancePairs,
  resolveBatch,
  type RollingConfig,
  type RollingMemory,
  type RollingView,
  type RunFacts,
} from '../../orchestrator/rollout/rolling/strategy';
import type { Action } from '../../orchestrator/rollout/action';

const NEW = { launchTemplate: { id: 'lt-1', version: 2 } };
const OLD = { launchTemplate: { id: 'lt-1', version: 1 } };
const T0 = Date.parse('2026-01-01T00:00:00Z');

/** `o1` old healthy, launched minute 1; `n4` new; `o2!` unhealthy in the ELB; `o3~` Pending; `o5x` Terminating. */
function inst(spec: string): InstanceView {
  const m = /^([on])(\d+)([!~x]?)$/.exec(spec)!;
  const [, kind, n, flag] = m;
  return {
    instanceId: `i-${kind}${n}`,
    availabilityZone: 'us-east-1a',
    lifecycleState: flag === '~' ? 'Pending' : flag === 'x' ? 'Terminating' : 'InService',
    healthStatus: 'Healthy',
    protectedFromScaleIn: false,
    launchedFrom: kind === 'o' ? OLD : NEW,
    launchTime: T0 + Number(n) * 60_000,
    privateIpAddress: `10.0.0.${n}`,
    elb: { lb: { state: flag === '!' || flag === '~' ? 'OutOfService' : 'InService', reasonCode: 'Instance', description: 'failed checks' } },
  };
}

function group(desired: number, specs: string, over: Partial<GroupSnapshot> = {}): GroupSnapshot {
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
    ...over,
  };
}

function view(g: GroupSnapshot, config: Partial<RollingConfig> = {}, memory: Partial<RollingMemory> = {}, now = T0 + 3_600_000): RollingView {
  const firstSeen: Record<string, number> = {};
  for (const i of g.instances) firstSeen[i.instanceId] = now - 60_000;
  return {
    group: g,
    config: { capacity: 3, surge: 1, batch: 1, minHealthy: 3, stepTimeoutMs: 20 * 60_000, maxReplacements: 2, processes: ROLLOUT_PROCESSES, ...config },
    verdict: (i) => baseVerdict(i, g.loadBalancerNames),
    memory: { firstSeen, terminated: [], lost: [], ...memory },
    now,
  };
}

function summary(a: Action): string {
  switch (a.kind) {
    case 'setDesired':
      return `desired ${a.desired}`;
    case 'terminate':
      return `terminate ${a.instanceIds.join(',')}${a.decrement ? ' -1' : ''}`;
    case 'suspend':
      return `suspend ${a.processes.join(',')}`;
    case 'resume':
      return `resume ${a.processes.join(',')}`;
    case 'abort':
      return `abort ${a.code}`;
    default:
      return a.kind;
  }
}

// Table: snapshot in → action out. desired, instances, config, memory → expected.
const cases: Array<[string, number, string, Partial<RollingConfig>, Partial<RollingMemory>, string, Partial<GroupSnapshot>?]> = [
  ['surge 1, start: launch before terminate (3→4)', 3, 'o1 o2 o3', {}, {}, 'desired 4'],
  ['surge 1: new instance still booting → wait', 4, 'o1 o2 o3 n4~', {}, {}, 'wait'],
  ['surge 1: new healthy → terminate the oldest with decrement', 4, 'o3 o1 o2 n4', {}, {}, 'terminate i-o1 -1'],
  ['surge 1: the terminated one counts no more; next step launches again', 3, 'o1x o2 o3 n4', {}, { terminated: ['i-o1'] }, 'desired 4'],
  ['surge 1: unhealthy outdated goes first', 4, 'o1 o2! o3 n4', {}, {}, 'terminate i-o2 -1'],
  ['surge 1: processes not suspended yet → suspend first', 3, 'o1 o2 o3', {}, {}, 'suspend AZRebalance,ScheduledActions', { suspendedProcesses: ['AlarmNotification'] }],
  ['nothing outdated, settled → done', 3, 'n1 n2 n3', {}, {}, 'done'],
  ['an outdated one went away and AWS replaced it: the surge left over, not healthy yet, is removed with decrement', 4, 'n2 n3 n4 n5~', {}, {}, 'terminate i-n5 -1'],
  ['more live than desired (AWS\'s own launch in flight: Capacity Rebalancing\'s replacement, chaos seed 1944632580) → no surplus removal, wait', 4, 'n1 n2 n3 n4 n5~', {}, {}, 'wait'],
  // Back to capacity by an explicit pick (issue 10): never lower desired for AWS's termination policy to choose.
  ['nothing outdated, surge left, all healthy → back to capacity by terminating the surplus (newest) with decrement', 4, 'n1 n2 n3 n4', {}, {}, 'terminate i-n4 -1'],
  ['nothing outdated, 2 surplus → both picked, newest first', 5, 'n1 n2 n3 n4 n5', {}, {}, 'terminate i-n5,i-n4 -1'],
  ['nothing outdated, surge not launched yet → hold Launch first, so that nothing launches between the look and the lowering (chaos seed 530110558)', 5, 'n1 n2 n3 n4', {}, {}, 'suspend Launch'],
  ['nothing outdated, surge not launched yet, Launch held → lower desired to what exists (removes nothing)', 5, 'n1 n2 n3 n4', {}, {}, 'desired 4', { suspendedProcesses: [...ROLLOUT_PROCESSES, 'Launch'] }],
  ['nothing outdated, desired below capacity (surge 0) → raise it back', 2, 'n1 n2', { surge: 0, minHealthy: 2 }, {}, 'desired 3'],
  ['nothing outdated, desired back at capacity but AWS has not scaled in yet (4 live for 3) → wait, not done', 3, 'n1 n2 n3 n4', {}, {}, 'wait'],
  ['nothing outdated, 4 live for desired 3 since just within the step timeout → still waits to settle', 3, 'n1 n2 n3 n4', {}, { settleSince: T0 + 3_600_000 - 20 * 60_000 }, 'wait'],
  ['nothing outdated, 4 live for desired 3 for longer than the step timeout (AWS never settles) → halts, never waits without end', 3, 'n1 n2 n3 n4', {}, { settleSince: T0 + 3_600_000 - 20 * 60_000 - 1 }, 'abort step-timeout'],
  ['nothing outdated, an old one still draining → wait', 3, 'o1x n2 n3 n4', {}, { terminated: ['i-o1'] }, 'wait'],
  ['surge 0: terminate the oldest without decrement (3→2)', 3, 'o1 o2 o3', { surge: 0, minHealthy: 2 }, {}, 'terminate i-o1'],
  ['surge 0: replacement booting → wait', 3, 'o1x o2 o3 n4~', { surge: 0, minHealthy: 2 }, { terminated: ['i-o1'] }, 'wait'],
  ['surge 0: replacement not launched yet → wait', 3, 'o1x o2 o3', { surge: 0, minHealthy: 2 }, { terminated: ['i-o1'] }, 'wait'],
  ['surge 0: minHealthy 3 → refuse (never below)', 3, 'o1 o2 o3', { surge: 0, minHealthy: 3 }, {}, 'abort below-min-healthy'],
  ['surge 0: unhealthy outdated costs no healthy capacity', 3, 'o1 o2! o3', { surge: 0, minHealthy: 2 }, {}, 'terminate i-o2'],
  // Healthy already below --min-healthy (an app failing after it passed): what serves nothing may still go (chaos seed 3935578497).
  ['surge 1: healthy below minHealthy (2 of 3), the unhealthy outdated one still goes', 4, 'o1 o2! o3! n4', {}, {}, 'terminate i-o2 -1'],
  ['surge 0: healthy below minHealthy (1 of 2), the unhealthy outdated one still goes', 3, 'o1! o2! o3', { surge: 0, minHealthy: 2 }, {}, 'terminate i-o1'],
  ['batch 2 with surge 1 grows by 2', 3, 'o1 o2 o3', { batch: 2 }, {}, 'desired 5'],
  ['batch 2: both new healthy → terminate two oldest', 5, 'o1 o2 o3 n4 n5', { batch: 2 }, {}, 'terminate i-o1,i-o2 -1'],
  ['batch 2, one outdated left → step of 1', 3, 'o3 n4 n5', { batch: 2 }, {}, 'desired 4'],
  ['crash re-run: desired 4 from an earlier run, capacity 3 from tag → continue, no extra surge', 4, 'o1 o2 o3 n4', {}, {}, 'terminate i-o1 -1'],
  ['an outdated one went away: more surge than outdated → remove the not-healthy extra, newest first', 5, 'o1 n2 n3 n4~ n5~', { batch: 2 }, {}, 'terminate i-n5 -1'],
  ['nothing outdated, surge left, one still booting → remove it rather than let AWS scale in', 4, 'n1 n2 n3 n4~', {}, {}, 'terminate i-n4 -1'],
  ['ASG replaced new instances twice → abort', 4, 'o1 o2 o3 n6~', {}, { lost: [{ instanceId: 'i-n4' }, { instanceId: 'i-n5', gate: 'elb lb', state: 'OutOfService' }] }, 'abort replacement-failing'],
  // Issue 21: random failing boots are not a broken version — keep going within the step timeout.
  ['ASG replaced 2 new instances, 2 others passed → some fail: keep waiting', 4, 'o1 n4 n5 n8~', {}, { terminated: ['i-o2', 'i-o3'], lost: [{ instanceId: 'i-n6' }, { instanceId: 'i-n7' }] }, 'wait'],
  ['ASG replaced 3 new instances, 2 passed → most fail: abort', 4, 'o1 n4 n5 n9~', {}, { terminated: ['i-o2', 'i-o3'], lost: [{ instanceId: 'i-n6' }, { instanceId: 'i-n7' }, { instanceId: 'i-n8' }] }, 'abort replacement-failing'],
];

for (const [title, desired, specs, config, memory, expected, over] of cases) {
  test(`decide: ${title}`, (t) => {
    t.is(summary(decideRolling(view(group(desired, specs, over), config, memory))), expected);
  });
}

test('decide: done once the replaced instances are out of the ELB, though EC2 still shuts them down', (t) => {
  const g = group(3, 'o1x n2 n3 n4');
  const out = { ...g, instances: g.instances.map((i) => (i.instanceId === 'i-o1' ? { ...i, elb: {}, ec2State: 'shutting-down' } : i)) };
  t.is(summary(decideRolling(view(out, {}, { terminated: ['i-o1'] }))), 'done');
  const draining = { ...g, instances: g.instances.map((i) => (i.instanceId === 'i-o1' ? { ...i, elb: { lb: { state: 'InService' as const, reasonCode: 'ELB', description: 'Instance deregistration currently in progress.' } } } : i)) };
  t.is(summary(decideRolling(view(draining, {}, { terminated: ['i-o1'] }))), 'wait');
});

test('decide: a new instance past its step timeout aborts naming it, the gate and its last state', (t) => {
  const g = group(4, 'o1 o2 o3 n4!');
  const v = view(g, { stepTimeoutMs: 600_000 });
  v.memory.firstSeen['i-n4'] = v.now - 601_000;
  const a = decideRolling(v);
  t.is(a.kind, 'abort');
  if (a.kind !== 'abort') return;
  t.is(a.code, 'step-timeout');
  t.is(a.data?.instanceId, 'i-n4');
  t.is(a.data?.gate, 'elb lb');
  t.regex(a.reason, /i-n4.*OutOfService: failed checks/);
});

test('decide never terminates an up-to-date instance, nor more than the surplus', (t) => {
  for (const desired of [3, 4, 5]) {
    for (const surge of [0, 1, 2]) {
      const a = decideRolling(view(group(desired, 'o1 n2 n3 n4 n5'), { surge, minHealthy: 2, capacity: 3, batch: Math.max(1, surge) }));
      if (a.kind === 'terminate') {
        t.true(a.instanceIds.every((id) => id.startsWith('i-o')), `${desired}/${surge}: ${a.instanceIds}`);
        if (a.decrement) t.true(a.instanceIds.length <= desired - 3);
      }
    }
  }
});

test('oldestFirst: unhealthy first, then oldest launch time, ties by id', (t) => {
  const mk = (id: string, minute: number, healthy: boolean): InstanceView => ({ ...inst('o1'), instanceId: id, launchTime: T0 + minute * 60_000, elb: { lb: { state: healthy ? 'InService' : 'OutOfService' } } });
  const list = [mk('b', 10, true), mk('a', 10, true), mk('c', 12, false), mk('d', 9, true)];
  t.deepEqual(oldestFirst(list, (i) => baseVerdict(i, ['lb']).healthy).map((i) => i.instanceId), ['c', 'd', 'a', 'b']);
});

test('planRolling: order, batches and refusals', (t) => {
  const g = group(3, 'o3 o1 o2');
  const p = planRolling(g, view(g).config, (i) => baseVerdict(i, ['lb']));
  t.deepEqual(p.batches, [['i-o1'], ['i-o2'], ['i-o3']]);
  t.is(p.lowestHealthy, 3);
  t.is(p.refused, undefined);
  const p0 = planRolling(g, { ...view(g).config, surge: 0, batch: 2, minHealthy: 2 }, (i) => baseVerdict(i, ['lb']));
  t.deepEqual(p0.batches, [['i-o1', 'i-o2'], ['i-o3']]);
  t.regex(p0.refused ?? '', /below --min-healthy 2/);
});

test('resolveBatch: N, P% and defaults', (t) => {
  t.is(resolveBatch(undefined, 200, 1), 1);
  t.is(resolveBatch('10%', 200, 1), 20);
  t.is(resolveBatch('25%', 3, 1), 1);
  t.is(resolveBatch('5', 200, 1), 5);
  t.is(resolveBatch(3, 200, 1), 3);
});

test('cleanup: removes the failed surge instance, leaves healthy old ones', (t) => {
  const a = cleanupRolling(view(group(4, 'o1 o2 o3 n4!')));
  t.is(a && summary(a), 'terminate i-n4 -1');
  t.is(cleanupRolling(view(group(3, 'o1 o2 o3 n4!'), { surge: 0, minHealthy: 2 })), undefined);
  const b = cleanupRolling(view(group(4, 'o1 o2 o3')));
  t.is(b && summary(b), 'suspend Launch', 'surge not launched yet: hold Launch first, so that nothing launches between the look and the lowering (chaos seed 530110558)');
  const c = cleanupRolling(view(group(4, 'o1 o2 o3', { suspendedProcesses: [...ROLLOUT_PROCESSES, 'Launch'] })));
  t.is(c && summary(c), 'desired 3', 'surge not launched yet, Launch suspended: lower desired (removes nothing that exists)');
});

test('decide: Launch the tool held for one step is resumed once nothing needs it held — a re-run after a kill -9 inside the cleanup\'s window (issue 10)', (t) => {
  const held = { suspendedProcesses: [...ROLLOUT_PROCESSES, 'Launch'] };
  const toolSuspended = [...ROLLOUT_PROCESSES, 'Launch'];
  const rows: Array<[string, number, string, readonly string[] | undefined, string]> = [
    ['crashed run left desired 4, Launch suspended and recorded, the surge never launched: resume it (AWS launches the surge), the rollout goes on', 4, 'o1 o2 o3', toolSuspended, 'resume Launch'],
    ['the same mid-step (surge healthy, outdated left)', 4, 'o1 o2 o3 n4', toolSuspended, 'resume Launch'],
    ['finished, desired back at capacity with Launch still held: resume it before done', 3, 'n1 n2 n3', toolSuspended, 'resume Launch'],
    ['finished, surge not launched still to take back: keep Launch held, lower desired first', 4, 'n1 n2 n3', toolSuspended, 'desired 3'],
    ['Launch suspended by someone else (not recorded by the tool): never resumed, the rollout goes on', 4, 'o1 o2 o3 n4', ROLLOUT_PROCESSES, 'terminate i-o1 -1'],
    ['nothing recorded at all (no guard record): never resumed', 3, 'n1 n2 n3', undefined, 'done'],
  ];
  for (const [why, desired, specs, recorded, want] of rows) {
    const v = { ...view(group(desired, specs, held)), ...(recorded ? { toolSuspended: recorded } : {}) };
    t.is(summary(decideRolling(v)), want, why);
  }
});

/** Facts: `before` = ids (without "i-") present at the start; planned = the outdated among them. */
function facts(g: GroupSnapshot, before: string, recovered = false): RunFacts {
  const initial = new Set(before.split(/\s+/).filter(Boolean).map((x) => `i-${x}`));
  const planned = new Set(g.instances.filter((i) => initial.has(i.instanceId) && i.launchedFrom === OLD).map((i) => i.instanceId));
  return { initial, planned, recovered };
}

function withFacts(v: RollingView, before: string, recovered = false): RollingView {
  return { ...v, facts: facts(v.group, before, recovered) };
}

test('mayTerminate: the plan, or a not-healthy up-to-date instance (ours, a crashed run\'s, or one there before that is InService and unprotected); never a healthy up-to-date one', (t) => {
  const g = group(4, 'o1 o2 n3! n4 n5! n6');
  g.instances.push({ ...inst('n7!'), lifecycleState: 'Standby' }, { ...inst('n8!'), protectedFromScaleIn: true });
  const f = facts(g, 'o1 o2 n3 n4 n7 n8');
  const may = (id: string, fx: RunFacts = f) => {
    const i = g.instances.find((x) => x.instanceId === `i-${id}`)!;
    return mayTerminate(i, g, baseVerdict(i, ['lb']), fx);
  };
  const rows: Array<[string, boolean, string]> = [
    ['o1', true, 'planned (outdated at the start)'],
    ['n3', true, 'up to date, not healthy, there before (an earlier finished run\'s), InService'],
    ['n4', false, 'healthy up to date, there before'],
    ['n5', true, 'ours, not healthy'],
    ['n6', false, 'ours but healthy: never a healthy up-to-date one'],
    ['n7', false, 'Standby: set aside by an operator'],
    ['n8', false, 'protected from scale-in by someone'],
  ];
  for (const [id, want, why] of rows) t.is(may(id), want, `${id}: ${why}`);
  // A crash re-run counts unhealthy up-to-date instances as the crashed run's surge — never one in
  // Standby or protected from scale-in: someone set those aside (issue 10, defect 9).
  t.false(may('n7', facts(g, 'o1 o2 n3 n4 n7 n8', true)), 'Standby: never, even on a crash re-run');
  t.false(may('n8', facts(g, 'o1 o2 n3 n4 n7 n8', true)), 'protected: never, even on a crash re-run');
});

test('cleanup after an interrupted then re-run rollout: takes back surplus without a serving node, only what mayTerminate allows', (t) => {
  // C=3. The re-run's own surge n6 is healthy; n5 (an earlier, fully restored run's) failed after passing.
  const rows: Array<[string, string, number, Partial<RollingConfig>, string | undefined, string]> = [
    ['o1 o2 n5! n6', 'o1 o2 n5', 4, {}, 'terminate i-n5 -1', 'the one serving nothing goes, not the healthy surge nor an old node'],
    ['o1 o2 n5! n6 n7!', 'o1 o2 n5', 5, {}, 'terminate i-n7 -1', 'ours first'],
    ['o1 o2 o3 n4! n5!', 'o1 o2 o3 n4', 4, {}, 'terminate i-n5 -1', 'ours first, then (next round) an earlier one'],
    ['o1 o2 o3 n4', 'o1 o2 o3', 4, {}, 'terminate i-o1 -1', 'surge healthy: the oldest outdated goes (healthy stays 3)'],
    ['o1 o2 n3! n4', 'o1 o2 n3', 4, { minHealthy: 3 }, 'terminate i-n3 -1', 'not a healthy old node below the floor'],
    ['o1 o2 n3~ n4', 'o1 o2 n3', 4, { minHealthy: 3 }, 'wait', 'n3 (there before) is Pending, not ours; an old one would drop healthy below 3; n4 is healthy up to date: wait for n3 to settle (issue 10, chaos seed 1267799361)'],
    ['o1 o2 n4', 'o1 o2', 4, {}, 'suspend Launch', 'surge not launched yet: Launch held first, desired lowered on the next look (chaos seed 530110558)'],
    ['n1 n2 n3 n4', 'n1 n2 n3', 4, {}, 'terminate i-n4 -1', 'all healthy up to date, nothing outdated left: back to capacity by an explicit pick (the run\'s own n4), never lowered for AWS to pick one'],
    ['o1 n2 n3 n4', 'o1 n2 n3', 4, { minHealthy: 4 }, undefined, 'an outdated one is left and needed for the floor: no healthy up-to-date one goes in its place'],
  ];
  for (const [specs, before, desired, config, want, why] of rows) {
    const v = withFacts(view(group(desired, specs), config), before);
    const a = cleanupRolling(v);
    t.is(a ? summary(a) : undefined, want, `${specs}: ${why}`);
    // The engine's guard: the one rule, or a surplus instance at back to capacity (runner.ts mayTerminate).
    if (a?.kind === 'terminate') for (const id of a.instanceIds) { const i = v.group.instances.find((x) => x.instanceId === id)!; t.true(mayTerminate(i, v.group, v.verdict(i), v.facts) || surplusAtCapacity(i, v), `${id} allowed by the rule`); }
    if (!a) t.regex(cleanupLeft(v) ?? '', /desired left at 4 \(capacity 3\)/, `${specs}: left is reported`);
    else t.is(cleanupLeft(v), undefined);
  }
});

test('cleanup after a re-run that recovered a crashed run, the launch template then changed mid-run: the crashed run\'s failed surge (now outdated, never planned) is the tool\'s to take back (chaos seed 1482414799: desired and max left at 45 for 41 with the restore tag)', (t) => {
  // C=3, minHealthy 3. The re-run rolled to v2 (NEW); n4 and n5 (v2) are the crashed run's surge,
  // never healthy; the template moved to v3 mid-run, so they are outdated now, yet not in the plan.
  const V3 = { launchTemplate: { id: 'lt-1', version: 3 } };
  const rows: Array<[string, string, string, boolean, string | undefined, string]> = [
    ['o1 o2 o3 n4! n5!', 'o1 o2 o3 n4 n5', 'v3', true, 'terminate i-n5,i-n4 -1', 'recovered: the crashed run\'s never-healthy surge goes, newest first, with decrement'],
    ['o1 o2 o3 n4! n5!', 'o1 o2 o3 n4 n5', 'v2', true, 'terminate i-n5,i-n4 -1', 'the same without the template change (up to date, not healthy, ours)'],
    ['o1 o2 o3 n4! n5!', 'o1 o2 o3 n4 n5', 'v3', false, undefined, 'not recovered: n4 and n5 were someone\'s before the run, outdated now: not the tool\'s, the surplus is left and said so'],
  ];
  for (const [specs, before, launch, recovered, want, why] of rows) {
    const v = withFacts(view(group(5, specs, launch === 'v3' ? { launch: V3 } : {})), before, recovered);
    const a = cleanupRolling(v);
    t.is(a ? summary(a) : undefined, want, `${specs} (${launch}): ${why}`);
    if (a?.kind === 'terminate') for (const id of a.instanceIds) { const i = v.group.instances.find((x) => x.instanceId === id)!; t.true(mayTerminate(i, v.group, v.verdict(i), v.facts), `${id} allowed by the rule (the engine's guard)`); }
    if (!a) t.regex(cleanupLeft(v) ?? '', /desired left at 5 \(capacity 3\)/, `${specs}: left is reported`);
  }
});

test('cleanup after a halt with nothing outdated left (AWS\'s own replacements took the outdated ones while the surge was out): back to capacity by the explicit surplus pick, within --min-healthy, Capacity Rebalancing in flight counted once (chaos seeds 2359788694, 1816341555, 444990829, 205635742: desired and max left raised with the restore tag)', (t) => {
  // C=3, minHealthy 3 unless said. `before`: present at the start (not the run's own).
  const at = (desired: number, specs: string, before: string, config: Partial<RollingConfig> = {}, aws: Record<string, string | undefined> = {}, zones?: Record<string, string>) => {
    const g = group(desired, specs, zones ? { availabilityZones: [...new Set(Object.values(zones))] } : {});
    const placed = zones ? { ...g, instances: g.instances.map((i) => ({ ...i, availabilityZone: zones[i.instanceId.slice(2)] ?? 'us-east-1a' })) } : g;
    const v = withFacts(view(placed, config), before);
    return Object.keys(aws).length > 0 ? { ...v, facts: { ...v.facts!, awsLaunched: new Map(Object.entries(aws).map(([k, r]) => [`i-${k}`, r && `i-${r}`])) } } : v;
  };
  const rows: Array<[string, RollingView, string | undefined]> = [
    ['two surplus, all healthy and up to date: the newest of the run\'s own go, with decrement', at(5, 'n1 n2 n3 n4 n5', 'o1 o2 o3'), 'terminate i-n5,i-n4 -1'],
    ['someone\'s instance still Pending (there at the start, not the tool\'s): one goes, the floor (3 healthy) keeps the other — no waiting for the group to settle', at(5, 'n1 n2 n3 n4 n5~', 'n5'), 'terminate i-n4 -1'],
    ['Capacity Rebalancing in flight (n5 for the at-risk n4): the pair counts once (4 for desired 4), neither member is picked', at(4, 'n1 n2 n3 n4 n5~', 'o1 o2 o3', {}, { n5: 'n4' }), 'terminate i-n3 -1'],
    ['the pair both healthy: AWS is about to take n4 (not spendable), 4 others healthy: one of n1..n3 goes, 3 serve once AWS took n4', at(4, 'n1 n2 n3 n4 n5', 'o1 o2 o3', {}, { n5: 'n4' }), 'terminate i-n3 -1'],
    ['the pair both healthy and someone\'s n3 still Pending: 3 spendable healthy against --min-healthy 3 → nothing goes now, it waits for n3 to settle (bounded as before)', at(4, 'n1 n2 n3~ n4 n5', 'n3', {}, { n5: 'n4' }), 'wait'],
    ['the zone with the most live instances first, not the newest n4 (the group ends balanced: b 3, a 1)', at(4, 'n1 n2 n3 n4', 'o1 o2 o3', {}, {}, { n1: 'b', n2: 'b', n3: 'b', n4: 'a' }), 'terminate i-n3 -1'],
    ['someone\'s instance protected from scale-in is never the pick', at(4, 'n1 n2 n3 n4', 'n4', {}, {}), 'terminate i-n3 -1'],
  ];
  // Protected: n4 was there and someone protected it.
  const prot = rows[6][1];
  rows[6][1] = { ...prot, group: { ...prot.group, instances: prot.group.instances.map((i) => (i.instanceId === 'i-n4' ? { ...i, protectedFromScaleIn: true } : i)) } };
  for (const [why, v, want] of rows) {
    const a = cleanupRolling(v);
    t.is(a ? summary(a) : undefined, want, why);
    if (a?.kind === 'terminate') {
      t.true(a.surplus, `${why}: a surplus pick, not a replacement`);
      for (const id of a.instanceIds) t.true(surplusAtCapacity(v.group.instances.find((i) => i.instanceId === id)!, v), `${id}: allowed as surplus at capacity`);
    }
  }
});

test('cleanup: surplus nothing can take back now waits for the group to settle, then picks explicitly; past the step timeout it says what it waited for', (t) => {
  // C=3, minHealthy 3, desired 4: o1 o2 healthy outdated, n4 the run's healthy surge, r3 AWS's own
  // launch (there at the start, not ours) still Pending — the interrupt of chaos seed 1267799361.
  const at = (specs: string, memory: Partial<RollingMemory> = {}, now?: number) => withFacts(view(group(4, specs), { minHealthy: 3 }, memory, now), 'o1 o2 n3');
  const pending = at('o1 o2 n3~ n4');
  const w = cleanupRolling(pending);
  t.is(w?.kind, 'wait');
  t.regex(w?.reason ?? '', /waiting for i-n3 \(Pending\) to settle before taking back the surge \(desired 4, capacity 3\).*at most 1200 s/);
  t.is(cleanupLeft(pending), undefined, 'nothing is left while it waits');
  // Settled, healthy: 4 healthy, so the oldest outdated goes with decrement (never the healthy n3/n4).
  const healthy = cleanupRolling(at('o1 o2 n3 n4'));
  t.is(healthy && summary(healthy), 'terminate i-o1 -1');
  // Settled, InService but failing its checks: it serves nothing, so it goes (old ones untouched).
  const failing = cleanupRolling(at('o1 o2 n3! n4'));
  t.is(failing && summary(failing), 'terminate i-n3 -1');
  // Still Pending a step timeout after the cleanup's first look: give up and say so.
  const now = T0 + 3_600_000;
  const late = at('o1 o2 n3~ n4', { cleanupSince: now - 20 * 60_000 }, now);
  t.is(cleanupRolling(late), undefined);
  t.regex(cleanupLeft(late) ?? '', /desired left at 4 \(capacity 3\).*waited 1200 s \(--step-timeout\) for i-n3 \(Pending\) to settle, in vain/);
  const early = at('o1 o2 n3~ n4', { cleanupSince: now - 20 * 60_000 + 1 }, now);
  t.is(cleanupRolling(early)?.kind, 'wait', 'within the step timeout it still waits');
});

test('Capacity Rebalancing in flight (issue 15 item 6): neither AWS\'s replacement nor its at-risk instance is taken as surge — AWS counts the pair once (chaos seeds 2423331021, 401819533, 2047448330, 3950863662, 3553396595, 627838227)', (t) => {
  // C=3, surge 1. `rN` is AWS's replacement launched "in response to an EC2 instance rebalance
  // recommendation for i-oK" (facts.awsLaunched), on top of desired while oK is live.
  const at = (desired: number, specs: string, aws: Record<string, string | undefined>, before = 'o1 o2 o3') => {
    const v = withFacts(view(group(desired, specs)), before);
    return { ...v, facts: { ...v.facts!, awsLaunched: new Map(Object.entries(aws).map(([k, r]) => [`i-${k}`, r && `i-${r}`])) } };
  };
  const rows: Array<[string, ReturnType<typeof at>, 'cleanup' | 'decide', string]> = [
    ['SIGINT with the step\'s surge n4 and AWS\'s n5 (for o3) both booting: the surge goes, never n5 (terminating it with decrement made AWS scale in a healthy o)', at(4, 'o1 o2 o3 n4~ n5~', { n5: 'o3' }), 'cleanup', 'terminate i-n4 -1'],
    ['AWS\'s activity does not name the at-risk instance: with more live than desired n5 is still AWS\'s in flight', at(4, 'o1 o2 o3 n4~ n5~', { n5: undefined }), 'cleanup', 'terminate i-n4 -1'],
    ['AWS counts the pair o1+n5 once: 3 of desired 4, the surge not launched yet — Launch held first, then lowering desired removes nothing', at(4, 'o1 o2 n3 n5~', { n5: 'o1' }, 'o1 o2'), 'cleanup', 'suspend Launch'],
    ['the at-risk o1 is never the cleanup\'s pick, unhealthy or not (taking it with decrement leaves n5 counted: AWS scales in another): o2 goes', at(4, 'o1! o2 o3 n4 n5', { n5: 'o1' }), 'cleanup', 'terminate i-o2 -1'],
    ['a step never picks the at-risk o1 while its replacement n5 is live: o2 goes', at(4, 'o1 o2 o3 n4 n5', { n5: 'o1' }), 'decide', 'terminate i-o2 -1'],
    ['only the at-risk o1 left outdated: AWS replaces it itself, the step waits', at(4, 'o1 n2 n3 n4 n5', { n5: 'o1' }, 'o1'), 'decide', 'wait'],
    ['rolling back: AWS\'s replacement o5 (launched from the version rolled away from: outdated) is in flight for o1 and serves nothing — it goes WITHOUT decrement, AWS launches anew (chaos seed 2825148527 waited for it for ever)', at(4, 'o1 o2 o3 n4 o5!', { o5: 'o1' }, 'o1 o2 o3 o5'), 'decide', 'terminate i-o5'],
    ['the at-risk instance is gone (interrupted): its replacement is ordinary capacity, not the tool\'s surge — the not-healthy surge n4 goes first', at(4, 'o1 o2 n4~ n5~', { n5: 'o3' }), 'cleanup', 'terminate i-n4 -1'],
    // Nothing outdated left, AWS's Capacity Rebalancing still at work (recommendations faster than
    // AWS works them off keep one pair or another in flight: chaos seed 4223179301 waited 24 h for
    // "17 instances (18 live)"). AWS's work is not the rollout's: done.
    ['finished, AWS\'s pair n3+n5 in flight, n5 healthy, n3 still serving: the pair counts once (3 for desired 3) → done', at(3, 'n1 n2 n3 n5', { n5: 'n3' }), 'decide', 'done'],
    ['finished, AWS\'s replacement n5 for n3 still booting (not the rollout\'s launch; n3 serves) → done', at(3, 'n1 n2 n3 n5~', { n5: 'n3' }), 'decide', 'done'],
    ['finished, the at-risk n3 AWS is taking still drains from the load balancer (AWS\'s termination, not the tool\'s) → done', at(3, 'n1 n2 n3x n5', { n5: 'n3' }), 'decide', 'done'],
    ['finished, surge left (desired 4 for capacity 3) and AWS\'s pair n3+n5 in flight: back to capacity by a pick that is no member of the pair', at(4, 'n1 n2 n3 n4 n5', { n5: 'n3' }), 'decide', 'terminate i-n4 -1'],
    ['finished, one live instance more than desired that is no pair of AWS\'s → still waits to settle', at(3, 'n1 n2 n3 n5', { n6: 'n3' }), 'decide', 'wait'],
    ['finished, the tool\'s own terminated o3 still drains → still waits (even though AWS launched n5 for it earlier)', { ...at(3, 'o3x n1 n2 n5', { n5: 'o3' }), memory: { ...at(3, 'o3x n1 n2 n5', { n5: 'o3' }).memory, terminated: ['i-o3'] } }, 'decide', 'wait'],
  ];
  for (const [why, v, fn, want] of rows) {
    const a = fn === 'cleanup' ? cleanupRolling(v) : decideRolling(v);
    t.is(a ? summary(a) : undefined, want, why);
  }
  const pairs = rebalancePairs(at(4, 'o1 o2 o3 n4~ n5~', { n5: 'o3' }).group, at(4, 'o1 o2 o3 n4~ n5~', { n5: 'o3' }).facts);
  t.deepEqual([[...pairs.replacements], [...pairs.atRisk]], [['i-n5'], ['i-o3']]);
  // AWS's launch is never the tool's own.
  t.false(isOurs(inst('n5'), at(4, 'o1 o2 o3 n5', { n5: 'o3' }).facts));
});

test('decide: back to capacity picks the surplus in the zone with the most live instances, this run\'s own before one that was there, never someone\'s protected one', (t) => {
  const zones = { n1: 'a', n2: 'a', n3: 'b', n4: 'b', n5: 'c' } as Record<string, string>;
  // n3 and n4 in b, n1 n2 in a: b and a tie at 2; n4 (newest in the tie) goes, not n5 (alone in c).
  const g = group(4, 'n1 n2 n3 n4 n5', { availabilityZones: ['a', 'b', 'c'] });
  const placed = { ...g, desired: 5, instances: g.instances.map((i) => ({ ...i, availabilityZone: zones[i.instanceId.slice(2)] })) };
  const v = view(placed, { capacity: 4, minHealthy: 4 });
  t.is(summary(decideRolling(v)), 'terminate i-n4 -1');
  // A run's own launch goes before an instance present at the start, in the same zone.
  const facts = { planned: new Set<string>(), initial: new Set(['i-n4', 'i-n1', 'i-n2', 'i-n5']), recovered: false };
  t.is(summary(decideRolling({ ...v, facts })), 'terminate i-n3 -1');
  // Someone protected n4 from scale-in (not the tool's): it is never the pick.
  const prot = { ...placed, instances: placed.instances.map((i) => (i.instanceId === 'i-n4' ? { ...i, protectedFromScaleIn: true } : i)) };
  t.is(summary(decideRolling({ ...view(prot, { capacity: 4, minHealthy: 4 }), facts: { ...facts, initial: new Set([...facts.initial, 'i-n3']) } })), 'terminate i-n3 -1');
});

test('surplusAtCapacity: a healthy up-to-date instance may go only as surplus once nothing outdated is left', (t) => {
  const at = (desired: number, specs: string, id: string, config: Partial<RollingConfig> = {}, memory: Partial<RollingMemory> = {}) => {
    const v = view(group(desired, specs), config, memory);
    return surplusAtCapacity(v.group.instances.find((i) => i.instanceId === id)!, v);
  };
  t.true(at(4, 'n1 n2 n3 n4', 'i-n4'), '4 live for capacity 3: surplus');
  t.false(at(4, 'o1 n2 n3 n4', 'i-n4'), 'an outdated one is left: it goes, not a new one');
  t.false(at(3, 'n1 n2 n3', 'i-n3'), 'at capacity: none is surplus');
  t.false(at(4, 'n1 n2 n3 n4', 'i-n4', {}, { terminated: ['i-n1'] }), 'one already terminated by the run: 3 left for 3');
  t.false(at(4, 'n1 n2 n3 n4~', 'i-n4'), 'not InService');
  t.true(at(4, 'o1x n2 n3 n4 n5', 'i-n5', {}, { terminated: ['i-o1'] }), 'the outdated one is gone (terminated by the run)');
  // The rule the engine's guard applies: mayTerminate alone refuses a healthy up-to-date instance.
  const v = view(group(4, 'n1 n2 n3 n4'));
  const n4 = v.group.instances[3];
  t.false(mayTerminate(n4, v.group, v.verdict(n4), v.facts));
});

test('decide: an instance someone put back from Standby is waited for until it serves again, at most the step timeout from its return (issue 10, chaos seed 1121815054: done was reported while it was still coming back)', (t) => {
  // o1 outdated, protected (--protected ignore: skipped), just back from Standby and not healthy yet.
  const g = group(4, 'o1! n2 n3 n4');
  const held = { ...g, instances: g.instances.map((i) => (i.instanceId === 'i-o1' ? { ...i, protectedFromScaleIn: true } : i)) };
  const v = view(held, { capacity: 4, minHealthy: 4 });
  t.is(summary(decideRolling(v)), 'done', 'not back from Standby: a skipped instance is not waited for');
  const back = view(held, { capacity: 4, minHealthy: 4 }, { backFromStandby: { 'i-o1': T0 + 3_600_000 - 60_000 } });
  const a = decideRolling(back);
  t.is(a.kind, 'wait');
  if (a.kind === 'wait') t.regex(a.reason, /i-o1 \(put back from Standby by someone else\) to serve again/);
  const long = view(held, { capacity: 4, minHealthy: 4, stepTimeoutMs: 30_000 }, { backFromStandby: { 'i-o1': T0 + 3_600_000 - 60_000 } });
  t.is(summary(decideRolling(long)), 'done', 'past the step timeout from its return: done without it (not the tool\'s)');
});

test('newSpecBroken: the new version is broken when the cap is reached and none passed or most failed; some failing instances are not', (t) => {
  const rows: Array<[number, number, number, boolean]> = [
    // lost, passed, cap → broken
    [0, 0, 2, false],
    [1, 0, 2, false],
    [2, 0, 2, true],
    [2, 1, 2, true],
    [2, 2, 2, false],
    [2, 5, 2, false],
    [6, 5, 2, true],
    [1, 0, 1, true],
  ];
  for (const [lost, passed, cap, broken] of rows) t.is(newSpecBroken(lost, passed, cap), broken, `lost ${lost}, passed ${passed}, cap ${cap}`);
});
