/**
 * Riding out transient AWS errors in clock time, for the A/B run and the environment lock.
 *
 * The SDK already retries a few times (its standard strategy); when that gives up, the error
 * reaches us. Throttling, 5xx, ResourceContention and network errors say nothing about the
 * request itself, so the call is tried again after a back-off on the injected Clock (2 s, 4 s,
 * 8 s … capped at 30 s), a bounded number of times; then the last error is thrown as it was, for
 * the caller to turn into a DeployError. Anything else (a DeployError, a 4xx, a crash) is thrown
 * at once.
 *
 * {@link retryingPort} wraps every AwsPort method this way, so every phase of a run (lock, plan,
 * grow, wait, drain, release, restore) is covered by one rule. Every port method is safe to
 * repeat: sizes, tags, suspend/resume and protection are set (not incremented); the S3 lock
 * calls are conditional and their stores re-read after a 412 (see stores.ts). The one call that
 * is not, `terminateInstance` with decrement, is not retried.
 */
import type { AwsPort } from '../aws/port';
import { isThrottling, isTransient } from '../aws/transient';
import type { Clock } from '../clock';
import { DeployError, ExitCode, interruptedError, isAbortError } from '../errors';
import type { Reporter } from '../report/reporter';
import { throttleBackoff } from '../rollout/polling';

/** Retries after the SDK's own (default): back-offs 2+4+8+16+30+30 s ≈ 1.5 min per call at most. */
export const DEFAULT_TRANSIENT_RETRIES = 6;

/** Throttling, a 5xx, ResourceContention or a network failure: the engine's rule (aws/transient.ts). */
export { isTransient };

export interface RetryOptions {
  clock: Clock;
  reporter?: Reporter;
  /** Abort the back-off (SIGINT). Ignored once already aborted: cleanup after an interrupt still retries. */
  signal?: AbortSignal;
  retries?: number;
}

/** Calls `f`, retrying transient errors with back-off in clock time; rethrows the last error. */
export async function withTransientRetry<T>(what: string, f: () => Promise<T>, options: RetryOptions): Promise<T> {
  const retries = options.retries ?? DEFAULT_TRANSIENT_RETRIES;
  const signal = options.signal?.aborted ? undefined : options.signal;
  for (let attempt = 1; ; attempt++) {
    try {
      return await f();
    } catch (err) {
      if (!isTransient(err) || attempt > retries) throw err;
      const ms = throttleBackoff(attempt);
      options.reporter?.emit('warn', 'aws.throttled', `AWS ${isThrottling(err) ? 'throttled' : 'failed'} ${what} (${errorName(err)}); trying again in ${ms / 1000} s (${attempt}/${retries})`, {
        operation: what,
        error: errorName(err),
        backoffMs: ms,
        attempt,
      });
      await options.clock.sleep(ms, signal);
    }
  }
}

export function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string } | undefined;
  return String(e?.name ?? e?.Code ?? 'Error');
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

const RETRYING = Symbol('asg-deploy.retryingPort');
const NOT_RETRIED = new Set<keyof AwsPort>(['terminateInstance', 'apiCalls']);

/** The port with every call retried per {@link withTransientRetry} (except terminate with decrement). */
export function retryingPort(port: AwsPort, options: RetryOptions): AwsPort {
  if ((port as { [RETRYING]?: boolean })[RETRYING]) return port;
  return new Proxy(port, {
    get(target, prop, receiver) {
      if (prop === RETRYING) return true;
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || NOT_RETRIED.has(prop as keyof AwsPort)) return typeof value === 'function' ? value.bind(target) : value;
      return (...args: unknown[]) =>
        withTransientRetry(`${String(prop)}(${typeof args[0] === 'string' ? args[0] : ''})`, () => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args), {
          ...options,
          // Read the signal's state per call: a call made after an interrupt (cleanup) still retries.
          signal: options.signal,
        });
    },
  });
}
