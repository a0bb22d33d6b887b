/**
 * Canary, checkpoints and bake of a rolling rollout (rollout/rolling/holds.ts) as tables: the
 * holds planned from the options, the bad input, and decideWithHolds — snapshot + hold memory in,
 * Action out.
 */
import test from 'ava';
import type { GroupSnapshot, InstanceView } from '../../orchestrator/aws/port';
import type { Action } from '../../orchestrator/rollout/action';
import { canaryProblem, decideWithHolds, holdCanStart, holdOptionsProblem, planHolds, replacedCount, type HoldMemory, type HoldOptions } from '../../orchestrator/rollout/rolling/holds';
import { ROLLOUT_PROCESSES, baseVerdict, type RollingConfig, type RollingView } from '../../orchestrator/rollout/rolling/strategy';

const NEW = { launchTemplate: { id: 'lt-1', version: 2 } };
const OLD = { launchTemplate: { id: 'lt-1', version: 1 } };
const T0 = Date.parse('2026-01-01T00:00:00Z');
const NOW = T0 + 10 * 3_600_000;
const MIN = 60_000;

/** `o1` old healthy; `n4` new healthy; `n4~` new Pending (not healthy); `o2x` old terminated by this run (Terminating). */
function inst(spec: string): InstanceView {
  const [, kind, n, flag] = /^([on])(\d+)([~x]?)$/.exec(spec)!;
  return {
    instanceId: `i-${kind}${n}`,
    availabilityZone: 'us-east-1a',
    lifecycleState: flag === '~' ? 'Pending' : flag === 'x' ? 'Terminating' : 'InService',
    healthStatus: 'Healthy',
    protectedFromScaleIn: false,
    launchedFrom: kind === 'o' ? OLD : NEW,
    launchTime: T0 + Number(n) * MIN,
    elb: { lb: { state: flag === '~' ? 'OutOfService' : 'InService', reasonCode: 'Instance', description: 'x' } },
  };
}

function group(desired: number, specs: string): GroupSnapshot {
  return {
    name: 'rabbit', observedAt: NOW, desired, min: 0, max: 10, launch: NEW, mixedInstancesPolicy: false, healthCheckType: 'ELB', healthCheckGracePeriod: 300,
    availabilityZones: ['us-east-1a'], suspendedProcesses: ROLLOUT_PROCESSES, loadBalancerNames: ['lb'], targetGroupARNs: [], tags: {},
    instances: specs.split(/\s+/).filter(Boolean).map(inst),
  };
}

/** A group of capacity 5 whose plan was o1..o5; `terminated` lists the ones this run terminated. */
function view(desired: number, specs: string, o: { config?: Partial<RollingConfig>; terminated?: string[] } = {}): RollingView {
  const g = group(desired, specs);
  const firstSeen: Record<string, number> = {};
  for (const i of g.instances) firstSeen[i.instanceId] = NOW - MIN;
  const planned = new Set(['i-o1', 'i-o2', 'i-o3', 'i-o4', 'i-o5']);
  return {
    group: g,
    config: { capacity: 5, surge: 1, batch: 1, minHealthy: 5, stepTimeoutMs: 8 * MIN, maxReplacements: 2, processes: ROLLOUT_PROCESSES, ...o.config },
    verdict: (i) => baseVerdict(i, g.loadBalancerNames),
    memory: { firstSeen, terminated: (o.terminated ?? []).map((x) => `i-${x}`), lost: [] },
    now: NOW,
    facts: { planned, initial: planned, recovered: false },
  };
}

function summary(a: Action): string {
  switch (a.kind) {
    case 'setDesired':
      return `desired ${a.desired}`;
    case 'terminate':
      return `terminate ${a.instanceIds.join(',')}${a.decrement ? ' -1' : ''}`;
    case 'abort':
      return `abort ${a.code}`;
    case 'wait':
      return /holding at/.test(a.reason) ? `hold ${Math.round((a.waitMs ?? 0) / 1000)}s` : /settle before the hold/.test(a.reason) ? 'wait settle' : 'wait';
    default:
      return a.kind;
  }
}

test('planHolds: canary, checkpoints as ceil(P% × planned), merged when they fall on one count, bake last', (t) => {
  const rows: Array<[HoldOptions, number, string]> = [
    [{ canary: 1, checkpoints: [50], bakeMs: 10 * MIN }, 10, 'canary@1 checkpoint-50@5 bake@10'],
    [{ checkpoints: [20, 30, 100], bakeMs: 5 * MIN }, 3, 'checkpoint-20@1 checkpoint-100@3 bake@3'],
    [{ canary: 2, checkpoints: [40] }, 5, 'canary@2'],
    [{ canary: 9 }, 3, 'canary@3'],
    [{ bakeMs: MIN }, 0, ''],
    [{}, 5, ''],
  ];
  for (const [o, total, want] of rows) {
    t.is(planHolds(o, total).map((h) => `${h.id}@${h.after}`).join(' '), want, JSON.stringify({ o, total }));
  }
  t.is(planHolds({ canary: 1 }, 4)[0].waitMs, 5 * MIN, 'a canary without --canary-wait holds the default 5 min');
});

test('bad input: checkpoints not ascending or outside 1–100, a canary below 1 or larger than the group', (t) => {
  const rows: Array<[HoldOptions, RegExp | undefined]> = [
    [{ checkpoints: [20, 50] }, undefined],
    [{ checkpoints: [50, 20] }, /ascending/],
    [{ checkpoints: [20, 20] }, /ascending/],
    [{ checkpoints: [0, 50] }, /0 is not a whole percentage from 1 to 100/],
    [{ checkpoints: [20, 101] }, /101 is not/],
    [{ canary: 0 }, /--canary 0/],
  ];
  for (const [o, want] of rows) {
    const p = holdOptionsProblem(o);
    if (want) t.regex(p ?? '', want, JSON.stringify(o));
    else t.is(p, undefined);
  }
  t.regex(canaryProblem({ canary: 4 }, 3)!, /--canary 4 is larger than the group \(capacity 3\)/);
  t.is(canaryProblem({ canary: 3 }, 3), undefined);
});

// Rows: view, holds options, hold memory (minutes before NOW the hold started) → decision.
const H: HoldOptions = { canary: 1, canaryWaitMs: 5 * MIN, checkpoints: [60], checkpointWaitMs: 2 * MIN, bakeMs: 10 * MIN };
const rows: Array<{ title: string; v: RollingView; o?: HoldOptions; since?: Record<string, number>; settling?: Record<string, number>; want: string }> = [
  { title: 'before the canary, surge 2: the step is cut to the canary (1 launched, not 2)', v: view(5, 'o1 o2 o3 o4 o5', { config: { surge: 2, batch: 2 } }), want: 'desired 6' },
  { title: 'canary instance launched and healthy: the old one goes (the canary step)', v: view(6, 'o1 o2 o3 o4 o5 n6'), want: 'terminate i-o1 -1' },
  { title: 'canary replaced, its hold not started (the runner starts it once settled): wait', v: view(5, 'o1x o2 o3 o4 o5 n6', { terminated: ['o1'] }), want: 'wait settle' },
  { title: 'canary holding for 2 of 5 min: wait the rest, looking again within 10 s', v: view(5, 'o1x o2 o3 o4 o5 n6', { terminated: ['o1'] }), since: { canary: 2 }, want: 'hold 10s' },
  { title: 'canary hold over: the next step, cut to the 60% checkpoint (3 of 5: 2 more), surge 2', v: view(5, 'o2 o3 o4 o5 n6', { config: { surge: 2, batch: 2 }, terminated: ['o1'] }), since: { canary: 6 }, want: 'desired 7' },
  { title: 'canary holding, a new instance unhealthy (the ASG replaced it): nothing more is launched', v: view(5, 'o2 o3 o4 o5 n7~', { terminated: ['o1'] }), since: { canary: 2 }, want: 'hold 10s' },
  { title: 'canary holding, the new instance not healthy past its step timeout: the failure wins', v: { ...view(5, 'o2 o3 o4 o5 n7~', { terminated: ['o1'] }), now: NOW + 9 * MIN }, since: { canary: 2 - 9 }, want: 'abort step-timeout' },
  { title: 'checkpoint 60% reached (3 of 5), holding 1 of 2 min', v: view(5, 'o4 o5 n6 n7 n8', { terminated: ['o1', 'o2', 'o3'] }), since: { canary: 30, 'checkpoint-60': 1 }, want: 'hold 10s' },
  { title: 'checkpoint hold with 4 s left: look again in 4 s', v: view(5, 'o4 o5 n6 n7 n8', { terminated: ['o1', 'o2', 'o3'] }), since: { canary: 30, 'checkpoint-60': 2 - 4 / 60 }, want: 'hold 4s' },
  { title: 'all replaced, settled, bake not started: wait for the runner to start it', v: view(5, 'n6 n7 n8 n9 n10', { terminated: ['o1', 'o2', 'o3', 'o4', 'o5'] }), since: { canary: 30, 'checkpoint-60': 20 }, want: 'wait settle' },
  { title: 'baking 3 of 10 min', v: view(5, 'n6 n7 n8 n9 n10', { terminated: ['o1', 'o2', 'o3', 'o4', 'o5'] }), since: { canary: 30, 'checkpoint-60': 20, bake: 3 }, want: 'hold 10s' },
  { title: 'bake over: done', v: view(5, 'n6 n7 n8 n9 n10', { terminated: ['o1', 'o2', 'o3', 'o4', 'o5'] }), since: { canary: 30, 'checkpoint-60': 20, bake: 10 }, want: 'done' },
  { title: 'last replaced but desired still raised: back to capacity (the surplus picked, with decrement) before the bake', v: view(6, 'n6 n7 n8 n9 n10 n11', { terminated: ['o1', 'o2', 'o3', 'o4', 'o5'] }), since: { canary: 30, 'checkpoint-60': 20 }, want: 'terminate i-n11 -1' },
  {
    title: 'AWS took a planned outdated instance (o1, a Spot interruption) after the canary step launched its surge: the count is at the canary with desired raised; the step in flight finishes (the oldest outdated goes, with decrement) instead of waiting forever',
    v: view(6, 'o2 o3 o4 o5 n6 n7'),
    want: 'terminate i-o2 -1',
  },
  {
    title: 'surge 3: AWS took two planned outdated instances (o2, o3: Spot interruptions) while the step to the checkpoint ran with desired raised by 1; the count is at the checkpoint with desired still raised: the step in flight finishes (the oldest outdated goes, with decrement), not a wait to settle that could never end (chaos seed 2052541170 of 2027 waited 24 h)',
    v: view(6, 'o4 o5 n6 n7 n8 n9', { config: { surge: 3, batch: 3 }, terminated: ['o1'] }),
    since: { canary: 30 },
    want: 'terminate i-o4 -1',
  },
  {
    title: 'at the checkpoint, not settled (a new instance Pending) for longer than the step timeout since the tool reached it: fails like a step (step-timeout), not a wait without end',
    v: view(5, 'o4 o5 n6 n7 n8~', { terminated: ['o1', 'o2', 'o3'] }),
    since: { canary: 30 },
    settling: { 'checkpoint-60': 9 },
    want: 'abort step-timeout',
  },
  {
    title: 'at the checkpoint, not settled yet, within the step timeout since reached: wait to settle',
    v: view(5, 'o4 o5 n6 n7 n8~', { terminated: ['o1', 'o2', 'o3'] }),
    since: { canary: 30 },
    settling: { 'checkpoint-60': 7 },
    want: 'wait settle',
  },
  { title: 'no holds: decideRolling as it is (surge 2 launches 2)', v: view(5, 'o1 o2 o3 o4 o5', { config: { surge: 2, batch: 2 } }), o: {}, want: 'desired 7' },
];
for (const r of rows) {
  test(`decideWithHolds: ${r.title}`, (t) => {
    const o = r.o ?? H;
    const holds = planHolds(o, 5);
    const memory: HoldMemory = {};
    for (const [id, minutesAgo] of Object.entries(r.since ?? {})) memory[id] = NOW - minutesAgo * MIN;
    const settling: HoldMemory = {};
    for (const [id, minutesAgo] of Object.entries(r.settling ?? {})) settling[id] = NOW - minutesAgo * MIN;
    t.is(summary(decideWithHolds(r.v, holds, memory, settling)), r.want);
  });
}

test('decideWithHolds: the settle-before-hold timeout says which hold and what is unsettled', (t) => {
  const v = view(6, 'o4 o5 n6 n7 n8~ n9', { terminated: ['o1', 'o2', 'o3'] });
  const a = decideWithHolds(v, planHolds(H, 5), { canary: NOW - 30 * MIN }, { 'checkpoint-60': NOW - 9 * MIN });
  t.is(a.kind, 'abort');
  t.regex((a as { reason: string }).reason, /^rabbit: not settled at the checkpoint 60% \(3 of 5 replaced\) after 540 s \(--step-timeout 480 s\): desired 6 above capacity 5; i-n8 not healthy \(asg Pending\)$/);
});

test('replacedCount and holdCanStart: a hold starts its clock only once the group is settled at its point', (t) => {
  const holds = planHolds(H, 5);
  const canary = holds[0];
  const unsettled = view(6, 'o1x o2 o3 o4 o5 n6 n7~', { terminated: ['o1'] });
  t.is(replacedCount(unsettled), 1);
  t.false(holdCanStart(unsettled, canary), 'a new instance still Pending');
  t.true(holdCanStart(view(5, 'o1x o2 o3 o4 o5 n6', { terminated: ['o1'] }), canary));
  const bake = holds[holds.length - 1];
  t.false(holdCanStart(view(6, 'n6 n7 n8 n9 n10 n11', { terminated: ['o1', 'o2', 'o3', 'o4', 'o5'] }), bake), 'desired still raised');
  t.true(holdCanStart(view(5, 'n6 n7 n8 n9 n10', { terminated: ['o1', 'o2', 'o3', 'o4', 'o5'] }), bake));
});
