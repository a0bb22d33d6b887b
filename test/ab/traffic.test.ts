/** The A/B traffic phase on ALB/NLB target groups (rollout/ab/traffic.ts), as tables. */
import test from 'ava';
import type { GroupSnapshot, InstanceView, TrafficForward } from '../../orchestrator/aws/port';
import type { Action } from '../../orchestrator/rollout/action';
import { decideSwap, planAb } from '../../orchestrator/rollout/ab/strategy';
import { currentShare, decideTraffic, parseTrafficSteps, planTraffic } from '../../orchestrator/rollout/ab/traffic';
import { group, inst } from './fixtures';

const TG_A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/qa-a/aaaaaaaaaaaaaaaa';
const TG_B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/qa-b/bbbbbbbbbbbbbbbb';
const TG_X = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/other/cccccccccccccccc';
const LISTENER = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/qa/0123456789abcdef/fedcba9876543210';

const fwd = (a: number, b: number, extra: Record<string, number> = {}): TrafficForward => ({ kind: 'listener', arn: LISTENER, lbType: 'application', weights: { [TG_A]: a, [TG_B]: b, ...extra } });

/** An instance healthy in the ASG and (or not) in target group `tg`. */
function tgInst(id: string, tg: string, state: 'healthy' | 'initial' | 'unhealthy' = 'healthy'): InstanceView {
  return { ...inst(id, 'serving'), elb: {}, targetHealth: { [tg]: state === 'healthy' ? { state } : { state, reason: state === 'initial' ? 'Elb.InitialHealthChecking' : 'Target.FailedHealthChecks' } } };
}
function tgGroup(name: string, tg: string, n: number, o: Partial<GroupSnapshot> = {}, state: 'healthy' | 'initial' | 'unhealthy' = 'healthy'): GroupSnapshot {
  const instances = Array.from({ length: n }, (_, k) => tgInst(`${name}-${k + 1}`, tg, state));
  return { ...group(name, { desired: n, min: n, instances, elbs: [] }), targetGroupARNs: [tg], ...o };
}

function shape(a: Action): Record<string, unknown> {
  if (a.kind === 'abort') return { kind: a.kind, code: a.code };
  if (a.kind === 'wait') return { kind: 'wait' };
  if (a.kind === 'setWeights') return { kind: a.kind, share: a.share, weights: a.weights };
  return { kind: a.kind };
}

test('parseTrafficSteps: ascending whole percentages ending at 100, else exit 2 naming the problem', (t) => {
  const rows: Array<[unknown, number[] | RegExp]> = [
    ['10,50,100', [10, 50, 100]],
    ['100', [100]],
    [' 1, 100 ', [1, 100]],
    [['10', '100'], [10, 100]],
    ['50,10,100', /10 does not come after 50/],
    ['10,10,100', /10 does not come after 10/],
    ['10,50', /the last step is 50, not 100/],
    ['0,100', /0 is outside 1-100/],
    ['10,150', /150 is outside 1-100/],
    ['10,,100', /an empty step/],
    ['ten,100', /'ten' is not a whole number/],
    ['12.5,100', /'12.5' is not a whole number/],
  ];
  for (const [text, want] of rows) {
    const got = parseTrafficSteps(text);
    if (Array.isArray(want)) t.deepEqual(got, want, String(text));
    else if (Array.isArray(got)) t.fail(`${String(text)} accepted`);
    else {
      t.is(got.exit, 2, String(text));
      t.regex(got.message, want, String(text));
    }
  }
});

test('decideTraffic: one row per situation of the traffic phase (steps 10, 50, 100; hold 120 s)', (t) => {
  const plan = { forwards: [{ kind: 'listener' as const, arn: LISTENER }], toTg: TG_B, fromTg: TG_A, steps: [10, 50, 100], stepWaitMs: 120_000, count: 3, to: 'qa-b' };
  const rows: Array<[string, TrafficForward[], number, number | undefined, number, Record<string, unknown>]> = [
    ['b serves, no traffic yet: first step 10 %', [fwd(100, 0)], 3, undefined, 0, { kind: 'setWeights', share: 10, weights: { [TG_B]: 10, [TG_A]: 90 } }],
    ['held 60 s of 120: wait', [fwd(90, 10)], 3, 0, 60_000, { kind: 'wait' }],
    ['held 120 s: next step 50 %', [fwd(90, 10)], 3, 0, 120_000, { kind: 'setWeights', share: 50, weights: { [TG_B]: 50, [TG_A]: 50 } }],
    ['at 50 %, held: last step 100 %', [fwd(50, 50)], 3, 0, 200_000, { kind: 'setWeights', share: 100, weights: { [TG_B]: 100, [TG_A]: 0 } }],
    ['all traffic on b: done (drain a next)', [fwd(0, 100)], 3, 0, 0, { kind: 'done' }],
    ['b short of its count while carrying 10 %: abort (the cleanup switches back)', [fwd(90, 10)], 2, 0, 10_000, { kind: 'abort', code: 'ab.unhealthy' }],
    ['b short while carrying all: abort (a still registered: switch back)', [fwd(0, 100)], 2, 0, 10_000, { kind: 'abort', code: 'ab.unhealthy' }],
    ['a resumed run finds 30 % (not a step): the next step above it', [fwd(70, 30)], 3, 0, 500_000, { kind: 'setWeights', share: 50, weights: { [TG_B]: 50, [TG_A]: 50 } }],
    ['weights other than 100-based (a 3, b 1 = 25 %): the next step above', [fwd(3, 1)], 3, 0, 500_000, { kind: 'setWeights', share: 50, weights: { [TG_B]: 50, [TG_A]: 50 } }],
    ['two forwards at different steps: the lower one decides', [fwd(50, 50), { ...fwd(90, 10), arn: `${LISTENER}-2` }], 3, 0, 500_000, { kind: 'setWeights', share: 50, weights: { [TG_B]: 50, [TG_A]: 50 } }],
  ];
  for (const [name, forwards, serving, held, now, want] of rows) t.deepEqual(shape(decideTraffic(forwards, plan, serving, held, now)), want, name);
});

test('currentShare: the least share of the new color over the forwards', (t) => {
  t.is(currentShare([fwd(100, 0)], TG_B, TG_A), 0);
  t.is(currentShare([fwd(1, 1)], TG_B, TG_A), 50);
  t.is(currentShare([fwd(0, 0)], TG_B, TG_A), 0);
  t.is(currentShare([fwd(0, 100), fwd(90, 10)], TG_B, TG_A), 10);
});

test('decideSwap on target groups: grow, then the traffic steps, and only then drain the old color', (t) => {
  const traffic = { kind: 'traffic' as const, forwards: [{ kind: 'listener' as const, arn: LISTENER }], toTg: TG_B, fromTg: TG_A, steps: [50, 100], stepWaitMs: 60_000 };
  const plan = { count: 3, step: 3, elbNames: [], targetGroupArns: [TG_B], traffic, targetMin: 3 };
  const progress = { stepStartedAt: 0, healthCheckTimeoutMs: 600_000 };
  const a = tgGroup('qa-a', TG_A, 3);
  const rows: Array<[string, Parameters<typeof decideSwap>[0], number | undefined, Record<string, unknown>]> = [
    ['b empty: grow (no weight given)', { from: a, to: tgGroup('qa-b', TG_B, 0, { desired: 0, min: 0 }), forwards: [fwd(100, 0)] }, undefined, { kind: 'setDesired' }],
    ['b registered, initial in its target group: wait, no weight', { from: a, to: tgGroup('qa-b', TG_B, 3, { min: 0 }, 'initial'), forwards: [fwd(100, 0)] }, undefined, { kind: 'wait' }],
    ['b healthy in its target group: shift 50 %', { from: a, to: tgGroup('qa-b', TG_B, 3, { min: 0 }), forwards: [fwd(100, 0)] }, undefined, { kind: 'setWeights', share: 50, weights: { [TG_B]: 50, [TG_A]: 50 } }],
    ['at 50 %, a b target turns unhealthy: abort at once (no wait for the health-check timeout)', { from: a, to: { ...tgGroup('qa-b', TG_B, 3, { min: 0 }), instances: [tgInst('b1', TG_B), tgInst('b2', TG_B), tgInst('b3', TG_B, 'unhealthy')] }, forwards: [fwd(50, 50)] }, 0, { kind: 'abort', code: 'ab.unhealthy' }],
    ['at 100 %: hand over the floor', { from: a, to: tgGroup('qa-b', TG_B, 3, { min: 0 }), forwards: [fwd(0, 100)] }, 0, { kind: 'updateSizes' }],
    ['at 100 % with its floor: drain a', { from: a, to: tgGroup('qa-b', TG_B, 3), forwards: [fwd(0, 100)] }, 0, { kind: 'updateSizes' }],
    ['weights not read yet: wait (never drain blind)', { from: a, to: tgGroup('qa-b', TG_B, 3) }, 0, { kind: 'wait' }],
    ['first deploy into a that holds the program\'s initial weight: grow first', { to: tgGroup('qa-a', TG_A, 0, { desired: 0, min: 0 }), forwards: [fwd(100, 0)] }, undefined, { kind: 'setDesired' }],
    ['first deploy, a launched and booting while it holds the initial weight: wait (no old color to switch back to)', { to: tgGroup('qa-a', TG_A, 3, { min: 0 }, 'initial'), forwards: [fwd(100, 0)] }, undefined, { kind: 'wait' }],
  ];
  for (const [name, groups, held, want] of rows) t.deepEqual(shape(decideSwap(groups, plan, { ...progress, heldSince: held }, 100_000)), want, name);
  const drain = decideSwap({ from: a, to: tgGroup('qa-b', TG_B, 3), forwards: [fwd(0, 100)] }, plan, progress, 0);
  t.like(drain, { kind: 'updateSizes', group: 'qa-a', desired: 0 });
});

test('planTraffic / planAb on target groups: what AWS\'s state refuses (exit 3), nothing changed', (t) => {
  const names = { a: 'qa-a', b: 'qa-b' };
  const base = { environment: 'qa', instanceCount: 3 };
  const a = tgGroup('qa-a', TG_A, 3);
  const b = tgGroup('qa-b', TG_B, 0, { desired: 0, min: 0 });
  const rows: Array<[string, Parameters<typeof planAb>[0], Record<string, unknown>]> = [
    ['a weighted forward to both: a swap with the traffic plan', { a, b, names, forwards: [fwd(100, 0)] }, { kind: 'swap', to: 'qa-b' }],
    ['no forward to either target group', { a, b, names, forwards: [] }, { kind: 'refuse', exit: 3, code: 'no-weighted-forward' }],
    ['a forward to qa-a only (not weighted between the colors)', { a, b, names, forwards: [{ kind: 'rule', arn: 'r', weights: { [TG_A]: 1 } }] }, { kind: 'refuse', exit: 3, code: 'forward-not-weighted' }],
    ['a third target group with weight in the forward', { a, b, names, forwards: [fwd(100, 0, { [TG_X]: 5 })] }, { kind: 'refuse', exit: 3, code: 'forward-not-weighted' }],
    ['both colors at weight 0', { a, b, names, forwards: [fwd(0, 0)] }, { kind: 'refuse', exit: 3, code: 'weights-invalid' }],
    ['both colors on one target group', { a, b: { ...b, targetGroupARNs: [TG_A] }, names, forwards: [fwd(100, 0)] }, { kind: 'refuse', exit: 3, code: 'target-group-shared' }],
    ['a color on two target groups', { a: { ...a, targetGroupARNs: [TG_A, TG_X] }, b, names, forwards: [fwd(100, 0)] }, { kind: 'refuse', exit: 3, code: 'target-groups-ambiguous' }],
    ['the empty color already carries weight, no swap recorded', { a, b, names, forwards: [fwd(50, 50)] }, { kind: 'refuse', exit: 3, code: 'weights-invalid' }],
    ['a first deploy into a color holding the program\'s initial weight: allowed', { a: { ...a, desired: 0, min: 0, instances: [] }, b, names, forwards: [fwd(100, 0)] }, { kind: 'swap', to: 'qa-a' }],
    ['--clean-up draining a color that carries weight', { a, b: tgGroup('qa-b', TG_B, 3), names, forwards: [fwd(50, 50)] }, { kind: 'refuse', exit: 3, code: 'drain-carries-weight' }],
  ];
  for (const [name, observed, want] of rows) {
    const plan = planAb(observed, { ...base, ...(name.startsWith('--clean-up') ? { cleanUp: true } : {}) }) as unknown as Record<string, unknown>;
    t.deepEqual(Object.fromEntries(Object.keys(want).map((k) => [k, plan[k]])), want, name);
  }
  const ok = planTraffic(b, a, [fwd(100, 0)], { steps: [10, 100] });
  t.like(ok, { kind: 'traffic', toTg: TG_B, fromTg: TG_A, steps: [10, 100], stepWaitMs: 60_000 });
});
