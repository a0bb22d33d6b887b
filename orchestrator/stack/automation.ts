/**
 * The real stack adapter: Pulumi's Automation API (`LocalWorkspace`) on the project's own
 * `Pulumi.yaml` (workDir = the project root, program in infra/). Thin: it translates options,
 * streams engine events into our {@link StackEvent}s and maps Pulumi's errors to DeployErrors.
 *
 * Cancellation: pulumi runs in a process group of its own (stack/pulumi-process.ts) and gets
 * exactly one SIGINT when the deploy is interrupted, whatever the signal's origin: Pulumi then
 * cancels (finishes the in-flight resource operations, records the state) instead of
 * terminating. The message says what pulumi actually did (its exit code and error lines).
 *
 * Errors: the SDK's CommandError message is `code: -2\n stdout: \n stderr: Command failed with
 * exit code N: pulumi ...\n<pulumi's stderr>\n<stdout>\n err?: ...` (automation/cmd.js exec:
 * execa 5 rejects and its message is wrapped in a CommandResult). Pulumi's own lines are read from
 * the execa error it carries (`commandResult.err.stderr`, `exitCode`, `signal`): each
 * `error: ...` line (pulumi's diag sink format) is shown, plus the engine's error diagnostics
 * from the event stream (a failed resource or program prints nothing on stderr: a "bail").
 * Errors the tool knows the fix for get a named code (see {@link mapError}).
 */
import { projectRoot } from '../package-info';
import * as path from 'node:path';
import {
  ConcurrentUpdateError,
  LocalWorkspace,
  PulumiCommand,
  StackNotFoundError,
  type EngineEvent,
  type OpMap,
  type OutputMap,
  type Stack,
} from '@pulumi/pulumi/automation';
import { DeployError, ExitCode, interruptedError, usageError } from '../errors';
import { groupedPulumi, type PulumiRuns } from './pulumi-process';
import { loadStackConfig, type StackConfig } from './config-file';
import {
  concurrentUpdate,
  pulumiMissing,
  unknownStack,
  upFailed,
  type ChangeSummary,
  type OpenOptions,
  type PreviewOutcome,
  type ResourceChange,
  type StackBackend,
  type StackEvent,
  type StackOperationOptions,
  type StackPort,
  type UpOutcome,
} from './port';

/** The project directory (package-info.ts `projectRoot`: nearest Pulumi.yaml at or above the current directory). */
export const PROJECT_ROOT = projectRoot();

export interface AutomationOptions {
  /** Default: the project root. */
  workDir?: string;
  /** Passed to every pulumi command (e.g. PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE). */
  envVars?: Record<string, string>;
  /** Monotonic time for durations; the CLI passes its clock. */
  now?: () => number;
  /** Records the interrupts sent to pulumi (tests). */
  runs?: PulumiRuns;
}

/** Stacks through `LocalWorkspace` on the project's Pulumi.yaml. */
export class AutomationBackend implements StackBackend {
  private command?: PulumiCommand;
  private readonly workDir: string;

  constructor(private readonly options: AutomationOptions = {}) {
    this.workDir = options.workDir ?? PROJECT_ROOT;
  }

  /** Finds the pulumi CLI once; a missing binary is exit 2 with how to install it. */
  private async pulumi(): Promise<PulumiCommand> {
    if (this.command) return this.command;
    try {
      this.command = groupedPulumi(await PulumiCommand.get(), this.options.runs);
      return this.command;
    } catch (err) {
      if (isMissingBinary(err)) throw pulumiMissing(err);
      throw new DeployError('stack.pulumi-version', `the pulumi CLI could not be used: ${firstLine(err)}`, { source: 'user', exit: 2, cause: err });
    }
  }

  private async workspace(): Promise<LocalWorkspace> {
    return LocalWorkspace.create({ workDir: this.workDir, pulumiCommand: await this.pulumi(), envVars: this.options.envVars });
  }

  async readConfig(name: string, options: OpenOptions = {}): Promise<StackConfig> {
    return loadStackConfig(this.workDir, name, options.configFile);
  }

  async listStacks(): Promise<string[]> {
    const ws = await this.workspace();
    return (await ws.listStacks()).map((s) => s.name);
  }

  async open(name: string, options: OpenOptions = {}): Promise<StackPort> {
    const args = { stackName: name, workDir: this.workDir };
    const opts = { pulumiCommand: await this.pulumi(), envVars: this.options.envVars };
    try {
      const stack = options.create ? await LocalWorkspace.createOrSelectStack(args, opts) : await LocalWorkspace.selectStack(args, opts);
      return new AutomationStack(stack, this.options.now ?? (() => Date.now()), options.configFile && path.resolve(options.configFile));
    } catch (err) {
      if (err instanceof StackNotFoundError || /no stack named '.*' found/.test(firstLine(err))) {
        let existing: string[] = [];
        try {
          existing = await this.listStacks();
        } catch {
          // listing is best effort: the message still names the stack
        }
        throw unknownStack(name, existing);
      }
      throw mapError(name, err);
    }
  }
}

class AutomationStack implements StackPort {
  readonly simulated = false;
  constructor(private readonly stack: Stack, private readonly now: () => number, private readonly configFile?: string) {}

  get name(): string {
    return this.stack.name;
  }

  async preview(options: StackOperationOptions = {}): Promise<PreviewOutcome> {
    const changes = new Map<string, ResourceChange>();
    const diagnostics: string[] = [];
    try {
      const result = await this.stack.preview({
        diff: false,
        refresh: options.refresh,
        configFile: this.configFile,
        signal: options.signal,
        onOutput: (out) => emitOutput(out, options.onEvent),
        onEvent: (event) => onEngineEvent(event, changes, collectErrors(diagnostics, options.onEvent)),
      });
      return { changeSummary: toSummary(result.changeSummary), changes: [...changes.values()] };
    } catch (err) {
      throw mapError(this.name, err, { signal: options.signal, diagnostics });
    }
  }

  async up(options: StackOperationOptions = {}): Promise<UpOutcome> {
    const changes = new Map<string, ResourceChange>();
    const diagnostics: string[] = [];
    const started = this.now();
    try {
      const result = await this.stack.up({
        refresh: options.refresh,
        configFile: this.configFile,
        signal: options.signal,
        onOutput: (out) => emitOutput(out, options.onEvent),
        onEvent: (event) => onEngineEvent(event, changes, collectErrors(diagnostics, options.onEvent)),
      });
      return {
        changeSummary: toSummary(result.summary.resourceChanges ?? {}),
        changes: [...changes.values()],
        outputs: plainOutputs(result.outputs),
        seconds: Math.round((this.now() - started) / 1000),
      };
    } catch (err) {
      const mapped = mapError(this.name, err, { signal: options.signal, diagnostics });
      if (mapped.code === 'stack.error') throw upFailed(this.name, String(mapped.data.detail ?? mapped.message), err);
      throw mapped;
    }
  }

  async outputs(): Promise<Record<string, unknown>> {
    try {
      return plainOutputs(await this.stack.outputs());
    } catch (err) {
      throw mapError(this.name, err);
    }
  }

  async cancel(): Promise<void> {
    await this.stack.cancel();
  }
}

function plainOutputs(outputs: OutputMap): Record<string, unknown> {
  const plain: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(outputs)) plain[k] = v.value;
  return plain;
}

function toSummary(map: OpMap): ChangeSummary {
  const s: ChangeSummary = {};
  for (const [op, n] of Object.entries(map)) if (n) s[op] = n;
  return s;
}

function emitOutput(out: string, onEvent?: (e: StackEvent) => void): void {
  if (!onEvent) return;
  for (const line of out.split('\n')) if (line.trim()) onEvent({ kind: 'output', line: line.trimEnd() });
}

/** Translates the engine's event stream into ours, remembering each changed resource. */
export function onEngineEvent(event: EngineEvent, changes: Map<string, ResourceChange>, onEvent?: (e: StackEvent) => void): void {
  const step = event.resourcePreEvent ?? event.resOutputsEvent ?? event.resOpFailedEvent;
  if (step) {
    const m = step.metadata;
    if (m.op === 'same' || m.type === 'pulumi:pulumi:Stack') return;
    const change: ResourceChange = { op: m.op, type: m.type, name: m.urn.split('::').pop() ?? m.urn, urn: m.urn, diffs: m.diffs };
    changes.set(m.urn, change);
    const phase = event.resOpFailedEvent ? 'failed' : event.resOutputsEvent ? 'done' : 'start';
    onEvent?.({ kind: 'resource', phase, change });
    return;
  }
  const d = event.diagnosticEvent;
  if (d && !d.ephemeral && onEvent) {
    const severity = d.severity === 'error' ? 'error' : d.severity === 'warning' ? 'warning' : 'info';
    const resource = d.urn && !d.urn.includes('::pulumi:pulumi:Stack::') ? d.urn.split('::').pop() : undefined;
    onEvent({ kind: 'diagnostic', severity, message: d.message.trim(), ...(resource ? { resource } : {}) });
  }
}

function firstLine(err: unknown): string {
  const failure = pulumiFailure(err);
  if (failure?.errors.length) return failure.errors[0];
  const msg = err instanceof Error ? err.message : String(err);
  return (msg.split('\n').find((l) => l.trim()) ?? msg).trim();
}

/** Keeps the error diagnostics (with the resource they concern) while forwarding every event. */
function collectErrors(into: string[], onEvent?: (e: StackEvent) => void): (e: StackEvent) => void {
  return (e) => {
    if (e.kind === 'diagnostic' && e.severity === 'error') into.push(e.resource ? `${e.resource}: ${e.message}` : e.message);
    onEvent?.(e);
  };
}

function isMissingBinary(err: unknown): boolean {
  const failure = pulumiFailure(err);
  if (failure) return failure.spawnError === 'ENOENT';
  return /ENOENT/.test(err instanceof Error ? err.message : String(err));
}

/** What pulumi said and how it ended, read from the SDK's CommandError. */
export interface PulumiFailure {
  /** The pulumi subcommand, e.g. "up". */
  command: string;
  exitCode?: number;
  /** The signal that killed pulumi, if one did. */
  signal?: string;
  /** pulumi could not be started (e.g. ENOENT). */
  spawnError?: string;
  /** Pulumi's `error: ...` messages from stderr, prefix removed, continuation lines kept. */
  errors: string[];
  stderr: string;
}

const PULUMI_COMMANDS = new Set(['up', 'preview', 'refresh', 'destroy', 'stack', 'config', 'version', 'whoami', 'cancel', 'import', 'install', 'plugin']);

/**
 * Reads a CommandError of the pinned SDK: `commandResult.err` is execa's error (its `stderr`,
 * `exitCode`, `signal`, `command`). Undefined for anything that is not a CommandError.
 */
export function pulumiFailure(err: unknown): PulumiFailure | undefined {
  const result = (err as { commandResult?: { stderr?: string; code?: number; err?: Record<string, unknown> } } | undefined)?.commandResult;
  if (!result || typeof result !== 'object') return undefined;
  const execaErr = result.err ?? {};
  const stderr = typeof execaErr.stderr === 'string' ? execaErr.stderr : result.err ? '' : String(result.stderr ?? '');
  const commandLine = typeof execaErr.command === 'string' ? execaErr.command : '';
  return {
    command: commandLine.split(' ').slice(1).find((t) => PULUMI_COMMANDS.has(t)) ?? '',
    exitCode: typeof execaErr.exitCode === 'number' ? execaErr.exitCode : result.code !== -2 ? result.code : undefined,
    signal: typeof execaErr.signal === 'string' ? execaErr.signal : undefined,
    spawnError: typeof execaErr.code === 'string' ? execaErr.code : undefined,
    errors: errorLines(stderr),
    stderr,
  };
}

/**
 * Pulumi's error messages in its stderr: each starts with `error: ` (sdk/go/common/diag/sink.go);
 * the lines that follow until the next `error:`/`warning:` line belong to it (e.g. the "To learn
 * more" line of a 409 conflict).
 */
export function errorLines(stderr: string): string[] {
  const out: string[] = [];
  let current: string[] | undefined;
  for (const raw of stderr.split('\n')) {
    const line = raw.replace(/\u001b\[[0-9;]*m/g, '').trimEnd();
    if (line.startsWith('error: ')) {
      current = [line.slice('error: '.length)];
      out.push('');
      continue;
    }
    if (/^warning: /.test(line)) current = undefined;
    else if (current && line.trim()) current.push(line.trim());
    if (current) out[out.length - 1] = current.join('\n  ');
  }
  if (current) out[out.length - 1] = current.join('\n  ');
  return out.filter(Boolean);
}

export interface MapErrorContext {
  /** The deploy's signal: aborted means the operation was interrupted. */
  signal?: AbortSignal;
  /** The engine's error diagnostics of the operation. */
  diagnostics?: string[];
}

const PASSPHRASE = /passphrase must be set with PULUMI_CONFIG_PASSPHRASE|incorrect passphrase/;
const LOGIN = /PULUMI_ACCESS_TOKEN must be set for login|requires logging in; try running `pulumi login`|\[401\]|Unauthorized: No credentials provided or are invalid/;
const BACKEND = /diy URL .* has an illegal prefix|unable to open bucket|PULUMI_BACKEND_URL/;

/**
 * Pulumi's errors to ours. The tool names what it knows the fix for (all: nothing was changed):
 * missing CLI 2 (`stack.pulumi-missing`), no passphrase 2 (`stack.passphrase`), not logged in 2
 * (`stack.login`), backend unusable 2 (`stack.backend`), unknown stack 2 (`stack.unknown`, raised
 * by `open`), concurrent update 3 (`stack.concurrent-update`), interrupted 130; anything else is
 * `stack.error` (1) with Pulumi's error lines and error diagnostics (`data.detail`).
 */
export function mapError(stack: string, err: unknown, context: MapErrorContext = {}): DeployError {
  if (err instanceof DeployError) return err;
  if (isMissingBinary(err)) return pulumiMissing(err);
  const failure = pulumiFailure(err);
  const said = failure?.errors ?? [];
  const pulumiSaid = said.length ? ` (pulumi: ${said.join('; ')})` : '';
  const text = failure ? failure.stderr : String(err instanceof Error ? err.message : err);
  if (err instanceof ConcurrentUpdateError || /\[409\] Conflict|another update is currently in progress|the stack is currently locked by/i.test(text)) {
    return concurrentUpdate(stack, err, said.join('; '));
  }
  if (context.signal?.aborted) return interrupted(stack, failure, err);
  const known = (code: string, message: string) =>
    Object.assign(usageError(code, `${message}; nothing was changed${pulumiSaid}`, { stack, pulumi: said }), { cause: err });
  if (PASSPHRASE.test(text)) {
    return known('stack.passphrase', `stack '${stack}' keeps its secrets with a passphrase and pulumi was given none: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) in the environment of asg-deploy`);
  }
  if (LOGIN.test(text)) {
    return known('stack.login', `pulumi is not logged in to a state backend: run 'pulumi login' (Pulumi Cloud; in CI set PULUMI_ACCESS_TOKEN), or 'pulumi login s3://<bucket>' / 'pulumi login file://<dir>' (or set PULUMI_BACKEND_URL) for a self-managed backend`);
  }
  if (BACKEND.test(text)) {
    return known('stack.backend', `pulumi could not open its state backend: check PULUMI_BACKEND_URL (or the URL given to 'pulumi login') and the credentials for it`);
  }
  const diagnostics = context.diagnostics ?? [];
  const parts = [...said];
  if (diagnostics.length) parts.push(`diagnostics: ${diagnostics.join('; ')}`);
  const how = failure?.signal ? `killed by ${failure.signal}` : failure?.exitCode !== undefined ? `exit code ${failure.exitCode}` : '';
  const detail = parts.length ? parts.join('; ') : failure ? `pulumi ${failure.command} failed${how ? ` (${how})` : ''} without an error message` : firstLine(err);
  return new DeployError('stack.error', detail, { source: 'tool', exit: ExitCode.failed, cause: err, data: { stack, detail, pulumi: said, diagnostics, exitCode: failure?.exitCode } });
}

/**
 * The deploy was interrupted while pulumi ran; it got one SIGINT. Says what pulumi did:
 * cancelled (CancelledError, exit 8 in pulumi v3.248.0 cmd.ExitCodeFor: the in-flight operations
 * finished and the state was recorded), killed by a signal, or failed otherwise.
 */
function interrupted(stack: string, failure: PulumiFailure | undefined, cause: unknown): DeployError {
  const op = failure?.command || 'operation';
  const said = failure?.errors.length ? `; pulumi: ${failure.errors.join('; ')}` : '';
  let message: string;
  if (failure?.signal) {
    message = `pulumi ${op} on stack '${stack}' was killed by ${failure.signal} before it finished: the stack's state may hold pending operations; check it with 'pulumi stack --stack ${stack}' and 'pulumi refresh --stack ${stack}' before the next deploy; no rollout was started`;
  } else if (failure?.exitCode === 8 || failure?.errors.some((e) => / cancelled$/.test(e))) {
    message =
      op === 'up'
        ? `pulumi up on stack '${stack}' was cancelled: Pulumi finished its in-flight resource operations and recorded the stack's state (run deploy again to finish the update); no rollout was started`
        : `pulumi ${op} on stack '${stack}' was cancelled; nothing was changed`;
  } else {
    message = `pulumi ${op} on stack '${stack}' was interrupted and exited${failure?.exitCode !== undefined ? ` with code ${failure.exitCode}` : ''}${said}; check the stack with 'pulumi stack --stack ${stack}' before the next deploy; no rollout was started`;
  }
  return Object.assign(interruptedError(message), { cause });
}
