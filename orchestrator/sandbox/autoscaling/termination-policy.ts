/**
 * Which instance Auto Scaling terminates on scale-in [TERM-1..6] (./SPEC.md "Scale-in:
 * termination policies"): the AZ with the most instances (that has an unprotected one), then each
 * termination policy in order narrows the candidates, then Default, then random.
 */
import type { GroupRec, InstanceRec } from '../model';
import type { World } from '../world';

export function pickForScaleIn(w: World, g: GroupRec, active: InstanceRec[], n: number): InstanceRec[] {
  const picked: InstanceRec[] = [];
  const remaining = new Set(active);
  for (let k = 0; k < n; k++) {
    const candidates = [...remaining].filter((i) => !i.protected);
    if (candidates.length === 0) break;
    const victim = pickOne(w, g, [...remaining], candidates);
    picked.push(victim);
    remaining.delete(victim);
  }
  return picked;
}

export function pickOne(w: World, g: GroupRec, all: InstanceRec[], candidates: InstanceRec[]): InstanceRec {
  const counts = new Map<string, number>();
  for (const i of all) counts.set(i.az, (counts.get(i.az) ?? 0) + 1);
  const candidateZones = new Set(candidates.map((i) => i.az));
  const max = Math.max(...[...candidateZones].map((z) => counts.get(z) ?? 0));
  let pool = candidates.filter((i) => (counts.get(i.az) ?? 0) === max);
  const policies = g.terminationPolicies.length ? [...g.terminationPolicies] : ['Default'];
  if (policies[policies.length - 1] !== 'Default') policies.push('Default');
  for (const p of policies) {
    if (pool.length <= 1) break;
    pool = applyPolicy(w, g, p, pool);
  }
  return pool.length === 1 ? pool[0] : pool[Math.floor(w.rng.next() * pool.length)];
}

function applyPolicy(w: World, g: GroupRec, policy: string, pool: InstanceRec[]): InstanceRec[] {
  const narrow = (f: (i: InstanceRec) => boolean) => {
    const out = pool.filter(f);
    return out.length ? out : pool;
  };
  const cur = w.asg.currentLaunch(g);
  switch (policy) {
    case 'OldestInstance': {
      const min = Math.min(...pool.map((i) => i.launchTime));
      return pool.filter((i) => i.launchTime === min);
    }
    case 'NewestInstance': {
      const max = Math.max(...pool.map((i) => i.launchTime));
      return pool.filter((i) => i.launchTime === max);
    }
    case 'OldestLaunchConfiguration': {
      if (cur.kind !== 'lc') return narrow((i) => i.launch.kind === 'lc');
      const others = pool.filter((i) => i.launch.kind !== 'lc' || i.launch.name !== cur.name);
      if (!others.length) return pool;
      const lcTimes = (i: InstanceRec) => (i.launch.kind === 'lc' ? w.state.launchConfigurations[i.launch.name]?.createTime ?? 0 : Infinity);
      const oldest = Math.min(...others.map(lcTimes));
      return others.filter((i) => lcTimes(i) === oldest);
    }
    case 'OldestLaunchTemplate': {
      // Non-current template first, then the oldest version of the current template.
      const nonCurrent = pool.filter((i) => i.launch.kind !== 'lt' || cur.kind !== 'lt' || i.launch.id !== cur.id);
      if (nonCurrent.length) return nonCurrent;
      const v = (i: InstanceRec) => (i.launch.kind === 'lt' ? i.launch.version : 0);
      const min = Math.min(...pool.map(v));
      return pool.filter((i) => v(i) === min);
    }
    case 'ClosestToNextInstanceHour': {
      const left = (i: InstanceRec) => 3600_000 - ((w.now - i.launchTime) % 3600_000);
      const min = Math.min(...pool.map(left));
      return pool.filter((i) => left(i) === min);
    }
    case 'Default': {
      // Launch configuration before launch template, then oldest template / configuration, then next billing hour.
      let p = pool;
      if (cur.kind === 'lt') {
        const lcs = p.filter((i) => i.launch.kind === 'lc');
        if (lcs.length) p = lcs;
        else p = applyPolicy(w, g, 'OldestLaunchTemplate', p);
      } else if (cur.kind === 'lc') {
        p = applyPolicy(w, g, 'OldestLaunchConfiguration', p);
      }
      if (p.length > 1) p = applyPolicy(w, g, 'ClosestToNextInstanceHour', p);
      return p;
    }
    case 'AllocationStrategy':
    default:
      return pool;
  }
}
