/**
 * A classic ELB's signal: InService in that load balancer's DescribeInstanceHealth (the snapshot's
 * `i.elb[name]`). Not registered yet (no entry) or OutOfService/Unknown → not yet, with the ELB's
 * description and reason code (the reason code only when it says something: not 'N/A').
 * Polling hint: the ELB's health check (HealthyThreshold × Interval after registration).
 */
import type { ElbInfo, InstanceView } from '../../aws/port';
import type { HealthCheckTiming } from '../polling';
import { HEALTHY, type SnapshotSignal, type Verdict } from './signal';

export function classicElbSignal(elb: string, timing?: HealthCheckTiming): SnapshotSignal {
  const gate = `elb ${elb}`;
  return {
    name: gate,
    timing,
    judge(i: InstanceView): Verdict {
      const h = i.elb[elb];
      if (!h) return { healthy: false, gate, state: 'not registered yet' };
      if (h.state !== 'InService') {
        return { healthy: false, gate, state: `${h.state}${h.description ? `: ${h.description}` : ''}${h.reasonCode && h.reasonCode !== 'N/A' ? ` (${h.reasonCode})` : ''}` };
      }
      return HEALTHY;
    },
  };
}

/** The ELB's signal with its polling hint, from DescribeLoadBalancers (port.describeElb). */
export function classicElbSignalOf(info: ElbInfo): SnapshotSignal {
  return classicElbSignal(info.name, { interval: info.healthCheck.interval, healthyThreshold: info.healthCheck.healthyThreshold });
}
