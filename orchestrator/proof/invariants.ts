/**
 * The invariant checker: docs/design.md's safety invariants plus the chaos suite's outcome rules,
 * judged from plain facts about one run (what the sandbox's safety monitor and call log recorded,
 * and what each tool invocation returned). Pure: facts in, violations out, so it is tested by
 * feeding it records with a violation and asserting that it reports it.
 *
 * The facts are gathered by ./run.ts from the simulated AWS; this file knows nothing about it.
 */
import type { Expectation, Strategy } from './scenario';

/** One invocation of the tool during a run (the first, and the re-run after a crash or SIGINT). */
export interface Attempt {
  /** 'crash' when the simulated kill -9 cut it short; 'run' otherwise. */
  kind: 'run' | 'crash' | 'sigint' | 'rerun';
  /** The client set it ran with (the sandbox's call log and monitor attribute calls to it). */
  actor?: string;
  /** Exit code the CLI would have returned (0, 1, 2, 3, 130), or undefined after a crash. */
  exit?: number;
  /** DeployError code, when it failed. */
  code?: string;
  message?: string;
  /** RolloutResult status when it returned. */
  status?: 'done' | 'noop' | 'planned';
  /** `--rollback` (rolling): what the rollback did, from the error's `data.rollback.status`. */
  rollback?: string;
  /** `--rollback` (rolling): the alarms its rollback reported in ALARM while rolling back (`data.rollback.alarms`). */
  rollbackAlarms?: string[];
  /** The operator's re-run without `--rollback` after a `rollback-several-versions` refusal (run.ts). */
  withoutRollback?: boolean;
  /** A `drain-carries-weight` refusal: the color it names as the one `--clean-up` would drain (`data.drain`). */
  drain?: string;
  /** Simulated time the tool reported a halt of its own (`rollout.failed` at error level; an interrupt reports it as a warning). */
  haltReportedAt?: number;
  /**
   * Simulated time the harness's SIGINT landed on this attempt — kept on a 'crash' too, when a
   * kill -9 then cut short the cleanup that SIGINT started (scenario.ts drawAimedSignal `killAfter`).
   */
  sigintAt?: number;
}

/** A termination of an instance that the tool's API call caused (directly or by a scale-in). */
export interface ToolTermination {
  instanceId: string;
  group: string;
  time: number;
  operation: string;
  /** Serving (ASG InService+Healthy and InService in every ELB) when it was terminated. */
  wasHealthy: boolean;
  /** Launched from the group's target launch template version. */
  wasUpToDate: boolean;
  /** In the plan: outdated at the start (rolling), or the old color (A/B, after the new one was healthy). */
  planned: boolean;
  /** Healthy serving count of the protected set once everything at that instant happened. */
  healthyAfter?: number;
  /** The floor at that moment, when it differs from the run's (A/B: the new color's size once it is healthy). */
  floor?: number;
  /**
   * Healthy protected instances AWS had terminated spontaneously and not yet made good at that
   * moment, when the termination cannot touch the protected set itself (an A/B scale-back of the
   * new color before it serves): the tool is judged against the floor minus this. Undefined: no
   * allowance (every other termination is a choice the tool made after observing).
   */
  awsShortfall?: number;
  /**
   * Rolling, back to capacity (issue 10): the tool named this instance and terminated it WITH
   * decrement (TerminateInstanceInAutoScalingGroup, ShouldDecrementDesiredCapacity) — an explicit
   * surplus pick, not a scale-in left to AWS's termination policy. With it, at that instant: live
   * instances of the group left (not Standby, not terminating), outdated ones among them that the
   * tool could have taken instead (not protected from scale-in), and the group's capacity (the
   * configured size plus the instances someone put back from Standby).
   */
  surplusPick?: { liveAfter: number; outdatedLeft: number; capacity: number };
  /** The attempt whose call caused it (Attempt.actor); undefined when not known. */
  actor?: string;
  /**
   * Healthy instances the simulated AWS itself took (an application failing after it had passed, a
   * spontaneous or rebalancing termination, someone's Standby) between the tool's call and this
   * termination, when AWS acted later than the call (a scale-in after UpdateAutoScalingGroup): the
   * tool decided on what it saw at its call, so these count as still serving here (run.ts lostSinceCall).
   */
  lostSinceCall?: number;
}

export interface Leftover {
  group: string;
  /** 'suspended' | 'protection' | 'max' | 'min' | 'desired' | 'tag' | ... */
  what: string;
  detail: string;
}

export interface FinalState {
  /** Every instance in the serving group(s) on the target version, InService and healthy. */
  allUpToDateAndHealthy: boolean;
  /** Desired and the in-service count equal the configured capacity (and the old color is empty, A/B). */
  capacityAsConfigured: boolean;
  /** Healthy old instances still serving (rolling: outdated healthy; A/B: old color healthy). */
  oldHealthyServing: number;
  /** Healthy serving instances in total at the end. */
  healthyServing: number;
  /** Human detail for the report. */
  detail: string;
}

/**
 * A/B on target groups (issue 14): what the tool did to the weighted forward (traffic-watch.ts).
 */
export interface TrafficFacts {
  /** Each ModifyListener/ModifyRule the tool made: per target group, weight before/after, healthy targets then, what the plan requires. */
  changes: Array<{ time: number; groups: Array<{ tg: string; before: number; after: number; healthy: number; required: number; desired?: number }> }>;
  /** The tool lowered a color's desired while its target group carried weight. */
  scaleInsUnderWeight: Array<{ group: string; time: number; weight: number; desired: { from: number; to: number } }>;
  /** After each attempt that exited (not a kill -9): the weights and healthy targets. */
  atExit: Array<{ after: string; time: number; groups: Array<{ tg: string; weight: number; healthy: number }> }>;
  /** The run's faults can take healthy targets away on their own (spontaneous terminations, a version failing after it passed). */
  exogenous: boolean;
}

export interface RunFacts {
  strategy: Strategy;
  expect: Expectation;
  dryRun: boolean;
  attempts: Attempt[];
  /**
   * Invariant 1's floor: rolling minHealthy; A/B the old color's healthy count (capped at the new
   * color's size once that is healthy).
   */
  requiredHealthy: number;
  /**
   * Minimum healthy serving count over the run's window, at every single change (no merging of
   * same-millisecond changes, within a group or across colors), counting as still serving each
   * instance the simulated AWS itself took (spontaneous termination, AZ rebalancing) or whose
   * application failed after it had passed, until another instance starts serving in its place.
   */
  observedMinHealthy: number;
  /** When it was at that minimum (clock ms), for the report. */
  observedMinAt?: number;
  /** AWS's own losses (as in observedMinHealthy) not yet made good at the end: excused from a halt's serving count. */
  excusedAtEnd: number;
  /** Healthy serving count at the start (the floor cannot exceed what was there). */
  healthyAtStart: number;
  toolTerminations: ToolTermination[];
  /** How many the plan allows to terminate: outdated at start (rolling), old color (A/B). */
  plannedTerminations: number;
  /** Mutating AWS calls the tool made (invariant 4: a dry run makes none). */
  mutatingCalls: number;
  /**
   * Mutating AWS calls besides taking, renewing and releasing the deploy lock (invariant 6: a
   * refused run makes none), and which (API name × count) for the report. Undefined: not counted.
   */
  mutatingBesidesLock?: number;
  mutatingBesidesLockOps?: string[];
  leftovers: Leftover[];
  /** The deploy lock (S3 object or lock tag) still present after the last attempt. */
  lockHeld: boolean;
  /** The lock was held by someone else before the run (a 'locked' scenario): it must stay. */
  foreignLock: boolean;
  final: FinalState;
  /** The run did not finish (real-time or simulated-time watchdog). */
  hung?: string;
  /** A/B on target groups: the weighted forward's facts (undefined: classic ELBs). */
  traffic?: TrafficFacts;
  // --- rolling classes of issue 10 ---
  /** A newer launch template version was published mid-run: a clean halt (exit 3, launch-template-changed) is allowed. */
  launchTemplateChanged?: boolean;
  /**
   * A drawn throttling storm overlaps the ten minutes before each `stale-reads` halt: looks may then
   * stay stale back to back for the transient budget, so the halt is allowed. Otherwise (chaos's
   * latencies stay ≤ 600 ms a call) it never is: a look read at once is fresh, and such a halt
   * means the tool spread its reads out again.
   */
  staleReadsExcused?: boolean;
  /** Ended a successful roll with a zone more than one instance above another (what, for the report). */
  unbalanced?: string;
  /** The clean-up-confirm class (A/B): not exercised, or refused for another reason than the changed premise. */
  cleanUpProblem?: string;
  // --- real-world classes of issue 15 ---
  /** The tool terminated an instance its --standby / --protected policy told it to leave (what, for the report). */
  policyBreach?: string;
  // --- rollback of a rolling rollout (issue 16 item 4) ---
  /** `--rollback`: the failed run did not end rolled back to the previous version (what, for the report). */
  rollbackProblem?: string;
}

export type ViolationCode =
  | 'min-healthy' // invariant 1
  | 'terminated-healthy-up-to-date' // invariant 2
  | 'terminated-more-than-planned' // invariant 2
  | 'leftover' // invariant 3
  | 'rerun-not-finished' // invariant 3
  | 'dry-run-mutated' // invariant 4
  | 'refused-mutated' // invariant 6
  | 'not-halted' // invariant 5
  | 'old-not-serving' // invariant 5
  | 'outcome' // ended neither done nor halted as expected
  | 'interrupt-exit' // SIGINT must end with exit 130 after cleanup
  | 'lock-held'
  | 'internal-error' // an unexpected exception: a bug, whatever the outcome
  | 'unbalanced' // a successful roll left AZRebalance something to move
  | 'weight-to-unhealthy' // A/B on target groups: weight given to a target group short of what the plan requires
  | 'scaled-in-under-weight' // A/B on target groups: a color scaled in while it carried weight
  | 'weights-at-exit' // A/B on target groups: after an exit, weight on a target group with no healthy target
  | 'policy' // terminated an instance in Standby / protected from scale-in its policy said to leave
  | 'rollback' // --rollback: a failed rolling run did not end on the previous version, every instance on it
  | 'alarm-not-reported' // --rollback: the rollback read an alarm in ALARM and its outcome did not name it
  | 'hung';

export interface Violation {
  code: ViolationCode;
  message: string;
}

const DONE = 0;
const FAILED = 1;
const REFUSED = 3;
const INTERRUPTED = 130;

/**
 * A surplus pick at back to capacity (invariant 2's one exception): terminated with decrement by
 * the tool's explicit choice, no outdated instance it could have taken instead live at that
 * instant, and at least the capacity still live after it. E.g. capacity 15, 16 live, nothing
 * outdated → one goes, 15 left: sound; 15 live → 14 left: a violation; an outdated one left: a violation.
 */
export function isSurplusPick(t: ToolTermination): boolean {
  const p = t.surplusPick;
  return p !== undefined && p.outdatedLeft === 0 && p.liveAfter >= p.capacity;
}

/** Every violation in one run's facts; empty when the run is sound. */
export function checkRun(f: RunFacts): Violation[] {
  const v: Violation[] = [];
  const add = (code: ViolationCode, message: string) => v.push({ code, message });

  if (f.hung) {
    add('hung', f.hung);
    return v;
  }

  // 1. Never below the minimum healthy count.
  const floor = Math.min(f.requiredHealthy, f.healthyAtStart);
  // Judged over time in every scenario; AWS's own losses are excused per instance (observedMinHealthy).
  if (f.observedMinHealthy < floor) {
    add('min-healthy', `healthy serving count (with AWS's own unreplaced losses counted as serving) fell to ${f.observedMinHealthy}${f.observedMinAt !== undefined ? ` at ${new Date(f.observedMinAt).toISOString()}` : ''}, below the floor ${floor}`);
  }
  for (const t of f.toolTerminations) {
    const shortfall = t.awsShortfall ?? 0;
    const at = Math.min(t.floor ?? floor, f.healthyAtStart) - shortfall;
    if (t.wasHealthy && t.healthyAfter !== undefined && t.healthyAfter + (t.lostSinceCall ?? 0) < at) {
      const why = shortfall > 0 ? `, after ${shortfall} spontaneous termination(s) by AWS not yet replaced` : '';
      add('min-healthy', `${t.operation} terminated healthy ${t.instanceId} in ${t.group} at ${new Date(t.time).toISOString()}, leaving ${t.healthyAfter} healthy (floor ${at}${why})`);
    }
  }

  // 2. Never a healthy up-to-date instance; never more than planned. One refinement (docs/design.md
  // invariant 2): at back to capacity the tool may name a surplus healthy up-to-date instance and
  // terminate it with decrement — when no outdated instance it could take instead is left and the
  // group keeps at least its capacity live (isSurplusPick).
  for (const t of f.toolTerminations) {
    if (t.wasHealthy && t.wasUpToDate && !t.planned && !isSurplusPick(t)) {
      add('terminated-healthy-up-to-date', `${t.operation} terminated healthy up-to-date ${t.instanceId} in ${t.group}`);
    }
  }
  // The plan's count is of outdated instances; an A/B scale-back of the new color is planned but not counted here.
  const plannedDone = new Set(f.toolTerminations.filter((t) => t.planned && !t.wasUpToDate).map((t) => t.instanceId)).size;
  const unplannedHealthy = f.toolTerminations.filter((t) => !t.planned && t.wasHealthy && !isSurplusPick(t)).length;
  if (plannedDone > f.plannedTerminations) {
    add('terminated-more-than-planned', `terminated ${plannedDone} planned instances, the plan had ${f.plannedTerminations}`);
  }
  if (unplannedHealthy > 0 && !v.some((x) => x.code === 'terminated-healthy-up-to-date')) {
    add('terminated-more-than-planned', `terminated ${unplannedHealthy} healthy instance(s) outside the plan`);
  }

  // 3. Everything restored; a re-run finishes the job.
  for (const l of f.leftovers) add('leftover', `${l.group}: ${l.what} left changed: ${l.detail}`);
  if (f.lockHeld && !f.foreignLock) add('lock-held', 'the deploy lock is still held after the last run');
  if (!f.lockHeld && f.foreignLock) add('lock-held', "someone else's lock was removed");

  // 4. A dry run mutates nothing.
  if (f.dryRun && f.mutatingCalls > 0) add('dry-run-mutated', `dry run made ${f.mutatingCalls} mutating AWS call(s)`);
  // 6. A refused run changes nothing: no mutating call but the lock's own (taken before the plan is read, released).
  if (f.expect === 'refused' && !f.dryRun && (f.mutatingBesidesLock ?? 0) > 0) {
    add('refused-mutated', `refused run made ${f.mutatingBesidesLock} mutating AWS call(s) besides the lock: ${(f.mutatingBesidesLockOps ?? []).join(', ')}`);
  }

  if (f.traffic) checkTraffic(f.traffic, add);

  for (const a of f.attempts) {
    if (a.code === 'internal') add('internal-error', `unexpected error (${a.kind}): ${a.message ?? ''}`);
    if (a.code === 'stale-reads' && !f.staleReadsExcused) add('outcome', `halted on stale reads with no throttling storm to explain them (${a.kind}): ${a.message ?? ''}`);
  }

  // Outcome of the last attempt, and of interruptions.
  const last = f.attempts[f.attempts.length - 1];
  for (const a of f.attempts.slice(0, -1)) {
    if (a.kind === 'sigint' && a.exit !== undefined && a.exit !== INTERRUPTED && a.exit !== DONE && a.exit !== FAILED) {
      add('interrupt-exit', `SIGINT run exited ${a.exit} (${a.code ?? ''}), expected 130 (or 0/1 when it ended first)`);
    }
  }
  const interrupted = f.attempts.length > 1;
  if (!last || last.exit === undefined) {
    add('rerun-not-finished', 'no attempt ran to completion');
    return v;
  }
  const exit = last.exit;
  const allowed: Record<Expectation, number[]> = {
    done: [DONE],
    halt: [FAILED],
    'done-or-halt': [DONE, FAILED],
    refused: [REFUSED],
    planned: [DONE],
  };
  // A template version published mid-run: halting cleanly to re-run for it is a correct outcome.
  const launchChangeHalt = f.launchTemplateChanged === true && exit === REFUSED && last.code === 'launch-template-changed';
  if (f.unbalanced) add('unbalanced', f.unbalanced);
  if (f.cleanUpProblem) add('outcome', f.cleanUpProblem);
  if (f.policyBreach) add('policy', f.policyBreach);
  if (f.rollbackProblem) add('rollback', f.rollbackProblem);
  if (!allowed[f.expect].includes(exit) && !launchChangeHalt) {
    const code: ViolationCode = interrupted ? 'rerun-not-finished' : f.expect === 'halt' && exit === DONE ? 'not-halted' : 'outcome';
    add(code, `${interrupted ? 're-run' : 'run'} exited ${exit}${last.code ? ` (${last.code}${last.message ? `: ${last.message}` : ''})` : ''}; expected ${f.expect} (exit ${allowed[f.expect].join(' or ')})`);
  }

  if (exit === DONE && f.expect !== 'planned' && f.expect !== 'refused') {
    if (!f.final.allUpToDateAndHealthy) add(f.expect === 'halt' ? 'not-halted' : 'outcome', `reported done but not every instance is up to date and healthy: ${f.final.detail}`);
    if (!f.final.capacityAsConfigured) add('outcome', `reported done but capacity is not as configured: ${f.final.detail}`);
  }
  if (exit === FAILED) {
    // 5. A failed rollout halts with the old healthy instances serving.
    if (f.final.healthyServing + f.excusedAtEnd < floor) {
      add('old-not-serving', `halted with ${f.final.healthyServing} healthy serving${f.excusedAtEnd ? ` (+${f.excusedAtEnd} lost to AWS itself, not yet replaced)` : ''}, below the floor ${floor}: ${f.final.detail}`);
    }
  }
  if ((exit === REFUSED && !launchChangeHalt) || f.expect === 'planned') {
    // The refused (or dry) run is the last attempt: an earlier attempt's terminations (a run
    // interrupted, then re-run and refused) are that attempt's, not the refusal's (chaos seed
    // 3935578497 counted a SIGINT run's 8 replacements against its re-run).
    const own = f.toolTerminations.filter((t) => t.actor === undefined || last.actor === undefined || t.actor === last.actor);
    if (own.length > 0) add('outcome', `${exit === REFUSED ? 'refused' : 'dry'} run terminated ${own.length} instance(s)`);
  }
  return v;
}

/**
 * The traffic invariants of A/B on target groups (issue 14):
 *  - weight is never given (raised) to a target group with fewer healthy targets than the plan
 *    requires (the new color: its count; the old color on a switch-back: at least one) — an ALB
 *    with no healthy target fails open and routes to all of them;
 *  - a color is never scaled in while its target group still carries weight;
 *  - after any exit, the weights serve only healthy targets: no weight on a target group without
 *    a healthy target while another target group has some (when none has, nothing could serve).
 * With exogenous faults (AWS terminating instances, a version failing after it passed) a target
 * may be lost between the tool's look and its act: one short of the requirement is excused then.
 */
export function checkTraffic(t: TrafficFacts, add: (code: ViolationCode, message: string) => void): void {
  for (const c of t.changes) {
    for (const g of c.groups) {
      const need = t.exogenous ? Math.max(1, g.required - 1) : g.required;
      if (g.after > g.before && g.healthy < need && !soundStandInShare(c.groups, g)) {
        add('weight-to-unhealthy', `weight of ${g.tg} raised ${g.before} → ${g.after} at ${new Date(c.time).toISOString()} with ${g.healthy} healthy target(s), the plan requires ${g.required}${standInNote(c.groups, g)}`);
      }
    }
  }
  for (const s of t.scaleInsUnderWeight) {
    add('scaled-in-under-weight', `${s.group} scaled in (desired ${s.desired.from} → ${s.desired.to}) at ${new Date(s.time).toISOString()} while its target group carried weight ${s.weight}`);
  }
  for (const e of t.atExit) {
    const anyHealthy = e.groups.some((g) => g.healthy > 0);
    for (const g of e.groups) {
      if (g.weight > 0 && g.healthy === 0 && anyHealthy && !t.exogenous) {
        add('weights-at-exit', `after ${e.after}: ${g.tg} carries weight ${g.weight} with no healthy target (${e.groups.map((x) => `${x.tg} weight ${x.weight}, ${x.healthy} healthy`).join('; ')})`);
      }
    }
  }
}

type TrafficGroup = TrafficFacts['changes'][number]['groups'][number];

/**
 * How many stand-ins a share of `g` stands for (docs/commands/ab.md, "stand in"): k stand-ins
 * beside f serving old targets get k / (k + f) of the traffic, so a weight w beside the others'
 * weight W on their f healthy targets stands for w · f / W targets (at least one), rounded down
 * (the tool rounds the share to a whole weight). E.g. 20 beside 80 on 4 healthy → 1. Undefined when `g` is not a
 * stand-in: the plan's count still stands (its color not scaled back below it, or the raise is
 * all the traffic).
 */
export function standInRequired(groups: readonly TrafficGroup[], g: TrafficGroup): number | undefined {
  if (g.desired === undefined || g.desired >= g.required) return undefined;
  const others = groups.filter((x) => x !== g && x.after > 0);
  const weight = others.reduce((n, x) => n + x.after, 0);
  const healthy = others.reduce((n, x) => n + x.healthy, 0);
  if (weight === 0 || healthy === 0) return undefined;
  return Math.max(1, Math.floor((g.after * healthy) / weight + 1e-9));
}

/**
 * A raise of the weight of a color the swap gave up (the tool scaled it back below the plan's
 * count: a failure, Ctrl-C or a switch-back) is the stand-in share of a rollback while the old
 * color is short, not the swap's shift: sound when the color has as many healthy targets, at that
 * moment, as the share stands for ({@link standInRequired}). A share given to stand-ins that no
 * longer serve (a stale look) is still caught. Chaos seed 4252552436 (of 140432538).
 */
function soundStandInShare(groups: readonly TrafficGroup[], g: TrafficGroup): boolean {
  const k = standInRequired(groups, g);
  return k !== undefined && g.healthy >= k;
}

function standInNote(groups: readonly TrafficGroup[], g: TrafficGroup): string {
  const k = standInRequired(groups, g);
  return k === undefined ? '' : ` (scaled back to ${g.desired}: as a stand-in share it needs ${k})`;
}
