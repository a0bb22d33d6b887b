/**
 * Classic Elastic Load Balancing in the simulated AWS: registrations, the health check
 * (HealthyThreshold / UnhealthyThreshold on the Interval), DescribeInstanceHealth's view, and
 * connection draining. Rules: ./SPEC.md ([ELB-*]).
 *
 * A drained instance that Auto Scaling is terminating goes back to the coupling
 * (../coupling.ts); the load balancer itself knows nothing about groups.
 */
import { NEVER, type ElbRec, type InstanceRec, type RegistrationRec } from '../model';
import type { World } from '../world';

export interface ElbView {
  state: 'InService' | 'OutOfService';
  reasonCode: string;
  description: string;
}

export class ElbSim {
  constructor(private readonly w: World) {}

  /** What DescribeInstanceHealth reports for a registered instance [ELB-2..5]. */
  elbView(elb: ElbRec, inst: InstanceRec | undefined, reg: RegistrationRec): ElbView {
    // While draining, classic ELB reports "InService: Instance deregistration currently in progress" [ELB-6].
    if (reg.drainingUntil !== undefined) return { state: 'InService', reasonCode: 'ELB', description: 'Instance deregistration currently in progress.' };
    if (!inst || inst.ec2State === 'terminated' || inst.ec2State === 'shutting-down') {
      return { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance is in terminated state.' };
    }
    if (inst.ec2State === 'pending') return { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance is in pending state.' };
    // An instance in an AZ the load balancer is not enabled for gets no traffic [ELB-8].
    if (!this.zoneEnabled(elb, inst)) {
      return { state: 'OutOfService', reasonCode: 'ELB', description: 'Instance is in the EC2 Availability Zone for which LoadBalancer is not configured to route traffic to.' };
    }
    if (reg.state === 'InService') return { state: 'InService', reasonCode: 'N/A', description: 'N/A' };
    if (!reg.everPassed && reg.passes === 0 && reg.fails === 0) {
      return { state: 'OutOfService', reasonCode: 'ELB', description: 'Instance registration is still in progress.' };
    }
    if (!reg.everPassed) {
      return { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance has not passed the configured HealthyThreshold number of health checks consecutively.' };
    }
    return { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.' };
  }

  register(elb: ElbRec, id: string): void {
    const w = this.w;
    const existing = elb.registrations[id];
    if (existing && existing.drainingUntil === undefined) return;
    const reg: RegistrationRec = { instanceId: id, registeredAt: w.now, passes: 0, fails: 0, state: 'OutOfService', everPassed: false, gen: 0 };
    // [ELB-2] a drawn check phase: the first check somewhere in (0, Interval] after registering.
    if (w.faults.elbCheckPhase === 'random') reg.phaseMs = Math.max(1, Math.round(w.sample({ min: 0, max: elb.healthCheck.interval }) * 1000));
    elb.registrations[id] = reg;
    this.scheduleCheck(elb, reg, this.firstCheckAfter(elb, reg, w.now));
    const inst = w.state.instances[id];
    if (inst) w.changed(inst);
  }

  /** Deregister; with connection draining the instance stays "deregistration in progress" up to the timeout [ELB-6]. */
  deregister(elb: ElbRec, id: string): number | undefined {
    const w = this.w;
    const reg = elb.registrations[id];
    if (!reg || reg.drainingUntil !== undefined) return reg?.drainingUntil;
    const inst = w.state.instances[id];
    // Only an instance the ELB routes requests to has any to drain: one it reports OutOfService
    // (still registering, never passed, or failed) is deregistered at once [ELB-6].
    const serving = inst !== undefined && inst.ec2State === 'running' && this.elbView(elb, inst, reg).state === 'InService';
    const drainMs = elb.draining.enabled && elb.draining.timeout > 0 && serving ? w.connectionDrainMs(elb.draining.timeout) : 0;
    if (drainMs > 0) {
      reg.drainingUntil = w.now + drainMs;
      reg.gen++;
      w.schedule({ at: reg.drainingUntil, kind: 'drained', elb: elb.name, id });
      w.changed(inst);
      return reg.drainingUntil;
    }
    delete elb.registrations[id];
    if (inst) w.changed(inst);
    return undefined;
  }

  /** An instance EC2 terminated is gone from every load balancer [EC2-3]. */
  forget(id: string): void {
    for (const elb of Object.values(this.w.state.elbs)) {
      if (elb.registrations[id]) delete elb.registrations[id];
    }
  }


  /** The `drained` event: the deregistration completes [ELB-6]. */
  onDrained(elbName: string, id: string): void {
    const w = this.w;
    const elb = w.state.elbs[elbName];
    const reg = elb?.registrations[id];
    if (!elb || !reg || reg.drainingUntil === undefined || reg.drainingUntil > w.now) return;
    delete elb.registrations[id];
    const inst = w.state.instances[id];
    if (!inst) return;
    w.changed(inst);
    w.link.drained(inst);
  }

  isDraining(inst: InstanceRec): boolean {
    for (const elb of Object.values(this.w.state.elbs)) if (elb.registrations[inst.id]?.drainingUntil !== undefined) return true;
    return false;
  }

  /**
   * The load balancer routes to the instance's AZ [ELB-8]. A load balancer created with neither
   * AvailabilityZones nor Subnets (the sandbox accepts that; AWS does not) routes to every AZ.
   */
  zoneEnabled(elb: ElbRec, inst: InstanceRec): boolean {
    return elb.azs.length === 0 || elb.azs.includes(inst.az);
  }

  /** Application answers the health check at `t` [ELB-3]. */
  appOk(inst: InstanceRec, t: number): boolean {
    return inst.ec2State === 'running' && t >= inst.appUpAt && !(inst.failAt !== undefined && t >= inst.failAt);
  }

  private nextAppChange(inst: InstanceRec, t: number): number {
    let n = Infinity;
    if (inst.appUpAt > t && inst.appUpAt < NEVER) n = Math.min(n, inst.appUpAt);
    if (inst.failAt !== undefined && inst.failAt > t) n = Math.min(n, inst.failAt);
    if (inst.ec2State === 'pending' && inst.runningAt > t) n = Math.min(n, inst.runningAt);
    return n;
  }

  /**
   * Checks run at origin + k*Interval, k >= 1, where origin = registeredAt + phase − Interval
   * (phase one Interval by default: registeredAt + k*Interval): the first check strictly after `t`.
   */
  private firstCheckAfter(elb: ElbRec, reg: RegistrationRec, t: number): number {
    const I = elb.healthCheck.interval * 1000;
    const origin = reg.registeredAt + (reg.phaseMs ?? I) - I;
    const k = Math.max(1, Math.floor((t - origin) / I) + 1);
    return origin + k * I;
  }

  /** The first check at or after `t`. */
  private firstCheckFrom(elb: ElbRec, reg: RegistrationRec, t: number): number {
    const I = elb.healthCheck.interval * 1000;
    const origin = reg.registeredAt + (reg.phaseMs ?? I) - I;
    const k = Math.max(1, Math.ceil((t - origin) / I));
    return origin + k * I;
  }

  private scheduleCheck(elb: ElbRec, reg: RegistrationRec, at: number): void {
    reg.gen++;
    this.w.schedule({ at, kind: 'check', elb: elb.name, id: reg.instanceId, gen: reg.gen });
  }

  /** Something about the instance changed outside the known schedule: re-check at the next slot. */
  pokeElbs(inst: InstanceRec): void {
    for (const elb of Object.values(this.w.state.elbs)) {
      const reg = elb.registrations[inst.id];
      if (reg && reg.drainingUntil === undefined) this.scheduleCheck(elb, reg, this.firstCheckAfter(elb, reg, this.w.now));
    }
  }

  /** Health check changed (ConfigureHealthCheck): restart the check phase of every registration. */
  restartChecks(elb: ElbRec): void {
    for (const reg of Object.values(elb.registrations)) {
      if (reg.drainingUntil !== undefined) continue;
      reg.registeredAt = this.w.now;
      this.scheduleCheck(elb, reg, this.firstCheckAfter(elb, reg, this.w.now));
    }
  }

  /** One health check [ELB-3/4]: HealthyThreshold passes -> InService, UnhealthyThreshold failures -> OutOfService. */
  onCheck(elbName: string, id: string, gen: number): void {
    const w = this.w;
    const elb = w.state.elbs[elbName];
    const reg = elb?.registrations[id];
    if (!elb || !reg || reg.gen !== gen || reg.drainingUntil !== undefined) return;
    const inst = w.state.instances[id];
    const t = w.now;
    const ok = inst ? this.appOk(inst, t) && this.zoneEnabled(elb, inst) : false;
    const hc = elb.healthCheck;
    const before = reg.state;
    if (ok) {
      reg.passes++;
      reg.fails = 0;
      if (reg.state === 'OutOfService' && reg.passes >= hc.healthyThreshold) {
        reg.state = 'InService';
        reg.everPassed = true;
      }
    } else {
      reg.fails++;
      reg.passes = 0;
      if (reg.state === 'InService' && reg.fails >= hc.unhealthyThreshold) reg.state = 'OutOfService';
    }
    if (inst && (reg.state !== before || reg.passes + reg.fails === 1)) w.changed(inst);
    // Steady (further checks change nothing until the app's health changes): skip ahead.
    const steady = (reg.state === 'InService' && ok) || (reg.state === 'OutOfService' && !ok);
    if (!steady) {
      this.scheduleCheck(elb, reg, t + hc.interval * 1000);
    } else if (inst) {
      const change = this.nextAppChange(inst, t);
      if (change !== Infinity) this.scheduleCheck(elb, reg, this.firstCheckFrom(elb, reg, change));
    }
  }
}
