import test from 'ava';
import { limitRatio, physicalLimit } from '../../orchestrator/proof/limit';
import { warmLimit } from '../../orchestrator/proof/warm-bench';

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
});
