/**
 * The report's model, derived from coded events alone (report/timeline.ts), and its chart
 * geometry (report/chart.ts): tables of event streams in the shapes the engines emit
 * (test/roll/command.test.ts and test/report/report.test.ts check those shapes on real runs).
 */
import test from 'ava';
import type { DeployEvent } from '../../orchestrator/report/reporter';
import { buildTimelines, markerKind } from '../../orchestrator/report/timeline';
import { DEFAULT_BOX, layoutBars, layoutTimeline, layoutWeights, stepVertices } from '../../orchestrator/report/chart';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const ev = (s: number, code: string, data: Record<string, unknown> = {}, level: DeployEvent['level'] = 'info', message = code): DeployEvent => ({
  time: new Date(T0 + s * 1000).toISOString(),
  level,
  code,
  message,
  data,
});
const triple = (tl: { points: Array<{ outdated: number; upToDate: number; healthy: number }> }) => tl.points.map((p) => [p.outdated, p.upToDate, p.healthy]);

const rollingPlan = (extra: Record<string, unknown> = {}) =>
  ev(0, 'rollout.plan', {
    asg: 'g',
    strategy: 'rolling',
    capacity: 3,
    surge: 1,
    minHealthy: 2,
    order: [{ instanceId: 'i-1', healthy: true }, { instanceId: 'i-2', healthy: true }, { instanceId: 'i-3', healthy: true }],
    batches: [['i-1'], ['i-2'], ['i-3']],
    ...extra,
  });

test('rolling, surge 1 (3-4-3): counts per change, steps closed at each termination, floor from minHealthy', (t) => {
  const events = [
    rollingPlan(),
    ev(1, 'group.scale', { asg: 'g', from: 3, to: 4 }),
    ev(30, 'instance.launch', { asg: 'g', instanceId: 'i-a' }),
    ev(60, 'instance.healthy', { asg: 'g', instanceId: 'i-a' }),
    ev(61, 'instance.terminate', { asg: 'g', instanceId: 'i-1' }),
    ev(62, 'group.scale', { asg: 'g', from: 3, to: 4 }),
    ev(90, 'instance.launch', { asg: 'g', instanceId: 'i-b' }),
    ev(120, 'instance.healthy', { asg: 'g', instanceId: 'i-b' }),
    ev(120, 'instance.terminate', { asg: 'g', instanceId: 'i-2' }),
    ev(121, 'group.scale', { asg: 'g', from: 3, to: 4 }),
    ev(150, 'instance.launch', { asg: 'g', instanceId: 'i-c' }),
    ev(180, 'instance.healthy', { asg: 'g', instanceId: 'i-c' }),
    ev(181, 'instance.terminate', { asg: 'g', instanceId: 'i-3' }),
    ev(182, 'rollout.done', { asg: 'g', seconds: 182, apiCalls: 40, status: 'done' }),
  ];
  const [tl] = buildTimelines(events);
  t.is(tl.key, 'g');
  t.is(tl.strategy, 'rolling');
  t.is(tl.floor, 2);
  t.is(tl.outcome, 'done');
  t.is(tl.apiCalls, 40);
  t.deepEqual(triple(tl), [
    [3, 0, 3],
    [3, 1, 3],
    [3, 1, 4],
    [2, 1, 3],
    [2, 2, 3],
    [1, 2, 3], // healthy and terminate at the same instant: one point
    [1, 3, 3],
    [1, 3, 4],
    [0, 3, 3],
  ]);
  t.is(tl.lowestHealthy, 3);
  t.deepEqual(
    tl.steps.map((s) => [s.index, s.start - T0, s.seconds]),
    [
      [1, 1000, 60],
      [2, 62_000, 58],
      [3, 121_000, 60],
    ],
  );
  t.deepEqual(tl.markers.filter((m) => m.kind === 'step').map((m) => m.t - T0), [1000, 62_000, 121_000]);
  t.deepEqual(tl.markers.filter((m) => m.kind === 'done').length, 1);
});

test('rolling, surge 0 (3-2-3): the step starts at the termination and ends when the replacement serves; the dip to the floor shows', (t) => {
  const events = [
    rollingPlan({ surge: 0, order: [{ instanceId: 'i-1', healthy: true }, { instanceId: 'i-2', healthy: true }], batches: [['i-1'], ['i-2']] }),
    ev(5, 'instance.terminate', { asg: 'g', instanceId: 'i-1' }),
    ev(40, 'instance.launch', { asg: 'g', instanceId: 'i-a' }),
    ev(70, 'instance.healthy', { asg: 'g', instanceId: 'i-a' }),
    ev(75, 'instance.terminate', { asg: 'g', instanceId: 'i-2' }),
    ev(100, 'instance.launch', { asg: 'g', instanceId: 'i-b' }),
  ];
  const [tl] = buildTimelines(events);
  // capacity 3 with 2 outdated: one up-to-date instance was there before the rollout.
  t.deepEqual(triple(tl), [
    [2, 1, 3],
    [1, 1, 2],
    [1, 2, 2],
    [1, 2, 3],
    [0, 2, 2],
    [0, 3, 2],
  ]);
  t.is(tl.lowestHealthy, 2);
  t.deepEqual(tl.steps.map((s) => [s.start - T0, s.end === undefined ? 'open' : s.end - T0]), [
    [5000, 70_000],
    [75_000, 'open'],
  ]);
  t.is(tl.outcome, 'running', 'no final event: the stream stopped mid-rollout');
});

test('a failure is a failure marker and the outcome; an interrupt (warn rollout.failed) is "interrupted"', (t) => {
  const base = [rollingPlan(), ev(1, 'group.scale', { asg: 'g', from: 3, to: 4 }), ev(30, 'instance.launch', { asg: 'g', instanceId: 'i-a' })];
  const [failed] = buildTimelines([...base, ev(400, 'rollout.failed', { reason: 'step-timeout', target: 'g', seconds: 400, apiCalls: 50 }, 'error', 'g: i-a not healthy after 5m')]);
  t.is(failed.outcome, 'failed');
  t.is(failed.detail, 'g: i-a not healthy after 5m');
  t.deepEqual(failed.markers.filter((m) => m.kind === 'failure').map((m) => m.t - T0), [400_000]);
  t.is(failed.steps[0].end, undefined);
  t.is(failed.steps[0].seconds, 399);
  const [interrupted] = buildTimelines([...base, ev(50, 'rollout.failed', { reason: 'interrupted', target: 'g' }, 'warn', 'interrupted')]);
  t.is(interrupted.outcome, 'interrupted');
});

test('A/B: the active color is outdated and serving until terminated; the floor is its count; steps up, then the drain', (t) => {
  const events = [
    ev(0, 'rollout.plan', { environment: 'web', from: 'web-a', to: 'web-b', count: 2, step: 1 }),
    ev(1, 'group.scale', { asg: 'web-b', from: 0, to: 1 }),
    ev(30, 'instance.launch', { asg: 'web-b', instanceId: 'i-b1' }),
    ev(60, 'instance.healthy', { asg: 'web-b', instanceId: 'i-b1' }),
    ev(61, 'group.scale', { asg: 'web-b', from: 1, to: 2 }),
    ev(90, 'instance.launch', { asg: 'web-b', instanceId: 'i-b2' }),
    ev(120, 'instance.healthy', { asg: 'web-b', instanceId: 'i-b2' }),
    ev(121, 'group.scale', { asg: 'web-a', from: 2, to: 0 }),
    ev(180, 'instance.terminate', { asg: 'web-a', instanceId: 'i-a1' }),
    ev(180, 'instance.terminate', { asg: 'web-a', instanceId: 'i-a2' }),
    ev(420, 'ab.drained', { asg: 'web-a', seconds: 299 }),
    ev(421, 'rollout.done', { environment: 'web', seconds: 421, apiCalls: 60, status: 'done' }),
  ];
  const [tl] = buildTimelines(events);
  t.is(tl.strategy, 'ab');
  t.deepEqual(tl.groups, ['web-a', 'web-b']);
  t.is(tl.floor, 2);
  t.deepEqual(triple(tl), [
    [2, 0, 2],
    [2, 1, 2],
    [2, 1, 3],
    [2, 2, 3],
    [2, 2, 4],
    [0, 2, 2],
  ]);
  t.deepEqual(tl.steps.map((s) => [s.what, s.seconds]), [
    ['web-b 0 → 1', 59],
    ['web-b 1 → 2', 59],
    ['drain web-a 2 → 0', 299],
  ]);
  t.is(tl.outcome, 'done');
});

test('deploy: two services side by side are told apart by their service; a dry run is "planned" with no step', (t) => {
  const events = [
    ev(0, 'rollout.plan', { service: 'rabbit', asg: 'qa-rabbit', capacity: 1, minHealthy: 1, order: [{ instanceId: 'i-1', healthy: true }], batches: [['i-1']] }),
    ev(0, 'rollout.plan', { service: 'web', environment: 'qa-web', from: 'qa-web-a', to: 'qa-web-b', count: 1 }),
    ev(1, 'group.scale', { service: 'web', asg: 'qa-web-b', from: 0, to: 1 }),
    ev(1, 'group.scale', { service: 'rabbit', asg: 'qa-rabbit', from: 1, to: 2 }),
    ev(2, 'rollout.wait', { service: 'web' }, 'warn', 'slow'),
    ev(9, 'instance.launch', { service: 'web', asg: 'qa-web-b', instanceId: 'i-w' }),
    ev(9, 'instance.launch', { service: 'rabbit', asg: 'qa-rabbit', instanceId: 'i-r' }),
  ];
  const [rabbit, web] = buildTimelines(events);
  t.is(rabbit.service, 'rabbit');
  t.deepEqual(triple(rabbit), [[1, 0, 1], [1, 1, 1]]);
  t.deepEqual(triple(web), [[1, 0, 1], [1, 1, 1]]);
  t.deepEqual(web.markers.filter((m) => m.kind === 'warning').length, 1, 'the service-only event is the web timeline\'s');
  const [dry] = buildTimelines([rollingPlan({ dryRun: true }), ev(0, 'rollout.dry-run', { target: 'g' })]);
  t.is(dry.outcome, 'planned');
  t.deepEqual(dry.steps, []);
  t.deepEqual(triple(dry), [[3, 0, 3]]);
});

test('chart: step-line vertices (2 per point), x and y scales, the floor line at min healthy', (t) => {
  const points = [
    { t: T0, outdated: 3, upToDate: 0, healthy: 3 },
    { t: T0 + 30_000, outdated: 2, upToDate: 1, healthy: 3 },
  ];
  t.deepEqual(stepVertices(points, 'outdated', T0 + 60_000), [
    [T0, 3],
    [T0 + 30_000, 3],
    [T0 + 30_000, 2],
    [T0 + 60_000, 2],
  ]);
  const box = { width: 700, height: 110, left: 50, right: 50, top: 5, bottom: 5 }; // plot 600 × 100
  const lay = layoutTimeline(
    { key: 'g', strategy: 'rolling', groups: ['g'], floor: 2, dryRun: false, start: T0, end: T0 + 60_000, points, markers: [{ t: T0 + 15_000, kind: 'step', label: 'step 1' }], steps: [], lowestHealthy: 3, outcome: 'done' },
    box,
  );
  t.is(lay.yMax, 4, 'highest count 3, plus one');
  t.deepEqual(lay.floor, { y: 5 + 100 * (1 - 2 / 4), value: 2 });
  t.deepEqual(lay.markers, [{ x: 50 + 150, kind: 'step', label: 'step 1' }]);
  t.deepEqual(lay.series.map((s) => s.name), ['outdated', 'upToDate', 'healthy']);
  t.deepEqual(lay.series[0].vertices, [
    [50, 30],
    [350, 30],
    [350, 55],
    [650, 55],
  ]);
  t.deepEqual(lay.series[1].values, [0, 1]);
  t.is(DEFAULT_BOX.width > 0, true);
});

test('chart: API calls counted into equal time buckets', (t) => {
  const { bars, yMax } = layoutBars([T0, T0 + 1000, T0 + 59_000, T0 + 60_000], T0, T0 + 60_000, 2);
  t.deepEqual(bars.map((b) => b.count), [2, 2], 'the last instant falls in the last bucket');
  t.is(yMax, 2);
  const one = layoutBars([T0 + 10_000], T0, T0 + 60_000, 3);
  t.deepEqual(one.bars.map((b) => b.count), [1, 0, 0]);
  t.true(one.bars[0].height > 0 && one.bars[1].height === 0);
});

test('rolling: a step closes by count when AWS terminates equally old instances in another order than the plan lists; it names what it replaced', (t) => {
  // The bench's 3-node quorum: all three launched at one moment; the plan lists i-1, i-2, i-3, the tool replaced i-1, i-3, i-2.
  const events = [
    rollingPlan(),
    ev(1, 'group.scale', { asg: 'g', from: 3, to: 4 }),
    ev(30, 'instance.launch', { asg: 'g', instanceId: 'i-a' }),
    ev(60, 'instance.healthy', { asg: 'g', instanceId: 'i-a' }),
    ev(60, 'instance.terminate', { asg: 'g', instanceId: 'i-1' }),
    ev(60, 'group.scale', { asg: 'g', from: 3, to: 4 }),
    ev(90, 'instance.launch', { asg: 'g', instanceId: 'i-b' }),
    ev(120, 'instance.healthy', { asg: 'g', instanceId: 'i-b' }),
    ev(120, 'instance.terminate', { asg: 'g', instanceId: 'i-3' }),
    ev(120, 'group.scale', { asg: 'g', from: 3, to: 4 }),
    ev(150, 'instance.launch', { asg: 'g', instanceId: 'i-c' }),
    ev(180, 'instance.healthy', { asg: 'g', instanceId: 'i-c' }),
    ev(180, 'instance.terminate', { asg: 'g', instanceId: 'i-2' }),
    ev(181, 'rollout.done', { asg: 'g', seconds: 181, apiCalls: 40, status: 'done' }),
  ];
  const [tl] = buildTimelines(events);
  t.deepEqual(tl.steps.map((s) => [s.what, s.start - T0, s.end === undefined ? 'open' : s.end - T0]), [
    ['replace i-1', 1000, 60_000],
    ['replace i-3', 60_000, 120_000],
    ['replace i-2', 120_000, 180_000],
  ]);
  t.deepEqual(tl.markers.filter((m) => m.kind === 'step').map((m) => m.label), ['step 1: replace i-1', 'step 2: replace i-3', 'step 3: replace i-2']);
});

test("A/B: the floor is the active color's size from the plan's fromCount when it differs from the new count", (t) => {
  const [tl] = buildTimelines([
    ev(0, 'rollout.plan', { environment: 'web', from: 'web-a', to: 'web-b', count: 4, fromCount: 2, step: 4 }),
    ev(1, 'group.scale', { asg: 'web-b', from: 0, to: 4 }),
  ]);
  t.is(tl.floor, 2);
  t.deepEqual(triple(tl), [[2, 0, 2]]);
});

test('traffic.shift: weights per color become a shares series (map or list, relative weights), with a traffic marker', (t) => {
  const events = [
    ev(0, 'rollout.plan', { environment: 'web', from: 'web-a', to: 'web-b', count: 2, step: 2 }),
    ev(10, 'traffic.shift', { environment: 'web', weights: { 'web-a': 100, 'web-b': 0 } }),
    ev(40, 'traffic.shift', { environment: 'web', weights: [{ name: 'web-a', weight: 3 }, { name: 'web-b', weight: 1 }] }),
    ev(70, 'traffic.shift', { environment: 'web', weights: { 'web-a': 0, 'web-b': 10 } }),
    ev(80, 'traffic.shift', { environment: 'web', weights: {} }),
    ev(100, 'rollout.done', { environment: 'web', status: 'done' }),
  ];
  const [tl] = buildTimelines(events);
  t.deepEqual(tl.weights!.map((w) => [w.t - T0, w.shares]), [
    [10_000, { 'web-a': 100, 'web-b': 0 }],
    [40_000, { 'web-a': 75, 'web-b': 25 }],
    [70_000, { 'web-a': 0, 'web-b': 100 }],
  ]);
  t.is(tl.markers.filter((m) => m.kind === 'traffic').length, 4, 'every shift is a marker, even one without weights');
  const box = { width: 140, height: 120, left: 20, right: 20, top: 10, bottom: 10 };
  const { lines, yTicks } = layoutWeights(tl, box);
  t.deepEqual(lines.map((l) => [l.name, l.values]), [
    ['web-a', [100, 75, 0]],
    ['web-b', [0, 25, 100]],
  ]);
  // 100 px wide over 100 s; y: 100 % at 10, 0 % at 110.
  t.deepEqual(lines[0].vertices, [[30, 10], [60, 10], [60, 35], [90, 35], [90, 110], [120, 110]]);
  t.deepEqual(yTicks.map((y) => [y.label, y.at]), [['0%', 110], ['50%', 60], ['100%', 10]]);
});

test('markers: checkpoint, bake, alarm, traffic and rollback codes by family; warnings and errors otherwise', (t) => {
  const kinds = ['rollout.checkpoint', 'canary.checkpoint.passed', 'rollout.bake', 'rollout.bake.done', 'alarm.state', 'alarm.halted', 'traffic.shift', 'ab.rolled-back', 'rollout.rollback', 'rollout.wait'].map((c) => markerKind(c, 'info'));
  t.deepEqual(kinds, ['checkpoint', 'checkpoint', 'bake', 'bake', 'alarm', 'alarm', 'traffic', 'rollback', 'rollback', undefined]);
  t.is(markerKind('rollout.wait', 'warn'), 'warning');
  t.is(markerKind('something.else', 'error'), 'failure');
  const [tl] = buildTimelines([rollingPlan(), ev(5, 'rollout.checkpoint', { asg: 'g', after: 1 }), ev(9, 'rollout.bake', { asg: 'g', seconds: 60 })]);
  t.deepEqual(tl.markers.map((m) => [m.kind, m.t - T0]), [['checkpoint', 5000], ['bake', 9000]]);
});
