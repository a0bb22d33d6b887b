/**
 * Chaos seeds found once the adapter read everything after its group read at once (see
 * test/aws/adapter-concurrent-looks.test.ts): another group's look evicted this group's fresh EC2
 * facts from the shared cache while its other reads were in flight.
 * - 563083520 (ab, Standby in the new color, keep-old): an instance in Standby terminated;
 * - 3585160642 (deploy(ab), a slow API, kill -9 and a re-run, Standby in the new color): the old
 *   color drained while the new one served 18 of 19.
 * Replay: npm run chaos -- --runs 1 --seed S --strategy ab
 */
import test from 'ava';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

for (const seed of [563083520, 3585160642]) {
  test(`chaos seed ${seed} (ab): each look keeps its own EC2 facts — no violation`, async (t) => {
    const r = await runScenario(generateScenario(seed, 'ab'));
    t.deepEqual(r.violations, [], `npm run chaos -- --runs 1 --seed ${seed} --strategy ab`);
  });
}
