/**
 * Rollback of a rolling rollout (`roll --rollback`, `deploy --rollback`; issue 16 item 4).
 *
 * When a rolling rollout fails or an alarm halts it (exit 1, after the engine cleaned up and
 * restored), the group is put back on the launch spec its outdated instances ran at the start
 * (a launch template version, or a launch configuration), and the same rolling engine rolls the
 * group to it: the new instances are now the outdated ones, replaced oldest first under the same
 * surge, min-healthy, gates and AZ balance; processes, desired, tags are restored at the end, and
 * the lock is held throughout (the forward run and the rollback are one body of `withRunLock`).
 *
 * ## The decisions (pure, table-tested in test/rollout/rollback.test.ts)
 *  - {@link rollbackTarget}: what to roll back to, from the group at the start of the run —
 *    refused where it cannot be safe: outdated instances on several specs (no single "previous"),
 *    or on a spec the tool cannot name (an unknown version); none when nothing is outdated. A
 *    mixed instances policy is rolled back like any group: its launch template (id, version) is
 *    the group's spec, whatever instance type an override gave an instance, and `setGroupLaunch`
 *    puts the policy's template back (overrides and distribution kept); "finishing" when the outdated instances run a
 *    NEWER version of the group's template than the group does (the group was set back: this run
 *    finishes a rollback, and never rolls "back" to the newer version).
 *  - {@link rollbackGate}: whether a failure starts the rollback — only a halt (exit 1) whose
 *    cleanup restored everything; never an interrupt (130), a refusal (3) or bad input (2).
 *  - {@link goneProblem}: the previous spec was deleted (checked at the start, exit 3 with nothing
 *    changed, and again right before the rollback changes the group).
 *
 * ## Ctrl-C, a crash, and the re-run
 * Which way a re-run goes is what the group's launch spec says. Before the rollback set it back,
 * the group is on the new version: a re-run rolls forward again (as any re-run of a failed
 * rollout). Once it was set back (the first thing the rollback changes), the group is on the
 * previous version: a re-run (of the same command) rolls to it — it finishes the rollback; its own
 * `--rollback` does not go back to the newer version (`finishing`).
 */
import type { AwsPort, GroupSnapshot, LaunchSpec } from '../../aws/port';
import { DeployError, isAbortError, refusedError } from '../../errors';
import { Codes, type Reporter } from '../../report/reporter';
import { AlarmCodes, AlarmWatch, type HaltCheck, type AlarmPhase } from '../alarms';
import type { RolloutResult } from '../result';
import { isLive, sameLaunch } from './strategy';

/** The event of the rollback: `{asg, state: plan|start|done|failed|refused|skipped, from, to, ...}`. */
export const RollbackCode = 'rollout.rollback';

export type RollbackTarget =
  /** Roll back to `launch`, which `instances` ran at the start. */
  | { kind: 'to'; launch: LaunchSpec; instances: string[] }
  /** Nothing outdated at the start: nothing to roll back to. */
  | { kind: 'none' }
  /** The outdated instances run a newer version than the group: this run finishes a rollback. */
  | { kind: 'finishing'; launch: LaunchSpec; reason: string }
  /** Rollback cannot be safe here (exit 3 when `--rollback` is given). */
  | { kind: 'refuse'; code: string; reason: string };

/** "launch template web-lt version 3", "launch configuration web-lc-1". */
export function launchLabel(l: LaunchSpec): string {
  if (l.launchConfigurationName) return `launch configuration ${l.launchConfigurationName}`;
  const lt = l.launchTemplate;
  return lt ? `launch template ${lt.name ?? lt.id} version ${lt.version}` : 'an unknown launch spec';
}

function key(l: LaunchSpec): string {
  if (l.launchConfigurationName) return `lc:${l.launchConfigurationName}`;
  return l.launchTemplate ? `lt:${l.launchTemplate.id}:${l.launchTemplate.version}` : '?';
}

/**
 * Pure: what a rollback of this run goes back to, judged on the group at the run's start.
 * Examples (group on lt-1 v3): outdated on v2, v2 → to v2; outdated on v1 and v2 → refuse
 * (several versions); none outdated → none; outdated on v4 → finishing (the group was set back).
 */
export function rollbackTarget(group: GroupSnapshot): RollbackTarget {
  const outdated = group.instances.filter((i) => isLive(i) && !sameLaunch(i.launchedFrom, group.launch));
  if (outdated.length === 0) return { kind: 'none' };
  const unknown = outdated.filter((i) => !i.launchedFrom.launchConfigurationName && (!i.launchedFrom.launchTemplate || i.launchedFrom.launchTemplate.version <= 0));
  if (unknown.length) {
    return {
      kind: 'refuse',
      code: 'rollback-unknown-version',
      reason: `the launch spec of ${unknown.map((i) => i.instanceId).join(', ')} is unknown (no launch template version or launch configuration recorded): there is no previous version to go back to`,
    };
  }
  const bySpec = new Map<string, { launch: LaunchSpec; ids: string[] }>();
  for (const i of outdated) {
    const k = key(i.launchedFrom);
    const e = bySpec.get(k) ?? { launch: i.launchedFrom, ids: [] };
    e.ids.push(i.instanceId);
    bySpec.set(k, e);
  }
  if (bySpec.size > 1) {
    const list = [...bySpec.values()].map((e) => `${launchLabel(withName(e.launch, group.launch))} (${e.ids.length})`).join(', ');
    return {
      kind: 'refuse',
      code: 'rollback-several-versions',
      reason: `the outdated instances run ${bySpec.size} launch specs: ${list}; there is no single previous version to go back to (roll the group to one version first, or run without --rollback)`,
    };
  }
  const only = [...bySpec.values()][0];
  const launch = withName(only.launch, group.launch);
  const g = group.launch.launchTemplate;
  if (g && launch.launchTemplate && launch.launchTemplate.id === g.id && launch.launchTemplate.version > g.version) {
    return {
      kind: 'finishing',
      launch,
      reason: `the outdated instances run ${launchLabel(launch)}, newer than the group's version ${g.version}: this run finishes a rollback (or a deliberate downgrade) and does not roll back to the newer version`,
    };
  }
  return { kind: 'to', launch, instances: only.ids };
}

/** The instance's template spec carries no name; the group's does (same template): borrow it for messages. */
function withName(l: LaunchSpec, group: LaunchSpec): LaunchSpec {
  const lt = l.launchTemplate;
  const g = group.launchTemplate;
  if (!lt || lt.name || !g?.name || g.id !== lt.id) return l;
  return { launchTemplate: { ...lt, name: g.name } };
}

/** Pure: the refusal when the previous spec no longer exists (undefined: it exists). */
export function goneProblem(group: string, launch: LaunchSpec, exists: boolean): { code: string; reason: string } | undefined {
  if (exists) return undefined;
  return launch.launchConfigurationName
    ? { code: 'rollback-launch-configuration-gone', reason: `${group}: the old instances ran ${launchLabel(launch)}, which no longer exists (deleted): nothing to roll back to` }
    : { code: 'rollback-version-gone', reason: `${group}: the old instances ran ${launchLabel(launch)}, which no longer exists (the version or its template was deleted): nothing to roll back to` };
}

/**
 * Pure: whether this failure of the forward run starts the rollback. Only a halt (exit 1) whose
 * cleanup restored everything: an interrupt means stop (a re-run rolls forward again); a refusal
 * or bad input changed nothing; a restore left incomplete must be finished by a re-run first.
 */
export function rollbackGate(err: unknown, target: RollbackTarget | undefined): { go: true; to: LaunchSpec } | { go: false; why: string } {
  if (isAbortError(err)) return { go: false, why: 'interrupted: no rollback (a re-run rolls forward again)' };
  if (!(err instanceof DeployError)) return { go: false, why: 'an unexpected error: no rollback' };
  if (err.exit !== 1) return { go: false, why: `exit ${err.exit} (${err.code}): nothing was rolled out, nothing to roll back` };
  if (err.data.restored === false) return { go: false, why: 'the cleanup after the failure is incomplete: re-run to finish it first' };
  if (!target || target.kind === 'none') return { go: false, why: 'nothing was outdated at the start: nothing to roll back to' };
  if (target.kind !== 'to') return { go: false, why: target.reason };
  return { go: true, to: target.launch };
}

/** The plan's line and data for `--rollback` (the forward run's `rollout.plan`). */
export function rollbackPlan(target: RollbackTarget | undefined): { line: string; data: Record<string, unknown> } {
  if (!target || target.kind === 'none') return { line: '', data: {} };
  if (target.kind === 'to') {
    return {
      line: `\n  on failure or alarm: roll back — set the group to ${launchLabel(target.launch)} (${target.instances.length} outdated instance(s) run it) and replace the new instances with it, oldest first, same surge, min healthy and gates (alarms are watched and reported while rolling back, never halting it)`,
      data: { rollback: { to: target.launch, label: launchLabel(target.launch) } },
    };
  }
  return { line: `\n  no rollback on failure: ${target.reason}`, data: { rollback: { none: target.kind, reason: target.reason } } };
}

/**
 * `--rollback`'s precondition as a halting check (rollout/alarms.ts HaltCheck): at the start, a
 * rollback that could not be safe refuses the run (exit 3, nothing changed; a dry run says so);
 * during the run it costs nothing.
 */
export class RollbackReadiness implements HaltCheck {
  constructor(
    private readonly port: AwsPort,
    private readonly name: string,
    private readonly target: () => RollbackTarget | undefined,
  ) {}

  async check(phase: AlarmPhase): Promise<DeployError | undefined> {
    if (phase !== 'start') return undefined;
    const t = this.target();
    if (!t) return undefined;
    if (t.kind === 'refuse') return refusedError(t.code, `${this.name}: --rollback: ${t.reason}; nothing was changed`, { asg: this.name, flag: '--rollback' });
    if (t.kind !== 'to') return undefined;
    if (!this.port.launchSpecExists) return refusedError('rollback-unsupported', `${this.name}: --rollback needs an AWS port that can check launch specs; nothing was changed`, { asg: this.name });
    const gone = goneProblem(this.name, t.launch, await this.port.launchSpecExists(t.launch));
    return gone ? refusedError(gone.code, `${gone.reason}; --rollback refused; nothing was changed`, { asg: this.name, flag: '--rollback', to: t.launch }) : undefined;
  }
}

/**
 * The rollback run's events: its own plan, done and failed become `rollout.rollback` (state
 * plan|done|failed), so that `rollout.failed` stays the forward run's one verdict and a consumer
 * never reads the rollback's "done" as the rollout's. Everything else passes through.
 */
export function rollbackReporter(inner: Reporter, base: Record<string, unknown>, alarms?: () => readonly string[]): Reporter {
  const states: Record<string, string> = { [Codes.plan]: 'plan', [Codes.done]: 'done', [Codes.failed]: 'failed' };
  return {
    emit(level, code, message, data = {}) {
      // An alarm's state change while rolling back says so (RollbackAlarms).
      if (code === AlarmCodes.state) return inner.emit(level, code, `rollback: ${message}`, { ...data, phase: 'rolling back' });
      const state = states[code];
      if (!state) return inner.emit(level, code, message, data);
      const alarming = state === 'plan' ? [] : alarms?.() ?? [];
      const note = alarming.length ? ` (${alarmNote(alarming)})` : '';
      inner.emit(level, RollbackCode, `rollback: ${message}${note}`, { ...data, ...base, state, phase: state === 'plan' ? 'rolling back' : state === 'done' ? 'rolled back' : 'FAILED', ...(alarming.length ? { alarms: [...alarming] } : {}) });
    },
  };
}

/** "alarm web-5xx was in ALARM during the rollback (watched, not halting it)". */
function alarmNote(names: readonly string[]): string {
  return `alarm ${names.join(', ')} ${names.length === 1 ? 'was' : 'were'} in ALARM during the rollback (watched, not halting it)`;
}

/**
 * The alarms while rolling back (issue 16): read as during the rollout — one batched
 * DescribeAlarms at the start and after every observation — but never halting: the rollback goes
 * back to the version that served before, and stopping it would leave the group on two versions.
 * Every alarm seen in ALARM (or gone) is kept for the outcome: the `rollout.rollback` done/failed
 * event's `alarms`, `data.rollback.alarms` and the message; each state change is an `alarm.state`
 * event with `phase: 'rolling back'`. A failed read is reported and the rollback goes on.
 * Example: web-5xx halted the rollout and is still in ALARM → the rollback's done says
 * "alarm web-5xx was in ALARM during the rollback (watched, not halting it)".
 */
export class RollbackAlarms implements HaltCheck {
  private readonly watch: AlarmWatch;
  private readonly seen = new Set<string>();
  private unreadable = false;

  constructor(
    port: AwsPort,
    private readonly names: readonly string[],
    private readonly options: { target: string; reporter: Reporter },
  ) {
    this.watch = new AlarmWatch(port, names, options);
  }

  /** The alarms seen in ALARM (or gone) during the rollback, in the order first seen. */
  get alarming(): string[] {
    return [...this.seen];
  }

  async check(): Promise<undefined> {
    try {
      // Read as a running rollout reads them ('run'): an alarm in ALARM at the rollback's start is noted, not a refusal.
      await this.watch.check('run');
    } catch (err) {
      if (isAbortError(err)) throw err;
      if (!this.unreadable) {
        this.unreadable = true;
        const reason = err instanceof Error ? err.message : String(err);
        for (const alarm of this.names) this.options.reporter.emit('warn', AlarmCodes.state, `alarm ${alarm}: could not be read (${reason}); rolling back on`, { alarm, state: 'unreadable', reason });
      }
      return undefined;
    }
    const j = this.watch.judgement;
    for (const a of j?.alarming ?? []) this.seen.add(a.name);
    for (const n of j?.missing ?? []) this.seen.add(n);
    return undefined;
  }
}

/** What the rollback did, for the error and the JSON (`data.rollback`). */
export interface RollbackOutcome {
  status: 'done' | 'failed' | 'interrupted' | 'refused' | 'skipped';
  from?: LaunchSpec;
  to?: LaunchSpec;
  replaced?: string[];
  reason?: string;
  /** Alarms seen in ALARM (or gone) while rolling back (RollbackAlarms): reported, never halting it. */
  alarms?: string[];
}

/**
 * The forward run's error, told what the rollback did: the message says where the group is and
 * what a re-run does; the exit is the forward failure's (1), or 130 when the rollback was interrupted.
 */
export function rolledBackError(failure: DeployError, asg: string, o: RollbackOutcome): DeployError {
  const to = o.to ? launchLabel(o.to) : '';
  const tail =
    o.status === 'done'
      ? `; rolled back: ${asg} is on ${to} again (${o.replaced?.length ?? 0} new instance(s) replaced)`
      : o.status === 'interrupted'
        ? `; rollback interrupted: ${asg} is set to ${to}, everything else restored; re-run the same command to finish the rollback`
        : o.status === 'failed'
          ? `; rollback failed: ${o.reason}; ${asg} is set to ${to}: re-run the same command to finish the rollback`
          : `; not rolled back: ${o.reason}`;
  const alarms = o.alarms?.length ? `; ${alarmNote(o.alarms)}` : '';
  const data = { ...failure.data, rollback: { ...o } };
  if (o.status === 'interrupted') return new DeployError('interrupted', `${failure.message}${tail}${alarms}`, { source: 'user', exit: 130, data, cause: failure });
  return new DeployError(failure.code, `${failure.message}${tail}${alarms}`, { source: failure.source, exit: failure.exit, data, cause: failure });
}

/** A DeployError for a rollback the group cannot take (re-checked at rollback time). */
export function rollbackRefused(failure: DeployError, asg: string, code: string, reason: string, to: LaunchSpec): DeployError {
  return rolledBackError(failure, asg, { status: 'refused', to, reason: `${reason} (${code})` });
}


/** What {@link runRollback} needs from the runner (injected: the runner imports this file). */
export interface RollbackDeps {
  port: AwsPort;
  reporter: Reporter;
  asg: string;
  /** The spec the forward run rolled to (the group's at its start). */
  from: LaunchSpec;
  /** The alarms the rollout watched (`--alarm`): watched while rolling back, never halting it (RollbackAlarms). */
  alarms?: readonly string[];
  /** Runs the rolling engine toward the group's launch spec with this reporter and these checks (no holds). */
  roll(reporter: Reporter, halts: HaltCheck[]): Promise<RolloutResult>;
}

/**
 * After the forward run failed (and restored): gate, re-check that the previous spec exists, set
 * the group back to it, roll to it. Always throws: the forward failure, told what the rollback
 * did ({@link rolledBackError}): exit 1 (rolled back, or not), 130 when the rollback was interrupted.
 */
export async function runRollback(failure: unknown, target: RollbackTarget | undefined, d: RollbackDeps): Promise<never> {
  const gate = rollbackGate(failure, target);
  const base = { asg: d.asg, from: d.from };
  if (!gate.go) {
    if (failure instanceof DeployError && failure.exit === 1) {
      d.reporter.emit('warn', RollbackCode, `${d.asg}: not rolling back: ${gate.why}`, { ...base, state: 'skipped', reason: gate.why });
      throw rolledBackError(failure, d.asg, { status: 'skipped', from: d.from, reason: gate.why });
    }
    throw failure;
  }
  const f = failure as DeployError;
  const to = gate.to;
  // Checked again now: the version may have been deleted while the rollout ran.
  const exists = d.port.launchSpecExists ? await d.port.launchSpecExists(to) : false;
  const gone = goneProblem(d.asg, to, exists);
  if (gone) {
    d.reporter.emit('error', RollbackCode, `${gone.reason}; rollback refused, the group stays on ${launchLabel(d.from)}`, { ...base, to, state: 'refused', code: gone.code });
    throw rollbackRefused(f, d.asg, gone.code, gone.reason, to);
  }
  if (!d.port.setGroupLaunch) throw rollbackRefused(f, d.asg, 'rollback-unsupported', 'this AWS port cannot set a launch spec', to);
  d.reporter.emit('warn', RollbackCode, `${d.asg}: rolling back after ${f.code}: setting the group to ${launchLabel(to)} and replacing the new instances with it`, {
    ...base,
    to,
    state: 'start',
    phase: 'rolling back',
    reason: f.code,
  });
  // From here a re-run finishes the rollback: the group's launch spec is the previous one.
  await d.port.setGroupLaunch(d.asg, to);
  let r: RolloutResult;
  let watch: RollbackAlarms | undefined;
  const alarms = () => watch?.alarming ?? [];
  const reporter = rollbackReporter(d.reporter, { ...base, to }, alarms);
  if (d.alarms?.length) watch = new RollbackAlarms(d.port, d.alarms, { target: d.asg, reporter });
  const seen = () => (alarms().length ? { alarms: alarms() } : {});
  try {
    r = await d.roll(reporter, watch ? [watch] : []);
  } catch (err) {
    const interrupted = isAbortError(err);
    throw rolledBackError(f, d.asg, {
      status: interrupted ? 'interrupted' : err instanceof DeployError && err.exit === 3 ? 'refused' : 'failed',
      from: d.from,
      to,
      reason: err instanceof Error ? err.message : String(err),
      ...seen(),
    });
  }
  throw rolledBackError(f, d.asg, { status: 'done', from: d.from, to, replaced: r.replaced, ...seen() });
}

/** How a rolled-back group and its stack are reconciled (docs/commands/deploy.md "After a rollback"). */
export const RECONCILE = 'next-deploy-with-fixed-config';

/**
 * Pure (deploy): the group runs another launch spec than the stack declares — as after a
 * rollback, which sets the group back behind Pulumi's back. Undefined when they agree (or the
 * stack declares none). The stack's state still says the newer version, so a deploy of the same
 * config sees no change and leaves the group where it is; the next deploy with a fixed config
 * publishes a new version, which Pulumi applies and the hook rolls out as usual.
 * Example: stack web-lt version 5, group version 4 → "the stack declares launch template web-lt
 * version 5, the group runs version 4 …".
 */
export function stackDisagreement(declared: LaunchSpec | undefined, group: LaunchSpec): { message: string; data: Record<string, unknown> } | undefined {
  if (!declared || (!declared.launchTemplate && !declared.launchConfigurationName)) return undefined;
  if (sameLaunch(declared, group)) return undefined;
  const d = declared.launchTemplate;
  const g = group.launchTemplate;
  const groupText = d && g && (d.id === g.id || d.name === g.name) ? `version ${g.version}` : launchLabel(withName(group, declared));
  return {
    message: `the stack declares ${launchLabel(declared)}, the group runs ${groupText} (rolled back); a deploy of the same config changes nothing (Pulumi's state still says ${d ? `version ${d.version}` : declared.launchConfigurationName}), and 'deploy --refresh' would re-apply it; the next deploy with a fixed config reconciles them`,
    data: { stack: declared, group, reconcile: RECONCILE },
  };
}
