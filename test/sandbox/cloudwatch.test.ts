/** The sandbox's CloudWatch alarms through the real SDK client (cloudwatch/SPEC.md). */
import test from 'ava';
import {
  DescribeAlarmsCommand,
  InvalidParameterCombinationException,
  InvalidParameterValueException,
  MissingRequiredParameterException,
  PutMetricAlarmCommand,
  type PutMetricAlarmCommandInput,
} from '@aws-sdk/client-cloudwatch';
import { ModifyListenerCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { Sandbox } from '../../orchestrator/sandbox';

test('[CW-1] DescribeAlarms: metric alarms only without AlarmTypes; by names (unknown ones absent); pages; names and prefix together are a ValidationError', async (t) => {
  const sb = Sandbox.create({ pageSize: 1 });
  sb.setAlarm('web-5xx', 'ALARM', 'Threshold Crossed');
  sb.setAlarm('web-slo', 'OK', 'fine', 'CompositeAlarm');
  const cw = sb.clients.cloudWatch!;
  const metricOnly = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['web-5xx', 'web-slo', 'nope'] }));
  t.deepEqual(metricOnly.MetricAlarms?.map((a) => [a.AlarmName, a.StateValue, a.StateReason]), [['web-5xx', 'ALARM', 'Threshold Crossed']]);
  t.deepEqual(metricOnly.CompositeAlarms, []);
  const both = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['web-5xx', 'web-slo'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'] }));
  t.truthy(both.NextToken, 'page size 1: a second page');
  const next = await cw.send(new DescribeAlarmsCommand({ AlarmNames: ['web-5xx', 'web-slo'], AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: both.NextToken }));
  t.deepEqual([...(both.MetricAlarms ?? []), ...(next.CompositeAlarms ?? [])].map((a) => a.AlarmName), ['web-5xx', 'web-slo']);
  const err = await t.throwsAsync(cw.send(new DescribeAlarmsCommand({ AlarmNames: ['a'], AlarmNamePrefix: 'a' })));
  t.is(err?.name, 'ValidationError');
});

test('[CW-2] StateUpdatedTimestamp moves only when the state changes', async (t) => {
  const sb = Sandbox.create();
  sb.setAlarm('a', 'OK');
  const t0 = sb.clock.now();
  sb.advance(60_000);
  sb.setAlarm('a', 'OK', 'still fine');
  sb.advance(60_000);
  sb.setAlarm('a', 'ALARM', 'Threshold Crossed');
  const out = await sb.clients.cloudWatch!.send(new DescribeAlarmsCommand({ AlarmNames: ['a'] }));
  t.is(out.MetricAlarms?.[0].StateUpdatedTimestamp?.getTime(), t0 + 120_000);
});

// ---------------------------------------------------------------- metric alarms [CW-3..CW-7]

const MINUTE = 60_000;

/** Advance to the next whole minute of the sandbox clock (where alarms are evaluated) plus `extra` ms. */
function toNextMinute(sb: Sandbox, extra = 0): void {
  sb.advance(MINUTE - (sb.clock.now() % MINUTE) + extra);
}

async function alarm(sb: Sandbox, name: string) {
  const out = await sb.clients.cloudWatch!.send(new DescribeAlarmsCommand({ AlarmNames: [name] }));
  return out.MetricAlarms![0];
}

function classic5xx(elb: string, extra: Partial<PutMetricAlarmCommandInput> = {}): PutMetricAlarmCommandInput {
  return {
    AlarmName: `${elb}-5xx`,
    Namespace: 'AWS/ELB',
    MetricName: 'HTTPCode_Backend_5XX',
    Dimensions: [{ Name: 'LoadBalancerName', Value: elb }],
    Statistic: 'Sum',
    Period: 60,
    EvaluationPeriods: 2,
    DatapointsToAlarm: 2,
    Threshold: 10,
    ComparisonOperator: 'GreaterThanThreshold',
    TreatMissingData: 'notBreaching',
    ...extra,
  };
}

test('[CW-3] PutMetricAlarm: a new alarm is INSUFFICIENT_DATA with its definition; an update keeps the state and replaces the definition', async (t) => {
  const sb = Sandbox.create();
  const cw = sb.clients.cloudWatch!;
  await cw.send(new PutMetricAlarmCommand(classic5xx('web')));
  const created = await alarm(sb, 'web-5xx');
  t.like(created, { StateValue: 'INSUFFICIENT_DATA', Namespace: 'AWS/ELB', MetricName: 'HTTPCode_Backend_5XX', Statistic: 'Sum', Period: 60, EvaluationPeriods: 2, DatapointsToAlarm: 2, Threshold: 10, ComparisonOperator: 'GreaterThanThreshold', TreatMissingData: 'notBreaching' });
  t.deepEqual(created.Dimensions, [{ Name: 'LoadBalancerName', Value: 'web' }]);
  toNextMinute(sb, 1);
  t.is((await alarm(sb, 'web-5xx')).StateValue, 'OK', 'no errors, missing data not breaching: OK at the first evaluation');
  await cw.send(new PutMetricAlarmCommand(classic5xx('web', { Threshold: 50, TreatMissingData: 'missing' })));
  const updated = await alarm(sb, 'web-5xx');
  t.like(updated, { StateValue: 'OK', Threshold: 50, TreatMissingData: 'missing' });
  toNextMinute(sb, 1);
  t.is((await alarm(sb, 'web-5xx')).StateValue, 'INSUFFICIENT_DATA', 'a 5xx count has no datapoint without errors: `missing` says INSUFFICIENT_DATA');
});

test('[CW-3] PutMetricAlarm refuses what AWS refuses, with its error codes', async (t) => {
  const sb = Sandbox.create();
  const cw = sb.clients.cloudWatch!;
  const bad = async (input: Partial<PutMetricAlarmCommandInput>) => (await t.throwsAsync(cw.send(new PutMetricAlarmCommand({ ...classic5xx('web'), ...input } as PutMetricAlarmCommandInput))))!;
  t.true((await bad({ Period: 90 })) instanceof InvalidParameterValueException);
  t.true((await bad({ DatapointsToAlarm: 3 })) instanceof InvalidParameterValueException);
  t.true((await bad({ Period: 3000, EvaluationPeriods: 30 })) instanceof InvalidParameterValueException, '50 min x 30 is more than a day');
  t.true((await bad({ TreatMissingData: 'sometimes' })) instanceof InvalidParameterValueException);
  t.true((await bad({ Statistic: undefined })) instanceof InvalidParameterCombinationException);
  t.true((await bad({ Threshold: undefined })) instanceof MissingRequiredParameterException);
  t.falsy(await alarm(sb, 'web-5xx'), 'nothing was created');
});

test('[CW-4, CW-6] a version that passes its health checks but fails its requests: HTTPCode_Backend_5XX rises and the alarm goes OK → ALARM', async (t) => {
  const sb = Sandbox.create({ seed: 3 });
  sb.setImage('ami-bad', { errorsAfterSeconds: 120, errorRate: 0.5 });
  sb.seedGroup({ name: 'web', capacity: 2, imageId: 'ami-bad', elb: { name: 'web', healthCheck: { interval: 10, healthyThreshold: 2 } } });
  const inst = Object.values(sb.world.state.instances);
  t.true(inst.every((i) => sb.world.isHealthy(i)), 'the health checks pass');
  const errorsAt = Math.max(...inst.map((i) => i.errorsAt!));
  await sb.clients.cloudWatch!.send(new PutMetricAlarmCommand(classic5xx('web')));
  toNextMinute(sb, 1);
  t.is((await alarm(sb, 'web-5xx')).StateValue, 'OK');
  // Two whole minutes of errors: 10 requests/s × 60 s × 0.5 = 300 per minute.
  sb.advance(errorsAt - sb.clock.now());
  toNextMinute(sb, 2 * MINUTE + 1);
  const cw = sb.world.cloudWatch;
  const key = 'AWS/ELB|HTTPCode_Backend_5XX|LoadBalancerName=web';
  const last = Math.floor(sb.clock.now() / MINUTE) * MINUTE;
  t.is(Math.round(cw.datapoint(key, 'Sum', last - MINUTE, last)!), 300);
  t.is(cw.datapoint(key, 'Average', last - MINUTE, last), 1, 'each error is one sample of 1');
  const a = await alarm(sb, 'web-5xx');
  t.is(a.StateValue, 'ALARM');
  t.regex(a.StateReason!, /2 out of the last 2 datapoints were greater than the threshold \(10\)/);
  t.true(a.StateUpdatedTimestamp!.getTime() > errorsAt);
});

test('[CW-4] an ALB target group carries errors in proportion to its weight: none at weight 0, the share of its weight after a shift', async (t) => {
  const sb = Sandbox.create({ seed: 5 });
  const hc = { interval: 10, healthyThreshold: 2 };
  const lb = sb.seedTargetGroups({ name: 'web', targetGroups: [{ name: 'web-a', weight: 100, healthCheck: hc }, { name: 'web-b', weight: 0, healthCheck: hc }] });
  sb.setImage('ami-bad', { errorsAfterSeconds: 0 });
  sb.seedGroup({ name: 'web-a', capacity: 2, targetGroupARNs: [lb.targetGroupArns['web-a']] });
  sb.seedGroup({ name: 'web-b', capacity: 2, imageId: 'ami-bad', targetGroupARNs: [lb.targetGroupArns['web-b']] });
  const lbDim = lb.loadBalancerArn.split(':loadbalancer/')[1];
  await sb.clients.cloudWatch!.send(new PutMetricAlarmCommand({ ...classic5xx('web'), AlarmName: 'web-alb-5xx', Namespace: 'AWS/ApplicationELB', MetricName: 'HTTPCode_Target_5XX_Count', Dimensions: [{ Name: 'LoadBalancer', Value: lbDim }], EvaluationPeriods: 1, DatapointsToAlarm: 1 }));
  toNextMinute(sb, 2 * MINUTE + 1);
  t.is((await alarm(sb, 'web-alb-5xx')).StateValue, 'OK', 'web-b errs but takes no traffic at weight 0');
  await sb.clients.elbv2.send(new ModifyListenerCommand({ ListenerArn: lb.listenerArn, DefaultActions: [{ Type: 'forward', ForwardConfig: { TargetGroups: [{ TargetGroupArn: lb.targetGroupArns['web-a'], Weight: 75 }, { TargetGroupArn: lb.targetGroupArns['web-b'], Weight: 25 }] } }] }));
  toNextMinute(sb, MINUTE + 1);
  const last = Math.floor(sb.clock.now() / MINUTE) * MINUTE;
  const tgDim = lb.targetGroupArns['web-b'].split(':').pop();
  t.is(Math.round(sb.world.cloudWatch.datapoint(`AWS/ApplicationELB|HTTPCode_Target_5XX_Count|LoadBalancer=${lbDim}`, 'Sum', last - MINUTE, last)!), 150, '10/s × 60 s × 25 %');
  t.is(Math.round(sb.world.cloudWatch.datapoint(`AWS/ApplicationELB|HTTPCode_Target_5XX_Count|LoadBalancer=${lbDim}|TargetGroup=${tgDim}`, 'Sum', last - MINUTE, last)!), 150);
  t.is((await alarm(sb, 'web-alb-5xx')).StateValue, 'ALARM');
});

test('[CW-7] the holder can set a metric alarm\'s state (as SetAlarmState): it lasts until the next evaluation', async (t) => {
  const sb = Sandbox.create();
  await sb.clients.cloudWatch!.send(new PutMetricAlarmCommand(classic5xx('web')));
  toNextMinute(sb, 1);
  sb.setAlarm('web-5xx', 'ALARM', 'testing');
  t.is((await alarm(sb, 'web-5xx')).StateValue, 'ALARM');
  toNextMinute(sb, 1);
  t.is((await alarm(sb, 'web-5xx')).StateValue, 'OK');
});
