import test from 'ava';
import { limitRatio, physicalLimit } from '../../orchestrator/proof/limit';

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
