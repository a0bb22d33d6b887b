import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import { parseServices, suggestKey, uncoveredToolTags, type ConfigProblem, type ServiceConfig } from '../../infra/config';
import { DeployError, ExitCode } from '../../orchestrator/errors';

const ROOT = path.resolve(__dirname, '..', '..');

const rolling = (extra: Record<string, unknown> = {}) => ({
  strategy: 'rolling', imageId: 'ami-0123456789abcdef0', instanceType: 't3.medium', capacity: 3, minHealthy: 2, surge: 1, ...extra,
});
const ab = (extra: Record<string, unknown> = {}) => ({
  strategy: 'ab', imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 8,
  availabilityZones: ['us-east-1a', 'us-east-1b'],
  loadBalancer: {
    listeners: [{ port: 80, instancePort: 8080, protocol: 'http' }],
    healthCheck: { target: 'HTTP:8080/health', interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 },
    drainingTimeout: 300,
  },
  ...extra,
});

function problemsOf(raw: unknown, stack = 'qa'): { err: DeployError; problems: ConfigProblem[] } {
  try {
    parseServices(raw, stack);
  } catch (err) {
    if (!(err instanceof DeployError)) throw err;
    return { err, problems: err.data.problems as ConfigProblem[] };
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

function byName(list: ServiceConfig[], service: string): ServiceConfig {
  const s = list.find((x) => x.service === service);
  if (!s) throw new Error(`no service ${service}`);
  return s;
}

// ---- invalid configs: each rejected, naming the service, the key, the value and what is allowed ---
const invalid: Array<{ title: string; service: string; config: Record<string, unknown>; path: string; mentions: string[] }> = [
  { title: 'unknown strategy', service: 'web', config: ab({ strategy: 'blue-green' }), path: 'web.strategy', mentions: ['"blue-green"', 'rolling, ab'] },
  { title: 'missing strategy', service: 'web', config: { ...ab(), strategy: undefined }, path: 'web.strategy', mentions: ['required', 'rolling, ab'] },
  { title: 'missing imageId', service: 'rabbit', config: { ...rolling(), imageId: undefined }, path: 'rabbit.imageId', mentions: ['required', 'ami-'] },
  { title: 'imageId not an AMI', service: 'rabbit', config: rolling({ imageId: 'ubuntu-22.04' }), path: 'rabbit.imageId', mentions: ['"ubuntu-22.04"', 'ami-'] },
  { title: 'missing instanceType', service: 'rabbit', config: { ...rolling(), instanceType: undefined }, path: 'rabbit.instanceType', mentions: ['required', 't3.small'] },
  { title: 'capacity < 0', service: 'rabbit', config: rolling({ capacity: -1, minHealthy: 0 }), path: 'rabbit.capacity', mentions: ['-1', '>= 0'] },
  { title: 'capacity not an integer', service: 'rabbit', config: rolling({ capacity: 2.5 }), path: 'rabbit.capacity', mentions: ['2.5', 'integer'] },
  { title: 'capacity a word', service: 'web', config: ab({ capacity: 'eight' }), path: 'web.capacity', mentions: ['"eight"', 'integer'] },
  { title: 'missing capacity', service: 'web', config: { ...ab(), capacity: undefined }, path: 'web.capacity', mentions: ['required'] },
  { title: 'minHealthy > capacity', service: 'rabbit', config: rolling({ minHealthy: 4 }), path: 'rabbit.minHealthy', mentions: ['4', 'capacity (3)'] },
  { title: 'minHealthy < 0', service: 'rabbit', config: rolling({ minHealthy: -2 }), path: 'rabbit.minHealthy', mentions: ['-2', '>= 0'] },
  { title: 'surge < 0', service: 'rabbit', config: rolling({ surge: -1 }), path: 'rabbit.surge', mentions: ['-1', '>= 0'] },
  { title: 'surge 0 with minHealthy = capacity', service: 'rabbit', config: rolling({ surge: 0, minHealthy: 3 }), path: 'rabbit.surge', mentions: ['no instance can ever be replaced'] },
  { title: 'both subnets and availabilityZones', service: 'rabbit', config: rolling({ subnets: ['subnet-0abc1234'], availabilityZones: ['us-east-1a'] }), path: 'rabbit.subnets', mentions: ['not both'] },
  { title: 'empty availabilityZones', service: 'rabbit', config: rolling({ availabilityZones: [] }), path: 'rabbit.availabilityZones', mentions: ['non-empty'] },
  { title: 'bad subnet id', service: 'rabbit', config: rolling({ subnets: ['net-1'] }), path: 'rabbit.subnets[0]', mentions: ['"net-1"', 'subnet-'] },
  { title: 'typo: minHealty', service: 'rabbit', config: rolling({ minHealty: 2 }), path: 'rabbit.minHealty', mentions: ['unknown key', 'did you mean "minHealthy"'] },
  { title: 'typo: imageID (case)', service: 'web', config: ab({ imageID: 'ami-0123456789abcdef0' }), path: 'web.imageID', mentions: ['did you mean "imageId"'] },
  { title: 'typo: avaliabilityZones', service: 'web', config: ab({ avaliabilityZones: ['us-east-1a'] }), path: 'web.avaliabilityZones', mentions: ['did you mean "availabilityZones"'] },
  { title: 'unknown key far from any', service: 'web', config: ab({ colour: 'blue' }), path: 'web.colour', mentions: ['unknown key', 'allowed keys'] },
  { title: 'rolling key on an ab service', service: 'web', config: ab({ minHealthy: 4 }), path: 'web.minHealthy', mentions: ['only to strategy "rolling"'] },
  { title: 'ab key on a rolling service', service: 'rabbit', config: rolling({ healthCheckTimeout: 600 }), path: 'rabbit.healthCheckTimeout', mentions: ['only to strategy "ab"'] },
  { title: 'a mixed policy without instance types', service: 'rabbit', config: rolling({ mixedInstances: { instanceTypes: [] } }), path: 'rabbit.mixedInstances.instanceTypes', mentions: ['non-empty list of EC2 instance types'] },
  { title: 'a mixed policy with a bad instance type', service: 'rabbit', config: rolling({ mixedInstances: { instanceTypes: ['m5.large', 'large'] } }), path: 'rabbit.mixedInstances.instanceTypes[1]', mentions: ['"large"', 'EC2 instance types like "m5.large"'] },
  { title: 'a mixed policy with 41 instance types', service: 'rabbit', config: rolling({ mixedInstances: { instanceTypes: Array.from({ length: 41 }, (_, n) => `m${n + 1}.large`) } }), path: 'rabbit.mixedInstances.instanceTypes', mentions: ['at most 40 instance types'] },
  { title: 'a mixed policy On-Demand percentage above 100', service: 'rabbit', config: rolling({ mixedInstances: { instanceTypes: ['m5.large'], onDemandPercentageAboveBaseCapacity: 120 } }), path: 'rabbit.mixedInstances.onDemandPercentageAboveBaseCapacity', mentions: ['120', '<= 100'] },
  { title: 'a mixed policy negative On-Demand base', service: 'rabbit', config: rolling({ mixedInstances: { instanceTypes: ['m5.large'], onDemandBaseCapacity: -1 } }), path: 'rabbit.mixedInstances.onDemandBaseCapacity', mentions: ['-1', '>= 0'] },
  { title: 'a mixed policy unknown Spot allocation strategy', service: 'rabbit', config: rolling({ mixedInstances: { instanceTypes: ['m5.large'], spotAllocationStrategy: 'cheapest' } }), path: 'rabbit.mixedInstances.spotAllocationStrategy', mentions: ['"cheapest"', 'lowest-price, capacity-optimized, capacity-optimized-prioritized, price-capacity-optimized'] },
  { title: 'a mixed policy unknown key', service: 'rabbit', config: rolling({ mixedInstances: { instanceTypes: ['m5.large'], spotPercent: 50 } }), path: 'rabbit.mixedInstances.spotPercent', mentions: ['spotPercent'] },
  { title: 'a mixed policy with a launch configuration', service: 'rabbit', config: rolling({ launchConfiguration: true, mixedInstances: { instanceTypes: ['m5.large'] } }), path: 'rabbit.mixedInstances', mentions: ['needs a launch template'] },
  { title: 'keepOld on a rolling service', service: 'rabbit', config: rolling({ keepOld: '5m' }), path: 'rabbit.keepOld', mentions: ['only to strategy "ab"'] },
  { title: 'keepOld not a duration', service: 'web', config: ab({ keepOld: 'a while' }), path: 'web.keepOld', mentions: ['"a while"'] },
  { title: 'keepOld 0', service: 'web', config: ab({ keepOld: 0 }), path: 'web.keepOld', mentions: ['0'] },
  { title: 'typo inside loadBalancer', service: 'web', config: ab({ loadBalancer: { ...ab().loadBalancer, drainingTimout: 300 } }), path: 'web.loadBalancer.drainingTimout', mentions: ['did you mean "drainingTimeout"'] },
  { title: 'typo inside healthCheck', service: 'web', config: ab({ loadBalancer: { healthCheck: { target: 'TCP:80', intervall: 10 } } }), path: 'web.loadBalancer.healthCheck.intervall', mentions: ['did you mean "interval"'] },
  { title: 'bad health check target', service: 'web', config: ab({ loadBalancer: { healthCheck: { target: 'HTTP:8080' } } }), path: 'web.loadBalancer.healthCheck.target', mentions: ['"HTTP:8080"', 'HTTP:<port>/<path>'] },
  { title: 'health check timeout >= interval', service: 'web', config: ab({ loadBalancer: { healthCheck: { target: 'TCP:80', interval: 5, timeout: 5 } } }), path: 'web.loadBalancer.healthCheck.timeout', mentions: ['less than interval'] },
  { title: 'healthyThreshold out of range', service: 'web', config: ab({ loadBalancer: { healthCheck: { target: 'TCP:80', healthyThreshold: 11 } } }), path: 'web.loadBalancer.healthCheck.healthyThreshold', mentions: ['11', '<= 10'] },
  { title: 'listener protocol', service: 'web', config: ab({ loadBalancer: { listeners: [{ port: 80, instancePort: 80, protocol: 'udp' }] } }), path: 'web.loadBalancer.listeners[0].protocol', mentions: ['"udp"', 'http, https, tcp, ssl'] },
  { title: 'https listener without certificate', service: 'web', config: ab({ loadBalancer: { listeners: [{ port: 443, instancePort: 8080, protocol: 'https' }] } }), path: 'web.loadBalancer.listeners[0].sslCertificateId', mentions: ['certificate'] },
  { title: 'listener port out of range', service: 'web', config: ab({ loadBalancer: { listeners: [{ port: 70000, instancePort: 80, protocol: 'http' }] } }), path: 'web.loadBalancer.listeners[0].port', mentions: ['70000', '<= 65535'] },
  { title: 'drainingTimeout too long', service: 'web', config: ab({ loadBalancer: { drainingTimeout: 7200 } }), path: 'web.loadBalancer.drainingTimeout', mentions: ['7200', '3600'] },
  { title: 'crossZone not a boolean', service: 'web', config: ab({ loadBalancer: { crossZone: 'yes' } }), path: 'web.loadBalancer.crossZone', mentions: ['"yes"', 'true or false'] },
  { title: 'loadBalancer not a mapping', service: 'rabbit', config: rolling({ loadBalancer: 'qa-rabbit' }), path: 'rabbit.loadBalancer', mentions: ['"qa-rabbit"', 'mapping'] },
  { title: 'name too long for a classic ELB', service: 'web', config: ab({ name: 'a-very-long-environment-name-xyz' }), path: 'web.name', mentions: ['32'] },
  { title: 'name with bad characters', service: 'rabbit', config: rolling({ name: 'rabbit_mq' }), path: 'rabbit.name', mentions: ['"rabbit_mq"', 'letters, digits and hyphens'] },
  { title: 'name too short for a launch template', service: 'rabbit', config: rolling({ name: 'mq' }), path: 'rabbit.name', mentions: ['"mq"', '3-128'] },
  { title: 'default name invalid (stack name with a dot)', service: 'rabbit', config: rolling(), path: 'rabbit.name', mentions: ['"dev.1-rabbit"', 'default <stack>-<service>', 'set "name" explicitly'] },
  { title: 'maxSize below capacity + surge', service: 'rabbit', config: rolling({ maxSize: 3 }), path: 'rabbit.maxSize', mentions: ['3', 'capacity + surge (4)'] },
  { title: 'ab maxSize below capacity', service: 'web', config: ab({ maxSize: 4 }), path: 'web.maxSize', mentions: ['capacity (8)'] },
  { title: 'batchSize percentage out of range', service: 'rabbit', config: rolling({ batchSize: '150%' }), path: 'rabbit.batchSize', mentions: ['"150%"', '1%-100%'] },
  { title: 'stepTimeout not a duration', service: 'rabbit', config: rolling({ stepTimeout: 'soon' }), path: 'rabbit.stepTimeout', mentions: ['"soon"', '"10m"'] },
  { title: 'launchConfiguration not a boolean', service: 'rabbit', config: rolling({ launchConfiguration: 'legacy' }), path: 'rabbit.launchConfiguration', mentions: ['true or false'] },
  { title: 'reserved tag key', service: 'rabbit', config: rolling({ tags: { 'aws:owner': 'me' } }), path: 'rabbit.tags.aws:owner', mentions: ['reserved'] },
  { title: 'securityGroupIds not a list', service: 'rabbit', config: rolling({ securityGroupIds: 'sg-0abc1234' }), path: 'rabbit.securityGroupIds', mentions: ['list of security group ids'] },
  { title: 'alarms not a list', service: 'rabbit', config: rolling({ alarms: 'qa-rabbit-5xx' }), path: 'rabbit.alarms', mentions: ['"qa-rabbit-5xx"', 'list of CloudWatch alarm names'] },
  { title: 'alarms with an empty name', service: 'web', config: ab({ alarms: ['qa-web-5xx', ' '] }), path: 'web.alarms[1]', mentions: ['CloudWatch alarm names (1-255 characters'] },
  { title: 'alarms with a duplicate', service: 'web', config: ab({ alarms: ['qa-web-5xx', 'qa-web-5xx'] }), path: 'web.alarms', mentions: ['without duplicates'] },
  { title: 'internal ELB without subnets', service: 'web', config: ab({ loadBalancer: { internal: true } }), path: 'web.loadBalancer.internal', mentions: ['needs subnets'] },
  { title: 'lifecycle hook transition', service: 'rabbit', config: rolling({ lifecycleHooks: [{ name: 'boot', transition: 'launching' }] }), path: 'rabbit.lifecycleHooks[0].transition', mentions: ['"launching"', 'launch, terminate'] },
  { title: 'lifecycle hook heartbeat below 30 s', service: 'rabbit', config: rolling({ lifecycleHooks: [{ name: 'boot', transition: 'launch', heartbeatTimeout: 10 }] }), path: 'rabbit.lifecycleHooks[0].heartbeatTimeout', mentions: ['10', '>= 30'] },
  { title: 'lifecycle hook default result', service: 'rabbit', config: rolling({ lifecycleHooks: [{ name: 'boot', transition: 'launch', defaultResult: 'RETRY' }] }), path: 'rabbit.lifecycleHooks[0].defaultResult', mentions: ['"RETRY"', 'CONTINUE, ABANDON'] },
  { title: 'lifecycle hooks with one name twice', service: 'rabbit', config: rolling({ lifecycleHooks: [{ name: 'boot', transition: 'launch' }, { name: 'boot', transition: 'terminate' }] }), path: 'rabbit.lifecycleHooks', mentions: ['its own name'] },
  { title: 'lifecycle hooks on an ab service', service: 'web', config: ab({ lifecycleHooks: [{ name: 'boot', transition: 'launch' }] }), path: 'web.lifecycleHooks', mentions: ['only to strategy "rolling"'] },
  { title: 'warm pool state', service: 'rabbit', config: rolling({ warmPool: { poolState: 'Frozen' } }), path: 'rabbit.warmPool.poolState', mentions: ['"Frozen"', 'Stopped, Running, Hibernated'] },
  { title: 'warm pool max prepared below min size', service: 'rabbit', config: rolling({ warmPool: { minSize: 3, maxPreparedCapacity: 2 } }), path: 'rabbit.warmPool.maxPreparedCapacity', mentions: ['at least minSize (3)'] },
  { title: 'warm pool typo', service: 'rabbit', config: rolling({ warmPool: { minsize: 3 } }), path: 'rabbit.warmPool.minsize', mentions: ['did you mean "minSize"'] },
  { title: 'service not a mapping', service: 'web', config: 'ab' as unknown as Record<string, unknown>, path: 'web.(service)', mentions: ['"ab"', 'mapping'] },
];

for (const c of invalid) {
  test(`config rejects ${c.title}`, (t) => {
    const { err, problems } = problemsOf({ [c.service]: c.config }, c.title.includes('stack name') ? 'dev.1' : 'qa');
    t.is(err.code, 'config.invalid');
    t.is(err.exit, ExitCode.badInput);
    t.is(err.source, 'user');
    const p = problems.find((x) => x.path === c.path);
    t.truthy(p, `no problem at ${c.path}; got ${problems.map((x) => x.path).join(', ')}`);
    t.is(p!.service, c.service);
    t.true(p!.message.includes(`service "${c.service}"`), p!.message);
    const key = c.path.slice(c.service.length + 1);
    t.true(p!.message.includes(key), `message names the key ${key}: ${p!.message}`);
    for (const m of c.mentions) t.true(p!.message.includes(m), `message mentions ${m}: ${p!.message}`);
    t.true(err.message.includes(p!.message), 'the thrown message carries each problem');
  });
}

test('config reports every problem at once, across services', (t) => {
  const { err, problems } = problemsOf({
    web: ab({ strategy: 'abb', capacity: -1 }),
    rabbit: rolling({ surge: -1, minHealty: 2, imageId: undefined }),
  });
  t.deepEqual(problems.map((p) => p.path).sort(), ['rabbit.imageId', 'rabbit.minHealty', 'rabbit.surge', 'web.capacity', 'web.strategy']);
  t.regex(err.message, /5 problems/);
  t.is(err.message.split('\n').length, 6);
});

test('config rejects a missing or empty services map', (t) => {
  for (const raw of [undefined, null, {}, [], 'nope', 42]) {
    const { problems } = problemsOf(raw);
    t.is(problems.length, 1);
    t.is(problems[0].key, 'asg-deploy:services');
  }
});

test('config rejects names that collide between services', (t) => {
  const { problems } = problemsOf({ one: rolling({ name: 'qa-shared' }), two: rolling({ name: 'qa-shared' }) });
  t.deepEqual(problems.map((p) => p.path), ['two.name']);
  t.regex(problems[0].message, /collides with service "one"/);
});

test('config accepts its value as JSON text (as `pulumi config get` prints it)', (t) => {
  const list = parseServices(JSON.stringify({ rabbit: rolling() }), 'qa');
  t.is(list[0].name, 'qa-rabbit');
  const { problems } = problemsOf('{not json');
  t.regex(problems[0].message, /not valid JSON/);
});

// ---- valid configs and defaults ----------------------------------------------------------------
test('config: docs/design.md example parses with every default filled in', (t) => {
  const list = parseServices({ web: ab(), rabbit: rolling() }, 'qa');
  t.deepEqual(list.map((s) => s.service), ['web', 'rabbit']);
  const web = byName(list, 'web');
  const rabbit = byName(list, 'rabbit');
  t.like(web, {
    strategy: 'ab', name: 'qa-web', capacity: 8, maxSize: 16, healthCheckGracePeriod: 300, launchConfiguration: false,
    healthCheckTimeoutSeconds: 600, securityGroupIds: [], tags: {}, availabilityZones: ['us-east-1a', 'us-east-1b'],
  });
  t.deepEqual(web.loadBalancer, {
    listeners: [{ port: 80, instancePort: 8080, protocol: 'http', instanceProtocol: 'http' }],
    healthCheck: { target: 'HTTP:8080/health', interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
    drainingTimeout: 300, crossZone: true, internal: false, securityGroups: [],
  });
  t.like(rabbit, { strategy: 'rolling', name: 'qa-rabbit', capacity: 3, minHealthy: 2, surge: 1, maxSize: 4, stepTimeoutSeconds: 600 });
  t.is(rabbit.loadBalancer, undefined, 'a rolling service has no ELB unless configured');
  t.is(rabbit.availabilityZones, undefined);
  t.is(rabbit.subnets, undefined);
});

test('config: a mixed instances policy reaches the service with AWS\'s defaults filled in (base 0, 100 % On-Demand, no Capacity Rebalancing); absent by default', (t) => {
  t.deepEqual(byName(parseServices({ rabbit: rolling({ mixedInstances: { instanceTypes: ['m5.large', 'c5.large'] } }) }, 'qa'), 'rabbit').mixedInstances, {
    instanceTypes: ['m5.large', 'c5.large'], onDemandBaseCapacity: 0, onDemandPercentageAboveBaseCapacity: 100, capacityRebalance: false,
  });
  t.deepEqual(byName(parseServices({ web: ab({ mixedInstances: { instanceTypes: ['m5.large'], onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 25, spotAllocationStrategy: 'Price-Capacity-Optimized', capacityRebalance: true } }) }, 'qa'), 'web').mixedInstances, {
    instanceTypes: ['m5.large'], onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 25, spotAllocationStrategy: 'price-capacity-optimized', capacityRebalance: true,
  });
  t.is(byName(parseServices({ rabbit: rolling() }, 'qa'), 'rabbit').mixedInstances, undefined);
});

test('config: ab keepOld (a duration) reaches the service as keepOldSeconds; absent by default', (t) => {
  t.like(byName(parseServices({ web: ab({ keepOld: '5m' }) }, 'qa'), 'web'), { strategy: 'ab', keepOldSeconds: 300 });
  t.is((byName(parseServices({ web: ab() }, 'qa'), 'web') as { keepOldSeconds?: number }).keepOldSeconds, undefined);
});

test('config defaults: rolling minHealthy, surge and maxSize; ab load balancer', (t) => {
  const [r] = parseServices({ q: { strategy: 'rolling', imageId: 'ami-0abc1234', instanceType: 't3.micro', capacity: 5 } }, 'dev');
  t.like(r, { name: 'dev-q', surge: 1, minHealthy: 5, maxSize: 6 });
  const [r0] = parseServices({ q: { strategy: 'rolling', imageId: 'ami-0abc1234', instanceType: 't3.micro', capacity: 5, surge: 0 } }, 'dev');
  t.like(r0, { surge: 0, minHealthy: 4, maxSize: 5 });
  const [w] = parseServices({ w: { strategy: 'ab', imageId: 'ami-0abc1234', instanceType: 't3.micro', capacity: 2, subnets: ['subnet-0abc1234'] } }, 'dev');
  t.deepEqual(w.loadBalancer, {
    listeners: [{ port: 80, instancePort: 80, protocol: 'http', instanceProtocol: 'http' }],
    healthCheck: { target: 'TCP:80', interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
    drainingTimeout: 300, crossZone: true, internal: false, securityGroups: [],
  });
  t.deepEqual(w.subnets, ['subnet-0abc1234']);
  t.is(w.maxSize, 4);
});

test('config accepts overrides, durations, percentages and case-insensitive enums', (t) => {
  const [r] = parseServices({
    rabbit: rolling({
      name: 'rabbitmq', strategy: 'Rolling', batchSize: '50%', stepTimeout: '15m', healthCheckGracePeriod: '2m', maxSize: 6,
      keyName: 'ops', securityGroupIds: ['sg-0abc1234'], iamInstanceProfile: 'rabbit-profile', userData: '#!/bin/sh\necho hi\n',
      tags: { team: 'messaging', cost: 42 }, launchConfiguration: true,
      loadBalancer: { listeners: [{ port: 443, instancePort: 5671, protocol: 'SSL', sslCertificateId: 'arn:aws:acm:us-east-1:1:certificate/x' }], drainingTimeout: 0, crossZone: false },
    }),
  }, 'qa');
  t.like(r, {
    strategy: 'rolling', name: 'rabbitmq', batchSize: '50%', stepTimeoutSeconds: 900, healthCheckGracePeriod: 120, maxSize: 6,
    keyName: 'ops', iamInstanceProfile: 'rabbit-profile', launchConfiguration: true, tags: { team: 'messaging', cost: '42' },
  });
  t.deepEqual(r.loadBalancer?.listeners, [{ port: 443, instancePort: 5671, protocol: 'ssl', instanceProtocol: 'ssl', sslCertificateId: 'arn:aws:acm:us-east-1:1:certificate/x' }]);
  t.like(r.loadBalancer!, { drainingTimeout: 0, crossZone: false, healthCheck: { target: 'TCP:5671' } });
});

test('Pulumi.qa.yaml is valid: one rolling 3-node quorum (minHealthy 2) and one A/B service', (t) => {
  const doc = yaml.load(fs.readFileSync(path.join(ROOT, 'Pulumi.qa.yaml'), 'utf8')) as { config: Record<string, unknown> };
  const list = parseServices(doc.config['asg-deploy:services'], 'qa');
  const rollingServices = list.filter((s) => s.strategy === 'rolling');
  const abServices = list.filter((s) => s.strategy === 'ab');
  t.is(rollingServices.length, 1);
  t.is(abServices.length, 1);
  t.like(rollingServices[0], { capacity: 3, minHealthy: 2, surge: 1 });
  t.true(doc.config['aws:region'] !== undefined);
});

test('suggestKey: likely typos only', (t) => {
  t.is(suggestKey('minhealthy', ['minHealthy', 'surge']), 'minHealthy');
  t.is(suggestKey('sruge', ['minHealthy', 'surge']), 'surge');
  t.is(suggestKey('colour', ['minHealthy', 'surge']), undefined);
});

// ---- tag limits (issue 13, defect 4): caught at validation, not at `up` ---------------------------
const tags = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`t${i}`, 'v']));
const lbRolling = (extra: Record<string, unknown> = {}) => rolling({ loadBalancer: (ab().loadBalancer), ...extra });
const accepted = (raw: unknown, stack = 'qa') => {
  parseServices(raw, stack);
  return true;
};

for (const c of [
  // A/B: each color's classic ELB carries the user's tags + Name, stack, service, color; ELB limit 10 (API reference).
  { title: 'A/B, 6 tags: its ELBs carry 10', raw: { web: ab({ tags: tags(6) }) }, ok: true },
  { title: 'A/B, 7 tags: its ELBs would carry 11 > 10', raw: { web: ab({ tags: tags(7) }) }, ok: false, mentions: ['classic ELB qa-web-a would carry 11', 'limit is 10', 'AddTags', 'remove 1 tag'] },
  // Rolling with a classic ELB: user + Name, stack, service.
  { title: 'rolling + ELB, 7 tags: 10', raw: { rabbit: lbRolling({ tags: tags(7) }) }, ok: true },
  { title: 'rolling + ELB, 9 tags: 12 > 10', raw: { rabbit: lbRolling({ tags: tags(9) }) }, ok: false, mentions: ['classic ELB qa-rabbit would carry 12', 'remove 2 tags'] },
  // Rolling without ELB: the group carries user + Name, stack, service + 4 kept for the tool's runtime tags; limit 50.
  { title: 'rolling, 43 tags: the group carries 50', raw: { rabbit: rolling({ tags: tags(43) }) }, ok: true },
  { title: 'rolling, 44 tags: the group would carry 51', raw: { rabbit: rolling({ tags: tags(44) }) }, ok: false, mentions: ['Auto Scaling group qa-rabbit would carry 51', 'asg-deploy:restore', 'limit is 50'] },
  // Lengths: 256 for EC2 and Auto Scaling values, 255 and key 127 for classic ELBs (user guide).
  { title: 'a 256-character value without an ELB', raw: { rabbit: rolling({ tags: { team: 'x'.repeat(256) } }) }, ok: true },
  { title: 'a 257-character value', raw: { rabbit: rolling({ tags: { team: 'x'.repeat(257) } }) }, ok: false, mentions: ['tags.team: the value is 257 characters', 'at most 256'] },
  { title: 'a 256-character value on a service with an ELB', raw: { rabbit: lbRolling({ tags: { team: 'x'.repeat(256) } }) }, ok: false, mentions: ['classic ELB qa-rabbit allows at most 255'] },
  { title: 'a 128-character key on a service with an ELB', raw: { rabbit: lbRolling({ tags: { ['k'.repeat(128)]: 'v' } }) }, ok: false, mentions: ['the key is 128 characters', 'at most 127'] },
  { title: 'a 128-character key without an ELB', raw: { rabbit: rolling({ tags: { ['k'.repeat(128)]: 'v' } }) }, ok: true },
]) {
  test(`tag limits: ${c.title}`, (t) => {
    if (c.ok) {
      t.true(accepted(c.raw));
      return;
    }
    const { err, problems } = problemsOf(c.raw);
    t.is(err.exit, ExitCode.badInput);
    t.is(problems.length, 1, problems.map((p) => p.message).join('\n'));
    for (const m of c.mentions ?? []) t.true(problems[0].message.includes(m), `mentions ${m}: ${problems[0].message}`);
  });
}

test('tag limits: the stack name the program writes as a tag value is checked too', (t) => {
  const { problems } = problemsOf({ rabbit: lbRolling({ name: 'rab' }) }, 's'.repeat(256));
  t.true(problems.some((p) => /asg-deploy:stack tag the program adds would be 256 characters/.test(p.message)), problems.map((p) => p.message).join('\n'));
});

test('uncoveredToolTags: the runtime group tags the AWS provider\'s ignoreTags must cover', (t) => {
  const all = ['asg-deploy:restore', 'asg-deploy:protected', 'asg-deploy:ab', 'asg-deploy:lock'];
  t.deepEqual(uncoveredToolTags(undefined), all);
  t.deepEqual(uncoveredToolTags({ keys: ['asg-deploy:restore', 'asg-deploy:lock'] }), ['asg-deploy:protected', 'asg-deploy:ab']);
  t.deepEqual(uncoveredToolTags({ keyPrefixes: ['asg-deploy:'] }), []);
  t.deepEqual(uncoveredToolTags(JSON.stringify({ keys: all })), [], 'Pulumi passes object config to the program as JSON text');
  const qa = yaml.load(fs.readFileSync(path.join(ROOT, 'Pulumi.qa.yaml'), 'utf8')) as { config: Record<string, unknown> };
  t.deepEqual(uncoveredToolTags(qa.config['aws:ignoreTags']), [], 'the worked example covers them');
});

// ---- values that may be secret are never echoed (issue 19) ---------------------------------------
test('config: user data over 16 KB is reported by its size, never its text', (t) => {
  const userData = `#!/bin/sh\nexport DB_PASSWORD=hunter2-s3cret\n${'x'.repeat(17000)}`;
  const { err, problems } = problemsOf({ rabbit: rolling({ userData }) });
  const p = problems.find((x) => x.path === 'rabbit.userData')!;
  t.truthy(p);
  t.regex(p.message, /userData = "\d+ bytes" is not allowed; user data is limited to 16 KB/);
  t.false(err.message.includes('hunter2'), err.message);
  t.false(JSON.stringify(problems).includes('hunter2'));
});

test('config: a wrong value in a secret-capable key is caught with the other problems of its service', (t) => {
  const { problems } = problemsOf({ rabbit: rolling({ userData: 42, tags: { team: ['a'] }, capacity: -1 }) });
  t.deepEqual(problems.map((p) => p.path).sort(), ['rabbit.capacity', 'rabbit.tags.team', 'rabbit.userData']);
});

test('config: alarms are carried to the service and its manifest (both strategies); absent, none', async (t) => {
  const { serviceManifest } = await import('../../infra/manifest');
  const [r, w, plain] = parseServices({
    rabbit: rolling({ alarms: ['qa-rabbit-5xx', 'qa slo: p99 > 300 ms'] }),
    web: ab({ alarms: ['qa-web-5xx'] }),
    plain: rolling(),
  }, 'qa');
  t.deepEqual(r.alarms, ['qa-rabbit-5xx', 'qa slo: p99 > 300 ms']);
  t.deepEqual(w.alarms, ['qa-web-5xx']);
  t.false('alarms' in plain);
  const lt = { launchTemplate: { id: 'lt-1', name: 'x', version: 1 } };
  t.deepEqual(serviceManifest(r, lt).alarms, ['qa-rabbit-5xx', 'qa slo: p99 > 300 ms']);
  t.deepEqual(serviceManifest(w, lt).alarms, ['qa-web-5xx']);
  t.false('alarms' in serviceManifest(plain, lt));
});
