/** Setup helper behind `Sandbox.seedTargetGroups`: an ALB/NLB, one listener, target groups it forwards to. */
import type { Sandbox } from '../index';

export interface SeedTargetGroupsSpec {
  /** Load balancer name. */
  name: string;
  type?: 'application' | 'network';
  /** Target groups, in order; the listener forwards to them with `weight` (default: 1 for the first, 0 for the rest). */
  targetGroups: Array<{
    name: string;
    weight?: number;
    protocol?: string;
    port?: number;
    healthCheck?: { interval?: number; healthyThreshold?: number; unhealthyThreshold?: number; timeout?: number; enabled?: boolean };
    /** deregistration_delay.timeout_seconds; default 300 (AWS's). */
    deregistrationDelay?: number;
  }>;
  /** Put the forward in a listener rule of this priority (default: the listener's default action). */
  rulePriority?: number;
}

export interface SeededTargetGroups {
  loadBalancerArn: string;
  listenerArn: string;
  ruleArn?: string;
  /** Target group ARN by name. */
  targetGroupArns: Record<string, string>;
}

export function seedTargetGroups(sb: Sandbox, spec: SeedTargetGroupsSpec): SeededTargetGroups {
  const type = spec.type ?? 'application';
  const lb = sb.direct('elbv2', 'CreateLoadBalancer', { Name: spec.name, Type: type }).LoadBalancers[0];
  const targetGroupArns: Record<string, string> = {};
  for (const t of spec.targetGroups) {
    const protocol = t.protocol ?? (type === 'application' ? 'HTTP' : 'TCP');
    const hc = t.healthCheck ?? {};
    const out = sb.direct('elbv2', 'CreateTargetGroup', {
      Name: t.name,
      Protocol: protocol,
      Port: t.port ?? 8080,
      VpcId: 'vpc-sandbox',
      HealthCheckIntervalSeconds: hc.interval,
      HealthyThresholdCount: hc.healthyThreshold,
      UnhealthyThresholdCount: hc.unhealthyThreshold,
      HealthCheckTimeoutSeconds: hc.timeout,
      HealthCheckEnabled: hc.enabled,
    });
    const arn: string = out.TargetGroups[0].TargetGroupArn;
    targetGroupArns[t.name] = arn;
    if (t.deregistrationDelay !== undefined) {
      sb.direct('elbv2', 'ModifyTargetGroupAttributes', { TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(t.deregistrationDelay) }] });
    }
  }
  const forward = {
    Type: 'forward',
    ForwardConfig: { TargetGroups: spec.targetGroups.map((t, i) => ({ TargetGroupArn: targetGroupArns[t.name], Weight: t.weight ?? (i === 0 ? 1 : 0) })) },
  };
  const protocol = type === 'application' ? 'HTTP' : 'TCP';
  if (spec.rulePriority === undefined) {
    const l = sb.direct('elbv2', 'CreateListener', { LoadBalancerArn: lb.LoadBalancerArn, Protocol: protocol, Port: 80, DefaultActions: [forward] }).Listeners[0];
    return { loadBalancerArn: lb.LoadBalancerArn, listenerArn: l.ListenerArn, targetGroupArns };
  }
  const l = sb.direct('elbv2', 'CreateListener', {
    LoadBalancerArn: lb.LoadBalancerArn,
    Protocol: protocol,
    Port: 80,
    DefaultActions: [{ Type: 'fixed-response', FixedResponseConfig: { StatusCode: '404' } }],
  }).Listeners[0];
  const r = sb.direct('elbv2', 'CreateRule', {
    ListenerArn: l.ListenerArn,
    Priority: spec.rulePriority,
    Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/*'] } }],
    Actions: [forward],
  }).Rules[0];
  return { loadBalancerArn: lb.LoadBalancerArn, listenerArn: l.ListenerArn, ruleArn: r.RuleArn, targetGroupArns };
}
