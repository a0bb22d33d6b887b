/**
 * The rollout engine shared by every strategy (rolling, A/B), on the injected Clock (STYLE.md).
 *
 * ## The loop
 * Start: observe, plan (`rollout.plan`; a dry run stops here), preconditions. Then each turn:
 *  1. guard the run: stop when interrupted or past the whole-rollout timeout;
 *  2. decide (the strategy, pure): `done` → restore and finish, `abort` → fail;
 *  3. act — behind the engine's own guard: a terminate the strategy did not plan is refused, a
 *     "not healthy" verdict grown stale is looked at again before terminating on it, and an
 *     instance counted healthy is terminated only while the look's oldest read is fresh — or wait
 *     (adaptive polling, polling.ts);
 *  4. observe again (or take the strategy's prediction, once in a row), then the halting checks
 *     (CloudWatch alarms: one batched read; ALARM halts the run).
 * Any failure: clean up the surge the strategy can take back, restore every guard, report.
 * Each phase is one named method of {@link RolloutRun}.
 *
 * ## How a strategy plugs in
 * Implement {@link Strategy}:
 *  - `observe()` reads the world (through the AwsPort) and returns an {@link Observation}: the
 *    group snapshots plus a per-instance health verdict. It may update the strategy's own memory
 *    (first-seen times, gate results); it must not change AWS.
 *  - `decide(o)` is PURE: from the observation (and memory) to the next {@link Action}
 *    (rollout/action.ts). `wait` → the engine sleeps (adaptive: `waitMs` hints the earliest useful
 *    re-observation; or the fixed `--poll-interval`), `done` → restore and finish, `abort` → fail,
 *    anything else → the engine performs it and re-observes at once.
 *  - `plan(o)` → the `rollout.plan` event (a dry run prints it and stops; `noop` = nothing to do).
 *  - `check(o)` (optional): preconditions before the first change; throw refusedError/usageError.
 *  - `cleanup(o)` → after a failure, timeout or abort: the next step that removes surge capacity
 *    safely (e.g. terminate the failed new instance with decrement), or undefined when none is left.
 *    The engine runs it until undefined (a few rounds at most; a `wait` — the group must settle
 *    first, bounded by the strategy — sleeps and looks again), then restores every guard. A
 *    step that fails (or that `mayTerminate` refuses) ends the cleanup, not the restore: the
 *    rest is put back, the restore record is kept while desired is left changed, and the failure
 *    says what is left (`cleanupLeft(o)`, optional: what the strategy could not safely undo).
 *  - `guard(group)` → the {@link Guard} of each group it touches: max/desired/suspend/protect go
 *    only through it, so originals are recorded (group tags) before any change and restored on
 *    every exit path.
 *  - `mayTerminate(group, id)`: the engine refuses to terminate anything the strategy did not plan
 *    (docs/design.md invariant 2) — a bug in a decide halts the rollout rather than a healthy node.
 *
 * The engine emits the coded events: rollout.plan, group.scale (via the guard), instance.launch
 * and instance.healthy (diffing observations), instance.terminate, rollout.done, rollout.failed.
 * Failures throw DeployError after cleanup: exit 1 (rolloutError; `data.refused` before the run
 * changed anything, or `data.refusedMidRun` → exit 3),
 * abort signal → interruptedError (130).
 */
import type { AwsPort, GroupSnapshot, InstanceView } from '../aws/port';
import { errorName, isThrottling, isTransient, sentOnce, transientBackoff, DEFAULT_TRANSIENT_BUDGET_MS } from '../aws/transient';
import type { Clock } from '../clock';
import { DeployError, interruptedError, isAbortError, refusedError, rolloutError } from '../errors';
import { Codes, type Reporter } from '../report/reporter';
import type { Action } from './action';
import type { HaltCheck } from './alarms';
import type { Guard } from './guard';
import { targetGroupName } from './health/target-group';
import { nextDelay, type PollingOptions } from './polling';
import type { RolloutResult } from './result';

export interface Observation {
  groups: GroupSnapshot[];
  /** Healthy by every check the strategy applies (ASG, ELB, gates). */
  isHealthy(group: string, instanceId: string): boolean;
  /** ms since the thing being waited for became possible (adaptive polling before any estimate). */
  waitingSinceMs?: number;
  /**
   * When the OLDEST read this observation rests on was taken (clock ms): e.g. a target group's
   * health read before a group read that throttling held up for seconds. Undefined: when
   * `observe()` returned. A terminate that lowers the healthy count is sent only while it is at
   * most STALE_DECISION_MS old (RolloutRun.stalePremise).
   */
  readAt?: number;
}

export interface Plan {
  message: string;
  data: Record<string, unknown>;
  /** Nothing to do: the engine reports a no-op done without changing anything. */
  noop: boolean;
  /** The no-op's summary when there is more to say than "already up to date" (what a policy skipped). */
  noopSummary?: string;
}

export interface Strategy<O extends Observation> {
  readonly strategy: 'rolling' | 'ab';
  /** ASG name (rolling) or environment (A/B). */
  readonly target: string;
  /**
   * `fresh`: every check asked anew, no shortcut (the engine asks for it after a failure or an
   * interrupt, where the cleanup acts on the observation).
   */
  observe(fresh?: boolean): Promise<O>;
  decide(o: O): Action;
  plan(o: O): Plan;
  check?(o: O): void;
  cleanup(o: O): Action | undefined;
  /**
   * Optional: once `cleanup` returns undefined, what it had to leave changed (e.g. desired above
   * the original: no instance could go safely), or undefined. The engine then restores everything
   * else, keeps the restore record (a re-run knows the originals) and reports it.
   */
  cleanupLeft?(o: O): string | undefined;
  guard(group: string): Guard;
  mayTerminate(group: string, instanceId: string): boolean;
  /** Called after the engine performed `a` (memory such as "terminated by us"). */
  acted?(a: Action, o: O): void;
  /**
   * Optional: ms to wait after performing `a` before observing again (default 0: at once) —
   * e.g. after launching, nothing can pass before the ELB's first checks.
   */
  delayAfter?(a: Action, o: O): number;
  /**
   * Optional: the observation right after performing `a`, predicted without calling AWS (e.g.
   * after suspending processes or terminating with decrement, the next decision needs nothing
   * new from AWS). The engine uses a prediction for at most one decision in a row; the action
   * decided from it is performed, then the world is observed for real.
   */
  predict?(a: Action, o: O): O | undefined;
  /**
   * Optional: a fresh read of only what `a` rests on (A/B: the new color, before a weight raise
   * whose read has grown stale), as the observation to decide on anew; undefined: observe in full.
   */
  reread?(a: Action, o: O): Promise<O | undefined>;
  /** Summary line for rollout.done. */
  summary?(replaced: string[]): string;
}

/**
 * Terminating a not-healthy instance (all but the first of an action) waits for a fresh look when
 * the observation ended longer ago than this (ms); terminating one counted healthy (it lowers the
 * healthy count) waits for one when the oldest read the observation rests on is older than this.
 */
export const STALE_DECISION_MS = 2000;

/** stalePremise halts only after more than this many stale looks in a row (and the transient budget). */
export const STALE_STREAK_MIN_LOOKS = 3;

/** A weight shift onto the new color (A/B on target groups): decided on a look at its health. */
function raisesWeight(a: Action): boolean {
  return a.kind === 'setWeights' && a.share > a.from;
}

/** A safety net under the strategy's own bound on a cleanup's waits for the group to settle. */
const MAX_CLEANUP_WAITS = 2000;

export interface EngineOptions {
  port: AwsPort;
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
  dryRun?: boolean;
  /** Whole-rollout timeout, ms (undefined: none beyond the strategy's step timeouts). */
  timeoutMs?: number;
  polling?: PollingOptions;
  /** port.apiCalls() when the caller started (calls made before the engine, e.g. finding the group). */
  apiStart?: number;
  /**
   * clock.now() when the caller started, for the reported duration (rollout.done and the result:
   * one figure for the final line and the summary row); the whole-rollout timeout runs from the engine's start.
   */
  startMs?: number;
  /**
   * How long to keep re-trying terminates that fail transiently (each after a back-off and a fresh
   * look), ms (default 5 min from the first failure). Reads and idempotent writes are retried by
   * the port the caller passes (aws/transient.ts retryingPort), under its own budget.
   */
  transientBudgetMs?: number;
  /**
   * Halting checks (CloudWatch alarms, rollout/alarms.ts): asked before the first change (their
   * error refuses the run) and after every observation of the loop (their error halts it: cleanup
   * and restore follow as for any failure).
   */
  halts?: HaltCheck[];
}

/** Runs a strategy to the end. Returns the result, or throws DeployError after restoring. */
export async function runRollout<O extends Observation>(strategy: Strategy<O>, options: EngineOptions): Promise<RolloutResult> {
  return new RolloutRun(strategy, options).run();
}

/** One run of the engine: its memory (what was seen, replaced, the last wait) and its phases. */
class RolloutRun<O extends Observation> {
  private readonly start: number;
  private readonly apiStart: number;
  private readonly replaced: string[] = [];
  /** Per group: the instances seen, and those seen healthy (launch/healthy events once each). */
  private readonly seen = new Map<string, { any: Set<string>; healthy: Set<string> }>();
  private lastWait = '';
  private lastSeen: O | undefined;
  /** When the last real observation ended (clock ms). */
  private seenAt: number;
  private predicted = false;
  /** A targeted fresh read taken in place of a stale raise (strategy.reread): the next look. */
  private refreshed: O | undefined;
  /**
   * Transient failures of terminate calls in a row (the port never repeats a terminate): each one
   * backs off, looks again and decides anew; past the budget since the first, the run halts.
   */
  private terminateFailures = 0;
  private terminateFailingSince: number | undefined;
  /** This run has performed (or attempted) a mutating action: a refusal from here on is a halt. */
  private changed = false;
  /** A terminate waits for a fresh look (stalePremise): the next observation asks every check anew. */
  private freshNext = false;
  /** Terminates held back by stalePremise in a row: since when, and how many (reset by a fresh premise). */
  private staleStreak: { since: number; count: number } | undefined;

  constructor(
    private readonly strategy: Strategy<O>,
    private readonly options: EngineOptions,
  ) {
    this.start = options.clock.now();
    this.apiStart = options.apiStart ?? options.port.apiCalls();
    this.seenAt = options.clock.now();
  }

  async run(): Promise<RolloutResult> {
    const o = await this.observe();
    this.diffEvents(o, true);
    const early = await this.begin(o);
    if (early) return early;
    try {
      return await this.loop(o);
    } catch (err) {
      throw await this.fail(err);
    }
  }

  // --- start: plan, dry run, nothing to do, preconditions ----------------------------------

  /** Reports the plan; returns the result when the run ends here (dry run, nothing to do). */
  private async begin(o: O): Promise<RolloutResult | undefined> {
    const { strategy, options, reporter } = this.ctx();
    const plan = strategy.plan(o);
    const recovering = o.groups.some((g) => strategy.guard(g.name).active);
    reporter.emit('info', Codes.plan, plan.message, { ...plan.data, dryRun: Boolean(options.dryRun) });
    if (options.dryRun) {
      // A refusal holds for a dry run too: the plan would be refused (exit 3), say so.
      if (!plan.noop || recovering) {
        strategy.check?.(o);
        await this.checkHalts('start');
      }
      reporter.emit('info', 'rollout.dry-run', `dry run: ${strategy.target} unchanged; no mutating AWS call was made`, { target: strategy.target });
      return this.result('planned', plan.message, []);
    }
    if (plan.noop && !recovering) {
      const result = this.result('noop', plan.noopSummary ?? 'already up to date; nothing to do', []);
      reporter.emit('info', Codes.done, `${strategy.target}: ${result.summary}`, doneData(strategy, result));
      return result;
    }
    strategy.check?.(o);
    await this.checkHalts('start');
    return undefined;
  }

  /** Runs the halting checks; the first error is thrown (start: a refusal; run: a halt). */
  private async checkHalts(phase: 'start' | 'run'): Promise<void> {
    for (const h of this.options.halts ?? []) {
      const err = await h.check(phase);
      if (err) throw err;
    }
  }

  // --- the loop: guard → decide → act or wait → observe -------------------------------------

  private async loop(first: O): Promise<RolloutResult> {
    let o = first;
    for (;;) {
      this.guardRun();
      const a = this.strategy.decide(o);
      if (a.kind === 'done') return this.finish(o, a);
      if (a.kind === 'abort') throw this.abortError(a);
      // A series of failing terminates (or scale-ins, weight raises) is only one while the decisions keep being one.
      if (a.kind !== 'terminate' && !lowersDesired(a, o) && !raisesWeight(a)) this.terminateFailingSince = undefined;
      if (a.kind === 'wait') {
        await this.wait(a, o);
      } else {
        const guess = await this.actTurn(a, o);
        if (guess) {
          o = guess;
          continue;
        }
      }
      this.predicted = false;
      const refreshed = this.refreshed;
      this.refreshed = undefined;
      const fresh = this.freshNext;
      this.freshNext = false;
      // Stale looks count only back to back (stalePremise): any other look ends the streak.
      if (!fresh) this.staleStreak = undefined;
      o = refreshed ?? (await this.observe(fresh));
      this.diffEvents(o, false);
      await this.checkHalts('run');
    }
  }

  /** Stops the run when interrupted or past the whole-rollout timeout. */
  private guardRun(): void {
    const { options, strategy } = this;
    if (options.signal?.aborted) throw interruptedError();
    if (options.timeoutMs !== undefined && options.clock.now() - this.start > options.timeoutMs) {
      throw rolloutError('timeout', `${strategy.target}: rollout timed out after ${Math.round(options.timeoutMs / 1000)} s`, { target: strategy.target });
    }
  }

  /** `done`: restore every guard, report, return the result. */
  private async finish(o: O, a: Action): Promise<RolloutResult> {
    const { strategy, reporter } = this.ctx();
    await this.restoreAll(o);
    const result = this.result('done', strategy.summary?.(this.replaced) ?? a.reason, [...this.replaced]);
    reporter.emit('info', Codes.done, `${strategy.target}: ${result.summary} in ${result.seconds} s, ${result.apiCalls} API calls`, doneData(strategy, result));
    return result;
  }

  /**
   * `abort`: the strategy's error. A refusal (`data.refused`, exit 3) is a precondition that failed
   * before this run changed anything (docs/design.md invariant 6: a refused run makes no mutating
   * call). The same finding once this run has acted is a halt (exit 1; cleanup and restore follow):
   * e.g. `below-min-healthy` on a re-run that had already replaced an instance (chaos seed
   * 3935578497) — unless the contract makes it a refusal wherever it comes (`data.refusedMidRun`:
   * `launch-template-changed`, docs/commands/roll.md).
   */
  private abortError(a: Extract<Action, { kind: 'abort' }>): DeployError {
    const { refused, refusedMidRun, ...rest } = a.data ?? {};
    const refusal = Boolean(refused) && (!this.changed || Boolean(refusedMidRun));
    const data = { target: this.strategy.target, ...rest, ...(refusal ? { refused } : {}) };
    return refusal ? refusedError(a.code, a.reason, data) : rolloutError(a.code, a.reason, data);
  }

  /** `wait`: report a new reason once, sleep as the poller says (polling.ts nextDelay). */
  private async wait(a: Extract<Action, { kind: 'wait' }>, o: O): Promise<void> {
    const { options, reporter } = this.ctx();
    if (a.reason !== this.lastWait) {
      reporter.emit('info', 'rollout.wait', a.reason, {});
      this.lastWait = a.reason;
    }
    const ms = nextDelay(options.polling ?? {}, a.waitMs, o.waitingSinceMs);
    await options.clock.sleep(ms, options.signal);
  }

  /**
   * Performs `a`; returns the strategy's prediction of the next observation when it has one (at
   * most once in a row), else sleeps the strategy's delay after the action (if any).
   */
  private async actTurn(a: Action, o: O): Promise<O | undefined> {
    const { strategy, options } = this;
    this.lastWait = '';
    const complete = await this.act(a, o);
    const guess = this.predicted || !complete ? undefined : strategy.predict?.(a, o);
    if (guess) {
      this.predicted = true;
      return guess;
    }
    const after = complete ? (strategy.delayAfter?.(a, o) ?? 0) : 0;
    if (after > 0) await options.clock.sleep(options.polling?.fixedMs ?? after, options.signal);
    return undefined;
  }

  // --- observe ------------------------------------------------------------------------------

  /**
   * Observe. Transient AWS errors are ridden out by the port (aws/transient.ts retryingPort, the
   * one retry policy: the caller hands the engine a retrying port), not here.
   */
  private async observe(fresh = false): Promise<O> {
    const o = await this.strategy.observe(fresh);
    this.lastSeen = o;
    this.seenAt = this.options.clock.now();
    return o;
  }

  /** instance.launch and instance.healthy, from what is new since the last observation. */
  private diffEvents(o: O, first: boolean): void {
    const reporter = this.options.reporter;
    for (const g of o.groups) {
      let seen = this.seen.get(g.name);
      if (!seen) this.seen.set(g.name, (seen = { any: new Set(), healthy: new Set() }));
      for (const i of g.instances) {
        const k = i.instanceId; // no per-instance key string at every poll (1,000-instance groups)
        if (!seen.any.has(k)) {
          seen.any.add(k);
          if (!first) reporter.emit('info', Codes.launch, `${g.name}: ${i.instanceId} launched (${i.lifecycleState})`, { asg: g.name, instanceId: i.instanceId });
        }
        if (!seen.healthy.has(k) && o.isHealthy(g.name, i.instanceId)) {
          seen.healthy.add(k);
          if (!first) reporter.emit('info', Codes.healthy, `${g.name}: ${i.instanceId} healthy`, { asg: g.name, instanceId: i.instanceId });
        }
      }
    }
  }

  // --- act ----------------------------------------------------------------------------------

  /** Performs `a`; false when it stopped part-way to look again (a decision gone stale). */
  private async act(a: Action, o: O, useSignal = true): Promise<boolean> {
    const { strategy, port, reporter } = this.ctx();
    this.changed = true;
    // Every action but terminate and a scale-in is an idempotent write the port retries (aws/transient.ts).
    switch (a.kind) {
      case 'setDesired':
      case 'updateSizes': {
        // A scale-in resting on another group's health (A/B's drain): on a fresh read only.
        if (a.kind === 'updateSizes' && a.seenAt !== undefined && this.staleScaleIn(a, a.seenAt)) {
          this.refreshed = await strategy.reread?.(a, o);
          if (this.refreshed) {
            this.lastSeen = this.refreshed;
            this.seenAt = this.options.clock.now();
          } else this.freshNext = true;
          return false;
        }
        // A scale-in is decided on this look: sent once; after a transient failure, look again and
        // decide anew, never repeated blind (chaos seed 3119806818).
        const once = lowersDesired(a, o);
        try {
          if (a.kind === 'setDesired') await strategy.guard(a.group).setDesired(snapshotOf(o, a.group), a.desired, { once });
          else await strategy.guard(a.group).updateSizes(snapshotOf(o, a.group), { min: a.min, max: a.max, desired: a.desired }, { once });
        } catch (err) {
          if (!once) throw err;
          await this.lookAgainAfter(err, { said: `scaling ${a.group} in to desired ${a.desired}`, what: `scale-in ${a.group}`, why: 'a scale-in is never repeated blind' }, useSignal);
          return false;
        }
        if (once) this.clearFailures();
        break;
      }
      case 'suspend': {
        const done = await strategy.guard(a.group).suspend(snapshotOf(o, a.group), a.processes);
        if (done.length) reporter.emit('info', 'group.suspend', `${a.group}: suspended ${done.join(', ')} — ${a.reason}`, { asg: a.group, processes: done });
        break;
      }
      case 'resume': {
        // Only what the tool recorded as its own suspension (Guard.resume): never someone else's.
        const done = await strategy.guard(a.group).resume(snapshotOf(o, a.group), a.processes);
        if (done.length) reporter.emit('info', 'group.resume', `${a.group}: resumed ${done.join(', ')} — ${a.reason}`, { asg: a.group, processes: done });
        break;
      }
      case 'protect':
        await strategy.guard(a.group).protect(snapshotOf(o, a.group), a.instanceIds, a.protect);
        break;
      case 'terminate':
        if (!(await this.terminate(a, o, useSignal))) return false;
        break;
      case 'setWeights': {
        // A/B on target groups: every forward gets the same weights (an idempotent write).
        if (!port.setForwardWeights) throw new DeployError('internal', 'this AWS port cannot set listener weights');
        // A raise (more traffic onto the new color) is decided on a look at its health: sent only
        // on a fresh look, once; a stale look or a transient failure → look again, decide anew.
        // Shifting back to the old color stays a retried write (chaos seed 2227145015).
        const raise = raisesWeight(a);
        if (raise && this.staleRaise(a)) {
          // Decide anew on a fresh read of the new color (one read), else on a full look.
          this.refreshed = await strategy.reread?.(a, o);
          if (this.refreshed) {
            this.lastSeen = this.refreshed;
            this.seenAt = this.options.clock.now();
          }
          return false;
        }
        try {
          const sender = raise ? sentOnce(port) : port;
          for (const f of a.forwards) await sender.setForwardWeights!(f, a.weights);
        } catch (err) {
          if (!raise) throw err;
          await this.lookAgainAfter(err, { said: `raising the new color's traffic ${a.from} % → ${a.share} %`, what: 'raise traffic', why: 'a weight raise is never repeated blind' }, useSignal);
          return false;
        }
        if (raise) this.clearFailures();
        const named = Object.fromEntries(Object.entries(a.weights).map(([arn, w]) => [targetGroupName(arn), w]));
        reporter.emit('info', Codes.trafficShift, `${strategy.target}: traffic ${a.from} % → ${a.share} % on the new color (weights ${Object.entries(named).map(([n, w]) => `${n} ${w}`).join(', ')}) — ${a.reason}`, {
          [strategy.strategy === 'ab' ? 'environment' : 'asg']: strategy.target,
          share: a.share,
          from: a.from,
          weights: named,
          targetGroups: Object.keys(a.weights),
          forwards: a.forwards.map((f) => f.arn),
        });
        break;
      }
      default:
        throw new DeployError('internal', `engine cannot act on '${a.kind}'`);
    }
    strategy.acted?.(a, o);
    return true;
  }

  /**
   * Terminates the action's instances one by one, behind the guard: every one must be planned
   * (mayTerminate), and a not-healthy verdict grown stale is looked at again. False when it
   * stopped part-way (the ones terminated are remembered through `acted`).
   */
  private async terminate(a: Extract<Action, { kind: 'terminate' }>, o: O, useSignal: boolean): Promise<boolean> {
    const { strategy, port, reporter } = this.ctx();
    for (const id of a.instanceIds) {
      if (!strategy.mayTerminate(a.group, id)) {
        throw rolloutError('unplanned-termination', `${a.group}: refusing to terminate ${id}: not in the plan (a bug; halted safely)`, { asg: a.group, instanceId: id });
      }
    }
    for (const [n, id] of a.instanceIds.entries()) {
      const inst = findInstance(o, a.group, id);
      const partial = () => {
        if (n > 0) strategy.acted?.({ ...a, instanceIds: a.instanceIds.slice(0, n) }, o);
      };
      if (this.staleVerdict(a, o, n)) {
        partial();
        this.recheck(a, n);
        return false;
      }
      let stale: boolean;
      try {
        stale = this.stalePremise(a, o, n);
      } catch (err) {
        // Halting on reads that stay stale: the ones already terminated are ours all the same.
        partial();
        throw err;
      }
      if (stale) {
        partial();
        return false;
      }
      try {
        // Sent once (PORT_RETRY_POLICY: non-idempotent): never repeated on a look grown stale.
        await port.terminateInstance(id, a.decrement);
        this.clearFailures();
      } catch (err) {
        // The ones already terminated are ours: remember them before anything else.
        partial();
        await this.lookAgainAfter(err, { said: `terminating ${id}`, what: `terminate ${id}`, why: 'a terminate is never repeated blind' }, useSignal);
        return false;
      }
      if (!a.surplus && !a.warmPool) this.replaced.push(id);
      reporter.emit('info', Codes.terminate, `${a.group}: terminating ${id}${a.decrement ? ' (decrement desired)' : ''} — ${a.reason}`, {
        asg: a.group,
        instanceId: id,
        launchTime: inst?.launchTime !== undefined ? new Date(inst.launchTime).toISOString() : undefined,
        reason: a.reason,
        decrement: a.decrement,
      });
    }
    return true;
  }

  /**
   * Terminating an instance because it is NOT healthy is decided on what was seen at the
   * observation; once time has passed (earlier calls of the batch) it may have passed its checks
   * since — look again before terminating it (the first one, `n` 0, goes at once). True: stop here.
   */
  private staleVerdict(a: Extract<Action, { kind: 'terminate' }>, o: O, n: number): boolean {
    const clock = this.options.clock;
    return n > 0 && !o.isHealthy(a.group, a.instanceIds[n]) && clock.now() - this.seenAt > STALE_DECISION_MS;
  }

  /**
   * Terminating an instance counted healthy lowers the healthy count: the decision that it may go
   * rests on every read of the observation (the count it keeps at or above the floor: the group,
   * each load balancer's health). Sent only while the oldest of those reads is at most
   * STALE_DECISION_MS old; else rollout.recheck, and the next look is a fresh one (every check
   * asked anew) on which the strategy decides anew. E.g. chaos seed 3147681216: target health read
   * at 00:45:16.0, the group read throttled until 00:45:19.4, and a new instance's target had
   * turned unhealthy at 00:45:18.0 — the outdated instance terminated on that look left 21 healthy
   * of a floor of 22. True: stop here.
   */
  private stalePremise(a: Extract<Action, { kind: 'terminate' }>, o: O, n: number): boolean {
    const { clock, reporter } = this.options;
    const id = a.instanceIds[n];
    if (!o.isHealthy(a.group, id)) return false;
    const readAt = o.readAt ?? this.seenAt;
    const now = clock.now();
    const age = now - readAt;
    if (age <= STALE_DECISION_MS) {
      this.staleStreak = undefined;
      return false;
    }
    // Bounded: when AWS answers so slowly that no look is ever fresh enough (its reads alone take
    // longer than STALE_DECISION_MS), the run would look again forever with the lock held. Past the
    // transient budget (and a few looks) it halts instead, having terminated nothing on a stale read.
    const streak = (this.staleStreak ??= { since: now, count: 0 });
    streak.count++;
    const budget = this.options.transientBudgetMs ?? DEFAULT_TRANSIENT_BUDGET_MS;
    if (streak.count > STALE_STREAK_MIN_LOOKS && now - streak.since > budget) {
      const secs = Math.round((now - streak.since) / 1000);
      throw rolloutError('stale-reads', `${a.group}: ${id} not terminated: for ${secs} s (${streak.count} looks) every look rested on a read older than ${STALE_DECISION_MS / 1000} s (the last ${Math.round(age / 100) / 10} s old) — AWS answers too slowly to act on its health safely; nothing was terminated on a stale read. Re-run when the API answers faster`, {
        asg: a.group,
        instanceId: id,
        seconds: secs,
        looks: streak.count,
        ageMs: age,
      });
    }
    this.freshNext = true;
    reporter.emit('info', 'rollout.recheck', `${a.group}: ${a.instanceIds.slice(n).join(', ')} not terminated yet: the health it was decided on was read ${Math.round(age / 100) / 10} s ago; looking again`, {
      asg: a.group,
      instanceIds: a.instanceIds.slice(n),
      ageMs: age,
    });
    return true;
  }

  /**
   * A scale-in decided on a read of another group's health (A/B: the new color serves its count,
   * so the old one drains) older than STALE_DECISION_MS: not sent; rollout.recheck, and the loop
   * reads that health again and decides anew. Chaos ab seed 2206767010: the new color read 3 s
   * before the drain, someone's EnterStandby 1.2 s before it, drained with 35 of 36 serving.
   */
  private staleScaleIn(a: Extract<Action, { kind: 'updateSizes' }>, seenAt: number): boolean {
    const { clock, reporter } = this.options;
    const age = clock.now() - seenAt;
    if (age <= STALE_DECISION_MS) return false;
    reporter.emit('info', 'rollout.recheck', `${a.group}: not scaled in yet (desired → ${a.desired}): the health it rests on was read ${Math.round(age / 100) / 10} s ago; looking again`, {
      asg: a.group,
      desired: a.desired,
      ageMs: age,
    });
    return true;
  }

  /**
   * A weight raise decided on a read of the new color's health older than STALE_DECISION_MS
   * (throttled reads after it, a wait): not sent; rollout.recheck, and the loop looks again (the
   * new color is re-read) and decides anew on that look. No extra call when the read is fresh.
   */
  private staleRaise(a: Extract<Action, { kind: 'setWeights' }>): boolean {
    const { clock, reporter } = this.options;
    const seenAt = a.seenAt ?? this.seenAt;
    const age = clock.now() - seenAt;
    if (age <= STALE_DECISION_MS) return false;
    reporter.emit('info', 'rollout.recheck', `${this.strategy.target}: traffic ${a.from} % → ${a.share} % not shifted yet: the new color's health was read ${Math.round(age / 100) / 10} s ago; looking again`, {
      target: this.strategy.target,
      share: a.share,
      from: a.from,
      ageMs: age,
    });
    return true;
  }

  /** rollout.recheck: the rest of the batch waits for a fresh look. */
  private recheck(a: Extract<Action, { kind: 'terminate' }>, n: number): void {
    const { clock, reporter } = this.options;
    reporter.emit('info', 'rollout.recheck', `${a.group}: ${a.instanceIds.slice(n).join(', ')} not terminated yet: their health was seen ${Math.round((clock.now() - this.seenAt) / 100) / 10} s ago; looking again`, {
      asg: a.group,
      instanceIds: a.instanceIds.slice(n),
    });
  }

  private clearFailures(): void {
    this.terminateFailures = 0;
    this.terminateFailingSince = undefined;
  }

  /**
   * A terminate or a scale-in AWS turned back (both sent once, decided on a look): rethrown unless
   * transient and within the budget; else back off (the caller then looks again and decides anew).
   */
  private async lookAgainAfter(err: unknown, act: { said: string; what: string; why: string }, useSignal: boolean): Promise<void> {
    const { clock, reporter, signal } = this.options;
    if (!isTransient(err)) throw err;
    const now = clock.now();
    this.terminateFailingSince ??= now;
    const ms = transientBackoff(++this.terminateFailures);
    if (now - this.terminateFailingSince + ms > (this.options.transientBudgetMs ?? DEFAULT_TRANSIENT_BUDGET_MS)) throw err;
    reporter.emit('warn', 'aws.throttled', `AWS ${isThrottling(err) ? 'throttled' : 'failed'} ${act.said} (${errorName(err)}); looking again in ${ms / 1000} s and deciding anew (${act.why})`, {
      what: act.what,
      error: errorName(err),
      attempt: this.terminateFailures,
      backoffMs: ms,
    });
    await clock.sleep(ms, useSignal ? signal : undefined);
  }

  // --- failure: clean up, restore, report ---------------------------------------------------

  /** After a failure or interrupt: cleanup and restore, report; returns the error to throw. */
  private async fail(err: unknown): Promise<DeployError> {
    const { strategy, reporter, signal } = this.ctx();
    const interrupted = isAbortError(err) || signal?.aborted;
    const e: DeployError = interrupted
      ? interruptedError()
      : err instanceof DeployError
        ? err
        : rolloutError('aws-error', `${strategy.target}: ${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`, {}, err);
    const problem = await this.cleanupAndRestore();
    // Never claim a restore that did not happen: the interrupt's default message says it did.
    const message = problem ? `${interrupted ? 'interrupted' : e.message}; ${problem.message}` : e.message;
    reporter.emit(interrupted ? 'warn' : 'error', Codes.failed, message, {
      reason: e.code,
      ...e.data,
      target: strategy.target,
      replaced: [...this.replaced],
      seconds: this.seconds(),
      apiCalls: this.apiCalls(),
      ...(problem ? { cleanup: problem.message, left: problem.left, restored: false } : { restored: true }),
    });
    if (problem) {
      return new DeployError(e.code, message, { source: e.source, exit: e.exit, cause: e, data: { ...e.data, left: problem.left, restored: false } });
    }
    return e;
  }

  /**
   * After a failure or abort: remove surge capacity, then restore guards. Never throws; returns
   * what could not be restored (undefined when everything was). A cleanup step that fails or is
   * refused stops the cleanup, not the restore: everything else is still put back.
   */
  private async cleanupAndRestore(): Promise<{ message: string; left: string[] } | undefined> {
    const problems: string[] = [];
    let o: O | undefined;
    // The cleanup's terminates get their own bound on stale looks (stalePremise), not the rest of the run's.
    this.staleStreak = undefined;
    try {
      o = await this.cleanup(problems);
    } catch (err) {
      problems.push(`observing for cleanup failed: ${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`);
    }
    try {
      const from = o ?? this.lastSeen;
      if (!from) throw new DeployError('internal', 'no observation to restore from');
      await this.restoreAll(from, problems.length > 0);
      if (problems.length === 0) return undefined;
    } catch (err) {
      problems.push(`restore failed: ${(err as Error)?.name ?? 'error'}: ${(err as Error)?.message ?? String(err)}`);
    }
    return this.reportLeft(problems);
  }

  /**
   * Runs the strategy's cleanup steps on fresh observations until none is left; adds what it could
   * not do to `problems`; returns the last observation. At most 10 steps that acted; an attempt
   * AWS turned back transiently (throttling, ScalingActivityInProgress: act() looked again) is not
   * a step, up to 50 attempts in all (chaos seed 2959736548: a throttle storm spent the 10 steps
   * on retries, desired left raised).
   * A `wait` (the group must settle before the strategy can pick what goes, e.g. AWS's own launch
   * still Pending; the strategy bounds it) sleeps as the poller says and looks again; it is neither
   * a step nor an attempt. It sleeps without the run's signal: the first Ctrl-C asked for this
   * cleanup, a second one exits at once (cli.ts) and the restore record stays for a re-run.
   */
  private async cleanup(problems: string[]): Promise<O> {
    const { strategy, reporter, options } = this.ctx();
    let o = await this.observe(true);
    let steps = 0;
    let waits = 0;
    let lastWait = '';
    for (let attempt = 0; ; attempt++) {
      const a = strategy.cleanup(o);
      if (a?.kind === 'wait') {
        attempt--;
        if (++waits > MAX_CLEANUP_WAITS) {
          problems.push(`cleanup unfinished after ${MAX_CLEANUP_WAITS} looks (${a.reason})`);
          return o;
        }
        if (a.reason !== lastWait) reporter.emit('warn', 'rollout.cleanup', a.reason, { action: 'wait' });
        lastWait = a.reason;
        await options.clock.sleep(nextDelay(options.polling ?? {}, a.waitMs, o.waitingSinceMs));
        o = await this.observe(true);
        continue;
      }
      if (a && (steps >= 10 || attempt >= 50)) {
        problems.push(`cleanup unfinished after ${steps} steps and ${attempt} attempts (next: ${a.reason})`);
        return o;
      }
      if (!a) {
        const left = strategy.cleanupLeft?.(o);
        if (left) {
          problems.push(left);
          reporter.emit('error', 'rollout.cleanup-left', left, { action: 'none' });
        }
        return o;
      }
      reporter.emit('warn', 'rollout.cleanup', a.reason, { action: a.kind });
      try {
        if (await this.act(a, o, false)) steps++;
      } catch (err) {
        const why = `cleanup step failed (${a.reason}): ${(err as Error)?.message ?? String(err)}`;
        problems.push(why);
        reporter.emit('error', 'rollout.cleanup-step-failed', why, { action: a.kind, error: (err as Error)?.name });
        return this.observe(true);
      }
      o = await this.observe(true);
    }
  }

  /**
   * Puts every guard back (each restore step is idempotent; the port rides out transient errors).
   * `keepRecord`: cleanup could not undo everything — restore the rest but keep the originals
   * recorded on the group.
   */
  private async restoreAll(o: O, keepRecord = false): Promise<void> {
    for (const g of o.groups) await this.strategy.guard(g.name).restore(g, { keepRecord });
  }

  /** Reports an incomplete restore: the problems and what is left changed (a fresh look). */
  private async reportLeft(problems: string[]): Promise<{ message: string; left: string[] }> {
    let latest = this.lastSeen;
    try {
      latest = await this.strategy.observe(true);
    } catch {
      // keep the last snapshot we have
    }
    const left = this.leftChanged(latest);
    const what = left.length ? `left changed: ${left.join('; ')}` : 'what is left changed is unknown';
    const message = `restore incomplete (${problems.join('; ')}); ${what}; re-run the same command to finish the cleanup and restore`;
    this.options.reporter.emit('error', 'rollout.cleanup-failed', message, { left });
    return { message, left };
  }

  /**
   * What is still changed after a failed restore, from the guards' records against the latest
   * snapshot. Example: "chaos-app: desired 11 (originally 9), max 13 (originally 9), suspended
   * AZRebalance, AlarmNotification".
   */
  private leftChanged(o: O | undefined): string[] {
    const out: string[] = [];
    for (const g of o?.groups ?? []) {
      const parts = this.strategy.guard(g.name).leftChanged(g);
      if (parts.length) out.push(`${g.name}: ${parts.join(', ')}`);
    }
    return out;
  }

  // --- figures ------------------------------------------------------------------------------

  private ctx() {
    return { strategy: this.strategy, options: this.options, port: this.options.port, reporter: this.options.reporter, signal: this.options.signal };
  }

  private seconds(): number {
    return Math.round((this.options.clock.now() - (this.options.startMs ?? this.start)) / 100) / 10;
  }

  private apiCalls(): number {
    return this.options.port.apiCalls() - this.apiStart;
  }

  private result(status: RolloutResult['status'], summary: string, replaced: string[]): RolloutResult {
    return { status, target: this.strategy.target, strategy: this.strategy.strategy, replaced, seconds: this.seconds(), apiCalls: this.apiCalls(), summary };
  }
}

function findInstance<O extends Observation>(o: O, group: string, id: string): InstanceView | undefined {
  return o.groups.find((g) => g.name === group)?.instances.find((i) => i.instanceId === id);
}

/** A size change that lowers the group's desired capacity below what this look saw (a scale-in). */
function lowersDesired<O extends Observation>(a: Action, o: O): boolean {
  if (a.kind !== 'setDesired' && a.kind !== 'updateSizes') return false;
  const g = o.groups.find((x) => x.name === a.group);
  return a.desired !== undefined && g !== undefined && a.desired < g.desired;
}

function snapshotOf<O extends Observation>(o: O, group: string): GroupSnapshot {
  const g = o.groups.find((x) => x.name === group);
  if (!g) throw new DeployError('internal', `strategy acted on ${group}, which it did not observe`);
  return g;
}

function doneData(strategy: { strategy: string; target: string }, r: RolloutResult): Record<string, unknown> {
  return {
    [strategy.strategy === 'ab' ? 'environment' : 'asg']: r.target,
    replaced: r.replaced,
    seconds: r.seconds,
    apiCalls: r.apiCalls,
    status: r.status,
  };
}
