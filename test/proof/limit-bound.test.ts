/**
 * The limit is a true lower bound (issue 21 item 1): for every shape the bench runs — surge 1,
 * surge 0 with draining, batches — with boots drawn from a spread and the ELB's check phase drawn
 * per registration, no run goes below the limit computed from what the simulation drew for it:
 * not the engine, not the 30-s baseline, not a brute-force "oracle" (the engine polling every
 * second, which sees every change within a second, as if it knew each boot time).
 */
import test from 'ava';
import { drawnLimit, physicalLimit } from '../../orchestrator/proof/limit';
import { runVariance, UNIFORM, LONG_TAIL, type VarianceScenario, type VarianceTool } from '../../orchestrator/proof/variance';

test('drawnLimit: per batch its slowest launch → serving, sequential; surge ≥ 1 adds the last drain, surge 0 overlaps it', (t) => {
  const s = (x: number) => x * 1000;
  // 3 batches of one, 120 s each, back to back.
  const three = [0, 130, 260].map((a) => ({ launched: s(a), healthy: s(a + 120) }));
  t.deepEqual(drawnLimit(three, { drainSeconds: 0, terminateFirst: false }), { seconds: 360, batches: 3 });
  t.deepEqual(drawnLimit(three, { drainSeconds: 300, terminateFirst: false }), { seconds: 660, batches: 3 });
  // Surge 0: the last drain overlaps the last boot: 120 + 120 + max(300, 120) = 540 (the 0.82 case).
  t.deepEqual(drawnLimit(three, { drainSeconds: 300, terminateFirst: true }), { seconds: 540, batches: 3 });
  t.deepEqual(drawnLimit(three, { drainSeconds: 60, terminateFirst: true }), { seconds: 360, batches: 3 });
  // A batch of two launched together: its slowest instance ends it; a failed boot bounds nothing.
  const batch = [
    { launched: 0, healthy: s(100) },
    { launched: 0, healthy: s(150) },
    { launched: 0 },
  ];
  t.deepEqual(drawnLimit(batch, { drainSeconds: 0, terminateFirst: false }), { seconds: 150, batches: 1 });
  // Overlapping spans (a replacement launched during a batch) count once: the union.
  t.is(drawnLimit([{ launched: 0, healthy: s(100) }, { launched: s(50), healthy: s(160) }], { drainSeconds: 0, terminateFirst: false }).seconds, 160);
  t.deepEqual(drawnLimit([], { drainSeconds: 300, terminateFirst: true }), { seconds: 0, batches: 0 });
});

test('A/B traffic steps (issue 14): the holds follow the new color serving and come before the old color drains', (t) => {
  const s = (x: number) => x * 1000;
  // 8 instances launched together, the slowest serving after 120 s; steps 10, 50, 100 holding 60 s: 2 holds.
  const color = Array.from({ length: 8 }, (_, i) => ({ launched: 0, healthy: s(110 + i) }));
  t.deepEqual(drawnLimit(color, { drainSeconds: 300, terminateFirst: false, holdSeconds: 120 }), { seconds: 117 + 120 + 300, batches: 1 });
  t.deepEqual(drawnLimit([], { drainSeconds: 300, terminateFirst: false, holdSeconds: 120 }), { seconds: 0, batches: 0 }, 'nothing served: no hold either');
  const limit = physicalLimit({ replace: 8, batchSize: 8, bootSeconds: 90, healthCheck: { interval: 10, healthyThreshold: 3 }, drainSeconds: 300, holdSeconds: 120 });
  t.like(limit, { batches: 1, hold: 120, drain: 300, total: 90 + 30 + 120 + 300 });
});

test('the constant-boot formula says 660 s for surge 0 with draining, which a rollout overlapping its drains beats: it is not the bound there', (t) => {
  t.is(physicalLimit({ replace: 3, batchSize: 1, bootSeconds: 90, healthCheck: { interval: 10, healthyThreshold: 3 }, drainSeconds: 300 }).total, 660);
});

const SHAPES: VarianceScenario[] = [
  { name: 'surge 1', size: 3, batch: 1, surge: 1, drain: 0, boot: UNIFORM, bootLabel: 'uniform', baseline: true },
  { name: 'surge 1, draining', size: 3, batch: 1, surge: 1, drain: 60, boot: LONG_TAIL, bootLabel: 'long tail', baseline: true },
  { name: 'surge 0, draining', size: 3, batch: 1, surge: 0, drain: 300, boot: UNIFORM, bootLabel: 'uniform', baseline: true },
  { name: 'batches of 3', size: 9, batch: 3, surge: 3, drain: 0, boot: UNIFORM, bootLabel: 'uniform', baseline: false },
];

for (const shape of SHAPES) {
  test(`no run goes below its drawn limit: ${shape.name} (engine, 30-s baseline, 1-s oracle; 3 seeds, random ELB phase)`, async (t) => {
    const tools: VarianceTool[] = shape.baseline ? ['engine', 'oracle', 'baseline'] : ['engine', 'oracle'];
    for (const seed of [1, 2, 3]) {
      for (const tool of tools) {
        const r = await runVariance(shape, seed, tool);
        t.is(r.error, undefined, `${tool} seed ${seed}: ${r.error}`);
        t.is(r.replaced, shape.size);
        t.true(r.limitSeconds > 0);
        t.true(r.seconds! >= r.limitSeconds, `${tool} seed ${seed}: ${r.seconds} s < limit ${r.limitSeconds} s`);
      }
    }
  });
}
