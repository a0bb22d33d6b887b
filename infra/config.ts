/**
 * The stack config schema (`asg-deploy:services` in `Pulumi.<stack>.yaml`) and its validation.
 *
 * `parseServices(raw, stack)` is pure: it turns the raw config object into typed, defaulted
 * service configs, or throws ONE `DeployError` (code `config.invalid`, exit 2) that lists EVERY
 * problem found, each naming the service, the key, the bad value and what is allowed.
 *
 * This module must not import `@pulumi/*`: the orchestrator and the sandbox import it too.
 * The README section "Configuration: the stack config" documents every key below.
 */
import { usageError, DeployError } from '../orchestrator/errors';
import { parseDurationMs } from '../orchestrator/duration';

export type Strategy = 'rolling' | 'ab';
export const STRATEGIES: readonly Strategy[] = ['rolling', 'ab'];

export type ListenerProtocol = 'http' | 'https' | 'tcp' | 'ssl';
const PROTOCOLS: readonly ListenerProtocol[] = ['http', 'https', 'tcp', 'ssl'];

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
  /** Rolling: optional. A/B: always present (defaults filled in). */
  loadBalancer?: LoadBalancerConfig;
  /** Services whose rollout must be done before this one's starts (`deploy --parallel`). */
  dependsOn?: string[];
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
}

export interface AbServiceConfig extends ServiceConfigBase {
  strategy: 'ab';
  loadBalancer: LoadBalancerConfig;
  /** Seconds to wait for the new color to be InService and healthy in its ELB. */
  healthCheckTimeoutSeconds: number;
  /** Scale the new color up by at most this many instances at a time. */
  instanceCountStep?: number;
}

export type ServiceConfig = RollingServiceConfig | AbServiceConfig;

/** One validation problem. `path` is e.g. `web.loadBalancer.healthCheck.interval`. */
export interface ConfigProblem {
  service: string;
  key: string;
  path: string;
  value: unknown;
  message: string;
}

// ---- defaults (documented in README "Configuration") -------------------------------------------
export const DEFAULTS = {
  healthCheckGracePeriod: 300,
  surge: 1,
  stepTimeoutSeconds: 600,
  healthCheckTimeoutSeconds: 600,
  drainingTimeout: 300,
  crossZone: true,
  healthCheck: { interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
  listener: { port: 80, instancePort: 80, protocol: 'http' as ListenerProtocol },
} as const;

const COMMON_KEYS = [
  'strategy', 'name', 'imageId', 'instanceType', 'capacity', 'availabilityZones', 'subnets',
  'keyName', 'securityGroupIds', 'iamInstanceProfile', 'userData', 'tags', 'launchConfiguration',
  'healthCheckGracePeriod', 'maxSize', 'loadBalancer', 'dependsOn',
] as const;
const ROLLING_KEYS = ['minHealthy', 'surge', 'batchSize', 'stepTimeout'] as const;
const AB_KEYS = ['healthCheckTimeout', 'instanceCountStep'] as const;
const LB_KEYS = ['listeners', 'healthCheck', 'drainingTimeout', 'crossZone', 'internal', 'securityGroups'] as const;
const LISTENER_KEYS = ['port', 'instancePort', 'protocol', 'instanceProtocol', 'sslCertificateId'] as const;
const HC_KEYS = ['target', 'interval', 'timeout', 'healthyThreshold', 'unhealthyThreshold'] as const;

/** Every key a service accepts, for documentation and "did you mean". */
export const SERVICE_KEYS: readonly string[] = [...COMMON_KEYS, ...ROLLING_KEYS, ...AB_KEYS];

/** Classic ELB names: 1–32 alphanumerics and hyphens, not starting or ending with a hyphen. */
export const ELB_NAME_MAX = 32;
const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
const SERVICE_KEY_RE = /^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?$/;
const AMI_RE = /^(ami-[0-9A-Za-z]+|resolve:ssm:\S+)$/;
const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const SUBNET_RE = /^subnet-[0-9A-Za-z]+$/;
const SG_RE = /^sg-[0-9A-Za-z]+$/;
const AZ_RE = /^[a-z]{2}-[a-z0-9-]*\d[a-z]$/;
const HC_TARGET_RE = /^(?:(?:HTTP|HTTPS):\d{1,5}\/\S*|(?:TCP|SSL):\d{1,5})$/;
const PERCENT_RE = /^(\d{1,3})%$/;

/** Levenshtein distance, for "did you mean". */
function distance(a: string, b: string): number {
  const d: number[] = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = d[0];
    d[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = d[j];
      d[j] = Math.min(d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return d[b.length];
}

/** The closest known key to a misspelled one, if close enough to be a likely typo. */
export function suggestKey(key: string, known: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: string | undefined;
  let bestScore = Infinity;
  for (const k of known) {
    const score = k.toLowerCase() === lower ? 0 : distance(lower, k.toLowerCase());
    if (score < bestScore) {
      best = k;
      bestScore = score;
    }
  }
  const limit = Math.max(2, Math.floor(key.length / 3));
  return best !== undefined && bestScore <= limit ? best : undefined;
}

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

/** Collects problems for one service; readers return `undefined` for bad values after recording them. */
class Checker {
  readonly problems: ConfigProblem[] = [];
  constructor(readonly service: string) {}

  fail(path: string, value: unknown, allowed: string): void {
    const key = path.split('.').pop() ?? path;
    this.problems.push({
      service: this.service,
      key,
      path: `${this.service}.${path}`,
      value,
      message: `service "${this.service}": ${path} = ${show(value)} is not allowed; ${allowed}`,
    });
  }

  missing(path: string, allowed: string): void {
    const key = path.split('.').pop() ?? path;
    this.problems.push({
      service: this.service,
      key,
      path: `${this.service}.${path}`,
      value: undefined,
      message: `service "${this.service}": ${path} is required; ${allowed}`,
    });
  }

  /** Unknown keys, with a suggestion for likely typos and a note for keys of the other strategy. */
  unknownKeys(obj: Record<string, unknown>, prefix: string, known: readonly string[], elsewhere: Record<string, string> = {}): void {
    for (const key of Object.keys(obj)) {
      if (known.includes(key)) continue;
      const path = prefix ? `${prefix}.${key}` : key;
      if (elsewhere[key]) {
        this.fail(path, obj[key], elsewhere[key]);
        continue;
      }
      const hint = suggestKey(key, known);
      this.problems.push({
        service: this.service,
        key,
        path: `${this.service}.${path}`,
        value: obj[key],
        message:
          `service "${this.service}": unknown key ${path}` +
          (hint ? `; did you mean "${hint}"?` : `; allowed keys${prefix ? ` of ${prefix}` : ''}: ${known.join(', ')}`),
      });
    }
  }

  int(obj: Record<string, unknown>, key: string, prefix: string, opts: { min?: number; max?: number; required?: boolean } = {}): number | undefined {
    const path = prefix ? `${prefix}.${key}` : key;
    const v = obj[key];
    const range = `an integer${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` and <= ${opts.max}` : ''}`;
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path, `expected ${range}`);
      return undefined;
    }
    // YAML gives numbers; a numeric string from `pulumi config set` is accepted too.
    const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n)) {
      this.fail(path, v, `expected ${range}`);
      return undefined;
    }
    if ((opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
      this.fail(path, v, `expected ${range}`);
      return undefined;
    }
    return n;
  }

  /**
   * Whole seconds: an integer, or a duration in the one grammar flags use too
   * (orchestrator/duration.ts: "90s", "1.5m", "10 m", "500ms", "1h") that comes to whole seconds.
   */
  seconds(obj: Record<string, unknown>, key: string, prefix: string, opts: { min?: number; max?: number } = {}): number | undefined {
    const path = prefix ? `${prefix}.${key}` : key;
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const allowed = `expected whole seconds${opts.min !== undefined ? ` >= ${opts.min}` : ''}${opts.max !== undefined ? ` and <= ${opts.max}` : ''}: an integer, or a duration like "90s", "1.5m", "10m", "1h"`;
    let n: number | undefined;
    const ms = typeof v === 'number' && !Number.isInteger(v) ? undefined : parseDurationMs(v);
    if (ms !== undefined && Number.isInteger(ms / 1000)) n = ms / 1000;
    if (n === undefined || (opts.min !== undefined && n < opts.min) || (opts.max !== undefined && n > opts.max)) {
      this.fail(path, v, allowed);
      return undefined;
    }
    return n;
  }

  bool(obj: Record<string, unknown>, key: string, prefix: string): boolean | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    this.fail(prefix ? `${prefix}.${key}` : key, v, 'expected true or false');
    return undefined;
  }

  str(obj: Record<string, unknown>, key: string, prefix: string, opts: { re?: RegExp; allowed?: string; required?: boolean } = {}): string | undefined {
    const path = prefix ? `${prefix}.${key}` : key;
    const v = obj[key];
    const allowed = opts.allowed ?? 'expected a non-empty string';
    if (v === undefined || v === null) {
      if (opts.required) this.missing(path, allowed);
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '' || (opts.re && !opts.re.test(v))) {
      this.fail(path, v, allowed);
      return undefined;
    }
    return v;
  }

  strList(obj: Record<string, unknown>, key: string, prefix: string, opts: { re?: RegExp; allowed?: string; nonEmpty?: boolean } = {}): string[] | undefined {
    const path = prefix ? `${prefix}.${key}` : key;
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    const allowed = `expected a${opts.nonEmpty ? ' non-empty' : ''} list of ${opts.allowed ?? 'strings'} without duplicates`;
    if (!Array.isArray(v) || (opts.nonEmpty && v.length === 0)) {
      this.fail(path, v, allowed);
      return undefined;
    }
    let ok = new Set(v).size === v.length;
    v.forEach((item, i) => {
      if (typeof item !== 'string' || (opts.re && !opts.re.test(item))) {
        this.fail(`${path}[${i}]`, item, `expected ${opts.allowed ?? 'a string'}`);
        ok = false;
      }
    });
    if (ok) return v as string[];
    if (new Set(v).size !== v.length) this.fail(path, v, allowed);
    return undefined;
  }

  obj(obj: Record<string, unknown>, key: string, prefix: string): Record<string, unknown> | undefined {
    const v = obj[key];
    if (v === undefined || v === null) return undefined;
    if (!isPlainObject(v)) {
      this.fail(prefix ? `${prefix}.${key}` : key, v, 'expected a mapping (object)');
      return undefined;
    }
    return v;
  }
}

function parseProtocol(c: Checker, obj: Record<string, unknown>, key: string, prefix: string, required: boolean): ListenerProtocol | undefined {
  const v = obj[key];
  if (v === undefined || v === null) {
    if (required) c.missing(`${prefix}.${key}`, `expected one of ${PROTOCOLS.join(', ')}`);
    return undefined;
  }
  const p = typeof v === 'string' ? v.toLowerCase() : v;
  if (typeof p !== 'string' || !(PROTOCOLS as readonly string[]).includes(p)) {
    c.fail(`${prefix}.${key}`, v, `expected one of ${PROTOCOLS.join(', ')}`);
    return undefined;
  }
  return p as ListenerProtocol;
}

function parseListeners(c: Checker, lb: Record<string, unknown>): ListenerConfig[] {
  const raw = lb.listeners;
  if (raw === undefined || raw === null) {
    const d = DEFAULTS.listener;
    return [{ port: d.port, instancePort: d.instancePort, protocol: d.protocol, instanceProtocol: d.protocol }];
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    c.fail('loadBalancer.listeners', raw, 'expected a non-empty list of {port, instancePort, protocol}');
    return [];
  }
  const out: ListenerConfig[] = [];
  raw.forEach((item, i) => {
    const prefix = `loadBalancer.listeners[${i}]`;
    if (!isPlainObject(item)) {
      c.fail(prefix, item, 'expected a mapping {port, instancePort, protocol}');
      return;
    }
    c.unknownKeys(item, prefix, LISTENER_KEYS);
    const port = c.int(item, 'port', prefix, { min: 1, max: 65535, required: true });
    const instancePort = c.int(item, 'instancePort', prefix, { min: 1, max: 65535, required: true });
    const protocol = parseProtocol(c, item, 'protocol', prefix, true);
    const instanceProtocol = parseProtocol(c, item, 'instanceProtocol', prefix, false);
    const sslCertificateId = c.str(item, 'sslCertificateId', prefix, { allowed: 'expected a certificate ARN' });
    if ((protocol === 'https' || protocol === 'ssl') && sslCertificateId === undefined && item.sslCertificateId === undefined) {
      c.missing(`${prefix}.sslCertificateId`, `a ${protocol} listener needs a certificate ARN`);
    }
    if (port !== undefined && instancePort !== undefined && protocol !== undefined) {
      out.push({
        port,
        instancePort,
        protocol,
        instanceProtocol: instanceProtocol ?? protocol,
        ...(sslCertificateId !== undefined ? { sslCertificateId } : {}),
      });
    }
  });
  const ports = out.map((l) => l.port);
  if (new Set(ports).size !== ports.length) c.fail('loadBalancer.listeners', raw, 'each listener needs its own port');
  return out;
}

function parseHealthCheck(c: Checker, lb: Record<string, unknown>, listeners: ListenerConfig[]): HealthCheckConfig | undefined {
  const prefix = 'loadBalancer.healthCheck';
  const raw = lb.healthCheck === undefined || lb.healthCheck === null ? {} : lb.healthCheck;
  if (!isPlainObject(raw)) {
    c.fail(prefix, raw, 'expected a mapping {target, interval, timeout, healthyThreshold, unhealthyThreshold}');
    return undefined;
  }
  c.unknownKeys(raw, prefix, HC_KEYS);
  const d = DEFAULTS.healthCheck;
  const firstPort = listeners[0]?.instancePort ?? DEFAULTS.listener.instancePort;
  const target =
    c.str(raw, 'target', prefix, { re: HC_TARGET_RE, allowed: 'expected "HTTP:<port>/<path>", "HTTPS:<port>/<path>", "TCP:<port>" or "SSL:<port>"' }) ??
    (raw.target === undefined ? `TCP:${firstPort}` : undefined);
  const interval = c.int(raw, 'interval', prefix, { min: 5, max: 300 }) ?? (raw.interval === undefined ? d.interval : undefined);
  const timeout = c.int(raw, 'timeout', prefix, { min: 2, max: 60 }) ?? (raw.timeout === undefined ? d.timeout : undefined);
  const healthyThreshold = c.int(raw, 'healthyThreshold', prefix, { min: 2, max: 10 }) ?? (raw.healthyThreshold === undefined ? d.healthyThreshold : undefined);
  const unhealthyThreshold = c.int(raw, 'unhealthyThreshold', prefix, { min: 2, max: 10 }) ?? (raw.unhealthyThreshold === undefined ? d.unhealthyThreshold : undefined);
  if (interval !== undefined && timeout !== undefined && timeout >= interval) {
    c.fail(`${prefix}.timeout`, timeout, `must be less than interval (${interval})`);
    return undefined;
  }
  if (target === undefined || interval === undefined || timeout === undefined || healthyThreshold === undefined || unhealthyThreshold === undefined) return undefined;
  return { target, interval, timeout, healthyThreshold, unhealthyThreshold };
}

function parseLoadBalancer(c: Checker, raw: unknown, hasSubnets: boolean): LoadBalancerConfig | undefined {
  if (!isPlainObject(raw)) {
    c.fail('loadBalancer', raw, 'expected a mapping {listeners, healthCheck, drainingTimeout, crossZone}');
    return undefined;
  }
  c.unknownKeys(raw, 'loadBalancer', LB_KEYS);
  const listeners = parseListeners(c, raw);
  const healthCheck = parseHealthCheck(c, raw, listeners);
  const drainingTimeout = c.seconds(raw, 'drainingTimeout', 'loadBalancer', { min: 0, max: 3600 }) ?? DEFAULTS.drainingTimeout;
  const crossZone = c.bool(raw, 'crossZone', 'loadBalancer') ?? DEFAULTS.crossZone;
  const internal = c.bool(raw, 'internal', 'loadBalancer') ?? false;
  const securityGroups = c.strList(raw, 'securityGroups', 'loadBalancer', { re: SG_RE, allowed: 'security group ids (sg-...)' }) ?? [];
  if (internal && !hasSubnets) c.fail('loadBalancer.internal', true, 'an internal load balancer needs subnets (a VPC)');
  if (securityGroups.length > 0 && !hasSubnets) c.fail('loadBalancer.securityGroups', raw.securityGroups, 'load balancer security groups need subnets (a VPC)');
  if (!healthCheck) return undefined;
  return { listeners, healthCheck, drainingTimeout, crossZone, internal, securityGroups };
}

function parseTags(c: Checker, obj: Record<string, unknown>): Record<string, string> {
  const raw = c.obj(obj, 'tags', '');
  const out: Record<string, string> = {};
  if (!raw) return out;
  for (const [k, v] of Object.entries(raw)) {
    if (k.toLowerCase().startsWith('aws:') || k.startsWith('asg-deploy:') || k.length > 128 || k === '') {
      c.fail(`tags.${k}`, v, 'tag keys must be 1-128 characters and must not start with "aws:" or "asg-deploy:" (reserved)');
    } else if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      out[k] = String(v);
    } else {
      c.fail(`tags.${k}`, v, 'expected a string value');
    }
  }
  return out;
}

function parseBatchSize(c: Checker, obj: Record<string, unknown>): number | string | undefined {
  const v = obj.batchSize;
  if (v === undefined || v === null) return undefined;
  const allowed = 'expected a positive integer or a percentage of capacity like "25%" (1%-100%)';
  if (typeof v === 'number') {
    if (Number.isInteger(v) && v >= 1) return v;
  } else if (typeof v === 'string') {
    const m = PERCENT_RE.exec(v.trim());
    if (m && Number(m[1]) >= 1 && Number(m[1]) <= 100) return `${Number(m[1])}%`;
    if (/^\d+$/.test(v.trim()) && Number(v) >= 1) return Number(v);
  }
  c.fail('batchSize', v, allowed);
  return undefined;
}

/** Parse one service. Returns undefined when it has problems (recorded in `c`). */
function parseService(c: Checker, raw: unknown, stack: string): ServiceConfig | undefined {
  const service = c.service;
  if (!SERVICE_KEY_RE.test(service)) {
    c.fail('(service key)', service, 'service keys are letters, digits, "-" and "_", starting and ending with a letter or digit');
  }
  if (!isPlainObject(raw)) {
    c.fail('(service)', raw, 'expected a mapping with strategy, imageId, instanceType, capacity, ...');
    return undefined;
  }

  const strategyRaw = raw.strategy;
  let strategy: Strategy | undefined;
  if (strategyRaw === undefined || strategyRaw === null) c.missing('strategy', `expected one of ${STRATEGIES.join(', ')}`);
  else if (typeof strategyRaw === 'string' && (STRATEGIES as readonly string[]).includes(strategyRaw.toLowerCase())) strategy = strategyRaw.toLowerCase() as Strategy;
  else {
    const hint = typeof strategyRaw === 'string' ? suggestKey(strategyRaw, STRATEGIES) : undefined;
    c.fail('strategy', strategyRaw, `expected one of ${STRATEGIES.join(', ')}${hint ? ` (did you mean "${hint}"?)` : ''}`);
  }

  const rollingOnly = Object.fromEntries(ROLLING_KEYS.map((k) => [k, 'this key applies only to strategy "rolling"']));
  const abOnly = Object.fromEntries(AB_KEYS.map((k) => [k, 'this key applies only to strategy "ab"']));
  if (strategy === 'rolling') c.unknownKeys(raw, '', [...COMMON_KEYS, ...ROLLING_KEYS], abOnly);
  else if (strategy === 'ab') c.unknownKeys(raw, '', [...COMMON_KEYS, ...AB_KEYS], rollingOnly);
  else c.unknownKeys(raw, '', SERVICE_KEYS);

  const name = c.str(raw, 'name', '', { re: NAME_RE, allowed: 'expected letters, digits and hyphens, starting and ending with a letter or digit' }) ?? (raw.name === undefined || raw.name === null ? `${stack}-${service}` : undefined);
  const imageId = c.str(raw, 'imageId', '', { re: AMI_RE, required: true, allowed: 'expected an AMI id like "ami-0123456789abcdef0" (or "resolve:ssm:<parameter>")' });
  const instanceType = c.str(raw, 'instanceType', '', { re: INSTANCE_TYPE_RE, required: true, allowed: 'expected an EC2 instance type like "t3.small"' });
  const capacity = c.int(raw, 'capacity', '', { min: 0, required: true });
  const availabilityZones = c.strList(raw, 'availabilityZones', '', { re: AZ_RE, nonEmpty: true, allowed: 'availability zone names like "us-east-1a"' });
  const subnets = c.strList(raw, 'subnets', '', { re: SUBNET_RE, nonEmpty: true, allowed: 'subnet ids (subnet-...)' });
  if (raw.availabilityZones !== undefined && raw.subnets !== undefined) {
    c.fail('subnets', raw.subnets, 'give either availabilityZones or subnets, not both (subnets already imply their zones)');
  }
  const keyName = c.str(raw, 'keyName', '');
  const securityGroupIds = c.strList(raw, 'securityGroupIds', '', { re: SG_RE, allowed: 'security group ids (sg-...)' }) ?? [];
  const iamInstanceProfile = c.str(raw, 'iamInstanceProfile', '', { allowed: 'expected an instance profile name or ARN' });
  const userData = raw.userData === undefined || raw.userData === null ? undefined : typeof raw.userData === 'string' ? raw.userData : (c.fail('userData', raw.userData, 'expected a string (plain text; it is base64-encoded for you)'), undefined);
  // The size only: user data often carries bootstrap credentials, so no excerpt is echoed.
  if (userData !== undefined && Buffer.byteLength(userData, 'utf8') > 16 * 1024) c.fail('userData', `${Buffer.byteLength(userData, 'utf8')} bytes`, 'user data is limited to 16 KB (16384 bytes)');
  const tags = parseTags(c, raw);
  const launchConfiguration = c.bool(raw, 'launchConfiguration', '') ?? false;
  const healthCheckGracePeriod = c.seconds(raw, 'healthCheckGracePeriod', '', { min: 0, max: 7200 }) ?? DEFAULTS.healthCheckGracePeriod;
  const maxSizeRaw = c.int(raw, 'maxSize', '', { min: 1 });

  let loadBalancer: LoadBalancerConfig | undefined;
  const hasSubnets = raw.subnets !== undefined;
  if (raw.loadBalancer !== undefined && raw.loadBalancer !== null) loadBalancer = parseLoadBalancer(c, raw.loadBalancer, hasSubnets);
  else if (strategy === 'ab') loadBalancer = parseLoadBalancer(c, {}, hasSubnets); // every color has its ELB

  if (name !== undefined) {
    const elbName = strategy === 'ab' ? `${name}-b` : name;
    if (loadBalancer && (elbName.length > ELB_NAME_MAX || !NAME_RE.test(elbName))) {
      c.fail('name', name, `${raw.name === undefined ? 'the default name <stack>-<service> gives ' : ''}the classic ELB name "${elbName}", which must be 1-${ELB_NAME_MAX} letters, digits and hyphens; set a shorter "name"`);
    } else if (!NAME_RE.test(name) || name.length < 3 || name.length > 128) {
      // 3-128: the launch template name limits (ASG names allow 255).
      c.fail('name', name, `${raw.name === undefined ? '(the default <stack>-<service>) ' : ''}names are 3-128 letters, digits and hyphens, starting and ending with a letter or digit; set "name" explicitly`);
    }
  }

  // With an unknown strategy the keys of both strategies are still checked, so every problem
  // shows at once.
  let rolling: Pick<RollingServiceConfig, 'minHealthy' | 'surge' | 'batchSize' | 'stepTimeoutSeconds' | 'maxSize'> | undefined;
  if (strategy !== 'ab') {
    const surge = c.int(raw, 'surge', '', { min: 0 }) ?? (raw.surge === undefined ? DEFAULTS.surge : undefined);
    const minHealthy = c.int(raw, 'minHealthy', '', { min: 0 });
    const batchSize = parseBatchSize(c, raw);
    const stepTimeoutSeconds = c.seconds(raw, 'stepTimeout', '', { min: 1 }) ?? DEFAULTS.stepTimeoutSeconds;
    if (capacity !== undefined && minHealthy !== undefined && minHealthy > capacity) {
      c.fail('minHealthy', minHealthy, `expected an integer from 0 to capacity (${capacity})`);
    }
    // Default floor: full capacity when a surge makes room to launch first; one below when it cannot.
    const effMin = minHealthy ?? (capacity !== undefined && surge !== undefined ? (surge > 0 ? capacity : Math.max(0, capacity - 1)) : undefined);
    if (capacity !== undefined && capacity > 0 && surge === 0 && effMin !== undefined && effMin >= capacity) {
      c.fail('surge', 0, `with surge 0 and minHealthy ${effMin} = capacity no instance can ever be replaced; use surge >= 1 or minHealthy < capacity`);
    }
    // Default max: exactly what a rollout needs (capacity + surge), so it never has to raise it.
    const maxSize = maxSizeRaw ?? (capacity !== undefined && surge !== undefined ? Math.max(1, capacity + surge) : undefined);
    if (strategy === 'rolling' && maxSizeRaw !== undefined && capacity !== undefined && surge !== undefined && maxSizeRaw < capacity + surge) {
      c.fail('maxSize', maxSizeRaw, `expected at least capacity + surge (${capacity + surge}) so a rollout can launch its surge`);
    }
    if (effMin !== undefined && surge !== undefined && maxSize !== undefined) {
      rolling = { minHealthy: effMin, surge, stepTimeoutSeconds, maxSize, ...(batchSize !== undefined ? { batchSize } : {}) };
    }
  }

  let ab: Pick<AbServiceConfig, 'healthCheckTimeoutSeconds' | 'instanceCountStep' | 'maxSize'> | undefined;
  if (strategy !== 'rolling') {
    const healthCheckTimeoutSeconds = c.seconds(raw, 'healthCheckTimeout', '', { min: 1 }) ?? DEFAULTS.healthCheckTimeoutSeconds;
    const instanceCountStep = c.int(raw, 'instanceCountStep', '', { min: 1 });
    // Each color holds `capacity` at rest; twice that leaves headroom for `ab --instance-count`
    // without the orchestrator having to raise a size that Pulumi owns.
    const maxSize = maxSizeRaw ?? (capacity !== undefined ? Math.max(1, 2 * capacity) : undefined);
    if (strategy === 'ab' && maxSizeRaw !== undefined && capacity !== undefined && maxSizeRaw < capacity) {
      c.fail('maxSize', maxSizeRaw, `expected at least capacity (${capacity}): each color must be able to hold the whole service`);
    }
    if (maxSize !== undefined) {
      ab = { healthCheckTimeoutSeconds, maxSize, ...(instanceCountStep !== undefined ? { instanceCountStep } : {}) };
    }
  }

  if (c.problems.length > 0 || strategy === undefined) return undefined;
  const common = {
    service, name: name!, imageId: imageId!, instanceType: instanceType!, capacity: capacity!,
    ...(availabilityZones ? { availabilityZones } : {}), ...(subnets ? { subnets } : {}),
    ...(keyName !== undefined ? { keyName } : {}), securityGroupIds,
    ...(iamInstanceProfile !== undefined ? { iamInstanceProfile } : {}), ...(userData !== undefined ? { userData } : {}),
    tags, launchConfiguration, healthCheckGracePeriod,
  };
  if (strategy === 'rolling') return { ...common, strategy, ...(loadBalancer ? { loadBalancer } : {}), ...rolling! };
  return { ...common, strategy, loadBalancer: loadBalancer!, ...ab! };
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
    const c = new Checker(service);
    const parsed = parseService(c, body, stack);
    problems.push(...c.problems);
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
      // Messages render a value once, as `<path> = <value> is not allowed` (Checker.fail).
      message = message.replace(` = ${show(p.value)} is not allowed`, () => ` is not allowed ${HIDDEN_VALUE}`);
    }
    return { service: p.service, key: p.key, path: p.path, value: undefined, message };
  });
  return usageError('config.invalid', formatProblems(stack, safe), { stack, problems: safe, secret: true });
}
