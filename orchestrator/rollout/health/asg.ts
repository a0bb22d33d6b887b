/**
 * The Auto Scaling group's signal: an instance serves only once the ASG has it InService and
 * Healthy. Not InService (Pending, Pending:Wait, Terminating…) → not yet, the lifecycle state shown;
 * health status Unhealthy → not healthy (the ASG will replace it), "health status Unhealthy" shown.
 */
import type { InstanceView } from '../../aws/port';
import { HEALTHY, type SnapshotSignal, type Verdict } from './signal';

export const asgSignal: SnapshotSignal = {
  name: 'asg',
  judge(i: InstanceView): Verdict {
    if (i.lifecycleState !== 'InService') return { healthy: false, gate: 'asg', state: i.lifecycleState };
    if (i.healthStatus !== 'Healthy') return { healthy: false, gate: 'asg', state: `health status ${i.healthStatus}` };
    return HEALTHY;
  },
};
