/**
 * How a CloudWatch metric alarm decides its state from its datapoints [CW-5, CW-6] — pure, no
 * world: the sandbox's evaluation (./metrics.ts) and the table test (test/sandbox/cloudwatch-
 * evaluate.test.ts, the rows of AWS's own tables) call it.
 *
 * AWS (CloudWatch user guide, "Evaluating an alarm" and "How alarm state is evaluated when data is
 * missing"): the alarm retrieves more datapoints than EvaluationPeriods (the evaluation range);
 *  - with at least EvaluationPeriods (N) real datapoints in the range, the N most recent real ones
 *    are evaluated and the missing-data setting is not used;
 *  - with fewer, the missing ones are filled with the TreatMissingData setting, as few times as
 *    possible, every real datapoint in the range included;
 *  - DatapointsToAlarm (M) or more breaching of the N evaluated → ALARM, else OK;
 *  - `missing` with no datapoint at all → INSUFFICIENT_DATA; `ignore` keeps the current state
 *    where `missing` would say INSUFFICIENT_DATA.
 * Example, M = N = 3, range of 5 (oldest first, X breaching, 0 not, - missing):
 *   0 - - - -  → OK under every setting (the one real point is not breaching);
 *   - - - - X  → missing: INSUFFICIENT_DATA, ignore: kept, breaching: ALARM, notBreaching: OK.
 */

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
export type TreatMissingData = 'missing' | 'ignore' | 'breaching' | 'notBreaching';
/** The static-threshold comparisons (the anomaly-detection ones are not modelled). */
export type ComparisonOperator = 'GreaterThanOrEqualToThreshold' | 'GreaterThanThreshold' | 'LessThanThreshold' | 'LessThanOrEqualToThreshold';

export const COMPARISONS: readonly ComparisonOperator[] = ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold'];
export const TREATMENTS: readonly TreatMissingData[] = ['missing', 'ignore', 'breaching', 'notBreaching'];

export interface EvaluationRule {
  evaluationPeriods: number;
  /** M of an "M out of N" alarm; default N. */
  datapointsToAlarm?: number;
  threshold: number;
  comparisonOperator: ComparisonOperator;
  /** Default `missing` (AWS's default). */
  treatMissingData?: TreatMissingData;
}

/** "The specified statistic value is used as the first operand" (PutMetricAlarm, ComparisonOperator). */
export function breaches(value: number, op: ComparisonOperator, threshold: number): boolean {
  switch (op) {
    case 'GreaterThanOrEqualToThreshold':
      return value >= threshold;
    case 'GreaterThanThreshold':
      return value > threshold;
    case 'LessThanThreshold':
      return value < threshold;
    case 'LessThanOrEqualToThreshold':
      return value <= threshold;
  }
}

const WORDS: Record<ComparisonOperator, string> = {
  GreaterThanOrEqualToThreshold: 'greater than or equal to',
  GreaterThanThreshold: 'greater than',
  LessThanThreshold: 'less than',
  LessThanOrEqualToThreshold: 'less than or equal to',
};

export interface Evaluation {
  state: AlarmState;
  /** Why, in the manner of CloudWatch's StateReason. */
  reason: string;
}

/**
 * The state after one evaluation. `range`: the evaluation range's datapoints, oldest first
 * (undefined = missing). `current`: the state now (what `ignore` keeps).
 * Example: range [undefined, 12, 3], N 2, M 1, > 10, notBreaching → ALARM ("1 out of the last 2
 * datapoints were greater than the threshold (10)").
 */
export function evaluateAlarm(range: ReadonlyArray<number | undefined>, rule: EvaluationRule, current: AlarmState): Evaluation {
  const n = rule.evaluationPeriods;
  const m = rule.datapointsToAlarm ?? n;
  const treat = rule.treatMissingData ?? 'missing';
  const real = range.filter((x): x is number => x !== undefined);
  const breach = (x: number) => breaches(x, rule.comparisonOperator, rule.threshold);
  const words = `${WORDS[rule.comparisonOperator]} the threshold (${rule.threshold})`;
  const verdict = (breaching: number, evaluated: number, filled: number): Evaluation => {
    const fill = filled > 0 ? ` (${filled} missing datapoint(s) treated as ${treat})` : '';
    return breaching >= m
      ? { state: 'ALARM', reason: `Threshold Crossed: ${breaching} out of the last ${evaluated} datapoints were ${words}${fill} (minimum ${m} datapoint(s) for ALARM)` }
      : { state: 'OK', reason: `Threshold Crossed: ${breaching} out of the last ${evaluated} datapoints were ${words}${fill}; fewer than ${m} (no ALARM)` };
  };
  // Enough real datapoints: the N most recent are evaluated, the missing-data setting is not used.
  if (real.length >= n) return verdict(real.slice(-n).filter(breach).length, n, 0);
  const breaching = real.filter(breach).length;
  if (treat === 'breaching') return verdict(breaching + (n - real.length), n, n - real.length);
  if (treat === 'notBreaching') return verdict(breaching, n, n - real.length);
  // missing / ignore: missing datapoints are not considered. M breaching among the real ones →
  // ALARM; a real non-breaching one (so fewer than M can breach) → OK; otherwise nothing decides.
  if (breaching >= m) return verdict(breaching, real.length, 0);
  if (real.length > breaching) return verdict(breaching, real.length, 0);
  if (treat === 'ignore') return { state: current, reason: `${real.length} datapoint(s) in the evaluation range, ${range.length - real.length} missing: missing data ignored, the state is kept` };
  return { state: 'INSUFFICIENT_DATA', reason: `Insufficient Data: ${range.length - real.length} of the ${range.length} datapoints of the evaluation range were missing` };
}
