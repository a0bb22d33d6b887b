/**
 * "Ended balanced" is judged where the tool can make it so: whether a rolling rollout of one
 * instance per step can end with no Availability Zone more than one live instance above another,
 * from the group as the (last) attempt found it, WHATEVER zone AWS picks among the emptiest.
 *
 * Why: AWS launches each instance into the zone with the fewest instances and documents no rule
 * for a tie (sandbox [ASG-3]; a warm-pool draw goes to the same zone [WARM-4]). The tool cannot
 * choose where a launch lands, only which outdated instance goes (oldest first, free among the
 * oldest) — so balance is promised only where some choice of the tool's wins against every tie
 * AWS may break. A fresh balanced fleet always qualifies (docs/commands/roll.md "Order"); a
 * re-run that starts with the outdated instances left in a zone tied with the others may not:
 * chaos seed 2494373250 (SIGINT, then a re-run of one outdated instance in b with a 1, b 1, c 1:
 * the surge lands in a by AWS's tie-break, b's instance must go → a 2, b 0, c 1; had it landed in
 * b, the group would have ended 1, 1, 1 — AWS's choice, not the tool's).
 *
 * The game, exact for the chaos scenarios it gates (surge ≤ 1, batch 1): a state is the live
 * count per zone and the outdated count per zone by LaunchTime class (oldest first binds the tool
 * to the oldest class). With `surge` 1 AWS launches while the group is at or below its capacity
 * and the tool then terminates an outdated instance with decrement; with 0 the tool terminates
 * first and AWS launches the replacement. Launches already asked for (desired above live) land
 * first. Once nothing is outdated, surplus instances go at the tool's choice (its back-to-capacity
 * pick). The tool wins where the end is balanced. Pure.
 */

export interface BalanceStart {
  /** The group's enabled zones (a zone with no instance counts, as in the judgement). */
  zones: string[];
  /** Its live instances (not terminating, not in Standby) as the attempt found them. */
  instances: ReadonlyArray<{ az: string; outdated: boolean; launchTime: number }>;
  /** The group's desired capacity then (launches asked for and not yet live land first). */
  desired: number;
  /** The capacity the rollout ends at. */
  size: number;
  /** Instances launched before one goes (the scenario's surge: 0 or 1). */
  surge: number;
}

/** Above this many positions looked at, the answer is "attainable" (the judgement stays on). */
const MAX_POSITIONS = 200_000;

/**
 * Whether the tool can end the group balanced whatever AWS's tie-breaks. Examples (zones a, b, c):
 *   live 1/1/1, all outdated, one class, surge 1 → true (the fresh fleet: docs' o2-then-o3-then-o1);
 *   live 1/1/1, only b's outdated, surge 1 → false (a tie-break to a or c forces 2/0/1);
 *   live 1/1/1, a's and b's outdated, surge 1 → true.
 */
export function balanceAttainable(start: BalanceStart): boolean {
  const zones = start.zones.length ? start.zones : [...new Set(start.instances.map((i) => i.az))];
  if (zones.length < 2) return true;
  const zi = new Map(zones.map((z, k) => [z, k]));
  const classes = [...new Set(start.instances.filter((i) => i.outdated).map((i) => i.launchTime))].sort((a, b) => a - b);
  const ci = new Map(classes.map((c, k) => [c, k]));
  const t = zones.map(() => 0);
  const o = classes.map(() => zones.map(() => 0));
  for (const i of start.instances) {
    const z = zi.get(i.az);
    if (z === undefined) continue;
    t[z]++;
    if (i.outdated) o[ci.get(i.launchTime)!][z]++;
  }
  const surge = Math.min(Math.max(start.surge, 0), 1);
  let positions = 0;
  const memo = new Map<string, boolean>();

  // Launches already asked for land first, each in an emptiest zone of AWS's choosing.
  const pendingWin = (tt: number[], pending: number): boolean => {
    if (pending <= 0) return win(tt, o);
    const min = Math.min(...tt);
    return tt.every((n, z) => n !== min || pendingWin(bump(tt, z, 1), pending - 1));
  };
  const win = (tt: number[], oo: number[][]): boolean => {
    if (++positions > MAX_POSITIONS) return true;
    const key = canonical(tt, oo);
    const known = memo.get(key);
    if (known !== undefined) return known;
    const total = tt.reduce((a, b) => a + b, 0);
    const c = oo.findIndex((row) => row.some((n) => n > 0));
    let out: boolean;
    if (c < 0) {
      if (total > start.size) out = tt.some((n, z) => n > 0 && win(bump(tt, z, -1), oo));
      else if (total < start.size) out = awsLaunch(tt, oo);
      else out = Math.max(...tt) - Math.min(...tt) <= 1;
    } else if (total < start.size + surge) {
      out = awsLaunch(tt, oo);
    } else {
      // Oldest first: an outdated instance of the oldest class, from any zone holding one.
      out = oo[c].some((n, z) => n > 0 && win(bump(tt, z, -1), oo.map((row, k) => (k === c ? bump(row, z, -1) : row))));
    }
    memo.set(key, out);
    return out;
  };
  const awsLaunch = (tt: number[], oo: number[][]): boolean => {
    const min = Math.min(...tt);
    return tt.every((n, z) => n !== min || win(bump(tt, z, 1), oo));
  };
  return pendingWin(t, Math.max(0, start.desired - t.reduce((a, b) => a + b, 0)));
}

function bump(v: number[], at: number, by: number): number[] {
  const out = v.slice();
  out[at] += by;
  return out;
}

/** Zones are interchangeable (AWS's tie-break is unknown): the position up to their order. */
function canonical(t: number[], o: number[][]): string {
  return t
    .map((n, z) => [n, ...o.map((row) => row[z])].join(','))
    .sort()
    .join('|');
}
