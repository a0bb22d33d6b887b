import test from 'ava';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';
import { Guard, RESTORE_TAG } from '../../orchestrator/rollout/guard';
import { runRollout, type Observation, type Strategy } from '../../orchestrator/rollout/engine';
import { abort, type Action } from '../../orchestrator/rollout/action';
import { FakePort, type FakeOptions } from './fake-port';
import { LOCK_TAG } from '../../orchestrator/lock/record';
import { forceUnlockGroup } from '../helpers/force-unlock';

/** The run's own lock (rollGroup takes it by default), taken and released: not a change to the group. */
const changes = (port: FakePort) => port.mutations.filter((m) => m !== `tag ${LOCK_TAG}` && m !== `untag ${LOCK_TAG}`);
import type { Gate } from '../../orchestrator/gates/gate';

function setup(o: Partial<FakeOptions> = {}) {
  const clock = new VirtualClock();
  const port = new FakePort(clock, { capacity: 3, ...o });
  const reporter = new RecordingReporter(clock);
  const roll = (opts: Partial<RollOptions> = {}) => rollGroup({ port, clock, reporter, asg: 'rabbit', ...opts });
  return { clock, port, reporter, roll };
}

const oldIdsByAge = (port: FakePort) =>
  port.instances.filter((i) => i.version === 1).sort((a, b) => a.launchedAt - b.launchedAt).map((i) => i.id);

test('surge 1 (3-4-3): every old instance replaced oldest first, never below 3 healthy, everything restored', async (t) => {
  const { port, reporter, roll } = setup();
  const order = oldIdsByAge(port);
  const r = await roll();
  t.is(r.status, 'done');
  t.deepEqual(r.replaced, order, 'oldest LaunchTime first (ids are not in age order)');
  t.true(port.terminations.every((x) => x.version === 1 && x.by === 'tool'));
  t.true(port.minHealthySeen >= 3, `min healthy ${port.minHealthySeen}`);
  t.is(port.desired, 3);
  t.is(port.max, 3, 'max raised for the rollout, then restored');
  t.deepEqual(port.suspended, [], 'processes the tool suspended are resumed');
  t.false(RESTORE_TAG in port.tags);
  t.true(port.mutations.indexOf(`tag ${RESTORE_TAG}`) < port.mutations.findIndex((m) => m.startsWith('suspend')), 'originals recorded before any change');
  const done = reporter.ofCode(Codes.done)[0];
  t.deepEqual(done.data.replaced, order);
  t.true((done.data.apiCalls as number) > 0);
  t.deepEqual(reporter.ofCode(Codes.scale).map((e) => [e.data.from, e.data.to]), [[3, 4], [3, 4], [3, 4]]);
  t.is(reporter.ofCode(Codes.terminate).length, 3);
  t.is(reporter.ofCode(Codes.healthy).length, 3);
  t.is(port.instances.filter((i) => i.version === 2).length, 3);
});

test('surge 0 (3-2-3) with min healthy 2: never below 2, desired never raised', async (t) => {
  const { port, roll, reporter } = setup();
  const order = oldIdsByAge(port);
  const r = await roll({ surge: 0, minHealthy: 2 });
  t.deepEqual(r.replaced, order);
  t.is(port.minHealthySeen, 2);
  t.false(port.mutations.some((m) => m.startsWith('setDesired') || m.startsWith('updateSizes')));
  t.true(port.mutations.filter((m) => m.startsWith('terminate')).every((m) => !m.endsWith('-1')));
  t.is(reporter.ofCode(Codes.scale).length, 0);
});

test('surge 1 with a 3-node quorum and min healthy 2: never below 2 (in fact 3)', async (t) => {
  const { port, roll } = setup();
  await roll({ minHealthy: 2 });
  t.true(port.minHealthySeen >= 2);
});

test('surge 0 below min healthy is refused (exit 3) with nothing changed', async (t) => {
  const { port, roll } = setup();
  const e = await t.throwsAsync(roll({ surge: 0, minHealthy: 3 }), { instanceOf: DeployError });
  t.is((e as DeployError).exit, 3);
  t.deepEqual(changes(port), [], 'nothing changed but the run\'s own lock, taken and released');
  t.false(LOCK_TAG in port.tags);
});

test('a bad new image halts: exit 1, old nodes serving, surge removed, group restored, message names instance/check/state', async (t) => {
  const { port, roll, reporter } = setup({ badVersions: [2] });
  const e = (await t.throwsAsync(roll({ stepTimeoutMs: 10 * 60_000 }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 1);
  t.is(e.code, 'step-timeout');
  t.regex(e.message, /i-new0001 not healthy after \d+ s .*elb lb — OutOfService: Instance has failed/);
  t.is(port.terminations.filter((x) => x.version === 1).length, 0, 'no old node touched');
  t.deepEqual(port.terminations.map((x) => x.id), ['i-new0001'], 'the failing surge instance removed');
  t.is(port.desired, 3);
  t.is(port.max, 3);
  t.deepEqual(port.suspended, []);
  t.false(RESTORE_TAG in port.tags);
  t.is(port.healthyCount(), 3);
  const failed = reporter.ofCode(Codes.failed)[0];
  t.is(failed.data.instanceId, 'i-new0001');
  t.is(failed.data.gate, 'elb lb');
});

test('the ASG replacing new instances again and again halts the rollout', async (t) => {
  const { port, roll } = setup({ badVersions: [2], replaceUnhealthyAfterMs: 300_000 });
  const e = (await t.throwsAsync(roll(), { instanceOf: DeployError })) as DeployError;
  t.is(e.code, 'replacement-failing');
  t.is(port.terminations.filter((x) => x.version === 1).length, 0);
  t.is(port.desired, 3);
});

test('an already suspended process is neither recorded nor resumed', async (t) => {
  const { port, roll } = setup({ suspended: ['AZRebalance'] });
  await roll();
  t.deepEqual(port.suspended, ['AZRebalance']);
  t.true(port.mutations.includes('suspend AlarmNotification,ScheduledActions'));
  t.true(port.mutations.includes('resume AlarmNotification,ScheduledActions'));
});

test('already up to date: no-op, no mutating call', async (t) => {
  const { port, roll, reporter } = setup();
  port.version = 1;
  const r = await roll();
  t.is(r.status, 'noop');
  t.deepEqual(changes(port), [], 'nothing changed but the run\'s own lock, taken and released');
  t.false(LOCK_TAG in port.tags);
  t.deepEqual(reporter.ofCode(Codes.done)[0].data.replaced, []);
});

test('dry run: the plan (order, batches), no mutating call', async (t) => {
  const { port, roll, reporter } = setup();
  const r = await roll({ dryRun: true });
  t.is(r.status, 'planned');
  t.deepEqual(port.mutations, []);
  const plan = reporter.ofCode(Codes.plan)[0];
  t.deepEqual(plan.data.batches, oldIdsByAge(port).map((id) => [id]));
  t.deepEqual(plan.data.suspend, ['AZRebalance', 'AlarmNotification', 'ScheduledActions']);
});

test('abort signal mid-rollout: stops, removes the surge, restores, exit 130', async (t) => {
  const { port, clock, roll } = setup();
  const ac = new AbortController();
  const start = clock.now();
  clock.onAdvance((now) => {
    if (now - start > 150_000 && !ac.signal.aborted) ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
  });
  const e = (await t.throwsAsync(roll({ signal: ac.signal }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 130);
  t.is(port.desired, 3);
  t.is(port.max, 3);
  t.deepEqual(port.suspended, []);
  t.false(RESTORE_TAG in port.tags);
  t.true(port.terminations.every((x) => x.by === 'tool'));
  t.true(port.terminations.filter((x) => x.version === 2).every((x) => !x.healthy), 'no healthy up-to-date instance terminated');
});

test('abort while AWS\'s own launch is Pending and every old node is needed for min healthy: the cleanup waits for it to settle, then takes the surge back explicitly; everything restored (issue 10, chaos seed 1267799361)', async (t) => {
  const { port, clock, roll, reporter } = setup();
  // An up-to-date instance AWS launched on its own (an AZ-rebalancing launch, above desired) is
  // Pending when the run starts: not the tool's to terminate while it is on its way.
  port.instances.push({ id: 'i-aws0001', version: 2, launchedAt: clock.now(), good: true });
  const ac = new AbortController();
  const start = clock.now();
  clock.onAdvance((now) => {
    if (now - start > 20_000 && !ac.signal.aborted) ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
  });
  const e = (await t.throwsAsync(roll({ signal: ac.signal }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 130);
  t.regex(e.message, /everything the tool changed was restored/);
  t.true(reporter.ofCode('rollout.cleanup').some((x) => x.data.action === 'wait' && /waiting for i-aws0001 \(Pending\) to settle/.test(x.message)), 'it waited for AWS\'s launch');
  t.is(port.desired, 3, 'back to capacity');
  t.is(port.max, 3);
  t.deepEqual(port.suspended, []);
  t.false(RESTORE_TAG in port.tags);
  t.true(port.minHealthySeen >= 3, `min healthy ${port.minHealthySeen}`);
  t.true(port.terminations.filter((x) => x.version === 2).every((x) => !x.healthy), 'no healthy up-to-date instance terminated');
  t.is(port.terminations.length, 1, 'one instance went, explicitly (terminate with decrement), none by AWS');
});

test('crash mid-rollout, then a re-run finishes the job and restores', async (t) => {
  const { port, clock, reporter } = setup();
  // First run "crashes": its clock stops being served once the group is at 4 (no cleanup runs).
  const ac = new AbortController();
  let crashed = false;
  const crashingPort = new Proxy(port, {
    get(target, prop, recv) {
      const v = Reflect.get(target, prop, recv);
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (crashed) return new Promise(() => undefined); // the process is gone: nothing answers
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  clock.onAdvance(() => {
    if (!crashed && port.desired === 4 && port.instances.some((i) => i.version === 2 && port.elbHealthy(i))) crashed = true;
  });
  void rollGroup({ port: crashingPort, clock, reporter, asg: 'rabbit', signal: ac.signal }).catch(() => undefined);
  while (!crashed) await clock.sleep(1000);
  t.is(port.desired, 4);
  t.truthy(port.tags[RESTORE_TAG], 'the originals are on the group');
  t.true(port.suspended.includes('AZRebalance'));

  t.truthy(port.tags[LOCK_TAG], 'a killed run cannot release its lock');
  await forceUnlockGroup(port, clock, 'rabbit');
  const reporter2 = new RecordingReporter(clock);
  const r = await rollGroup({ port, clock, reporter: reporter2, asg: 'rabbit' });
  t.is(r.status, 'done');
  t.is(reporter2.ofCode('guard.recovered').length, 1);
  t.is(port.desired, 3, 'target is the recorded desired, not the surge');
  t.is(port.max, 3);
  t.deepEqual(port.suspended, []);
  t.false(RESTORE_TAG in port.tags);
  t.is(port.instances.filter((i) => i.version === 1 && port.isLive(i)).length, 0);
  t.true(port.minHealthySeen >= 3);
  ac.abort();
});

test('a spontaneous termination of an old node mid-rollout: finishes, never below min healthy after it', async (t) => {
  const { port, clock, roll } = setup();
  const victim = oldIdsByAge(port)[2];
  let killed = false;
  const start = clock.now();
  clock.onAdvance((now) => {
    if (!killed && now - start > 100_000) {
      killed = true;
      port.killSpontaneously(victim);
    }
  });
  const r = await roll();
  t.is(r.status, 'done');
  t.false(r.replaced.includes(victim));
  t.is(port.instances.filter((i) => i.version === 1 && port.isLive(i)).length, 0);
  t.true(port.terminations.filter((x) => x.by === 'tool').every((x) => x.version === 1));
  t.is(port.desired, 3);
});

test('throttling: backs off and still finishes', async (t) => {
  const { port, roll, reporter } = setup({ throttleCalls: 4 });
  const r = await roll();
  t.is(r.status, 'done');
  t.true(reporter.ofCode('aws.throttled').length >= 1);
  t.true(port.minHealthySeen >= 3);
});

test('200 instances in batches of 10%: 10 steps, oldest first, never below 200 healthy', async (t) => {
  const { port, roll, reporter } = setup({ capacity: 200 });
  const order = oldIdsByAge(port);
  const r = await roll({ batchSize: '10%' });
  t.is(r.replaced.length, 200);
  t.deepEqual(r.replaced, order);
  t.deepEqual(reporter.ofCode(Codes.scale).map((e) => e.data.to), Array(10).fill(220));
  t.true(port.minHealthySeen >= 200);
  t.is(port.max, 200);
  t.true(r.apiCalls / 200 <= 4, `${r.apiCalls} calls for 200 instances`);
});

test('adaptive polling: duration within 3 % of the physical limit, ≤ 15 API calls per instance at batch 1', async (t) => {
  const { port, roll } = setup({ capacity: 10 });
  const r = await roll();
  // Physical limit per step: boot 60 s + 3 checks × 10 s; plus the final drain of 30 s.
  const limit = 10 * (60 + 30) + 30;
  t.true(r.seconds <= limit * 1.03, `${r.seconds} s vs limit ${limit} s`);
  t.true(r.apiCalls / 10 <= 15, `${r.apiCalls} API calls for 10 instances`);
  t.is(port.desired, 10);
});

test('fixed --poll-interval polls at exactly that period', async (t) => {
  const { port, clock, roll } = setup();
  const times: number[] = [];
  const observe = port.observeGroup.bind(port);
  port.observeGroup = async () => {
    times.push(clock.now());
    return observe();
  };
  // lock: false — this times the engine's polls by its observeGroup calls, and the lock reads the
  // group too (taking it, then checking it after its settle wait).
  await roll({ pollIntervalMs: 30_000, lock: false });
  const gaps = new Set(times.slice(1).map((x, n) => x - times[n]).filter((g) => g > 0));
  t.deepEqual([...gaps], [30_000]);
});

test('unknown and ambiguous prefixes are exit 2 naming the candidates', async (t) => {
  const { roll } = setup();
  const none = (await t.throwsAsync(roll({ asg: 'nope' }), { instanceOf: DeployError })) as DeployError;
  t.is(none.exit, 2);
  const many = (await t.throwsAsync(roll({ asg: 'r' }), { instanceOf: DeployError })) as DeployError;
  t.is(many.exit, 2);
  t.regex(many.message, /rabbit, rabbitmq-other/);
});

test('abort while a gate check is in flight: the check is cancelled, cleanup still restores', async (t) => {
  const { port, clock, roll } = setup();
  const ac = new AbortController();
  const hanging: Gate = {
    name: 'ssh hangs',
    check: (_i, signal) =>
      new Promise((_resolve, reject) => {
        signal?.addEventListener('abort', () => reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), { once: true });
        // Abort once the gate is being waited on (the first new instance passed the ELB).
        setImmediate(() => ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' })));
      }),
  };
  const e = (await t.throwsAsync(roll({ signal: ac.signal, gates: [hanging] }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 130);
  t.is(port.desired, 3);
  t.is(port.max, 3);
  t.deepEqual(port.suspended, []);
  t.false(RESTORE_TAG in port.tags);
  t.is(port.terminations.filter((x) => x.version === 1).length, 0);
  void clock;
});

test('a cleanup step that fails does not stop the restore: processes resumed, the record kept while desired is left raised, exit 1 saying so; a re-run finishes it', async (t) => {
  const { port, roll, reporter } = setup({ badVersions: [2] });
  const terminate = port.terminateInstance.bind(port);
  let refuse = true;
  port.terminateInstance = async (id: string, decrement: boolean) => {
    if (refuse) throw Object.assign(new Error(`Instance ${id} cannot be terminated right now`), { name: 'ValidationError' });
    return terminate(id, decrement);
  };
  const e = (await t.throwsAsync(roll({ stepTimeoutMs: 10 * 60_000 }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 1);
  t.is(e.code, 'step-timeout');
  t.regex(e.message, /restore incomplete \(cleanup step failed .*i-new0001.*\); left changed: rabbit: desired 4 \(originally 3\), max 4 \(originally 3\), restore tag asg-deploy:restore kept/);
  t.notRegex(e.message, /suspended/, 'the processes were resumed all the same');
  t.deepEqual(port.suspended, []);
  t.is(port.desired, 4);
  t.deepEqual(JSON.parse(port.tags[RESTORE_TAG]), { v: 1, desired: 3, max: 3, suspended: [], since: JSON.parse(port.tags[RESTORE_TAG]).since }, 'the originals stay for a re-run');
  t.is(port.terminations.filter((x) => x.version === 1).length, 0, 'no old node touched');
  t.is(reporter.ofCode(Codes.failed)[0].data.restored, false);

  refuse = false;
  const e2 = (await t.throwsAsync(roll({ stepTimeoutMs: 10 * 60_000 }), { instanceOf: DeployError })) as DeployError;
  t.is(e2.exit, 1);
  t.notRegex(e2.message, /restore incomplete/);
  t.is(port.desired, 3);
  t.is(port.max, 3);
  t.deepEqual(port.suspended, []);
  t.false(RESTORE_TAG in port.tags);
  t.is(port.terminations.filter((x) => x.version === 1).length, 0, 'no old node touched');
});

test('rollGroup holds the group\'s lock by default: a second run on the group meanwhile is refused (exit 3, nothing changed), the first finishes and releases it (issue 10)', async (t) => {
  const { port, clock, reporter, roll } = setup();
  const first = roll();
  await clock.sleep(60_000);
  t.truthy(port.tags[LOCK_TAG], 'the first run holds the lock without being asked to');
  const mutationsBefore = port.mutations.length;
  const second = (await t.throwsAsync(rollGroup({ port, clock, reporter: new RecordingReporter(clock), asg: 'rabbit', runId: 'second' }), { instanceOf: DeployError })) as DeployError;
  t.is(second.exit, 3);
  t.regex(second.message, /rabbit is locked by .*asg-deploy roll rabbit/);
  t.deepEqual(port.mutations.slice(mutationsBefore).filter((m) => !m.startsWith('terminate') && !m.startsWith('setDesired') && !m.startsWith('updateSizes')), [], 'the refused run wrote nothing');
  const r = await first;
  t.is(r.status, 'done');
  t.is(port.mutations[0], `tag ${LOCK_TAG}`, 'the lock is taken before anything changes');
  t.false(LOCK_TAG in port.tags, 'released at the end');
  t.is(reporter.ofCode('lock.acquired').length, 1);
  t.is(reporter.ofCode('lock.released').length, 1);
});

/**
 * A strategy that acts `acts` times (suspending a process through its guard), then aborts with a
 * finding marked as a refusal: what the engine makes of it depends on whether the run has acted.
 */
function refusingAfter(port: FakePort, clock: VirtualClock, reporter: RecordingReporter, acts: number, data: Record<string, unknown>): Strategy<Observation> {
  const guard = new Guard(port, 'rabbit', reporter, () => clock.now());
  let turn = 0;
  return {
    strategy: 'rolling',
    target: 'rabbit',
    async observe() {
      return { groups: [await port.observeGroup('rabbit')], isHealthy: () => true };
    },
    decide: (): Action =>
      turn++ < acts ? { kind: 'suspend', group: 'rabbit', processes: ['AZRebalance'], reason: 'guard rail' } : abort('below-min-healthy', 'rabbit: terminating i-old0000 would drop below --min-healthy 3', { refused: true, ...data }),
    plan: () => ({ message: 'plan', data: {}, noop: false }),
    cleanup: () => undefined,
    guard: () => guard,
    mayTerminate: () => false,
  };
}

test('a refusal is exit 3 only before the run changed anything; the same finding after it acted halts (exit 1, restored) — a refused run changes nothing (chaos seed 3935578497)', async (t) => {
  const atStart = setup();
  const e0 = (await t.throwsAsync(runRollout(refusingAfter(atStart.port, atStart.clock, atStart.reporter, 0, {}), { port: atStart.port, clock: atStart.clock, reporter: atStart.reporter }), { instanceOf: DeployError })) as DeployError;
  t.is(e0.exit, 3, 'refused before any change');
  t.deepEqual(atStart.port.mutations, [], 'nothing changed');

  const midRun = setup();
  const e1 = (await t.throwsAsync(runRollout(refusingAfter(midRun.port, midRun.clock, midRun.reporter, 1, {}), { port: midRun.port, clock: midRun.clock, reporter: midRun.reporter }), { instanceOf: DeployError })) as DeployError;
  t.is(e1.code, 'below-min-healthy');
  t.is(e1.exit, 1, 'after the run acted it is a halt, not a refusal');
  t.true(midRun.port.mutations.includes('suspend AZRebalance'));
  t.deepEqual(midRun.port.suspended, [], 'restored');
  t.false(RESTORE_TAG in midRun.port.tags);

  // A finding the contract makes a refusal wherever it comes (launch-template-changed) stays exit 3.
  const contract = setup();
  const e2 = (await t.throwsAsync(runRollout(refusingAfter(contract.port, contract.clock, contract.reporter, 1, { refusedMidRun: true }), { port: contract.port, clock: contract.clock, reporter: contract.reporter }), { instanceOf: DeployError })) as DeployError;
  t.is(e2.exit, 3);
});
