/**
 * An up-to-date instance in Standby (someone set it aside, or a rollback made the held-back old
 * instance the target version) must not hold the rollout's polling back: it is out of the load
 * balancer's decision as it is out of the count. Found by chaos seed 465364075 (2027 × 500, a
 * rollback took 16 simulated hours: every step waited its step timeout before asking the ELB).
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup } from '../../orchestrator/rollout/rolling/runner';

test('an up-to-date instance in Standby does not make each step wait its step timeout', async (t) => {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 40 } });
  sb.seedGroup({ name: 'qa-rabbit', capacity: 3, max: 6, elb: { name: 'qa-rabbit', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 0 } });
  sb.advance(3600_000);
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: 'ami-0new000000000000' });
  // One new-version instance, then set aside in Standby (desired back to 3).
  sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: 'qa-rabbit', DesiredCapacity: 4 });
  sb.settle({ group: 'qa-rabbit' });
  const g = sb.world.state.groups['qa-rabbit'];
  const fresh = sb.world.groupInstances(g).find((i) => sb.world.isActive(i) && i.launch.kind === 'lt' && i.launch.version === 2)!;
  sb.direct('autoscaling', 'EnterStandby', { AutoScalingGroupName: 'qa-rabbit', InstanceIds: [fresh.id], ShouldDecrementDesiredCapacity: true });
  sb.advance(60_000);
  const t0 = sb.clock.now();
  const r = await rollGroup({ clients: sb.clients, clock: sb.clock, reporter: new RecordingReporter(sb.clock), asg: 'qa-rabbit', stepTimeoutMs: 20 * 60_000 });
  t.is(r.status, 'done');
  t.is(r.replaced.length, 3);
  const minutes = (sb.clock.now() - t0) / 60_000;
  t.true(minutes < 15, `3 steps took ${minutes.toFixed(1)} min (a step is about a minute; 20 min each when the Standby instance blocks the ELB look)`);
});
