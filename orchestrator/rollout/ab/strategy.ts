/**
 * The A/B (blue/green) strategy, pure: predicates over observed groups, the planner that turns
 * what is observed plus the options into a plan (or a refusal), and the `decide` functions the
 * engine calls each turn. No AWS, no clock, no I/O: everything here is table-tested.
 *
 * A swap from the active color to the empty one, e.g. qa-a (8, serving) → qa-b (0), step 4:
 *
 *   turn  observed                                   action
 *   0     AZRebalance etc. running on b, then a       suspend them           (hold both colors still)
 *   1     b desired 0                                 b desired 4            (grow one step)
 *   2     b 4 launched, 2 serving                     wait
 *   3     b 4 serving                                 b desired 8            (step healthy: next)
 *   4     b 8 serving                                 b min 8                (hand the floor over)
 *   5     b min 8                                     a desired 0, min 0     (drain the old color)
 *   6     a 3 instances still draining                wait
 *   7     a empty                                     done
 *
 * The old color is not touched until every instance of the new color is serving, so the serving
 * count never drops below the old color's until the new color is healthy (docs/design.md invariant 1).
 */
import type { ForeignTarget, GroupSnapshot, InstanceView, LaunchSpec, TrafficForward } from '../../aws/port';
import { abort, done, wait, type Action } from '../action';
import { awsVerdict } from '../health';
import { targetGroupName } from '../health/target-group';
import { judgeNeighbours } from '../target-group-neighbours';
import { currentShare, decideTraffic, describeSteps, planTraffic, type TrafficPlan } from './traffic';

export type Color = 'a' | 'b';

// --- predicates ------------------------------------------------------------------------------

/** Gone or going: not part of what a group serves or will serve. */
export function isLeaving(i: InstanceView): boolean {
  return i.lifecycleState === 'Terminated' || i.lifecycleState.startsWith('Terminating') || i.lifecycleState === 'Detached' || i.lifecycleState === 'Detaching';
}

/**
 * Put in Standby by someone (EnterStandby): not the tool's. AWS takes it out of the group's ELBs
 * and never scales it in, so a drain to 0 leaves it. The policy (Instance Refresh's
 * `StandbyInstances`, safe choice "Ignore"): never terminated or moved by the tool, counted as
 * not serving, and not waited for — the swap and the drain finish without it; the plan says so.
 */
export function isStandby(i: InstanceView): boolean {
  return i.lifecycleState === 'Standby' || i.lifecycleState === 'EnteringStandby';
}

/** Instances still present in the group (draining ones included), for "wait until empty"; Standby ones are not waited for. */
export function remainingInstances(g: GroupSnapshot): InstanceView[] {
  return g.instances.filter((i) => i.lifecycleState !== 'Terminated' && !isStandby(i));
}

/**
 * Drained: no longer taking requests. Gone, or leaving the group (Terminating…) and no longer
 * registered InService in any of the group's ELBs — a Terminating instance still in its ELB's
 * connection draining shows as "InService: Instance deregistration currently in progress".
 * EC2's shutdown after that (~20 s) is not waited for. Needs a snapshot with the group's ELB health.
 */
export function isDrained(i: InstanceView, elbNames: readonly string[], targetGroupArns: readonly string[] = []): boolean {
  if (i.lifecycleState === 'Terminated' || isStandby(i)) return true; // Standby: out of the ELB, never scaled in
  if (!isLeaving(i)) return false;
  // A target group's `draining` target still finishes its in-flight requests (deregistration delay).
  return elbNames.every((elb) => i.elb[elb]?.state !== 'InService') && targetGroupArns.every((tg) => !STILL_SERVING.has(i.targetHealth?.[tg]?.state ?? ''));
}

/** Target states in which a leaving instance still takes (or finishes) requests. */
const STILL_SERVING = new Set(['healthy', 'draining', 'unhealthy.draining']);

/**
 * Serving = every AWS health signal says yes (rollout/health/: InService and Healthy in the ASG,
 * and InService in every one of `elbNames`, the ELBs the new color is judged by).
 */
export function isServing(i: InstanceView, elbNames: readonly string[], targetGroupArns: readonly string[] = []): boolean {
  return awsVerdict(i, elbNames, targetGroupArns).healthy;
}

export function servingInstances(g: GroupSnapshot, elbNames: readonly string[], targetGroupArns: readonly string[] = []): InstanceView[] {
  return g.instances.filter((i) => isServing(i, elbNames, targetGroupArns));
}

/**
 * A color "contains instances" (the seed's test) when it wants some (desired > 0), or holds an
 * instance that scaling to 0 cannot remove (protected from scale-in). A color at desired 0 whose
 * instances are still terminating (a drain, a rollback) is not populated: the ASG is emptying it.
 */
export function isPopulated(g: GroupSnapshot): boolean {
  return g.desired > 0 || g.instances.some((i) => !isLeaving(i) && i.protectedFromScaleIn);
}

/** True when the old color has been told to drain (desired and min both 0). */
export function isDrainStarted(g: GroupSnapshot): boolean {
  return g.desired === 0 && g.min === 0;
}

/** Launched from something other than what the group launches now (template id/version or LC). */
export function isOutdated(i: InstanceView, group: LaunchSpec): boolean {
  const from = i.launchedFrom;
  if (group.launchTemplate) {
    return !from.launchTemplate || from.launchTemplate.id !== group.launchTemplate.id || from.launchTemplate.version !== group.launchTemplate.version;
  }
  if (group.launchConfigurationName) return from.launchConfigurationName !== group.launchConfigurationName;
  return false;
}

/** Every instance still in the group was launched from its current template version / LC. */
export function isUpToDate(g: GroupSnapshot): boolean {
  return g.instances.filter((i) => !isLeaving(i)).every((i) => !isOutdated(i, g.launch));
}

/**
 * For `deploy`'s ab hook: should the environment swap? True when the active (populated) color
 * runs instances launched from anything but its group's current launch template version, or
 * when neither color is populated (a first deploy). Both populated → false: the hook must not
 * guess (the ab run refuses with exit 3). `--force` swaps anyway; that is the caller's choice.
 */
export function activeColorIsOutdated(a: GroupSnapshot | undefined, b: GroupSnapshot | undefined): boolean {
  const populated = [a, b].filter((g): g is GroupSnapshot => g !== undefined && isPopulated(g));
  if (populated.length === 0) return true;
  if (populated.length === 2) return false;
  return !isUpToDate(populated[0]);
}

// --- the swap record (crash recovery) ------------------------------------------------------

/**
 * The tag a run writes on the groups it is about to change, deleted when the swap is finished
 * (or rolled back). A re-run that finds it resumes that swap instead of refusing "both
 * populated" (a crash mid-growth) or swapping back (a crash mid-drain).
 */
export const SWAP_TAG = 'asg-deploy:ab';

export interface SwapRecord {
  v: 1;
  mode: 'swap' | 'refresh';
  from?: string;
  to: string;
  count: number;
  step: number;
  runId: string;
  since: number;
  /** refresh (single group): which half was under way. */
  phase?: 'drain' | 'grow';
  /** refresh: the group's min before the drain, given back at the end. */
  min?: number;
  /** swap on target groups: `--traffic-steps` and `--step-wait` (ms), for a re-run. */
  steps?: number[];
  stepWaitMs?: number;
}

export function readSwapRecord(g: GroupSnapshot | undefined): SwapRecord | undefined {
  const raw = g?.tags[SWAP_TAG];
  if (!raw) return undefined;
  try {
    const r = JSON.parse(raw) as Partial<SwapRecord>;
    if ((r.mode === 'swap' || r.mode === 'refresh') && typeof r.to === 'string' && typeof r.count === 'number' && r.count >= 1) {
      return {
        v: 1,
        mode: r.mode,
        from: r.from,
        to: r.to,
        count: r.count,
        step: typeof r.step === 'number' && r.step >= 1 ? r.step : r.count,
        runId: String(r.runId ?? ''),
        since: Number(r.since ?? 0),
        phase: r.phase,
        min: typeof r.min === 'number' && r.min >= 0 ? r.min : undefined,
        ...(Array.isArray(r.steps) && r.steps.every((x) => typeof x === 'number') && r.steps.length ? { steps: r.steps } : {}),
        ...(typeof r.stepWaitMs === 'number' && r.stepWaitMs >= 0 ? { stepWaitMs: r.stepWaitMs } : {}),
      };
    }
  } catch {
    // unreadable: ignored (a hand-edited tag is not a swap in progress)
  }
  return undefined;
}

/**
 * The swap an earlier run recorded on these two colors and left unfinished (a crash, a kill, a
 * drain timeout), when the record names exactly these groups; a re-run resumes it.
 */
export function pendingSwap(a: GroupSnapshot | undefined, b: GroupSnapshot | undefined): SwapRecord | undefined {
  if (!a || !b) return undefined;
  const record = readSwapRecord(a) ?? readSwapRecord(b);
  const names = new Set([a.name, b.name]);
  if (record?.mode === 'swap' && names.has(record.to) && (!record.from || names.has(record.from)) && record.from !== record.to) return record;
  return undefined;
}

/** What `deploy`'s A/B hook does after `up` (the dry run asks the same question). */
export type AbHookDecision =
  /** An earlier run's swap is unfinished: the ab run resumes it (finishes it), like `ab` does. */
  | { kind: 'resume'; record: SwapRecord; why: string }
  /** Both colors populated and no record: the ab run refuses (exit 3) rather than guess. */
  | { kind: 'refuse'; why: string }
  | { kind: 'swap'; why: string }
  | { kind: 'none'; why: string };

/**
 * deploy's A/B hook, one decision for the real run and the dry run:
 *
 *   swap record on the colors      → resume (whatever `--force` and the versions say)
 *   both colors populated          → refuse (the ab run says so, exit 3; nothing changed)
 *   neither populated              → swap (a first deploy)
 *   active color outdated, the preview changes the launch template, or --force → swap
 *   otherwise                      → none ("up to date")
 *
 * Why the record first: after a crash mid-growth both colors are populated and the active one
 * may already run the new version (mid-drain): only the record says a swap is half done.
 */
export function decideAbHook(
  a: GroupSnapshot | undefined,
  b: GroupSnapshot | undefined,
  o: { force?: boolean; launchChanged?: boolean },
): AbHookDecision {
  const record = pendingSwap(a, b);
  if (record) {
    return { kind: 'resume', record, why: `a swap ${record.from ? `${record.from} → ` : 'into '}${record.to} started ${new Date(record.since).toISOString()} was left unfinished (tag ${SWAP_TAG})` };
  }
  const populated = [a, b].filter((g): g is GroupSnapshot => g !== undefined && isPopulated(g));
  if (populated.length === 2) return { kind: 'refuse', why: `both ${populated[0].name} and ${populated[1].name} have instances and no swap is recorded` };
  if (populated.length === 0) return { kind: 'swap', why: 'neither color has instances (first deploy)' };
  const active = populated[0];
  if (!isUpToDate(active)) return { kind: 'swap', why: `${active.name} runs instances not on its current launch template version` };
  if (o.launchChanged) return { kind: 'swap', why: 'the update changes the launch template' };
  if (o.force) return { kind: 'swap', why: '--force' };
  return { kind: 'none', why: `${active.name} is up to date` };
}

export function encodeSwapRecord(r: SwapRecord): string {
  return JSON.stringify(r);
}

/** Processes suspended on both colors while a swap is under way (restored by the guard). */
export const SWAP_SUSPEND = ['AZRebalance', 'AlarmNotification', 'ScheduledActions'];

// --- planning -------------------------------------------------------------------------------

/** The seed's default when nothing else is known. */
export const DEFAULT_INSTANCE_COUNT = 8;

export interface SwapPlan {
  kind: 'swap';
  /** The active color (drained at the end); undefined on a first deploy. */
  from?: string;
  to: string;
  count: number;
  /** Instances added per step; each step serving before the next. */
  step: number;
  /** The ELBs the new color is judged by. */
  elbNames: string[];
  /** The ALB/NLB target groups the new color is judged by (healthy in each). */
  targetGroupArns?: string[];
  /** On target groups: the weighted forward and its steps (the drain waits for 100 %). */
  traffic?: TrafficPlan;
  /** The new color's min once it serves: the old color's min (capped at count). */
  targetMin?: number;
  /** Old color's instances when planned (reported as replaced). */
  replacing: string[];
  /** Resuming a swap an earlier run left unfinished (its record found on the groups). */
  resumed?: SwapRecord;
  summary: string;
}

export interface DrainPlan {
  kind: 'drain';
  group: string;
  summary: string;
}

/** `--single-asg`: drain the group to 0, then grow it back to `count` (downtime). */
export interface RefreshPlan {
  kind: 'refresh';
  group: string;
  count: number;
  step: number;
  elbNames: string[];
  /** Its min before the refresh, given back once it serves again. */
  targetMin: number;
  replacing: string[];
  /** Which half to (re)start: an earlier run's record says 'grow' once the drain finished. */
  phase: 'drain' | 'grow';
  resumed?: SwapRecord;
  summary: string;
}

export interface CleanUpPlan {
  kind: 'cleanUp';
  keep: string;
  drain: string;
  why: string;
  summary: string;
}

export interface NothingPlan {
  kind: 'nothing';
  summary: string;
}

export type AbPlan = SwapPlan | DrainPlan | RefreshPlan | CleanUpPlan | NothingPlan;

export interface AbPlanOptions {
  environment: string;
  /** `--instance-count` (undefined: the seed default 8, or the active color's with match). */
  instanceCount?: number;
  /** `--instance-count-match`: the active color's desired. */
  instanceCountMatch?: boolean;
  /** `--instance-count-step` (default: all at once). */
  instanceCountStep?: number;
  /** `--elb-name` (default: every classic ELB attached to the new color). */
  elbNames?: string[];
  /** Per group (deploy's manifest: each color its own ELB); used when `elbNames` is not given. */
  elbNamesByGroup?: Record<string, string[]>;
  zero?: boolean;
  singleAsg?: boolean;
  cleanUp?: boolean;
  /** `--traffic-steps` (target groups only; default all at once) and `--step-wait` (ms). */
  trafficSteps?: number[];
  stepWaitMs?: number;
}

/** Why a plan cannot be made: `exit` 2 (bad input) or 3 (refused by a precondition). */
export interface PlanRefusal {
  kind: 'refuse';
  exit: 2 | 3;
  code: string;
  message: string;
  data?: Record<string, unknown>;
}

export interface AbObserved {
  /** `<env>-a` / `<env>-b` (or the names the manifest gives); undefined when missing. */
  a?: GroupSnapshot;
  b?: GroupSnapshot;
  /** The names asked for (for messages when a group is missing). */
  names: { a: string; b: string };
  /** On target groups: the forwards to the colors' target groups (port.findForwards). */
  forwards?: TrafficForward[];
  /** On target groups: other groups' (or hand-registered) targets in the colors' target groups, and their groups (findNeighbours). */
  neighbours?: { targets: ForeignTarget[]; groupOf: Record<string, string> };
}

function refuse(exit: 2 | 3, code: string, message: string, data?: Record<string, unknown>): PlanRefusal {
  return { kind: 'refuse', exit, code, message, data };
}

function describeCount(g: GroupSnapshot): string {
  return `${g.name} (desired ${g.desired}, ${remainingInstances(g).length} instance(s))`;
}

/** Which ELBs judge `group`: the named ones (must be attached), else all attached. */
export function elbsFor(group: GroupSnapshot, named: string[] | undefined): string[] | PlanRefusal {
  if (!named || named.length === 0) return [...group.loadBalancerNames];
  const missing = named.filter((n) => !group.loadBalancerNames.includes(n));
  if (missing.length > 0) {
    return refuse(2, 'elb-not-attached', `--elb-name ${missing.join(', ')}: not attached to ${group.name} (attached: ${group.loadBalancerNames.join(', ') || 'none'})`, {
      flag: '--elb-name',
      value: missing,
      allowed: group.loadBalancerNames,
    });
  }
  return [...named];
}

function countFor(options: AbPlanOptions, active: GroupSnapshot | undefined): number {
  if (options.instanceCountMatch && active) return active.desired;
  return options.instanceCount ?? DEFAULT_INSTANCE_COUNT;
}

function stepFor(options: AbPlanOptions, count: number): number {
  const step = options.instanceCountStep ?? count;
  return Math.max(1, Math.min(step, count));
}

function elbText(elbs: string[], tgs: string[] = []): string {
  const tgText = tgs.length ? `healthy in target group ${tgs.map(targetGroupName).join(', ')}` : '';
  if (tgs.length && !elbs.length) return tgText;
  return elbs.length ? `InService in ELB ${elbs.join(', ')}${tgText ? ` and ${tgText}` : ''}` : 'no classic ELB attached: ASG health only';
}

/** True when the environment's colors are fronted by ALB/NLB target groups (the swap moves weights). */
export function onTargetGroups(a: GroupSnapshot | undefined, b: GroupSnapshot | undefined): boolean {
  return Boolean(a && b && a.targetGroupARNs.length > 0 && b.targetGroupARNs.length > 0);
}

/** The traffic part of a swap into `target` (other: the other color), or undefined without target groups. */
function trafficFor(target: GroupSnapshot, other: GroupSnapshot | undefined, options: AbPlanOptions, forwards: TrafficForward[] | undefined): TrafficPlan | PlanRefusal | undefined {
  if (!other || !onTargetGroups(target, other)) return undefined;
  return planTraffic(target, other, forwards ?? [], { steps: options.trafficSteps, stepWaitMs: options.stepWaitMs });
}

/** The plan for a swap from `active` (maybe none) to `target`; `other`: the other color (on a first deploy, the empty one). */
export function planSwap(active: GroupSnapshot | undefined, target: GroupSnapshot, options: AbPlanOptions, other: GroupSnapshot | undefined = active, forwards?: TrafficForward[]): SwapPlan | PlanRefusal {
  const count = countFor(options, active);
  if (count < 1) {
    return refuse(2, 'bad-instance-count', `instance count ${count} for ${target.name}: must be at least 1 (use --zero to empty the environment)`, {
      flag: options.instanceCountMatch ? '--instance-count-match' : '--instance-count',
      value: count,
      allowed: '>= 1',
    });
  }
  const elbs = elbsFor(target, options.elbNames ?? options.elbNamesByGroup?.[target.name]);
  if (!Array.isArray(elbs)) return elbs;
  const blocked = blockedProcesses(active, target);
  if (blocked) return blocked;
  const traffic = trafficFor(target, other, options, forwards);
  if (traffic?.kind === 'refuse') return traffic;
  const early = active && traffic && forwards ? currentShare(forwards, traffic.toTg, traffic.fromTg) : 0;
  if (early > 0) {
    // Why: the empty color already gets traffic (fail-open, or 503s); nothing recorded says a
    // swap is under way, so shifting from there would guess. The operator sets the weights first.
    return refuse(3, 'weights-invalid', `${target.name} has no instances but its target group ${targetGroupName(traffic!.toTg)} already carries ${early} % of the traffic, and no swap is recorded (tag ${SWAP_TAG}); give ${active!.name}'s target group all the weight first (nothing was changed)`, {
      asg: target.name,
      share: early,
    });
  }
  const tgs = traffic ? [traffic.toTg] : [];
  const step = stepFor(options, count);
  const targetMin = active ? Math.min(active.min, count) : undefined;
  const steps = step < count ? `, ${step} at a time, each step healthy before the next,` : ',';
  // Say it when the new color's count is not the active color's (e.g. --instance-count 8 over 4).
  const differs =
    active && count !== active.desired ? `, bringing up ${count} (the active color runs ${active.desired}${count < active.desired ? ': capacity drops after the swap' : ''})` : '';
  const standby = active ? active.instances.filter(isStandby).map((i) => i.instanceId) : [];
  const standbyText = standby.length ? `; ${standby.join(', ')} in Standby in ${active!.name}: not the tool's, left as they are and not waited for (StandbyInstances: Ignore)` : '';
  const shift = traffic ? `, shift traffic to ${target.name} (${describeSteps(traffic)}${traffic.forwards.length ? ` on ${traffic.forwards.map((f) => f.kind).join(', ')}` : ''})` : '';
  const summary = active
    ? `swap ${active.name} → ${target.name}: scale ${target.name} ${target.desired} → ${count}${differs}${steps} wait for ASG InService+Healthy and ${elbText(elbs, tgs)}${shift}, then drain ${active.name} (desired ${active.desired} → 0)${standbyText}`
    : `first deploy into ${target.name} (neither color has instances): scale ${target.name} 0 → ${count}${steps} then wait for ASG InService+Healthy and ${elbText(elbs, tgs)}${shift}`;
  return {
    kind: 'swap',
    from: active?.name,
    to: target.name,
    count,
    step,
    elbNames: elbs,
    ...(traffic ? { targetGroupArns: tgs, traffic } : {}),
    targetMin,
    replacing: active ? remainingInstances(active).map((i) => i.instanceId) : [],
    summary,
  };
}

/** A swap needs Launch on the new color and Terminate on the old one: refuse up front if suspended. */
function blockedProcesses(active: GroupSnapshot | undefined, target: GroupSnapshot): PlanRefusal | undefined {
  if (target.suspendedProcesses.includes('Launch')) {
    return refuse(3, 'process-suspended', `${target.name} has the Launch process suspended: it could never grow; resume it first (nothing was changed)`, { asg: target.name, process: 'Launch' });
  }
  if (active?.suspendedProcesses.includes('Terminate')) {
    return refuse(3, 'process-suspended', `${active.name} has the Terminate process suspended: it could never drain; resume it first (nothing was changed)`, { asg: active.name, process: 'Terminate' });
  }
  const pinned = active?.instances.filter((i) => !isLeaving(i) && i.protectedFromScaleIn) ?? [];
  if (active && pinned.length > 0) {
    return refuse(3, 'scale-in-protected', `${active.name}: ${pinned.map((i) => i.instanceId).join(', ')} protected from scale-in: draining it could never finish; remove the protection first (nothing was changed)`, {
      asg: active.name,
      instanceIds: pinned.map((i) => i.instanceId),
    });
  }
  return undefined;
}

/** Resume the swap an earlier run recorded on the groups, with its count and step. */
function planResume(record: SwapRecord, byName: Map<string, GroupSnapshot>, options: AbPlanOptions, forwards?: TrafficForward[]): SwapPlan | PlanRefusal {
  const to = byName.get(record.to)!;
  const from = record.from ? byName.get(record.from) : undefined;
  const elbs = elbsFor(to, options.elbNames ?? options.elbNamesByGroup?.[to.name]);
  if (!Array.isArray(elbs)) return elbs;
  const other = from ?? [...byName.values()].find((g) => g.name !== to.name);
  const traffic = trafficFor(to, other, { ...options, trafficSteps: options.trafficSteps ?? record.steps, stepWaitMs: options.stepWaitMs ?? record.stepWaitMs }, forwards);
  if (traffic?.kind === 'refuse') return traffic;
  const committed = from !== undefined && isDrainStarted(from);
  const at = new Date(record.since).toISOString();
  return {
    kind: 'swap',
    from: from?.name,
    to: to.name,
    count: record.count,
    step: record.step,
    elbNames: elbs,
    ...(traffic ? { targetGroupArns: [traffic.toTg], traffic } : {}),
    targetMin: from ? Math.min(Math.max(from.min, to.min), record.count) : undefined,
    replacing: from ? remainingInstances(from).map((i) => i.instanceId) : [],
    resumed: record,
    summary: committed
      ? `resuming the swap ${from!.name} → ${to.name} left unfinished by an earlier run (started ${at}): ${to.name} serves, waiting for ${from!.name} to finish draining`
      : `resuming the swap ${from ? `${from.name} → ` : 'into '}${to.name} left unfinished by an earlier run (started ${at}): scale ${to.name} to ${record.count}, wait for ASG InService+Healthy and ${elbText(elbs, traffic ? [traffic.toTg] : [])}${traffic ? `, shift traffic to ${to.name} (${describeSteps(traffic)}; it has ${forwards ? currentShare(forwards, traffic.toTg, traffic.fromTg) : 0} % now)` : ''}${from ? `, then drain ${from.name}` : ''}`,
  };
}

/**
 * Which color to keep when both are populated (`--clean-up`), and why.
 * 1. The color whose instances all run its group's current launch template version, when the
 *    other's do not — but only if it is fully serving: keeping an up-to-date color that does not
 *    serve (a bad image) would drain the only healthy instances, breaking invariant 1.
 * 2. Failing that, the one with more serving instances; 3. ties: color a.
 */
export function chooseKeep(a: GroupSnapshot, b: GroupSnapshot, elbNames?: string[]): { keep: GroupSnapshot; drain: GroupSnapshot; why: string } {
  const servingOf = (g: GroupSnapshot) => servingInstances(g, elbNames ?? g.loadBalancerNames).length;
  const sa = servingOf(a);
  const sb = servingOf(b);
  const fullyServing = (g: GroupSnapshot, s: number) => s > 0 && s >= remainingInstances(g).filter((i) => !isLeaving(i)).length;
  const ua = isUpToDate(a);
  const ub = isUpToDate(b);
  if (ua !== ub) {
    const [up, other, s] = ua ? [a, b, sa] : [b, a, sb];
    if (fullyServing(up, s)) {
      return { keep: up, drain: other, why: `${up.name} runs its group's current launch template version and all ${s} of its instances serve; ${other.name} runs an older one` };
    }
  }
  const versionNote = ua === ub ? (ua ? 'both run their current launch template version' : 'neither runs its current launch template version') : 'the up-to-date color is not fully serving';
  if (sa !== sb) {
    const [keep, drain] = sa > sb ? [a, b] : [b, a];
    return { keep, drain, why: `${versionNote}; ${keep.name} has more serving instances (${Math.max(sa, sb)} vs ${Math.min(sa, sb)})` };
  }
  return { keep: a, drain: b, why: `${versionNote} and both have ${sa} serving instance(s); keeping color a by convention` };
}

/**
 * From what is observed and the options to a plan, or a refusal (exit 2/3, nothing changed).
 * Follows the seed's "Process": both populated → refuse (unless --clean-up); neither → first
 * deploy into a; otherwise populate the empty color and drain the active one.
 */
export function planAb(observed: AbObserved, options: AbPlanOptions): AbPlan | PlanRefusal {
  const fronted = frontingRefusal(observed, options);
  if (fronted) return fronted;
  if (options.singleAsg) return planSingle(observed.a, observed.names.a, options);
  const { a, b } = observed;
  const missing = [a ? undefined : observed.names.a, b ? undefined : observed.names.b].filter(Boolean);
  if (!a || !b) {
    return refuse(2, 'unknown-group', `environment ${options.environment}: no Auto Scaling Group ${missing.join(' or ')} (A/B needs both colors; --single-asg for a group named ${options.environment})`, {
      missing,
    });
  }
  // Why: the weights and the drain would move a third group's traffic too (target-group-neighbours.ts).
  const shared = observed.neighbours && onTargetGroups(a, b) && !options.zero ? judgeNeighbours('ab', options.environment, observed.neighbours.targets, observed.neighbours.groupOf) : undefined;
  if (shared?.kind === 'refuse') return refuse(shared.exit, shared.code, shared.message, shared.data);
  const pa = isPopulated(a);
  const pb = isPopulated(b);

  const record = pendingSwap(a, b);
  const byName = new Map([a, b].map((g) => [g.name, g]));
  if (record) {
    if (options.zero || options.cleanUp) {
      return refuse(3, 'swap-in-progress', `a swap ${record.from ?? ''} → ${record.to} started ${new Date(record.since).toISOString()} was left unfinished (tag ${SWAP_TAG}); run 'ab --environment ${options.environment}' without --zero/--clean-up to finish it first (nothing was changed)`, {
        record,
      });
    }
    return planResume(record, byName, options, observed.forwards);
  }

  if (pa && pb) {
    if (!options.cleanUp) {
      return refuse(3, 'both-populated', `both colors have instances: ${describeCount(a)} and ${describeCount(b)}; the tool cannot know which to clear, so nothing was changed (--clean-up decides by launch template version and health)`, {
        a: a.name,
        b: b.name,
        desired: { [a.name]: a.desired, [b.name]: b.desired },
      });
    }
    const { keep, drain, why } = chooseKeep(a, b, options.elbNames);
    const carrying = onTargetGroups(a, b) ? weightOn(observed.forwards ?? [], drain) : 0;
    if (carrying > 0) {
      // Why: draining a color that still carries weight would send its share to deregistering targets.
      return refuse(3, 'drain-carries-weight', `--clean-up would keep ${keep.name} and drain ${drain.name} (${why}), but ${drain.name}'s target group still carries weight ${carrying} in the listener's forward; shift the traffic to ${keep.name} first (nothing was changed)`, {
        keep: keep.name,
        drain: drain.name,
        weight: carrying,
      });
    }
    return { kind: 'cleanUp', keep: keep.name, drain: drain.name, why, summary: `clean up: keep ${keep.name}, drain ${drain.name} (desired ${drain.desired} → 0): ${why}` };
  }

  if (options.zero) {
    if (!pa && !pb) return { kind: 'nothing', summary: `both ${a.name} and ${b.name} are empty: nothing to zero` };
    const active = pa ? a : b;
    return { kind: 'drain', group: active.name, summary: `zero ${active.name}: desired ${active.desired} → 0, min ${active.min} → 0, relying on connection draining` };
  }
  // `--clean-up` with at most one color populated has nothing to clean: the ordinary swap runs.
  if (!pa && !pb) return planSwap(undefined, a, options, b, observed.forwards);
  return pa ? planSwap(a, b, options, a, observed.forwards) : planSwap(b, a, options, b, observed.forwards);
}

/** The largest weight the group's target groups carry in any of the forwards. */
export function weightOn(forwards: readonly TrafficForward[], g: GroupSnapshot): number {
  return Math.max(0, ...forwards.flatMap((f) => g.targetGroupARNs.map((tg) => f.weights[tg] ?? 0)));
}

/**
 * What stays unsupported on ELBv2 (nothing changed): a pair where one color is on ALB/NLB target
 * groups and the other is not (exit 3: the weights could only move half of the traffic), and
 * `--traffic-steps` where there is no target group to shift traffic between (exit 2).
 */
export function frontingRefusal(observed: AbObserved, options: AbPlanOptions): PlanRefusal | undefined {
  const { a, b } = observed;
  if (options.singleAsg) {
    if (options.trafficSteps) return refuse(2, 'usage', `--traffic-steps: --single-asg has no second color to shift traffic to`, { flag: '--traffic-steps', allowed: 'without --single-asg' });
    // Stays unsupported: a refresh of one group behind a target group has no weights to move, and
    // its downtime is better served by `roll` (which waits for target health, without downtime).
    if (a && a.targetGroupARNs.length > 0 && !options.zero) {
      return refuse(3, 'target-groups-unsupported', `--single-asg: ${a.name} is attached to ALB/NLB target group(s) ${a.targetGroupARNs.map(targetGroupName).join(', ')}; refreshing a single group there is not supported: use 'asg-deploy roll --asg ${a.name}' (it waits for target health, without downtime). Nothing was changed`, {
        groups: [a.name],
        targetGroups: a.targetGroupARNs,
      });
    }
    return undefined;
  }
  const withTg = [a, b].filter((g): g is GroupSnapshot => Boolean(g && g.targetGroupARNs.length > 0));
  if (a && b && withTg.length === 1 && !options.zero) {
    const other = withTg[0] === a ? b : a;
    return refuse(3, 'mixed-load-balancers', `environment ${options.environment}: ${withTg[0].name} is attached to ALB/NLB target group(s) ${withTg[0].targetGroupARNs.map(targetGroupName).join(', ')} but ${other.name} ${other.loadBalancerNames.length ? `only to classic ELB(s) ${other.loadBalancerNames.join(', ')}` : 'to none'}: an A/B pair must be fronted the same way (both by classic ELBs, or both by target groups in one weighted forward); nothing was changed`, {
      groups: [a.name, b.name],
      targetGroups: withTg[0].targetGroupARNs,
    });
  }
  if (options.trafficSteps && a && b && withTg.length === 0 && !options.zero) {
    return refuse(2, 'usage', `--traffic-steps ${options.trafficSteps.join(',')}: ${a.name} and ${b.name} are not on ALB/NLB target groups, so there is no weighted forward to shift (classic ELBs switch all at once)`, {
      flag: '--traffic-steps',
      allowed: 'an environment whose colors are attached to target groups',
    });
  }
  return undefined;
}

function planSingle(group: GroupSnapshot | undefined, name: string, options: AbPlanOptions): AbPlan | PlanRefusal {
  if (!group) return refuse(2, 'unknown-group', `--single-asg: no Auto Scaling Group named ${name}`, { missing: [name] });
  if (options.zero) {
    if (!isPopulated(group)) return { kind: 'nothing', summary: `${group.name} is empty: nothing to zero` };
    return { kind: 'drain', group: group.name, summary: `zero ${group.name}: desired ${group.desired} → 0, min ${group.min} → 0` };
  }
  const count = options.instanceCountMatch && group.desired > 0 ? group.desired : options.instanceCount ?? DEFAULT_INSTANCE_COUNT;
  if (count < 1) return refuse(2, 'bad-instance-count', `instance count ${count}: must be at least 1 (use --zero to empty ${group.name})`, { flag: '--instance-count', value: count, allowed: '>= 1' });
  const elbs = elbsFor(group, options.elbNames ?? options.elbNamesByGroup?.[group.name]);
  if (!Array.isArray(elbs)) return elbs;
  const record = readSwapRecord(group);
  if (record?.mode === 'refresh' && record.to === group.name) {
    const phase = record.phase === 'grow' || (!isPopulated(group) && remainingInstances(group).length === 0) ? 'grow' : 'drain';
    return {
      kind: 'refresh',
      group: group.name,
      count: record.count,
      step: record.step,
      elbNames: elbs,
      targetMin: Math.min(record.min ?? group.min, record.count),
      replacing: remainingInstances(group).map((i) => i.instanceId),
      phase,
      resumed: record,
      summary: `resuming the refresh of ${group.name} left unfinished by an earlier run (started ${new Date(record.since).toISOString()}): ${phase === 'drain' ? 'finish draining it, then ' : ''}scale to ${record.count} and wait for ASG InService+Healthy and ${elbText(elbs)} (single group: downtime until then)`,
    };
  }
  const step = stepFor(options, count);
  const populated = isPopulated(group);
  return {
    kind: 'refresh',
    group: group.name,
    count,
    step,
    elbNames: elbs,
    targetMin: Math.min(group.min, count),
    replacing: remainingInstances(group).map((i) => i.instanceId),
    phase: populated || remainingInstances(group).length > 0 ? 'drain' : 'grow',
    summary: populated
      ? `refresh ${group.name} (single group, no A/B: THIS MEANS DOWNTIME): drain it to 0, then scale 0 → ${count}${step < count ? `, ${step} at a time,` : ''} and wait for ASG InService+Healthy and ${elbText(elbs)}`
      : `${group.name} is empty: scale 0 → ${count}${step < count ? `, ${step} at a time,` : ''} and wait for ASG InService+Healthy and ${elbText(elbs)}`,
  };
}

// --- deciding -------------------------------------------------------------------------------

/** What the runner remembers between turns (not observable from AWS). */
export interface GrowProgress {
  /** Clock ms when the current step began (the last change of the new color's desired). */
  stepStartedAt: number;
  /** `--health-check-timeout` in ms, per step. */
  healthCheckTimeoutMs: number;
}

/** "i-1 Pending; i-2 OutOfService in ELB qa-b: Instance has failed at least the UnhealthyThreshold…" */
export function describeUnhealthy(g: GroupSnapshot, elbNames: readonly string[], targetGroupArns: readonly string[] = []): Array<{ instanceId: string; state: string; detail: string }> {
  return g.instances
    .filter((i) => !isLeaving(i) && !isServing(i, elbNames, targetGroupArns))
    .map((i) => {
      const parts = [`${i.lifecycleState}/${i.healthStatus} in the ASG`];
      for (const tg of targetGroupArns) {
        const h = i.targetHealth?.[tg];
        if (!h) parts.push(`not registered in target group ${targetGroupName(tg)}`);
        else if (h.state !== 'healthy') parts.push(`${h.state} in target group ${targetGroupName(tg)}${h.reason ? ` (${h.reason})` : ''}${h.description ? `: ${h.description}` : ''}`);
      }
      for (const elb of elbNames) {
        const h = i.elb[elb];
        if (!h) parts.push(`not registered in ELB ${elb}`);
        else if (h.state !== 'InService') parts.push(`${h.state} in ELB ${elb}${h.description ? `: ${h.description}` : ''}${h.reasonCode && h.reasonCode !== 'N/A' ? ` (reason ${h.reasonCode})` : ''}`);
      }
      return { instanceId: i.instanceId, state: i.lifecycleState, detail: `${i.instanceId} ${parts.join(', ')}` };
    });
}

/**
 * Grow `group` to `count`, `step` at a time, each step serving before the next; done once
 * `count` instances serve. Aborts when a step is not serving within the health-check timeout.
 */
export function decideGrow(
  g: GroupSnapshot,
  target: { count: number; step: number; elbNames: readonly string[]; targetGroupArns?: readonly string[] },
  progress: GrowProgress,
  now: number,
): Action {
  const tgs = target.targetGroupArns ?? [];
  const serving = servingInstances(g, target.elbNames, tgs).length;
  if (g.desired < target.count) {
    // Why wait for the step: growing before the previous step serves would hide a bad image
    // behind more bad instances; each step must prove itself.
    if (serving >= g.desired) {
      const next = Math.min(target.count, g.desired + target.step);
      const reason = `scale ${g.name} ${g.desired} → ${next}${next < target.count ? ` (step toward ${target.count})` : ''}`;
      return next > g.max
        ? { kind: 'updateSizes', group: g.name, desired: next, max: next, reason: `${reason}, raising max size ${g.max} → ${next}` }
        : { kind: 'setDesired', group: g.name, desired: next, reason };
    }
  } else if (serving >= target.count) {
    return done(`${g.name}: ${serving} instance(s) serving`);
  }
  const want = Math.min(g.desired, target.count);
  const elapsed = now - progress.stepStartedAt;
  if (elapsed >= progress.healthCheckTimeoutMs) {
    const unhealthy = describeUnhealthy(g, target.elbNames, tgs);
    const launched = g.instances.filter((i) => !isLeaving(i)).length;
    const detail = unhealthy.length
      ? unhealthy.map((u) => u.detail).join('; ')
      : launched < want
        ? `only ${launched} of ${want} instance(s) launched (see the group's scaling activities)`
        : 'no instance detail';
    return abort(
      'ab.unhealthy',
      `${g.name}: ${serving} of ${want} instance(s) serving after ${Math.round(elapsed / 1000)} s (--health-check-timeout ${Math.round(progress.healthCheckTimeoutMs / 1000)} s): ${detail}`,
      { asg: g.name, serving, wanted: want, seconds: Math.round(elapsed / 1000), unhealthy },
    );
  }
  return wait(`${g.name}: ${serving}/${want} serving (${elbText([...target.elbNames], [...tgs])})`);
}

export interface DrainProgress {
  /** Clock ms when the drain began (undefined: not yet). */
  drainStartedAt?: number;
  /** Give up waiting for the drain after this long (ELB draining timeout + margin). */
  drainTimeoutMs?: number;
  /**
   * The snapshot carries the group's ELB health: the drain is done once every instance is out of
   * service ({@link isDrained}), not when EC2 has shut them all down. Without it: when empty.
   */
  elbChecked?: boolean;
}

/** Drain `g`: desired and min to 0 (connection draining does the rest), then wait until empty. */
export function decideDrain(g: GroupSnapshot, progress: DrainProgress = {}, now = 0): Action {
  if (!isDrainStarted(g)) {
    const again = progress.drainStartedAt !== undefined ? ' again (its desired rose during the drain: someone put an instance back in service)' : '';
    return { kind: 'updateSizes', group: g.name, desired: 0, min: 0, reason: `drain ${g.name}${again}: desired ${g.desired} → 0, min ${g.min} → 0 (the ELB's connection draining lets requests finish)` };
  }
  const left = progress.elbChecked ? g.instances.filter((i) => !isDrained(i, g.loadBalancerNames, g.targetGroupARNs)) : remainingInstances(g);
  if (left.length === 0) return done(progress.elbChecked && g.instances.length ? `${g.name} is drained (its instances are out of service, shutting down)` : `${g.name} is empty`);
  const listed = left.map((i) => `${i.instanceId} ${i.lifecycleState}`).join(', ');
  if (progress.drainStartedAt !== undefined && progress.drainTimeoutMs !== undefined && now - progress.drainStartedAt >= progress.drainTimeoutMs) {
    return abort('ab.drain-timeout', `${g.name}: still ${left.length} instance(s) after ${Math.round((now - progress.drainStartedAt) / 1000)} s of draining (${listed}); the drain was asked for (desired 0) and continues — re-run to wait for it`, {
      asg: g.name,
      remaining: left.map((i) => i.instanceId),
    });
  }
  return wait(`draining ${g.name}: ${left.length} instance(s) left (${listed})`);
}

/**
 * One turn of a swap: grow the new color; once it serves, hand it the old color's min; then
 * drain the old color and wait until it is empty. Once the old color's drain has begun the
 * swap is committed and only finishing it remains (a re-run after a crash lands here too).
 */
export function decideSwap(
  groups: { from?: GroupSnapshot; to: GroupSnapshot; forwards?: readonly TrafficForward[] },
  plan: Pick<SwapPlan, 'count' | 'step' | 'elbNames' | 'targetMin' | 'targetGroupArns' | 'traffic'> & { suspend?: readonly string[] },
  progress: GrowProgress & DrainProgress & { heldSince?: number },
  now: number,
): Action {
  const { from, to } = groups;
  // Committed once the drain began (progress.drainStartedAt): only finishing it remains — also when
  // someone put an instance of the old color back in service (ExitStandby raised its desired again):
  // it is drained anew (chaos seed 1818288112 waited forever for the traffic's weights instead).
  if (from && (isDrainStarted(from) || progress.drainStartedAt !== undefined)) return decideDrain(from, progress, now);
  const traffic = plan.traffic;
  const share = traffic && groups.forwards ? currentShare(groups.forwards, traffic.toTg, traffic.fromTg) : 0;
  // Why suspend: a scheduled action, an alarm or AZRebalance must not resize or reshuffle either
  // color while it is being judged (the guard records them and resumes them at the end).
  for (const g of [to, from]) {
    const missing = g ? (plan.suspend ?? []).filter((p) => !g.suspendedProcesses.includes(p)) : [];
    if (g && missing.length) return { kind: 'suspend', group: g.name, processes: missing, reason: `hold ${missing.join(', ')} on ${g.name} during the swap` };
  }
  // Once the new color carries traffic, it is judged by the traffic phase: short of its count → abort
  // at once (the cleanup shifts the weights back), never a wait for the health-check timeout.
  // (A first deploy's color may hold the program's initial weight before it has instances: that
  // weight was not the tool's, so it grows first.)
  const grow = share > 0 && from && to.desired >= plan.count ? done('serving') : decideGrow(to, plan, progress, now);
  if (grow.kind !== 'done') return grow;
  if (traffic) {
    if (!groups.forwards) return wait(`${to.name}: reading the listener's weights`);
    const serving = servingInstances(to, plan.elbNames, plan.targetGroupArns ?? []).length;
    const t = decideTraffic(groups.forwards, { ...traffic, count: plan.count, to: to.name }, serving, progress.heldSince, now);
    if (t.kind !== 'done') return t;
  }
  if (!from) return grow;
  if (plan.targetMin !== undefined && to.min < plan.targetMin) {
    return { kind: 'updateSizes', group: to.name, min: plan.targetMin, reason: `${to.name} serves: min ${to.min} → ${plan.targetMin} (the floor moves to the new color)` };
  }
  return decideDrain(from);
}
