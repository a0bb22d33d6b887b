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

/**
 * Chaos seed 1277985329 (ab, someone's Standby in the OLD color, SIGINT mid-growth): the interrupt
 * kept a stand-in of the new color for the old color's missing instance and said "re-run the same
 * command" (exit 130) — the documented outcome a halt has too (docs/commands/ab.md), but the checker
 * judged the leftovers right after exit 130 and flagged the swap record and the new color's desired
 * 1. Now an interrupt that kept stand-ins (with the old color still short by at least as many) is
 * judged after the operator's one re-run, as such a halt is (run.ts standInKeptNow).
 */
test('chaos seed 1277985329 (ab): an interrupt that kept a stand-in for the old color\'s missing instance is judged after the re-run', async (t) => {
  const s = generateScenario(1277985329, 'ab');
  t.like(s, { abStandby: { color: 'active' }, interruption: { kind: 'sigint' } });
  const r = await runScenario(s);
  t.is(r.attempts[0]?.exit, 130);
  t.regex(r.attempts[0]?.message ?? '', /serving instance\(s\) stand in for chaos-ab-a's missing 1 .*re-run/);
  t.deepEqual(r.violations, [], 'npm run chaos -- --runs 1 --seed 1277985329 --strategy ab');
});
