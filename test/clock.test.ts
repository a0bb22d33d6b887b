import test from 'ava';
import { VirtualClock } from '../orchestrator/clock';

test('virtual sleep advances simulated time instantly', async (t) => {
  const clock = new VirtualClock({ start: 0 });
  const started = Date.now();
  await clock.sleep(3 * 3600_000);
  t.is(clock.now(), 3 * 3600_000);
  t.true(Date.now() - started < 1000);
});

test('two sleepers wake in simulated-time order', async (t) => {
  const clock = new VirtualClock({ start: 0 });
  const order: string[] = [];
  await Promise.all([
    clock.sleep(20).then(() => order.push(`b@${clock.now()}`)),
    clock.sleep(10).then(() => order.push(`a@${clock.now()}`)),
  ]);
  t.deepEqual(order, ['a@10', 'b@20']);
});

test('an aborted sleep rejects and is removed', async (t) => {
  const clock = new VirtualClock({ start: 0 });
  const ac = new AbortController();
  const p = clock.sleep(1000, ac.signal);
  ac.abort();
  await t.throwsAsync(p, { name: 'AbortError' });
  t.is(clock.pending, 0);
});

test('onAdvance listeners see each new time', async (t) => {
  const clock = new VirtualClock({ start: 0 });
  const seen: number[] = [];
  clock.onAdvance((now) => seen.push(now));
  await clock.sleep(5);
  await clock.sleep(5);
  t.deepEqual(seen, [5, 10]);
});
