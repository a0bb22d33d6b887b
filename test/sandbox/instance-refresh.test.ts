/**
 * [ASG-11] StartInstanceRefresh / DescribeInstanceRefreshes / CancelInstanceRefresh through the
 * real SDK client (a record: the sandbox does not replace instances for a refresh).
 */
import test from 'ava';
import { CancelInstanceRefreshCommand, DescribeInstanceRefreshesCommand, InstanceRefreshInProgressFault, StartInstanceRefreshCommand, ActiveInstanceRefreshNotFoundFault } from '@aws-sdk/client-auto-scaling';
import { sandbox } from './helpers';

test('[ASG-11] one active refresh per group: Start → InProgress, a second Start → InstanceRefreshInProgressFault; Cancel → Cancelled; Describe newest first', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2 });
  const { InstanceRefreshId: id } = await sb.clients.autoScaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'g', Preferences: { MinHealthyPercentage: 90 } }));
  t.truthy(id);
  const err = await t.throwsAsync(sb.clients.autoScaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'g' })));
  t.true(err instanceof InstanceRefreshInProgressFault, String(err?.name));
  let d = await sb.clients.autoScaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'g' }));
  t.is(d.InstanceRefreshes?.length, 1);
  t.like(d.InstanceRefreshes![0], { InstanceRefreshId: id, AutoScalingGroupName: 'g', Status: 'InProgress', PercentageComplete: 0 });
  t.true(d.InstanceRefreshes![0].StartTime instanceof Date);
  await sb.clients.autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'g' }));
  d = await sb.clients.autoScaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'g' }));
  t.is(d.InstanceRefreshes![0].Status, 'Cancelled');
  const none = await t.throwsAsync(sb.clients.autoScaling.send(new CancelInstanceRefreshCommand({ AutoScalingGroupName: 'g' })));
  t.true(none instanceof ActiveInstanceRefreshNotFoundFault, String(none?.name));
  const { InstanceRefreshId: id2 } = await sb.clients.autoScaling.send(new StartInstanceRefreshCommand({ AutoScalingGroupName: 'g' }));
  d = await sb.clients.autoScaling.send(new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: 'g' }));
  t.deepEqual(d.InstanceRefreshes!.map((r) => r.InstanceRefreshId), [id2, id]);
});
