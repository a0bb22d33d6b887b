/**
 * Chaos seed 4223179301 (rolling, 17 instances, surge 0, `--protected wait` with the protection
 * removed later, a mixed instances group with 0 % On-Demand above a base of 2, Capacity Rebalancing
 * with rebalance recommendations at 3 per Spot instance-hour): 15 Spot instances at that rate ask
 * for about 45 replacements an hour, AWS works them off one pair at a time (at max, plus its
 * allowance of one), so one pair or another was always in flight. With nothing outdated left the
 * tool waited for "the ASG to settle at 17 instances (18 live)", then for AWS's replacement to
 * become healthy, then for the at-risk instance AWS took to drain — for 24 simulated hours.
 * AWS's own Capacity Rebalancing is not the rollout's: the pair counts once toward desired, and
 * its replacement and its at-risk instance's drain are not waited for (rolling/strategy.ts,
 * decideRolling, finished path).
 * Replay: npm run chaos -- --runs 1 --seed 4223179301 --strategy rolling
 */
import test from 'ava';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

test('chaos seed 4223179301: AWS\'s endless Capacity Rebalancing after the last step does not keep the rollout waiting to settle', async (t) => {
  const s = generateScenario(4223179301, 'rolling');
  t.true(s.mixed?.capacityRebalance, 'the seed still draws Capacity Rebalancing');
  t.is(s.mixed?.rebalanceRecommendationsPerHour, 3, 'at 3 recommendations per Spot instance-hour');
  const r = await runScenario(s);
  t.deepEqual(r.violations, [], 'npm run chaos -- --runs 1 --seed 4223179301 --strategy rolling');
  t.is(r.exit, 0, 'the rollout finishes');
  t.true(r.simulatedSeconds < 3600, `done within the simulated hour, not after 24 h (${r.simulatedSeconds} s)`);
});
