/**
 * The sandbox clients' retry strategy: the SDK's standard decision (retry throttling and
 * transient/5xx errors, up to maxAttempts, exponential backoff with full jitter; base 100 ms,
 * 500 ms for throttling, capped at 20 s) — but the backoff sleeps on the sandbox clock, so
 * thousands of simulated throttles cost simulated time, not real time. It implements the
 * SDK's RetryStrategyV2, so the SDK's own retry middleware drives it (and sets
 * `$metadata.attempts`).
 */
import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';
import type { Clock } from '../clock';
import { Rng } from './rng';

class Token implements StandardRetryToken {
  readonly $retryLog: { acquisitionDelay: number };
  constructor(private readonly count: number, acquisitionDelay = 0) {
    this.$retryLog = { acquisitionDelay };
  }
  getRetryCount(): number {
    return this.count;
  }
  getRetryDelay(): number {
    return 0; // already slept on the sandbox clock
  }
  getRetryCost(): number | undefined {
    return undefined;
  }
}

export class VirtualClockRetryStrategy implements RetryStrategyV2 {
  readonly mode = 'standard';
  private readonly rng: Rng;

  constructor(private readonly clock: Clock, private readonly maxAttempts: number, seed: number) {
    this.rng = new Rng(seed ^ 0x5eed);
  }

  async acquireInitialRetryToken(): Promise<RetryToken> {
    return new Token(0);
  }

  async refreshRetryTokenForRetry(token: RetryToken, info: RetryErrorInfo): Promise<RetryToken> {
    const retryable = info.errorType === 'THROTTLING' || info.errorType === 'TRANSIENT';
    const attempts = token.getRetryCount() + 1;
    if (!retryable || attempts >= this.maxAttempts) throw new Error('No retry token available');
    const base = info.errorType === 'THROTTLING' ? 500 : 100;
    const delay = Math.floor(this.rng.next() * Math.min(20_000, base * 2 ** token.getRetryCount()));
    await this.clock.sleep(delay);
    return new Token(attempts, delay);
  }

  recordSuccess(): void {}
}
