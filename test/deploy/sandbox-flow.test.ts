/** The deploy flow in-process on the sandbox: dry runs make no mutating call; Ctrl-C during up. */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeployError } from '../../orchestrator/errors';
import { DeployCodes } from '../../orchestrator/report/summary';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { freezeEnvironment } from '../../orchestrator/lock/lock';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';

function setup() {
  return sandboxDeployWorld({ tmpPrefix: 'sbx-flow-' });
}

test('a dry run on the sandbox makes no mutating AWS call and plans from the observed state', async (t) => {
  const w = setup();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  const mark = w.sandbox.calls.length;
  const groupsBefore = JSON.stringify(w.sandbox.toJSON().groups);
  const out = await runDeploy({ stack: 'demo', configFile: w.config('ami-0a2'), dryRun: true }, w.deps());
  t.is(out.exit, 0);
  const calls = w.sandbox.calls.slice(mark);
  t.true(calls.length > 0, 'it observed');
  t.deepEqual(calls.filter((c) => c.mutating).map((c) => c.operation), []);
  t.is(JSON.stringify(w.sandbox.toJSON().groups), groupsBefore);
  const plans = w.reporter.ofCode(DeployCodes.servicePlan);
  t.deepEqual(plans.map((p) => [p.data.service, p.data.action, (p.data.instances as string[]).length]), [['rabbit', 'roll', 3], ['web', 'swap', 4]]);
});

test('Ctrl-C during the sandbox up: exit 130, no rollout started', async (t) => {
  const w = setup();
  const controller = new AbortController();
  controller.abort();
  const err = await t.throwsAsync(runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps(controller.signal)), { instanceOf: DeployError });
  t.is(err!.exit, 130);
  t.deepEqual(w.reporter.ofCode(DeployCodes.serviceStart), []);
  t.deepEqual(w.sandbox.calls.filter((c) => c.mutating), []);
});

test('a failed sandbox up (AWS errors) is exit 1 and no rollout runs', async (t) => {
  const w = setup();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  w.sandbox.faults.serverErrorRate = 1; // every call fails with a 5xx, retries included
  const noLocks = { held: async () => [] }; // (an unreadable lock is its own test)
  const noRecords = { unfinished: async () => [] }; // (unreadable records: below)
  const err = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, { ...w.deps(), locks: noLocks, records: noRecords }), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.is(err!.code, 'stack.up-failed');
  t.true(w.reporter.ofCode(DeployCodes.stackResource).some((e) => e.data.phase === 'failed'));
  t.is(w.reporter.ofCode(DeployCodes.serviceStart).length, 2, 'only v1\'s two services ran their hooks');
  t.is(w.stacks.demo.outputs.services !== undefined, true);
});

test('unreadable rollout records (AWS errors) stop deploy before pulumi up: a named error, exit 1, nothing changed', async (t) => {
  const w = setup();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  const stackBefore = JSON.stringify(w.stacks.demo);
  w.sandbox.faults.serverErrorRate = 1;
  const noLocks = { held: async () => [] };
  const err = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, { ...w.deps(), locks: noLocks }), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.is(err!.code, 'deploy.records-unreadable');
  t.is(JSON.stringify(w.stacks.demo), stackBefore, 'no pulumi up');
});

const mutating = (w: ReturnType<typeof setup>, from = 0) => w.sandbox.calls.slice(from).filter((c) => c.mutating).map((c) => c.operation);

test('an invalid config on the sandbox: exit 2 before the program runs, no AWS change', async (t) => {
  const w = setup();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  const mark = w.sandbox.calls.length;
  const before = JSON.stringify(w.stacks);
  const bad = path.join(w.dir, 'bad.yaml');
  fs.writeFileSync(bad, fs.readFileSync(w.config('ami-0a2'), 'utf8').replace('minHealthy: 2', 'minHealthy: 7'));
  for (const dryRun of [false, true]) {
    const err = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: bad, dryRun }, w.deps()), { instanceOf: DeployError });
    t.is(err!.exit, 2);
    t.regex(err!.message, /bad\.yaml/);
    t.regex(err!.message, /rabbit.*minHealthy.*7/);
  }
  t.deepEqual(w.sandbox.calls.slice(mark).map((c) => c.operation), [], 'not even a Describe call: validation needs no AWS');
  t.is(JSON.stringify(w.stacks), before);
});

test('a frozen environment on the sandbox: exit 3 before the simulated up; after unlock the deploy runs', async (t) => {
  const w = setup();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  // Freeze the rolling group (environment = its name): `asg-deploy lock --environment demo-rabbit`.
  await freezeEnvironment({ port: w.port, clock: w.sandbox.clock, reporter: w.reporter }, { environment: 'demo-rabbit', reason: 'quarterly audit', holder: 'bob@ops', settleMs: 0 });
  const mark = w.sandbox.calls.length;
  const versions = () => Object.values(w.sandbox.toJSON().launchTemplates).reduce((n, lt) => n + lt.versions.length, 0);
  const v = versions();
  const err = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, w.deps()), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.regex(err!.message, /service rabbit: demo-rabbit is locked by bob@ops \(quarterly audit\)/);
  t.deepEqual(mutating(w, mark), [], 'nothing changed');
  t.is(versions(), v, 'no new launch template version: pulumi up never ran');
  t.is(w.reporter.ofCode(DeployCodes.stackUp).length, 1, 'only v1 was applied');
  const { unlockEnvironment } = await import('../../orchestrator/lock/lock');
  await unlockEnvironment({ port: w.port, clock: w.sandbox.clock, reporter: w.reporter }, { environment: 'demo-rabbit', holder: 'bob@ops' });
  const out = await runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, w.deps());
  t.is(out.exit, 0);
  t.deepEqual(out.rows.map((r) => [r.service, r.result]), [['rabbit', 'done'], ['web', 'done']]);
});

test('a run lock held by another A/B run on the sandbox also refuses before up', async (t) => {
  const w = setup();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  const { acquireRunLock } = await import('../../orchestrator/lock/lock');
  const other = await acquireRunLock({ port: w.port, clock: w.sandbox.clock, reporter: w.reporter }, { environment: 'demo-web', reason: 'asg-deploy ab demo-web', holder: 'ci@runner-7', settleMs: 0 });
  const mark = w.sandbox.calls.length;
  const err = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, w.deps()), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.regex(err!.message, /service web: demo-web is locked by ci@runner-7/);
  t.deepEqual(mutating(w, mark).filter((op) => op !== 'CreateOrUpdateTags'), [], 'nothing but the other run\'s heartbeat changed');
  await other.release();
});

test('an unreadable lock (AWS failing) stops the deploy before up: exit 1, nothing changed', async (t) => {
  const w = setup();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  const mark = w.sandbox.calls.length;
  w.sandbox.faults.serverErrorRate = 1;
  const err = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, w.deps()), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.is(err!.code, 'lock-error');
  t.regex(err!.message, /could not read the lock of demo-rabbit.*nothing was changed/);
  t.deepEqual(mutating(w, mark), []);
});
