/**
 * Chaos facts for A/B on target groups (issue 14): what the tool did to the weighted forward and
 * what served at that moment, read from the simulated AWS as each call lands. Feeds the checker's
 * traffic invariants (./invariants.ts): weight is never given to a target group with fewer
 * healthy targets than the plan requires; a color is never scaled in while its target group
 * carries weight; after any exit the weights serve only healthy targets.
 */
import type { AwsClients } from '../aws/clients';
import type { Sandbox } from '../sandbox';
import { forwardsTo } from '../sandbox/elbv2/state';
import type { TrafficFacts } from './invariants';

/** Each target group's weight in the forwards that name it (the largest, when several do). */
export function weightsNow(sb: Sandbox, tgs: readonly string[]): Record<string, number> {
  const s = sb.world.state.elbv2;
  const out: Record<string, number> = Object.fromEntries(tgs.map((t) => [t, 0]));
  if (!s) return out;
  const lists = [...Object.values(s.listeners).map((l) => l.defaultActions), ...Object.values(s.rules).map((r) => r.actions)];
  for (const actions of lists) {
    for (const a of actions as Array<{ Type?: string; ForwardConfig?: { TargetGroups?: Array<{ TargetGroupArn: string; Weight?: number }> } }>) {
      if (a?.Type !== 'forward') continue;
      for (const t of a.ForwardConfig?.TargetGroups ?? []) if (t.TargetGroupArn in out) out[t.TargetGroupArn] = Math.max(out[t.TargetGroupArn], t.Weight ?? 1);
    }
  }
  return out;
}

/** Targets `healthy` in the target group now (what the load balancer routes to) [TG-4, TG-7]. */
export function healthyTargets(sb: Sandbox, tg: string): number {
  const rec = sb.world.state.elbv2?.targetGroups[tg];
  if (!rec) return 0;
  return Object.keys(rec.targets).filter((id) => sb.world.elbv2.isServing(rec, id)).length;
}

export interface TrafficWatch {
  /** Target group ARN per color group name. */
  tgOf: Record<string, string>;
  /** Healthy targets the plan requires of a target group before it is given weight. */
  required(tg: string): number;
  /** Scale-ins of this group are judged: the old color's (never a first deploy's color, which holds the program's initial weight). */
  judgeScaleIn(group: string): boolean;
}

/**
 * Records, for the tool's clients: every ModifyListener/ModifyRule with the weights before and
 * after and each target group's healthy targets and its color's desired capacity; every lowering of a color's desired capacity
 * with its target group's weight at that moment.
 */
export function watchTraffic(sb: Sandbox, clients: AwsClients, watch: TrafficWatch, out: TrafficFacts): void {
  const tgs = Object.values(watch.tgOf);
  const add = (client: unknown, fn: (operation: string, input: Record<string, unknown>, next: () => Promise<unknown>) => Promise<unknown>) =>
    (client as { middlewareStack: { add: (m: unknown, o: unknown) => void } }).middlewareStack.add(
      (next: (a: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: Record<string, unknown> }) =>
        fn(String(context.commandName ?? '').replace(/Command$/, ''), args.input ?? {}, () => next(args)),
      { step: 'initialize', name: 'chaosTrafficWatch' },
    );
  add(clients.elbv2, async (operation, input, next) => {
    if (operation !== 'ModifyListener' && operation !== 'ModifyRule') return next();
    const before = weightsNow(sb, tgs);
    const res = await next();
    const after = weightsNow(sb, tgs);
    const desiredOf = (tg: string): number | undefined => {
      const group = Object.keys(watch.tgOf).find((name) => watch.tgOf[name] === tg);
      return group !== undefined ? sb.world.state.groups[group]?.desired : undefined;
    };
    out.changes.push({
      time: sb.clock.now(),
      groups: tgs.map((tg) => ({ tg: tgName(tg), before: before[tg], after: after[tg], healthy: healthyTargets(sb, tg), required: watch.required(tg), desired: desiredOf(tg) })),
    });
    void input;
    return res;
  });
  add(clients.autoScaling, async (operation, input, next) => {
    if (operation === 'UpdateAutoScalingGroup' || operation === 'SetDesiredCapacity') {
      const group = String(input.AutoScalingGroupName ?? '');
      const tg = watch.tgOf[group];
      const g = sb.world.state.groups[group];
      const desired = input.DesiredCapacity as number | undefined;
      if (tg && g && desired !== undefined && desired < g.desired && watch.judgeScaleIn(group)) {
        const w = weightsNow(sb, [tg])[tg];
        if (w > 0) out.scaleInsUnderWeight.push({ group, time: sb.clock.now(), weight: w, desired: { from: g.desired, to: desired } });
      }
    }
    return next();
  });
}

/** The weights and healthy targets now, for the "after any exit" invariant. */
export function trafficAtExit(sb: Sandbox, tgOf: Record<string, string>, after: string): TrafficFacts['atExit'][number] {
  const tgs = Object.values(tgOf);
  const w = weightsNow(sb, tgs);
  return { after, time: sb.clock.now(), groups: tgs.map((tg) => ({ tg: tgName(tg), weight: w[tg], healthy: healthyTargets(sb, tg) })) };
}

function tgName(arn: string): string {
  return /:targetgroup\/([^/]+)\//.exec(arn)?.[1] ?? arn;
}

export { forwardsTo };
