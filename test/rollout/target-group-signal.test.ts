/** The target group health signal (rollout/health/target-group.ts): one row per state DescribeTargetHealth reports. */
import test from 'ava';
import type { InstanceView, TargetHealthView } from '../../orchestrator/aws/port';
import { awsVerdict, groupSignals, pollTiming, targetGroupName, targetGroupSignal, targetGroupSignalOf, type Verdict } from '../../orchestrator/rollout/health';
import { instanceView } from './instance-view';

const A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-a/73e2d6bc24d8a067';
const B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-b/0000000000000001';

function inst(targetHealth?: Record<string, TargetHealthView>, over: Partial<InstanceView> = {}): InstanceView {
  return instanceView({ ...(targetHealth ? { targetHealth } : {}), ...over });
}

// States and reason codes as the ELBv2 API documents them (TargetHealth).
const cases: [string, Record<string, TargetHealthView> | undefined, Verdict][] = [
  ['healthy', { [A]: { state: 'healthy' } }, { healthy: true }],
  ['not read / not registered', undefined, { healthy: false, gate: 'tg web-a', state: 'not registered yet' }],
  ['registered in another target group only', { [B]: { state: 'healthy' } }, { healthy: false, gate: 'tg web-a', state: 'not registered yet' }],
  ['initial: registration in progress', { [A]: { state: 'initial', reason: 'Elb.RegistrationInProgress', description: 'Target registration is in progress' } }, { healthy: false, gate: 'tg web-a', state: 'initial (Elb.RegistrationInProgress): Target registration is in progress' }],
  ['initial: initial health checking', { [A]: { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' } }, { healthy: false, gate: 'tg web-a', state: 'initial (Elb.InitialHealthChecking): Initial health checks in progress' }],
  ['unhealthy', { [A]: { state: 'unhealthy', reason: 'Target.FailedHealthChecks', description: 'Health checks failed' } }, { healthy: false, gate: 'tg web-a', state: 'unhealthy (Target.FailedHealthChecks): Health checks failed' }],
  ['unused: target group not in use', { [A]: { state: 'unused', reason: 'Target.NotInUse', description: 'Target group is not configured to receive traffic from the load balancer' } }, { healthy: false, gate: 'tg web-a', state: 'unused (Target.NotInUse): Target group is not configured to receive traffic from the load balancer' }],
  ['draining', { [A]: { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' } }, { healthy: false, gate: 'tg web-a', state: 'draining (Target.DeregistrationInProgress): Target deregistration is in progress' }],
  ['unavailable: health checks disabled', { [A]: { state: 'unavailable', reason: 'Target.HealthCheckDisabled', description: 'Health checks are disabled' } }, { healthy: false, gate: 'tg web-a', state: 'unavailable (Target.HealthCheckDisabled): Health checks are disabled' }],
];
for (const [name, th, want] of cases) {
  test(`target group signal: ${name}`, (t) => t.deepEqual(targetGroupSignal(A).judge(inst(th)), want));
}

test('target group name from its ARN; an ARN without the targetgroup part shows whole', (t) => {
  t.is(targetGroupName(A), 'web-a');
  t.is(targetGroupName('tg-x'), 'tg-x');
});

test('groupSignals: asg, then each classic ELB, then each target group; first no wins', (t) => {
  t.deepEqual(groupSignals(['lb'], [A, B]).map((s) => s.name), ['asg', 'elb lb', 'tg web-a', 'tg web-b']);
  // Healthy in A, initial in B: B says no.
  const v = awsVerdict(inst({ [A]: { state: 'healthy' }, [B]: { state: 'initial', reason: 'Elb.InitialHealthChecking' } }), [], [A, B]);
  t.deepEqual(v, { healthy: false, gate: 'tg web-b', state: 'initial (Elb.InitialHealthChecking)' });
  // The ASG is asked first.
  t.is(awsVerdict(inst({ [A]: { state: 'healthy' } }, { lifecycleState: 'Pending' }), [], [A]).gate, 'asg');
  t.true(awsVerdict(inst({ [A]: { state: 'healthy' }, [B]: { state: 'healthy' } }), [], [A, B]).healthy);
});

test('polling hint: HealthyThresholdCount × HealthCheckIntervalSeconds, the longest among the signals', (t) => {
  const s = targetGroupSignalOf({ arn: A, name: 'web-a', healthCheck: { interval: 15, healthyThreshold: 5, unhealthyThreshold: 2 }, deregistrationDelay: 30 });
  t.is(s.name, 'tg web-a');
  t.deepEqual(s.timing, { interval: 15, healthyThreshold: 5 });
  t.deepEqual(pollTiming([s, targetGroupSignalOf({ arn: B, name: 'web-b', healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 }, deregistrationDelay: 0 })]), { interval: 15, healthyThreshold: 5 });
});
