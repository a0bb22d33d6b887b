/**
 * `rollGroup(options)`: the one entry for a rolling rollout — the `roll` command and `deploy`'s
 * post-update hook for `strategy: rolling` services both call it.
 *
 * It wires the pure rolling strategy (rolling/strategy.ts) to the engine: observing the group
 * through the AwsPort, computing each instance's health verdict (ASG + every classic ELB + the
 * gates, gates on up-to-date instances only), remembering first-seen times, boot times and
 * instances the ASG replaced, and hinting the poller with the earliest moment a new instance could
 * pass (polling.ts).
 */
import { AwsAdapter } from '../../aws/adapter';
import { retryingPort } from '../../aws/transient';
import type { AwsClients } from '../../aws/clients';
import type { AwsPort, ElbInfo, ElbInstanceHealth, GroupSnapshot, InstanceView, LifecycleHookView, TargetHealthView, WarmPoolView } from '../../aws/port';
import type { Clock } from '../../clock';
import { DeployError, refusedError, usageError } from '../../errors';
import { withRunLock } from '../../lock/run';
import type { Gate } from '../../gates/gate';
import type { Reporter } from '../../report/reporter';
import { wait, type Action } from '../action';
import { AlarmWatch, type HaltCheck } from '../alarms';
import { rollbackPlan, rollbackTarget, RollbackReadiness, runRollback } from './rollback';
import { abandonedWhy, hookState, inLaunchHook, inTerminationHook, lifecycleDoneNote, outdatedWarm, poolUnsettled, upToDateWarm, warmPoolSize, type LifecycleFacts } from './lifecycle';
import { canaryProblem, currentHold, decideWithHolds, holdCanStart, holdOptionsProblem, planHolds, replacedCount, type Hold, type HoldMemory, type HoldOptions } from './holds';
import { runRollout, type Observation, type Plan, type Strategy } from '../engine';
import { Guard } from '../guard';
import { judgeNeighbours, neighboursOf } from '../target-group-neighbours';
import { classicElbSignalOf, combine, GatesSignal, groupSignals, pollTiming, targetGroupSignalOf, type HealthSignal } from '../health';
import { DEFAULT_BRISK_MS, batchLookAt, bootSpread, drainLookAt, expectedPassFrom, learn, nextLookAt, pinRegistration, pinsPay, poolLookAt, startKind, type BootSpread, type HealthCheckTiming, type Learned, type StartKind, type WatchedInstance } from '../polling';
import type { RolloutResult } from '../result';
import {
  ROLLOUT_PROCESSES,
  cleanupLeft,
  cleanupRolling,
  decideRolling,
  mayTerminate as mayTerminateRule,
  surplusAtCapacity,
  inService,
  isLive,
  isOutdated,
  isStandby,
  sameLaunch,
  planRolling,
  resolveBatch,
  describeHeld,
  heldBack,
  policyOf,
  rebalancePairs,
  type ProtectedPolicy,
  type RollingConfig,
  type RollingMemory,
  type StandbyPolicy,
  type RollingView,
  type Verdict,
} from './strategy';
import { mixedPlan } from './mixed';

export const DEFAULT_STEP_TIMEOUT_MS = 20 * 60_000;

export interface RollOptions {
  /** The port to use; else one is built over `clients`. */
  port?: AwsPort;
  clients?: AwsClients;
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
  /** Exact group name, else a prefix matching exactly one group. */
  asg: string;
  /** Default 1 (3-4-3); 0 = terminate first (3-2-3). */
  surge?: number;
  /** Default: current desired (surge ≥ 1), desired − 1 (surge 0). */
  minHealthy?: number;
  /** N or "P%" of the outdated instances; default the surge (surge ≥ 1) or 1. */
  batchSize?: number | string;
  /** Per-step timeout, ms (default 20 min, or pollInterval × maxWaitAttempts when both given). */
  stepTimeoutMs?: number;
  /** The seed's --max_wait_attempts: with pollIntervalMs (or the seed's 30 s), the step timeout. */
  maxWaitAttempts?: number;
  /** Fixed polling (the seed's --sleep), ms; default adaptive. */
  pollIntervalMs?: number;
  /** Overall timeout, ms. */
  timeoutMs?: number;
  /** How long to ride out transient AWS errors (throttling, 5xx…) on one step before halting, ms (default 5 min). */
  transientBudgetMs?: number;
  gates?: Gate[];
  /** CloudWatch alarms watched before the start and at every poll (`--alarm`): ALARM halts. */
  alarms?: string[];
  /** An alarm already in ALARM at the start does not refuse the run (it counts once it left ALARM). */
  ignoreAlarmsAtStart?: boolean;
  /**
   * Canary, checkpoints and bake (`--canary N --canary-wait D`, `--checkpoints 20,50
   * --checkpoint-wait D`, `--bake D`): holds watched for health and alarms (rolling/holds.ts).
   */
  holds?: HoldOptions;
  /**
   * `--rollback`: a failed or alarmed run puts the group back on the launch spec its outdated
   * instances ran and rolls to it (rolling/rollback.ts); refused at the start where that cannot be safe.
   */
  rollback?: boolean;
  dryRun?: boolean;
  /** The ASG replacing up-to-date (unhealthy) instances this many times fails the rollout (default 2). */
  maxReplacements?: number;
  /** `--standby ignore|terminate|wait`: outdated instances in Standby (default ignore; rolling/strategy.ts StandbyPolicy). */
  standby?: StandbyPolicy;
  /** `--protected ignore|replace|wait`: outdated instances protected from scale-in (default ignore; ProtectedPolicy). */
  protected?: ProtectedPolicy;
  /**
   * `--lock-bucket-name`: the group's lock is the S3 object `<ASG>.lock` there; else the
   * `asg-deploy:lock` tag on the group (lock/lock.ts groupLockOptions).
   */
  lockBucket?: string;
  /**
   * The group's lock for the whole run — the default (absent: `{}`, the lock's defaults), as the
   * `roll` command, deploy's rolling hook and the chaos harness run. `false` opts out: the engine
   * alone, only for callers that hold the lock themselves or measure the engine (benchmarks) and
   * tests that say why.
   */
  lock?: false | { heartbeatMs?: number; staleAfterMs?: number; settleMs?: number; holder?: string };
  /** Why, for the lock record (default "asg-deploy roll <asg>"). */
  reason?: string;
  runId?: string;
}

/** Exact name, else the unique group with that prefix; none or several → exit 2 naming them. */
export async function resolveGroup(port: AwsPort, nameOrPrefix: string): Promise<string> {
  if (!nameOrPrefix) throw usageError('usage', '--asg is required: an Auto Scaling Group name or a prefix matching exactly one group');
  const names = await port.findGroups(nameOrPrefix);
  if (names.includes(nameOrPrefix)) return nameOrPrefix;
  if (names.length === 1) return names[0];
  if (names.length === 0) {
    throw usageError('group-not-found', `no Auto Scaling Group named or starting with '${nameOrPrefix}'`, { asg: nameOrPrefix, candidates: [] });
  }
  throw usageError('group-ambiguous', `'${nameOrPrefix}' matches ${names.length} Auto Scaling Groups: ${names.join(', ')}; give one exact name`, {
    asg: nameOrPrefix,
    candidates: names,
  });
}

/** Seed compatibility: --sleep × --max_wait_attempts is the step timeout when given. */
export function stepTimeoutMs(o: Pick<RollOptions, 'stepTimeoutMs' | 'maxWaitAttempts' | 'pollIntervalMs'>): number {
  if (o.stepTimeoutMs !== undefined) return o.stepTimeoutMs;
  if (o.maxWaitAttempts !== undefined) return (o.pollIntervalMs ?? 30_000) * o.maxWaitAttempts;
  return DEFAULT_STEP_TIMEOUT_MS;
}

interface RollingObservation extends Observation {
  view: RollingView;
  /** The ELB was not asked this poll (the last answer stands in): good for "wait" only. */
  elbStale?: boolean;
  /** The group was not read this poll (the last read stands in, ELB states fresh): good for "wait" only. */
  groupStale?: boolean;
}

/**
 * An ELB-only look stands on a group read at most this old: whatever changes in the group (AWS
 * replacing an instance, someone's Standby) is seen within it, as the seed tools' 30-s polls would.
 */
export const GROUP_READ_MAX_AGE_MS = 30_000;

const LEAVING = (i: InstanceView) => !isLive(i);

/** The rolling Strategy for the engine: observe with memory, pure decide. */
export class RollingStrategy implements Strategy<RollingObservation> {
  readonly strategy = 'rolling' as const;
  private readonly g: Guard;
  /** The gates' health signal (health/gates.ts): remembers which instances passed. */
  private readonly gates: GatesSignal;
  private config?: RollingConfig;
  private readonly memory: RollingMemory = { firstSeen: {}, terminated: [], lost: [] };
  private readonly watch = new Map<string, WatchedInstance>();
  private lastVerdict = new Map<string, Verdict>();
  private readonly liveNew = new Set<string>();
  private readonly terminatedAt = new Map<string, number>();
  private timing?: HealthCheckTiming;
  private drainMs?: number;
  private readonly learned: Learned = {};
  private readonly initial = new Set<string>();
  private planned = new Set<string>();
  private lastObservedAt?: number;
  /** This run found the restore tag of an earlier run that did not finish. */
  private recovered = false;
  /** The last observation's view (mayTerminate judges on it). */
  private lastView?: RollingView;
  /** Each instance's ELB states from the last poll that asked the ELB. */
  private readonly lastElb = new Map<string, Record<string, ElbInstanceHealth>>();
  /** Each instance's target group states from the last poll that asked the target groups. */
  private readonly lastTg = new Map<string, Record<string, TargetHealthView>>();
  /** Launch → InService of the group's recent launches, ms, from AWS's activities. */
  private recentBootsMs: number[] = [];
  private readonly terminatedSet = new Set<string>();
  /** The next observation asks the ELB whatever the state. */
  private forceFresh = false;
  /** When the group was last read (DescribeAutoScalingGroups), clock ms. */
  private groupReadAt?: number;
  /** When the load balancer states in lastElb/lastTg were read (the earliest of those reads), clock ms. */
  private lbReadAt?: number;
  /** The group's launch spec at the start (the rollout's target). */
  private startLaunch?: GroupSnapshot['launch'];
  /** The launch spec it changed to during the run, and how to name it (sticky). */
  private changedTo?: { launch: GroupSnapshot['launch']; name: string };
  /** Canary, checkpoints and bake of this run (rolling/holds.ts), and when each started / was reported over. */
  private holds: Hold[] = [];
  private readonly holdSince: HoldMemory = {};
  /** When each hold was first reached, its clock not started (waiting for the group to settle): bounded by the step timeout. */
  private readonly holdSettling: HoldMemory = {};
  private readonly holdsOver = new Set<string>();
  /** Other groups' targets in its target groups were reported (once per run). */
  private neighboursSaid = false;
  /** An instance refresh running on the group at the start (check() refuses the run). */
  private refresh?: { id: string; status: string; startTime?: number; percentageComplete?: number };
  /** Instances in Standby at the last observation, and the desired capacity the tool expects now (followStandby). */
  private lastStandby?: Set<string>;
  private expectedDesired?: number;
  /** ExitStandby activities already counted by unseenReturns. */
  private readonly countedReturns = new Set<string>();
  /** Capacity Rebalancing's launches (AWS's own), each with its at-risk instance when named (noteRebalanceLaunches). */
  private readonly awsLaunched = new Map<string, string | undefined>();
  /** Instances whose launch was looked up in AWS's activities for good (noteRebalanceLaunches). */
  private readonly launchChecked = new Set<string>();
  /** Lifecycle hooks (read once, when an instance is first seen in a hook's wait) and the warm pool (rolling/lifecycle.ts). */
  private hooks?: LifecycleHookView[];
  private hooksRead = false;
  private warmPool?: WarmPoolView;
  private warmRead = false;
  /** The pool is read again at the next look (the tool launched: the scale-out drew on it, it refills). */
  private warmStale = false;
  /** Instances seen in the warm pool (a group instance among them started warm: polling.ts startKind). */
  private readonly warmIds = new Set<string>();
  /** What this run learned of its warm starts (its cold boots: `learned`). */
  private readonly learnedWarm: Learned = {};
  /** When the tool last made the group launch (raised desired, or terminated without decrement), clock ms. */
  private launchAskedAt?: number;
  private readonly warmTerminated = new Set<string>();
  private readonly hookWaitSince: Record<string, number> = {};
  private readonly hookWaited: Record<string, number> = {};
  private readonly launchWaitSince: Record<string, number> = {};
  private poolWaitSince?: number;
  /** Per instance seen in the warm pool: the pool read before the one it first appeared in (it was launched after), clock ms. */
  private readonly poolAppearedAfter = new Map<string, number>();
  /** When the warm pool was last read, clock ms. */
  private poolReadAt?: number;
  /** The last decision waited for the warm pool alone (rolling/lifecycle.ts): the next look may read the pool alone. */
  private poolOnlyNext = false;
  /** The group as first observed by this run (what `--rollback` goes back to: rolling/rollback.ts). */
  startGroup?: GroupSnapshot;

  constructor(
    private readonly port: AwsPort,
    readonly target: string,
    private readonly options: RollOptions,
  ) {
    this.g = new Guard(port, target, options.reporter, () => options.clock.now());
    // Gates judge live up-to-date instances only (an outdated one is being replaced anyway).
    this.gates = new GatesSignal(options.gates ?? [], (i, s) => s !== undefined && isLive(i) && !isOutdated(i, s), options.signal);
  }

  guard(): Guard {
    return this.g;
  }

  /** The one rule (rolling/strategy.ts mayTerminate, and surplusAtCapacity at back to capacity) on the last observation: what cleanup and decide pick from. */
  mayTerminate(_group: string, id: string): boolean {
    const v = this.lastView;
    // An outdated instance of the warm pool (not the group's capacity): rolling/lifecycle.ts.
    if (v && this.warmPool && outdatedWarm(this.warmPool, v.group).some((w) => w.instanceId === id)) return true;
    const i = v?.group.instances.find((x) => x.instanceId === id);
    if (!v || !i) return this.planned.has(id);
    return mayTerminateRule(i, v.group, v.verdict(i), v.facts, v.config) || surplusAtCapacity(i, v);
  }

  private resolveConfig(s: GroupSnapshot): RollingConfig {
    const record = this.g.load(s);
    this.recovered = record !== undefined;
    const capacity = record?.desired ?? s.desired;
    const surge = this.options.surge ?? 1;
    const outdated = s.instances.filter((i) => isLive(i) && !isStandby(i) && isOutdated(i, s)).length;
    const batch = resolveBatch(this.options.batchSize, outdated, surge > 0 ? surge : 1);
    const minHealthy = this.options.minHealthy ?? (surge > 0 ? capacity : Math.max(0, capacity - 1));
    return {
      standby: this.options.standby ?? 'ignore',
      protected: this.options.protected ?? 'ignore',
      capacity,
      surge,
      batch,
      minHealthy,
      stepTimeoutMs: stepTimeoutMs(this.options),
      maxReplacements: this.options.maxReplacements ?? 2,
      processes: ROLLOUT_PROCESSES,
    };
  }

  /**
   * One poll: DescribeAutoScalingGroups (+ DescribeInstances for new ids), then one
   * DescribeInstanceHealth per classic ELB and one DescribeTargetHealth per target group only
   * when their answer can matter — not while a new instance is still Pending or cannot have
   * passed the health checks yet, since the next decision is then "wait" whatever they say (the
   * other instances keep their last states).
   */
  async observe(fresh = false): Promise<RollingObservation> {
    const pooled = await this.poolOnlyLook(fresh);
    if (pooled) return pooled;
    const twoPhase = this.config !== undefined && this.port.describeInstanceHealth !== undefined && !fresh && !this.forceFresh;
    this.forceFresh = false;
    let elbStale = false;
    // Every awaited instance registered with the load balancers: only they can tell something new.
    let preread: LbStates | undefined;
    if (twoPhase && this.lastView && this.elbOnlyLook(this.lastView.group, this.options.clock.now())) {
      const last = this.lastView.group;
      preread = await this.readLbs(last);
      const stale = this.staleObservation(last, preread);
      if (stale) return stale;
    }
    const s = this.watchLaunch(await this.port.observeGroup(this.target, twoPhase ? { elbHealth: false, ...(this.splitsTargets ? { targetHealth: false } : {}) } : undefined));
    this.groupReadAt = this.options.clock.now();
    const now = this.options.clock.now();
    // When the step's new instances went InService, as AWS reports it (before the ELB is asked).
    await this.pinRegistrations(s, now);
    let lbFresh = true;
    // The oldest read this look rests on (engine.ts Observation.readAt): the group read, or a load
    // balancer's answer read before it (the ELB-only look's, reused once the group had to be read).
    let readAt = s.observedAt;
    if (twoPhase && this.lbCount(s) > 0) {
      if (preread || this.elbMatters(s, now)) {
        const states = await this.readLbs(s, preread);
        for (const i of s.instances) applyLbs(i, states);
        readAt = Math.min(readAt, states.at ?? readAt);
        this.lbReadAt = states.at ?? readAt;
      } else {
        elbStale = true;
        lbFresh = false;
        readAt = Math.min(readAt, this.lbReadAt ?? readAt);
        for (const i of s.instances) {
          const known = this.lastElb.get(i.instanceId);
          if (known) i.elb = known;
          if (this.splitsTargets && s.targetGroupARNs.length > 0) i.targetHealth = this.lastTg.get(i.instanceId) ?? {};
        }
      }
    }
    if (lbFresh) {
      if (!twoPhase || this.lbCount(s) === 0) this.lbReadAt = s.observedAt;
      this.lastElb.clear();
      this.lastTg.clear();
      for (const i of s.instances) {
        if (hasKeys(i.elb)) this.lastElb.set(i.instanceId, i.elb);
        if (i.targetHealth && hasKeys(i.targetHealth)) this.lastTg.set(i.instanceId, i.targetHealth);
      }
    }
    if (!this.config) {
      // Everything learned once per rollout; `config` is set last, so that an observation that
      // fails half-way (throttling) and is retried does it all again.
      const elbSignals: HealthSignal[] = [];
      let drain = 0;
      for (const elb of s.loadBalancerNames) {
        const info: ElbInfo = await this.port.describeElb(elb);
        elbSignals.push(classicElbSignalOf(info));
        drain = Math.max(drain, info.drainingTimeout ?? 0);
      }
      // Target groups: their health check is a polling hint, their deregistration delay the drain.
      for (const arn of s.targetGroupARNs) {
        if (!this.port.describeTargetGroup) break;
        const info = await this.port.describeTargetGroup(arn);
        elbSignals.push(targetGroupSignalOf(info));
        drain = Math.max(drain, info.deregistrationDelay);
      }
      // Other groups' (or hand-registered) targets in its target groups: they keep serving beside
      // the group's instances; said once (target-group-neighbours.ts: rolling is allowed).
      const neighbours = this.neighboursSaid ? [] : neighboursOf([s]);
      if (neighbours.length) {
        const groupOf = this.port.groupsOfInstances ? await this.port.groupsOfInstances(neighbours.map((n) => n.instanceId)) : {};
        const verdict = judgeNeighbours('rolling', s.name, neighbours, groupOf);
        if (verdict.kind === 'warn') this.options.reporter.emit('warn', verdict.code, verdict.message, verdict.data);
        this.neighboursSaid = true;
      }
      // The polling hint: the ELBs' health checks (health/signal.ts pollTiming).
      const timing = pollTiming(elbSignals);
      if (timing) this.timing = timing;
      this.drainMs = drain * 1000;
      // Boot time as AWS knows it from the group's recent launches (one call per rollout).
      if (this.port.recentLaunchDurations && s.instances.some((i) => isLive(i) && isOutdated(i, s))) {
        try {
          const ds = await this.port.recentLaunchDurations(s.name);
          this.recentBootsMs = ds;
        } catch {
          // An estimate only: without it polling adapts to the first launch.
        }
      }
      // AWS's own replacer at work on the group (an instance refresh): refused in check().
      if (this.port.activeInstanceRefresh) this.refresh = await this.port.activeInstanceRefresh(s.name);
      for (const i of s.instances) {
        this.initial.add(i.instanceId);
        // Every outdated instance present at the start, in Standby or protected too: whether the
        // tool may replace one is the policies' call on its state at the time (mayTerminate).
        if ((isLive(i) || isStandby(i)) && isOutdated(i, s)) this.planned.add(i.instanceId);
      }
      this.config = this.resolveConfig(s);
      this.holds = planHolds(this.options.holds ?? {}, this.planned.size);
    } else {
      await this.followStandby(s);
    }
    await this.observeLifecycle(s, now);
    await this.noteRebalanceLaunches(s, now);
    this.lastStandby = new Set(s.instances.filter(isStandby).map((i) => i.instanceId));
    this.expectedDesired = s.desired;
    const verdicts = new Map<string, Verdict>();
    for (const i of s.instances) {
      // The AWS signals are read from the snapshot (synchronous); only an instance they all pass
      // may need the gates (a promise): 1,000 awaited verdicts per poll were most of a big
      // rollout's garbage (docs/benchmarks.md, where the memory goes).
      let v = this.awsVerdict(s, i);
      // A launch hook's wait: not healthy yet, the hook named (rolling/lifecycle.ts).
      if (!v.healthy && v.gate === 'asg' && inLaunchHook(i)) v = { ...v, state: hookState(i.lifecycleState, this.hooks) };
      verdicts.set(i.instanceId, v.healthy && this.hasGates ? await this.gates.judge(i, s) : v);
    }

    // Memory: first seen, boot times, and up-to-date instances the ASG took away.
    const present = new Map<string, InstanceView>();
    for (const i of s.instances) {
      if (this.liveNew.has(i.instanceId)) present.set(i.instanceId, i);
      // First seen on the tool's own clock: EC2's LaunchTime is another clock (a runner whose clock
      // runs ahead would otherwise see a fresh instance as already past its step timeout).
      // An instance in Standby is not waited for: once back in service it is measured from its
      // return (chaos seed 3154719363 timed out one put back after 20 min in Standby).
      if (isStandby(i)) {
        delete this.memory.firstSeen[i.instanceId];
        this.watch.delete(i.instanceId);
        continue;
      }
      if (this.memory.firstSeen[i.instanceId] === undefined) this.memory.firstSeen[i.instanceId] = now;
      const outdated = isOutdated(i, s);
      if (!outdated && isLive(i) && !this.terminatedSet.has(i.instanceId)) {
        this.liveNew.add(i.instanceId);
        present.set(i.instanceId, i);
      }
      if (!outdated) this.track(i, verdicts.get(i.instanceId)!, now, !elbStale);
    }
    for (const id of [...this.liveNew]) {
      const i = present.get(id);
      if (i && isLive(i)) continue;
      this.liveNew.delete(id);
      const last = this.lastVerdict.get(id);
      if (!this.terminatedSet.has(id) && last && !last.healthy) {
        // Last seen in a launch hook's wait, gone without serving: the hook ended ABANDON — a
        // failed replacement, reported as such (rolling/lifecycle.ts).
        if (last.gate === 'asg' && last.state?.startsWith('Pending:')) {
          const why = abandonedWhy(this.hooks);
          this.memory.lost.push({ instanceId: id, gate: 'asg', state: why });
          this.options.reporter.emit('warn', 'rollout.hook-abandoned', `${s.name}: ${id} did not come up: ${why}; a failed replacement`, { asg: s.name, instanceId: id, hooks: (this.hooks ?? []).filter((h) => h.transition === 'launch').map((h) => h.name) });
        } else {
          this.memory.lost.push({ instanceId: id, gate: last.gate, state: last.state });
        }
      }
    }
    this.lastVerdict = verdicts;
    this.lastObservedAt = now;

    // The step's wait for a healthy replacement, on the tool's clock (decideRolling's stepStalled).
    let counted = 0;
    let unhealthyNew = false;
    for (const i of s.instances) {
      if (!isLive(i) || isStandby(i) || this.terminatedSet.has(i.instanceId)) continue;
      counted++;
      if (!unhealthyNew && !isOutdated(i, s) && !verdicts.get(i.instanceId)?.healthy) unhealthyNew = true;
    }
    const short = counted < s.desired;
    if (short || unhealthyNew) {
      this.memory.waitingSince ??= now;
      if (short && now - this.memory.waitingSince > this.config.stepTimeoutMs && this.memory.lastLaunchFailure === undefined && this.port.lastFailedLaunch) {
        try {
          this.memory.lastLaunchFailure = (await this.port.lastFailedLaunch(s.name)) ?? undefined;
        } catch {
          // Only for the message: the step fails either way.
        }
      }
    } else {
      this.memory.waitingSince = undefined;
      this.memory.lastLaunchFailure = undefined;
    }

    // `wait` policies: since when only held-back instances are left (decideRolling's wait bound).
    const replaceableLeft = s.instances.some((i) => isLive(i) && !isStandby(i) && !this.terminatedSet.has(i.instanceId) && isOutdated(i, s) && (!i.protectedFromScaleIn || this.config!.protected === 'replace'));
    if (!replaceableLeft && heldBack(s, this.config, 'wait').length > 0) this.memory.heldSince ??= now;
    else this.memory.heldSince = undefined;

    const view: RollingView = {
      group: s,
      config: this.config,
      verdict: (i) => verdicts.get(i.instanceId) ?? { healthy: false, gate: 'asg', state: 'unknown' },
      memory: this.memory,
      now,
      facts: { planned: this.planned, initial: this.initial, recovered: this.recovered, ...(this.awsLaunched.size > 0 ? { awsLaunched: this.awsLaunched } : {}) },
      launchChanged: this.changedTo?.name,
      lifecycle: this.lifecycleFacts(s, now),
      toolSuspended: this.g.originals()?.suspended,
    };
    this.lastView = view;
    // The finished rollout's wait for the group to settle at desired (decideRolling's bound).
    if (!replaceableLeft && counted - rebalancePairs(s, view.facts, this.terminatedSet).replacements.size > s.desired) this.memory.settleSince ??= now;
    else this.memory.settleSince = undefined;
    this.trackHolds(view, now);
    const hint = this.hint(s, verdicts, now);
    this.memory.waitHintMs = hint.untilMs;
    return {
      groups: [s],
      isHealthy: (_g, id) => verdicts.get(id)?.healthy ?? false,
      waitingSinceMs: hint.sinceMs,
      readAt,
      view,
      elbStale,
    };
  }

  /**
   * The holds' clocks (rolling/holds.ts): a hold reached and settled starts now
   * (`rollout.checkpoint` / `rollout.bake`, state "start", with its end for the live view's
   * countdown); a started hold whose wait is over is reported once (state "passed").
   */
  private trackHolds(view: RollingView, now: number): void {
    if (this.holds.length === 0) return;
    const total = this.planned.size;
    for (const h of this.holds) {
      const since = this.holdSince[h.id];
      if (since !== undefined && now - since >= h.waitMs && !this.holdsOver.has(h.id)) {
        this.holdsOver.add(h.id);
        this.emitHold(h, 'passed', since, now, total, view);
      }
    }
    const h = currentHold(view, this.holds, this.holdSince);
    if (h && this.holdSince[h.id] === undefined) this.holdSettling[h.id] ??= now;
    if (h && this.holdSince[h.id] === undefined && holdCanStart(view, h)) {
      this.holdSince[h.id] = now;
      this.emitHold(h, 'start', now, now, total, view);
    }
  }

  private emitHold(h: Hold, state: 'start' | 'passed', since: number, now: number, total: number, view: RollingView): void {
    const code = h.kind === 'bake' ? RollCodes.bake : RollCodes.checkpoint;
    const phase = state === 'passed' ? (h.kind === 'bake' ? 'settling' : 'replacing') : h.kind === 'bake' ? 'baking' : h.kind;
    const waitSeconds = Math.round(h.waitMs / 1000);
    const message =
      state === 'start'
        ? `${this.target}: ${h.label}: holding ${waitSeconds} s, watching health and alarms`
        : `${this.target}: ${h.label}: held ${Math.round((now - since) / 1000)} s, healthy and no alarm${h.kind === 'bake' ? '; finishing' : '; replacing on'}`;
    this.options.reporter.emit('info', code, message, {
      asg: this.target,
      kind: h.kind,
      ...(h.percent !== undefined ? { percent: h.percent } : {}),
      state,
      phase,
      replaced: replacedCount(view),
      total,
      waitSeconds,
      until: new Date(since + h.waitMs).toISOString(),
    });
  }

  /**
   * Someone else moved instances into or out of Standby during the run: AWS changed the desired
   * capacity for it ("After you put the instances back in service, the desired capacity is
   * incremented"; EnterStandby with ShouldDecrementDesiredCapacity decrements it), so the
   * rollout's capacity follows — the operator's act, not surge to take back. The change is what
   * desired moved beyond what the tool itself set, bounded by the instances seen leaving
   * (increments) or entering (decrements) Standby since the last look.
   * Example: C=3, desired 4 (surge), o2 leaves Standby → desired 5 → C=4 (and the default
   * --min-healthy with it); the restore record says 4 so a re-run after a crash agrees.
   */
  private async followStandby(s: GroupSnapshot): Promise<void> {
    if (!this.config || !this.lastStandby || this.expectedDesired === undefined) return;
    const now = new Set(s.instances.filter(isStandby).map((i) => i.instanceId));
    const present = new Set(s.instances.map((i) => i.instanceId));
    const entered = [...now].filter((id) => !this.lastStandby!.has(id)).length;
    const exitedIds = [...this.lastStandby].filter((id) => !now.has(id) && present.has(id));
    const at = this.options.clock.now();
    for (const id of exitedIds) (this.memory.backFromStandby ??= {})[id] = at;
    const moved = s.desired - this.expectedDesired;
    // Desired rose by more than the returns seen: someone may have put an instance into Standby
    // and back between two looks (never seen in Standby; issue 10, chaos seeds 3994021010,
    // 1121815054). AWS's ExitStandby activities since the last look say so.
    const unseen = moved > exitedIds.length ? await this.unseenReturns(s, now, moved - exitedIds.length) : 0;
    const exited = exitedIds.length + unseen;
    if (entered === 0 && exited === 0) return;
    const shift = Math.max(-entered, Math.min(exited, moved));
    if (shift === 0) return;
    const from = this.config.capacity;
    this.config.capacity = Math.max(0, from + shift);
    if (this.options.minHealthy === undefined) this.config.minHealthy = this.config.surge > 0 ? this.config.capacity : Math.max(0, this.config.capacity - 1);
    this.options.reporter.emit('warn', 'rollout.capacity-followed', `${s.name}: desired moved ${shift > 0 ? '+' : ''}${shift} by instances ${shift > 0 ? 'put back from' : 'moved to'} Standby by someone else; capacity ${from} → ${this.config.capacity}`, {
      asg: s.name,
      from,
      to: this.config.capacity,
    });
    await this.g.followCapacity(this.config.capacity);
  }

  /**
   * On a group with Capacity Rebalancing on: which live instances AWS launched itself in response
   * to a rebalance recommendation (its scaling activities, {@link AwsPort.rebalanceLaunches}; one
   * DescribeScalingActivities per look that finds an instance not looked up yet), so the rollout
   * never takes one for its own surge (rolling/strategy.ts rebalancePairs). The instances present
   * at the first look are looked up once; a new one at each look for its first
   * {@link GROUP_READ_MAX_AGE_MS} (an activity may show a little after the instance). Without the
   * verb, or when the call fails: none known (as before), looked up again next time.
   */
  private async noteRebalanceLaunches(s: GroupSnapshot, now: number): Promise<void> {
    if (!s.capacityRebalance || !this.port.rebalanceLaunches) return;
    const unchecked = s.instances.filter((i) => isLive(i) && !this.launchChecked.has(i.instanceId) && !this.awsLaunched.has(i.instanceId));
    if (unchecked.length === 0) return;
    let launches: Array<{ instanceId: string; atRisk?: string }>;
    try {
      launches = await this.port.rebalanceLaunches(s.name, 100);
    } catch {
      return;
    }
    for (const l of launches) if (!this.awsLaunched.has(l.instanceId)) this.awsLaunched.set(l.instanceId, l.atRisk);
    for (const i of unchecked) {
      const seen = this.memory.firstSeen[i.instanceId] ?? now;
      if (this.initial.has(i.instanceId) || now - seen >= GROUP_READ_MAX_AGE_MS) this.launchChecked.add(i.instanceId);
    }
  }

  /**
   * Returns from Standby the looks never saw (an instance put into Standby and back between two
   * looks: desired rose by one, the instance looks as before), at most `max`, from AWS's scaling
   * activities ({@link AwsPort.standbyReturns}): an ExitStandby of an instance of the group, not in
   * Standby now, not seen in Standby at the last look (those are counted as seen), not counted
   * before, started since the last look. "Since the last look" is on AWS's clock: the last look's
   * time on the tool's clock less the tool's offset from AWS, estimated from this run's own
   * launches (first seen − EC2 LaunchTime, the smallest: an upper bound of the offset, so the
   * window starts no later than the look); before the run's first launch, no offset (the clocks
   * taken to agree: a runner clock ahead of AWS then misses the return, one behind may count one
   * from before the last look — never more than desired rose). Without the verb: none (the
   * increase is then taken for surplus, as before).
   * Example: look at 10:00 desired 14; at 10:02 desired 15, no Standby seen, an activity "Moving EC2
   * instance out of Standby: i-4" at 10:01 → 1 (capacity follows to 15).
   */
  private async unseenReturns(s: GroupSnapshot, standbyNow: Set<string>, max: number): Promise<number> {
    if (!this.port.standbyReturns || this.lastObservedAt === undefined) return 0;
    let offset: number | undefined;
    for (const i of s.instances) {
      const seen = this.memory.firstSeen[i.instanceId];
      if (this.initial.has(i.instanceId) || seen === undefined || i.launchTime === undefined) continue;
      offset = Math.min(offset ?? Infinity, seen - i.launchTime);
    }
    const since = this.lastObservedAt - (offset ?? 0);
    let returns: Array<{ activityId: string; instanceId: string; startTime: number }>;
    try {
      returns = await this.port.standbyReturns(s.name);
    } catch {
      return 0; // an explanation only: without it the increase counts as before
    }
    const present = new Set(s.instances.map((i) => i.instanceId));
    let n = 0;
    for (const r of returns) {
      if (n >= max) break;
      if (this.countedReturns.has(r.activityId) || r.startTime < since || !present.has(r.instanceId) || standbyNow.has(r.instanceId) || this.lastStandby?.has(r.instanceId)) continue;
      this.countedReturns.add(r.activityId);
      (this.memory.backFromStandby ??= {})[r.instanceId] = this.options.clock.now();
      n++;
    }
    return n;
  }

  /**
   * Notices the group's launch spec changing during the run, and judges the snapshot against the
   * new spec from then on (cleanup then takes back this run's surge of either spec correctly):
   *  - the group's resolved spec differs from the one at the start (a fixed version number, a new
   *    launch configuration);
   *  - or, with `$Latest`/`$Default` (resolved once per run), an instance this run did not find at
   *    the start was launched from the same template at a higher version than the target.
   */
  private watchLaunch(s: GroupSnapshot): GroupSnapshot {
    if (!this.startLaunch) {
      this.startLaunch = s.launch;
      this.startGroup = s;
      return s;
    }
    if (!this.changedTo && !sameLaunch(s.launch, this.startLaunch)) {
      this.changedTo = { launch: s.launch, name: launchName(s).replace(/^launch template \S+ /, '') };
    }
    const target = this.startLaunch.launchTemplate;
    if (!this.changedTo && target) {
      let newest: number | undefined;
      for (const i of s.instances) {
        const lt = i.launchedFrom.launchTemplate;
        if (!lt || this.initial.has(i.instanceId) || lt.version <= target.version) continue;
        if (lt.id !== target.id && lt.id !== target.name) continue;
        newest = Math.max(newest ?? 0, lt.version);
      }
      if (newest !== undefined) this.changedTo = { launch: { launchTemplate: { ...target, version: newest } }, name: `version ${newest}` };
    }
    return this.changedTo ? { ...s, launch: this.changedTo.launch } : s;
  }

  /**
   * Whether the port reads target health apart from the group read (port.describeTargetHealth):
   * then target groups follow the classic ELBs' rule — asked only when their answer can matter.
   */
  private get splitsTargets(): boolean {
    return this.port.describeTargetHealth !== undefined;
  }

  /** The load balancers a look asks apart from the group read: each classic ELB, and each target group when split. */
  private lbCount(g: GroupSnapshot): number {
    return g.loadBalancerNames.length + (this.splitsTargets ? g.targetGroupARNs.length : 0);
  }

  /**
   * One look at the load balancers: DescribeInstanceHealth per classic ELB and, when split,
   * DescribeTargetHealth per target group (`have`: answers already read this poll), asked all at
   * once: a look's oldest read is what a terminate's premise is judged by (engine.ts
   * stalePremise), so a group behind many load balancers must not spread its reads over seconds.
   */
  private async readLbs(g: GroupSnapshot, have?: LbStates): Promise<LbStates> {
    const out: LbStates = { elb: new Map(), tg: new Map(), ...(have?.at !== undefined ? { at: have.at } : {}) };
    const read = async <T>(known: T | undefined, ask: () => Promise<T>): Promise<T> => {
      if (known !== undefined) return known;
      const answer = await ask();
      out.at = Math.min(out.at ?? Infinity, this.options.clock.now());
      return answer;
    };
    const tgs = this.splitsTargets ? g.targetGroupARNs : [];
    const [elbs, targets] = await Promise.all([
      Promise.all(g.loadBalancerNames.map((elb) => read(have?.elb.get(elb), () => this.port.describeInstanceHealth!(elb)))),
      Promise.all(tgs.map((arn) => read(have?.tg.get(arn), () => this.port.describeTargetHealth!(arn)))),
    ]);
    g.loadBalancerNames.forEach((elb, k) => out.elb.set(elb, elbs[k]));
    tgs.forEach((arn, k) => out.tg.set(arn, targets[k]));
    return out;
  }

  /**
   * Whether this poll may ask the load balancers alone (one DescribeInstanceHealth per classic ELB,
   * one DescribeTargetHealth per target group, no group read): every new instance still awaited
   * was InService at the last group read — so the ASG has nothing to tell about it — the group had
   * all it should (live ≥ desired), that read is at most {@link GROUP_READ_MAX_AGE_MS} old, and
   * none is near its step timeout.
   */
  private elbOnlyLook(last: GroupSnapshot, now: number): boolean {
    if (!this.config || this.groupReadAt === undefined || now - this.groupReadAt > GROUP_READ_MAX_AGE_MS) return false;
    if (this.lbCount(last) === 0 || (last.targetGroupARNs.length > 0 && !this.splitsTargets)) return false;
    let awaited = 0;
    let live = 0;
    for (const i of last.instances) {
      if (!isLive(i) || isStandby(i) || this.terminatedSet.has(i.instanceId)) continue;
      live++;
      if (isOutdated(i, last) || this.watch.get(i.instanceId)?.healthy !== false) continue;
      if (i.lifecycleState !== 'InService') return false;
      const first = this.memory.firstSeen[i.instanceId] ?? now;
      if (now - first > this.config.stepTimeoutMs - GROUP_READ_MAX_AGE_MS) return false;
      awaited++;
    }
    return awaited > 0 && live >= last.desired;
  }

  /**
   * The observation of an ELB-only look: the last group read with the ELB states just read. None
   * when an awaited instance passed (or left the ELB): then the group is read too, before any
   * decision acts on it.
   */
  private staleObservation(last: GroupSnapshot, states: LbStates): RollingObservation | undefined {
    const now = this.options.clock.now();
    const instances = last.instances.map((i) => {
      const view: InstanceView = { ...i, elb: {} };
      applyLbs(view, states);
      return view;
    });
    const s: GroupSnapshot = { ...last, instances };
    const verdicts = new Map<string, Verdict>();
    for (const i of s.instances) {
      const v = this.awsVerdict(s, i);
      const w = this.watch.get(i.instanceId);
      if (w && !w.healthy && isLive(i) && !isOutdated(i, s)) {
        // Passed, or not (or no longer) registered everywhere: read the group too.
        if (v.healthy || Object.keys(i.elb).length < s.loadBalancerNames.length || Object.keys(i.targetHealth ?? {}).length < states.tg.size) return undefined;
        w.notHealthyAt = now;
      }
      // The gates judged it at the last group read: that verdict stands.
      verdicts.set(i.instanceId, v.healthy && this.hasGates ? (this.lastVerdict.get(i.instanceId) ?? v) : v);
    }
    this.lastElb.clear();
    this.lastTg.clear();
    this.lbReadAt = states.at ?? now;
    for (const i of s.instances) {
      if (hasKeys(i.elb)) this.lastElb.set(i.instanceId, i.elb);
      if (i.targetHealth && hasKeys(i.targetHealth)) this.lastTg.set(i.instanceId, i.targetHealth);
    }
    const view: RollingView = { ...this.lastView!, group: s, verdict: (i) => verdicts.get(i.instanceId) ?? { healthy: false, gate: 'asg', state: 'unknown' }, now };
    this.lastView = view;
    this.lastObservedAt = now;
    this.trackHolds(view, now);
    const hint = this.hint(s, verdicts, now);
    this.memory.waitHintMs = hint.untilMs;
    return { groups: [s], isHealthy: (_g, id) => verdicts.get(id)?.healthy ?? false, waitingSinceMs: hint.sinceMs, readAt: Math.min(last.observedAt, states.at ?? now), view, groupStale: true };
  }

  /**
   * Lifecycle hooks and the warm pool (rolling/lifecycle.ts), at no cost for a group with neither:
   * the hooks are read (one DescribeLifecycleHooks per run) the first time an instance is seen in a
   * hook's wait; the warm pool (DescribeWarmPool) at the start when DescribeAutoScalingGroups
   * reports one, and again at each look once nothing outdated is left in the group (the end waits
   * for it to refill). Tracks how long the tool's terminations stay in `Terminating:Wait`.
   */
  private async observeLifecycle(s: GroupSnapshot, now: number): Promise<void> {
    if (!this.hooksRead && this.port.lifecycleHooks && s.instances.some((i) => inLaunchHook(i) || inTerminationHook(i))) {
      this.hooksRead = true;
      try {
        this.hooks = await this.port.lifecycleHooks(s.name);
      } catch {
        // Only for the wording and the bounds: the waits are judged on the lifecycle states.
        this.hooksRead = false;
      }
    }
    for (const i of s.instances) {
      if (inLaunchHook(i)) this.launchWaitSince[i.instanceId] ??= now;
      if (!this.terminatedSet.has(i.instanceId)) continue;
      if (inTerminationHook(i)) this.hookWaitSince[i.instanceId] ??= now;
    }
    for (const [id, since] of Object.entries(this.hookWaitSince)) {
      if (this.hookWaited[id] !== undefined) continue;
      const i = s.instances.find((x) => x.instanceId === id);
      if (i && inTerminationHook(i)) continue;
      this.hookWaited[id] = now - since;
      this.options.reporter.emit('info', 'rollout.hook-wait', `${s.name}: ${id} left its termination lifecycle hook's wait after ${Math.round((now - since) / 1000)} s`, { asg: s.name, instanceId: id, seconds: Math.round((now - since) / 1000) });
    }
    if (!this.port.describeWarmPool || (!s.warmPool && !this.warmPool)) return;
    // Nothing outdated left that the rollout replaces (a policy's skipped instances do not count:
    // chaos seed 2563016312 never re-read the pool, and its end waited on a stale view for ever).
    const protectedPolicy = this.config?.protected ?? this.options.protected ?? 'ignore';
    const groupDone = !s.instances.some((i) => isLive(i) && !isStandby(i) && !this.terminatedSet.has(i.instanceId) && isOutdated(i, s) && (!i.protectedFromScaleIn || protectedPolicy === 'replace'));
    // Also after each launch (one DescribeWarmPool a step): which instances the next scale-out can
    // draw on, and which new instances came from the pool (polling.ts startKind).
    if (!this.warmRead || (groupDone && this.poolReadAt !== now) || this.warmStale) {
      await this.readPool(s.name, now);
      this.warmRead = true;
      this.warmStale = false;
    }
    if (groupDone && this.warmPool) this.poolWaitSince ??= now;
  }

  /** One DescribeWarmPool: the pool as it is now, and when each new instance in it was launched after. */
  private async readPool(group: string, now: number): Promise<void> {
    this.warmPool = await this.port.describeWarmPool!(group);
    for (const w of this.warmPool?.instances ?? []) {
      this.warmIds.add(w.instanceId);
      if (this.poolReadAt !== undefined && !this.poolAppearedAfter.has(w.instanceId)) this.poolAppearedAfter.set(w.instanceId, this.poolReadAt);
    }
    this.poolReadAt = now;
  }

  /**
   * When to look at the refilling warm pool next, ms from now (polling.ts poolLookAt): each
   * instance still warming (up to date, not in the pool's state yet) was launched after the read
   * before the one it appeared in, and each one the pool still lacks will be launched after the
   * last read; all are cold boots (this run's and the group's recent ones).
   */
  private poolLookInMs(group: GroupSnapshot, now: number): number | undefined {
    const pool = this.warmPool;
    if (!pool || this.poolReadAt === undefined || !poolUnsettled(group, pool)) return undefined;
    const live = pool.instances.filter((w) => !w.lifecycleState.startsWith('Warmed:Terminat') && sameLaunch(w.launchedFrom, group.launch));
    const after: number[] = [];
    for (const w of live) {
      if (w.lifecycleState === `Warmed:${pool.poolState}`) continue;
      const a = this.poolAppearedAfter.get(w.instanceId);
      if (a !== undefined) after.push(a);
    }
    for (let k = live.length; k < warmPoolSize(group, pool); k++) after.push(this.poolReadAt);
    return Math.max(0, poolLookAt(after, now, this.bootGuess()) - now);
  }

  /**
   * A look at the warm pool alone (one DescribeWarmPool, no group or load balancer read), when the
   * last decision waited for the pool alone and the group read is at most
   * {@link GROUP_READ_MAX_AGE_MS} old: the last observation with the pool just read, stale (a
   * decision other than wait looks again, whole). None when the pool is back: then the whole look
   * follows, and decides on a fresh group read.
   */
  private async poolOnlyLook(fresh: boolean): Promise<RollingObservation | undefined> {
    const last = this.lastView;
    const now = this.options.clock.now();
    if (fresh || this.forceFresh || !this.poolOnlyNext || !last || !this.warmPool || !this.port.describeWarmPool) return undefined;
    if (this.groupReadAt === undefined || now - this.groupReadAt > GROUP_READ_MAX_AGE_MS) return undefined;
    await this.readPool(last.group.name, now);
    if (!this.warmPool || !poolUnsettled(last.group, this.warmPool)) return undefined;
    const view: RollingView = { ...last, now, lifecycle: this.lifecycleFacts(last.group, now) };
    this.lastView = view;
    this.memory.waitHintMs = undefined;
    return { groups: [last.group], isHealthy: (_g, id) => this.lastVerdict.get(id)?.healthy ?? false, view, groupStale: true };
  }

  private lifecycleFacts(group: GroupSnapshot, now: number): LifecycleFacts | undefined {
    if (!this.hooks?.length && !this.warmPool && Object.keys(this.hookWaitSince).length === 0) return undefined;
    const poolLookInMs = this.poolLookInMs(group, now);
    return { hooks: this.hooks, pool: this.warmPool, warmTerminated: this.warmTerminated, hookWaitSince: this.hookWaitSince, hookWaited: this.hookWaited, poolWaitSince: this.poolWaitSince, ...(poolLookInMs !== undefined ? { poolLookInMs } : {}) };
  }

  /** The launch hooks' longest heartbeat timeout, ms (undefined: none known). */
  private launchHookTimeoutMs(): number | undefined {
    const t = (this.hooks ?? []).filter((h) => h.transition === 'launch').map((h) => h.heartbeatTimeout);
    return t.length ? Math.max(...t) * 1000 : undefined;
  }

  /**
   * Whether this poll needs the ELB's view. Not when some up-to-date instance certainly is not
   * healthy yet — still Pending, or InService too recently to have passed HealthyThreshold checks
   * (polling.ts) — or the ASG has not launched them all: decideRolling then waits whatever the ELB
   * says. Yes when a new instance might be past its step timeout (the verdict would decide).
   */
  private elbMatters(s: GroupSnapshot, now: number): boolean {
    let blocked = false;
    let live = 0;
    for (const i of s.instances) {
      // In Standby: out of the load balancer's decision, as out of the count (chaos seed 465364075).
      if (!isLive(i) || isStandby(i) || this.terminatedSet.has(i.instanceId)) continue;
      live++;
      if (isOutdated(i, s)) continue;
      const w = this.watch.get(i.instanceId);
      if (w?.healthy) continue;
      const first = this.memory.firstSeen[i.instanceId] ?? now;
      if (this.config && now - first > this.config.stepTimeoutMs) return true;
      if (i.lifecycleState !== 'InService') blocked = true;
      else if (w) {
        // Expected, not sure: a look skipped here only waits (polling.ts expectedPassFrom).
        const t = expectedPassFrom(w, this.timing);
        if (t !== undefined && t > now) blocked = true;
      }
    }
    return !(blocked || live < s.desired);
  }

  /** `elbAsked`: this poll's verdict includes the ELB's answer (else "not healthy" says nothing new once InService). */
  private track(i: InstanceView, v: Verdict, now: number, elbAsked: boolean): void {
    let w = this.watch.get(i.instanceId);
    if (!w) {
      if (v.healthy) return; // healthy before we watched it: nothing to learn
      // Drawn from the warm pool: its start is when it joined the group (EC2's LaunchTime can be
      // its launch into the pool), not before the tool asked for the launch.
      const launched = i.launchTime !== undefined ? Math.min(i.launchTime, now) : now;
      w = { firstSeen: this.warmIds.has(i.instanceId) && this.launchAskedAt !== undefined ? Math.max(launched, Math.min(this.launchAskedAt, now)) : launched, healthy: false };
      this.watch.set(i.instanceId, w);
    }
    if (w.healthy) return;
    if (i.lifecycleState === 'InService') {
      if (w.inServiceSeen === undefined) w.inServiceSeen = now;
    } else if (isLive(i)) {
      w.notInServiceAt = now;
    }
    if (v.healthy) {
      w.healthy = true;
      learn(this.startOf(i.instanceId) === 'warm' ? this.learnedWarm : this.learned, w);
    } else if (elbAsked || i.lifecycleState !== 'InService') {
      w.notHealthyAt = now;
    }
  }

  /**
   * Pins when the step's new instances went InService (polling.ts pinRegistration) from their
   * launch activities (one DescribeScalingActivities), once the last of them is seen InService and
   * some went InService between two looks further apart than a brisk period: the step ends when
   * the last passes, and each pass window then narrows from (gap + Interval) to one Interval.
   * An estimate only: without the activities the looks' window stands.
   */
  private async pinRegistrations(s: GroupSnapshot, now: number): Promise<void> {
    if (!this.pins || !this.config) return;
    const open: Array<[WatchedInstance, string]> = [];
    let fresh = false;
    for (const i of s.instances) {
      if (!isLive(i) || isStandby(i) || isOutdated(i, s) || this.terminatedSet.has(i.instanceId)) continue;
      let w = this.watch.get(i.instanceId);
      // Seen for the first time and already InService (it booted between two looks): watched from
      // its launch (track() goes on with it).
      if (!w && this.memory.firstSeen[i.instanceId] === undefined && i.lifecycleState === 'InService') {
        w = { firstSeen: i.launchTime !== undefined ? Math.min(i.launchTime, now) : now, healthy: false };
        this.watch.set(i.instanceId, w);
      }
      if (!w || w.healthy) continue;
      if (i.lifecycleState !== 'InService') return; // one still Pending: its look comes first
      if (w.registeredAt !== undefined) continue;
      if ((w.inServiceSeen ?? now) - (w.notInServiceAt ?? w.firstSeen) <= DEFAULT_BRISK_MS) continue;
      if (w.inServiceSeen === undefined) fresh = true;
      open.push([w, i.instanceId]);
    }
    if (!fresh) return;
    let acts: Map<string, { startTime: number; endTime?: number }>;
    try {
      acts = await this.port.launchActivities!(s.name, 2 * Math.max(this.config.batch, this.config.surge) + 10);
    } catch {
      return; // a schedule estimate only
    }
    for (const [w, id] of open) {
      const end = acts.get(id)?.endTime;
      w.inServiceSeen ??= now;
      if (end !== undefined) pinRegistration(w, end);
    }
  }

  /** The launch activities can pin when new instances registered, and that pays (polling.ts pinsPay). */
  private get pins(): boolean {
    return this.port.launchActivities !== undefined && pinsPay(this.bootGuess(), this.timing);
  }

  /**
   * The plausible launch → InService range (polling.ts bootSpread): the group's recent launches as
   * AWS reports them (its launch activities) and this rollout's own boots.
   */
  private bootGuess(kind: StartKind = 'cold'): BootSpread | undefined {
    if (kind === 'warm') return bootSpread(this.learnedWarm.bootsMs ?? []);
    return bootSpread([...this.recentBootsMs, ...(this.learned.bootsMs ?? [])]);
  }

  /** How an instance started (polling.ts startKind): warm when it was seen in the warm pool. Undefined id: a launch about to be made. */
  private startOf(instanceId: string | undefined): StartKind {
    if (!this.warmPool && this.warmIds.size === 0) return 'cold';
    return startKind(instanceId === undefined ? { inPool: this.lastView ? upToDateWarm(this.warmPool, this.lastView.group) : 0 } : { fromPool: this.warmIds.has(instanceId) });
  }

  /**
   * The schedule's inputs for an instance that starts `kind` (the ELB's phase learned from either).
   * A warm start's pass window is looked at briskly (`passGapMs`): the step is short (a 10–20 s
   * start and the checks), so looks {@link PASS_GAP_MS} apart would lose ~2.5 s of ~40 s — a
   * share the rollout's ratio to its limit cannot afford — while its window, about one Interval
   * once AWS reported when it registered, costs only a few looks more (issue 15 item 3; the bench's
   * warm-pool row: median ratio 1.036 at 5 s, 1.026 brisk, calls per instance 12.3 → 14.8).
   */
  private scheduleFor(kind: StartKind): { learned: Learned; boot: BootSpread | undefined; pins: boolean; passGapMs?: number } {
    if (kind === 'cold') return { learned: this.learned, boot: this.bootGuess(), pins: this.pins };
    const boot = this.bootGuess('warm');
    const offsets = [this.learned.passOffsetMs, this.learnedWarm.passOffsetMs].filter((x): x is number => x !== undefined);
    return { learned: { ...this.learnedWarm, ...(offsets.length ? { passOffsetMs: Math.min(...offsets) } : {}) }, boot, pins: this.port.launchActivities !== undefined && pinsPay(boot, this.timing), passGapMs: DEFAULT_BRISK_MS };
  }

  /** Adaptive polling hint: earliest moment a watched instance could pass, or a drain bound. */
  private hint(s: GroupSnapshot, verdicts: Map<string, Verdict>, now: number): { untilMs?: number; sinceMs?: number } {
    const looks: Array<{ pending: boolean; at: number | undefined }> = [];
    const cold = this.scheduleFor('cold');
    const warm = this.warmIds.size > 0 ? this.scheduleFor('warm') : cold;
    for (const i of s.instances) {
      if (!isLive(i) || isOutdated(i, s) || verdicts.get(i.instanceId)?.healthy) continue;
      const w = this.watch.get(i.instanceId);
      if (!w) continue;
      // A warm start on this run's warm starts, a cold launch on the cold boots (polling.ts startKind).
      const k = this.startOf(i.instanceId) === 'warm' ? warm : cold;
      let at = nextLookAt(w, now, this.timing, k.learned, k.boot, DEFAULT_BRISK_MS, k.pins, k.passGapMs);
      // In a launch hook's wait: the wait ends by the hook's heartbeat timeout at the latest (the
      // default result then applies), so look no later than just after it.
      const hookMs = inLaunchHook(i) ? this.launchHookTimeoutMs() : undefined;
      if (hookMs !== undefined) at = Math.min(at ?? Infinity, (this.launchWaitSince[i.instanceId] ?? now) + hookMs + DEFAULT_BRISK_MS);
      looks.push({ pending: w.inServiceSeen === undefined, at });
    }
    // The step ends when all its new instances passed (polling.ts batchLookAt).
    const next = batchLookAt(looks);
    if (next !== undefined) return { untilMs: next - now };
    // Waiting for terminated instances to leave the ELB (connection draining): polling.ts drainLookAt.
    const leaving = s.instances.filter((i) => (LEAVING(i) || this.terminatedSet.has(i.instanceId)) && inService(i, s.loadBalancerNames, s.targetGroupARNs));
    if (leaving.length > 0) return { untilMs: drainLookAt(leaving.map((i) => this.terminatedAt.get(i.instanceId) ?? now), this.drainMs ?? 0, now) - now };
    return {};
  }

  /**
   * The instance's verdict: the AWS signals (rollout/health/: ASG, each classic ELB), then the
   * gates on live up-to-date instances — the first that says no.
   */
  private awsVerdict(s: GroupSnapshot, i: InstanceView): Verdict {
    return combine(groupSignals(s.loadBalancerNames, s.targetGroupARNs), i, s);
  }

  private get hasGates(): boolean {
    return (this.options.gates?.length ?? 0) > 0;
  }


  /**
   * decideRolling on the observation. An observation that skipped the ELB is made only when the
   * decision must be "wait" (elbMatters); should it come out otherwise (an instance changed in
   * an unforeseen way), nothing is done on stale ELB states: look again, asking the ELB.
   */
  decide(o: RollingObservation): Action {
    const a = this.holds.length ? decideWithHolds(o.view, this.holds, this.holdSince, this.holdSettling) : decideRolling(o.view);
    this.poolOnlyNext = a.kind === 'wait' && a.awaiting === 'warm-pool';
    if (o.groupStale && a.kind !== 'wait') {
      this.forceFresh = true;
      return wait(`${o.view.group.name}: reading the group before acting`, 0);
    }
    if (o.elbStale && a.kind !== 'wait' && a.kind !== 'suspend' && a.kind !== 'resume' && a.kind !== 'setDesired') {
      this.forceFresh = true;
      return wait(`${o.view.group.name}: checking the load balancer before acting`, 0);
    }
    return a;
  }

  cleanup(o: RollingObservation): Action | undefined {
    // The cleanup's wait for the group to settle runs from its first look (cleanupRolling).
    this.memory.cleanupSince ??= o.view.now;
    return cleanupRolling(o.view);
  }

  cleanupLeft(o: RollingObservation): string | undefined {
    return cleanupLeft(o.view);
  }

  /**
   * After launching (raising desired, or terminating without decrement so the ASG replaces), no
   * new instance can pass before the ELB's first (HealthyThreshold − 1) × Interval, nor sooner than
   * any instance of this rollout did: skip the polls that could only say "not yet".
   */
  delayAfter(a: Action): number {
    // Terminating warmed instances (a.warmPool) launches nothing into the group: the pool refills itself.
    const launches = (a.kind === 'setDesired' && a.desired > (this.config?.capacity ?? Infinity)) || (a.kind === 'terminate' && !a.decrement && !a.warmPool);
    if (!launches) return 0;
    // With a boot spread: just before the first new instance could go InService (polling.ts);
    // drawn from a warm pool that holds ready instances, on this run's warm starts (startKind).
    const k = this.scheduleFor(this.startOf(undefined));
    if (k.boot !== undefined) {
      // The first look the poller would make at an instance launched now (polling.ts nextLookAt).
      const now = this.options.clock.now();
      const at = nextLookAt({ firstSeen: now, healthy: false }, now, this.timing, k.learned, k.boot, DEFAULT_BRISK_MS, k.pins, k.passGapMs);
      return Math.max(0, (at ?? now) - now);
    }
    return this.timing ? Math.max(0, this.timing.healthyThreshold - 1) * this.timing.interval * 1000 : 0;
  }

  /**
   * After suspending processes or terminating with decrement, the next decision (raise desired
   * for the next step, say) needs nothing new from AWS: predict the observation instead of
   * paying for one. The engine observes for real right after acting on a prediction.
   */
  predict(a: Action, o: RollingObservation): RollingObservation | undefined {
    const g = o.view.group;
    if (a.kind === 'suspend') {
      // Launch is held so that the NEXT look is taken when nothing can launch any more (strategy.ts
      // lowerUnlaunched): predicting it from the look before would lower desired on that old look.
      if (a.processes.includes('Launch')) return undefined;
      const group = { ...g, suspendedProcesses: [...new Set([...g.suspendedProcesses, ...a.processes])] };
      return { ...o, view: { ...o.view, group } };
    }
    if (a.kind === 'terminate' && a.decrement) {
      const ids = new Set(a.instanceIds);
      // The last ones: what comes next is "done" once they left the ELB — ask AWS at once.
      if (!g.instances.some((i) => isLive(i) && isOutdated(i, g) && !ids.has(i.instanceId) && !this.terminatedSet.has(i.instanceId))) return undefined;
      const group = {
        ...g,
        desired: g.desired - a.instanceIds.length,
        instances: g.instances.map((i) => (ids.has(i.instanceId) ? { ...i, lifecycleState: 'Terminating' } : i)),
      };
      return { ...o, groups: [group], view: { ...o.view, group } };
    }
    return undefined;
  }

  acted(a: Action): void {
    if ((a.kind === 'setDesired' && a.desired > (this.expectedDesired ?? Infinity)) || (a.kind === 'terminate' && !a.decrement && !a.warmPool) || (a.kind === 'resume' && a.processes.includes('Launch'))) {
      this.launchAskedAt = this.options.clock.now();
      // The scale-out drew on the pool (and it refills): read it again at the next look.
      if (this.warmPool) this.warmStale = true;
    }
    if (a.kind === 'setDesired') this.expectedDesired = a.desired;
    if (a.kind === 'updateSizes' && a.desired !== undefined) this.expectedDesired = a.desired;
    if (a.kind === 'terminate' && a.decrement && this.expectedDesired !== undefined) this.expectedDesired -= a.instanceIds.length;
    if (a.kind === 'terminate' && a.warmPool) {
      for (const id of a.instanceIds) this.warmTerminated.add(id);
    } else if (a.kind === 'terminate') {
      for (const id of a.instanceIds) {
        this.memory.terminated.push(id);
        this.terminatedSet.add(id);
        this.terminatedAt.set(id, this.options.clock.now());
      }
    }
  }

  plan(o: RollingObservation): Plan {
    const s = o.view.group;
    const c = o.view.config;
    const p = planRolling(s, c, o.view.verdict);
    const gates = (this.options.gates ?? []).map((g) => g.name);
    const alarms = this.options.alarms ?? [];
    const mode = c.surge > 0 ? `surge ${c.surge} (${c.capacity}-${c.capacity + Math.min(Math.max(c.surge, c.batch), Math.max(1, p.order.length))}-${c.capacity})` : `surge 0 (${c.capacity}-${p.lowestHealthy}-${c.capacity})`;
    const steps = p.batches.map((b, n) => `  step ${n + 1}: ${b.join(', ')}`).join('\n');
    // Nothing outdated is a no-op only once the group is settled: an earlier run (interrupted
    // right after its last replacement) may have left a new instance still on its way to healthy.
    const live = s.instances.filter(isLive);
    const unsettled = live.filter((i) => !o.view.verdict(i).healthy).map((i) => i.instanceId);
    const settled = unsettled.length === 0 && live.length >= s.desired;
    // What the policies do with outdated instances in Standby or protected from scale-in.
    const skipped = heldBack(s, c, 'skip');
    const held = heldBack(s, c, 'wait');
    const standbyGo = s.instances.filter((i) => policyOf(i, s, c)?.policy === 'terminate').map((i) => i.instanceId);
    const policyText =
      (standbyGo.length ? `\n  terminate (in Standby, --standby terminate; not replaced): ${standbyGo.join(', ')}` : '') +
      (held.length ? `\n  then wait for: ${describeHeld(held)}` : '') +
      (skipped.length ? `\n  skipped, left outdated: ${describeHeld(skipped)}` : '');
    const rollback = this.options.rollback ? rollbackPlan(this.startGroup && rollbackTarget(this.startGroup)) : { line: '', data: {} };
    // The warm pool's outdated instances are replaced first (rolling/lifecycle.ts).
    const warmOld = this.warmPool ? outdatedWarm(this.warmPool, s).map((w) => w.instanceId) : [];
    const warmLine = this.warmPool ? `\n  warm pool (${this.warmPool.poolState}): ${warmOld.length ? `replace ${warmOld.length} outdated warmed instance(s) first: ${warmOld.join(', ')}` : 'up to date'}` : '';
    const hookLine = this.hooks?.length ? `\n  lifecycle hooks: ${this.hooks.map((h) => `${h.name} (${h.transition}, heartbeat timeout ${h.heartbeatTimeout} s, default ${h.defaultResult})`).join(', ')}` : '';
    const mixed = mixedPlan(s);
    const message =
      p.order.length === 0 && standbyGo.length === 0 && held.length === 0 && warmOld.length === 0
        ? `${s.name}: all ${live.length} instance(s) run ${launchName(s)}${skipped.length ? ' but those skipped' : ''}; nothing to replace${settled ? '' : unsettled.length ? `; waiting for ${unsettled.join(', ')} to become healthy` : `; waiting for the ASG to reach ${s.desired} instances`}${policyText}${warmLine}${hookLine}`
        : `${s.name}: replace ${p.order.length} outdated instance(s) oldest first with ${launchName(s)}, ${mode}, min healthy ${c.minHealthy}, ${p.batches.length} step(s)${gates.length ? `, gates: ${gates.join('; ')}` : ''}${alarms.length ? `, alarms: ${alarms.join(', ')}` : ''}\n${steps}${holdLines(this.holds)}${policyText}${mixed.line}${warmLine}${hookLine}${rollback.line}`;
    return {
      message,
      noop: p.order.length === 0 && standbyGo.length === 0 && held.length === 0 && warmOld.length === 0 && settled,
      ...(skipped.length ? { noopSummary: `nothing to replace; skipped ${skipped.length} outdated: ${describeHeld(skipped)}` } : {}),
      data: {
        asg: s.name,
        strategy: 'rolling',
        capacity: c.capacity,
        surge: c.surge,
        batchSize: c.batch,
        minHealthy: c.minHealthy,
        lowestHealthy: p.lowestHealthy,
        stepTimeoutSeconds: Math.round(c.stepTimeoutMs / 1000),
        launch: s.launch,
        order: p.order.map((i) => ({
          instanceId: i.instanceId,
          launchTime: i.launchTime !== undefined ? new Date(i.launchTime).toISOString() : undefined,
          healthy: o.view.verdict(i).healthy,
        })),
        batches: p.batches,
        gates,
        ...(alarms.length ? { alarms } : {}),
        ...(this.holds.length ? { holds: this.holds.map((h) => ({ kind: h.kind, after: h.after, waitSeconds: Math.round(h.waitMs / 1000), ...(h.percent !== undefined ? { percent: h.percent } : {}) })) } : {}),
        suspend: c.processes.filter((x) => !s.suspendedProcesses.includes(x)),
        standby: c.standby,
        protected: c.protected,
        ...(this.refresh ? { instanceRefresh: this.refresh } : {}),
        ...(this.warmPool ? { warmPool: { poolState: this.warmPool.poolState, outdated: warmOld } } : {}),
        ...(this.hooks?.length ? { lifecycleHooks: this.hooks } : {}),
        ...(skipped.length ? { skipped } : {}),
        ...(held.length ? { waitFor: held } : {}),
        ...(standbyGo.length ? { terminateStandby: standbyGo } : {}),
        ...(p.refused ? { refused: p.refused } : {}),
        ...mixed.data,
        ...rollback.data,
      },
    };
  }

  check(o: RollingObservation): void {
    const big = canaryProblem(this.options.holds ?? {}, o.view.config.capacity);
    if (big) throw usageError('usage', `${o.view.group.name}: ${big}; nothing was changed`, { asg: o.view.group.name, flag: '--canary' });
    if (this.refresh) {
      const r = this.refresh;
      const name = o.view.group.name;
      throw refusedError(
        'instance-refresh-in-progress',
        `${name}: instance refresh ${r.id} is ${r.status}${r.startTime !== undefined ? ` (started ${new Date(r.startTime).toISOString()}${r.percentageComplete !== undefined ? `, ${r.percentageComplete}% complete` : ''})` : ''}: two replacers would fight over the same instances; wait for it to end or cancel it (aws autoscaling cancel-instance-refresh --auto-scaling-group-name ${name}), then re-run; nothing was changed`,
        { asg: name, instanceRefreshId: r.id, status: r.status },
      );
    }
    const p = planRolling(o.view.group, o.view.config, o.view.verdict);
    if (p.refused) throw refusedError('below-min-healthy', p.refused, { asg: o.view.group.name, minHealthy: o.view.config.minHealthy });
  }

  /** The done line; outdated instances a policy skipped are named with why (never left behind silently). */
  summary(replaced: string[]): string {
    const c = this.config!;
    const heldFor = this.holds.filter((h) => this.holdsOver.has(h.id)).map((h) => `${h.kind === 'checkpoint' ? `checkpoint ${h.percent}%` : h.kind} ${Math.round(h.waitMs / 1000)} s`);
    const skipped = this.lastView ? heldBack(this.lastView.group, c, 'skip') : [];
    if (skipped.length) {
      this.options.reporter.emit('warn', 'rollout.skipped', `${this.target}: left outdated: ${describeHeld(skipped)}`, { asg: this.target, skipped });
    }
    const v = this.lastView;
    const note = v?.lifecycle ? lifecycleDoneNote(v.group, new Set(this.memory.terminated), v.lifecycle, v.now) : '';
    if (v?.lifecycle?.pool) {
      this.options.reporter.emit('info', 'rollout.warm-pool', `${this.target}: warm pool${note.replace(/^.*warm pool:/, ':')}`, { asg: this.target, replaced: [...this.warmTerminated], poolState: v.lifecycle.pool.poolState });
    }
    return `replaced ${replaced.length} instance(s) oldest first, ${c.surge > 0 ? `surge ${c.surge}` : 'surge 0'}${heldFor.length ? `, held: ${heldFor.join(', ')}` : ''}${skipped.length ? `; skipped ${skipped.length} outdated: ${describeHeld(skipped)}` : ''}${note}`;
  }
}

/** The plan's lines for the holds: "  then hold: canary (1 of 6 replaced) 300 s". */
function holdLines(holds: Hold[]): string {
  return holds.map((h) => `\n  hold: ${h.label}, ${Math.round(h.waitMs / 1000)} s watching health and alarms`).join('');
}

/** One look's load balancer answers: per classic ELB and per target group, each instance's state. */
interface LbStates {
  elb: Map<string, Map<string, ElbInstanceHealth>>;
  tg: Map<string, Map<string, TargetHealthView>>;
  /** When the earliest of these answers was read (clock ms; undefined: none was asked). */
  at?: number;
}

/** Puts a look's answers on the instance (its `elb` and, when target groups were read, `targetHealth`). */
function applyLbs(i: InstanceView, st: LbStates): void {
  for (const [elb, m] of st.elb) {
    const h = m.get(i.instanceId);
    if (h) i.elb[elb] = h;
  }
  if (st.tg.size === 0) return;
  const th: Record<string, TargetHealthView> = {};
  for (const [arn, m] of st.tg) {
    const h = m.get(i.instanceId);
    if (h) th[arn] = h;
  }
  i.targetHealth = th;
}

function hasKeys(o: object): boolean {
  for (const _ in o) return true;
  return false;
}

function launchName(s: GroupSnapshot): string {
  if (s.launch.launchConfigurationName) return `launch configuration ${s.launch.launchConfigurationName}`;
  const lt = s.launch.launchTemplate;
  return lt ? `launch template ${lt.name ?? lt.id} version ${lt.version}` : 'its launch spec';
}

/** Rolls one group to its current launch spec. Throws DeployError (exit 1/2/3/130) after restoring. */
export async function rollGroup(options: RollOptions): Promise<RolloutResult> {
  const raw = options.port ?? (options.clients ? new AwsAdapter(options.clients, options.clock) : undefined);
  if (!raw) throw usageError('usage', 'rollGroup needs a port or AWS clients');
  // The one retry policy (aws/transient.ts): reads and idempotent writes ride out transient errors
  // in the port; a terminate is sent once and the engine looks again before deciding anew.
  const port = retryingPort(raw, { clock: options.clock, reporter: options.reporter, signal: options.signal, budgetMs: options.transientBudgetMs });
  if (options.surge !== undefined && (!Number.isInteger(options.surge) || options.surge < 0)) {
    throw usageError('usage', `--surge ${options.surge}: expected a whole number ≥ 0`);
  }
  const holdProblem = holdOptionsProblem(options.holds ?? {});
  if (holdProblem) throw usageError('usage', holdProblem, { flag: holdProblem.split(' ')[0] });
  const apiStart = port.apiCalls();
  // Finding the group rides out transient errors (the port's policy) like every other call.
  const name = await resolveGroup(port, options.asg);
  // The group's lock for the whole run (a freeze, or another run on the group → exit 3 before
  // anything changed; lock/run.ts). A dry run only reads it: it still prints the plan, then is
  // refused (exit 3) as a real run would be.
  const deps = { port, clock: options.clock, reporter: options.reporter, signal: options.signal };
  const lock = { target: { asg: name }, bucket: options.lockBucket, lock: options.lock ?? {}, reason: options.reason ?? `asg-deploy roll ${name}`, runId: options.runId };
  const engine = (strategy: RollingStrategy, reporter: Reporter, halts: HaltCheck[]) =>
    runRollout(strategy, {
      port,
      clock: options.clock,
      reporter,
      signal: options.signal,
      dryRun: options.dryRun,
      timeoutMs: options.timeoutMs,
      transientBudgetMs: options.transientBudgetMs,
      polling: { fixedMs: options.pollIntervalMs },
      apiStart,
      halts,
    });
  return withRunLock(deps, { ...lock, dryRun: options.dryRun, dryRunRefusal: { code: RollCodes.lockedDryRun, when: 'after' } }, async () => {
    const forward = new RollingStrategy(port, name, options);
    const halts: HaltCheck[] = options.alarms?.length ? [new AlarmWatch(port, options.alarms, { target: name, reporter: options.reporter, ignoreAtStart: options.ignoreAlarmsAtStart })] : [];
    if (options.rollback) halts.push(new RollbackReadiness(port, name, () => forward.startGroup && rollbackTarget(forward.startGroup)));
    try {
      return await engine(forward, options.reporter, halts);
    } catch (err) {
      if (!options.rollback || !forward.startGroup) throw err;
      // The rollback (rolling/rollback.ts): the same engine toward the previous spec, under the
      // same lock, surge, min-healthy and gates; no holds, and the alarms are watched and reported
      // but never halt it (they judge the new version, not the way back to the old one).
      return runRollback(err, rollbackTarget(forward.startGroup), {
        port,
        reporter: options.reporter,
        asg: name,
        from: forward.startGroup.launch,
        alarms: options.alarms,
        roll: (reporter, rollbackHalts) => engine(new RollingStrategy(port, name, { ...options, reporter, holds: undefined, alarms: undefined, rollback: false }), reporter, rollbackHalts),
      });
    }
  });
}

export const RollCodes = {
  lockedDryRun: 'roll.locked',
  /** {asg, kind: canary|checkpoint, percent?, state: start|passed, replaced, total, waitSeconds, until}. */
  checkpoint: 'rollout.checkpoint',
  /** {asg, kind: bake, state: start|passed, replaced, total, waitSeconds, until}. */
  bake: 'rollout.bake',
} as const;
