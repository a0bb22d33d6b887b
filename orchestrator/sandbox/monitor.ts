/**
 * The safety monitor: watches every instance state change in the sandbox and keeps, per group,
 * the healthy InService count over time, every termination with who caused it, and a
 * baseline to diff against at the end. Rollout tests and the chaos suite check docs/design.md's
 * invariants with one call each:
 *
 *   monitor.minHealthy('qa-web', t0, t1)          // invariant 1
 *   monitor.healthyUpToDateTerminated('qa-web')   // invariant 2
 *   monitor.leftovers('qa-web')                   // invariant 3 (after monitor.baseline())
 *
 * "Healthy" = ASG InService and Healthy, EC2 running, InService in every classic ELB and
 * `healthy` in every ALB/NLB target group attached to the group [TG-9].
 */
import type { GroupBaseline, InstanceRec, MonitorState, TerminationRecord, TimelineEntry } from './model';
import type { World, WorldObserver } from './world';
import { trafficSplit, type TargetGroupTraffic } from './elbv2/traffic';

/** Timeline entries kept (about 10 per instance launched); the state file stays small. */
const MAX_TIMELINE = 200_000;

export interface Leftover {
  what: 'min' | 'max' | 'desired' | 'suspended' | 'tag' | 'protection' | 'newInstancesProtectedFromScaleIn' | 'group';
  detail: string;
  before?: unknown;
  after?: unknown;
}

export class SafetyMonitor implements WorldObserver {
  private readonly current = new Map<string, { group?: string; healthy: boolean; key: string }>();
  private readonly counts = new Map<string, number>();

  constructor(private readonly world: World) {
    for (const inst of Object.values(world.state.instances)) {
      const healthy = world.isHealthy(inst);
      this.current.set(inst.id, { group: inst.group, healthy, key: this.keyOf(inst, healthy) });
      if (healthy && inst.group) this.counts.set(inst.group, (this.counts.get(inst.group) ?? 0) + 1);
    }
  }

  private get s(): MonitorState {
    return this.world.state.monitor;
  }

  private keyOf(inst: InstanceRec, healthy: boolean): string {
    return `${inst.ec2State}|${inst.lifecycle}|${inst.health}|${JSON.stringify(this.world.elbStates(inst))}|${healthy}|${inst.group}`;
  }

  /** @internal called by the world after any change to `inst`. */
  instanceChanged(inst: InstanceRec): void {
    const healthy = this.world.isHealthy(inst);
    const prev = this.current.get(inst.id);
    const key = this.keyOf(inst, healthy);
    if (prev && prev.key === key) return;
    const now = this.world.now;
    if (prev?.healthy && prev.group) this.bump(prev.group, -1, now);
    if (healthy && inst.group) this.bump(inst.group, +1, now);
    this.current.set(inst.id, { group: inst.group, healthy, key });
    if (this.s.timeline.length < MAX_TIMELINE) {
      this.s.timeline.push({
        time: now, instanceId: inst.id, group: inst.group ?? prev?.group, ec2State: inst.ec2State,
        lifecycle: inst.lifecycle, health: inst.health, elb: this.world.elbStates(inst), healthy,
      });
    }
    if (inst.ec2State === 'terminated' && !inst.group) this.current.delete(inst.id);
  }

  private bump(group: string, delta: number, now: number): void {
    const n = (this.counts.get(group) ?? 0) + delta;
    this.counts.set(group, n);
    (this.s.healthy[group] ??= []).push([now, n]);
  }

  /** @internal */
  terminated(rec: TerminationRecord): void {
    this.s.terminations.push(rec);
  }

  /** Healthy instances of `group` now (or at time `at`). */
  healthyCount(group: string, at?: number): number {
    if (at === undefined) return this.counts.get(group) ?? 0;
    let v = 0;
    for (const [t, n] of this.s.healthy[group] ?? []) {
      if (t > at) break;
      v = n;
    }
    return v;
  }

  /**
   * The minimum healthy count of `group` over [t0, t1]. `t0` defaults to the group's
   * {@link baseline} time (else the whole recorded history, including the initial ramp-up);
   * `t1` to now. Every intermediate value counts, even two changes in the same millisecond.
   */
  minHealthy(group: string, t0: number = this.s.baseline[group]?.time ?? -Infinity, t1 = Infinity): number {
    let min = this.healthyCount(group, t0 === -Infinity ? undefined : t0);
    if (t0 === -Infinity) min = Infinity;
    let seen = t0 !== -Infinity;
    for (const [t, n] of this.s.healthy[group] ?? []) {
      if (t < t0 || (t === t0 && seen)) continue;
      if (t > t1) break;
      min = Math.min(min, n);
      seen = true;
    }
    if (min === Infinity) return this.healthyCount(group);
    return min;
  }

  /**
   * Serving capacity by weight [TG-7]: the share of its load balancers' traffic a group (an A/B
   * color) gets through its target groups' weights, how much of that share healthy targets serve
   * (0 when its target group fails open: no healthy target), and its healthy targets. A group
   * behind no weighted forward gets `{share: 0, served: 0, healthy: 0, failOpen: false}`.
   * E.g. a at weight 90 with 3 healthy, b at 10 with 0 registered → a {share 0.9, served 0.9},
   * b {share 0.1, served 0} (those requests fail).
   */
  trafficOf(group: string): { share: number; served: number; healthy: number; failOpen: boolean } {
    const g = this.world.state.groups[group];
    const mine = trafficSplit(this.world).filter((t) => g?.targetGroupARNs.includes(t.targetGroup));
    const forwards = new Set(mine.map((t) => t.forward)).size || 1;
    const sum = (f: (t: TargetGroupTraffic) => number) => mine.reduce((n, t) => n + f(t), 0) / forwards;
    return { share: sum((t) => t.share), served: sum((t) => t.served), healthy: Math.max(0, ...mine.map((t) => t.healthy)), failOpen: mine.some((t) => t.failOpen && t.share > 0) };
  }

  /** [time, healthy] samples of a group (only changes). */
  samples(group: string): Array<{ time: number; healthy: number }> {
    return (this.s.healthy[group] ?? []).map(([time, healthy]) => ({ time, healthy }));
  }

  /** Instance state changes, optionally of one group or instance. */
  timeline(filter: { group?: string; instanceId?: string } = {}): TimelineEntry[] {
    return this.s.timeline.filter((e) => (!filter.group || e.group === filter.group) && (!filter.instanceId || e.instanceId === filter.instanceId));
  }

  /** Every termination (API, scale-in, unhealthy replacement, rebalance, spontaneous), in order. */
  terminations(filter: { group?: string; cause?: TerminationRecord['cause'][]; actor?: string } = {}): TerminationRecord[] {
    return this.s.terminations.filter(
      (r) => (!filter.group || r.group === filter.group) && (!filter.cause || filter.cause.includes(r.cause)) && (!filter.actor || r.call?.actor === filter.actor),
    );
  }

  /**
   * Healthy, up-to-date instances terminated because of an API call: TerminateInstances /
   * TerminateInstanceInAutoScalingGroup, or a scale-in after SetDesiredCapacity /
   * UpdateAutoScalingGroup lowered the desired capacity (attributed to that call).
   */
  healthyUpToDateTerminated(group?: string): TerminationRecord[] {
    return this.terminations({ group, cause: ['api', 'scale-in'] }).filter((r) => r.healthy && r.upToDate);
  }

  /** Snapshot what a tool might change, for {@link leftovers}. Default: every group. */
  baseline(groups?: string[]): void {
    for (const g of Object.values(this.world.state.groups)) {
      if (groups && !groups.includes(g.name)) continue;
      const b: GroupBaseline = {
        time: this.world.now,
        min: g.min,
        max: g.max,
        desired: g.desired,
        suspended: g.suspended.map((p) => p.name).sort(),
        tags: Object.fromEntries(g.tags.map((t) => [t.key, t.value])),
        protectedInstances: this.world.groupInstances(g).filter((i) => i.protected).map((i) => i.id),
        newInstancesProtectedFromScaleIn: g.newInstancesProtectedFromScaleIn,
      };
      this.s.baseline[g.name] = b;
    }
  }

  /**
   * What differs now from the baseline: sizes, suspended processes, tags, scale-in protection
   * (an instance protected now that was not at baseline, and new instances unless the group
   * protects new instances). Empty: the tool restored everything.
   */
  leftovers(group: string): Leftover[] {
    const b = this.s.baseline[group];
    if (!b) throw new Error(`sandbox monitor: no baseline for ${group}; call monitor.baseline() before the run`);
    const g = this.world.state.groups[group];
    if (!g) return [{ what: 'group', detail: `${group} no longer exists` }];
    const out: Leftover[] = [];
    for (const k of ['min', 'max', 'desired'] as const) {
      if (g[k] !== b[k]) out.push({ what: k, detail: `${k} ${b[k]} -> ${g[k]}`, before: b[k], after: g[k] });
    }
    const now = g.suspended.map((p) => p.name).sort();
    if (now.join() !== b.suspended.join()) out.push({ what: 'suspended', detail: `suspended [${b.suspended}] -> [${now}]`, before: b.suspended, after: now });
    const tags = Object.fromEntries(g.tags.map((t) => [t.key, t.value]));
    for (const k of new Set([...Object.keys(tags), ...Object.keys(b.tags)])) {
      if (tags[k] !== b.tags[k]) out.push({ what: 'tag', detail: `tag ${k}: ${b.tags[k] ?? '(none)'} -> ${tags[k] ?? '(none)'}`, before: b.tags[k], after: tags[k] });
    }
    if (g.newInstancesProtectedFromScaleIn !== b.newInstancesProtectedFromScaleIn) {
      out.push({ what: 'newInstancesProtectedFromScaleIn', detail: 'NewInstancesProtectedFromScaleIn changed', before: b.newInstancesProtectedFromScaleIn, after: g.newInstancesProtectedFromScaleIn });
    }
    for (const i of this.world.groupInstances(g)) {
      if (!this.world.isActive(i)) continue;
      const expected = b.protectedInstances.includes(i.id) || (i.launchTime > b.time && b.newInstancesProtectedFromScaleIn);
      if (!!i.protected !== expected) out.push({ what: 'protection', detail: `${i.id} ProtectedFromScaleIn ${expected} -> ${!!i.protected}`, before: expected, after: !!i.protected });
    }
    return out;
  }
}
