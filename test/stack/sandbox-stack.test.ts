import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingClient, CreateAutoScalingGroupCommand, UpdateAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { EC2Client, CreateLaunchTemplateCommand, CreateLaunchTemplateVersionCommand, ModifyLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient, CreateLoadBalancerCommand, ConfigureHealthCheckCommand, ModifyLoadBalancerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing';
import { CreateListenerCommand, CreateLoadBalancerCommand as CreateLoadBalancerV2Command, CreateTargetGroupCommand, ElasticLoadBalancingV2Client, ModifyTargetGroupAttributesCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError } from '../../orchestrator/errors';
import { SandboxStacks, type SandboxStacksState } from '../../orchestrator/stack/sandbox-stack';
import { readManifest } from '../../orchestrator/stack/manifest';

const DEMO = fs.readFileSync(path.resolve(__dirname, '../../examples/demo/Pulumi.demo.yaml'), 'utf8');

function world() {
  const clients = {
    autoScaling: new AutoScalingClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
    ec2: new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
    elb: new ElasticLoadBalancingClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
    elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
    s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
  };
  const asg = mockClient(clients.autoScaling);
  const ec2 = mockClient(clients.ec2);
  const elb = mockClient(clients.elb);
  const elbv2 = mockClient(clients.elbv2);
  const arn = (kind: string, name: string) => `arn:aws:elasticloadbalancing:us-east-1:123456789012:${kind}/${name}/0123456789abcdef`;
  elbv2.on(CreateTargetGroupCommand).callsFake((input) => ({ TargetGroups: [{ TargetGroupArn: arn('targetgroup', input.Name), TargetGroupName: input.Name }] }));
  elbv2.on(ModifyTargetGroupAttributesCommand).resolves({});
  elbv2.on(CreateLoadBalancerV2Command).callsFake((input) => ({ LoadBalancers: [{ LoadBalancerArn: arn('loadbalancer/app', input.Name), DNSName: `${input.Name}.elb.amazonaws.com` }] }));
  elbv2.on(CreateListenerCommand).callsFake(() => ({ Listeners: [{ ListenerArn: arn('listener/app/demo-web/0123456789abcdef', 'l1') }] }));
  let lt = 0;
  ec2.on(CreateLaunchTemplateCommand).callsFake((input) => ({ LaunchTemplate: { LaunchTemplateId: `lt-${++lt}`, LaunchTemplateName: input.LaunchTemplateName, LatestVersionNumber: 1, DefaultVersionNumber: 1 } }));
  let version = 1;
  ec2.on(CreateLaunchTemplateVersionCommand).callsFake(() => ({ LaunchTemplateVersion: { VersionNumber: ++version } }));
  ec2.on(ModifyLaunchTemplateCommand).resolves({});
  asg.on(CreateAutoScalingGroupCommand).resolves({});
  asg.on(UpdateAutoScalingGroupCommand).resolves({});
  elb.on(CreateLoadBalancerCommand).resolves({});
  elb.on(ConfigureHealthCheckCommand).resolves({});
  elb.on(ModifyLoadBalancerAttributesCommand).resolves({});
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sbx-stack-'));
  const stacks: SandboxStacksState = {};
  const backend = new SandboxStacks({ clients, clock: new VirtualClock(), stacks, projectRoot: dir });
  const config = (image: string) => {
    const f = path.join(dir, `cfg-${image}.yaml`);
    fs.writeFileSync(f, DEMO.replace(/ami-0demo1/g, image));
    return f;
  };
  return { asg, ec2, elb, elbv2, backend, stacks, config, dir };
}

test.serial('the real infra/ program under mocks: v1 creates everything, v2 is a new launch template version the groups are re-pinned to', async (t) => {
  const w = world();
  const v1 = await (await w.backend.open('demo', { create: true, configFile: w.config('ami-01') })).up();
  t.deepEqual(v1.changeSummary, { create: 10 }); // 2 templates, rabbit's ELB, web's ALB + listener + 2 target groups, 3 groups
  t.is(w.asg.commandCalls(CreateAutoScalingGroupCommand).length, 3);
  const webA = w.asg.commandCalls(CreateAutoScalingGroupCommand).map((c) => c.args[0].input).find((i) => i.AutoScalingGroupName === 'demo-web-a')!;
  t.is(webA.DesiredCapacity, 4);
  t.deepEqual(webA.TargetGroupARNs, ['arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/demo-web-a/0123456789abcdef']);
  t.is(webA.LoadBalancerNames, undefined);
  // The ALB's resources as the provider creates them: the target groups with their health check, then their deregistration delay.
  const tgs = w.elbv2.commandCalls(CreateTargetGroupCommand).map((c) => c.args[0].input);
  t.deepEqual(tgs.map((i) => [i.Name, i.Port, i.HealthCheckPath, i.HealthCheckIntervalSeconds, i.HealthyThresholdCount]).sort(), [['demo-web-a', 8080, '/health', 10, 2], ['demo-web-b', 8080, '/health', 10, 2]]);
  t.deepEqual(w.elbv2.commandCalls(ModifyTargetGroupAttributesCommand).map((c) => c.args[0].input.Attributes), [[{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }], [{ Key: 'deregistration_delay.timeout_seconds', Value: '30' }]]);
  const listener = w.elbv2.commandCalls(CreateListenerCommand)[0].args[0].input;
  t.deepEqual(listener.DefaultActions?.[0].ForwardConfig?.TargetGroups?.map((x) => [x.TargetGroupArn?.split('/')[1], x.Weight]), [['demo-web-a', 100], ['demo-web-b', 0]]);
  t.is(webA.LaunchTemplate?.Version, '1');
  const manifest = readManifest(v1.outputs, 'demo')!;
  t.deepEqual(manifest.services.map((s) => s.service), ['rabbit', 'web']);

  const preview = await (await w.backend.open('demo', { configFile: w.config('ami-02') })).preview();
  t.is(w.ec2.commandCalls(CreateLaunchTemplateVersionCommand).length, 0, 'a preview changes nothing');
  t.deepEqual(preview.changes.filter((c) => c.type.includes('LaunchTemplate')).map((c) => [c.op, c.name, c.diffs]), [
    ['update', 'demo-rabbit', ['imageId']],
    ['update', 'demo-web', ['imageId']],
  ]);

  const v2 = await (await w.backend.open('demo', { configFile: w.config('ami-02') })).up();
  t.is(w.ec2.commandCalls(CreateLaunchTemplateVersionCommand).length, 2);
  const updates = w.asg.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input);
  t.deepEqual(updates.map((u) => u.AutoScalingGroupName).sort(), ['demo-rabbit', 'demo-web-a', 'demo-web-b']);
  for (const u of updates) {
    t.is(u.DesiredCapacity, undefined, `${u.AutoScalingGroupName}: desired is not touched (A/B ignoreChanges; rolling unchanged)`);
    t.regex(String(u.LaunchTemplate?.Version), /^[0-9]+$/);
  }
  t.true(readManifest(v2.outputs, 'demo')!.services.every((s) => (s.launchTemplate?.version ?? 0) > 1));

  const again = await (await w.backend.open('demo', { configFile: w.config('ami-02') })).up();
  t.deepEqual(again.changes, []);
  t.is(w.asg.commandCalls(UpdateAutoScalingGroupCommand).length, 3, 'no change, no call');
});

test.serial('an unknown sandbox stack lists the stacks that exist; invalid config is exit 2', async (t) => {
  const w = world();
  fs.writeFileSync(path.join(w.dir, 'Pulumi.qa.yaml'), 'config: {}\n');
  const err = await t.throwsAsync(w.backend.open('prod'), { instanceOf: DeployError });
  t.is(err!.exit, 2);
  t.regex(err!.message, /the stacks that exist: qa/);
  const bad = path.join(w.dir, 'bad.yaml');
  fs.writeFileSync(bad, DEMO.replace('capacity: 3', 'capacity: -1'));
  const invalid = await t.throwsAsync((await w.backend.open('demo', { create: true, configFile: bad })).up(), { instanceOf: DeployError });
  t.is(invalid!.exit, 2);
  t.regex(invalid!.message, /capacity/);
  t.is(w.asg.commandCalls(CreateAutoScalingGroupCommand).length, 0, 'invalid config: nothing declared');
});
