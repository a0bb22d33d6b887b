/**
 * Where an ALB/NLB's requests go [TG-7], read from the simulated state: each forward splits its
 * traffic among its target groups by weight (a group of weight 0 gets none); within a target
 * group only `healthy` targets get requests — unless none is healthy, then the load balancer
 * fails open and routes to every registered target regardless of health. The sandbox has no
 * requests: this is the share each target group (and so each A/B color) would get, and how much
 * of it healthy targets would serve, for the safety monitor and the tests.
 */
import type { World } from '../world';

export interface TargetGroupTraffic {
  /** The listener (default action) or rule whose forward this is. */
  forward: string;
  targetGroup: string;
  weight: number;
  /** weight / Σ weights of the forward, 0–1 (0 when every weight is 0). */
  share: number;
  /** Targets `healthy` now. */
  healthy: number;
  /** Registered targets not draining (what a fail-open routes to). */
  registered: number;
  /** No healthy target but some registered: requests go to unhealthy targets [TG-7]. */
  failOpen: boolean;
  /** Share served by healthy targets: `share` when some target is healthy, else 0. */
  served: number;
}

/** Every forward's split, one entry per target group it names [TG-7, TG-8]. */
export function trafficSplit(w: World): TargetGroupTraffic[] {
  const s = w.state.elbv2;
  if (!s) return [];
  const forwards: Array<[string, any[]]> = [
    ...Object.values(s.listeners).map((l) => [l.arn, l.defaultActions] as [string, any[]]),
    ...Object.values(s.rules).map((r) => [r.arn, r.actions] as [string, any[]]),
  ];
  const out: TargetGroupTraffic[] = [];
  for (const [arn, actions] of forwards) {
    const fwd = actions.find((a) => a?.Type === 'forward');
    const tuples: Array<{ TargetGroupArn: string; Weight?: number }> = fwd?.ForwardConfig?.TargetGroups ?? (fwd?.TargetGroupArn ? [{ TargetGroupArn: fwd.TargetGroupArn, Weight: 1 }] : []);
    const total = tuples.reduce((n, t) => n + (t.Weight ?? 1), 0);
    for (const t of tuples) {
      const tg = s.targetGroups[t.TargetGroupArn];
      if (!tg) continue;
      const ids = Object.keys(tg.targets).filter((id) => tg.targets[id].drainingUntil === undefined);
      const healthy = ids.filter((id) => w.elbv2.isServing(tg, id)).length;
      const weight = t.Weight ?? 1;
      const share = total > 0 ? weight / total : 0;
      out.push({ forward: arn, targetGroup: tg.arn, weight, share, healthy, registered: ids.length, failOpen: healthy === 0 && ids.length > 0, served: healthy > 0 ? share : 0 });
    }
  }
  return out;
}
