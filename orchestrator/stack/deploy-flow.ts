/**
 * What `deploy` does, above the ports: select the stack, `up` (or `preview` on a dry run), read
 * the `services` manifest, then each service's post-update hook: as its `dependsOn` are done, at
 * most `--parallel` at once (default 1: one after another in manifest order), stopping new starts
 * at the first failure (`--continue-on-error`: only its dependents are held back), with a summary
 * of what ran, failed, or was not started and why (stack/schedule.ts). Hooks run only after a
 * successful `up`; never after a failed one, never on a dry run.
 *
 * Everything it touches is injected (stack backend, hooks, reporter, notifier, clock), so the
 * tests drive it with a fake stack port and fake hooks.
 */
import type { Clock } from '../clock';
import { DeployError, ExitCode, interruptedError, isAbortError, usageError } from '../errors';
import { Codes, type Reporter } from '../report/reporter';
import { DeployCodes, renderSummary, type SummaryRow } from '../report/summary';
import type { RolloutResult } from '../rollout/result';
import type { Notifier } from '../notify/webhook';
import { manifestAfterUpdate, readManifest, targetOf, groupsOf, type ServiceManifest, type ServicesManifest } from './manifest';
import { validateStackConfig, type ValidatedConfig } from './config-file';
import { uncoveredToolTags, type ServiceConfig } from '../../infra/config';

/** The AWS provider's ignoreTags in the stack config. */
const IGNORE_TAGS_KEY = 'aws:ignoreTags';
import { lockTargets, lockedRefusal, type HeldLock, type LockReader } from './locks';
import { recordTargets, unfinishedRefusal, type RecordReader, type UnfinishedRecord } from './records';
import { listenerChecks, type ListenerReader } from './listeners';
import { notStartedReason, startable, type RunStatus } from './schedule';
import { describeChangeSummary, type ResourceChange, type StackBackend, type StackEvent, type StackPort } from './port';

export interface DeployOptions {
  stack: string;
  create?: boolean;
  /** Stack config file instead of Pulumi.<stack>.yaml (pulumi --config-file). */
  configFile?: string;
  dryRun?: boolean;
  /** Limit the hooks to these services (repeatable --service). Empty: all. */
  services?: string[];
  skipRollout?: boolean;
  /** A/B: swap even when the active color is up to date. */
  force?: boolean;
  /** Fixed polling interval for the rollouts; undefined: adaptive. */
  pollIntervalSeconds?: number;
  /** Pulumi's refresh before the preview/update (`--refresh`). */
  refresh?: boolean;
  /** Services' rollouts at once (`--parallel`, default 1); `dependsOn` orders them. */
  parallel?: number;
  /** After a failure, let the services that do not depend on it run (`--continue-on-error`). */
  continueOnError?: boolean;
  /**
   * `--rollback`: a rolling service whose rollout fails or is alarmed goes back to the version its
   * outdated instances ran (rolling/rollback.ts); an A/B service scales its new color back.
   */
  rollback?: boolean;
}

/** What a service's rollout would do, computed read-only from current AWS state and the previewed change. */
export interface ServicePlan {
  action: 'roll' | 'swap' | 'none' | 'create';
  /** Instances that would be replaced (rolling) or drained (A/B). */
  instances: string[];
  /** "web: would swap a → b, 8 instances, then drain a" */
  summary: string;
}

export interface PlanContext {
  /** The resources the preview says change. */
  changes: ResourceChange[];
  force: boolean;
}

export interface HookOptions {
  /** What the update changed (a group it created has nothing to roll, only to wait for). */
  changes: ResourceChange[];
  force: boolean;
  signal: AbortSignal;
  pollIntervalSeconds?: number;
  /** `deploy --rollback` (DeployOptions.rollback). */
  rollback?: boolean;
  /** Where this service's rollout reports (the flow watches it for the engine's `rollout.failed`). */
  reporter?: Reporter;
}

/** The post-update hooks: rolling or A/B per the manifest (stack/hooks.ts wires the engines). */
export interface ServiceHooks {
  plan(service: ServiceManifest, context: PlanContext): Promise<ServicePlan>;
  rollout(service: ServiceManifest, options: HookOptions): Promise<RolloutResult>;
}

export interface DeployDeps {
  backend: StackBackend;
  hooks: ServiceHooks;
  /** Reads the environment locks before anything changes (read-only). */
  locks: LockReader;
  /** Reads the groups' unfinished rollout records before anything changes (read-only); absent: not checked. */
  records?: RecordReader;
  /** Checks the existing listeners the services add rules to (exists, priority free) before anything changes (read-only); absent: not checked. */
  listeners?: ListenerReader;
  reporter: Reporter;
  clock: Clock;
  signal: AbortSignal;
  notifier: Notifier;
  /** Human-readable output (stderr): the plan and the summary table. */
  print(text: string): void;
}

export interface DeployOutcome {
  exit: number;
  rows: SummaryRow[];
  manifest?: ServicesManifest;
}

/** Runs a deploy. Returns exit 0 on success; throws DeployError (exit 1/2/3/130) otherwise, after the summary. */
export async function runDeploy(options: DeployOptions, deps: DeployDeps): Promise<DeployOutcome> {
  const { reporter, clock } = deps;
  const started = clock.now();
  const selected = options.services ?? [];
  reporter.emit('info', DeployCodes.start, `${options.dryRun ? 'dry run of' : 'deploying'} stack ${options.stack}`, {
    stack: options.stack,
    services: selected,
    dryRun: Boolean(options.dryRun),
  });

  const { stack, held, config, unfinished } = await prepare(options, deps);
  if (options.dryRun) return dryRun(stack, options, deps, held, config, unfinished);
  if (unfinished.length > 0) {
    try {
      await finishUnfinished(stack, unfinished, config.services ?? [], options, deps);
    } catch (err) {
      // A refusal (exit 3: cannot be finished from here) changed nothing; a failed finish did.
      if (!(err instanceof DeployError && err.exit === ExitCode.refused)) await fail(err, options, deps, started);
      throw err;
    }
  }

  await deps.notifier.notify('start', `asg-deploy: deploying stack *${options.stack}*${selected.length ? ` (services: ${selected.join(', ')})` : ''}${stack.simulated ? ' [simulation]' : ''}`);

  let manifest: ServicesManifest | undefined;
  let changes: ResourceChange[] = [];
  try {
    const up = await stack.up({ signal: deps.signal, refresh: options.refresh, onEvent: (e) => forwardStackEvent(e, reporter) });
    reporter.emit('info', DeployCodes.stackUp, `stack ${stack.name} updated: ${describeChangeSummary(up.changeSummary, 'done')}`, {
      stack: stack.name,
      changeSummary: up.changeSummary,
      changes: up.changes,
      seconds: up.seconds,
    });
    changes = up.changes;
    if (deps.signal.aborted) {
      // Pulumi got the interrupt too late to cancel: the update completed, the rollouts must not start.
      throw interruptedError(`interrupted: pulumi up on stack '${stack.name}' completed before the interrupt took effect (${describeChangeSummary(up.changeSummary, 'done')}); no rollout was started, run deploy again to roll out`);
    }
    manifest = readManifest(up.outputs, stack.name);
    if (!manifest) {
      throw new DeployError('stack.manifest', `stack '${stack.name}' has no 'services' output after up; infra/index.ts must export it`, {
        source: 'tool',
        exit: ExitCode.failed,
      });
    }
    checkSelection(selected, manifest);
  } catch (err) {
    await fail(err, options, deps, started);
    throw err;
  }

  reporter.emit('info', DeployCodes.services, `services: ${manifest.services.map((s) => `${s.service} (${s.strategy})`).join(', ') || 'none'}`, {
    services: manifest.services.map((s) => ({ service: s.service, strategy: s.strategy, target: targetOf(s), groups: groupsOf(s) })),
  });

  const rows: SummaryRow[] = manifest.services.map((s) => ({
    service: s.service,
    strategy: s.strategy,
    target: targetOf(s),
    result: 'not run',
    replaced: 0,
    seconds: 0,
    apiCalls: 0,
    detail: '',
  }));

  // Services run as their dependencies finish, at most --parallel at once (stack/schedule.ts).
  const status = new Map<string, RunStatus>();
  const rowOf = new Map(manifest.services.map((s, i) => [s.service, rows[i]]));
  for (const service of manifest.services) {
    const row = rowOf.get(service.service)!;
    if (options.skipRollout) {
      skip(row, '--skip-rollout: infrastructure only', deps);
      status.set(service.service, 'skipped');
    } else if (selected.length > 0 && !selected.includes(service.service)) {
      skip(row, `not selected (--service ${selected.join(', ')})`, deps);
      status.set(service.service, 'skipped');
    } else status.set(service.service, 'pending');
  }
  const failures: unknown[] = [];
  const runOne = async (service: ServiceManifest): Promise<void> => {
    const row = rowOf.get(service.service)!;
    reporter.emit('info', DeployCodes.serviceStart, `${service.service}: ${service.strategy} rollout of ${targetOf(service)}`, {
      service: service.service,
      strategy: service.strategy,
      target: targetOf(service),
      ...(service.dependsOn?.length ? { dependsOn: service.dependsOn } : {}),
    });
    const serviceStarted = clock.now();
    // The engine's rollout.failed event carries what the thrown error does not: replaced, seconds, apiCalls.
    let failedEvent: Record<string, unknown> = {};
    const tap: Reporter = {
      emit(level, code, message, data) {
        if (code === Codes.failed) failedEvent = data ?? {};
        // Every event of this service's rollout carries its name (services run side by side).
        reporter.emit(level, code, message, { service: service.service, ...(data ?? {}) });
      },
    };
    try {
      const result = await deps.hooks.rollout(service, { changes, reporter: tap, force: Boolean(options.force), signal: deps.signal, pollIntervalSeconds: options.pollIntervalSeconds, ...(options.rollback ? { rollback: true } : {}) });
      Object.assign(row, {
        result: result.status,
        replaced: result.replaced.length,
        seconds: result.seconds,
        apiCalls: result.apiCalls,
        detail: result.summary,
      });
      status.set(service.service, 'done');
      reporter.emit('info', DeployCodes.serviceDone, `${service.service}: ${result.summary}`, {
        service: service.service,
        strategy: service.strategy,
        status: result.status,
        replaced: result.replaced,
        seconds: result.seconds,
        apiCalls: result.apiCalls,
      });
    } catch (err) {
      const data = { ...(err instanceof DeployError ? err.data : {}), ...failedEvent };
      Object.assign(row, {
        result: isAbortError(err) ? 'interrupted' : 'failed',
        replaced: Array.isArray(data.replaced) ? data.replaced.length : 0,
        seconds: typeof data.seconds === 'number' ? data.seconds : Math.round((clock.now() - serviceStarted) / 1000),
        apiCalls: typeof data.apiCalls === 'number' ? data.apiCalls : 0,
        detail: err instanceof Error ? err.message : String(err),
      });
      status.set(service.service, 'failed');
      failures.push(err);
      reporter.emit('error', DeployCodes.serviceFailed, `${service.service}: ${row.detail}`, {
        service: service.service,
        code: err instanceof DeployError ? err.code : 'internal',
        reason: row.detail,
        // A rolling rollback (rolling/rollback.ts) and, after it, how the stack and the group disagree.
        ...(data.rollback !== undefined ? { rollback: data.rollback } : {}),
        ...(data.stackDisagrees !== undefined ? { stackDisagrees: data.stackDisagrees } : {}),
      });
    }
  };
  const running = new Set<Promise<void>>();
  const scheduleOptions = { parallel: options.parallel ?? 1, continueOnError: Boolean(options.continueOnError) };
  for (;;) {
    // An interrupt stops new starts (running rollouts restore and report themselves).
    const next = deps.signal.aborted ? [] : startable(manifest.services, status, scheduleOptions);
    for (const name of next) {
      status.set(name, 'running');
      const p: Promise<void> = runOne(manifest.services.find((s) => s.service === name)!).finally(() => running.delete(p));
      running.add(p);
    }
    if (running.size === 0) break;
    await Promise.race(running);
  }
  let notStarted = 0;
  for (const service of manifest.services) {
    if (status.get(service.service) !== 'pending') continue;
    notStarted++;
    rowOf.get(service.service)!.detail = deps.signal.aborted ? 'not started: interrupted' : notStartedReason(service, manifest.services, status);
  }
  if (failures.length > 0 || (deps.signal.aborted && notStarted > 0)) {
    const err = failures[0] ?? interruptedError('interrupted before every service ran; the rollouts that ran finished or were restored');
    printSummary(rows, deps);
    await fail(err, options, deps, started, rows);
    throw err;
  }

  printSummary(rows, deps);
  const seconds = Math.round((clock.now() - started) / 1000);
  reporter.emit('info', DeployCodes.done, `deploy of stack ${stack.name} done in ${seconds}s`, { stack: stack.name, seconds });
  const rolled = rows.filter((r) => r.result === 'done').map((r) => `${r.service} (${r.replaced} replaced)`);
  await deps.notifier.notify(
    'success',
    `asg-deploy: stack *${stack.name}* deployed in ${seconds}s${rolled.length ? `; rolled out ${rolled.join(', ')}` : '; nothing to roll out'}${stack.simulated ? ' [simulation]' : ''}`,
  );
  return { exit: ExitCode.ok, rows, manifest };
}

/**
 * Everything that must hold before Pulumi changes anything, in this order: the stack config is
 * valid (infra/config.ts `parseServices`, exit 2); the stack opens (the pulumi CLI is there, the
 * stack exists or --create creates it: exit 2 otherwise); no environment of the stack is locked
 * (exit 3; read from AWS, so after the local checks); every existing listener a service adds a
 * rule to exists (exit 2) with the rule's priority free (exit 3). Without a config file and without
 * --create the stack is opened first: "stack 'x' does not exist (the stacks that exist: ...)"
 * says more than "no services", and selecting an existing stack changes nothing.
 * On a dry run a held lock is reported, the preview and plan still run, and then the dry run is
 * refused as the real run would be (exit 3): refusals hold for dry runs, as for `ab`.
 */
async function prepare(options: DeployOptions, deps: DeployDeps): Promise<{ stack: StackPort; config: ValidatedConfig; held: HeldLock[]; unfinished: UnfinishedRecord[] }> {
  const { reporter } = deps;
  const openOptions = { create: options.create, configFile: options.configFile };
  const raw = await deps.backend.readConfig(options.stack, openOptions);
  let stack = !raw.exists && !options.create ? await deps.backend.open(options.stack, openOptions) : undefined;

  const config = validateStackConfig(raw, options.stack);
  if (config.services) {
    reporter.emit('info', DeployCodes.config, `${config.file}: ${config.services.length} service${config.services.length === 1 ? '' : 's'} valid (${config.services.map((c) => `${c.service}: ${c.strategy}`).join(', ')})`, {
      file: config.file,
      services: config.services.map((c) => ({ service: c.service, strategy: c.strategy, name: c.name })),
      region: config.region,
    });
  } else {
    reporter.emit('warn', DeployCodes.config, `${config.file}: asg-deploy:services is a secret; it is validated by the program during the Pulumi run, and environment locks cannot be checked before it`, {
      file: config.file,
      secret: true,
    });
  }

  stack ??= await deps.backend.open(options.stack, openOptions);
  // Real stacks only: the sandbox stack has no refresh that could adopt the tool's tags.
  const unignored = stack.simulated ? [] : uncoveredToolTags(raw.values[IGNORE_TAGS_KEY]);
  if (unignored.length > 0) {
    reporter.emit('warn', DeployCodes.config, `${config.file}: aws:ignoreTags does not cover ${unignored.join(', ')}; a 'pulumi refresh' would adopt these rollout records and freezes into the stack and a later manual 'pulumi up' would delete them (deploy refuses up while they exist); see docs/configuration.md`, {
      file: config.file,
      uncoveredTags: unignored,
    });
  }

  const held = config.services ? await deps.locks.held(lockTargets(config.services)) : [];
  if (held.length > 0 && !options.dryRun) throw lockedRefusal(held[0]);
  for (const h of held) {
    reporter.emit('warn', DeployCodes.locked, `dry run: a real deploy would be refused (exit 3): ${lockedRefusal(h).message}`, { ...h.refusal.data, service: h.service });
  }

  // A rule on an existing listener: the listener must exist (exit 2) and the priority be free (exit 3),
  // else `up` would fail half-way after creating the target groups (stack/listeners.ts). Dry runs too.
  const listenerRefusal = config.services && deps.listeners ? await deps.listeners.refusal(listenerChecks(config.services)) : undefined;
  if (listenerRefusal) throw listenerRefusal;

  // An unfinished rollout record: `up` would fight it (and erase it after a refresh). stack/records.ts
  const unfinished = config.services && deps.records ? await deps.records.unfinished(recordTargets(config.services)) : [];
  if (unfinished.length > 0 && options.dryRun) {
    reporter.emit('warn', DeployCodes.unfinished, `dry run: a real deploy would first finish what an earlier run left unfinished, before pulumi up: ${describeUnfinished(unfinished)}`, unfinishedRefusal(unfinished).data);
  }

  return { stack, config, held, unfinished };
}

/** "qa-web-b (service web) carries asg-deploy:ab; ..." */
function describeUnfinished(found: UnfinishedRecord[]): string {
  return found.map((r) => `${r.group} (service ${r.service}) carries ${r.tag}`).join('; ');
}

/**
 * A re-run after a crash finishes the job: a group of the stack carrying an unfinished rollout
 * record (a crashed, killed or halted `roll`/`ab`/deploy hook) is finished first — each such
 * service's hook runs on the stack's current outputs, exactly as `asg-deploy roll --asg G` /
 * `ab --environment E` would (the A/B hook resumes the swap its record describes; the rolling
 * hook finishes the roll and restores the group) — and only then does `pulumi up` run, so `up`
 * never fights a rollout nor erases its record (docs/commands/deploy.md). Where that cannot be
 * done (the service is not in the stack's outputs, or a record is still there afterwards) the
 * deploy is refused, exit 3, before `up`, naming the group and the command that finishes it.
 * A hook that fails is the deploy's failure (exit 1), before `up`.
 */
async function finishUnfinished(stack: StackPort, unfinished: UnfinishedRecord[], configured: readonly ServiceConfig[], options: DeployOptions, deps: DeployDeps): Promise<void> {
  const { reporter } = deps;
  const names = [...new Set(unfinished.map((r) => r.service))];
  reporter.emit('warn', DeployCodes.unfinished, `an earlier rollout is unfinished: ${describeUnfinished(unfinished)}; finishing it before pulumi up`, unfinishedRefusal(unfinished).data);
  const manifest = readManifest(await stack.outputs(), stack.name);
  const missing = names.filter((n) => !manifest?.services.some((s) => s.service === n));
  if (missing.length > 0) throw unfinishedRefusal(unfinished.filter((r) => missing.includes(r.service)));
  for (const name of names) {
    const service = manifest!.services.find((s) => s.service === name)!;
    const tap: Reporter = { emit: (level, code, message, data) => reporter.emit(level, code, message, { service: name, ...(data ?? {}) }) };
    const result = await deps.hooks.rollout(service, { changes: [], reporter: tap, force: false, signal: deps.signal, pollIntervalSeconds: options.pollIntervalSeconds });
    reporter.emit('info', DeployCodes.serviceDone, `${name}: the unfinished rollout is finished: ${result.summary}`, { service: name, status: result.status, replaced: result.replaced, finishing: true });
  }
  const left = deps.records ? await deps.records.unfinished(recordTargets(configured)) : [];
  if (left.length > 0) throw unfinishedRefusal(left);
}

async function dryRun(stack: StackPort, options: DeployOptions, deps: DeployDeps, held: HeldLock[] = [], config?: ValidatedConfig, unfinished: UnfinishedRecord[] = []): Promise<DeployOutcome> {
  const { reporter } = deps;
  const before = readManifest(await stack.outputs(), stack.name);
  const preview = await stack.preview({ signal: deps.signal, refresh: options.refresh, onEvent: (e) => forwardStackEvent(e, reporter) });
  reporter.emit('info', DeployCodes.stackPreview, `preview of stack ${stack.name}: ${describeChangeSummary(preview.changeSummary)}`, {
    stack: stack.name,
    changeSummary: preview.changeSummary,
    changes: preview.changes,
  });
  const lines = [`Pulumi preview of stack ${stack.name}: ${describeChangeSummary(preview.changeSummary)}`];
  for (const c of preview.changes) lines.push(`  ${opSymbol(c.op)} ${c.op.padEnd(8)} ${c.type}  ${c.name}${c.diffs?.length ? `  [${c.diffs.join(', ')}]` : ''}`);

  const selected = options.services ?? [];
  const rows: SummaryRow[] = [];
  if (!before) {
    lines.push('Rollout plan: the stack has no services output yet (first deploy): the groups are created at their capacity, nothing to roll out.');
  } else if (options.skipRollout) {
    lines.push('Rollout plan: none (--skip-rollout).');
  } else {
    checkSelection(selected, before);
    lines.push('Rollout plan (from current AWS state and the previewed change; nothing is changed):');
    for (const service of before.services) {
      if (selected.length > 0 && !selected.includes(service.service)) {
        lines.push(`  ${service.service}: skipped (not selected by --service)`);
        continue;
      }
      // Planned with the settings the update will give it (capacity, step), as the real run uses them.
      const plan = await deps.hooks.plan(manifestAfterUpdate(service, config?.services), { changes: preview.changes, force: Boolean(options.force) });
      reporter.emit('info', DeployCodes.servicePlan, plan.summary, {
        service: service.service,
        strategy: service.strategy,
        action: plan.action,
        instances: plan.instances,
      });
      lines.push(`  ${plan.summary}`);
      rows.push({ service: service.service, strategy: service.strategy, target: targetOf(service), result: 'planned', replaced: plan.instances.length, seconds: 0, apiCalls: 0, detail: plan.summary });
    }
  }
  for (const h of held) lines.push(`LOCKED: a real deploy would be refused (exit 3): ${lockedRefusal(h).message}`);
  if (unfinished.length > 0) lines.push(`UNFINISHED ROLLOUT: a real deploy would first finish it, before pulumi up (as 'asg-deploy roll'/'ab' would): ${describeUnfinished(unfinished)}`);
  lines.push('Dry run: no Pulumi update and no mutating AWS call was made.');
  deps.print(lines.join('\n'));
  if (held.length > 0) throw lockedRefusal(held[0]); // refusals hold for dry runs
  return { exit: ExitCode.ok, rows, manifest: before };
}

function checkSelection(selected: string[], manifest: ServicesManifest): void {
  const known = manifest.services.map((s) => s.service);
  const unknown = selected.filter((s) => !known.includes(s));
  if (unknown.length > 0) {
    throw usageError('deploy.unknown-service', `--service ${unknown.join(', ')}: no such service in the stack's manifest (services: ${known.join(', ') || 'none'})`, {
      unknown,
      services: known,
    });
  }
}

function skip(row: SummaryRow, reason: string, deps: DeployDeps): void {
  row.result = 'skipped';
  row.detail = reason;
  deps.reporter.emit('info', DeployCodes.serviceSkip, `${row.service}: skipped, ${reason}`, { service: row.service, reason });
}

function printSummary(rows: SummaryRow[], deps: DeployDeps): void {
  deps.reporter.emit('info', DeployCodes.summary, 'summary', { rows });
  if (rows.length > 0) deps.print(renderSummary(rows));
}

async function fail(err: unknown, options: DeployOptions, deps: DeployDeps, started: number, rows: SummaryRow[] = []): Promise<void> {
  const e = err instanceof DeployError ? err : undefined;
  const reason = err instanceof Error ? err.message : String(err);
  const exit = e?.exit ?? ExitCode.failed;
  deps.reporter.emit('error', DeployCodes.failed, `deploy of stack ${options.stack} ${isAbortError(err) ? 'interrupted' : 'failed'}: ${reason}`, {
    stack: options.stack,
    code: e?.code ?? 'internal',
    reason,
    exit,
    seconds: Math.round((deps.clock.now() - started) / 1000),
  });
  const done = rows.filter((r) => r.result === 'done' || r.result === 'noop').map((r) => r.service);
  const notRun = rows.filter((r) => r.result === 'not run').map((r) => r.service);
  await deps.notifier.notify(
    'failure',
    `asg-deploy: deploy of stack *${options.stack}* failed: ${reason}` +
      (done.length ? `; done: ${done.join(', ')}` : '') +
      (notRun.length ? `; not run: ${notRun.join(', ')}` : ''),
  );
}

/** Pulumi's progress through our reporter. */
export function forwardStackEvent(e: StackEvent, reporter: Reporter): void {
  switch (e.kind) {
    case 'resource':
      if (e.phase === 'start') return; // the 'done'/'failed' line says it all
      reporter.emit(e.phase === 'failed' ? 'error' : 'info', DeployCodes.stackResource, `${e.change.op} ${e.change.type} ${e.change.name}${e.phase === 'failed' ? ' FAILED' : ''}`, {
        op: e.change.op,
        type: e.change.type,
        name: e.change.name,
        phase: e.phase,
      });
      return;
    case 'diagnostic':
      reporter.emit(e.severity === 'error' ? 'error' : e.severity === 'warning' ? 'warn' : 'info', DeployCodes.stackDiagnostic, e.resource ? `${e.resource}: ${e.message}` : e.message, {
        severity: e.severity,
        ...(e.resource ? { resource: e.resource } : {}),
      });
      return;
    case 'output':
      return; // the engine events carry the same information, structured
  }
}

function opSymbol(op: string): string {
  return ({ create: '+', update: '~', replace: '+-', delete: '-', 'create-replacement': '++', 'delete-replaced': '--' } as Record<string, string>)[op] ?? ' ';
}
