/**
 * Transient AWS errors and riding them out in clock time.
 *
 * The SDK retries a throttled or failed call a few times (3 attempts by default) within a second
 * or two; a deploy tool must outlast a throttling storm of minutes. {@link isTransient} says which
 * errors are worth waiting out; {@link withRetry} retries an observation or an idempotent action
 * with exponential back-off on the injected clock, for at most `budgetMs` since the first failure,
 * then gives up with the last error.
 *
 * Transient: throttling (Throttling, RequestLimitExceeded, SlowDown, 429, …), 5xx
 * (InternalFailure, InternalError, ServiceUnavailable, …), ResourceContention,
 * ScalingActivityInProgress, and network failures (ECONNRESET, ETIMEDOUT, socket hang up,
 * TimeoutError). Everything else (validation, not found, access denied, our own DeployError) is
 * not: retrying would only repeat it.
 */
import type { Clock } from '../clock';
import { DeployError } from '../errors';

const THROTTLING = /Throttl|RequestLimitExceeded|TooManyRequests|SlowDown|RequestThrottled|PriorRequestNotComplete|BandwidthLimitExceeded/i;
const TRANSIENT_NAMES =
  /^(InternalFailure|InternalError|InternalServerError|ServiceUnavailable|ServiceUnavailableException|Unavailable|RequestTimeout|RequestTimeoutException|ResourceContention|ResourceContentionFault|ScalingActivityInProgress|ScalingActivityInProgressFault|TimeoutError|RequestExpired|EC2ThrottledException|IDPCommunicationError)$/;
const NETWORK = /ECONNRESET|ECONNREFUSED|ETIMEDOUT|EPIPE|EAI_AGAIN|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|socket hang up|network|NetworkingError/i;

interface AwsLikeError {
  name?: string;
  Code?: string;
  code?: string;
  message?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number };
  $retryable?: unknown;
}

/** Throttling error names the SDK and AWS use (or HTTP 429). */
export function isThrottling(err: unknown): boolean {
  const e = err as AwsLikeError | undefined;
  const name = e?.name ?? e?.Code ?? '';
  return THROTTLING.test(name) || THROTTLING.test(e?.Code ?? '') || e?.$metadata?.httpStatusCode === 429;
}

/** Worth waiting out: throttling, 5xx, contention, a scaling activity in progress, the network. */
export function isTransient(err: unknown): boolean {
  if (err === undefined || err === null || err instanceof DeployError) return false;
  if ((err as Error).name === 'AbortError') return false;
  const e = err as AwsLikeError;
  if (isThrottling(e)) return true;
  const status = e.$metadata?.httpStatusCode;
  if (status !== undefined && status >= 500) return true;
  if (e.$retryable) return true;
  const names = [e.name, e.Code, e.code].filter((x): x is string => typeof x === 'string');
  if (names.some((n) => TRANSIENT_NAMES.test(n) || NETWORK.test(n))) return true;
  return status === undefined && NETWORK.test(String(e.message ?? ''));
}

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
  /** Cancels the back-off sleeps (an interrupt); omit during cleanup, which must run to its end. */
  signal?: AbortSignal;
  /** Told before each back-off sleep. */
  onRetry?(err: unknown, attempt: number, backoffMs: number): void;
}

/**
 * Runs `op`, retrying transient errors with back-off on the clock for at most `budgetMs` since
 * the first failure; other errors and the last transient one after the budget are thrown.
 * `op` must be safe to repeat (an observation, or an idempotent action).
 * Example: throttled at t=0, 1 s, 3 s, then fine → returns at t≈7 s after three warnings.
 */
export async function withRetry<T>(op: (attempt: number) => Promise<T>, o: RetryOptions): Promise<T> {
  const budget = o.budgetMs ?? DEFAULT_TRANSIENT_BUDGET_MS;
  let firstFailure: number | undefined;
  for (let attempt = 0; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (!isTransient(err)) throw err;
      const now = o.clock.now();
      firstFailure ??= now;
      const ms = transientBackoff(attempt + 1);
      if (now - firstFailure + ms > budget) throw err;
      o.onRetry?.(err, attempt + 1, ms);
      await o.clock.sleep(ms, o.signal);
    }
  }
}
