/**
 * Riding out transient AWS errors for the A/B run and the environment lock: the tool's ONE retry
 * policy (aws/transient.ts) under the names the lock and A/B code use. Reads and idempotent
 * writes are retried with back-off in clock time; `terminateInstance` is never retried here (its
 * caller looks again first). The SDK itself sends every mutating call once (aws/adapter.ts).
 */
import type { AwsPort } from '../aws/port';
import { errorName, isTransient, retryWarning, retryingPort as portWithPolicy, withRetry } from '../aws/transient';
import type { Clock } from '../clock';
import { DeployError, ExitCode, interruptedError, isAbortError } from '../errors';
import type { Reporter } from '../report/reporter';

/** Throttling, a 5xx, ResourceContention or a network failure: the one classifier (aws/transient.ts). */
export { errorName, isTransient };

export interface RetryOptions {
  clock: Clock;
  reporter?: Reporter;
  /** Abort the back-off (SIGINT). Ignored once already aborted: cleanup after an interrupt still retries. */
  signal?: AbortSignal;
  /** At most this many retries (default: the policy's time budget only). */
  retries?: number;
}

/** Calls `f` (a read or an idempotent write), retrying transient errors per the one policy; rethrows the last error. */
export async function withTransientRetry<T>(what: string, f: () => Promise<T>, options: RetryOptions): Promise<T> {
  return withRetry(() => f(), {
    clock: options.clock,
    signal: options.signal,
    maxRetries: options.retries,
    onRetry: retryWarning(options.reporter, what),
  });
}

/** An error AWS (or the SDK talking to it) returned: it carries `$metadata`/`$fault`, or is transient. */
export function isAwsError(err: unknown): boolean {
  const e = err as { $metadata?: unknown; $fault?: unknown } | undefined;
  return Boolean(e && typeof e === 'object' && (e.$metadata !== undefined || e.$fault !== undefined)) || isTransient(err);
}

/**
 * An AWS error as a DeployError: DeployErrors pass; an abort is exit 130; an AWS error (transient
 * ones included, once the retries gave up) is exit 1 naming the operation and AWS's error.
 * Anything else (a bug) is returned as it is, for the CLI to report as an internal error.
 */
export function asDeployError(err: unknown, context: string): Error & { data?: Record<string, unknown> } {
  if (err instanceof DeployError) return err;
  if (isAbortError(err)) return interruptedError();
  if (!isAwsError(err)) return err instanceof Error ? err : new Error(String(err));
  const name = errorName(err);
  const message = (err as Error)?.message ?? String(err);
  const transient = isTransient(err);
  return new DeployError(transient ? 'aws-unavailable' : 'aws-error', `${context}: ${name}: ${message}${transient ? ' (still failing after retries with back-off)' : ''}`, {
    source: 'aws',
    exit: ExitCode.failed,
    cause: err,
    data: { error: name, transient },
  });
}

/** The port with the one retry policy applied (aws/transient.ts retryingPort). */
export function retryingPort(port: AwsPort, options: RetryOptions): AwsPort {
  return portWithPolicy(port, { clock: options.clock, reporter: options.reporter, signal: options.signal, maxRetries: options.retries });
}
