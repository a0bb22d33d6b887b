/**
 * Simulated Amazon CloudWatch: alarms, enough for `--alarm` (rollout/alarms.ts). Rules: SPEC.md
 * beside this file. An alarm's state is set by the sandbox's holder (`Sandbox.setAlarm`, standing
 * in for the metric that drives it); DescribeAlarms reads it as CloudWatch answers it.
 */
import type { Handler } from '../ops-common';
import { date, page, validation } from '../ops-common';
import type { World } from '../world';

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** One alarm in the sandbox's state (JSON). */
export interface AlarmRec {
  name: string;
  type: 'MetricAlarm' | 'CompositeAlarm';
  state: AlarmStateValue;
  reason: string;
  /** StateUpdatedTimestamp: the last change of state (epoch ms). */
  updatedAt: number;
}

export function alarms(w: World): Record<string, AlarmRec> {
  return (w.state.alarms ??= {});
}

/**
 * [CW-2] Sets an alarm's state (creating the alarm, a metric alarm unless told, when new). A new
 * alarm starts in INSUFFICIENT_DATA unless a state is given; StateUpdatedTimestamp moves only
 * when the state changes.
 */
export function setAlarm(w: World, name: string, state: AlarmStateValue, reason: string, type: AlarmRec['type'] = 'MetricAlarm'): void {
  const all = alarms(w);
  const a = all[name];
  if (!a) {
    all[name] = { name, type, state, reason, updatedAt: w.now };
    return;
  }
  if (a.state !== state) a.updatedAt = w.now;
  a.state = state;
  a.reason = reason;
}

const STATES = new Set(['OK', 'ALARM', 'INSUFFICIENT_DATA']);

const describeAlarms: Handler = (w, input, ctx) => {
  const names: string[] | undefined = input.AlarmNames;
  if (names && input.AlarmNamePrefix) throw validation('AlarmNamePrefix and AlarmNames cannot be used together.');
  if (names && names.length > 100) throw validation(`1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have length less than or equal to 100`);
  if (input.StateValue !== undefined && !STATES.has(input.StateValue)) throw validation(`1 validation error detected: Value '${input.StateValue}' at 'stateValue' failed to satisfy constraint: Member must satisfy enum value set: [INSUFFICIENT_DATA, ALARM, OK]`);
  // [CW-1] Without AlarmTypes only metric alarms are returned.
  const types: string[] = input.AlarmTypes?.length ? input.AlarmTypes : ['MetricAlarm'];
  const wanted = names ? new Set(names) : undefined;
  const list = Object.values(alarms(w))
    .filter((a) => (wanted ? wanted.has(a.name) : input.AlarmNamePrefix ? a.name.startsWith(input.AlarmNamePrefix) : true))
    .filter((a) => types.includes(a.type))
    .filter((a) => input.StateValue === undefined || a.state === input.StateValue)
    .sort((x, y) => (x.name < y.name ? -1 : x.name > y.name ? 1 : 0));
  const p = page(list, input.NextToken, input.MaxRecords, ctx, 50);
  const view = (a: AlarmRec) => ({ AlarmName: a.name, AlarmArn: `arn:aws:cloudwatch:${w.state.region}:123456789012:alarm:${a.name}`, StateValue: a.state, StateReason: a.reason, StateUpdatedTimestamp: date(a.updatedAt) });
  return {
    MetricAlarms: p.items.filter((a) => a.type === 'MetricAlarm').map(view),
    CompositeAlarms: p.items.filter((a) => a.type === 'CompositeAlarm').map(view),
    ...(p.next ? { NextToken: p.next } : {}),
  };
};

export const cloudWatchOps: Record<string, Handler> = { DescribeAlarms: describeAlarms };

export function cloudWatchReadOnly(operation: string): boolean {
  return operation.startsWith('Describe') || operation.startsWith('Get') || operation.startsWith('List');
}
