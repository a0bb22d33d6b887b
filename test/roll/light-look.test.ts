/**
 * The rolling engine's light look (runner.ts lightLook): while a batch boots and none of its new
 * instances can have passed the ELB yet, a poll asks Auto Scaling about the batch only
 * (DescribeAutoScalingInstances) instead of the whole group and its ELB — same rollout, same
 * timing, fewer 1,000-instance answers to parse (docs/benchmarks.md, where the memory goes).
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup } from '../../orchestrator/rollout/rolling/runner';

const ELB = { name: 'web', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 0 };

function world() {
  const sb = Sandbox.create({ seed: 11, faults: { bootSeconds: 90, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'web', capacity: 6, max: 12, elb: ELB });
  sb.advance(3600_000);
  sb.newLaunchTemplateVersion('web-lt', { ImageId: 'ami-0new000000000000' });
  return sb;
}

async function roll(light: boolean) {
  const sb = world();
  const initial = new Set(sb.world.groupInstances(sb.world.state.groups['web']).map((i) => i.id));
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const port = createAwsPort(sb.clients, sb.clock);
  const asked: string[][] = [];
  if (!light) (port as { instanceStates?: unknown }).instanceStates = undefined; // the engine without the verb
  else {
    const real = port.instanceStates.bind(port);
    port.instanceStates = (ids: string[]) => {
      asked.push([...ids]);
      return real(ids);
    };
  }
  const r = await rollGroup({ port, clock: sb.clock, reporter: new RecordingReporter(sb.clock), asg: 'web', surge: 3, batchSize: 3 });
  const calls = sb.calls.filter((c) => c.actor !== 'setup');
  const count = (op: string) => calls.filter((c) => c.operation === op).length;
  return { sb, r, t0, initial, asked, seconds: (sb.clock.now() - t0) / 1000, calls, count };
}

test('while a batch boots the engine asks about the batch only; same rollout, same time, fewer group reads', async (t) => {
  const light = await roll(true);
  const full = await roll(false);
  t.is(light.r.status, 'done');
  t.is(light.r.replaced.length, 6);
  t.is(light.seconds, full.seconds, 'same simulated duration');
  t.is(light.calls.length, full.calls.length, 'same number of API calls');
  t.true(light.count('DescribeAutoScalingInstances') > 0);
  t.is(full.count('DescribeAutoScalingInstances'), 0);
  t.true(light.count('DescribeAutoScalingGroups') < full.count('DescribeAutoScalingGroups'), `${light.count('DescribeAutoScalingGroups')} vs ${full.count('DescribeAutoScalingGroups')}`);
  t.is(light.asked.length, light.count('DescribeAutoScalingInstances'));
  for (const ids of light.asked) {
    t.true(ids.length >= 1 && ids.length <= 3, 'the batch, not the group');
    t.false(ids.some((id) => light.initial.has(id)), 'new instances only');
  }
  t.true(light.sb.monitor.minHealthy('web', light.t0) >= 6, 'capacity held');
});
