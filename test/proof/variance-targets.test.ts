/**
 * The engine meets its targets under variance (issue 21 item 3): on every variance scenario
 * (orchestrator/proof/variance.ts: boots 60–180 s uniform or log-normal, the ELB's check phase
 * drawn per registration, 10 seeds), the ratio to each run's drawn limit is ≤ 1.03 in the median
 * and ≤ 1.10 at worst; at batch 10 ≤ 4 API calls per replaced instance, at batch 1 ≤ 15 in the
 * median (14.3–15.0 since the looks while Pending start later and the last drain is looked at
 * evenly up to its end; 15.0–15.5 before, 17.7–18.3 before the InService moment was pinned from
 * the launch activities: docs/proof.md says where they go).
 */
import test from 'ava';
import { runVariance, VARIANCE_SCENARIOS, VARIANCE_SEEDS } from '../../orchestrator/proof/variance';
import { runWarm, WARM_SCENARIO } from '../../orchestrator/proof/warm-bench';

const median = (xs: number[]) => {
  const a = [...xs].sort((x, y) => x - y);
  return a.length % 2 ? a[(a.length - 1) / 2] : (a[a.length / 2 - 1] + a[a.length / 2]) / 2;
};

for (const s of VARIANCE_SCENARIOS) {
  test(`engine under variance: ${s.name}, ${s.bootLabel}: ratio ≤ 1.03 median, ≤ 1.10 worst over ${VARIANCE_SEEDS} seeds`, async (t) => {
    const ratios: number[] = [];
    const calls: number[] = [];
    for (let seed = 1; seed <= VARIANCE_SEEDS; seed++) {
      const r = await runVariance(s, seed, 'engine');
      t.is(r.error, undefined, `seed ${seed}: ${r.error}`);
      t.is(r.replaced, s.size);
      ratios.push(r.seconds! / r.limitSeconds);
      calls.push(r.apiCalls / r.replaced);
    }
    t.log(`ratio median ${median(ratios).toFixed(3)}, worst ${Math.max(...ratios).toFixed(3)}; calls/instance median ${median(calls).toFixed(1)}, worst ${Math.max(...calls).toFixed(1)}`);
    t.true(median(ratios) <= 1.03, `median ratio ${median(ratios)}`);
    t.true(Math.max(...ratios) <= 1.1, `worst ratio ${Math.max(...ratios)}`);
    if (s.batch >= 10) t.true(Math.max(...calls) <= 4, `calls per instance ${calls.join(', ')}`);
    else t.true(median(calls) <= 15, `calls per instance median ${median(calls)}`);
  });
}

test(`engine on the warm-pool scenario (issue 15 item 3): ratio ≤ 1.03 median, ≤ 1.10 worst over ${VARIANCE_SEEDS} seeds, calls per instance ≤ 15 in the median`, async (t) => {
  // Before the end looked at the pool alone on the cold boots and warm starts' pass windows briskly: median 1.039.
  const ratios: number[] = [];
  const calls: number[] = [];
  for (let seed = 1; seed <= VARIANCE_SEEDS; seed++) {
    const r = await runWarm(WARM_SCENARIO, seed, 'engine');
    t.is(r.error, undefined, `seed ${seed}: ${r.error}`);
    ratios.push(r.seconds! / r.limitSeconds);
    calls.push(r.apiCalls / r.replaced);
  }
  t.log(`ratio median ${median(ratios).toFixed(3)}, worst ${Math.max(...ratios).toFixed(3)}; calls/instance median ${median(calls).toFixed(1)}`);
  t.true(median(ratios) <= 1.03, `median ratio ${median(ratios)}`);
  t.true(Math.max(...ratios) <= 1.1, `worst ratio ${Math.max(...ratios)}`);
  t.true(median(calls) <= 15, `calls per instance median ${median(calls)}`);
});
