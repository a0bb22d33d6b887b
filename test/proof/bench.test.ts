/**
 * The benchmark measures what it says: the physical limit is a true lower bound for both tools,
 * the engine and the 30-s baseline both finish on identical fleets, and API calls are counted.
 */
import test from 'ava';
import { BENCHES, runBench } from '../../orchestrator/proof/bench';

test.serial('bench quorum scenario: both tools finish, neither beats the physical limit, the 30-s baseline is slower', async (t) => {
  const r = await runBench(BENCHES.find((b) => b.name === '3-node quorum')!);
  t.is(r.limitSeconds, 360);
  t.is(r.engine.error, undefined);
  t.is(r.engine.replaced, 3);
  t.is(r.baseline?.replaced, 3);
  t.true(r.engine.seconds! >= r.limitSeconds, `engine ${r.engine.seconds} s below the physical limit`);
  t.true(r.baseline!.seconds! >= r.limitSeconds);
  t.true(r.baseline!.seconds! > r.engine.seconds!);
  t.true(r.engine.apiCalls > 0 && r.baseline!.apiCalls > 0);
  t.regex(r.overshoot ?? '', /ASG launch latency \d+ s over 3 launch/);
});

test.serial('bench A/B scenario: the limit includes the connection drain', async (t) => {
  const r = await runBench(BENCHES.find((b) => b.name === 'A/B, 8 instances')!);
  t.is(r.limitSeconds, 90 + 30 + 300);
  t.is(r.engine.replaced, 8);
  t.true(r.engine.seconds! >= r.limitSeconds);
  t.true(r.baseline!.seconds! >= r.limitSeconds);
});
