/** The --keep-old window's pure decision (rollout/ab/keep-old.ts) as a table. */
import test from 'ava';
import type { Action } from '../../orchestrator/rollout/action';
import { decideKeepOld, KEEP_OLD_POLL_MS } from '../../orchestrator/rollout/ab/keep-old';
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
