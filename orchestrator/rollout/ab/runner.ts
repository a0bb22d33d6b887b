/**
 * `abDeploy`: the one entry for `asg-deploy ab` and for deploy's ab post-update hook.
 *
 *   lock → observe both colors → plan (ab/strategy.ts: refuse, nothing, swap, drain, clean-up,
 *   refresh) → record the swap on the groups → the shared engine (rollout/engine.ts) runs the
 *   pure decide turn by turn → delete the record → release the lock (every exit path).
 *
 * The engine owns the loop, polling, the abort signal, the guard rails and the coded events; this
 * file only adapts the A/B decisions to it (observe two groups, remember when each step started)
 * and decides what a failure leaves behind: the new color for inspection (the seed's behaviour),
 * or scaled back to its original size with `rollback` or when interrupted before the swap is
 * committed. Once the old color's drain has begun the swap is committed: an interrupt or a
 * crash leaves the record, and a re-run waits for the drain to finish.
 */
import { randomUUID } from 'node:crypto';
import { createAwsPort } from '../../aws/adapter';
import type { AwsClients } from '../../aws/clients';
import type { AwsPort, GroupSnapshot, TrafficForward } from '../../aws/port';
import type { Clock } from '../../clock';
import { DeployError, interruptedError, isAbortError, refusedError, usageError } from '../../errors';
import { withRunLock } from '../../lock/run';
import { asDeployError } from '../../lock/transient';
import { retryingPort } from '../../aws/transient';
import { Codes, type Reporter } from '../../report/reporter';
import type { Action } from '../action';
import { AlarmWatch, type HaltCheck } from '../alarms';
import { decideKeepOld, keepOldOpens } from './keep-old';
import { runRollout, type Observation, type Plan, type Strategy } from '../engine';
import { Guard } from '../guard';
import { DEFAULT_BRISK_MS, learn, nextLookAt, type HealthCheckTiming, type Learned, type WatchedInstance } from '../polling';
import type { RolloutResult } from '../result';
import {
  DEFAULT_INSTANCE_COUNT,
  SWAP_SUSPEND,
  SWAP_TAG,
  decideDrain,
  decideSwap,
  encodeSwapRecord,
  isDrainStarted,
  isDrained,
  isLeaving,
  isServing,
  isStandby,
  onTargetGroups,
  planAb,
  servingInstances,
  remainingInstances,
  type AbObserved,
  type AbPlan,
  type AbPlanOptions,
  type PlanRefusal,
  type SwapPlan,
  type SwapRecord,
} from './strategy';
import { currentShare, setWeights, type TrafficPlan } from './traffic';
import { targetGroupName } from '../health/target-group';
import { neighboursOf } from '../target-group-neighbours';

export const AbCodes = {
  downtime: 'ab.downtime', // --single-asg: the group serves nothing for a while
  drained: 'ab.drained', // {asg, seconds}
  resumed: 'ab.resumed', // {record}
  keep: 'ab.keep', // --clean-up: {keep, drain, why}
  leftForInspection: 'ab.left-for-inspection', // {asg, desired}
  rolledBack: 'ab.rolled-back', // {asg, desired}
  lockedDryRun: 'ab.locked',
  standInKept: 'ab.stand-in-kept', // {asg, desired, from}: new-color instances still serve for a short old color
  weightsKept: 'ab.weights-kept', // {asg, share}: the old color serves nothing, so the weights stay on the new one
  keepOld: 'ab.keep-old', // {environment, asg, keep, state: start|passed, waitSeconds, until}: the --keep-old window
} as const;

export interface AbDeployOptions {
  /** The AWS port; or `clients` to build the SDK adapter on. */
  port?: AwsPort;
  clients?: AwsClients;
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
  environment: string;
  /** Color group names (default `<env>-a` / `<env>-b`; deploy passes the manifest's). */
  groups?: { a: string; b: string };
  /** `--elb-name` (judge the new color by these), or per color from the manifest. */
  elbNames?: string[] | { a: string; b: string };
  /** `--instance-count` (default 8, the seed's; deploy passes the configured capacity). */
  instanceCount?: number;
  instanceCountMatch?: boolean;
  instanceCountStep?: number;
  /** `--traffic-steps` (target groups: ascending percentages ending at 100; default all at once). */
  trafficSteps?: number[];
  /** `--step-wait`, seconds held at each traffic step while the new color stays healthy (default 60). */
  stepWait?: number;
  /** `--health-check-timeout`, seconds per step (default 600). */
  healthCheckTimeout?: number;
  /** `--poll-interval` / `--update-timeout`, seconds (default: adaptive polling). */
  pollInterval?: number;
  zero?: boolean;
  singleAsg?: boolean;
  cleanUp?: boolean;
  /** `--clean-up` without asking. */
  yes?: boolean;
  /** Asks the user (TTY); absent and not `yes`: `--clean-up` is refused (exit 2). */
  confirm?: (question: string) => Promise<boolean>;
  /** A failed new color is scaled back to its original size instead of left for inspection. */
  rollback?: boolean;
  /** Accepted for deploy's hook (which decides whether to swap); `ab` itself always swaps. */
  force?: boolean;
  /**
   * CloudWatch alarms (`--alarm`, the service key `alarms`): read before the swap (in ALARM →
   * refused, exit 3; unknown → exit 2) and at every poll until the swap is committed (ALARM halts
   * it: the new color is scaled back with `rollback`, else left for inspection; the old color was
   * never touched).
   */
  alarms?: string[];
  /** An alarm already in ALARM at the start does not refuse the run (it halts once it left ALARM and comes back). */
  ignoreAlarmsAtStart?: boolean;
  /**
   * `--keep-old`, seconds: once the new color serves, the old one stays at full size this long,
   * alarms and health watched; a failure then switches back (ab/keep-old.ts). Not with `zero`.
   */
  keepOld?: number;
  dryRun?: boolean;
  /** `--lock-bucket-name` and lock tuning; `false`: the caller holds the lock already. */
  lockBucket?: string;
  lock?: false | { heartbeatMs?: number; staleAfterMs?: number; settleMs?: number; holder?: string };
  /** Why, for the lock record (default "asg-deploy ab <env>"). */
  reason?: string;
  runId?: string;
}

export const DEFAULT_HEALTH_CHECK_TIMEOUT_S = 600;
/** Longest stretch without a poll right after growing the new color (ms). */
export const MAX_SKIP_MS = 20_000;

/**
 * A/B deployment of one environment. Resolves with the result; throws DeployError (exit 1/2/3/130),
 * never a raw AWS error. Transient AWS errors (throttling, 5xx, ResourceContention, network) are
 * ridden out with back-off in clock time in every phase (aws/transient.ts, the one retry policy).
 */
export async function abDeploy(options: AbDeployOptions): Promise<RolloutResult> {
  try {
    return await abDeployInner(options);
  } catch (err) {
    throw asDeployError(err, `ab ${options.environment}`);
  }
}

async function abDeployInner(options: AbDeployOptions): Promise<RolloutResult> {
  const { clock, reporter, environment } = options;
  if (options.keepOld !== undefined && (options.zero || options.singleAsg)) {
    throw usageError('usage', `--keep-old keeps the old color serving after a swap: not with ${options.zero ? '--zero (nothing new serves)' : '--single-asg (one group: no old color to keep)'}`, { flag: '--keep-old', allowed: 'a swap between two colors' });
  }
  if (!options.port && !options.clients) throw new DeployError('internal', 'abDeploy needs a port or clients');
  const port = retryingPort(options.port ?? createAwsPort(options.clients!, clock), { clock, reporter, signal: options.signal });
  const start = clock.now();
  const apiStart = port.apiCalls();
  const runId = options.runId ?? randomUUID();
  const names = groupNamesOf(options);
  const groupNames = [...new Set([names.a, names.b])];

  const existing: string[] = [];
  for (const n of groupNames) if (await observeMaybe(port, n, false)) existing.push(n);

  // 1. The lock (the seed's first step), before anything else is read for the plan (lock/run.ts):
  // it covers every group of the environment plus the groups this run changes; a dry run of a
  // locked environment is refused (exit 3) as a real run would be.
  const lock = {
    target: { environment, groups: groupNames, existing },
    bucket: options.lockBucket,
    lock: options.lock === false ? (false as const) : (options.lock ?? {}),
    reason: options.reason ?? `asg-deploy ab ${environment}`,
    runId,
  };
  return withRunLock({ port, clock, reporter, signal: options.signal }, { ...lock, dryRun: options.dryRun, dryRunRefusal: { code: AbCodes.lockedDryRun, when: 'before' } }, async () => {
    // 2. Find both groups (and their ELBs) and plan.
    const a = await observeMaybe(port, names.a, true);
    const b = names.b === names.a ? undefined : await observeMaybe(port, names.b, true);
    const observed = { a, b };
    // On target groups: the weighted forward(s) the swap will move (found once; re-read by ARN).
    const forwards = await findForwards(port, a, b);
    const neighbours = await findNeighbours(port, a, b);
    const planned = planAb({ a, b, names, forwards, neighbours }, abPlanOptions(options));
    if (planned.kind === 'refuse') throw refusalError(planned);
    if (planned.kind === 'swap' && planned.resumed) reporter.emit('warn', AbCodes.resumed, planned.summary, { record: planned.resumed });
    if (planned.kind === 'refresh' && planned.resumed) reporter.emit('warn', AbCodes.resumed, planned.summary, { record: planned.resumed });

    const tally = () => ({ seconds: Math.round((clock.now() - start) / 100) / 10, apiCalls: port.apiCalls() - apiStart });
    if (planned.kind === 'nothing') {
      reporter.emit('info', Codes.plan, planned.summary, { environment, dryRun: Boolean(options.dryRun) });
      const result: RolloutResult = { status: options.dryRun ? 'planned' : 'noop', target: environment, strategy: 'ab', replaced: [], ...tally(), summary: planned.summary };
      reporter.emit('info', Codes.done, `${environment}: ${planned.summary}`, { environment, replaced: [], seconds: result.seconds, apiCalls: result.apiCalls, status: result.status });
      return result;
    }
    if (planned.kind === 'cleanUp') {
      reporter.emit('info', AbCodes.keep, `--clean-up: would keep ${planned.keep} and drain ${planned.drain}: ${planned.why}`, { keep: planned.keep, drain: planned.drain, why: planned.why });
      if (!options.dryRun && !options.yes) {
        const question = `Both colors have instances. Keep ${planned.keep} and DRAIN ${planned.drain} (${planned.why})?`;
        if (!options.confirm) {
          throw usageError('usage', `--clean-up drains a populated group: confirm with --yes when not running interactively (it would keep ${planned.keep} and drain ${planned.drain}: ${planned.why})`, {
            flag: '--yes',
            keep: planned.keep,
            drain: planned.drain,
          });
        }
        if (!(await options.confirm(question))) throw refusedError('not-confirmed', `--clean-up not confirmed; nothing was changed`, { keep: planned.keep, drain: planned.drain });
        // The answer took a while: look again. Draining on the look taken before the prompt could
        // drain the only serving color if the kept one stopped serving meanwhile.
        const fresh = { a: await observeMaybe(port, names.a, true), b: await observeMaybe(port, names.b, true) };
        const changed = premiseChanged(planned, { a, b }, fresh, abPlanOptions(options), names, await findForwards(port, fresh.a, fresh.b));
        if (changed) throw refusedError('premise-changed', `--clean-up: ${changed} while the confirmation was open; nothing was changed (re-run to decide on what is there now)`, { keep: planned.keep, drain: planned.drain });
        [observed.a, observed.b] = [fresh.a, fresh.b];
      }
    }

    const run = new AbRun(port, clock, reporter, options, environment, { ms: start, apiCalls: apiStart });
    // The engine's figures, from the run's start (lock and reads included): rollout.done says the
    // same seconds and API calls as the result (the summary row).
    return run.execute(planned, runId, observed.a, observed.b);
  });
}

/** The colors' group names: the manifest's, else `<env>-a` / `<env>-b` (one group with --single-asg). */
export function groupNamesOf(o: Pick<AbDeployOptions, 'environment' | 'singleAsg' | 'groups'>): { a: string; b: string } {
  return o.singleAsg ? { a: o.environment, b: o.environment } : o.groups ?? { a: `${o.environment}-a`, b: `${o.environment}-b` };
}

/**
 * The planner's options from a run's options: the one place the count, step and ELBs of a plan
 * come from, for a run and for deploy's dry run of it (stack/hooks.ts) alike.
 */
export type AbPlanInputs = Pick<
  AbDeployOptions,
  'environment' | 'singleAsg' | 'groups' | 'instanceCount' | 'instanceCountMatch' | 'instanceCountStep' | 'zero' | 'cleanUp' | 'elbNames' | 'trafficSteps' | 'stepWait'
>;

/** The weighted forwards to the colors' target groups (both colors on target groups), else undefined. */
export async function findForwards(port: AwsPort, a: GroupSnapshot | undefined, b: GroupSnapshot | undefined): Promise<TrafficForward[] | undefined> {
  if (!onTargetGroups(a, b) || !port.findForwards) return undefined;
  return port.findForwards([...new Set([...a!.targetGroupARNs, ...b!.targetGroupARNs])]);
}

/**
 * Both colors on target groups: other groups' (or hand-registered) targets in their target groups
 * (from the snapshots' DescribeTargetHealth answers) and the group of each (one
 * DescribeAutoScalingInstances per 50, only when there are any); else undefined.
 */
export async function findNeighbours(port: AwsPort, a: GroupSnapshot | undefined, b: GroupSnapshot | undefined): Promise<AbObserved['neighbours']> {
  if (!onTargetGroups(a, b)) return undefined;
  const targets = neighboursOf([a, b]);
  if (targets.length === 0) return undefined;
  const groupOf = port.groupsOfInstances ? await port.groupsOfInstances(targets.map((t) => t.instanceId)) : {};
  return { targets, groupOf };
}

export function abPlanOptions(o: AbPlanInputs): AbPlanOptions {
  return { ...planOptionsFrom(o), ...elbOptions(o, groupNamesOf(o)) };
}

function planOptionsFrom(o: AbPlanInputs): AbPlanOptions {
  return {
    environment: o.environment,
    instanceCount: o.instanceCount,
    instanceCountMatch: o.instanceCountMatch,
    instanceCountStep: o.instanceCountStep,
    zero: o.zero,
    singleAsg: o.singleAsg,
    cleanUp: o.cleanUp,
    ...(o.trafficSteps ? { trafficSteps: o.trafficSteps } : {}),
    ...(o.stepWait !== undefined ? { stepWaitMs: o.stepWait * 1000 } : {}),
  };
}

/** `--elb-name` as given (judges whichever color is new), or the manifest's ELB per color. */
function elbOptions(o: AbPlanInputs, names: { a: string; b: string }): Pick<AbPlanOptions, 'elbNames' | 'elbNamesByGroup'> {
  if (!o.elbNames) return {};
  if (Array.isArray(o.elbNames)) return o.elbNames.length ? { elbNames: o.elbNames } : {};
  return { elbNamesByGroup: { [names.a]: [o.elbNames.a], [names.b]: [o.elbNames.b] } };
}

function servingCount(g: GroupSnapshot, elbNames: string[], targetGroupArns: readonly string[] = []): number {
  return servingInstances(g, elbNames, targetGroupArns).length;
}

/** A color's serving count by its own load balancers: its classic ELBs and its target groups. */
function servingOwn(g: GroupSnapshot): number {
  return servingCount(g, g.loadBalancerNames, g.targetGroupARNs);
}

/**
 * `--clean-up` after its confirmation: what makes the plan made before the prompt unsafe to
 * carry out, or undefined. The planner must still keep the same color and drain the same one,
 * and the kept color must serve at least as many instances as it did when the question was asked.
 */
export function premiseChanged(
  planned: { keep: string; drain: string },
  before: { a?: GroupSnapshot; b?: GroupSnapshot },
  now: { a?: GroupSnapshot; b?: GroupSnapshot },
  options: AbPlanOptions,
  names: { a: string; b: string },
  forwards?: TrafficForward[],
): string | undefined {
  const again = planAb({ ...now, names, forwards }, options);
  if (again.kind !== 'cleanUp') return `the colors changed (now: ${again.kind === 'refuse' ? again.message : again.summary})`;
  if (again.keep !== planned.keep) return `the color to keep is now ${again.keep} (${again.why}), not ${planned.keep}`;
  const keptOf = (o: { a?: GroupSnapshot; b?: GroupSnapshot }) => [o.a, o.b].find((g) => g?.name === planned.keep);
  const servingOf = (g: GroupSnapshot | undefined) => (g ? servingCount(g, options.elbNames ?? g.loadBalancerNames, g.targetGroupARNs) : 0);
  const was = servingOf(keptOf(before));
  const is = servingOf(keptOf(now));
  if (is < was) return `${planned.keep} serves ${is} instance(s), ${was} when asked`;
  return undefined;
}

/** The run's error with a truthful message (what the cleanup actually did). */
function interruptedOrFailed(err: unknown, what: string): DeployError {
  if (err instanceof DeployError && err.code !== 'interrupted') {
    return new DeployError(err.code, `${err.message.replace(/; restore incomplete \(.*$/, '')}; ${what}`, { source: err.source, exit: err.exit, cause: err, data: { ...err.data, restored: true, left: [] } });
  }
  return interruptedError(`interrupted; ${what}`);
}

function refusalError(r: PlanRefusal): DeployError {
  return r.exit === 2 ? usageError(r.code, r.message, r.data) : refusedError(r.code, r.message, r.data);
}

async function observeMaybe(port: AwsPort, name: string, elbHealth: boolean): Promise<GroupSnapshot | undefined> {
  try {
    return await port.observeGroup(name, { elbHealth });
  } catch (err) {
    if (err instanceof DeployError && err.code === 'group-not-found') return undefined;
    throw err;
  }
}

interface AbObservation extends Observation {
  byName: Map<string, GroupSnapshot>;
  now: number;
  /** On target groups: the forwards' weights (read while they can matter). */
  forwards?: TrafficForward[];
}

/** A swap runs its plan's fields (strategy.ts SwapPlan) with the processes it suspends; a drain, one group. */
type Mode =
  | (Pick<SwapPlan, 'kind' | 'from' | 'to' | 'count' | 'step' | 'elbNames' | 'targetGroupArns' | 'traffic' | 'targetMin'> & { suspend: readonly string[] })
  | { kind: 'drain'; group: string };

/**
 * The engine's view of one A/B phase: observe the groups involved, decide with the pure
 * functions, remember when each step and the drain began, clean up per the failure policy.
 */
class AbStrategy implements Strategy<AbObservation> {
  readonly strategy = 'ab' as const;
  private readonly guards = new Map<string, Guard>();
  private loaded = false;
  private fromCache?: GroupSnapshot;
  private toCache?: GroupSnapshot;
  private needFrom = true;
  stepStartedAt: number;
  drainStartedAt?: number;
  drainSeconds?: number;
  /** Set once the old color's drain has begun: from then on nothing is rolled back. */
  committed = false;
  /** The new color's size before this run touched it (for rollback). */
  private original?: { desired: number; min: number };

  constructor(
    private readonly port: AwsPort,
    private readonly clock: Clock,
    private readonly reporter: Reporter,
    readonly target: string,
    private readonly mode: Mode,
    private readonly planText: { message: string; data: Record<string, unknown> },
    private readonly policy: {
      healthCheckTimeoutMs: number;
      drainTimeoutMs: number;
      rollback: boolean;
      signal?: AbortSignal;
      drainedIds: string[];
      summary?: () => string;
      /** The ELB health check of the new color (interval, healthy threshold): earliest passes. */
      timing?: HealthCheckTiming;
      /** The old color's connection draining timeout (ms; 0: off): earliest end of the drain. */
      drainingMs?: number;
      /** Launch → InService of the groups' recent launches (AWS's activities), ms: when to look. */
      bootEstimateMs?: number;
      /** Snapshots the plan was made from: the first observation, when taken at this very moment. */
      initial?: Map<string, GroupSnapshot>;
      /** `--keep-old`, ms: the old color stays at full size this long once the new one serves (ab/keep-old.ts). */
      keepOldMs?: number;
    },
  ) {
    this.stepStartedAt = clock.now();
  }

  private groupsInvolved(): string[] {
    return this.mode.kind === 'drain' ? [this.mode.group] : [this.mode.to, ...(this.mode.from ? [this.mode.from] : [])];
  }

  /** `fresh` (after a failure or an interrupt): every group read anew, no cached snapshot. */
  async observe(fresh = false): Promise<AbObservation> {
    const byName = new Map<string, GroupSnapshot>();
    const swap = this.mode.kind === 'swap' ? this.mode : undefined;
    for (const name of this.groupsInvolved()) {
      const judged = swap !== undefined && name === swap.to && swap.elbNames.length > 0;
      // Frugal: while the new color grows, the old one is only re-read when a decision needs it
      // (first turn, after acting on it, once the new color serves, while it drains).
      if (swap && name === swap.from && this.fromCache && !this.needFrom && !fresh) {
        const to = byName.get(swap.to);
        if (!to || servingCount(to, swap.elbNames, swap.targetGroupArns) < swap.count) {
          byName.set(name, this.fromCache);
          continue;
        }
      }
      // Once the drain has begun only the old color matters: the new one is not re-read.
      if (swap && name === swap.to && this.committed && this.toCache && !fresh) {
        byName.set(name, this.toCache);
        continue;
      }
      // The color being drained: with its ELB health once the drain has begun (drained = out of
      // service, see isDrained); the new color: with the ELBs it is judged by.
      const draining = name === (this.mode.kind === 'drain' ? this.mode.group : swap?.from) && this.committed;
      const seeded = !this.loaded ? this.policy.initial?.get(name) : undefined;
      const snap =
        seeded && seeded.observedAt === this.clock.now()
          ? seeded
          : await this.port.observeGroup(name, judged ? { elbHealth: true, elbNames: swap!.elbNames } : { elbHealth: draining || (fresh && name === swap?.from) });
      this.elbChecked.set(name, draining);
      byName.set(name, snap);
      if (swap && name === swap.to) this.toCache = snap;
      if (swap && name === swap.from) {
        this.fromCache = snap;
        this.needFrom = isDrainStarted(snap);
      }
    }
    const now = this.clock.now();
    if (!this.loaded) {
      this.loaded = true;
      for (const g of byName.values()) this.guard(g.name).load(g);
      for (const g of byName.values()) for (const i of g.instances) this.launchTimes.set(i.instanceId, i.launchTime);
      if (swap) {
        const to = byName.get(swap.to)!;
        const recorded = this.guard(swap.to).originals();
        this.original = { desired: recorded?.desired ?? to.desired, min: Math.min(to.min, recorded?.desired ?? to.desired) };
      }
    }
    const drainGroup = this.mode.kind === 'drain' ? this.mode.group : this.mode.from;
    const dg = drainGroup ? byName.get(drainGroup) : undefined;
    if (dg && isDrainStarted(dg)) {
      this.committed = true;
      this.drainStartedAt ??= now;
      this.reportDrained(dg);
      for (const i of dg.instances) if (!isLeaving(i)) this.lastNotLeavingAt = now;
      const left = this.elbChecked.get(dg.name) ? dg.instances.filter((i) => !isDrained(i, dg.loadBalancerNames)) : remainingInstances(dg);
      if (left.length === 0 && this.drainSeconds === undefined) {
        this.drainSeconds = Math.round((now - this.drainStartedAt) / 100) / 10;
        this.reporter.emit('info', AbCodes.drained, `${dg.name} drained in ${this.drainSeconds} s`, { asg: dg.name, seconds: this.drainSeconds });
      }
    }
    if (swap && !this.committed) this.trackGrowth(byName.get(swap.to)!, swap.elbNames, now);
    // After the commit the weights matter again only when the old color must be drained anew
    // (someone put an instance of it back in service): the rail under the drain reads them.
    const redrain = this.committed && swap?.from !== undefined && byName.get(swap.from) !== undefined && !isDrainStarted(byName.get(swap.from)!);
    const forwards = swap?.traffic && (!this.committed || redrain) ? await this.observeForwards(swap, byName.get(swap.to)!, fresh || redrain) : undefined;
    if (swap) this.trackKeepOld(swap, byName, forwards, now);
    this.lastObservedAt = now;
    return this.observation(byName, now, forwards);
  }

  /**
   * Before a weight raise or the old color's drain decided on a stale read (engine.ts staleRaise,
   * staleScaleIn): the new color alone is read anew (one observeGroup with its target/ELB health),
   * the rest of the look kept — the weights are the tool's own writes, the old color serves on.
   * Decided on anew at once.
   */
  async reread(a: Action, o: AbObservation): Promise<AbObservation | undefined> {
    const swap = this.mode.kind === 'swap' ? this.mode : undefined;
    if (!swap || (a.kind !== 'setWeights' && a.kind !== 'updateSizes') || this.committed) return undefined;
    const judged = swap.elbNames.length > 0;
    const snap = await this.port.observeGroup(swap.to, judged ? { elbHealth: true, elbNames: swap.elbNames } : { elbHealth: false });
    const now = this.clock.now();
    this.toCache = snap;
    this.trackGrowth(snap, swap.elbNames, now);
    const byName = new Map(o.byName);
    byName.set(swap.to, snap);
    this.lastObservedAt = now;
    return this.observation(byName, now, o.forwards);
  }

  private observation(byName: Map<string, GroupSnapshot>, now: number, forwards: TrafficForward[] | undefined): AbObservation {
    const swap = this.mode.kind === 'swap' ? this.mode : undefined;
    const elbsOf = (group: string) => (swap && group === swap.to ? swap.elbNames : []);
    const tgsOf = (group: string) => (swap && group === swap.to ? (swap.targetGroupArns ?? []) : []);
    return {
      groups: [...byName.values()],
      byName,
      now,
      ...(forwards ? { forwards } : {}),
      isHealthy: (group, id) => {
        const i = byName.get(group)?.instances.find((x) => x.instanceId === id);
        return i !== undefined && isServing(i, elbsOf(group), tgsOf(group));
      },
      waitingSinceMs: now - this.stepStartedAt,
    };
  }

  /** The forwards' weights, frugally: read at the start, then whenever they can matter (the new color serves, or carries traffic). */
  private forwardsCache?: TrafficForward[];
  /** When the new color's current share of the traffic was reached (a step's hold starts there). */
  heldSince?: number;
  private heldShare?: number;
  /** Set when a failure could not shift the weights back (the old color serves nothing). */
  weightsKept?: { share: number };

  /** On target groups: the swap's traffic plan (the stand-ins' weights follow the old color's recovery). */
  get traffic(): TrafficPlan | undefined {
    return this.mode.kind === 'swap' ? this.mode.traffic : undefined;
  }

  private async observeForwards(swap: Extract<Mode, { kind: 'swap' }>, to: GroupSnapshot, fresh: boolean): Promise<TrafficForward[] | undefined> {
    const t = swap.traffic!;
    if (!this.port.readForwards) return undefined;
    const cachedShare = this.forwardsCache ? currentShare(this.forwardsCache, t.toTg, t.fromTg) : 0;
    const needed = fresh || !this.forwardsCache || cachedShare > 0 || servingCount(to, swap.elbNames, swap.targetGroupArns) >= swap.count;
    if (needed) this.forwardsCache = await this.port.readForwards(t.forwards);
    const share = currentShare(this.forwardsCache!, t.toTg, t.fromTg);
    if (share !== this.heldShare) {
      this.heldShare = share;
      this.heldSince = this.clock.now();
    }
    return this.forwardsCache;
  }

  /** `--keep-old`: when the new color first served its whole count (the window opened), and whether its end was reported. */
  keepOldSince?: number;
  private keepOldOver = false;

  /** In the keep-old window: a failure now switches back (the new color is scaled back while the old still serves). */
  get inKeepOld(): boolean {
    return this.keepOldSince !== undefined && !this.committed;
  }

  /**
   * Opens the keep-old window once the new color serves its count — on target groups, once it
   * also carries all of the traffic (keep-old.ts keepOldOpens) — (`ab.keep-old` start), and
   * reports its end once.
   */
  private trackKeepOld(swap: Extract<Mode, { kind: 'swap' }>, byName: Map<string, GroupSnapshot>, forwards: TrafficForward[] | undefined, now: number): void {
    const ms = this.policy.keepOldMs;
    if (!ms || !swap.from || this.committed) return;
    const to = byName.get(swap.to)!;
    const from = byName.get(swap.from);
    if (this.keepOldSince === undefined) {
      if (!from || !keepOldOpens(to, swap, forwards)) return;
      this.keepOldSince = now;
      const traffic = swap.traffic ? ' and carries all of the traffic' : '';
      const kept = swap.traffic ? `, registered at weight 0` : '';
      this.reporter.emit('info', AbCodes.keepOld, `${swap.to} serves ${swap.count}${traffic}: keeping ${swap.from} at full size (${from.desired}${kept}) for --keep-old ${Math.round(ms / 1000)} s, watching health and alarms`, {
        environment: this.target, asg: swap.to, keep: swap.from, state: 'start', phase: 'keep-old', waitSeconds: Math.round(ms / 1000), until: new Date(now + ms).toISOString(),
      });
    } else if (!this.keepOldOver && now - this.keepOldSince >= ms) {
      this.keepOldOver = true;
      this.reporter.emit('info', AbCodes.keepOld, `${swap.to} served through --keep-old ${Math.round(ms / 1000)} s: draining ${swap.from}`, {
        environment: this.target, asg: swap.to, keep: swap.from, state: 'passed', phase: 'draining', waitSeconds: Math.round(ms / 1000), until: new Date(this.keepOldSince + ms).toISOString(),
      });
    }
  }

  private readonly launchTimes = new Map<string, number | undefined>();
  private readonly reportedGone = new Set<string>();
  /** Per group: was its last snapshot taken with its ELB health (drain judged by isDrained)? */
  private readonly elbChecked = new Map<string, boolean>();
  /** Last observation at which an instance of the draining color was not yet leaving. */
  private lastNotLeavingAt?: number;
  private lastObservedAt?: number;
  /** The new color's instances being waited for, and what this run learned (rollout/polling.ts). */
  private readonly watch = new Map<string, WatchedInstance>();
  private readonly learned: Learned = {};

  private trackGrowth(to: GroupSnapshot, elbNames: readonly string[], now: number): void {
    const tgs = this.mode.kind === 'swap' ? (this.mode.targetGroupArns ?? []) : [];
    for (const i of to.instances) {
      if (isLeaving(i)) continue;
      const serving = isServing(i, elbNames, tgs);
      let w = this.watch.get(i.instanceId);
      if (!w) {
        if (serving) continue; // serving before we watched it: nothing to learn
        w = { firstSeen: i.launchTime !== undefined ? Math.min(i.launchTime, now) : (this.lastObservedAt ?? now), healthy: false };
        this.watch.set(i.instanceId, w);
      }
      if (w.healthy) continue;
      if (i.lifecycleState === 'InService') w.inServiceSeen ??= now;
      else w.notInServiceAt = now;
      if (serving) {
        w.healthy = true;
        learn(this.learned, w);
      } else {
        w.notHealthyAt = now;
      }
    }
  }

  /**
   * When to look at the new color next (polling.ts `nextLookAt` per instance: just before its
   * expected boot ends, then once its ELB checks could have passed); instances not launched yet
   * cannot be InService before now + the expected boot. Undefined: nothing to estimate.
   */
  private nextLook(to: GroupSnapshot, elbNames: readonly string[], now: number): number | undefined {
    const l = this.learned;
    const pinned = l.bootWindowMs !== undefined && l.bootWindowMs <= 2 * DEFAULT_BRISK_MS ? l.bootEstimateMs : undefined;
    const boot = pinned ?? this.policy.bootEstimateMs ?? l.bootEstimateMs ?? l.bootMs;
    let next: number | undefined;
    const live = to.instances.filter((i) => !isLeaving(i));
    const tgs = this.mode.kind === 'swap' ? (this.mode.targetGroupArns ?? []) : [];
    for (const i of live) {
      if (isServing(i, elbNames, tgs)) continue;
      const w = this.watch.get(i.instanceId);
      const t = w ? nextLookAt(w, now, this.policy.timing, l, boot) : undefined;
      if (t !== undefined) next = Math.min(next ?? t, t);
    }
    if (to.desired > live.length) {
      const t = boot !== undefined ? now + Math.max(DEFAULT_BRISK_MS, boot - DEFAULT_BRISK_MS / 2) : now + Math.max(DEFAULT_BRISK_MS, Math.min(10_000, (now - this.stepStartedAt) / 10));
      next = Math.min(next ?? t, t);
    }
    return next;
  }

  /** The earliest end of the drain: connection draining runs its timeout from the deregistration. */
  private earliestDrained(): number | undefined {
    if (this.drainStartedAt === undefined) return undefined;
    return Math.max(this.drainStartedAt, this.lastNotLeavingAt ?? 0) + (this.policy.drainingMs ?? 0);
  }

  /**
   * `instance.terminate` for each old instance as the drain takes it (the ASG terminates them,
   * not the tool: reason "drained"), so the JSON timeline shows every replaced instance.
   */
  private reportDrained(g: GroupSnapshot): void {
    const present = new Map(g.instances.map((i) => [i.instanceId, i]));
    for (const id of this.policy.drainedIds) {
      if (this.reportedGone.has(id)) continue;
      const i = present.get(id);
      if (i && !isLeaving(i)) continue;
      this.reportedGone.add(id);
      const launchTime = i?.launchTime ?? this.launchTimes.get(id);
      this.reporter.emit('info', Codes.terminate, `${g.name}: ${id} ${i ? i.lifecycleState : 'gone'} — drained (scale-in to 0, after the ELB's connection draining)`, {
        asg: g.name,
        instanceId: id,
        launchTime: launchTime !== undefined ? new Date(launchTime).toISOString() : undefined,
        reason: 'drained',
        decrement: false,
      });
    }
  }

  decide(o: AbObservation): Action {
    const m = this.mode;
    const drainGroup = m.kind === 'drain' ? m.group : m.from;
    const drainProgress = {
      drainStartedAt: this.drainStartedAt,
      drainTimeoutMs: this.policy.drainTimeoutMs,
      elbChecked: drainGroup !== undefined && Boolean(this.elbChecked.get(drainGroup)),
    };
    const a =
      m.kind === 'drain'
        ? decideDrain(o.byName.get(m.group)!, drainProgress, o.now)
        : decideSwap(
            { to: o.byName.get(m.to)!, from: m.from ? o.byName.get(m.from) : undefined, forwards: o.forwards },
            m,
            { stepStartedAt: this.stepStartedAt, healthCheckTimeoutMs: this.policy.healthCheckTimeoutMs, heldSince: this.heldSince, ...drainProgress },
            o.now,
          );
    if (m.kind === 'swap' && this.policy.keepOldMs) {
      const keep = decideKeepOld({ to: o.byName.get(m.to)!, from: m.from ? o.byName.get(m.from) : undefined }, m, { keepOldMs: this.policy.keepOldMs, servedSince: this.keepOldSince }, a, o.now);
      if (keep) return keep;
    }
    // The rail under the decision: the old color is never scaled in while it still carries weight.
    if (m.kind === 'swap' && m.traffic && m.from && a.kind === 'updateSizes' && a.group === m.from && a.desired === 0) {
      const carrying = (o.forwards ?? []).map((f) => f.weights[m.traffic!.fromTg] ?? 0).find((w) => w > 0);
      if (carrying !== undefined || !o.forwards) {
        return { kind: 'abort', code: 'internal', reason: `${m.from}: refusing to drain it while its target group may still carry weight ${carrying ?? '(unknown)'} (a bug; halted safely)`, data: { asg: m.from } };
      }
    }
    // A raise carries when the new color's health it rests on was read (the engine sends it
    // only on a fresh read: engine.ts staleRaise); so does the drain of the old color, which
    // rests on the new one serving its count (engine.ts staleScaleIn) — not a re-drain once
    // committed (someone put an old instance back: the new color's health decided nothing new).
    if (a.kind === 'setWeights' && m.kind === 'swap' && a.share > a.from) return { ...a, seenAt: o.byName.get(m.to)!.observedAt };
    if (a.kind === 'updateSizes' && m.kind === 'swap' && m.from && a.group === m.from && a.desired === 0 && !this.committed) return { ...a, seenAt: o.byName.get(m.to)!.observedAt };
    if (a.kind !== 'wait') return a;
    // Frugal waiting: sleep until the earliest moment the awaited change could have happened
    // (then the engine polls briskly), never past the step's or the drain's deadline.
    if (this.committed) {
      const end = this.earliestDrained();
      if (end === undefined) return a;
      const deadline = (this.drainStartedAt ?? o.now) + this.policy.drainTimeoutMs;
      // Classic ELB may end connection draining early (no requests in flight): look now and
      // then (a fifth of the timeout, at most a minute) before the timeout, briskly after it.
      const drainingMs = this.policy.drainingMs ?? 0;
      const step = Math.min(60_000, Math.max(DEFAULT_BRISK_MS, drainingMs / 5));
      return { ...a, waitMs: Math.max(0, Math.min(end - o.now, step, deadline - o.now)) };
    }
    if (m.kind === 'swap') {
      const at = this.nextLook(o.byName.get(m.to)!, m.elbNames, o.now);
      if (at === undefined) return a;
      const deadline = this.stepStartedAt + this.policy.healthCheckTimeoutMs;
      return { ...a, waitMs: Math.max(0, Math.min(at, deadline) - o.now) };
    }
    return a;
  }

  /**
   * After suspending processes the next decision needs nothing new from AWS (the engine then
   * performs it and observes for real): the same snapshots with the processes suspended.
   */
  predict(a: Action, o: AbObservation): AbObservation | undefined {
    if (a.kind !== 'suspend') return undefined;
    const g = o.byName.get(a.group);
    if (!g) return undefined;
    const next = { ...g, suspendedProcesses: [...new Set([...g.suspendedProcesses, ...a.processes])] };
    const byName = new Map(o.byName);
    byName.set(a.group, next);
    if (this.fromCache?.name === a.group) this.fromCache = next;
    if (this.toCache?.name === a.group) this.toCache = next;
    return { ...o, byName, groups: o.groups.map((x) => (x.name === a.group ? next : x)) };
  }

  acted(a: Action): void {
    const m = this.mode;
    if (a.kind === 'setWeights') {
      // The forwards now carry these weights; the hold at this step starts now.
      this.forwardsCache = this.forwardsCache?.map((f) => ({ ...f, weights: { ...f.weights, ...a.weights } }));
      this.heldShare = a.share;
      this.heldSince = this.clock.now();
      return;
    }
    if (m.kind === 'swap' && 'group' in a && a.group === m.from) this.needFrom = true;
    const now = this.clock.now();
    if ((a.kind === 'setDesired' || a.kind === 'updateSizes') && a.desired !== undefined) {
      if (m.kind === 'swap' && a.group === m.to) this.stepStartedAt = now;
      const drainGroup = m.kind === 'drain' ? m.group : m.from;
      if (a.group === drainGroup && a.desired === 0) {
        this.committed = true;
        this.drainStartedAt = now;
      }
    }
  }

  plan(): Plan {
    return { message: this.planText.message, data: this.planText.data, noop: false };
  }

  /**
   * Set by the first cleanup turn: how many of the new color's serving instances stay serving
   * in place of old-color instances AWS took meanwhile (a spontaneous termination, a replacement
   * still booting). AbRun waits for the old color to serve its count again, then scales them away.
   */
  standIn?: { count: number; fromCount: number; fromServing: number; from: string; to: string; original: number; originalMin: number };
  private cleaningUp = false;

  /**
   * After a failure or an interrupt: before the commit point the new color goes back to its
   * original size when asked (`rollback`) or interrupted; otherwise it stays for inspection.
   * After the commit point nothing is undone (the new color serves; the drain continues).
   *
   * When the old color serves fewer than its desired count (AWS is replacing some of its
   * instances), scaling the new color straight back would leave the environment short: the new
   * color keeps as many serving instances as the old color is short (never more than it has
   * serving), its not-serving ones go first (terminated with decrement: explicit, not left to
   * the termination policy), and AbRun scales the stand-ins away once the old color serves its
   * count again. E.g. a desired 3 serving 2, b desired 3 with 1 serving: terminate b's 2 booting
   * ones, b stays at 1 until a serves 3, then b → 0.
   */
  cleanup(o: AbObservation): Action | undefined {
    const m = this.mode;
    if (m.kind !== 'swap' || this.committed || !this.original) return undefined;
    const interrupted = Boolean(this.policy.signal?.aborted);
    // On target groups, first of all: the weights back to the old color at once (its instances
    // never left its target group) — an instant switch-back, whatever the failure policy.
    if (m.traffic && m.from && o.forwards && !this.weightsKept) {
      const t = m.traffic;
      const onNew = o.forwards.some((f) => (f.weights[t.toTg] ?? 0) > 0);
      if (onNew) {
        const from = o.byName.get(m.from);
        const share = currentShare(o.forwards, t.toTg, t.fromTg);
        const f = from ? servingOwn(from) : 0;
        if (from && f > 0) {
          // The old color short of its count (AWS replacing some): the new color's serving
          // instances stand in for the missing ones, each carrying its share (see standIn below).
          const k = Math.min(servingCount(o.byName.get(m.to)!, m.elbNames, m.targetGroupArns), Math.max(0, from.desired - f));
          const want = k > 0 ? Math.round((100 * k) / (k + f)) : 0;
          if (share !== want) {
            const what = want === 0 ? `all traffic to ${m.from} at once (${f} serving instance(s), never deregistered)` : `${m.from} serves ${f} of its ${from.desired}: ${m.to}'s ${k} stand-in(s) keep ${want} %`;
            return setWeights(t, want, share, `${interrupted ? 'interrupted' : 'failed'}: switch back: ${what}, ${m.to} ${share} % → ${want} %`);
          }
        }
        if (from && f > 0) {
          // weights as wanted: the cleanup goes on below
        } else {
          // The old color serves nothing: the weights stay where traffic is served; the new color stays.
          this.weightsKept = { share };
        }
      }
    }
    if (this.weightsKept) return undefined;
    // In the --keep-old window a failure switches back, whatever --rollback says.
    if (!this.policy.rollback && !interrupted && !this.inKeepOld) return undefined;
    const to = o.byName.get(m.to)!;
    const from = m.from ? o.byName.get(m.from) : undefined;
    const why = interrupted ? 'interrupted' : this.policy.rollback ? '--rollback' : '--keep-old: switching back';
    if (from && (!this.standIn || to.desired > this.original.desired + this.standIn.count)) {
      // What the old color serves: InService in its ELBs (and target groups) too (read fresh).
      // On target groups the stand-ins carry their share of the weights (set just above).
      // Judged anew on every look until the scale-back has landed: a scale-back AWS turned back
      // (throttled) is decided again on the next look, where the old color may have become
      // short meanwhile (chaos seed 3119806818: someone's Standby in the old color).
      const fromServing = servingOwn(from);
      const short = Math.max(0, from.desired - fromServing);
      const count = Math.min(servingCount(to, m.elbNames, m.targetGroupArns), short);
      this.standIn = { count, fromCount: from.desired, fromServing, from: from.name, to: to.name, original: this.original.desired, originalMin: this.original.min };
    }
    const keep = this.standIn?.count ?? 0;
    const target = this.original.desired + keep;
    if (to.desired <= target && to.min <= this.original.min) return undefined;
    if (keep > 0) {
      // Never someone's instance in Standby (not serving, but not the tool's: docs/commands/ab.md;
      // chaos seed 250744406 terminated one here).
      const notServing = to.instances.filter((i) => !isLeaving(i) && !isStandby(i) && !isServing(i, m.elbNames, m.targetGroupArns ?? [])).map((i) => i.instanceId);
      const extra = to.desired - target;
      if (extra > 0 && notServing.length > 0) {
        this.cleaningUp = true;
        const ids = notServing.slice(0, extra);
        return {
          kind: 'terminate',
          group: m.to,
          instanceIds: ids,
          decrement: true,
          surplus: true,
          reason: `${why}: ${m.to}'s ${ids.join(', ')} not serving yet: removed first (decrement desired), its serving instances stay while ${m.from} is short`,
        };
      }
      return {
        kind: 'updateSizes',
        group: m.to,
        desired: target,
        min: Math.min(to.min, this.original.min),
        reason: `${why}: scale ${m.to} back ${to.desired} → ${target}: it keeps ${keep} serving instance(s) in place of the ${keep} ${m.from} is short (${m.from} serves ${this.standIn!.fromServing} of its ${this.standIn!.fromCount}; AWS is replacing the others) until ${m.from} serves its ${this.standIn!.fromCount} again; ${m.from} was never touched`,
      };
    }
    const fromServing = from ? servingOwn(from) : 0;
    const short = from && fromServing < from.desired ? `; ${from.name} serves ${fromServing} of its ${from.desired} by itself (AWS is replacing the others; ${m.to} had no serving instance to keep in their place)` : '';
    return {
      kind: 'updateSizes',
      group: m.to,
      desired: this.original.desired,
      min: Math.min(to.min, this.original.min),
      reason: `${why}: scale ${m.to} back ${to.desired} → ${this.original.desired}; ${m.from ?? 'the old color'} was never touched${short}`,
    };
  }

  /** The stand-ins are a deliberate, temporary change: said as what is left until AbRun removes it. */
  cleanupLeft(o: AbObservation): string | undefined {
    if (this.weightsKept && this.mode.kind === 'swap') {
      return `${this.mode.to} keeps ${this.weightsKept.share} % of the traffic and its size: ${this.mode.from} has no serving instance to switch back to`;
    }
    const st = this.standIn;
    if (!st || st.count === 0) return undefined;
    const to = o.byName.get(st.to);
    if (!to || to.desired <= st.original) return undefined;
    return `${st.to} kept at desired ${to.desired} (originally ${st.original}): ${st.count} serving instance(s) stand in for ${st.from}'s missing ${st.count} until AWS has replaced them`;
  }

  guard(group: string): Guard {
    let g = this.guards.get(group);
    if (!g) {
      g = new Guard(this.port, group, this.reporter, () => this.clock.now());
      this.guards.set(group, g);
    }
    return g;
  }

  /**
   * A/B never terminates an instance itself (draining is the ASG's scale-in), except, in a
   * cleanup, the new color's own not-serving instances (see {@link cleanup}) — never one in
   * Standby as last seen (someone's, chaos seed 250744406).
   */
  mayTerminate(group: string, id: string): boolean {
    if (!this.cleaningUp || this.mode.kind !== 'swap' || group !== this.mode.to) return false;
    const seen = this.toCache?.instances.find((i) => i.instanceId === id);
    return seen === undefined || !isStandby(seen);
  }

  summary(): string {
    if (this.policy.summary) return this.policy.summary();
    const m = this.mode;
    const drained = this.drainSeconds !== undefined ? `; drained in ${this.drainSeconds} s` : '';
    if (m.kind === 'drain') return `${m.group} drained to 0 (${this.policy.drainedIds.length} instance(s))${drained}`;
    const shifted = m.traffic ? `, traffic shifted ${m.traffic.steps.map((x) => `${x} %`).join(' → ')}` : '';
    return m.from
      ? `swapped ${m.from} → ${m.to}: ${m.count} instance(s) serving${shifted}, ${m.from} drained (${this.policy.drainedIds.length} instance(s))${drained}`
      : `${m.to}: ${m.count} instance(s) serving`;
  }
}

/** Runs a plan through the engine: one phase (swap, drain) or two (single-group refresh). */
class AbRun {
  constructor(
    private readonly port: AwsPort,
    private readonly clock: Clock,
    private readonly reporter: Reporter,
    private readonly options: AbDeployOptions,
    private readonly environment: string,
    /** When the run started (clock ms, port.apiCalls()): each engine phase reports the whole run's figures. */
    private readonly started: { ms: number; apiCalls: number },
  ) {}

  /** The run's one alarm watch (its memory of states and ignored alarms spans every phase), if any alarm is named. */
  private get watch(): AlarmWatch | undefined {
    if (!this.options.alarms?.length) return undefined;
    this.alarmWatch ??= new AlarmWatch(this.port, this.options.alarms, { target: this.environment, reporter: this.reporter, ignoreAtStart: this.options.ignoreAlarmsAtStart });
    return this.alarmWatch;
  }
  private alarmWatch?: AlarmWatch;
  /** The start check ran (before the swap record was written). */
  private alarmsChecked = false;

  /**
   * Before anything changes (the swap record is the first change): the alarms' start check
   * (refusal: exit 3, unknown alarm: exit 2). A dry run leaves it to the engine, after the plan.
   */
  private async checkAlarmsAtStart(): Promise<void> {
    if (!this.watch || this.options.dryRun) return;
    const err = await this.watch.check('start');
    this.alarmsChecked = true;
    if (err) throw err;
  }

  /**
   * The engine's halting check for a swap: the start check (once), then ALARM halts the swap
   * until it is committed (the old color's drain has begun: there is nothing left to switch back
   * to). Seam for `--keep-old` and target-group weights: a phase after the commit that can still
   * switch back asks {@link AbRun.watch} itself.
   */
  private halts(strategy: AbStrategy): HaltCheck[] {
    const watch = this.watch;
    if (!watch) return [];
    return [
      {
        check: async (phase) => {
          if (phase === 'start') {
            if (this.alarmsChecked) return undefined;
            this.alarmsChecked = true;
            return watch.check('start');
          }
          return strategy.committed ? undefined : watch.check('run');
        },
      },
    ];
  }

  private healthCheckTimeoutMs(): number {
    return (this.options.healthCheckTimeout ?? DEFAULT_HEALTH_CHECK_TIMEOUT_S) * 1000;
  }

  /** The longest connection draining timeout of the group's ELBs, or deregistration delay of its target groups (ms; 0: off). */
  private async drainingMs(group: GroupSnapshot | undefined): Promise<number> {
    let draining = 0;
    for (const tg of group?.targetGroupARNs ?? []) {
      try {
        draining = Math.max(draining, this.port.describeTargetGroup ? (await this.port.describeTargetGroup(tg)).deregistrationDelay : 300);
      } catch {
        draining = Math.max(draining, 300); // AWS's default deregistration delay
      }
    }
    for (const elb of group?.loadBalancerNames ?? []) {
      try {
        const info = await this.port.describeElb(elb);
        draining = Math.max(draining, info.drainingTimeout ?? 0);
      } catch {
        draining = Math.max(draining, 300); // an ELB we cannot describe: AWS's default 300 s
      }
    }
    return draining * 1000;
  }

  /** Waiting for a drain: the ELB's connection draining timeout, plus the health-check timeout as margin. */
  private async drainTimeoutMs(group: GroupSnapshot | undefined): Promise<number> {
    return (await this.drainingMs(group)) + this.healthCheckTimeoutMs();
  }

  /**
   * The ELB health check the new color is judged by, for the earliest-pass estimates: the ELB
   * needs HealthyThreshold consecutive checks, Interval seconds apart, after it registers — e.g.
   * interval 10 s, threshold 3 → 20 s. The checks' span is capped at {@link MAX_SKIP_MS}: with
   * AWS's default check (30 s × 10) it would be 270 s, and emulators pass instances at once.
   */
  private async timing(elbNames: string[], targetGroupArns: string[] = []): Promise<HealthCheckTiming | undefined> {
    let t: HealthCheckTiming | undefined;
    for (const tg of targetGroupArns) {
      try {
        const hc = (await this.port.describeTargetGroup?.(tg))?.healthCheck;
        if (hc && (!t || (hc.healthyThreshold - 1) * hc.interval > (t.healthyThreshold - 1) * t.interval)) t = { interval: hc.interval, healthyThreshold: hc.healthyThreshold };
      } catch {
        // unknown: no estimate
      }
    }
    for (const elb of elbNames) {
      try {
        const hc = (await this.port.describeElb(elb)).healthCheck;
        const span = Math.max(0, hc.healthyThreshold - 1) * hc.interval;
        if (!t || span > Math.max(0, t.healthyThreshold - 1) * t.interval) t = { interval: hc.interval, healthyThreshold: hc.healthyThreshold };
      } catch {
        // unknown: no estimate
      }
    }
    if (t && t.healthyThreshold > 1 && (t.healthyThreshold - 1) * t.interval * 1000 > MAX_SKIP_MS) {
      t = { healthyThreshold: t.healthyThreshold, interval: MAX_SKIP_MS / 1000 / (t.healthyThreshold - 1) };
    }
    return t;
  }

  /** Launch → InService of the groups' recent launches (shortest), from AWS's scaling activities. */
  private async bootEstimateMs(groups: string[]): Promise<number | undefined> {
    if (!this.port.recentLaunchDurations) return undefined;
    for (const g of groups) {
      try {
        const ds = await this.port.recentLaunchDurations(g);
        if (ds.length > 0) return Math.min(...ds);
      } catch {
        // an estimate only: without it polling adapts to the first launch
      }
    }
    return undefined;
  }

  private engine(strategy: AbStrategy, reporter: Reporter, halts: HaltCheck[] = []) {
    return runRollout(strategy, {
      halts,
      port: this.port,
      clock: this.clock,
      reporter,
      signal: this.options.signal,
      dryRun: this.options.dryRun,
      polling: this.options.pollInterval !== undefined ? { fixedMs: this.options.pollInterval * 1000 } : {},
      startMs: this.started.ms,
      apiStart: this.started.apiCalls,
    });
  }

  /** rollout.done carries the drained (replaced) instances: the ASG terminated them, not the engine. */
  private withReplaced(replaced: string[], suppressDone = false): Reporter {
    const inner = this.reporter;
    return {
      emit(level, code, message, data) {
        if (code === Codes.done || code === Codes.failed) {
          if (suppressDone && code === Codes.done) return;
          data = { ...(data ?? {}), replaced: [...new Set([...((data?.replaced as string[] | undefined) ?? []), ...(code === Codes.done ? replaced : [])])] };
        }
        inner.emit(level, code, message, data);
      },
    };
  }

  private async writeRecord(groups: string[], record: SwapRecord): Promise<void> {
    for (const g of groups) await this.port.putGroupTags(g, { [SWAP_TAG]: encodeSwapRecord(record) });
  }

  private async deleteRecord(groups: string[]): Promise<void> {
    for (const g of groups) {
      try {
        await this.port.deleteGroupTags(g, [SWAP_TAG]);
      } catch (err) {
        this.reporter.emit('warn', 'ab.record-left', `could not remove the ${SWAP_TAG} tag from ${g}: ${(err as Error).message}`, { asg: g });
      }
    }
  }

  async execute(plan: Exclude<AbPlan, { kind: 'nothing' }>, runId: string, a?: GroupSnapshot, b?: GroupSnapshot): Promise<RolloutResult> {
    const byName = new Map([a, b].filter((g): g is GroupSnapshot => Boolean(g)).map((g) => [g.name, g]));
    const policy = (drainTimeoutMs: number, drainedIds: string[]) => ({
      healthCheckTimeoutMs: this.healthCheckTimeoutMs(),
      drainTimeoutMs,
      rollback: Boolean(this.options.rollback),
      signal: this.options.signal,
      drainedIds,
    });
    const data = (extra: Record<string, unknown>) => ({ environment: this.environment, ...extra });

    if (plan.kind === 'drain' || plan.kind === 'cleanUp') {
      const group = plan.kind === 'drain' ? plan.group : plan.drain;
      const g = byName.get(group);
      const ids = g ? remainingInstances(g).map((i) => i.instanceId) : [];
      const strategy = new AbStrategy(this.port, this.clock, this.reporter, this.environment, { kind: 'drain', group }, {
        message: plan.summary,
        data: data(plan.kind === 'cleanUp' ? { keep: plan.keep, drain: plan.drain, why: plan.why } : { drain: group }),
      }, { ...policy(await this.drainTimeoutMs(g), ids), drainingMs: await this.drainingMs(g) });
      const r = await this.engine(strategy, this.withReplaced(ids));
      return { ...r, replaced: r.status === 'done' ? ids : [] };
    }

    if (plan.kind === 'swap') {
      const from = plan.from ? byName.get(plan.from) : undefined;
      const groups = [plan.to, ...(plan.from ? [plan.from] : [])];
      const mode: Mode = {
        kind: 'swap',
        from: plan.from,
        to: plan.to,
        count: plan.count,
        step: plan.step,
        elbNames: plan.elbNames,
        ...(plan.traffic ? { targetGroupArns: plan.targetGroupArns, traffic: plan.traffic } : {}),
        targetMin: plan.targetMin,
        suspend: SWAP_SUSPEND,
      };
      const traffic = plan.traffic ? { traffic: { steps: plan.traffic.steps, stepWaitSeconds: plan.traffic.stepWaitMs / 1000, forwards: plan.traffic.forwards.map((f) => f.arn), lbType: plan.traffic.lbType } } : {};
      const keepOld = this.options.keepOld && plan.from ? this.options.keepOld : undefined;
      const strategy = new AbStrategy(this.port, this.clock, this.reporter, this.environment, mode, {
        message: keepOld ? `${plan.summary}; ${plan.from} is kept at full size for --keep-old ${keepOld} s once ${plan.to} serves${plan.traffic ? ' and carries all of the traffic' : ''} (health and alarms watched; a failure switches back${plan.traffic ? ': the weights first' : ''})` : plan.summary,
        // fromCount: the active color's desired, the floor of safety invariant 1 (the report's timeline draws it).
        data: data({ from: plan.from, to: plan.to, count: plan.count, fromCount: from?.desired, step: plan.step, elbNames: plan.elbNames, ...traffic, resumed: Boolean(plan.resumed), ...(keepOld ? { keepOldSeconds: keepOld } : {}) }),
      }, { ...policy(await this.drainTimeoutMs(from), plan.replacing), keepOldMs: this.options.keepOld ? this.options.keepOld * 1000 : undefined, timing: await this.timing(plan.elbNames, plan.targetGroupArns), drainingMs: await this.drainingMs(from), bootEstimateMs: this.options.dryRun ? undefined : await this.bootEstimateMs(groups), initial: byName });
      await this.checkAlarmsAtStart();
      if (!this.options.dryRun && !plan.resumed) {
        const steps = plan.traffic && plan.traffic.steps.length > 1 ? { steps: plan.traffic.steps, stepWaitMs: plan.traffic.stepWaitMs } : {};
        await this.writeRecord(groups, { v: 1, mode: 'swap', from: plan.from, to: plan.to, count: plan.count, step: plan.step, runId, since: this.clock.now(), ...steps });
      }
      try {
        const r = await this.engine(strategy, this.withReplaced(plan.replacing), this.halts(strategy));
        if (r.status === 'done') await this.deleteRecord(groups);
        return { ...r, replaced: r.status === 'done' ? plan.replacing : [] };
      } catch (err) {
        const standIn = await this.standInUntilOldServes(err, strategy);
        await this.afterSwapFailure(err, strategy, plan.to, groups, standIn);
        throw standIn === 'released' ? interruptedOrFailed(err, `${plan.to} kept ${strategy.standIn!.count} serving instance(s) until ${plan.from} served its ${strategy.standIn!.fromCount} again, then went back to ${strategy.standIn!.original}; everything the tool changed was restored`) : err;
      }
    }

    // Single group refresh: drain (downtime), then grow back. Two engine phases, one record.
    const g = byName.get(plan.group);
    const groups = [plan.group];
    if (!this.options.dryRun) {
      this.reporter.emit('warn', AbCodes.downtime, `--single-asg: ${plan.group} has no second color, so it serves nothing from the drain until the new instances are healthy (downtime, as the seed accepts for e.g. a load-generator group)`, { asg: plan.group });
    }
    // One group has no old color to keep serving: the alarms are read before the start only.
    await this.checkAlarmsAtStart();
    const record: SwapRecord = plan.resumed ?? { v: 1, mode: 'refresh', to: plan.group, count: plan.count, step: plan.step, runId, since: this.clock.now(), phase: plan.phase, min: plan.targetMin };
    if (this.options.dryRun) {
      const strategy = new AbStrategy(this.port, this.clock, this.reporter, this.environment, { kind: 'drain', group: plan.group }, { message: plan.summary, data: data({ group: plan.group, count: plan.count }) }, policy(0, plan.replacing));
      return this.engine(strategy, this.reporter, this.halts(strategy));
    }
    let drainSeconds = 0;
    if (plan.phase === 'drain') {
      await this.writeRecord(groups, { ...record, phase: 'drain' });
      const drain = new AbStrategy(this.port, this.clock, this.reporter, this.environment, { kind: 'drain', group: plan.group }, {
        message: `${plan.group}: drain to 0 (first half of the refresh)`,
        data: data({ group: plan.group, phase: 'drain' }),
      }, { ...policy(await this.drainTimeoutMs(g), plan.replacing), drainingMs: await this.drainingMs(g) });
      await this.engine(drain, this.withReplaced([], true));
      drainSeconds = drain.drainSeconds ?? 0;
    }
    await this.writeRecord(groups, { ...record, phase: 'grow' });
    const grow = new AbStrategy(this.port, this.clock, this.reporter, this.environment, {
      kind: 'swap',
      to: plan.group,
      count: plan.count,
      step: plan.step,
      elbNames: plan.elbNames,
      suspend: [],
    }, { message: plan.summary, data: data({ group: plan.group, count: plan.count, phase: 'grow' }) }, {
      ...policy(0, plan.replacing),
      timing: await this.timing(plan.elbNames),
      bootEstimateMs: await this.bootEstimateMs([plan.group]),
      summary: () => `refreshed ${plan.group}: drained ${plan.replacing.length} instance(s)${drainSeconds ? ` in ${drainSeconds} s` : ''}, ${plan.count} new instance(s) serving (single group: downtime in between)`,
    });
    const r = await this.engine(grow, this.withReplaced(plan.replacing));
    // The drain set min to 0: give the group its floor back, then forget the record.
    if (plan.targetMin > 0) {
      const now = await this.port.observeGroup(plan.group, { elbHealth: false });
      if (now.min < plan.targetMin) await this.port.updateSizes(plan.group, { min: plan.targetMin });
    }
    await this.deleteRecord(groups);
    return { ...r, replaced: plan.replacing, summary: `refreshed ${plan.group}: drained ${plan.replacing.length} instance(s)${drainSeconds ? ` in ${drainSeconds} s` : ''}, ${plan.count} new instance(s) serving` };
  }

  /**
   * After the engine's cleanup kept new-color instances standing in for old-color ones AWS is
   * replacing ({@link AbStrategy.cleanup}): wait (without the aborted signal: the first Ctrl-C
   * asked for this cleanup, a second one exits at once and the records stay for a re-run) until
   * the old color serves its count again, lowering the new color as it recovers, at most the
   * health-check timeout. 'released': the new color is back to its original size; 'kept': the
   * old color is still short, the stand-ins (and the swap record) stay.
   */
  private async standInUntilOldServes(err: unknown, strategy: AbStrategy): Promise<'released' | 'kept' | undefined> {
    const st = strategy.standIn;
    if (strategy.committed || !st || st.count === 0) return undefined;
    const deadline = this.clock.now() + this.healthCheckTimeoutMs();
    const pollMs = this.options.pollInterval !== undefined ? this.options.pollInterval * 1000 : 5000;
    try {
      for (;;) {
        const [from, to] = [await this.port.observeGroup(st.from, { elbHealth: true }), await this.port.observeGroup(st.to, { elbHealth: true })];
        const fromServing = servingOwn(from);
        const short = Math.max(0, st.fromCount - fromServing);
        // A stand-in that no longer serves (AWS terminated it, its application failed) stands in
        // for nothing: with none serving, the new color goes back to its size (chaos seed 1921101647).
        const gone = short > 0 && servingOwn(to) === 0;
        const want = gone ? st.original : st.original + Math.min(st.count, short);
        const t = strategy.traffic;
        if (t && to.desired > want && this.port.readForwards && this.port.setForwardWeights) {
          // On target groups the weights follow first: the stand-ins that stay keep their share, the
          // old color takes back the rest (it serves `fromServing`), before any stand-in goes. The
          // share stands for as many stand-ins as serve on this look, never more (a weight only
          // moves onto targets seen healthy: chaos seed 4252552436).
          const k = Math.min(want - st.original, servingOwn(to));
          const share = k > 0 && fromServing > 0 ? Math.round((100 * k) / (k + fromServing)) : 0;
          const forwards = await this.port.readForwards(t.forwards);
          if (currentShare(forwards, t.toTg, t.fromTg) !== share && (share === 0 ? fromServing > 0 : true)) {
            for (const f of t.forwards) await this.port.setForwardWeights(f, { [t.toTg]: share, [t.fromTg]: 100 - share });
            this.reporter.emit('info', Codes.trafficShift, `${this.environment}: traffic → ${share} % on ${st.to} as ${st.from} serves ${fromServing} of its ${st.fromCount}`, { environment: this.environment, share, weights: { [targetGroupName(t.toTg)]: share, [targetGroupName(t.fromTg)]: 100 - share } });
          }
        }
        if (to.desired > want) {
          this.reporter.emit('warn', 'rollout.cleanup', `${st.from} serves ${st.fromCount - short} of its ${st.fromCount}: scale ${st.to} ${to.desired} → ${want}`, { action: 'updateSizes', asg: st.to });
          await this.port.updateSizes(st.to, { desired: want, ...(to.min > st.originalMin ? { min: st.originalMin } : {}) });
        }
        if (short === 0 || gone) {
          // What the engine kept recorded (the new color's originals) is now true again: restore it.
          const guard = new Guard(this.port, st.to, this.reporter, () => this.clock.now());
          const now = await this.port.observeGroup(st.to, { elbHealth: false });
          guard.load(now);
          await guard.restore(now);
          const why = gone ? `${st.from} serves ${st.fromCount - short} of its ${st.fromCount}, and none of ${st.to}'s instances serves any more to stand in for the others` : `${st.from} serves its ${st.fromCount} again`;
          this.reporter.emit('warn', AbCodes.rolledBack, `${why}: ${st.to} scaled back to ${st.original}`, { asg: st.to, desired: st.original });
          return 'released';
        }
        if (this.clock.now() >= deadline) {
          this.reporter.emit('error', AbCodes.standInKept, `${st.from} still serves only ${st.fromCount - short} of its ${st.fromCount} after ${Math.round(this.healthCheckTimeoutMs() / 1000)} s: ${st.to} keeps ${want - st.original} serving instance(s) in their place (desired ${want}, originally ${st.original}); the swap record stays: re-run 'asg-deploy ab --environment ${this.environment}' to finish the swap`, { asg: st.to, desired: want, from: st.from });
          return 'kept';
        }
        await this.clock.sleep(pollMs);
      }
    } catch (e) {
      this.reporter.emit('error', AbCodes.standInKept, `while waiting for ${st.from} to serve its ${st.fromCount} again: ${(e as Error)?.message ?? String(e)}; ${st.to} may still stand in for it; the swap record stays: re-run 'asg-deploy ab --environment ${this.environment}' to finish the swap`, { asg: st.to, from: st.from });
      void err;
      return 'kept';
    }
  }

  /** What a failed swap leaves behind, said plainly; the record goes unless the swap was committed. */
  private async afterSwapFailure(err: unknown, strategy: AbStrategy, to: string, groups: string[], standIn?: 'released' | 'kept'): Promise<void> {
    if (standIn === 'kept') return; // said by standInUntilOldServes; the record stays for the re-run
    if (strategy.weightsKept) {
      this.reporter.emit('error', AbCodes.weightsKept, `${to} keeps ${strategy.weightsKept.share} % of the traffic: the old color has no serving instance to shift it back to; the swap record stays: re-run 'asg-deploy ab --environment ${this.environment}' to finish the swap`, {
        asg: to,
        share: strategy.weightsKept.share,
      });
      return;
    }
    if (standIn === 'released') {
      await this.deleteRecord(groups);
      return;
    }
    if (strategy.committed) {
      this.reporter.emit('warn', 'ab.committed', `the swap was committed (${to} serves, the old color is draining); re-run 'ab --environment ${this.environment}' to wait for the drain to finish`, { asg: to });
      return;
    }
    const interrupted = isAbortError(err) || Boolean(this.options.signal?.aborted);
    let left: GroupSnapshot | undefined;
    try {
      left = await this.port.observeGroup(to, { elbHealth: false });
    } catch {
      left = undefined;
    }
    if (this.options.rollback || interrupted || strategy.inKeepOld) {
      this.reporter.emit('warn', AbCodes.rolledBack, `${to} scaled back to ${left?.desired ?? 0}; the old color was never touched and kept serving`, { asg: to, desired: left?.desired });
    } else if (left) {
      this.reporter.emit('warn', AbCodes.leftForInspection, `${to} left at desired ${left.desired} for inspection (the old color was never touched and keeps serving); to remove it: 'asg-deploy ab --environment ${this.environment} --clean-up --yes' (keeps the serving color)`, {
        asg: to,
        desired: left.desired,
      });
    }
    await this.deleteRecord(groups);
  }
}

export { DEFAULT_INSTANCE_COUNT };
