/**
 * The Pulumi program under `pulumi.runtime.setMocks`: every declared resource (type, name, inputs)
 * and its resource options (seen through a stack transformation) are recorded and asserted.
 * Pulumi's runtime state is global, so these tests run serially.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as yaml from 'js-yaml';
import * as pulumi from '@pulumi/pulumi';
import { parseServices, type ServiceConfig } from '../../infra/config';
import { declareServices, TAG_COLOR, TAG_SERVICE, TAG_STACK } from '../../infra/program';
import { isServicesManifest, type AbServiceManifest, type RollingServiceManifest, type ServicesManifest } from '../../infra/manifest';
import { DeployError } from '../../orchestrator/errors';

const LT = 'aws:ec2/launchTemplate:LaunchTemplate';
const LC = 'aws:ec2/launchConfiguration:LaunchConfiguration';
const ASG = 'aws:autoscaling/group:Group';
const ELB = 'aws:elb/loadBalancer:LoadBalancer';
const AZ_CALL = 'aws:index/getAvailabilityZones:getAvailabilityZones';

interface Declared {
  type: string;
  name: string;
  inputs: Record<string, any>;
}
interface Run {
  resources: Declared[];
  options: Map<string, pulumi.CustomResourceOptions>;
  calls: string[];
  manifest: ServicesManifest;
}

/**
 * A realistic mock provider: a launch template reports `latestVersion`/`defaultVersion` (as AWS
 * does: the number of the newest version), a launch configuration gets a generated name from its
 * prefix, ELBs a DNS name, the AZ lookup the region's zones.
 */
function recordingMocks(resources: Declared[], calls: string[], latestVersion: number): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      if (args.type === 'pulumi:pulumi:Stack') return { id: undefined, state: {} };
      resources.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Record<string, any> = { ...args.inputs, arn: `arn:aws:mock:${args.type}:${args.name}` };
      const id = args.type === LT ? `lt-0${args.name.length}abc${latestVersion}` : `${args.name}-id`;
      if (args.type === LT) Object.assign(state, { latestVersion, defaultVersion: latestVersion });
      if (args.type === LC) state.name = `${args.inputs.namePrefix}20261122000000000000000001`;
      if (args.type === ELB) state.dnsName = `${args.inputs.name}-123.us-east-1.elb.amazonaws.com`;
      return { id: args.type === LC ? state.name : id, state };
    },
    call(args) {
      calls.push(args.token);
      if (args.token === AZ_CALL) return { names: ['us-east-1c', 'us-east-1a', 'us-east-1b'], zoneIds: ['use1-az1', 'use1-az2', 'use1-az4'] };
      return {};
    },
  };
}

/** Run `body` as a Pulumi program under mocks; return what it declared and its `services` output. */
async function runUnderMocks(body: () => Record<string, unknown>, opts: { stack?: string; latestVersion?: number; config?: Record<string, string> } = {}): Promise<Run> {
  const resources: Declared[] = [];
  const calls: string[] = [];
  const options = new Map<string, pulumi.CustomResourceOptions>();
  await pulumi.runtime.setMocks(recordingMocks(resources, calls, opts.latestVersion ?? 1), 'asg-deploy', opts.stack ?? 'qa', false);
  pulumi.runtime.setAllConfig(opts.config ?? {});
  let outputs: Record<string, unknown> | undefined;
  try {
    outputs = await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((a) => {
        options.set(`${a.type}::${a.name}`, a.opts as pulumi.CustomResourceOptions);
        return undefined;
      });
      return body();
    });
  } finally {
    // As the runtime does when a program ends: wait for every outstanding registration.
    await pulumi.runtime.disconnect();
  }
  return { resources, options, calls, manifest: outputs?.services as ServicesManifest };
}

function declare(raw: unknown, opts: { stack?: string; latestVersion?: number } = {}): Promise<Run> {
  const stack = opts.stack ?? 'qa';
  return runUnderMocks(() => ({ services: declareServices(parseServices(raw, stack), stack).manifest }), opts);
}

const of = (run: Run, type: string) => run.resources.filter((r) => r.type === type);
const one = (run: Run, type: string, name: string): Declared => {
  const found = run.resources.filter((r) => r.type === type && r.name === name);
  if (found.length !== 1) throw new Error(`expected one ${type} ${name}, found ${found.length}: ${run.resources.map((r) => `${r.type}/${r.name}`).join(', ')}`);
  return found[0];
};
const tagsOf = (asg: Declared): Record<string, { value: string; propagateAtLaunch: boolean }> =>
  Object.fromEntries((asg.inputs.tags as Array<{ key: string; value: string; propagateAtLaunch: boolean }>).map((t) => [t.key, { value: t.value, propagateAtLaunch: t.propagateAtLaunch }]));

/** Deep search for a key anywhere in an input tree. */
function hasKeyDeep(value: unknown, key: string): boolean {
  if (Array.isArray(value)) return value.some((v) => hasKeyDeep(v, key));
  if (value && typeof value === 'object') return Object.entries(value).some(([k, v]) => k === key || hasKeyDeep(v, key));
  return false;
}

const WEB = {
  strategy: 'ab', imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 8,
  availabilityZones: ['us-east-1a', 'us-east-1b'],
  loadBalancer: {
    listeners: [{ port: 80, instancePort: 8080, protocol: 'http' }],
    healthCheck: { target: 'HTTP:8080/health', interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 },
    drainingTimeout: 300,
  },
};
const RABBIT = { strategy: 'rolling', imageId: 'ami-0123456789abcdef0', instanceType: 't3.medium', capacity: 3, minHealthy: 2, surge: 1 };

test.serial('rolling with lifecycleHooks and warmPool: one aws.autoscaling.LifecycleHook per hook on the group, the group\'s warmPool block', async (t) => {
  const run = await declare({
    rabbit: {
      ...RABBIT,
      lifecycleHooks: [{ name: 'bootstrap', transition: 'launch', heartbeatTimeout: '5m' }, { name: 'drain', transition: 'terminate', defaultResult: 'CONTINUE' }],
      warmPool: { poolState: 'Running', minSize: 1, maxPreparedCapacity: 6 },
    },
  });
  const HOOK = 'aws:autoscaling/lifecycleHook:LifecycleHook';
  t.deepEqual(of(run, HOOK).map((h) => [h.name, h.inputs.name, h.inputs.autoscalingGroupName, h.inputs.lifecycleTransition, h.inputs.heartbeatTimeout, h.inputs.defaultResult]), [
    ['qa-rabbit-bootstrap', 'bootstrap', 'qa-rabbit', 'autoscaling:EC2_INSTANCE_LAUNCHING', 300, 'ABANDON'],
    ['qa-rabbit-drain', 'drain', 'qa-rabbit', 'autoscaling:EC2_INSTANCE_TERMINATING', 3600, 'CONTINUE'],
  ]);
  t.deepEqual(one(run, ASG, 'qa-rabbit').inputs.warmPool, { poolState: 'Running', minSize: 1, maxGroupPreparedCapacity: 6, instanceReusePolicy: { reuseOnScaleIn: false } });
  const plain = await declare({ rabbit: RABBIT });
  t.is(one(plain, ASG, 'qa-rabbit').inputs.warmPool, undefined);
  t.is(of(plain, HOOK).length, 0);
});

test.serial('rolling: one launch template and one ASG pinned to the latest version as a number, EC2 health, no refresh', async (t) => {
  const run = await declare({ rabbit: RABBIT }, { latestVersion: 7 });
  t.deepEqual(run.resources.map((r) => `${r.type}/${r.name}`).sort(), [`${ASG}/qa-rabbit`, `${LT}/qa-rabbit`].sort());

  const lt = one(run, LT, 'qa-rabbit');
  t.like(lt.inputs, { name: 'qa-rabbit', imageId: 'ami-0123456789abcdef0', instanceType: 't3.medium', updateDefaultVersion: true });
  t.like(lt.inputs.tags, { [TAG_STACK]: 'qa', [TAG_SERVICE]: 'rabbit' });

  const asg = one(run, ASG, 'qa-rabbit');
  t.is(asg.inputs.name, 'qa-rabbit');
  t.deepEqual(asg.inputs.launchTemplate, { id: 'lt-09abc7', version: '7' }, 'pinned to the template id and its latest version number');
  t.regex(asg.inputs.launchTemplate.version, /^[1-9]\d*$/);
  t.is(asg.inputs.launchConfiguration, undefined);
  t.like(asg.inputs, {
    desiredCapacity: 3, minSize: 2, maxSize: 4, healthCheckType: 'EC2', healthCheckGracePeriod: 300,
    terminationPolicies: ['OldestLaunchTemplate', 'OldestInstance'], waitForCapacityTimeout: '0',
  });
  t.false(hasKeyDeep(asg.inputs, 'instanceRefresh'), 'AWS must not roll anything itself');
  t.is(asg.inputs.loadBalancers, undefined);
  // Neither AZs nor subnets configured: the region's available zones, looked up once, sorted.
  t.deepEqual(asg.inputs.availabilityZones, ['us-east-1a', 'us-east-1b', 'us-east-1c']);
  t.deepEqual(run.calls, [AZ_CALL]);
  t.is(asg.inputs.vpcZoneIdentifiers, undefined);
  const tags = tagsOf(asg);
  t.deepEqual(tags[TAG_STACK], { value: 'qa', propagateAtLaunch: true });
  t.deepEqual(tags[TAG_SERVICE], { value: 'rabbit', propagateAtLaunch: true });
  t.deepEqual(tags.Name, { value: 'qa-rabbit', propagateAtLaunch: true });
  t.false(TAG_COLOR in tags);
  // Rolling capacity stays Pulumi's; only suspended processes are the orchestrator's.
  t.deepEqual(run.options.get(`${ASG}::qa-rabbit`)?.ignoreChanges, ['suspendedProcesses']);
});

test.serial('rolling with a mixed instances policy: the policy carries the pinned template (no launchTemplate of its own), instance-type overrides, the distribution, Capacity Rebalancing', async (t) => {
  const run = await declare({ rabbit: { ...RABBIT, mixedInstances: { instanceTypes: ['m5.large', 'c5.large'], onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 50, spotAllocationStrategy: 'price-capacity-optimized', capacityRebalance: true } } }, { latestVersion: 4 });
  const asg = one(run, ASG, 'qa-rabbit');
  t.is(asg.inputs.launchTemplate, undefined);
  t.deepEqual(asg.inputs.mixedInstancesPolicy, {
    launchTemplate: { launchTemplateSpecification: { launchTemplateId: 'lt-09abc4', version: '4' }, overrides: [{ instanceType: 'm5.large' }, { instanceType: 'c5.large' }] },
    instancesDistribution: { onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 50, spotAllocationStrategy: 'price-capacity-optimized' },
  });
  t.is(asg.inputs.capacityRebalance, true);
  t.false(hasKeyDeep(asg.inputs, 'weightedCapacity'), 'no weights: the group counts instances');
  // Without one: the plain template, Capacity Rebalancing off.
  const plain = one(await declare({ rabbit: RABBIT }, { latestVersion: 4 }), ASG, 'qa-rabbit');
  t.is(plain.inputs.mixedInstancesPolicy, undefined);
  t.is(plain.inputs.capacityRebalance, false);
});

test.serial('rolling with a classic ELB: ELB health check type, ELB attached, health check and draining', async (t) => {
  const run = await declare({
    rabbit: { ...RABBIT, subnets: ['subnet-0aaa1111', 'subnet-0bbb2222'], loadBalancer: { listeners: [{ port: 5672, instancePort: 5672, protocol: 'tcp' }], healthCheck: { target: 'TCP:5672' }, drainingTimeout: 60 } },
  });
  const elb = one(run, ELB, 'qa-rabbit');
  t.like(elb.inputs, {
    name: 'qa-rabbit', subnets: ['subnet-0aaa1111', 'subnet-0bbb2222'], connectionDraining: true, connectionDrainingTimeout: 60, crossZoneLoadBalancing: true,
    healthCheck: { target: 'TCP:5672', interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
  });
  t.deepEqual(elb.inputs.listeners, [{ lbPort: 5672, lbProtocol: 'tcp', instancePort: 5672, instanceProtocol: 'tcp' }]);
  t.is(elb.inputs.availabilityZones, undefined);
  const asg = one(run, ASG, 'qa-rabbit');
  t.is(asg.inputs.healthCheckType, 'ELB');
  t.deepEqual(asg.inputs.loadBalancers, ['qa-rabbit']);
  t.deepEqual(asg.inputs.vpcZoneIdentifiers, ['subnet-0aaa1111', 'subnet-0bbb2222']);
  t.is(asg.inputs.availabilityZones, undefined);
  t.deepEqual(run.calls, [], 'no AZ lookup when subnets are given');
  const m = run.manifest.services[0] as RollingServiceManifest;
  t.deepEqual(m.elbNames, ['qa-rabbit']);
  t.is(m.healthCheckType, 'ELB');
});

test.serial('ab: a/b groups each with its own classic ELB; a gets capacity, b gets 0; capacity owned by the orchestrator', async (t) => {
  const run = await declare({ web: WEB }, { latestVersion: 3 });
  t.deepEqual(run.resources.map((r) => `${r.type}/${r.name}`).sort(), [
    `${ASG}/qa-web-a`, `${ASG}/qa-web-b`, `${ELB}/qa-web-a`, `${ELB}/qa-web-b`, `${LT}/qa-web`,
  ].sort());
  for (const color of ['a', 'b'] as const) {
    const name = `qa-web-${color}`;
    const elb = one(run, ELB, name);
    t.like(elb.inputs, {
      name, availabilityZones: ['us-east-1a', 'us-east-1b'], connectionDraining: true, connectionDrainingTimeout: 300, crossZoneLoadBalancing: true,
      healthCheck: { target: 'HTTP:8080/health', interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
    });
    t.deepEqual(elb.inputs.listeners, [{ lbPort: 80, lbProtocol: 'http', instancePort: 8080, instanceProtocol: 'http' }]);

    const asg = one(run, ASG, name);
    const size = color === 'a' ? 8 : 0;
    t.like(asg.inputs, {
      name, desiredCapacity: size, minSize: size, maxSize: 16, healthCheckType: 'ELB', waitForCapacityTimeout: '0',
      terminationPolicies: ['OldestLaunchTemplate', 'OldestInstance'], availabilityZones: ['us-east-1a', 'us-east-1b'],
    });
    t.deepEqual(asg.inputs.loadBalancers, [name], 'each color behind its own ELB');
    t.deepEqual(asg.inputs.launchTemplate, { id: 'lt-06abc3', version: '3' });
    t.false(hasKeyDeep(asg.inputs, 'instanceRefresh'));
    t.deepEqual(tagsOf(asg)[TAG_COLOR], { value: color, propagateAtLaunch: true });
    const ignored = run.options.get(`${ASG}::${name}`)?.ignoreChanges ?? [];
    t.true(ignored.includes('desiredCapacity') && ignored.includes('minSize'), `a later pulumi up must not fight a rollout: ${ignored.join(', ')}`);
    t.false(ignored.includes('launchTemplate'), 'template changes still reach both colors');
    t.true(ignored.includes('maxSize'), '`ab` raises max when a color must hold more; an up must not lower it under a rollout');
  }
  t.deepEqual(run.calls, []);
});

test.serial('ab: ignoreChanges covers exactly what capacity feeds (desired/min), so a later up never fights a rollout', async (t) => {
  // With ignoreChanges the engine keeps the live desired/min; prove the option covers exactly the
  // properties capacity feeds: the inputs differ only in desired/min (and maxSize via its default).
  const small = await declare({ web: { ...WEB, capacity: 2, maxSize: 16 } });
  const big = await declare({ web: { ...WEB, capacity: 8, maxSize: 16 } });
  const a1 = one(small, ASG, 'qa-web-a').inputs;
  const a2 = one(big, ASG, 'qa-web-a').inputs;
  const changed = Object.keys({ ...a1, ...a2 }).filter((k) => JSON.stringify(a1[k]) !== JSON.stringify(a2[k]));
  t.deepEqual(changed.sort(), ['desiredCapacity', 'minSize']);
  const ignored = big.options.get(`${ASG}::qa-web-a`)?.ignoreChanges ?? [];
  for (const k of changed) t.true(ignored.includes(k));
});

test.serial('manifest: versioned, per service names, strategy, launch template id and numeric version, rollout settings', async (t) => {
  const run = await declare({ web: { ...WEB, instanceCountStep: 2, healthCheckTimeout: '5m' }, rabbit: { ...RABBIT, batchSize: 1, stepTimeout: 900 } }, { stack: 'prod', latestVersion: 12 });
  t.true(isServicesManifest(run.manifest));
  t.is(run.manifest.version, 1);
  t.is(run.manifest.stack, 'prod');
  t.deepEqual(run.manifest.services.map((s) => s.service), ['web', 'rabbit']);
  const web = run.manifest.services[0] as AbServiceManifest;
  const ltWeb = run.resources.find((r) => r.type === LT && r.name === 'prod-web');
  t.truthy(ltWeb);
  t.deepEqual(web, {
    service: 'web', strategy: 'ab', name: 'prod-web', imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 8, maxSize: 16,
    healthCheckType: 'ELB', healthCheckGracePeriod: 300,
    launchTemplate: { id: 'lt-08abc12', name: 'prod-web', version: 12 },
    environment: 'prod-web', asgNames: { a: 'prod-web-a', b: 'prod-web-b' }, elbNames: { a: 'prod-web-a', b: 'prod-web-b' },
    capacityOwner: 'orchestrator',
    rollout: { healthCheckTimeoutSeconds: 300, instanceCountStep: 2, drainingTimeoutSeconds: 300 },
  });
  const rabbit = run.manifest.services[1] as RollingServiceManifest;
  t.deepEqual(rabbit, {
    service: 'rabbit', strategy: 'rolling', name: 'prod-rabbit', imageId: 'ami-0123456789abcdef0', instanceType: 't3.medium', capacity: 3, maxSize: 4,
    healthCheckType: 'EC2', healthCheckGracePeriod: 300,
    launchTemplate: { id: 'lt-011abc12', name: 'prod-rabbit', version: 12 },
    asgName: 'prod-rabbit', elbNames: [],
    rollout: { minHealthy: 2, surge: 1, batchSize: 1, stepTimeoutSeconds: 900 },
  });
  t.is(typeof rabbit.launchTemplate!.version, 'number');
  // The names in the manifest are the names actually declared.
  t.deepEqual(of(run, ASG).map((r) => r.inputs.name).sort(), ['prod-rabbit', 'prod-web-a', 'prod-web-b']);
});

test.serial('names: default <stack>-<service>, overridable with name', async (t) => {
  const run = await declare({ web: { ...WEB, name: 'storefront' }, rabbit: RABBIT }, { stack: 'staging' });
  t.deepEqual(of(run, ASG).map((r) => r.name).sort(), ['staging-rabbit', 'storefront-a', 'storefront-b']);
  t.deepEqual(of(run, ELB).map((r) => r.inputs.name).sort(), ['storefront-a', 'storefront-b']);
  t.deepEqual(of(run, LT).map((r) => r.inputs.name).sort(), ['staging-rabbit', 'storefront']);
  const web = run.manifest.services.find((s) => s.service === 'web') as AbServiceManifest;
  t.is(web.environment, 'storefront');
});

test.serial('launch template carries key, security groups, instance profile, base64 user data and tags', async (t) => {
  const run = await declare({
    rabbit: { ...RABBIT, keyName: 'ops', securityGroupIds: ['sg-0abc1234'], iamInstanceProfile: 'rabbit-node', userData: '#!/bin/sh\necho hello\n', tags: { team: 'messaging' } },
    web: { ...WEB, iamInstanceProfile: 'arn:aws:iam::123456789012:instance-profile/web' },
  });
  const lt = one(run, LT, 'qa-rabbit');
  t.like(lt.inputs, { keyName: 'ops', vpcSecurityGroupIds: ['sg-0abc1234'], iamInstanceProfile: { name: 'rabbit-node' } });
  t.is(Buffer.from(lt.inputs.userData, 'base64').toString('utf8'), '#!/bin/sh\necho hello\n');
  t.deepEqual(lt.inputs.tags, { team: 'messaging', [TAG_STACK]: 'qa', [TAG_SERVICE]: 'rabbit' });
  t.deepEqual(lt.inputs.tagSpecifications.map((s: { resourceType: string }) => s.resourceType), ['instance', 'volume']);
  t.deepEqual(tagsOf(one(run, ASG, 'qa-rabbit')).team, { value: 'messaging', propagateAtLaunch: true });
  t.deepEqual(one(run, LT, 'qa-web').inputs.iamInstanceProfile, { arn: 'arn:aws:iam::123456789012:instance-profile/web' });
});

test.serial('legacy launchConfiguration: a launch configuration instead of a template, OldestLaunchConfiguration first', async (t) => {
  const run = await declare({
    rabbit: { ...RABBIT, launchConfiguration: true, securityGroupIds: ['sg-0abc1234'], userData: 'echo hi' },
    web: { ...WEB, launchConfiguration: true },
  });
  t.is(of(run, LT).length, 0, 'no launch template');
  const lcs = of(run, LC);
  t.deepEqual(lcs.map((r) => r.inputs.namePrefix).sort(), ['qa-rabbit-', 'qa-web-']);
  t.like(one(run, LC, 'qa-rabbit').inputs, { imageId: 'ami-0123456789abcdef0', instanceType: 't3.medium', securityGroups: ['sg-0abc1234'], userData: 'echo hi' });
  for (const name of ['qa-rabbit', 'qa-web-a', 'qa-web-b']) {
    const asg = one(run, ASG, name);
    t.true(String(asg.inputs.launchConfiguration).startsWith(name.replace(/-[ab]$/, '') + '-'), name);
    t.is(asg.inputs.launchTemplate, undefined);
    t.deepEqual(asg.inputs.terminationPolicies, ['OldestLaunchConfiguration', 'OldestInstance']);
    t.false(hasKeyDeep(asg.inputs, 'instanceRefresh'));
  }
  const rabbit = run.manifest.services.find((s) => s.service === 'rabbit')!;
  t.is(rabbit.launchConfigurationName, 'qa-rabbit-20261122000000000000000001');
  t.is(rabbit.launchTemplate, undefined);
});

test.serial('no instanceRefresh on any declared resource, for both strategies and the legacy option', async (t) => {
  const run = await declare({ web: WEB, rabbit: RABBIT, old: { ...RABBIT, launchConfiguration: true } });
  t.true(run.resources.length >= 8);
  for (const r of run.resources) t.false(hasKeyDeep(r.inputs, 'instanceRefresh'), `${r.type}/${r.name}`);
  for (const r of of(run, ASG)) {
    const v = r.inputs.launchTemplate?.version;
    if (v !== undefined) t.false(/^\$/.test(v), `${r.name} pinned, not ${v}`);
  }
});

test.serial('invalid config is rejected before any resource is declared', async (t) => {
  const resources: Declared[] = [];
  await pulumi.runtime.setMocks(recordingMocks(resources, [], 1), 'asg-deploy', 'qa', false);
  const bad = [
    { web: { ...WEB, strategy: 'canary' } },
    { rabbit: { ...RABBIT, imageId: undefined } },
    { rabbit: { ...RABBIT, capacity: -1 } },
    { rabbit: { ...RABBIT, minHealthy: 5 } },
    { rabbit: { ...RABBIT, surge: -1 } },
    { rabbit: { ...RABBIT, subnets: ['subnet-0abc1234'], availabilityZones: ['us-east-1a'] } },
    { rabbit: { ...RABBIT, minHealty: 2 } },
    // one good service and one bad: nothing at all is declared
    { good: RABBIT, web: { ...WEB, capacity: 'many' } },
  ];
  for (const raw of bad) {
    let configs: ServiceConfig[] | undefined;
    const err = t.throws(() => {
      configs = parseServices(raw, 'qa');
      declareServices(configs, 'qa');
    });
    t.true(err instanceof DeployError);
    t.is(configs, undefined);
  }
  t.deepEqual(resources, []);
});

test.serial('a minimal mock that only echoes inputs still yields pinned numeric versions and a full manifest', async (t) => {
  const seen: Declared[] = [];
  await pulumi.runtime.setMocks({
    newResource: (a) => { seen.push({ type: a.type, name: a.name, inputs: a.inputs }); return { id: `${a.name}_id`, state: a.inputs }; },
    call: (a) => a.inputs,
  }, 'asg-deploy', 'qa', false);
  let manifest: ServicesManifest | undefined;
  try {
    const out = await pulumi.runtime.runInPulumiStack(async () => ({ services: declareServices(parseServices({ web: WEB, rabbit: RABBIT }, 'qa'), 'qa').manifest }));
    manifest = out?.services as ServicesManifest;
  } finally {
    await pulumi.runtime.disconnect();
  }
  for (const asg of seen.filter((r) => r.type === ASG)) t.is(asg.inputs.launchTemplate.version, '1', asg.name);
  t.deepEqual(manifest!.services.map((s) => s.launchTemplate?.version), [1, 1]);
  t.deepEqual(one({ resources: seen } as Run, ASG, 'qa-rabbit').inputs.availabilityZones, []);
});

// ---- the program itself: infra/index.ts with config set through the runtime -------------------------
const INDEX = path.resolve(__dirname, '..', '..', 'infra', 'index.ts');

async function loadIndex(services: unknown, stack = 'qa'): Promise<Run> {
  delete require.cache[require.resolve(INDEX)];
  return runUnderMocks(() => require(INDEX), {
    stack,
    latestVersion: 4,
    config: { 'asg-deploy:services': JSON.stringify(services), 'aws:region': 'us-east-1' },
  });
}

test.serial('infra/index.ts reads asg-deploy:services from stack config and exports the manifest', async (t) => {
  const run = await loadIndex({ web: WEB, rabbit: RABBIT }, 'qa');
  t.deepEqual(run.resources.map((r) => `${r.type}/${r.name}`).sort(), [
    `${ASG}/qa-rabbit`, `${ASG}/qa-web-a`, `${ASG}/qa-web-b`, `${ELB}/qa-web-a`, `${ELB}/qa-web-b`, `${LT}/qa-rabbit`, `${LT}/qa-web`,
  ].sort());
  t.true(isServicesManifest(run.manifest));
  t.is(run.manifest.stack, 'qa');
  const rabbit = run.manifest.services.find((s) => s.service === 'rabbit') as RollingServiceManifest;
  t.like(rabbit, { asgName: 'qa-rabbit', launchTemplate: { name: 'qa-rabbit', version: 4 }, rollout: { minHealthy: 2, surge: 1 } });
  const web = run.manifest.services.find((s) => s.service === 'web') as AbServiceManifest;
  t.like(web, { asgNames: { a: 'qa-web-a', b: 'qa-web-b' }, elbNames: { a: 'qa-web-a', b: 'qa-web-b' }, launchTemplate: { version: 4 } });
  t.deepEqual(one(run, ASG, 'qa-web-b').inputs.launchTemplate.version, '4');
});

test.serial('infra/index.ts with the worked example Pulumi.qa.yaml', async (t) => {
  const doc = yaml.load(fs.readFileSync(path.resolve(__dirname, '..', '..', 'Pulumi.qa.yaml'), 'utf8')) as { config: Record<string, unknown> };
  const run = await loadIndex(doc.config['asg-deploy:services'], 'qa');
  const rabbit = run.manifest.services.find((s) => s.strategy === 'rolling') as RollingServiceManifest;
  const web = run.manifest.services.find((s) => s.strategy === 'ab') as AbServiceManifest;
  t.like(rabbit, { asgName: 'qa-rabbit', capacity: 3, rollout: { minHealthy: 2, surge: 1, stepTimeoutSeconds: 900 } });
  t.like(web, { environment: 'qa-web', capacity: 4, rollout: { healthCheckTimeoutSeconds: 600, instanceCountStep: 2, drainingTimeoutSeconds: 300 } });
  t.like(one(run, ASG, 'qa-web-a').inputs, { desiredCapacity: 4, minSize: 4, healthCheckGracePeriod: 120 });
  t.like(one(run, ASG, 'qa-web-b').inputs, { desiredCapacity: 0, minSize: 0 });
  t.like(one(run, ASG, 'qa-rabbit').inputs, { desiredCapacity: 3, minSize: 2, maxSize: 4, availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'] });
});

/** Load infra/index.ts as the Pulumi runtime would, with `services` as the stack config; return what it declared. */
async function loadIndexExpectingError(services: unknown): Promise<{ err: Error; resources: Declared[] }> {
  delete require.cache[require.resolve(INDEX)];
  const resources: Declared[] = [];
  await pulumi.runtime.setMocks(recordingMocks(resources, [], 1), 'asg-deploy', 'qa', false);
  pulumi.runtime.setAllConfig(services === undefined ? {} : { 'asg-deploy:services': JSON.stringify(services) });
  let err: Error | undefined;
  try {
    require(INDEX);
  } catch (e) {
    err = e as Error;
  }
  await pulumi.runtime.disconnect();
  if (!err) throw new Error('expected infra/index.ts to reject the config');
  return { err, resources };
}

test.serial('infra/index.ts rejects an invalid config before declaring anything, naming every problem', async (t) => {
  const { err, resources } = await loadIndexExpectingError({ rabbit: { ...RABBIT, capacity: -1, surge: -2 }, web: { ...WEB, strategy: 'blue' } });
  t.true(err instanceof pulumi.RunError, 'reported by Pulumi as a plain message, no stack trace');
  t.regex(err.message, /service "rabbit": capacity = -1 is not allowed/);
  t.regex(err.message, /service "rabbit": surge = -2 is not allowed/);
  t.regex(err.message, /service "web": strategy = "blue" is not allowed; expected one of rolling, ab/);
  t.deepEqual(resources, []);
});

test.serial('infra/index.ts rejects a missing services config and a good+bad mix, declaring nothing', async (t) => {
  const missing = await loadIndexExpectingError(undefined);
  t.regex(missing.err.message, /asg-deploy:services/);
  t.deepEqual(missing.resources, []);
  const mixed = await loadIndexExpectingError({ rabbit: RABBIT, web: { ...WEB, loadBalancer: { healthCheck: { target: 'HTTP:80' } } } });
  t.regex(mixed.err.message, /service "web": loadBalancer\.healthCheck\.target = "HTTP:80"/);
  t.deepEqual(mixed.resources, [], 'the valid service is not declared either');
});
