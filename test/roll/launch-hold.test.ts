/**
 * Lowering desired for a surge not launched (rolling/strategy.ts lowerUnlaunched) holds Launch and
 * lowers only on a look taken AFTER the hold: AWS may launch the surge between the look that saw
 * it missing and the SuspendProcesses (chaos seed 530110558 in the cleanup). The engine predicts
 * the look after a suspend to save a read; it must not for Launch, or a finished rollout lowered
 * desired on the look from before the hold (the adversarial review of this round found it).
 * On the simulated AWS with the real SDK clients and adapter.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup } from '../../orchestrator/rollout/rolling/runner';

const NAME = 'qa-web';

test('a finished rollout\'s surge not launched: SuspendProcesses Launch, then a fresh group read, then the lowering; Launch resumed and nothing left changed', async (t) => {
  const sb = Sandbox.create({ seed: 5, faults: { bootSeconds: 40, scaleDelaySeconds: 30 } });
  sb.seedGroup({ name: NAME, capacity: 3, max: 4 });
  sb.advance(3600_000);
  // A crashed run's record (capacity 3) and its surge asked (desired 4), not launched yet.
  sb.direct('autoscaling', 'CreateOrUpdateTags', { Tags: [{ ResourceId: NAME, ResourceType: 'auto-scaling-group', Key: 'asg-deploy:restore', Value: JSON.stringify({ v: 1, desired: 3, max: 4, suspended: [] }), PropagateAtLaunch: false }] });
  sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: NAME, DesiredCapacity: 4 });
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const reporter = new RecordingReporter(sb.clock);
  const r = await rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: NAME });
  t.is(r.status, 'done');
  const ops = sb.calls.filter((c) => c.actor === 'tool' && c.operation !== 'CreateOrUpdateTags' && c.operation !== 'DeleteTags').map((c) => c.operation);
  const hold = ops.indexOf('SuspendProcesses');
  const lower = ops.findIndex((o, k) => k > hold && (o === 'SetDesiredCapacity' || o === 'UpdateAutoScalingGroup'));
  t.true(hold >= 0 && lower > hold, ops.join(', '));
  t.true(ops.slice(hold + 1, lower).includes('DescribeAutoScalingGroups'), `a fresh group read between the hold and the lowering: ${ops.slice(hold, lower + 1).join(', ')}`);
  t.true(ops.slice(lower).includes('ResumeProcesses'), 'Launch resumed');
  t.is(sb.world.state.groups[NAME].desired, 3);
  t.deepEqual(sb.world.state.groups[NAME].suspended, [], 'nothing left suspended');
  t.false(sb.world.state.groups[NAME].tags.some((x) => x.key.startsWith('asg-deploy:')), 'the crashed run\'s record is gone');
  t.true(sb.monitor.minHealthy(NAME, t0) >= 3);
});
