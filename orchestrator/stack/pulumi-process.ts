/**
 * The pulumi CLI as the Automation SDK runs it, with one difference: pulumi runs in a process
 * group of its own, and the tool sends it exactly one SIGINT when the deploy is interrupted.
 *
 * Why: the SDK (@pulumi/pulumi 3.248.0 automation/cmd.js `exec`) spawns pulumi in the caller's
 * process group and, when the `signal` handed to `preview/up` aborts, sends it SIGINT. A Ctrl-C in
 * a terminal goes to the whole foreground process group, so pulumi got the terminal's SIGINT
 * *and* the SDK's: two. Pulumi's cancellation scope (pkg/backend/cancellation_scope.go) cancels on
 * the first and *terminates* on the second ("terminating immediately may lead to orphaned
 * resources and other inconsistencies"). In a group of its own, pulumi receives no signal
 * from the terminal or from a CI runner signalling our group; the tool sends one SIGINT
 * whatever the origin (terminal Ctrl-C, SIGTERM or SIGINT to this process or its group).
 *
 * If this process exits while pulumi still runs after an interrupt (a second Ctrl-C: "exit at
 * once"), pulumi gets a second SIGINT, which is what a second Ctrl-C meant to it before:
 * terminate. If it exits without an interrupt, pulumi gets one SIGINT (cancel cleanly).
 *
 * Everything else is the SDK's own code path: the same execa (resolved from the SDK), the same
 * arguments and environment (`--non-interactive`, PULUMI_AUTOMATION_API, PATH for a rooted CLI),
 * the same `CommandResult` and `createCommandError` (so ConcurrentUpdateError, StackNotFoundError
 * and the CommandError message are exactly what the SDK produces).
 */
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import type { PulumiCommand } from '@pulumi/pulumi/automation';

const sdkRequire = createRequire(require.resolve('@pulumi/pulumi/automation'));
// The SDK's internals (exported by its modules, marked @internal): see the module comment.
const execa = sdkRequire('execa') as (file: string, args: string[], options: Record<string, unknown>) => ExecaChild;
const { CommandResult } = sdkRequire('./cmd') as { CommandResult: new (stdout: string, stderr: string, code: number, err?: Error) => unknown };
const { createCommandError } = sdkRequire('./errors') as { createCommandError(result: unknown): Error };

interface ExecaChild extends Promise<{ stdout: string; stderr: string; exitCode: number }> {
  pid?: number;
  stdout: NodeJS.ReadableStream | null;
  stderr: NodeJS.ReadableStream | null;
  kill(signal: string, options?: { forceKillAfterTimeout: boolean }): boolean;
}

/** How the last pulumi run that was interrupted ended: for an honest message. */
export interface InterruptRecord {
  /** The pulumi command line (e.g. "up"). */
  command: string;
  /** SIGINTs this process sent to it. */
  sent: number;
}

/** What a {@link groupedPulumi} did: the interrupts it sent, per run (tests and messages read it). */
export interface PulumiRuns {
  interrupts: InterruptRecord[];
}

type RunFn = (
  args: string[],
  cwd: string,
  additionalEnv: Record<string, string>,
  onOutput?: (data: string) => void,
  onError?: (data: string) => void,
  signal?: AbortSignal,
) => Promise<unknown>;

/** `base` (from `PulumiCommand.get()`) whose runs use a process group of their own; see the module comment. */
export function groupedPulumi(base: PulumiCommand, runs: PulumiRuns = { interrupts: [] }): PulumiCommand {
  const grouped = Object.create(base) as PulumiCommand & { run: RunFn };
  grouped.run = (args, cwd, additionalEnv, onOutput, onError, signal) => {
    if (!args.includes('--non-interactive')) args.push('--non-interactive');
    const env: Record<string, string> = { ...additionalEnv };
    if (path.isAbsolute(base.command)) {
      const sep = os.platform() === 'win32' ? ';' : ':';
      env.PATH = path.dirname(base.command) + sep + (additionalEnv.PATH || process.env.PATH);
    }
    env.PULUMI_AUTOMATION_API = 'true';
    return run(base.command, args, cwd, env, runs, onOutput, onError, signal);
  };
  return grouped;
}

async function run(
  command: string,
  args: string[],
  cwd: string,
  env: Record<string, string>,
  runs: PulumiRuns,
  onOutput?: (data: string) => void,
  onError?: (data: string) => void,
  signal?: AbortSignal,
): Promise<unknown> {
  const unknownErrCode = -2;
  let proc: ExecaChild | undefined;
  let record: InterruptRecord | undefined;
  const interrupt = () => {
    if (!proc || record) return;
    record = { command: args[0] ?? '', sent: 0 };
    runs.interrupts.push(record);
    if (proc.kill('SIGINT', { forceKillAfterTimeout: false })) record.sent++;
  };
  const onExit = () => {
    // This process exits with pulumi still running. Interrupted already (a second Ctrl-C, "exit at
    // once"): the second SIGINT, which makes Pulumi terminate, as a second Ctrl-C did before.
    // Never interrupted: one SIGINT, so Pulumi cancels cleanly instead of running on unattended.
    if (!proc) return;
    if (!record) return interrupt();
    if (proc.kill('SIGINT', { forceKillAfterTimeout: false })) record.sent++;
  };
  try {
    proc = execa(command, args, { env, cwd, detached: true });
    if (onError && proc.stderr) proc.stderr.on('data', (d: Buffer | string) => onError(d.toString()));
    if (onOutput && proc.stdout) proc.stdout.on('data', (d: Buffer | string) => onOutput(d.toString()));
    if (signal) {
      if (signal.aborted) interrupt();
      else signal.addEventListener('abort', interrupt, { once: true });
    }
    process.once('exit', onExit);
    const { stdout, stderr, exitCode } = await proc;
    const result = new CommandResult(stdout, stderr, exitCode);
    if (exitCode !== 0) throw createCommandError(result);
    return result;
  } catch (err) {
    // As the SDK: execa rejects on a non-zero exit; the CommandError carries execa's message.
    throw createCommandError(new CommandResult('', (err as Error).message, unknownErrCode, err as Error));
  } finally {
    process.off('exit', onExit);
    signal?.removeEventListener('abort', interrupt);
    proc = undefined;
  }
}
