/**
 * Chaos seed 1477319734 (rolling, 22 instances, surge 0, a launch hook whose agent answers in
 * 5–109 s against a 64-s heartbeat timeout with default result ABANDON; kill -9 and a re-run): the
 * re-run's first two replacements were both abandoned at the heartbeat timeout and the run halted
 * by the documented rule (the ASG replaced 2 new instances and none passed, docs/commands/roll.md)
 * — while the checker expected "done": it counted only an agent's hang and abandon rates as ways a
 * launch can fail, not one slower than the heartbeat (orchestrator/proof/lifecycle-chaos.ts
 * lifecycleMayFail). A checker gap; the tool's halt is the documented outcome.
 * Replay: npm run chaos -- --runs 1 --seed 1477319734 --strategy rolling
 */
import test from 'ava';
import { lifecycleMayFail } from '../../orchestrator/proof/lifecycle-chaos';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

test('chaos seed 1477319734: a launch-hook agent slower than the heartbeat (default ABANDON) may fail launches: done or a clean halt, judged so', async (t) => {
  const s = generateScenario(1477319734, 'rolling');
  const hook = s.lifecycle?.launchHook;
  t.truthy(hook, 'the seed still draws a launch hook');
  t.like(hook, { defaultResult: 'ABANDON', agent: { hangRate: 0, abandonRate: 0 } });
  t.like(hook!.agent.seconds, { min: 5, max: 109 });
  t.is(hook!.heartbeat, 64, 'its agent can answer after the heartbeat timeout');
  t.is(s.expect, 'done-or-halt');
  const r = await runScenario(s);
  t.deepEqual(r.violations, [], 'npm run chaos -- --runs 1 --seed 1477319734 --strategy rolling');
});

test('lifecycleMayFail: an agent that can miss the heartbeat fails a launch only with default ABANDON', (t) => {
  const agent = { seconds: { min: 5, max: 120 }, hangRate: 0, abandonRate: 0 };
  t.true(lifecycleMayFail({ launchHook: { heartbeat: 64, defaultResult: 'ABANDON', agent } }));
  t.false(lifecycleMayFail({ launchHook: { heartbeat: 64, defaultResult: 'CONTINUE', agent } }), 'a timeout then continues');
  t.false(lifecycleMayFail({ launchHook: { heartbeat: 300, defaultResult: 'ABANDON', agent } }), 'always answers in time');
  t.true(lifecycleMayFail({ launchHook: { heartbeat: 300, defaultResult: 'CONTINUE', agent: { ...agent, abandonRate: 0.1 } } }));
  t.false(lifecycleMayFail(undefined));
});
