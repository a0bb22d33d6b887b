/**
 * Chaos seed 3147681216 (rolling, crash + re-run, launch configuration, --rollback, NLB target
 * group, an application failing after it passed, throttling): the re-run terminated an outdated
 * instance on a look whose target health had been read 3.4 s before its group read (throttled),
 * after a new instance's target had turned unhealthy: 21 healthy of a floor of 22. A terminate
 * that lowers the healthy count now goes only while the oldest read of its look is at most
 * STALE_DECISION_MS old (engine.ts stalePremise; the rolling look's readAt in rolling/runner.ts).
 * Replay: npm run chaos -- --runs 1 --seed 3147681216 --strategy rolling
 */
import test from 'ava';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

test('chaos seed 3147681216: no terminate on a target-health read older than its look (never below --min-healthy)', async (t) => {
  const s = generateScenario(3147681216, 'rolling');
  t.truthy(s.rollingTargetGroup, 'the seed still draws an NLB target group');
  const r = await runScenario(s);
  t.deepEqual(r.violations, []);
});
