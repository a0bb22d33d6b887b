/**
 * The `services` stack output: the versioned manifest the orchestrator reads after `pulumi up`
 * to know what to roll (docs/design.md "Stack outputs"). Nothing is guessed from names.
 *
 * No `@pulumi/*` import here: the orchestrator and the sandbox use these types and helpers.
 */
import type { AbServiceConfig, RollingServiceConfig, ServiceConfig } from './config';

export const MANIFEST_VERSION = 1 as const;

export interface ServicesManifest {
  version: 1;
  stack: string;
  services: ServiceManifest[];
}

export type ServiceManifest = RollingServiceManifest | AbServiceManifest;

export interface ServiceManifestBase {
  /** The config key, e.g. "rabbit". */
  service: string;
  /** Services whose rollout must be done before this one's starts (absent: none). */
  dependsOn?: string[];
  strategy: 'rolling' | 'ab';
  /** The resource name (`<stack>-<service>` unless overridden). */
  name: string;
  imageId: string;
  instanceType: string;
  /** Desired instance count in service (A/B: of the active color). */
  capacity: number;
  /** The ASG max size (A/B: per color). */
  maxSize: number;
  healthCheckType: 'EC2' | 'ELB';
  healthCheckGracePeriod: number;
  /** The launch template the group(s) are pinned to; the version is a number, never `$Latest`. */
  launchTemplate?: { id: string; name: string; version: number };
  /** Legacy option (`launchConfiguration: true`). */
  launchConfigurationName?: string;
  /** CloudWatch alarms watched before and during the rollout (config `alarms`; absent: none). */
  alarms?: string[];
}

/**
 * An Application or Network Load Balancer in front of the service (config `elbv2`, issue 14):
 * what the rollout needs to judge target health, wait for draining and shift weights.
 */
export interface Elbv2Manifest {
  type: 'application' | 'network';
  /** The load balancer the program created (absent when it added a rule to an existing listener). */
  loadBalancerArn?: string;
  /** The listeners that forward to the service: the created ones, or the existing one. */
  listenerArns: string[];
  /** The rule the program added to the existing listener (its forward action carries the weights). */
  ruleArn?: string;
  /** Seconds a deregistered target drains (the target group's deregistration delay). */
  deregistrationDelaySeconds: number;
  /** The target group health check, for adaptive polling (HealthyThresholdCount x interval). */
  healthCheck: { intervalSeconds: number; timeoutSeconds: number; healthyThreshold: number; unhealthyThreshold: number };
}

export interface RollingServiceManifest extends ServiceManifestBase {
  strategy: 'rolling';
  asgName: string;
  /** The classic ELB attached to the group (empty when it has none). */
  elbNames: string[];
  /** Present when an ALB/NLB fronts the group: its target group (`<name>`). */
  elbv2?: Elbv2Manifest & { targetGroupArns: string[] };
  rollout: {
    minHealthy: number;
    surge: number;
    batchSize?: number | string;
    stepTimeoutSeconds?: number;
  };
}

export interface AbServiceManifest extends ServiceManifestBase {
  strategy: 'ab';
  /** The name prefix: groups are `${environment}-a` / `${environment}-b`. */
  environment: string;
  asgNames: { a: string; b: string };
  /** Each color's classic ELB; absent when an ALB/NLB fronts the service (then `elbv2`). */
  elbNames?: { a: string; b: string };
  /**
   * Present when an ALB/NLB fronts the service: each color's target group (`<name>-a` / `-b`)
   * behind one weighted forward (the created listeners' default action, or the rule). The
   * program sets the weights at creation (a 100, b 0) and then leaves them to the orchestrator.
   */
  elbv2?: Elbv2Manifest & { targetGroupArns: { a: string; b: string }; weightsOwner: 'orchestrator' };
  /** Desired and min size of both colors belong to the orchestrator after creation. */
  capacityOwner: 'orchestrator';
  rollout: {
    healthCheckTimeoutSeconds: number;
    instanceCountStep?: number;
    /** Config `trafficSteps` (ALB/NLB): the new color's share in steps, the last 100; absent: all at once. */
    trafficSteps?: number[];
    /** Config `stepWait`: seconds each traffic step holds; absent: the tool's default. */
    stepWaitSeconds?: number;
    /** Config `keepOld`, seconds (as `ab --keep-old`); absent: the old color drains at once. */
    keepOldSeconds?: number;
    /** Connection draining timeout of the ELBs (or the target groups' deregistration delay), seconds (0: off). */
    drainingTimeoutSeconds: number;
  };
}

/** Resource names of a service, derived once from its config (program and sandbox agree). */
export interface ServiceNames {
  launchTemplate: string;
  asgs: string[];
  elbs: string[];
}

export function serviceNames(cfg: ServiceConfig): ServiceNames {
  if (cfg.strategy === 'ab') {
    const both = [`${cfg.name}-a`, `${cfg.name}-b`];
    return { launchTemplate: cfg.name, asgs: both, elbs: cfg.loadBalancer ? both : [] };
  }
  return { launchTemplate: cfg.name, asgs: [cfg.name], elbs: cfg.loadBalancer ? [cfg.name] : [] };
}

/** How the group(s) launch: a pinned launch template version, or a (legacy) launch configuration. */
export type LaunchRef =
  | { launchTemplate: { id: string; name: string; version: number } }
  | { launchConfigurationName: string };

/** The ARNs of a service's ELBv2 resources, known once they are created (rolling: one target group; ab: a then b). */
export interface Elbv2Refs {
  loadBalancerArn?: string;
  listenerArns: string[];
  ruleArn?: string;
  targetGroupArns: string[];
}

function elbv2Manifest(cfg: ServiceConfig, refs: Elbv2Refs | undefined): Elbv2Manifest | undefined {
  const e = cfg.elbv2;
  if (!e) return undefined;
  const hc = e.targetGroup.healthCheck;
  return {
    type: e.type,
    ...(refs?.loadBalancerArn ? { loadBalancerArn: refs.loadBalancerArn } : {}),
    listenerArns: refs?.listenerArns ?? (e.listenerArn ? [e.listenerArn] : []),
    ...(refs?.ruleArn ? { ruleArn: refs.ruleArn } : {}),
    deregistrationDelaySeconds: e.targetGroup.deregistrationDelay,
    healthCheck: { intervalSeconds: hc.interval, timeoutSeconds: hc.timeout, healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold },
  };
}

/**
 * The manifest entry of one service, once its launch template id and version (or launch
 * configuration name) are known, and (with `elbv2`) its ELBv2 ARNs. Used by the program inside an
 * `apply`, and by the sandbox.
 */
export function serviceManifest(cfg: ServiceConfig, launch: LaunchRef, refs?: Elbv2Refs): ServiceManifest {
  const base = {
    service: cfg.service,
    name: cfg.name,
    imageId: cfg.imageId,
    instanceType: cfg.instanceType,
    capacity: cfg.capacity,
    maxSize: cfg.maxSize,
    healthCheckType: cfg.loadBalancer || cfg.elbv2 ? ('ELB' as const) : ('EC2' as const),
    healthCheckGracePeriod: cfg.healthCheckGracePeriod,
    ...(cfg.dependsOn?.length ? { dependsOn: cfg.dependsOn } : {}),
    ...(cfg.alarms?.length ? { alarms: cfg.alarms } : {}),
    ...launch,
  };
  if (cfg.strategy === 'ab') return abManifest(cfg, base, refs);
  return rollingManifest(cfg, base, refs);
}

type Base = Omit<ServiceManifestBase, 'strategy'>;

function rollingManifest(cfg: RollingServiceConfig, base: Base, refs: Elbv2Refs | undefined): RollingServiceManifest {
  const elbv2 = elbv2Manifest(cfg, refs);
  return {
    ...base,
    strategy: 'rolling',
    asgName: cfg.name,
    elbNames: cfg.loadBalancer ? [cfg.name] : [],
    ...(elbv2 ? { elbv2: { ...elbv2, targetGroupArns: refs?.targetGroupArns ?? [] } } : {}),
    rollout: {
      minHealthy: cfg.minHealthy,
      surge: cfg.surge,
      ...(cfg.batchSize !== undefined ? { batchSize: cfg.batchSize } : {}),
      stepTimeoutSeconds: cfg.stepTimeoutSeconds,
    },
  };
}

function abManifest(cfg: AbServiceConfig, base: Base, refs: Elbv2Refs | undefined): AbServiceManifest {
  const elbv2 = elbv2Manifest(cfg, refs);
  return {
    ...base,
    strategy: 'ab',
    environment: cfg.name,
    asgNames: { a: `${cfg.name}-a`, b: `${cfg.name}-b` },
    ...(cfg.loadBalancer ? { elbNames: { a: `${cfg.name}-a`, b: `${cfg.name}-b` } } : {}),
    ...(elbv2 ? { elbv2: { ...elbv2, targetGroupArns: { a: refs?.targetGroupArns[0] ?? '', b: refs?.targetGroupArns[1] ?? '' }, weightsOwner: 'orchestrator' as const } } : {}),
    capacityOwner: 'orchestrator',
    rollout: {
      healthCheckTimeoutSeconds: cfg.healthCheckTimeoutSeconds,
      ...(cfg.instanceCountStep !== undefined ? { instanceCountStep: cfg.instanceCountStep } : {}),
      ...(cfg.trafficSteps ? { trafficSteps: cfg.trafficSteps } : {}),
      ...(cfg.stepWaitSeconds !== undefined ? { stepWaitSeconds: cfg.stepWaitSeconds } : {}),
      ...(cfg.keepOldSeconds !== undefined ? { keepOldSeconds: cfg.keepOldSeconds } : {}),
      drainingTimeoutSeconds: cfg.loadBalancer?.drainingTimeout ?? cfg.elbv2?.targetGroup.deregistrationDelay ?? 0,
    },
  };
}

/** Type guard for a value read back from a stack output. */
export function isServicesManifest(value: unknown): value is ServicesManifest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.version === MANIFEST_VERSION && typeof v.stack === 'string' && Array.isArray(v.services);
}
