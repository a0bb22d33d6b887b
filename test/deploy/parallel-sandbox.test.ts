/**
 * Behaviour of `deploy --parallel` on a stack of 6 independent services on the simulated AWS (real
 * engines, virtual clock): --parallel 6 rolls the services out concurrently (their rollouts
 * overlap in simulated time), --parallel 1 one after the other. The performance target (≤ 1.1×
 * the slowest rollout) is judged by the bench (`npm run bench`, orchestrator/proof/parallel-bench.ts),
 * not here.
 */
import test from 'ava';
import { PARALLEL_SERVICES, deployV2 } from '../../orchestrator/proof/parallel-bench';

test('deploy --parallel 6 rolls 6 independent services out concurrently; --parallel 1 one after the other', async (t) => {
  const one = await deployV2(1);
  const six = await deployV2(6);
  for (const r of [...one.rows, ...six.rows]) t.is(r.result, 'done', `${r.service}: ${r.detail}`);
  t.deepEqual(six.rows.map((r) => r.service).sort(), PARALLEL_SERVICES);
  const sum = (rows: typeof one.rows) => rows.reduce((a, r) => a + r.seconds, 0);
  const slowest = Math.max(...six.rows.map((r) => r.seconds));
  // Sequential: the deploy lasts at least as long as its rollouts laid end to end.
  t.true(one.seconds >= sum(one.rows), `--parallel 1: ${one.seconds}s < Σ rollouts ${sum(one.rows)}s`);
  // Concurrent: the rollouts overlap, so the deploy is shorter than the slowest and the fastest laid end to end.
  const fastest = Math.min(...six.rows.map((r) => r.seconds));
  t.true(six.seconds < slowest + fastest, `--parallel 6: ${six.seconds}s ≥ slowest ${slowest}s + fastest ${fastest}s: rollouts did not overlap`);
});
