/**
 * Issue 14, end to end: `deploy --sandbox` on services fronted by ALBs — one the program creates
 * (an A/B service whose swap shifts traffic in config `trafficSteps`), and rules the program adds
 * to an existing shared listener named by ARN (an A/B and a rolling service). The real infra/
 * program is applied to the simulated AWS (aws:lb/* resources, the groups' targetGroupArns), then
 * the rollouts run on the target groups. In process through the CLI's `main`, on a virtual clock.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../orchestrator/cli';
import { VirtualClock } from '../../orchestrator/clock';
import { readSandboxFile, writeSandboxFile } from '../../orchestrator/commands/aws-session';
import type { DeployEvent } from '../../orchestrator/report/reporter';
import { Sandbox } from '../../orchestrator/sandbox';
import type { ServicesManifest } from '../../orchestrator/stack/manifest';

interface Run {
  code: number;
  events: DeployEvent[];
  stderr: string;
}

interface Opts {
  apiPriority?: number;
  listenerArn?: string;
  withoutShop?: boolean;
}

function stage() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'elbv2-deploy-'));
  const state = path.join(dir, 'state.json');
  // The shared ALB: one listener whose default action answers 404, another team's rule at priority 1.
  const sb = Sandbox.create({ seed: 14, faults: { bootSeconds: { min: 30, max: 40 } } });
  const shared = sb.seedTargetGroups({ name: 'shared', targetGroups: [{ name: 'other-team', weight: 1 }], rulePriority: 1 });
  sb.setImage('ami-0bad', { healthy: false });
  writeSandboxFile(state, sb, {});
  sb.dispose();
  const yaml = (image: string, o: Opts = {}) => `config:
  aws:region: us-east-1
  asg-deploy:services:
    web:
      strategy: ab
      imageId: ${image}
      instanceType: t3.small
      capacity: 2
      subnets: [subnet-0a1, subnet-0b2]
      healthCheckGracePeriod: 30
      healthCheckTimeout: 5m
      trafficSteps: [10, 50, 100]
      stepWait: 30s
      elbv2:
        type: application
        targetGroup:
          port: 8080
          healthCheck: {path: /health, interval: 10, healthyThreshold: 2}
          deregistrationDelay: 20
${o.withoutShop ? '' : `    shop:
      strategy: ab
      imageId: ${image}
      instanceType: t3.small
      capacity: 2
      subnets: [subnet-0a1, subnet-0b2]
      healthCheckGracePeriod: 30
      elbv2:
        listenerArn: ${o.listenerArn ?? shared.listenerArn}
        rule: {priority: 20, hostHeaders: [shop.example.com]}
        targetGroup: {port: 8080, deregistrationDelay: 15}
`}    api:
      strategy: rolling
      imageId: ${image}
      instanceType: t3.small
      capacity: 2
      subnets: [subnet-0a1, subnet-0b2]
      healthCheckGracePeriod: 30
      elbv2:
        listenerArn: ${o.listenerArn ?? shared.listenerArn}
        rule: {priority: ${o.apiPriority ?? 10}, pathPatterns: ["/api/*"]}
        targetGroup: {port: 8080, deregistrationDelay: 15}
`;
  const deploy = async (image: string, extra: string[] = [], o: Opts = {}): Promise<Run> => {
    const file = path.join(dir, `${image}-${o.apiPriority ?? 10}-${o.listenerArn ? 'x' : 's'}${o.withoutShop ? '-noshop' : ''}.yaml`);
    fs.writeFileSync(file, yaml(image, o));
    let out = '';
    let err = '';
    const code = await main(['deploy', '--stack', 'tg', '--sandbox', '--sandbox-state', state, '--config-file', file, '--json', ...extra], {
      stdout: { write: (s: string) => ((out += s), true) } as NodeJS.WritableStream,
      stderr: { write: (s: string) => ((err += s), true) } as NodeJS.WritableStream,
      env: { ...process.env, CI: 'true' },
      signal: new AbortController().signal,
      context: { clock: new VirtualClock({ start: readSandboxFile(state)!.aws.now }), interactive: false },
    } as Parameters<typeof main>[1]);
    const events = out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as DeployEvent);
    return { code, events, stderr: err };
  };
  const world = () => {
    const file = readSandboxFile(state)!;
    return { aws: file.aws, elbv2: file.aws.elbv2!, manifest: file.stacks.tg?.outputs.services as ServicesManifest | undefined };
  };
  return { dir, state, shared, deploy, world };
}

const tgName = (arn: string) => arn.split('/')[1];
/** A forward's weights by target group name. */
function weights(actions: Array<{ ForwardConfig?: { TargetGroups: Array<{ TargetGroupArn: string; Weight: number }> } }>): Record<string, number> {
  return Object.fromEntries((actions[0].ForwardConfig?.TargetGroups ?? []).map((t) => [tgName(t.TargetGroupArn), t.Weight]));
}

test.serial('deploy --sandbox on ALBs: v1 creates them, v2 rolls and swaps (web in traffic steps), a re-run changes nothing', async (t) => {
  const s = stage();
  const v1 = await s.deploy('ami-0v1', ['--create']);
  t.is(v1.code, 0, v1.stderr);
  let w = s.world();
  // The program's resources, applied to the simulated AWS: web's ALB, listener and a/b target groups; rules on the shared listener.
  t.deepEqual(Object.values(w.elbv2.targetGroups).map((g) => g.name).sort(), ['other-team', 'tg-api', 'tg-shop-a', 'tg-shop-b', 'tg-web-a', 'tg-web-b']);
  t.deepEqual(Object.values(w.elbv2.loadBalancers).map((l) => [l.name, l.type]).sort(), [['shared', 'application'], ['tg-web', 'application']]);
  const api = Object.values(w.elbv2.targetGroups).find((g) => g.name === 'tg-api')!;
  t.is(api.deregistrationDelay, 15);
  const web = Object.values(w.elbv2.targetGroups).find((g) => g.name === 'tg-web-a')!;
  t.like(web.healthCheck, { path: '/health', interval: 10, healthyThreshold: 2 });
  const rules = Object.values(w.elbv2.rules).filter((r) => r.listenerArn === s.shared.listenerArn).sort((a, b) => a.priority - b.priority);
  t.deepEqual(rules.map((r) => [r.priority, weights(r.actions)]), [
    [1, { 'other-team': 1 }],
    [10, { 'tg-api': 1 }],
    [20, { 'tg-shop-a': 100, 'tg-shop-b': 0 }],
  ]);
  t.deepEqual(w.aws.groups['tg-api'].targetGroupARNs.map(tgName), ['tg-api']);
  t.deepEqual([w.aws.groups['tg-web-a'].targetGroupARNs.map(tgName), w.aws.groups['tg-web-b'].targetGroupARNs.map(tgName)], [['tg-web-a'], ['tg-web-b']]);
  t.like(w.manifest!.services.find((x) => x.service === 'web'), { rollout: { trafficSteps: [10, 50, 100], stepWaitSeconds: 30 } });
  // The new groups serve: healthy in their target groups (deploy waits for that, not for InService alone).
  const healthy = (g: string, tg: string) => {
    const rec = Object.values(s.world().elbv2.targetGroups).find((x) => x.name === tg)!;
    return s.world().aws.groups[g].instances.filter((id) => rec.targets[id]?.state === 'healthy').length;
  };
  t.is(healthy('tg-web-a', 'tg-web-a'), 2);
  t.is(healthy('tg-api', 'tg-api'), 2);

  // The dry run of v2 names the traffic steps from the stack config.
  const dry = await s.deploy('ami-0v2', ['--dry-run']);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stderr, /web: would swap a → b, 2 instances, shift traffic to b \(10 % → 50 % → 100 %, holding 30 s at each while healthy\), then drain a/);
  t.regex(dry.stderr, /shop: would swap a → b, 2 instances, shift traffic to b \(all traffic at once\)/);

  const v2 = await s.deploy('ami-0v2');
  t.is(v2.code, 0, v2.stderr);
  const shifts = (env: string) => v2.events.filter((e) => e.code === 'traffic.shift' && e.data?.environment === env).map((e) => e.data?.share);
  t.deepEqual(shifts('tg-web'), [10, 50, 100]);
  t.deepEqual(shifts('tg-shop'), [100]);
  const done = v2.events.filter((e) => e.code === 'deploy.service.done').map((e) => [e.data?.service, e.data?.status, (e.data?.replaced as string[]).length]);
  t.deepEqual(done, [['web', 'done', 2], ['shop', 'done', 2], ['api', 'done', 2]]);
  // Held at each step for the step wait: from the 10 % shift to the 100 % shift at least 2 × 30 s.
  const at = (env: string, share: number) => Date.parse(v2.events.find((e) => e.code === 'traffic.shift' && e.data?.environment === env && e.data?.share === share)!.time);
  t.true(at('tg-web', 100) - at('tg-web', 10) >= 60_000);
  w = s.world();
  const listener = Object.values(w.elbv2.listeners).find((l) => l.loadBalancerArn !== s.shared.loadBalancerArn)!;
  t.deepEqual(weights(listener.defaultActions), { 'tg-web-a': 0, 'tg-web-b': 100 });
  t.deepEqual(weights(Object.values(w.elbv2.rules).find((r) => r.priority === 20)!.actions), { 'tg-shop-a': 0, 'tg-shop-b': 100 });
  t.deepEqual(weights(Object.values(w.elbv2.rules).find((r) => r.priority === 1)!.actions), { 'other-team': 1 }, "the other team's rule is untouched");
  t.is(w.aws.groups['tg-web-a'].desired, 0);
  t.is(healthy('tg-web-b', 'tg-web-b'), 2);
  t.is(healthy('tg-api', 'tg-api'), 2);

  // The same config again: no resource changes, the weights stay the orchestrator's (ignoreChanges), nothing to roll.
  const again = await s.deploy('ami-0v2');
  t.is(again.code, 0, again.stderr);
  // 3 launch templates, web's ALB and listener, 5 target groups, 2 rules, 5 groups: all unchanged.
  t.deepEqual(again.events.find((e) => e.code === 'stack.up')?.data?.changeSummary, { same: 17 });
  t.deepEqual(weights(Object.values(s.world().elbv2.listeners).find((l) => l.loadBalancerArn !== s.shared.loadBalancerArn)!.defaultActions), { 'tg-web-a': 0, 'tg-web-b': 100 });
});

test.serial('deploy --sandbox on ALBs: a broken image halts every service with the old color serving all the traffic', async (t) => {
  const s = stage();
  t.is((await s.deploy('ami-0v1', ['--create'])).code, 0);
  const bad = await s.deploy('ami-0bad', ['--continue-on-error']);
  t.is(bad.code, 1, bad.stderr);
  t.deepEqual(bad.events.filter((e) => e.code === 'traffic.shift').map((e) => e.data?.share), [], 'no weight ever reached the broken color');
  const w = s.world();
  const listener = Object.values(w.elbv2.listeners).find((l) => l.loadBalancerArn !== s.shared.loadBalancerArn)!;
  t.deepEqual(weights(listener.defaultActions), { 'tg-web-a': 100, 'tg-web-b': 0 });
  t.is(w.aws.groups['tg-web-a'].desired, 2);
});

test.serial('deploy --sandbox on ALBs: a service dropped from the config loses its groups, then its rule, then its target groups', async (t) => {
  const s = stage();
  t.is((await s.deploy('ami-0v1', ['--create'])).code, 0);
  const r = await s.deploy('ami-0v1', [], { withoutShop: true });
  t.is(r.code, 0, r.stderr);
  const deleted = (r.events.find((e) => e.code === 'stack.up')?.data?.changes as Array<{ op: string; type: string; name: string }>).filter((c) => c.op === 'delete');
  t.deepEqual(deleted.map((c) => [c.type.split(':')[1], c.name]), [
    ['autoscaling/group', 'tg-shop-a'],
    ['autoscaling/group', 'tg-shop-b'],
    ['lb/listenerRule', 'tg-shop'],
    ['lb/targetGroup', 'tg-shop-a'],
    ['lb/targetGroup', 'tg-shop-b'],
    ['ec2/launchTemplate', 'tg-shop'],
  ]);
  const w = s.world();
  t.deepEqual(Object.values(w.elbv2.rules).map((x) => x.priority).sort(), [1, 10]);
  t.false(Object.values(w.elbv2.targetGroups).some((g) => g.name.startsWith('tg-shop')));
  t.is(w.aws.groups['tg-api'].targetGroupARNs.length, 1, 'api keeps its target group');
});

test.serial('deploy --sandbox bad input on ALBs: a listener that does not exist is exit 2, a priority another rule holds exit 3; nothing created', async (t) => {
  const s = stage();
  const before = fs.readFileSync(s.state, 'utf8');
  const missing = s.shared.listenerArn.replace(/[0-9a-f]$/, (c) => (c === '0' ? '1' : '0'));
  const gone = await s.deploy('ami-0v1', ['--create'], { listenerArn: missing });
  t.is(gone.code, 2, gone.stderr);
  t.regex(gone.stderr, /service "shop": elbv2.listenerArn .* does not exist/);
  t.notRegex(gone.stderr, /\n\s+at /, 'no stack trace');
  const taken = await s.deploy('ami-0v1', ['--create'], { apiPriority: 1 });
  t.is(taken.code, 3, taken.stderr);
  t.regex(taken.stderr, /service "api": elbv2.rule.priority 1 on listener .* is taken by rule .* \(forwarding to other-team\)/);
  const dry = await s.deploy('ami-0v1', ['--create', '--dry-run'], { apiPriority: 1 });
  t.is(dry.code, 3, 'a dry run is refused as the real run would be');
  const after = readSandboxFile(s.state)!;
  t.deepEqual(after.stacks, {}, 'no stack recorded');
  t.deepEqual(after.aws.elbv2, JSON.parse(before).aws.elbv2, 'no load balancer, listener, rule or target group created');
  t.deepEqual(after.aws.groups, {});
});
