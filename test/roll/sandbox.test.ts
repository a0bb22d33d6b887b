/**
 * Rolling on the simulated AWS (real SDK clients, the real adapter, virtual clock), asserting on
 * the sandbox's recorded timeline and safety monitor.
 */
import test from 'ava';
import { Sandbox, SandboxCrashedError, type FaultConfig } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';
import type { Gate } from '../../orchestrator/gates/gate';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { LOCK_TAG } from '../../orchestrator/lock/record';
import { forceUnlockGroup } from '../helpers/force-unlock';

const ELB = { name: 'qa-rabbit', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 30 };

/** A group of `capacity` instances launched an hour apart (ids random, so age ≠ id order). */
function world(capacity = 3, o: { seed?: number; faults?: Partial<FaultConfig>; name?: string; staggered?: boolean } = {}) {
  const sb = Sandbox.create({ seed: o.seed ?? 3, faults: { bootSeconds: 40, ...(o.faults ?? {}) } });
  const name = o.name ?? 'qa-rabbit';
  const staggered = o.staggered ?? capacity <= 10;
  sb.seedGroup({ name, capacity: staggered ? 1 : capacity, max: capacity, elb: { ...ELB, name } });
  if (staggered) {
    for (let n = 2; n <= capacity; n++) {
      sb.advance(3600_000);
      sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: name, DesiredCapacity: n });
      sb.settle({ group: name });
    }
  }
  sb.advance(3600_000);
  return sb;
}

function newVersion(sb: Sandbox, image = 'ami-0new000000000000', name = 'qa-rabbit'): number {
  return sb.newLaunchTemplateVersion(`${name}-lt`, { ImageId: image });
}

function oldestFirst(sb: Sandbox, group = 'qa-rabbit'): string[] {
  const g = sb.world.state.groups[group];
  return sb.world
    .groupInstances(g)
    .filter((i) => sb.world.isActive(i))
    .sort((a, b) => a.launchTime - b.launchTime || a.id.localeCompare(b.id))
    .map((i) => i.id);
}

function roll(sb: Sandbox, o: Partial<RollOptions> = {}) {
  const reporter = new RecordingReporter(sb.clock);
  const p = rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'qa-rabbit', ...o });
  return { p, reporter };
}

function toolTerminations(sb: Sandbox, group = 'qa-rabbit') {
  return sb.monitor.terminations({ group, cause: ['api', 'scale-in'] });
}

for (const surge of [1, 0]) {
  test(`surge ${surge}: oldest first, quorum of 3 never below 2 (min healthy 2), nothing left behind`, async (t) => {
    const sb = world(3);
    const order = oldestFirst(sb);
    newVersion(sb);
    sb.monitor.baseline();
    const t0 = sb.clock.now();
    // lock: false — this checks the rollout's reported API calls against the sandbox's record of
    // every call; the lock's release comes after rollout.done (the lock: test/roll/lock.test.ts).
    const { p, reporter } = roll(sb, { surge, minHealthy: 2, lock: false });
    const r = await p;
    t.is(r.status, 'done');
    t.deepEqual(r.replaced, order, 'oldest EC2 LaunchTime first');
    t.deepEqual(toolTerminations(sb).map((x) => x.instanceId), order);
    t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= (surge ? 3 : 2), `min healthy ${sb.monitor.minHealthy('qa-rabbit', t0)}`);
    t.deepEqual(sb.monitor.healthyUpToDateTerminated('qa-rabbit'), []);
    t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
    // Done = settled for the service: every old instance out of service (Terminating, out of the
    // ELB); EC2 finishing their shutdown is not waited for, and the group settles without the tool.
    t.deepEqual(order.filter((id) => sb.world.isActive(sb.world.state.instances[id])), []);
    t.true(sb.settle({ group: 'qa-rabbit', timeoutMs: 120_000 }) <= 120_000);
    t.is(oldestFirst(sb).filter((id) => order.includes(id)).length, 0);
    const done = reporter.ofCode(Codes.done)[0];
    t.deepEqual(done.data.replaced, order);
    t.is(done.data.apiCalls, sb.callCount({ actor: 'tool' }));
    if (surge === 0) t.is(sb.calls.filter((c) => c.actor === 'tool' && /SetDesiredCapacity|UpdateAutoScalingGroup/.test(c.operation)).length, 0);
  });
}

test('a bad new image halts: exit 1, the old nodes keep serving, surge removed, group restored', async (t) => {
  const sb = world(3);
  const order = oldestFirst(sb);
  sb.setImage('ami-0bad000000000000', { healthy: false });
  newVersion(sb, 'ami-0bad000000000000');
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb, { stepTimeoutMs: 8 * 60_000 });
  const e = (await t.throwsAsync(p, { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 1);
  t.regex(e.message, /i-[0-9a-f]+.*elb qa-rabbit — OutOfService/);
  t.deepEqual(toolTerminations(sb).filter((x) => order.includes(x.instanceId)), [], 'no old node touched');
  t.deepEqual(oldestFirst(sb).filter((id) => order.includes(id)), order);
  sb.advance(60_000);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
  const failed = reporter.ofCode(Codes.failed)[0];
  t.truthy(failed.data.instanceId);
  t.regex(String(failed.data.gate), /elb qa-rabbit|asg/);
  // Removing its own failed surge instance is cleanup, not a replacement: nothing old was replaced.
  t.deepEqual(failed.data.replaced, []);
  t.true(reporter.ofCode(Codes.terminate).length > 0, 'the surge instance was removed');
});

test('AZRebalance cannot take a node during the rollout and is resumed afterwards', async (t) => {
  const sb = world(3);
  newVersion(sb);
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  let suspendedDuring = false;
  sb.clock.onAdvance(() => {
    const g = sb.world.state.groups['qa-rabbit'];
    if (g.desired === 4 && g.suspended.some((p) => p.name === 'AZRebalance')) suspendedDuring = true;
  });
  await roll(sb).p;
  t.true(suspendedDuring);
  t.deepEqual(sb.monitor.terminations({ group: 'qa-rabbit', cause: ['rebalance'] }), []);
  t.deepEqual(sb.world.state.groups['qa-rabbit'].suspended, []);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('a spontaneous termination mid-rollout: the rollout finishes, old ones all gone, nothing left behind', async (t) => {
  const sb = world(3);
  const order = oldestFirst(sb);
  newVersion(sb);
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const start = sb.clock.now();
  let killed = false;
  sb.clock.onAdvance((now) => {
    if (!killed && now - start > 70_000) {
      killed = true;
      sb.direct('ec2', 'TerminateInstances', { InstanceIds: [order[2]] });
    }
  });
  const { p, reporter } = roll(sb);
  const r = await p;
  t.true(killed);
  t.is(r.status, 'done');
  // The dead node is either left to the ASG or, once the ASG marked it Unhealthy, replaced first
  // (an unhealthy outdated instance costs no healthy capacity) — never as if it were healthy.
  const ev = reporter.ofCode(Codes.terminate).find((e) => e.data.instanceId === order[2]);
  if (ev) t.regex(String(ev.data.reason), new RegExp(`${order[2]} outdated and unhealthy`));
  t.is(oldestFirst(sb).filter((id) => order.includes(id)).length, 0);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('qa-rabbit'), []);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('throttling and 5xx: retried and backed off, the rollout still finishes safely', async (t) => {
  const sb = world(3, { faults: { throttleRate: 0.25, serverErrorRate: 0.05 } });
  newVersion(sb);
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  // lock: false — "every attempt counted" compares the rollout's reported API calls with the
  // sandbox's record of every call; the lock's release comes after rollout.done.
  const r = await roll(sb, { lock: false }).p;
  t.is(r.status, 'done');
  t.true(sb.calls.some((c) => c.actor === 'tool' && c.error && /Throttl|RequestLimit/.test(c.error)));
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('qa-rabbit'), []);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
  t.is(r.apiCalls, sb.callCount({ actor: 'tool' }), 'every attempt counted');
});

test('a crash mid-rollout, then a re-run finishes the job and restores', async (t) => {
  const sb = world(3);
  const order = oldestFirst(sb);
  newVersion(sb);
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  sb.crashAfter(25);
  const first = roll(sb);
  const err = await t.throwsAsync(first.p);
  t.true(sb.crashed());
  t.true(err instanceof SandboxCrashedError || (err as DeployError).cause instanceof SandboxCrashedError || /crash/i.test(String(err?.message)), String(err));
  const g = sb.world.state.groups['qa-rabbit'];
  t.true(g.tags.some((x) => x.key === 'asg-deploy:restore'), 'the originals are recorded on the group');

  t.true(g.tags.some((x) => x.key === LOCK_TAG), 'a killed run cannot release its lock');
  await forceUnlockGroup(createAwsPort(sb.newClients('operator'), sb.clock), sb.clock, 'qa-rabbit');
  const reporter = new RecordingReporter(sb.clock);
  const r = await rollGroup({ clients: sb.newClients('rerun'), clock: sb.clock, reporter, asg: 'qa-rabbit' });
  t.is(r.status, 'done');
  t.is(reporter.ofCode('guard.recovered').length, 1);
  t.is(oldestFirst(sb).filter((id) => order.includes(id)).length, 0);
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('qa-rabbit'), []);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('SIGINT (abort signal) mid-rollout: surge removed, everything restored, exit 130', async (t) => {
  const sb = world(3);
  const order = oldestFirst(sb);
  newVersion(sb);
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const ac = new AbortController();
  const start = sb.clock.now();
  sb.clock.onAdvance((now) => {
    if (now - start > 30_000 && !ac.signal.aborted) ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
  });
  const e = (await t.throwsAsync(roll(sb, { signal: ac.signal }).p, { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 130);
  sb.advance(120_000);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('qa-rabbit'), []);
  t.deepEqual(oldestFirst(sb).filter((id) => order.includes(id)).length >= 2, true, 'old nodes still serving');
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 3);
});

test('unknown and ambiguous prefixes: exit 2 naming the candidates; a unique prefix works', async (t) => {
  const sb = world(1, { name: 'qa-rabbit-a' });
  sb.seedGroup({ name: 'qa-rabbit-b', capacity: 1, launchTemplateName: 'qa-rabbit-a-lt' });
  sb.seedGroup({ name: 'qa-web', capacity: 1 });
  const reporter = new RecordingReporter(sb.clock);
  const base = { clients: sb.clients, clock: sb.clock, reporter };
  const amb = (await t.throwsAsync(rollGroup({ ...base, asg: 'qa-rabbit' }), { instanceOf: DeployError })) as DeployError;
  t.is(amb.exit, 2);
  t.regex(amb.message, /qa-rabbit-a, qa-rabbit-b/);
  const none = (await t.throwsAsync(rollGroup({ ...base, asg: 'prod' }), { instanceOf: DeployError })) as DeployError;
  t.is(none.exit, 2);
  const r = await rollGroup({ ...base, asg: 'qa-w' });
  t.is(r.target, 'qa-web');
  t.is(r.status, 'noop');
});

test('already up to date: no-op, exit 0, no mutating call', async (t) => {
  const sb = world(3);
  const r = await roll(sb).p;
  t.is(r.status, 'noop');
  // The run's own lock, taken and released, is its only write (invariant 6 allows it).
  const writes = sb.calls.filter((c) => c.actor === 'tool' && c.mutating).map((c) => c.operation);
  t.deepEqual(writes, ['CreateOrUpdateTags', 'DeleteTags']);
  t.false(sb.world.state.groups['qa-rabbit'].tags.some((x) => x.key === LOCK_TAG));
});

test('dry run: the plan (order, batches, gates) and no mutating call', async (t) => {
  const sb = world(3);
  const order = oldestFirst(sb);
  newVersion(sb);
  const { p, reporter } = roll(sb, { dryRun: true, batchSize: 2 });
  const r = await p;
  t.is(r.status, 'planned');
  t.is(sb.callCount({ actor: 'tool', mutating: true }), 0);
  const plan = reporter.ofCode(Codes.plan)[0];
  t.deepEqual(plan.data.batches, [order.slice(0, 2), order.slice(2)]);
});

test('200 instances in batches of 10%: never below 200 healthy, oldest first, frugal', async (t) => {
  const sb = world(200, { staggered: false });
  newVersion(sb);
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const order = oldestFirst(sb);
  const { p, reporter } = roll(sb, { batchSize: '10%' });
  const r = await p;
  t.is(r.replaced.length, 200);
  t.deepEqual([...r.replaced].sort(), [...order].sort());
  // Oldest first by LaunchTime; among instances launched together the step may pick for zone
  // balance (rollout/rolling/strategy.ts balancedOrder), so ids need not come in id order.
  const launched = new Map(sb.world.groupInstances(sb.world.state.groups['qa-rabbit']).map((i) => [i.id, i.launchTime]));
  const times = r.replaced.map((id) => sb.world.state.instances[id]?.launchTime ?? launched.get(id) ?? 0);
  t.true(times.every((x, n) => n === 0 || times[n - 1] <= x), 'replaced in LaunchTime order');
  t.deepEqual(reporter.ofCode(Codes.scale).map((e) => e.data.to), Array(10).fill(220));
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 200);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated('qa-rabbit'), []);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
  t.true(r.apiCalls / 200 <= 4, `${r.apiCalls} API calls for 200 instances`);
});

test('a failing gate halts the rollout naming the gate and its last state; a passing one lets it finish', async (t) => {
  const failing: Gate = { name: 'http http://{ip}:8080/health', check: async (i) => ({ ok: false, state: `GET http://${i.privateIpAddress}:8080/health: HTTP 503` }) };
  const sb = world(3);
  const order = oldestFirst(sb);
  newVersion(sb);
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const e = (await t.throwsAsync(roll(sb, { gates: [failing], stepTimeoutMs: 5 * 60_000 }).p, { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 1);
  t.regex(e.message, /gate http http:\/\/\{ip\}:8080\/health — GET http:\/\/[\d.]+:8080\/health: HTTP 503/);
  t.deepEqual(toolTerminations(sb).filter((x) => order.includes(x.instanceId)), []);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);

  const seen: string[] = [];
  const passing: Gate = { name: 'ssh true', check: async (i) => (seen.push(i.instanceId), { ok: true, state: 'ok' }) };
  const r = await roll(sb, { gates: [passing] }).p;
  t.is(r.status, 'done');
  t.true(seen.length >= 3);
  t.true(seen.every((id) => !order.includes(id)), 'gates run on new instances only');
});

test('adaptive polling: close to the physical limit and ≤ 15 API calls per instance at batch 1', async (t) => {
  const sb = world(10, { staggered: false });
  newVersion(sb);
  const r = await roll(sb).p;
  // Physical limit per instance in the sandbox: the ASG's launch tick (≤ 10 s) + boot 40 s +
  // ELB 3 × 10 s; plus the final drain 30 s and EC2 shutdown 20 s.
  t.log(`${r.seconds} s, ${r.apiCalls} API calls`);
  t.true(r.apiCalls / 10 <= 15, `${r.apiCalls} API calls for 10 instances`);
  t.true(r.seconds <= 10 * (10 + 40 + 30) * 1.03 + 50, `${r.seconds} s`);
});
