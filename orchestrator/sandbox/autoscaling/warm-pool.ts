/**
 * Warm pools in the simulated Auto Scaling [WARM-1..7] (./SPEC.md § Warm pools): `PutWarmPool`,
 * `DescribeWarmPool`, `DeleteWarmPool`; the pool kept at its size by the group's loop (instances
 * launched into it from the group's launch spec, through the launch hooks, then stopped, kept
 * running or hibernated); scale-out drawing on it (a warm start: fast, and with whatever launch
 * spec the warmed instance was launched from); TerminateInstanceInAutoScalingGroup on a warmed
 * instance (the pool then launches a replacement from the current spec).
 *
 * Warmed instances are not the group's instances (`GroupRec.instances`, DescribeAutoScalingGroups)
 * but the pool's (`GroupRec.warmInstances`, DescribeWarmPool): `InstanceRec.warmPoolOf` names the
 * group, `InstanceRec.group` stays unset until the instance leaves the pool for the group.
 */
import { SimFault } from '../faults';
import type { GroupRec, InstanceRec } from '../model';
import { NEVER } from '../model';
import { page, requireString, validation, type Handler } from '../ops-common';
import type { World } from '../world';
import { holdForLaunchHooks } from './hooks';
import { activityOut } from './ops';

/** EC2 start of a stopped (or resume of a hibernated) warmed instance: ASSUMPTION [WARM-4]. */
export const DEFAULT_WARM_START_SECONDS = { min: 10, max: 20 };

const READY = new Set(['Warmed:Stopped', 'Warmed:Running', 'Warmed:Hibernated']);

export class WarmPoolSim {
  constructor(private readonly w: World) {}

  /** The pool's instances, launch order. */
  instances(g: GroupRec): InstanceRec[] {
    return (g.warmInstances ?? []).map((id) => this.w.state.instances[id]).filter((i): i is InstanceRec => i !== undefined);
  }

  /**
   * The pool's size [WARM-2]: MaxGroupPreparedCapacity (default: the group's max) less the desired
   * capacity, at least MinSize. Example: desired 6, max 10 → 4; prepared 8 → 2; min 10 = prepared 10 → 10.
   */
  targetSize(g: GroupRec): number {
    const p = g.warmPool;
    if (!p || p.deleting) return 0;
    return Math.max(p.minSize, (p.maxPrepared ?? g.max) - g.desired);
  }

  /** The group's loop keeps the pool at its size: launches into it, terminates the excess [WARM-2]. */
  maintain(g: GroupRec): void {
    const p = g.warmPool;
    if (!p) return;
    const live = this.instances(g).filter((i) => !i.lifecycle?.startsWith('Warmed:Terminat'));
    const want = this.targetSize(g);
    if (live.length < want && !g.deleting) {
      for (let k = live.length; k < want; k++) if (!this.launchInto(g)) break;
    } else if (live.length > want) {
      // The excess goes, the newest first (ASSUMPTION: AWS names no order).
      for (const inst of live.slice(want).reverse()) this.terminate(inst);
    }
    if (p.deleting && this.instances(g).length === 0) {
      g.warmPool = undefined;
      g.warmInstances = undefined;
    }
  }

  /** One launch into the pool from the group's current launch spec [WARM-3]. */
  private launchInto(g: GroupRec): InstanceRec | undefined {
    const w = this.w;
    const launch = w.asg.currentLaunch(g);
    if (launch.kind === 'none') return undefined;
    const data = launch.kind === 'lt' ? w.ec2.resolveVersion(w.state.launchTemplates[launch.id], String(launch.version))!.data : { ImageId: w.state.launchConfigurations[launch.name]?.imageId, InstanceType: w.state.launchConfigurations[launch.name]?.instanceType };
    // The zone with the fewest instances of the group and its pool together (ASSUMPTION [WARM-3]):
    // the pool then holds instances where the group's next launches go ([ASG-3]).
    const counts = new Map<string, number>(g.azs.map((z) => [z, 0]));
    for (const i of [...this.instances(g), ...w.asg.groupInstances(g).filter((x) => w.asg.isActive(x))]) counts.set(i.az, (counts.get(i.az) ?? 0) + 1);
    const az = [...g.azs].filter((z) => !w.faults.unavailableZones.includes(z)).sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || a.localeCompare(b))[0];
    if (az === undefined) return undefined;
    // Filling the pool is an EC2 launch like any other: it fails as often [FAULT-3, WARM-3]; the
    // group's launch back-off then holds the pool's launches too. No draw when the rate is 0.
    if (g.launchBackoffUntil !== undefined && w.now < g.launchBackoffUntil) return undefined;
    if (w.faults.launchFailureRate > 0 && w.rng.chance(w.faults.launchFailureRate)) {
      const instanceType = data.InstanceType ?? 't3.micro';
      const reason = `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (${az}). Our system will be working on provisioning additional capacity. You can currently get ${instanceType} capacity by not specifying an Availability Zone in your request or choosing ${g.azs.filter((z) => z !== az).join(', ')}. Launching EC2 instance failed.`;
      w.asg.failedLaunch(g, 'Launching a new EC2 instance into warm pool.', `At ${new Date(w.now).toISOString().replace(/\.\d{3}Z$/, 'Z')} an instance was launched in order to fill the warm pool.`, reason);
      return undefined;
    }
    const tags = w.asg.launchTags(g);
    const inst = w.ec2.createInstance(launch, data, az, w.ec2.subnetOfZone(az, g.vpcZoneIdentifier), tags);
    inst.warmPoolOf = g.name;
    inst.lifecycle = 'Warmed:Pending';
    inst.health = 'Healthy';
    inst.protected = false;
    (g.warmInstances ??= []).push(inst.id);
    const act = w.asg.addActivity(g, {
      description: `Launching a new EC2 instance into warm pool: ${inst.id}`,
      cause: `At ${new Date(w.now).toISOString().replace(/\.\d{3}Z$/, 'Z')} an instance was launched in order to fill the warm pool.`,
      status: 'InProgress',
      progress: 30,
    });
    act.details = JSON.stringify({ 'Subnet ID': inst.subnetId, 'Availability Zone': az });
    inst.launchActivity = act.id;
    w.changed(inst);
    return inst;
  }

  /** EC2 reports a warmed instance running: on its way into the pool, the launch hooks first [WARM-3, HOOK-2]. */
  onRunning(inst: InstanceRec): void {
    const g = inst.warmPoolOf ? this.w.state.groups[inst.warmPoolOf] : undefined;
    if (!g || inst.lifecycle !== 'Warmed:Pending') return;
    if (holdForLaunchHooks(this.w, g, inst, true)) return;
    this.settle(inst);
  }

  /** Into the pool's state: Warmed:Stopped (EC2 stopped), Warmed:Running, or Warmed:Hibernated (EC2 stopped) [WARM-3]. */
  settle(inst: InstanceRec): void {
    const w = this.w;
    const g = inst.warmPoolOf ? w.state.groups[inst.warmPoolOf] : undefined;
    if (!g?.warmPool || inst.ec2State === 'terminated' || inst.ec2State === 'shutting-down') return;
    const state = g.warmPool.poolState;
    inst.lifecycle = `Warmed:${state}`;
    if (state !== 'Running') inst.ec2State = 'stopped';
    const act = inst.launchActivity ? w.state.activities[inst.launchActivity] : undefined;
    if (act && act.status !== 'Successful' && act.status !== 'Failed') {
      act.status = 'Successful';
      act.progress = 100;
      act.endTime = w.now;
    }
    w.elb.pokeElbs(inst);
    w.changed(inst);
  }

  /** A warmed instance terminated (TerminateInstanceInAutoScalingGroup, the excess, an ABANDONed launch) [WARM-5]. */
  terminate(inst: InstanceRec): void {
    const w = this.w;
    if (inst.lifecycle?.startsWith('Warmed:Terminat')) return;
    inst.lifecycle = 'Warmed:Terminating';
    inst.lifecycleActions = undefined;
    if (inst.ec2State === 'stopped') inst.ec2State = 'running'; // EC2 terminates a stopped instance too
    w.ec2.terminate(inst, 'Client.UserInitiatedShutdown: User initiated shutdown');
    w.changed(inst);
  }

  /** EC2 `terminated`: out of the pool; the loop launches a replacement [WARM-5]. */
  onTerminated(inst: InstanceRec): void {
    const g = inst.warmPoolOf ? this.w.state.groups[inst.warmPoolOf] : undefined;
    inst.lifecycle = 'Warmed:Terminated';
    if (g) g.warmInstances = (g.warmInstances ?? []).filter((id) => id !== inst.id);
    inst.warmPoolOf = undefined;
    this.w.changed(inst);
  }

  /**
   * A scale-out draws on the pool first [WARM-4]: the first ready instance (launch order) in the
   * zone the launch goes to ([ASG-3]: `zone`, the one with the fewest instances) leaves it for the group — `Pending`, EC2 started again (fast: `faults.warmStartSeconds`), its launch
   * hooks again, then InService. It keeps the launch spec it was launched from. Undefined when the
   * pool has none ready (a cold start).
   */
  take(g: GroupRec, zone: string | undefined): InstanceRec | undefined {
    const w = this.w;
    if (!g.warmPool || g.warmPool.deleting || zone === undefined) return undefined;
    const inst = this.instances(g).find((i) => i.az === zone && READY.has(i.lifecycle ?? '') && i.ec2State !== 'terminated' && i.ec2State !== 'shutting-down');
    if (!inst) return undefined;
    g.warmInstances = (g.warmInstances ?? []).filter((id) => id !== inst.id);
    inst.warmPoolOf = undefined;
    inst.group = g.name;
    inst.lifecycle = 'Pending';
    inst.protectOnInService = g.newInstancesProtectedFromScaleIn || undefined;
    inst.hooksPassed = (inst.hooksPassed ?? []).filter((h) => h !== 'launch');
    g.instances.push(inst.id);
    if (inst.ec2State === 'stopped') {
      const start = Math.max(1, w.sample(w.faults.warmStartSeconds ?? DEFAULT_WARM_START_SECONDS)) * 1000;
      inst.ec2State = 'pending';
      // EC2's LaunchTime is "the time that the instance was last launched": a stopped (or
      // hibernated) instance started again reports its start, not its launch into the pool [WARM-4].
      inst.launchTime = w.now;
      inst.runningAt = w.now + start;
      // Pre-initialized: the application answers once the instance runs again (ASSUMPTION [WARM-4]).
      if (inst.appUpAt !== NEVER) inst.appUpAt = inst.runningAt;
      w.schedule({ at: inst.runningAt, kind: 'running', id: inst.id });
    } else if (inst.appUpAt !== NEVER) {
      inst.appUpAt = Math.max(inst.appUpAt, w.now);
    }
    return inst;
  }
}

function groupOf(w: World, name: unknown): GroupRec {
  const n = requireString(name, 'autoScalingGroupName');
  const g = w.state.groups[n];
  if (!g) throw validation(`AutoScalingGroup name not found - AutoScalingGroup ${n} not found`);
  return g;
}

/** One warmed instance as DescribeWarmPool lists it (the SDK's `Instance` shape). */
function warmInstanceOut(i: InstanceRec) {
  return {
    InstanceId: i.id,
    InstanceType: i.instanceType,
    AvailabilityZone: i.az,
    LifecycleState: i.lifecycle,
    HealthStatus: i.health,
    LaunchTemplate: i.launch.kind === 'lt' ? { LaunchTemplateId: i.launch.id, LaunchTemplateName: i.launch.name, Version: String(i.launch.version) } : undefined,
    LaunchConfigurationName: i.launch.kind === 'lc' ? i.launch.name : undefined,
    ProtectedFromScaleIn: false,
  };
}

/** The group's warm pool as DescribeAutoScalingGroups and DescribeWarmPool report it (`WarmPoolConfiguration`). */
export function warmPoolConfigurationOut(g: GroupRec) {
  const p = g.warmPool;
  if (!p) return undefined;
  return {
    ...(p.maxPrepared !== undefined ? { MaxGroupPreparedCapacity: p.maxPrepared } : {}),
    MinSize: p.minSize,
    PoolState: p.poolState,
    ...(p.deleting ? { Status: 'PendingDelete' } : {}),
    InstanceReusePolicy: { ReuseOnScaleIn: p.reuseOnScaleIn },
  };
}

/** DescribeAutoScalingGroups' `WarmPoolConfiguration` and `WarmPoolSize` (nothing without a pool) [WARM-1]. */
export function warmPoolOut(w: World, g: GroupRec): { WarmPoolConfiguration?: ReturnType<typeof warmPoolConfigurationOut>; WarmPoolSize?: number } {
  if (!g.warmPool) return {};
  return { WarmPoolConfiguration: warmPoolConfigurationOut(g), WarmPoolSize: w.warmPool.instances(g).filter((i) => !i.lifecycle?.startsWith('Warmed:Terminat')).length };
}

/** TerminateInstanceInAutoScalingGroup on a warmed instance [WARM-5]: terminated, the pool refills from the current spec. */
export function terminateWarm(w: World, inst: InstanceRec) {
  const g = w.state.groups[inst.warmPoolOf!];
  const act = w.asg.addActivity(g, {
    description: `Terminating EC2 instance: ${inst.id}`,
    cause: `At ${new Date(w.now).toISOString().replace(/\.\d{3}Z$/, 'Z')} instance ${inst.id} was taken out of service in response to a user request.`,
    status: 'InProgress',
    progress: 0,
  });
  inst.terminateActivity = act.id;
  w.warmPool.terminate(inst);
  return { Activity: activityOut(g, act) };
}

export const warmPoolOps: Record<string, Handler> = {
  /** [WARM-1] Creates or updates the group's warm pool; not with a mixed instances policy. */
  PutWarmPool(w, input) {
    const g = groupOf(w, input.AutoScalingGroupName);
    if (g.mixedInstancesPolicy) throw validation('You cannot add a warm pool to an Auto Scaling group that has a mixed instances policy.');
    if (g.warmPool?.deleting) throw validation('The warm pool is being deleted.');
    const state = input.PoolState ?? g.warmPool?.poolState ?? 'Stopped';
    if (!['Stopped', 'Running', 'Hibernated'].includes(state)) throw validation(`Invalid pool state ${state}: valid values are Stopped, Running and Hibernated.`);
    const minSize = input.MinSize ?? g.warmPool?.minSize ?? 0;
    if (!Number.isInteger(minSize) || minSize < 0) throw validation(`1 validation error detected: Value '${minSize}' at 'minSize' failed to satisfy constraint: Member must have value greater than or equal to 0`);
    let maxPrepared = input.MaxGroupPreparedCapacity === undefined ? g.warmPool?.maxPrepared : input.MaxGroupPreparedCapacity === -1 ? undefined : input.MaxGroupPreparedCapacity;
    if (maxPrepared !== undefined && (!Number.isInteger(maxPrepared) || maxPrepared < 0)) throw validation(`MaxGroupPreparedCapacity ${maxPrepared} is out of range: valid values are 0 and above, or -1 to clear.`);
    if (maxPrepared !== undefined && maxPrepared < minSize) throw validation(`MaxGroupPreparedCapacity (${maxPrepared}) must be greater than or equal to MinSize (${minSize}).`);
    g.warmPool = { minSize, maxPrepared, poolState: state, reuseOnScaleIn: input.InstanceReusePolicy?.ReuseOnScaleIn ?? g.warmPool?.reuseOnScaleIn ?? false };
    g.warmInstances ??= [];
    maxPrepared = undefined;
    w.warmPool.maintain(g);
    return {};
  },

  /** [WARM-1] The pool's configuration and its instances (MaxRecords ≤ 50, NextToken). */
  DescribeWarmPool(w, input, ctx) {
    const g = groupOf(w, input.AutoScalingGroupName);
    const max = input.MaxRecords ?? 50;
    if (max < 1 || max > 50) throw validation(`1 validation error detected: Value '${max}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 50`);
    const p = page(w.warmPool.instances(g).filter((i) => i.lifecycle !== 'Warmed:Terminated'), input.NextToken, max, ctx, 50);
    return { WarmPoolConfiguration: warmPoolConfigurationOut(g), Instances: p.items.map(warmInstanceOut), NextToken: p.next };
  },

  /** [WARM-6] Without ForceDelete only an empty pool; with it every warmed instance is terminated; `PendingDelete` until they are gone. */
  DeleteWarmPool(w, input) {
    const g = groupOf(w, input.AutoScalingGroupName);
    if (!g.warmPool) throw validation(`No warm pool found for Auto Scaling group ${g.name}.`);
    const insts = w.warmPool.instances(g);
    if (insts.length > 0 && !input.ForceDelete) throw new SimFault('ResourceInUse', 'You cannot delete a warm pool that has instances. Use ForceDelete to terminate them.');
    g.warmPool.deleting = true;
    for (const i of insts) w.warmPool.terminate(i);
    w.warmPool.maintain(g);
    return {};
  },
};
