/**
 * The deploy lock of a rolling group (lock/lock.ts groupLockOptions), on the simulated AWS with
 * the real SDK clients and adapter: `roll` holds it for the whole run and releases it on every
 * exit path; a freeze (`lock --asg`) or another run refuses with exit 3 before anything changed;
 * `deploy` checks it before `pulumi up` and its rolling hook holds it during the rollout.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { main } from '../../orchestrator/cli';
import { readSandboxFile, writeSandboxFile } from '../../orchestrator/commands/aws-session';
import { DeployError } from '../../orchestrator/errors';
import { acquireRunLock, freezeEnvironment, groupLockOptions, readEnvironmentLock, unlockEnvironment } from '../../orchestrator/lock/lock';
import { LOCK_TAG } from '../../orchestrator/lock/record';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';
import { Sandbox } from '../../orchestrator/sandbox';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { capture } from '../helpers/io';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';

const GROUP = 'qa-rabbit';
const BUCKET = 'qa-locks';
const LOCK_OPS = ['CreateOrUpdateTags', 'DeleteTags', 'PutObject', 'DeleteObject'];

/** qa-rabbit: 3 instances of version 1 behind its ELB, then version 2 (good, or a bad image). */
function world(o: { bad?: boolean; seed?: number } = {}) {
  const sb = Sandbox.create({ seed: o.seed ?? 5, faults: { bootSeconds: 40 } });
  sb.seedGroup({ name: GROUP, capacity: 3, elb: { name: GROUP, healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 20 } });
  sb.advance(3600_000);
  if (o.bad) sb.setImage('ami-0bad000000000000', { healthy: false });
  sb.newLaunchTemplateVersion(`${GROUP}-lt`, { ImageId: o.bad ? 'ami-0bad000000000000' : 'ami-0new000000000000' });
  sb.monitor.baseline();
  return sb;
}

function roll(sb: Sandbox, o: Partial<RollOptions> = {}, actor?: string) {
  const reporter = new RecordingReporter(sb.clock);
  const clients = actor ? sb.newClients(actor) : sb.clients;
  const p = rollGroup({ clients, clock: sb.clock, reporter, asg: GROUP, lock: { settleMs: 1000 }, ...o });
  return { p, reporter };
}

/** Is the group's lock still there (tag on the group, or `<ASG>.lock` in the bucket)? Read from the state. */
function lockHeld(sb: Sandbox): boolean {
  const tag = sb.world.state.groups[GROUP].tags.some((t) => t.key === LOCK_TAG);
  const object = sb.world.state.buckets[BUCKET]?.objects[`${GROUP}.lock`] !== undefined;
  return tag || object;
}

const mutatingOps = (sb: Sandbox, from: number, actor?: string) =>
  sb.calls.slice(from).filter((c) => c.mutating && (!actor || c.actor === actor)).map((c) => c.operation);

for (const bucket of [undefined, BUCKET]) {
  const store = bucket ? 'S3 lock' : 'tag lock';

  test(`a freeze stops roll and its dry run: exit 3 naming holder, reason and age, nothing changed (${store})`, async (t) => {
    const sb = world();
    const port = createAwsPort(sb.newClients('ops'), sb.clock);
    await freezeEnvironment({ port, clock: sb.clock, reporter: new RecordingReporter(sb.clock) }, { ...groupLockOptions(GROUP, bucket), reason: 'quarterly audit', holder: 'bob@ops', settleMs: 0 });
    sb.advance(600_000);
    const before = JSON.stringify(sb.world.state.groups[GROUP]);
    const mark = sb.calls.length;
    for (const dryRun of [false, true]) {
      const { p, reporter } = roll(sb, { lockBucket: bucket, dryRun });
      const err = (await t.throwsAsync(p, { instanceOf: DeployError })) as DeployError;
      t.is(err.exit, 3);
      t.is(err.code, 'locked');
      t.regex(err.message, /qa-rabbit is locked by bob@ops \(quarterly audit\) since .*, 10m 0s ago/);
      t.regex(err.message, /a freeze: 'asg-deploy unlock' releases it/);
      t.is(err.data.holder, 'bob@ops');
      t.is(err.data.ageSeconds, 600);
      // A real run is refused before it plans; a dry run prints the plan, then says it would be refused.
      t.is(reporter.ofCode(Codes.plan).length, dryRun ? 1 : 0);
      t.is(reporter.ofCode('roll.locked').length, dryRun ? 1 : 0);
    }
    // Both stores read the group's lock tag before writing (the S3 freeze marks the group too).
    t.deepEqual(mutatingOps(sb, mark), [], 'nothing written');
    t.is((await readEnvironmentLock({ port, clock: sb.clock, reporter: new RecordingReporter(sb.clock) }, groupLockOptions(GROUP, bucket)))?.record.holder, 'bob@ops');
    t.is(JSON.stringify(sb.world.state.groups[GROUP]), before);
    // Released by its holder, the next roll proceeds and leaves no lock behind.
    await unlockEnvironment({ port, clock: sb.clock, reporter: new RecordingReporter(sb.clock) }, { ...groupLockOptions(GROUP, bucket), holder: 'bob@ops' });
    const r = await roll(sb, { lockBucket: bucket }).p;
    t.is(r.status, 'done');
    t.false(lockHeld(sb));
  });

  test(`two concurrent rolls on one group: exactly one proceeds (${store})`, async (t) => {
    const sb = world();
    const old = sb.world.groupInstances(sb.world.state.groups[GROUP]).map((i) => i.id).sort();
    const t0 = sb.clock.now();
    const results = await Promise.allSettled([roll(sb, { lockBucket: bucket }, 'run-1').p, roll(sb, { lockBucket: bucket }, 'run-2').p]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const refused = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    t.is(ok.length, 1);
    t.is(refused.length, 1);
    const err = refused[0].reason as DeployError;
    t.is(err.exit, 3);
    t.is(err.code, 'locked');
    t.regex(err.message, /asg-deploy roll qa-rabbit/, 'names the other run');
    const loser = results[0].status === 'rejected' ? 'run-1' : 'run-2';
    for (const op of new Set(mutatingOps(sb, 0, loser))) t.true(LOCK_OPS.includes(op), `the loser only tried the lock: ${op}`);
    // One rollout, cleanly: each old instance terminated once, never below 3 healthy.
    const terminated = sb.monitor.terminations({ group: GROUP, cause: ['api', 'scale-in'] }).map((x) => x.instanceId).sort();
    t.deepEqual(terminated, old);
    t.true(sb.monitor.minHealthy(GROUP, t0) >= 3);
    t.deepEqual(sb.monitor.leftovers(GROUP), []);
    t.false(lockHeld(sb));
  });
}

test('the run lock is released after done, after a failure (exit 1) and after SIGINT (exit 130)', async (t) => {
  for (const end of ['done', 'failed', 'sigint'] as const) {
    const sb = world({ bad: end === 'failed' });
    const ac = new AbortController();
    const start = sb.clock.now();
    if (end === 'sigint') {
      sb.clock.onAdvance((now) => {
        if (now - start > 30_000 && !ac.signal.aborted) ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
      });
    }
    const { p, reporter } = roll(sb, { signal: ac.signal, stepTimeoutMs: 300_000 });
    let exit = 0;
    try {
      await p;
    } catch (err) {
      exit = (err as DeployError).exit;
    }
    t.is(exit, { done: 0, failed: 1, sigint: 130 }[end], end);
    t.is(reporter.ofCode('lock.acquired').length, 1, end);
    const released = reporter.ofCode('lock.released');
    t.is(released.length, 1, end);
    t.regex(released[0].message, /tag asg-deploy:lock on qa-rabbit/);
    // Taken before the plan, released after the outcome.
    const codes = reporter.events.map((e) => e.code);
    t.true(codes.indexOf('lock.acquired') < codes.indexOf(Codes.plan), end);
    t.true(codes.indexOf('lock.released') > codes.indexOf(end === 'done' ? Codes.done : Codes.failed), end);
    t.false(lockHeld(sb), end);
    sb.advance(120_000);
    t.deepEqual(sb.monitor.leftovers(GROUP), [], `${end}: the lock tag and everything else restored`);
  }
});

test("a killed run's lock: recognisable as a crashed run's, unlock --asg --force clears it, the re-run finishes", async (t) => {
  const sb = world();
  sb.crashAfter(30);
  const first = roll(sb, { runId: 'killed-run' });
  await t.throwsAsync(first.p);
  t.true(sb.crashed());
  t.true(lockHeld(sb), 'a killed run cannot release its lock');

  const port = createAwsPort(sb.newClients('operator'), sb.clock);
  const deps = { port, clock: sb.clock, reporter: new RecordingReporter(sb.clock) };
  // Right after the kill the heartbeat is fresh: another run is refused, naming the holder.
  const early = (await t.throwsAsync(roll(sb, {}, 'rerun-1').p, { instanceOf: DeployError })) as DeployError;
  t.is(early.exit, 3);
  t.is(early.data.runId, 'killed-run');
  t.notRegex(early.message, /crashed/);
  // Once the heartbeat is older than the staleness bound, it says so.
  sb.advance(6 * 60_000);
  const late = (await t.throwsAsync(roll(sb, {}, 'rerun-2').p, { instanceOf: DeployError })) as DeployError;
  t.is(late.exit, 3);
  t.regex(late.message, /left by a crashed run at .*no heartbeat for .*'asg-deploy unlock --force' to clear/);
  t.true(late.data.stale as boolean);
  // Not ours: without --force unlock refuses, suggesting the right command; with --force it goes.
  const notMine = (await t.throwsAsync(unlockEnvironment(deps, { ...groupLockOptions(GROUP), holder: 'alice@laptop' }), { instanceOf: DeployError })) as DeployError;
  t.regex(notMine.message, /'asg-deploy unlock --asg qa-rabbit --force'/);
  const held = await unlockEnvironment(deps, { ...groupLockOptions(GROUP), force: true, holder: 'alice@laptop' });
  t.is(held?.record.runId, 'killed-run');
  t.regex(deps.reporter.ofCode('lock.released')[0].message, /forced: held by .*asg-deploy roll qa-rabbit.*left by a crashed run/);

  const again = roll(sb, {}, 'rerun-3');
  const r = await again.p;
  t.is(r.status, 'done');
  t.is(again.reporter.ofCode('guard.recovered').length, 1, "the re-run finishes the killed run's job");
  t.false(lockHeld(sb));
  sb.advance(120_000);
  t.deepEqual(sb.monitor.leftovers(GROUP), []);
});

// --- the CLI: lock --asg / unlock --asg / roll ------------------------------------------------


async function cli(argv: string[]) {
  const io = capture();
  const code = await main(argv, { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  const events = io.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { code: string; message: string; data: Record<string, unknown> });
  return { code, events, stderr: io.stderr };
}

const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

test('CLI: lock --asg PREFIX freezes roll (exit 3, nothing changed); unlock --asg releases it; --environment and --asg are exclusive', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-roll-lock-'));
  dirs.push(dir);
  const file = path.join(dir, 'state.json');
  writeSandboxFile(file, world(), {});
  const state = () => readSandboxFile(file)!.aws.groups[GROUP];

  const locked = await cli(['lock', '--asg', 'qa-rab', '--reason', 'change freeze', '--json', '--sandbox-state', file]);
  t.is(locked.code, 0, locked.stderr);
  t.regex(locked.events.find((e) => e.code === 'lock.acquired')!.message, /qa-rabbit locked \(tag asg-deploy:lock on qa-rabbit\)/);
  const before = JSON.stringify({ ...state(), tags: undefined });

  const refused = await cli(['roll', '--asg', GROUP, '--json', '--sandbox-state', file]);
  t.is(refused.code, 3);
  const err = refused.events.find((e) => e.code === 'locked')!;
  t.regex(err.message, /qa-rabbit is locked by .* \(change freeze\) since .* ago/);
  t.deepEqual(refused.events.filter((e) => e.code === Codes.plan), []);
  t.is(JSON.stringify({ ...state(), tags: undefined }), before, 'nothing changed');

  const both = await cli(['unlock', '--asg', GROUP, '--environment', 'qa', '--sandbox-state', file]);
  t.is(both.code, 2);
  t.regex(both.stderr, /--environment ENV .* or --asg NAME .*not both/);
  const neither = await cli(['lock', '--reason', 'x', '--sandbox-state', file]);
  t.is(neither.code, 2);
  const unknown = await cli(['lock', '--asg', 'prod-', '--reason', 'x', '--sandbox-state', file]);
  t.is(unknown.code, 2);

  const unlocked = await cli(['unlock', '--asg', GROUP, '--json', '--sandbox-state', file]);
  t.is(unlocked.code, 0, unlocked.stderr);
  t.regex(unlocked.events.find((e) => e.code === 'lock.released')!.message, /it was yours/);
  const rolled = await cli(['roll', '--asg', GROUP, '--json', '--sandbox-state', file]);
  t.is(rolled.code, 0, rolled.stderr);
  t.is((rolled.events.find((e) => e.code === Codes.done)!.data.replaced as string[]).length, 3);
  t.false(state().tags.some((x) => x.key === LOCK_TAG), 'the run released its lock');
});

// --- deploy: the rolling service's group lock ---------------------------------------------------

function deployWorld(bucket?: string) {
  const w = sandboxDeployWorld({ bucket, tmpPrefix: 'sbx-lock-' });
  dirs.push(w.dir);
  return w;
}

for (const bucket of [undefined, 'demo-locks']) {
  test(`deploy refuses a frozen rolling service before up (lock --asg, ${bucket ? 'S3' : 'tag'}); its rolling hook holds the group's lock`, async (t) => {
    const w = deployWorld(bucket);
    await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
    const lockDeps = { port: w.port, clock: w.sandbox.clock, reporter: w.reporter };
    await freezeEnvironment(lockDeps, { ...groupLockOptions('demo-rabbit', bucket), reason: 'rabbit upgrade window closed', holder: 'bob@ops', settleMs: 0 });
    const mark = w.sandbox.calls.length;
    const versions = () => Object.values(w.sandbox.toJSON().launchTemplates).reduce((n, lt) => n + lt.versions.length, 0);
    const v = versions();
    const err = (await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, w.deps()), { instanceOf: DeployError })) as DeployError;
    t.is(err.exit, 3);
    t.regex(err.message, /service rabbit: demo-rabbit is locked by bob@ops \(rabbit upgrade window closed\).*deploy stopped before pulumi up/);
    t.deepEqual(mutatingOps(w.sandbox, mark), [], 'nothing changed');
    t.is(versions(), v, 'pulumi up never ran');

    await unlockEnvironment(lockDeps, { ...groupLockOptions('demo-rabbit', bucket), holder: 'bob@ops' });
    const from = w.reporter.events.length;
    const out = await runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, w.deps());
    t.is(out.exit, 0);
    const where = bucket ? 's3://demo-locks/demo-rabbit.lock (and tag asg-deploy:lock on demo-rabbit)' : 'tag asg-deploy:lock on demo-rabbit';
    const events = w.reporter.events.slice(from);
    t.true(events.some((e) => e.code === 'lock.acquired' && e.data.location === where), 'the rolling hook took the group lock');
    t.true(events.some((e) => e.code === 'lock.released' && e.data.location === where));
    t.is(await readEnvironmentLock(lockDeps, groupLockOptions('demo-rabbit', bucket)), undefined);
  });
}

test('a roll holding the lock makes a concurrent deploy of its service refuse before up', async (t) => {
  const w = deployWorld();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  const other = await acquireRunLock({ port: w.port, clock: w.sandbox.clock, reporter: w.reporter }, { ...groupLockOptions('demo-rabbit'), reason: 'asg-deploy roll demo-rabbit', holder: 'ci@runner-7 pid 7', settleMs: 0 });
  const err = (await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, w.deps()), { instanceOf: DeployError })) as DeployError;
  t.is(err.exit, 3);
  t.regex(err.message, /service rabbit: demo-rabbit is locked by ci@runner-7 pid 7 \(asg-deploy roll demo-rabbit\)/);
  await other.release();
});
