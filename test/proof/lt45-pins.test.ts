/**
 * Chaos seed 1482414799 (rolling, 41 instances, surge 9, bad image, kill -9 and re-run, a launch
 * template version published mid-run, --rollback): the crashed run left its step's surge (version
 * 2, never healthy) with desired 50. The re-run recovered it as its own, then the template moved
 * to version 3 and the re-run halted. Its cleanup took its own new surge (version 3) but not the
 * crashed run's: outdated now, and not in the plan (up to date at the re-run's start), so neither
 * "up to date and not healthy" nor "launched by this run" — desired and max were left at 45 for
 * capacity 41, with the restore tag. A recovered run's launches, outdated only by the mid-run
 * template change, are now the tool's like this run's own (rolling/strategy.ts mayTerminate,
 * ownOutdatedLaunch).
 * Replay: npm run chaos -- --runs 1 --seed 1482414799 --strategy rolling
 */
import test from 'ava';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

test('chaos seed 1482414799: a re-run after a kill -9 whose launch template changed mid-run takes back the crashed run\'s failed surge (no desired/max/restore tag left)', async (t) => {
  const s = generateScenario(1482414799, 'rolling');
  t.is(s.interruption.kind, 'crash', 'the seed still draws a kill -9');
  const r = await runScenario(s);
  t.deepEqual(r.violations, [], 'npm run chaos -- --runs 1 --seed 1482414799 --strategy rolling');
  t.is(r.attempts.length, 2, 'the crashed run and one re-run');
  t.regex(r.attempts[1]?.message ?? '', /the launch template changed during the rollout/, 'the re-run halts on the template change');
  t.notRegex(r.attempts[1]?.message ?? '', /restore incomplete|desired left/, 'and restores everything');
});
