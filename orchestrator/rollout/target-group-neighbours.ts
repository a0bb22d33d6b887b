/**
 * Who else is behind a group's ALB/NLB target groups (issue 14, "a target group attached to
 * another group"), pure. AWS lets several Auto Scaling groups share a target group (and anyone
 * register an instance by hand); DescribeTargetHealth then lists their targets beside the group's.
 *
 * What is safe:
 *  - **A/B** (`ab`, deploy's hook): refused, exit 3, naming the other group. The swap moves the
 *    colors' target groups' weights and drains a color: a third group's targets in one of them
 *    would lose (or suddenly get) that share of the traffic, with no check of their health.
 *  - **Rolling** (`roll`, deploy's hook): allowed, with a warning naming the other group. The
 *    rollout judges each of its own instances by its own target health and keeps the group's
 *    min-healthy; the other group's targets go on serving beside them (more capacity, never less),
 *    and nothing of theirs is touched.
 *
 * Only targets that can take traffic count: `draining` ones are leaving and `unused` ones
 * (terminated, not in use) get none. A group attached to the target group with no instance in it
 * right now is not seen (nothing of it is behind the target group at that moment).
 *
 * Example: web-b's target group also holds i-9 of `batch` (healthy) and i-7 registered by hand:
 *   ab   → refuse target-group-other-group "… web-b's target group web-b also has targets of
 *          batch (i-9) and registered by hand (i-7) …"
 *   roll → warn rollout.target-group-shared naming the same.
 *
 * No AWS, no clock: table-tested in test/rollout/target-group-neighbours.test.ts.
 */
import type { ForeignTarget, GroupSnapshot } from '../aws/port';
import { targetGroupName } from './health/target-group';

/** Target states that can take traffic (not leaving, not out of use). */
function inPlay(state: string): boolean {
  return state !== 'draining' && state !== 'unused';
}

/**
 * The targets of these groups' target groups that are instances of none of them and can take
 * traffic. E.g. colors a and b (each one's instances are not foreign to the other) → only a third
 * group's or hand-registered targets.
 */
export function neighboursOf(groups: ReadonlyArray<GroupSnapshot | undefined>): ForeignTarget[] {
  const present = groups.filter((g): g is GroupSnapshot => Boolean(g));
  const ours = new Set(present.flatMap((g) => g.instances.map((i) => i.instanceId)));
  const seen = new Set<string>();
  const out: ForeignTarget[] = [];
  for (const g of present) {
    for (const t of g.foreignTargets ?? []) {
      const key = `${t.targetGroup} ${t.instanceId}`;
      if (ours.has(t.instanceId) || !inPlay(t.state) || seen.has(key)) continue;
      seen.add(key);
      out.push(t);
    }
  }
  return out;
}

export type NeighbourVerdict =
  | { kind: 'none' }
  | { kind: 'warn'; code: 'rollout.target-group-shared'; message: string; data: Record<string, unknown> }
  | { kind: 'refuse'; exit: 3; code: 'target-group-other-group'; message: string; data: Record<string, unknown> };

/** "web-b's target group web-b also has targets of batch (i-9) and registered by hand (i-7)" parts, per target group. */
function describe(neighbours: readonly ForeignTarget[], groupOf: Readonly<Record<string, string>>): { text: string; groups: string[]; byHand: string[] } {
  const parts: string[] = [];
  const groups = new Set<string>();
  const byHand: string[] = [];
  const tgs = [...new Set(neighbours.map((n) => n.targetGroup))].sort();
  for (const tg of tgs) {
    const here = neighbours.filter((n) => n.targetGroup === tg);
    const byGroup = new Map<string, string[]>();
    const hand: string[] = [];
    for (const n of here) {
      const g = groupOf[n.instanceId];
      if (g) byGroup.set(g, [...(byGroup.get(g) ?? []), n.instanceId]);
      else hand.push(n.instanceId);
    }
    const what = [...[...byGroup].sort(([x], [y]) => x.localeCompare(y)).map(([g, ids]) => `of group ${g} (${ids.sort().join(', ')})`), ...(hand.length ? [`registered by hand, in no Auto Scaling group (${hand.sort().join(', ')})`] : [])];
    for (const g of byGroup.keys()) groups.add(g);
    byHand.push(...hand);
    parts.push(`target group ${targetGroupName(tg)} also has targets ${what.join(' and ')}`);
  }
  return { text: parts.join('; '), groups: [...groups].sort(), byHand: byHand.sort() };
}

/**
 * The verdict on other groups' targets in the target groups of `subject` (the rolled group, or
 * the A/B environment): none; a warning for a rolling rollout; a refusal (exit 3) for an A/B swap.
 */
export function judgeNeighbours(strategy: 'rolling' | 'ab', subject: string, neighbours: readonly ForeignTarget[], groupOf: Readonly<Record<string, string>>): NeighbourVerdict {
  if (neighbours.length === 0) return { kind: 'none' };
  const d = describe(neighbours, groupOf);
  const data = { targetGroups: [...new Set(neighbours.map((n) => n.targetGroup))].sort(), otherGroups: d.groups, registeredByHand: d.byHand };
  if (strategy === 'ab') {
    return {
      kind: 'refuse',
      exit: 3,
      code: 'target-group-other-group',
      message: `environment ${subject}: ${d.text}: an A/B swap moves its colors' target groups' weights and drains a color, which would move those targets' traffic too; detach ${d.groups.length ? d.groups.join(', ') : 'them'} from the colors' target groups (or give the environment target groups of its own); nothing was changed`,
      data,
    };
  }
  return {
    kind: 'warn',
    code: 'rollout.target-group-shared',
    message: `${subject}: ${d.text}; they keep serving beside ${subject}'s instances and are not touched (min-healthy counts ${subject}'s instances only)`,
    data: { asg: subject, ...data },
  };
}
