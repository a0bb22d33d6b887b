/**
 * Simulated Amazon CloudWatch: alarms, enough for `--alarm` (rollout/alarms.ts). Rules: SPEC.md
 * beside this file. A metric alarm (PutMetricAlarm) is evaluated once a minute against the metrics
 * the sandbox derives from the fleet (./metrics.ts, ./evaluate.ts); an alarm without a metric has
 * the state the sandbox's holder sets (`Sandbox.setAlarm`). DescribeAlarms reads them as
 * CloudWatch answers them.
 */
import { SimFault } from '../faults';
import type { Handler } from '../ops-common';
import { date, page, validation } from '../ops-common';
import type { World } from '../world';
import { COMPARISONS, TREATMENTS, type ComparisonOperator, type TreatMissingData } from './evaluate';
import { metricKey } from './metrics';

/** A metric alarm's definition (PutMetricAlarm) [CW-3]. */
export interface MetricAlarmConfig {
  namespace: string;
  metricName: string;
  dimensions: Array<{ Name: string; Value: string }>;
  /** metricKey(namespace, metricName, dimensions). */
  key: string;
  statistic: string;
  /** Seconds. */
  period: number;
  evaluationPeriods: number;
  datapointsToAlarm?: number;
  threshold: number;
  comparisonOperator: ComparisonOperator;
  treatMissingData: TreatMissingData;
  description?: string;
  updatedAt: number;
}

export type AlarmStateValue = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

/** One alarm in the sandbox's state (JSON). */
export interface AlarmRec {
  name: string;
  type: 'MetricAlarm' | 'CompositeAlarm';
  state: AlarmStateValue;
  reason: string;
  /** StateUpdatedTimestamp: the last change of state (epoch ms). */
  updatedAt: number;
  /** A metric alarm's definition (PutMetricAlarm); absent: the holder sets the state [CW-2]. */
  metric?: MetricAlarmConfig;
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
const STATISTICS = new Set(['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']);

function invalid(message: string): SimFault {
  return new SimFault('InvalidParameterValue', message, 400);
}
function missing(name: string): SimFault {
  return new SimFault('MissingParameter', `The parameter ${name} is required.`, 400);
}
function combination(message: string): SimFault {
  return new SimFault('InvalidParameterCombination', message, 400);
}

/**
 * [CW-3] PutMetricAlarm: a static-threshold alarm on one metric (MetricName, Namespace,
 * Dimensions, Statistic, Period, EvaluationPeriods, DatapointsToAlarm, Threshold,
 * ComparisonOperator, TreatMissingData). A new alarm starts in INSUFFICIENT_DATA and is evaluated
 * at the next minute; an update keeps the state and overwrites the whole definition.
 */
const putMetricAlarm: Handler = (w, input) => {
  const name: unknown = input.AlarmName;
  if (typeof name !== 'string' || name.length === 0) throw missing('AlarmName');
  if (name.length > 255) throw validation(`1 validation error detected: Value '${name}' at 'alarmName' failed to satisfy constraint: Member must have length less than or equal to 255`);
  if (input.Metrics !== undefined || input.EvaluationCriteria !== undefined || input.ThresholdMetricId !== undefined) {
    throw new SimFault('SandboxUnsupportedOperation', 'sandbox: PutMetricAlarm with Metrics (metric math), EvaluationCriteria or ThresholdMetricId is not modelled; give MetricName, Namespace and a static Threshold', 400);
  }
  if (typeof input.MetricName !== 'string' || !input.MetricName) throw missing('MetricName');
  if (typeof input.Namespace !== 'string' || !input.Namespace) throw missing('Namespace');
  if (input.ExtendedStatistic !== undefined) {
    if (input.Statistic !== undefined) throw combination('Exactly one of Statistic or ExtendedStatistic must be specified.');
    throw new SimFault('SandboxUnsupportedOperation', 'sandbox: ExtendedStatistic (percentiles) is not modelled; use Statistic', 400);
  }
  if (input.Statistic === undefined) throw combination('Exactly one of Statistic or ExtendedStatistic must be specified.');
  if (!STATISTICS.has(input.Statistic)) throw validation(`1 validation error detected: Value '${input.Statistic}' at 'statistic' failed to satisfy constraint: Member must satisfy enum value set: [SampleCount, Average, Sum, Minimum, Maximum]`);
  if (input.Period === undefined) throw missing('Period');
  const period = Number(input.Period);
  if (!Number.isInteger(period) || !(period === 10 || period === 20 || period === 30 || (period >= 60 && period % 60 === 0))) {
    throw invalid(`The parameter Period must be 10, 20, 30, or a multiple of 60 (got ${input.Period}).`);
  }
  if (input.EvaluationPeriods === undefined) throw missing('EvaluationPeriods');
  const n = Number(input.EvaluationPeriods);
  if (!Number.isInteger(n) || n < 1) throw validation(`1 validation error detected: Value '${input.EvaluationPeriods}' at 'evaluationPeriods' failed to satisfy constraint: Member must have value greater than or equal to 1`);
  if (period * n > (period < 3600 ? 86_400 : 604_800)) {
    throw invalid(`The evaluation period (Period ${period} x EvaluationPeriods ${n}) can't be longer than ${period < 3600 ? 'one day (86,400 seconds) for a period under one hour' : 'seven days (604,800 seconds)'}.`);
  }
  const m = input.DatapointsToAlarm === undefined ? undefined : Number(input.DatapointsToAlarm);
  if (m !== undefined && (!Number.isInteger(m) || m < 1 || m > n)) throw invalid(`DatapointsToAlarm (${input.DatapointsToAlarm}) must be between 1 and EvaluationPeriods (${n}).`);
  if (input.Threshold === undefined || !Number.isFinite(Number(input.Threshold))) throw missing('Threshold');
  if (input.ComparisonOperator === undefined) throw missing('ComparisonOperator');
  if (!COMPARISONS.includes(input.ComparisonOperator)) {
    throw invalid(`ComparisonOperator ${input.ComparisonOperator}: the sandbox models the static thresholds ${COMPARISONS.join(', ')} (the anomaly-detection operators are not modelled).`);
  }
  const treat = input.TreatMissingData ?? 'missing';
  if (!TREATMENTS.includes(treat)) throw invalid(`The value ${treat} for parameter TreatMissingData is invalid: breaching | notBreaching | ignore | missing.`);
  const dimensions: Array<{ Name: string; Value: string }> = (input.Dimensions ?? []).map((d: { Name?: string; Value?: string }) => ({ Name: String(d.Name), Value: String(d.Value) }));
  if (dimensions.length > 30) throw validation(`1 validation error detected: Value at 'dimensions' failed to satisfy constraint: Member must have length less than or equal to 30`);
  const metric: MetricAlarmConfig = {
    namespace: input.Namespace,
    metricName: input.MetricName,
    dimensions,
    key: metricKey(input.Namespace, input.MetricName, dimensions),
    statistic: input.Statistic,
    period,
    evaluationPeriods: n,
    ...(m !== undefined ? { datapointsToAlarm: m } : {}),
    threshold: Number(input.Threshold),
    comparisonOperator: input.ComparisonOperator,
    treatMissingData: treat,
    ...(input.AlarmDescription !== undefined ? { description: String(input.AlarmDescription) } : {}),
    updatedAt: w.now,
  };
  const all = alarms(w);
  const existing = all[name];
  if (existing) {
    existing.metric = metric;
    existing.type = 'MetricAlarm';
  } else {
    all[name] = { name, type: 'MetricAlarm', state: 'INSUFFICIENT_DATA', reason: 'Unchecked: Initial alarm creation', updatedAt: w.now, metric };
  }
  return {};
};

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
  const view = (a: AlarmRec) => ({
    AlarmName: a.name,
    AlarmArn: `arn:aws:cloudwatch:${w.state.region}:123456789012:alarm:${a.name}`,
    StateValue: a.state,
    StateReason: a.reason,
    StateUpdatedTimestamp: date(a.updatedAt),
    ...(a.metric ? metricView(a.metric) : {}),
  });
  return {
    MetricAlarms: p.items.filter((a) => a.type === 'MetricAlarm').map(view),
    CompositeAlarms: p.items.filter((a) => a.type === 'CompositeAlarm').map(view),
    ...(p.next ? { NextToken: p.next } : {}),
  };
};

function metricView(m: MetricAlarmConfig) {
  return {
    ...(m.description !== undefined ? { AlarmDescription: m.description } : {}),
    AlarmConfigurationUpdatedTimestamp: date(m.updatedAt),
    MetricName: m.metricName,
    Namespace: m.namespace,
    Statistic: m.statistic,
    Dimensions: m.dimensions.map((d) => ({ ...d })),
    Period: m.period,
    EvaluationPeriods: m.evaluationPeriods,
    ...(m.datapointsToAlarm !== undefined ? { DatapointsToAlarm: m.datapointsToAlarm } : {}),
    Threshold: m.threshold,
    ComparisonOperator: m.comparisonOperator,
    TreatMissingData: m.treatMissingData,
  };
}

export const cloudWatchOps: Record<string, Handler> = { DescribeAlarms: describeAlarms, PutMetricAlarm: putMetricAlarm };

export function cloudWatchReadOnly(operation: string): boolean {
  return operation.startsWith('Describe') || operation.startsWith('Get') || operation.startsWith('List');
}
