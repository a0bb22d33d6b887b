/**
 * Mixed instances groups in the simulated Auto Scaling ([MIX-*] in ./SPEC.md): the policy's
 * validation (AWS's allowed values), the On-Demand/Spot split of each launch, and the instance
 * type it gets from the overrides. Pure functions of the policy and the group's live instances:
 * no PRNG draw, so groups without a policy (and runs that do not use one) are unchanged.
 */
import type { GroupRec, InstanceRec } from '../model';
import { validation } from '../ops-common';

/** InstancesDistribution.SpotAllocationStrategy, the SDK model's valid values [MIX-2]. */
export const SPOT_ALLOCATION_STRATEGIES = ['lowest-price', 'capacity-optimized', 'capacity-optimized-prioritized', 'price-capacity-optimized'] as const;
/** InstancesDistribution.OnDemandAllocationStrategy, the SDK model's valid values [MIX-2]. */
export const ON_DEMAND_ALLOCATION_STRATEGIES = ['lowest-price', 'prioritized'] as const;
/** "You can specify up to 40 instance types per Auto Scaling group" (LaunchTemplateOverrides.InstanceType) [MIX-1]. */
export const MAX_INSTANCE_TYPES = 40;

/** The distribution with AWS's defaults filled in (base 0, 100 % On-Demand above it, lowest-price Spot) [MIX-2]. */
export function distribution(policy: any): { base: number; percent: number; spot: string; onDemand: string } {
  const d = policy?.InstancesDistribution ?? {};
  return {
    base: d.OnDemandBaseCapacity ?? 0,
    percent: d.OnDemandPercentageAboveBaseCapacity ?? 100,
    spot: d.SpotAllocationStrategy ?? 'lowest-price',
    onDemand: d.OnDemandAllocationStrategy ?? 'prioritized',
  };
}

/**
 * Refuses a policy AWS would refuse [MIX-1, MIX-2] (ValidationError; the texts are the sandbox's,
 * written after AWS's "1 validation error detected" style; the tool matches codes, not texts).
 * `partial`: an UpdateAutoScalingGroup may leave LaunchTemplate out (kept as it is).
 */
export function validateMixedPolicy(policy: any, partial = false): void {
  if (!policy || typeof policy !== 'object') throw validation('MixedInstancesPolicy must be a structure.');
  const lt = policy.LaunchTemplate;
  if (!lt?.LaunchTemplateSpecification && !partial) throw validation('The request must contain the parameter MixedInstancesPolicy.LaunchTemplate.LaunchTemplateSpecification.');
  const overrides: any[] = lt?.Overrides ?? [];
  if (overrides.length > MAX_INSTANCE_TYPES) throw validation(`1 validation error detected: Value at 'mixedInstancesPolicy.launchTemplate.overrides' failed to satisfy constraint: Member must have length less than or equal to ${MAX_INSTANCE_TYPES}`);
  const weighted = overrides.filter((o) => o.WeightedCapacity !== undefined).length;
  if (weighted > 0 && weighted < overrides.length) throw validation('If you specify a value for WeightedCapacity for one instance type, you must specify a value for WeightedCapacity for all of them.');
  for (const o of overrides) {
    if (o.InstanceType !== undefined && (typeof o.InstanceType !== 'string' || o.InstanceType.length === 0)) throw validation(`Invalid instance type: ${String(o.InstanceType)}`);
    if (o.WeightedCapacity !== undefined && !(Number(o.WeightedCapacity) >= 1 && Number(o.WeightedCapacity) <= 999)) throw validation(`WeightedCapacity ${o.WeightedCapacity} must be in the range of 1-999.`);
  }
  const d = policy.InstancesDistribution;
  if (d) {
    if (d.OnDemandBaseCapacity !== undefined && !(Number.isInteger(d.OnDemandBaseCapacity) && d.OnDemandBaseCapacity >= 0)) throw validation(`OnDemandBaseCapacity ${d.OnDemandBaseCapacity} must be a whole number of 0 or more.`);
    const p = d.OnDemandPercentageAboveBaseCapacity;
    if (p !== undefined && !(Number.isInteger(p) && p >= 0 && p <= 100)) throw validation(`1 validation error detected: Value '${p}' at 'mixedInstancesPolicy.instancesDistribution.onDemandPercentageAboveBaseCapacity' failed to satisfy constraint: Member must have value between 0 and 100`);
    if (d.SpotAllocationStrategy !== undefined && !(SPOT_ALLOCATION_STRATEGIES as readonly string[]).includes(d.SpotAllocationStrategy)) {
      throw validation(`Invalid SpotAllocationStrategy ${d.SpotAllocationStrategy}: valid values are ${SPOT_ALLOCATION_STRATEGIES.join(', ')}.`);
    }
    if (d.OnDemandAllocationStrategy !== undefined && !(ON_DEMAND_ALLOCATION_STRATEGIES as readonly string[]).includes(d.OnDemandAllocationStrategy)) {
      throw validation(`Invalid OnDemandAllocationStrategy ${d.OnDemandAllocationStrategy}: valid values are ${ON_DEMAND_ALLOCATION_STRATEGIES.join(', ')}.`);
    }
    if (d.SpotInstancePools !== undefined && !(Number.isInteger(d.SpotInstancePools) && d.SpotInstancePools >= 1 && d.SpotInstancePools <= 20)) throw validation(`SpotInstancePools ${d.SpotInstancePools} must be in the range of 1-20.`);
  }
}

/**
 * How many of `n` instances are On-Demand [MIX-3]: the base first, then the percentage of the
 * rest, rounded up (ASSUMPTION: AWS's docs give examples, not the rounding).
 * Example: n 10, base 2, 50 % → 2 + ceil(8 × 0.5) = 6 On-Demand, 4 Spot; n 3, base 0, 0 % → 0.
 */
export function onDemandCount(n: number, base: number, percent: number): number {
  const b = Math.min(n, base);
  return b + Math.ceil(((n - b) * percent) / 100);
}

/**
 * What the next launch of a mixed instances group is [MIX-3, MIX-4]: On-Demand while the group's
 * On-Demand instances (active, Standby not counted) are fewer than its share of desired + this
 * launch, else Spot; the instance type is the first override for On-Demand (`prioritized`) and,
 * for Spot, the override with the fewest Spot instances already running (the list order breaks
 * ties) — the sandbox does not know Spot prices or pool capacity (ASSUMPTION).
 */
export function planMixedLaunch(g: GroupRec, active: InstanceRec[]): { spot: boolean; instanceType?: string } {
  const d = distribution(g.mixedInstancesPolicy);
  const onDemand = active.filter((i) => i.market !== 'spot').length;
  const target = onDemandCount(active.length + 1, d.base, d.percent);
  const spot = onDemand >= target;
  const types: string[] = (g.mixedInstancesPolicy?.LaunchTemplate?.Overrides ?? []).map((o: any) => o.InstanceType).filter((t: unknown): t is string => typeof t === 'string');
  if (types.length === 0) return { spot };
  if (!spot) return { spot, instanceType: types[0] };
  const count = (t: string) => active.filter((i) => i.market === 'spot' && i.instanceType === t).length;
  let best = types[0];
  for (const t of types) if (count(t) < count(best)) best = t;
  return { spot, instanceType: best };
}

/**
 * UpdateAutoScalingGroup's MixedInstancesPolicy on a group that has one [MIX-6]: "Any properties
 * that you don't specify are not changed" — applied part by part (ASSUMPTION: AWS's docs say it of
 * the request's parameters, not of the policy's nested parts): the launch template spec, the
 * overrides and each InstancesDistribution field given replace theirs, the rest is kept.
 */
export function mergeMixedPolicy(current: any, given: any): any {
  if (!current) return given;
  const cur = structuredClone(current);
  delete cur.LaunchTemplate?.LaunchTemplateSpecification?._resolvedId;
  const lt = { ...(cur.LaunchTemplate ?? {}) };
  if (given.LaunchTemplate?.LaunchTemplateSpecification) lt.LaunchTemplateSpecification = given.LaunchTemplate.LaunchTemplateSpecification;
  if (given.LaunchTemplate?.Overrides) lt.Overrides = given.LaunchTemplate.Overrides;
  const out: any = { ...cur, LaunchTemplate: lt };
  if (given.InstancesDistribution) out.InstancesDistribution = { ...(cur.InstancesDistribution ?? {}), ...given.InstancesDistribution };
  return out;
}
