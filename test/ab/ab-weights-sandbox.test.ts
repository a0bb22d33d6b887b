/**
 * A/B by weights on an ALB (issue 14.3), on the simulated AWS with the real SDK clients and
 * adapter: qa-a and qa-b each behind their own target group in one weighted forward.
 */
import test from 'ava';
import { PutMetricAlarmCommand } from '@aws-sdk/client-cloudwatch';
import { Sandbox } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { abDeploy, type AbDeployOptions } from '../../orchestrator/rollout/ab/runner';
import { createAwsPort } from '../../orchestrator/aws/adapter';

interface WorldOptions {
  badV2?: boolean;
  /** No v2 launch template version (the test makes its own). */
  noV2?: boolean;
  rule?: boolean;
  type?: 'application' | 'network';
  weights?: [number, number];
}

function world(o: WorldOptions = {}) {
  const sb = Sandbox.create({ seed: 11, faults: { bootSeconds: 40, appStartSeconds: 10 } });
  const hc = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 };
  const lb = sb.seedTargetGroups({
    name: 'qa',
    type: o.type,
    targetGroups: [
      { name: 'qa-a', weight: o.weights?.[0] ?? 100, healthCheck: hc, deregistrationDelay: 30 },
      { name: 'qa-b', weight: o.weights?.[1] ?? 0, healthCheck: hc, deregistrationDelay: 30 },
    ],
    ...(o.rule ? { rulePriority: 10 } : {}),
  });
  const tgA = lb.targetGroupArns['qa-a'];
  const tgB = lb.targetGroupArns['qa-b'];
  sb.seedGroup({ name: 'qa-a', capacity: 3, min: 3, max: 6, launchTemplateName: 'qa-lt', imageId: 'ami-v1', targetGroupARNs: [tgA] });
  sb.seedGroup({ name: 'qa-b', capacity: 0, min: 0, max: 6, launchTemplateName: 'qa-lt', targetGroupARNs: [tgB] });
  if (o.badV2) sb.setImage('ami-bad', { healthy: false });
  if (!o.noV2) sb.newLaunchTemplateVersion('qa-lt', { ImageId: o.badV2 ? 'ami-bad' : 'ami-v2' });
  sb.monitor.baseline();
  const reporter = new RecordingReporter(sb.clock);
  /** The forward's weights now, by target group name. */
  const weights = () => {
    const s = sb.world.state.elbv2!;
    const actions = o.rule ? Object.values(s.rules)[0].actions : Object.values(s.listeners)[0].defaultActions;
    const tuples = actions.find((a: any) => a.Type === 'forward').ForwardConfig.TargetGroups as Array<{ TargetGroupArn: string; Weight: number }>;
    return Object.fromEntries(tuples.map((t) => [t.TargetGroupArn === tgA ? 'qa-a' : 'qa-b', t.Weight]));
  };
  const healthyIn = (tg: string) => Object.keys(sb.world.state.elbv2!.targetGroups[tg].targets).filter((id) => sb.world.elbv2.isServing(sb.world.state.elbv2!.targetGroups[tg], id)).length;
  const run = (x: Partial<AbDeployOptions> = {}) => abDeploy({ clients: sb.clients, clock: sb.clock, reporter, environment: 'qa', instanceCount: 3, ...x });
  return { sb, reporter, weights, run, tgA, tgB, healthyIn };
}

test('ALB: a swap shifts the weights 10 → 50 → 100 % while qa-b serves, holds each step, then drains qa-a', async (t) => {
  const w = world();
  const t0 = w.sb.clock.now();
  const r = await w.run({ trafficSteps: [10, 50, 100], stepWait: 120 });
  t.is(r.status, 'done');
  t.deepEqual(w.weights(), { 'qa-a': 0, 'qa-b': 100 });
  const shifts = w.reporter.ofCode(Codes.trafficShift);
  t.deepEqual(shifts.map((e) => e.data.share), [10, 50, 100]);
  t.deepEqual(shifts.map((e) => e.data.weights), [{ 'qa-b': 10, 'qa-a': 90 }, { 'qa-b': 50, 'qa-a': 50 }, { 'qa-b': 100, 'qa-a': 0 }]);
  const at = shifts.map((e) => Date.parse(e.time));
  t.true(at[1] - at[0] >= 120_000 && at[2] - at[1] >= 120_000, 'held at least --step-wait at each step');
  // The old color was scaled in only after its weight reached 0.
  const drain = w.reporter.ofCode(Codes.scale).find((e) => e.data.asg === 'qa-a');
  t.truthy(drain, JSON.stringify(w.reporter.ofCode(Codes.scale).map((e) => e.data)));
  t.true(Date.parse(drain!.time) >= at[2], 'qa-a drained after the last shift');
  t.is(w.sb.world.state.groups['qa-a'].desired, 0);
  t.is(w.healthyIn(w.tgB), 3);
  t.true(w.sb.monitor.minHealthy('qa-a', t0) >= 0);
});

test('ALB: all at once by default (one shift to 100 %), on a listener rule', async (t) => {
  const w = world({ rule: true });
  const r = await w.run();
  t.is(r.status, 'done');
  t.deepEqual(w.reporter.ofCode(Codes.trafficShift).map((e) => e.data.share), [100]);
  t.deepEqual(w.weights(), { 'qa-a': 0, 'qa-b': 100 });
  t.true(w.sb.calls.some((c) => c.operation === 'ModifyRule'), 'the rule carries the weights');
});

test('NLB: weights shift too (NLB forwards by weight since its weighted target groups)', async (t) => {
  const w = world({ type: 'network' });
  const r = await w.run({ trafficSteps: [50, 100], stepWait: 30 });
  t.is(r.status, 'done');
  t.deepEqual(w.reporter.ofCode(Codes.trafficShift).map((e) => e.data.share), [50, 100]);
  t.deepEqual(w.weights(), { 'qa-a': 0, 'qa-b': 100 });
});

test('a bad image never gets any weight: the swap halts (exit 1), qa-a keeps 100 % and all its instances', async (t) => {
  const w = world({ badV2: true });
  const e = (await t.throwsAsync(w.run({ trafficSteps: [10, 100], healthCheckTimeout: 300 }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 1);
  t.regex(e.message, /target group qa-b/);
  t.deepEqual(w.reporter.ofCode(Codes.trafficShift), []);
  t.deepEqual(w.weights(), { 'qa-a': 100, 'qa-b': 0 });
  t.is(w.healthyIn(w.tgA), 3);
});

test('the new color failing while it carries traffic: the weights go back to qa-a at once (switch-back), qa-a never drained', async (t) => {
  const w = world();
  // Once qa-b holds 10 %, its image stops answering.
  let broke = false;
  const reporter = {
    emit(level: any, code: string, message: string, data?: Record<string, unknown>) {
      w.reporter.emit(level, code, message, data);
      if (code === Codes.trafficShift && !broke) {
        broke = true;
        for (const i of Object.values(w.sb.world.state.instances)) if (i.group === 'qa-b') i.failAt = w.sb.clock.now();
      }
    },
  };
  const e = (await t.throwsAsync(w.run({ reporter, trafficSteps: [10, 100], stepWait: 300, rollback: true }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 1);
  const shifts = w.reporter.ofCode(Codes.trafficShift);
  t.deepEqual(shifts.map((x) => x.data.share), [10, 0]);
  t.deepEqual(w.weights(), { 'qa-a': 100, 'qa-b': 0 });
  t.is(w.sb.world.state.groups['qa-a'].desired, 3, 'qa-a never scaled in');
  t.is(w.sb.world.state.groups['qa-b'].desired, 0, '--rollback scaled qa-b back');
  t.is(w.healthyIn(w.tgA), 3);
});

test('Ctrl-C while holding at a step: the weights switch back at once, exit 130', async (t) => {
  const w = world();
  const ac = new AbortController();
  const reporter = {
    emit(level: any, code: string, message: string, data?: Record<string, unknown>) {
      w.reporter.emit(level, code, message, data);
      if (code === Codes.trafficShift && data?.share === 50) ac.abort();
    },
  };
  const e = (await t.throwsAsync(w.run({ reporter, signal: ac.signal, trafficSteps: [50, 100], stepWait: 300 }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 130);
  t.deepEqual(w.weights(), { 'qa-a': 100, 'qa-b': 0 });
  t.is(w.sb.world.state.groups['qa-a'].desired, 3);
  t.is(w.sb.world.state.groups['qa-b'].desired, 0);
});

test('--traffic-steps on classic ELBs: exit 2, nothing changed', async (t) => {
  const sb = Sandbox.create({ seed: 3 });
  sb.seedGroup({ name: 'qa-a', capacity: 2, max: 4, elb: { name: 'qa-a' } });
  sb.seedGroup({ name: 'qa-b', capacity: 0, max: 4, elb: { name: 'qa-b' } });
  const reporter = new RecordingReporter(sb.clock);
  const e = (await t.throwsAsync(abDeploy({ clients: sb.clients, clock: sb.clock, reporter, environment: 'qa', trafficSteps: [10, 100], lock: false }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 2);
  t.regex(e.message, /--traffic-steps 10,100/);
  t.deepEqual(sb.calls.filter((c) => c.mutating), []);
});

test('a mixed pair (qa-a on a target group, qa-b on a classic ELB): exit 3 mixed-load-balancers, nothing changed', async (t) => {
  const sb = Sandbox.create({ seed: 3 });
  const lb = sb.seedTargetGroups({ name: 'qa', targetGroups: [{ name: 'qa-a' }] });
  sb.seedGroup({ name: 'qa-a', capacity: 2, max: 4, targetGroupARNs: [lb.targetGroupArns['qa-a']] });
  sb.seedGroup({ name: 'qa-b', capacity: 0, max: 4, elb: { name: 'qa-b' } });
  const reporter = new RecordingReporter(sb.clock);
  const e = (await t.throwsAsync(abDeploy({ clients: sb.clients, clock: sb.clock, reporter, environment: 'qa', lock: false }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 3);
  t.is(e.code, 'mixed-load-balancers');
  t.deepEqual(sb.calls.filter((c) => c.mutating), []);
});

test('both colors at weight 0: exit 3 weights-invalid, nothing changed', async (t) => {
  const w = world({ weights: [0, 0] });
  const e = (await t.throwsAsync(w.run({ lock: false }), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 3);
  t.is(e.code, 'weights-invalid');
  t.deepEqual(w.sb.calls.filter((c) => c.mutating), []);
});

test('dry run on target groups: the plan names the traffic steps, nothing changed', async (t) => {
  const w = world();
  const r = await w.run({ dryRun: true, trafficSteps: [10, 50, 100], stepWait: 120 });
  t.is(r.status, 'planned');
  const plan = w.reporter.ofCode(Codes.plan)[0];
  t.regex(plan.message, /10 % → 50 % → 100 %, holding 120 s/);
  t.deepEqual((plan.data.traffic as { steps: number[] }).steps, [10, 50, 100]);
  t.deepEqual(w.sb.calls.filter((c) => c.mutating), []);
});

test('--keep-old on target groups: once qa-b carries all of the traffic, qa-a stays registered at full size (weight 0) for the window, then drains', async (t) => {
  const w = world();
  const t0 = w.sb.clock.now();
  const r = await w.run({ keepOld: 300, trafficSteps: [50, 100], stepWait: 60 });
  t.is(r.status, 'done');
  t.regex(w.reporter.ofCode(Codes.plan)[0].message, /qa-a is kept at full size for --keep-old 300 s once qa-b serves and carries all of the traffic/);
  const shifts = w.reporter.ofCode(Codes.trafficShift);
  t.deepEqual(shifts.map((e) => e.data.share), [50, 100]);
  const keep = w.reporter.ofCode('ab.keep-old');
  t.deepEqual(keep.map((e) => e.data.state), ['start', 'passed']);
  const opened = Date.parse(keep[0].time);
  t.true(opened >= Date.parse(shifts[1].time), 'the window opens at 100 %, not when qa-b first serves');
  const drain = w.reporter.ofCode(Codes.scale).find((e) => e.data.asg === 'qa-a' && e.data.to === 0)!;
  t.true(Date.parse(drain.time) - opened >= 300_000, 'qa-a drained only after the window');
  t.is(w.sb.monitor.minHealthy('qa-a', t0, opened + 300_000), 3, 'qa-a served (healthy, registered) all through the window');
  t.deepEqual(w.weights(), { 'qa-a': 0, 'qa-b': 100 });
  t.is(w.sb.world.state.groups['qa-a'].desired, 0);
});

test('--keep-old on target groups: qa-b passes its checks, then fails its requests; the alarm on the ALB\'s 5xx trips in the window and the weights switch back at once, qa-b scaled back, qa-a served throughout', async (t) => {
  const w = world({ noV2: true });
  // v2 passes its health checks and fails its requests 60 s after it starts answering [CW-4].
  w.sb.setImage('ami-errs', { errorsAfterSeconds: 60 });
  w.sb.newLaunchTemplateVersion('qa-lt', { ImageId: 'ami-errs' });
  const lb = Object.values(w.sb.world.state.elbv2!.loadBalancers)[0];
  await w.sb.clients.cloudWatch!.send(new PutMetricAlarmCommand({
    AlarmName: 'qa-5xx', Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: [{ Name: 'LoadBalancer', Value: lb.arn.split(':loadbalancer/')[1] }],
    Statistic: 'Sum', Period: 60, EvaluationPeriods: 1, Threshold: 10, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching',
  }));
  w.sb.advance(60_000); // the alarm's first evaluation: OK (no errors)
  const t0 = w.sb.clock.now();
  const oldIds = Object.values(w.sb.world.state.instances).filter((i) => i.group === 'qa-a').map((i) => i.id).sort();
  const e = (await t.throwsAsync(w.run({ keepOld: 900, alarms: ['qa-5xx'] }), { instanceOf: DeployError })) as DeployError;
  t.is(e.code, 'alarm');
  t.is(e.exit, 1);
  t.regex(e.message, /qa-5xx/);
  const keep = w.reporter.ofCode('ab.keep-old');
  t.deepEqual(keep.map((x) => x.data.state), ['start'], 'the alarm came in the window');
  t.deepEqual(w.reporter.ofCode(Codes.trafficShift).map((x) => x.data.share), [100, 0], 'all traffic to qa-b, then back to qa-a at once');
  t.deepEqual(w.weights(), { 'qa-a': 100, 'qa-b': 0 });
  t.is(w.sb.world.state.groups['qa-b'].desired, 0, 'switched back: qa-b scaled back (without --rollback)');
  t.is(w.sb.world.state.groups['qa-a'].desired, 3);
  t.deepEqual(Object.values(w.sb.world.state.instances).filter((i) => i.group === 'qa-a' && i.ec2State === 'running').map((i) => i.id).sort(), oldIds, 'qa-a never touched');
  t.is(w.sb.monitor.minHealthy('qa-a', t0), 3, 'qa-a healthy and registered throughout');
  t.is(w.healthyIn(w.tgA), 3);
  t.deepEqual(w.sb.monitor.leftovers('qa-a'), []);
  // The switch-back came within a poll of the alarm: the weights moved at most 10 s (KEEP_OLD_POLL_MS) after it tripped.
  const tripped = w.sb.world.state.alarms!['qa-5xx'].updatedAt;
  const back = Date.parse(w.reporter.ofCode(Codes.trafficShift)[1].time);
  t.true(back >= tripped && back - tripped <= 10_000, `switched back ${(back - tripped) / 1000} s after the alarm`);
});

test('--keep-old on target groups: qa-b dying in the window (passes its checks, stops answering later) switches the weights back, exit 1', async (t) => {
  const w = world({ noV2: true });
  w.sb.setImage('ami-dies', { failAfterSeconds: 240 });
  w.sb.newLaunchTemplateVersion('qa-lt', { ImageId: 'ami-dies' });
  const t0 = w.sb.clock.now();
  const e = (await t.throwsAsync(w.run({ keepOld: 900 }), { instanceOf: DeployError })) as DeployError;
  t.is(e.code, 'ab.keep-old-failed');
  t.is(e.exit, 1);
  t.regex(e.message, /switching back: the weights go back to qa-a at once/);
  t.deepEqual(w.weights(), { 'qa-a': 100, 'qa-b': 0 });
  t.is(w.sb.world.state.groups['qa-b'].desired, 0);
  t.is(w.sb.monitor.minHealthy('qa-a', t0), 3);
});

test('a third group attached to a color\'s target group: the swap is refused (exit 3, target-group-other-group naming it), nothing changed; once detached, the swap runs', async (t) => {
  const w = world();
  // Someone attached `batch` to qa-a's target group: its instance serves beside qa-a's.
  w.sb.seedGroup({ name: 'batch', capacity: 1, max: 1, launchTemplateName: 'batch-lt', targetGroupARNs: [w.tgA] });
  w.sb.monitor.baseline();
  const before = w.weights();
  const e = (await t.throwsAsync(w.run(), { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 3);
  t.is(e.code, 'target-group-other-group');
  t.regex(e.message, /target group qa-a also has targets of group batch \(i-[0-9a-f]+\)/);
  t.regex(e.message, /nothing was changed/);
  t.deepEqual(e.data.otherGroups, ['batch']);
  t.deepEqual(w.weights(), before);
  for (const g of ['qa-a', 'qa-b', 'batch']) t.deepEqual(w.sb.monitor.leftovers(g), [], g);
  t.deepEqual(w.sb.calls.filter((c) => c.actor === 'tool' && c.mutating && !/Tags$/.test(c.operation)).map((c) => c.operation), [], 'no change besides the lock');
  // Detached again (its targets deregistered): the swap runs.
  w.sb.direct('autoscaling', 'DetachLoadBalancerTargetGroups', { AutoScalingGroupName: 'batch', TargetGroupARNs: [w.tgA] });
  w.sb.advance(600_000);
  t.is((await w.run()).status, 'done');
});

test('a weight raise waits for a fresh read of the new color: qa-b reads healthy, then the reads after it take 30 s (throttled) while its application fails; the raise to 100 % is not sent on that stale read — qa-b is read anew, the weights go back to qa-a (chaos seed 2227145015)', async (t) => {
  const w = world();
  const base = createAwsPort(w.sb.clients, w.sb.clock);
  let shiftedAt: number | undefined;
  let broke = false;
  // The observation that ends the 10 % hold: qa-b was read healthy just before this forward read;
  // the read then takes 30 s (back-offs under throttling), while qa-b's application stops answering.
  const port = new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === 'readForwards') {
        return async (...args: Parameters<typeof base.readForwards>) => {
          if (!broke && shiftedAt !== undefined && w.sb.clock.now() - shiftedAt >= 120_000) {
            broke = true;
            for (const i of Object.values(w.sb.world.state.instances)) if (i.group === 'qa-b') i.failAt = w.sb.clock.now();
            await w.sb.clock.sleep(30_000);
          }
          return base.readForwards(...args);
        };
      }
      const v = Reflect.get(target, prop, receiver);
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  const reporter = {
    emit(level: any, code: string, message: string, data?: Record<string, unknown>) {
      w.reporter.emit(level, code, message, data);
      if (code === Codes.trafficShift && data?.share === 10) shiftedAt = w.sb.clock.now();
    },
  };
  const e = (await t.throwsAsync(abDeploy({ port, clock: w.sb.clock, reporter, environment: 'qa', instanceCount: 3, trafficSteps: [10, 100], stepWait: 120 }), { instanceOf: DeployError })) as DeployError;
  t.true(broke, 'the slow read happened');
  t.is(e.exit, 1);
  t.deepEqual(w.reporter.ofCode(Codes.trafficShift).map((x) => x.data.share), [10, 0], 'never raised to 100 % on the stale read');
  t.true(w.reporter.ofCode('rollout.recheck').some((x) => x.data.share === 100), 'the raise waited for a fresh look');
  t.deepEqual(w.weights(), { 'qa-a': 100, 'qa-b': 0 });
  t.is(w.sb.world.state.groups['qa-a'].desired, 3, 'qa-a never scaled in');
  t.is(w.healthyIn(w.tgA), 3);
});
