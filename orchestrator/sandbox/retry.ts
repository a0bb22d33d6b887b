/**
 * The sandbox clients' retry strategy: the installed SDK's standard retry strategy
 * (`StandardRetryStrategy` of `@smithy/core/retry`, which every v3 client uses in `standard`
 * mode), step for step — the retry quota (a token bucket of `INITIAL_RETRY_TOKENS` per client,
 * `Retry.throttlingCost()` per throttling retry, `Retry.cost()` per other transient retry, the
 * cost refunded when the retried call succeeds, `NO_RETRY_INCREMENT` back per first-try success),
 * the refusals (not retryable, attempts exhausted, quota exhausted) and the backoff (full jitter,
 * base `Retry.delay()`, `Retry.throttlingDelay()` for throttling, doubling, capped at
 * `MAXIMUM_RETRY_DELAY`). The constants are imported from the installed package, so they follow
 * its version; test/sandbox/retry.test.ts replays the same error sequences through the SDK's own
 * class and this one and requires the same decisions and quota. Two differences, both about time:
 * the backoff sleeps on the sandbox clock (retries cost simulated time, never real time), and the
 * jitter comes from a seeded PRNG instead of Math.random (runs replay). The SDK's own retry
 * middleware drives it (RetryStrategyV2), so `$metadata.attempts` and `totalRetryDelay` are real.
 */
import { INITIAL_RETRY_TOKENS, MAXIMUM_RETRY_DELAY, NO_RETRY_INCREMENT, Retry } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryErrorType, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';
import type { Clock } from '../clock';
import { Rng } from './rng';

class Token implements StandardRetryToken {
  readonly $retryLog: { acquisitionDelay: number };
  constructor(private readonly count: number, private readonly cost: number | undefined, acquisitionDelay = 0) {
    this.$retryLog = { acquisitionDelay };
  }
  getRetryCount(): number {
    return this.count;
  }
  getRetryDelay(): number {
    return 0; // already slept on the sandbox clock
  }
  getRetryCost(): number | undefined {
    return this.cost;
  }
}

export class VirtualClockRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  private readonly rng: Rng;
  /** The retry quota (the SDK's `capacity`). */
  private capacity = INITIAL_RETRY_TOKENS;

  constructor(private readonly clock: Clock, private readonly maxAttempts: number, seed: number) {
    this.rng = new Rng(seed ^ 0x5eed);
  }

  /** Tokens left in the retry quota. */
  getCapacity(): number {
    return this.capacity;
  }

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return new Token(0, undefined);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const type = info.errorType;
    const retryable = type === 'THROTTLING' || type === 'TRANSIENT';
    const attempts = token.getRetryCount() + 1;
    const cost = this.costOf(type);
    if (!retryable || attempts >= this.maxAttempts || this.capacity < cost) throw new Error('No retry token available');
    const base = type === 'THROTTLING' ? Retry.throttlingDelay() : Retry.delay();
    const delay = Math.floor(this.rng.next() * Math.min(base * 2 ** token.getRetryCount(), MAXIMUM_RETRY_DELAY));
    this.capacity -= cost;
    await this.clock.sleep(delay);
    return new Token(attempts, cost, delay);
  }

  recordSuccess(token: RetryToken): void {
    this.capacity = Math.min(INITIAL_RETRY_TOKENS, this.capacity + ((token as StandardRetryToken).getRetryCost?.() ?? NO_RETRY_INCREMENT));
  }

  private costOf(type: RetryErrorType): number {
    return type === Retry.modifiedCostType() ? Retry.throttlingCost() : Retry.cost();
  }
}
