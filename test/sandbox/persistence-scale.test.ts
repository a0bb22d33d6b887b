import test from 'ava';
import { DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import { Sandbox } from '../../orchestrator/sandbox';
import { VirtualClock } from '../../orchestrator/clock';
import { TICK_MS } from '../../orchestrator/sandbox/world';
import { active, setDesired } from './helpers';

test('toJSON/fromJSON round-trip: the restored world continues exactly like the original', async (t) => {
  const a = Sandbox.create({ seed: 31, faults: { bootSeconds: { min: 20, max: 80 }, spontaneousTerminationsPerHour: 2 } });
  a.seedGroup({ name: 'g', capacity: 5, elb: { name: 'lb', drainingTimeout: 60 } });
  a.setImage('ami-x', { healthy: false });
  a.monitor.baseline();
  setDesired(a, 'g', 8);
  a.advance(25_000); // mid-launch: pending events, instances booting
  const saved = JSON.parse(JSON.stringify(a.toJSON()));
  const b = Sandbox.fromJSON(saved);
  t.is(b.clock.now(), a.clock.now());
  a.advance(3600_000);
  b.advance(3600_000);
  const plain = (x: unknown) => JSON.parse(JSON.stringify(x));
  t.deepEqual(plain(b.world.state.instances), plain(a.world.state.instances));
  t.deepEqual(plain(b.monitor.terminations()), plain(a.monitor.terminations()));
  t.deepEqual(plain(b.toJSON().events), plain(a.toJSON().events));
  t.deepEqual(b.world.state.images, a.world.state.images);
  t.deepEqual(b.monitor.leftovers('g'), a.monitor.leftovers('g'));
  const out = await b.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.is(out.AutoScalingGroups![0].DesiredCapacity, 8);
});

test('fromJSON with a later clock catches up; an earlier one is moved forward', (t) => {
  const a = Sandbox.create({ seed: 3 });
  a.seedGroup({ name: 'g', capacity: 1, settle: false });
  const state = a.toJSON();
  const later = new VirtualClock({ start: state.now + 3600_000 });
  const b = Sandbox.fromJSON(state, { clock: later });
  b.clients; // clients exist
  b.advance(0);
  b.direct('autoscaling', 'DescribeAutoScalingGroups', {});
  t.is(active(b, 'g')[0].lifecycle, 'InService');
  const earlier = new VirtualClock({ start: 0 });
  const c = Sandbox.fromJSON(state, { clock: earlier });
  t.is(c.clock.now(), state.now);
  t.throws(() => Sandbox.fromJSON({ format: 'nope' } as any), { message: /not a sandbox state file/ });
});

test('dispose: a sandbox detached from a shared clock stops simulating and refuses calls', async (t) => {
  const clock = new VirtualClock({ start: Date.parse('2026-01-01T00:00:00Z') });
  const a = Sandbox.create({ clock });
  a.seedGroup({ name: 'g', capacity: 1, settle: false });
  const b = Sandbox.fromJSON(a.toJSON(), { clock });
  a.dispose();
  clock.advanceTo(clock.now() + 600_000);
  t.is(active(a, 'g').length, 0, 'the disposed world did not move');
  t.is(active(b, 'g')[0].lifecycle, 'InService');
  await t.throwsAsync(a.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({})), { message: /disposed sandbox/ });
});

test('1,000-instance group through a full oldest-first replacement, 10 at a time (> 2 h simulated), stays correct', (t) => {
  const sb = Sandbox.create({ seed: 1, faults: { bootSeconds: { min: 40, max: 90 } } });
  sb.seedGroup({ name: 'big', capacity: 1000, max: 1100, elb: { name: 'big-lb', drainingTimeout: 30 } });
  const start = sb.clock.now();
  const v2 = sb.newLaunchTemplateVersion('big-lt', { ImageId: 'ami-v2' });
  const isOld = (i: { launch: { kind: string; version?: number } }) => i.launch.kind === 'lt' && i.launch.version !== v2;
  // A simple rolling replacement, 10 at a time: surge +10, wait healthy, terminate the 10 oldest.
  for (let round = 0; round < 100; round++) {
    setDesired(sb, 'big', 1010);
    sb.settle({ group: 'big' });
    const old = active(sb, 'big').filter(isOld).sort((x, y) => x.launchTime - y.launchTime).slice(0, 10);
    for (const i of old) sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: i.id, ShouldDecrementDesiredCapacity: true });
    sb.advance(TICK_MS);
  }
  sb.settle({ group: 'big' });
  const now = active(sb, 'big');
  t.is(now.length, 1000);
  t.true(now.every((i) => !isOld(i) && sb.world.isHealthy(i)));
  t.true(sb.monitor.minHealthy('big', start) >= 1000);
  t.is(sb.monitor.healthyUpToDateTerminated('big').length, 0);
  t.is(sb.monitor.terminations({ group: 'big', cause: ['api'] }).length, 1000);
  t.true(sb.clock.now() - start > 2 * 3600_000, `${(sb.clock.now() - start) / 3600_000} h simulated`);
});
