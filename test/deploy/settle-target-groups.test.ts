/**
 * deploy's hook for a group the update created waits until it serves its desired capacity
 * (settleNewGroup). Serving is the AWS verdict of the health seam: on a group fronted by a target
 * group an instance serves only once `healthy` there — ASG Healthy (still in its grace period) is
 * not enough.
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { Sandbox } from '../../orchestrator/sandbox';
import { settleNewGroup } from '../../orchestrator/stack/hooks';

function world(healthyImage: boolean) {
  const sb = Sandbox.create({ seed: 5, faults: { bootSeconds: 40 } });
  const lb = sb.seedTargetGroups({ name: 'web', targetGroups: [{ name: 'web-tg', healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 } }] });
  if (!healthyImage) {
    sb.setImage('ami-0bad', { healthy: false });
  }
  sb.seedGroup({ name: 'web', capacity: 0, max: 4, targetGroupARNs: [lb.targetGroupArns['web-tg']] });
  if (!healthyImage) sb.newLaunchTemplateVersion('web-lt', { ImageId: 'ami-0bad' });
  sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: 'web', DesiredCapacity: 2 });
  return sb;
}

test('settleNewGroup: instances unhealthy in the target group are not serving; the new group times out naming 0 of 2', async (t) => {
  const sb = world(false);
  const port = createAwsPort(sb.newClients('tool'), sb.clock);
  const reporter = new RecordingReporter(sb.clock);
  const err = await t.throwsAsync(settleNewGroup(port, 'web', { clock: sb.clock, reporter, signal: new AbortController().signal, timeoutMs: 200_000, pollMs: 5000 }));
  t.is((err as { code?: string }).code, 'deploy.new-group-timeout');
  t.regex(err!.message, /only 0 of 2 instances serving/);
});

test('settleNewGroup: a good image serves once healthy in the target group', async (t) => {
  const sb = world(true);
  const port = createAwsPort(sb.newClients('tool'), sb.clock);
  const reporter = new RecordingReporter(sb.clock);
  const r = await settleNewGroup(port, 'web', { clock: sb.clock, reporter, signal: new AbortController().signal, timeoutMs: 600_000, pollMs: 5000 });
  t.is(r.instances, 2);
  // boot 40 s + 3 checks at 10 s: no earlier than 70 s after the launch
  t.true(r.seconds >= 70, `settled after ${r.seconds} s`);
});
