/**
 * `roll --canary/--checkpoints/--bake` on the simulated AWS (real SDK clients, virtual clock):
 * the holds happen where promised, nothing is launched or replaced while one holds, an alarm
 * during a hold halts the run within one poll, bad input changes nothing.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';

const ELB = { name: 'qa-rabbit', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 30 };
const MIN = 60_000;

function world(capacity = 4) {
  const sb = Sandbox.create({ seed: 9, faults: { bootSeconds: 40 } });
  sb.seedGroup({ name: 'qa-rabbit', capacity, elb: ELB });
  sb.advance(3600_000);
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
  sb.monitor.baseline();
  return sb;
}

function roll(sb: Sandbox, o: Partial<RollOptions> = {}) {
  const reporter = new RecordingReporter(sb.clock);
  return { p: rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'qa-rabbit', ...o }), reporter };
}

const at = (e: { time: string }) => Date.parse(e.time);

test('canary 1, checkpoint 50%, bake: each hold where promised and as long, nothing launched or replaced while holding; plan, events and summary say so', async (t) => {
  const sb = world(4);
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb, { holds: { canary: 1, canaryWaitMs: 3 * MIN, checkpoints: [50], checkpointWaitMs: 2 * MIN, bakeMs: 4 * MIN } });
  const r = await p;
  t.is(r.status, 'done');
  t.is(r.replaced.length, 4);
  t.regex(r.summary, /held: canary 180 s, checkpoint 50% 120 s, bake 240 s/);
  const plan = reporter.ofCode(Codes.plan)[0];
  t.regex(plan.message, /hold: canary \(1 of 4 replaced\), 180 s/);
  t.regex(plan.message, /hold: checkpoint 50% \(2 of 4 replaced\), 120 s/);
  t.regex(plan.message, /hold: bake \(all 4 replaced\), 240 s/);
  t.deepEqual(plan.data.holds, [
    { kind: 'canary', after: 1, waitSeconds: 180 },
    { kind: 'checkpoint', after: 2, waitSeconds: 120, percent: 50 },
    { kind: 'bake', after: 4, waitSeconds: 240 },
  ]);
  const holds = [...reporter.ofCode('rollout.checkpoint'), ...reporter.ofCode('rollout.bake')].sort((a, b) => at(a) - at(b));
  t.deepEqual(holds.map((e) => `${e.data.kind}:${e.data.state}:${e.data.replaced}`), ['canary:start:1', 'canary:passed:1', 'checkpoint:start:2', 'checkpoint:passed:2', 'bake:start:4', 'bake:passed:4']);
  const terminations = reporter.ofCode(Codes.terminate).map(at);
  const growths = reporter.ofCode(Codes.scale).filter((e) => (e.data.to as number) > (e.data.from as number)).map(at);
  for (let i = 0; i < holds.length; i += 2) {
    const [start, end] = [at(holds[i]), at(holds[i + 1])];
    const wait = (holds[i].data.waitSeconds as number) * 1000;
    t.true(end - start >= wait, `${holds[i].data.kind} held ${(end - start) / 1000} s of ${wait / 1000}`);
    t.true(end - start <= wait + 15_000, `${holds[i].data.kind} held ${(end - start) / 1000} s: at most one poll more than ${wait / 1000}`);
    t.deepEqual([...terminations, ...growths].filter((x) => x > start && x < end), [], `nothing launched or replaced during the ${holds[i].data.kind}`);
    t.is(holds[i].data.until, new Date(start + wait).toISOString(), 'the end, for the live view countdown');
  }
  // Before the canary's hold exactly one old instance went; before the checkpoint two.
  t.is(terminations.filter((x) => x < at(holds[0])).length, 1);
  t.is(terminations.filter((x) => x < at(holds[2])).length, 2);
  t.true(at(reporter.ofCode(Codes.done)[0]) >= at(holds[5]), 'done after the bake');
  t.true(sb.monitor.minHealthy('qa-rabbit', t0) >= 4);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('an alarm tripping during the bake halts the rollout within one poll: exit 1, restored, nothing left', async (t) => {
  const sb = world(3);
  sb.setAlarm('qa-rabbit-5xx', 'OK');
  const describes = () => sb.calls.filter((c) => c.service === 'cloudwatch' && c.operation === 'DescribeAlarms').length;
  let readsAtTrip: number | undefined;
  let bakeStarted = false;
  const reporter = new RecordingReporter(sb.clock);
  const tap = { emit: (...a: Parameters<RecordingReporter['emit']>) => { if (a[1] === 'rollout.bake' && a[3]?.state === 'start') bakeStarted = true; reporter.emit(...a); } };
  sb.clock.onAdvance(() => {
    if (bakeStarted && readsAtTrip === undefined && sb.clock.now() > Date.parse(reporter.ofCode('rollout.bake')[0].time) + MIN) {
      sb.setAlarm('qa-rabbit-5xx', 'ALARM', 'Threshold Crossed: 2 out of the last 2 datapoints were greater than the threshold (5.0)');
      readsAtTrip = describes();
    }
  });
  const err = await t.throwsAsync(rollGroup({ clients: sb.clients, clock: sb.clock, reporter: tap, asg: 'qa-rabbit', alarms: ['qa-rabbit-5xx'], holds: { bakeMs: 10 * MIN } }), { instanceOf: DeployError });
  t.is(err!.code, 'alarm');
  t.is(err!.exit, 1);
  t.is(describes() - readsAtTrip!, 1, 'halted by the first read after the trip');
  t.deepEqual(reporter.ofCode('rollout.bake').map((e) => e.data.state), ['start'], 'the bake never passed');
  const g = sb.world.state.groups['qa-rabbit'];
  t.is(g.desired, 3);
  t.deepEqual(g.suspended, []);
  t.deepEqual(sb.monitor.leftovers('qa-rabbit'), []);
});

test('bad input changes nothing: a canary larger than the group (exit 2), checkpoints not ascending (exit 2)', async (t) => {
  const sb = world(3);
  const big = await t.throwsAsync(roll(sb, { holds: { canary: 4 } }).p, { instanceOf: DeployError });
  t.is(big!.exit, 2);
  t.regex(big!.message, /--canary 4 is larger than the group \(capacity 3\).*nothing was changed/);
  const order = await t.throwsAsync(roll(sb, { holds: { checkpoints: [50, 20] } }).p, { instanceOf: DeployError });
  t.is(order!.exit, 2);
  t.regex(order!.message, /ascending/);
  t.deepEqual(sb.calls.filter((c) => c.mutating && c.service === 'autoscaling' && !/Tags$/.test(c.operation)), [], 'no group changed');
});
