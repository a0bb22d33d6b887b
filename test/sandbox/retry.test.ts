/**
 * The sandbox's retry strategy against the installed SDK's own StandardRetryStrategy: the same
 * error sequences must give the same decisions (retry or give up, at which attempt) and the same
 * retry quota after every call; the backoff uses the SDK's bases; and under sustained throttling the
 * quota runs out, so errors reach the tool after one attempt as they would with the real SDK.
 */
import test from 'ava';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { MAXIMUM_RETRY_DELAY, StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryErrorType, RetryToken } from '@smithy/types';
import { VirtualClock } from '../../orchestrator/clock';
import { Sandbox } from '../../orchestrator/sandbox';
import { VirtualClockRetryStrategy } from '../../orchestrator/sandbox/retry';
import { Rng } from '../../orchestrator/sandbox/rng';

type Outcome = RetryErrorType | 'OK';

interface Strategyish {
  acquireInitialRetryToken(scope: string): Promise<RetryToken>;
  refreshRetryTokenForRetry(t: RetryToken, info: { errorType: RetryErrorType }): Promise<RetryToken>;
  recordSuccess(t: RetryToken): void;
  getCapacity(): number;
}

/** Drives one call like the SDK's retry middleware: outcomes in order until success or refusal. */
async function call(s: Strategyish, outcomes: () => Outcome): Promise<{ attempts: number; ok: boolean }> {
  let token = await s.acquireInitialRetryToken('');
  for (let attempts = 1; ; attempts++) {
    const o = outcomes();
    if (o === 'OK') {
      s.recordSuccess(token);
      return { attempts, ok: true };
    }
    try {
      token = await s.refreshRetryTokenForRetry(token, { errorType: o });
    } catch {
      return { attempts, ok: false };
    }
  }
}

test('same decisions and the same retry quota as the SDK StandardRetryStrategy, through quota exhaustion and refill', async (t) => {
  const bases: number[] = [];
  const counts: number[] = [];
  const sdk = new StandardRetryStrategy({
    maxAttempts: 3,
    // The SDK's own decision and accounting; a zero delay so the test does not sleep. The spy
    // records the base the SDK picks for each retry.
    backoff: { setDelayBase: (d: number) => bases.push(d), computeNextBackoffDelay: (i: number) => (counts.push(i), 0) },
  } as any) as unknown as Strategyish;
  const clock = new VirtualClock({ start: 0 });
  const ours = new VirtualClockRetryStrategy(clock, 3, 7) as unknown as Strategyish;
  const delays: number[] = [];
  const origSleep = clock.sleep.bind(clock);
  clock.sleep = (ms: number) => {
    delays.push(ms);
    clock.advanceTo(clock.now() + ms);
    return origSleep(0);
  };
  // A storm (mostly errors) drains the quota, then a calm stretch refills it.
  const r = new Rng(12345);
  const draw = (phase: number): Outcome => {
    const u = r.next();
    if (phase === 0) return u < 0.5 ? 'THROTTLING' : u < 0.85 ? 'TRANSIENT' : u < 0.9 ? 'CLIENT_ERROR' : 'OK';
    return u < 0.05 ? 'THROTTLING' : u < 0.08 ? 'SERVER_ERROR' : 'OK';
  };
  let exhausted = false;
  let afterStorm = 0;
  for (let i = 0; i < 600; i++) {
    const phase = i < 200 ? 0 : 1;
    const seq: Outcome[] = [draw(phase), draw(phase), draw(phase), draw(phase)];
    let a = 0;
    let b = 0;
    const x = await call(sdk, () => seq[a++]);
    const y = await call(ours, () => seq[b++]);
    t.deepEqual(y, x, `call ${i}: ${seq.join(',')}`);
    t.is(ours.getCapacity(), sdk.getCapacity(), `quota after call ${i}`);
    if (sdk.getCapacity() < 5) exhausted = true;
    if (i === 199) afterStorm = sdk.getCapacity();
  }
  t.true(exhausted, 'the storm exhausted the quota');
  t.true(sdk.getCapacity() > afterStorm + 100, 'and the calm refills it');
  // Backoff: full jitter under min(base * 2^i, cap) with the SDK's base for that retry.
  t.is(delays.length, bases.length);
  for (let k = 0; k < delays.length; k++) {
    const bound = Math.min(bases[k] * 2 ** counts[k], MAXIMUM_RETRY_DELAY);
    t.true(delays[k] >= 0 && delays[k] < bound, `delay ${delays[k]} < ${bound}`);
  }
  t.true(Math.max(...delays) > 1000, 'throttling backoff reaches beyond the first throttling base');
});

test('sustained throttling exhausts a client retry quota: later calls fail after one attempt', async (t) => {
  const sb = Sandbox.create({ seed: 3, faults: { throttleRate: 1 } });
  const attempts: number[] = [];
  for (let i = 0; i < 60; i++) {
    const err: any = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({})).catch((e) => e);
    t.is(err.name, 'Throttling');
    attempts.push(err.$metadata.attempts);
  }
  // 3 attempts cost 2 throttling retries of 5 tokens each: 500 tokens last 50 calls.
  t.deepEqual(attempts.slice(0, 50), Array(50).fill(3));
  t.deepEqual(attempts.slice(50), Array(10).fill(1));
  // Another client has its own quota (the SDK keeps one per client).
  const err: any = await sb.clients.ec2.send(new (await import('@aws-sdk/client-ec2')).DescribeInstancesCommand({})).catch((e) => e);
  t.is(err.$metadata.attempts, 3);
});
