/** Simulated Amazon EC2 Auto Scaling API (Query protocol shapes of @aws-sdk/client-auto-scaling). */
import { SimFault } from '../faults';
import type { ActivityRec, GroupRec, InstanceRec, InstanceRefreshRec } from '../model';
import { date, page, requireInt, requireString, validation, type CallCtx, type Handler } from '../ops-common';
import type { World } from '../world';
import { mergeMixedPolicy, validateMixedPolicy } from './mixed';
import { ALL_PROCESSES } from './state';
import { terminateWarm, warmPoolOut } from './warm-pool';

function getGroup(w: World, name: unknown): GroupRec {
  const n = requireString(name, 'autoScalingGroupName');
  const g = w.state.groups[n];
  if (!g) throw validation(`AutoScalingGroup name not found - AutoScalingGroup ${n} not found`);
  return g;
}

/**
 * A group being deleted refuses changes [ASG-8]: "The AutoScaling group may not be modified while
 * it is pending delete" (ValidationError; SuspendProcesses/ResumeProcesses say "Processes may not be
 * suspended/resumed while the AutoScaling group is pending delete").
 */
function modifiable(g: GroupRec, message = 'The AutoScaling group may not be modified while it is pending delete'): GroupRec {
  if (g.deleting) throw validation(message);
  return g;
}

/** Statuses in which an instance refresh is still running (it blocks another) [ASG-11]. */
const ACTIVE_REFRESH = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);

function activeRefresh(g: GroupRec): InstanceRefreshRec | undefined {
  return (g.instanceRefreshes ?? []).find((r) => ACTIVE_REFRESH.has(r.status));
}

/** InstanceIds of EnterStandby / ExitStandby: 1 to 20 of the group's instances [ASG-10]. */
function standbyIds(w: World, g: GroupRec, input: any, state: 'InService' | 'Standby'): InstanceRec[] {
  const ids: string[] = [...new Set<string>(input.InstanceIds ?? [])];
  if (ids.length < 1 || ids.length > 20) throw validation(`1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length between 1 and 20`);
  return ids.map((id) => {
    const inst = w.state.instances[id];
    if (!inst || inst.group !== g.name || inst.lifecycle === 'Terminated') throw validation(`The instance ${id} is not part of Auto Scaling group ${g.name}.`);
    if (inst.lifecycle !== state) throw validation(`The instance ${id} is not in ${state}.`);
    return inst;
  });
}

/**
 * InstanceMaintenancePolicy [HEALTH-7]: MinHealthyPercentage 0–100, MaxHealthyPercentage 100–200,
 * both given, at most 100 apart; -1 and -1 clear it. Returns undefined to clear, the group's
 * current policy when the input has none.
 */
function maintenancePolicy(input: any, current: GroupRec['maintenance']): GroupRec['maintenance'] {
  const p = input.InstanceMaintenancePolicy;
  if (p === undefined) return current;
  const min = p.MinHealthyPercentage;
  const max = p.MaxHealthyPercentage;
  if (min === -1 && max === -1) return undefined;
  if (min === undefined || max === undefined || min === null || max === null) {
    throw validation('Both MinHealthyPercentage and MaxHealthyPercentage must be specified in the instance maintenance policy.');
  }
  if (!Number.isInteger(min) || min < 0 || min > 100) throw validation(`MinHealthyPercentage ${min} is out of range: valid values are 0 to 100, or -1 to clear.`);
  if (!Number.isInteger(max) || max < 100 || max > 200) throw validation(`MaxHealthyPercentage ${max} is out of range: valid values are 100 to 200, or -1 to clear.`);
  if (max - min > 100) throw validation(`The difference between MaxHealthyPercentage (${max}) and MinHealthyPercentage (${min}) cannot be greater than 100.`);
  return { min, max };
}

function call(w: World, ctx: CallCtx) {
  return { actor: ctx.actor, operation: ctx.operation, time: w.now };
}

function resolveLtSpec(w: World, spec: any): { id: string; name: string; version: string } {
  const lt = w.findLaunchTemplate({ id: spec?.LaunchTemplateId, name: spec?.LaunchTemplateName });
  if (!lt) {
    const what = spec?.LaunchTemplateId ? `ID ${spec.LaunchTemplateId}` : `name ${spec?.LaunchTemplateName}`;
    throw validation(`You must use a valid fully-formed launch template. The specified launch template, with template ${what}, does not exist.`);
  }
  const version: string = spec.Version ?? '$Default';
  if (!w.ec2.resolveVersion(lt, version)) {
    throw validation(`You must use a valid fully-formed launch template. The specified launch template, with template ID ${lt.id}, version ${version}, does not exist.`);
  }
  return { id: lt.id, name: lt.name, version };
}

function zonesFor(w: World, input: any, current?: GroupRec): { azs: string[]; vpc?: string } {
  if (input.VPCZoneIdentifier) {
    const subnets = String(input.VPCZoneIdentifier).split(',').map((s: string) => s.trim()).filter(Boolean);
    return { azs: [...new Set(subnets.map((s: string) => w.ec2.zoneOfSubnet(s)))].sort(), vpc: subnets.join(',') };
  }
  if (input.AvailabilityZones?.length) {
    for (const z of input.AvailabilityZones) if (!w.zones().includes(z)) throw validation(`The availability zone ${z} is not legally formatted or is not available in this region`);
    return { azs: [...input.AvailabilityZones], vpc: undefined };
  }
  if (current) return { azs: current.azs, vpc: current.vpcZoneIdentifier };
  throw validation('At least one Availability Zone or VPC Subnet is required.');
}

/**
 * MaxInstanceLifetime [LIFE-1]: "the value must be either 0 or a number equal to or greater than
 * 86,400 seconds (1 day)"; 0 clears it (undefined here).
 */
function maxInstanceLifetime(v: unknown): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = requireInt(v, 'maxInstanceLifetime');
  if (n !== 0 && n < 86_400) throw validation(`The maximum instance lifetime must be 0 or at least 86400 seconds (1 day); got ${n}.`);
  return n === 0 ? undefined : n;
}

function checkSizes(min: number, max: number, desired: number): void {
  if (max < min) throw validation(`Max bound, ${max}, must be greater than or equal to min bound, ${min}`);
  if (desired < min || desired > max) throw validation(`Desired capacity:${desired} must be between the specified min size:${min} and max size:${max}`);
}

function instanceOut(w: World, i: InstanceRec) {
  const lt = i.launch.kind === 'lt' ? { LaunchTemplateId: i.launch.id, LaunchTemplateName: i.launch.name, Version: String(i.launch.version) } : undefined;
  return {
    InstanceId: i.id,
    InstanceType: i.instanceType,
    AvailabilityZone: i.az,
    LifecycleState: i.lifecycle,
    HealthStatus: i.health,
    LaunchTemplate: lt,
    LaunchConfigurationName: i.launch.kind === 'lc' ? i.launch.name : undefined,
    ProtectedFromScaleIn: !!i.protected,
  };
}

/**
 * ScalingActivityInProgress on SetDesiredCapacity / TerminateInstanceInAutoScalingGroup (both
 * document it) while one of the group's scaling activities is in progress, at
 * `faults.scalingActivityInProgressRate` [ASG-9]. No PRNG draw at rate 0.
 */
function maybeActivityInProgress(w: World, g: GroupRec): void {
  const rate = w.faults.scalingActivityInProgressRate ?? 0;
  if (rate <= 0) return;
  const busy = g.activities.some((id) => {
    const st = w.state.activities[id]?.status;
    return st !== undefined && st !== 'Successful' && st !== 'Failed' && st !== 'Cancelled';
  });
  if (busy && w.rng.chance(rate)) {
    throw new SimFault('ScalingActivityInProgress', 'Scaling activities in progress: the operation cannot be performed while scaling activities are in progress for the group.');
  }
}

function groupOut(w: World, g: GroupRec) {
  let mixed: any;
  if (g.mixedInstancesPolicy) {
    mixed = structuredClone(g.mixedInstancesPolicy);
    delete mixed.LaunchTemplate?.LaunchTemplateSpecification?._resolvedId;
  }
  return {
    AutoScalingGroupName: g.name,
    AutoScalingGroupARN: g.arn,
    LaunchConfigurationName: g.launchConfigurationName,
    LaunchTemplate: g.launchTemplate ? { LaunchTemplateId: g.launchTemplate.id, LaunchTemplateName: g.launchTemplate.name, Version: g.launchTemplate.version } : undefined,
    MixedInstancesPolicy: mixed,
    MinSize: g.min,
    MaxSize: g.max,
    DesiredCapacity: g.desired,
    DefaultCooldown: g.defaultCooldown,
    AvailabilityZones: [...g.azs],
    LoadBalancerNames: [...g.loadBalancerNames],
    TargetGroupARNs: [...g.targetGroupARNs],
    HealthCheckType: g.healthCheckType,
    HealthCheckGracePeriod: g.healthCheckGracePeriod,
    DefaultInstanceWarmup: g.defaultInstanceWarmup,
    Instances: w.groupInstances(g).filter((i) => i.lifecycle !== 'Terminated').map((i) => instanceOut(w, i)),
    CreatedTime: new Date(g.createdTime),
    SuspendedProcesses: g.suspended.map((p) => ({ ProcessName: p.name, SuspensionReason: p.reason })),
    VPCZoneIdentifier: g.vpcZoneIdentifier,
    EnabledMetrics: [],
    Tags: g.tags.map((t) => tagOut(g, t)),
    TerminationPolicies: g.terminationPolicies.length ? [...g.terminationPolicies] : ['Default'],
    NewInstancesProtectedFromScaleIn: g.newInstancesProtectedFromScaleIn,
    ServiceLinkedRoleARN: `arn:aws:iam::123456789012:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling`,
    CapacityRebalance: !!g.capacityRebalance,
    MaxInstanceLifetime: g.maxInstanceLifetime,
    Status: g.deleting ? 'Delete in progress' : undefined,
    InstanceMaintenancePolicy: g.maintenance ? { MinHealthyPercentage: g.maintenance.min, MaxHealthyPercentage: g.maintenance.max } : undefined,
    ...warmPoolOut(w, g),
  };
}

function tagOut(g: GroupRec, t: { key: string; value: string; propagateAtLaunch: boolean }) {
  return { ResourceId: g.name, ResourceType: 'auto-scaling-group', Key: t.key, Value: t.value, PropagateAtLaunch: t.propagateAtLaunch };
}

export function activityOut(g: GroupRec | undefined, a: ActivityRec) {
  return {
    ActivityId: a.id,
    AutoScalingGroupName: a.group,
    AutoScalingGroupARN: g?.arn,
    Description: a.description,
    Cause: a.cause,
    StartTime: new Date(a.startTime),
    EndTime: date(a.endTime),
    StatusCode: a.status,
    StatusMessage: a.statusMessage,
    Progress: a.progress,
    Details: a.details,
  };
}

function setDesired(w: World, g: GroupRec, desired: number, ctx: CallCtx): void {
  if (desired !== g.desired) {
    g.desired = desired;
    g.lastDesiredChange = call(w, ctx);
    w.asg.requestScaling(g); // the scaling activity starts promptly, not on the periodic loop [ASG-1a]
  }
}

/** One API termination [ASG-7]: returns the running activity for an instance already on its way out. */
function terminateOne(w: World, g: GroupRec, inst: InstanceRec, decrement: boolean, ctx: CallCtx): ActivityRec {
  if (!w.isActive(inst) && inst.terminateActivity && w.state.activities[inst.terminateActivity]) return w.state.activities[inst.terminateActivity];
  if (decrement) setDesired(w, g, g.desired - 1, ctx);
  const why = decrement
    ? `instance ${inst.id} was taken out of service in response to a user request, shrinking the capacity from ${g.desired + 1} to ${g.desired}.`
    : `instance ${inst.id} was taken out of service in response to a user request.`;
  w.asg.beginTermination(g, inst, 'api', call(w, ctx), why);
  return w.state.activities[inst.terminateActivity!];
}

function applyTags(w: World, tags: any[], remove: boolean): void {
  for (const t of tags ?? []) {
    if (t.ResourceType && t.ResourceType !== 'auto-scaling-group') throw validation(`Invalid resource type ${t.ResourceType}`);
    const g = getGroup(w, t.ResourceId);
    const key = requireString(t.Key, 'tags.member.key');
    const i = g.tags.findIndex((x) => x.key === key);
    if (remove) {
      if (i >= 0) g.tags.splice(i, 1);
    } else {
      const rec = { key, value: t.Value ?? '', propagateAtLaunch: !!t.PropagateAtLaunch };
      if (i >= 0) g.tags[i] = rec;
      else g.tags.push(rec);
    }
  }
}

function processList(input: any): string[] {
  const list: string[] = input.ScalingProcesses?.length ? input.ScalingProcesses : ALL_PROCESSES;
  const bad = list.filter((p) => !ALL_PROCESSES.includes(p) && p !== 'RemoveFromLoadBalancerLowPriority');
  if (bad.length) throw validation(`Valid processes are: ${ALL_PROCESSES.join(', ')}. Invalid processes: ${bad.join(', ')}`);
  return list;
}

export const autoScalingOps: Record<string, Handler> = {
  CreateAutoScalingGroup(w, input, ctx) {
    const name = requireString(input.AutoScalingGroupName, 'autoScalingGroupName');
    if (w.state.groups[name]) throw new SimFault('AlreadyExists', `AutoScalingGroup by this name already exists - A group with the name ${name} already exists`);
    let launchTemplate: GroupRec['launchTemplate'];
    let mixed: any;
    if (input.LaunchTemplate) launchTemplate = resolveLtSpec(w, input.LaunchTemplate);
    else if (input.MixedInstancesPolicy) {
      validateMixedPolicy(input.MixedInstancesPolicy);
      mixed = structuredClone(input.MixedInstancesPolicy);
      const spec = mixed.LaunchTemplate?.LaunchTemplateSpecification;
      spec._resolvedId = resolveLtSpec(w, spec).id;
    } else if (input.LaunchConfigurationName) {
      if (!w.state.launchConfigurations[input.LaunchConfigurationName]) throw validation(`Launch configuration name not found - Launch configuration ${input.LaunchConfigurationName} not found`);
    } else {
      throw validation('Valid requests must contain either LaunchTemplate, LaunchConfigurationName, InstanceId or MixedInstancesPolicy parameter.');
    }
    const min = requireInt(input.MinSize, 'minSize');
    const max = requireInt(input.MaxSize, 'maxSize');
    const desired = input.DesiredCapacity === undefined ? min : requireInt(input.DesiredCapacity, 'desiredCapacity');
    checkSizes(min, max, desired);
    for (const lb of input.LoadBalancerNames ?? []) if (!w.state.elbs[lb]) throw validation(`Provided Load Balancers may not be valid. Please ensure they exist and try again.`);
    const { azs, vpc } = zonesFor(w, input);
    const maintenance = maintenancePolicy(input, undefined);
    const lifetime = maxInstanceLifetime(input.MaxInstanceLifetime);
    const g: GroupRec = {
      name,
      arn: `arn:aws:autoscaling:${w.state.region}:123456789012:autoScalingGroup:${w.uuid()}:autoScalingGroupName/${name}`,
      launchTemplate,
      mixedInstancesPolicy: mixed,
      launchConfigurationName: input.LaunchConfigurationName,
      min, max, desired,
      defaultCooldown: input.DefaultCooldown ?? 300,
      azs,
      vpcZoneIdentifier: vpc,
      loadBalancerNames: [...(input.LoadBalancerNames ?? [])],
      targetGroupARNs: [...(input.TargetGroupARNs ?? [])],
      healthCheckType: input.HealthCheckType ?? 'EC2',
      healthCheckGracePeriod: input.HealthCheckGracePeriod ?? 0,
      terminationPolicies: input.TerminationPolicies ?? [],
      newInstancesProtectedFromScaleIn: !!input.NewInstancesProtectedFromScaleIn,
      tags: [],
      suspended: [],
      instances: [],
      createdTime: w.now,
      lastDesiredChange: desired > 0 ? call(w, ctx) : undefined,
      activities: [],
      launchFailures: 0,
      defaultInstanceWarmup: input.DefaultInstanceWarmup,
      ...(maintenance ? { maintenance } : {}),
      ...(input.CapacityRebalance ? { capacityRebalance: true } : {}),
      ...(lifetime ? { maxInstanceLifetime: lifetime } : {}),
    };
    w.state.groups[name] = g;
    applyTags(w, (input.Tags ?? []).map((t: any) => ({ ...t, ResourceId: name })), false);
    if (desired > 0) w.asg.requestScaling(g); // [ASG-1a]
    return {};
  },

  UpdateAutoScalingGroup(w, input, ctx) {
    const g = modifiable(getGroup(w, input.AutoScalingGroupName));
    if (input.LaunchTemplate) {
      g.launchTemplate = resolveLtSpec(w, input.LaunchTemplate);
      g.launchConfigurationName = undefined;
      g.mixedInstancesPolicy = undefined;
    } else if (input.MixedInstancesPolicy) {
      // Parts left out are kept as they are [MIX-6]; a group without a policy needs a whole one.
      validateMixedPolicy(input.MixedInstancesPolicy, g.mixedInstancesPolicy !== undefined);
      const mixed = mergeMixedPolicy(g.mixedInstancesPolicy, structuredClone(input.MixedInstancesPolicy));
      const spec = mixed.LaunchTemplate?.LaunchTemplateSpecification;
      if (spec) spec._resolvedId = resolveLtSpec(w, spec).id;
      g.mixedInstancesPolicy = mixed;
      g.launchTemplate = undefined;
      g.launchConfigurationName = undefined;
    } else if (input.LaunchConfigurationName) {
      if (!w.state.launchConfigurations[input.LaunchConfigurationName]) throw validation(`Launch configuration name not found - Launch configuration ${input.LaunchConfigurationName} not found`);
      g.launchConfigurationName = input.LaunchConfigurationName;
      g.launchTemplate = undefined;
      g.mixedInstancesPolicy = undefined;
    }
    const maintenance = maintenancePolicy(input, g.maintenance);
    const min = input.MinSize === undefined ? g.min : requireInt(input.MinSize, 'minSize');
    const max = input.MaxSize === undefined ? g.max : requireInt(input.MaxSize, 'maxSize');
    let desired = input.DesiredCapacity === undefined ? g.desired : requireInt(input.DesiredCapacity, 'desiredCapacity');
    if (input.DesiredCapacity === undefined) {
      // An implicit SetDesiredCapacity when the new bounds exclude the current size [ASG-5].
      if (desired > max) desired = max;
      if (desired < min) desired = min;
    }
    checkSizes(min, max, desired);
    g.min = min;
    g.max = max;
    setDesired(w, g, desired, ctx);
    if (input.AvailabilityZones || input.VPCZoneIdentifier) {
      const z = zonesFor(w, input, g);
      g.azs = z.azs;
      g.vpcZoneIdentifier = z.vpc;
    }
    if (input.HealthCheckType !== undefined) g.healthCheckType = input.HealthCheckType;
    if (input.HealthCheckGracePeriod !== undefined) g.healthCheckGracePeriod = input.HealthCheckGracePeriod;
    if (input.DefaultCooldown !== undefined) g.defaultCooldown = input.DefaultCooldown;
    if (input.DefaultInstanceWarmup !== undefined) g.defaultInstanceWarmup = input.DefaultInstanceWarmup < 0 ? undefined : input.DefaultInstanceWarmup;
    if (input.TerminationPolicies !== undefined) g.terminationPolicies = [...input.TerminationPolicies];
    if (input.CapacityRebalance !== undefined) g.capacityRebalance = input.CapacityRebalance ? true : undefined;
    if (input.MaxInstanceLifetime !== undefined) g.maxInstanceLifetime = maxInstanceLifetime(input.MaxInstanceLifetime);
    if (maintenance !== g.maintenance) {
      g.maintenance = maintenance;
      // Without a policy, instances kept for a launch-first replacement are replaced the default way.
      if (!maintenance) for (const i of w.groupInstances(g)) if (i.awaitingReplacement) i.awaitingReplacement = undefined;
    }
    if (input.NewInstancesProtectedFromScaleIn !== undefined) g.newInstancesProtectedFromScaleIn = !!input.NewInstancesProtectedFromScaleIn;
    return {};
  },

  DeleteAutoScalingGroup(w, input, ctx) {
    const g = getGroup(w, input.AutoScalingGroupName);
    if (g.deleting) return {}; // already "Delete in progress"
    const live = w.groupInstances(g).filter((i) => i.lifecycle !== 'Terminated');
    if (!input.ForceDelete) {
      if (live.length) throw new SimFault('ResourceInUse', 'You cannot delete an AutoScalingGroup while there are instances or pending Spot instance request(s) still in the group.');
      if (g.activities.some((id) => w.state.activities[id]?.status === 'InProgress')) {
        throw new SimFault('ScalingActivityInProgress', 'You cannot delete an AutoScalingGroup while there are scaling activities in progress for that group.');
      }
    }
    if (live.length === 0) {
      delete w.state.groups[g.name];
      return {};
    }
    // "Delete in progress" until the last instance is terminated; the loop then removes it [ASG-8].
    g.deleting = true;
    for (const i of live) w.asg.beginTermination(g, i, 'api', call(w, ctx), `an instance was taken out of service in response to a user request to delete the group ${g.name}.`);
    return {};
  },

  DescribeAutoScalingGroups(w, input, ctx) {
    let groups = Object.values(w.state.groups);
    if (input.AutoScalingGroupNames?.length) {
      const names = new Set<string>(input.AutoScalingGroupNames);
      groups = groups.filter((g) => names.has(g.name));
    }
    for (const f of input.Filters ?? []) {
      const values: string[] = f.Values ?? [];
      if (f.Name === 'tag-key') groups = groups.filter((g) => g.tags.some((t) => values.includes(t.key)));
      else if (f.Name === 'tag-value') groups = groups.filter((g) => g.tags.some((t) => values.includes(t.value)));
      else if (f.Name?.startsWith('tag:')) {
        const key = f.Name.slice(4);
        groups = groups.filter((g) => g.tags.some((t) => t.key === key && values.includes(t.value)));
      } else throw validation(`Filter ${f.Name} is not supported`);
    }
    groups.sort((a, b) => a.name.localeCompare(b.name));
    const p = page(groups, input.NextToken, input.MaxRecords, ctx, 50);
    return { AutoScalingGroups: p.items.map((g) => groupOut(w, g)), NextToken: p.next };
  },

  DescribeAutoScalingInstances(w, input, ctx) {
    let insts: InstanceRec[] = [];
    for (const g of Object.values(w.state.groups).sort((a, b) => a.name.localeCompare(b.name))) insts.push(...w.groupInstances(g).filter((i) => i.lifecycle !== 'Terminated'));
    if (input.InstanceIds?.length) {
      const ids = new Set<string>(input.InstanceIds);
      insts = insts.filter((i) => ids.has(i.id));
    }
    const p = page(insts, input.NextToken, input.MaxRecords, ctx, 50);
    return {
      AutoScalingInstances: p.items.map((i) => ({ ...instanceOut(w, i), AutoScalingGroupName: i.group })),
      NextToken: p.next,
    };
  },

  SetDesiredCapacity(w, input, ctx) {
    const g = modifiable(getGroup(w, input.AutoScalingGroupName));
    const d = requireInt(input.DesiredCapacity, 'desiredCapacity');
    if (d > g.max) throw validation(`New SetDesiredCapacity value ${d} is above max value ${g.max} for the AutoScalingGroup.`);
    if (d < g.min) throw validation(`New SetDesiredCapacity value ${d} is below min value ${g.min} for the AutoScalingGroup.`);
    maybeActivityInProgress(w, g);
    setDesired(w, g, d, ctx);
    return {};
  },

  TerminateInstanceInAutoScalingGroup(w, input, ctx) {
    const decrement = input.ShouldDecrementDesiredCapacity;
    if (input.InstanceIds !== undefined) {
      // The multi-instance form (InstanceIds, up to 100, with AutoScalingGroupName): the response
      // populates Activities instead of Activity [ASG-7].
      const ids: string[] = input.InstanceIds;
      if (input.InstanceId !== undefined) throw validation('Specify either InstanceId or InstanceIds, not both.');
      if (ids.length < 1 || ids.length > 100) throw validation(`1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: Member must have length between 1 and 100`);
      const g = getGroup(w, input.AutoScalingGroupName);
      if (decrement === undefined) throw validation("1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null");
      for (const id of ids) {
        const inst = w.state.instances[id];
        if (!inst || inst.group !== g.name || inst.lifecycle === 'Terminated') throw validation(`Instance Id not found - No managed instance found for instance ID: ${id}`);
      }
      const fresh = [...new Set(ids)].filter((id) => w.isActive(w.state.instances[id]));
      if (decrement && g.desired - fresh.length < g.min) {
        throw validation(`Currently, desiredSize equals minSize (${g.min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`);
      }
      maybeActivityInProgress(w, g);
      const acts = [...new Set(ids)].map((id) => terminateOne(w, g, w.state.instances[id], !!decrement, ctx));
      if (!decrement && fresh.length) w.asg.requestScaling(g);
      return { Activities: acts.map((a) => activityOut(g, a)) };
    }
    const id = requireString(input.InstanceId, 'instanceId');
    const inst = w.state.instances[id];
    // A warmed instance: terminated, and the pool launches its replacement [WARM-5].
    if (inst?.warmPoolOf) return terminateWarm(w, inst);
    const g = inst?.group ? w.state.groups[inst.group] : undefined;
    if (!inst || !g || inst.lifecycle === 'Terminated') throw validation(`Instance Id not found - No managed instance found for instance ID: ${id}`);
    if (!w.isActive(inst)) {
      // Already on its way out: report the running termination (no second decrement).
      const act = inst.terminateActivity ? w.state.activities[inst.terminateActivity] : undefined;
      if (act) return { Activity: activityOut(g, act) };
    }
    if (decrement === undefined) throw validation("1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null");
    if (decrement && g.desired - 1 < g.min) {
      throw validation(`Currently, desiredSize equals minSize (${g.min}). Terminating instance without replacement will violate group's min size constraint. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`);
    }
    maybeActivityInProgress(w, g);
    const act = terminateOne(w, g, inst, !!decrement, ctx);
    // Without decrement the replacement launches promptly [ASG-1a, ASG-7].
    if (!decrement) w.asg.requestScaling(g);
    return { Activity: activityOut(g, act) };
  },

  EnterStandby(w, input, ctx) {
    const g = modifiable(getGroup(w, input.AutoScalingGroupName));
    const decrement = input.ShouldDecrementDesiredCapacity;
    if (decrement === undefined || decrement === null) throw validation("1 validation error detected: Value null at 'shouldDecrementDesiredCapacity' failed to satisfy constraint: Member must not be null");
    const insts = standbyIds(w, g, input, 'InService');
    if (decrement && g.desired - insts.length < g.min) {
      throw validation(`Cannot move instances into standby: the desired capacity ${g.desired - insts.length} would be below the group's min size ${g.min}. Either set shouldDecrementDesiredCapacity flag to false or lower group's min size.`);
    }
    const from = g.desired;
    if (decrement) setDesired(w, g, g.desired - insts.length, ctx);
    const acts = insts.map((inst, k) => w.asg.enterStandby(g, inst, decrement ? { from: from - k, to: from - k - 1 } : undefined));
    // Without decrement the group launches replacements for the instances on standby, promptly [ASG-1a].
    if (!decrement) w.asg.requestScaling(g);
    return { Activities: acts.map((a) => activityOut(g, a)) };
  },

  ExitStandby(w, input, ctx) {
    const g = modifiable(getGroup(w, input.AutoScalingGroupName));
    const insts = standbyIds(w, g, input, 'Standby');
    if (g.desired + insts.length > g.max) {
      throw validation(`Cannot move instances out of standby: the desired capacity ${g.desired + insts.length} would be above the group's max size ${g.max}.`);
    }
    const from = g.desired;
    // "After you put the instances back in service, the desired capacity is incremented."
    setDesired(w, g, g.desired + insts.length, ctx);
    const acts = insts.map((inst, k) => w.asg.exitStandby(g, inst, from + k));
    return { Activities: acts.map((a) => activityOut(g, a)) };
  },

  SuspendProcesses(w, input) {
    const g = modifiable(getGroup(w, input.AutoScalingGroupName), 'Processes may not be suspended while the AutoScaling group is pending delete');
    for (const p of processList(input)) {
      if (!g.suspended.some((s) => s.name === p)) g.suspended.push({ name: p, reason: `User suspended at ${new Date(w.now).toISOString()}` });
    }
    return {};
  },

  ResumeProcesses(w, input) {
    const g = modifiable(getGroup(w, input.AutoScalingGroupName), 'Processes may not be resumed while the AutoScaling group is pending delete');
    const list = processList(input);
    g.suspended = g.suspended.filter((s) => !list.includes(s.name));
    return {};
  },

  SetInstanceProtection(w, input) {
    const g = modifiable(getGroup(w, input.AutoScalingGroupName));
    const ids: string[] = input.InstanceIds ?? [];
    if (ids.length > 50) throw new SimFault('LimitExceeded', 'The number of instance IDs exceeds the maximum of 50.');
    if (input.ProtectedFromScaleIn === undefined) throw validation("1 validation error detected: Value null at 'protectedFromScaleIn' failed to satisfy constraint: Member must not be null");
    for (const id of ids) {
      const inst = w.state.instances[id];
      if (!inst || inst.group !== g.name || inst.lifecycle === 'Terminated') throw validation(`The instance ${id} is not part of Auto Scaling group ${g.name}.`);
    }
    for (const id of ids) {
      const inst = w.state.instances[id];
      inst.protected = !!input.ProtectedFromScaleIn;
      inst.protectOnInService = undefined; // an explicit setting replaces the group's launch-time default [TERM-5]
      w.changed(inst);
    }
    return {};
  },

  DescribeScalingActivities(w, input, ctx) {
    let acts = Object.values(w.state.activities);
    if (input.AutoScalingGroupName) {
      const g = w.state.groups[input.AutoScalingGroupName];
      acts = g ? g.activities.map((id) => w.state.activities[id]).filter(Boolean) : input.IncludeDeletedGroups ? acts.filter((a) => a.group === input.AutoScalingGroupName) : [];
    }
    if (input.ActivityIds?.length) {
      const ids = new Set<string>(input.ActivityIds);
      acts = acts.filter((a) => ids.has(a.id));
    }
    acts = [...acts].sort((a, b) => b.startTime - a.startTime || (a.id < b.id ? 1 : -1));
    const p = page(acts, input.NextToken, input.MaxRecords, ctx, 100);
    return { Activities: p.items.map((a) => activityOut(w.state.groups[a.group], a)), NextToken: p.next };
  },

  CreateOrUpdateTags(w, input) {
    applyTags(w, input.Tags, false);
    return {};
  },

  DeleteTags(w, input) {
    applyTags(w, input.Tags, true);
    return {};
  },

  DescribeTags(w, input, ctx) {
    let rows: ReturnType<typeof tagOut>[] = [];
    for (const g of Object.values(w.state.groups).sort((a, b) => a.name.localeCompare(b.name))) rows.push(...g.tags.map((t) => tagOut(g, t)));
    for (const f of input.Filters ?? []) {
      const values: string[] = f.Values ?? [];
      if (f.Name === 'auto-scaling-group') rows = rows.filter((r) => values.includes(r.ResourceId));
      else if (f.Name === 'key') rows = rows.filter((r) => values.includes(r.Key));
      else if (f.Name === 'value') rows = rows.filter((r) => values.includes(r.Value));
      else if (f.Name === 'propagate-at-launch') rows = rows.filter((r) => values.includes(String(r.PropagateAtLaunch)));
      else throw validation(`Filter ${f.Name} is not supported`);
    }
    const p = page(rows, input.NextToken, input.MaxRecords, ctx, 50);
    return { Tags: p.items, NextToken: p.next };
  },

  CreateLaunchConfiguration(w, input) {
    const name = requireString(input.LaunchConfigurationName, 'launchConfigurationName');
    if (w.state.launchConfigurations[name]) throw new SimFault('AlreadyExists', `Launch Configuration by this name already exists - A launch configuration already exists with the name ${name}`);
    w.state.launchConfigurations[name] = {
      name,
      arn: `arn:aws:autoscaling:${w.state.region}:123456789012:launchConfiguration:${w.uuid()}:launchConfigurationName/${name}`,
      imageId: requireString(input.ImageId, 'imageId'),
      instanceType: requireString(input.InstanceType, 'instanceType'),
      createTime: w.now,
      data: structuredClone(input),
    };
    return {};
  },

  DescribeLaunchConfigurations(w, input, ctx) {
    let lcs = Object.values(w.state.launchConfigurations);
    if (input.LaunchConfigurationNames?.length) lcs = lcs.filter((l) => input.LaunchConfigurationNames.includes(l.name));
    lcs.sort((a, b) => a.name.localeCompare(b.name));
    const p = page(lcs, input.NextToken, input.MaxRecords, ctx, 50);
    return {
      LaunchConfigurations: p.items.map((l) => ({
        ...l.data,
        LaunchConfigurationName: l.name,
        LaunchConfigurationARN: l.arn,
        ImageId: l.imageId,
        InstanceType: l.instanceType,
        CreatedTime: new Date(l.createTime),
      })),
      NextToken: p.next,
    };
  },

  DeleteLaunchConfiguration(w, input) {
    const name = requireString(input.LaunchConfigurationName, 'launchConfigurationName');
    if (!w.state.launchConfigurations[name]) throw validation(`Launch configuration name not found - Launch configuration ${name} not found`);
    const user = Object.values(w.state.groups).find((g) => g.launchConfigurationName === name);
    if (user) throw new SimFault('ResourceInUse', `Cannot delete launch configuration ${name} because it is attached to AutoScalingGroup ${user.name}`);
    delete w.state.launchConfigurations[name];
    return {};
  },

  AttachLoadBalancers(w, input) {
    const g = modifiable(getGroup(w, input.AutoScalingGroupName));
    for (const name of input.LoadBalancerNames ?? []) {
      const elb = w.state.elbs[name];
      if (!elb) throw validation(`Provided Load Balancers may not be valid. Please ensure they exist and try again.`);
      if (g.loadBalancerNames.includes(name)) continue;
      g.loadBalancerNames.push(name);
      // Attached to an existing group: Adding, then Added, then InService [ELB-7].
      (g.lbStates ??= {})[name] = 'Adding';
      for (const i of w.groupInstances(g)) if (i.lifecycle === 'InService') w.elb.register(elb, i.id);
    }
    return {};
  },

  DetachLoadBalancers(w, input) {
    const g = modifiable(getGroup(w, input.AutoScalingGroupName));
    for (const name of input.LoadBalancerNames ?? []) {
      if (!g.loadBalancerNames.includes(name)) continue;
      g.loadBalancerNames = g.loadBalancerNames.filter((n) => n !== name);
      // Removing while its instances deregister (draining), then gone [ELB-7].
      (g.lbStates ??= {})[name] = 'Removing';
      const elb = w.state.elbs[name];
      if (elb) for (const i of w.groupInstances(g)) w.elb.deregister(elb, i.id);
    }
    for (const i of w.groupInstances(g)) w.changed(i);
    return {};
  },

  DescribeLoadBalancers(w, input, ctx) {
    const g = getGroup(w, input.AutoScalingGroupName);
    const removing = Object.entries(g.lbStates ?? {}).filter(([n, st]) => st === 'Removing' && !g.loadBalancerNames.includes(n)).map(([n]) => n);
    const p = page([...g.loadBalancerNames, ...removing], input.NextToken, input.MaxRecords, ctx, 100);
    return { LoadBalancers: p.items.map((n) => ({ LoadBalancerName: n, State: w.link.attachState(g, n) })), NextToken: p.next };
  },

  DescribeLoadBalancerTargetGroups(w, input, ctx) {
    const g = getGroup(w, input.AutoScalingGroupName);
    const p = page(g.targetGroupARNs, input.NextToken, input.MaxRecords, ctx, 100);
    return { LoadBalancerTargetGroups: p.items.map((a) => ({ LoadBalancerTargetGroupARN: a, State: 'InService' })), NextToken: p.next };
  },

  SetInstanceHealth(w, input) {
    const id = requireString(input.InstanceId, 'instanceId');
    const inst = w.state.instances[id];
    const g = inst?.group ? w.state.groups[inst.group] : undefined;
    if (!inst || !g || !w.isActive(inst)) throw validation(`Instance Id not found - No managed instance found for instance ID: ${id}`);
    const status = requireString(input.HealthStatus, 'healthStatus');
    if (status !== 'Healthy' && status !== 'Unhealthy') throw validation(`Valid health status values are Healthy and Unhealthy`);
    // Respecting the grace period: an Unhealthy report inside it is ignored (default true) [HEALTH-5].
    const respect = input.ShouldRespectGracePeriod ?? true;
    if (status === 'Unhealthy' && respect && inst.inServiceAt !== undefined && w.now < inst.inServiceAt + g.healthCheckGracePeriod * 1000) return {};
    inst.health = status;
    w.changed(inst);
    return {};
  },

  /**
   * [ASG-11] StartInstanceRefresh: refused while one is active (InstanceRefreshInProgress);
   * recorded `InProgress` at once. The sandbox does not replace instances for it (a record for
   * "someone else's refresh is running"); CancelInstanceRefresh ends it.
   */
  StartInstanceRefresh(w, input) {
    const g = getGroup(w, input.AutoScalingGroupName);
    if (activeRefresh(g)) throw new SimFault('InstanceRefreshInProgress', 'An Instance Refresh is already in progress and blocks the execution of this Instance Refresh.');
    const rec: InstanceRefreshRec = { id: w.uuid(), status: 'InProgress', statusReason: undefined, startTime: w.now, percentageComplete: 0, preferences: input.Preferences };
    (g.instanceRefreshes ??= []).push(rec);
    return { InstanceRefreshId: rec.id };
  },

  /** [ASG-11] The group's refreshes, newest first; `InstanceRefreshIds` filters, `MaxRecords` (1–100, default 50) pages. */
  DescribeInstanceRefreshes(w, input) {
    const g = getGroup(w, input.AutoScalingGroupName);
    let list = [...(g.instanceRefreshes ?? [])].reverse();
    if (input.InstanceRefreshIds?.length) list = list.filter((r) => input.InstanceRefreshIds.includes(r.id));
    const max = input.MaxRecords ?? 50;
    if (max < 1 || max > 100) throw validation(`1 validation error detected: Value '${max}' at 'maxRecords' failed to satisfy constraint: Member must have value less than or equal to 100`);
    const start = input.NextToken ? Number(input.NextToken) : 0;
    const shown = list.slice(start, start + max);
    return {
      InstanceRefreshes: shown.map((r) => ({
        InstanceRefreshId: r.id,
        AutoScalingGroupName: g.name,
        Status: r.status,
        StatusReason: r.statusReason,
        StartTime: new Date(r.startTime),
        EndTime: r.endTime !== undefined ? new Date(r.endTime) : undefined,
        PercentageComplete: r.percentageComplete,
        InstancesToUpdate: w.groupInstances(g).filter((i) => w.isActive(i) && !w.asg.isUpToDate(i, g)).length,
        Preferences: r.preferences,
      })),
      NextToken: start + max < list.length ? String(start + max) : undefined,
    };
  },

  /** [ASG-11] CancelInstanceRefresh: the active refresh ends `Cancelled`; none → ActiveInstanceRefreshNotFound. */
  CancelInstanceRefresh(w, input) {
    const g = getGroup(w, input.AutoScalingGroupName);
    const r = activeRefresh(g);
    if (!r) throw new SimFault('ActiveInstanceRefreshNotFound', 'No in progress or pending Instance Refresh found for Auto Scaling group ' + g.name);
    r.status = 'Cancelled';
    r.endTime = w.now;
    return { InstanceRefreshId: r.id };
  },

  DescribeScalingProcessTypes() {
    return { Processes: ALL_PROCESSES.map((p) => ({ ProcessName: p })) };
  },

  DescribeTerminationPolicyTypes() {
    return { TerminationPolicyTypes: ['AllocationStrategy', 'ClosestToNextInstanceHour', 'Default', 'NewestInstance', 'OldestInstance', 'OldestLaunchConfiguration', 'OldestLaunchTemplate'] };
  },
};

export const autoScalingReadOnly = (op: string) => op.startsWith('Describe');
