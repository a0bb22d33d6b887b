/** The --keep-old window's pure decision (rollout/ab/keep-old.ts) as a table. */
import test from 'ava';
import type { GroupSnapshot, InstanceView, TrafficForward } from '../../orchestrator/aws/port';
import type { Action } from '../../orchestrator/rollout/action';
import { decideKeepOld, keepOldOpens, KEEP_OLD_POLL_MS } from '../../orchestrator/rollout/ab/keep-old';
import { decideSwap } from '../../orchestrator/rollout/ab/strategy';
import { group, inst, many } from './fixtures';

const MIN = 60_000;
const plan = { count: 4, step: 4, elbNames: ['qa-b'], targetMin: 4 };
const oldA = (o: Partial<Parameters<typeof group>[1]> = {}) => group('qa-a', { desired: 4, min: 4, instances: many('a', 4, 'serving', 1, 'qa-a'), ...o });
const servingB = () => group('qa-b', { desired: 4, min: 4, instances: many('b', 4) });

function shape(a: Action | undefined): string {
  if (!a) return 'none (the swap decides)';
  if (a.kind === 'abort') return `abort ${a.code}`;
  if (a.kind === 'wait') return `wait ${Math.round((a.waitMs ?? 0) / 1000)}s`;
  return a.kind;
}

test('decideKeepOld: one row per situation of the window (keep-old 10 min)', (t) => {
  const rows: Array<[string, Parameters<typeof decideKeepOld>[0], number | undefined, number, string]> = [
    ['b still growing (the window not open): the swap decides', { from: oldA(), to: group('qa-b', { desired: 4, instances: many('b', 2) }) }, undefined, 0, 'none (the swap decides)'],
    ['b serves, window open 4 min: keep a, look again within 10 s', { from: oldA(), to: servingB() }, 0, 4 * MIN, `wait ${KEEP_OLD_POLL_MS / 1000}s`],
    ['b serves, 3 s left: look again in 3 s', { from: oldA(), to: servingB() }, 0, 10 * MIN - 3000, 'wait 3s'],
    ['window over: the swap drains a', { from: oldA(), to: servingB() }, 0, 10 * MIN, 'none (the swap decides)'],
    ['b lost one in the window (the new version dies): switch back', { from: oldA(), to: group('qa-b', { desired: 4, min: 4, instances: [...many('b', 3), inst('b4', 'outOfElb')] }) }, 0, 4 * MIN, 'abort ab.keep-old-failed'],
    ['a already draining (committed): nothing to keep', { from: oldA({ desired: 0, min: 0, instances: many('a', 2, 'terminating', 1, 'qa-a') }), to: servingB() }, 0, 4 * MIN, 'none (the swap decides)'],
    ['first deploy (no old color): nothing to keep', { to: servingB() }, 0, 4 * MIN, 'none (the swap decides)'],
  ];
  for (const [name, groups, servedSince, now, want] of rows) {
    const next = decideSwap(groups, plan, { stepStartedAt: 0, healthCheckTimeoutMs: 600_000 }, now);
    t.is(shape(decideKeepOld(groups, plan, { keepOldMs: 10 * MIN, servedSince }, next, now)), want, name);
  }
});

test('decideKeepOld holds only the drain: moving the floor to b happens in the window', (t) => {
  const groups = { from: oldA(), to: group('qa-b', { desired: 4, min: 0, instances: many('b', 4) }) };
  const next = decideSwap(groups, plan, { stepStartedAt: 0, healthCheckTimeoutMs: 600_000 }, MIN);
  t.is(next.kind, 'updateSizes');
  t.is(decideKeepOld(groups, plan, { keepOldMs: 10 * MIN, servedSince: 0 }, next, MIN), undefined);
});

// ---------------------------------------------------------------- on target groups (issue 16.3)

const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/qa-a/aaaaaaaaaaaaaaaa';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/qa-b/bbbbbbbbbbbbbbbb';
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/qa/0123456789abcdef/fedcba9876543210';
const fwd = (a: number, b: number): TrafficForward => ({ kind: 'listener', arn: LISTENER, lbType: 'application', weights: { [TG_A]: a, [TG_B]: b } });
function tgInst(id: string, tg: string, state: 'healthy' | 'unhealthy' = 'healthy'): InstanceView {
  return { ...inst(id, 'serving'), elb: {}, targetHealth: { [tg]: state === 'healthy' ? { state } : { state, reason: 'Target.FailedHealthChecks' } } };
}
function tgGroup(name: string, tg: string, n: number, o: Partial<GroupSnapshot> = {}): GroupSnapshot {
  return { ...group(name, { desired: n, min: n, instances: Array.from({ length: n }, (_, k) => tgInst(`${name}-${k + 1}`, tg)), elbs: [] }), targetGroupARNs: [tg], ...o };
}
const traffic = { kind: 'traffic' as const, forwards: [{ kind: 'listener' as const, arn: LISTENER }], toTg: TG_B, fromTg: TG_A, steps: [50, 100], stepWaitMs: 60_000 };
const tgPlan = { count: 3, step: 3, elbNames: [] as string[], targetGroupArns: [TG_B], traffic, targetMin: 3 };

test('keepOldOpens: classic ELBs once the new color serves its count; target groups only once it also carries all of the traffic', (t) => {
  const a = tgGroup('qa-a', TG_A, 3);
  const rows: Array<[string, GroupSnapshot, Parameters<typeof keepOldOpens>[1], TrafficForward[] | undefined, boolean]> = [
    ['classic: b serves 4 of 4', servingB(), plan, undefined, true],
    ['classic: b serves 2 of 4', group('qa-b', { desired: 4, instances: many('b', 2) }), plan, undefined, false],
    ['target groups: b healthy, weights still 100 / 0 (no traffic yet)', tgGroup('qa-b', TG_B, 3), tgPlan, [fwd(100, 0)], false],
    ['target groups: b healthy at the 50 % step', tgGroup('qa-b', TG_B, 3), tgPlan, [fwd(50, 50)], false],
    ['target groups: b healthy, all of the traffic (0 / 100)', tgGroup('qa-b', TG_B, 3), tgPlan, [fwd(0, 100)], true],
    ['target groups: two forwards, one still at 50 %', tgGroup('qa-b', TG_B, 3), tgPlan, [fwd(0, 100), { ...fwd(50, 50), arn: `${LISTENER}-2` }], false],
    ['target groups: weights not read', tgGroup('qa-b', TG_B, 3), tgPlan, undefined, false],
    ['target groups: all traffic but b short of its count', { ...tgGroup('qa-b', TG_B, 3), instances: [tgInst('b1', TG_B), tgInst('b2', TG_B), tgInst('b3', TG_B, 'unhealthy')] }, tgPlan, [fwd(0, 100)], false],
  ];
  for (const [name, to, p, forwards, want] of rows) t.is(keepOldOpens(to, p, forwards), want, name);
  t.false(keepOldOpens(a, tgPlan, [fwd(0, 100)]), 'a is healthy in qa-a, not in qa-b: b does not serve');
});

test('decideKeepOld on target groups: holds the drain while b carries everything; b short in the window → switch back by weights first', (t) => {
  const a = tgGroup('qa-a', TG_A, 3);
  const rows: Array<[string, Parameters<typeof decideSwap>[0], number, string, RegExp?]> = [
    ['at 100 %, b with its floor, window open 2 min: keep a (weight 0)', { from: a, to: tgGroup('qa-b', TG_B, 3), forwards: [fwd(0, 100)] }, 2 * MIN, `wait ${KEEP_OLD_POLL_MS / 1000}s`, /qa-b serves 3 and carries all of the traffic; keeping qa-a at full size \(registered at weight 0\)/],
    ['at 100 %, b lost one target in the window: switch back', { from: a, to: { ...tgGroup('qa-b', TG_B, 3), instances: [tgInst('b1', TG_B), tgInst('b2', TG_B), tgInst('b3', TG_B, 'unhealthy')] }, forwards: [fwd(0, 100)] }, 2 * MIN, 'abort ab.keep-old-failed', /the weights go back to qa-a at once .*then qa-b is scaled back/],
    ['window over: the swap drains a', { from: a, to: tgGroup('qa-b', TG_B, 3), forwards: [fwd(0, 100)] }, 10 * MIN, 'updateSizes'],
  ];
  for (const [name, groups, now, want, text] of rows) {
    const next = decideSwap(groups, tgPlan, { stepStartedAt: 0, healthCheckTimeoutMs: 600_000, heldSince: 0 }, now);
    const got = decideKeepOld(groups, tgPlan, { keepOldMs: 10 * MIN, servedSince: 0 }, next, now);
    t.is(got ? shape(got) : next.kind, want, name);
    if (text) t.regex((got as { reason: string }).reason, text, name);
  }
});
