/**
 * What the adapter keeps from one poll to the next (issue 12 item 4, memory): an instance's ELB or
 * target group state that did not change is handed on as the same object, so that a 1,000-instance
 * group's snapshots and the runner's memory of the last ELB look do not hold a new copy of every
 * state each poll (the copies were what V8's scavenges kept finding alive, and what made it grow
 * its young generation: docs/benchmarks.md, where the memory goes). A changed state is a new
 * object, and an earlier snapshot keeps what it saw.
 */
import test from 'ava';
import { mockClient } from 'aws-sdk-client-mock';
import { AutoScalingClient, DescribeAutoScalingGroupsCommand, type AutoScalingGroup } from '@aws-sdk/client-auto-scaling';
import { EC2Client, DescribeInstancesCommand } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient, DescribeInstanceHealthCommand } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client, DescribeTargetHealthCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client } from '@aws-sdk/client-s3';
import { AwsAdapter, Strings } from '../../orchestrator/aws/adapter';
import { VirtualClock } from '../../orchestrator/clock';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/73e2d6bc24d8a067';
const FAILED = 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.';

function setup(over: Partial<AutoScalingGroup> = {}) {
  const opts = { region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } };
  const clients = { autoScaling: new AutoScalingClient(opts), ec2: new EC2Client(opts), elb: new ElasticLoadBalancingClient(opts), elbv2: new ElasticLoadBalancingV2Client(opts), s3: new S3Client(opts) };
  const asg = mockClient(clients.autoScaling);
  const ec2 = mockClient(clients.ec2);
  const elb = mockClient(clients.elb);
  const elbv2 = mockClient(clients.elbv2);
  ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
    Reservations: [{ Instances: input.InstanceIds.map((id) => ({ InstanceId: id, LaunchTime: new Date(0), State: { Name: 'running' }, PrivateIpAddress: '10.0.0.9' })) }],
  }));
  const group: AutoScalingGroup = {
    AutoScalingGroupName: 'web',
    DesiredCapacity: 2,
    MinSize: 2,
    MaxSize: 4,
    LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' },
    HealthCheckType: 'ELB',
    AvailabilityZones: ['us-east-1a'],
    LoadBalancerNames: ['web-elb'],
    Instances: [
      { InstanceId: 'i-1', AvailabilityZone: 'us-east-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } },
      { InstanceId: 'i-2', AvailabilityZone: 'us-east-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } },
    ],
    ...over,
  } as AutoScalingGroup;
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group] });
  return { elb, elbv2, adapter: new AwsAdapter(clients, new VirtualClock()) };
}

test('observeGroup: an unchanged classic ELB state is the same object poll after poll; a changed one is new, and the earlier snapshot keeps what it saw', async (t) => {
  const { elb, adapter } = setup();
  elb
    .on(DescribeInstanceHealthCommand)
    .resolvesOnce({ InstanceStates: [{ InstanceId: 'i-1', State: 'InService', ReasonCode: 'N/A', Description: 'N/A' }, { InstanceId: 'i-2', State: 'OutOfService', ReasonCode: 'Instance', Description: FAILED }] })
    .resolvesOnce({ InstanceStates: [{ InstanceId: 'i-1', State: 'InService', ReasonCode: 'N/A', Description: 'N/A' }, { InstanceId: 'i-2', State: 'OutOfService', ReasonCode: 'Instance', Description: FAILED }] })
    .resolves({ InstanceStates: [{ InstanceId: 'i-1', State: 'InService', ReasonCode: 'N/A', Description: 'N/A' }, { InstanceId: 'i-2', State: 'InService', ReasonCode: 'N/A', Description: 'N/A' }] });
  const s1 = await adapter.observeGroup('web');
  const s2 = await adapter.observeGroup('web');
  const s3 = await adapter.observeGroup('web');
  const health = (s: typeof s1, id: string) => s.instances.find((i) => i.instanceId === id)!.elb['web-elb'];
  t.is(health(s2, 'i-1'), health(s1, 'i-1'));
  t.is(health(s2, 'i-2'), health(s1, 'i-2'));
  t.is(health(s3, 'i-1'), health(s1, 'i-1'));
  t.not(health(s3, 'i-2'), health(s2, 'i-2'));
  t.deepEqual(health(s3, 'i-2'), { state: 'InService', reasonCode: 'N/A', description: 'N/A' });
  t.deepEqual(health(s2, 'i-2'), { state: 'OutOfService', reasonCode: 'Instance', description: FAILED });
  // Each snapshot has its own per-instance record (the rolling runner fills an ELB-less read's).
  t.not(s2.instances[0].elb, s1.instances[0].elb);
});

test('describeInstanceHealth: unchanged states are the objects of the last answer, whichever verb read them', async (t) => {
  const { elb, adapter } = setup();
  elb
    .on(DescribeInstanceHealthCommand)
    .resolvesOnce({ InstanceStates: [{ InstanceId: 'i-1', State: 'InService', ReasonCode: 'N/A', Description: 'N/A' }, { InstanceId: 'i-2', State: 'Unknown', ReasonCode: 'ELB', Description: 'A transient error occurred. Please try again later.' }] })
    .resolves({ InstanceStates: [{ InstanceId: 'i-1', State: 'InService', ReasonCode: 'N/A', Description: 'N/A' }, { InstanceId: 'i-2', State: 'OutOfService', ReasonCode: 'ELB', Description: 'Instance registration is still in progress.' }] });
  const s = await adapter.observeGroup('web');
  const m = await adapter.describeInstanceHealth('web-elb');
  t.is(m.get('i-1'), s.instances[0].elb['web-elb']);
  t.not(m.get('i-2'), s.instances[1].elb['web-elb']);
  t.deepEqual(m.get('i-2'), { state: 'OutOfService', reasonCode: 'ELB', description: 'Instance registration is still in progress.' });
  t.is(s.instances[1].elb['web-elb'].state, 'Unknown');
});

test('observeGroup: an unchanged target group state is the same object poll after poll; a changed one is new', async (t) => {
  const { elbv2, adapter } = setup({ LoadBalancerNames: [], TargetGroupARNs: [TG] });
  const initial = { State: 'initial' as const, Reason: 'Elb.InitialHealthChecking' as const, Description: 'Initial health checks in progress' };
  elbv2
    .on(DescribeTargetHealthCommand)
    .resolvesOnce({ TargetHealthDescriptions: [{ Target: { Id: 'i-1', Port: 8080 }, TargetHealth: { State: 'healthy' } }, { Target: { Id: 'i-2', Port: 8080 }, TargetHealth: initial }] })
    .resolvesOnce({ TargetHealthDescriptions: [{ Target: { Id: 'i-1', Port: 8080 }, TargetHealth: { State: 'healthy' } }, { Target: { Id: 'i-2', Port: 8080 }, TargetHealth: initial }] })
    .resolves({ TargetHealthDescriptions: [{ Target: { Id: 'i-1', Port: 8080 }, TargetHealth: { State: 'healthy' } }, { Target: { Id: 'i-2', Port: 8080 }, TargetHealth: { State: 'healthy' } }] });
  const [s1, s2, s3] = [await adapter.observeGroup('web'), await adapter.observeGroup('web'), await adapter.observeGroup('web')];
  const th = (s: typeof s1, n: number) => s.instances[n].targetHealth![TG];
  t.is(th(s2, 0), th(s1, 0));
  t.is(th(s2, 1), th(s1, 1));
  t.is(th(s3, 0), th(s1, 0));
  t.not(th(s3, 1), th(s2, 1));
  t.deepEqual(th(s3, 1), { state: 'healthy' });
  t.deepEqual(th(s2, 1), { state: 'initial', reason: 'Elb.InitialHealthChecking', description: 'Initial health checks in progress' });
});

test('Strings: the same value back, and no more than Strings.MAX values kept', (t) => {
  const s = new Strings();
  const long = 'Instance registration is still in progress.';
  t.is(s.of(long.slice(0)), long);
  t.is(s.of(undefined), undefined);
  for (let n = 0; n < Strings.MAX * 2; n++) t.is(s.of(`value-${n}`), `value-${n}`);
  t.true((s as unknown as { seen: Map<string, string> }).seen.size <= Strings.MAX);
});
