/**
 * One chaos run: build the scenario's fleet on a fresh simulated AWS, roll out a new launch
 * template version with our real engine (rollGroup / abDeploy through the real SDK adapter),
 * interrupt it as the scenario says (simulated kill -9 or SIGINT) and re-run, then gather the
 * facts the invariant checker judges (./invariants.ts) from the sandbox's safety monitor, its
 * call log and its final state.
 *
 * Everything is deterministic given the scenario's seed: the sandbox's PRNG (which also draws the
 * per-instance boot failures), the harness's own draws (health check type, grace period, lock
 * store, --rollback) and the virtual clock.
 */
import type { AwsClients } from '../aws/clients';
import { createAwsPort } from '../aws/adapter';
import { DeployError, isAbortError } from '../errors';
import { freezeEnvironment, groupLockOptions, readEnvironmentLock, unlockEnvironment } from '../lock/lock';
import type { Clock } from '../clock';
import { LOCK_TAG } from '../lock/record';
import { Codes, PlainReporter, silentReporter, TeeReporter, type Reporter } from '../report/reporter';
import { abDeploy, type AbDeployOptions } from '../rollout/ab/runner';
import { SWAP_TAG } from '../rollout/ab/strategy';
import { RESTORE_TAG } from '../rollout/guard';
import type { RolloutResult } from '../rollout/result';
import { rollGroup, type RollOptions } from '../rollout/rolling/runner';
import { engineHooks } from '../stack/hooks';
import { STALE_DECISION_MS } from '../rollout/engine';
import type { AbServiceManifest } from '../stack/manifest';
import { Sandbox, type SeedGroupSpec } from '../sandbox';
import type { InstanceRec, LaunchRef, TerminationRecord } from '../sandbox/model';
import { checkRun, type Attempt, type Leftover, type RunFacts, type ToolTermination, type TrafficFacts, type Violation } from './invariants';
import { trafficAtExit, watchTraffic, weightsNow } from './traffic-watch';
import { Prng } from './prng';
import { balanceAttainable, type BalanceStart } from './balance';
import { applyLifecycle, judgeLifecycle, prepareLifecycle } from './lifecycle-chaos';
import { AB_HEALTH_CHECK_TIMEOUT_S, alarmFaultOf, hasExogenousLoss, imageFaultsOf, keepOldOf, realWorldOf, rollingFaultsOf, type Scenario } from './scenario';

export interface RunOutcome {
  scenario: Scenario;
  attempts: Attempt[];
  /** Exit of the last attempt. */
  exit?: number;
  violations: Violation[];
  simulatedSeconds: number;
  realMs: number;
  /** API calls the tool made (every attempt). */
  apiCalls: number;
}

/** Give up on a run after this much simulated time (a tool polling forever). */
const SIM_CAP_MS = 24 * 3600_000;
/** Give up on a run after this much real time (a tool awaiting something that never comes). */
const REAL_CAP_MS = 90_000;

const ROLLING = 'chaos-app';
const ENV = 'chaos-ab';
const LOCK_BUCKET = 'chaos-locks';
/** The holder of the foreign lock of a 'locked' scenario (a release freeze). */
const FOREIGN_HOLDER = 'someone@elsewhere';
const NEW_IMAGE = 'ami-0new0000000000000';
const OLD_IMAGE = 'ami-0old0000000000000';
/** The image of the launch template version published mid-run (fault launchTemplateChangeAfterSeconds). */
const NEWER_IMAGE = 'ami-0newer000000000000';

export interface Fleet {
  /** Groups whose serving count invariant 1 protects. */
  groups: string[];
  /** The color that serves at the start (A/B) or the group (rolling). */
  active: string;
  /** The color that should serve at the end (A/B) or the group (rolling). */
  target: string;
  initialIds: Set<string>;
  /** A/B: new color's size. Rolling: the group's capacity. */
  targetCount: number;
  lockBucket?: string;
  rollback: boolean;
  healthCheckGracePeriod: number;
  /** The clean-up-confirm class: the questions `ab --clean-up` asked (the class was exercised). */
  cleanUpAsked?: string[];
  /** A/B on target groups: each color's target group ARN. */
  targetGroups?: Record<string, string>;
}

/** What a tool under test gets (tests substitute deliberately unsafe tools to prove the checker fails). */
export interface ToolInvocation {
  scenario: Scenario;
  clients: AwsClients;
  sandbox: Sandbox;
  signal: AbortSignal;
  reporter: Reporter;
  /** Rolling: the group. A/B: the environment. */
  target: string;
  /** The clean-up-confirm class: the harness's answer to `ab --clean-up`'s prompt (the fault happens while it is open). */
  confirm?: (question: string) => Promise<boolean>;
}

export interface RunScenarioOptions {
  /** Print every event of every attempt on stderr. */
  trace?: boolean;
  /** Replace our engines (tests only). */
  tool?: (i: ToolInvocation) => Promise<RolloutResult>;
}

/** Runs one scenario end to end and judges it. Never throws: harness errors become violations. */
export async function runScenario(s: Scenario, options: RunScenarioOptions = {}): Promise<RunOutcome> {
  await warmUp();
  const realStart = Date.now();
  const sb = Sandbox.create({ seed: s.seed, pageSize: s.faults.pageSize, faults: { bootSeconds: s.faults.bootSeconds, appStartSeconds: 0, shutdownSeconds: 20 } });
  keepInstanceFacts(sb);
  const r = new Prng(s.seed ^ 0x5eed);
  const start = sb.clock.now();
  let fleet: Fleet;
  try {
    fleet = s.strategy === 'rolling' ? buildRolling(sb, s, r) : await buildAb(sb, s, r);
    // Issue 15: hooks and a warm pool filled from the old version (lifecycle-chaos.ts).
    prepareLifecycle(sb, ROLLING, s.lifecycle);
  } catch (err) {
    return harnessFailure(s, realStart, `setup failed: ${String(err instanceof Error ? err.stack : err)}`);
  }

  // The new version, and the faults (after the fleet is up: they are about the rollout).
  if (s.launchConfiguration) {
    sb.direct('autoscaling', 'CreateLaunchConfiguration', { LaunchConfigurationName: `${ROLLING}-lc-2`, ImageId: NEW_IMAGE, InstanceType: 't3.small' });
    sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: ROLLING, LaunchConfigurationName: `${ROLLING}-lc-2` });
  } else {
    sb.newLaunchTemplateVersion(s.strategy === 'rolling' ? `${ROLLING}-lt` : `${ENV}-lt`, { ImageId: NEW_IMAGE });
  }
  // Failing boots are the sandbox's own per-instance fault [FAULT-11], on the new image only (the
  // rollout's launches): drawn from the sandbox's seeded PRNG at each launch, in the scenario's mode.
  sb.setImage(NEW_IMAGE, {
    healthy: !s.faults.badImage,
    bootSeconds: s.faults.bootSeconds,
    // The scenario's, or a rolling target-group scenario's own (targets that never pass, an application failing after it passed).
    ...imageFaultsOf(s),
  });
  if (s.faults.azRebalance) {
    // The fleet lives in one AZ; the group now spans three, so AZRebalance wants to move instances.
    for (const g of fleet.groups) sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: g, AvailabilityZones: sb.world.zones() });
  }
  prepareRealWorld(sb, s);
  prepareMixed(sb, s);
  const bystander = s.strategy === 'ab' && s.envGroupCollision ? ENV : undefined;
  sb.monitor.baseline(bystander ? [...fleet.groups, bystander] : fleet.groups);
  const healthyAtStart = fleet.groups.reduce((n, g) => n + sb.monitor.healthyCount(g), 0);
  const rolloutStart = sb.clock.now();
  Object.assign(sb.faults, {
    launchFailureRate: s.faults.launchFailureRate,
    spontaneousTerminationsPerHour: s.faults.spontaneousTerminationsPerHour,
    throttleRate: s.faults.throttleRate,
    serverErrorRate: s.faults.serverErrorRate,
    serverErrorAfterCommitRate: s.faults.serverErrorRate > 0 ? 0.3 : 0,
    describeDelaySeconds: s.faults.consistencyDelaySeconds,
    scalingActivityInProgressRate: s.faults.activityInProgressRate ?? 0,
    ...(s.faults.scaleDelaySeconds ? { scaleDelaySeconds: s.faults.scaleDelaySeconds } : {}),
    ...(s.faults.connectionDrain ? { connectionDrain: s.faults.connectionDrain } : {}),
    ...(s.faults.apiLatencyMs ? { apiLatencyMs: s.faults.apiLatencyMs } : {}),
    // Issue 14, rolling on a target group: slow registration of the rollout's targets [FAULT-14].
    ...(s.strategy === 'rolling' && s.rollingTargetGroup?.registrationSeconds ? { targetRegistrationSeconds: s.rollingTargetGroup.registrationSeconds } : {}),
    ...(s.mixed && !s.dryRun ? { spotInterruptionsPerHour: s.mixed.spotInterruptionsPerHour, rebalanceRecommendationsPerHour: s.mixed.rebalanceRecommendationsPerHour } : {}),
    throttleWindows: s.faults.throttleStorm
      ? [{ from: rolloutStart + s.faults.throttleStorm.afterSeconds * 1000, to: rolloutStart + (s.faults.throttleStorm.afterSeconds + s.faults.throttleStorm.seconds) * 1000, rate: s.faults.throttleStorm.rate }]
      : [],
  });
  const rollingFaults = applyRollingFaults(sb, s, rolloutStart, () => finished);
  const realWorld = applyRealWorld(sb, s, rolloutStart, () => finished);
  const alarmFault = applyAlarmFault(sb, s, rolloutStart);
  const abStandby = applyAbStandby(sb, s, fleet, rolloutStart, () => finished);
  applyLifecycle(sb, s.lifecycle);
  applyMixed(sb, s, fleet, () => finished);

  // Watchdogs: simulated-time cap aborts the current attempt; real-time cap gives up on the run.
  let current: AbortController | undefined;
  let hung: string | undefined;
  let finished = false;
  const progress = progressWatch(sb, fleet.groups, rolloutStart);
  sb.clock.onAdvance((t) => {
    if (!finished && !hung && t - rolloutStart > SIM_CAP_MS) {
      hung = `still running after ${SIM_CAP_MS / 3600_000} simulated hours`;
      current?.abort(Object.assign(new Error('chaos watchdog'), { name: 'AbortError' }));
    }
    const stalled = !finished && !hung ? progress(t) : undefined;
    if (stalled) {
      hung = stalled;
      current?.abort(Object.assign(new Error('chaos watchdog'), { name: 'AbortError' }));
    }
  });

  const attempts: Attempt[] = [];
  /** A/B on target groups: the weighted forward's facts (traffic-watch.ts). */
  const traffic: TrafficFacts | undefined = fleet.targetGroups ? { changes: [], scaleInsUnderWeight: [], atExit: [], exogenous: hasExogenousLoss(s) || s.cleanUpConfirm === true } : undefined;
  /** Every command the tool's clients sent (once per command, before the SDK's own retries). */
  const sent: SentCommand[] = [];
  /** Rolling: the group as each attempt found it (by actor), for "ended balanced" (balance.ts). */
  const balanceStarts = new Map<string, BalanceStart>();
  /** What an interrupted (SIGINT) attempt left behind, read the moment it exited. */
  let afterSigint: { time: number; leftovers: Leftover[]; lockHeld: boolean; standInKept?: boolean } | undefined;
  const run = async (): Promise<void> => {
    const first = await attempt(sb, s, fleet, 'tool-1', s.interruption);
    attempts.push(first.attempt);
    current = undefined;
    if (first.attempt.kind === 'sigint' && first.attempt.exit === 130) {
      afterSigint = {
        time: sb.clock.now(),
        leftovers: fleet.groups.flatMap((g) => sb.monitor.leftovers(g).map((l) => ({ group: g, what: l.what, detail: l.detail }))),
        lockHeld: lockStillHeld(sb, fleet),
        // A/B: the interrupt kept stand-ins of the new color for the old color's missing instances
        // and said "re-run" (as a halt may, standInHaltKept): judged after that re-run instead.
        standInKept: s.strategy === 'ab' && fleet.target !== fleet.active && standInKeptNow(sb, fleet, first.attempt.exit, first.attempt.message),
      };
    }
    if (s.interruption.kind === 'none') return;
    if (s.strategy === 'ab') {
      // Re-run only what was cut short: a second `ab` after a finished swap is a new deploy (it swaps back).
      if (first.attempt.kind === 'run') return;
      // A SIGINT that landed after the run had halted on its own cut nothing short (haltedBeforeSigint);
      // a swap record such a halt kept is still re-run, as before.
      if (haltedBeforeSigint(first.attempt) && !swapRecordLeft(sb, fleet)) return;
      if (first.attempt.kind === 'crash') {
        // What the operator does after killing a run: its lock cannot be released by it, so
        // `unlock --force` (only that run's lock), then re-run.
        const port = createAwsPort(sb.newClients('operator'), sb.clock);
        const deps = { port, clock: sb.clock, reporter: silentReporter };
        // As the operator types it: with a group named like the environment, `unlock --environment
        // chaos-ab --force` (the tool resolves the groups; the lock covers that group too).
        const scope = s.envGroupCollision ? { environment: ENV, bucket: fleet.lockBucket } : lockOptions(fleet);
        const held = await readEnvironmentLock(deps, scope);
        // deploy's hook names its own run id: there the crashed run's lock is the one not held by someone else.
        const crashedRuns = held?.record.runId === first.runId || (s.via === 'deploy' && held !== undefined && held.record.holder !== FOREIGN_HOLDER);
        if (crashedRuns) await unlockEnvironment(deps, { ...scope, force: true });
      }
      // Killed only after the swap had finished: nothing left to finish.
      if (first.attempt.exit === 0) return;
    }
    // Rolling runs hold the group's lock (rollGroup's default): after a kill -9 the operator
    // clears that run's lock (`unlock --asg --force`), then re-runs.
    if (s.strategy === 'rolling' && first.attempt.kind === 'crash') await unlockCrashedGroupLock(sb, first.runId);
    const second = await attempt(sb, s, fleet, 'tool-2', { kind: 'none' });
    attempts.push(second.attempt);
  };
  /**
   * A/B: a halt that had to keep a stand-in of the new color serving (the old color short: AWS
   * still replacing what it took) keeps the swap record and the restore tag and says "re-run to
   * finish the swap" (ab/runner.ts). The operator does, once; the end is judged after that re-run
   * (chaos seed 1776321503, found with seed 14: a crash, the re-run's halt kept a stand-in).
   */
  const runAndFinish = async (): Promise<void> => {
    await run();
    const last = attempts[attempts.length - 1];
    // A re-run with --rollback after the first run left instances on two launch specs (e.g. a
    // version published mid-run) is refused, nothing changed, and says "roll the group to one
    // version first, or run without --rollback": the operator re-runs without it, once
    // (chaos seed 3074688965 once the rollback draw reached it).
    if (s.strategy === 'rolling' && s.rollback && !hung && last?.kind === 'rerun' && last.exit === 3 && last.code === 'rollback-several-versions') {
      const again = await attempt(sb, { ...s, rollback: false }, fleet, `tool-${attempts.length + 1}`, { kind: 'none' });
      attempts.push({ ...again.attempt, kind: 'rerun', withoutRollback: true });
      return;
    }
    if (s.strategy !== 'ab' || hung || last?.exit !== 1 || !swapRecordLeft(sb, fleet) || !/re-run/.test(last.message ?? '')) return;
    const again = await attempt(sb, s, fleet, `tool-${attempts.length + 1}`, { kind: 'none' });
    attempts.push({ ...again.attempt, kind: 'rerun' });
  };

  const attempt = async (sandbox: Sandbox, sc: Scenario, f: Fleet, actor: string, interruption: Scenario['interruption']) => {
    const ac = new AbortController();
    current = ac;
    const timers = new AbortController();
    const clients = sandbox.newClients(actor);
    recordCommands(clients, actor, sent, () => sandbox.clock.now(), () => sandbox.calls.length);
    if (traffic && f.targetGroups) {
      const tgOf = f.targetGroups;
      // A first deploy's color holds the program's initial weight (a 100) before it has instances:
      // scaling it back (SIGINT, --rollback) takes no traffic from anything that served.
      const firstDeploy = sc.abCase === 'first-deploy';
      watchTraffic(sandbox, clients, { tgOf, required: (tg) => (tg === tgOf[f.target] ? f.targetCount : 1), judgeScaleIn: (group) => group === f.active && !firstDeploy }, traffic);
    }
    const runId = `chaos-${sc.seed}-${actor}`;
    if (sc.strategy === 'rolling') balanceStarts.set(actor, balanceStartOf(sandbox, sc));
    let kind: Attempt['kind'] = actor === 'tool-1' ? 'run' : 'rerun';
    /** When the tool reported a halt of its own (haltedBeforeSigint). */
    const when: Pick<Attempt, 'haltReportedAt' | 'sigintAt'> = {};
    const haltWatch: Reporter = {
      emit: (level, code) => {
        if (level === 'error' && code === Codes.failed) when.haltReportedAt ??= sandbox.clock.now();
      },
    };
    const mayCrash = interruption.kind === 'crash' || (interruption.kind === 'sigint' && interruption.killAfter !== undefined);
    if (interruption.kind === 'crash') sandbox.crashAfter(interruption.afterCalls, actor);
    if (mayCrash) {
      // A killed process does nothing more: stop its sleeps too once it is dead.
      sandbox.clock.onAdvance(() => {
        if (!ac.signal.aborted && sandbox.crashed(actor)) ac.abort(Object.assign(new Error('killed (simulated kill -9)'), { name: 'AbortError' }));
      });
    }
    if (interruption.kind === 'sigint') {
      const sigint = (why: string) => {
        if (options.trace) process.stderr.write(`[${actor}] ${new Date(sandbox.clock.now()).toISOString()} SIGINT (${why})\n`);
        kind = 'sigint';
        when.sigintAt = sandbox.clock.now();
        ac.abort(Object.assign(new Error('interrupted by SIGINT'), { name: 'AbortError' }));
        // The operator out of patience: kill -9 inside the cleanup the SIGINT started.
        const k = interruption.killAfter;
        if (k) afterNthCall(sandbox, actor, k.nth, (op, _in, mutating) => (k.operation ? op === k.operation : mutating), () => {
          if (options.trace) process.stderr.write(`[${actor}] ${new Date(sandbox.clock.now()).toISOString()} kill -9 (after the cleanup's ${k.operation ?? 'mutating call'} #${k.nth})\n`);
          sandbox.crashNow(actor);
        });
      };
      if (interruption.afterLaunchAsk !== undefined) {
        afterNthCall(sandbox, actor, interruption.afterLaunchAsk, (op, input) => asksLaunch(sandbox, op, input), () => sigint(`right after launch ask #${interruption.afterLaunchAsk} (a raise of desired, a terminate without decrement)`));
      } else {
        sandbox.clock.sleep(interruption.afterSeconds * 1000, timers.signal).then(
          () => sigint(`after ${interruption.afterSeconds} s`),
          () => {},
        );
      }
    }
    try {
      const shown: Reporter = options.trace ? new PlainReporter(sandbox.clock, prefixed(process.stderr, `[${actor}] `), true) : silentReporter;
      const reporter: Reporter = new TeeReporter([shown, haltWatch]);
      const result = options.tool
        ? await options.tool({ scenario: sc, clients, sandbox, signal: ac.signal, reporter, target: sc.strategy === 'rolling' ? ROLLING : ENV, ...(sc.cleanUpConfirm ? { confirm: keptColorStopsServing(sandbox, sc, f) } : {}) })
        : await invokeTool(sc, f, clients, sandbox, ac.signal, runId, reporter);
      if (mayCrash && sandbox.crashed(actor)) kind = 'crash';
      if (traffic && f.targetGroups && kind !== 'crash') traffic.atExit.push(trafficAtExit(sandbox, f.targetGroups, `${actor} exit 0`));
      return { attempt: { kind, actor, exit: 0, status: result.status, ...when } as Attempt, runId };
    } catch (err) {
      if (options.trace) process.stderr.write(`[${actor}] ended: ${err instanceof Error ? err.stack : String(err)}\n`);
      if (mayCrash && sandbox.crashed(actor)) return { attempt: { kind: 'crash', actor, code: 'crashed', ...(when.sigintAt !== undefined ? { sigintAt: when.sigintAt } : {}) } as Attempt, runId };
      const ended = { kind, actor, ...exitOf(err), ...when } as Attempt;
      if (traffic && f.targetGroups && !hung) traffic.atExit.push(trafficAtExit(sandbox, f.targetGroups, `${actor} exit ${ended.exit}`));
      return { attempt: ended, runId };
    } finally {
      timers.abort();
    }
  };

  let realTimer: NodeJS.Timeout | undefined;
  const realCap = new Promise<void>((resolve) => {
    realTimer = setTimeout(() => {
      hung = `still running after ${REAL_CAP_MS / 1000} s of real time (simulated ${((sb.clock.now() - rolloutStart) / 1000).toFixed(0)} s)`;
      current?.abort(Object.assign(new Error('chaos watchdog'), { name: 'AbortError' }));
      resolve();
    }, REAL_CAP_MS);
  });
  try {
    await Promise.race([runAndFinish(), realCap]);
  } catch (err) {
    hung = `harness error: ${err instanceof Error ? err.stack : String(err)}`;
  } finally {
    clearTimeout(realTimer);
  }
  finished = true;
  const end = sb.clock.now();

  const decremented = new Set(sent.flatMap((c) => c.decrementIds ?? []));
  const setAside = new Map([...realWorld.standbyAt, ...abStandby.standbyAt]);
  // A/B: when the tool first asked to drain the old color (desired 0): the end of any --keep-old window.
  const drains = sent.filter((c) => c.setsDesired?.group === fleet.active && c.setsDesired.desired === 0 && fleet.target !== fleet.active).map((c) => c.setsDesired!.at);
  const drainCalledAt = drains.length ? Math.min(...drains) : undefined;
  const facts = gatherFacts(sb, s, fleet, attempts, { rolloutStart, end, healthyAtStart, hung, start, afterSigint, setAside, decremented, realWorld, putBack: putBackLive(sb, abStandby, sent), drainCalledAt });
  Object.assign(facts, mutatingBesidesLock(sb, sent));
  if (bystander) {
    // The group named like the environment: nothing about it may change (sizes, processes, tags), no instance of it terminated.
    for (const l of sb.monitor.leftovers(bystander)) facts.leftovers.push({ group: bystander, what: l.what, detail: `(the group named like the environment) ${l.detail}` });
    const byTool = sb.monitor.terminations({ group: bystander, cause: ['api', 'scale-in'] }).filter((t) => t.call?.actor.startsWith('tool'));
    if (byTool.length > 0) facts.leftovers.push({ group: bystander, what: 'instances', detail: `(the group named like the environment) the tool terminated ${byTool.map((t) => t.instanceId).join(', ')}` });
  }
  facts.lockHeld = lockStillHeld(sb, fleet);
  if (traffic) facts.traffic = traffic;
  judgeRollingClasses(sb, s, facts, rollingFaults, balanceStarts);
  judgeCleanUpConfirm(sb, s, fleet, facts);
  judgeRealWorld(sb, s, facts, realWorld);
  judgeRollback(sb, s, fleet, facts, realWorld);
  judgeAbStandby(sb, facts, abStandby);
  // An alarm tripped before the tool's first read of it is, for the tool, in ALARM at its start:
  // refusing (exit 3, nothing changed) is then the correct outcome (seed 1467129630).
  if (alarmFault.trippedAt !== undefined && !alarmReadBefore(sb, alarmFault.trippedAt)) facts.expect = 'refused';
  const violations = [...checkRun(facts), ...judgeAlarmFault(sb, alarmFault, sent, attempts), ...judgeLifecycle(sb, ROLLING, s.lifecycle, attempts, OLD_IMAGE)];
  return {
    scenario: s,
    attempts,
    exit: attempts[attempts.length - 1]?.exit,
    violations,
    simulatedSeconds: (end - rolloutStart) / 1000,
    realMs: Date.now() - realStart,
    apiCalls: sb.calls.filter((c) => c.actor.startsWith('tool')).length,
  };
}

/** A command the tool sent, and whether it only takes, renews or releases the deploy lock. */
export interface SentCommand {
  actor: string;
  operation: string;
  lock: boolean;
  /** TerminateInstanceInAutoScalingGroup with ShouldDecrementDesiredCapacity: the instances it names. */
  decrementIds?: string[];
  /** UpdateAutoScalingGroup setting the group's launch template or configuration, or a mixed group's policy (a rolling rollback's set-back), and when. */
  setsLaunchAt?: number;
  /**
   * The same set-back's place among the sandbox's calls (`sb.calls.length` when it was sent): every
   * call at or past it came after it, even at the same simulated millisecond (the clock does not
   * move between a halting read and the rollback that follows it).
   */
  setsLaunchCall?: number;
  /** UpdateAutoScalingGroup / SetDesiredCapacity naming a desired capacity: the group, that capacity, and when it was sent. */
  setsDesired?: { group: string; desired: number; at: number };
}

/**
 * Records every command the tool's clients send, by API name, and whether it is a lock operation:
 * the lock tag `asg-deploy:lock` alone (CreateOrUpdateTags / DeleteTags), or an S3 object
 * `<name>.lock` (PutObject / DeleteObject). Added at the SDK's initialize step: once per command.
 */
export function recordCommands(clients: AwsClients, actor: string, out: SentCommand[], now?: () => number, callCount?: () => number): void {
  const clientList = [clients.autoScaling, clients.ec2, clients.elb, clients.elbv2, clients.s3] as Array<{ middlewareStack: { add: (m: unknown, o: unknown) => void } }>;
  for (const c of clientList) {
    c.middlewareStack.add(
      (next: (a: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) => {
        const operation = String(context.commandName ?? '').replace(/Command$/, '');
        const input = args.input ?? {};
        const decrementIds = operation === 'TerminateInstanceInAutoScalingGroup' && input.ShouldDecrementDesiredCapacity === true ? [input.InstanceId, ...((input.InstanceIds as unknown[]) ?? [])].filter((x): x is string => typeof x === 'string') : undefined;
        const setsLaunch = operation === 'UpdateAutoScalingGroup' && (input.LaunchTemplate !== undefined || input.LaunchConfigurationName !== undefined || input.MixedInstancesPolicy !== undefined);
        const setsDesired = (operation === 'UpdateAutoScalingGroup' || operation === 'SetDesiredCapacity') && typeof input.DesiredCapacity === 'number' && now ? { group: String(input.AutoScalingGroupName ?? ''), desired: input.DesiredCapacity, at: now() } : undefined;
        out.push({ actor, operation, lock: isLockCommand(operation, input), ...(decrementIds ? { decrementIds } : {}), ...(setsLaunch && now ? { setsLaunchAt: now() } : {}), ...(setsLaunch && callCount ? { setsLaunchCall: callCount() } : {}), ...(setsDesired ? { setsDesired } : {}) });
        return next(args);
      },
      { step: 'initialize', name: 'chaosCommandLog' },
    );
  }
}

function isLockCommand(operation: string, input: Record<string, unknown>): boolean {
  if (operation === 'CreateOrUpdateTags' || operation === 'DeleteTags') {
    const tags = (input.Tags ?? []) as Array<{ Key?: string }>;
    return tags.length > 0 && tags.every((t) => t.Key === LOCK_TAG);
  }
  if (operation === 'PutObject' || operation === 'DeleteObject') return typeof input.Key === 'string' && input.Key.endsWith('.lock');
  return false;
}

/**
 * Mutating AWS calls the tool made (the sandbox's call log, by API name), less those that only
 * took, renewed or released the deploy lock (matched per API name against the commands sent).
 * E.g. PutObject ×1 (the lock), CreateOrUpdateTags ×3 (2 lock, 1 restore record) → 1, "CreateOrUpdateTags".
 */
export function mutatingBesidesLock(sb: Sandbox, sent: SentCommand[]): { mutatingBesidesLock: number; mutatingBesidesLockOps: string[] } {
  const byOp = new Map<string, number>();
  for (const c of sb.calls) if (c.mutating && c.actor.startsWith('tool')) byOp.set(c.operation, (byOp.get(c.operation) ?? 0) + 1);
  for (const c of sent) if (c.lock && byOp.has(c.operation)) byOp.set(c.operation, byOp.get(c.operation)! - 1);
  const ops = [...byOp].filter(([, n]) => n > 0);
  return { mutatingBesidesLock: ops.reduce((a, [, n]) => a + n, 0), mutatingBesidesLockOps: ops.map(([op, n]) => `${op} ×${n}`) };
}

let warm: Promise<void> | undefined;

/**
 * Runs a tiny rolling and A/B rollout once per process, so that every module the SDK loads
 * lazily on first use is loaded before a scenario starts. Why: a first-time lazy load is real
 * I/O; while the tool awaits it, the virtual clock sees every actor waiting and jumps to the
 * next timer — the harness's SIGINT timer, say — which made the first run of a process differ
 * from a replay of the same seed.
 */
function warmUp(): Promise<void> {
  warm ??= (async () => {
    const sb = Sandbox.create({ seed: 1, faults: { bootSeconds: 30, appStartSeconds: 0 } });
    sb.seedGroup({ name: 'warm', capacity: 1, elb: { name: 'warm', drainingTimeout: 0 } });
    sb.seedGroup({ name: 'warm-ab-a', capacity: 1, launchTemplateName: 'warm-ab-lt', elb: { name: 'warm-ab-a', drainingTimeout: 0 } });
    sb.seedGroup({ name: 'warm-ab-b', capacity: 0, launchTemplateName: 'warm-ab-lt', elb: { name: 'warm-ab-b', drainingTimeout: 0 } });
    sb.newLaunchTemplateVersion('warm-lt', { ImageId: NEW_IMAGE });
    sb.newLaunchTemplateVersion('warm-ab-lt', { ImageId: NEW_IMAGE });
    const common = { clients: sb.newClients('warm'), clock: sb.clock, reporter: silentReporter };
    await rollGroup({ ...common, asg: 'warm' }).catch(() => undefined);
    await abDeploy({ ...common, environment: 'warm-ab', instanceCountMatch: true, lockBucket: 'warm-locks' }).catch(() => undefined);
    await abDeploy({ ...common, environment: 'warm-ab', instanceCountMatch: true }).catch(() => undefined);
  })();
  return warm;
}

/**
 * A/B: an attempt the SIGINT did not cut short — it had halted on its own first (exit 1 with its
 * own code, its halt reported as such) and the SIGINT only landed in its last calls (e.g. the
 * lock's release, throttled). The engine decides interrupted-or-halted once, from the signal, when
 * it handles the failure (engine.ts `fail`: an interrupt is code `interrupted`, exit 130, reported
 * as a warning), so a halt's own code and error-level report mean the halt came first. Such a run
 * is judged as the halt it was, not re-run as an interrupted one: a halt that left the new color
 * for inspection is answered by `--clean-up` (a re-run refuses "both populated", exit 3, as
 * documented); one that kept the swap record is still re-run to finish it.
 * Chaos seed 1907761789 (via deploy): halted (ab.unhealthy, the new color left for inspection,
 * the record deleted) 72 s before the SIGINT, which came while the lock's tags were being
 * released; the harness re-ran it and judged the documented refusal a re-run not finished.
 */
export function haltedBeforeSigint(a: Pick<Attempt, 'kind' | 'exit' | 'code' | 'haltReportedAt'>): boolean {
  return a.kind === 'sigint' && a.exit === 1 && a.code !== 'interrupted' && a.code !== 'internal' && a.haltReportedAt !== undefined;
}

/** The exit code the CLI would return for an error, and its code. */
function exitOf(err: unknown): Pick<Attempt, 'exit' | 'code' | 'message' | 'rollback' | 'rollbackAlarms' | 'drain'> {
  if (err instanceof DeployError) {
    const r = err.data.rollback as { status?: string; alarms?: string[] } | undefined;
    const drain = err.code === 'drain-carries-weight' && typeof err.data.drain === 'string' ? { drain: err.data.drain } : {};
    return { exit: err.exit, code: err.code, message: err.message, ...(r?.status ? { rollback: r.status } : {}), ...(r?.alarms ? { rollbackAlarms: r.alarms } : {}), ...drain };
  }
  if (isAbortError(err)) return { exit: 130, code: 'interrupted', message: String((err as Error).message) };
  // cli.ts maps anything else to 'internal', exit 1: a bug in the tool.
  return { exit: 1, code: 'internal', message: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
}

/** A stream that prefixes every write (trace output of one attempt). */
function prefixed(out: NodeJS.WritableStream, prefix: string): NodeJS.WritableStream {
  return { write: (chunk: string) => out.write(prefix + chunk) } as unknown as NodeJS.WritableStream;
}

async function invokeTool(s: Scenario, f: Fleet, clients: AwsClients, sb: Sandbox, signal: AbortSignal, runId: string, reporter: Reporter): Promise<RolloutResult> {
  if (s.strategy === 'rolling') {
    const o: RollOptions = {
      clients,
      // The runner's clock may be minutes off AWS's (fault clockSkewSeconds); the lock is on (the default).
      clock: skewed(sb.clock, rollingFaultsOf(s).clockSkewSeconds * 1000),
      // No `lock` option: the chaos runs hold the group's lock by rollGroup's default, as `roll` and deploy's hook do.
      runId,
      reporter,
      signal,
      asg: ROLLING,
      surge: s.surge,
      minHealthy: s.minHealthy,
      batchSize: s.batchSize,
      dryRun: s.dryRun,
      ...(realWorldOf(s).standbyMidRun ? { standby: realWorldOf(s).standbyMidRun!.policy } : {}),
      ...(realWorldOf(s).protectedAtStart ? { protected: realWorldOf(s).protectedAtStart!.policy } : {}),
      ...(alarmFaultOf(s) !== undefined ? { alarms: [CHAOS_ALARM] } : {}),
      ...(s.rollback ? { rollback: true } : {}),
      ...(s.holds
        ? {
            holds: {
              canary: s.holds.canary,
              canaryWaitMs: (s.holds.canaryWaitSeconds ?? 0) * 1000,
              checkpoints: s.holds.checkpoints,
              checkpointWaitMs: (s.holds.checkpointWaitSeconds ?? 0) * 1000,
              bakeMs: s.holds.bakeSeconds === undefined ? undefined : s.holds.bakeSeconds * 1000,
            },
          }
        : {}),
    };
    return rollGroup(o);
  }
  if (s.via === 'deploy') return invokeDeployHook(s, f, clients, sb, signal, reporter);
  const o: AbDeployOptions = {
    clients,
    clock: sb.clock,
    reporter,
    signal,
    environment: ENV,
    instanceCount: s.abCase === 'first-deploy' ? f.targetCount : s.instanceCount,
    instanceCountMatch: s.abCase !== 'first-deploy' && s.instanceCount === undefined,
    instanceCountStep: s.instanceCountStep,
    rollback: f.rollback,
    ...(alarmFaultOf(s) !== undefined ? { alarms: [CHAOS_ALARM] } : {}),
    dryRun: s.dryRun,
    lockBucket: f.lockBucket,
    runId,
    ...(s.cleanUpConfirm ? { cleanUp: true, confirm: keptColorStopsServing(sb, s, f) } : {}),
    ...(s.targetGroups?.steps ? { trafficSteps: s.targetGroups.steps, stepWait: s.targetGroups.stepWaitSeconds } : {}),
    ...(keepOldOf(s) !== undefined ? { keepOld: keepOldOf(s) } : {}),
  };
  return abDeploy(o);
}

/** The `ab` service the deploy hook is handed for the chaos environment (what infra/manifest.ts exports). */
export function chaosAbService(s: Scenario, f: Fleet): AbServiceManifest {
  const a = `${ENV}-a`;
  const b = `${ENV}-b`;
  return {
    service: 'chaos',
    strategy: 'ab',
    name: ENV,
    environment: ENV,
    asgNames: { a, b },
    ...(f.targetGroups ? { elbv2: chaosElbv2Manifest(s, f) } : { elbNames: { a, b } }),
    capacityOwner: 'orchestrator',
    imageId: NEW_IMAGE,
    instanceType: 't3.small',
    capacity: f.targetCount,
    maxSize: Math.max(1, f.targetCount),
    healthCheckType: 'ELB',
    healthCheckGracePeriod: f.healthCheckGracePeriod,
    rollout: {
      healthCheckTimeoutSeconds: AB_HEALTH_CHECK_TIMEOUT_S,
      instanceCountStep: s.instanceCountStep,
      drainingTimeoutSeconds: s.drainingTimeout,
      // The stack config's trafficSteps / stepWait (issue 14), as infra/manifest.ts exports them.
      ...(s.targetGroups?.steps ? { trafficSteps: s.targetGroups.steps, stepWaitSeconds: s.targetGroups.stepWaitSeconds } : {}),
    },
  };
}

/** The manifest's `elbv2` block for a chaos environment on target groups (what infra/manifest.ts exports). */
function chaosElbv2Manifest(s: Scenario, f: Fleet): NonNullable<AbServiceManifest['elbv2']> {
  const tg = f.targetGroups!;
  return {
    type: s.targetGroups!.type,
    listenerArns: [],
    deregistrationDelaySeconds: s.drainingTimeout,
    healthCheck: { intervalSeconds: s.healthCheck.interval, timeoutSeconds: Math.min(5, s.healthCheck.interval - 1), healthyThreshold: s.healthCheck.healthyThreshold, unhealthyThreshold: s.healthCheck.unhealthyThreshold },
    targetGroupArns: { a: tg[`${ENV}-a`], b: tg[`${ENV}-b`] },
    weightsOwner: 'orchestrator',
  };
}

/**
 * `deploy`'s post-update hook for an `ab` service (stack/hooks.ts), after an update that changed
 * nothing in the stack (the new version is already published): the hook's own decision (an
 * unfinished swap recorded → finish it; the active color outdated → swap), the manifest's capacity.
 * A dry run is the hook's plan (read-only); a plan that promises another count than the real run
 * would bring up (the manifest's capacity) is an error here, judged by the checker as an outcome.
 */
async function invokeDeployHook(s: Scenario, f: Fleet, clients: AwsClients, sb: Sandbox, signal: AbortSignal, reporter: Reporter): Promise<RolloutResult> {
  const port = createAwsPort(clients, sb.clock);
  const hooks = engineHooks({ port, clock: sb.clock, reporter, lockBucket: f.lockBucket });
  const service = chaosAbService(s, f);
  if (s.dryRun) {
    const plan = await hooks.plan(service, { changes: [], force: false });
    reporter.emit('info', 'chaos.plan', plan.summary);
    const promised = /, (\d+) instances/.exec(plan.summary)?.[1];
    if ((plan.action === 'swap' || plan.action === 'create') && Number(promised) !== f.targetCount) {
      throw new Error(`deploy --dry-run promised ${promised ?? '?'} instances, the real run brings up ${f.targetCount}: ${plan.summary}`);
    }
    return { status: 'planned', target: ENV, strategy: 'ab', replaced: [], seconds: 0, apiCalls: 0, summary: plan.summary };
  }
  return hooks.rollout(service, { changes: [], force: false, signal, reporter });
}

/**
 * Health check grace period: long enough for a healthy instance to pass the ELB (as anyone running
 * ELB health checks on an ASG must configure it), else the ASG replaces good instances forever.
 */
function gracePeriod(s: Scenario, r: Prng): number {
  const needed = s.faults.bootSeconds.max + s.healthCheck.interval * (s.healthCheck.healthyThreshold + 1) + 30;
  return Math.max(r.pick([60, 120, 300]), needed);
}

function buildRolling(sb: Sandbox, s: Scenario, r: Prng): Fleet {
  const grace = Math.max(gracePeriod(s, r), rollingTargetGroupGrace(s));
  const targetGroupARNs = seedRollingTargetGroup(sb, s);
  const withElb = !s.rollingTargetGroup || s.rollingTargetGroup.withElb;
  if (s.launchConfiguration) {
    buildLegacyRolling(sb, s, r, grace, targetGroupARNs, withElb);
    const ids = new Set(sb.world.groupInstances(sb.world.state.groups[ROLLING]).map((i) => i.id));
    return { groups: [ROLLING], active: ROLLING, target: ROLLING, initialIds: ids, targetCount: s.size, rollback: Boolean(s.rollback), healthCheckGracePeriod: grace };
  }
  sb.seedGroup({
    name: ROLLING,
    capacity: s.size,
    max: s.size,
    imageId: OLD_IMAGE,
    availabilityZones: s.faults.azRebalance ? [sb.world.zones()[0]] : undefined,
    healthCheckType: r.chance(0.5) ? 'ELB' : 'EC2',
    healthCheckGracePeriod: grace,
    ...(withElb ? { elb: { name: `${ROLLING}-elb`, healthCheck: { ...s.healthCheck, timeout: Math.min(5, s.healthCheck.interval - 1) }, drainingTimeout: s.drainingTimeout } } : {}),
    ...(targetGroupARNs.length ? { targetGroupARNs } : {}),
    ...mixedGroupSpec(s),
  });
  const ids = new Set(sb.world.groupInstances(sb.world.state.groups[ROLLING]).map((i) => i.id));
  return { groups: [ROLLING], active: ROLLING, target: ROLLING, initialIds: ids, targetCount: s.size, rollback: Boolean(s.rollback), healthCheckGracePeriod: grace };
}

// --- issue 14: rolling on ALB/NLB target groups (scenario.ts drawRollingTargetGroup) ----------

/** Name of the rolling group's target group (and of its load balancer, `-lb`). */
const ROLLING_TG = `${ROLLING}-tg`;

/**
 * The rolling group's target group, when the scenario puts it behind one: an ALB/NLB with one
 * listener forwarding to it, the target group's health check AWS's defaults for the type or the
 * scenario's, its deregistration delay. Returns the ARNs to attach (none: classic ELB only).
 */
function seedRollingTargetGroup(sb: Sandbox, s: Scenario): string[] {
  const rt = s.strategy === 'rolling' ? s.rollingTargetGroup : undefined;
  if (!rt) return [];
  const hc = s.healthCheck;
  const seeded = sb.seedTargetGroups({
    name: `${ROLLING}-lb`,
    type: rt.type,
    targetGroups: [
      {
        name: ROLLING_TG,
        weight: 1,
        ...(rt.awsDefaults ? {} : { healthCheck: { interval: hc.interval, healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold, timeout: Math.min(5, hc.interval - 1) } }),
        deregistrationDelay: rt.deregistrationDelay,
      },
    ],
  });
  return [seeded.targetGroupArns[ROLLING_TG]];
}

/** The grace period a group on the target group needs: boot, slow registration, the target group's initial checks. */
function rollingTargetGroupGrace(s: Scenario): number {
  const rt = s.strategy === 'rolling' ? s.rollingTargetGroup : undefined;
  if (!rt) return 0;
  const interval = rt.awsDefaults ? 30 : s.healthCheck.interval;
  const threshold = rt.awsDefaults ? 5 : s.healthCheck.healthyThreshold;
  return s.faults.bootSeconds.max + (rt.registrationSeconds?.max ?? 0) + interval * (threshold + 1) + 30;
}

/** The rolling group on a (legacy) launch configuration, with its classic ELB and/or target group, settled. */
function buildLegacyRolling(sb: Sandbox, s: Scenario, r: Prng, grace: number, targetGroupARNs: string[] = [], withElb = true): void {
  const elb = `${ROLLING}-elb`;
  const zones = s.faults.azRebalance ? [sb.world.zones()[0]] : sb.world.zones();
  if (withElb) buildLegacyElb(sb, s, elb);
  sb.direct('autoscaling', 'CreateLaunchConfiguration', { LaunchConfigurationName: `${ROLLING}-lc-1`, ImageId: OLD_IMAGE, InstanceType: 't3.small' });
  sb.direct('autoscaling', 'CreateAutoScalingGroup', {
    AutoScalingGroupName: ROLLING,
    LaunchConfigurationName: `${ROLLING}-lc-1`,
    MinSize: 0,
    MaxSize: s.size,
    DesiredCapacity: s.size,
    AvailabilityZones: zones,
    LoadBalancerNames: withElb ? [elb] : [],
    ...(targetGroupARNs.length ? { TargetGroupARNs: targetGroupARNs } : {}),
    HealthCheckType: r.chance(0.5) ? 'ELB' : 'EC2',
    HealthCheckGracePeriod: grace,
  });
  sb.settle({ group: ROLLING });
}

/** The classic ELB of the rolling group on a launch configuration. */
function buildLegacyElb(sb: Sandbox, s: Scenario, elb: string): void {
  sb.direct('elb', 'CreateLoadBalancer', {
    LoadBalancerName: elb,
    Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8080 }],
    AvailabilityZones: sb.world.zones(),
  });
  const hc = s.healthCheck;
  sb.direct('elb', 'ConfigureHealthCheck', {
    LoadBalancerName: elb,
    HealthCheck: { Target: 'HTTP:8080/health', Interval: hc.interval, Timeout: Math.min(5, hc.interval - 1), HealthyThreshold: hc.healthyThreshold, UnhealthyThreshold: hc.unhealthyThreshold },
  });
  sb.direct('elb', 'ModifyLoadBalancerAttributes', {
    LoadBalancerName: elb,
    LoadBalancerAttributes: { ConnectionDraining: { Enabled: s.drainingTimeout > 0, Timeout: s.drainingTimeout > 0 ? s.drainingTimeout : 300 } },
  });
}

async function buildAb(sb: Sandbox, s: Scenario, r: Prng): Promise<Fleet> {
  const grace = gracePeriod(s, r);
  const a = `${ENV}-a`;
  const b = `${ENV}-b`;
  if (s.envGroupCollision) {
    // A group named exactly like the environment (its own template): not a color, never the run's.
    sb.seedGroup({ name: ENV, capacity: 1, max: 1, imageId: OLD_IMAGE, launchTemplateName: `${ENV}-solo-lt`, healthCheckGracePeriod: 300 });
  }
  const active = s.activeColor === 'a' ? a : b;
  const other = active === a ? b : a;
  const ltName = `${ENV}-lt`;
  const sizes: Record<string, number> = { [active]: s.size, [other]: s.abCase === 'both-populated' ? Math.max(1, Math.ceil(s.size / 2)) : 0 };
  if (s.abCase === 'first-deploy') sizes[active] = 0;
  // On target groups: each color's own, in one weighted forward; the active color (on a first
  // deploy a, as the program sets it) carries all the traffic.
  const tgCase = s.targetGroups;
  const seeded = tgCase
    ? sb.seedTargetGroups({
        name: ENV,
        type: tgCase.type,
        targetGroups: [a, b].map((name) => ({
          name,
          weight: name === (s.abCase === 'first-deploy' ? a : active) ? 100 : 0,
          healthCheck: { interval: s.healthCheck.interval, healthyThreshold: s.healthCheck.healthyThreshold, unhealthyThreshold: s.healthCheck.unhealthyThreshold, timeout: Math.min(5, s.healthCheck.interval - 1) },
          deregistrationDelay: s.drainingTimeout,
        })),
        ...(tgCase.rule ? { rulePriority: 100 } : {}),
      })
    : undefined;
  for (const name of [a, b]) {
    sb.seedGroup({
      name,
      capacity: sizes[name],
      max: Math.max(1, sizes[name]),
      imageId: OLD_IMAGE,
      launchTemplateName: ltName,
      availabilityZones: s.faults.azRebalance ? [sb.world.zones()[0]] : undefined,
      healthCheckType: r.chance(0.5) ? 'ELB' : 'EC2',
      healthCheckGracePeriod: grace,
      ...(seeded
        ? { targetGroupARNs: [seeded.targetGroupArns[name]] }
        : { elb: { name, healthCheck: { ...s.healthCheck, timeout: Math.min(5, s.healthCheck.interval - 1) }, drainingTimeout: s.drainingTimeout } }),
    });
  }
  const lockBucket = r.chance(0.5) ? LOCK_BUCKET : undefined;
  const target = s.abCase === 'first-deploy' ? a : other;
  const targetCount = s.abCase === 'first-deploy' ? (s.instanceCount ?? r.int(1, 8)) : (s.instanceCount ?? s.size);
  const fleet: Fleet = {
    groups: [a, b],
    active,
    target,
    initialIds: new Set(sb.world.groupInstances(sb.world.state.groups[active]).map((i) => i.id)),
    targetCount,
    lockBucket,
    // deploy's hook has no --rollback (the draw stays, so no later draw moves).
    rollback: r.chance(0.3) && s.via !== 'deploy',
    healthCheckGracePeriod: grace,
    ...(seeded ? { targetGroups: { [a]: seeded.targetGroupArns[a], [b]: seeded.targetGroupArns[b] } } : {}),
  };
  if (s.abCase === 'locked') {
    const port = createAwsPort(sb.newClients('someone-else'), sb.clock);
    // With a group named like the environment, the freeze is `lock --environment` as an operator
    // types it: no group list, the tool resolves the environment's groups itself (defect 5).
    const opts = s.envGroupCollision ? { environment: ENV, bucket: fleet.lockBucket } : lockOptions(fleet);
    await freezeEnvironment({ port, clock: sb.clock, reporter: silentReporter }, { ...opts, holder: FOREIGN_HOLDER, reason: 'release freeze' });
  }
  return fleet;
}

function lockOptions(f: Fleet) {
  return { environment: ENV, bucket: f.lockBucket, groups: f.lockBucket ? undefined : f.groups };
}

/** Is the environment lock still there? Read from the simulated AWS's state (no API call, no side effect). */
/** The A/B swap record (`asg-deploy:ab`) is still on a color. */
function swapRecordLeft(sb: Sandbox, f: Fleet): boolean {
  return f.groups.some((g) => sb.world.state.groups[g]?.tags.some((t) => t.key === SWAP_TAG));
}

function lockStillHeld(sb: Sandbox, f: Fleet): boolean {
  if (f.lockBucket) return sb.world.state.buckets[f.lockBucket]?.objects[`${ENV}.lock`] !== undefined;
  return f.groups.some((g) => sb.world.state.groups[g]?.tags.some((t) => t.key === LOCK_TAG));
}

/** Time of the tool's last ResumeProcesses attempt (any attempt: the latest is the strictest hand-back). */
export function lastToolCall(sb: Sandbox, operation: string): number | undefined {
  let at: number | undefined;
  for (const c of sb.calls) if (c.actor.startsWith('tool') && c.operation === operation) at = c.time;
  return at;
}

/** When the tool last read with `operation` successfully at or before `t` (e.g. its last look at the group before the hand-back). */
function lastToolReadBefore(sb: Sandbox, operation: string, t: number): number | undefined {
  let at: number | undefined;
  for (const c of sb.calls) if (c.time <= t && c.actor.startsWith('tool') && c.operation === operation && !c.error) at = c.time;
  return at;
}

/**
 * Live instances of `group` that AWS launched for AZ rebalancing after the tool handed the group
 * back (its last ResumeProcesses): the instance's own launch activity must say so
 * ("…in response to an Availability Zone rebalancing operation.") and have started at or after
 * the hand-back. Without a ResumeProcesses by the tool, none: rebalancing was then the tool's to
 * deal with.
 */
export function awsAfterHandBack(sb: Sandbox, group: string, insts: InstanceRec[], handBack: number | undefined): InstanceRec[] {
  if (handBack === undefined) return [];
  return insts.filter((i) => {
    const act = i.launchActivity ? sb.world.state.activities[i.launchActivity] : undefined;
    return (
      act !== undefined &&
      act.group === group &&
      act.description.includes(i.id) &&
      act.cause.includes('in response to an Availability Zone rebalancing operation') &&
      act.startTime >= handBack
    );
  });
}

/**
 * The causes of AWS's own terminations, which the tool did not make and nothing it does can
 * prevent: spontaneous ones [FAULT-4], AZ rebalancing [AZ-1], and on mixed instances groups a
 * Spot interruption [SPOT-1], Capacity Rebalancing [SPOT-2], the maximum instance lifetime [LIFE-1].
 */
export const AWS_TOOK: TerminationRecord['cause'][] = ['spontaneous', 'rebalance', 'spot-interruption', 'capacity-rebalance', 'max-lifetime'];

/**
 * Capacity as configured, allowing AWS's rebalancing launches after the hand-back: AWS launches
 * one first and terminates one in the largest zone only once it is InService [AZ-1], so the group
 * may be above its size by at most those launches — never below it.
 * E.g. size 10 with one such launch: 10 or 11 live is as configured; 9 or 12 is not.
 */
/**
 * A rolling run's final capacity when someone may have put instances back from Standby (each
 * ExitStandby raised desired by one): with no put-back, desired must be the configured size; with
 * put-backs, any desired from the recorded one to it plus the put-backs (the tool may keep them or
 * take the surplus back), and the group sized to the desired it ended at. Example: recorded 16,
 * one put back → desired 16 or 17 with as many live; 15 or 18 is not as configured.
 */
export function capacityAfterPutBacks(o: { desired: number; live: number; size: number; allowedDesired: ReadonlySet<number>; exits: number; exogenousLoss: boolean; rebalanceLaunches: number }): boolean {
  const target = o.exits > 0 ? o.desired : o.size;
  const desiredOk = o.exits > 0 ? o.allowedDesired.has(o.desired) : o.desired === o.size;
  return desiredOk && (o.exogenousLoss || sizedAsConfigured(o.live, target, o.rebalanceLaunches));
}

export function sizedAsConfigured(live: number, size: number, rebalanceLaunches: number): boolean {
  return live >= size && live - size <= rebalanceLaunches;
}

/**
 * Someone's EnterStandby (without decrement) after the tool's last look at the group before it
 * handed the group back: the tool never saw it, so the group it left is the group with that
 * instance in service. Such an instance, still in Standby at the end, counts toward the capacity
 * the tool left; AWS's replacement for it ([ASG-10]: the group launches one to keep desired) —
 * a live instance whose launch started at or after the earliest such entry, one per entry — is
 * AWS's, judged neither as the tool's capacity nor as its health (it may still be booting). An
 * entry the tool saw (at or before its last look) is the tool's to handle, as before.
 * Example (chaos seed 1996067550): done, handed back at 00:11:04, last look just before it; an
 * up-to-date instance into Standby at 00:12:55 while the tool released its lock; the end 0.8 s
 * later: desired 10, 9 live → the tool left 10 (9 + the one set aside), AWS's replacement not yet
 * launched. Entered at 00:10:00, before the last look: not set apart — 9 live is short.
 */
export function standbyAfterLastLook(o: {
  standbyAt: ReadonlyMap<string, number>;
  lastLook: number | undefined;
  inStandby: (id: string) => boolean;
  live: ReadonlyArray<{ id: string; launchStartedAt: number }>;
}): { setAside: string[]; replacements: string[] } {
  if (o.lastLook === undefined) return { setAside: [], replacements: [] };
  const lastLook = o.lastLook;
  const entries = [...o.standbyAt].filter(([id, at]) => at > lastLook && o.inStandby(id));
  if (entries.length === 0) return { setAside: [], replacements: [] };
  const from = Math.min(...entries.map(([, at]) => at));
  const replacements = o.live
    .filter((i) => i.launchStartedAt >= from)
    .sort((a, b) => a.launchStartedAt - b.launchStartedAt || a.id.localeCompare(b.id))
    .slice(0, entries.length)
    .map((i) => i.id);
  return { setAside: entries.map(([id]) => id), replacements };
}

/**
 * How far `group`'s healthy count at `t` is below its count at `from` through AWS's own
 * terminations — spontaneous ones [FAULT-4] and AZ rebalancing [AZ-1] (a rebalance already in
 * flight when the tool suspended AZRebalance still ends by terminating one, healthy, instance) —
 * and not yet made good: the deficit since `from`, capped by the healthy instances AWS took in
 * [from, t]. Anything else behind the deficit (a deregistration, a termination by the tool) is not
 * excused. E.g. 27 at the start, AWS took 2 at 05:40 whose replacements are still booting at
 * 06:41: 2; once one of them passes the ELB: 1; 27 again: 0.
 */
export function awsShortfall(sb: Sandbox, group: string, from: number, t: number): number {
  const taken = sb.monitor.terminations({ group, cause: AWS_TOOK }).filter((x) => x.healthy && x.time >= from && x.time <= t).length;
  if (taken === 0) return 0;
  const deficit = sb.monitor.healthyCount(group, from) - sb.monitor.healthyCount(group, t);
  return Math.max(0, Math.min(taken, deficit));
}

// --- rolling classes of issue 10 (scenario.ts drawRollingFaults) -----------------------------

/** The rolling group as an attempt finds it: its zones, live instances (outdated or not, LaunchTime), desired, the scenario's size and surge. */
function balanceStartOf(sb: Sandbox, s: Scenario): BalanceStart {
  const world = sb.world;
  const g = world.state.groups[ROLLING];
  const insts = g ? world.groupInstances(g).filter((i) => world.isActive(i)) : [];
  return {
    zones: g?.azs ?? [],
    instances: insts.map((i) => ({ az: i.az, outdated: !world.isUpToDate(i, g), launchTime: i.launchTime })),
    desired: g?.desired ?? s.size,
    size: s.size,
    surge: s.surge,
  };
}

/** A clock `offsetMs` ahead of (or behind) `clock`, sleeping on it: a runner whose clock is off AWS's. */
function skewed(clock: Clock, offsetMs: number): Clock {
  if (offsetMs === 0) return clock;
  return { now: () => clock.now() + offsetMs, sleep: (ms, signal) => clock.sleep(ms, signal) };
}

/** Applies the rolling faults at the rollout's start; says when the template changed, if it did. */
function applyRollingFaults(sb: Sandbox, s: Scenario, rolloutStart: number, finished: () => boolean): { changedAt?: number } {
  const out: { changedAt?: number } = {};
  const rf = rollingFaultsOf(s);
  if (rf.launchesNeverSucceed) sb.faults.launchFailureRate = 1;
  const after = rf.launchTemplateChangeAfterSeconds;
  if (after !== undefined) {
    sb.setImage(NEWER_IMAGE, { healthy: true, bootSeconds: s.faults.bootSeconds });
    sb.clock.onAdvance((t) => {
      if (out.changedAt !== undefined || finished() || t - rolloutStart < after * 1000) return;
      out.changedAt = t;
      sb.newLaunchTemplateVersion(`${ROLLING}-lt`, { ImageId: NEWER_IMAGE });
    });
  }
  return out;
}

// --- issue 16: an alarm the run watches (scenario.ts drawAlarmFaults) ------------------------

/** The CloudWatch alarm the chaos runs watch when the alarm fault applies. */
const CHAOS_ALARM = 'chaos-5xx';

/** Creates the alarm (OK, or ALARM before the start) and trips it at its time; says when. */
function applyAlarmFault(sb: Sandbox, s: Scenario, rolloutStart: number): { trippedAt?: number } {
  const out: { trippedAt?: number } = {};
  const after = alarmFaultOf(s);
  if (after === undefined) return out;
  if (after < 0) {
    sb.setAlarm(CHAOS_ALARM, 'ALARM', 'chaos: in ALARM before the start');
    return out;
  }
  sb.setAlarm(CHAOS_ALARM, 'OK', 'chaos: ok');
  sb.clock.onAdvance((t) => {
    if (out.trippedAt !== undefined || t - rolloutStart < after * 1000) return;
    out.trippedAt = t;
    sb.setAlarm(CHAOS_ALARM, 'ALARM', `chaos: tripped ${after} s into the rollout`);
  });
  return out;
}

/** The tool's successful reads of the alarms (DescribeAlarms), in order. */
function toolAlarmReads(sb: Sandbox): typeof sb.calls {
  return sb.calls.filter((c) => c.service === 'cloudwatch' && c.operation === 'DescribeAlarms' && !c.error && c.actor.startsWith('tool'));
}

/** Whether the tool read the alarms successfully before `t` (a read at the trip's own millisecond already sees ALARM). */
function alarmReadBefore(sb: Sandbox, t: number): boolean {
  return toolAlarmReads(sb).some((c) => c.time < t);
}

/**
 * "Halts within one poll": after the trip the tool reads the alarm successfully at most once (the
 * read that sees ALARM and halts). A second successful DescribeAlarms means it went on after an
 * alarm it had seen. (An A/B swap stops reading at its commit point: nothing to switch back to.)
 * A rolling rollback (`--rollback`) watches the alarms without halting (issue 16): its reads —
 * the attempt's, from its set-back of the group's launch spec — are not the rollout's, and one
 * that saw the alarm in ALARM must be reported in the rollback's outcome (`data.rollback.alarms`).
 */
function judgeAlarmFault(sb: Sandbox, fault: { trippedAt?: number }, sent: readonly SentCommand[] = [], attempts: readonly Attempt[] = []): Violation[] {
  if (fault.trippedAt === undefined) return [];
  // Each actor's set-back, as a place among the sandbox's calls: a read is the rollback's when it
  // comes after it in call order — not by time, since the forward run's halting read and the
  // set-back can share a simulated millisecond (seed 2868312849 of 2027).
  const setBack = new Map<string, number>();
  for (const c of sent) if (c.setsLaunchCall !== undefined && !setBack.has(c.actor)) setBack.set(c.actor, c.setsLaunchCall);
  const rollingBack = (c: (typeof sb.calls)[number]) => (setBack.get(c.actor) ?? Infinity) <= sb.calls.indexOf(c);
  const after = toolAlarmReads(sb).filter((c) => c.time > fault.trippedAt!);
  const out: Violation[] = [];
  const reads = after.filter((c) => !rollingBack(c));
  if (reads.length > 1) out.push({ code: 'not-halted', message: `the alarm went into ALARM at ${new Date(fault.trippedAt).toISOString()} and the tool read it ${reads.length} times after (it must halt at the first read)` });
  for (const a of attempts) {
    if (!a.actor || !a.rollback || a.rollbackAlarms?.includes(CHAOS_ALARM)) continue;
    const seen = after.filter((c) => c.actor === a.actor && rollingBack(c));
    if (seen.length) out.push({ code: 'alarm-not-reported', message: `${a.actor}'s rollback read ${CHAOS_ALARM} in ALARM (${seen.length} read(s) from ${new Date(seen[0].time).toISOString()}) but its outcome (rollback ${a.rollback}) does not name it` });
  }
  return out;
}

/** What the operator does after a kill -9 of a roll: clear that run's group lock (only its own). */
async function unlockCrashedGroupLock(sb: Sandbox, runId: string): Promise<void> {
  const port = createAwsPort(sb.newClients('operator'), sb.clock);
  const deps = { port, clock: sb.clock, reporter: silentReporter };
  const opts = groupLockOptions(ROLLING);
  const held = await readEnvironmentLock(deps, opts);
  if (held?.record.runId === runId) await unlockEnvironment(deps, { ...opts, force: true });
}

/** Step timeout the chaos runs use (rollGroup's default); a run with no progress for twice it is hung. */
const CHAOS_STEP_TIMEOUT_MS = 20 * 60_000;

/**
 * Progress watch: the tool made a mutating call, or a group's healthy count changed. No progress
 * for 2× the step timeout while the tool still runs is a hung run (a failure of the tool, not a
 * timeout of the harness). Checked once per simulated minute.
 */
function progressWatch(sb: Sandbox, groups: string[], start: number): (t: number) => string | undefined {
  let last = start;
  let seenCalls = 0;
  let seenSamples = -1;
  let nextCheck = start;
  return (t) => {
    if (t < nextCheck) return undefined;
    nextCheck = t + 60_000;
    for (; seenCalls < sb.calls.length; seenCalls++) {
      const c = sb.calls[seenCalls];
      if (c.mutating && c.actor.startsWith('tool')) last = Math.max(last, c.time);
    }
    const samples = groups.reduce((n, g) => n + sb.monitor.samples(g).length, 0);
    if (samples !== seenSamples) {
      seenSamples = samples;
      last = Math.max(last, t);
    }
    return t - last > 2 * CHAOS_STEP_TIMEOUT_MS ? `no progress for ${Math.round((t - last) / 1000)} s (more than 2× the step timeout): hung` : undefined;
  };
}

/**
 * The rolling classes' own judgement: a template version published mid-run (instances of either
 * version count as up to date; a clean halt with exit 3 is allowed), and "ended balanced" after a
 * successful roll — no zone of the group more than one live instance above another.
 */
function judgeRollingClasses(sb: Sandbox, s: Scenario, facts: RunFacts, faults: { changedAt?: number }, starts: ReadonlyMap<string, BalanceStart> = new Map()): void {
  if (s.strategy !== 'rolling') return;
  const world = sb.world;
  const g = world.state.groups[ROLLING];
  const insts = world.groupInstances(g).filter((i) => world.isActive(i));
  if (faults.changedAt !== undefined) {
    facts.launchTemplateChanged = true;
    // A healthy newer version replaced the one rolled out (a bad image may then end done), and
    // instances of the version rolled out are outdated for a re-run after the change: its plan.
    if (facts.expect === 'halt') facts.expect = 'done-or-halt';
    for (const t of facts.toolTerminations) {
      if (!t.planned && t.time >= faults.changedAt && instanceFacts(sb, t.instanceId)?.imageId === NEW_IMAGE) {
        t.planned = true;
        facts.plannedTerminations++;
      }
    }
    const onTarget = (i: InstanceRec) => world.isUpToDate(i, g) || i.imageId === NEW_IMAGE;
    const stale = insts.filter((i) => !onTarget(i));
    const sick = insts.filter((i) => !world.isHealthy(i));
    facts.final.allUpToDateAndHealthy = stale.length === 0 && (hasExogenousLoss(s) || sick.length === 0);
    facts.final.detail += `; launch template changed at +${Math.round((faults.changedAt - (world.state.monitor.baseline[ROLLING]?.time ?? 0)) / 1000)} s (either version counts)`;
  }
  const last = facts.attempts[facts.attempts.length - 1];
  // Judged where balance is attainable without terminating new instances: a fleet that started
  // balanced (not the az-rebalance fault) rolled one instance per step (see docs/proof.md).
  // A template version published after the tool launched instances of the one it rolled out
  // makes those outdated too, each with its own LaunchTime: oldest first then fixes their order
  // and the tool has no choice left to steer by (docs/commands/roll.md "Order"), so balance is
  // not promised there (seed 3074688965: a re-run after SIGINT ended 7/6/5).
  const mixedAges = faults.changedAt !== undefined && Object.values(world.state.instances).some((i) => i.imageId === NEW_IMAGE && i.launchTime < faults.changedAt!);
  const attainable = !s.faults.azRebalance && Math.max(s.surge, s.batchSize) <= 1 && !mixedAges;
  if (attainable && last?.exit === 0 && !s.dryRun && facts.expect !== 'refused' && !hasExogenousLoss(s)) {
    const count = new Map<string, number>(g.azs.map((z) => [z, 0]));
    for (const i of insts) count.set(i.az, (count.get(i.az) ?? 0) + 1);
    const values = [...count.values()];
    // ...and where the last attempt, from the group as it found it, could end balanced whatever
    // zone AWS picked among the emptiest (balance.ts; chaos seed 2494373250: a re-run after SIGINT
    // with its one outdated instance in a zone tied with the others).
    const from = last?.actor ? starts.get(last.actor) : undefined;
    if (values.length > 1 && Math.max(...values) - Math.min(...values) > 1 && (from === undefined || balanceAttainable(from))) {
      facts.unbalanced = `${ROLLING} ended unbalanced: ${[...count].map(([z, n]) => `${z} ${n}`).join(', ')}`;
    }
  }
}

/**
 * The clean-up-confirm class's prompt (scenario.ts drawCleanUpConfirm): while `ab --clean-up`
 * waits for its answer, the application of every live instance of the color it says it keeps
 * fails (each instance's own fail time, as the fails-after-healthy fault: the checker excuses
 * each loss per instance); the prompt stays open until the ELB has marked them out of service
 * and any eventual-consistency lag has passed, then the answer is yes.
 */
function keptColorStopsServing(sb: Sandbox, s: Scenario, f: Fleet): (question: string) => Promise<boolean> {
  return async (question) => {
    (f.cleanUpAsked ??= []).push(question);
    const keep = /Keep (\S+) and DRAIN/.exec(question)?.[1];
    const g = keep ? sb.world.state.groups[keep] : undefined;
    if (g) {
      const now = sb.clock.now();
      for (const i of sb.world.groupInstances(g)) {
        if (!sb.world.isActive(i)) continue;
        i.failAt = now;
        sb.world.pokeElbs(i); // off the ELB's known schedule: its next check sees the failure
        sb.world.elbv2.poke(i); // and each target group's (A/B on target groups)
      }
    }
    const hc = s.healthCheck;
    await sb.clock.sleep(((hc.unhealthyThreshold + 1) * hc.interval + s.faults.consistencyDelaySeconds + 2) * 1000);
    // Target groups have their own check settings (per LB type): wait, bounded, until none of the kept
    // color's instances is still healthy in a target group, so that the premise has visibly changed.
    const tgs = Object.values(sb.world.state.elbv2?.targetGroups ?? {});
    for (let waited = 0; g && waited < 900 && sb.world.groupInstances(g).some((i) => tgs.some((tg) => sb.world.elbv2.isServing(tg, i.id))); waited += 5) {
      await sb.clock.sleep(5000);
    }
    if (tgs.length) await sb.clock.sleep((s.faults.consistencyDelaySeconds + 2) * 1000);
    return true;
  };
}

/**
 * The clean-up-confirm class was exercised (the prompt was asked) and a refusal names the changed
 * premise. One refusal before the prompt is right too (chaos seed 4104625807 of 140432538): on
 * target groups, when the color `--clean-up` would drain still carries weight in the forward, the
 * tool refuses at once (exit 3, `drain-carries-weight`, naming the color) — accepted only when the
 * forward really gives that color's target group weight (read on the sandbox, unchanged: a refused
 * run makes no mutating call, invariant 6). A run that drains (or ends otherwise) without asking
 * is still caught.
 */
function judgeCleanUpConfirm(sb: Sandbox, s: Scenario, f: Fleet, facts: RunFacts): void {
  if (!s.cleanUpConfirm) return;
  const last = facts.attempts[facts.attempts.length - 1];
  const drainTg = last?.drain !== undefined ? f.targetGroups?.[last.drain] : undefined;
  const refusedOnWeight = last?.exit === 3 && last.code === 'drain-carries-weight' && drainTg !== undefined && (weightsNow(sb, [drainTg])[drainTg] ?? 0) > 0;
  if (refusedOnWeight) return;
  if (!f.cleanUpAsked?.length) facts.cleanUpProblem = 'ab --clean-up never asked for its confirmation (the class was not exercised)';
  else if (last?.exit === 3 && last.code !== 'premise-changed') facts.cleanUpProblem = `ab --clean-up refused with ${last.code ?? 'no code'}, not premise-changed: ${last.message ?? ''}`;
}

// --- mixed instances groups of issue 15 items 4, 6, 7 (scenario.ts drawMixed) -----------------

/** Instance types of a mixed chaos group's overrides, the first n. */
const MIXED_TYPES = ['m5.large', 'c5.large', 'r5.large'];

/** The rolling group's mixed instances policy (seedGroup), for a scenario that draws one. */
function mixedGroupSpec(s: Scenario): Pick<SeedGroupSpec, 'mixed' | 'capacityRebalance'> {
  const m = s.mixed;
  if (!m) return {};
  return {
    mixed: { instanceTypes: MIXED_TYPES.slice(0, m.instanceTypes), onDemandBaseCapacity: m.onDemandBase, onDemandPercentageAboveBaseCapacity: m.onDemandPercent, spotAllocationStrategy: 'price-capacity-optimized' },
    capacityRebalance: m.capacityRebalance,
  };
}

/** The fleet's instance lifetime: a day (AWS's minimum), the fleet launched so that it reaches it `lifetimeAfterSeconds` into the rollout. */
function prepareMixed(sb: Sandbox, s: Scenario): void {
  const after = s.mixed?.lifetimeAfterSeconds;
  const g = sb.world.state.groups[ROLLING];
  if (after === undefined || !g) return;
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: ROLLING, MaxInstanceLifetime: 86_400 });
  const launched = sb.clock.now() + after * 1000 - 86_400_000;
  for (const i of sb.world.groupInstances(g)) if (i.launchTime > launched) i.launchTime = launched;
}

/**
 * A Spot interruption during a step: right after the tool's first termination, the initial Spot
 * instance still active with the highest id gets its two-minute notice [SPOT-1]. Nothing after
 * the run finished, nothing in a dry run.
 */
function applyMixed(sb: Sandbox, s: Scenario, f: Fleet, finished: () => boolean): void {
  if (!s.mixed?.interruptDuringStep || s.dryRun) return;
  let done = false;
  sb.clock.onAdvance(() => {
    if (done || finished()) return;
    if (!sb.monitor.terminations({ group: ROLLING, cause: ['api', 'scale-in'] }).some((t) => t.call?.actor.startsWith('tool'))) return;
    done = true;
    const spot = [...f.initialIds].sort().reverse().map((id) => sb.world.state.instances[id]).find((i) => i && i.market === 'spot' && sb.world.isActive(i));
    if (spot) sb.world.spot.interrupt(spot);
  });
}

// --- real-world classes of issue 15 (scenario.ts drawRealWorldFaults) -------------------------

/** What someone else did to the rolling group during the run (Standby moves, protection removed). */
interface RealWorldActs {
  /** Instance → when someone put it into Standby. */
  standbyAt: Map<string, number>;
  /** Successful ExitStandby calls (each incremented desired), and when. */
  exits: number;
  exitedAt?: number;
  /** Protected outdated instances at the start, and when someone removed the protection (if they did). */
  protectedIds: string[];
  unprotectedAt?: number;
}

/**
 * Before the baseline: protect the drawn outdated instances (the first by id), and give the
 * group one instance of headroom above its size when someone will put a Standby instance back
 * (ExitStandby needs desired + 1 ≤ max; an operator raises max first).
 */
function prepareRealWorld(sb: Sandbox, s: Scenario): void {
  const rw = realWorldOf(s);
  const g = sb.world.state.groups[ROLLING];
  if (!g) return;
  if (rw.standbyMidRun?.exitAfterSeconds !== undefined) sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: ROLLING, MaxSize: g.max + 1 });
  if (rw.instanceRefreshInProgress) sb.direct('autoscaling', 'StartInstanceRefresh', { AutoScalingGroupName: ROLLING });
  if (rw.protectedAtStart) {
    const ids = sb.world.groupInstances(g).filter((i) => sb.world.isActive(i)).map((i) => i.id).sort().slice(0, rw.protectedAtStart.count);
    if (ids.length) sb.direct('autoscaling', 'SetInstanceProtection', { AutoScalingGroupName: ROLLING, InstanceIds: ids, ProtectedFromScaleIn: true });
  }
}

/**
 * Someone else, during the rollout: puts one InService instance into Standby (without decrement)
 * at the drawn time and maybe back (ExitStandby, retried every 30 s while AWS refuses it: desired
 * at max); removes the protection of the protected instances at the drawn time. Nothing after the
 * run finished.
 */
function applyRealWorld(sb: Sandbox, s: Scenario, rolloutStart: number, finished: () => boolean): RealWorldActs {
  const acts: RealWorldActs = { standbyAt: new Map(), exits: 0, protectedIds: [] };
  const rw = realWorldOf(s);
  const g = sb.world.state.groups[ROLLING];
  if (!g || s.dryRun) return acts;
  if (rw.protectedAtStart) acts.protectedIds = sb.world.groupInstances(g).filter((i) => i.protected).map((i) => i.id);
  let entered: string | undefined;
  let nextTry = 0;
  sb.clock.onAdvance((t) => {
    if (finished() || t < nextTry) return;
    const sm = rw.standbyMidRun;
    if (sm && entered === undefined && t - rolloutStart >= sm.afterSeconds * 1000) {
      const pick = sb.world.groupInstances(g).filter((i) => i.lifecycle === 'InService').map((i) => i.id).sort()[0];
      nextTry = t + 30_000;
      if (pick) {
        try {
          sb.direct('autoscaling', 'EnterStandby', { AutoScalingGroupName: ROLLING, InstanceIds: [pick], ShouldDecrementDesiredCapacity: false });
          entered = pick;
          acts.standbyAt.set(pick, t);
        } catch {
          // Refused (e.g. the instance just left InService): try again in 30 s.
        }
      }
    }
    if (sm?.exitAfterSeconds !== undefined && entered !== undefined && acts.exits === 0 && t - acts.standbyAt.get(entered)! >= sm.exitAfterSeconds * 1000) {
      const inst = sb.world.state.instances[entered];
      nextTry = t + 30_000;
      if (inst?.lifecycle === 'Standby') {
        try {
          sb.direct('autoscaling', 'ExitStandby', { AutoScalingGroupName: ROLLING, InstanceIds: [entered] });
          acts.exits = 1;
          acts.exitedAt = t;
        } catch {
          // Desired at max right now (a surge step): try again in 30 s.
        }
      }
    }
    const pa = rw.protectedAtStart;
    if (pa?.unprotectAfterSeconds !== undefined && acts.unprotectedAt === undefined && t - rolloutStart >= pa.unprotectAfterSeconds * 1000) {
      const left = acts.protectedIds.filter((id) => sb.world.state.instances[id]?.protected && sb.world.isActive(sb.world.state.instances[id]));
      if (left.length) sb.direct('autoscaling', 'SetInstanceProtection', { AutoScalingGroupName: ROLLING, InstanceIds: left, ProtectedFromScaleIn: false });
      acts.unprotectedAt = t;
    }
  });
  return acts;
}

/**
 * The real-world classes' own judgement:
 *  - the tool never terminates an instance its policy says to leave: one in Standby unless
 *    `--standby terminate` (and then only an outdated one), one still protected unless `--protected replace`;
 *  - an instance someone put back from Standby raised the capacity (desired + 1): the end is
 *    judged against the size plus those; protection someone removed is not a leftover;
 *  - done may leave outdated instances the policy skips: still protected (`ignore`), in Standby
 *    (not counted live anyway); everything else up to date and healthy.
 */
function judgeRealWorld(sb: Sandbox, s: Scenario, facts: RunFacts, acts: RealWorldActs): void {
  const rw = realWorldOf(s);
  if (!rw.standbyMidRun && !rw.protectedAtStart) return;
  const world = sb.world;
  const g = world.state.groups[ROLLING];
  // Balance is not promised when someone else moves instances around.
  facts.unbalanced = undefined;
  const breaches: string[] = [];
  for (const t of sb.monitor.terminations({ group: ROLLING, cause: ['api', 'scale-in'] })) {
    if (!t.call?.actor.startsWith('tool')) continue;
    const standbySince = acts.standbyAt.get(t.instanceId);
    if (standbySince !== undefined && standbySince <= t.time && (acts.exitedAt === undefined || t.time < acts.exitedAt)) {
      if (rw.standbyMidRun?.policy !== 'terminate' || t.upToDate) breaches.push(`${t.instanceId} terminated in Standby (--standby ${rw.standbyMidRun?.policy})`);
    }
    if (acts.protectedIds.includes(t.instanceId) && rw.protectedAtStart?.policy !== 'replace' && (acts.unprotectedAt === undefined || t.time < acts.unprotectedAt)) {
      breaches.push(`${t.instanceId} terminated while protected from scale-in (--protected ${rw.protectedAtStart?.policy})`);
    }
  }
  if (breaches.length) facts.policyBreach = breaches.join('; ');
  const allowedDesired = new Set<number>();
  const base = world.state.monitor.baseline[ROLLING];
  for (let k = 0; k <= acts.exits; k++) allowedDesired.add((base?.desired ?? s.size) + k);
  facts.leftovers = facts.leftovers.filter((l) => {
    if (l.group !== ROLLING) return true;
    const m = /desired (\d+) -> (\d+)/.exec(l.detail);
    if (l.what === 'desired' && acts.exits > 0 && m) return !allowedDesired.has(Number(m[2]));
    if (l.what === 'protection' && acts.unprotectedAt !== undefined) return !acts.protectedIds.some((id) => l.detail.replace(/^after SIGINT \([^)]*\): /, '').startsWith(`${id} `));
    return true;
  });
  if (s.dryRun) return;
  const size = s.size + acts.exits;
  const insts = world.groupInstances(g).filter((i) => world.isActive(i));
  const handBack = lastToolCall(sb, 'ResumeProcesses');
  // Put back from Standby after the tool's last look at the group before it handed the group back:
  // in Standby (not the tool's) at every decision it made, theirs since (chaos seed 347261232 of
  // 99: `--standby ignore`, done at the last look, put back 1.5 s after the hand-back).
  const lastLook = handBack === undefined ? undefined : lastToolReadBefore(sb, 'DescribeAutoScalingGroups', handBack);
  const unseen = new Set(acts.exitedAt !== undefined && lastLook !== undefined && acts.exitedAt > lastLook ? acts.standbyAt.keys() : []);
  // Put INTO Standby after that last look (chaos seed 1996067550: 111 s after done, while the tool
  // released its lock): the tool left that instance in service; AWS's replacement is AWS's.
  const late = standbyAfterLastLook({
    standbyAt: acts.standbyAt,
    lastLook,
    inStandby: (id) => world.state.instances[id] !== undefined && world.asg.isStandby(world.state.instances[id]),
    live: insts.map((i) => ({ id: i.id, launchStartedAt: (i.launchActivity ? world.state.activities[i.launchActivity]?.startTime : undefined) ?? i.launchTime })),
  });
  const awsReplaced = new Set(late.replacements);
  const skipped = (i: InstanceRec) => (i.protected === true && rw.protectedAtStart?.policy !== 'replace' && acts.protectedIds.includes(i.id)) || unseen.has(i.id);
  // As gatherFacts: AWS's rebalancing launches after the tool handed the group back are not the tool's.
  const aws = awsAfterHandBack(sb, ROLLING, insts, handBack);
  // A template version published mid-run (judgeRollingClasses): instances of either version count
  // as up to date — and what the policy skipped is still excused. The two rules judged apart, the
  // later one left the skipped instances stale (chaos seed 3564783887 of 4242: --protected ignore,
  // a Standby put back, the template changed after the re-run's last launch: done with the two
  // protected outdated instances "outdated").
  const onTarget = (i: InstanceRec) => world.isUpToDate(i, g) || (facts.launchTemplateChanged === true && i.imageId === NEW_IMAGE);
  const stale = insts.filter((i) => !onTarget(i) && !skipped(i));
  const sick = insts.filter((i) => !world.isHealthy(i) && !aws.includes(i) && !unseen.has(i.id) && !awsReplaced.has(i.id));
  const finalLoss = hasExogenousLoss(s);
  facts.final.allUpToDateAndHealthy = stale.length === 0 && (finalLoss || sick.length === 0);
  // Someone's put-back from Standby raised desired by one (ExitStandby); the tool may keep that
  // instance or take the surplus back to the size it recorded — the same desired values the
  // leftover rule above allows, and the group sized to the desired it ended at (chaos seeds
  // 3839052769 of 2027 and 3270877186 of 4242: done at desired 16 = the recorded 16 after a
  // put-back, 16 live and all up to date, judged "not as configured" against 17 alone).
  const leftLive = insts.length - awsReplaced.size + late.setAside.length;
  facts.final.capacityAsConfigured = capacityAfterPutBacks({ desired: g.desired, live: leftLive, size, allowedDesired, exits: acts.exits, exogenousLoss: finalLoss, rebalanceLaunches: aws.length });
  facts.final.detail += `; someone: ${acts.standbyAt.size ? `Standby ${[...acts.standbyAt.keys()].join(', ')}${acts.exits ? ` (put back${unseen.size ? ' after the tool\'s last look' : ''})` : ''}${late.setAside.length ? ` (after the tool's last look: counted as the capacity it left${awsReplaced.size ? `; AWS's replacement ${[...awsReplaced].join(', ')}` : ''})` : ''}` : ''}${acts.protectedIds.length ? ` protected ${acts.protectedIds.join(', ')}${acts.unprotectedAt !== undefined ? ' (unprotected later)' : ''}` : ''}; skipped ${insts.filter(skipped).length}`;
}

// --- Standby in A/B colors (issue 10 item 9; scenario.ts drawAbStandby) -----------------------

/** What someone did to a color's instance during an A/B run: into Standby, maybe back. */
interface AbStandbyActs {
  /** Instance → when someone put it into Standby. */
  standbyAt: Map<string, number>;
  /** The color it was in. */
  group?: string;
  /** When someone put it back (ExitStandby succeeded), if they did. */
  exitedAt?: number;
}

/**
 * Someone else, during an A/B rollout (not after it finished): puts the first InService instance
 * (by id) of the drawn color into Standby without decrement at the drawn time (tried every 30 s
 * while the color has none InService), and maybe back (ExitStandby, tried every 30 s while AWS
 * refuses it: desired at max).
 */
function applyAbStandby(sb: Sandbox, s: Scenario, f: Fleet, rolloutStart: number, finished: () => boolean): AbStandbyActs {
  const acts: AbStandbyActs = { standbyAt: new Map() };
  const d = s.strategy === 'ab' ? s.abStandby : undefined;
  if (!d) return acts;
  const name = d.color === 'active' ? f.active : f.target;
  let entered: string | undefined;
  let nextTry = 0;
  sb.clock.onAdvance((t) => {
    if (finished() || t < nextTry) return;
    const g = sb.world.state.groups[name];
    if (!g) return;
    if (entered === undefined && t - rolloutStart >= d.afterSeconds * 1000) {
      nextTry = t + 30_000;
      const pick = sb.world.groupInstances(g).filter((i) => i.lifecycle === 'InService').map((i) => i.id).sort()[0];
      if (!pick) return;
      try {
        sb.direct('autoscaling', 'EnterStandby', { AutoScalingGroupName: name, InstanceIds: [pick], ShouldDecrementDesiredCapacity: false });
        entered = pick;
        acts.group = name;
        acts.standbyAt.set(pick, t);
      } catch {
        // Refused (it just left InService): try again in 30 s.
      }
      return;
    }
    if (d.exitAfterSeconds !== undefined && entered !== undefined && acts.exitedAt === undefined && t - acts.standbyAt.get(entered)! >= d.exitAfterSeconds * 1000) {
      nextTry = t + 30_000;
      if (sb.world.state.instances[entered]?.lifecycle !== 'Standby') return;
      try {
        sb.direct('autoscaling', 'ExitStandby', { AutoScalingGroupName: name, InstanceIds: [entered] });
        acts.exitedAt = t;
      } catch {
        // Desired at max right now: try again in 30 s.
      }
    }
  });
  return acts;
}

/**
 * The instance someone put back, when it is still live at the end: not the tool's to count (nor the
 * desired increment AWS made for it) — unless the color's final desired is one the tool itself set
 * after the put-back (`sent`): then its growth counted that instance toward the count, and it is
 * judged as one of the swap's own (it was launched by the swap, from the new version). E.g. chaos
 * ab seed 11815: a kill -9 inside the SIGINT's cleanup left the new color's max raised, the re-run's
 * growth (desired 0 → 3) let someone's ExitStandby through (3 → 4), and the growth went on 4 → 7 …
 * 43 → 46: 46 serving, desired 46, the count — not 45 and someone's one.
 */
function putBackLive(sb: Sandbox, acts: AbStandbyActs, sent: readonly SentCommand[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  if (acts.exitedAt === undefined || !acts.group) return out;
  const group = acts.group;
  const lastSet = sent.filter((c) => c.actor.startsWith('tool') && c.setsDesired?.group === group).at(-1)?.setsDesired;
  if (lastSet && lastSet.at >= acts.exitedAt && sb.world.state.groups[group]?.desired === lastSet.desired) return out;
  for (const id of acts.standbyAt.keys()) {
    const inst = sb.world.state.instances[id];
    if (inst && inst.group === acts.group && sb.world.isActive(inst)) out.set(acts.group, new Set([id]));
  }
  return out;
}

/**
 * The Standby-in-colors judgement (the product rule, docs/commands/ab.md): an instance someone put
 * into Standby is never terminated by the tool while it is there (a `policy` violation); it counts
 * as not serving (invariant 1 excuses its loss like any Standby entry until AWS's replacement
 * serves); at the end it is set apart (Standby is no group capacity; a put-back with the desired
 * increment AWS made for it is theirs).
 */
function judgeAbStandby(sb: Sandbox, facts: RunFacts, acts: AbStandbyActs): void {
  if (!acts.group) return;
  const breaches: string[] = [];
  for (const t of sb.monitor.terminations({ group: acts.group, cause: ['api', 'scale-in'] })) {
    if (!t.call?.actor.startsWith('tool')) continue;
    const since = acts.standbyAt.get(t.instanceId);
    if (since !== undefined && since <= t.time && (acts.exitedAt === undefined || t.time < acts.exitedAt)) breaches.push(`${t.instanceId} terminated in Standby in ${acts.group}`);
  }
  if (breaches.length) facts.policyBreach = [facts.policyBreach, ...breaches].filter(Boolean).join('; ');
  facts.final.detail += `; someone: Standby ${[...acts.standbyAt.keys()].join(', ')} in ${acts.group}${acts.exitedAt !== undefined ? ' (put back)' : ''}`;
}

/** A color's sizes at the baseline and at the end. */
export interface SizedColor {
  name: string;
  before: { desired: number; min: number; max: number };
  after: { desired: number; min: number; max: number };
}

/**
 * An A/B halt whose stand-ins still stand in at the end (docs/commands/ab.md, `ab.stand-in-kept`):
 * the last attempt halted (exit 1) saying its serving instances stand in for the old color's missing
 * ones and to re-run (the restore incomplete, the swap record kept), the old color still
 * serves fewer than its desired count, and the new color holds at least one and at most that many
 * instances above its original desired. Then the swap record (both colors) and the new color's
 * restore tag are the documented state, not leftovers. E.g. old 11 of 12 serving, new 0 → 1: kept;
 * old 12 of 12: not (the record should have gone); new 0 → 2 for a shortage of 1: not.
 */
export function standInHaltKept(o: { lastExit?: number; lastMessage?: string; oldDesired: number; oldServing: number; newBefore: number; newDesired: number }): boolean {
  const m = o.lastMessage ?? '';
  if (o.lastExit !== 1 || !/serving instance\(s\) stand in for .*'s missing \d+/.test(m) || !/re-run/.test(m)) return false;
  const short = o.oldDesired - o.oldServing;
  const standIns = o.newDesired - o.newBefore;
  return short > 0 && standIns > 0 && standIns <= short;
}

/** How an A/B run ended, for its sizes: done; halted/interrupted before the new color served; refused or dry; anything else (not judged). */
export type AbOutcome = 'done' | 'not-committed' | 'unchanged' | 'other';

/**
 * How an A/B run ended, for its sizes: judged by the last attempt that could change anything. A
 * refusal (exit 3) changes nothing, so after a re-run refused once an earlier attempt had acted,
 * the sizes are what that attempt left: e.g. a halt that left the new color for inspection, then a
 * re-run refused "both populated" is judged as that halt (the new color between its original
 * desired and the count), not as a refused run that raised it (the message said "after a refused
 * or dry run" for chaos seed 1907761789). A dry run, or refusals only: unchanged.
 */
export function abOutcomeOf(attempts: ReadonlyArray<Pick<Attempt, 'exit'>>, o: { dryRun: boolean; newColorServed: boolean }): AbOutcome {
  if (o.dryRun) return 'unchanged';
  const acted = [...attempts].reverse().find((a) => a.exit !== 3);
  if (!acted) return 'unchanged';
  if (acted.exit === 0) return 'done';
  return !o.newColorServed && acted.exit !== undefined ? 'not-committed' : 'other';
}

/**
 * A/B leftovers judged in full — desired, min and max of both colors — against what the outcome
 * allows (the monitor's own leftovers leave A/B sizes out, since a swap changes them on purpose):
 * - done: the old color drained (desired 0, min 0, max as before); the new color at the count,
 *   min as before, max as before or raised to the count;
 * - not committed (halted or interrupted before the new color served): the old color as before;
 *   the new color between its original desired and the count (rolled back, a stand-in kept, or
 *   left for inspection), min as before, max between its original and the count;
 * - refused or dry run: both colors as before;
 * a color the run had no business with (the other color on a first deploy): as before, always.
 * E.g. done, count 4: old 4/0/4 → 0/0/4 and new 0/0/1 → 4/0/4: nothing; new max left at 6: a leftover.
 */
export function abSizeLeftovers(o: { outcome: AbOutcome; count: number; old?: SizedColor; target: SizedColor; untouched: SizedColor[] }): Leftover[] {
  const out: Leftover[] = [];
  const check = (c: SizedColor, what: 'desired' | 'min' | 'max', ok: (v: number) => boolean, allowed: string) => {
    const v = c.after[what];
    if (!ok(v)) out.push({ group: c.name, what, detail: `${what} ${c.before[what]} -> ${v} after ${o.outcome === 'unchanged' ? 'a refused or dry run' : o.outcome === 'done' ? 'a finished swap' : 'a swap halted before the new color served'} (allowed: ${allowed})` });
  };
  const same = (c: SizedColor) => {
    for (const w of ['desired', 'min', 'max'] as const) check(c, w, (v) => v === c.before[w], `${c.before[w]}, as before`);
  };
  for (const c of o.untouched) same(c);
  if (o.outcome === 'other') return out;
  if (o.outcome === 'unchanged') {
    if (o.old) same(o.old);
    same(o.target);
    return out;
  }
  const t = o.target;
  const hiMax = Math.max(t.before.max, o.count);
  if (o.outcome === 'done') {
    if (o.old) {
      check(o.old, 'desired', (v) => v === 0, '0, drained');
      check(o.old, 'min', (v) => v === 0, '0, drained');
      check(o.old, 'max', (v) => v === o.old!.before.max, `${o.old.before.max}, as before`);
    }
    check(t, 'desired', (v) => v === o.count, `${o.count}, the count`);
    check(t, 'min', (v) => v === t.before.min, `${t.before.min}, as before`);
    check(t, 'max', (v) => v === t.before.max || v === hiMax, `${t.before.max} or ${hiMax}`);
    return out;
  }
  if (o.old) same(o.old);
  const lo = Math.min(t.before.desired, o.count);
  const hi = Math.max(t.before.desired, o.count);
  check(t, 'desired', (v) => v >= lo && v <= hi, `${lo}..${hi}`);
  check(t, 'min', (v) => v === t.before.min, `${t.before.min}, as before`);
  check(t, 'max', (v) => v >= t.before.max && v <= hiMax, `${t.before.max}..${hiMax}`);
  return out;
}

function harnessFailure(s: Scenario, realStart: number, message: string): RunOutcome {
  return { scenario: s, attempts: [], violations: [{ code: 'hung', message }], simulatedSeconds: 0, realMs: Date.now() - realStart, apiCalls: 0 };
}

/** Combined healthy count of several groups over time: [time, total] after all changes at each ms. */
function combinedSeries(sb: Sandbox, groups: string[], from: number): Array<[number, number]> {
  const events: Array<[number, string, number]> = [];
  for (const g of groups) for (const x of sb.monitor.samples(g)) events.push([x.time, g, x.healthy]);
  events.sort((x, y) => x[0] - y[0]);
  const now: Record<string, number> = Object.fromEntries(groups.map((g) => [g, sb.monitor.healthyCount(g, from)]));
  const out: Array<[number, number]> = [[from, Object.values(now).reduce((a, b) => a + b, 0)]];
  for (let i = 0; i < events.length; i++) {
    const [t, g, n] = events[i];
    if (t <= from) continue;
    now[g] = n;
    if (i + 1 < events.length && events[i + 1][0] === t && groups.length > 1) continue;
    out.push([t, Object.values(now).reduce((a, b) => a + b, 0)]);
  }
  return out;
}

function minOver(series: Array<[number, number]>, t0: number, t1: number): { min: number; at?: number } {
  let min = Infinity;
  let at: number | undefined;
  for (const [t, n] of series) {
    if (t < t0 || t > t1) continue;
    if (n < min) {
      min = n;
      at = t;
    }
  }
  return { min: min === Infinity ? 0 : min, at };
}

/** The value once every change at `t` happened. */
function valueAt(series: Array<[number, number]>, t: number): number {
  let v = series[0]?.[1] ?? 0;
  for (const [x, n] of series) {
    if (x > t) break;
    v = n;
  }
  return v;
}

/** What the checker reads of an instance after the run: its application's fail time and its image. */
type InstanceFacts = Pick<InstanceRec, 'failAt' | 'imageId'>;
const keptFacts = new WeakMap<Sandbox, Map<string, InstanceFacts>>();

/**
 * Keeps each instance's facts as of its last change, past EC2's purge of terminated instances
 * (an hour after termination, [EC2-5]): the checker judges after the run, and in a run longer than
 * that the first instances the tool replaced are gone from the sandbox's state. E.g. chaos seed
 * 1799852234 (rolling, `--rollback`, fails-after-healthy, 70 min): the first new instance's
 * application failed at 00:08:35, its ELB took it out at 00:09:11, the rollback terminated it at
 * 00:20 and EC2 forgot it at 01:20 — read at the end, it had no fail time, so its loss was not
 * excused. A wrapper around the sandbox's observer (the safety monitor), installed before the fleet.
 */
export function keepInstanceFacts(sb: Sandbox): void {
  const kept = new Map<string, InstanceFacts>();
  keptFacts.set(sb, kept);
  const inner = sb.world.observer;
  sb.world.observer = {
    instanceChanged(inst) {
      kept.set(inst.id, { failAt: inst.failAt, imageId: inst.imageId });
      inner?.instanceChanged(inst);
    },
    terminated: (rec) => inner?.terminated(rec),
  };
}

/** An instance's facts: the sandbox's own while it knows the instance, else as last kept (keepInstanceFacts). */
export function instanceFacts(sb: Sandbox, id: string): InstanceFacts | undefined {
  return sb.world.state.instances[id] ?? keptFacts.get(sb)?.get(id);
}

/**
 * Invariant 1 over time, in every scenario: the protected groups' healthy serving count at every
 * single change (per instance, in the order the simulated AWS made them: no merging of changes in
 * the same millisecond, within a group or across colors), plus AWS's own losses not yet made good.
 * A healthy instance that stops serving is excused — counted as still serving — only when the
 * simulated AWS itself says why: it terminated it (spontaneously [FAULT-4], or to rebalance zones
 * [AZ-1]), or its application failed after it had passed (the image's fail-after fault: the
 * instance's own `failAt`). Each excuse is made good by the next instance that starts serving.
 * Anything else (a termination by the tool, a deregistration) is not excused.
 * E.g. 3 serving, AWS takes one (2 + 1 excused = 3), the tool takes another (1 + 1 = 2: below 3).
 * Returns [time, healthy + excused] after each change, from `from`; and the excuses left at the end.
 */
export function excusedSeries(sb: Sandbox, groups: string[], from: number, setAside: ReadonlyMap<string, number> = new Map()): { series: Array<[number, number]>; excusedAtEnd: number } {
  const inGroups = new Set(groups);
  const healthyNow = new Map<string, boolean>();
  let healthy = 0;
  let excused = 0;
  const awsTook = new Map<string, number>();
  for (const t of sb.monitor.terminations({ cause: AWS_TOOK })) if (!awsTook.has(t.instanceId)) awsTook.set(t.instanceId, t.time);
  const toolTook = new Map<string, number>();
  for (const t of sb.monitor.terminations({ cause: ['api', 'scale-in'] })) if (!toolTook.has(t.instanceId)) toolTook.set(t.instanceId, t.time);
  const series: Array<[number, number]> = [];
  let started = false;
  for (const e of sb.monitor.timeline()) {
    if (!e.group || !inGroups.has(e.group)) continue;
    if (!started && e.time > from) {
      started = true;
      series.push([from, healthy]);
    }
    const was = healthyNow.get(e.instanceId) ?? false;
    if (was === e.healthy) continue;
    healthyNow.set(e.instanceId, e.healthy);
    if (e.healthy) {
      healthy++;
      if (started && excused > 0) excused--; // makes good one of AWS's losses
    } else {
      healthy--;
      if (started) {
        const inst = instanceFacts(sb, e.instanceId);
        const byAws = (awsTook.get(e.instanceId) ?? Infinity) <= e.time;
        const byTool = (toolTook.get(e.instanceId) ?? Infinity) <= e.time;
        const appFailed = inst?.failAt !== undefined && inst.failAt <= e.time && !byTool;
        // Put into Standby by someone else (issue 15): their act, made good by AWS's replacement.
        // (Set aside before the tool terminated it, if it did: EnterStandby needs an InService instance.)
        const bySomeone = (setAside.get(e.instanceId) ?? Infinity) <= Math.min(e.time, toolTook.get(e.instanceId) ?? Infinity);
        if ((byAws && !byTool) || appFailed || bySomeone) excused++;
      }
    }
    if (started) series.push([e.time, healthy + excused]);
  }
  if (!started) series.push([from, healthy]);
  return { series, excusedAtEnd: excused };
}

/**
 * Serving capacity the simulated AWS itself took from `groups` after the tool's call (`callAt`) and
 * up to the termination it caused (`t`, e.g. the scale-in AWS started seconds after an
 * UpdateAutoScalingGroup): instances healthy at the call and not healthy at `t` whose loss AWS
 * attributes to itself — an application failing after it had passed (its own `failAt`), a
 * spontaneous or rebalancing termination — or someone's Standby. The tool decided on what it saw
 * at its call; these came after. Its own terminations are never counted.
 * E.g. chaos seed 326880920: the drain of the old color called at 00:06:11.599 with the new color
 * 9/9 serving, its scale-in at 00:06:19.528; the new version's application had failed at
 * 00:05:51 on 3 instances, which their ELB marked OutOfService at 00:06:12–14 → 3.
 */
export function lostSinceCall(sb: Sandbox, groups: string[], callAt: number, t: number, setAside: ReadonlyMap<string, number> = new Map()): number {
  if (t <= callAt) return 0;
  const inGroups = new Set(groups);
  const atCall = new Map<string, boolean>();
  const atT = new Map<string, { healthy: boolean; since: number }>();
  for (const e of sb.monitor.timeline()) {
    if (e.time > t) break;
    if (!e.group || !inGroups.has(e.group)) continue;
    if (e.time <= callAt) atCall.set(e.instanceId, e.healthy);
    const prev = atT.get(e.instanceId);
    atT.set(e.instanceId, { healthy: e.healthy, since: prev && prev.healthy === e.healthy ? prev.since : e.time });
  }
  const awsTook = new Map<string, number>();
  for (const x of sb.monitor.terminations({ cause: AWS_TOOK })) if (!awsTook.has(x.instanceId)) awsTook.set(x.instanceId, x.time);
  const toolTook = new Map<string, number>();
  for (const x of sb.monitor.terminations({ cause: ['api', 'scale-in'] })) if (!toolTook.has(x.instanceId)) toolTook.set(x.instanceId, x.time);
  let n = 0;
  for (const [id, healthy] of atCall) {
    const now = atT.get(id);
    if (!healthy || !now || now.healthy) continue;
    if ((toolTook.get(id) ?? Infinity) <= t) continue;
    const inst = instanceFacts(sb, id);
    const appFailed = inst?.failAt !== undefined && inst.failAt <= now.since;
    const byAws = (awsTook.get(id) ?? Infinity) <= t;
    const bySomeone = (setAside.get(id) ?? Infinity) <= t;
    if (appFailed || byAws || bySomeone) n++;
  }
  return n;
}

/**
 * The group at instant `t`, once everything at that instant happened (the monitor's timeline):
 * live instances (Pending or InService, not Standby, not terminating) and the outdated ones among
 * them that are not protected from scale-in (the tool could have taken one instead of a surplus
 * pick). Protection at `t`: the instance's own, or the one someone removed later (real-world class).
 * Outdated at `t`, as the pick's own "up to date" is judged at `t` (TerminationRecord.upToDate):
 * launched from another spec than `current`, the one the picked instance ran, which was the
 * group's then — not the group's at the end of the run, which a rollback sets back to the original
 * (chaos seed 121250190: the cleanup's surplus pick of a version-2 instance before the rollback
 * counted every live version-2 instance as outdated).
 */
function surplusAt(sb: Sandbox, group: string, t: number, capacity: number, current: LaunchRef, rw?: RealWorldActs): { liveAfter: number; outdatedLeft: number; capacity: number } {
  const last = new Map<string, TimelineEntryLite>();
  for (const e of sb.monitor.timeline({ group })) {
    if (e.time > t) break;
    last.set(e.instanceId, e);
  }
  let liveAfter = 0;
  let outdatedLeft = 0;
  for (const [id, e] of last) {
    const live = e.ec2State !== 'terminated' && e.ec2State !== 'shutting-down' && (e.lifecycle === 'InService' || (e.lifecycle ?? '').startsWith('Pending'));
    if (!live) continue;
    liveAfter++;
    const inst = sb.world.state.instances[id];
    const protectedThen = inst?.protected === true || (rw?.protectedIds.includes(id) === true && rw.unprotectedAt !== undefined && t < rw.unprotectedAt);
    if (inst && !sameLaunchRef(inst.launch, current) && !protectedThen) outdatedLeft++;
  }
  return { liveAfter, outdatedLeft, capacity };
}

type TimelineEntryLite = { time: number; instanceId: string; ec2State: string; lifecycle?: string };

/** Launched from the same spec, as the sandbox judges "up to date" (autoscaling/state.ts isUpToDate): template id and version, or configuration name. */
function sameLaunchRef(a: LaunchRef, b: LaunchRef): boolean {
  if (a.kind === 'lt' && b.kind === 'lt') return a.id === b.id && a.version === b.version;
  if (a.kind === 'lc' && b.kind === 'lc') return a.name === b.name;
  return false;
}

function gatherFacts(
  sb: Sandbox,
  s: Scenario,
  f: Fleet,
  attempts: Attempt[],
  w: {
    rolloutStart: number;
    end: number;
    healthyAtStart: number;
    hung?: string;
    start: number;
    afterSigint?: { time: number; leftovers: Leftover[]; lockHeld: boolean; standInKept?: boolean };
    setAside?: ReadonlyMap<string, number>;
    /** Instances the tool terminated with decrement (its explicit surplus picks, rolling). */
    decremented?: ReadonlySet<string>;
    realWorld?: RealWorldActs;
    /** A/B: instances someone put back from Standby that are still live at the end, by color (not the tool's to count). */
    putBack?: ReadonlyMap<string, ReadonlySet<string>>;
    /** A/B: when the tool first asked AWS to drain the old color (its desired to 0), if it did. */
    drainCalledAt?: number;
  },
): RunFacts {
  const world = sb.world;
  // Per termination: the groups' count once everything at that instant happened.
  const series = combinedSeries(sb, f.groups, w.rolloutStart);
  // Over time, in every scenario: every single change, AWS's own losses excused per instance.
  const judged = excusedSeries(sb, f.groups, w.rolloutStart, w.setAside);
  const last = attempts[attempts.length - 1];
  // The final state is relaxed only for losses nothing can prevent (spontaneous terminations, a
  // version that fails after passing). AZ rebalancing is not one of them: the tool suspends it;
  // what AWS launches after the tool handed the group back is set apart below (awsAfterHandBack).
  const finalLoss = hasExogenousLoss(s);
  const handBack = lastToolCall(sb, 'ResumeProcesses');

  // Invariant 1's floor, and the window it applies to.
  let required: number;
  let newHealthyAt = Infinity;
  if (s.strategy === 'rolling') {
    required = s.minHealthy ?? (s.surge > 0 ? s.size : s.size - 1);
  } else {
    required = w.healthyAtStart;
    const targetSeries = combinedSeries(sb, [f.target], w.rolloutStart);
    newHealthyAt = targetSeries.find(([, n]) => n >= f.targetCount && f.targetCount > 0)?.[0] ?? Infinity;
  }
  let observed = minOver(judged.series, w.rolloutStart, Math.min(w.end, newHealthyAt));
  let floor = required;
  if (s.strategy === 'ab' && newHealthyAt !== Infinity) {
    // Once the new color is healthy, the old one may drain: the floor becomes the new color's size.
    const after = minOver(judged.series, newHealthyAt, w.end);
    const afterFloor = Math.min(required, f.targetCount);
    if (after.min - afterFloor < observed.min - required) {
      observed = after;
      floor = afterFloor;
    }
  }

  // --rollback (rolling): the rollback's plan is the new-version instances, replaced once the group
  // was set back to the original spec (outdated then: the monitor's upToDate at termination is false).
  const rollbackTerms = new Set(
    s.strategy === 'rolling' && f.rollback
      ? sb.monitor.terminations({ group: ROLLING, cause: ['api', 'scale-in'] }).filter((t) => t.call?.actor.startsWith('tool') && !t.upToDate && !f.initialIds.has(t.instanceId) && !onOriginal(s, t.launch)).map((t) => t.instanceId)
      : [],
  );
  const rolledBack = (id: string) => rollbackTerms.has(id);
  // Terminations the tool's calls caused.
  const planned = (id: string, time: number, group: string | undefined, actor: string | undefined, callTime: number | undefined): boolean => {
    if (s.strategy === 'rolling') return f.initialIds.has(id) || rolledBack(id);
    // Draining the old color once the new one serves is the plan — all of it, including instances
    // AWS added meanwhile (an AZ rebalance or a replacement, launched from the new version).
    if ((f.initialIds.has(id) || group === f.active) && time >= newHealthyAt && f.target !== f.active) return true;
    if (group !== f.target) return false;
    // The new color is scaled back on purpose: after SIGINT (restoring the desired it raised,
    // invariant 3) or, with --rollback, after a failure. This holds on a first deploy too, where
    // the target color is also the one `f.active` names (both colors start empty): every instance
    // in it was launched by this run, so scaling it back removes nothing that served before.
    // (The checker used to say "unplanned" whenever target === active — wrong on a first deploy,
    // seed 129505311: a SIGINT before commit that scaled the new color back was flagged.)
    // With --keep-old a failure in the window switches back, scaling the new color back with or
    // without --rollback (docs/commands/ab.md; chaos seed 1582086282: AWS took one new instance in
    // the window and the tool switched back). The window is a fact of the run, not of the tool's
    // wording: from the moment the new color served its count until the tool first asked to drain
    // the old one; whatever halted the run in it (a failure, an alarm: chaos seed 3324236377, the
    // alarm's halt says nothing of --keep-old). After the drain call a scale-back is unplanned.
    const by = attempts.find((a) => a.actor === actor);
    const inKeepOldWindow = time >= newHealthyAt && time < (w.drainCalledAt ?? Infinity);
    const keepOldSwitchBack = keepOldOf(s) !== undefined && by?.exit === 1 && inKeepOldWindow;
    // A kill -9 inside the cleanup a SIGINT started (scenario.ts drawAimedSignal `killAfter`) makes
    // the attempt a crash, but what its cleanup did before the kill is that SIGINT's scale-back all
    // the same: the calls it sent from the SIGINT on, and only those (chaos ab seeds 448, 785, 927,
    // 2218, 2244, 2511, 3199, 3278, 4709 were flagged for the documented scale-back). A kill -9 with
    // no SIGINT, a call before the SIGINT, or the re-run's calls stay unplanned.
    // As for a `sigint` attempt, not bounded by newHealthyAt: the tool commits to the swap only
    // once it has SEEN the new color serve, later than the monitor's newHealthyAt; a SIGINT in
    // between scales the healthy new color back, as documented (chaos ab seed 3199).
    const killedInSigintCleanup = by?.kind === 'crash' && by.sigintAt !== undefined && callTime !== undefined && callTime >= by.sigintAt;
    return by?.kind === 'sigint' || killedInSigintCleanup || (f.rollback && by?.exit === 1) || keepOldSwitchBack;
  };
  const lostSince = (call: { time: number } | undefined, readAt: number | undefined, time: number): number | undefined => {
    const from = Math.min(call?.time ?? Infinity, readAt ?? Infinity);
    return call && from < time ? lostSinceCall(sb, f.groups, from, time, w.setAside) : undefined;
  };
  const toolTerminations: ToolTermination[] = sb.monitor
    .terminations({ cause: ['api', 'scale-in'] })
    .filter((t) => t.call?.actor.startsWith('tool') && t.group !== undefined && f.groups.includes(t.group))
    .map((t) => {
      const isPlanned = planned(t.instanceId, t.time, t.group, t.call?.actor, t.call?.time);
      // A/B, before the new color serves: invariant 1 protects the active color's count. Scaling
      // the new color back (SIGINT, --rollback) does not touch the active color; if AWS has just
      // terminated active instances (spontaneously, or to finish an AZ rebalance) and nothing has
      // replaced them yet, the combined count can fall below the start count through no act of
      // the tool (seeds 3289307384, 2283647944, 3332502266). Judge it against the floor minus that
      // shortfall — the active color's deficit that AWS's own terminations explain (awsShortfall).
      const scaleBack = s.strategy === 'ab' && isPlanned && t.group === f.target && f.target !== f.active && t.time < newHealthyAt;
      return {
        instanceId: t.instanceId,
        group: t.group!,
        time: t.time,
        operation: t.call?.operation ?? t.cause,
        actor: t.call?.actor,
        wasHealthy: t.healthy,
        wasUpToDate: t.upToDate,
        planned: isPlanned,
        healthyAfter: valueAt(series, t.time),
        floor: s.strategy === 'ab' && t.time >= newHealthyAt ? Math.min(required, f.targetCount) : required,
        awsShortfall: scaleBack ? awsShortfall(sb, f.active, w.rolloutStart, t.time) : undefined,
        lostSinceCall: lostSince(t.call, premiseReadAt(sb, s, f, t.group, t.call), t.time),
        surplusPick:
          s.strategy === 'rolling' && t.cause === 'api' && t.call?.operation === 'TerminateInstanceInAutoScalingGroup' && w.decremented?.has(t.instanceId) && t.healthy && t.upToDate && !isPlanned
            ? surplusAt(sb, t.group!, t.time, s.size + (w.realWorld?.exitedAt !== undefined && w.realWorld.exitedAt <= t.time ? w.realWorld.exits : 0), t.launch, w.realWorld)
            : undefined,
      };
    });

  // Leftovers: everything the tool may have touched, except what the A/B plan changes on purpose.
  const leftovers: Leftover[] = [];
  for (const g of f.groups) {
    for (const l of sb.monitor.leftovers(g)) {
      if (s.strategy === 'ab' && (l.what === 'desired' || l.what === 'min' || l.what === 'max')) continue;
      leftovers.push({ group: g, what: l.what, detail: l.detail });
    }
  }

  // Invariant 3 on the interrupted path itself: exit 130 means "after cleanup", before any re-run.
  if (w.afterSigint) {
    // Once the new color served, A/B has committed the swap: the old color's drain is meant to go on.
    const committed = s.strategy === 'ab' && newHealthyAt <= w.afterSigint.time;
    for (const l of w.afterSigint.leftovers) {
      // ...and its swap record stays so that the re-run waits for that drain (checked again at the end).
      if (committed && (l.what === 'desired' || l.what === 'min' || l.what === 'max' || l.detail.startsWith('tag asg-deploy:ab:'))) continue;
      // Stand-ins kept for the old color's missing instances (standInKeptNow): the new color's sizes
      // and restore record, and the swap record, stay on purpose until the re-run (judged at the end).
      if (w.afterSigint.standInKept && ((l.group === f.target && (l.what === 'desired' || l.what === 'min' || l.what === 'max' || l.detail.startsWith(`tag ${RESTORE_TAG}:`))) || l.detail.startsWith(`tag ${SWAP_TAG}:`))) continue;
      if (s.strategy === 'ab' && l.what === 'max' && l.group === f.target) continue;
      leftovers.push({ ...l, detail: `after SIGINT (exit 130, before the re-run): ${l.detail}` });
    }
    if (w.afterSigint.lockHeld) leftovers.push({ group: ENV, what: 'lock', detail: 'after SIGINT (exit 130): the deploy lock was not released' });
  }

  // Final state.
  const live = (name: string) => world.groupInstances(world.state.groups[name]).filter((i) => world.isActive(i));
  const upToDate = (i: InstanceRec, name: string) => world.isUpToDate(i, world.state.groups[name]);
  const healthy = (i: InstanceRec) => world.isHealthy(i);
  let allUpToDateAndHealthy: boolean;
  let capacityAsConfigured: boolean;
  let detail: string;
  let oldHealthyServing: number;
  let healthyServing: number;
  if (s.strategy === 'rolling') {
    const g = world.state.groups[ROLLING];
    const insts = live(ROLLING);
    // "Done" is judged on the instances the tool is responsible for. After it resumed AZRebalance
    // (as it must), AWS may rebalance the zones its oldest-first terminations left uneven: a
    // rebalancing launch that started after the hand-back, verified from the group's scaling
    // activity, is AWS's documented behaviour, not the tool's doing (seeds 2036052814, 669796757,
    // 1866548397: "done but 1 not healthy", 1 live above desired). Nothing else is set apart.
    const aws = awsAfterHandBack(sb, ROLLING, insts, handBack);
    const ours = insts.filter((i) => !aws.includes(i));
    const stale = insts.filter((i) => !upToDate(i, ROLLING));
    const sick = ours.filter((i) => !healthy(i));
    allUpToDateAndHealthy = stale.length === 0 && (finalLoss || sick.length === 0);
    capacityAsConfigured = g.desired === s.size && (finalLoss || sizedAsConfigured(insts.length, s.size, aws.length));
    oldHealthyServing = stale.filter(healthy).length;
    healthyServing = insts.filter(healthy).length;
    detail = `${ROLLING}: desired ${g.desired} (configured ${s.size}), ${insts.length} live, ${stale.length} outdated, ${sick.length} not healthy${aws.length ? `; ${aws.length} launched by AZ rebalancing after the tool resumed it (${aws.map((i) => i.id).join(', ')})` : ''}`;
  } else {
    const tg = world.state.groups[f.target];
    const og = world.state.groups[f.active];
    // Someone's put-backs from Standby (issue 10 item 9): theirs, with the desired increment AWS made for each.
    const putBack = (name: string) => w.putBack?.get(name) ?? new Set<string>();
    const notPutBack = (name: string) => (i: InstanceRec) => !putBack(name).has(i.id);
    const newInsts = live(f.target).filter(notPutBack(f.target));
    const oldInsts = f.target === f.active ? [] : live(f.active).filter(notPutBack(f.active));
    const aws = awsAfterHandBack(sb, f.target, newInsts, handBack);
    const stale = newInsts.filter((i) => !upToDate(i, f.target));
    const sick = newInsts.filter((i) => !healthy(i) && !aws.includes(i));
    allUpToDateAndHealthy = stale.length === 0 && (finalLoss || sick.length === 0) && oldInsts.length === 0;
    capacityAsConfigured = tg.desired - putBack(f.target).size === f.targetCount && (f.target === f.active || og.desired - putBack(f.active).size === 0) && (finalLoss || sizedAsConfigured(newInsts.length, f.targetCount, aws.length));
    oldHealthyServing = oldInsts.filter(healthy).length;
    healthyServing = f.groups.reduce((n, g) => n + live(g).filter(healthy).length, 0);
    detail = `new ${f.target}: desired ${tg.desired} (want ${f.targetCount}), ${newInsts.length} live, ${sick.length} not healthy, ${stale.length} outdated; old ${f.active}: desired ${og.desired}, ${oldInsts.length} live${aws.length ? `; ${aws.length} launched by AZ rebalancing after the tool resumed it` : ''}`;
    if ((last?.exit === 1 || last?.exit === 3) && f.target !== f.active && newHealthyAt === Infinity) {
      // Halted before the new color was healthy, or refused: the old color keeps its sizes.
      const b = sb.world.state.monitor.baseline[f.active];
      if (b && (og.desired !== b.desired || og.min !== b.min)) leftovers.push({ group: f.active, what: 'desired', detail: `old color changed on ${last.exit === 1 ? 'halt' : 'refusal'}: desired ${b.desired} -> ${og.desired}, min ${b.min} -> ${og.min}` });
    }
    // Both colors' desired, min and max, judged in full against what the outcome allows.
    const sized = (name: string): SizedColor => {
      const b = world.state.monitor.baseline[name];
      const g = world.state.groups[name];
      return { name, before: { desired: b?.desired ?? 0, min: b?.min ?? 0, max: b?.max ?? 0 }, after: { desired: g.desired - putBack(name).size, min: g.min, max: g.max } };
    };
    const outcome = abOutcomeOf(attempts, { dryRun: s.dryRun, newColorServed: newHealthyAt !== Infinity });
    const firstDeploy = f.target === f.active;
    for (const l of abSizeLeftovers({
      outcome,
      count: f.targetCount,
      old: firstDeploy ? undefined : sized(f.active),
      target: sized(f.target),
      untouched: f.groups.filter((g) => g !== f.target && (firstDeploy || g !== f.active)).map(sized),
    })) {
      if (!leftovers.some((x) => x.group === l.group && x.what === l.what)) leftovers.push(l);
    }
    // A halt that kept a stand-in (ab.stand-in-kept) keeps the swap record and the new color's
    // restore tag on purpose (docs/commands/ab.md); the harness re-ran once. If the old color is
    // still short at the end (its missing instance never replaced: e.g. EC2 health checks and a
    // replacement that never passes its target group's check), that state is the documented one.
    const oldServing = oldInsts.filter(healthy).length;
    if (f.target !== f.active && standInHaltKept({ lastExit: last?.exit, lastMessage: last?.message, oldDesired: og.desired - putBack(f.active).size, oldServing, newBefore: world.state.monitor.baseline[f.target]?.desired ?? 0, newDesired: tg.desired - putBack(f.target).size })) {
      const kept = leftovers.filter((l) => l.what === 'tag' && ((l.detail.startsWith(`tag ${SWAP_TAG}:`) && f.groups.includes(l.group)) || (l.detail.startsWith(`tag ${RESTORE_TAG}:`) && l.group === f.target)));
      for (const l of kept) leftovers.splice(leftovers.indexOf(l), 1);
    }
  }

  return {
    strategy: s.strategy,
    expect: s.expect,
    dryRun: s.dryRun,
    attempts,
    requiredHealthy: floor,
    observedMinHealthy: observed.min,
    observedMinAt: observed.at,
    excusedAtEnd: judged.excusedAtEnd,
    healthyAtStart: w.healthyAtStart,
    toolTerminations,
    plannedTerminations: f.initialIds.size + rollbackTerms.size,
    mutatingCalls: sb.calls.filter((c) => c.mutating && c.actor.startsWith('tool')).length,
    leftovers,
    lockHeld: false,
    foreignLock: s.strategy === 'ab' && s.abCase === 'locked',
    ...(staleReadsInStorm(s, attempts, w.rolloutStart) ? { staleReadsExcused: true } : {}),
    final: { allUpToDateAndHealthy, capacityAsConfigured, oldHealthyServing, healthyServing, detail },
    hung: w.hung,
  };
}


// --- issue 16 item 4: roll --rollback (scenario.rollback) ---------------------------------------

/**
 * Launched from the fleet's original spec (version 1, or lc-1), from the termination record's own
 * launch (the instance record itself is gone an hour after it terminated [EC2-5]: seed 465364075,
 * a 16-hour rollback).
 */
function onOriginal(s: Scenario, l: LaunchRef): boolean {
  return s.launchConfiguration ? l.kind === 'lc' && l.name === `${ROLLING}-lc-1` : l.kind === 'lt' && l.version === 1;
}

/** The group points at the fleet's original launch spec again (set back by a rollback: v1 by number, or lc-1). */
function backOnOriginal(sb: Sandbox, s: Scenario): boolean {
  const g = sb.world.state.groups[ROLLING];
  return s.launchConfiguration ? g.launchConfigurationName === `${ROLLING}-lc-1` : groupVersion(g) === '1';
}

/** The version the group's launch template spec names: its own, or its mixed instances policy's (issue 15). */
function groupVersion(g: { launchTemplate?: { version: string }; mixedInstancesPolicy?: any }): string | undefined {
  return g.launchTemplate?.version ?? g.mixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification?.Version;
}

/**
 * `--rollback` on a rolling run: a run that failed (exit 1) must report what its rollback did, and
 * a rollback reported done must have left the group on the original spec with every live instance
 * the tool answers for on it, healthy (unless AWS's own losses), desired as configured (plus one
 * per instance someone put back from Standby, as judgeRealWorld); min-healthy
 * all along and nothing left changed are judged as for every run. A re-run after an interrupted or
 * killed rollback finishes it (the group's spec says so): exit 0 is then right even where the
 * forward rollout was expected to halt, and it must end on the original spec too. `putBack`:
 * instances someone put back from Standby (each ExitStandby raised desired by one).
 */
function judgeRollback(sb: Sandbox, s: Scenario, f: Fleet, facts: RunFacts, rw?: Pick<RealWorldActs, 'exits'>): void {
  if (s.strategy !== 'rolling' || !f.rollback || s.dryRun) return;
  const last = facts.attempts[facts.attempts.length - 1];
  // The operator's re-run without --rollback (after rollback-several-versions) is judged as any run
  // without it: its failure has no rollback to report (chaos seed 2380164686 of session 14).
  if (!last || last.withoutRollback) return;
  const back = backOnOriginal(sb, s);
  const interrupted = facts.attempts.length > 1;
  if (interrupted && back && (facts.expect === 'halt' || facts.expect === 'done')) facts.expect = 'done-or-halt';
  if (last.exit === 1 && !last.rollback) {
    facts.rollbackProblem = `run failed (${last.code}) with --rollback but reported no rollback`;
    return;
  }
  const rolledBack = last.rollback === 'done' || (last.exit === 0 && back);
  if (!rolledBack) return;
  const g = sb.world.state.groups[ROLLING];
  const live = sb.world.groupInstances(g).filter((i) => sb.world.isActive(i));
  const aws = awsAfterHandBack(sb, ROLLING, live, lastToolCall(sb, 'ResumeProcesses'));
  const ours = live.filter((i) => !aws.includes(i));
  const onNew = live.filter((i) => i.imageId !== OLD_IMAGE);
  const sick = ours.filter((i) => !sb.world.isHealthy(i));
  const loss = hasExogenousLoss(s);
  // Someone's ExitStandby raised desired by one each (AWS's documented behaviour); the tool follows
  // that capacity, as judgeRealWorld judges it (chaos seed 1232876377: put back during the re-run
  // that finished an interrupted rollback, desired 12 of 11 was right).
  const exits = rw?.exits ?? 0;
  const size = s.size + exits;
  const problems = [
    !back ? `the group is not on the original ${s.launchConfiguration ? 'launch configuration' : 'version'} (${g.launchConfigurationName ?? groupVersion(g)})` : '',
    onNew.length ? `${onNew.length} live instance(s) still run the new version: ${onNew.map((i) => i.id).join(', ')}` : '',
    !loss && sick.length ? `${sick.length} not healthy: ${sick.map((i) => i.id).join(', ')}` : '',
    g.desired !== size ? `desired ${g.desired}, configured ${s.size}${exits ? ` + ${exits} put back from Standby by someone else` : ''}` : '',
  ].filter(Boolean);
  if (problems.length) facts.rollbackProblem = `rolled back (${last.rollback ?? 'finished by the re-run'}) but ${problems.join('; ')}`;
}

/**
 * Calls `fn` right after `actor`'s n-th call (from now on) that `match` accepts has taken effect
 * (Sandbox.onCall, chained n times: a call that fails does not count).
 */
function afterNthCall(sb: Sandbox, actor: string, n: number, match: (operation: string, input: any, mutating: boolean) => boolean, fn: () => void): void {
  sb.onCall(actor, match, n <= 1 ? fn : () => afterNthCall(sb, actor, n - 1, match, fn));
}

/**
 * A call that asks AWS to launch: a raise of a group's desired capacity (SetDesiredCapacity, or
 * UpdateAutoScalingGroup with a higher DesiredCapacity, judged on the world before it), or a
 * terminate without decrement (AWS launches the replacement).
 */
function asksLaunch(sb: Sandbox, operation: string, input: any): boolean {
  if (operation === 'TerminateInstanceInAutoScalingGroup') return input?.ShouldDecrementDesiredCapacity === false;
  if (operation !== 'SetDesiredCapacity' && operation !== 'UpdateAutoScalingGroup') return false;
  const g = sb.world.state.groups[input?.AutoScalingGroupName];
  return g !== undefined && typeof input.DesiredCapacity === 'number' && input.DesiredCapacity > g.desired;
}

/**
 * Every `stale-reads` halt of the run came while a drawn throttling storm could explain it: the
 * storm's window overlaps the ten minutes before the halt (the streak of stale looks it ends spans
 * the transient budget, 5 min, before it). A storm elsewhere in the run excuses nothing.
 */
export function staleReadsInStorm(s: Scenario, attempts: readonly Attempt[], rolloutStart: number): boolean {
  const storm = s.faults.throttleStorm;
  const halts = attempts.filter((a) => a.code === 'stale-reads');
  if (!storm || halts.length === 0) return false;
  const from = rolloutStart + storm.afterSeconds * 1000;
  const to = from + storm.seconds * 1000;
  return halts.every((a) => a.haltReportedAt !== undefined && from <= a.haltReportedAt && to >= a.haltReportedAt - 10 * 60_000);
}

/**
 * A/B's drain of the old color rests on the new color serving its count, as last read: when the
 * tool last read the new color before the drain call (the sandbox's call log), if that read was
 * fresh by the engine's rule (at most STALE_DECISION_MS old when the drain was sent, plus the
 * latency of the two calls: 1 s). Capacity the new color lost after that read — someone's
 * EnterStandby, AWS's own termination, an application failing — the tool could not see (chaos ab
 * seed 2206767010: EnterStandby 1 s after the read, 1.2 s before the drain): lostSinceCall counts it
 * from there. A drain decided on an older read gets no such window (the engine must not send one).
 */
export function premiseReadAt(sb: Sandbox, s: Scenario, f: Fleet, group: string | undefined, call: { time: number; operation?: string } | undefined): number | undefined {
  if (s.strategy !== 'ab' || !call || group !== f.active || f.target === f.active || call.operation !== 'UpdateAutoScalingGroup') return undefined;
  let at: number | undefined;
  for (const c of sb.calls) {
    if (c.time > call.time) break;
    if (c.actor.startsWith('tool') && c.operation === 'DescribeAutoScalingGroups' && !c.error && c.groups?.includes(f.target)) at = c.time;
  }
  return at !== undefined && call.time - at <= STALE_DECISION_MS + 1000 ? at : undefined;
}

/**
 * Right after an A/B attempt's exit: did it keep stand-ins of the new color for the old color's
 * missing instances, saying "re-run" (standInHaltKept, on the world as it is now)? An interrupt
 * does so like a halt (exit 130: chaos seed 1277985329, someone's Standby in the old color).
 */
function standInKeptNow(sb: Sandbox, f: Fleet, exit: number | undefined, message: string | undefined): boolean {
  const world = sb.world;
  const og = world.state.groups[f.active];
  const tg = world.state.groups[f.target];
  if (!og || !tg) return false;
  const oldServing = world.groupInstances(og).filter((i) => world.isActive(i) && world.isHealthy(i)).length;
  // The interrupt's exit 130 says what a halt's exit 1 says (its message: stand-ins kept, re-run).
  if (exit !== 130 && exit !== 1) return false;
  return standInHaltKept({ lastExit: 1, lastMessage: message, oldDesired: og.desired, oldServing, newBefore: world.state.monitor.baseline[f.target]?.desired ?? 0, newDesired: tg.desired });
}
