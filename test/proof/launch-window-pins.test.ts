/**
 * Issue 10, the cleanup's Launch window: a SIGINT right after the tool asked AWS for a launch (the
 * surge raised, not launched yet) makes the cleanup hold Launch (SuspendProcesses, recorded in the
 * restore tag) before it lowers desired; a kill -9 right after that SuspendProcesses left Launch
 * suspended and recorded. The re-run then waited in vain for its own surge and halted at
 * --step-timeout ("1 of N instance(s) never launched"): only a second re-run finished. A re-run now
 * resumes a process the tool held for one step only as soon as nothing needs it held
 * (rolling/strategy.ts releaseHeld), and finishes the job.
 * Both seeds were found by chaos's aimed-signal fault (scenario.ts drawAimedSignal) and failed before.
 * Replay: npm run chaos -- --runs 1 --seed 1405 --strategy rolling (and 1449)
 */
import test from 'ava';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

for (const seed of [1405, 1449]) {
  test(`chaos seed ${seed}: kill -9 right after the cleanup's SuspendProcesses Launch — the first re-run finishes the job`, async (t) => {
    const s = generateScenario(seed, 'rolling');
    t.like(s.interruption, { kind: 'sigint', killAfter: { operation: 'SuspendProcesses', nth: 1 } }, 'the seed still draws a SIGINT aimed at a launch ask, then a kill -9 after the cleanup\'s SuspendProcesses');
    const r = await runScenario(s);
    t.is(r.attempts[0]?.kind, 'crash', 'the first run was killed inside its cleanup');
    t.deepEqual(r.violations, [], `npm run chaos -- --runs 1 --seed ${seed} --strategy rolling`);
    t.is(r.attempts.length, 2, 'one re-run');
    t.is(r.exit, 0, 'the re-run finishes the job');
  });
}
