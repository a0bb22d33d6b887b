/**
 * The chaos harness on `roll --rollback` (issue 16 item 4): our engine rolls back cleanly under an
 * alarm and a bad image (no violation), and the checker catches a tool that claims a rollback it
 * did not do, or fails without rolling back.
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { DeployError } from '../../orchestrator/errors';
import { checkRun, type RunFacts } from '../../orchestrator/proof/invariants';
import { runScenario, type ToolInvocation } from '../../orchestrator/proof/run';
import type { Scenario } from '../../orchestrator/proof/scenario';
import { rollGroup } from '../../orchestrator/rollout/rolling/runner';
import { rollingScenario } from '../helpers/chaos-scenario';

/** A fault-free rolling scenario of 4 instances, surge 1, with --rollback; `faults` on top. */
const scenario = (faults: Partial<Scenario['faults']>): Scenario => rollingScenario(faults, { holds: undefined, rollback: true, tags: ['rollback'] });

test.serial('an alarm two minutes in: our engine halts, rolls back to version 1, no violation', async (t) => {
  const r = await runScenario(scenario({ alarmTripAfterSeconds: 120 }));
  t.deepEqual(r.violations, []);
  t.is(r.exit, 1);
  t.is(r.attempts[0].rollback, 'done');
});

test.serial('a bad image: the step fails, the rollback (nothing new left to replace) puts the group back on version 1, no violation', async (t) => {
  const r = await runScenario(scenario({ badImage: true }));
  t.deepEqual(r.violations, []);
  t.is(r.exit, 1);
  t.is(r.attempts[0].rollback, 'done');
});

/** The real engine without --rollback, with the scenario's alarm. */
const forward = (i: ToolInvocation) => rollGroup({ clients: i.clients, clock: i.sandbox.clock, reporter: i.reporter, signal: i.signal, asg: i.target, alarms: ['chaos-5xx'] });

test.serial('checker: a tool that reports a rollback done but leaves the new instances serving is caught (rollback)', async (t) => {
  const r = await runScenario(scenario({ alarmTripAfterSeconds: 120 }), {
    tool: async (i) => {
      try {
        return await forward(i);
      } catch (err) {
        const e = err as DeployError;
        await createAwsPort(i.clients, i.sandbox.clock).setGroupLaunch!(i.target, { launchTemplate: { id: i.sandbox.world.findLaunchTemplate({ name: `${i.target}-lt` })!.id, version: 1 } });
        throw new DeployError(e.code, e.message, { exit: 1, data: { ...e.data, rollback: { status: 'done' } } });
      }
    },
  });
  t.true(r.violations.some((v) => v.code === 'rollback' && /still run the new version/.test(v.message)), JSON.stringify(r.violations));
});

test.serial('checker: a tool that fails without rolling back though --rollback was given is caught (rollback)', async (t) => {
  const r = await runScenario(scenario({ alarmTripAfterSeconds: 120 }), { tool: forward });
  t.is(r.exit, 1);
  t.true(r.violations.some((v) => v.code === 'rollback' && /reported no rollback/.test(v.message)), JSON.stringify(r.violations));
});

test('checker: a rollback problem in the facts is a violation of its own', (t) => {
  const facts: RunFacts = {
    strategy: 'rolling', expect: 'halt', dryRun: false, attempts: [{ kind: 'run', exit: 1, code: 'alarm', rollback: 'done' }], requiredHealthy: 3, observedMinHealthy: 3,
    excusedAtEnd: 0, healthyAtStart: 3, toolTerminations: [], plannedTerminations: 3, mutatingCalls: 12, leftovers: [], lockHeld: false, foreignLock: false,
    final: { allUpToDateAndHealthy: true, capacityAsConfigured: true, oldHealthyServing: 3, healthyServing: 3, detail: '3/3' },
  };
  t.deepEqual(checkRun(facts), []);
  t.deepEqual(checkRun({ ...facts, rollbackProblem: 'rolled back (done) but 1 live instance(s) still run the new version: i-1' }).map((v) => v.code), ['rollback']);
});
