/**
 * AWS's own replacements in the simulated Auto Scaling ([SPOT-*], [LIFE-*] in ./SPEC.md): Spot
 * interruptions (EC2's two-minute notice, then its termination; the group replaces the instance
 * through its health checks), Capacity Rebalancing (a replacement launched first on EC2's
 * rebalance recommendation, the at-risk instance terminated once it passes its health checks) and
 * the maximum instance lifetime (instances that reach it are terminated, one at a time, and
 * replaced). Runs on the group loop [ASG-1]; draws from the PRNG only when a rate is set, so runs
 * that use none of these are unchanged.
 */
import type { GroupRec, InstanceRec } from '../model';
import type { World } from '../world';

/** The Spot Instance interruption notice: "two minutes before Amazon EC2 stops or terminates your Spot Instance" [SPOT-1]. */
export const SPOT_NOTICE_MS = 120_000;

/** The pause between two maximum-lifetime replacements of one group [LIFE-1] (ASSUMPTION: AWS gives no figure). */
export const LIFETIME_PAUSE_MS = 60_000;

export class SpotSim {
  constructor(private readonly w: World) {}

  /** EC2 gives a Spot instance its two-minute interruption notice [SPOT-1] (with a rebalance recommendation [SPOT-2]). */
  interrupt(inst: InstanceRec): void {
    if (inst.market !== 'spot' || inst.ec2State === 'shutting-down' || inst.ec2State === 'terminated' || inst.spotInterruptAt !== undefined) return;
    inst.spotInterruptAt = this.w.now + SPOT_NOTICE_MS;
    // "the rebalance recommendation signal can arrive along with the two-minute interruption notice"
    inst.rebalanceRecommended = true;
    this.w.changed(inst);
  }

  /** EC2's rebalance recommendation for a Spot instance [SPOT-2]. */
  recommendRebalance(inst: InstanceRec): void {
    if (inst.market !== 'spot' || inst.ec2State !== 'running' || inst.rebalanceRecommended) return;
    inst.rebalanceRecommended = true;
    this.w.changed(inst);
  }

  /** One loop [ASG-1]: the faults' draws, due interruptions, Capacity Rebalancing, maximum lifetime. */
  tick(periodMs: number): void {
    const w = this.w;
    const interruptRate = w.faults.spotInterruptionsPerHour ?? 0;
    const recommendRate = w.faults.rebalanceRecommendationsPerHour ?? 0;
    if (interruptRate > 0 || recommendRate > 0) {
      const pi = 1 - Math.exp((-interruptRate * periodMs) / 3600_000);
      const pr = 1 - Math.exp((-recommendRate * periodMs) / 3600_000);
      for (const inst of Object.values(w.state.instances)) {
        if (inst.market !== 'spot' || inst.ec2State !== 'running') continue;
        if (recommendRate > 0 && !inst.rebalanceRecommended && w.rng.chance(pr)) this.recommendRebalance(inst);
        if (interruptRate > 0 && inst.spotInterruptAt === undefined && w.rng.chance(pi)) this.interrupt(inst);
      }
    }
    for (const inst of Object.values(w.state.instances)) {
      if (inst.spotInterruptAt === undefined || inst.spotInterruptAt > w.now || inst.ec2State === 'shutting-down' || inst.ec2State === 'terminated') continue;
      const g = inst.group ? w.state.groups[inst.group] : undefined;
      w.link.reportTermination(inst, 'spot-interruption', g);
      w.ec2.terminate(inst, 'Server.SpotInstanceTermination: Spot instance termination');
    }
    for (const g of Object.values(w.state.groups)) {
      if (g.deleting) continue;
      if (g.capacityRebalance) this.capacityRebalance(g);
      if (g.maxInstanceLifetime) this.maxLifetime(g);
    }
  }

  /**
   * Capacity Rebalancing [SPOT-2]: for each active Spot instance with a rebalance recommendation
   * and no replacement in flight, launch one (Launch not suspended; up to max + max(1, 10 % of
   * max), as for AZ rebalancing [AZ-2]); once the replacement is ready (InService, past warm-up,
   * InService in every load balancer) terminate the at-risk instance (Terminate not suspended).
   */
  private capacityRebalance(g: GroupRec): void {
    const w = this.w;
    const insts = w.asg.groupInstances(g);
    const active = insts.filter((i) => w.asg.isActive(i));
    for (const atRisk of active) {
      if (atRisk.market !== 'spot' || !atRisk.rebalanceRecommended || atRisk.ec2State !== 'running') continue;
      const replacement = active.find((i) => i.replacesAtRisk === atRisk.id);
      if (!replacement) {
        if (w.asg.isSuspended(g, 'Launch')) continue;
        const allowance = Math.max(1, Math.floor(g.max * 0.1));
        if (w.asg.groupInstances(g).filter((i) => w.asg.isActive(i)).length + 1 > g.max + allowance) continue;
        const counts = new Map<string, number>(g.azs.map((z) => [z, 0]));
        for (const i of insts) if (w.asg.isActive(i)) counts.set(i.az, (counts.get(i.az) ?? 0) + 1);
        const launched = w.asg.launchOne(g, counts, `an instance was launched in response to an EC2 instance rebalance recommendation for ${atRisk.id}.`);
        if (launched) launched.replacesAtRisk = atRisk.id;
        continue;
      }
      if (w.asg.isSuspended(g, 'Terminate') || !w.link.isReady(g, replacement)) continue;
      w.asg.beginTermination(g, atRisk, 'capacity-rebalance', undefined, `an instance was taken out of service in response to an EC2 instance rebalance recommendation; its replacement ${replacement.id} is in service.`);
    }
  }

  /**
   * Maximum instance lifetime [LIFE-1]: the oldest active InService instance (not protected from
   * scale-in) whose age since launch reached MaxInstanceLifetime is terminated, and the group's
   * capacity loop launches its replacement (terminate first, the default without an instance
   * maintenance policy). One at a time, with a pause: the next no sooner than
   * {@link LIFETIME_PAUSE_MS} after the previous, once the previous one has left the group, and
   * only while the group is not below its desired capacity. AWS knows nothing of a deploy tool's
   * rollout: a surge instance still booting does not hold it back.
   */
  private maxLifetime(g: GroupRec): void {
    const w = this.w;
    if (w.asg.isSuspended(g, 'Terminate') || w.asg.isSuspended(g, 'Launch')) return;
    const insts = w.asg.groupInstances(g);
    const active = insts.filter((i) => w.asg.isActive(i));
    if (active.length < g.desired) return;
    if (insts.some((i) => i.lifetimeEnded)) return;
    if (g.lifetimeLastAt !== undefined && w.now - g.lifetimeLastAt < LIFETIME_PAUSE_MS) return;
    const limit = g.maxInstanceLifetime! * 1000;
    const due = active.filter((i) => i.lifecycle === 'InService' && !i.protected && w.now - i.launchTime >= limit).sort((a, b) => a.launchTime - b.launchTime || a.id.localeCompare(b.id));
    if (due.length === 0) return;
    due[0].lifetimeEnded = true;
    g.lifetimeLastAt = w.now;
    w.asg.beginTermination(g, due[0], 'max-lifetime', undefined, `an instance was taken out of service in response to the maximum instance lifetime of ${g.maxInstanceLifetime} seconds.`);
  }
}
