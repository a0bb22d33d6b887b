import test from 'ava';
import { drawnLimit, limitRatio, physicalLimit, timeAboveLimit } from '../../orchestrator/proof/limit';
import { runVariance, VARIANCE_SCENARIOS } from '../../orchestrator/proof/variance';
import { runWarm, WARM_SCENARIO, warmLimit } from '../../orchestrator/proof/warm-bench';

const elb = { interval: 10, healthyThreshold: 3 };

const cases: Array<{ name: string; input: Parameters<typeof physicalLimit>[0]; total: number; batches: number }> = [
  { name: '3-node quorum, batch 1, boot 90', input: { replace: 3, batchSize: 1, bootSeconds: 90, healthCheck: elb, drainSeconds: 0 }, total: 360, batches: 3 },
  { name: '100 instances, batch 10', input: { replace: 100, batchSize: 10, bootSeconds: 90, healthCheck: elb, drainSeconds: 0 }, total: 1200, batches: 10 },
  { name: 'A/B 8, draining 300', input: { replace: 8, batchSize: 8, bootSeconds: 90, healthCheck: elb, drainSeconds: 300 }, total: 420, batches: 1 },
  { name: 'partial last batch costs a whole batch', input: { replace: 7, batchSize: 3, bootSeconds: 90, healthCheck: elb, drainSeconds: 0 }, total: 360, batches: 3 },
  { name: 'nothing to replace costs nothing, not even the drain', input: { replace: 0, batchSize: 1, bootSeconds: 90, healthCheck: elb, drainSeconds: 300 }, total: 0, batches: 0 },
  { name: 'per-batch boot times', input: { replace: 2, batchSize: 1, bootSeconds: (i) => (i === 0 ? 60 : 100), healthCheck: { interval: 5, healthyThreshold: 2 }, drainSeconds: 30 }, total: 70 + 110 + 30, batches: 2 },
];

for (const c of cases) {
  test(`physicalLimit: ${c.name}`, (t) => {
    const r = physicalLimit(c.input);
    t.is(r.total, c.total);
    t.is(r.batches, c.batches);
  });
}

test('physicalLimit rejects a zero batch size', (t) => {
  t.throws(() => physicalLimit({ replace: 3, batchSize: 0, bootSeconds: 90, healthCheck: elb, drainSeconds: 0 }), { instanceOf: RangeError });
});

test('limitRatio rounds to 3 decimals and treats an empty limit as 1', (t) => {
  t.is(limitRatio(372, 360), 1.033);
  t.is(limitRatio(360, 360), 1);
  t.is(limitRatio(5, 0), 1);
});

const ms = (x: number) => x * 1000;

test('timeAboveLimit, surge 0 with draining (the seed\'s 3-2-3): the last drain overlaps the last boot and is not "healthy → next action"', (t) => {
  // Terminate (no decrement) at 0, 125, 250 s; the ASG launches 1 s later; each 120 s launch → healthy;
  // the last old instance drains 300 s from 250 s; the tool restores and returns at 552 s.
  const spans = [{ launched: ms(1), healthy: ms(121) }, { launched: ms(126), healthy: ms(246) }, { launched: ms(251), healthy: ms(371) }];
  const changes = [0, ms(125), ms(250), ms(552)];
  const limit = drawnLimit(spans, { drainSeconds: 300, terminateFirst: true }).seconds;
  t.is(limit, 540);
  const a = timeAboveLimit(spans, changes, { t0: 0, end: ms(552), drainSeconds: 300, terminateFirst: true });
  // The last launch's 1 s lies within the drain (it started with the terminate at 250 s): 552 − 550 = 2 s beyond it.
  t.deepEqual(a, { launch: 2, detection: 8, tail: 2 });
  t.is(a.launch + a.detection + a.tail, 552 - limit);
});

test('timeAboveLimit, launch first with draining: the last pass → the terminate is noticing, then only what outlasts the drain', (t) => {
  const spans = [{ launched: ms(1), healthy: ms(121) }, { launched: ms(125), healthy: ms(245) }];
  // Raise at 0; terminate + raise at 124; the last terminate (decrement) at 247; drained and returned at 548.
  const changes = [0, ms(124), ms(124), ms(247), ms(548)];
  const limit = drawnLimit(spans, { drainSeconds: 300, terminateFirst: false }).seconds;
  t.is(limit, 540);
  const a = timeAboveLimit(spans, changes, { t0: 0, end: ms(548), drainSeconds: 300, terminateFirst: false });
  t.deepEqual(a, { launch: 2, detection: 5, tail: 1 });
  t.is(a.launch + a.detection + a.tail, 548 - limit);
});

test('where the time goes on a real 3-2-3 run (surge 0, draining 300 s): the parts add up to the time above the drawn limit', async (t) => {
  const s = VARIANCE_SCENARIOS.find((x) => x.surge === 0 && x.drain > 0)!;
  const r = await runVariance(s, 1, 'engine');
  t.truthy(r.spent && r.seconds !== undefined);
  const over = r.seconds! - r.limitSeconds;
  const sum = r.spent!.launch + r.spent!.detection + r.spent!.tail;
  t.true(Math.abs(sum - over) < 1, `parts ${JSON.stringify(r.spent)} vs ${over.toFixed(1)} s above the limit`);
  // Before the fix the last drain (≈ 190 s) was counted as "healthy → next action".
  t.true(r.spent!.detection < 30, `detection ${r.spent!.detection} s`);
});

test('warmLimit: the batches back to back, or a refill of the warm pool that could not end before (started once the batches it followed had served)', (t) => {
  const s = (x: number) => x * 1000;
  const o = { drainSeconds: 0, terminateFirst: false };
  // Batches 0→45 s and 50→90 s (spans 45 and 40 s).
  const group = [{ launched: 0, healthy: s(45) }, { launched: s(50), healthy: s(90) }];
  t.is(warmLimit(group, [], o).seconds, 85);
  // A 100-s refill at the start: 0 + 100.
  t.is(warmLimit(group, [{ launched: s(1), healthy: s(101) }], o).seconds, 100);
  // A 110-s refill started after both served: 85 + 110.
  t.is(warmLimit(group, [{ launched: s(1), healthy: s(101) }, { launched: s(95), healthy: s(205) }], o).seconds, 195);
  // Started after the first served only: 45 + 50 = 95 > 85.
  t.is(warmLimit(group, [{ launched: s(47), healthy: s(97) }], o).seconds, 95);
  // A refill never warmed is left out.
  t.is(warmLimit(group, [{ launched: s(95) }], o).seconds, 85);
  // The refill that binds is named (where the time goes splits the run at it); none when the batches bind.
  t.deepEqual(warmLimit(group, [{ launched: s(1), healthy: s(101) }, { launched: s(95), healthy: s(205) }], o).refill, { launched: s(95), healthy: s(205) });
  t.is(warmLimit(group, [{ launched: s(1), healthy: s(50) }], o).refill, undefined);
});

test('timeAboveLimit with a warm pool\'s refill binding: the batches before its launch as usual, AWS\'s loop up to its launch, its end → the run\'s end as the tail; the parts add up', (t) => {
  // Batches 1 → 121 s and 126 → 166 s (the tool's changes at 0, 125); the last terminate (decrement)
  // at 170 s; the group's loop launches the refill into the pool at 175 s, warmed at 300 s; done at 310 s.
  const group = [{ launched: ms(1), healthy: ms(121) }, { launched: ms(126), healthy: ms(166) }];
  const refills = [{ launched: ms(1), healthy: ms(100) }, { launched: ms(175), healthy: ms(300) }];
  const o = { drainSeconds: 0, terminateFirst: false };
  const limit = warmLimit(group, refills, o);
  t.is(limit.seconds, 160 + 125);
  const a = timeAboveLimit(group, [0, ms(125), ms(170), ms(310)], { t0: 0, end: ms(310), ...o, refill: limit.refill });
  t.deepEqual(a, { launch: 1 + 1 + 5, detection: 4 + 4, tail: 10 });
  t.is(a.launch + a.detection + a.tail, 310 - limit.seconds);
});

test('where the time goes on a real warm-pool run: the parts add up to the time above the warm row\'s own limit, not the group\'s', async (t) => {
  for (const seed of [1, 5]) {
    const r = await runWarm(WARM_SCENARIO, seed, 'engine');
    t.truthy(r.spent && r.seconds !== undefined);
    const over = r.seconds! - r.limitSeconds;
    const sum = r.spent!.launch + r.spent!.detection + r.spent!.tail;
    // Before: the pool's launches counted as the group's batches and the refill's wait (≈ 190 s) as the tail.
    t.true(Math.abs(sum - over) < 1, `seed ${seed}: parts ${JSON.stringify(r.spent)} vs ${over.toFixed(1)} s above the limit`);
  }
});
