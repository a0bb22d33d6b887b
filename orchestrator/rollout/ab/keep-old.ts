/**
 * `ab --keep-old DURATION` (issue 16): the instant-rollback window. Once the new color serves its
 * whole count, the old color stays at full size for that long while the alarms (the engine's
 * halting check, read until the commit point) and the new color's health are watched; only then
 * does the old color drain (the commit point). A failure in the window — an alarm in ALARM, or
 * the new color serving fewer than its count — switches back: the run fails (exit 1) before the
 * commit, and the cleanup scales the new color back while the old one still serves (as
 * `--rollback`, whatever that flag says).
 *
 * Classic ELBs only for now: each color serves through its own ELB, and switching back is scaling
 * the new color back. Seam for target groups (listener weights, built separately): the window
 * opens once the weights carry all the traffic to the new color, and switching back puts the
 * weights back before the new color is scaled back — a `switchBack` step in AbStrategy.cleanup
 * before its scale-back, with this decision unchanged.
 *
 * Pure: the window's decision from what was observed and when the new color first served.
 */
import { abort, wait, type Action } from '../action';
import type { GroupSnapshot } from '../../aws/port';
import { isDrainStarted, isLeaving, isServing } from './strategy';

export interface KeepOldProgress {
  /** `--keep-old`, ms. */
  keepOldMs: number;
  /** When the new color was first seen serving its whole count (clock ms); undefined: not yet. */
  servedSince?: number;
}

/** How often the window looks again at the latest (alarms, the new color's health). */
export const KEEP_OLD_POLL_MS = 10_000;

/**
 * The window's decision, or undefined when it has nothing to say (the swap goes on as decided):
 *  - no old color, or its drain has begun (committed): nothing to keep;
 *  - the new color not yet serving its count for the first time: the swap grows it;
 *  - it served its count and now serves fewer: abort `ab.keep-old-failed` (switch back);
 *  - `next` would start the old color's drain within the window: wait out the rest instead.
 * Example: keep-old 10 min, served since 10:00, now 10:04, b serves 4 of 4, next = drain a →
 * wait "keeping qa-a at full size …", waitMs 10 s; at 10:10 → the drain.
 */
export function decideKeepOld(
  groups: { from?: GroupSnapshot; to: GroupSnapshot },
  plan: { count: number; elbNames: readonly string[] },
  progress: KeepOldProgress,
  next: Action,
  now: number,
): Action | undefined {
  const { from, to } = groups;
  if (!from || isDrainStarted(from) || progress.servedSince === undefined) return undefined;
  const serving = to.instances.filter((i) => !isLeaving(i) && isServing(i, plan.elbNames)).length;
  const heldFor = Math.round((now - progress.servedSince) / 1000);
  if (serving < plan.count) {
    return abort('ab.keep-old-failed', `${to.name}: ${serving} of ${plan.count} instance(s) serving ${heldFor} s into --keep-old (${Math.round(progress.keepOldMs / 1000)} s); switching back: ${to.name} is scaled back while ${from.name} still serves at full size`, {
      asg: to.name,
      serving,
      count: plan.count,
      keep: from.name,
    });
  }
  const left = progress.keepOldMs - (now - progress.servedSince);
  if (left > 0 && startsDrain(next, from)) {
    return wait(`${to.name} serves ${serving}; keeping ${from.name} at full size for --keep-old ${Math.round(progress.keepOldMs / 1000)} s, watching health and alarms (switch back on a failure)`, Math.min(left, KEEP_OLD_POLL_MS));
  }
  return undefined;
}

/** Would `a` start draining the old color (the commit point)? */
function startsDrain(a: Action, from: GroupSnapshot): boolean {
  return (a.kind === 'updateSizes' || a.kind === 'setDesired') && a.group === from.name && a.desired === 0;
}
