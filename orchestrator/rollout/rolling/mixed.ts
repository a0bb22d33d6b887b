/**
 * Mixed instances groups and AWS's own replacements in the rolling plan (issue 15 items 4, 6, 7).
 *
 * What the tool does with such a group is decided elsewhere and needs no special case: the
 * adapter reads the group's launch spec from the policy's launch template (`$Latest`/`$Default`
 * resolved), and `isOutdated` compares template and version only — an instance's type (an
 * override) and market (Spot or On-Demand) never make it outdated, and outdated ones are
 * replaced alike, oldest first. AWS's own replacements during a rollout (a Spot interruption,
 * Capacity Rebalancing, the maximum instance lifetime) are what the engine already knows as
 * terminations it did not make: never in the tool's `replaced`, never counted as its steps.
 *
 * This module only says so, purely, in the plan: {@link mixedPlan}.
 */
import type { GroupSnapshot, InstanceView } from '../../aws/port';
import { isLive } from './strategy';

/** "1 d", "36 h", "90 min": a lifetime in the largest whole unit. */
export function lifetimeLabel(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400} d`;
  if (seconds % 3600 === 0) return `${seconds / 3600} h`;
  return `${Math.round(seconds / 60)} min`;
}

/** Spot and On-Demand counts of these instances (those EC2 has not reported yet: unknown). */
export function marketCounts(instances: InstanceView[]): { spot: number; onDemand: number; unknown: number } {
  let spot = 0;
  let onDemand = 0;
  let unknown = 0;
  for (const i of instances) {
    if (i.market === 'spot') spot++;
    else if (i.market === 'on-demand') onDemand++;
    else unknown++;
  }
  return { spot, onDemand, unknown };
}

/**
 * Pure: the plan's lines about the group's mixed instances policy and AWS's own replacers, and
 * the data for the `rollout.plan` event; empty for a plain group without either.
 * Example: a policy over m5.large, c5.large (base 1, 50 %, price-capacity-optimized), 2 Spot and
 * 3 On-Demand live, Capacity Rebalancing on →
 * "\n  mixed instances policy: m5.large, c5.large; On-Demand base 1 + 50 % above, Spot price-capacity-optimized; 3 On-Demand, 2 Spot live: replaced alike, whatever their type
 *  \n  AWS replaces on its own (Capacity Rebalancing): tolerated, not counted as the tool's".
 */
export function mixedPlan(group: GroupSnapshot): { line: string; data: Record<string, unknown> } {
  const m = group.mixedPolicy;
  const own: string[] = [];
  if (group.capacityRebalance) own.push('Capacity Rebalancing');
  if (m && m.onDemandPercentageAboveBaseCapacity < 100) own.push('Spot interruptions');
  if (group.maxInstanceLifetime) own.push(`maximum instance lifetime ${lifetimeLabel(group.maxInstanceLifetime)}`);
  if (!m && own.length === 0 && !group.mixedInstancesPolicy) return { line: '', data: {} };
  const live = group.instances.filter(isLive);
  const c = marketCounts(live);
  let line = '';
  if (group.mixedInstancesPolicy) {
    const types = m && m.instanceTypes.length ? m.instanceTypes.join(', ') : "the launch template's instance type";
    const dist = m ? `On-Demand base ${m.onDemandBaseCapacity} + ${m.onDemandPercentageAboveBaseCapacity} % above, Spot ${m.spotAllocationStrategy}` : '';
    line += `\n  mixed instances policy: ${types}${dist ? `; ${dist}` : ''}; ${c.onDemand} On-Demand, ${c.spot} Spot live${c.unknown ? ` (${c.unknown} not reported yet)` : ''}: replaced alike, whatever their type`;
  }
  if (own.length) line += `\n  AWS replaces on its own (${own.join(', ')}): tolerated, not counted as the tool's`;
  return {
    line,
    data: {
      ...(m ? { mixedInstancesPolicy: { ...m, onDemand: c.onDemand, spot: c.spot } } : {}),
      ...(group.capacityRebalance ? { capacityRebalance: true } : {}),
      ...(group.maxInstanceLifetime ? { maxInstanceLifetimeSeconds: group.maxInstanceLifetime } : {}),
    },
  };
}
