/**
 * Chaos scenarios: a pure function of a seed. `generateScenario(seed)` draws a fleet, a strategy
 * with its options and a mix of faults; the same seed always gives the same scenario, so the
 * printed `npm run chaos -- --runs 1 --seed S --strategy X` replays exactly one run.
 *
 * The draw order is fixed (strategy first, then everything else) and the strategy is drawn
 * even when overridden, so `--strategy` never shifts the rest of a scenario.
 */
import { drawLifecycle, lifecycleMayFail, lifecycleTags, type LifecycleCase } from './lifecycle-chaos';
import { Prng } from './prng';

export type Strategy = 'rolling' | 'ab';

/** How the tool's run is cut short, if at all; a re-run with fresh clients follows. */
export type Interruption =
  | { kind: 'none' }
  /** kill -9 after the tool's n-th AWS call: nothing is cleaned up, a re-run must finish the job. */
  | { kind: 'crash'; afterCalls: number }
  /** SIGINT after this many simulated seconds: the tool restores and exits 130; a re-run finishes. */
  | {
      kind: 'sigint';
      afterSeconds: number;
      /**
       * Aimed instead of timed: the SIGINT lands right after the tool's n-th call that asks AWS
       * for a launch — a raise of desired capacity (the surge), or with surge 0 a terminate without
       * decrement (the replacement) — asked for and not launched yet: a window a clock rarely hits.
       * No SIGINT when the run asks fewer times.
       */
      afterLaunchAsk?: number;
      /**
       * Then a kill -9 during the cleanup the SIGINT started (an operator out of patience), right
       * after its n-th call of `operation` (any mutating call when absent) from the SIGINT on:
       * nothing more is cleaned up, the re-run must finish the job (issue 10: the cleanup's
       * `SuspendProcesses Launch` before its desired lowering once left a re-run stuck).
       */
      killAfter?: { operation?: string; nth: number };
    };

export interface ScenarioFaults {
  /** The new image never passes its health check. */
  badImage: boolean;
  /** The new image passes, then its application fails this many seconds after start. */
  failAfterSeconds?: number;
  /** Boot time (launch → application answering), drawn uniformly per instance. */
  bootSeconds: { min: number; max: number };
  /** Fraction of new instances that fail to boot (the sandbox's per-instance fault, FAULT-11). */
  bootFailureRate: number;
  /**
   * How a failed boot shows (FAULT-11): 'never-healthy' — running, the application never answers
   * its health check; 'terminated' — EC2 ends it during launch (Server.InternalError).
   */
  bootFailureMode: 'never-healthy' | 'terminated';
  /** Fraction of launch attempts that fail (InsufficientInstanceCapacity). */
  launchFailureRate: number;
  /** Spontaneous terminations (hardware, spot...), per instance-hour. */
  spontaneousTerminationsPerHour: number;
  /** The fleet starts AZ-imbalanced so AZRebalance wants to act during the rollout. */
  azRebalance: boolean;
  /** Fraction of API calls answered with Throttling. */
  throttleRate: number;
  /** Fraction of API calls answered with a 5xx. */
  serverErrorRate: number;
  /** Seconds before a new instance is visible in DescribeInstances (eventual consistency). */
  consistencyDelaySeconds: number;
  /** Items per page of paginated calls (undefined: the service default). */
  pageSize?: number;
  /**
   * In-flight connections at deregistration (sandbox ELB-6): share with none (instant), share
   * outlasting the draining timeout, otherwise a drawn drain time. Undefined: always the full timeout.
   */
  connectionDrain?: { idle: number; long: number; seconds: { min: number; max: number } };
  /** A throttling storm during the rollout (sandbox FAULT-5 windows), long enough to drain the SDK's retry quota. */
  throttleStorm?: { afterSeconds: number; seconds: number; rate: number };
  /** Every API call of every client takes a latency drawn in [min, max] ms (sandbox FAULT-15). */
  apiLatencyMs?: { min: number; max: number };
  /** ScalingActivityInProgress on SetDesiredCapacity / TerminateInstanceInAutoScalingGroup while an activity runs (sandbox ASG-9). */
  activityInProgressRate?: number;
  /** Latency of an API-requested scaling activity (sandbox ASG-1a); undefined: the sandbox's 1 s. */
  scaleDelaySeconds?: { min: number; max: number };
  // --- rolling classes of issue 10 (drawn by drawRollingFaults, after every other draw) ---
  /** Rolling: every launch fails (InsufficientInstanceCapacity) from the rollout's start: a step gets no instance. */
  launchesNeverSucceed?: boolean;
  /** Rolling: a newer launch template version (healthy image) is published this many seconds into the rollout. */
  launchTemplateChangeAfterSeconds?: number;
  /** Rolling: the tool's clock runs this many seconds ahead (+) or behind (−) AWS's. */
  clockSkewSeconds?: number;
  // --- real-world groups of issue 15 (drawn by drawRealWorldFaults, after every other draw) ---
  /**
   * Rolling: someone puts one InService instance into Standby this many seconds into the rollout
   * (without decrement: AWS launches a replacement) and, if `exitAfterSeconds`, puts it back
   * (ExitStandby: desired +1) that many seconds after; `policy` is the run's `--standby`.
   */
  standbyMidRun?: { afterSeconds: number; exitAfterSeconds?: number; policy: 'ignore' | 'terminate' | 'wait' };
  /**
   * Rolling: this many of the outdated instances are protected from scale-in at the start;
   * `policy` is the run's `--protected`; with `unprotectAfterSeconds` someone removes the
   * protection that many seconds into the rollout.
   */
  protectedAtStart?: { count: number; policy: 'ignore' | 'replace' | 'wait'; unprotectAfterSeconds?: number };
  // --- issue 16 (drawn by drawAlarmFaults, after every other draw) ---
  /**
   * The run watches a CloudWatch alarm (`--alarm`); it goes into ALARM this many seconds into the
   * rollout (any phase: growth, steps, drain), or is in ALARM before the start (-1). Applied by
   * {@link alarmFaultOf} only where it is judged alone (no interrupt, no dry run, rolling or an
   * `ab` swap).
   */
  alarmTripAfterSeconds?: number;
  /** Rolling: someone's instance refresh is running on the group at the start: the run must be refused. */
  instanceRefreshInProgress?: boolean;
}

/** What a correct tool must end with. Safety invariants are checked in every case. */
export type Expectation =
  /** exit 0, every instance up to date, capacity as configured */
  | 'done'
  /** exit 1, old healthy instances serving */
  | 'halt'
  /** either of the above: the faults may or may not defeat the rollout */
  | 'done-or-halt'
  /** exit 3, nothing changed */
  | 'refused'
  /** dry run: exit 0, no mutating call */
  | 'planned';

export interface Scenario {
  seed: number;
  strategy: Strategy;
  /** Instances in the group (rolling) or in the active color (A/B); 1..50 (0 for an A/B first deploy). */
  size: number;
  // rolling
  surge: number;
  batchSize: number;
  /** undefined: the tool's default. */
  minHealthy?: number;
  // A/B
  /** New color's count; undefined: --instance-count-match. */
  instanceCount?: number;
  instanceCountStep?: number;
  /** Which color serves at the start. */
  activeColor: 'a' | 'b';
  /** A/B precondition cases. */
  abCase: 'swap' | 'first-deploy' | 'both-populated' | 'locked';
  dryRun: boolean;
  interruption: Interruption;
  faults: ScenarioFaults;
  healthCheck: { interval: number; healthyThreshold: number; unhealthyThreshold: number };
  drainingTimeout: number;
  expect: Expectation;
  /** Rolling: the group launches from (legacy) launch configurations instead of a launch template. */
  launchConfiguration: boolean;
  /**
   * A/B: which command drives the swap — `ab --environment`, or `deploy`'s post-update hook for
   * an `ab` service (stack/hooks.ts engineHooks: its own "is the active color outdated / is a swap
   * recorded" decision, the manifest's capacity; its dry run is the hook's read-only plan).
   */
  via: 'ab' | 'deploy';
  /**
   * A/B: a group named exactly like the environment exists beside its `-a`/`-b` colors (issue 10
   * defect 5): a freeze taken with `lock --environment` (no group list) must still cover the
   * colors, and no run may touch that group.
   */
  envGroupCollision: boolean;
  /**
   * A/B `ab --clean-up` whose kept color stops serving while the confirmation is open (issue 10
   * defect 4, {@link drawCleanUpConfirm}): the tool must look again and refuse, nothing drained.
   */
  cleanUpConfirm?: boolean;
  /**
   * A/B on ALB/NLB target groups (issue 14): each color's target group in one weighted forward
   * (a listener's default action, or a rule on it), the swap shifting the weights; undefined: the
   * colors are behind classic ELBs.
   */
  targetGroups?: TargetGroupCase;
  /** Rolling (issue 16 item 4): the run is `roll --rollback` (a failure or an alarm rolls the group back to the previous version). */
  rollback?: boolean;
  /**
   * A/B swaps (issue 10 item 9, {@link drawAbStandby}): someone else puts one InService instance of
   * a color (the active one or the new one) into Standby (without decrement: AWS launches a
   * replacement) `afterSeconds` into the rollout, and maybe back (`ExitStandby`) `exitAfterSeconds`
   * later. The tool must never terminate it while in Standby, nor count it as serving.
   */
  abStandby?: { color: 'active' | 'target'; afterSeconds: number; exitAfterSeconds?: number };
  /** Issue 15: lifecycle hooks and a warm pool of outdated instances on the rolling group (lifecycle-chaos.ts). */
  lifecycle?: LifecycleCase;
  /** Rolling (issue 16): canary, checkpoints and bake holds (`roll --canary/--checkpoints/--bake`), seconds; undefined: none. */
  holds?: { canary?: number; canaryWaitSeconds?: number; checkpoints?: number[]; checkpointWaitSeconds?: number; bakeSeconds?: number };
  /** Issue 16.3: `ab --keep-old` seconds (a quarter of the draws; applied where {@link keepOldOf} says). */
  keepOldSeconds?: number;
  /**
   * Rolling on ALB/NLB target groups (issue 14, {@link drawRollingTargetGroup}): the group is
   * attached to a target group (maybe beside its classic ELB); undefined: classic ELB only.
   */
  rollingTargetGroup?: RollingTargetGroupCase;
  /** Rolling (issue 15 items 4, 6, 7; {@link drawMixed}): a mixed instances group and AWS's own replacements. */
  mixed?: MixedCase;
  /** Short fault tags for the outcome table ("bad-image", "crash", ...). */
  tags: string[];
}

/** The target-group side of a rolling scenario (drawn by drawRollingTargetGroup, issue 14). */
export interface RollingTargetGroupCase {
  type: 'application' | 'network';
  /** The classic ELB stays attached beside the target group (healthy = in both). */
  withElb: boolean;
  /** The target group's health check: AWS's defaults for the type (interval 30 s, 5 passes, 2 failures), else the scenario's. */
  awsDefaults: boolean;
  /** deregistration_delay.timeout_seconds. */
  deregistrationDelay: number;
  /** Slow registration (sandbox FAULT-14): targets stay `initial` (Elb.RegistrationInProgress) this long, drawn per target. */
  registrationSeconds?: { min: number; max: number };
  /** Share of the new instances whose target never passes: it stays `unhealthy` (FAULT-11 never-healthy), in place of the scenario's failing boots. */
  unhealthyRate?: number;
  /** The new version's application fails this many seconds after start (after passing), where the scenario has no such fault. */
  failAfterSeconds?: number;
}

/**
 * A rolling group with a mixed instances policy (issue 15; drawn by {@link drawMixed}, applied to
 * rolling runs on launch templates only: run.ts): its overrides and On-Demand/Spot distribution,
 * and AWS's own replacements during the rollout — Spot interruptions (a rate per Spot instance-hour,
 * and/or one right after the tool's first termination: during a step), Capacity Rebalancing
 * (with rebalance recommendations at a rate), and the maximum instance lifetime reached
 * `lifetimeAfterSeconds` into the rollout (the fleet's launch times set back so).
 */
export interface MixedCase {
  instanceTypes: number;
  onDemandBase: number;
  onDemandPercent: number;
  spotInterruptionsPerHour: number;
  /** Interrupt the Spot instance the tool would reach last, right after its first termination. */
  interruptDuringStep: boolean;
  capacityRebalance: boolean;
  rebalanceRecommendationsPerHour: number;
  lifetimeAfterSeconds?: number;
}

/** The target-group side of an A/B scenario (drawn by drawTargetGroups). */
export interface TargetGroupCase {
  type: 'application' | 'network';
  /** The forward is a rule on the listener (ALB only), not its default action. */
  rule: boolean;
  /** `--traffic-steps` (undefined: all at once); `ab` runs only (deploy's hook shifts all at once). */
  steps?: number[];
  /** `--step-wait` seconds. */
  stepWaitSeconds?: number;
}

/** Draws the scenario for `seed`. `strategy` forces the strategy without changing anything else. */
export function generateScenario(seed: number, strategy?: Strategy): Scenario {
  const r = new Prng(seed);
  const drawn: Strategy = r.chance(0.5) ? 'rolling' : 'ab';
  const s = strategy ?? drawn;

  const sizeBand = r.next();
  let size = sizeBand < 0.15 ? r.int(1, 3) : sizeBand < 0.6 ? r.int(4, 12) : r.int(13, 50);

  // rolling options
  const surgeBand = r.next();
  const surge = surgeBand < 0.3 ? 0 : surgeBand < 0.7 ? 1 : r.int(2, Math.max(2, Math.ceil(size / 2)));
  const batchSize = surge > 0 ? surge : r.chance(0.6) ? 1 : r.int(1, Math.max(1, Math.floor(size / 3)));
  const refuse = r.chance(0.05);
  let minHealthy: number | undefined;
  if (surge === 0) minHealthy = refuse ? size : Math.max(0, size - batchSize);
  else if (r.chance(0.3)) minHealthy = r.int(Math.max(0, size - 1), size);

  // A/B options
  const instanceCount = r.chance(0.7) ? undefined : r.int(1, 50);
  const instanceCountStep = r.chance(0.2) ? r.int(1, 10) : undefined;
  const activeColor: 'a' | 'b' = r.chance(0.5) ? 'a' : 'b';
  const abBand = r.next();
  const abCase: Scenario['abCase'] = abBand < 0.05 ? 'first-deploy' : abBand < 0.1 ? 'both-populated' : abBand < 0.13 ? 'locked' : 'swap';

  const faults: ScenarioFaults = {
    badImage: r.chance(0.15),
    failAfterSeconds: r.chance(0.07) ? r.int(60, 600) : undefined,
    bootSeconds: r.chance(0.3) ? { min: 60, max: r.int(120, 600) } : { min: 30, max: r.int(30, 120) },
    bootFailureRate: r.chance(0.1) ? Math.round(r.int(10, 30)) / 100 : 0,
    bootFailureMode: 'never-healthy', // drawn last (below)
    launchFailureRate: r.chance(0.1) ? r.int(20, 50) / 100 : 0,
    spontaneousTerminationsPerHour: r.chance(0.1) ? r.int(5, 50) / 100 : 0,
    azRebalance: r.chance(0.1),
    throttleRate: r.chance(0.2) ? r.int(5, 30) / 100 : 0,
    serverErrorRate: r.chance(0.1) ? r.int(2, 10) / 100 : 0,
    consistencyDelaySeconds: r.chance(0.15) ? r.int(1, 10) : 0,
    pageSize: r.chance(0.2) ? r.int(1, 3) : undefined,
    activityInProgressRate: 0, // drawn last (below)
    launchesNeverSucceed: false, // drawn last (drawRollingFaults)
    clockSkewSeconds: 0,
  };

  const dryRun = r.chance(0.06);
  const ib = r.next();
  const interruption: Interruption = dryRun
    ? { kind: 'none' }
    : ib < 0.12
      ? { kind: 'crash', afterCalls: r.int(3, 40) }
      : ib < 0.24
        ? { kind: 'sigint', afterSeconds: r.int(20, 900) }
        : { kind: 'none' };

  const healthCheck = { interval: r.pick([5, 10, 30]), healthyThreshold: r.int(2, 5), unhealthyThreshold: r.int(2, 3) };
  const drainingTimeout = r.pick([0, 30, 300]);

  if (s === 'ab' && abCase === 'first-deploy') size = 0;
  // Drawn last, so that adding them changed no earlier draw of any seed.
  const launchConfiguration = r.chance(0.15);
  faults.bootFailureMode = r.chance(0.5) ? 'terminated' : 'never-healthy';
  // Drawn after everything above, so that adding them changed no earlier draw of any seed.
  faults.connectionDrain = r.chance(0.5) ? { idle: r.int(0, 50) / 100, long: r.int(0, 50) / 100, seconds: { min: 1, max: r.int(5, 120) } } : undefined;
  faults.throttleStorm = r.chance(0.08) ? { afterSeconds: r.int(0, 600), seconds: r.int(30, 300), rate: r.int(60, 95) / 100 } : undefined;
  faults.activityInProgressRate = r.chance(0.1) ? r.int(5, 30) / 100 : 0;
  faults.scaleDelaySeconds = r.chance(0.3) ? { min: 0.5, max: r.int(2, 10) } : undefined;
  drawRollingFaults(r, faults);
  // Drawn after everything above (issue 10's A/B classes), so no earlier draw of any seed moved.
  // A dry run through deploy covers what its plan judges (swaps, first deploys); the locks and
  // both-populated refusals of a deploy dry run are the deploy flow's own pre-checks (not driven here).
  const viaDeploy = r.chance(0.35) && !(dryRun && (abCase === 'locked' || abCase === 'both-populated'));
  const envGroupCollision = r.chance(0.2);
  const cleanUpConfirm = drawCleanUpConfirm(r, s === 'ab' && abCase === 'both-populated' && !viaDeploy && !dryRun && interruption.kind === 'none');
  // Drawn after everything above (issue 14's target groups), so no earlier draw of any seed moved.
  const targetGroups = drawTargetGroups(r);
  drawRealWorldFaults(r, faults, size);
  drawAlarmFaults(r, faults);
  const holds = drawHolds(r, size);
  // Drawn after everything above (issue 16.3), so no earlier draw of any seed moved.
  const keepOldSeconds = r.chance(0.25) ? r.int(30, 600) : undefined;
  // Drawn after everything above (issue 16 item 4), so that no earlier draw of any seed moved.
  const rollback = r.chance(0.3);
  // Drawn after everything above (issue 10 item 9 in A/B colors), so no earlier draw of any seed moved.
  const abStandby = drawAbStandby(r, s === 'ab' && abCase === 'swap' && !dryRun && !cleanUpConfirm);
  // --- issue 14: rolling on ALB/NLB target groups (drawRollingTargetGroup) ----------------------
  // Drawn after everything above, so no earlier draw of any seed moved; a scenario that draws it
  // may have its target-group faults raised (targets that stay unhealthy, an application failing
  // after it passed), which only rolling scenarios on a target group see.
  const rollingTargetGroup = drawRollingTargetGroup(r, s === 'rolling');
  // --- end of issue 14's rolling target-group draws ------------------------------------------------

  // ---- issue 15 (lifecycle hooks, warm pools): drawn after every draw above, in this block of its
  // own, so that no earlier draw of any seed moved. Rolling runs on a launch template only.
  const lifecycle = drawLifecycle(r);

  // ---- issue 15 items 4, 6, 7 (mixed instances, Spot, Capacity Rebalancing, max lifetime) ----
  // Drawn after every draw above, in its own block, so that no earlier draw of any seed moved.
  const mixed = drawMixed(r);

  // ---- issue 10: a signal aimed at a window, and a kill -9 inside the cleanup ----------------
  // Drawn after every draw above, in its own block, so that no earlier draw of any seed moved.
  const aimed = drawAimedSignal(r);
  // ---- an API that answers slowly (every call 20–600 ms, [FAULT-15]); its own block, drawn last ----
  faults.apiLatencyMs = r.chance(0.1) ? { min: r.int(20, 100), max: r.int(150, 600) } : undefined;

  const scenario: Scenario = {
    seed,
    strategy: s,
    size,
    surge,
    batchSize,
    minHealthy,
    instanceCount,
    instanceCountStep,
    activeColor,
    abCase,
    dryRun,
    interruption: interruption.kind === 'sigint' && aimed ? { ...interruption, ...aimed } : interruption,
    faults,
    healthCheck,
    drainingTimeout,
    launchConfiguration: s === 'rolling' && launchConfiguration,
    via: s === 'ab' && viaDeploy ? 'deploy' : 'ab',
    envGroupCollision: s === 'ab' && envGroupCollision,
    ...(cleanUpConfirm ? { cleanUpConfirm } : {}),
    // Via deploy the steps come from the stack config (trafficSteps / stepWait in the manifest).
    ...(s === 'ab' && targetGroups ? { targetGroups } : {}),
    expect: 'done',
    ...(s === 'rolling' && holds ? { holds } : {}),
    ...(s === 'ab' && keepOldSeconds !== undefined ? { keepOldSeconds } : {}),
    ...(s === 'rolling' && rollback ? { rollback: true } : {}),
    ...(abStandby ? { abStandby } : {}),
    ...(rollingTargetGroup ? { rollingTargetGroup } : {}),
    ...(s === 'rolling' && !launchConfiguration && lifecycle ? { lifecycle } : {}),
    // AWS refuses a warm pool on a mixed instances group [WARM-1]: a scenario drawing both keeps the warm pool.
    ...(s === 'rolling' && !launchConfiguration && mixed && !lifecycle?.warmPool ? { mixed } : {}),
    tags: [],
  };
  scenario.expect = expectationOf(scenario);
  scenario.tags = tagsOf(scenario);
  return scenario;
}

/**
 * Issue 10's aimed signals, for half the SIGINT scenarios: the SIGINT right after the tool's 1st–3rd
 * launch asked for (a raise of desired, a terminate without decrement; else at its drawn second), and in 70 % of those a kill -9 inside the cleanup
 * right after its first `SuspendProcesses` (the cleanup's Launch hold before lowering desired for a
 * surge not launched), or its 1st–6th mutating call of any kind.
 */
function drawAimedSignal(r: Prng): Pick<Extract<Interruption, { kind: 'sigint' }>, 'afterLaunchAsk' | 'killAfter'> | undefined {
  const on = r.chance(0.5);
  const afterLaunchAsk = r.chance(0.7) ? r.int(1, 3) : undefined;
  const kill = r.chance(0.7);
  const killAfter = r.chance(0.5) ? { operation: 'SuspendProcesses', nth: 1 } : { nth: r.int(1, 6) };
  if (!on) return undefined;
  return { ...(afterLaunchAsk !== undefined ? { afterLaunchAsk } : {}), ...(kill ? { killAfter } : {}) };
}

/**
 * The rolling classes of issue 10, drawn after every other draw (no earlier draw of any seed
 * moves), the same whatever the strategy (`--strategy` changes nothing else); the harness applies
 * them to rolling runs only (run.ts applyRollingFaults): launches that never succeed, a launch
 * template version published mid-run (not with launch configurations), a runner clock ± minutes off.
 */
function drawRollingFaults(r: Prng, f: ScenarioFaults): void {
  f.launchesNeverSucceed = r.chance(0.03);
  f.launchTemplateChangeAfterSeconds = r.chance(0.06) ? r.int(20, 1500) : undefined;
  f.clockSkewSeconds = r.chance(0.12) ? (r.chance(0.5) ? 1 : -1) * r.int(60, 900) : 0;
}

/**
 * `ab --clean-up` with a color that stops serving during its confirmation (issue 10 defect 4),
 * drawn after every other draw (no earlier draw of any seed moves): on both-populated A/B runs
 * through `ab` — not a dry run (it never asks) and not interrupted (Ctrl-C at the prompt is
 * tested on its own, test/ab/clean-up-confirm.test.ts). The harness answers the prompt "yes" once
 * the color it says it keeps has stopped serving (run.ts keptColorStopsServing); the run is
 * expected refused (exit 3, premise-changed), nothing drained.
 */
function drawCleanUpConfirm(r: Prng, eligible: boolean): boolean {
  const drawn = r.chance(0.8);
  return eligible && drawn;
}

/**
 * A/B on target groups, a third of the A/B scenarios: ALB (default action or a rule) or NLB, the
 * weights shifted all at once or in 2–3 ascending steps ending at 100 with a hold of 10–300 s.
 */
function drawTargetGroups(r: Prng): TargetGroupCase | undefined {
  if (!r.chance(0.35)) return undefined;
  const type = r.chance(0.7) ? 'application' : 'network';
  const rule = type === 'application' && r.chance(0.4);
  if (!r.chance(0.6)) return { type, rule };
  const first = r.int(1, 60);
  const steps = r.chance(0.5) ? [first, 100] : [first, r.int(first + 1, 99), 100];
  return { type, rule, steps, stepWaitSeconds: r.int(10, 300) };
}

/**
 * Rolling on a target group (issue 14), two in five rolling scenarios (the same draws whatever the
 * strategy, applied to rolling ones): an ALB or NLB target group, in a third of them beside the
 * classic ELB; its health check AWS's defaults for the type (a long `initial`) or the scenario's;
 * a deregistration delay 0–600 s; in a third slow registration (FAULT-14, up to 5 minutes of
 * `initial`); in a fifth targets that never pass (a share of the new instances stays `unhealthy`,
 * FAULT-11 never-healthy); in a fifth the new version's application fails after it passed.
 */
function drawRollingTargetGroup(r: Prng, rolling: boolean): RollingTargetGroupCase | undefined {
  const drawn = r.chance(0.4);
  const type = r.chance(0.6) ? ('application' as const) : ('network' as const);
  const withElb = r.chance(1 / 3);
  const awsDefaults = r.chance(0.3);
  const deregistrationDelay = r.pick([0, 5, 30, 120, 300, 600]);
  const slow = r.chance(1 / 3) ? { min: 0, max: r.int(30, 300) } : undefined;
  const neverPass = r.chance(0.2) ? r.int(10, 40) / 100 : 0;
  const failAfter = r.chance(0.2) ? r.int(60, 900) : undefined;
  if (!drawn || !rolling) return undefined;
  return {
    type,
    withElb,
    awsDefaults,
    deregistrationDelay,
    ...(slow ? { registrationSeconds: slow } : {}),
    ...(neverPass > 0 ? { unhealthyRate: neverPass } : {}),
    ...(failAfter !== undefined ? { failAfterSeconds: failAfter } : {}),
  };
}

/**
 * The new image's faults the run applies (sandbox FAULT-2, FAULT-11): the scenario's, with a
 * rolling target-group scenario's own (targets that never pass; an application failing after it
 * passed, where the scenario has none). Kept out of `faults`, so `--strategy` changes no fault.
 * E.g. faults {bootFailureRate 0.2, terminated}, rollingTargetGroup {unhealthyRate 0.3} →
 * {bootFailureRate 0.3, never-healthy}.
 */
export function imageFaultsOf(s: Scenario): Pick<ScenarioFaults, 'failAfterSeconds' | 'bootFailureRate' | 'bootFailureMode'> {
  const f = s.faults;
  const rt = s.strategy === 'rolling' ? s.rollingTargetGroup : undefined;
  return {
    failAfterSeconds: f.failAfterSeconds ?? rt?.failAfterSeconds,
    bootFailureRate: rt?.unhealthyRate ?? f.bootFailureRate,
    bootFailureMode: rt?.unhealthyRate !== undefined ? 'never-healthy' : f.bootFailureMode,
  };
}

/**
 * The real-world classes of issue 15, drawn after every other draw (no earlier draw of any seed
 * moves); applied to rolling runs only (realWorldOf): a Standby instance appearing mid-run (and
 * maybe leaving Standby again), protected outdated instances, each with a drawn policy.
 */
function drawRealWorldFaults(r: Prng, f: ScenarioFaults, size: number): void {
  const standby = r.chance(0.1);
  const afterSeconds = r.int(10, 900);
  const exit = r.chance(0.6) ? r.int(30, 900) : undefined;
  const sp = r.pick(['ignore', 'terminate', 'wait'] as const);
  f.standbyMidRun = standby && size >= 2 ? { afterSeconds, exitAfterSeconds: exit, policy: sp } : undefined;
  const prot = r.chance(0.1);
  const count = r.int(1, Math.max(1, Math.ceil(size / 3)));
  const pp = r.pick(['ignore', 'replace', 'wait'] as const);
  const unprotect = r.chance(0.7) ? r.int(30, 1800) : undefined;
  f.protectedAtStart = prot && size >= 1 ? { count: Math.min(count, size), policy: pp, unprotectAfterSeconds: unprotect } : undefined;
  // Not with protected instances: all of them skipped is a no-op, which refuses nothing.
  f.instanceRefreshInProgress = r.chance(0.03) && !f.protectedAtStart;
}

/** The issue-15 classes that apply (rolling, not launch configurations, not a dry run or refusal). */
export function realWorldOf(s: Scenario): Pick<ScenarioFaults, 'standbyMidRun' | 'protectedAtStart' | 'instanceRefreshInProgress'> {
  if (s.strategy !== 'rolling') return {};
  return {
    standbyMidRun: s.faults.standbyMidRun,
    protectedAtStart: s.faults.protectedAtStart,
    ...(s.faults.instanceRefreshInProgress ? { instanceRefreshInProgress: true } : {}),
  };
}

/** Issue 16: an alarm trip (or an alarm in ALARM at the start), drawn after every other draw. */
function drawAlarmFaults(r: Prng, f: ScenarioFaults): void {
  f.alarmTripAfterSeconds = r.chance(0.1) ? (r.chance(0.15) ? -1 : r.int(0, 1500)) : undefined;
}

/**
 * Issue 16: a rolling run's holds (a fifth of the draws; applied to rolling runs), drawn after
 * every other draw: a canary of 1..size, checkpoints among 10..90 %, a bake; waits 30–600 s.
 */
/**
 * Standby in A/B colors (issue 10 item 9), on swaps (not dry runs, not the clean-up-confirm class),
 * one in seven: someone puts the first InService instance (by id) of the active or the new color
 * into Standby 10–900 s into the rollout and, in half of the draws, back 30–900 s later.
 */
/**
 * Issue 15's mixed instances class: a fifth of the runs (the same draws whatever the strategy; the
 * harness applies them to rolling runs on launch templates). 1–3 instance types; On-Demand base
 * 0–2 and 0/25/50/100 % above it; Spot interruptions at 0.5–3 per Spot instance-hour in half of
 * them, one during a step in half; Capacity Rebalancing in half (recommendations at 0.5–3 per
 * hour); the maximum instance lifetime reached 0–900 s into the rollout in a third.
 */
function drawMixed(r: Prng): MixedCase | undefined {
  // A fixed number of draws whatever their values, so that a class drawn after this one sees the
  // same stream position on every seed.
  const drawn = r.chance(0.2);
  const instanceTypes = r.int(1, 3);
  const onDemandBase = r.int(0, 2);
  const onDemandPercent = r.pick([0, 25, 50, 100]);
  const interruptions = r.chance(0.5);
  const interruptionRate = r.int(1, 6) / 2;
  const interruptDuringStep = r.chance(0.5);
  const capacityRebalance = r.chance(0.5);
  const recommendationRate = r.int(1, 6) / 2;
  const lifetime = r.chance(1 / 3);
  const after = r.int(0, 900);
  if (!drawn) return undefined;
  return {
    instanceTypes,
    onDemandBase,
    onDemandPercent,
    spotInterruptionsPerHour: interruptions ? interruptionRate : 0,
    interruptDuringStep,
    capacityRebalance,
    rebalanceRecommendationsPerHour: capacityRebalance ? recommendationRate : 0,
    ...(lifetime ? { lifetimeAfterSeconds: after } : {}),
  };
}

/** AWS's own replacements in a mixed run can take a healthy instance away before its replacement serves. */
export function mixedLoss(s: Scenario): boolean {
  const m = s.mixed;
  return m !== undefined && (m.spotInterruptionsPerHour > 0 || m.interruptDuringStep || m.lifetimeAfterSeconds !== undefined || m.capacityRebalance);
}

function drawAbStandby(r: Prng, eligible: boolean): Scenario['abStandby'] {
  const drawn = r.chance(1 / 7);
  const color = r.chance(0.5) ? ('active' as const) : ('target' as const);
  const afterSeconds = r.int(10, 900);
  const exitAfterSeconds = r.chance(0.5) ? r.int(30, 900) : undefined;
  return drawn && eligible ? { color, afterSeconds, ...(exitAfterSeconds !== undefined ? { exitAfterSeconds } : {}) } : undefined;
}

function drawHolds(r: Prng, size: number): Scenario['holds'] {
  if (!r.chance(0.2)) return undefined;
  const canary = r.chance(0.5) ? r.int(1, Math.max(1, Math.min(size, 3))) : undefined;
  const checkpoints = r.chance(0.5) ? [...new Set([r.int(10, 40), r.int(41, 90)])] : undefined;
  const bakeSeconds = r.chance(0.5) ? r.int(30, 600) : undefined;
  return { canary, canaryWaitSeconds: r.int(30, 600), checkpoints, checkpointWaitSeconds: r.int(30, 300), bakeSeconds };
}

/**
 * The alarm fault where it applies: a rolling run or an `ab` swap (driven by `ab`), not a dry run,
 * not interrupted (a re-run would meet the alarm at its start: judged by the -1 case alone).
 */
export function alarmFaultOf(s: Scenario): number | undefined {
  const fits = !s.dryRun && s.interruption.kind === 'none' && (s.strategy === 'rolling' || (s.abCase === 'swap' && s.via === 'ab'));
  return fits ? s.faults.alarmTripAfterSeconds : undefined;
}

/**
 * `ab --keep-old` where it applies: a swap driven by `ab` (deploy's hook has no keep-old of its
 * own), not a first deploy (nothing old to keep). With an alarm trip or a failure of the new color
 * in the window the swap switches back (weights first on target groups): the outcome classes
 * those faults already allow (done-or-halt).
 */
export function keepOldOf(s: Scenario): number | undefined {
  return s.strategy === 'ab' && s.abCase === 'swap' && s.via === 'ab' ? s.keepOldSeconds : undefined;
}

/** Whether the scenario's rolling classes apply (rolling runs; a template change not on launch configurations). */
export function rollingFaultsOf(s: Scenario): { launchesNeverSucceed: boolean; launchTemplateChangeAfterSeconds?: number; clockSkewSeconds: number } {
  const rolling = s.strategy === 'rolling';
  return {
    launchesNeverSucceed: rolling && Boolean(s.faults.launchesNeverSucceed),
    launchTemplateChangeAfterSeconds: rolling && !s.launchConfiguration ? s.faults.launchTemplateChangeAfterSeconds : undefined,
    clockSkewSeconds: rolling ? (s.faults.clockSkewSeconds ?? 0) : 0,
  };
}

/** Whether the faults can take healthy instances away without the tool doing anything. */
export function hasExogenousLoss(s: Scenario): boolean {
  // Someone's Standby in the new color takes serving capacity from it as AWS's own losses do: AWS
  // replaces it, the tool need not wait for that after the swap (issue 10 item 9).
  // AWS's own replacements on a mixed group (Spot interruptions, Capacity Rebalancing, maximum
  // instance lifetime) are losses of the same kind [SPOT-1], [SPOT-2] (the merge of the mixed and
  // image branches had left this term in an unreachable second return: chaos seeds 3284213579,
  // 2878502959 were judged for balance although AWS placed the replacements).
  return imageFaultsOf(s).failAfterSeconds !== undefined || s.faults.spontaneousTerminationsPerHour > 0 || (s.strategy === 'ab' && s.abStandby?.color === 'target') || mixedLoss(s);
}

/** `ab --health-check-timeout` default (the seed's 600 s), which the chaos runs keep. */
export const AB_HEALTH_CHECK_TIMEOUT_S = 600;

/** The outcome a correct tool must reach (see {@link Expectation}). */
export function expectationOf(s: Scenario): Expectation {
  // Refusals hold for dry runs too: the plan says it would refuse (exit 3), and mutates nothing.
  if (s.strategy === 'rolling' && s.surge === 0 && s.minHealthy !== undefined && s.size - s.batchSize < s.minHealthy) {
    // Why: terminating even one instance without a replacement would break the quorum.
    return 'refused';
  }
  if (s.strategy === 'ab' && (s.abCase === 'both-populated' || s.abCase === 'locked')) return 'refused';
  // Why: AWS's instance refresh would be replacing the same instances (two replacers would fight).
  if (realWorldOf(s).instanceRefreshInProgress) return 'refused';
  if (s.dryRun) return 'planned';
  if (s.strategy === 'rolling' && s.size === 0) return 'done';
  // Issue 16: an alarm in ALARM before the start refuses the run (exit 3, nothing changed); one
  // tripping during it halts it (within one poll, judged by the harness) — or comes after done.
  const alarm = alarmFaultOf(s);
  if (alarm !== undefined && alarm < 0) return 'refused';
  // Why: a step with no instance must fail at the step timeout (never wait forever).
  // A `wait` policy fails past the step timeout when nobody puts the instance back in time; with
  // protected instances skipped there may be nothing left to launch (a bad image never shows).
  const rw = realWorldOf(s);
  if (rw.protectedAtStart && rw.protectedAtStart.policy !== 'replace' && (rollingFaultsOf(s).launchesNeverSucceed || s.faults.badImage)) return 'done-or-halt';
  if (rollingFaultsOf(s).launchesNeverSucceed) return 'halt';
  const waits = rw.standbyMidRun?.policy === 'wait' || rw.protectedAtStart?.policy === 'wait' || lifecycleMayFail(s.lifecycle);
  if (s.faults.badImage) return 'halt';
  if (alarm !== undefined) return 'done-or-halt';
  // A/B waits --health-check-timeout (600 s, the seed's default) per step: a slower boot may halt.
  if (s.strategy === 'ab' && s.faults.bootSeconds.max + s.healthCheck.interval * (s.healthCheck.healthyThreshold + 1) + 60 > AB_HEALTH_CHECK_TIMEOUT_S) return 'done-or-halt';
  if (
    imageFaultsOf(s).failAfterSeconds !== undefined ||
    imageFaultsOf(s).bootFailureRate > 0 ||
    s.faults.launchFailureRate > 0 ||
    s.faults.spontaneousTerminationsPerHour > 0 ||
    // Someone's Standby in the new color mid-swap: on target groups, fewer serving than the plan
    // while it carries weight shifts the traffic back and halts (the traffic rule, issue 14).
    (s.strategy === 'ab' && s.abStandby?.color === 'target') ||
    mixedLoss(s) ||
    waits
  ) {
    return 'done-or-halt';
  }
  return 'done';
}

function tagsOf(s: Scenario): string[] {
  const t: string[] = [];
  const f = s.faults;
  if (s.dryRun) t.push('dry-run');
  if (s.expect === 'refused') t.push(s.strategy === 'ab' ? `refused:${s.abCase}` : realWorldOf(s).instanceRefreshInProgress ? 'refused:instance-refresh' : 'refused:min-healthy');
  if (f.badImage) t.push('bad-image');
  const img = imageFaultsOf(s);
  if (img.failAfterSeconds !== undefined) t.push('fails-after-healthy');
  if (f.bootSeconds.max > 120) t.push('slow-boot');
  if (img.bootFailureRate > 0) t.push(img.bootFailureMode === 'terminated' ? 'failing-boot:terminated' : 'failing-boot:never-healthy');
  if (f.launchFailureRate > 0) t.push('launch-failure');
  if (f.spontaneousTerminationsPerHour > 0) t.push('spontaneous-termination');
  if (f.azRebalance) t.push('az-rebalance');
  if (f.throttleRate > 0) t.push('throttling');
  if (f.throttleStorm) t.push('throttle-storm');
  if (f.apiLatencyMs) t.push('api-latency');
  if (f.connectionDrain) t.push('drain-mix');
  if ((f.activityInProgressRate ?? 0) > 0) t.push('activity-in-progress');
  if (f.serverErrorRate > 0) t.push('5xx');
  if (f.consistencyDelaySeconds > 0) t.push('eventual-consistency');
  if (f.pageSize !== undefined) t.push('small-pages');
  if (s.interruption.kind === 'crash') t.push('crash+rerun');
  if (s.interruption.kind === 'sigint') {
    t.push('sigint+rerun');
    if (s.interruption.afterLaunchAsk !== undefined) t.push(`sigint-after-launch-ask:${s.interruption.afterLaunchAsk}`);
    if (s.interruption.killAfter) t.push(`kill-in-cleanup:${s.interruption.killAfter.operation ?? 'call'}#${s.interruption.killAfter.nth}`);
  }
  if (s.launchConfiguration) t.push('launch-configuration');
  if (s.strategy === 'ab' && s.via === 'deploy') t.push('via:deploy');
  if (s.strategy === 'ab' && s.envGroupCollision) t.push('env-named-group');
  if (s.cleanUpConfirm) t.push('clean-up-confirm');
  if (s.abStandby) t.push(`standby-in-color:${s.abStandby.color}${s.abStandby.exitAfterSeconds !== undefined ? '+exit' : ''}`);
  if (s.targetGroups) t.push(`${s.targetGroups.type === 'network' ? 'nlb' : 'alb'}${s.targetGroups.rule ? '-rule' : ''}${s.targetGroups.steps ? ':steps' : ''}`);
  const rt = s.rollingTargetGroup;
  if (rt) t.push(`${rt.type === 'network' ? 'nlb' : 'alb'}-tg${rt.withElb ? '+elb' : ''}${rt.awsDefaults ? ':aws-defaults' : ''}${rt.registrationSeconds ? ':slow-registration' : ''}`);
  const rf = rollingFaultsOf(s);
  if (rf.launchesNeverSucceed) t.push('launches-never-succeed');
  if (rf.launchTemplateChangeAfterSeconds !== undefined) t.push('lt-changed-mid-run');
  if (rf.clockSkewSeconds) t.push(rf.clockSkewSeconds > 0 ? 'clock-ahead' : 'clock-behind');
  t.push(...lifecycleTags(s.lifecycle));
  const rw = realWorldOf(s);
  if (rw.standbyMidRun) t.push(`standby-mid-run:${rw.standbyMidRun.policy}${rw.standbyMidRun.exitAfterSeconds !== undefined ? '+exit' : ''}`);
  if (rw.protectedAtStart) t.push(`protected:${rw.protectedAtStart.policy}${rw.protectedAtStart.unprotectAfterSeconds !== undefined ? '+unprotect' : ''}`);
  const alarm = alarmFaultOf(s);
  if (alarm !== undefined) t.push(alarm < 0 ? 'alarm-at-start' : 'alarm-trip');
  if (keepOldOf(s) !== undefined) t.push('keep-old');
  if (s.rollback) t.push('rollback');
  if (s.mixed) {
    const m = s.mixed;
    t.push(`mixed:${m.onDemandPercent}%od`);
    if (m.spotInterruptionsPerHour > 0) t.push('spot-interruptions');
    if (m.interruptDuringStep) t.push('spot-interruption-in-step');
    if (m.capacityRebalance) t.push('capacity-rebalance');
    if (m.lifetimeAfterSeconds !== undefined) t.push('max-lifetime');
  }
  if (s.holds) {
    if (s.holds.canary) t.push('canary');
    if (s.holds.checkpoints) t.push('checkpoints');
    if (s.holds.bakeSeconds) t.push('bake');
  }
  if (t.length === 0) t.push('clean');
  return t;
}

/** One-line description for tables and violation reports. */
export function describeScenario(s: Scenario): string {
  const shape =
    s.strategy === 'rolling'
      ? `rolling size=${s.size} surge=${s.surge} batch=${s.batchSize}${s.minHealthy !== undefined ? ` minHealthy=${s.minHealthy}` : ''}`
      : `${s.via === 'deploy' ? 'deploy(ab)' : 'ab'} ${s.abCase} active=${s.activeColor} size=${s.size} count=${s.instanceCount ?? 'match'}${s.instanceCountStep ? ` step=${s.instanceCountStep}` : ''}`;
  return `${shape} [${s.tags.join(', ')}]`;
}

/** The exact command that replays this scenario alone. */
export function reproduceCommand(s: Scenario): string {
  return `npm run chaos -- --runs 1 --seed ${s.seed} --strategy ${s.strategy}`;
}
