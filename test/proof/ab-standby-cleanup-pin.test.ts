/**
 * Chaos seed 250744406 (deploy(ab), Standby in the new color, SIGINT mid-growth while the old
 * color was short): the interrupt's scale-back keeps stand-ins of the new color and removes its
 * not-serving instances first (terminate with decrement) — and took someone's instance in Standby
 * for one of them: "not serving" yes, but not the tool's (docs/commands/ab.md: Standby instances are
 * never terminated). The pick and the engine's guard (runner.ts mayTerminate) now leave Standby
 * instances alone. It appeared once concurrent looks changed the order of the sandbox's calls.
 * Replay: npm run chaos -- --runs 1 --seed 250744406 --strategy ab
 */
import test from 'ava';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

test('chaos seed 250744406 (ab): the interrupt\'s scale-back never terminates someone\'s instance in Standby', async (t) => {
  const s = generateScenario(250744406, 'ab');
  t.like(s, { abStandby: { color: 'target' }, interruption: { kind: 'sigint' } });
  const r = await runScenario(s);
  t.deepEqual(r.violations, [], 'npm run chaos -- --runs 1 --seed 250744406 --strategy ab');
});
