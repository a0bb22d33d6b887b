/**
 * Auto Scaling in the simulated AWS: groups, their periodic loop (health checks, replacement of
 * unhealthy instances, capacity, AZ rebalancing), scaling activities, launches and terminations.
 * Rules: ./SPEC.md ([ASG-*], [TERM-*], [PROC-*], [AZ-*], [HEALTH-*]).
 *
 * Whatever involves a load balancer (registering on InService, deregistering and draining on
 * termination, ELB health, attachment states) goes through the coupling (../coupling.ts).
 */
import type { ActivityRec, CallRef, GroupRec, InstanceRec, LaunchRef, TerminationRecord } from '../model';
import type { World } from '../world';
import { holdForLaunchHooks, holdForTerminateHooks } from './hooks';
import { planMixedLaunch } from './mixed';
import { pickForScaleIn } from './termination-policy';

/** The ASG's periodic loop (health checks, replacement of unhealthy instances, AZRebalance) [ASG-1]. */
export const TICK_MS = 10_000;
/** A capacity change requested through the API starts its scaling activity this long after the call [ASG-1a]. */
export const SCALE_DELAY_MS = 1_000;
const MAX_ACTIVITIES_PER_GROUP = 500;
/**
 * After a launch failed in a zone for want of capacity, launches avoid that zone this long, then try
 * it again [ASG-3a] (ASSUMPTION: AWS documents that balanced-best-effort launches in another zone,
 * not for how long).
 */
export const FAILED_ZONE_AVOID_MS = 10 * 60_000;

export const ALL_PROCESSES = [
  'Launch', 'Terminate', 'AddToLoadBalancer', 'AlarmNotification', 'AZRebalance', 'HealthCheck',
  'InstanceRefresh', 'ReplaceUnhealthy', 'ScheduledActions',
];

export class AutoScalingSim {
  constructor(private readonly w: World) {}

  isSuspended(g: GroupRec, process: string): boolean {
    return g.suspended.some((p) => p.name === process);
  }

  groupInstances(g: GroupRec): InstanceRec[] {
    const out: InstanceRec[] = [];
    for (const id of g.instances) {
      const i = this.w.state.instances[id];
      if (i) out.push(i);
    }
    return out;
  }

  /** Counts toward capacity: everything not on its way out and not set aside in Standby [ASG-2, ASG-10]. */
  isActive(inst: InstanceRec): boolean {
    return inst.lifecycle !== undefined && !inst.lifecycle.startsWith('Terminat') && inst.lifecycle !== 'Detached' && !this.isStandby(inst);
  }

  /** Entering or in Standby: part of the group, but not its capacity, not health-checked, never scaled in [ASG-10]. */
  isStandby(inst: InstanceRec): boolean {
    return inst.lifecycle === 'EnteringStandby' || inst.lifecycle === 'Standby';
  }

  /** The group's launch spec resolved now (what a launch would use). */
  currentLaunch(g: GroupRec): LaunchRef {
    const spec = g.launchTemplate ?? groupLtFromMixed(g);
    if (spec) {
      const lt = this.w.state.launchTemplates[spec.id];
      const v = lt && this.w.ec2.resolveVersion(lt, spec.version);
      if (lt && v) return { kind: 'lt', id: lt.id, name: lt.name, version: v.version };
      return { kind: 'none' };
    }
    if (g.launchConfigurationName) return { kind: 'lc', name: g.launchConfigurationName };
    return { kind: 'none' };
  }

  isUpToDate(inst: InstanceRec, g: GroupRec): boolean {
    const cur = this.currentLaunch(g);
    const l = inst.launch;
    if (cur.kind === 'lt' && l.kind === 'lt') return cur.id === l.id && cur.version === l.version;
    if (cur.kind === 'lc' && l.kind === 'lc') return cur.name === l.name;
    return false;
  }

  /** A scaling activity finished: Successful, 100 %, ended now (nothing when there is none). */
  private completeActivity(id: string | undefined): void {
    const act = id ? this.w.state.activities[id] : undefined;
    if (!act) return;
    act.status = 'Successful';
    act.progress = 100;
    act.endTime = this.w.now;
  }

  addActivity(g: GroupRec, a: Omit<ActivityRec, 'id' | 'group' | 'startTime' | 'progress' | 'details'> & { progress?: number }): ActivityRec {
    const w = this.w;
    const act: ActivityRec = {
      id: w.uuid(),
      group: g.name,
      startTime: w.now,
      progress: a.progress ?? 0,
      details: JSON.stringify({ 'Subnet ID': '', 'Availability Zone': '' }),
      ...a,
    };
    w.state.activities[act.id] = act;
    g.activities.push(act.id);
    if (g.activities.length > MAX_ACTIVITIES_PER_GROUP) {
      for (const old of g.activities.splice(0, g.activities.length - MAX_ACTIVITIES_PER_GROUP)) delete w.state.activities[old];
    }
    return act;
  }

  private iso(t = this.w.now): string {
    return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private causeText(g: GroupRec, what: string): string {
    const c = g.lastDesiredChange;
    const user = c ? `At ${this.iso(c.time)} a user request (${c.operation}) set the desired capacity to ${g.desired}. ` : '';
    return `${user}At ${this.iso()} ${what}`;
  }

  /** AZs a launch may use, fewest active instances first (ties: AZ name) [ASG-3]. */
  private launchZones(g: GroupRec, counts: Map<string, number>): string[] {
    return [...g.azs].sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || a.localeCompare(b));
  }

  private zoneCounts(g: GroupRec, insts: InstanceRec[]): Map<string, number> {
    const counts = new Map<string, number>(g.azs.map((z) => [z, 0]));
    for (const i of insts) if (this.isActive(i)) counts.set(i.az, (counts.get(i.az) ?? 0) + 1);
    return counts;
  }

  /** A failed launch: its Failed scaling activity and the group's launch back-off [ASG-4, FAULT-3]. */
  failedLaunch(g: GroupRec, what: string, cause: string, reason: string): void {
    const w = this.w;
    this.addActivity(g, { description: `${what}  Status Reason: ${reason}`, cause, status: 'Failed', statusMessage: reason, endTime: w.now, progress: 100 });
    g.launchFailures++;
    g.launchBackoffUntil = w.now + Math.min(300_000, TICK_MS * 2 ** Math.min(5, g.launchFailures - 1));
  }

  /** The tags an instance the group launches carries: its group name and the tags propagated at launch. */
  launchTags(g: GroupRec): Record<string, string> {
    const tags: Record<string, string> = { 'aws:autoscaling:groupName': g.name };
    for (const t of g.tags) if (t.propagateAtLaunch) tags[t.key] = t.value;
    return tags;
  }

  /** One launch attempt; a failure is a Failed scaling activity [ASG-4, FAULT-3]. */
  launchOne(g: GroupRec, counts: Map<string, number>, why: string, rebalance = false): InstanceRec | undefined {
    const w = this.w;
    // A warm start: the warm pool's first ready instance, whatever spec it was launched from [WARM-4].
    // In the zone the launch would go to, so that warm starts keep the zones balanced [ASG-3].
    const warm = rebalance || !g.warmPool ? undefined : w.warmPool.take(g, this.launchZones(g, counts).filter((z) => !w.faults.unavailableZones.includes(z))[0]);
    if (warm) {
      counts.set(warm.az, (counts.get(warm.az) ?? 0) + 1);
      const act = this.addActivity(g, {
        description: `Launching a new EC2 instance from warm pool: ${warm.id}`,
        cause: this.causeText(g, why),
        status: 'InProgress',
        progress: 30,
      });
      act.details = JSON.stringify({ 'Subnet ID': warm.subnetId, 'Availability Zone': warm.az });
      warm.launchActivity = act.id;
      // Kept running in the pool: no EC2 start to wait for.
      if (warm.ec2State === 'running' && !holdForLaunchHooks(w, g, warm)) this.putInService(g, warm);
      w.changed(warm);
      return warm;
    }
    const launch = this.currentLaunch(g);
    let data: Record<string, any> = {};
    if (launch.kind === 'lt') data = w.ec2.resolveVersion(w.state.launchTemplates[launch.id], String(launch.version))!.data;
    else if (launch.kind === 'lc') {
      const lc = w.state.launchConfigurations[launch.name];
      data = lc ? { ImageId: lc.imageId, InstanceType: lc.instanceType } : {};
    }
    // A mixed instances group: On-Demand or Spot, and the override's instance type [MIX-3, MIX-4].
    const mixed = g.mixedInstancesPolicy && launch.kind === 'lt' ? planMixedLaunch(g, this.groupInstances(g).filter((i) => this.isActive(i))) : undefined;
    if (mixed?.instanceType) data = { ...data, InstanceType: mixed.instanceType };
    const instanceType = data.InstanceType ?? 't3.micro';
    const zones = this.launchZones(g, counts);
    // [ASG-3a] The zone [ASG-3] picks is tried, without capacity or not: the attempt fails there
    // (EC2's InsufficientInstanceCapacity), and with AWS's default balanced-best-effort
    // distribution the next attempts go to the other zones while it stays avoided.
    // An AZRebalance launch goes to the smallest zone with capacity ([AZ-1] weighs only those).
    const avoided = (z: string) => (rebalance ? w.faults.unavailableZones.includes(z) : (g.failedZones?.[z] ?? -Infinity) > w.now);
    const az = zones.find((z) => !avoided(z)) ?? (rebalance ? undefined : zones[0]);
    const noCapacity = az !== undefined && w.faults.unavailableZones.includes(az);
    if (launch.kind === 'none' || az === undefined || noCapacity || w.rng.chance(w.faults.launchFailureRate)) {
      const zone = az ?? zones[0];
      const elsewhere = zones.filter((z) => z !== zone && !w.faults.unavailableZones.includes(z));
      const reason = launch.kind === 'none'
        ? 'The specified launch template, with template ID or name, does not exist.'
        : `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (${zone}). Our system will be working on provisioning additional capacity. You can currently get ${instanceType} capacity by not specifying an Availability Zone in your request or choosing ${elsewhere.join(', ')}. Launching EC2 instance failed.`;
      this.failedLaunch(g, 'Launching a new EC2 instance.', this.causeText(g, why), reason);
      if (noCapacity && launch.kind !== 'none') (g.failedZones ??= {})[az] = w.now + FAILED_ZONE_AVOID_MS;
      return undefined;
    }
    g.launchFailures = 0;
    g.launchBackoffUntil = undefined;
    if (g.failedZones?.[az] !== undefined) delete g.failedZones[az];
    const tags = this.launchTags(g);
    const inst = w.ec2.createInstance(launch, data, az, w.ec2.subnetOfZone(az, g.vpcZoneIdentifier), tags);
    inst.group = g.name;
    inst.lifecycle = 'Pending';
    inst.health = 'Healthy';
    inst.protected = false;
    inst.protectOnInService = g.newInstancesProtectedFromScaleIn || undefined;
    inst.rebalance = rebalance || undefined;
    if (mixed?.spot) inst.market = 'spot';
    // A launch while ELB-unhealthy instances await their replacement is one of those replacements [HEALTH-6].
    if (!rebalance && (g.replaceDebt ?? 0) > 0) {
      g.replaceDebt! -= 1;
      inst.elbReplacement = true;
    }
    g.instances.push(inst.id);
    counts.set(az, (counts.get(az) ?? 0) + 1);
    const act = this.addActivity(g, {
      description: `Launching a new EC2 instance: ${inst.id}`,
      cause: this.causeText(g, why),
      status: 'InProgress',
      progress: 30,
    });
    act.details = JSON.stringify({ 'Subnet ID': inst.subnetId, 'Availability Zone': az });
    inst.launchActivity = act.id;
    w.changed(inst);
    return inst;
  }

  /** Pending -> InService once EC2 is running; registers with the group's ELBs first [ASG-6]. */
  putInService(g: GroupRec, inst: InstanceRec): void {
    const w = this.w;
    if (!this.isSuspended(g, 'AddToLoadBalancer')) w.link.registerWithGroupLbs(g, inst);
    inst.lifecycle = 'InService';
    inst.inServiceAt = w.now;
    // "Instance scale-in protection starts when the instance state is InService" [TERM-5].
    if (inst.protectOnInService) inst.protected = true;
    inst.protectOnInService = undefined;
    const act = inst.launchActivity ? w.state.activities[inst.launchActivity] : undefined;
    if (act && act.status !== 'Successful') {
      act.status = 'Successful';
      act.progress = 100;
      act.endTime = w.now;
    }
  }

  /** The launch activity of an instance EC2 terminated during launch fails [FAULT-11]. */
  launchFailed(inst: InstanceRec): void {
    const act = inst.launchActivity ? this.w.state.activities[inst.launchActivity] : undefined;
    if (act && act.status === 'InProgress') {
      act.status = 'Failed';
      act.statusMessage = `Instance ${inst.id} terminated during launch: ${inst.stateReason}`;
      act.progress = 100;
      act.endTime = this.w.now;
    }
  }

  removeFromGroup(g: GroupRec, inst: InstanceRec): void {
    const w = this.w;
    inst.lifecycle = 'Terminated';
    g.instances = g.instances.filter((x) => x !== inst.id);
    this.completeActivity(inst.terminateActivity);
    w.changed(inst);
    inst.group = undefined;
  }

  /**
   * Starts an ASG termination: Terminating, deregistered from the group's ELBs (waiting for
   * connection draining), then EC2 terminate [ASG-7, ELB-6].
   */
  beginTermination(g: GroupRec, inst: InstanceRec, cause: TerminationRecord['cause'], call: CallRef | undefined, description: string): void {
    const w = this.w;
    if (!this.isActive(inst) && !this.isStandby(inst)) return;
    w.link.reportTermination(inst, cause, g, call);
    inst.lifecycle = 'Terminating';
    inst.lifecycleActions = undefined; // a launch action it waited on ends with it [HOOK-2]
    const act = this.addActivity(g, {
      description: `Terminating EC2 instance: ${inst.id}`,
      cause: `At ${this.iso()} ${description}`,
      status: 'InProgress',
      progress: 0,
    });
    inst.terminateActivity = act.id;
    const until = w.link.deregisterFromGroupLbs(g, inst);
    if (until !== undefined) {
      inst.drainingUntil = until;
      act.status = 'WaitingForELBConnectionDraining';
      w.changed(inst);
    } else {
      this.finishTermination(inst);
    }
  }

  /**
   * EnterStandby [ASG-10]: `EnteringStandby` while the group's load balancers deregister it (with
   * connection draining), then `Standby`. Returns the activity ("Moving EC2 instance to Standby").
   */
  enterStandby(g: GroupRec, inst: InstanceRec, capacity: { from: number; to: number } | undefined): ActivityRec {
    const w = this.w;
    inst.lifecycle = 'EnteringStandby';
    const act = this.addActivity(g, {
      description: `Moving EC2 instance to Standby: ${inst.id}`,
      cause: `At ${this.iso()} instance ${inst.id} was moved to standby in response to a user request` +
        (capacity ? `, shrinking the capacity from ${capacity.from} to ${capacity.to}.` : '.'),
      status: 'InProgress',
      progress: 50,
    });
    inst.standbyActivity = act.id;
    const until = w.link.deregisterFromGroupLbs(g, inst);
    if (until !== undefined) inst.drainingUntil = until;
    else this.finishEnterStandby(inst);
    w.changed(inst);
    return act;
  }

  /** Deregistration done: the instance is in `Standby` [ASG-10]. */
  finishEnterStandby(inst: InstanceRec): void {
    const w = this.w;
    inst.drainingUntil = undefined;
    inst.lifecycle = 'Standby';
    this.completeActivity(inst.standbyActivity);
    inst.standbyActivity = undefined;
    w.changed(inst);
  }

  /**
   * ExitStandby [ASG-10]: `Pending` (activity `PreInService`, "Moving EC2 instance out of
   * Standby"); the group's next scaling activity puts it InService, registering it with the load
   * balancers (see returnFromStandby).
   */
  exitStandby(g: GroupRec, inst: InstanceRec, from: number): ActivityRec {
    const w = this.w;
    inst.lifecycle = 'Pending';
    inst.exitingStandby = true;
    const act = this.addActivity(g, {
      description: `Moving EC2 instance out of Standby: ${inst.id}`,
      cause: `At ${this.iso()} instance ${inst.id} was moved out of standby in response to a user request, increasing the capacity from ${from} to ${from + 1}.`,
      status: 'PreInService',
      progress: 30,
    });
    inst.standbyActivity = act.id;
    w.changed(inst);
    return act;
  }

  /**
   * Instances back from Standby go InService (registered with the load balancers, the grace period
   * starting again) once EC2 still runs them; one EC2 terminated meanwhile stays Pending, is found
   * unhealthy by the next health check and replaced [ASG-10, HEALTH-1].
   */
  private returnFromStandby(g: GroupRec, insts: InstanceRec[]): void {
    const w = this.w;
    for (const inst of insts) {
      if (!inst.exitingStandby) continue;
      if (inst.lifecycle !== 'Pending') {
        inst.exitingStandby = undefined;
        continue;
      }
      if (inst.ec2State !== 'running') continue;
      inst.exitingStandby = undefined;
      this.putInService(g, inst);
      this.completeActivity(inst.standbyActivity);
      inst.standbyActivity = undefined;
      w.changed(inst);
    }
  }

  /** After connection draining (or at once without it): EC2 terminates the instance [ASG-7]. */
  finishTermination(inst: InstanceRec): void {
    const w = this.w;
    inst.drainingUntil = undefined;
    // Termination lifecycle hooks: Terminating:Wait once deregistered, before EC2 terminates it [HOOK-3].
    if (holdForTerminateHooks(w, inst)) return;
    const act = inst.terminateActivity ? w.state.activities[inst.terminateActivity] : undefined;
    if (act) {
      act.status = 'InProgress';
      act.progress = 50;
    }
    if (inst.ec2State === 'terminated') {
      const g = inst.group ? w.state.groups[inst.group] : undefined;
      if (g) this.removeFromGroup(g, inst);
      return;
    }
    w.ec2.terminate(inst, 'Client.UserInitiatedShutdown: User initiated shutdown');
    w.changed(inst);
  }

  /**
   * An API call changed what the group should run (SetDesiredCapacity, UpdateAutoScalingGroup,
   * CreateAutoScalingGroup, TerminateInstanceInAutoScalingGroup without decrement): the ASG starts
   * the scaling activity promptly, `SCALE_DELAY_MS` later, not on its next periodic loop [ASG-1a].
   * Several requests before it runs make one activity.
   */
  requestScaling(g: GroupRec): void {
    const w = this.w;
    if (g.scaleAt !== undefined && g.scaleAt > w.now) return;
    // A fixed latency draws nothing from the PRNG (the default); chaos draws it from a range.
    const d = w.faults.scaleDelaySeconds ?? SCALE_DELAY_MS / 1000;
    g.scaleAt = w.now + Math.max(1, Math.round(w.sample(d) * 1000));
    w.schedule({ at: g.scaleAt, kind: 'scale', group: g.name });
  }

  /**
   * Scale-in that protection stops [TERM-5]: the desired capacity stays lowered, the instances
   * stay, and the activity history says so once per desired capacity: "Could not scale to desired
   * capacity because all remaining instances are protected from scale-in."
   */
  private noteAllProtected(g: GroupRec, size: number): void {
    if (g.protectedNotice === g.desired) return;
    g.protectedNotice = g.desired;
    const message = 'Could not scale to desired capacity because all remaining instances are protected from scale-in.';
    this.addActivity(g, {
      description: message,
      cause: this.causeText(g, `an instance was to be taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${size} to ${g.desired}.`),
      status: 'Failed',
      statusMessage: message,
      endTime: this.w.now,
      progress: 100,
    });
  }

  /** The `scale` event requestScaling scheduled [ASG-1a]. */
  onScale(group: string, at: number): void {
    const g = this.w.state.groups[group];
    if (!g || g.scaleAt !== at) return; // deleted (or recreated) meanwhile
    g.scaleAt = undefined;
    if (g.deleting) return;
    this.reconcileCapacity(g, this.groupInstances(g));
  }

  /** The periodic loop over every group [ASG-1]. */
  tick(): void {
    for (const g of Object.values(this.w.state.groups)) {
      if (g.deleting) this.advanceDeletion(g);
      else {
        this.reconcile(g);
        if (g.warmPool) this.w.warmPool.maintain(g); // [WARM-2]
      }
    }
  }

  /** A group being deleted launches and checks nothing; it is gone once its last instance is [ASG-8]. */
  private advanceDeletion(g: GroupRec): void {
    if (this.groupInstances(g).length === 0) delete this.w.state.groups[g.name];
  }

  /** One group's loop [ASG-1]: health checks, replace unhealthy, launch/scale in, AZ rebalance. */
  reconcile(g: GroupRec): void {
    const w = this.w;
    const insts = this.groupInstances(g);
    w.link.advanceAttachments(g, insts);
    // 1. health checks [HEALTH-1..3, HEALTH-6]
    if (!this.isSuspended(g, 'HealthCheck')) {
      const elbFailing: InstanceRec[] = [];
      for (const inst of insts) {
        if (inst.health !== 'Healthy') continue;
        // A Pending instance whose EC2 instance terminated during launch is unhealthy too [HEALTH-1].
        if ((inst.lifecycle === 'Pending' || inst.lifecycle === 'Pending:Wait') && (inst.ec2State === 'terminated' || inst.ec2State === 'shutting-down')) {
          inst.health = 'Unhealthy';
          w.changed(inst);
          continue;
        }
        if (inst.lifecycle !== 'InService') continue;
        if (inst.ec2State !== 'running') {
          inst.health = 'Unhealthy';
          w.changed(inst);
          continue;
        }
        if (g.healthCheckType === 'ELB' && w.now >= (inst.inServiceAt ?? 0) + g.healthCheckGracePeriod * 1000) {
          if (w.link.failsElbHealthCheck(g, inst)) elbFailing.push(inst);
        }
      }
      w.link.markElbUnhealthy(g, insts, elbFailing);
    }
    // 2. replace unhealthy: terminate first, the launch below replaces it [HEALTH-4]; an instance
    // maintenance policy may launch first or hold some back [HEALTH-7]
    if (!this.isSuspended(g, 'ReplaceUnhealthy') && !this.isSuspended(g, 'Terminate')) {
      const held = g.maintenance ? this.maintenanceHolds(g, insts) : undefined;
      for (const inst of insts) {
        if (inst.health === 'Unhealthy' && this.isActive(inst) && !inst.awaitingReplacement && !held?.has(inst)) {
          const byElb = inst.ec2State === 'running';
          if (byElb) g.replaceDebt = (g.replaceDebt ?? 0) + 1;
          this.beginTermination(g, inst, 'replace-unhealthy', undefined,
            byElb
              ? 'an instance was taken out of service in response to an ELB system health check failure.'
              : inst.ec2State === 'pending'
                ? 'an instance was taken out of service in response to an EC2 instance status checks failure.'
                : 'an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.');
        }
      }
    }
    // 3. capacity [ASG-2..5] (also run promptly after an API capacity change [ASG-1a])
    if (this.reconcileCapacity(g, insts)) return;
    // 4. AZ rebalance
    this.rebalanceZones(g, insts);
  }

  /**
   * Health replacements under an instance maintenance policy [HEALTH-7]. With MaxHealthyPercentage
   * over 100 an unhealthy (EC2-running) instance is kept while its replacement launches first, up
   * to `room` = max(1, floor(desired × max / 100) − desired) at a time, and is terminated once its
   * replacement is ready (InService, past warm-up, InService in every ELB). Beyond that room an
   * unhealthy instance is terminated first only while the ready instances stay at or above
   * ceil(desired × min / 100) (with no room at all, one at a time always may); the rest wait.
   * Returns the unhealthy instances to leave alone this loop.
   */
  private maintenanceHolds(g: GroupRec, insts: InstanceRec[]): Set<InstanceRec> {
    const w = this.w;
    const policy = g.maintenance!;
    const d = g.desired;
    const room = policy.max > 100 ? Math.max(1, Math.floor((d * policy.max) / 100) - d) : 0;
    const others = insts.filter((i) => this.isActive(i) && !i.awaitingReplacement);
    const ready = others.filter((i) => i.health === 'Healthy' && w.link.isReady(g, i)).length;
    // Replacements ready: their predecessors go.
    const awaiting = insts.filter((i) => i.awaitingReplacement && this.isActive(i));
    let done = Math.max(0, ready - (d - awaiting.length));
    let inFlight = awaiting.length;
    for (const inst of awaiting) {
      if (done-- <= 0) break;
      inst.awaitingReplacement = undefined;
      inFlight--;
      this.beginTermination(g, inst, 'replace-unhealthy', undefined, 'an instance was taken out of service in response to an ELB system health check failure.');
    }
    const held = new Set<InstanceRec>();
    const minKeep = Math.ceil((d * policy.min) / 100);
    // Terminating an unhealthy instance takes nothing ready away; below the minimum it waits, except
    // that with no room to launch first one replacement at a time always proceeds.
    let oneAtATime = room === 0 && !insts.some((i) => i.lifecycle === 'Terminating' || i.lifecycle === 'Terminating:Wait');
    for (const inst of insts) {
      if (inst.health !== 'Unhealthy' || !this.isActive(inst) || inst.awaitingReplacement) continue;
      if (inst.ec2State !== 'running') continue; // gone or never up: no capacity to keep, terminate first
      if (inFlight < room) {
        inst.awaitingReplacement = true; // launched for below (capacity), terminated once it is ready
        inFlight++;
        w.changed(inst);
      } else if (ready >= minKeep) {
        // terminated first below
      } else if (oneAtATime) {
        oneAtATime = false;
      } else {
        held.add(inst);
      }
    }
    return held;
  }

  /**
   * Capacity Rebalancing's replacements whose at-risk instance is still active [SPOT-2]: the pair
   * counts once toward capacity (the at-risk instance), so the group neither scales in the
   * replacement nor launches for the at-risk one.
   */
  rebalancePairs(insts: InstanceRec[]): Set<InstanceRec> {
    const pairs = new Set<InstanceRec>();
    for (const i of insts) {
      if (!i.replacesAtRisk || !this.isActive(i)) continue;
      const atRisk = this.w.state.instances[i.replacesAtRisk];
      if (atRisk && this.isActive(atRisk) && atRisk.group === i.group) pairs.add(i);
    }
    return pairs;
  }

  /** AZ rebalance: launch first, then (next loop, once InService) terminate [AZ-1..3]. */
  private rebalanceZones(g: GroupRec, insts: InstanceRec[]): void {
    const w = this.w;
    const active = insts.filter((i) => this.isActive(i));
    const terminateSuspended = this.isSuspended(g, 'Terminate');
    // With Terminate suspended AZRebalance still launches, and the group stays above desired [AZ-3, PROC-2]:
    // the surplus may only be its own (InService) rebalancing launches.
    const surplus = active.length - g.desired;
    const rebalanced = active.filter((i) => i.rebalance).length;
    if (
      (surplus === 0 || (terminateSuspended && surplus > 0 && surplus === rebalanced)) &&
      !active.some((i) => i.rebalance && i.lifecycle === 'Pending') &&
      !this.isSuspended(g, 'AZRebalance') && !this.isSuspended(g, 'Launch') &&
      active.every((i) => i.lifecycle === 'InService')
    ) {
      const counts = this.zoneCounts(g, insts);
      const usable = g.azs.filter((z) => !w.faults.unavailableZones.includes(z));
      if (usable.length < 2) return;
      const cs = usable.map((z) => counts.get(z) ?? 0);
      if (Math.max(...cs) - Math.min(...cs) <= 1) return;
      // Up to 10 % over max, or one instance, whichever is greater [AZ-2].
      const allowance = Math.max(1, Math.floor(g.max * 0.1));
      if (active.length + 1 > g.max + allowance) return;
      this.launchOne(g, counts, 'an instance was started in response to an Availability Zone rebalancing operation.', true);
    }
  }

  /**
   * Launches toward desired capacity or scales in [ASG-2..5]. Returns true when the group was not
   * at its desired size (so AZ rebalancing waits for another loop).
   */
  private reconcileCapacity(g: GroupRec, insts: InstanceRec[]): boolean {
    this.returnFromStandby(g, insts);
    // An unhealthy instance kept while its replacement launches first is not capacity [HEALTH-7];
    // nor is Capacity Rebalancing's replacement while the at-risk instance it replaces is [SPOT-2].
    const pairs = this.rebalancePairs(insts);
    const active = insts.filter((i) => this.isActive(i) && !i.awaitingReplacement && !pairs.has(i));
    const counts = this.zoneCounts(g, insts);
    const rebalancing = active.some((i) => i.rebalance && i.lifecycle === 'Pending');
    // Replacements owed for ELB-unhealthy instances lapse once the group is at its desired size [HEALTH-6].
    if (active.length >= g.desired) g.replaceDebt = undefined;
    if (active.length <= g.desired && g.protectedNotice !== undefined) g.protectedNotice = undefined;
    // A rebalancing launch the desired capacity has since absorbed is an ordinary instance.
    if (!rebalancing && active.length <= g.desired) {
      for (const i of active) {
        i.rebalance = undefined;
        if (!pairs.has(i)) i.replacesAtRisk = undefined;
      }
    }
    if (active.length < g.desired) {
      if (!this.isSuspended(g, 'Launch') && (g.launchBackoffUntil === undefined || this.w.now >= g.launchBackoffUntil)) {
        const n = g.desired - active.length;
        for (let k = 0; k < n; k++) {
          if (!this.launchOne(g, counts, `an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${active.length + k} to ${active.length + k + 1}.`)) break;
        }
      }
      return true;
    }
    if (active.length > g.desired && !rebalancing) {
      // Nothing to scale in; AZRebalance may still launch (step 4) [PROC-2].
      if (this.isSuspended(g, 'Terminate')) return false;
      const rebalanceDone = active.find((i) => i.rebalance);
      // Capacity Rebalancing's replacement outlived its at-risk instance (taken meanwhile by someone
      // else, with decrement): the surplus it leaves is scaled in as AWS's rebalancing [SPOT-2].
      const capacityRebalanceDone = !rebalanceDone && active.some((i) => i.replacesAtRisk);
      const victims = pickForScaleIn(this.w, g, active, active.length - g.desired);
      if (victims.length < active.length - g.desired) this.noteAllProtected(g, active.length);
      for (const v of victims) {
        if (rebalanceDone) {
          this.beginTermination(g, v, 'rebalance', undefined, 'an instance was taken out of service in response to an Availability Zone rebalancing operation.');
        } else if (capacityRebalanceDone) {
          this.beginTermination(g, v, 'capacity-rebalance', undefined, 'an instance was taken out of service in response to a difference between desired and actual capacity after an EC2 instance rebalance recommendation.');
        } else {
          this.beginTermination(g, v, 'scale-in', g.lastDesiredChange,
            `a user request update of AutoScalingGroup constraints to min: ${g.min}, max: ${g.max}, desired: ${g.desired} changing the desired capacity from ${active.length} to ${g.desired}.  An instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${active.length} to ${g.desired}.`);
        }
      }
      if (rebalanceDone) for (const i of active) i.rebalance = undefined;
      if (capacityRebalanceDone) for (const i of active) i.replacesAtRisk = undefined;
      return true;
    }
    return false;
  }
}

function groupLtFromMixed(g: GroupRec): { id: string; name: string; version: string } | undefined {
  const spec = g.mixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  if (!spec || !spec._resolvedId) return undefined;
  return { id: spec._resolvedId, name: spec.LaunchTemplateName ?? '', version: spec.Version ?? '$Default' };
}
