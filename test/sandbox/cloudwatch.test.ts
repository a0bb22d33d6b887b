/** The sandbox's CloudWatch alarms through the real SDK client (cloudwatch/SPEC.md). */
import test from 'ava';
import { DescribeAlarmsCommand } from '@aws-sdk/client-cloudwatch';
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
