/**
 * Issue 14, "the program": a service fronted by an ALB/NLB the program creates, or by a rule on
 * an existing ALB listener. Validation (every problem named, the AWS limits) and the declared
 * resources under `pulumi.runtime.setMocks` (as test/infra/program.test.ts).
 */
import test from 'ava';
import * as pulumi from '@pulumi/pulumi';
import { parseServices, type ConfigProblem } from '../../infra/config';
import { declareServices, INITIAL_WEIGHTS, AB_LISTENER_IGNORED_CHANGES, AB_RULE_IGNORED_CHANGES } from '../../infra/program';
import type { AbServiceManifest, RollingServiceManifest, ServicesManifest } from '../../infra/manifest';
import { DeployError, ExitCode } from '../../orchestrator/errors';

const LB = 'aws:lb/loadBalancer:LoadBalancer';
const LISTENER = 'aws:lb/listener:Listener';
const RULE = 'aws:lb/listenerRule:ListenerRule';
const TG = 'aws:lb/targetGroup:TargetGroup';
const ASG = 'aws:autoscaling/group:Group';
const ELB = 'aws:elb/loadBalancer:LoadBalancer';
const SUBNET_CALL = 'aws:ec2/getSubnet:getSubnet';
const LISTENER_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/shared/50dc6c495c0c9188/f2f7dc8efc522ab2';
const NLB_LISTENER_ARN = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/net/shared/50dc6c495c0c9188/f2f7dc8efc522ab2';
const CERT = 'arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012';

const base = (extra: Record<string, unknown> = {}) => ({
  imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 2, subnets: ['subnet-0aaa1111', 'subnet-0bbb2222'], ...extra,
});
const alb = (elbv2: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => base({ strategy: 'ab', elbv2: { type: 'application', ...elbv2 }, ...extra });
const shared = (elbv2: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) =>
  base({ strategy: 'ab', elbv2: { listenerArn: LISTENER_ARN, rule: { priority: 100, hostHeaders: ['api.example.com'] }, ...elbv2 }, ...extra });

function problemsOf(raw: unknown, stack = 'qa'): { err: DeployError; problems: ConfigProblem[] } {
  try {
    parseServices(raw, stack);
  } catch (err) {
    if (!(err instanceof DeployError)) throw err;
    return { err, problems: err.data.problems as ConfigProblem[] };
  }
  throw new Error(`expected ${JSON.stringify(raw)} to be rejected`);
}

// ---- validation: each bad input named at its key, with what is allowed ----------------------------
const invalid: Array<{ title: string; config: Record<string, unknown>; path: string; mentions: string[]; stack?: string }> = [
  { title: 'classic ELB and ALB together', config: alb({}, { loadBalancer: {} }), path: 'web.elbv2', mentions: ['classic ELB', 'not both'] },
  { title: 'ELBv2 without subnets', config: { ...alb(), subnets: undefined, availabilityZones: ['us-east-1a'] }, path: 'web.elbv2', mentions: ['give subnets'] },
  { title: 'an ALB in one subnet', config: alb({}, { subnets: ['subnet-0aaa1111'] }), path: 'web.subnets', mentions: ['at least two Availability Zones'] },
  { title: 'neither type nor listenerArn', config: base({ strategy: 'ab', elbv2: { targetGroup: { port: 8080 } } }), path: 'web.elbv2.type', mentions: ['listenerArn'] },
  { title: 'both type and listenerArn', config: shared({ type: 'application' }), path: 'web.elbv2.type', mentions: ['not both'] },
  { title: 'unknown type, did you mean', config: alb({ type: 'aplication' }), path: 'web.elbv2.type', mentions: ['"aplication"', 'application, network'] },
  { title: 'typo in a key', config: alb({ targetGroups: {} }), path: 'web.elbv2.targetGroups', mentions: ['did you mean "targetGroup"'] },
  { title: 'a listener ARN that is not one', config: shared({ listenerArn: 'arn:aws:elasticloadbalancing:us-east-1:123:loadbalancer/app/x/1' }), path: 'web.elbv2.listenerArn', mentions: ['listener/app/'] },
  { title: 'an NLB listener for a rule', config: shared({ listenerArn: NLB_LISTENER_ARN }), path: 'web.elbv2.listenerArn', mentions: ['only on Application Load Balancer listeners'] },
  { title: 'an existing listener without a rule', config: shared({ rule: undefined }), path: 'web.elbv2.rule', mentions: ['required', 'priority'] },
  { title: 'a rule with a created load balancer', config: alb({ rule: { priority: 1, pathPatterns: ['/x'] } }), path: 'web.elbv2.rule', mentions: ['only with listenerArn'] },
  { title: 'listeners with an existing listener', config: shared({ listeners: [{ port: 80, protocol: 'HTTP' }] }), path: 'web.elbv2.listeners', mentions: ['program creates'] },
  { title: 'rule priority 0', config: shared({ rule: { priority: 0, pathPatterns: ['/api/*'] } }), path: 'web.elbv2.rule.priority', mentions: ['0', '>= 1', '<= 50000'] },
  { title: 'rule priority 50001', config: shared({ rule: { priority: 50001, pathPatterns: ['/api/*'] } }), path: 'web.elbv2.rule.priority', mentions: ['<= 50000'] },
  { title: 'a rule without a condition', config: shared({ rule: { priority: 5 } }), path: 'web.elbv2.rule.hostHeaders', mentions: ['needs a condition'] },
  { title: 'six condition values', config: shared({ rule: { priority: 5, hostHeaders: ['a.example.com', 'b.example.com', 'c.example.com'], pathPatterns: ['/a', '/b', '/c'] } }), path: 'web.elbv2.rule.pathPatterns', mentions: ['at most 5'] },
  { title: 'a path pattern without a slash', config: shared({ rule: { priority: 5, pathPatterns: ['api/*'] } }), path: 'web.elbv2.rule.pathPatterns[0]', mentions: ['"api/*"', 'starting with "/"'] },
  { title: 'an HTTPS listener without a certificate', config: alb({ listeners: [{ port: 443, protocol: 'https' }] }), path: 'web.elbv2.listeners[0].certificateArn', mentions: ['HTTPS listener needs a certificate'] },
  { title: 'a TCP listener on an ALB', config: alb({ listeners: [{ port: 80, protocol: 'TCP' }] }), path: 'web.elbv2.listeners', mentions: ['application load balancer\'s listeners take HTTP, HTTPS'] },
  { title: 'an HTTP target group on an NLB', config: alb({ type: 'network', targetGroup: { protocol: 'HTTP' } }), path: 'web.elbv2.targetGroup.protocol', mentions: ['Network Load Balancer takes TCP, TLS, UDP, TCP_UDP'] },
  { title: 'a TCP health check on an ALB', config: alb({ targetGroup: { healthCheck: { protocol: 'TCP' } } }), path: 'web.elbv2.targetGroup.healthCheck.protocol', mentions: ['over HTTP or HTTPS'] },
  { title: 'health check interval 301', config: alb({ targetGroup: { healthCheck: { interval: 301 } } }), path: 'web.elbv2.targetGroup.healthCheck.interval', mentions: ['301', '<= 300'] },
  { title: 'health check timeout 121', config: alb({ targetGroup: { healthCheck: { interval: 300, timeout: 121 } } }), path: 'web.elbv2.targetGroup.healthCheck.timeout', mentions: ['<= 120'] },
  { title: 'health check timeout >= interval', config: alb({ targetGroup: { healthCheck: { interval: 10, timeout: 10 } } }), path: 'web.elbv2.targetGroup.healthCheck.timeout', mentions: ['less than interval (10)'] },
  { title: 'healthy threshold 11', config: alb({ targetGroup: { healthCheck: { healthyThreshold: 11 } } }), path: 'web.elbv2.targetGroup.healthCheck.healthyThreshold', mentions: ['<= 10'] },
  { title: 'ALB success code 503', config: alb({ targetGroup: { healthCheck: { matcher: '200-503' } } }), path: 'web.elbv2.targetGroup.healthCheck.matcher', mentions: ['200-499'] },
  { title: 'a path on a TCP health check', config: alb({ type: 'network', targetGroup: { healthCheck: { path: '/health' } } }), path: 'web.elbv2.targetGroup.healthCheck.protocol', mentions: ['only to HTTP and HTTPS'] },
  { title: 'deregistration delay 3601', config: alb({ targetGroup: { deregistrationDelay: 3601 } }), path: 'web.elbv2.targetGroup.deregistrationDelay', mentions: ['3601', '<= 3600'] },
  { title: 'a target group name over 32', config: alb({}, { name: 'a-name-of-exactly-thirty-one-chr' }), path: 'web.name', mentions: ['target group name "a-name-of-exactly-thirty-one-chr-b"', '1-32'] },
  { title: 'a load balancer name beginning with internal-', config: alb({}, { name: 'internal-web' }), path: 'web.name', mentions: ['must not begin with "internal-"'] },
  // trafficSteps / stepWait (the config form of `ab --traffic-steps 10,50,100 --step-wait 2m`)
  { title: 'traffic steps not ascending', config: alb({}, { trafficSteps: [50, 10, 100] }), path: 'web.trafficSteps', mentions: ['[50,10,100]', 'ascending', '10 does not come after 50'] },
  { title: 'traffic steps not ending at 100', config: alb({}, { trafficSteps: [10, 50] }), path: 'web.trafficSteps', mentions: ['ending at 100', 'the last step is 50, not 100'] },
  { title: 'a traffic step of 0', config: alb({}, { trafficSteps: [0, 100] }), path: 'web.trafficSteps', mentions: ['0 is outside 1-100'] },
  { title: 'a traffic step that is not a number', config: alb({}, { trafficSteps: '10,half,100' }), path: 'web.trafficSteps', mentions: ['"half" is not a whole number'] },
  { title: 'traffic steps on classic ELBs', config: base({ strategy: 'ab', trafficSteps: [10, 100] }), path: 'web.trafficSteps', mentions: ['give elbv2', 'classic ELBs switch all at once'] },
  { title: 'stepWait without steps', config: alb({}, { stepWait: '2m' }), path: 'web.stepWait', mentions: ['two or more steps'] },
  { title: 'stepWait that is not a duration', config: alb({}, { trafficSteps: [10, 100], stepWait: 'soon' }), path: 'web.stepWait', mentions: ['"soon"', 'duration'] },
  { title: 'trafficSteps on a rolling service', config: base({ strategy: 'rolling', elbv2: { type: 'application' }, trafficSteps: [10, 100] }), path: 'web.trafficSteps', mentions: ['applies only to strategy "ab"'] },
];

for (const c of invalid) {
  test(`elbv2 config rejects ${c.title}`, (t) => {
    const { err, problems } = problemsOf({ web: c.config }, c.stack);
    t.is(err.code, 'config.invalid');
    t.is(err.exit, ExitCode.badInput);
    const p = problems.find((x) => x.path === c.path);
    t.truthy(p, `no problem at ${c.path}; got ${problems.map((x) => `${x.path}: ${x.message}`).join('\n')}`);
    t.true(p!.message.startsWith('service "web": '), p!.message);
    for (const m of c.mentions) t.true(p!.message.includes(m), `mentions ${m}: ${p!.message}`);
  });
}

test('elbv2 config: every problem at once, across the balancer, the rule and the target group', (t) => {
  const { problems } = problemsOf({ web: shared({ rule: { priority: 0, pathPatterns: ['nope'] }, targetGroup: { port: 0, healthCheck: { interval: 2 } } }) });
  t.deepEqual(problems.map((p) => p.path).sort(), [
    'web.elbv2.rule.pathPatterns[0]', 'web.elbv2.rule.priority', 'web.elbv2.targetGroup.healthCheck.interval', 'web.elbv2.targetGroup.port',
  ]);
});

test('elbv2 config: two services may not take the same priority on one listener', (t) => {
  const { problems } = problemsOf({ web: shared(), api: shared({}, { name: 'qa-api' }) });
  t.deepEqual(problems.map((p) => p.path), ['api.elbv2.rule.priority']);
  t.regex(problems[0].message, /service "web" adds a rule with the same priority to the same listener/);
});

test('elbv2 config: trafficSteps and stepWait reach the A/B manifest (a list, or the text "pulumi config set" gives)', (t) => {
  const [web] = parseServices({ web: alb({}, { trafficSteps: '10, 50,100', stepWait: '2m' }) }, 'qa');
  t.like(web, { trafficSteps: [10, 50, 100], stepWaitSeconds: 120 });
  const [plain] = parseServices({ web: alb({}, { trafficSteps: [25, 100] }) }, 'qa');
  t.deepEqual([plain.strategy === 'ab' && plain.trafficSteps, plain.strategy === 'ab' && plain.stepWaitSeconds], [[25, 100], undefined]);
  const [none] = parseServices({ web: alb() }, 'qa');
  t.false('trafficSteps' in none, 'absent: all at once');
});

test('elbv2 config: defaults per balancer kind', (t) => {
  const [web, mq] = parseServices({
    web: alb(),
    mq: base({ strategy: 'rolling', elbv2: { type: 'Network', targetGroup: { port: 5672 } } }),
  }, 'qa');
  t.is(web.loadBalancer, undefined, 'no classic ELB when an ALB fronts an A/B service');
  t.deepEqual(web.elbv2, {
    type: 'application', listeners: [{ port: 80, protocol: 'HTTP' }], internal: false, securityGroups: [],
    targetGroup: {
      port: 80, protocol: 'HTTP', deregistrationDelay: 300,
      healthCheck: { protocol: 'HTTP', port: 'traffic-port', path: '/', matcher: '200', interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
    },
  });
  t.deepEqual(mq.elbv2?.listeners, [{ port: 80, protocol: 'TCP' }]);
  t.deepEqual(mq.elbv2?.targetGroup.healthCheck, { protocol: 'TCP', port: 'traffic-port', interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 });
  const [s] = parseServices({ web: shared({ targetGroup: { deregistrationDelay: '30s' } }) }, 'qa');
  t.like(s.elbv2, { type: 'application', listenerArn: LISTENER_ARN, listeners: [], rule: { priority: 100, hostHeaders: ['api.example.com'], pathPatterns: [] } });
  t.is(s.elbv2?.targetGroup.deregistrationDelay, 30);
});

// ---- the program under mocks ---------------------------------------------------------------------
interface Declared { type: string; name: string; inputs: Record<string, any> }

async function run(services: unknown): Promise<{ resources: Declared[]; options: Map<string, pulumi.CustomResourceOptions>; manifest: ServicesManifest }> {
  const configs = parseServices(services, 'qa');
  const resources: Declared[] = [];
  const options = new Map<string, pulumi.CustomResourceOptions>();
  await pulumi.runtime.setMocks({
    newResource(args) {
      if (args.type === 'pulumi:pulumi:Stack') return { id: undefined, state: {} };
      resources.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: Record<string, any> = { ...args.inputs, arn: `arn:aws:mock:${args.type}:${args.name}` };
      if (args.type === 'aws:ec2/launchTemplate:LaunchTemplate') Object.assign(state, { latestVersion: 1, defaultVersion: 1 });
      return { id: `${args.name}-id`, state };
    },
    call(args) {
      if (args.token === SUBNET_CALL) return { id: args.inputs.id, vpcId: 'vpc-0123abcd', availabilityZone: 'us-east-1a' };
      return {};
    },
  }, 'asg-deploy', 'qa', false);
  let outputs: Record<string, unknown> | undefined;
  try {
    outputs = await pulumi.runtime.runInPulumiStack(async () => {
      pulumi.runtime.registerStackTransformation((a) => {
        options.set(`${a.type}::${a.name}`, a.opts as pulumi.CustomResourceOptions);
        return undefined;
      });
      return { services: declareServices(configs, 'qa').manifest };
    });
  } finally {
    await pulumi.runtime.disconnect();
  }
  return { resources, options, manifest: outputs?.services as ServicesManifest };
}
const of = (r: Declared[], type: string) => r.filter((x) => x.type === type);

test.serial('program: an A/B service behind an ALB it creates: two target groups, one weighted forward the orchestrator owns', async (t) => {
  const { resources, options, manifest } = await run({
    web: alb({ listeners: [{ port: 443, protocol: 'HTTPS', certificateArn: CERT }], securityGroups: ['sg-0abc1234'], targetGroup: { port: 8080, healthCheck: { path: '/health' }, deregistrationDelay: 60 } }),
  });
  t.is(of(resources, ELB).length, 0, 'no classic ELB');
  const [lb] = of(resources, LB);
  t.like(lb.inputs, { name: 'qa-web', loadBalancerType: 'application', internal: false, subnets: ['subnet-0aaa1111', 'subnet-0bbb2222'], securityGroups: ['sg-0abc1234'] });
  const tgs = of(resources, TG);
  t.deepEqual(tgs.map((x) => x.inputs.name), ['qa-web-a', 'qa-web-b']);
  for (const tg of tgs) {
    t.like(tg.inputs, { port: 8080, protocol: 'HTTP', vpcId: 'vpc-0123abcd', targetType: 'instance', deregistrationDelay: 60 });
    t.like(tg.inputs.healthCheck, { protocol: 'HTTP', path: '/health', matcher: '200', interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2, port: 'traffic-port' });
  }
  const [listener] = of(resources, LISTENER);
  t.like(listener.inputs, { port: 443, protocol: 'HTTPS', certificateArn: CERT, loadBalancerArn: `arn:aws:mock:${LB}:qa-web` });
  t.deepEqual(listener.inputs.defaultActions[0].forward.targetGroups, [
    { arn: `arn:aws:mock:${TG}:qa-web-a`, weight: INITIAL_WEIGHTS.a },
    { arn: `arn:aws:mock:${TG}:qa-web-b`, weight: INITIAL_WEIGHTS.b },
  ]);
  t.deepEqual(options.get(`${LISTENER}::qa-web-443`)?.ignoreChanges, AB_LISTENER_IGNORED_CHANGES, 'the weights belong to the orchestrator after creation');
  const groups = of(resources, ASG);
  t.deepEqual(groups.map((g) => [g.name, g.inputs.targetGroupArns, g.inputs.healthCheckType, g.inputs.loadBalancers]), [
    ['qa-web-a', [`arn:aws:mock:${TG}:qa-web-a`], 'ELB', undefined],
    ['qa-web-b', [`arn:aws:mock:${TG}:qa-web-b`], 'ELB', undefined],
  ]);
  const m = manifest.services[0] as AbServiceManifest;
  t.is(m.elbNames, undefined, 'no classic ELB names to watch');
  t.is(m.healthCheckType, 'ELB');
  t.deepEqual(m.elbv2, {
    type: 'application', loadBalancerArn: `arn:aws:mock:${LB}:qa-web`, listenerArns: [`arn:aws:mock:${LISTENER}:qa-web-443`],
    deregistrationDelaySeconds: 60, healthCheck: { intervalSeconds: 10, timeoutSeconds: 5, healthyThreshold: 3, unhealthyThreshold: 2 },
    targetGroupArns: { a: `arn:aws:mock:${TG}:qa-web-a`, b: `arn:aws:mock:${TG}:qa-web-b` }, weightsOwner: 'orchestrator',
  });
  t.is(m.rollout.drainingTimeoutSeconds, 60, 'the drain wait is the deregistration delay');
});

test.serial('program: an A/B service on an existing ALB listener: a rule with host/path conditions and a weighted forward', async (t) => {
  const { resources, options, manifest } = await run({ web: shared({ rule: { priority: 120, hostHeaders: ['api.example.com'], pathPatterns: ['/v1/*'] } }) });
  t.is(of(resources, LB).length, 0, 'the shared load balancer is not the program\'s');
  t.is(of(resources, LISTENER).length, 0);
  const [rule] = of(resources, RULE);
  t.like(rule.inputs, { listenerArn: LISTENER_ARN, priority: 120 });
  t.deepEqual(rule.inputs.conditions, [{ hostHeader: { values: ['api.example.com'] } }, { pathPattern: { values: ['/v1/*'] } }]);
  t.deepEqual(rule.inputs.actions[0].forward.targetGroups.map((g: { weight: number }) => g.weight), [100, 0]);
  t.deepEqual(options.get(`${RULE}::qa-web`)?.ignoreChanges, AB_RULE_IGNORED_CHANGES);
  const m = manifest.services[0] as AbServiceManifest;
  t.like(m.elbv2, { type: 'application', listenerArns: [LISTENER_ARN], ruleArn: `arn:aws:mock:${RULE}:qa-web` });
  t.is(m.elbv2?.loadBalancerArn, undefined);
});

test.serial('program: a rolling service behind an NLB it creates: one target group, a plain forward, health check type ELB', async (t) => {
  const { resources, options, manifest } = await run({ mq: base({ strategy: 'rolling', elbv2: { type: 'network', listeners: [{ port: 5671, protocol: 'TLS', certificateArn: CERT }], targetGroup: { port: 5672 } } }) });
  const [lb] = of(resources, LB);
  t.like(lb.inputs, { name: 'qa-mq', loadBalancerType: 'network' });
  const [tg] = of(resources, TG);
  t.like(tg.inputs, { name: 'qa-mq', port: 5672, protocol: 'TCP' });
  t.is(tg.inputs.healthCheck.path, undefined, 'a TCP check has no path');
  const [listener] = of(resources, LISTENER);
  t.like(listener.inputs, { port: 5671, protocol: 'TLS' });
  t.deepEqual(listener.inputs.defaultActions, [{ type: 'forward', targetGroupArn: `arn:aws:mock:${TG}:qa-mq` }]);
  t.falsy(options.get(`${LISTENER}::qa-mq-5671`)?.ignoreChanges, 'a rolling service\'s forward stays the program\'s');
  const [group] = of(resources, ASG);
  t.like(group.inputs, { healthCheckType: 'ELB', targetGroupArns: [`arn:aws:mock:${TG}:qa-mq`] });
  const m = manifest.services[0] as RollingServiceManifest;
  t.deepEqual(m.elbNames, []);
  t.deepEqual(m.elbv2?.targetGroupArns, [`arn:aws:mock:${TG}:qa-mq`]);
});
