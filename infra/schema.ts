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

/** A case-insensitive choice, lower-cased. */
export function choice<const T extends string>(values: readonly T[], description: string, o: { hint?: (x: string) => string | undefined } = {}) {
  const allowed = `expected one of ${values.join(', ')}`;
  const message = (issue: v.BaseIssue<unknown>) => {
    const hint = typeof issue.input === 'string' ? o.hint?.(issue.input) : undefined;
    return `${allowed}${hint ? ` (did you mean "${hint}"?)` : ''}`;
  };
  const caseless = values.map((x) => `^${[...x].map((ch) => (/[a-z]/i.test(ch) ? `[${ch.toLowerCase()}${ch.toUpperCase()}]` : ch)).join('')}$`).join('|');
  return v.pipe(
    v.unknown(),
    v.check((x) => typeof x === 'string' && (values as readonly string[]).includes(x.toLowerCase()), message),
    v.transform((x) => (x as string).toLowerCase() as T),
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
  // Checked against the stack's services by ./config.ts applyDependsOn.
  dependsOn: opt(v.pipe(
    v.unknown(),
    v.description('Services whose rollout must be done before this one starts (`deploy --parallel`).'),
    meta('expected a list of service names of this stack', { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, uniqueItems: true }] }),
  )),
};

export const rollingEntries = {
  minHealthy: opt(int({ min: 0 }, 'Healthy InService instances the rollout never goes below (0..capacity); default capacity with a surge, else capacity - 1.')),
  surge: v.nullish(int({ min: 0 }, 'Extra instances launched above capacity during a rollout.'), DEFAULTS.surge),
  batchSize: opt(batchSize('Instances replaced per step: a count, or a percentage of capacity like `"25%"`.')),
  stepTimeout: v.nullish(seconds({ min: 1 }, 'How long one replacement step may take before the rollout halts.'), DEFAULTS.stepTimeoutSeconds),
};

export const abEntries = {
  healthCheckTimeout: v.nullish(seconds({ min: 1 }, 'How long the new color may take to be InService and healthy in its ELB.'), DEFAULTS.healthCheckTimeoutSeconds),
  instanceCountStep: opt(int({ min: 1 }, 'Scale the new color up by at most this many instances at a time.')),
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
    : strategy === 'ab' ? { ...commonEntries, ...abEntries, loadBalancer: v.nullish(loadBalancerSchema, {}) }
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
