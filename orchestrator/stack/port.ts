/**
 * The Pulumi stack behind a small port of our own (docs/design.md "stack"): everything above it
 * (deploy, its hooks, the dry-run plan) is tested without the pulumi binary. Two adapters:
 * `automation.ts` (the Automation API's LocalWorkspace on the project's Pulumi.yaml) and
 * `sandbox-stack.ts` (the real infra/ program under Pulumi's mock runtime, applied to the
 * simulated AWS).
 */
import { DeployError, ExitCode, usageError, refusedError } from '../errors';
import type { StackConfig } from './config-file';

/** Pulumi's operation kinds ("same", "create", "update", "replace", "delete", ...). */
export type ResourceOp = string;

/** Count per operation kind, e.g. `{ same: 4, update: 1 }`. */
export type ChangeSummary = Record<ResourceOp, number>;

/** One resource the operation touches (or would touch, for a preview). */
export interface ResourceChange {
  op: ResourceOp;
  /** Pulumi type token, e.g. `aws:ec2/launchTemplate:LaunchTemplate`. */
  type: string;
  /** The resource's logical name in the program. */
  name: string;
  urn?: string;
  /** Top-level keys that change (when the engine says). */
  diffs?: string[];
}

/** Progress of a preview or an update, streamed as it happens. */
export type StackEvent =
  | { kind: 'resource'; phase: 'start' | 'done' | 'failed'; change: ResourceChange }
  | { kind: 'diagnostic'; severity: 'info' | 'warning' | 'error'; message: string; /** The resource it concerns (logical name), when not the stack. */ resource?: string }
  | { kind: 'output'; line: string };

export interface StackOperationOptions {
  onEvent?: (event: StackEvent) => void;
  /** Aborting it cancels the operation (the adapter asks Pulumi to cancel cleanly). */
  signal?: AbortSignal;
  /** Pulumi's refresh first (`pulumi up/preview --refresh`); the sandbox stack has nothing to refresh. */
  refresh?: boolean;
}

export interface PreviewOutcome {
  changeSummary: ChangeSummary;
  /** Only the resources whose op is not `same`. */
  changes: ResourceChange[];
}

export interface UpOutcome extends PreviewOutcome {
  /** The stack outputs after the update (the `services` manifest among them). */
  outputs: Record<string, unknown>;
  seconds: number;
}

/** One selected (or created) stack. */
export interface StackPort {
  readonly name: string;
  /** True for the sandbox stack: output says plainly that it is a simulation. */
  readonly simulated: boolean;
  preview(options?: StackOperationOptions): Promise<PreviewOutcome>;
  up(options?: StackOperationOptions): Promise<UpOutcome>;
  /** Outputs of the last successful update (empty before the first one). */
  outputs(): Promise<Record<string, unknown>>;
  /** Ask Pulumi to stop an update in progress (Ctrl-C). */
  cancel(): Promise<void>;
}

export interface OpenOptions {
  /** Create the stack when it does not exist. */
  create?: boolean;
  /** Stack config file to use instead of `Pulumi.<stack>.yaml` in the project root (pulumi `--config-file`). */
  configFile?: string;
}

/** Where stacks live: selects or creates one, lists them. */
export interface StackBackend {
  /** Select `name`; with `create`, create it when it does not exist. Throws `unknownStack` otherwise. */
  open(name: string, options?: OpenOptions): Promise<StackPort>;
  listStacks(): Promise<string[]>;
  /**
   * The stack config file Pulumi would use for `name` (`Pulumi.<name>.yaml` in the project, or
   * `configFile`), read without Pulumi and without changing anything: `deploy` validates it first.
   */
  readConfig(name: string, options?: OpenOptions): Promise<StackConfig>;
}

export const PULUMI_INSTALL_URL = 'https://www.pulumi.com/docs/install/';

/** The pulumi CLI is not on PATH: exit 2 with how to install it. */
export function pulumiMissing(cause?: unknown): DeployError {
  return new DeployError(
    'stack.pulumi-missing',
    `the pulumi CLI was not found on PATH; install it (${PULUMI_INSTALL_URL}, e.g. 'curl -fsSL https://get.pulumi.com | sh'), ` +
      `log in to a state backend ('pulumi login' or PULUMI_BACKEND_URL=file://...), or try the simulation with --sandbox`,
    { source: 'user', exit: ExitCode.badInput, cause, data: { installUrl: PULUMI_INSTALL_URL } },
  );
}

/** No such stack: exit 2 listing the stacks that exist. */
export function unknownStack(name: string, existing: string[]): DeployError {
  const list = existing.length > 0 ? `the stacks that exist: ${existing.join(', ')}` : 'no stack exists yet';
  return usageError('stack.unknown', `stack '${name}' does not exist (${list}); pass --create to create it`, { stack: name, stacks: existing });
}

/** Someone else is updating the stack: exit 3, nothing changed. `pulumi`: what Pulumi said (who holds the lock). */
export function concurrentUpdate(name: string, cause?: unknown, pulumi?: string): DeployError {
  const e = refusedError('stack.concurrent-update', `stack '${name}' is being updated by someone else; nothing was changed, try again when it is done${pulumi ? ` (pulumi: ${pulumi})` : ''}`, {
    stack: name,
  });
  return cause === undefined ? e : Object.assign(e, { cause });
}

/** The update failed: exit 1, and no rollout runs. */
export function upFailed(name: string, detail: string, cause?: unknown): DeployError {
  return new DeployError('stack.up-failed', `pulumi up on stack '${name}' failed: ${detail}; no rollout was started`, {
    source: 'tool',
    exit: ExitCode.failed,
    cause,
    data: { stack: name },
  });
}

/** A change summary as a short phrase: "1 to update, 2 to create, 5 unchanged". */
export function describeChangeSummary(summary: ChangeSummary, tense: 'preview' | 'done' = 'preview'): string {
  const order = ['create', 'update', 'replace', 'delete'];
  const verbs: Record<string, [string, string]> = {
    create: ['to create', 'created'],
    update: ['to update', 'updated'],
    replace: ['to replace', 'replaced'],
    delete: ['to delete', 'deleted'],
  };
  const parts: string[] = [];
  for (const op of order) if (summary[op]) parts.push(`${summary[op]} ${verbs[op][tense === 'preview' ? 0 : 1]}`);
  for (const [op, n] of Object.entries(summary)) if (n && !order.includes(op) && op !== 'same') parts.push(`${n} ${op}`);
  if (summary.same) parts.push(`${summary.same} unchanged`);
  return parts.length > 0 ? parts.join(', ') : 'no changes';
}

/** Counts ops of `changes` plus `same` for the untouched resources. */
export function summarize(changes: ResourceChange[], unchanged: number): ChangeSummary {
  const s: ChangeSummary = {};
  for (const c of changes) s[c.op] = (s[c.op] ?? 0) + 1;
  if (unchanged > 0) s.same = unchanged;
  return s;
}
