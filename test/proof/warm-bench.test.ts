/**
 * The bench's warm-pool scenario (issue 15 item 3, orchestrator/proof/warm-bench.ts): a rolling
 * rollout of a group whose replacements come from its warm pool. The polling schedules a warm start
 * on warm starts: before, it looked at each warmed instance a cold boot later (ratio 1.36–1.97).
 */
import test from 'ava';
import { runWarm, WARM_SCENARIO, warmMarkdown, type WarmRowResult } from '../../orchestrator/proof/warm-bench';

test('warm pool: the engine draws replacements from the pool and stays within 1.10 of the limit drawn for each seed', async (t) => {
  for (const seed of [1, 3, 4]) {
    const r = await runWarm(WARM_SCENARIO, seed, 'engine');
    t.is(r.error, undefined, `seed ${seed}`);
    t.is(r.replaced, WARM_SCENARIO.size, `seed ${seed}`);
    t.true(r.fromPool > 0, `seed ${seed}: some replacements came from the pool`);
    t.true(r.seconds! / r.limitSeconds <= 1.1, `seed ${seed}: ratio ${(r.seconds! / r.limitSeconds).toFixed(3)}`);
    t.true(r.seconds! / r.limitSeconds >= 1, `seed ${seed}: the limit is a lower bound`);
  }
});

test('warm pool: the baseline draws the old version back from the pool (more replacements than instances)', async (t) => {
  const r = await runWarm(WARM_SCENARIO, 1, 'baseline');
  t.is(r.error, undefined);
  t.true(r.replaced > WARM_SCENARIO.size);
  t.is(r.fromPool, r.joined);
});

test('warmMarkdown: the table judges the engine against the variance targets and says MISSED', (t) => {
  const row: WarmRowResult = {
    scenario: WARM_SCENARIO,
    seeds: 2,
    cells: [
      { tool: 'engine', ratios: [1.02, 1.2], seconds: [600, 700], callsPerInstance: [13, 14], errors: [] },
      { tool: 'baseline', ratios: [1.5, 1.5], seconds: [900, 900], callsPerInstance: [8, 8], errors: [] },
    ],
    drawn: { engine: { fromPool: 12, joined: 20 }, baseline: { fromPool: 30, joined: 30 } },
  };
  const md = warmMarkdown(row);
  t.regex(md, /## A group with a warm pool/);
  t.regex(md, /MISSED: median ratio 1\.110 > 1\.03; worst ratio 1\.200 > 1\.1/);
  t.regex(md, /12 of 20/);
});
