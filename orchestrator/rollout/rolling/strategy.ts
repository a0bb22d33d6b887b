/**
 * Rolling, oldest first (the seed `asg_rolling_upgrade`, done as its authors wished): pure
 * predicates, a pure planner and a pure `decideRolling` — snapshot in, Action out.
 *
 * Terms (AWS's words):
 *  - capacity C: the group's desired capacity before the rollout (from the guard's restore tag on
 *    a re-run after a crash, so a surge left behind is not mistaken for the target).
 *  - outdated: launched from another launch template, another template version (numbers; the
 *    adapter resolved `$Latest`/`$Default`), or another launch configuration.
 *  - live: not Terminating/Terminated/Detaching/Detached (an instance we terminated stops counting
 *    at once — its connection draining need not finish before the next step).
 *  - healthy: ASG InService + Healthy, InService in every attached classic ELB, and the gates.
 *
 * Modes, with step size k = min(batch, outdated left):
 *  - surge ≥ 1 (3-4-3): batch defaults to the surge and the group grows by k: desired C → C+k,
 *    wait until every up-to-date instance is healthy, terminate the k oldest outdated WITH
 *    decrement (C+k → C). Healthy never drops below C.
 *    Example C=3, surge 1: 3 → 4 (new n1 healthy) → terminate o1 → 3 → 4 (n2) → terminate o2 → …
 *  - surge 0 (3-2-3): terminate k oldest outdated WITHOUT decrement, wait for the ASG's
 *    replacements to be healthy. Healthy drops to C−k: refused (exit 3, nothing changed) when that
 *    is below `minHealthy`. Example C=3, minHealthy 2: 3 → 2 (o1 terminated) → 3 (n1 healthy) → …
 *
 * Order: unhealthy outdated first (replacing them costs no healthy capacity), then the oldest
 * EC2 LaunchTime, ties by instance id.
 *
 * Standby instances are never counted as serving, and not counted against desired either: AWS
 * does not count Standby instances in the desired capacity (EnterStandby without decrement
 * launches a replacement; ExitStandby increments desired). What happens to an OUTDATED one is the
 * `--standby` policy (Instance Refresh's `StandbyInstances`, see {@link StandbyPolicy}); outdated
 * instances protected from scale-in follow `--protected` (`ScaleInProtectedInstances`, see
 * {@link ProtectedPolicy}). What a policy skips is listed in the plan and the summary.
 *
 * Step timeout: a step with no healthy replacement within `stepTimeoutMs` fails, whatever the
 * reason — a new instance not healthy (measured from when the tool first saw it), or instances that
 * never launch (bad AMI, no capacity: measured from when the tool started waiting, naming the last
 * failed scaling activity's StatusMessage). Both on the tool's own clock, never EC2's LaunchTime.
 */
import type { GroupSnapshot, InstanceView, LaunchSpec } from '../../aws/port';
import { abort, done, wait, type Action } from '../action';
import { awsVerdict, type Verdict } from '../health';
import { decideLifecycleEnd, decideWarmPool, lifecycleDoneNote, type LifecycleFacts } from './lifecycle';

/** How often to look at an instance someone put back from Standby while it comes back into service, ms. */
export const RETURNING_POLL_MS = 5_000;

/** Processes suspended during the rollout so AWS cannot take or add a node behind our back. */
export const ROLLOUT_PROCESSES = ['AZRebalance', 'AlarmNotification', 'ScheduledActions'];

/**
 * `--standby`: what happens to an outdated instance in Standby (Instance Refresh's
 * `StandbyInstances`, same values):
 *  - `ignore` (default): an operator set it aside; never terminated, not waited for, listed as
 *    skipped in the plan and the summary (it stays outdated until someone puts it back and re-runs);
 *  - `terminate`: terminated (it serves nothing, so no healthy capacity is lost) and not replaced —
 *    the group's desired capacity never counted it;
 *  - `wait`: the rest is replaced, then the rollout waits (within the step timeout) for it to be
 *    put back in service (ExitStandby), and replaces it then; still in Standby → the rollout fails.
 */
export type StandbyPolicy = 'ignore' | 'terminate' | 'wait';
export const STANDBY_POLICIES: readonly StandbyPolicy[] = ['ignore', 'terminate', 'wait'];

/**
 * `--protected`: what happens to an outdated instance protected from scale-in (Instance Refresh's
 * `ScaleInProtectedInstances`, its `Refresh` called `replace` here):
 *  - `ignore` (default): someone protected it (a job running on it, say); never terminated, listed as
 *    skipped in the plan and the summary;
 *  - `replace`: replaced like any outdated instance (scale-in protection does not stop
 *    TerminateInstanceInAutoScalingGroup);
 *  - `wait`: the rest is replaced, then the rollout waits (within the step timeout) for the
 *    protection to be removed, and replaces it then; still protected → the rollout fails.
 */
export type ProtectedPolicy = 'ignore' | 'replace' | 'wait';
export const PROTECTED_POLICIES: readonly ProtectedPolicy[] = ['ignore', 'replace', 'wait'];

export interface RollingConfig {
  /** `--standby` (default ignore). */
  standby?: StandbyPolicy;
  /** `--protected` (default ignore). */
  protected?: ProtectedPolicy;
  /** Target desired capacity (C). */
  capacity: number;
  /** Extra instances launched per step (0 = terminate first). */
  surge: number;
  /** Instances replaced per step (resolved from N or P%). */
  batch: number;
  minHealthy: number;
  /** A new instance not healthy this long after it was first seen fails the rollout, ms. */
  stepTimeoutMs: number;
  /** The ASG replacing up-to-date instances this many times fails the rollout. */
  maxReplacements: number;
  processes: string[];
}

/** Why an instance is not (yet) healthy: the health signals' verdict (rollout/health/). */
export type { Verdict };

/** What the strategy remembers between observations (kept by roll.ts, updated impurely there). */
export interface RollingMemory {
  /** First observation of each instance id (clock ms). */
  firstSeen: Record<string, number>;
  /** Instances this run terminated. */
  terminated: string[];
  /** Up-to-date instances that went away without us (the ASG replaced them). */
  lost: Array<{ instanceId: string; gate?: string; state?: string }>;
  /** Earliest useful re-observation, ms from now (from polling.ts), if known. */
  waitHintMs?: number;
  /**
   * Since when (the tool's clock) the group has been waiting for a healthy replacement: fewer live
   * instances than desired, or an up-to-date one not healthy yet. Undefined when not waiting.
   */
  waitingSince?: number;
  /** The last failed scaling activity's StatusMessage (asked once the wait passed the step timeout). */
  lastLaunchFailure?: string;
  /**
   * When (the tool's clock) the cleanup after a failure or interrupt first looked at the group: its
   * wait for the group to settle ({@link cleanupRolling}) is bounded by the step timeout from here.
   */
  cleanupSince?: number;
  /**
   * Since when (the tool's clock) the rollout has been waiting only for outdated instances a
   * `wait` policy holds back (in Standby, protected from scale-in). Undefined when not.
   */
  heldSince?: number;
  /**
   * Since when (the tool's clock) nothing replaceable has been left and more instances have been
   * live than desired (AWS's Capacity Rebalancing pairs counted once): the finished rollout's wait
   * for the group to settle, bounded by the step timeout. Undefined when not.
   */
  settleSince?: number;
  /**
   * Instances someone put back from Standby during the run, and when the tool noticed (its clock):
   * the group is settled only once they serve again, waited for at most the step timeout.
   */
  backFromStandby?: Record<string, number>;
}

export interface RollingView {
  group: GroupSnapshot;
  config: RollingConfig;
  verdict(i: InstanceView): Verdict;
  memory: RollingMemory;
  now: number;
  /** Which instances existed at the start and were planned (absent: every outdated one planned, none present before). */
  facts?: RunFacts;
  /**
   * The group's launch spec changed during the rollout (a new template version published, say):
   * what it changed to, e.g. "version 3". The rollout halts cleanly (exit 3) and restores; a
   * re-run rolls to the new spec.
   */
  launchChanged?: string;
  /** Lifecycle hooks and the warm pool (rolling/lifecycle.ts); undefined when the group has neither. */
  lifecycle?: LifecycleFacts;
  /**
   * Processes the tool suspended on the group, as its guard recorded them (this run's, or a crashed
   * run's found in the restore tag): those beyond `config.processes` are held for one step only
   * ({@link releaseHeld}).
   */
  toolSuspended?: readonly string[];
}

/** What the run knows about where instances came from (kept by roll.ts from its first observation). */
export interface RunFacts {
  /** Outdated and live at the start: the plan. */
  planned: ReadonlySet<string>;
  /** Present at the start. */
  initial: ReadonlySet<string>;
  /** The run found an earlier run's restore tag: that run crashed mid-rollout, its surge is ours. */
  recovered: boolean;
  /**
   * Capacity Rebalancing's launches seen during the run (AWS's own, from its scaling activities:
   * {@link AwsPort.rebalanceLaunches}), each with the at-risk Spot instance it replaces when AWS
   * names it. Never the tool's surge: see {@link rebalancePairs}.
   */
  awsLaunched?: ReadonlyMap<string, string | undefined>;
}

/** Entering or in Standby: set aside by someone (the policy: ignore it, see the file comment). */
export function isStandby(i: InstanceView): boolean {
  return i.lifecycleState === 'Standby' || i.lifecycleState === 'EnteringStandby';
}

/**
 * Launched by this run, or by the crashed run it recovers (no facts: everything new is ours).
 * A recovered run never counts an instance in Standby or protected from scale-in as the crashed
 * run's: those were set aside by someone, and the tool launches neither.
 */
export function isOurs(i: InstanceView, facts: RunFacts | undefined): boolean {
  // AWS's Capacity Rebalancing launched it, not the tool (nor a crashed run of it).
  if (facts?.awsLaunched?.has(i.instanceId)) return false;
  if (!facts || !facts.initial.has(i.instanceId)) return true;
  return facts.recovered && !isStandby(i) && !i.protectedFromScaleIn;
}

/**
 * Launched by this run or by the crashed run it recovers, and outdated only because the launch
 * template changed mid-run (launchChanged): not in the plan, yet the tool's own surge. This run's
 * launches are those not present at the start; a crashed run's are those up to date at the start
 * (not planned) that {@link isOurs} counts as its. Without the latter, a re-run after a kill -9
 * whose launch template then changed could not take back the crashed run's failed surge: it was
 * neither up to date nor in the plan any more, so it stayed, and desired with it (chaos seed
 * 1482414799: desired left at 45 for capacity 41, four never-healthy instances of version 2).
 * Example: recovered run, target v2, n1 (v2, launched by the crashed run) never healthy, template
 * moves to v3 → n1 is outdated, not planned, ours → its own launch.
 */
function ownOutdatedLaunch(i: InstanceView, facts: RunFacts | undefined): boolean {
  if (facts === undefined) return false;
  if (!facts.initial.has(i.instanceId)) return true;
  return facts.recovered && !facts.planned.has(i.instanceId) && isOurs(i, facts);
}

/**
 * Capacity Rebalancing in flight [sandbox SPOT-2]: AWS launched a replacement for an at-risk Spot
 * instance ON TOP of the desired capacity and terminates the at-risk one itself once the
 * replacement passed its health checks; until then the pair counts ONCE toward desired. So the
 * tool takes neither with decrement: lowering desired by one while AWS's count stays makes AWS
 * scale in another, healthy, instance (chaos seeds 2423331021, 401819533, 2047448330, 3950863662,
 * 3553396595, 627838227: the cleanup took AWS's replacement, or the at-risk instance, as surge).
 * A pair is in flight while both are live (not terminated by the tool either). When AWS's
 * activity does not name the at-risk instance, its replacement is taken as in flight while the
 * group holds more live instances than desired (AWS counts it apart only then); the at-risk one
 * is then unknown.
 * Example: desired 21, live 22: o7 (Spot, at risk), r1 (launched "in response to an EC2 instance
 * rebalance recommendation for o7") → replacements {r1}, atRisk {o7}; AWS counts 21.
 */
export function rebalancePairs(group: GroupSnapshot, facts: RunFacts | undefined, terminated: ReadonlySet<string> = new Set()): { replacements: Set<string>; atRisk: Set<string> } {
  const replacements = new Set<string>();
  const atRisk = new Set<string>();
  if (!facts?.awsLaunched || facts.awsLaunched.size === 0) return { replacements, atRisk };
  const live = new Map(group.instances.filter((i) => isLive(i) && !isStandby(i) && !terminated.has(i.instanceId)).map((i) => [i.instanceId, i]));
  for (const [id, risk] of facts.awsLaunched) {
    if (!live.has(id)) continue;
    if (risk !== undefined) {
      if (!live.has(risk)) continue;
      replacements.add(id);
      atRisk.add(risk);
    } else if (live.size > group.desired) {
      replacements.add(id);
    }
  }
  return { replacements, atRisk };
}

/**
 * Healthy instances AWS is about to take itself: at-risk instances of a pair in flight whose
 * replacement is healthy too (AWS terminates the at-risk one once its replacement passed its
 * health checks). The healthy count a pick may spend is that much smaller.
 * Example: o7 and its replacement r1 both healthy → 1 (o7 goes without the tool).
 */
export function pairedHealthy(pairs: { replacements: Set<string>; atRisk: Set<string> }, view: Pick<RollingView, 'group' | 'facts' | 'verdict'>): number {
  let n = 0;
  for (const [id, risk] of view.facts?.awsLaunched ?? []) {
    if (risk === undefined || !pairs.replacements.has(id) || !pairs.atRisk.has(risk)) continue;
    const r = view.group.instances.find((i) => i.instanceId === id);
    const a = view.group.instances.find((i) => i.instanceId === risk);
    if (r && a && view.verdict(r).healthy && view.verdict(a).healthy) n++;
  }
  return n;
}

/**
 * THE rule of what the tool may terminate (docs/design.md invariant 2). The engine refuses anything
 * else, and every decide/cleanup here picks only among these, so the two cannot diverge:
 *  - an instance of the plan (outdated at the start);
 *  - an up-to-date instance that is NOT healthy (it serves nothing), to take back capacity the
 *    rollout added: this run's own launches, a crashed run's (recovered), or one that was there
 *    before (e.g. an earlier, fully restored run's replacement that failed after passing) — the
 *    latter only when InService and not protected from scale-in (never an instance an operator
 *    set aside: Standby, lifecycle-hook waits, scale-in protection);
 *  - an outdated instance NOT healthy that the launch template's change mid-run made outdated:
 *    this run's own launch or the crashed run's it recovers ({@link ownOutdatedLaunch}).
 * Never a healthy up-to-date instance — but for one case, judged on the whole group rather than
 * the instance: a SURPLUS one at back to capacity, once nothing outdated is left
 * ({@link surplusAtCapacity}; the runner's guard accepts either). How many goes is for
 * decide/cleanup (never more than the surplus).
 */
export function mayTerminate(i: InstanceView, group: GroupSnapshot, verdict: Verdict, facts: RunFacts | undefined, policies: Policies = {}): boolean {
  // Standby: set aside by an operator, never the tool's (even an outdated one of the plan) —
  // unless `--standby terminate` says so for an outdated one in Standby (it serves nothing).
  // Protected from scale-in as well: `--protected` has the last word (replace, or never).
  if (isStandby(i)) {
    const protectedSays = !i.protectedFromScaleIn || policies.protected === 'replace';
    return policies.standby === 'terminate' && protectedSays && i.lifecycleState === 'Standby' && isOutdated(i, group) && (facts ? facts.planned.has(i.instanceId) : true);
  }
  // Protected from scale-in and outdated: only with `--protected replace`.
  // (Not this run's own launches: an instance it launched is its own, protected or not.)
  if (i.protectedFromScaleIn && isOutdated(i, group) && (!facts || facts.initial.has(i.instanceId)) && (policies.protected ?? 'ignore') !== 'replace') return false;
  if (facts ? facts.planned.has(i.instanceId) : isOutdated(i, group)) return true;
  if (verdict.healthy) return false;
  // Outdated but launched by this run (or the crashed run it recovers): the launch spec changed
  // mid-run (launchChanged); it serves nothing.
  if (isOutdated(i, group)) return ownOutdatedLaunch(i, facts);
  if (isOurs(i, facts)) return true;
  return i.lifecycleState === 'InService' && !i.protectedFromScaleIn;
}

/**
 * Back to capacity (issue 10, refining invariant 2): the one case where the tool may terminate a
 * HEALTHY up-to-date instance — a surplus one, with decrement, once the rollout has nothing left
 * to replace. All of:
 *  - no outdated instance the rollout replaces is left live (none could go in its place);
 *  - the group has more live instances (not in Standby, not terminated by the tool) than the
 *    rollout's capacity C, and desired is above C: the instance is surplus;
 *  - it is up to date, InService, not in Standby, and not protected from scale-in unless this run
 *    launched it (someone else's protection is theirs).
 * The decide picks at most desired − C of them (so at least C stay live, every one healthy) and
 * which: see {@link surplusOrder}. Example: C=15, a spontaneous termination took an outdated
 * instance and AWS replaced it from the new version; nothing outdated left, 16 live healthy,
 * desired 16 → the tool terminates one surplus new instance with decrement (chaos seed 952308284:
 * lowering desired had let AWS's termination policy take a healthy up-to-date one instead).
 */
export function surplusAtCapacity(i: InstanceView, view: Pick<RollingView, 'group' | 'config' | 'memory' | 'facts'>): boolean {
  const { group, config, facts } = view;
  if (!isLive(i) || isStandby(i) || isOutdated(i, group) || i.lifecycleState !== 'InService') return false;
  if (i.protectedFromScaleIn && (!facts || facts.initial.has(i.instanceId))) return false;
  const terminated = new Set(view.memory.terminated);
  if (terminated.has(i.instanceId)) return false;
  const live = group.instances.filter((x) => isLive(x) && !isStandby(x) && !terminated.has(x.instanceId));
  if (live.some((x) => isOutdated(x, group) && replaceable(x, config))) return false;
  return live.length > config.capacity && group.desired > config.capacity;
}

/**
 * Which surplus instances go at back to capacity, `n` at most: one at a time from the zone with the
 * most live instances (so the group ends balanced and AWS's AZRebalance has nothing to move),
 * ties to this run's own launches, then the newest, then the highest id.
 * Example: zones a: n1 n2 n3, b: n4 n5 (n3 newest) with 1 surplus → n3 (a has the most).
 */
export function surplusOrder(candidates: InstanceView[], live: InstanceView[], zones: string[], n: number, facts?: RunFacts): InstanceView[] {
  const total = new Map<string, number>(zones.map((z) => [z, 0]));
  for (const i of live) total.set(i.availabilityZone, (total.get(i.availabilityZone) ?? 0) + 1);
  const ours = (i: InstanceView) => (facts !== undefined && !facts.initial.has(i.instanceId) ? 1 : 0);
  const left = [...candidates];
  const picked: InstanceView[] = [];
  while (picked.length < n && left.length > 0) {
    left.sort(
      (a, b) =>
        (total.get(b.availabilityZone) ?? 0) - (total.get(a.availabilityZone) ?? 0) ||
        ours(b) - ours(a) ||
        (b.launchTime ?? 0) - (a.launchTime ?? 0) ||
        (a.instanceId < b.instanceId ? 1 : -1),
    );
    const best = left.shift()!;
    picked.push(best);
    total.set(best.availabilityZone, (total.get(best.availabilityZone) ?? 1) - 1);
  }
  return picked;
}

/** "healthy, up to date, in us-east-1a (3 live there)": why a surplus instance was the one picked. */
function describeSurplus(picked: InstanceView[], live: InstanceView[]): string {
  const zones = [...new Set(picked.map((i) => i.availabilityZone))];
  return `healthy and up to date, in the zone${zones.length > 1 ? 's' : ''} with the most live instances: ${zones.map((z) => `${z} ${live.filter((i) => i.availabilityZone === z).length}`).join(', ')}`;
}

/** The two policies of {@link RollingConfig}. */
export type Policies = Pick<RollingConfig, 'standby' | 'protected'>;

/** An outdated live instance the rollout replaces now (not held back or skipped by a policy). */
function replaceable(i: InstanceView, config: Policies): boolean {
  return !i.protectedFromScaleIn || config.protected === 'replace';
}

/** Why a policy leaves this outdated instance alone or holds it back, if it does (undefined: it is replaced). */
export function policyOf(i: InstanceView, group: GroupSnapshot, config: Policies): { policy: 'skip' | 'wait' | 'terminate'; why: string } | undefined {
  if (!isOutdated(i, group)) return undefined;
  if (isStandby(i)) {
    const p = config.standby ?? 'ignore';
    if (p === 'terminate' && i.protectedFromScaleIn && config.protected !== 'replace') {
      // Both: protection has the last word (never terminate what someone protected).
      const pp = config.protected ?? 'ignore';
      return { policy: pp === 'wait' ? 'wait' : 'skip', why: `in Standby, --standby terminate, but protected from scale-in, --protected ${pp}` };
    }
    if (p === 'terminate') return { policy: 'terminate', why: 'in Standby, --standby terminate' };
    return { policy: p === 'wait' ? 'wait' : 'skip', why: `in Standby, --standby ${p}` };
  }
  if (!isLive(i) || replaceable(i, config)) return undefined;
  const p = config.protected ?? 'ignore';
  return { policy: p === 'wait' ? 'wait' : 'skip', why: `protected from scale-in, --protected ${p}` };
}

/**
 * The outdated instances a policy leaves behind (`skip`) or waits for (`wait`), e.g.
 * [{ instanceId: 'i-o1', why: 'in Standby, --standby ignore' }]: what the plan and the summary list.
 */
export function heldBack(group: GroupSnapshot, config: Policies, policy: 'skip' | 'wait'): Array<{ instanceId: string; why: string }> {
  const out: Array<{ instanceId: string; why: string }> = [];
  for (const i of group.instances) {
    const p = policyOf(i, group, config);
    if (p?.policy === policy) out.push({ instanceId: i.instanceId, why: p.why });
  }
  return out;
}

/** "i-o1 (in Standby, --standby ignore), i-o2 (protected from scale-in, --protected ignore)". */
export function describeHeld(list: Array<{ instanceId: string; why: string }>): string {
  return list.map((x) => `${x.instanceId} (${x.why})`).join(', ');
}

/** Up-to-date, not healthy and terminable, in the order surplus is taken back: ours first, then newest first. */
function removableNew(view: RollingView, live: InstanceView[]): InstanceView[] {
  const { group, facts } = view;
  // Never a member of a Capacity Rebalancing pair in flight: AWS counts the pair once (rebalancePairs).
  const pairs = rebalancePairs(group, facts, new Set(view.memory.terminated));
  return live
    .filter((i) => !pairs.replacements.has(i.instanceId) && !pairs.atRisk.has(i.instanceId))
    .filter((i) => (!isOutdated(i, group) || ownOutdatedLaunch(i, facts)) && !view.verdict(i).healthy && mayTerminate(i, group, view.verdict(i), facts, view.config))
    .sort(
      (a, b) =>
        Number(isOurs(b, facts)) - Number(isOurs(a, facts)) ||
        (b.launchTime ?? Number.MAX_SAFE_INTEGER) - (a.launchTime ?? Number.MAX_SAFE_INTEGER) ||
        (a.instanceId < b.instanceId ? 1 : -1),
    );
}

const GONE = new Set(['Terminating', 'Terminating:Wait', 'Terminating:Proceed', 'Terminated', 'Detaching', 'Detached']);

export function isLive(i: InstanceView): boolean {
  return !GONE.has(i.lifecycleState) && i.ec2State !== 'terminated' && i.ec2State !== 'shutting-down';
}

/**
 * Still taking traffic: InService in an attached classic ELB (during connection draining the ELB
 * reports "InService: Instance deregistration currently in progress"), or `healthy` or `draining`
 * in an attached target group (draining lasts the deregistration delay); without either, ASG InService.
 */
export function inService(i: InstanceView, elbNames: string[], targetGroupArns: string[] = []): boolean {
  if (elbNames.length === 0 && targetGroupArns.length === 0) return i.lifecycleState === 'InService';
  return elbNames.some((n) => i.elb[n]?.state === 'InService') || targetGroupArns.some((a) => SERVING_TARGET.has(i.targetHealth?.[a]?.state ?? ''));
}

/** Target states in which a target group still routes requests to the target (draining: in-flight ones). */
const SERVING_TARGET = new Set(['healthy', 'draining', 'unhealthy.draining']);

/** Same launch spec? Launch templates compare by id and resolved version number. */
export function sameLaunch(a: LaunchSpec, b: LaunchSpec): boolean {
  if (a.launchConfigurationName || b.launchConfigurationName) return a.launchConfigurationName === b.launchConfigurationName;
  if (!a.launchTemplate || !b.launchTemplate) return false;
  const idMatch =
    a.launchTemplate.id === b.launchTemplate.id ||
    (a.launchTemplate.name !== undefined && (a.launchTemplate.name === b.launchTemplate.name || a.launchTemplate.name === b.launchTemplate.id)) ||
    (b.launchTemplate.name !== undefined && b.launchTemplate.name === a.launchTemplate.id);
  return idMatch && a.launchTemplate.version === b.launchTemplate.version;
}

export function isOutdated(i: InstanceView, group: GroupSnapshot): boolean {
  return !sameLaunch(i.launchedFrom, group.launch);
}

/** The AWS signals' verdict (rollout/health/): ASG InService + Healthy, InService in every attached classic ELB (gates are added by the runner). */
export function baseVerdict(i: InstanceView, elbNames: string[], targetGroupArns: string[] = []): Verdict {
  return awsVerdict(i, elbNames, targetGroupArns);
}

/**
 * Outdated live instances in replacement order: unhealthy first, then oldest EC2 LaunchTime
 * (unknown launch time sorts last), ties by id.
 * Example: [b healthy 10:00, a healthy 10:00, c unhealthy 12:00, d healthy 09:00] → c, d, a, b.
 */
export function oldestFirst(instances: InstanceView[], healthy: (i: InstanceView) => boolean): InstanceView[] {
  return [...instances].sort((x, y) => {
    const hx = healthy(x) ? 1 : 0;
    const hy = healthy(y) ? 1 : 0;
    if (hx !== hy) return hx - hy;
    const tx = x.launchTime ?? Number.MAX_SAFE_INTEGER;
    const ty = y.launchTime ?? Number.MAX_SAFE_INTEGER;
    if (tx !== ty) return tx - ty;
    return x.instanceId < y.instanceId ? -1 : x.instanceId > y.instanceId ? 1 : 0;
  });
}

/**
 * End balanced: which outdated instances a step terminates, so that the group ends with no
 * Availability Zone more than one instance above another (where its zones allow it) and AWS's
 * AZRebalance, resumed after the rollout, has nothing to move — no node replaced right after a
 * successful roll.
 *
 * Why this rule: the ASG launches each replacement into the zone with the fewest live instances
 * [sandbox TERM/launch rules, AWS "instance distribution"], and the group ends with only the new
 * instances. Oldest first stays the rule (unhealthy first, then the oldest LaunchTime); AMONG THE
 * OLDEST — instances with the same LaunchTime, as a group's instances launched together have —
 * a step terminates, one pick at a time, the one whose zone will hold the fewest up-to-date
 * instances (counting those the picks already made room for: each pick's replacement lands
 * there), ties to the zone holding the most live instances (the surplus the step's surge made),
 * then the replacement order. A pick must fit `budget` (healthy instances above --min-healthy;
 * an unhealthy one costs 0).
 *
 * Example (surge 1, zones a, b, c, o1 o2 o3 launched together, the surge n1 launched into a):
 *   live a: o1 n1; b: o2; c: o3 — new a 1, b 0, c 0 → o2 goes (fewest new; b before c by id),
 *   not o1; the next surge lands in b (now the emptiest); then o3; then o1 → ends a 1, b 1, c 1.
 *   Taking o1 first would leave a, b, c tied at 1 with a new one already in a: a second new one
 *   in a is then as likely as not. An o0 launched earlier than the rest would still go first.
 */
export function balancedOrder(
  candidates: InstanceView[],
  live: InstanceView[],
  isNew: (i: InstanceView) => boolean,
  zones: string[],
  n: number,
  options: { costOf?: (i: InstanceView) => number; budget?: number } = {},
): InstanceView[] {
  const total = new Map<string, number>(zones.map((z) => [z, 0]));
  const fresh = new Map<string, number>(zones.map((z) => [z, 0]));
  for (const i of live) {
    total.set(i.availabilityZone, (total.get(i.availabilityZone) ?? 0) + 1);
    if (isNew(i)) fresh.set(i.availabilityZone, (fresh.get(i.availabilityZone) ?? 0) + 1);
  }
  const costOf = options.costOf ?? (() => 0);
  let budget = options.budget ?? Infinity;
  const left = candidates.map((i) => ({ i, cost: costOf(i) }));
  const picked: InstanceView[] = [];
  while (picked.length < n) {
    // The best by (unhealthy first, oldest LaunchTime, fewest new in its zone, most live in its zone, order).
    let bestAt = -1;
    let bc = 0;
    let bl = 0;
    let bf = 0;
    let bt = 0;
    for (let at = 0; at < left.length; at++) {
      const { i, cost } = left[at];
      if (cost > budget) continue;
      const c = cost > 0 ? 1 : 0;
      const l = i.launchTime ?? Number.MAX_SAFE_INTEGER;
      const f = fresh.get(i.availabilityZone) ?? 0;
      const t = total.get(i.availabilityZone) ?? 0;
      if (bestAt < 0 || c < bc || (c === bc && (l < bl || (l === bl && (f < bf || (f === bf && t > bt)))))) {
        bestAt = at;
        bc = c;
        bl = l;
        bf = f;
        bt = t;
      }
    }
    if (bestAt < 0) break;
    const [{ i: best, cost }] = left.splice(bestAt, 1);
    picked.push(best);
    budget -= cost;
    const z = best.availabilityZone;
    total.set(z, (total.get(z) ?? 1) - 1);
    fresh.set(z, (fresh.get(z) ?? 0) + 1); // its replacement will land there
  }
  return picked;
}

/** `--batch-size N|P%` against the number of outdated instances. Example: "10%" of 200 → 20; "25%" of 3 → 1. */
export function resolveBatch(spec: string | number | undefined, outdated: number, fallback: number): number {
  if (spec === undefined || spec === '') return Math.max(1, fallback);
  const s = String(spec).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct) return Math.max(1, Math.floor((Number(pct[1]) / 100) * Math.max(outdated, 1)));
  return Math.max(1, Math.floor(Number(s)));
}

export interface RollingPlan {
  /** Outdated live instances in order. */
  order: InstanceView[];
  /** The order in steps of k. */
  batches: string[][];
  /** Healthy-count floor the plan respects, and the lowest healthy count it expects. */
  minHealthy: number;
  lowestHealthy: number;
  /** Why it cannot run (surge 0 would drop below min healthy…); undefined when it can. */
  refused?: string;
}

/**
 * The plan: which instances, in which order, in which batches.
 * Example: C=3, surge 0, batch 1, minHealthy 2 → lowest healthy 2, runs; batch 2 → lowest 1 <
 * 2, refused.
 */
export function planRolling(group: GroupSnapshot, config: RollingConfig, verdict: (i: InstanceView) => Verdict): RollingPlan {
  const healthy = (i: InstanceView) => verdict(i).healthy;
  const order = oldestFirst(group.instances.filter((i) => isLive(i) && !isStandby(i) && isOutdated(i, group) && replaceable(i, config)), healthy);
  const k = Math.max(1, config.surge > 0 ? Math.max(config.surge, config.batch) : config.batch);
  const batches: string[][] = [];
  for (let i = 0; i < order.length; i += k) batches.push(order.slice(i, i + k).map((x) => x.instanceId));
  const step = Math.min(k, order.length);
  const lowestHealthy = config.surge > 0 ? config.capacity : config.capacity - step;
  let refused: string | undefined;
  if (order.length > 0) {
    if (config.surge > 0 && config.minHealthy > config.capacity) {
      refused = `--min-healthy ${config.minHealthy} is above the group's capacity ${config.capacity}; after each step the group is back at ${config.capacity}`;
    } else if (config.surge === 0 && lowestHealthy < config.minHealthy) {
      refused = `--surge 0 with batch ${step} would drop ${group.name} to ${lowestHealthy} healthy instances, below --min-healthy ${config.minHealthy}; use --surge 1 (3-4-3) or lower --min-healthy`;
    }
  }
  return { order, batches, minHealthy: config.minHealthy, lowestHealthy, refused };
}

function firstUnhealthyNewPastTimeout(view: RollingView, news: InstanceView[]): Action | undefined {
  for (const n of news) {
    const v = view.verdict(n);
    if (v.healthy) continue;
    const since = view.memory.firstSeen[n.instanceId] ?? view.now;
    if (view.now - since > view.config.stepTimeoutMs) {
      const secs = Math.round((view.now - since) / 1000);
      return abort(
        'step-timeout',
        `${view.group.name}: ${n.instanceId} not healthy after ${secs} s (--step-timeout ${Math.round(view.config.stepTimeoutMs / 1000)} s): ${v.gate ?? 'check'} — ${v.state ?? 'unknown'}`,
        { asg: view.group.name, instanceId: n.instanceId, gate: v.gate, state: v.state, seconds: secs },
      );
    }
  }
  return undefined;
}

/**
 * "The new version is broken" against "some instances fail" (issue 21): judged on the new
 * instances the ASG replaced during the run (`lost`: never healthy, or failed later) and those
 * healthy now (`passed`), with the cap (`--max-replacements`-like option, default 2):
 *  - fewer failures than the cap: not judged yet, keep going;
 *  - at the cap and none passed: broken — a bad image fails every instance, so stop early;
 *  - more failures than passes (most fail): broken;
 *  - else some instances fail (random failing boots): keep going — every wait stays bounded by
 *    the step timeout, as a patient operator's would.
 * Examples (cap 2): 2 failed, 0 passed → broken; 2 failed, 5 passed → keep going; 6 failed, 5
 * passed → broken; 1 failed, 0 passed → keep going (one failure says little).
 */
export function newSpecBroken(lost: number, passed: number, cap: number): boolean {
  return lost >= cap && lost > passed;
}

/**
 * A step that got no healthy replacement within the step timeout, whatever the reason: the ASG
 * never launched the instances (every launch failed: bad AMI, no capacity) or they never became
 * healthy. Measured from `memory.waitingSince` (the tool's clock). Example: desired 4, 3 live,
 * waiting since 10:00, step timeout 8 min, now 10:08:01 → abort naming the last failed launch.
 */
export function stepStalled(view: RollingView, live: number, notHealthyNew: InstanceView[]): Action | undefined {
  const { group, memory, config } = view;
  const since = memory.waitingSince;
  if (since === undefined || view.now - since <= config.stepTimeoutMs) return undefined;
  const missing = group.desired - live;
  if (missing <= 0 && notHealthyNew.length === 0) return undefined;
  const secs = Math.round((view.now - since) / 1000);
  const limit = `--step-timeout ${Math.round(config.stepTimeoutMs / 1000)} s`;
  if (missing <= 0) {
    // Instances came, none healthy in time: name the one waited for longest and what it failed,
    // as for one instance — and, when instances came and went meanwhile (the ASG replacing failed
    // ones, AWS's own churn), how long it has been there: the wait is the step's, not its own.
    const n = notHealthyNew.reduce((a, b) => ((memory.firstSeen[b.instanceId] ?? view.now) < (memory.firstSeen[a.instanceId] ?? view.now) ? b : a));
    const v = view.verdict(n);
    const seen = Math.round((view.now - (memory.firstSeen[n.instanceId] ?? view.now)) / 1000);
    // (Each is younger than the step timeout here, else firstUnhealthyNewPastTimeout named it.)
    const came = ` (there ${seen} s${memory.lost.length > 0 ? `; the ASG replaced ${memory.lost.length} new instance(s) during the run` : ''})`;
    return abort('step-timeout', `${group.name}: no healthy replacement after ${secs} s (${limit}): ${n.instanceId}${came} ${v.gate ?? 'check'} — ${v.state ?? 'unknown'}`, {
      asg: group.name,
      instanceId: n.instanceId,
      gate: v.gate,
      state: v.state,
      seconds: secs,
    });
  }
  const why = `${missing} of ${group.desired} instance(s) never launched${memory.lastLaunchFailure ? `; last failed launch: ${memory.lastLaunchFailure}` : ' (no failed scaling activity reported)'}`;
  return abort('step-timeout', `${group.name}: no healthy replacement after ${secs} s (${limit}): ${why}`, {
    asg: group.name,
    seconds: secs,
    missing,
    ...(memory.lastLaunchFailure ? { lastLaunchFailure: memory.lastLaunchFailure } : {}),
  });
}

/**
 * The next step. Guards, in order, each with its why:
 *  1. a new instance past its step timeout, or the ASG replacing new instances again and again →
 *     abort (a bad image must not eat the healthy old nodes);
 *  2. outdated left and rollout processes not suspended → suspend them first (AZRebalance could
 *     otherwise terminate a healthy node mid-rollout);
 *  3. nothing outdated → wait until every new instance is healthy, then back to C by an explicit
 *     pick (the surplus instances, terminated with decrement: never AWS's termination policy),
 *     wait until settled (desired = live, terminated ones out of the load balancer), done;
 *  4. surge: raise desired to C+k before terminating anything; wait for every up-to-date instance
 *     to be healthy; terminate the oldest outdated with decrement;
 *  5. surge 0: wait for replacements; terminate k oldest outdated without decrement, never below
 *     minHealthy.
 */
export function decideRolling(view: RollingView): Action {
  const { group, config, memory } = view;
  const C = config.capacity;
  const D = group.desired;
  const verdict = (i: InstanceView) => view.verdict(i);
  const healthy = (i: InstanceView) => verdict(i).healthy;
  // An instance we terminated stops counting at once, even if AWS still lists it InService.
  const ours = new Set(memory.terminated);
  // Standby instances are not the tool's and not in desired (see the file comment): invisible here.
  const live = group.instances.filter((i) => isLive(i) && !isStandby(i) && !ours.has(i.instanceId));
  // Outdated and replaced now; those a policy skips or holds back (Standby, scale-in protection) are not.
  const outdated = oldestFirst(live.filter((i) => isOutdated(i, group) && replaceable(i, config)), healthy);
  const news = live.filter((i) => !isStandby(i) && !isOutdated(i, group));
  const notHealthyNew = news.filter((i) => !healthy(i));
  const H = live.filter(healthy).length;
  const hint = memory.waitHintMs;

  // 0. The target moved under us: stop rather than replace instances with a spec that is already
  // outdated (and never terminate the new spec's instances as if they were outdated).
  if (view.launchChanged) {
    return abort('launch-template-changed', `${group.name}: the launch template changed during the rollout: re-run to roll to ${view.launchChanged}`, {
      asg: group.name,
      launch: view.launchChanged,
      refused: true,
      // Exit 3 even though the run has acted: the documented contract (docs/commands/roll.md).
      refusedMidRun: true,
    });
  }

  // 1. Failures.
  const timedOut = firstUnhealthyNewPastTimeout(view, news) ?? stepStalled(view, live.length, notHealthyNew);
  if (timedOut) return timedOut;
  const passed = news.filter(healthy).length;
  if (newSpecBroken(memory.lost.length, passed, config.maxReplacements)) {
    const last = memory.lost[memory.lost.length - 1];
    return abort(
      'replacement-failing',
      `${group.name}: the ASG replaced ${memory.lost.length} new instances (last ${last.instanceId}: ${last.gate ?? 'check'} — ${last.state ?? 'unknown'}) and ${passed === 0 ? 'none' : `only ${passed}`} passed; the new launch spec does not come up healthy`,
      { asg: group.name, instanceId: last.instanceId, gate: last.gate, state: last.state, replaced: memory.lost.map((l) => l.instanceId), passed },
    );
  }

  // 2. Guard rails first.
  if (outdated.length > 0) {
    const missing = config.processes.filter((p) => !group.suspendedProcesses.includes(p));
    if (missing.length > 0) return { kind: 'suspend', group: group.name, processes: missing, reason: `so AWS cannot take or add a node mid-rollout` };
  }

  const release = releaseHeld(view, outdated.length === 0 && D > C && live.length < D);
  if (release) return release;

  // `--standby terminate`: an outdated instance in Standby serves nothing and is not in desired:
  // terminated, not replaced (no healthy capacity lost, nothing to wait for).
  const standbyGo = config.standby === 'terminate' ? group.instances.filter((i) => i.lifecycleState === 'Standby' && !ours.has(i.instanceId) && mayTerminate(i, group, verdict(i), view.facts, config)) : [];
  if (standbyGo.length > 0) {
    const ids = standbyGo.map((i) => i.instanceId);
    return { kind: 'terminate', group: group.name, instanceIds: ids, decrement: false, reason: `${ids.join(', ')} outdated in Standby (--standby terminate): serves nothing, not in desired, not replaced` };
  }

  // Warm pool: its outdated instances go before any step, so that no scale-out (the surge
  // included) brings the old version back from it (rolling/lifecycle.ts).
  const warmGo = view.lifecycle ? decideWarmPool(group, view.lifecycle) : undefined;
  if (warmGo) return warmGo;

  // Capacity Rebalancing's replacement in flight that is itself outdated (launched before a
  // rollback set the group back) and serves nothing: AWS counts it apart from desired, so it goes
  // WITHOUT decrement — desired and AWS's count both stay, and AWS launches the at-risk instance's
  // replacement anew from the current version. With decrement AWS would scale in another
  // instance; left alone, nothing would ever replace it (chaos seed 2825148527 waited for it).
  const pairs = rebalancePairs(group, view.facts, ours);
  const staleReplacement = outdated.filter((i) => pairs.replacements.has(i.instanceId) && !healthy(i));
  if (staleReplacement.length > 0) {
    const ids = staleReplacement.map((i) => i.instanceId);
    return { kind: 'terminate', group: group.name, instanceIds: ids, decrement: false, reason: `${ids.join(', ')}: AWS's Capacity Rebalancing replacement, outdated and not healthy, counted apart from desired: terminated without decrement (AWS launches the replacement anew)` };
  }

  // More surge than outdated instances left to take it back (an outdated one went away without
  // us, and the ASG replaced it): remove the excess while it is not healthy yet, newest first —
  // lowering desired later would let AWS pick a healthy up-to-date instance to scale in.
  // Not while the group holds more live instances than desired: that extra is AWS's own launch in
  // flight (Capacity Rebalancing's replacement launched before its at-risk Spot instance goes, an
  // AZ rebalance), which AWS settles itself; taking it with decrement would make AWS scale in
  // another, healthy, instance (chaos seed 1944632580, issue 15 item 6).
  const excess = live.length > D ? 0 : D - C - outdated.length;
  const removable = excess > 0 ? removableNew(view, live) : [];
  if (removable.length > 0) {
    const extra = removable.slice(0, excess);
    const ids = extra.map((i) => i.instanceId);
    return { kind: 'terminate', group: group.name, instanceIds: ids, decrement: true, surplus: true, reason: `removing surplus ${ids.join(', ')} (not healthy yet): ${outdated.length} outdated left for ${D - C} extra` };
  }

  // 3. Finished: settle, then done.
  if (outdated.length === 0) {
    // AWS's own Capacity Rebalancing in flight is AWS's, not the rollout's: a pair counts once
    // toward desired (its replacement booting while the at-risk instance still serves), and the
    // at-risk instance AWS then takes drains on AWS's account. With recommendations coming faster
    // than AWS works them off, one pair or another is always in flight; waiting for none would
    // never end (chaos seed 4223179301 waited 24 h for "17 instances (18 live)").
    const awsAtRisk = new Set([...(view.facts?.awsLaunched ?? [])].map(([, risk]) => risk).filter((r): r is string => r !== undefined));
    const ownNotHealthy = notHealthyNew.filter((i) => !pairs.replacements.has(i.instanceId));
    if (ownNotHealthy.length > 0) return wait(`${group.name}: waiting for ${ownNotHealthy.map((i) => i.instanceId).join(', ')} to become healthy`, hint);
    // Someone's instance put back from Standby is on its way into service (Pending, its health
    // checks): not settled until it serves — waited for at most the step timeout from its return
    // (it is not the tool's; after that the rollout is done without it).
    const returning = live.filter((i) => !healthy(i) && memory.backFromStandby?.[i.instanceId] !== undefined && view.now - memory.backFromStandby[i.instanceId] <= config.stepTimeoutMs);
    if (returning.length > 0) return wait(`${group.name}: waiting for ${returning.map((i) => i.instanceId).join(', ')} (put back from Standby by someone else) to serve again`, hint ?? RETURNING_POLL_MS);
    if (D < C) return { kind: 'setDesired', group: group.name, desired: C, reason: `back to capacity ${C}` };
    if (live.length < D) {
      // Surge the ASG has not launched (yet): lowering desired to what exists removes nothing —
      // with Launch held, so that nothing launches between this look and the lowering.
      if (D > C) return lowerUnlaunched(group, Math.max(C, live.length), live.length, `back to capacity ${C}: removing surge not launched yet`);
      return wait(`${group.name}: waiting for the ASG to reach ${D} instances`, hint);
    }
    // Done only when settled: more live instances than desired (AWS still scaling in after desired
    // was lowered, or its own launch in flight) is not done (issue 10: done was reported with 3
    // live against desired 2).
    if (live.length - pairs.replacements.size > D) {
      // Bounded: AWS launching or scaling in without end is not waited for past the step timeout.
      const since = memory.settleSince;
      if (since !== undefined && view.now - since > config.stepTimeoutMs) {
        const secs = Math.round((view.now - since) / 1000);
        return abort('step-timeout', `${group.name}: nothing outdated left, but the group did not settle at ${D} instances in ${secs} s (--step-timeout ${Math.round(config.stepTimeoutMs / 1000)} s): ${live.length} live; see the group's activity history, then re-run`, {
          asg: group.name,
          seconds: secs,
          live: live.length,
          desired: D,
        });
      }
      return wait(`${group.name}: waiting for the ASG to settle at ${D} instances (${live.length} live)`, hint);
    }
    // Back to capacity by an explicit pick (issue 10): never lower desired and let AWS's
    // termination policy choose — the tool names the surplus instance and terminates it with
    // decrement (see surplusAtCapacity).
    if (D > C) {
      // Never a member of AWS's pair in flight (AWS counts the pair once; taking either with
      // decrement would make AWS scale in another instance, as in the cleanup).
      const paired = (i: InstanceView) => pairs.replacements.has(i.instanceId) || pairs.atRisk.has(i.instanceId);
      const pick = removeSurplus(view, live.filter((i) => surplusAtCapacity(i, view) && !paired(i)), live, D - C, (ids, why) => `back to capacity ${C}: nothing outdated left, removing surplus ${ids} (${why})`);
      if (pick) return pick;
      if (live.length > D) return wait(`${group.name}: waiting for the ASG to settle at ${D} instances (${live.length} live)`, hint);
      // Nothing the tool may pick (every surplus instance protected from scale-in by someone):
      // lowering desired lets AWS scale in only what is not protected, which is nothing.
      return { kind: 'setDesired', group: group.name, desired: C, reason: `back to capacity ${C}` };
    }
    // Settled from the service's point of view: every instance on its way out is out of service
    // (deregistered, its connection draining over). EC2 shutting it down needs no waiting for.
    const leaving = group.instances.filter((i) => (!isLive(i) || ours.has(i.instanceId)) && !(awsAtRisk.has(i.instanceId) && !ours.has(i.instanceId)) && inService(i, group.loadBalancerNames, group.targetGroupARNs));
    if (leaving.length > 0) return wait(`${group.name}: waiting for ${leaving.map((i) => i.instanceId).join(', ')} to leave the load balancer (connection draining)`, hint);
    // `wait` policies: the rest is done; wait (within the step timeout) for someone to put the
    // held-back instances back in service / remove their protection, then replace them.
    const held = heldBack(group, config, 'wait').filter((h) => !ours.has(h.instanceId));
    if (held.length > 0) {
      const since = memory.heldSince ?? view.now;
      if (view.now - since > config.stepTimeoutMs) {
        const secs = Math.round((view.now - since) / 1000);
        return abort('held-back', `${group.name}: waited ${secs} s (--step-timeout ${Math.round(config.stepTimeoutMs / 1000)} s) for outdated ${describeHeld(held)}; put it back in service or remove the protection and re-run, or choose ignore`, {
          asg: group.name,
          held,
          seconds: secs,
        });
      }
      return wait(`${group.name}: everything else replaced; waiting for ${describeHeld(held)}`, Math.min(60_000, config.stepTimeoutMs));
    }
    // Lifecycle hooks and the warm pool: the tool's terminations held in Terminating:Wait (bounded
    // by the hook's heartbeat timeout), the warm pool refilled with the new version.
    const end = view.lifecycle ? decideLifecycleEnd(group, ours, view.lifecycle, view.now, config.stepTimeoutMs, hint) : undefined;
    if (end) return end;
    return done(`replaced ${memory.terminated.length} instance(s), oldest first${view.lifecycle ? lifecycleDoneNote(group, ours, view.lifecycle, view.now) : ''}`);
  }

  const k = Math.max(1, Math.min(config.surge > 0 ? Math.max(config.surge, config.batch) : config.batch, outdated.length));
  const surplus = D - C;

  // Choose up to n outdated instances — unhealthy first, then so the group ends balanced (see
  // balancedOrder), then oldest — never letting healthy drop below minHealthy. An unhealthy one
  // costs no healthy capacity, so it may go even when healthy is already below minHealthy (the
  // budget is never negative): an application that failed after passing left the group short, and
  // replacing what serves nothing is the way back up (chaos seed 3935578497: 17 healthy against
  // --min-healthy 18, two outdated instances failing; a negative budget refused even those).
  // Never an at-risk Spot instance whose Capacity Rebalancing replacement is in flight: AWS counts
  // the pair once and takes the at-risk one itself (rebalancePairs); nor the healthy one AWS is
  // about to take.
  const pickable = outdated.filter((i) => !pairs.atRisk.has(i.instanceId) && !pairs.replacements.has(i.instanceId));
  const choose = (n: number): InstanceView[] =>
    balancedOrder(pickable, live, (i) => !isOutdated(i, group), group.availabilityZones, n, {
      costOf: (i) => (healthy(i) ? 1 : 0),
      budget: Math.max(0, H - pairedHealthy(pairs, view) - config.minHealthy),
    });
  /** Only at-risk instances AWS replaces itself are left to pick (or none fits): wait for AWS. */
  const awsReplacing = (): Action | undefined => {
    if (pickable.length === outdated.length) return undefined;
    const atRisk = outdated.filter((i) => pairs.atRisk.has(i.instanceId)).map((i) => i.instanceId);
    const theirs = outdated.filter((i) => pairs.replacements.has(i.instanceId)).map((i) => i.instanceId);
    const what = [atRisk.length > 0 ? `${atRisk.join(', ')} (at risk; AWS replaces it itself)` : '', theirs.length > 0 ? `${theirs.join(', ')} (AWS's replacement in flight)` : ''].filter(Boolean).join(', ');
    return wait(`${group.name}: waiting for AWS's Capacity Rebalancing to settle ${what}: the pair counts once toward desired`, hint);
  };

  if (config.surge > 0 || surplus > 0) {
    // 4. Surge: launch before terminate.
    if (surplus < k && config.surge > 0) {
      return { kind: 'setDesired', group: group.name, desired: C + k, reason: `launch ${k - Math.max(0, surplus)} new instance(s) before terminating` };
    }
    if (notHealthyNew.length > 0) return wait(`${group.name}: waiting for ${notHealthyNew.map((i) => i.instanceId).join(', ')} to become healthy`, hint);
    if (live.length < D) return wait(`${group.name}: waiting for the ASG to launch ${D - live.length} instance(s)`, hint);
    const picked = choose(Math.min(surplus, outdated.length));
    if (picked.length === 0) {
      const aws = awsReplacing();
      if (aws) return aws;
      return abort('below-min-healthy', `${group.name}: terminating ${outdated[0].instanceId} would drop below --min-healthy ${config.minHealthy} (healthy now ${H})`, {
        asg: group.name,
        healthy: H,
        minHealthy: config.minHealthy,
        refused: true,
      });
    }
    return { kind: 'terminate', group: group.name, instanceIds: picked.map((i) => i.instanceId), decrement: true, reason: describePicked(picked, view) };
  }

  // 5. Surge 0: terminate, then wait for the replacement.
  if (D < C) return { kind: 'setDesired', group: group.name, desired: C, reason: `back to capacity ${C}` };
  if (notHealthyNew.length > 0) return wait(`${group.name}: waiting for ${notHealthyNew.map((i) => i.instanceId).join(', ')} to become healthy`, hint);
  if (live.length < D) return wait(`${group.name}: waiting for the ASG to replace ${D - live.length} instance(s)`, hint);
  const picked = choose(k);
  if (picked.length === 0) {
    const aws = awsReplacing();
    if (aws) return aws;
    return abort('below-min-healthy', `${group.name}: terminating ${outdated[0].instanceId} would drop below --min-healthy ${config.minHealthy} (healthy now ${H}); use --surge 1`, {
      asg: group.name,
      healthy: H,
      minHealthy: config.minHealthy,
      refused: true,
    });
  }
  return { kind: 'terminate', group: group.name, instanceIds: picked.map((i) => i.instanceId), decrement: false, reason: describePicked(picked, view) };
}

/**
 * Lowers desired for a surge the ASG has not launched (yet) — `live` instances against desired —
 * without letting AWS choose an instance to scale in: Launch is suspended first (the guard records
 * it), and desired is lowered only on a look taken after that, when nothing can launch any more.
 * A look is never the present: AWS launched a surge 0.1 s after the group was read, the lowering
 * went 0.8 s later, and its termination policy scaled in a healthy outdated instance below
 * --min-healthy (chaos seed 530110558). One step for the cleanup and a finished rollout's back to
 * capacity; a surge that made it in meanwhile is the tool's own instance and goes by name.
 * Launch is released by {@link releaseHeld} once nothing needs it held (restore, at the latest).
 */
function lowerUnlaunched(group: GroupSnapshot, desired: number, live: number, why: string): Action {
  if (!group.suspendedProcesses.includes('Launch')) {
    return { kind: 'suspend', group: group.name, processes: ['Launch'], reason: `so AWS cannot launch the surge while the tool takes it back: desired ${group.desired} above the ${live} live, lowered only on a look taken after this` };
  }
  return { kind: 'setDesired', group: group.name, desired, reason: `${why} (Launch suspended: nothing can launch meanwhile)` };
}

/**
 * Processes the tool suspended beyond the rollout's own (`config.processes`, held to its end) are
 * held for one step only — the Launch of {@link lowerUnlaunched} — and resumed as soon as that step
 * is not under way (`lowering`: a finished rollout still has surge not launched to take back).
 * Mostly this is a re-run after a kill -9 inside that window: it finds Launch suspended and
 * recorded; left so, it would wait in vain for its own surge and halt at --step-timeout, and only
 * a second re-run would finish (issue 10: a re-run after a crash finishes the job).
 * Example: C=3, crashed run left desired 4, Launch and the rollout processes suspended, o1 o2 o3
 * live → resume Launch (AWS launches the surge), then the rollout goes on.
 */
export function releaseHeld(view: RollingView, lowering: boolean): Action | undefined {
  if (lowering) return undefined;
  const { group, config } = view;
  const held = (view.toolSuspended ?? []).filter((p) => !config.processes.includes(p) && group.suspendedProcesses.includes(p));
  if (held.length === 0) return undefined;
  return { kind: 'resume', group: group.name, processes: held, reason: `held by the tool for one step only${view.facts?.recovered ? ' (left suspended by an interrupted run)' : ''}; the rollout needs it running` };
}

function describePicked(picked: InstanceView[], view: RollingView): string {
  return picked
    .map((i) => `${i.instanceId} ${view.verdict(i).healthy ? 'outdated' : 'outdated and unhealthy'}, launched ${i.launchTime !== undefined ? new Date(i.launchTime).toISOString() : 'unknown'}`)
    .join('; ');
}

/**
 * After a failure, timeout or abort: take back the capacity the rollout added (desired above C)
 * without costing serving capacity, and only with instances {@link mayTerminate} allows. In order:
 *  1. not-healthy up-to-date instances of this run (its failed surge), newest first;
 *  2. surge the ASG has not launched yet: lower desired (removes nothing that exists);
 *  3. other not-healthy up-to-date instances (one present before the run that stopped being
 *     healthy: it serves nothing; this run's healthy surge stays, being a healthy up-to-date one);
 *  4. outdated instances, unhealthy first then oldest, while the healthy count stays ≥ minHealthy
 *     (the new instances took their place: e.g. C=3, 4 healthy → terminate o1 → 3 healthy);
 * and never lowering desired for AWS's termination policy to choose: it could take a healthy
 * up-to-date instance, or a healthy old one below the floor.
 *  5. nothing outdated left at all: back to capacity by the same explicit pick as a finished
 *     rollout's, within minHealthy ({@link cleanupBackToCapacity});
 *  6. none of these now, but the group is not settled — an instance still on its way (Pending, or
 *     InService and not healthy yet) that is not the tool's to terminate, e.g. AWS's own
 *     AZ-rebalancing launch: WAIT for it (bounded by the step timeout from the cleanup's first
 *     look, `memory.cleanupSince`), then pick again: once it is healthy an outdated one can go
 *     within minHealthy (4), once it is InService and not healthy it serves nothing (3).
 * Capacity Rebalancing in flight ({@link rebalancePairs}) counts once throughout: AWS's replacement
 * is never "ours", neither it nor its at-risk instance is picked, and live instances are compared
 * with desired counting the pair once (chaos seed 2423331021: SIGINT with AWS's replacement r for
 * o7 booting beside the step's surge n1 n2 n3 → n1 n2 n3 go, never r).
 * When none of these applies (or the wait is over), surplus is left (see {@link cleanupLeft}):
 * the engine restores everything else and says so.
 * Surge 0 leaves nothing to remove.
 * Example (chaos seed 1267799361): C=12, minHealthy 12, SIGINT while AWS's rebalancing launch
 * r1 is Pending: the tool's own surge goes (1), desired 13 with 12 old healthy + r1 Pending →
 * wait; r1 healthy → 13 healthy → terminate the oldest outdated with decrement → desired 12.
 * Example: C=37, desired 38, this run's n38 healthy, n36 and n37 (an earlier run's) failed after
 * passing, 35 old healthy → terminate n37 (newest not healthy) with decrement; old ones untouched.
 */
export function cleanupRolling(view: RollingView): Action | undefined {
  const { group, config } = view;
  const surplus = group.desired - config.capacity;
  if (surplus <= 0) return undefined;
  const ours = new Set(view.memory.terminated);
  const live = group.instances.filter((i) => isLive(i) && !isStandby(i) && !ours.has(i.instanceId));
  const healthy = (i: InstanceView) => view.verdict(i).healthy;
  // Capacity Rebalancing in flight: AWS's replacement is not counted in desired and neither it nor
  // its at-risk instance is the tool's to take (rebalancePairs).
  const pairs = rebalancePairs(group, view.facts, ours);
  const counted = live.length - pairs.replacements.size;
  const removable = removableNew(view, live);
  const own = removable.filter((i) => isOurs(i, view.facts));
  const surplusTerminate = (list: InstanceView[], why: string): Action => {
    const ids = list.slice(0, surplus).map((i) => i.instanceId);
    return { kind: 'terminate', group: group.name, instanceIds: ids, decrement: true, surplus: true, reason: `removing surge: ${ids.join(', ')} ${why}` };
  };
  if (own.length > 0) return surplusTerminate(own, 'not healthy');
  if (counted < group.desired) {
    // The ASG has not launched the surge yet: lowering desired removes nothing that exists — but
    // only if nothing launches between this look and the lowering. A look is never the present:
    // AWS launched the surge raised just before a Ctrl-C 0.1 s after the group was read, the
    // lowering went 0.8 s later, and AWS's termination policy scaled in a healthy outdated
    // instance below --min-healthy (chaos seed 530110558). So Launch is suspended first (the guard
    // records it and the restore resumes it), the cleanup looks again, and only on that look —
    // nothing can launch any more — is desired lowered to what exists; a surge that made it in
    // meanwhile is the tool's own not-healthy instance and goes by name above.
    return lowerUnlaunched(group, Math.max(config.capacity, counted), counted, 'removing surge not launched yet');
  }
  if (removable.length > 0) return surplusTerminate(removable, `up to date but not healthy (serving nothing), so back to capacity ${config.capacity} without touching a serving instance`);
  // An at-risk instance whose replacement is healthy goes without the tool: not spendable.
  let h = live.filter(healthy).length - pairedHealthy(pairs, view);
  const picked: InstanceView[] = [];
  for (const i of oldestFirst(live.filter((x) => isOutdated(x, group) && !pairs.atRisk.has(x.instanceId) && !pairs.replacements.has(x.instanceId) && mayTerminate(x, group, view.verdict(x), view.facts, view.config)), healthy)) {
    if (picked.length >= surplus) break;
    if (healthy(i) && h - 1 < config.minHealthy) break;
    if (healthy(i)) h--;
    picked.push(i);
  }
  if (picked.length > 0) {
    return { kind: 'terminate', group: group.name, instanceIds: picked.map((i) => i.instanceId), decrement: true, reason: `removing surge: the new instances took their place, so the oldest outdated go` };
  }
  const back = cleanupBackToCapacity(view, live, pairs, counted);
  if (back) return back;
  const unsettled = settling(view, live);
  if (unsettled.length > 0 && !cleanupWaitOver(view)) {
    const ids = unsettled.map((i) => `${i.instanceId} (${i.lifecycleState}${i.lifecycleState === 'InService' ? ', not healthy yet' : ''})`).join(', ');
    return wait(
      `${group.name}: waiting for ${ids} to settle before taking back the surge (desired ${group.desired}, capacity ${config.capacity}): no instance can go now without terminating a healthy up-to-date one or dropping below --min-healthy ${config.minHealthy}; at most ${Math.round(config.stepTimeoutMs / 1000)} s (--step-timeout)`,
      view.memory.waitHintMs,
    );
  }
  return undefined;
}

/**
 * The cleanup's back to capacity (issue 10/15, chaos seeds 2359788694, 1816341555, 444990829 and
 * 205635742): nothing outdated is left — the cleanup took the last ones, or AWS's own replacements
 * (Spot interruptions, Capacity Rebalancing, maximum instance lifetime) took them while a step's
 * surge was out, each leaving one unit of surge no outdated instance can take back — so the group
 * runs only the version rolled to and every surplus instance is a healthy up-to-date one. The same
 * explicit pick as a finished rollout's back to capacity ({@link surplusAtCapacity},
 * {@link surplusOrder}: the zone with the most live instances, the run's own launches first, the
 * newest), terminated with decrement, never lowering desired for AWS to choose; and, as everywhere
 * in the cleanup, Capacity Rebalancing in flight counted once (neither member of a pair is picked,
 * `counted` leaves the replacement out), at most desired − C, at least C counted instances left,
 * and the healthy count (less the at-risk instances AWS is about to take) kept at --min-healthy.
 * It does not wait for the group to settle: under AWS's churn something is always on its way, and
 * the floor, not the settling, is what keeps it safe.
 * Example: C=3, minHealthy 3, desired 5, n1..n5 healthy (o1 and o2 interrupted by AWS and
 * replaced, the step's surge never taken back) → terminate n5, n4 with decrement.
 */
function cleanupBackToCapacity(view: RollingView, live: InstanceView[], pairs: { replacements: Set<string>; atRisk: Set<string> }, counted: number): Action | undefined {
  const { group, config } = view;
  const healthy = (i: InstanceView) => view.verdict(i).healthy;
  const spendable = live.filter(healthy).length - pairedHealthy(pairs, view) - config.minHealthy;
  const n = Math.min(group.desired - config.capacity, counted - config.capacity, spendable);
  if (n <= 0) return undefined;
  const candidates = live.filter((i) => healthy(i) && !pairs.replacements.has(i.instanceId) && !pairs.atRisk.has(i.instanceId) && surplusAtCapacity(i, view));
  return removeSurplus(view, candidates, live, n, (ids, why) => `removing surge: nothing outdated left, back to capacity ${config.capacity} by removing surplus ${ids} (${why})`);
}

/**
 * Back to capacity by an explicit pick, for a finished rollout and the cleanup alike: up to `n` of
 * `candidates` in {@link surplusOrder} (the zone with the most live instances, the run's own
 * launches first, the newest), terminated with decrement as surplus — never desired lowered for
 * AWS's termination policy to choose. Undefined when none may go. `reason` gets the ids and why
 * they were picked ({@link describeSurplus}).
 */
function removeSurplus(view: RollingView, candidates: InstanceView[], live: InstanceView[], n: number, reason: (ids: string, why: string) => string): Action | undefined {
  const picked = surplusOrder(candidates, live, view.group.availabilityZones, n, view.facts);
  if (picked.length === 0) return undefined;
  const ids = picked.map((i) => i.instanceId);
  return { kind: 'terminate', group: view.group.name, instanceIds: ids, decrement: true, surplus: true, reason: reason(ids.join(', '), describeSurplus(picked, live)) };
}

/**
 * Live instances still on their way that the cleanup may not terminate (not the tool's, e.g. AWS's
 * own rebalancing launch while Pending, or one protected from scale-in): not InService yet, or up to
 * date, InService and not healthy yet. Once they settle the cleanup can pick again.
 */
function settling(view: RollingView, live: InstanceView[]): InstanceView[] {
  const { group } = view;
  return live.filter((i) => i.lifecycleState !== 'InService' || (!isOutdated(i, group) && !view.verdict(i).healthy));
}

/** The cleanup's wait for the group to settle is over: the step timeout since its first look. */
function cleanupWaitOver(view: RollingView): boolean {
  const since = view.memory.cleanupSince ?? view.now;
  return view.now - since >= view.config.stepTimeoutMs;
}

/**
 * What cleanup leaves changed when it can do no more (undefined: nothing): the surplus no
 * instance could safely be removed for. The engine keeps the restore record for it (a re-run
 * knows the real capacity) and reports it.
 */
export function cleanupLeft(view: RollingView): string | undefined {
  const surplus = view.group.desired - view.config.capacity;
  if (surplus <= 0 || cleanupRolling(view) !== undefined) return undefined;
  const ours = new Set(view.memory.terminated);
  const unsettled = settling(view, view.group.instances.filter((i) => isLive(i) && !isStandby(i) && !ours.has(i.instanceId)));
  const waited =
    unsettled.length > 0
      ? `; waited ${Math.round((view.now - (view.memory.cleanupSince ?? view.now)) / 1000)} s (--step-timeout) for ${unsettled.map((i) => `${i.instanceId} (${i.lifecycleState})`).join(', ')} to settle, in vain`
      : '';
  return `${view.group.name}: desired left at ${view.group.desired} (capacity ${view.config.capacity}): no instance can go without terminating a healthy up-to-date one or dropping below --min-healthy ${view.config.minHealthy}${waited}`;
}
