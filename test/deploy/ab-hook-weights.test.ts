/**
 * deploy's A/B hook on a service fronted by an ALB (issue 14, item 3): the manifest's `elbv2`
 * block, the colors' target groups in one weighted forward; the hook's dry run says it would shift
 * the traffic, the real hook shifts it all at once, then drains the old color.
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { Sandbox } from '../../orchestrator/sandbox';
import { engineHooks } from '../../orchestrator/stack/hooks';
import type { AbServiceManifest } from '../../orchestrator/stack/manifest';

function world() {
  const sb = Sandbox.create({ seed: 21, faults: { bootSeconds: 40, appStartSeconds: 5 } });
  const hc = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 };
  const lb = sb.seedTargetGroups({ name: 'web', targetGroups: [{ name: 'web-a', weight: 100, healthCheck: hc, deregistrationDelay: 30 }, { name: 'web-b', weight: 0, healthCheck: hc, deregistrationDelay: 30 }] });
  sb.seedGroup({ name: 'web-a', capacity: 2, min: 2, max: 4, launchTemplateName: 'web', imageId: 'ami-0web1', targetGroupARNs: [lb.targetGroupArns['web-a']] });
  sb.seedGroup({ name: 'web-b', capacity: 0, min: 0, max: 4, launchTemplateName: 'web', targetGroupARNs: [lb.targetGroupArns['web-b']] });
  sb.newLaunchTemplateVersion('web', { ImageId: 'ami-0web2' });
  const service: AbServiceManifest = {
    service: 'web',
    strategy: 'ab',
    name: 'web',
    environment: 'web',
    asgNames: { a: 'web-a', b: 'web-b' },
    elbv2: {
      type: 'application',
      loadBalancerArn: lb.loadBalancerArn,
      listenerArns: [lb.listenerArn],
      deregistrationDelaySeconds: 30,
      healthCheck: { intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
      targetGroupArns: { a: lb.targetGroupArns['web-a'], b: lb.targetGroupArns['web-b'] },
      weightsOwner: 'orchestrator',
    },
    capacityOwner: 'orchestrator',
    imageId: 'ami-0web2',
    instanceType: 't3.small',
    capacity: 2,
    maxSize: 4,
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 120,
    rollout: { healthCheckTimeoutSeconds: 600, drainingTimeoutSeconds: 30 },
  };
  const reporter = new RecordingReporter(sb.clock);
  const hooks = engineHooks({ port: createAwsPort(sb.clients, sb.clock), clock: sb.clock, reporter });
  const weightOf = (name: string) => {
    const l = Object.values(sb.world.state.elbv2!.listeners)[0];
    return (l.defaultActions[0].ForwardConfig.TargetGroups as Array<{ TargetGroupArn: string; Weight: number }>).find((t) => t.TargetGroupArn === lb.targetGroupArns[name])!.Weight;
  };
  return { sb, service, hooks, reporter, weightOf };
}

test('deploy hook on an ALB service: the dry run says it shifts the traffic, read-only', async (t) => {
  const w = world();
  const before = w.sb.calls.filter((c) => c.mutating).length;
  const plan = await w.hooks.plan(w.service, { changes: [], force: false });
  t.is(plan.action, 'swap');
  t.regex(plan.summary, /would swap a → b, 2 instances, shift traffic to b \(all traffic at once\), then drain a/);
  t.is(w.sb.calls.filter((c) => c.mutating).length, before);
});

test('deploy hook on an ALB service: swaps by weights (a 100 → b 100), then drains a', async (t) => {
  const w = world();
  const r = await w.hooks.rollout(w.service, { changes: [], force: false, signal: new AbortController().signal, reporter: w.reporter });
  t.is(r.status, 'done');
  t.is(w.weightOf('web-a'), 0);
  t.is(w.weightOf('web-b'), 100);
  t.deepEqual(w.reporter.ofCode(Codes.trafficShift).map((e) => [e.data.environment, e.data.share]), [['web', 100]]);
  t.is(w.sb.world.state.groups['web-a'].desired, 0);
  t.is(w.sb.monitor.healthyCount('web-b'), 2);
});
