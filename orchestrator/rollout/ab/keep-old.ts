/**
 * `ab --keep-old DURATION` (issue 16): the instant-rollback window. Once the new color serves its
 * whole count — and, on target groups, carries all of the traffic — the old color stays at full
 * size for that long while the alarms (the engine's halting check, read until the commit point)
 * and the new color's health are watched; only then does the old color drain (the commit point).
 * A failure in the window — an alarm in ALARM, or the new color serving fewer than its count —
 * switches back: the run fails (exit 1) before the commit, and the cleanup (AbStrategy.cleanup)
 * first puts the weights back on the old color (target groups: its instances never left its
 * target group, at weight 0, so this is one weight change), then scales the new color back while
 * the old one serves (as `--rollback`, whatever that flag says).
 *
 *   classic ELBs:  new color serves its count            → window opens
 *   target groups: new color serves its count and every
 *                  forward gives it all the weight        → window opens (weights 0 / 100)
 *   in the window: new color short of its count           → abort ab.keep-old-failed (switch back)
 *                  the swap would drain the old color     → wait (look again within 10 s)
 *   window over:                                          → the swap drains the old color
 *
 * Pure: the window's decision from what was observed and when the window opened.
 */
import { abort, wait, type Action } from '../action';
import type { GroupSnapshot, TrafficForward } from '../../aws/port';
import { isDrainStarted, isLeaving, isServing } from './strategy';
import type { TrafficPlan } from './traffic';

/** What the window needs of the swap plan: the count and what the new color is judged by. */
export interface KeepOldPlan {
  count: number;
  elbNames: readonly string[];
  targetGroupArns?: readonly string[];
  traffic?: Pick<TrafficPlan, 'toTg' | 'fromTg'>;
}

/** The new color's instances serving (not leaving; InService in its ELBs, healthy in its target groups). */
function servingNew(to: GroupSnapshot, plan: KeepOldPlan): number {
  return to.instances.filter((i) => !isLeaving(i) && isServing(i, plan.elbNames, plan.targetGroupArns ?? [])).length;
}

/**
 * Does the window open now? The new color serves its count and, on target groups, every forward
 * gives the old color's target group no weight and the new one's some (all traffic on the new
 * color: the last traffic step is done). Example: b serves 4 of 4, weights a 50 / b 50 → false
 * (still shifting); a 0 / b 100 → true.
 */
export function keepOldOpens(to: GroupSnapshot, plan: KeepOldPlan, forwards: readonly TrafficForward[] | undefined): boolean {
  if (servingNew(to, plan) < plan.count) return false;
  const t = plan.traffic;
  if (!t) return true;
  return forwards !== undefined && forwards.length > 0 && forwards.every((f) => (f.weights[t.fromTg] ?? 0) === 0 && (f.weights[t.toTg] ?? 0) > 0);
}

export interface KeepOldProgress {
  /** `--keep-old`, ms. */
  keepOldMs: number;
  /** When the window opened ({@link keepOldOpens} first true; clock ms); undefined: not yet. */
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
  plan: KeepOldPlan,
  progress: KeepOldProgress,
  next: Action,
  now: number,
): Action | undefined {
  const { from, to } = groups;
  if (!from || isDrainStarted(from) || progress.servedSince === undefined) return undefined;
  const serving = servingNew(to, plan);
  const heldFor = Math.round((now - progress.servedSince) / 1000);
  if (serving < plan.count) {
    const back = plan.traffic ? `the weights go back to ${from.name} at once (its instances never left its target group), then ${to.name} is scaled back` : `${to.name} is scaled back while ${from.name} still serves at full size`;
    return abort('ab.keep-old-failed', `${to.name}: ${serving} of ${plan.count} instance(s) serving ${heldFor} s into --keep-old (${Math.round(progress.keepOldMs / 1000)} s); switching back: ${back}`, {
      asg: to.name,
      serving,
      count: plan.count,
      keep: from.name,
    });
  }
  const left = progress.keepOldMs - (now - progress.servedSince);
  if (left > 0 && startsDrain(next, from)) {
    const where = plan.traffic ? ` and carries all of the traffic` : '';
    const kept = plan.traffic ? ` (registered at weight 0)` : '';
    return wait(`${to.name} serves ${serving}${where}; keeping ${from.name} at full size${kept} for --keep-old ${Math.round(progress.keepOldMs / 1000)} s, watching health and alarms (switch back on a failure)`, Math.min(left, KEEP_OLD_POLL_MS));
  }
  return undefined;
}

/** Would `a` start draining the old color (the commit point)? */
function startsDrain(a: Action, from: GroupSnapshot): boolean {
  return (a.kind === 'updateSizes' || a.kind === 'setDesired') && a.group === from.name && a.desired === 0;
}
