/**
 * THE retry policy of the tool: which AWS errors are worth waiting out, which port operations may
 * be repeated, and the one place they are repeated (the AWS port, {@link retryingPort}).
 *
 * ## Classifier ({@link isTransient})
 * The SDK's own classifiers (`isThrottlingError`, `isTransientError`, `isServerError` from
 * `@smithy/core/retry`, the code the SDK's retry middleware itself runs: throttling codes and 429,
 * timeouts, 500/502/503/504, the Node network codes ECONNRESET/ETIMEDOUT/… also when wrapped in
 * `cause`, `$retryable`), plus the two Auto Scaling faults AWS documents as retryable:
 * `ResourceContention` ("You already have a pending update to an Amazon EC2 Auto Scaling resource")
 * and `ScalingActivityInProgress` (the SDK names them `…Fault`). Nothing is matched by pattern on
 * names: `InvalidNetworkInterfaceID.NotFound` or `NetworkInterfaceLimitExceeded` (HTTP 400) are
 * not transient. Our own DeployError and an AbortError never are.
 *
 * ## Policy per operation ({@link PORT_RETRY_POLICY})
 *  - `read` (describe, get): repeated freely. The SDK's own retries stay on for them, and the port
 *    retries again with back-off in clock time once the SDK gives up.
 *  - `idempotent-write` (set desired/sizes, suspend/resume, protection, tags, conditional S3
 *    writes): the SDK sends each ONCE (its retries are off for every mutating call, see
 *    adapter.ts); the port repeats it with back-off: the same request sets the same state, and the
 *    conditional S3 calls answer 412 to a repeat, which the lock stores read as such.
 *  - `non-idempotent-write` (`terminateInstance`): sent once, never repeated here. Whether to
 *    terminate is decided on a look at the group; after a failure the caller (the engine) backs
 *    off, looks again and decides anew (chaos seed 3417255494: the SDK's own retry of a throttled
 *    terminate landed after the instance had become healthy and killed it).
 *  - A scale-in (the engine lowering a group's desired capacity) is idempotent but decided on a
 *    look too: the engine sends it once through {@link sentOnce} and, after a transient failure,
 *    looks again and decides anew like a terminate (chaos seed 3119806818).
 *
 * Back-off ({@link transientBackoff}): 1, 2, 4 … s capped at 30 s, on the injected clock, for at
 * most `budgetMs` (default 5 min) since the first failure of the call; then the last error.
 */
import { isServerError, isThrottlingError, isTransientError } from '@smithy/core/retry';
import type { Clock } from '../clock';
import { DeployError } from '../errors';
import type { AwsPort } from './port';

/** Auto Scaling faults AWS documents as retryable (error codes; the SDK's class names add `Fault`). */
const AUTO_SCALING_RETRYABLE = new Set(['ResourceContention', 'ResourceContentionFault', 'ScalingActivityInProgress', 'ScalingActivityInProgressFault']);

function isErrorObject(err: unknown): err is { name?: string; Code?: string } {
  return typeof err === 'object' && err !== null;
}

/** Throttling, as the SDK's retry middleware classifies it (throttling codes, HTTP 429, `$retryable.throttling`). */
export function isThrottling(err: unknown): boolean {
  return isErrorObject(err) && isThrottlingError(err as never);
}

/** Worth waiting out: the SDK's throttling/transient/server classes, plus Auto Scaling's retryable faults. */
export function isTransient(err: unknown): boolean {
  if (!isErrorObject(err) || err instanceof DeployError) return false;
  if (err.name === 'AbortError') return false;
  const e = err as never;
  if (isThrottlingError(e) || isTransientError(e) || isServerError(e)) return true;
  return [err.name, err.Code].some((n) => typeof n === 'string' && AUTO_SCALING_RETRYABLE.has(n));
}

/** How a port operation may be repeated after a transient failure (see the file comment). */
export type RetryClass = 'read' | 'idempotent-write' | 'non-idempotent-write';

/** The policy, stated per operation of {@link AwsPort}. */
export const PORT_RETRY_POLICY: Record<Exclude<keyof AwsPort, 'apiCalls'>, RetryClass> = {
  findGroups: 'read',
  groupsNamed: 'read',
  observeGroup: 'read',
  groupsOfInstances: 'read',
  describeElb: 'read',
  describeTargetGroup: 'read',
  describeInstanceHealth: 'read',
  describeTargetHealth: 'read',
  recentLaunchDurations: 'read',
  launchActivities: 'read',
  lastFailedLaunch: 'read',
  standbyReturns: 'read',
  rebalanceLaunches: 'read',
  activeInstanceRefresh: 'read',
  lifecycleHooks: 'read',
  describeWarmPool: 'read',
  describeAlarms: 'read',
  launchSpecExists: 'read',
  getLockObject: 'read',
  findForwards: 'read',
  readForwards: 'read',
  listenerRules: 'read',
  setDesired: 'idempotent-write',
  updateSizes: 'idempotent-write',
  suspendProcesses: 'idempotent-write',
  resumeProcesses: 'idempotent-write',
  setScaleInProtection: 'idempotent-write',
  putGroupTags: 'idempotent-write',
  deleteGroupTags: 'idempotent-write',
  // The same launch spec sets the same state.
  setGroupLaunch: 'idempotent-write',
  // Read the actions, set the weights, write them back: a repeat sets the same weights.
  setForwardWeights: 'idempotent-write',
  // Conditional (If-None-Match / If-Match): a repeat of an applied write answers 412, which the
  // lock stores resolve by reading the object again (lock/stores.ts).
  putLockObject: 'idempotent-write',
  replaceLockObject: 'idempotent-write',
  deleteLockObject: 'idempotent-write',
  terminateInstance: 'non-idempotent-write',
};

/** Default bound on riding out transient errors: five minutes of consecutive failures. */
export const DEFAULT_TRANSIENT_BUDGET_MS = 5 * 60_000;

/**
 * Back-off after the n-th consecutive transient failure (n ≥ 1): 1 s, 2 s, 4 s … capped at 30 s.
 * Example: failures 1..7 → 1, 2, 4, 8, 16, 30, 30 s.
 */
export function transientBackoff(consecutive: number, maxMs = 30_000): number {
  return Math.min(maxMs, 1000 * 2 ** Math.max(0, consecutive - 1));
}

export interface RetryOptions {
  clock: Clock;
  /** Give up once this long has passed since the first failure (default 5 min). */
  budgetMs?: number;
  /** At most this many retries (default: bounded by the budget only). */
  maxRetries?: number;
  /** Cancels the back-off sleeps (an interrupt). Ignored when already aborted: cleanup after an interrupt still retries. */
  signal?: AbortSignal;
  /** Told before each back-off sleep. */
  onRetry?(err: unknown, attempt: number, backoffMs: number): void;
}

/**
 * Runs `op`, retrying transient errors with back-off on the clock for at most `budgetMs` since
 * the first failure; other errors and the last transient one after the budget are thrown.
 * `op` must be safe to repeat (a read, or an idempotent write).
 * Example: throttled at t=0, 1 s, 3 s, then fine → returns at t≈7 s after three warnings.
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const budget = o.budgetMs ?? DEFAULT_TRANSIENT_BUDGET_MS;
  const signal = o.signal?.aborted ? undefined : o.signal;
  let firstFailure: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (!isTransient(err)) throw err;
      if (o.maxRetries !== undefined && attempt >= o.maxRetries) throw err;
      const now = o.clock.now();
      firstFailure ??= now;
      const ms = transientBackoff(attempt + 1);
      if (now - firstFailure + ms > budget) throw err;
      o.onRetry?.(err, attempt + 1, ms);
      await o.clock.sleep(ms, signal);
    }
  }
}

/** What {@link retryingPort} reports a retry to (the reporter's `emit`, without importing it here). */
export interface RetryReporter {
  emit(level: 'warn', code: string, message: string, data: Record<string, unknown>): void;
}

export interface PortRetryOptions {
  clock: Clock;
  reporter?: RetryReporter;
  /** Cancels the back-off sleeps; read per call, so a call made after an interrupt (cleanup) still retries. */
  signal?: AbortSignal;
  budgetMs?: number;
  maxRetries?: number;
}

const RETRYING = Symbol('asg-deploy.retryingPort');
const WRAPPED = Symbol('asg-deploy.retryingPort.wrapped');

/**
 * The port under a {@link retryingPort} (each call sent once, never repeated here), or `port`
 * itself when it is not one. For a write whose premise is a look at the group — a scale-in: the
 * engine lowers desired capacity because of what it saw — a blind repeat after a long back-off
 * could land on a changed group (chaos seed 3119806818: a scale-back decided on a look where the
 * old color served its count, repeated for 61 s of throttling, landed after someone's Standby had
 * left that color short). Its caller looks again and decides anew instead, as for a terminate.
 */
export function sentOnce(port: AwsPort): AwsPort {
  return (port as { [WRAPPED]?: AwsPort })[WRAPPED] ?? port;
}

/** The error's name as AWS/the SDK gives it. */
export function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string } | undefined;
  return String(e?.name ?? e?.Code ?? 'Error');
}

/**
 * The port with {@link PORT_RETRY_POLICY} applied: reads and idempotent writes retried per
 * {@link withRetry}, each retry reported (`aws.throttled`); `terminateInstance` passed through
 * as is (its caller looks again before any new attempt). Wrapping twice is a no-op.
 */
export function retryingPort(port: AwsPort, options: PortRetryOptions): AwsPort {
  if ((port as { [RETRYING]?: boolean })[RETRYING]) return port;
  return new Proxy(port, {
    get(target, prop, receiver) {
      if (prop === RETRYING) return true;
      if (prop === WRAPPED) return target;
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      const policy = PORT_RETRY_POLICY[prop as keyof typeof PORT_RETRY_POLICY];
      if (policy === undefined || policy === 'non-idempotent-write') return value.bind(target);
      return (...args: unknown[]) => {
        const what = `${String(prop)}(${typeof args[0] === 'string' ? args[0] : ''})`;
        return withRetry(() => (value as (...a: unknown[]) => Promise<unknown>).apply(target, args), {
          clock: options.clock,
          budgetMs: options.budgetMs,
          maxRetries: options.maxRetries,
          signal: options.signal,
          onRetry: retryWarning(options.reporter, what, { policy }),
        });
      };
    },
  });
}

/** The `aws.throttled` warning a retry of `what` reports (one wording for every retrying caller). */
export function retryWarning(reporter: RetryReporter | undefined, what: string, extra: Record<string, unknown> = {}): (err: unknown, attempt: number, ms: number) => void {
  return (err, attempt, ms) =>
    reporter?.emit('warn', 'aws.throttled', `AWS ${isThrottling(err) ? 'throttled' : 'failed'} ${what} (${errorName(err)}); trying again in ${ms / 1000} s (retry ${attempt})`, {
      operation: what,
      error: errorName(err),
      backoffMs: ms,
      attempt,
      ...extra,
    });
}
