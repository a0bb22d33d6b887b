/**
 * What the Pulumi program declares, as a function tests can call under `pulumi.runtime.setMocks`.
 *
 * Per service: a launch template (or, legacy, a launch configuration); then
 * - rolling: one ASG pinned to the template's latest version AS A NUMBER, optional classic ELB;
 * - ab: ASGs `<name>-a` / `<name>-b`, each with its own classic ELB `<name>-a` / `<name>-b`;
 *   desired/min belong to the orchestrator after creation (ignoreChanges).
 * AWS's own rollouts stay off: no instanceRefresh anywhere, and `waitForCapacityTimeout: '0'`
 * because the orchestrator, not Pulumi, waits for instances.
 */
import * as pulumi from '@pulumi/pulumi';
import * as aws from '@pulumi/aws';
import type { AbServiceConfig, LoadBalancerConfig, RollingServiceConfig, ServiceConfig } from './config';
import { MANIFEST_VERSION, serviceManifest, type Elbv2Refs, type LaunchRef, type ServiceManifest, type ServicesManifest } from './manifest';
import type { ServiceSecrets } from './secrets';

/** Tag keys the program puts on every group (the orchestrator and `status` read them). */
export const TAG_STACK = 'asg-deploy:stack';
export const TAG_SERVICE = 'asg-deploy:service';
export const TAG_COLOR = 'asg-deploy:color';

/** AWS terminates old-template instances first, then the oldest: the same order the tool uses. */
export const TERMINATION_POLICIES = ['OldestLaunchTemplate', 'OldestInstance'];
export const TERMINATION_POLICIES_LEGACY = ['OldestLaunchConfiguration', 'OldestInstance'];

/**
 * Properties of an A/B group that the orchestrator owns after creation: desired/min (it grows and
 * drains the colors) and max (`ab` raises it when a color must hold more instances than the
 * configured maxSize; an `up` lowering it below desired would fail or fight the rollout).
 * A rolling group's desired/min/max stay Pulumi's: the tool changes them only under a restore
 * record, and `deploy` refuses `up` while one exists (orchestrator/stack/records.ts).
 */
export const AB_IGNORED_CHANGES = ['desiredCapacity', 'minSize', 'maxSize'];
/** The orchestrator suspends and resumes processes during a rollout; Pulumi must not undo that. */
export const ORCHESTRATOR_OWNED = ['suspendedProcesses'];

/**
 * A/B behind an ALB/NLB: each color's target group sits in one weighted forward; the program
 * gives a all the traffic at creation, then the orchestrator owns the weights (issue 14), as it
 * owns the colors' sizes. Weights 0-999 on both ALB and NLB
 * (https://aws.amazon.com/blogs/networking-and-content-delivery/network-load-balancers-now-support-weighted-target-groups/).
 */
export const INITIAL_WEIGHTS = { a: 100, b: 0 } as const;
/** The forward action carrying the weights: on the created listeners, or on the added rule. */
export const AB_LISTENER_IGNORED_CHANGES = ['defaultActions'];
export const AB_RULE_IGNORED_CHANGES = ['actions'];

/** The ALB/NLB resources of one service (config `elbv2`). */
export interface DeclaredElbv2 {
  loadBalancer?: aws.lb.LoadBalancer;
  listeners: aws.lb.Listener[];
  rule?: aws.lb.ListenerRule;
  /** Rolling: `<name>`; ab: `<name>-a`, `<name>-b`. */
  targetGroups: aws.lb.TargetGroup[];
}

export interface DeclaredService {
  config: ServiceConfig;
  launchTemplate?: aws.ec2.LaunchTemplate;
  launchConfiguration?: aws.ec2.LaunchConfiguration;
  groups: aws.autoscaling.Group[];
  loadBalancers: aws.elb.LoadBalancer[];
  elbv2?: DeclaredElbv2;
  manifest: pulumi.Output<ServiceManifest>;
}

export interface DeclaredProgram {
  services: DeclaredService[];
  /** The `services` stack output. */
  manifest: pulumi.Output<ServicesManifest>;
}

/**
 * Declare every resource of the (already validated) services.
 *
 * @param configs the output of `parseServices` — validation happens before this is called.
 * @param stack   the stack name (recorded in tags and the manifest).
 */
export function declareServices(configs: ServiceConfig[], stack: string, secrets: Map<string, ServiceSecrets> = new Map()): DeclaredProgram {
  let zones: pulumi.Output<string[]> | undefined;
  // Neither availabilityZones nor subnets: every available (non opt-in) zone of the region, looked up once.
  const defaultZones = (): pulumi.Output<string[]> =>
    (zones ??= aws
      .getAvailabilityZonesOutput({ state: 'available', filters: [{ name: 'opt-in-status', values: ['opt-in-not-required'] }] })
      .apply((r) => [...(r?.names ?? [])].sort()));

  const services = configs.map((cfg) => declareService(cfg, stack, defaultZones, secrets.get(cfg.service)));
  const manifest = pulumi
    .all(services.map((s) => s.manifest))
    .apply((list): ServicesManifest => ({ version: MANIFEST_VERSION, stack, services: list }));
  return { services, manifest };
}

function placement(cfg: ServiceConfig, defaultZones: () => pulumi.Output<string[]>): { availabilityZones?: pulumi.Input<string[]>; subnets?: string[] } {
  if (cfg.subnets) return { subnets: cfg.subnets };
  return { availabilityZones: cfg.availabilityZones ?? defaultZones() };
}

function serviceTags(cfg: ServiceConfig, stack: string): Record<string, string> {
  return { ...cfg.tags, [TAG_STACK]: stack, [TAG_SERVICE]: cfg.service };
}

/** `latestVersion` as the positive integer the group is pinned to (never `$Latest`/`$Default`). */
function pinnedVersion(lt: aws.ec2.LaunchTemplate, name: string): pulumi.Output<number> {
  return lt.latestVersion.apply((v) => {
    const n = Number(v);
    if (Number.isInteger(n) && n >= 1) return n;
    // Only a provider (or mock) that reports no version gets here; version 1 is what AWS creates.
    pulumi.log.warn(`launch template ${name}: no latestVersion reported (got ${String(v)}); pinning version 1`, lt);
    return 1;
  });
}

function declareService(cfg: ServiceConfig, stack: string, defaultZones: () => pulumi.Output<string[]>, secrets?: ServiceSecrets): DeclaredService {
  const tags = secretTags(serviceTags(cfg, stack), secrets);
  let launchTemplate: aws.ec2.LaunchTemplate | undefined;
  let launchConfiguration: aws.ec2.LaunchConfiguration | undefined;
  let launch: pulumi.Output<LaunchRef>;
  let groupLaunch: Pick<aws.autoscaling.GroupArgs, 'launchTemplate' | 'launchConfiguration' | 'mixedInstancesPolicy'>;

  if (cfg.launchConfiguration) {
    // Legacy: launch configurations are immutable, so each change is a new one (name prefix).
    launchConfiguration = new aws.ec2.LaunchConfiguration(cfg.name, {
      namePrefix: `${cfg.name}-`,
      imageId: cfg.imageId,
      instanceType: cfg.instanceType,
      keyName: cfg.keyName,
      securityGroups: cfg.securityGroupIds.length > 0 ? cfg.securityGroupIds : undefined,
      iamInstanceProfile: cfg.iamInstanceProfile,
      userData: secretUserData(cfg, secrets, 'plain'),
    });
    groupLaunch = { launchConfiguration: launchConfiguration.name };
    launch = launchConfiguration.name.apply((name): LaunchRef => ({ launchConfigurationName: name }));
  } else {
    const profile = cfg.iamInstanceProfile;
    launchTemplate = new aws.ec2.LaunchTemplate(cfg.name, {
      name: cfg.name,
      description: `asg-deploy ${stack}/${cfg.service}`,
      imageId: cfg.imageId,
      instanceType: cfg.instanceType,
      keyName: cfg.keyName,
      vpcSecurityGroupIds: cfg.securityGroupIds.length > 0 ? cfg.securityGroupIds : undefined,
      iamInstanceProfile: profile ? (profile.startsWith('arn:') ? { arn: profile } : { name: profile }) : undefined,
      userData: secretUserData(cfg, secrets, 'base64'),
      updateDefaultVersion: true,
      tags,
      tagSpecifications: [
        { resourceType: 'instance', tags },
        { resourceType: 'volume', tags },
      ],
    });
    const version = pinnedVersion(launchTemplate, cfg.name);
    const spec = { id: launchTemplate.id, version: version.apply(String) };
    // A mixed instances policy carries the launch template (the group then has no launchTemplate
    // of its own): overrides by instance type only, so an instance is outdated exactly when its
    // template version differs, whatever its type (issue 15 item 4).
    const m = cfg.mixedInstances;
    groupLaunch = m
      ? {
          mixedInstancesPolicy: {
            launchTemplate: {
              launchTemplateSpecification: { launchTemplateId: spec.id, version: spec.version },
              overrides: m.instanceTypes.map((instanceType) => ({ instanceType })),
            },
            instancesDistribution: {
              onDemandBaseCapacity: m.onDemandBaseCapacity,
              onDemandPercentageAboveBaseCapacity: m.onDemandPercentageAboveBaseCapacity,
              ...(m.spotAllocationStrategy ? { spotAllocationStrategy: m.spotAllocationStrategy } : {}),
            },
          },
        }
      : { launchTemplate: spec };
    const lt = launchTemplate;
    launch = pulumi
      .all([lt.id, version])
      .apply(([id, v]): LaunchRef => ({ launchTemplate: { id, name: cfg.name, version: v } }));
  }

  const where = placement(cfg, defaultZones);
  const common = {
    ...groupLaunch,
    ...(cfg.subnets ? { vpcZoneIdentifiers: cfg.subnets } : { availabilityZones: where.availabilityZones }),
    maxSize: cfg.maxSize,
    healthCheckGracePeriod: cfg.healthCheckGracePeriod,
    terminationPolicies: cfg.launchConfiguration ? TERMINATION_POLICIES_LEGACY : TERMINATION_POLICIES,
    // The orchestrator waits for capacity and health; Pulumi returns as soon as the call is made.
    waitForCapacityTimeout: '0',
    capacityRebalance: cfg.mixedInstances?.capacityRebalance ?? false,
  };

  const elbv2 = cfg.elbv2 ? declareElbv2(cfg, tags) : undefined;
  const declared =
    cfg.strategy === 'ab'
      ? declareAb(cfg, tags, common, where, elbv2)
      : declareRolling(cfg, tags, common, where, elbv2);

  const manifest = elbv2
    ? pulumi.all([launch, elbv2Refs(elbv2)]).apply(([l, refs]) => serviceManifest(cfg, l, refs))
    : launch.apply((l) => serviceManifest(cfg, l));
  return { config: cfg, launchTemplate, launchConfiguration, ...declared, ...(elbv2 ? { elbv2 } : {}), manifest };
}

type GroupCommon = Partial<aws.autoscaling.GroupArgs> & { maxSize: number };

function groupTags(tags: TagMap, name: string, color?: 'a' | 'b'): aws.types.input.autoscaling.GroupTag[] {
  const all: TagMap = { Name: name, ...tags, ...(color ? { [TAG_COLOR]: color } : {}) };
  return Object.entries(all).map(([key, value]) => ({ key, value, propagateAtLaunch: true }));
}

function declareLoadBalancer(
  name: string,
  lb: LoadBalancerConfig,
  tags: TagMap,
  where: { availabilityZones?: pulumi.Input<string[]>; subnets?: string[] },
): aws.elb.LoadBalancer {
  return new aws.elb.LoadBalancer(name, {
    name,
    ...(where.subnets ? { subnets: where.subnets } : { availabilityZones: where.availabilityZones }),
    internal: lb.internal,
    securityGroups: lb.securityGroups.length > 0 ? lb.securityGroups : undefined,
    listeners: lb.listeners.map((l) => ({
      lbPort: l.port,
      lbProtocol: l.protocol,
      instancePort: l.instancePort,
      instanceProtocol: l.instanceProtocol,
      ...(l.sslCertificateId ? { sslCertificateId: l.sslCertificateId } : {}),
    })),
    healthCheck: { ...lb.healthCheck },
    connectionDraining: lb.drainingTimeout > 0,
    connectionDrainingTimeout: lb.drainingTimeout > 0 ? lb.drainingTimeout : undefined,
    crossZoneLoadBalancing: lb.crossZone,
    tags: { ...tags, Name: name },
  });
}

/**
 * The ALB/NLB side of a service: its target group(s) and either a new load balancer with its
 * listeners, or a rule on an existing ALB listener. Every listener or rule forwards to the
 * service: one target group (rolling), or both colors' by weight (ab).
 */
function declareElbv2(cfg: ServiceConfig, tags: TagMap): DeclaredElbv2 {
  const e = cfg.elbv2!;
  const tg = e.targetGroup;
  // Validation requires subnets with elbv2; the target groups live in their VPC.
  const vpcId = aws.ec2.getSubnetOutput({ id: cfg.subnets![0] }).apply((s) => s.vpcId);
  const ab = cfg.strategy === 'ab';
  const colors = ab ? (['a', 'b'] as const) : [undefined];
  const targetGroups = colors.map((color) => {
    const name = color ? `${cfg.name}-${color}` : cfg.name;
    return new aws.lb.TargetGroup(name, {
      name,
      port: tg.port,
      protocol: tg.protocol,
      vpcId,
      targetType: 'instance',
      deregistrationDelay: tg.deregistrationDelay,
      healthCheck: {
        enabled: true,
        protocol: tg.healthCheck.protocol,
        port: tg.healthCheck.port,
        ...(tg.healthCheck.path !== undefined ? { path: tg.healthCheck.path } : {}),
        ...(tg.healthCheck.matcher !== undefined ? { matcher: tg.healthCheck.matcher } : {}),
        interval: tg.healthCheck.interval,
        timeout: tg.healthCheck.timeout,
        healthyThreshold: tg.healthCheck.healthyThreshold,
        unhealthyThreshold: tg.healthCheck.unhealthyThreshold,
      },
      tags: { ...tags, Name: name, ...(color ? { [TAG_COLOR]: color } : {}) },
    });
  });
  const forward = ab
    ? { type: 'forward', forward: { targetGroups: [{ arn: targetGroups[0].arn, weight: INITIAL_WEIGHTS.a }, { arn: targetGroups[1].arn, weight: INITIAL_WEIGHTS.b }] } }
    : { type: 'forward', targetGroupArn: targetGroups[0].arn };

  if (e.listenerArn) {
    const r = e.rule!;
    const rule = new aws.lb.ListenerRule(
      cfg.name,
      {
        listenerArn: e.listenerArn,
        priority: r.priority,
        conditions: [
          ...(r.hostHeaders.length ? [{ hostHeader: { values: r.hostHeaders } }] : []),
          ...(r.pathPatterns.length ? [{ pathPattern: { values: r.pathPatterns } }] : []),
        ],
        actions: [forward],
        tags: { ...tags, Name: cfg.name },
      },
      ab ? { ignoreChanges: AB_RULE_IGNORED_CHANGES } : undefined,
    );
    return { listeners: [], rule, targetGroups };
  }
  const loadBalancer = new aws.lb.LoadBalancer(cfg.name, {
    name: cfg.name,
    loadBalancerType: e.type,
    internal: e.internal,
    subnets: cfg.subnets,
    securityGroups: e.securityGroups.length > 0 ? e.securityGroups : undefined,
    tags: { ...tags, Name: cfg.name },
  });
  const listeners = e.listeners.map(
    (l) =>
      new aws.lb.Listener(
        `${cfg.name}-${l.port}`,
        {
          loadBalancerArn: loadBalancer.arn,
          port: l.port,
          protocol: l.protocol,
          ...(l.certificateArn ? { certificateArn: l.certificateArn } : {}),
          defaultActions: [forward],
          tags: { ...tags, Name: `${cfg.name}-${l.port}` },
        },
        ab ? { ignoreChanges: AB_LISTENER_IGNORED_CHANGES } : undefined,
      ),
  );
  return { loadBalancer, listeners, targetGroups };
}

function elbv2Refs(d: DeclaredElbv2): pulumi.Output<Elbv2Refs> {
  return pulumi
    .all([d.loadBalancer?.arn, pulumi.all(d.listeners.map((l) => l.arn)), d.rule?.arn, d.rule?.listenerArn, pulumi.all(d.targetGroups.map((t) => t.arn))])
    .apply(([loadBalancerArn, listenerArns, ruleArn, ruleListener, targetGroupArns]): Elbv2Refs => ({
      ...(loadBalancerArn ? { loadBalancerArn } : {}),
      listenerArns: ruleListener ? [ruleListener] : listenerArns,
      ...(ruleArn ? { ruleArn } : {}),
      targetGroupArns,
    }));
}

function declareRolling(
  cfg: RollingServiceConfig,
  tags: TagMap,
  common: GroupCommon,
  where: { availabilityZones?: pulumi.Input<string[]>; subnets?: string[] },
  elbv2?: DeclaredElbv2,
): Pick<DeclaredService, 'groups' | 'loadBalancers'> {
  const elb = cfg.loadBalancer ? declareLoadBalancer(cfg.name, cfg.loadBalancer, tags, where) : undefined;
  const group = new aws.autoscaling.Group(
    cfg.name,
    {
      ...common,
      name: cfg.name,
      desiredCapacity: cfg.capacity,
      // The group's floor is the rollout's healthy floor: the tool may take desired down to it.
      minSize: Math.min(cfg.minHealthy, cfg.capacity),
      healthCheckType: elb || elbv2 ? 'ELB' : 'EC2',
      loadBalancers: elb ? [elb.name] : undefined,
      targetGroupArns: elbv2 ? elbv2.targetGroups.map((t) => t.arn) : undefined,
      tags: groupTags(tags, cfg.name),
      ...(cfg.warmPool
        ? {
            warmPool: {
              poolState: cfg.warmPool.poolState,
              minSize: cfg.warmPool.minSize,
              ...(cfg.warmPool.maxPreparedCapacity !== undefined ? { maxGroupPreparedCapacity: cfg.warmPool.maxPreparedCapacity } : {}),
              instanceReusePolicy: { reuseOnScaleIn: cfg.warmPool.reuseOnScaleIn },
            },
          }
        : {}),
    },
    { ignoreChanges: ORCHESTRATOR_OWNED },
  );
  // Lifecycle hooks as their own resources (updatable; the group's initialLifecycleHooks apply at
  // creation only): a hook applies to instances launched after it exists.
  for (const h of cfg.lifecycleHooks ?? []) {
    new aws.autoscaling.LifecycleHook(
      `${cfg.name}-${h.name}`,
      {
        name: h.name,
        autoscalingGroupName: group.name,
        lifecycleTransition: h.transition === 'launch' ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
        heartbeatTimeout: h.heartbeatTimeout,
        defaultResult: h.defaultResult,
      },
      { parent: group },
    );
  }
  return { groups: [group], loadBalancers: elb ? [elb] : [] };
}

function declareAb(
  cfg: AbServiceConfig,
  tags: TagMap,
  common: GroupCommon,
  where: { availabilityZones?: pulumi.Input<string[]>; subnets?: string[] },
  elbv2?: DeclaredElbv2,
): Pick<DeclaredService, 'groups' | 'loadBalancers'> {
  const groups: aws.autoscaling.Group[] = [];
  const loadBalancers: aws.elb.LoadBalancer[] = [];
  for (const color of ['a', 'b'] as const) {
    const name = `${cfg.name}-${color}`;
    const elb = cfg.loadBalancer ? declareLoadBalancer(name, cfg.loadBalancer, { ...tags, [TAG_COLOR]: color }, where) : undefined;
    const targetGroup = elbv2?.targetGroups[color === 'a' ? 0 : 1];
    // On creation a holds the service and b is empty; afterwards the orchestrator owns both.
    const size = color === 'a' ? cfg.capacity : 0;
    const group = new aws.autoscaling.Group(
      name,
      {
        ...common,
        name,
        desiredCapacity: size,
        minSize: size,
        healthCheckType: 'ELB',
        loadBalancers: elb ? [elb.name] : undefined,
        targetGroupArns: targetGroup ? [targetGroup.arn] : undefined,
        tags: groupTags(tags, name, color),
      },
      { ignoreChanges: [...AB_IGNORED_CHANGES, ...ORCHESTRATOR_OWNED] },
    );
    groups.push(group);
    if (elb) loadBalancers.push(elb);
  }
  return { groups, loadBalancers };
}

// ---- Pulumi secrets (infra/secrets.ts) -----------------------------------------------------------

/** Tag values may be secret Outputs (a `secure:` tag value in the stack config). */
type TagMap = Record<string, pulumi.Input<string>>;

/** The service's tags, each user tag value taken from Pulumi's secret Output when the config holds secrets. */
function secretTags(tags: Record<string, string>, secrets: ServiceSecrets | undefined): TagMap {
  if (!secrets) return tags;
  return { ...tags, ...secrets.tags };
}

/**
 * The user data input: plain (launch configurations take text) or base64 (launch templates); a
 * secret Output when the services config holds secrets, so Pulumi stores and shows it as `[secret]`.
 */
function secretUserData(cfg: ServiceConfig, secrets: ServiceSecrets | undefined, encoding: 'plain' | 'base64'): pulumi.Input<string> | undefined {
  const encode = (text: string) => (encoding === 'base64' ? Buffer.from(text, 'utf8').toString('base64') : text);
  if (secrets?.userData) return secrets.userData.apply(encode);
  return cfg.userData !== undefined ? encode(cfg.userData) : undefined;
}
