/** The adapter's ELBv2 mapping (aws-sdk-client-mock on the real clients): target health per target group, target group settings. */
import test from 'ava';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, DescribeAutoScalingInstancesCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { EC2Client, DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import {
  ElasticLoadBalancingV2Client,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { AwsAdapter } from '../../orchestrator/aws/adapter';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError } from '../../orchestrator/errors';

const A = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-a/73e2d6bc24d8a067';
const B = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-b/0000000000000001';

function setup() {
  const opts = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
  const clients = { autoScaling: new AutoScalingClient(opts), ec2: new EC2Client(opts), elb: new ElasticLoadBalancingClient(opts), elbv2: new ElasticLoadBalancingV2Client(opts), s3: new S3Client(opts) };
  const asg = mockClient(clients.autoScaling);
  const ec2 = mockClient(clients.ec2);
  const elbv2 = mockClient(clients.elbv2);
  ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [{ LaunchTemplateId: 'lt-1', LaunchTemplateName: 'web', VersionNumber: 2 }] });
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [{ Instances: [{ InstanceId: 'i-1', State: { Name: 'running' } }, { InstanceId: 'i-2', State: { Name: 'running' } }] }] });
  const group: AutoScalingGroup = {
    AutoScalingGroupName: 'web',
    DesiredCapacity: 2,
    MinSize: 2,
    MaxSize: 4,
    LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '$Latest' },
    HealthCheckType: 'ELB',
    AvailabilityZones: ['us-east-1a'],
    TargetGroupARNs: [A, B],
    Instances: [
      { InstanceId: 'i-1', AvailabilityZone: 'us-east-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false },
      { InstanceId: 'i-2', AvailabilityZone: 'us-east-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false },
    ],
  } as AutoScalingGroup;
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group] });
  return { asg, elbv2, adapter: new AwsAdapter(clients, new VirtualClock()) };
}

test('observeGroup: one DescribeTargetHealth per attached target group, states by instance and ARN; unlisted instances have no entry', async (t) => {
  const { elbv2, adapter } = setup();
  elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: A }).resolves({
    TargetHealthDescriptions: [
      { Target: { Id: 'i-1', Port: 8080 }, HealthCheckPort: '8080', TargetHealth: { State: 'healthy' } },
      { Target: { Id: 'i-2', Port: 8080 }, HealthCheckPort: '8080', TargetHealth: { State: 'initial', Reason: 'Elb.InitialHealthChecking', Description: 'Initial health checks in progress' } },
    ],
  });
  elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: B }).resolves({
    TargetHealthDescriptions: [{ Target: { Id: 'i-1', Port: 8080 }, TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' } }],
  });
  const s = await adapter.observeGroup('web');
  t.deepEqual(s.targetGroupARNs, [A, B]);
  t.is(elbv2.commandCalls(DescribeTargetHealthCommand).length, 2);
  t.deepEqual(elbv2.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input), [{ TargetGroupArn: A }, { TargetGroupArn: B }]);
  const [i1, i2] = s.instances;
  t.deepEqual(i1.targetHealth, { [A]: { state: 'healthy' }, [B]: { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' } });
  t.deepEqual(i2.targetHealth, { [A]: { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' } });
  // targetHealth: false reads none; describeTargetHealth reads one target group when asked.
  elbv2.resetHistory();
  const bare = await adapter.observeGroup('web', { targetHealth: false });
  t.is(elbv2.commandCalls(DescribeTargetHealthCommand).length, 0);
  t.is(bare.instances[0].targetHealth, undefined);
  const m = await adapter.describeTargetHealth(B);
  t.deepEqual([...m], [['i-1', { state: 'draining', reason: 'Target.DeregistrationInProgress', description: 'Target deregistration is in progress' }]]);
  t.deepEqual(elbv2.commandCalls(DescribeTargetHealthCommand).map((c) => c.args[0].input), [{ TargetGroupArn: B }]);
});

test('describeTargetGroup: health check and deregistration delay, cached; AWS defaults when absent; not found is exit 2', async (t) => {
  const { elbv2, adapter } = setup();
  elbv2.on(DescribeTargetGroupsCommand, { TargetGroupArns: [A] }).resolves({ TargetGroups: [{ TargetGroupArn: A, TargetGroupName: 'web-a', HealthCheckIntervalSeconds: 10, HealthyThresholdCount: 3, UnhealthyThresholdCount: 2 }] });
  elbv2.on(DescribeTargetGroupAttributesCommand, { TargetGroupArn: A }).resolves({ Attributes: [{ Key: 'stickiness.enabled', Value: 'false' }, { Key: 'deregistration_delay.timeout_seconds', Value: '45' }] });
  const info = await adapter.describeTargetGroup(A);
  t.deepEqual(info, { arn: A, name: 'web-a', healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 }, deregistrationDelay: 45 });
  await adapter.describeTargetGroup(A);
  t.is(elbv2.commandCalls(DescribeTargetGroupsCommand).length, 1, 'cached per run');
  elbv2.on(DescribeTargetGroupsCommand, { TargetGroupArns: [B] }).resolves({ TargetGroups: [{ TargetGroupArn: B, TargetGroupName: 'web-b' }] });
  elbv2.on(DescribeTargetGroupAttributesCommand, { TargetGroupArn: B }).resolves({ Attributes: [] });
  t.deepEqual((await adapter.describeTargetGroup(B)).healthCheck, { interval: 30, healthyThreshold: 5, unhealthyThreshold: 2 });
  t.is((await adapter.describeTargetGroup(B)).deregistrationDelay, 300);
  const C = A.replace('web-a', 'web-c');
  elbv2.on(DescribeTargetGroupsCommand, { TargetGroupArns: [C] }).rejects(new TargetGroupNotFoundException({ message: 'One or more target groups not found', $metadata: {} }));
  const e = await t.throwsAsync(adapter.describeTargetGroup(C), { instanceOf: DeployError });
  t.is((e as DeployError).exit, 2);
  t.is((e as DeployError).code, 'target-group-not-found');
});

test('observeGroup: targets of its target groups that are not its instances are kept apart (foreignTargets, from the same answers); groupsOfInstances names their groups, 50 ids a call', async (t) => {
  const { asg, elbv2, adapter } = setup();
  elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: A }).resolves({
    TargetHealthDescriptions: [
      { Target: { Id: 'i-1', Port: 8080 }, TargetHealth: { State: 'healthy' } },
      { Target: { Id: 'i-9', Port: 8080 }, TargetHealth: { State: 'healthy' } },
    ],
  });
  elbv2.on(DescribeTargetHealthCommand, { TargetGroupArn: B }).resolves({
    TargetHealthDescriptions: [{ Target: { Id: 'i-8', Port: 8080 }, TargetHealth: { State: 'draining', Reason: 'Target.DeregistrationInProgress', Description: 'Target deregistration is in progress' } }],
  });
  const s = await adapter.observeGroup('web');
  t.is(elbv2.commandCalls(DescribeTargetHealthCommand).length, 2, 'no call besides the two it reads anyway');
  t.deepEqual(s.foreignTargets, [{ targetGroup: A, instanceId: 'i-9', state: 'healthy' }, { targetGroup: B, instanceId: 'i-8', state: 'draining' }]);
  t.deepEqual(s.instances.map((i) => i.instanceId), ['i-1', 'i-2']);
  // 60 ids: two calls (InstanceIds at most 50); an id in no group is absent from the answer.
  const ids = Array.from({ length: 60 }, (_, k) => `i-${k}`);
  asg.on(DescribeAutoScalingInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
    AutoScalingInstances: input.InstanceIds.filter((id) => id !== 'i-7').map((id) => ({ InstanceId: id, AutoScalingGroupName: id === 'i-9' ? 'batch' : 'other', AvailabilityZone: 'us-east-1a', LifecycleState: 'InService', HealthStatus: 'HEALTHY', ProtectedFromScaleIn: false })),
  }));
  const groups = await adapter.groupsOfInstances(ids);
  t.deepEqual(asg.commandCalls(DescribeAutoScalingInstancesCommand).map((c) => c.args[0].input.InstanceIds!.length), [50, 10]);
  t.is(groups['i-9'], 'batch');
  t.is(groups['i-0'], 'other');
  t.false('i-7' in groups);
  t.is(Object.keys(groups).length, 59);
});
