/**
 * Chaos seed 530110558 (rolling, size 4, surge 1, throttling, eventual consistency, SIGINT and
 * re-run, --rollback): a step's terminate with decrement was followed by the next step's raise
 * 4 → 5; Ctrl-C came 0.9 s later. The cleanup read the group (4 live against desired 5: "surge not
 * launched yet"), AWS launched the surge 0.1 s after that read, and the cleanup lowered desired
 * 5 → 4 on its look: AWS's termination policy scaled in a healthy outdated instance (3 healthy,
 * floor 4). The cleanup now suspends Launch before it lowers desired for a surge not launched, and
 * lowers it only on the look taken after that (rolling/strategy.ts cleanupRolling); a surge that
 * made it in meanwhile goes by name with decrement.
 * Replay: npm run chaos -- --runs 1 --seed 530110558 --strategy rolling
 */
import test from 'ava';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

test('chaos seed 530110558: a Ctrl-C right after a surge raise never lowers desired for AWS to pick (never below --min-healthy)', async (t) => {
  const s = generateScenario(530110558, 'rolling');
  t.is(s.interruption.kind, 'sigint', 'the seed still draws a SIGINT');
  const r = await runScenario(s);
  t.deepEqual(r.violations, [], 'npm run chaos -- --runs 1 --seed 530110558 --strategy rolling');
  t.is(r.attempts[0]?.exit, 130, 'the interrupted run exits 130');
  t.is(r.exit, 0, 'the re-run finishes the job');
});
