/**
 * A rolling chaos run judged wrongly (issues 10/15), pinned whole, and proof that the checker's
 * corrected rule still catches the defect it guards against.
 *
 * - 121250190 (rolling, size 15, surge 5, --rollback, protected:ignore+unprotect, Capacity
 *   Rebalancing, max lifetime): the forward run timed out; its cleanup took the surge back — its own
 *   failed launches, the last two outdated (version 1) instances, then, nothing outdated left, one
 *   surplus healthy version-2 instance with decrement (strategy.ts cleanupBackToCapacity), 15 live
 *   after — and only then did the rollback set the group back to version 1. The tool's pick was
 *   sound at that instant: the group ran version 2, nothing outdated was live. The checker judged
 *   "up to date" at the instant (version 2) but "outdated left" against the group's launch
 *   template at the END of the run (version 1, after the rollback): every live version-2 instance
 *   counted as an outdated one the tool could have taken instead (checker fixed: run.ts
 *   `surplusAt` judges against the launch that was current when the pick was made).
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { DeployError } from '../../orchestrator/errors';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';
import { rollingScenario } from '../helpers/chaos-scenario';

test.serial('chaos seed 121250190 (rolling, --rollback) passes: the cleanup’s surplus pick before the rollback is judged against the version current then (checker)', async (t) => {
  const r = await runScenario(generateScenario(121250190, 'rolling'));
  t.deepEqual(r.violations, [], 'npm run chaos -- --runs 1 --seed 121250190 --strategy rolling');
  t.is(r.exit, 1);
  t.is(r.attempts[0].rollback, 'done');
});

test.serial('sabotage: a healthy new instance taken "as surplus" while outdated ones still run, then the group set back to version 1 — still caught (terminated-healthy-up-to-date)', async (t) => {
  // Fault-free: 4 instances on version 1, the group on version 2, --rollback.
  const s = rollingScenario({}, { holds: undefined, rollback: true, tags: ['rollback'] });
  let victim: string | undefined;
  const r = await runScenario(s, {
    tool: async (i) => {
      const w = i.sandbox.world;
      const g = w.state.groups[i.target];
      const port = createAwsPort(i.clients, i.sandbox.clock);
      const { desired, max } = g;
      // One surge instance of version 2, left to become healthy.
      await port.updateSizes(i.target, { max: desired + 1, desired: desired + 1 });
      await i.sandbox.clock.sleep(600_000);
      const fresh = w.groupInstances(g).find((x) => w.isActive(x) && w.isUpToDate(x, g) && w.isHealthy(x));
      if (!fresh) throw new Error('sabotage: no healthy version-2 instance after 600 s');
      victim = fresh.id;
      // The defect: the healthy up-to-date instance goes with decrement while the four outdated
      // (version 1) instances it could have taken instead still run. Then the group is set back to
      // version 1: at the end every live instance runs it, so judged against the final launch
      // template nothing "outdated" was left at the pick.
      await port.terminateInstance(fresh.id, true);
      await port.setGroupLaunch!(i.target, { launchTemplate: { id: w.findLaunchTemplate({ name: `${i.target}-lt` })!.id, version: 1 } });
      await port.updateSizes(i.target, { max });
      await i.sandbox.clock.sleep(600_000);
      throw new DeployError('alarm', `${i.target}: alarm went into ALARM; rolled back`, { exit: 1, data: { rollback: { status: 'done' } } });
    },
  });
  t.truthy(victim);
  t.true(
    r.violations.some((v) => v.code === 'terminated-healthy-up-to-date' && v.message.includes(victim!)),
    JSON.stringify(r.violations),
  );
});
