/**
 * Where the simulated services meet: every rule that involves more than one AWS service lives
 * here, so each service module (./ec2, ./autoscaling, ./elb, ./s3) stays about its own API.
 *
 * - EC2 -> Auto Scaling / ELB: an instance that starts running goes InService in its group and is
 *   registered with the group's load balancers [ASG-6]; one EC2 terminates leaves every load
 *   balancer and (if Auto Scaling was terminating it) the group [EC2-3, ASG-7].
 * - Auto Scaling -> ELB: a terminating instance is deregistered and drained first [ASG-7, ELB-6];
 *   a drained one goes on to EC2 terminate.
 * - ELB -> Auto Scaling: ELB health checks mark instances unhealthy, paced the way AWS paces its
 *   replacements [HEALTH-2, HEALTH-6], gated by the load balancer's attachment state [ELB-7].
 * - The safety monitor's view: an instance is healthy when its group and every attached load
 *   balancer say so.
 *
 * Rules: ./SPEC.md (§ Health, § Safety monitor) and the per-service SPEC files.
 * A new load-balancing service (target groups) or an alarm source adds its coupling here.
 */
import type { CallRef, GroupRec, InstanceRec, LbAttachState, TerminationRecord } from './model';
import type { World } from './world';
import { holdForLaunchHooks } from './autoscaling/hooks';

export class Coupling {
  constructor(private readonly w: World) {}

  // ---------------------------------------------------------------- EC2 state changes

  /** EC2 `running`: a Pending group member goes InService (registering first) [ASG-6]; the ELBs re-check. */
  instanceRunning(inst: InstanceRec): void {
    const w = this.w;
    const g = inst.group ? w.state.groups[inst.group] : undefined;
    // Launch lifecycle hooks hold it in Pending:Wait first [HOOK-2]; a warmed one goes on into its pool [WARM-3].
    if (g && inst.lifecycle === 'Pending' && !holdForLaunchHooks(w, g, inst)) w.asg.putInService(g, inst);
    if (inst.warmPoolOf) w.warmPool.onRunning(inst);
    w.elb.pokeElbs(inst);
    w.elbv2.poke(inst);
  }

  /** EC2 terminated the instance during launch [FAULT-11]: its launch activity fails. */
  launchFailed(inst: InstanceRec): void {
    this.w.asg.launchFailed(inst);
  }

  /** EC2 `terminated`: gone from every load balancer; out of the group if Auto Scaling was terminating it [EC2-3, ASG-8]. */
  instanceTerminated(inst: InstanceRec): void {
    const w = this.w;
    w.elb.forget(inst.id);
    w.elbv2.forget(inst.id);
    const g = inst.group ? w.state.groups[inst.group] : undefined;
    if (inst.warmPoolOf) w.warmPool.onTerminated(inst);
    if (g) {
      if (!inst.lifecycle?.startsWith('Terminating')) {
        // Terminated outside the ASG: it notices on its next health check [ASG-8]; until then it
        // still lists the instance (as Unhealthy after the check).
      } else {
        w.asg.removeFromGroup(g, inst);
      }
    }
  }

  // ---------------------------------------------------------------- ASG <-> ELB registration

  /** Registers an instance going InService with the group's load balancers [ASG-6]. */
  registerWithGroupLbs(g: GroupRec, inst: InstanceRec): void {
    const w = this.w;
    for (const name of g.loadBalancerNames) {
      const elb = w.state.elbs[name];
      if (elb) w.elb.register(elb, inst.id);
    }
    for (const arn of g.targetGroupARNs) {
      const tg = w.elbv2.targetGroup(arn);
      if (tg) w.elbv2.register(tg, inst.id);
    }
  }

  /**
   * Deregisters a terminating instance from the group's load balancers (others keep it until EC2
   * terminates it); returns when the last connection draining ends, undefined when none [ASG-7, ELB-6].
   */
  deregisterFromGroupLbs(g: GroupRec, inst: InstanceRec): number | undefined {
    const w = this.w;
    let until: number | undefined;
    for (const name of g.loadBalancerNames) {
      const elb = w.state.elbs[name];
      const d = elb ? w.elb.deregister(elb, inst.id) : undefined;
      if (d !== undefined) until = Math.max(until ?? 0, d);
    }
    // Target groups drain for their deregistration delay [TG-6, TG-9].
    for (const arn of g.targetGroupARNs) {
      const tg = w.elbv2.targetGroup(arn);
      const d = tg ? w.elbv2.deregister(tg, inst.id) : undefined;
      if (d !== undefined) until = Math.max(until ?? 0, d);
    }
    return until;
  }

  /** A load balancer finished draining the instance: a terminating one goes on to EC2 terminate [ASG-7]; one entering Standby is in Standby [ASG-10]. */
  drained(inst: InstanceRec): void {
    const draining = this.w.elb.isDraining(inst) || this.w.elbv2.isDraining(inst);
    if (inst.lifecycle === 'Terminating' && !draining) this.w.asg.finishTermination(inst);
    // Entering Standby waits for the deregistration the same way [ASG-10].
    else if (inst.lifecycle === 'EnteringStandby' && !draining) this.w.asg.finishEnterStandby(inst);
  }

  // ---------------------------------------------------------------- ELB health -> ASG

  /** A classic ELB's attachment state for the group; one attached at creation is InService [ELB-7]. */
  attachState(g: GroupRec, name: string): LbAttachState {
    return g.lbStates?.[name] ?? (g.loadBalancerNames.includes(name) ? 'InService' : 'Removed');
  }

  /**
   * Attachment states move on with the loop [ELB-7]: Adding -> Added once the group's InService
   * instances are registered (AttachLoadBalancers registers them at once); Added -> InService once
   * one of them passed the health check, only with ELB health checks ("If EC2 health checks are
   * enabled instead, the load balancer remains in the Added state"); Removing -> gone once none of
   * the group's instances is still registered or draining.
   */
  advanceAttachments(g: GroupRec, insts: InstanceRec[]): void {
    if (!g.lbStates) return;
    for (const [name, st] of Object.entries(g.lbStates)) {
      const elb = this.w.state.elbs[name];
      if (st === 'Removing') {
        if (!elb || !insts.some((i) => elb.registrations[i.id])) delete g.lbStates[name];
        continue;
      }
      if (!elb) continue;
      if (st === 'Adding') {
        const all = insts.filter((i) => i.lifecycle === 'InService').every((i) => elb.registrations[i.id]);
        if (all) g.lbStates[name] = 'Added';
      } else if (st === 'Added' && g.healthCheckType === 'ELB') {
        if (insts.some((i) => elb.registrations[i.id]?.everPassed)) g.lbStates[name] = 'InService';
      }
    }
  }

  /** The ELB health check fails the instance: OutOfService in a load balancer whose attachment is InService [HEALTH-2, ELB-7]. */
  failsElbHealthCheck(g: GroupRec, inst: InstanceRec): boolean {
    const w = this.w;
    for (const name of g.loadBalancerNames) {
      const elb = w.state.elbs[name];
      const reg = elb?.registrations[inst.id];
      // Only a load balancer whose attachment is InService gets instances replaced [ELB-7].
      if (elb && reg && this.attachState(g, name) === 'InService' && w.elb.elbView(elb, inst, reg).state === 'OutOfService') return true;
    }
    // A target group reports it `unhealthy` (`initial` is not yet a failure) [TG-9].
    for (const arn of g.targetGroupARNs) {
      const tg = w.elbv2.targetGroup(arn);
      if (tg && tg.targets[inst.id] && w.elbv2.viewOf(tg, inst.id).state === 'unhealthy') return true;
    }
    return false;
  }

  /**
   * ELB-unhealthy marking paced the way AWS paces its replacements [HEALTH-6]: at most
   * `max(1, floor(10 % of desired))` replacements in flight — a replacement is in flight from the
   * moment its predecessor is marked until it is InService in every attached ELB and past the
   * group's default instance warm-up — so AWS marks fewer instances unhealthy than are failing
   * when many fail at once (the rest stay `Healthy` until a slot frees). A failing replacement
   * hands its slot on to its own replacement.
   */
  markElbUnhealthy(g: GroupRec, insts: InstanceRec[], failing: InstanceRec[]): void {
    const w = this.w;
    let inFlight = g.replaceDebt ?? 0;
    for (const i of insts) {
      if (!i.elbReplacement) continue;
      if (!w.asg.isActive(i)) {
        i.elbReplacement = undefined;
        continue;
      }
      if (this.isReady(g, i)) i.elbReplacement = undefined;
      else inFlight++;
    }
    const budget = Math.max(1, Math.floor(g.desired * 0.1));
    // Failing replacements first: their slot is already counted.
    const ordered = [...failing.filter((i) => i.elbReplacement), ...failing.filter((i) => !i.elbReplacement)];
    for (const inst of ordered) {
      // A failing replacement's own slot passes to its replacement.
      const slot = inst.elbReplacement ? 1 : 0;
      if (inFlight - slot >= budget) break;
      inst.elbReplacement = undefined;
      inst.health = 'Unhealthy';
      inFlight += 1 - slot;
      w.changed(inst);
    }
  }

  /** Ready to serve: InService, EC2 running, past the default instance warm-up, InService in every attached ELB [HEALTH-6]. */
  isReady(g: GroupRec, i: InstanceRec): boolean {
    const w = this.w;
    if (i.lifecycle !== 'InService' || i.ec2State !== 'running') return false;
    if (w.now < (i.inServiceAt ?? 0) + (g.defaultInstanceWarmup ?? 0) * 1000) return false;
    for (const name of g.loadBalancerNames) {
      const elb = w.state.elbs[name];
      const reg = elb?.registrations[i.id];
      if (elb && (!reg || w.elb.elbView(elb, i, reg).state !== 'InService')) return false;
    }
    for (const arn of g.targetGroupARNs) {
      const tg = w.elbv2.targetGroup(arn);
      if (tg && w.elbv2.viewOf(tg, i.id).state !== 'healthy') return false;
    }
    return true;
  }

  // ---------------------------------------------------------------- the safety monitor's view

  /** Healthy for the safety monitor: ASG InService+Healthy, EC2 running, InService in every attached ELB. */
  isHealthy(inst: InstanceRec): boolean {
    const w = this.w;
    if (inst.lifecycle !== 'InService' || inst.health !== 'Healthy' || inst.ec2State !== 'running') return false;
    const g = inst.group ? w.state.groups[inst.group] : undefined;
    if (!g) return false;
    for (const name of g.loadBalancerNames) {
      const elb = w.state.elbs[name];
      const reg = elb?.registrations[inst.id];
      // A draining instance takes no new requests: not healthy for the monitor.
      if (!elb || !reg || reg.drainingUntil !== undefined || w.elb.elbView(elb, inst, reg).state !== 'InService') return false;
    }
    // `healthy` in every attached target group (not initial, not draining) [TG-9].
    for (const arn of g.targetGroupARNs) {
      const tg = w.elbv2.targetGroup(arn);
      if (!tg || w.elbv2.viewOf(tg, inst.id).state !== 'healthy') return false;
    }
    return true;
  }

  /** The instance's state in every load balancer it is registered with. */
  elbStates(inst: InstanceRec): Record<string, string> {
    const out: Record<string, string> = {};
    for (const elb of Object.values(this.w.state.elbs)) {
      const reg = elb.registrations[inst.id];
      if (reg) out[elb.name] = this.w.elb.elbView(elb, inst, reg).state;
    }
    for (const tg of Object.values(this.w.state.elbv2?.targetGroups ?? {})) {
      if (tg.targets[inst.id]) out[`tg ${tg.name}`] = this.w.elbv2.viewOf(tg, inst.id).state;
    }
    return out;
  }

  /** Tells the safety monitor an instance is about to go (Auto Scaling's termination, or EC2's own). */
  reportTermination(inst: InstanceRec, cause: TerminationRecord['cause'], g?: GroupRec, call?: CallRef): void {
    const w = this.w;
    if (!w.observer) return;
    if (g) {
      w.observer.terminated({
        time: w.now,
        instanceId: inst.id,
        group: g.name,
        cause,
        call,
        healthy: this.isHealthy(inst),
        upToDate: w.asg.isUpToDate(inst, g),
        launch: inst.launch,
        launchTime: inst.launchTime,
      });
      return;
    }
    w.observer.terminated({
      time: w.now, instanceId: inst.id, group: inst.group, cause, healthy: this.isHealthy(inst),
      upToDate: inst.group && w.state.groups[inst.group] ? w.asg.isUpToDate(inst, w.state.groups[inst.group]) : false, launch: inst.launch, launchTime: inst.launchTime,
    });
  }
}
