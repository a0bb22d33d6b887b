/**
 * Elastic Load Balancing v2 (ALB/NLB target groups) in the simulated AWS: registrations, the
 * health checks (HealthyThresholdCount / UnhealthyThresholdCount on HealthCheckIntervalSeconds),
 * DescribeTargetHealth's view (states and AWS's reason codes) and the deregistration delay.
 * Rules: ./SPEC.md ([TG-*]).
 *
 * A drained target that Auto Scaling is terminating goes back to the coupling (../coupling.ts);
 * the target group itself knows nothing about Auto Scaling groups.
 */
import type { Elbv2State, InstanceRec, TargetGroupRec, TargetRegRec } from '../model';
import type { World } from '../world';

/** What DescribeTargetHealth reports for a target (TargetHealth: State, Reason, Description). */
export interface TargetView {
  state: 'initial' | 'healthy' | 'unhealthy' | 'unused' | 'draining' | 'unavailable';
  reason?: string;
  description?: string;
}

/** The descriptions AWS publishes per reason code (ELB user guide, "Health check reason codes") [TG-4]. */
export const REASONS = {
  'Elb.RegistrationInProgress': 'Target registration is in progress',
  'Elb.InitialHealthChecking': 'Initial health checks in progress',
  'Target.FailedHealthChecks': 'Health checks failed',
  'Target.NotRegistered': 'Target is not registered to the target group',
  'Target.NotInUse': 'Target group is not configured to receive traffic from the load balancer',
  'Target.InvalidState': 'Target is in the terminated state',
  'Target.DeregistrationInProgress': 'Target deregistration is in progress',
  'Target.HealthCheckDisabled': 'Health checks are disabled',
} as const;

function view(state: TargetView['state'], reason?: keyof typeof REASONS): TargetView {
  return reason ? { state, reason, description: REASONS[reason] } : { state };
}

export class Elbv2Sim {
  constructor(private readonly w: World) {}

  /** The ELBv2 records (created on first use, so older saved worlds load). */
  get state(): Elbv2State {
    return (this.w.state.elbv2 ??= { targetGroups: {}, loadBalancers: {}, listeners: {}, rules: {} });
  }

  targetGroup(arn: string): TargetGroupRec | undefined {
    return this.w.state.elbv2?.targetGroups[arn];
  }

  /** The load balancers whose listeners or rules forward to the target group (any weight) [TG-1]. */
  loadBalancersOf(tg: TargetGroupRec): string[] {
    const s = this.state;
    const lbs = new Set<string>();
    for (const l of Object.values(s.listeners)) {
      if (forwardsTo(l.defaultActions, tg.arn)) lbs.add(l.loadBalancerArn);
    }
    for (const r of Object.values(s.rules)) {
      const l = s.listeners[r.listenerArn];
      if (l && forwardsTo(r.actions, tg.arn)) lbs.add(l.loadBalancerArn);
    }
    return [...lbs].sort();
  }

  inUse(tg: TargetGroupRec): boolean {
    return this.loadBalancersOf(tg).length > 0;
  }

  /** DescribeTargetHealth's view of a registered target [TG-3..6]. */
  targetView(tg: TargetGroupRec, inst: InstanceRec | undefined, reg: TargetRegRec): TargetView {
    if (reg.drainingUntil !== undefined) return view('draining', 'Target.DeregistrationInProgress');
    if (!inst || inst.ec2State === 'terminated' || inst.ec2State === 'shutting-down') return view('unused', 'Target.InvalidState');
    if (!this.inUse(tg)) return view('unused', 'Target.NotInUse');
    if (!tg.healthCheck.enabled) return view('unavailable', 'Target.HealthCheckDisabled');
    if (reg.state === 'healthy') return view('healthy');
    if (reg.state === 'unhealthy') return view('unhealthy', 'Target.FailedHealthChecks');
    if (reg.passes === 0 && reg.fails === 0) return view('initial', 'Elb.RegistrationInProgress');
    return view('initial', 'Elb.InitialHealthChecking');
  }

  /** The view of an instance id in a target group, registered or not [TG-4]. */
  viewOf(tg: TargetGroupRec, id: string): TargetView {
    const reg = tg.targets[id];
    if (!reg) return view('unused', 'Target.NotRegistered');
    return this.targetView(tg, this.w.state.instances[id], reg);
  }

  /** Serving: requests are routed to it (healthy, not draining) [TG-7]. */
  isServing(tg: TargetGroupRec, id: string): boolean {
    return this.viewOf(tg, id).state === 'healthy';
  }

  /** RegisterTargets (or Auto Scaling registering an instance) [TG-2]. Re-registering a draining target starts over. */
  register(tg: TargetGroupRec, id: string, port = tg.port): void {
    const w = this.w;
    const existing = tg.targets[id];
    if (existing && existing.drainingUntil === undefined) return;
    const reg: TargetRegRec = { instanceId: id, port, registeredAt: w.now, passes: 0, fails: 0, state: 'initial', gen: existing ? existing.gen + 1 : 0 };
    // Slow registration [FAULT-14]: drawn only when the fault is set (no draw otherwise).
    const slow = w.faults.targetRegistrationSeconds;
    if (slow !== undefined && slow !== 0) reg.checksFrom = w.now + Math.max(0, Math.round(w.sample(slow) * 1000));
    tg.targets[id] = reg;
    this.scheduleCheck(tg, reg, this.firstCheckAfter(tg, reg, w.now));
    const inst = w.state.instances[id];
    if (inst) w.changed(inst);
  }

  /**
   * DeregisterTargets (or Auto Scaling terminating the instance) [TG-6]: a target that serves
   * requests is `draining` for the deregistration delay (or until its in-flight requests finish,
   * per `faults.connectionDrain`); one that serves none is removed at once. Returns when draining ends.
   */
  deregister(tg: TargetGroupRec, id: string): number | undefined {
    const w = this.w;
    const reg = tg.targets[id];
    if (!reg || reg.drainingUntil !== undefined) return reg?.drainingUntil;
    const inst = w.state.instances[id];
    const serving = this.targetView(tg, inst, reg).state === 'healthy';
    const drainMs = serving && tg.deregistrationDelay > 0 ? w.connectionDrainMs(tg.deregistrationDelay) : 0;
    if (drainMs > 0) {
      reg.drainingUntil = w.now + drainMs;
      reg.gen++;
      w.schedule({ at: reg.drainingUntil, kind: 'tg-drained', tg: tg.arn, id });
      if (inst) w.changed(inst);
      return reg.drainingUntil;
    }
    delete tg.targets[id];
    if (inst) w.changed(inst);
    return undefined;
  }

  /** An instance EC2 terminated is gone from every target group [TG-5]. */
  forget(id: string): void {
    for (const tg of Object.values(this.w.state.elbv2?.targetGroups ?? {})) if (tg.targets[id]) delete tg.targets[id];
  }

  isDraining(inst: InstanceRec): boolean {
    for (const tg of Object.values(this.w.state.elbv2?.targetGroups ?? {})) if (tg.targets[inst.id]?.drainingUntil !== undefined) return true;
    return false;
  }

  /** The `tg-drained` event: the deregistration completes [TG-6]. */
  onDrained(arn: string, id: string): void {
    const w = this.w;
    const tg = this.targetGroup(arn);
    const reg = tg?.targets[id];
    if (!tg || !reg || reg.drainingUntil === undefined || reg.drainingUntil > w.now) return;
    delete tg.targets[id];
    const inst = w.state.instances[id];
    if (!inst) return;
    w.changed(inst);
    w.link.drained(inst);
  }


  /**
   * Checks run at registeredAt + k × interval, k ≥ 1: the first strictly after `t` [TG-3] — and,
   * while a slow registration is in progress [FAULT-14], the first at or after its end.
   */
  private firstCheckAfter(tg: TargetGroupRec, reg: TargetRegRec, t: number): number {
    if (reg.checksFrom !== undefined && t < reg.checksFrom) t = reg.checksFrom - 1;
    const I = tg.healthCheck.interval * 1000;
    return reg.registeredAt + Math.max(1, Math.floor((t - reg.registeredAt) / I) + 1) * I;
  }

  private scheduleCheck(tg: TargetGroupRec, reg: TargetRegRec, at: number): void {
    reg.gen++;
    this.w.schedule({ at, kind: 'tg-check', tg: tg.arn, id: reg.instanceId, gen: reg.gen });
  }

  /** Something about the instance changed (it started running): re-check at its next slot. */
  poke(inst: InstanceRec): void {
    for (const tg of Object.values(this.w.state.elbv2?.targetGroups ?? {})) {
      const reg = tg.targets[inst.id];
      if (reg && reg.drainingUntil === undefined) this.scheduleCheck(tg, reg, this.firstCheckAfter(tg, reg, this.w.now));
    }
  }

  /**
   * Health check settings changed, or the target group was just put in use by a listener or rule:
   * every target starts its initial checks again from now [TG-3, TG-8].
   */
  restartChecks(tg: TargetGroupRec): void {
    for (const reg of Object.values(tg.targets)) {
      if (reg.drainingUntil !== undefined) continue;
      Object.assign(reg, { registeredAt: this.w.now, passes: 0, fails: 0, state: 'initial' });
      this.scheduleCheck(tg, reg, this.firstCheckAfter(tg, reg, this.w.now));
      const inst = this.w.state.instances[reg.instanceId];
      if (inst) this.w.changed(inst);
    }
  }

  /** One health check [TG-3]: HealthyThresholdCount passes -> healthy, UnhealthyThresholdCount failures -> unhealthy. */
  onCheck(arn: string, id: string, gen: number): void {
    const w = this.w;
    const tg = this.targetGroup(arn);
    const reg = tg?.targets[id];
    if (!tg || !reg || reg.gen !== gen || reg.drainingUntil !== undefined) return;
    const inst = w.state.instances[id];
    const ok = inst ? w.elb.appOk(inst, w.now) : false;
    const hc = tg.healthCheck;
    const before = reg.state;
    const first = reg.passes + reg.fails === 0;
    if (ok) {
      reg.passes++;
      reg.fails = 0;
      if (reg.state !== 'healthy' && reg.passes >= hc.healthyThreshold) reg.state = 'healthy';
    } else {
      reg.fails++;
      reg.passes = 0;
      if (reg.state !== 'unhealthy' && reg.fails >= hc.unhealthyThreshold) reg.state = 'unhealthy';
    }
    if (inst && (reg.state !== before || first)) w.changed(inst);
    // Checks go on at every interval while the target is registered (no skipping ahead: simpler, and
    // a target group has few targets in the tests that use it).
    if (inst && inst.ec2State !== 'terminated') this.scheduleCheck(tg, reg, w.now + hc.interval * 1000);
  }
}

/** Does this action list forward to the target group (TargetGroupArn, or any ForwardConfig tuple)? */
export function forwardsTo(actions: any[], arn: string): boolean {
  return actions.some((a) => a?.Type === 'forward' && (a.TargetGroupArn === arn || (a.ForwardConfig?.TargetGroups ?? []).some((t: any) => t.TargetGroupArn === arn)));
}
