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
}

export interface RollingServiceManifest extends ServiceManifestBase {
  strategy: 'rolling';
  asgName: string;
  /** The classic ELB attached to the group (empty when it has none). */
  elbNames: string[];
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
  elbNames: { a: string; b: string };
  /** Desired and min size of both colors belong to the orchestrator after creation. */
  capacityOwner: 'orchestrator';
  rollout: {
    healthCheckTimeoutSeconds: number;
    instanceCountStep?: number;
    /** Connection draining timeout of the ELBs, seconds (0: off). */
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
    return { launchTemplate: cfg.name, asgs: both, elbs: both };
  }
  return { launchTemplate: cfg.name, asgs: [cfg.name], elbs: cfg.loadBalancer ? [cfg.name] : [] };
}

/** How the group(s) launch: a pinned launch template version, or a (legacy) launch configuration. */
export type LaunchRef =
  | { launchTemplate: { id: string; name: string; version: number } }
  | { launchConfigurationName: string };

/**
 * The manifest entry of one service, once its launch template id and version (or launch
 * configuration name) are known. Used by the program inside an `apply`, and by the sandbox.
 */
export function serviceManifest(cfg: ServiceConfig, launch: LaunchRef): ServiceManifest {
  const base = {
    service: cfg.service,
    name: cfg.name,
    imageId: cfg.imageId,
    instanceType: cfg.instanceType,
    capacity: cfg.capacity,
    maxSize: cfg.maxSize,
    healthCheckType: cfg.loadBalancer ? ('ELB' as const) : ('EC2' as const),
    healthCheckGracePeriod: cfg.healthCheckGracePeriod,
    ...(cfg.dependsOn?.length ? { dependsOn: cfg.dependsOn } : {}),
    ...launch,
  };
  if (cfg.strategy === 'ab') return abManifest(cfg, base);
  return rollingManifest(cfg, base);
}

type Base = Omit<ServiceManifestBase, 'strategy'>;

function rollingManifest(cfg: RollingServiceConfig, base: Base): RollingServiceManifest {
  return {
    ...base,
    strategy: 'rolling',
    asgName: cfg.name,
    elbNames: cfg.loadBalancer ? [cfg.name] : [],
    rollout: {
      minHealthy: cfg.minHealthy,
      surge: cfg.surge,
      ...(cfg.batchSize !== undefined ? { batchSize: cfg.batchSize } : {}),
      stepTimeoutSeconds: cfg.stepTimeoutSeconds,
    },
  };
}

function abManifest(cfg: AbServiceConfig, base: Base): AbServiceManifest {
  return {
    ...base,
    strategy: 'ab',
    environment: cfg.name,
    asgNames: { a: `${cfg.name}-a`, b: `${cfg.name}-b` },
    elbNames: { a: `${cfg.name}-a`, b: `${cfg.name}-b` },
    capacityOwner: 'orchestrator',
    rollout: {
      healthCheckTimeoutSeconds: cfg.healthCheckTimeoutSeconds,
      ...(cfg.instanceCountStep !== undefined ? { instanceCountStep: cfg.instanceCountStep } : {}),
      drainingTimeoutSeconds: cfg.loadBalancer.drainingTimeout,
    },
  };
}

/** Type guard for a value read back from a stack output. */
export function isServicesManifest(value: unknown): value is ServicesManifest {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return v.version === MANIFEST_VERSION && typeof v.stack === 'string' && Array.isArray(v.services);
}
