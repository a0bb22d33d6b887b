/**
 * The demo's clock (VirtualClock with `scale`): real time only paces it. Whatever the machine's
 * load, the simulated instants and the order of events are those of the unscaled clock.
 */
import test from 'ava';
import { VirtualClock } from '../../orchestrator/clock';

/** Three actors polling at different periods; one hogs the CPU (a loaded machine) now and then. */
async function story(clock: VirtualClock, hogMs: number): Promise<string[]> {
  const seen: string[] = [];
  const start = clock.now();
  const actor = async (name: string, period: number, turns: number) => {
    for (let i = 0; i < turns; i++) {
      await clock.sleep(period);
      seen.push(`${(clock.now() - start) / 1000}s ${name}`);
      if (name === 'hog' && hogMs > 0) {
        const until = Date.now() + hogMs;
        while (Date.now() < until) {
          // busy: the event loop is blocked, as under load average 7 on 2 cores
        }
      }
    }
  };
  await Promise.all([actor('engine', 5_000, 12), actor('hog', 7_000, 8), actor('view', 1_000, 60)]);
  return seen;
}

test('a scaled clock under load: same instants and order as the unscaled clock', async (t) => {
  const reference = await story(new VirtualClock(), 0);
  // 1 real ms = 1000 simulated ms: each 40 ms hog is 40 simulated seconds a wall-clock-following
  // clock would have jumped over.
  const paced = await story(new VirtualClock({ scale: 1000 }), 40);
  t.deepEqual(paced, reference);
  t.is(reference.at(-1), '60s view');
});

test('a scaled clock paces: simulated time does not outrun real time × scale', async (t) => {
  const clock = new VirtualClock({ scale: 500 });
  const started = Date.now();
  await clock.sleep(20_000); // 20 simulated seconds at 500× ≥ 40 ms of real time
  t.true(Date.now() - started >= 35, `${Date.now() - started} ms`);
  t.is(clock.now(), Date.parse('2026-01-01T00:00:20Z'));
});

test('a scaled clock: a timer registered while the pump paces towards a later one is not delayed', async (t) => {
  const clock = new VirtualClock({ scale: 100 });
  const order: string[] = [];
  const late = clock.sleep(10_000).then(() => order.push('late')); // 100 ms real
  await new Promise((r) => setTimeout(r, 5));
  const started = Date.now();
  await clock.sleep(500).then(() => order.push('early')); // due ~5 ms real after registration
  t.true(Date.now() - started < 60, `early woke after ${Date.now() - started} ms`);
  await late;
  t.deepEqual(order, ['early', 'late']);
});
