/**
 * The stack config schema (`asg-deploy:services` in `Pulumi.<stack>.yaml`) and its validation.
 *
 * `parseServices(raw, stack)` is pure: it turns the raw config object into typed, defaulted
 * service configs, or throws ONE `DeployError` (code `config.invalid`, exit 2) that lists EVERY
 * problem found, each naming the service, the key, the bad value and what is allowed.
 *
 * The per-service schema (keys, types, ranges, defaults, rules over several keys) is valibot's,
 * in ./schema.ts; this module runs it, phrases its issues as problems, and adds what needs the
 * whole stack (default names from the stack name, name collisions, tag limits, dependsOn).
 *
 * This module must not import `@pulumi/*`: the orchestrator and the sandbox import it too.
 * docs/configuration.md documents every key.
 */
import { usageError, DeployError } from '../orchestrator/errors';
import * as v from 'valibot';
import {
  DEFAULTS, SERVICE_KEYS, suggestKey, serviceSchema, strategySchema, rollingEntries, abEntries, rollingFloor, NAME_RE, SERVICE_KEY_RE,
  loadBalancerSchema, defaultHealthCheckProtocol, listenerArnType, ELBV2_NAME_MAX, type Elbv2Type,
} from './schema';

export type Strategy = 'rolling' | 'ab';
export const STRATEGIES: readonly Strategy[] = ['rolling', 'ab'];

export type ListenerProtocol = 'http' | 'https' | 'tcp' | 'ssl';

export interface ListenerConfig {
  /** The load balancer's port. */
  port: number;
  /** The instance's port. */
  instancePort: number;
  protocol: ListenerProtocol;
  /** Defaults to `protocol` (https→https, ssl→ssl, http→http, tcp→tcp). */
  instanceProtocol: ListenerProtocol;
  /** ACM/IAM certificate ARN; required for https and ssl listeners. */
  sslCertificateId?: string;
}

export interface HealthCheckConfig {
  /** `HTTP:8080/health`, `HTTPS:443/`, `TCP:22`, `SSL:443`. */
  target: string;
  /** Seconds between checks (5–300). */
  interval: number;
  /** Seconds before a check fails (2–60, less than interval). */
  timeout: number;
  /** Consecutive successes before InService (2–10). */
  healthyThreshold: number;
  /** Consecutive failures before OutOfService (2–10). */
  unhealthyThreshold: number;
}

export interface LoadBalancerConfig {
  listeners: ListenerConfig[];
  healthCheck: HealthCheckConfig;
  /** Connection draining timeout in seconds (1–3600); 0 turns draining off. */
  drainingTimeout: number;
  crossZone: boolean;
  /** An internal (VPC-only) load balancer. Requires subnets. */
  internal: boolean;
  /** Security groups of the load balancer (VPC only). */
  securityGroups: string[];
}

export interface ServiceConfigBase {
  /** The config key, e.g. `rabbit`. */
  service: string;
  strategy: Strategy;
  /** Resource name: `<stack>-<service>` unless overridden with `name`. A/B groups are `<name>-a`/`-b`. */
  name: string;
  imageId: string;
  instanceType: string;
  /** Desired instance count in service (A/B: of the active color). */
  capacity: number;
  /** Exactly one of availabilityZones / subnets, or neither (then every available AZ of the region). */
  availabilityZones?: string[];
  subnets?: string[];
  keyName?: string;
  securityGroupIds: string[];
  iamInstanceProfile?: string;
  /** Plain text; the program base64-encodes it for launch templates. */
  userData?: string;
  tags: Record<string, string>;
  /** Legacy: a launch configuration instead of a launch template (not for accounts created since 2024-10-01). */
  launchConfiguration: boolean;
  /** Seconds the ASG waits before checking a new instance's health. */
  healthCheckGracePeriod: number;
  /** The ASG max size (per color for A/B). */
  maxSize: number;
  /** A classic ELB. Rolling: optional. A/B: present (defaults filled in) unless `elbv2` fronts it. */
  loadBalancer?: LoadBalancerConfig;
  /** An Application or Network Load Balancer instead of a classic ELB (issue 14). */
  elbv2?: Elbv2Config;
  /** Services whose rollout must be done before this one's starts (`deploy --parallel`). */
  dependsOn?: string[];
  /** CloudWatch alarms watched before and during the service's rollouts (as `roll --alarm`). */
  alarms?: string[];
  /** A mixed instances policy (issue 15 item 4): the launch template plus instance-type overrides, On-Demand and Spot. */
  mixedInstances?: MixedInstancesConfig;
}

/** `mixedInstances`, AWS's defaults filled in (base 0, 100 % On-Demand above it). */
export interface MixedInstancesConfig {
  instanceTypes: string[];
  onDemandBaseCapacity: number;
  onDemandPercentageAboveBaseCapacity: number;
  /** Absent: AWS's default (lowest-price). */
  spotAllocationStrategy?: string;
  capacityRebalance: boolean;
}

export interface RollingServiceConfig extends ServiceConfigBase {
  strategy: 'rolling';
  /** Healthy InService instances the rollout never goes below. */
  minHealthy: number;
  /** Extra instances launched above capacity during a rollout. */
  surge: number;
  /** Instances replaced per step: a count, or a percentage of capacity like `"25%"`. */
  batchSize?: number | string;
  /** Seconds one replacement step may take before the rollout halts. */
  stepTimeoutSeconds: number;
  /** Lifecycle hooks of the group (issue 15): declared as `aws.autoscaling.LifecycleHook` resources. */
  lifecycleHooks?: LifecycleHookConfig[];
  /** The group's warm pool (issue 15). */
  warmPool?: WarmPoolConfig;
}

export interface LifecycleHookConfig {
  name: string;
  transition: 'launch' | 'terminate';
  /** Seconds (30-7200). */
  heartbeatTimeout: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
}

export interface WarmPoolConfig {
  poolState: 'Stopped' | 'Running' | 'Hibernated';
  minSize: number;
  maxPreparedCapacity?: number;
  reuseOnScaleIn: boolean;
}

export interface AbServiceConfig extends ServiceConfigBase {
  strategy: 'ab';
  /** Each color's classic ELB; absent when `elbv2` fronts the service. */
  loadBalancer?: LoadBalancerConfig;
  /** Seconds to wait for the new color to be InService and healthy in its ELB. */
  healthCheckTimeoutSeconds: number;
  /** Scale the new color up by at most this many instances at a time. */
  instanceCountStep?: number;
  /** With elbv2: the new color's share of the traffic in steps, ascending, the last 100 (absent: all at once). */
  trafficSteps?: number[];
  /** With trafficSteps: seconds each step holds while the new color stays healthy (absent: the tool's default, 60). */
  stepWaitSeconds?: number;
  /** `ab --keep-old`: seconds the old color stays at full size once the new one serves (absent: drained at once). */
  keepOldSeconds?: number;
}

export type ServiceConfig = RollingServiceConfig | AbServiceConfig;

/**
 * An ALB or NLB in front of the service (`elbv2`), every default filled in. Either the program
 * creates the load balancer (`type` given in the config: `listeners`, `internal`,
 * `securityGroups`), or it adds a rule to an existing ALB listener (`listenerArn` and `rule`).
 * The target group(s) are always the program's: `<name>` (rolling), `<name>-a` / `<name>-b` (ab).
 */
export interface Elbv2Config {
  type: Elbv2Type;
  /** An existing ALB listener (mode "existing listener"); absent when the program creates the load balancer. */
  listenerArn?: string;
  /** The rule added to `listenerArn`. */
  rule?: { priority: number; hostHeaders: string[]; pathPatterns: string[] };
  /** The created load balancer's listeners (empty with `listenerArn`). */
  listeners: { port: number; protocol: string; certificateArn?: string }[];
  internal: boolean;
  securityGroups: string[];
  targetGroup: {
    port: number;
    protocol: string;
    /** Seconds a deregistered target drains before it is `unused`. */
    deregistrationDelay: number;
    healthCheck: {
      protocol: 'HTTP' | 'HTTPS' | 'TCP';
      /** "traffic-port" or a port number as text (as AWS takes it). */
      port: string;
      path?: string;
      matcher?: string;
      interval: number;
      timeout: number;
      healthyThreshold: number;
      unhealthyThreshold: number;
    };
  };
}

/** One validation problem. `path` is e.g. `web.loadBalancer.healthCheck.interval`. */
export interface ConfigProblem {
  service: string;
  key: string;
  path: string;
  value: unknown;
  message: string;
}

// ---- the schema (./schema.ts, valibot) and its problems ----------------------------------------
export { DEFAULTS, SERVICE_KEYS, suggestKey };

/** Classic ELB names: 1–32 alphanumerics and hyphens, not starting or ending with a hyphen. */
export const ELB_NAME_MAX = 32;

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'string') return JSON.stringify(value);
  try {
    const s = JSON.stringify(value);
    return s.length > 80 ? `${s.slice(0, 77)}...` : s;
  } catch {
    return String(value);
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Builds the problems of one service, phrased as every message of this tool is. */
class Problems {
  readonly list: ConfigProblem[] = [];
  constructor(readonly service: string) {}

  private push(path: string, value: unknown, message: string, key = path.split('.').pop() ?? path): void {
    this.list.push({ service: this.service, key, path: `${this.service}.${path}`, value, message: `service "${this.service}": ${message}` });
  }

  fail(path: string, value: unknown, allowed: string): void {
    this.push(path, value, `${path} = ${show(value)} is not allowed; ${allowed}`);
  }

  missing(path: string, allowed: string): void {
    this.push(path, undefined, `${path} is required; ${allowed}`);
  }

  unknown(path: string, value: unknown, known: readonly string[], prefix: string): void {
    const key = path.split('.').pop() ?? path;
    const hint = suggestKey(key, known);
    this.push(path, value, `unknown key ${path}` + (hint ? `; did you mean "${hint}"?` : `; allowed keys${prefix ? ` of ${prefix}` : ''}: ${known.join(', ')}`), key);
  }
}

/** `loadBalancer.listeners[0].port` from an issue's path. */
function dotPath(keys: readonly unknown[]): string {
  return keys.reduce<string>((acc, k) => (typeof k === 'number' ? `${acc}[${k}]` : acc ? `${acc}.${String(k)}` : String(k)), '');
}

type AnySchema = v.GenericSchema & { wrapped?: AnySchema; entries?: Record<string, AnySchema>; item?: AnySchema; value?: AnySchema; pipe?: readonly { type: string; metadata?: Record<string, unknown> }[] };

/** The sub-schema at a path (through optional/nullish wrappers, arrays and records). */
function schemaAt(schema: AnySchema, keys: readonly unknown[]): AnySchema | undefined {
  let s: AnySchema | undefined = schema;
  for (const k of keys) {
    while (s?.wrapped) s = s.wrapped;
    if (!s) return undefined;
    s = typeof k === 'number' ? s.item : s.entries?.[String(k)] ?? s.value;
  }
  while (s?.wrapped) s = s.wrapped;
  return s;
}

/** What a key allows, from its schema's metadata (for "is required"). */
function allowedOf(schema: AnySchema | undefined): string | undefined {
  const m = schema?.pipe?.find((a) => a.type === 'metadata' && typeof a.metadata?.allowed === 'string');
  return m?.metadata?.allowed as string | undefined ?? (schema as { message?: unknown } | undefined)?.message as string | undefined;
}

const USER_DATA_MAX = 16 * 1024;

/** The value a message shows: user data is shown by its size only (it often carries credentials). */
function shownValue(path: string, value: unknown): unknown {
  if (path === 'userData' && typeof value === 'string' && Buffer.byteLength(value, 'utf8') > USER_DATA_MAX) return `${Buffer.byteLength(value, 'utf8')} bytes`;
  return value;
}

/** One valibot issue as this tool's problem. */
function addIssue(p: Problems, schema: AnySchema, strategy: Strategy | undefined, issue: v.BaseIssue<unknown>): void {
  const keys = issue.path?.map((item) => item.key) ?? [];
  const path = dotPath(keys);
  const last = issue.path?.[issue.path.length - 1];
  if (issue.type === 'strict_object' && issue.expected === 'never' && last) {
    // An unknown key: a key of the other strategy, or a likely typo, or the list of keys.
    const parentKeys = keys.slice(0, -1);
    const prefix = dotPath(parentKeys);
    const other = (Object.keys(strategy === 'rolling' ? abEntries : rollingEntries) as string[]).includes(String(last.key));
    if (prefix === '' && strategy && other) {
      p.fail(path, last.value, `this key applies only to strategy "${strategy === 'rolling' ? 'ab' : 'rolling'}"`);
      return;
    }
    const parent = schemaAt(schema, parentKeys);
    p.unknown(path, last.value, Object.keys(parent?.entries ?? {}), prefix);
    return;
  }
  const value = last ? last.value : issue.input;
  if (issue.type === 'strict_object' && last && value === undefined) {
    p.missing(path, allowedOf(schemaAt(schema, keys)) ?? issue.message);
    return;
  }
  if (!last) {
    p.fail('(service)', value, issue.message);
    return;
  }
  if (value === undefined || value === null) p.missing(path, issue.message);
  else p.fail(path, shownValue(path, value), issue.message);
}

/** Parse one service. Returns undefined when it has problems (recorded in `p`). */
function parseService(p: Problems, raw: unknown, stack: string): ServiceConfig | undefined {
  const service = p.service;
  if (!SERVICE_KEY_RE.test(service)) {
    p.fail('(service key)', service, 'service keys are letters, digits, "-" and "_", starting and ending with a letter or digit');
  }
  if (!isPlainObject(raw)) {
    p.fail('(service)', raw, 'expected a mapping with strategy, imageId, instanceType, capacity, ...');
    return undefined;
  }
  const picked = v.safeParse(strategySchema, raw.strategy);
  const strategy = picked.success ? picked.output : undefined;
  const schema = serviceSchema(strategy);
  const result = v.safeParse(schema, raw, { abortEarly: false });
  for (const issue of result.issues ?? []) addIssue(p, schema as AnySchema, strategy, issue);

  // The name: defaulted per stack; an ELB (every A/B color, a rolling service with one) limits it to 32.
  const nameOk = !(result.issues ?? []).some((i) => i.path?.[0]?.key === 'name');
  const name = raw.name === undefined || raw.name === null ? `${stack}-${service}` : nameOk ? (raw.name as string) : undefined;
  if (name !== undefined && raw.elbv2 != null && raw.loadBalancer == null) {
    // ELBv2 names (docs cited in ./schema.ts): the load balancer `<name>` and the target groups
    // `<name>` / `<name>-a`, `<name>-b`, each at most 32 characters; a load balancer name must
    // not begin with "internal-".
    const creates = isPlainObject(raw.elbv2) && raw.elbv2.type != null;
    const tgName = strategy === 'ab' ? `${name}-b` : name;
    const longest = tgName.length >= name.length ? tgName : name;
    const why = raw.name == null ? 'the default name <stack>-<service> gives ' : '';
    if (longest.length > ELBV2_NAME_MAX || !NAME_RE.test(longest)) {
      p.fail('name', name, `${why}the ${longest === tgName ? 'target group' : 'load balancer'} name "${longest}", which must be 1-${ELBV2_NAME_MAX} letters, digits and hyphens; set a shorter "name"`);
    } else if (creates && name.toLowerCase().startsWith('internal-')) {
      p.fail('name', name, `${why}a load balancer name must not begin with "internal-"; set another "name"`);
    } else if (!NAME_RE.test(name) || name.length < 3 || name.length > 128) {
      p.fail('name', name, `${raw.name == null ? '(the default <stack>-<service>) ' : ''}names are 3-128 letters, digits and hyphens, starting and ending with a letter or digit; set "name" explicitly`);
    }
  } else if (name !== undefined) {
    const hasElb = (strategy === 'ab' && raw.elbv2 == null) || (raw.loadBalancer !== undefined && raw.loadBalancer !== null);
    const elbName = strategy === 'ab' ? `${name}-b` : name;
    if (hasElb && (elbName.length > ELB_NAME_MAX || !NAME_RE.test(elbName))) {
      p.fail('name', name, `${raw.name == null ? 'the default name <stack>-<service> gives ' : ''}the classic ELB name "${elbName}", which must be 1-${ELB_NAME_MAX} letters, digits and hyphens; set a shorter "name"`);
    } else if (!NAME_RE.test(name) || name.length < 3 || name.length > 128) {
      // 3-128: the launch template name limits (ASG names allow 255).
      p.fail('name', name, `${raw.name == null ? '(the default <stack>-<service>) ' : ''}names are 3-128 letters, digits and hyphens, starting and ending with a letter or digit; set "name" explicitly`);
    }
  }
  if (p.list.length > 0 || !result.success || strategy === undefined || name === undefined) return undefined;
  return normalize(result.output as unknown as Parsed, service, name, strategy);
}

/** The schema's output: every key present, unset ones null or undefined, defaults that stand alone filled in. */
interface Parsed {
  [key: string]: unknown;
  capacity: number;
  imageId: string;
  instanceType: string;
  securityGroupIds: string[];
  tags: Record<string, string>;
  launchConfiguration: boolean;
  healthCheckGracePeriod: number;
  loadBalancer?: {
    listeners?: { port: number; instancePort: number; protocol: ListenerProtocol; instanceProtocol?: ListenerProtocol | null; sslCertificateId?: string | null }[] | null;
    healthCheck: { target?: string | null; interval: number; timeout: number; healthyThreshold: number; unhealthyThreshold: number };
    drainingTimeout: number;
    crossZone: boolean;
    internal: boolean;
    securityGroups: string[];
  } | null;
  mixedInstances?: { instanceTypes: string[]; onDemandBaseCapacity: number; onDemandPercentageAboveBaseCapacity: number; spotAllocationStrategy?: string | null; capacityRebalance: boolean } | null;
}

const given = <K extends string, T>(key: K, value: T | null | undefined): { [P in K]?: T } =>
  (value === undefined || value === null ? {} : { [key]: value }) as { [P in K]?: T };

interface ParsedElbv2 {
  type?: Elbv2Type | null;
  listenerArn?: string | null;
  internal?: boolean | null;
  securityGroups?: string[] | null;
  listeners?: { port: number; protocol: string; certificateArn?: string | null }[] | null;
  rule?: { priority: number; hostHeaders?: string[] | null; pathPatterns?: string[] | null } | null;
  targetGroup: {
    port: number;
    protocol?: string | null;
    deregistrationDelay: number;
    healthCheck: { protocol?: 'HTTP' | 'HTTPS' | 'TCP' | null; port?: string | null; path?: string | null; matcher?: string | null; interval: number; timeout: number; healthyThreshold: number; unhealthyThreshold: number };
  };
}

/** The ELBv2 defaults per balancer kind (AWS's protocols; the tool's faster health check timing). */
function normalizeElbv2(e: ParsedElbv2): Elbv2Config {
  const type = e.type ?? listenerArnType(e.listenerArn!)!;
  const tg = e.targetGroup;
  const protocol = tg.protocol ?? (type === 'application' ? 'HTTP' : 'TCP');
  const hc = tg.healthCheck;
  const hcProtocol = hc.protocol ?? defaultHealthCheckProtocol(type, protocol);
  const http = hcProtocol !== 'TCP';
  return {
    type,
    ...given('listenerArn', e.listenerArn),
    ...(e.rule ? { rule: { priority: e.rule.priority, hostHeaders: e.rule.hostHeaders ?? [], pathPatterns: e.rule.pathPatterns ?? [] } } : {}),
    listeners: e.listenerArn ? [] : (e.listeners ?? [{ port: 80, protocol: type === 'application' ? 'HTTP' : 'TCP' }]).map((l) => ({
      port: l.port, protocol: l.protocol, ...given('certificateArn', l.certificateArn),
    })),
    internal: e.internal ?? false,
    securityGroups: e.securityGroups ?? [],
    targetGroup: {
      port: tg.port,
      protocol,
      deregistrationDelay: tg.deregistrationDelay,
      healthCheck: {
        protocol: hcProtocol,
        port: hc.port ?? 'traffic-port',
        // AWS's defaults for HTTP(S) checks: path "/", success codes 200 (ALB) / 200-399 (NLB).
        ...(http ? { path: hc.path ?? '/', matcher: hc.matcher ?? (type === 'application' ? '200' : '200-399') } : {}),
        interval: hc.interval, timeout: hc.timeout, healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold,
      },
    },
  };
}

/** Defaults that depend on other keys (names, floors, sizes, the health check target). */
function normalize(o: Parsed, service: string, name: string, strategy: Strategy): ServiceConfig {
  let loadBalancer: LoadBalancerConfig | undefined;
  // Every A/B color has a load balancer: a classic ELB with every default unless elbv2 fronts it.
  const lbRaw = o.loadBalancer ?? (strategy === 'ab' && !o.elbv2 ? (v.parse(loadBalancerSchema, {}) as Parsed['loadBalancer']) : undefined);
  if (lbRaw) {
    const lb = lbRaw;
    const dl = DEFAULTS.listener;
    const listeners: ListenerConfig[] = (lb.listeners ?? [{ port: dl.port, instancePort: dl.instancePort, protocol: dl.protocol }]).map((l) => ({
      port: l.port, instancePort: l.instancePort, protocol: l.protocol, instanceProtocol: l.instanceProtocol ?? l.protocol,
      ...given('sslCertificateId', l.sslCertificateId),
    }));
    const hc = lb.healthCheck;
    loadBalancer = {
      listeners,
      healthCheck: { target: hc.target ?? `TCP:${listeners[0].instancePort}`, interval: hc.interval, timeout: hc.timeout, healthyThreshold: hc.healthyThreshold, unhealthyThreshold: hc.unhealthyThreshold },
      drainingTimeout: lb.drainingTimeout, crossZone: lb.crossZone, internal: lb.internal, securityGroups: lb.securityGroups,
    };
  }
  const common = {
    service, name, imageId: o.imageId, instanceType: o.instanceType, capacity: o.capacity,
    ...given('availabilityZones', o.availabilityZones as string[] | null), ...given('subnets', o.subnets as string[] | null),
    ...given('keyName', o.keyName as string | null), securityGroupIds: o.securityGroupIds,
    ...given('iamInstanceProfile', o.iamInstanceProfile as string | null), ...given('userData', o.userData as string | null),
    tags: o.tags, launchConfiguration: o.launchConfiguration, healthCheckGracePeriod: o.healthCheckGracePeriod,
    ...(o.elbv2 ? { elbv2: normalizeElbv2(o.elbv2 as ParsedElbv2) } : {}),
    ...((o.alarms as string[] | null | undefined)?.length ? { alarms: o.alarms as string[] } : {}),
    ...(o.mixedInstances ? { mixedInstances: normalizeMixed(o.mixedInstances) } : {}),
  };
  if (strategy === 'rolling') {
    const surge = o.surge as number;
    const minHealthy = rollingFloor(o.capacity, surge, o.minHealthy as number | null);
    // Default max: exactly what a rollout needs (capacity + surge), so it never has to raise it.
    const maxSize = (o.maxSize as number | null) ?? Math.max(1, o.capacity + surge);
    return {
      ...common, strategy, ...(loadBalancer ? { loadBalancer } : {}),
      minHealthy, surge, stepTimeoutSeconds: o.stepTimeout as number, maxSize, ...given('batchSize', o.batchSize as number | string | null),
      ...((o.lifecycleHooks as LifecycleHookConfig[] | null | undefined)?.length ? { lifecycleHooks: o.lifecycleHooks as LifecycleHookConfig[] } : {}),
      ...(o.warmPool ? { warmPool: withoutNulls(o.warmPool as Record<string, unknown>) as unknown as WarmPoolConfig } : {}),
    };
  }
  // Each color holds `capacity` at rest; twice that leaves headroom for `ab --instance-count`
  // without the orchestrator having to raise a size that Pulumi owns.
  const maxSize = (o.maxSize as number | null) ?? Math.max(1, 2 * o.capacity);
  return {
    ...common, strategy, ...(loadBalancer ? { loadBalancer } : {}),
    healthCheckTimeoutSeconds: o.healthCheckTimeout as number, maxSize, ...given('instanceCountStep', o.instanceCountStep as number | null),
    ...given('trafficSteps', o.trafficSteps as number[] | null), ...given('stepWaitSeconds', o.stepWait as number | null),
    ...given('keepOldSeconds', o.keepOld as number | null),
  };
}

function normalizeMixed(m: NonNullable<Parsed['mixedInstances']>): MixedInstancesConfig {
  return {
    instanceTypes: m.instanceTypes,
    onDemandBaseCapacity: m.onDemandBaseCapacity,
    onDemandPercentageAboveBaseCapacity: m.onDemandPercentageAboveBaseCapacity,
    ...given('spotAllocationStrategy', m.spotAllocationStrategy as string | null | undefined),
    capacityRebalance: m.capacityRebalance,
  };
}

/** Format all problems as one message (one line per problem). */
export function formatProblems(stack: string, problems: ConfigProblem[]): string {
  const head = `invalid stack config "asg-deploy:services" for stack "${stack}": ${problems.length} problem${problems.length === 1 ? '' : 's'}`;
  return [head, ...problems.map((p) => `  - ${p.message}`)].join('\n');
}

/**
 * Validate and default the `asg-deploy:services` stack config.
 *
 * @param raw   the config value: an object keyed by service (or its JSON text).
 * @param stack the stack name; default resource names are `<stack>-<service>`.
 * @returns the services in config order, every default filled in.
 * @throws DeployError `config.invalid` (exit 2) listing every problem; `data.problems` holds them.
 */
export function parseServices(raw: unknown, stack: string): ServiceConfig[] {
  let value = raw;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch (err) {
      throw configError(stack, [{ service: '(all)', key: 'asg-deploy:services', path: 'asg-deploy:services', value: raw, message: `asg-deploy:services is not valid JSON: ${(err as Error).message}` }]);
    }
  }
  if (!isPlainObject(value) || Object.keys(value).length === 0) {
    throw configError(stack, [{
      service: '(all)', key: 'asg-deploy:services', path: 'asg-deploy:services', value,
      message: `asg-deploy:services = ${show(value)} is not allowed; expected a mapping of service name to service config with at least one service`,
    }]);
  }
  const problems: ConfigProblem[] = [];
  const services: ServiceConfig[] = [];
  for (const [service, body] of Object.entries(value)) {
    const p = new Problems(service);
    const parsed = parseService(p, body, stack);
    problems.push(...p.list);
    if (parsed) services.push(parsed);
  }
  // Names must be unique across services: they become ASG, ELB and launch template names.
  const owners = new Map<string, string>();
  for (const s of services) {
    const names = s.strategy === 'ab' ? [`${s.name}-a`, `${s.name}-b`, s.name] : [s.name];
    for (const n of names) {
      const other = owners.get(n);
      if (other && other !== s.service) {
        problems.push({ service: s.service, key: 'name', path: `${s.service}.name`, value: s.name, message: `service "${s.service}": name = ${show(s.name)} is not allowed; it collides with service "${other}" (resource "${n}"); names must be unique` });
      }
      owners.set(n, s.service);
    }
  }
  // A listener's rule priorities are unique (CreateRule: PriorityInUse); two services naming the same one would collide.
  const priorities = new Map<string, string>();
  for (const s of services) {
    const e = s.elbv2;
    if (!e?.listenerArn || !e.rule) continue;
    const key = `${e.listenerArn}#${e.rule.priority}`;
    const other = priorities.get(key);
    if (other) {
      problems.push({ service: s.service, key: 'priority', path: `${s.service}.elbv2.rule.priority`, value: e.rule.priority, message: `service "${s.service}": elbv2.rule.priority = ${e.rule.priority} is not allowed; service "${other}" adds a rule with the same priority to the same listener; priorities are unique per listener` });
    } else priorities.set(key, s.service);
  }
  problems.push(...tagLimitProblems(services, stack));
  problems.push(...applyDependsOn(value as Record<string, unknown>, services));
  if (problems.length > 0) throw configError(stack, problems);
  return services;
}

/**
 * AWS's tag limits per resource type the program tags (infra/program.ts). Sources:
 * - EC2 (launch templates, instances, volumes): 50 tags per resource, keys 1-128, values 0-256
 *   (EC2 User Guide, "Tag your Amazon EC2 resources", Tag restrictions).
 * - Auto Scaling groups: 50 tags per group (EC2 Auto Scaling User Guide, "Tag Auto Scaling
 *   groups and instances"); keys 1-128, values 0-256 (API Reference, `Tag`).
 * - Classic load balancers: the API reference (`AddTags`: "Each load balancer can have a maximum
 *   of 10 tags") and the user guide ("Tag your Classic Load Balancer": 50 per resource, keys up
 *   to 127, values up to 255 Unicode characters) disagree. We use the stricter of each (10, 127,
 *   255): a config accepted here can be refused by neither.
 * `aws:` tags (e.g. aws:autoscaling:groupName on instances) do not count against the limits.
 */
export const TAG_LIMITS = {
  ec2: { count: 50, key: 128, value: 256, source: 'EC2 User Guide, tag restrictions' },
  autoScaling: { count: 50, key: 128, value: 256, source: 'EC2 Auto Scaling User Guide, tag restrictions' },
  classicElb: { count: 10, key: 127, value: 255, source: 'ELB API Reference, AddTags (the user guide says 50; the stricter figure is used)' },
} as const;

/**
 * Tags the tool itself writes on a group during a rollout (rollout/guard.ts restore and
 * protected records, the A/B swap record, the environment lock): room is kept for them.
 */
export const TOOL_RUNTIME_GROUP_TAGS = ['asg-deploy:restore', 'asg-deploy:protected', 'asg-deploy:ab', 'asg-deploy:lock'] as const;

/**
 * `dependsOn: [service, ...]`: the services whose rollout must be done before this one starts
 * (`deploy --parallel N` runs the others side by side). Each name must be another service of the
 * stack; cycles are refused (they could never start). Sets `dependsOn` on the parsed services.
 *
 * Example: `web: {dependsOn: [rabbit]}` and `rabbit: {dependsOn: [web]}` is the cycle
 * "rabbit → web → rabbit".
 */
export function applyDependsOn(raw: Record<string, unknown>, services: ServiceConfig[]): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const names = Object.keys(raw);
  const problem = (service: string, value: unknown, allowed: string) =>
    problems.push({ service, key: 'dependsOn', path: `${service}.dependsOn`, value, message: `service "${service}": dependsOn = ${show(value)} is not allowed; ${allowed}` });
  const graph = new Map<string, string[]>();
  for (const [service, body] of Object.entries(raw)) {
    const v = isPlainObject(body) ? body.dependsOn : undefined;
    if (v === undefined || v === null) continue;
    const list = typeof v === 'string' ? [v] : v;
    if (!Array.isArray(list) || list.some((x) => typeof x !== 'string')) {
      problem(service, v, 'expected a list of service names of this stack');
      continue;
    }
    const unknown = list.filter((d) => !names.includes(d) || d === service);
    if (unknown.length > 0) {
      problem(service, v, `${unknown.map((u) => (u === service ? `"${u}" is the service itself` : `"${u}" is not a service of this stack`)).join(', ')} (services: ${names.join(', ')})`);
      continue;
    }
    graph.set(service, [...new Set(list as string[])]);
  }
  const cycle = findCycle(graph);
  if (cycle) problem(cycle[0], graph.get(cycle[0]), `the services depend on each other in a cycle (${cycle.join(' → ')}), so none of them could start; remove one of these dependencies`);
  if (problems.length === 0) for (const s of services) if (graph.get(s.service)?.length) s.dependsOn = graph.get(s.service);
  return problems;
}

/** A dependency cycle as its path (first node repeated at the end), or undefined. */
function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const path: string[] = [];
  const visit = (n: string): string[] | undefined => {
    if (state.get(n) === 'done') return undefined;
    if (state.get(n) === 'visiting') return [...path.slice(path.indexOf(n)), n];
    state.set(n, 'visiting');
    path.push(n);
    for (const d of graph.get(n) ?? []) {
      const c = visit(d);
      if (c) return c;
    }
    path.pop();
    state.set(n, 'done');
    return undefined;
  };
  for (const n of [...graph.keys()].sort()) {
    const c = visit(n);
    if (c) return c;
  }
  return undefined;
}

/**
 * Which of the tool's runtime group tags the stack's `aws:ignoreTags` (the AWS provider's
 * `ignoreTags {keys, keyPrefixes}`, @pulumi/aws 7.x ProviderIgnoreTags) does not cover.
 * Covered tags are never read into Pulumi's state (terraform-provider-aws autoscaling group read:
 * `KeyValueTags(...).IgnoreAWS().IgnoreConfig(ignoreTagsConfig)`), so neither `pulumi refresh`
 * nor a later `up` sees or removes them. Example: `{keyPrefixes: ['asg-deploy:']}` would cover
 * them all but also hide the program's own asg-deploy:stack/service/color tags; use `keys`.
 */
export function uncoveredToolTags(ignoreTags: unknown): string[] {
  const o = (typeof ignoreTags === 'string' ? safeJson(ignoreTags) : ignoreTags) as { keys?: unknown; keyPrefixes?: unknown } | undefined;
  const keys = Array.isArray(o?.keys) ? o!.keys.map(String) : [];
  const prefixes = Array.isArray(o?.keyPrefixes) ? o!.keyPrefixes.map(String) : [];
  return TOOL_RUNTIME_GROUP_TAGS.filter((t) => !keys.includes(t) && !prefixes.some((p) => t.startsWith(p)));
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * The config-time check of {@link TAG_LIMITS}: for each resource a service declares, the user's
 * tags plus what the program adds (Name, asg-deploy:stack, asg-deploy:service, asg-deploy:color
 * for an A/B color; on groups, room for {@link TOOL_RUNTIME_GROUP_TAGS}).
 *
 * Worked example: an A/B service with 7 tags: each color's classic ELB carries 7 + Name +
 * asg-deploy:stack + asg-deploy:service + asg-deploy:color = 11 > 10: refused, "remove 1 tag".
 */
export function tagLimitProblems(services: ServiceConfig[], stack: string): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const s of services) {
    const user = s.tags;
    const ab = s.strategy === 'ab';
    const added = (extra: string[]) => ['Name', 'asg-deploy:stack', 'asg-deploy:service', ...extra];
    const resources: { what: string; limit: (typeof TAG_LIMITS)[keyof typeof TAG_LIMITS]; added: string[]; values: Record<string, string> }[] = [];
    const names = ab ? [`${s.name}-a`, `${s.name}-b`] : [s.name];
    for (const name of names) {
      const color = ab ? ['asg-deploy:color'] : [];
      const values = { Name: name, 'asg-deploy:stack': stack, 'asg-deploy:service': s.service };
      resources.push({ what: `Auto Scaling group ${name}`, limit: TAG_LIMITS.autoScaling, added: [...added(color), ...TOOL_RUNTIME_GROUP_TAGS], values });
      resources.push({ what: `instances of ${name}`, limit: TAG_LIMITS.ec2, added: added(color), values });
      if (s.loadBalancer) resources.push({ what: `classic ELB ${name}`, limit: TAG_LIMITS.classicElb, added: added(color), values });
    }
    if (!s.launchConfiguration) {
      resources.push({ what: `launch template ${s.name}`, limit: TAG_LIMITS.ec2, added: ['asg-deploy:stack', 'asg-deploy:service'], values: { 'asg-deploy:stack': stack, 'asg-deploy:service': s.service } });
    }
    const problem = (path: string, value: unknown, message: string) =>
      problems.push({ service: s.service, key: path.split('.').pop() ?? path, path: `${s.service}.${path}`, value, message: `service "${s.service}": ${message}` });

    // The tightest count limit decides (one message per service).
    const worst = resources
      .map((r) => ({ ...r, total: Object.keys(user).filter((k) => !r.added.includes(k)).length + r.added.length }))
      .filter((r) => r.total > r.limit.count)
      .sort((a, b) => b.total - b.limit.count - (a.total - a.limit.count))[0];
    if (worst) {
      const over = worst.total - worst.limit.count;
      problem('tags', `${Object.keys(user).length} tags`, `tags: ${Object.keys(user).length} tags is too many; the ${worst.what} would carry ${worst.total} (yours plus ${worst.added.join(', ')}) and the limit is ${worst.limit.count} (${worst.limit.source}); remove ${over} tag${over === 1 ? '' : 's'}`);
    }
    const seen = new Set<string>();
    for (const r of resources) {
      for (const [k, v] of Object.entries(user)) {
        const where = `${r.limit.source}`;
        if (k.length > r.limit.key && !seen.has(`k:${k}`)) {
          seen.add(`k:${k}`);
          problem(`tags.${k}`, k, `tags.${k}: the key is ${k.length} characters; the ${r.what} allows at most ${r.limit.key} (${where})`);
        }
        if (v.length > r.limit.value && !seen.has(`v:${k}`)) {
          seen.add(`v:${k}`);
          problem(`tags.${k}`, `${v.slice(0, 40)}...`, `tags.${k}: the value is ${v.length} characters; the ${r.what} allows at most ${r.limit.value} (${where})`);
        }
      }
      for (const [k, v] of Object.entries(r.values)) {
        if (v.length > r.limit.value && !seen.has(`a:${k}`)) {
          seen.add(`a:${k}`);
          problem(k === 'asg-deploy:stack' ? 'stack' : k === 'Name' ? 'name' : 'service', v, `the ${k} tag the program adds would be ${v.length} characters ("${v.slice(0, 40)}..."); the ${r.what} allows at most ${r.limit.value} (${r.limit.source})`);
        }
      }
    }
  }
  return problems;
}

function configError(stack: string, problems: ConfigProblem[]): DeployError {
  return usageError('config.invalid', formatProblems(stack, problems), { stack, problems });
}

// ---- secrets (infra/secrets.ts) ------------------------------------------------------------------

/** What replaces a value in a message when the services config holds Pulumi secrets. */
export const HIDDEN_VALUE = '(value hidden: asg-deploy:services holds secrets)';

/**
 * The same `config.invalid` error with every value taken out of its message and data: for a
 * services config Pulumi marked secret, where any leaf may be the secret one. Each problem still
 * names its service, key and what is allowed.
 */
export function secretSafeError(err: DeployError): DeployError {
  const problems = err.data.problems as ConfigProblem[] | undefined;
  if (err.code !== 'config.invalid' || !Array.isArray(problems)) return err;
  const stack = String(err.data.stack ?? '');
  const safe = problems.map((p): ConfigProblem => {
    let message = p.message;
    if (p.key === 'asg-deploy:services') {
      message = `asg-deploy:services is not allowed ${HIDDEN_VALUE}; expected a mapping of service name to service config with at least one service`;
    } else if (p.value !== undefined) {
      // Messages render a value once, as `<path> = <value> is not allowed` (Problems.fail).
      message = message.replace(` = ${show(p.value)} is not allowed`, () => ` is not allowed ${HIDDEN_VALUE}`);
    }
    return { service: p.service, key: p.key, path: p.path, value: undefined, message };
  });
  return usageError('config.invalid', formatProblems(stack, safe), { stack, problems: safe, secret: true });
}

/** A parsed mapping without its unset (null) optional keys. */
function withoutNulls(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, x]) => x !== null && x !== undefined));
}
