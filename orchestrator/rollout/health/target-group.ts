/**
 * An ELBv2 target group's signal: `healthy` in that target group's DescribeTargetHealth (the
 * snapshot's `i.targetHealth[arn]`). Not registered yet (no entry) → not yet; any other state →
 * not healthy, shown with AWS's state, reason code and description, e.g.
 * `initial (Elb.InitialHealthChecking): Initial health checks in progress` or
 * `unhealthy (Target.FailedHealthChecks): Health checks failed`. `initial` is not healthy: the
 * load balancer routes to a target only once it passed HealthyThresholdCount checks.
 * Polling hint: HealthyThresholdCount × HealthCheckIntervalSeconds after registration.
 */
import type { InstanceView, TargetGroupInfo } from '../../aws/port';
import type { HealthCheckTiming } from '../polling';
import { HEALTHY, type SnapshotSignal, type Verdict } from './signal';

/** The signal of the target group `arn`, shown as `tg <name>` (the ARN's name part when no name is given). */
export function targetGroupSignal(arn: string, name = targetGroupName(arn), timing?: HealthCheckTiming): SnapshotSignal {
  const gate = `tg ${name}`;
  return {
    name: gate,
    timing,
    judge(i: InstanceView): Verdict {
      const h = i.targetHealth?.[arn];
      if (!h) return { healthy: false, gate, state: 'not registered yet' };
      if (h.state !== 'healthy') return { healthy: false, gate, state: `${h.state}${h.reason ? ` (${h.reason})` : ''}${h.description ? `: ${h.description}` : ''}` };
      return HEALTHY;
    },
  };
}

/** The target group's signal with its polling hint, from DescribeTargetGroups (port.describeTargetGroup). */
export function targetGroupSignalOf(info: TargetGroupInfo): SnapshotSignal {
  return targetGroupSignal(info.arn, info.name, { interval: info.healthCheck.interval, healthyThreshold: info.healthCheck.healthyThreshold });
}

/**
 * The name in a target group ARN (`arn:aws:elasticloadbalancing:…:targetgroup/<name>/<id>`).
 * Example: `…:targetgroup/web-a/73e2d6bc24d8a067` → `web-a`.
 */
export function targetGroupName(arn: string): string {
  const m = /:targetgroup\/([^/]+)\//.exec(arn);
  return m ? m[1] : arn;
}
