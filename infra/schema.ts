/**
 * The schema of one service of `asg-deploy:services`, written with valibot (docs/design.md,
 * "Config schema library"). It is the single source of:
 * - validation and defaults (`parseServices` in ./config.ts runs it), and
 * - the JSON Schema editors use (`npm run schema` writes schema/stack-config.schema.json).
 *
 * Conventions that keep the messages what users read today:
 * - every leaf is built by a helper below that gives each of its issues one message: what is
 *   allowed ("expected an integer >= 0"); ./config.ts turns an issue into
 *   `service "web": <path> = <value> is not allowed; <allowed>` (or `<path> is required; ...`);
 * - objects are strict: an unknown key is an issue that ./config.ts turns into "did you mean";
 * - rules over several keys are `partialCheck`s forwarded to the key they are about: they run
 *   even when an unrelated key is wrong, so every problem shows at once;
 * - `null` (an empty YAML value) means "not set", as it always has.
 * - `v.metadata({ allowed, editor })`: `allowed` is the text for a missing required key;
 *   `editor` is the JSON Schema shown to editors where run-time acceptance is wider than a
 *   JSON type (numeric strings, durations, case-insensitive enums); see `toEditorJsonSchema`.
 *
 * This module must not import `@pulumi/*` (the orchestrator and the sandbox import it too).
 */
import * as v from 'valibot';
import { parseDurationMs } from '../orchestrator/duration';

export type Json = Record<string, unknown>;
type Loose = Record<string, unknown>;

const STRATEGIES = ['rolling', 'ab'] as const;
const PROTOCOLS = ['http', 'https', 'tcp', 'ssl'] as const;

export const NAME_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;
export const SERVICE_KEY_RE = /^[A-Za-z0-9](?:[A-Za-z0-9_-]*[A-Za-z0-9])?$/;
const AMI_RE = /^(ami-[0-9A-Za-z]+|resolve:ssm:\S+)$/;
const INSTANCE_TYPE_RE = /^[a-z][a-z0-9-]*\.[a-z0-9-]+$/;
const SUBNET_RE = /^subnet-[0-9A-Za-z]+$/;
const SG_RE = /^sg-[0-9A-Za-z]+$/;
const AZ_RE = /^[a-z]{2}-[a-z0-9-]*\d[a-z]$/;
const HC_TARGET_RE = /^(?:(?:HTTP|HTTPS):\d{1,5}\/\S*|(?:TCP|SSL):\d{1,5})$/;
const PERCENT_RE = /^(\d{1,3})%$/;
/** A CloudWatch alarm name: 1-255 characters, no control characters, not only blanks (AWS API reference, Alarm: AlarmName). */
const ALARM_RE = /^(?!\s*$)[^\u0000-\u001f\u007f]{1,255}$/;
/** orchestrator/duration.ts's grammar, for editors. */
const DURATION_PATTERN = '^\\s*(\\d+(\\.\\d+)?|\\.\\d+)\\s*([mM][sS]|[sSmMhH])?\\s*$';

/** Defaults (documented in docs/configuration.md). */
export const DEFAULTS = {
  healthCheckGracePeriod: 300,
  surge: 1,
  stepTimeoutSeconds: 600,
  healthCheckTimeoutSeconds: 600,
  drainingTimeout: 300,
  crossZone: true,
  healthCheck: { interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
  listener: { port: 80, instancePort: 80, protocol: 'http' as (typeof PROTOCOLS)[number] },
} as const;

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

// ---- leaves -------------------------------------------------------------------------------------
// Each takes the description editors show on hover.

/** What a missing key allows, and (optionally) how editors see the key. Typed for any place in a pipe. */
const meta = <T = any>(allowed: string, editor?: Json) => v.metadata<T, { allowed: string; editor?: Json }>({ allowed, ...(editor ? { editor } : {}) });

const range = (o: { min?: number; max?: number }) =>
  `${o.min !== undefined ? ` >= ${o.min}` : ''}${o.max !== undefined ? ` and <= ${o.max}` : ''}`;
const inRange = (n: number, o: { min?: number; max?: number }) => (o.min === undefined || n >= o.min) && (o.max === undefined || n <= o.max);

/** YAML gives numbers; a numeric string from `pulumi config set` is accepted too. */
function toInt(x: unknown): number | undefined {
  const n = typeof x === 'string' && /^-?\d+$/.test(x.trim()) ? Number(x) : x;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

export function int(o: { min?: number; max?: number }, description: string) {
  const allowed = `expected an integer${range(o)}`;
  const editor: Json = {
    anyOf: [
      { type: 'integer', ...(o.min !== undefined ? { minimum: o.min } : {}), ...(o.max !== undefined ? { maximum: o.max } : {}) },
      { type: 'string', pattern: '^\\s*-?\\d+\\s*$' },
    ],
  };
  return v.pipe(
    v.unknown(),
    v.check((x) => { const n = toInt(x); return n !== undefined && inRange(n, o); }, allowed),
    v.transform((x) => toInt(x)!),
    v.description(description),
    meta(allowed, editor),
  );
}

/** Whole seconds of a duration (orchestrator/duration.ts), or undefined. */
function toSeconds(x: unknown): number | undefined {
  const ms = typeof x === 'number' && !Number.isInteger(x) ? undefined : parseDurationMs(x);
  return ms !== undefined && Number.isInteger(ms / 1000) ? ms / 1000 : undefined;
}

/**
 * Whole seconds: an integer, or a duration in the one grammar flags use too
 * (orchestrator/duration.ts: "90s", "1.5m", "10 m", "500ms", "1h") that comes to whole seconds.
 */
export function seconds(o: { min?: number; max?: number }, description: string) {
  const allowed = `expected whole seconds${range(o)}: an integer, or a duration like "90s", "1.5m", "10m", "1h"`;
  const editor: Json = {
    anyOf: [
      { type: 'integer', ...(o.min !== undefined ? { minimum: o.min } : {}), ...(o.max !== undefined ? { maximum: o.max } : {}) },
      { type: 'string', pattern: DURATION_PATTERN },
    ],
  };
  return v.pipe(
    v.unknown(),
    v.check((x) => { const n = toSeconds(x); return n !== undefined && inRange(n, o); }, allowed),
    v.transform((x) => toSeconds(x)!),
    v.description(description),
    meta(allowed, editor),
  );
}

export function bool(description: string) {
  const allowed = 'expected true or false';
  return v.pipe(
    v.unknown(),
    v.check((x) => typeof x === 'boolean' || x === 'true' || x === 'false', allowed),
    v.transform((x) => x === true || x === 'true'),
    v.description(description),
    meta(allowed, { anyOf: [{ type: 'boolean' }, { type: 'string', enum: ['true', 'false'] }] }),
  );
}

export function str(description: string, o: { re?: RegExp; allowed?: string; pattern?: string } = {}) {
  const allowed = o.allowed ?? 'expected a non-empty string';
  return v.pipe(
    v.unknown(),
    v.check((x) => typeof x === 'string' && x.trim() !== '' && (!o.re || o.re.test(x)), allowed),
    v.transform((x) => x as string),
    v.description(description),
    meta(allowed, { type: 'string', minLength: 1, ...(o.re ? { pattern: o.pattern ?? o.re.source } : {}) }),
  );
}

/** A list of strings without duplicates; a bad item is reported at its index. */
export function strList(description: string, o: { re: RegExp; item: string; nonEmpty?: boolean }) {
  const allowed = `expected a${o.nonEmpty ? ' non-empty' : ''} list of ${o.item} without duplicates`;
  const itemAllowed = `expected ${o.item}`;
  return v.pipe(
    v.array(
      v.pipe(v.unknown(), v.check((x) => typeof x === 'string' && o.re.test(x), itemAllowed), v.transform((x) => x as string)),
      allowed,
    ),
    v.check((list) => !o.nonEmpty || list.length > 0, allowed),
    v.check((list) => new Set(list).size === list.length, allowed),
    v.description(description),
    meta(allowed, { type: 'array', items: { type: 'string', pattern: o.re.source }, uniqueItems: true, ...(o.nonEmpty ? { minItems: 1 } : {}) }),
  );
}

/**
 * Why a list of traffic steps is not ascending whole percentages 1-100 ending at 100, or undefined
 * (the rule of `ab --traffic-steps`, orchestrator/rollout/ab/traffic.ts parseTrafficSteps).
 * Examples: [10, 50, 100] → undefined; [50, 10, 100] → "10 does not come after 50"; [10, 50] → "the last step is 50, not 100".
 */
export function trafficStepsProblem(steps: readonly unknown[]): string | undefined {
  if (steps.length === 0) return 'no step';
  let last = 0;
  for (const x of steps) {
    const n = toInt(x);
    if (n === undefined) return `${JSON.stringify(x)} is not a whole number`;
    if (n < 1 || n > 100) return `${n} is outside 1-100`;
    if (n <= last) return `${n} does not come after ${last} (steps must ascend)`;
    last = n;
  }
  return last === 100 ? undefined : `the last step is ${last}, not 100`;
}

/** A list of traffic steps (or their text "10,50,100", as `pulumi config set` gives it). */
function trafficSteps(description: string) {
  const allowed = 'expected ascending whole percentages 1-100 ending at 100, like [10, 50, 100]';
  const list = (x: unknown): unknown[] | undefined => (Array.isArray(x) ? x : typeof x === 'string' ? x.split(',').map((p) => p.trim()) : typeof x === 'number' ? [x] : undefined);
  return v.pipe(
    v.unknown(),
    v.check((x) => { const l = list(x); return l !== undefined && trafficStepsProblem(l) === undefined; }, (issue) => {
      const l = list(issue.input);
      return l ? `${allowed} (${trafficStepsProblem(l)})` : allowed;
    }),
    v.transform((x) => list(x)!.map((n) => toInt(n)!)),
    v.description(description),
    meta(allowed, { anyOf: [{ type: 'array', items: { type: 'integer', minimum: 1, maximum: 100 }, minItems: 1 }, { type: 'string', pattern: '^\\s*\\d{1,3}(\\s*,\\s*\\d{1,3})*\\s*$' }] }),
  );
}

/** A case-insensitive choice, lower-cased. */
export function choice<const T extends string>(values: readonly T[], description: string, o: { hint?: (x: string) => string | undefined } = {}) {
  const allowed = `expected one of ${values.join(', ')}`;
  const message = (issue: v.BaseIssue<unknown>) => {
    const hint = typeof issue.input === 'string' ? o.hint?.(issue.input) : undefined;
    return `${allowed}${hint ? ` (did you mean "${hint}"?)` : ''}`;
  };
  // The value as written in `values` (e.g. "rolling", "HTTPS"), whatever the case given.
  const canonical = (x: string) => values.find((c) => c.toLowerCase() === x.toLowerCase());
  const caseless = values.map((x) => `^${[...x].map((ch) => (/[a-z]/i.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch)).join('')}$`).join('|');
  return v.pipe(
    v.unknown(),
    v.check((x) => typeof x === 'string' && canonical(x) !== undefined, message),
    v.transform((x) => canonical(x as string)!),
    v.description(description),
    // `enum` for completion; the pattern accepts the other cases the tool accepts.
    meta(allowed, { anyOf: [{ type: 'string', enum: [...values] }, { type: 'string', pattern: caseless }] }),
  );
}

/** Optional: absent or null (an empty YAML value) means "not set". */
const opt = <S extends v.GenericSchema>(s: S) => v.nullish(s);


/**
 * A rule over several keys, reported at the key `at` it is about. It runs when the keys in `paths`
 * are valid even if others are not (valibot `partialCheck`), so every problem shows at once.
 */
function rule(paths: readonly (readonly string[])[], ok: (o: Loose) => boolean, message: string | ((o: Loose) => string), at: readonly string[]): v.PipeItem<any, any, v.BaseIssue<unknown>> {
  const msg = typeof message === 'string' ? message : (issue: v.BaseIssue<unknown>) => message(issue.input as Loose);
  // valibot types `paths` against the object's input type; here the objects are loose records.
  return v.forward(v.partialCheck(paths as any, ok as any, msg as any) as any, at as any) as v.PipeItem<any, any, v.BaseIssue<unknown>>;
}

// ---- objects ------------------------------------------------------------------------------------

export const LISTENER_ALLOWED = 'expected a mapping {port, instancePort, protocol}';

export const listenerSchema = v.pipe(
  v.strictObject({
    port: int({ min: 1, max: 65535 }, "The load balancer's port."),
    instancePort: int({ min: 1, max: 65535 }, "The instance's port."),
    protocol: choice(PROTOCOLS, 'The listener protocol.'),
    instanceProtocol: opt(choice(PROTOCOLS, 'The protocol to the instance; defaults to `protocol`.')),
    sslCertificateId: opt(str('ACM/IAM certificate ARN; required for https and ssl listeners.', { allowed: 'expected a certificate ARN' })),
  }, LISTENER_ALLOWED),
  rule([['protocol'], ['sslCertificateId']],
    (l) => !((l.protocol === 'https' || l.protocol === 'ssl') && l.sslCertificateId == null),
    (l) => `a ${String(l.protocol)} listener needs a certificate ARN`, ['sslCertificateId']),
  v.description('One listener of the classic ELB.'),
);

export const HEALTH_CHECK_ALLOWED = 'expected a mapping {target, interval, timeout, healthyThreshold, unhealthyThreshold}';
const d = DEFAULTS.healthCheck;

export const healthCheckSchema = v.pipe(
  v.strictObject({
    target: opt(str('`HTTP:8080/health`, `HTTPS:443/`, `TCP:22`, `SSL:443`; default `TCP:<first listener instancePort>`.', {
      re: HC_TARGET_RE,
      allowed: 'expected "HTTP:<port>/<path>", "HTTPS:<port>/<path>", "TCP:<port>" or "SSL:<port>"',
    })),
    interval: v.nullish(int({ min: 5, max: 300 }, 'Seconds between checks (5-300).'), d.interval),
    timeout: v.nullish(int({ min: 2, max: 60 }, 'Seconds before a check fails (2-60, less than interval).'), d.timeout),
    healthyThreshold: v.nullish(int({ min: 2, max: 10 }, 'Consecutive successes before InService (2-10).'), d.healthyThreshold),
    unhealthyThreshold: v.nullish(int({ min: 2, max: 10 }, 'Consecutive failures before OutOfService (2-10).'), d.unhealthyThreshold),
  }, HEALTH_CHECK_ALLOWED),
  rule([['interval'], ['timeout']], (h) => (h.timeout as number) < (h.interval as number),
    (h) => `must be less than interval (${String(h.interval)})`, ['timeout']),
  v.description('The classic ELB health check.'),
);

export const LOAD_BALANCER_ALLOWED = 'expected a mapping {listeners, healthCheck, drainingTimeout, crossZone}';

export const loadBalancerSchema = v.pipe(
  v.strictObject({
    listeners: opt(v.pipe(
      v.array(listenerSchema, 'expected a non-empty list of {port, instancePort, protocol}'),
      v.check((l) => l.length > 0, 'expected a non-empty list of {port, instancePort, protocol}'),
      v.check((l) => new Set(l.map((x) => x.port)).size === l.length, 'each listener needs its own port'),
      v.description('Listeners; default one http listener 80 → 80.'),
      meta('expected a non-empty list of {port, instancePort, protocol}'),
    )),
    healthCheck: v.nullish(healthCheckSchema, {}),
    drainingTimeout: v.nullish(seconds({ min: 0, max: 3600 }, 'Connection draining timeout in seconds (1-3600); 0 turns draining off.'), DEFAULTS.drainingTimeout),
    crossZone: v.nullish(bool('Cross-zone load balancing.'), DEFAULTS.crossZone),
    internal: v.nullish(bool('An internal (VPC-only) load balancer. Requires subnets.'), false),
    securityGroups: v.nullish(strList('Security groups of the load balancer (VPC only; requires subnets).', { re: SG_RE, item: 'security group ids (sg-...)' }), []),
  }, LOAD_BALANCER_ALLOWED),
  v.description('The classic ELB in front of the group (for A/B: one per color, always present).'),
);

// ---- ELBv2: an Application or Network Load Balancer (issue 14) ------------------------------------
// AWS limits, each from AWS's documentation:
// - load balancer and target group names: at most 32 characters, alphanumerics and hyphens, not
//   beginning or ending with a hyphen; a load balancer name must not begin with "internal-"
//   (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateLoadBalancer.html,
//   https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_CreateTargetGroup.html;
//   the same in node_modules/@pulumi/aws/lb/targetGroup.d.ts `name`);
// - listener rule priority 1-50000 (API_CreateRule.html; lb/listenerRule.d.ts `priority`); up to
//   five condition values per rule, host and path values at most 128 characters
//   (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html);
// - health checks (API_CreateTargetGroup.html): interval 5-300 s, timeout 2-120 s, thresholds
//   2-10; health check protocol HTTP/HTTPS for an ALB, TCP/HTTP/HTTPS for an NLB, and not TCP for
//   an HTTP/HTTPS target group; success codes 200-499 for an ALB
//   (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html),
//   200-599 for an NLB (https://docs.aws.amazon.com/elasticloadbalancing/latest/network/target-group-health-checks.html);
// - deregistration delay 0-3600 s, default 300 (lb/targetGroup.d.ts `deregistrationDelay`);
// - protocols: ALB listeners and target groups HTTP/HTTPS, NLB TCP/TLS/UDP/TCP_UDP; HTTPS and TLS
//   listeners need a certificate (API_CreateListener.html);
// - listener rules exist only on Application Load Balancer listeners (listener ARNs name the
//   balancer kind: `listener/app/...` or `listener/net/...`;
//   https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html);
// - an ALB needs subnets in at least two Availability Zones
//   (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/application-load-balancers.html#availability-zones).
// Weighted forwarding (A/B) is available on both kinds: target group weights 0-999
// (https://aws.amazon.com/blogs/networking-and-content-delivery/network-load-balancers-now-support-weighted-target-groups/).

export const ELBV2_TYPES = ['application', 'network'] as const;
export type Elbv2Type = (typeof ELBV2_TYPES)[number];
const ELBV2_PROTOCOLS = ['HTTP', 'HTTPS', 'TCP', 'TLS', 'UDP', 'TCP_UDP'] as const;
export const ELBV2_LISTENER_PROTOCOLS: Record<Elbv2Type, readonly string[]> = { application: ['HTTP', 'HTTPS'], network: ['TCP', 'TLS', 'UDP', 'TCP_UDP'] };
export const ELBV2_HEALTH_CHECK_PROTOCOLS: Record<Elbv2Type, readonly string[]> = { application: ['HTTP', 'HTTPS'], network: ['TCP', 'HTTP', 'HTTPS'] };
export const ELBV2_MATCHER_RANGE: Record<Elbv2Type, [number, number]> = { application: [200, 499], network: [200, 599] };
export const ELBV2_NAME_MAX = 32;
export const RULE_PRIORITY_MAX = 50000;
export const RULE_VALUES_MAX = 5;
export const LISTENER_ARN_RE = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:listener\/(app|net)\/[A-Za-z0-9-]+\/[0-9a-f]+\/[0-9a-f]+$/;
const MATCHER_RE = /^\d{3}(-\d{3})?(,\d{3}(-\d{3})?)*$/;
const CERT_ARN_RE = /^arn:aws[a-z-]*:(acm|iam):\S+$/;

/** Defaults (docs/configuration.md): the health check as fast as the classic ELB's default, not AWS's 30 s. */
export const ELBV2_DEFAULTS = {
  healthCheck: { interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
  deregistrationDelay: 300,
  port: 80,
} as const;

/** The balancer kind a listener ARN names (`listener/app/...` → application). */
export function listenerArnType(arn: string): Elbv2Type | undefined {
  const m = LISTENER_ARN_RE.exec(arn);
  return m ? (m[1] === 'app' ? 'application' : 'network') : undefined;
}

/** Every value within 200-599 written as "200", "200,202" or "200-299". */
function matcherWithin(m: string, [lo, hi]: [number, number]): boolean {
  return m.split(',').every((part) => part.split('-').map(Number).every((n) => n >= lo && n <= hi));
}

const d2 = ELBV2_DEFAULTS.healthCheck;

export const elbv2HealthCheckSchema = v.pipe(
  v.strictObject({
    protocol: opt(choice(['HTTP', 'HTTPS', 'TCP'] as const, 'Health check protocol; default HTTP for an ALB, TCP for an NLB.')),
    port: opt(v.pipe(
      v.unknown(),
      v.check((x) => x === 'traffic-port' || (toInt(x) !== undefined && inRange(toInt(x)!, { min: 1, max: 65535 })), 'expected a port 1-65535 or "traffic-port"'),
      v.transform((x) => (x === 'traffic-port' ? x : String(toInt(x)))),
      v.description('Health check port; default `traffic-port` (the target group port).'),
      meta('expected a port 1-65535 or "traffic-port"', { anyOf: [{ type: 'integer', minimum: 1, maximum: 65535 }, { type: 'string', pattern: '^(traffic-port|\\d{1,5})$' }] }),
    )),
    path: opt(str('HTTP/HTTPS health checks: the ping path, default `/`.', { re: /^\/\S{0,1023}$/, allowed: 'expected a path starting with "/" (at most 1024 characters)' })),
    interval: v.nullish(int({ min: 5, max: 300 }, 'Seconds between checks (5-300).'), d2.interval),
    timeout: v.nullish(int({ min: 2, max: 120 }, 'Seconds before a check fails (2-120, less than interval).'), d2.timeout),
    healthyThreshold: v.nullish(int({ min: 2, max: 10 }, 'Consecutive successes before a target is healthy (2-10).'), d2.healthyThreshold),
    unhealthyThreshold: v.nullish(int({ min: 2, max: 10 }, 'Consecutive failures before a target is unhealthy (2-10).'), d2.unhealthyThreshold),
    matcher: opt(str('HTTP/HTTPS health checks: success codes like "200", "200,202" or "200-299" (ALB 200-499, NLB 200-599).', {
      re: MATCHER_RE, allowed: 'expected HTTP codes like "200", "200,202" or "200-299"',
    })),
  }, 'expected a mapping {protocol, port, path, interval, timeout, healthyThreshold, unhealthyThreshold, matcher}'),
  rule([['interval'], ['timeout']], (h) => (h.timeout as number) < (h.interval as number), (h) => `must be less than interval (${String(h.interval)})`, ['timeout']),
  v.description('The target group health check.'),
);

export const targetGroupSchema = v.pipe(
  v.strictObject({
    port: v.nullish(int({ min: 1, max: 65535 }, 'The port the instances receive traffic on.'), ELBV2_DEFAULTS.port),
    protocol: opt(choice(ELBV2_PROTOCOLS, 'Target group protocol; default HTTP for an ALB, TCP for an NLB.')),
    healthCheck: v.nullish(elbv2HealthCheckSchema, {}),
    deregistrationDelay: v.nullish(seconds({ min: 0, max: 3600 }, 'How long a leaving target drains (0-3600 s, default 300).'), ELBV2_DEFAULTS.deregistrationDelay),
  }, 'expected a mapping {port, protocol, healthCheck, deregistrationDelay}'),
  v.description('The service\'s target group (A/B: one per color, `<name>-a` / `<name>-b`).'),
);

export const elbv2ListenerSchema = v.pipe(
  v.strictObject({
    port: int({ min: 1, max: 65535 }, 'The listener port.'),
    protocol: choice(ELBV2_PROTOCOLS, 'HTTP or HTTPS (ALB); TCP, TLS, UDP or TCP_UDP (NLB).'),
    certificateArn: opt(str('ACM/IAM certificate ARN; required for HTTPS and TLS listeners.', { re: CERT_ARN_RE, allowed: 'expected a certificate ARN (arn:aws:acm:... or arn:aws:iam:...)' })),
  }, 'expected a mapping {port, protocol, certificateArn}'),
  rule([['protocol'], ['certificateArn']], (l) => !((l.protocol === 'HTTPS' || l.protocol === 'TLS') && l.certificateArn == null),
    (l) => `a ${String(l.protocol)} listener needs a certificate ARN`, ['certificateArn']),
  v.description('A listener of the load balancer the program creates; it forwards to the service\'s target group(s).'),
);

export const listenerRuleSchema = v.pipe(
  v.strictObject({
    priority: int({ min: 1, max: RULE_PRIORITY_MAX }, `Rule priority (1-${RULE_PRIORITY_MAX}), unique on the listener.`),
    hostHeaders: opt(strList('Host conditions, e.g. "api.example.com", "*.example.com".', { re: /^[A-Za-z0-9*?.-]{1,128}$/, item: 'host names like "api.example.com" (at most 128 characters)', nonEmpty: true })),
    pathPatterns: opt(strList('Path conditions, e.g. "/api/*".', { re: /^\/\S{0,127}$/, item: 'path patterns starting with "/" (at most 128 characters)', nonEmpty: true })),
  }, 'expected a mapping {priority, hostHeaders, pathPatterns}'),
  rule([['hostHeaders'], ['pathPatterns']], (r) => r.hostHeaders != null || r.pathPatterns != null,
    'a listener rule needs a condition: hostHeaders, pathPatterns or both', ['hostHeaders']),
  rule([['hostHeaders'], ['pathPatterns']],
    (r) => ((r.hostHeaders as string[] | null)?.length ?? 0) + ((r.pathPatterns as string[] | null)?.length ?? 0) <= RULE_VALUES_MAX,
    `a rule takes at most ${RULE_VALUES_MAX} condition values (hostHeaders and pathPatterns together)`, ['pathPatterns']),
  v.description('The listener rule the program adds to an existing ALB listener.'),
);

/** The balancer kind a config means: `type`, or what its listener ARN names. */
const kindOf = (e: Loose): Elbv2Type | undefined => (e.type as Elbv2Type | null) ?? (typeof e.listenerArn === 'string' ? listenerArnType(e.listenerArn) : undefined);
const tgOf = (e: Loose) => (e.targetGroup ?? {}) as Loose;
const hcOf = (e: Loose) => (tgOf(e).healthCheck ?? {}) as Loose;

export const elbv2Schema = v.pipe(
  v.strictObject({
    type: opt(choice(ELBV2_TYPES, '`application` or `network`: the program creates this load balancer (named `<name>`). Or give listenerArn.')),
    listenerArn: opt(str('An existing ALB listener: the program adds the service\'s target group(s) and a listener rule to it.', {
      re: LISTENER_ARN_RE, allowed: 'expected a listener ARN like "arn:aws:elasticloadbalancing:<region>:<account>:listener/app/<name>/<id>/<id>"',
    })),
    internal: opt(bool('A created load balancer is internal (VPC-only); default false.')),
    securityGroups: opt(strList('Security groups of a created load balancer.', { re: SG_RE, item: 'security group ids (sg-...)' })),
    listeners: opt(v.pipe(
      v.array(elbv2ListenerSchema, 'expected a non-empty list of {port, protocol, certificateArn}'),
      v.check((l) => l.length > 0, 'expected a non-empty list of {port, protocol, certificateArn}'),
      v.check((l) => new Set(l.map((x) => x.port)).size === l.length, 'each listener needs its own port'),
      v.description('Listeners of a created load balancer; default port 80, HTTP (ALB) or TCP (NLB).'),
      meta('expected a non-empty list of {port, protocol, certificateArn}'),
    )),
    rule: opt(listenerRuleSchema),
    targetGroup: v.nullish(targetGroupSchema, {}),
  }, 'expected a mapping {type or listenerArn, listeners, rule, targetGroup, ...}'),
  rule([['type'], ['listenerArn']], (e) => (e.type == null) !== (e.listenerArn == null),
    (e) => (e.type == null ? 'give type (application or network: the program creates the load balancer) or listenerArn (an existing ALB listener)' : 'give type or listenerArn, not both'), ['type']),
  rule([['listenerArn']], (e) => typeof e.listenerArn !== 'string' || listenerArnType(e.listenerArn) === 'application',
    'listener rules exist only on Application Load Balancer listeners (listener/app/...); for an NLB let the program create it (type: network)', ['listenerArn']),
  rule([['listenerArn'], ['rule']], (e) => e.listenerArn == null || e.rule != null,
    'an existing listener needs the rule the program adds: {priority, hostHeaders and/or pathPatterns}', ['rule']),
  rule([['type'], ['rule']], (e) => e.type == null || e.rule == null,
    'a load balancer the program creates forwards all its traffic to the service (its listeners\' default action); rule applies only with listenerArn', ['rule']),
  ...(['listeners', 'internal', 'securityGroups'] as const).map((key) => rule([['listenerArn'], [key]], (e) => e.listenerArn == null || e[key] == null,
    `${key} applies only to a load balancer the program creates (type); the existing listener's load balancer is not changed`, [key])),
  rule([['type'], ['listeners']], (e) => {
    const kind = e.type as Elbv2Type | null;
    return !kind || ((e.listeners as Loose[] | null) ?? []).every((l) => ELBV2_LISTENER_PROTOCOLS[kind].includes(l.protocol as string));
  }, (e) => `a ${String(e.type)} load balancer's listeners take ${ELBV2_LISTENER_PROTOCOLS[e.type as Elbv2Type].join(', ')}`, ['listeners']),
  rule([['type'], ['listenerArn'], ['targetGroup', 'protocol']], (e) => {
    const kind = kindOf(e);
    const p = tgOf(e).protocol as string | null | undefined;
    return !kind || p == null || ELBV2_LISTENER_PROTOCOLS[kind].includes(p);
  }, (e) => `a target group of an ${kindOf(e) === 'application' ? 'Application' : 'Network'} Load Balancer takes ${ELBV2_LISTENER_PROTOCOLS[kindOf(e)!].join(', ')}`, ['targetGroup', 'protocol']),
  rule([['type'], ['listenerArn'], ['targetGroup', 'protocol'], ['targetGroup', 'healthCheck', 'protocol']], (e) => {
    const kind = kindOf(e);
    const p = hcOf(e).protocol as string | null | undefined;
    if (!kind || p == null) return true;
    const tgp = tgOf(e).protocol as string | null | undefined;
    return ELBV2_HEALTH_CHECK_PROTOCOLS[kind].includes(p) && !(p === 'TCP' && (tgp === 'HTTP' || tgp === 'HTTPS'));
  }, (e) => kindOf(e) === 'application'
    ? 'an Application Load Balancer checks health over HTTP or HTTPS'
    : 'a Network Load Balancer checks health over TCP, HTTP or HTTPS (not TCP for an HTTP or HTTPS target group)', ['targetGroup', 'healthCheck', 'protocol']),
  rule([['type'], ['listenerArn'], ['targetGroup', 'healthCheck', 'matcher']], (e) => {
    const kind = kindOf(e);
    const m = hcOf(e).matcher as string | null | undefined;
    return !kind || m == null || matcherWithin(m, ELBV2_MATCHER_RANGE[kind]);
  }, (e) => `success codes of an ${kindOf(e) === 'application' ? 'Application' : 'Network'} Load Balancer health check are ${ELBV2_MATCHER_RANGE[kindOf(e)!].join('-')}`, ['targetGroup', 'healthCheck', 'matcher']),
  rule([['type'], ['listenerArn'], ['targetGroup'], ['targetGroup', 'healthCheck']], (e) => {
    const kind = kindOf(e);
    const hc = hcOf(e);
    const protocol = (hc.protocol as string | null) ?? defaultHealthCheckProtocol(kind ?? 'application', tgOf(e).protocol as string | null);
    return !kind || protocol !== 'TCP' || (hc.path == null && hc.matcher == null);
  }, 'path and matcher apply only to HTTP and HTTPS health checks', ['targetGroup', 'healthCheck', 'protocol']),
  v.description('An Application or Network Load Balancer in front of the group(s), instead of a classic ELB (docs/configuration.md "Fronting a service").') as v.PipeItem<any, any, v.BaseIssue<unknown>>,
);

/** AWS's default health check protocol: HTTP for an ALB; an NLB's HTTP/HTTPS-free target groups: TCP. */
export function defaultHealthCheckProtocol(kind: Elbv2Type, targetGroupProtocol: string | null | undefined): 'HTTP' | 'HTTPS' | 'TCP' {
  if (kind === 'application') return targetGroupProtocol === 'HTTPS' ? 'HTTPS' : 'HTTP';
  return 'TCP';
}

function tagsSchema() {
  const keyAllowed = 'tag keys must be 1-128 characters and must not start with "aws:" or "asg-deploy:" (reserved)';
  return v.pipe(
    v.record(
      v.pipe(v.string(), v.check((k) => !(k.toLowerCase().startsWith('aws:') || k.startsWith('asg-deploy:') || k.length > 128 || k === ''), keyAllowed)),
      v.pipe(
        v.unknown(),
        v.check((x) => typeof x === 'string' || typeof x === 'number' || typeof x === 'boolean', 'expected a string value'),
        v.transform((x) => String(x)),
        meta('expected a string value', { anyOf: [{ type: ['string', 'number', 'boolean'] }, SECURE_VALUE] }),
      ),
      'expected a mapping (object)',
    ),
    v.description('Tags for the group, its instances, volumes, launch template and load balancers. Values may be `secure:`.'),
    meta('expected a mapping (object)', {
      type: 'object',
      propertyNames: { minLength: 1, maxLength: 128, not: { pattern: '^([aA][wW][sS]:|asg-deploy:)' } },
      additionalProperties: { anyOf: [{ type: ['string', 'number', 'boolean'] }, { $ref: '#/definitions/secureValue' }] },
    }),
  );
}

/** A Pulumi secret in a stack file: `{secure: v1:...}` (only userData and tag values may be one). */
export const SECURE_VALUE: Json = { $ref: '#/definitions/secureValue' };

function batchSize(description: string) {
  const allowed = 'expected a positive integer or a percentage of capacity like "25%" (1%-100%)';
  const read = (x: unknown): number | string | undefined => {
    if (typeof x === 'number') return Number.isInteger(x) && x >= 1 ? x : undefined;
    if (typeof x !== 'string') return undefined;
    const m = PERCENT_RE.exec(x.trim());
    if (m && Number(m[1]) >= 1 && Number(m[1]) <= 100) return `${Number(m[1])}%`;
    if (/^\d+$/.test(x.trim()) && Number(x) >= 1) return Number(x);
    return undefined;
  };
  return v.pipe(
    v.unknown(),
    v.check((x) => read(x) !== undefined, allowed),
    v.transform((x) => read(x)!),
    v.description(description),
    meta(allowed, { anyOf: [{ type: 'integer', minimum: 1 }, { type: 'string', pattern: '^\\s*(100|[1-9]\\d?)%\\s*$' }, { type: 'string', pattern: '^\\s*[1-9]\\d*\\s*$' }] }),
  );
}

const USER_DATA_MAX = 16 * 1024;

// ---- a mixed instances policy (issue 15 item 4) ---------------------------------------------------
// AWS's allowed values, from the InstancesDistribution and LaunchTemplateOverrides shapes of the
// installed @aws-sdk/client-auto-scaling model (and
// https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_InstancesDistribution.html):
// - SpotAllocationStrategy: lowest-price (AWS's default), capacity-optimized,
//   capacity-optimized-prioritized, price-capacity-optimized (recommended);
// - OnDemandBaseCapacity: default 0; OnDemandPercentageAboveBaseCapacity: 0-100, default 100;
// - "You can specify up to 40 instance types per Auto Scaling group" (LaunchTemplateOverrides);
// - CapacityRebalance: replace Spot instances at an elevated risk of interruption, launch first
//   (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-capacity-rebalancing.html).
export const SPOT_ALLOCATION_STRATEGIES = ['lowest-price', 'capacity-optimized', 'capacity-optimized-prioritized', 'price-capacity-optimized'] as const;
export const MIXED_INSTANCE_TYPES_MAX = 40;
export const MIXED_INSTANCES_ALLOWED = 'expected a mapping {instanceTypes, onDemandBaseCapacity, onDemandPercentageAboveBaseCapacity, spotAllocationStrategy, capacityRebalance}';

export const mixedInstancesSchema = v.pipe(
  v.strictObject({
    instanceTypes: v.pipe(
      strList('Instance types the group may launch (LaunchTemplateOverrides), in priority order; the first is also the On-Demand choice. Up to 40.', { re: INSTANCE_TYPE_RE, item: 'EC2 instance types like "m5.large"', nonEmpty: true }),
      v.check((l) => l.length <= MIXED_INSTANCE_TYPES_MAX, `expected at most ${MIXED_INSTANCE_TYPES_MAX} instance types (AWS's limit per Auto Scaling group)`),
    ),
    onDemandBaseCapacity: v.nullish(int({ min: 0 }, 'Instances launched On-Demand first, before any Spot (AWS default 0).'), 0),
    onDemandPercentageAboveBaseCapacity: v.nullish(int({ min: 0, max: 100 }, 'Percent On-Demand of the capacity above the base, the rest Spot (0-100; AWS default 100: no Spot).'), 100),
    spotAllocationStrategy: opt(choice(SPOT_ALLOCATION_STRATEGIES, 'How Spot instances are allocated across pools (AWS default lowest-price; price-capacity-optimized is what AWS recommends).')),
    capacityRebalance: v.nullish(bool('Capacity Rebalancing: AWS replaces a Spot instance at an elevated risk of interruption on its own, launching first.'), false),
  }, MIXED_INSTANCES_ALLOWED),
  v.description('A mixed instances policy: the launch template plus instance-type overrides, On-Demand and Spot. An instance is outdated only when its launch template version differs, whatever its type.'),
);

/** The keys every service has, whatever its strategy. `name` is defaulted by ./config.ts. */
export const commonEntries = {
  strategy: choice(STRATEGIES, '`rolling` (oldest first) or `ab` (blue/green: two groups, one active).', { hint: (x) => suggestKey(x, STRATEGIES) }),
  name: opt(str('Resource name; default `<stack>-<service>`. A/B groups and ELBs are `<name>-a` / `<name>-b`.', {
    re: NAME_RE, allowed: 'expected letters, digits and hyphens, starting and ending with a letter or digit',
  })),
  imageId: str('The AMI, e.g. `ami-0123456789abcdef0` (or `resolve:ssm:<parameter>`).', {
    re: AMI_RE, allowed: 'expected an AMI id like "ami-0123456789abcdef0" (or "resolve:ssm:<parameter>")',
  }),
  instanceType: str('EC2 instance type, e.g. `t3.small`.', { re: INSTANCE_TYPE_RE, allowed: 'expected an EC2 instance type like "t3.small"' }),
  capacity: int({ min: 0 }, 'Desired instance count in service (A/B: of the active color).'),
  availabilityZones: opt(strList('Availability zones (or give subnets, not both; neither: every zone of the region).', { re: AZ_RE, item: 'availability zone names like "us-east-1a"', nonEmpty: true })),
  subnets: opt(strList('VPC subnets (or give availabilityZones, not both).', { re: SUBNET_RE, item: 'subnet ids (subnet-...)', nonEmpty: true })),
  keyName: opt(str('EC2 key pair name.')),
  securityGroupIds: v.nullish(strList('Security groups of the instances.', { re: SG_RE, item: 'security group ids (sg-...)' }), []),
  iamInstanceProfile: opt(str('Instance profile name or ARN.', { allowed: 'expected an instance profile name or ARN' })),
  userData: opt(v.pipe(
    v.unknown(),
    v.check((x) => typeof x === 'string', 'expected a string (plain text; it is base64-encoded for you)'),
    v.transform((x) => x as string),
    // The size only: user data often carries bootstrap credentials, so no excerpt is echoed
    // (./config.ts shows `<n> bytes` as the value, see `shownValue`).
    v.check((x) => Buffer.byteLength(x, 'utf8') <= USER_DATA_MAX, 'user data is limited to 16 KB (16384 bytes)'),
    v.description('Plain text user data (base64-encoded for you); at most 16 KB. May be `secure:`.'),
    meta('expected a string (plain text; it is base64-encoded for you)', { anyOf: [{ type: 'string' }, SECURE_VALUE] }),
  )),
  tags: v.nullish(tagsSchema(), {}),
  launchConfiguration: v.nullish(bool('Legacy: a launch configuration instead of a launch template.'), false),
  healthCheckGracePeriod: v.nullish(seconds({ min: 0, max: 7200 }, 'Seconds the ASG waits before checking a new instance (0-7200 or a duration).'), DEFAULTS.healthCheckGracePeriod),
  maxSize: opt(int({ min: 1 }, 'The group max size (per color for A/B); default capacity + surge (rolling), 2 x capacity (ab).')),
  loadBalancer: opt(loadBalancerSchema),
  elbv2: opt(elbv2Schema),
  mixedInstances: opt(mixedInstancesSchema),
  // Checked against the stack's services by ./config.ts applyDependsOn.
  alarms: opt(strList('CloudWatch alarms (metric or composite) watched before and during every rollout of the service, as `roll --alarm`: in ALARM at the start refuses it (exit 3), ALARM during it halts it (exit 1).', {
    re: ALARM_RE, item: 'CloudWatch alarm names (1-255 characters, no control characters)',
  })),
  dependsOn: opt(v.pipe(
    v.unknown(),
    v.description('Services whose rollout must be done before this one starts (`deploy --parallel`).'),
    meta('expected a list of service names of this stack', { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, uniqueItems: true }] }),
  )),
};

// ---- lifecycle hooks and warm pool (issue 15) ------------------------------------------------------

const HOOK_NAME_RE = /^[A-Za-z0-9\-_/]{1,255}$/;
export const LIFECYCLE_HOOK_ALLOWED = 'expected a mapping {name, transition, heartbeatTimeout, defaultResult}';

/** One lifecycle hook (PutLifecycleHook: HeartbeatTimeout 30-7200 s, default 3600; DefaultResult default ABANDON). */
export const lifecycleHookSchema = v.pipe(
  v.strictObject({
    name: str('The hook name (1-255 letters, digits, `-`, `_`, `/`).', { re: HOOK_NAME_RE, allowed: 'expected 1-255 letters, digits, "-", "_" or "/"' }),
    transition: choice(['launch', 'terminate'] as const, '`launch` (new instances wait in Pending:Wait) or `terminate` (leaving instances wait in Terminating:Wait).'),
    heartbeatTimeout: v.nullish(seconds({ min: 30, max: 7200 }, 'How long an instance waits for CompleteLifecycleAction before the default result applies (30-7200 s; default 3600).'), 3600),
    defaultResult: v.nullish(choice(['CONTINUE', 'ABANDON'] as const, 'What happens at the heartbeat timeout: CONTINUE, or ABANDON (default; at launch the instance is terminated).'), 'ABANDON'),
  }, LIFECYCLE_HOOK_ALLOWED),
  v.description('A lifecycle hook of the group (rolling); the tool never completes it (docs/commands/roll.md).'),
);

export const WARM_POOL_ALLOWED = 'expected a mapping {poolState, minSize, maxPreparedCapacity, reuseOnScaleIn}';

/** The group's warm pool (PutWarmPool). */
export const warmPoolSchema = v.pipe(
  v.strictObject({
    poolState: v.nullish(choice(['Stopped', 'Running', 'Hibernated'] as const, 'The state of warmed instances: Stopped (default), Running or Hibernated.'), 'Stopped'),
    minSize: v.nullish(int({ min: 0 }, 'The fewest instances kept in the pool (default 0).'), 0),
    maxPreparedCapacity: opt(int({ min: 0 }, 'The group plus its pool at most (MaxGroupPreparedCapacity); default the group max size.')),
    reuseOnScaleIn: v.nullish(bool('Scaled-in instances go back to the pool instead of being terminated (default false).'), false),
  }, WARM_POOL_ALLOWED),
  rule([['minSize'], ['maxPreparedCapacity']], (p) => p.maxPreparedCapacity == null || (p.maxPreparedCapacity as number) >= (p.minSize as number),
    (p) => `must be at least minSize (${String(p.minSize)})`, ['maxPreparedCapacity']),
  v.description('A warm pool of pre-initialized instances (rolling); a rollout refreshes its outdated instances (docs/commands/roll.md).'),
);

export const rollingEntries = {
  minHealthy: opt(int({ min: 0 }, 'Healthy InService instances the rollout never goes below (0..capacity); default capacity with a surge, else capacity - 1.')),
  surge: v.nullish(int({ min: 0 }, 'Extra instances launched above capacity during a rollout.'), DEFAULTS.surge),
  batchSize: opt(batchSize('Instances replaced per step: a count, or a percentage of capacity like `"25%"`.')),
  stepTimeout: v.nullish(seconds({ min: 1 }, 'How long one replacement step may take before the rollout halts.'), DEFAULTS.stepTimeoutSeconds),
  lifecycleHooks: opt(v.pipe(
    v.array(lifecycleHookSchema, 'expected a list of {name, transition, heartbeatTimeout, defaultResult}'),
    v.check((l) => new Set(l.map((h) => h.name)).size === l.length, 'each lifecycle hook needs its own name'),
    v.description('Lifecycle hooks of the group: `launch` (bootstrap) and `terminate` (drain) waits.'),
    meta('expected a list of {name, transition, heartbeatTimeout, defaultResult}'),
  )),
  warmPool: opt(warmPoolSchema),
};

export const abEntries = {
  healthCheckTimeout: v.nullish(seconds({ min: 1 }, 'How long the new color may take to be InService and healthy in its ELB.'), DEFAULTS.healthCheckTimeoutSeconds),
  instanceCountStep: opt(int({ min: 1 }, 'Scale the new color up by at most this many instances at a time.')),
  trafficSteps: opt(trafficSteps('With elbv2: the new color\'s share of the traffic in steps, ascending percentages ending at 100, e.g. `[10, 50, 100]` (as `ab --traffic-steps`); default all at once.')),
  stepWait: opt(seconds({ min: 1, max: 86400 }, 'With trafficSteps of two or more steps: how long each step holds while the new color stays healthy (as `ab --step-wait`; default 60 s).')),
  keepOld: opt(seconds({ min: 1 }, 'Once the new color serves (on target groups: carries all of the traffic), keep the old color at full size this long, watching health and alarms; a failure switches back (as `ab --keep-old`).')),
};

/** Every key a service accepts, for documentation and "did you mean". */
export const SERVICE_KEYS: readonly string[] = [...Object.keys(commonEntries), ...Object.keys(rollingEntries), ...Object.keys(abEntries)];


/** Rules over several keys of a service; each reported at the key it is about. */
function serviceRules(strategy: 'rolling' | 'ab' | undefined) {
  const lb = (s: Loose) => (s.loadBalancer ?? undefined) as Loose | undefined;
  const rules = [
    rule([['subnets'], ['availabilityZones']], (s) => s.subnets == null || s.availabilityZones == null,
      'give either availabilityZones or subnets, not both (subnets already imply their zones)', ['subnets']),
    rule([['loadBalancer', 'internal'], ['subnets']], (s) => !(lb(s)?.internal === true && s.subnets == null),
      'an internal load balancer needs subnets (a VPC)', ['loadBalancer', 'internal']),
    rule([['loadBalancer', 'securityGroups'], ['subnets']], (s) => !((lb(s)?.securityGroups as unknown[] | undefined)?.length && s.subnets == null),
      'load balancer security groups need subnets (a VPC)', ['loadBalancer', 'securityGroups']),
    // A service is fronted by a classic ELB or by an ALB/NLB, never both (issue 14: a mixed pair is refused).
    rule([['loadBalancer'], ['elbv2']], (s) => s.loadBalancer == null || s.elbv2 == null,
      'front the service with a classic ELB (loadBalancer) or an ALB/NLB (elbv2), not both', ['elbv2']),
    rule([['mixedInstances'], ['launchConfiguration']], (s) => s.mixedInstances == null || s.launchConfiguration !== true,
      'a mixed instances policy needs a launch template: drop launchConfiguration (or the mixed instances policy)', ['mixedInstances']),
    rule([['elbv2'], ['subnets']], (s) => s.elbv2 == null || s.subnets != null,
      'an Application or Network Load Balancer and its target groups live in a VPC: give subnets (not availabilityZones)', ['elbv2']),
    rule([['elbv2', 'type'], ['subnets']], (s) => (s.elbv2 as Loose | null)?.type !== 'application' || ((s.subnets as string[] | null)?.length ?? 0) >= 2,
      'an Application Load Balancer needs subnets in at least two Availability Zones: give at least 2 subnets', ['subnets']),
  ];
  const floor = (s: Loose) => rollingFloor(s.capacity as number, 0, s.minHealthy as number | null | undefined);
  if (strategy !== 'ab') {
    rules.push(
      rule([['capacity'], ['minHealthy']], (s) => s.minHealthy == null || (s.minHealthy as number) <= (s.capacity as number),
        (s) => `expected an integer from 0 to capacity (${String(s.capacity)})`, ['minHealthy']),
      rule([['capacity'], ['minHealthy'], ['surge']], (s) => !((s.capacity as number) > 0 && s.surge === 0 && floor(s) >= (s.capacity as number)),
        (s) => `with surge 0 and minHealthy ${floor(s)} = capacity no instance can ever be replaced; use surge >= 1 or minHealthy < capacity`, ['surge']),
    );
  }
  if (strategy === 'rolling') {
    rules.push(rule([['capacity'], ['surge'], ['maxSize']], (s) => s.maxSize == null || (s.maxSize as number) >= (s.capacity as number) + (s.surge as number),
      (s) => `expected at least capacity + surge (${(s.capacity as number) + (s.surge as number)}) so a rollout can launch its surge`, ['maxSize']));
  }
  if (strategy === 'ab') {
    rules.push(rule([['capacity'], ['maxSize']], (s) => s.maxSize == null || (s.maxSize as number) >= (s.capacity as number),
      (s) => `expected at least capacity (${String(s.capacity)}): each color must be able to hold the whole service`, ['maxSize']));
    // Traffic shifts by weights between the colors' target groups; classic ELBs switch all at once.
    rules.push(rule([['trafficSteps'], ['elbv2']], (s) => s.trafficSteps == null || s.elbv2 != null,
      'traffic steps shift weights between the colors\' ALB/NLB target groups: give elbv2 (classic ELBs switch all at once)', ['trafficSteps']));
    rules.push(rule([['trafficSteps'], ['stepWait']], (s) => s.stepWait == null || ((s.trafficSteps as number[] | null)?.length ?? 0) >= 2,
      'stepWait is the hold at each traffic step: give trafficSteps with two or more steps, e.g. [10, 50, 100]', ['stepWait']));
  }
  return rules;
}

/** Default rolling floor: full capacity when a surge makes room to launch first; one below when it cannot. */
export function rollingFloor(capacity: number, surge: number, minHealthy: number | null | undefined): number {
  return minHealthy ?? (surge > 0 ? capacity : Math.max(0, capacity - 1));
}

/**
 * The schema of one service: `rolling`, `ab`, or (strategy missing or wrong) both strategies'
 * keys, so every other problem still shows at once.
 */
export function serviceSchema(strategy: 'rolling' | 'ab' | undefined) {
  const entries = strategy === 'rolling' ? { ...commonEntries, ...rollingEntries }
    : strategy === 'ab' ? { ...commonEntries, ...abEntries }
      : { ...commonEntries, ...rollingEntries, ...abEntries };
  return v.pipe(
    v.strictObject(entries, 'expected a mapping with strategy, imageId, instanceType, capacity, ...'),
    ...(serviceRules(strategy) as []),
  );
}

/** The output of {@link serviceSchema} (defaults filled in where they do not depend on other keys). */
export type ParsedService = v.InferOutput<ReturnType<typeof serviceSchema>> & Partial<v.InferOutput<v.ObjectSchema<typeof rollingEntries, undefined>>> & Partial<v.InferOutput<v.ObjectSchema<typeof abEntries, undefined>>>;

/** Reads the strategy alone (to pick the service's schema). */
export const strategySchema = commonEntries.strategy;
export { STRATEGIES, PROTOCOLS };
