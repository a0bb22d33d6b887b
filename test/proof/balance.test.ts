/**
 * "Ended balanced" is judged where the tool can end balanced whatever zone AWS picks among the
 * emptiest (orchestrator/proof/balance.ts): one row per start the chaos runs meet.
 */
import test from 'ava';
import { balanceAttainable, type BalanceStart } from '../../orchestrator/proof/balance';

const ZONES = ['a', 'b', 'c'];
/** One instance per entry: its zone, and `o` (outdated, LaunchTime 1) or `n` (up to date). */
function start(spec: string, over: Partial<BalanceStart> = {}): BalanceStart {
  const instances = spec.split(' ').filter(Boolean).map((w) => ({ az: w.slice(1), outdated: w[0] === 'o', launchTime: w[0] === 'o' ? 1 : 9 }));
  return { zones: ZONES, instances, desired: instances.length, size: instances.length, surge: 1, ...over };
}

test('balanceAttainable: a row per start', (t) => {
  const rows: Array<[string, BalanceStart, boolean]> = [
    ['a fresh fleet one per zone (docs: o2, o3, then o1 → 1/1/1)', start('oa ob oc'), true],
    ['a fresh fleet, surge 0', start('oa ob oc', { surge: 0 }), true],
    ['chaos seed 2494373250: the re-run after SIGINT, its one outdated in b, zones tied 1/1/1 — a surge in a or c forces 2/0/1', start('na ob nc'), false],
    ['the same with surge 0: the replacement lands in the zone just emptied', start('na ob nc', { surge: 0 }), true],
    ['the one outdated in the only emptiest zone: the surge lands beside it', start('na ob nc nc na'), true],
    ['two outdated in tied zones, a surge in the third zone leaves 0/1/2', start('oa ob nc'), false],
    ['nothing outdated, balanced: nothing to do', start('na nb nc'), true],
    ['nothing outdated, one surplus left by a crash (desired 4 of 3): the tool picks which goes', start('na na nb nc', { size: 3, desired: 4 }), true],
    ['a launch asked for and not yet live (desired 4, 3 live) lands first, then the tool picks', start('oa ob oc', { desired: 4 }), true],
    ['a single zone: always balanced', start('oa oa', { zones: ['a'] }), true],
  ];
  for (const [name, s, want] of rows) t.is(balanceAttainable(s), want, name);
});

test('balanceAttainable: oldest first binds the tool to the oldest LaunchTime', (t) => {
  const fleet = (lt: Record<string, number>): BalanceStart => ({
    zones: ZONES,
    instances: ZONES.map((az) => ({ az, outdated: true, launchTime: lt[az] })),
    desired: 3,
    size: 3,
    surge: 1,
  });
  t.true(balanceAttainable(fleet({ a: 1, b: 1, c: 1 })), 'launched together: the tool steers among them');
  // b's is the oldest and must go first wherever the surge lands: a surge in b, b's goes, the next
  // surge ties into b again and a's or c's must go → 0/2/1 or 1/2/0 whatever the tool does.
  t.false(balanceAttainable(fleet({ a: 2, b: 1, c: 2 })), 'one older than the rest: oldest first fixes the first pick');
});

test('balanceAttainable: every fresh balanced fleet of 1–50 instances on 2 or 3 zones, surge 0 or 1, is attainable (the promise of docs/commands/roll.md "Order")', (t) => {
  for (const nz of [2, 3]) {
    for (const surge of [0, 1]) {
      for (let n = 1; n <= 50; n++) {
        const zones = ZONES.slice(0, nz);
        const instances = Array.from({ length: n }, (_, k) => ({ az: zones[k % nz], outdated: true, launchTime: 1 }));
        t.true(balanceAttainable({ zones, instances, desired: n, size: n, surge }), `n=${n} zones=${nz} surge=${surge}`);
      }
    }
  }
});
