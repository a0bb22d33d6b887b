import test from 'ava';
import {
  DescribeListenersCommand,
  DescribeRulesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  CreateRuleCommand,
  ModifyListenerCommand,
  paginateDescribeTargetGroups,
  TargetGroupNotFoundException,
  PriorityInUseException,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand,
  DeleteTargetGroupCommand,
  ListenerNotFoundException,
  ResourceInUseException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { AttachLoadBalancerTargetGroupsCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import type { Sandbox } from '../../orchestrator/sandbox';
import { TICK_MS } from '../../orchestrator/sandbox/world';
import { active, sandbox, setDesired } from './helpers';

async function health(sb: Sandbox, tg: string, id: string) {
  const out = await sb.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg, Targets: [{ Id: id }] }));
  return out.TargetHealthDescriptions![0].TargetHealth!;
}

/** A 1-instance group behind an ALB target group (interval 10 s, healthy threshold 3, unhealthy 2). */
function seeded(options: { delay?: number; seedOptions?: Parameters<typeof sandbox>[0] } = {}) {
  const sb = sandbox(options.seedOptions);
  const lb = sb.seedTargetGroups({ name: 'web', targetGroups: [{ name: 'web-a', healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 }, deregistrationDelay: options.delay ?? 60 }] });
  const tg = lb.targetGroupArns['web-a'];
  sb.seedGroup({ name: 'g', capacity: 1, targetGroupARNs: [tg], healthCheckGracePeriod: 60 });
  return { sb, tg, lb };
}

function launchOne(sb: Sandbox) {
  setDesired(sb, 'g', 2);
  sb.advance(TICK_MS - (sb.clock.now() % TICK_MS));
  const inst = active(sb, 'g').find((i) => i.lifecycle === 'Pending')!;
  return { inst, t: inst.launchTime };
}

test('[TG-2][TG-3] target health: initial (RegistrationInProgress, then InitialHealthChecking), healthy at launch + boot + interval x HealthyThresholdCount', async (t) => {
  const { sb, tg } = seeded();
  const { inst, t: launched } = launchOne(sb);
  const at = (s: number) => sb.clock.advanceTo(launched + s * 1000);
  at(40);
  t.is(inst.lifecycle, 'InService');
  t.deepEqual(await health(sb, tg, inst.id), { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' });
  t.false(sb.world.isHealthy(inst), 'initial is not healthy for the monitor');
  at(55);
  t.deepEqual(await health(sb, tg, inst.id), { State: 'initial', Reason: 'Elb.InitialHealthChecking', Description: 'Initial health checks in progress' });
  at(69);
  t.is((await health(sb, tg, inst.id)).State, 'initial');
  at(70);
  t.deepEqual(await health(sb, tg, inst.id), { State: 'healthy' });
  t.true(sb.world.isHealthy(inst));
});

test('[TG-3][TG-9] a bad image: initial, then unhealthy (Target.FailedHealthChecks) after UnhealthyThresholdCount; the ELB-type group replaces it', async (t) => {
  const { sb, tg } = seeded();
  sb.setImage('ami-bad', { healthy: false });
  sb.newLaunchTemplateVersion('g-lt', { ImageId: 'ami-bad' });
  const { inst, t: launched } = launchOne(sb);
  sb.clock.advanceTo(launched + 55 * 1000);
  t.is((await health(sb, tg, inst.id)).State, 'initial');
  sb.clock.advanceTo(launched + 60 * 1000);
  t.deepEqual(await health(sb, tg, inst.id), { State: 'unhealthy', Reason: 'Target.FailedHealthChecks', Description: 'Health checks failed' });
  t.false(sb.world.isHealthy(inst));
  // Past the grace period the group marks it Unhealthy and replaces it [HEALTH-2].
  sb.clock.advanceTo(launched + 200 * 1000);
  t.true(inst.health === 'Unhealthy' || inst.lifecycle !== 'InService');
});

test('[FAULT-14] slow target registration: initial (Elb.RegistrationInProgress) until the drawn delay ends, then HealthyThresholdCount checks on the interval', async (t) => {
  const { sb, tg } = seeded();
  sb.faults.targetRegistrationSeconds = 120;
  const { inst, t: launched } = launchOne(sb);
  // Auto Scaling registers it as it goes InService [TG-9].
  for (let s = 1; !sb.world.elbv2.targetGroup(tg)!.targets[inst.id] && s < 120; s++) sb.clock.advanceTo(launched + s * 1000);
  const reg = sb.world.elbv2.targetGroup(tg)!.targets[inst.id];
  t.truthy(reg, 'registered once InService');
  t.is(reg.checksFrom, reg.registeredAt + 120_000);
  // Without the fault it would be healthy at registration + 3 × 10 s; it is still registering long after.
  sb.clock.advanceTo(reg.registeredAt + 119_000);
  t.is(inst.lifecycle, 'InService');
  t.deepEqual(await health(sb, tg, inst.id), { State: 'initial', Reason: 'Elb.RegistrationInProgress', Description: 'Target registration is in progress' });
  t.false(sb.world.isHealthy(inst));
  // Checks at registration + k × 10 s from +120 s: passes at +120, +130, +140.
  sb.clock.advanceTo(reg.registeredAt + 139_000);
  t.deepEqual(await health(sb, tg, inst.id), { State: 'initial', Reason: 'Elb.InitialHealthChecking', Description: 'Initial health checks in progress' });
  sb.clock.advanceTo(reg.registeredAt + 140_000);
  t.deepEqual(await health(sb, tg, inst.id), { State: 'healthy' });
  t.true(sb.world.isHealthy(inst));
});

test('[TG-6] a terminated healthy target drains for the deregistration delay; the instance stays Terminating until then', async (t) => {
  const { sb, tg } = seeded({ delay: 60 });
  const inst = active(sb, 'g')[0];
  t.deepEqual(await health(sb, tg, inst.id), { State: 'healthy' });
  await sb.clients.autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: inst.id, ShouldDecrementDesiredCapacity: true }));
  const t0 = sb.clock.now();
  sb.advance(1000);
  t.deepEqual(await health(sb, tg, inst.id), { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' });
  t.is(inst.ec2State, 'running');
  sb.clock.advanceTo(t0 + 59_000);
  t.is((await health(sb, tg, inst.id)).State, 'draining');
  sb.clock.advanceTo(t0 + 62_000);
  t.deepEqual(await health(sb, tg, inst.id), { State: 'unused', Reason: 'Target.NotRegistered', Description: 'Target is not registered to the target group' });
  t.not(inst.ec2State, 'running');
});

test('[TG-4][TG-8] a target group no listener forwards to reports unused (Target.NotInUse); forwarding to it restarts initial checks', async (t) => {
  const { sb, lb } = seeded();
  const other = sb.direct('elbv2', 'CreateTargetGroup', { Name: 'web-b', Protocol: 'HTTP', Port: 8080, HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 2 }).TargetGroups[0].TargetGroupArn;
  const inst = active(sb, 'g')[0];
  sb.direct('elbv2', 'RegisterTargets', { TargetGroupArn: other, Targets: [{ Id: inst.id }] });
  sb.advance(30_000);
  t.deepEqual(await health(sb, other, inst.id), { State: 'unused', Reason: 'Target.NotInUse', Description: 'Target group is not configured to receive traffic from the load balancer' });
  const tgs = [lb.targetGroupArns['web-a'], other];
  await sb.clients.elbv2.send(new ModifyListenerCommand({ ListenerArn: lb.listenerArn, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: tgs[0], Weight: 90 }, { TargetGroupArn: tgs[1], Weight: 10 }] } }] }));
  t.is((await health(sb, other, inst.id)).Reason, 'Elb.RegistrationInProgress');
  sb.advance(20_000);
  t.deepEqual(await health(sb, other, inst.id), { State: 'healthy' });
  const rules = await sb.clients.elbv2.send(new DescribeRulesCommand({ ListenerArn: lb.listenerArn }));
  t.is(rules.Rules!.length, 1);
  t.is(rules.Rules![0].Priority, 'default');
  t.true(rules.Rules![0].IsDefault);
  t.deepEqual(rules.Rules![0].Actions![0].ForwardConfig!.TargetGroups, [{ TargetGroupArn: tgs[0], Weight: 90 }, { TargetGroupArn: tgs[1], Weight: 10 }]);
});

test('[TG-1][TG-8] SDK round trip: DescribeTargetGroups paginated (pageSize 1) with LoadBalancerArns; DescribeListeners; errors in the SDK shape', async (t) => {
  const { sb, lb } = seeded({ seedOptions: { pageSize: 1 } });
  sb.direct('elbv2', 'CreateTargetGroup', { Name: 'web-b', Protocol: 'HTTP', Port: 8080 });
  const names: string[] = [];
  let pages = 0;
  for await (const p of paginateDescribeTargetGroups({ client: sb.clients.elbv2 }, {})) {
    pages++;
    for (const tg of p.TargetGroups ?? []) names.push(`${tg.TargetGroupName}:${tg.HealthCheckIntervalSeconds}:${tg.HealthyThresholdCount}:${(tg.LoadBalancerArns ?? []).length}`);
  }
  t.is(pages, 2);
  // web-b: AWS's HTTP defaults (interval 30, healthy threshold 5), used by no load balancer.
  t.deepEqual(names, ['web-a:10:3:1', 'web-b:30:5:0']);
  const listeners = await sb.clients.elbv2.send(new DescribeListenersCommand({ LoadBalancerArn: lb.loadBalancerArn }));
  t.is(listeners.Listeners![0].ListenerArn, lb.listenerArn);
  const missing = await t.throwsAsync(sb.clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/nope/0000000000000000'] })));
  t.true(missing instanceof TargetGroupNotFoundException);
  t.is(missing!.name, 'TargetGroupNotFoundException');
  const rule = { ListenerArn: lb.listenerArn, Priority: 10, Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/x'] } }], Actions: [{ Type: 'forward' as const, TargetGroupArn: lb.targetGroupArns['web-a'] }] };
  await sb.clients.elbv2.send(new CreateRuleCommand(rule));
  const taken = await t.throwsAsync(sb.clients.elbv2.send(new CreateRuleCommand(rule)));
  t.true(taken instanceof PriorityInUseException);
  const badWeight = await t.throwsAsync(sb.clients.elbv2.send(new ModifyListenerCommand({ ListenerArn: lb.listenerArn, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: lb.targetGroupArns['web-a'], Weight: 1000 }] } }] })));
  t.is(badWeight!.name, 'ValidationError');
});

test('[TG-9] AttachLoadBalancerTargetGroups registers the InService instances at once', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2 });
  const lb = sb.seedTargetGroups({ name: 'web', targetGroups: [{ name: 'web-a', healthCheck: { interval: 10, healthyThreshold: 2 } }] });
  const tg = lb.targetGroupArns['web-a'];
  await sb.clients.autoScaling.send(new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: 'g', TargetGroupARNs: [tg] }));
  const out = await sb.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
  t.is(out.TargetHealthDescriptions!.length, 2);
  t.true(out.TargetHealthDescriptions!.every((d) => d.TargetHealth!.State === 'initial'));
  sb.advance(20_000);
  const later = await sb.clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: tg }));
  t.true(later.TargetHealthDescriptions!.every((d) => d.TargetHealth!.State === 'healthy'));
});

test('[TG-7] traffic share by weight per color, served only by healthy targets; a target group with none healthy fails open (its share unserved); ModifyRule moves it', async (t) => {
  const sb = sandbox();
  const hc = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 };
  const lb = sb.seedTargetGroups({ name: 'qa', targetGroups: [{ name: 'qa-a', weight: 90, healthCheck: hc }, { name: 'qa-b', weight: 10, healthCheck: hc }], rulePriority: 7 });
  sb.seedGroup({ name: 'qa-a', capacity: 2, launchTemplateName: 'qa', targetGroupARNs: [lb.targetGroupArns['qa-a']] });
  sb.seedGroup({ name: 'qa-b', capacity: 0, launchTemplateName: 'qa', targetGroupARNs: [lb.targetGroupArns['qa-b']] });
  t.deepEqual(sb.monitor.trafficOf('qa-a'), { share: 0.9, served: 0.9, healthy: 2, failOpen: false });
  t.deepEqual(sb.monitor.trafficOf('qa-b'), { share: 0.1, served: 0, healthy: 0, failOpen: false }, 'no target at all: its share is lost (no fail-open without targets)');
  // b's instances registered but failing their checks: the ALB fails open to them, the share is still unserved.
  sb.setImage('ami-0bad', { healthy: false });
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'qa-b', DesiredCapacity: 1, MaxSize: 1 });
  sb.direct('ec2', 'CreateLaunchTemplateVersion', { LaunchTemplateName: 'qa', SourceVersion: '1', LaunchTemplateData: { ImageId: 'ami-0bad' } });
  sb.advance(200_000);
  const b = sb.monitor.trafficOf('qa-b');
  t.is(b.share, 0.1);
  t.is(b.served, 0);
  t.true(b.failOpen, JSON.stringify(b));
  // The rule's weights moved: all to a.
  const tuples = [{ TargetGroupArn: lb.targetGroupArns['qa-a'], Weight: 100 }, { TargetGroupArn: lb.targetGroupArns['qa-b'], Weight: 0 }];
  sb.direct('elbv2', 'ModifyRule', { RuleArn: lb.ruleArn, Actions: [{ Type: 'forward', ForwardConfig: { TargetGroups: tuples } }] });
  t.deepEqual(sb.monitor.trafficOf('qa-a'), { share: 1, served: 1, healthy: 2, failOpen: false });
  t.is(sb.monitor.trafficOf('qa-b').share, 0);
});

test('[TG-8] DeleteListener takes its rules with it; DeleteLoadBalancer its listeners; then the target group is no longer in use and can be deleted', async (t) => {
  const sb = sandbox();
  const lb = sb.seedTargetGroups({ name: 'web', targetGroups: [{ name: 'web-a' }], rulePriority: 5 });
  const tg = lb.targetGroupArns['web-a'];
  await t.throwsAsync(sb.clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg })), { instanceOf: ResourceInUseException });
  await sb.clients.elbv2.send(new DeleteListenerCommand({ ListenerArn: lb.listenerArn }));
  t.deepEqual(Object.keys(sb.world.state.elbv2!.rules), [], 'the rule went with its listener');
  await t.throwsAsync(sb.clients.elbv2.send(new DescribeListenersCommand({ ListenerArns: [lb.listenerArn] })), { instanceOf: ListenerNotFoundException });
  await sb.clients.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: tg }));

  const other = sb.seedTargetGroups({ name: 'api', targetGroups: [{ name: 'api-a' }] });
  await sb.clients.elbv2.send(new DeleteLoadBalancerCommand({ LoadBalancerArn: other.loadBalancerArn }));
  t.deepEqual(Object.keys(sb.world.state.elbv2!.listeners), []);
  const out = await sb.clients.elbv2.send(new DescribeTargetGroupsCommand({ TargetGroupArns: [other.targetGroupArns['api-a']] }));
  t.deepEqual(out.TargetGroups![0].LoadBalancerArns, [], 'the target group stays, no longer in use');
});
