/**
 * The world a rehearsal runs in (docs/rehearse.md): your groups as they are, read with
 * read-only calls only (Describe*), and the same world built in a fresh simulated AWS.
 *
 *   read    `readGroups(clients, names)`: DescribeAutoScalingGroups (sizes, AZs, health-check
 *           type and grace period, load balancers, target groups), DescribeScalingActivities
 *           (the boot times of the group's recent launches), DescribeLoadBalancers and
 *           DescribeLoadBalancerAttributes (classic ELB health check, connection draining),
 *           DescribeTargetGroups and DescribeTargetGroupAttributes (target-group health check,
 *           deregistration delay). Nothing else: no call that changes anything, not even a tag.
 *   observe `bootTimes(activities)` (pure): the seconds from the start of each successful
 *           "Launching a new EC2 instance" activity to its end — the launch is InService then
 *           (sandbox rule ASG-6, as AWS ends the activity) — newest first.
 *   build   `buildWorld(sandbox, groups)`: each group with the same sizes, AZs, health checks,
 *           load balancers and target groups, on a stand-in previous image; the observed boot
 *           times become the simulated AWS's boot time (its `bootSeconds`, a uniform range
 *           from the fastest to the slowest observed launch).
 */
import { DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand, type Activity, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { DescribeLoadBalancerAttributesCommand, DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing';
import type { AwsClients } from '../aws/clients';
import { DeployError, ExitCode } from '../errors';
import type { Sandbox } from '../sandbox';

/** What a rehearsal reads of one of your groups. */
export interface ObservedGroup {
  name: string;
  min: number;
  max: number;
  desired: number;
  /** InService instances now. */
  inService: number;
  azs: string[];
  healthCheckType: string;
  healthCheckGracePeriod: number;
  loadBalancers: ObservedElb[];
  targetGroups: ObservedTargetGroup[];
  /** Observed boot times (s) of recent launches, newest first (empty: none observed). */
  bootSeconds: number[];
}

export interface ObservedElb {
  name: string;
  healthCheck: { target: string; interval: number; timeout: number; healthyThreshold: number; unhealthyThreshold: number };
  /** Connection draining timeout (s); 0: off. */
  drainingTimeout: number;
}

export interface ObservedTargetGroup {
  name: string;
  protocol: string;
  port: number;
  healthCheck: { interval?: number; timeout?: number; healthyThreshold?: number; unhealthyThreshold?: number; enabled?: boolean };
  deregistrationDelay: number;
}

/** The previous image every rehearsed group runs before the rollout, and the image it rolls out. */
export const REHEARSAL_IMAGE = 'ami-0rehearsal000000';
export const REHEARSAL_NEW_IMAGE = 'ami-0rehearsalnew000';

/** Boot times (s) of the successful launches among `activities`, newest first, at most `limit`. */
export function bootTimes(activities: readonly Activity[], limit = 20): number[] {
  return activities
    .filter((a) => a.StatusCode === 'Successful' && /^Launching a new EC2 instance\b/.test(a.Description ?? '') && a.StartTime && a.EndTime)
    .sort((a, b) => b.StartTime!.getTime() - a.StartTime!.getTime())
    .slice(0, limit)
    .map((a) => Math.max(0, Math.round((a.EndTime!.getTime() - a.StartTime!.getTime()) / 1000)));
}

/** The boot-time distribution for the simulated AWS: fastest to slowest observed, or undefined (its default). */
export function bootDistribution(groups: readonly ObservedGroup[]): number | { min: number; max: number } | undefined {
  const all = groups.flatMap((g) => g.bootSeconds);
  if (!all.length) return undefined;
  const min = Math.min(...all);
  const max = Math.max(...all);
  return min === max ? min : { min, max };
}

/**
 * Reads `names` (exact group names) with read-only calls. Missing groups are left out (the
 * caller says what is missing: a stack not created yet is rehearsed from its config).
 */
export async function readGroups(clients: AwsClients, names: readonly string[]): Promise<ObservedGroup[]> {
  if (!names.length) return [];
  const found: AutoScalingGroup[] = [];
  // DescribeAutoScalingGroups takes at most 50 names a call (AutoScalingGroupNames.member.N).
  for (let i = 0; i < names.length; i += 50) {
    let token: string | undefined;
    do {
      const out = await clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: names.slice(i, i + 50), NextToken: token }));
      found.push(...(out.AutoScalingGroups ?? []));
      token = out.NextToken;
    } while (token);
  }
  const groups: ObservedGroup[] = [];
  for (const g of found.sort((a, b) => String(a.AutoScalingGroupName).localeCompare(String(b.AutoScalingGroupName)))) {
    const name = String(g.AutoScalingGroupName);
    // The most recent activities (newest first, one page): enough launches to see the boot time.
    const acts = await clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: name, MaxRecords: 100 }));
    groups.push({
      name,
      min: g.MinSize ?? 0,
      max: g.MaxSize ?? 0,
      desired: g.DesiredCapacity ?? 0,
      inService: (g.Instances ?? []).filter((i) => i.LifecycleState === 'InService').length,
      azs: [...(g.AvailabilityZones ?? [])].sort(),
      healthCheckType: g.HealthCheckType ?? 'EC2',
      healthCheckGracePeriod: g.HealthCheckGracePeriod ?? 0,
      loadBalancers: await readElbs(clients, g.LoadBalancerNames ?? []),
      targetGroups: await readTargetGroups(clients, g.TargetGroupARNs ?? []),
      bootSeconds: bootTimes(acts.Activities ?? []),
    });
  }
  return groups;
}

async function readElbs(clients: AwsClients, names: readonly string[]): Promise<ObservedElb[]> {
  if (!names.length) return [];
  const out = await clients.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: [...names] }));
  const elbs: ObservedElb[] = [];
  for (const d of out.LoadBalancerDescriptions ?? []) {
    const name = String(d.LoadBalancerName);
    const attrs = await clients.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerName: name }));
    const drain = attrs.LoadBalancerAttributes?.ConnectionDraining;
    const hc: import('@aws-sdk/client-elastic-load-balancing').HealthCheck | Record<string, undefined> = d.HealthCheck ?? {};
    elbs.push({
      name,
      healthCheck: { target: hc.Target ?? 'TCP:80', interval: hc.Interval ?? 30, timeout: hc.Timeout ?? 5, healthyThreshold: hc.HealthyThreshold ?? 10, unhealthyThreshold: hc.UnhealthyThreshold ?? 2 },
      drainingTimeout: drain?.Enabled ? (drain.Timeout ?? 300) : 0,
    });
  }
  return elbs;
}

async function readTargetGroups(clients: AwsClients, arns: readonly string[]): Promise<ObservedTargetGroup[]> {
  if (!arns.length) return [];
  const v2 = require('@aws-sdk/client-elastic-load-balancing-v2') as typeof import('@aws-sdk/client-elastic-load-balancing-v2');
  const out = await clients.elbv2.send(new v2.DescribeTargetGroupsCommand({ TargetGroupArns: [...arns] }));
  const tgs: ObservedTargetGroup[] = [];
  for (const t of out.TargetGroups ?? []) {
    const attrs = await clients.elbv2.send(new v2.DescribeTargetGroupAttributesCommand({ TargetGroupArn: t.TargetGroupArn }));
    const delay = Number(attrs.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value ?? 300);
    tgs.push({
      name: String(t.TargetGroupName),
      protocol: t.Protocol ?? 'HTTP',
      port: t.Port ?? 80,
      healthCheck: {
        interval: t.HealthCheckIntervalSeconds,
        timeout: t.HealthCheckTimeoutSeconds,
        healthyThreshold: t.HealthyThresholdCount,
        unhealthyThreshold: t.UnhealthyThresholdCount,
        enabled: t.HealthCheckEnabled,
      },
      deregistrationDelay: Number.isFinite(delay) ? delay : 300,
    });
  }
  return tgs;
}

/**
 * Your AZs in the simulated AWS: it has three per region (`<region>a..c`); AZs that exist there
 * keep their names, the others are mapped in order to the ones left (said in the rehearsal's
 * first event). More than three AZs cannot be built: exit 2 naming them.
 */
export function zoneMap(groups: readonly ObservedGroup[], simZones: readonly string[]): Map<string, string> {
  const real = [...new Set(groups.flatMap((g) => g.azs))].sort();
  const map = new Map<string, string>();
  for (const z of real) if (simZones.includes(z)) map.set(z, z);
  const free = simZones.filter((z) => ![...map.values()].includes(z));
  const rest = real.filter((z) => !map.has(z));
  if (rest.length > free.length) {
    throw new DeployError('rehearse.too-many-zones', `--rehearse: your groups use ${real.length} availability zones (${real.join(', ')}); the simulated AWS has ${simZones.length} (${simZones.join(', ')})`, {
      source: 'user',
      exit: ExitCode.badInput,
    });
  }
  rest.forEach((z, i) => map.set(z, free[i]));
  return map;
}

/** The region of an AZ name (`eu-west-1b` → `eu-west-1`), for the simulated AWS. */
export function regionOfZones(groups: readonly ObservedGroup[]): string | undefined {
  const z = groups.flatMap((g) => g.azs)[0];
  return z ? z.replace(/[a-z]+$/, '') : undefined;
}

/**
 * Builds `groups` in `sb` as they are (sizes, AZs through `zones`, health checks, load balancers,
 * target groups), every instance on {@link REHEARSAL_IMAGE}, and lets them settle. A group's
 * launch template is `<group>-rehearsal`.
 */
export function buildWorld(sb: Sandbox, groups: readonly ObservedGroup[], zones: Map<string, string>): void {
  const made = new Set<string>();
  for (const g of groups) {
    for (const elb of g.loadBalancers) {
      if (made.has(`elb:${elb.name}`)) continue;
      made.add(`elb:${elb.name}`);
      sb.direct('elb', 'CreateLoadBalancer', {
        LoadBalancerName: elb.name,
        Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8080 }],
        AvailabilityZones: sb.world.zones(),
      });
      sb.direct('elb', 'ConfigureHealthCheck', {
        LoadBalancerName: elb.name,
        HealthCheck: { Target: elb.healthCheck.target, Interval: elb.healthCheck.interval, Timeout: elb.healthCheck.timeout, HealthyThreshold: elb.healthCheck.healthyThreshold, UnhealthyThreshold: elb.healthCheck.unhealthyThreshold },
      });
      sb.direct('elb', 'ModifyLoadBalancerAttributes', {
        LoadBalancerName: elb.name,
        LoadBalancerAttributes: { ConnectionDraining: { Enabled: elb.drainingTimeout > 0, Timeout: elb.drainingTimeout > 0 ? elb.drainingTimeout : 300 } },
      });
    }
    const fresh = g.targetGroups.filter((t) => !made.has(`tg:${t.name}`));
    for (const t of fresh) made.add(`tg:${t.name}`);
    // A stand-in load balancer forwarding to the group's target groups (their health checks are what count).
    const tgArns = fresh.length
      ? sb.seedTargetGroups({
          name: `${g.name}-rehearsal`.slice(0, 32).replace(/-+$/, ''),
          type: fresh.every((t) => /^(TCP|UDP|TLS|TCP_UDP)$/.test(t.protocol)) ? 'network' : 'application',
          targetGroups: fresh.map((t) => ({
            name: t.name,
            protocol: t.protocol,
            port: t.port,
            healthCheck: t.healthCheck,
            deregistrationDelay: t.deregistrationDelay,
            weight: 1,
          })),
        }).targetGroupArns
      : {};
    const allTgArns = g.targetGroups.map((t) => tgArns[t.name] ?? Object.values(sb.world.state.elbv2?.targetGroups ?? {}).find((r) => r.name === t.name)?.arn).filter((a): a is string => Boolean(a));
    const lt = `${g.name}-rehearsal`;
    sb.direct('ec2', 'CreateLaunchTemplate', { LaunchTemplateName: lt, LaunchTemplateData: { ImageId: REHEARSAL_IMAGE, InstanceType: 't3.small' } });
    sb.direct('autoscaling', 'CreateAutoScalingGroup', {
      AutoScalingGroupName: g.name,
      LaunchTemplate: { LaunchTemplateName: lt, Version: '$Latest' },
      MinSize: g.min,
      MaxSize: g.max,
      DesiredCapacity: g.desired,
      AvailabilityZones: g.azs.length ? [...new Set(g.azs.map((z) => zones.get(z) ?? z))] : sb.world.zones(),
      LoadBalancerNames: g.loadBalancers.map((l) => l.name),
      TargetGroupARNs: allTgArns,
      HealthCheckType: g.healthCheckType,
      HealthCheckGracePeriod: g.healthCheckGracePeriod,
    });
  }
  sb.settle({ timeoutMs: 6 * 3600_000 });
}

/** A new launch template version on `image` for each group (the release the rollout brings). */
export function releaseNewVersion(sb: Sandbox, groups: readonly string[], image = REHEARSAL_NEW_IMAGE): void {
  for (const g of groups) sb.newLaunchTemplateVersion(`${g}-rehearsal`, { ImageId: image });
}

/**
 * `deploy --rehearse`: the stack built from your config, then made like your groups where they
 * exist — sizes, AZs, health-check type and grace period, classic ELB health checks and draining,
 * target-group health checks and deregistration delay, boot times — and settled.
 */
export function overlayWorld(sb: Sandbox, groups: readonly ObservedGroup[], zones: Map<string, string>): void {
  const boot = bootDistribution(groups);
  if (boot !== undefined) sb.faults = { ...sb.faults, bootSeconds: boot };
  const state = sb.world.state;
  for (const g of groups) {
    if (!state.groups[g.name]) continue;
    sb.direct('autoscaling', 'UpdateAutoScalingGroup', {
      AutoScalingGroupName: g.name,
      MinSize: g.min,
      MaxSize: g.max,
      DesiredCapacity: g.desired,
      ...(g.azs.length ? { AvailabilityZones: [...new Set(g.azs.map((z) => zones.get(z) ?? z))] } : {}),
      HealthCheckType: g.healthCheckType,
      HealthCheckGracePeriod: g.healthCheckGracePeriod,
    });
    for (const elb of g.loadBalancers) {
      if (!state.elbs[elb.name]) continue;
      const hc = elb.healthCheck;
      sb.direct('elb', 'ConfigureHealthCheck', { LoadBalancerName: elb.name, HealthCheck: { Target: hc.target, Interval: hc.interval, Timeout: hc.timeout, HealthyThreshold: hc.healthyThreshold, UnhealthyThreshold: hc.unhealthyThreshold } });
      sb.direct('elb', 'ModifyLoadBalancerAttributes', {
        LoadBalancerName: elb.name,
        LoadBalancerAttributes: { ConnectionDraining: { Enabled: elb.drainingTimeout > 0, Timeout: elb.drainingTimeout > 0 ? elb.drainingTimeout : 300 } },
      });
    }
    for (const t of g.targetGroups) {
      const rec = Object.values(state.elbv2?.targetGroups ?? {}).find((r) => r.name === t.name);
      if (!rec) continue;
      const hc = t.healthCheck;
      sb.direct('elbv2', 'ModifyTargetGroup', { TargetGroupArn: rec.arn, HealthCheckIntervalSeconds: hc.interval, HealthCheckTimeoutSeconds: hc.timeout, HealthyThresholdCount: hc.healthyThreshold, UnhealthyThresholdCount: hc.unhealthyThreshold });
      sb.direct('elbv2', 'ModifyTargetGroupAttributes', { TargetGroupArn: rec.arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(t.deregistrationDelay) }] });
    }
  }
  sb.settle({ timeoutMs: 6 * 3600_000 });
}
