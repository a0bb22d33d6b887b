/**
 * [CW-5] How a metric alarm decides its state: the rows of AWS's own tables (CloudWatch user
 * guide, "How alarm state is evaluated when data is missing": 0 not breaching, X breaching,
 * - missing; oldest first; the evaluation range holds 5 datapoints), and the comparisons.
 */
import test from 'ava';
import { breaches, evaluateAlarm, type AlarmState, type TreatMissingData } from '../../orchestrator/sandbox/cloudwatch/evaluate';

/** '0 - X - X' → [0, undefined, 10, undefined, 10] against "greater than 5". */
function range(text: string): Array<number | undefined> {
  return text.split(' ').map((c) => (c === '-' ? undefined : c === 'X' ? 10 : 0));
}

const KEEP = 'keep';
type Expected = AlarmState | typeof KEEP;

function row(points: string, m: number, n: number, expected: Record<TreatMissingData, Expected>) {
  test(`[CW-5] ${m} out of ${n}, ${points}: ${Object.entries(expected).map(([k, v]) => `${k} ${v}`).join(', ')}`, (t) => {
    for (const [treat, want] of Object.entries(expected) as Array<[TreatMissingData, Expected]>) {
      for (const current of ['OK', 'ALARM'] as AlarmState[]) {
        const got = evaluateAlarm(range(points), { evaluationPeriods: n, datapointsToAlarm: m, threshold: 5, comparisonOperator: 'GreaterThanThreshold', treatMissingData: treat }, current);
        t.is(got.state, want === KEEP ? current : want, `${treat}, from ${current}: ${got.reason}`);
      }
    }
  });
}

// First table: Datapoints to Alarm and Evaluation Periods both 3.
row('0 - X - X', 3, 3, { missing: 'OK', ignore: 'OK', breaching: 'OK', notBreaching: 'OK' });
row('0 - - - -', 3, 3, { missing: 'OK', ignore: 'OK', breaching: 'OK', notBreaching: 'OK' });
row('- - - - -', 3, 3, { missing: 'INSUFFICIENT_DATA', ignore: KEEP, breaching: 'ALARM', notBreaching: 'OK' });
row('0 X X - X', 3, 3, { missing: 'ALARM', ignore: 'ALARM', breaching: 'ALARM', notBreaching: 'ALARM' });
row('- - - - X', 3, 3, { missing: 'INSUFFICIENT_DATA', ignore: KEEP, breaching: 'ALARM', notBreaching: 'OK' });
// Second table: 2 out of 3.
row('0 - X - X', 2, 3, { missing: 'ALARM', ignore: 'ALARM', breaching: 'ALARM', notBreaching: 'ALARM' });
row('0 0 X 0 X', 2, 3, { missing: 'ALARM', ignore: 'ALARM', breaching: 'ALARM', notBreaching: 'ALARM' });
row('0 - X - -', 2, 3, { missing: 'OK', ignore: 'OK', breaching: 'ALARM', notBreaching: 'OK' });
row('- - - - 0', 2, 3, { missing: 'OK', ignore: 'OK', breaching: 'ALARM', notBreaching: 'OK' });
row('- - - - X', 2, 3, { missing: 'INSUFFICIENT_DATA', ignore: KEEP, breaching: 'ALARM', notBreaching: 'OK' });

test('[CW-5] enough real datapoints: the N most recent decide, whatever the missing-data setting (an old breach drops out)', (t) => {
  const rule = { evaluationPeriods: 2, datapointsToAlarm: 2, threshold: 5, comparisonOperator: 'GreaterThanOrEqualToThreshold' as const, treatMissingData: 'breaching' as const };
  t.is(evaluateAlarm([10, 10, 0, undefined], rule, 'ALARM').state, 'OK');
  t.is(evaluateAlarm([0, undefined, 10, 10], rule, 'OK').state, 'ALARM');
  t.regex(evaluateAlarm([0, undefined, 10, 10], rule, 'OK').reason, /2 out of the last 2 datapoints were greater than or equal to the threshold \(5\)/);
});

test('[CW-5] DatapointsToAlarm defaults to EvaluationPeriods', (t) => {
  t.is(evaluateAlarm([10, 10, 0], { evaluationPeriods: 3, threshold: 5, comparisonOperator: 'GreaterThanThreshold' }, 'OK').state, 'OK');
  t.is(evaluateAlarm([10, 10, 10], { evaluationPeriods: 3, threshold: 5, comparisonOperator: 'GreaterThanThreshold' }, 'OK').state, 'ALARM');
});

test('[CW-5] the comparison operators take the statistic as the first operand', (t) => {
  t.true(breaches(5, 'GreaterThanOrEqualToThreshold', 5));
  t.false(breaches(5, 'GreaterThanThreshold', 5));
  t.true(breaches(4, 'LessThanThreshold', 5));
  t.false(breaches(5, 'LessThanThreshold', 5));
  t.true(breaches(5, 'LessThanOrEqualToThreshold', 5));
});
