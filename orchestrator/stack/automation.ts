/**
 * The real stack adapter: Pulumi's Automation API (`LocalWorkspace`) on the project's own
 * `Pulumi.yaml` (workDir = the project root, program in infra/). Thin: it translates options,
 * streams engine events into our {@link StackEvent}s and maps Pulumi's errors to DeployErrors.
 *
 * Cancellation: the `signal` is handed to the Automation API, which sends SIGINT to the pulumi
 * process, so Pulumi stops after the in-flight resource operations and saves its state
 * (a clean cancel, not a kill).
 */
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
import { DeployError, interruptedError } from '../errors';
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

/** The project root: where Pulumi.yaml lives, the directory asg-deploy runs in (docs/install.md). */
export const PROJECT_ROOT = process.cwd();

export interface AutomationOptions {
  /** Default: the project root. */
  workDir?: string;
  /** Passed to every pulumi command (e.g. PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE). */
  envVars?: Record<string, string>;
  /** Monotonic time for durations; the CLI passes its clock. */
  now?: () => number;
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
      this.command = await PulumiCommand.get();
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
      if (err instanceof StackNotFoundError || /no stack named|not found/i.test(firstLine(err))) {
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
    try {
      const result = await this.stack.preview({
        diff: false,
        configFile: this.configFile,
        signal: options.signal,
        onOutput: (out) => emitOutput(out, options.onEvent),
        onEvent: (event) => onEngineEvent(event, changes, options.onEvent),
      });
      return { changeSummary: toSummary(result.changeSummary), changes: [...changes.values()] };
    } catch (err) {
      throw mapError(this.name, err, options.signal);
    }
  }

  async up(options: StackOperationOptions = {}): Promise<UpOutcome> {
    const changes = new Map<string, ResourceChange>();
    const started = this.now();
    try {
      const result = await this.stack.up({
        configFile: this.configFile,
        signal: options.signal,
        onOutput: (out) => emitOutput(out, options.onEvent),
        onEvent: (event) => onEngineEvent(event, changes, options.onEvent),
      });
      return {
        changeSummary: toSummary(result.summary.resourceChanges ?? {}),
        changes: [...changes.values()],
        outputs: plainOutputs(result.outputs),
        seconds: Math.round((this.now() - started) / 1000),
      };
    } catch (err) {
      const mapped = mapError(this.name, err, options.signal);
      if (mapped.code === 'stack.error') throw upFailed(this.name, mapped.message, err);
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
    onEvent({ kind: 'diagnostic', severity, message: d.message.trim() });
  }
}

function firstLine(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  const stderr = /stderr: ([^\n]+)/.exec(msg)?.[1];
  return (stderr ?? msg.split('\n').find((l) => l.trim()) ?? msg).trim();
}

function isMissingBinary(err: unknown): boolean {
  return /ENOENT/.test(err instanceof Error ? err.message : String(err));
}

/** Pulumi's errors to ours: missing CLI 2, unknown stack 2, concurrent update 3, cancelled 130, else a stack error (1). */
export function mapError(stack: string, err: unknown, signal?: AbortSignal): DeployError {
  if (err instanceof DeployError) return err;
  if (isMissingBinary(err)) return pulumiMissing(err);
  if (err instanceof ConcurrentUpdateError || /\[409\] Conflict|another update is currently in progress/i.test(String(err))) return concurrentUpdate(stack, err);
  if (signal?.aborted) {
    const e = interruptedError(`pulumi operation on stack '${stack}' cancelled; Pulumi saved its state, no rollout was started`);
    return Object.assign(e, { cause: err });
  }
  return new DeployError('stack.error', firstLine(err), { source: 'tool', exit: 1, cause: err, data: { stack } });
}
