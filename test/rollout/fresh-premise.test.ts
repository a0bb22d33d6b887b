/**
 * The engine's rail under a terminate that lowers the healthy count (engine.ts stalePremise): the
 * decision rests on every read of the observation, so it is sent only while the OLDEST of them
 * (Observation.readAt) is at most STALE_DECISION_MS old; else rollout.recheck, a fresh look, and
 * the strategy decides anew on it. Chaos seed 3147681216 (rolling, NLB target group, throttling):
 * the target health was read at 00:45:16.0, the group read was throttled until 00:45:19.4, a new
 * instance's target turned unhealthy at 00:45:18.0, and the outdated instance terminated on that
 * look left 21 healthy of a floor of 22.
 */
import test from 'ava';
import { VirtualClock } from '../../orchestrator/clock';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { DeployError } from '../../orchestrator/errors';
import { runRollout, STALE_DECISION_MS, STALE_STREAK_MIN_LOOKS, type Observation, type Strategy } from '../../orchestrator/rollout/engine';
import { done, wait, type Action } from '../../orchestrator/rollout/action';
import { Guard } from '../../orchestrator/rollout/guard';
import { FakePort } from './fake-port';

/** One look the fake strategy returns: how old its oldest read is, and which instances it sees not healthy. */
interface Look {
  /** ms between the oldest read and the end of the look (undefined: the observation says nothing). */
  ageMs?: number;
  unhealthy?: string[];
  /** The look itself takes this long (its reads answered slowly): the clock moves on by it. */
  takesMs?: number;
}

/**
 * A strategy that terminates (with decrement) the first instance it sees not healthy when
 * `takeSick`, else the first healthy one while the healthy count stays at or above `floor` after
 * it (once), else done. Each observe() takes the next scripted look (the last one repeats).
 */
function scripted(looks: Look[], floor: number, takeSick = false) {
  const clock = new VirtualClock();
  const port = new FakePort(clock, { capacity: 3, maxSize: 3 });
  const reporter = new RecordingReporter(clock);
  const guard = new Guard(port, 'rabbit', reporter, () => clock.now());
  const freshFlags: boolean[] = [];
  let n = 0;
  let tookHealthy = false;
  const strategy: Strategy<Observation> = {
    strategy: 'rolling',
    target: 'rabbit',
    async observe(fresh = false) {
      freshFlags.push(fresh);
      const look = looks[Math.min(n++, looks.length - 1)];
      if (look.takesMs) clock.advanceTo(clock.now() + look.takesMs);
      const g = await port.observeGroup('rabbit');
      const live = new Set(g.instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.instanceId));
      return {
        groups: [g],
        isHealthy: (_g, id) => live.has(id) && !(look.unhealthy ?? []).includes(id),
        ...(look.ageMs !== undefined ? { readAt: clock.now() - look.ageMs } : {}),
      };
    },
    decide(o): Action {
      const live = o.groups[0].instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.instanceId).sort();
      const healthy = live.filter((id) => o.isHealthy('rabbit', id));
      const sick = live.filter((id) => !o.isHealthy('rabbit', id));
      if (takeSick && sick.length > 0) return { kind: 'terminate', group: 'rabbit', instanceIds: [sick[0]], decrement: true, reason: `${sick[0]} not healthy` };
      if (!tookHealthy && healthy.length - 1 >= floor) return { kind: 'terminate', group: 'rabbit', instanceIds: [healthy[0]], decrement: true, reason: `${healthy[0]} outdated` };
      return done('nothing left');
    },
    acted(a) {
      if (a.kind === 'terminate' && a.reason.endsWith('outdated')) tookHealthy = true;
    },
    plan: () => ({ message: 'plan', data: {}, noop: false }),
    cleanup: () => undefined,
    guard: () => guard,
    mayTerminate: () => true,
  };
  const run = (transientBudgetMs?: number) => runRollout(strategy, { port, clock, reporter, ...(transientBudgetMs !== undefined ? { transientBudgetMs } : {}) });
  return { port, reporter, run, freshFlags };
}

const byTool = (port: FakePort) => port.terminations.filter((x) => x.by === 'tool').map((x) => x.id);

test('a healthy instance is not terminated on a look whose oldest read is stale: rollout.recheck, a fresh look, decided anew on it (chaos seed 3147681216)', async (t) => {
  // The first look's target health was read 3.4 s before the look ended; meanwhile i-old0001's
  // target turned unhealthy, which the fresh look sees: 2 healthy, floor 2 → nothing may go.
  const { port, reporter, run, freshFlags } = scripted([{ ageMs: 3_400 }, { unhealthy: ['i-old0001'] }], 2);
  await run();
  t.deepEqual(byTool(port), [], 'nothing terminated: on the fresh look the healthy count is at the floor');
  const recheck = reporter.ofCode('rollout.recheck');
  t.is(recheck.length, 1);
  t.deepEqual(recheck[0].data.instanceIds, ['i-old0000']);
  t.is(recheck[0].data.ageMs, 3_400);
  t.regex(recheck[0].message, /i-old0000 not terminated yet: the health it was decided on was read 3\.4 s ago; looking again/);
  t.deepEqual(freshFlags, [false, true], 'the look after the recheck asks every check anew');
});

// The rule, one row per situation: [what, looks, floor, takeSick, terminated, rechecks].
const rows: Array<[string, Look[], number, boolean, string[], number]> = [
  ['a healthy one on a stale look, still sound on the fresh look: terminated after one recheck', [{ ageMs: 3_400 }, { ageMs: 0 }], 2, false, ['i-old0000'], 1],
  ['a healthy one on a fresh look (0 s): at once', [{ ageMs: 0 }], 2, false, ['i-old0000'], 0],
  [`a healthy one on a look exactly STALE_DECISION_MS old: at once`, [{ ageMs: STALE_DECISION_MS }], 2, false, ['i-old0000'], 0],
  ['a healthy one, the look saying nothing of its reads (the look ended now): at once', [{}], 2, false, ['i-old0000'], 0],
  ['a NOT healthy one on a stale look (it lowers no healthy count): at once', [{ ageMs: 10_000, unhealthy: ['i-old0002'] }, { ageMs: 0 }], 3, true, ['i-old0002'], 0],
];
for (const [what, looks, floor, takeSick, terminated, rechecks] of rows) {
  test(`stale premise: ${what}`, async (t) => {
    const { port, reporter, run } = scripted(looks, floor, takeSick);
    await run();
    t.deepEqual(byTool(port), terminated);
    t.is(reporter.ofCode('rollout.recheck').length, rechecks);
  });
}

test('reads that never come fresh enough (each look takes 3 s): no endless looking again with the lock held — past the transient budget the run halts (exit 1, stale-reads), nothing terminated on a stale read', async (t) => {
  const { port, reporter, run } = scripted([{ ageMs: 3_000, takesMs: 3_000 }], 2);
  const err = (await t.throwsAsync(run(60_000), { instanceOf: DeployError })) as DeployError;
  t.is(err.code, 'stale-reads');
  t.is(err.exit, 1, 'a halt, not a refusal: the run had looked and decided');
  t.regex(err.message, /i-old0000 not terminated: for \d+ s \(\d+ looks\) every look rested on a read older than 2 s .*nothing was terminated on a stale read/);
  t.deepEqual(byTool(port), [], 'nothing terminated');
  const rechecks = reporter.ofCode('rollout.recheck').length;
  t.true(rechecks >= STALE_STREAK_MIN_LOOKS && rechecks <= 60_000 / 3_000 + 2, `looked again ${rechecks} times, bounded by the budget`);
});

test('a slow look now and then is not a halt: one fresh look resets the count', async (t) => {
  // Stale looks for longer than the budget, but a fresh one in between each time: never halted.
  const looks: Look[] = [];
  for (let i = 0; i < 30; i++) looks.push({ ageMs: 3_000, takesMs: 3_000 });
  looks.push({ ageMs: 0 });
  const { port, run } = scripted(looks, 2);
  await run(600_000);
  t.deepEqual(byTool(port), ['i-old0000'], 'terminated on the fresh look, within the budget');
  const stale = scripted([{ ageMs: 3_000, takesMs: 3_000 }, { ageMs: 3_000, takesMs: 3_000 }, { ageMs: 0 }], 2);
  await stale.run(1);
  t.deepEqual(byTool(stale.port), ['i-old0000'], `never halted before more than ${STALE_STREAK_MIN_LOOKS} stale looks, however small the budget`);
});

test('stale looks count only back to back: one stale look, a long wait deciding other things, then a short run of stale looks (a throttling storm) is no stale-reads halt', async (t) => {
  const clock = new VirtualClock();
  const port = new FakePort(clock, { capacity: 3, maxSize: 3 });
  const reporter = new RecordingReporter(clock);
  const guard = new Guard(port, 'rabbit', reporter, () => clock.now());
  let n = 0;
  const strategy: Strategy<Observation> = {
    strategy: 'rolling',
    target: 'rabbit',
    async observe() {
      n++;
      const g = await port.observeGroup('rabbit');
      // Look 1 stale; looks 2–12 fresh, deciding to wait (10 min each); looks 13–18 stale (3 s); then fresh.
      const stale = n === 1 || (n >= 13 && n <= 18);
      if (stale) clock.advanceTo(clock.now() + 3_000);
      return { groups: [g], isHealthy: () => true, readAt: stale ? clock.now() - 3_000 : clock.now() };
    },
    decide(o): Action {
      if (n >= 2 && n <= 12) return wait('something else first', 600_000);
      const live = o.groups[0].instances.filter((i) => i.lifecycleState === 'InService').map((i) => i.instanceId).sort();
      if (live.length === 3) return { kind: 'terminate', group: 'rabbit', instanceIds: [live[0]], decrement: true, reason: 'outdated' };
      return done('ok');
    },
    plan: () => ({ message: 'plan', data: {}, noop: false }),
    cleanup: () => undefined,
    guard: () => guard,
    mayTerminate: () => true,
  };
  const r = await runRollout(strategy, { port, clock, reporter });
  t.is(r.status, 'done', 'the 6 stale looks in a row took 18 s, far inside the budget');
  t.is(byTool(port).length, 1, 'terminated on the first fresh look after the storm');
});

test('a scale-in resting on another group\'s health read more than 2 s ago (A/B\'s drain) is not sent: rollout.recheck, that health read again (reread), decided anew on it', async (t) => {
  const clock = new VirtualClock();
  const port = new FakePort(clock, { capacity: 3, maxSize: 3 });
  const reporter = new RecordingReporter(clock);
  const guard = new Guard(port, 'rabbit', reporter, () => clock.now());
  const rereads: number[] = [];
  let seenAt = clock.now() - 3_000;
  let drained = false;
  const strategy: Strategy<Observation> = {
    strategy: 'ab',
    target: 'rabbit',
    async observe() {
      return { groups: [await port.observeGroup('rabbit')], isHealthy: () => true };
    },
    decide(): Action {
      if (drained) return done('drained');
      return { kind: 'updateSizes', group: 'rabbit', desired: 0, min: 0, reason: 'drain the old color', seenAt };
    },
    async reread(_a, o) {
      rereads.push(clock.now());
      seenAt = clock.now();
      return o;
    },
    acted(a) {
      if (a.kind === 'updateSizes') drained = true;
    },
    plan: () => ({ message: 'plan', data: {}, noop: false }),
    cleanup: () => undefined,
    guard: () => guard,
    mayTerminate: () => true,
  };
  await runRollout(strategy, { port, clock, reporter });
  t.is(rereads.length, 1, 'read again once');
  const recheck = reporter.ofCode('rollout.recheck');
  t.is(recheck.length, 1);
  t.regex(recheck[0].message, /not scaled in yet \(desired → 0\): the health it rests on was read 3 s ago; looking again/);
  t.is(port.desired, 0, 'then drained, on the fresh read');
});
