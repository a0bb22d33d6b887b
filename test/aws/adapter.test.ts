import test from 'ava';
import { mockClient } from 'aws-sdk-client-mock';
import {
  AutoScalingClient,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  SetDesiredCapacityCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  CreateOrUpdateTagsCommand,
  DescribeInstanceRefreshesCommand,
  DescribeLaunchConfigurationsCommand,
  DescribeLifecycleHooksCommand,
  DescribeWarmPoolCommand,
  UpdateAutoScalingGroupCommand,
  type AutoScalingGroup,
} from '@aws-sdk/client-auto-scaling';
import { EC2Client, EC2ServiceException, DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand } from '@aws-sdk/client-ec2';
import {
  ElasticLoadBalancingClient,
  DescribeInstanceHealthCommand,
  DescribeLoadBalancersCommand,
  DescribeLoadBalancerAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { S3Client, PutObjectCommand, GetObjectCommand, DeleteObjectCommand } from '@aws-sdk/client-s3';
import { AwsAdapter, DESCRIBE_INSTANCES_IDS, isThrottling } from '../../orchestrator/aws/adapter';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError } from '../../orchestrator/errors';

function setup() {
  const clients = {
    autoScaling: new AutoScalingClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    ec2: new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    elb: new ElasticLoadBalancingClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    elbv2: new ElasticLoadBalancingV2Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
    s3: new S3Client({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } }),
  };
  const asg = mockClient(clients.autoScaling);
  const ec2 = mockClient(clients.ec2);
  const elb = mockClient(clients.elb);
  const s3 = mockClient(clients.s3);
  const adapter = new AwsAdapter(clients, new VirtualClock());
  return { clients, asg, ec2, elb, s3, adapter };
}

function group(over: Partial<AutoScalingGroup> = {}): AutoScalingGroup {
  return {
    AutoScalingGroupName: 'qa-rabbit',
    DesiredCapacity: 3,
    MinSize: 3,
    MaxSize: 3,
    LaunchTemplate: { LaunchTemplateId: 'lt-1', LaunchTemplateName: 'rabbit', Version: '$Latest' },
    HealthCheckType: 'ELB',
    HealthCheckGracePeriod: 300,
    AvailabilityZones: ['us-east-1a'],
    LoadBalancerNames: ['qa-rabbit-elb'],
    SuspendedProcesses: [{ ProcessName: 'Launch' }],
    Tags: [{ Key: 'asg-deploy:restore', Value: '{"desired":3}' }],
    Instances: [
      { InstanceId: 'i-old', AvailabilityZone: 'us-east-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '1' } },
      { InstanceId: 'i-new', AvailabilityZone: 'us-east-1a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '$Latest' } },
    ],
    ...over,
  } as AutoScalingGroup;
}

test('observeGroup: resolves $Latest once, launched-from from EC2 tags first, caches EC2 data per instance', async (t) => {
  const { asg, ec2, elb, adapter } = setup();
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group()] });
  ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [{ LaunchTemplateId: 'lt-1', LaunchTemplateName: 'rabbit', VersionNumber: 7 }] });
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [
      {
        Instances: [
          // Tags say version 6 although the ASG's field says 1: the tags record the launch itself.
          { InstanceId: 'i-old', LaunchTime: new Date('2025-01-01T00:00:00Z'), PrivateIpAddress: '10.0.0.1', State: { Name: 'running' }, Tags: [{ Key: 'aws:ec2launchtemplate:id', Value: 'lt-1' }, { Key: 'aws:ec2launchtemplate:version', Value: '6' }] },
          // No tags: falls back to the ASG field ('$Latest' -> 7).
          { InstanceId: 'i-new', LaunchTime: new Date('2025-02-01T00:00:00Z'), PrivateIpAddress: '10.0.0.2', State: { Name: 'running' } },
        ],
      },
    ],
  });
  elb.on(DescribeInstanceHealthCommand).resolves({
    InstanceStates: [
      { InstanceId: 'i-old', State: 'InService', ReasonCode: 'N/A' },
      { InstanceId: 'i-new', State: 'OutOfService', ReasonCode: 'Instance', Description: 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.' },
    ],
  });

  const s = await adapter.observeGroup('qa-rabbit');
  t.deepEqual(s.launch, { launchTemplate: { id: 'lt-1', name: 'rabbit', version: 7 } });
  const old = s.instances.find((i) => i.instanceId === 'i-old')!;
  const nu = s.instances.find((i) => i.instanceId === 'i-new')!;
  t.deepEqual(old.launchedFrom, { launchTemplate: { id: 'lt-1', version: 6 } });
  t.is(nu.launchedFrom.launchTemplate?.version, 7);
  t.is(old.launchTime, Date.parse('2025-01-01T00:00:00Z'));
  t.is(old.privateIpAddress, '10.0.0.1');
  t.is(nu.elb['qa-rabbit-elb'].state, 'OutOfService');
  t.is(nu.elb['qa-rabbit-elb'].reasonCode, 'Instance');
  t.deepEqual(s.suspendedProcesses, ['Launch']);
  t.is(s.tags['asg-deploy:restore'], '{"desired":3}');
  t.is(adapter.apiCalls(), 4); // ASG + LT versions + EC2 + ELB

  // Second poll: one DescribeAutoScalingGroups and one DescribeInstanceHealth; EC2 and LT cached.
  await adapter.observeGroup('qa-rabbit');
  t.is(ec2.commandCalls(DescribeInstancesCommand).length, 1);
  t.is(ec2.commandCalls(DescribeLaunchTemplateVersionsCommand).length, 1);
  t.is(asg.commandCalls(DescribeAutoScalingGroupsCommand).length, 2);
  t.is(elb.commandCalls(DescribeInstanceHealthCommand).length, 2);
  t.is(adapter.apiCalls(), 6);
});

test('observeGroup: only new instance ids are described on later polls', async (t) => {
  const { asg, ec2, elb, adapter } = setup();
  const base = group().Instances!.map((i) => ({ ...i, LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } }));
  const g1 = group({ LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' }, LoadBalancerNames: [], Instances: base });
  const g2 = group({
    LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' },
    LoadBalancerNames: [],
    Instances: [...g1.Instances!, { InstanceId: 'i-3', AvailabilityZone: 'us-east-1a', ProtectedFromScaleIn: false, LifecycleState: 'Pending', HealthStatus: 'Healthy', LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } }],
  });
  asg.on(DescribeAutoScalingGroupsCommand).resolvesOnce({ AutoScalingGroups: [g1] }).resolves({ AutoScalingGroups: [g2] });
  ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
    Reservations: [{ Instances: input.InstanceIds.map((id) => ({ InstanceId: id, LaunchTime: new Date(0), State: { Name: 'running' }, PrivateIpAddress: '10.0.0.9' })) }],
  }));
  await adapter.observeGroup('qa-rabbit');
  await adapter.observeGroup('qa-rabbit');
  const calls = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.InstanceIds);
  t.deepEqual(calls, [['i-old', 'i-new'], ['i-3']]);
  t.is(ec2.commandCalls(DescribeLaunchTemplateVersionsCommand).length, 0, 'numeric versions need no lookup');
  t.is(elb.commandCalls(DescribeInstanceHealthCommand).length, 0);
});

test('observeGroup: a big group is described DESCRIBE_INSTANCES_IDS (200) ids at a time, every instance getting its EC2 facts', async (t) => {
  const { asg, ec2, adapter } = setup();
  const instances = Array.from({ length: 450 }, (_, n) => ({ InstanceId: `i-${String(n).padStart(4, '0')}`, AvailabilityZone: 'us-east-1a', ProtectedFromScaleIn: false, LifecycleState: 'InService' as const, HealthStatus: 'Healthy', LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } }));
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group({ LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' }, LoadBalancerNames: [], DesiredCapacity: 450, MaxSize: 450, Instances: instances })] });
  ec2.on(DescribeInstancesCommand).callsFake((input: { InstanceIds: string[] }) => ({
    Reservations: [{ Instances: input.InstanceIds.map((id) => ({ InstanceId: id, LaunchTime: new Date(Date.parse('2025-01-01T00:00:00Z') + Number(id.slice(2)) * 1000), State: { Name: 'running' }, PrivateIpAddress: '10.0.0.9' })) }],
  }));
  const s = await adapter.observeGroup('qa-rabbit');
  const sizes = ec2.commandCalls(DescribeInstancesCommand).map((c) => c.args[0].input.InstanceIds!.length);
  t.is(DESCRIBE_INSTANCES_IDS, 200);
  t.deepEqual(sizes, [200, 200, 50]);
  t.is(s.instances.length, 450);
  t.true(s.instances.every((i) => i.launchTime === Date.parse('2025-01-01T00:00:00Z') + Number(i.instanceId.slice(2)) * 1000 && i.ec2State === 'running'));
  t.is(adapter.apiCalls(), 1 + 3);
  await adapter.observeGroup('qa-rabbit');
  t.is(ec2.commandCalls(DescribeInstancesCommand).length, 3, 'described once: the next poll asks EC2 nothing');
});

test('observeGroup: unknown group is exit 2; mixed policy with per-override templates is rejected clearly', async (t) => {
  const { asg, adapter } = setup();
  asg.on(DescribeAutoScalingGroupsCommand).resolvesOnce({ AutoScalingGroups: [] }).resolves({
    AutoScalingGroups: [
      group({
        LaunchTemplate: undefined,
        MixedInstancesPolicy: {
          LaunchTemplate: {
            LaunchTemplateSpecification: { LaunchTemplateId: 'lt-1', Version: '2' },
            Overrides: [{ InstanceType: 'm5.large', LaunchTemplateSpecification: { LaunchTemplateId: 'lt-2', Version: '1' } }],
          },
        },
      }),
    ],
  });
  const e1 = await t.throwsAsync(adapter.observeGroup('nope'), { instanceOf: DeployError });
  t.is(e1!.exit, 2);
  const e2 = await t.throwsAsync(adapter.observeGroup('qa-rabbit'), { instanceOf: DeployError });
  t.is((e2 as DeployError).code, 'mixed-instances-unsupported');
  t.regex(e2!.message, /mixed instances policy/);
});

test('observeGroup: a mixed policy with one launch template is handled', async (t) => {
  const { asg, ec2, adapter } = setup();
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      group({
        LaunchTemplate: undefined,
        LoadBalancerNames: [],
        Instances: [],
        MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: 'lt-1', Version: '$Default' }, Overrides: [{ InstanceType: 'm5.large' }] } },
      }),
    ],
  });
  ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [{ LaunchTemplateId: 'lt-1', VersionNumber: 4 }] });
  const s = await adapter.observeGroup('qa-rabbit');
  t.true(s.mixedInstancesPolicy);
  t.is(s.launch.launchTemplate?.version, 4);
  t.deepEqual(ec2.commandCalls(DescribeLaunchTemplateVersionsCommand)[0].args[0].input.Versions, ['$Default']);
});

test('findGroups: exact name first, else every name with the prefix (paginated)', async (t) => {
  const { asg, adapter } = setup();
  asg
    .on(DescribeAutoScalingGroupsCommand, { AutoScalingGroupNames: ['SmokeTestRabbitMq'] })
    .resolves({ AutoScalingGroups: [] })
    .on(DescribeAutoScalingGroupsCommand, {})
    .callsFake((input: { NextToken?: string; AutoScalingGroupNames?: string[] }): unknown => {
      if (input.AutoScalingGroupNames) return { AutoScalingGroups: [] };
      return input.NextToken
        ? { AutoScalingGroups: [{ AutoScalingGroupName: 'SmokeTestRabbitMq-B' }, { AutoScalingGroupName: 'Other' }] }
        : { AutoScalingGroups: [{ AutoScalingGroupName: 'SmokeTestRabbitMq-A' }], NextToken: 'p2' };
    });
  t.deepEqual(await adapter.findGroups('SmokeTestRabbitMq'), ['SmokeTestRabbitMq-A', 'SmokeTestRabbitMq-B']);

  const s2 = setup();
  s2.asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group({ AutoScalingGroupName: 'exact' })] });
  t.deepEqual(await s2.adapter.findGroups('exact'), ['exact']);
  t.is(s2.asg.commandCalls(DescribeAutoScalingGroupsCommand).length, 1);
});

test('mutations send the right inputs; api calls count SDK attempts', async (t) => {
  const { asg, adapter } = setup();
  asg.on(SetDesiredCapacityCommand).resolves({ $metadata: { attempts: 3 } });
  asg.on(TerminateInstanceInAutoScalingGroupCommand).resolves({});
  asg.on(CreateOrUpdateTagsCommand).resolves({});
  await adapter.setDesired('g', 4);
  await adapter.terminateInstance('i-1', true);
  await adapter.putGroupTags('g', { 'asg-deploy:restore': '{}' });
  t.deepEqual(asg.commandCalls(SetDesiredCapacityCommand)[0].args[0].input, { AutoScalingGroupName: 'g', DesiredCapacity: 4, HonorCooldown: false });
  t.deepEqual(asg.commandCalls(TerminateInstanceInAutoScalingGroupCommand)[0].args[0].input, { InstanceId: 'i-1', ShouldDecrementDesiredCapacity: true });
  t.is(asg.commandCalls(CreateOrUpdateTagsCommand)[0].args[0].input.Tags![0].ResourceType, 'auto-scaling-group');
  t.is(adapter.apiCalls(), 5);
});

test('describeElb: health check and draining, cached', async (t) => {
  const { elb, adapter } = setup();
  elb.on(DescribeLoadBalancersCommand).resolves({
    LoadBalancerDescriptions: [{ LoadBalancerName: 'e', HealthCheck: { Target: 'HTTP:8080/health', Interval: 10, Timeout: 5, HealthyThreshold: 3, UnhealthyThreshold: 2 } }],
  });
  elb.on(DescribeLoadBalancerAttributesCommand).resolves({ LoadBalancerAttributes: { ConnectionDraining: { Enabled: true, Timeout: 60 } } });
  const info = await adapter.describeElb('e');
  await adapter.describeElb('e');
  t.deepEqual(info.healthCheck, { target: 'HTTP:8080/health', interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 });
  t.is(info.drainingTimeout, 60);
  t.is(elb.commandCalls(DescribeLoadBalancersCommand).length, 1);
});

test('S3 lock: create-if-absent is false on 412; get parses; delete passes IfMatch', async (t) => {
  const { s3, adapter } = setup();
  const taken = Object.assign(new Error('At least one of the pre-conditions you specified did not hold'), {
    name: 'PreconditionFailed',
    $metadata: { httpStatusCode: 412 },
  });
  s3.on(PutObjectCommand).rejectsOnce(taken).resolves({ ETag: '"e2"' });
  const record = { holder: 'me', reason: 'r', since: 1 };
  t.false(await adapter.putLockObject('b', 'k', record));
  t.true(await adapter.putLockObject('b', 'k', record));
  t.is(s3.commandCalls(PutObjectCommand)[0].args[0].input.IfNoneMatch, '*');

  s3.on(GetObjectCommand).resolvesOnce({
    ETag: '"e1"',
    Body: { transformToString: async () => JSON.stringify(record) } as never,
  }).rejects(Object.assign(new Error('no'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));
  t.deepEqual(await adapter.getLockObject('b', 'k'), { record, etag: '"e1"' });
  t.is(await adapter.getLockObject('b', 'k'), undefined);

  s3.on(DeleteObjectCommand).resolves({});
  await adapter.deleteLockObject('b', 'k', '"e1"');
  t.is(s3.commandCalls(DeleteObjectCommand)[0].args[0].input.IfMatch, '"e1"');
  t.is(await adapter.replaceLockObject('b', 'k', record, '"e1"'), '"e2"');
  t.is(s3.commandCalls(PutObjectCommand)[2].args[0].input.IfMatch, '"e1"');
});

test('isThrottling recognises AWS throttling errors', (t) => {
  t.true(isThrottling({ name: 'Throttling' }));
  t.true(isThrottling({ name: 'RequestLimitExceeded' }));
  t.true(isThrottling({ name: 'X', $metadata: { httpStatusCode: 429 } }));
  t.false(isThrottling({ name: 'ValidationError' }));
});

test('no launch tags and a symbolic per-instance version: the image tells an older instance apart', async (t) => {
  const { asg, ec2, adapter } = setup();
  asg.on(DescribeAutoScalingGroupsCommand).resolves({
    AutoScalingGroups: [
      group({
        LoadBalancerNames: [],
        Instances: [
          { InstanceId: 'i-a', AvailabilityZone: 'a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '$Latest' } },
          { InstanceId: 'i-b', AvailabilityZone: 'a', LifecycleState: 'InService', HealthStatus: 'Healthy', ProtectedFromScaleIn: false, LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '$Latest' } },
        ],
      }),
    ],
  });
  ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [{ LaunchTemplateId: 'lt-1', VersionNumber: 2, LaunchTemplateData: { ImageId: 'ami-new' } }] });
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [
      { InstanceId: 'i-a', ImageId: 'ami-old', LaunchTime: new Date(0), State: { Name: 'running' } },
      { InstanceId: 'i-b', ImageId: 'ami-new', LaunchTime: new Date(0), State: { Name: 'running' } },
    ] }],
  });
  const s = await adapter.observeGroup('qa-rabbit');
  t.is(s.instances.find((i) => i.instanceId === 'i-a')!.launchedFrom.launchTemplate?.version, 0);
  t.is(s.instances.find((i) => i.instanceId === 'i-b')!.launchedFrom.launchTemplate?.version, 2);
});

test('recentLaunchDurations: successful launch activities, StartTime → EndTime, one call', async (t) => {
  const { asg, adapter } = setup();
  const at = (s: string) => new Date(`2026-01-01T00:${s}Z`);
  asg.on(DescribeScalingActivitiesCommand).resolves({
    Activities: [
      { ActivityId: '1', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('00:00'), EndTime: at('01:30'), StatusCode: 'Successful', Description: 'Launching a new EC2 instance: i-1' },
      { ActivityId: '2', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('02:00'), EndTime: at('03:35'), StatusCode: 'Successful', Description: 'Launching a new EC2 instance: i-2' },
      { ActivityId: '3', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('04:00'), EndTime: at('04:01'), StatusCode: 'Successful', Description: 'Terminating EC2 instance: i-0' },
      { ActivityId: '4', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('05:00'), StatusCode: 'InProgress', Description: 'Launching a new EC2 instance: i-3' },
      { ActivityId: '5', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('06:00'), EndTime: at('06:05'), StatusCode: 'Failed', Description: 'Launching a new EC2 instance.  Status Reason: capacity' },
    ],
  });
  t.deepEqual(await adapter.recentLaunchDurations('qa-rabbit'), [90_000, 95_000]);
  t.is(asg.commandCalls(DescribeScalingActivitiesCommand).length, 1);
  t.is(asg.commandCalls(DescribeScalingActivitiesCommand)[0].args[0].input.AutoScalingGroupName, 'qa-rabbit');
  t.is(adapter.apiCalls(), 1);
});

test('launchActivities: per instance its launch activity\'s StartTime and, once Successful, EndTime (the InService moment); one call of at most 100', async (t) => {
  const { asg, adapter } = setup();
  const at = (s: string) => new Date(`2026-01-01T00:${s}Z`);
  asg.on(DescribeScalingActivitiesCommand).resolves({
    Activities: [
      { ActivityId: '4', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('05:00'), StatusCode: 'PreInService', Progress: 30, Description: 'Launching a new EC2 instance: i-0aaa' },
      { ActivityId: '3', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('04:00'), EndTime: at('04:01'), StatusCode: 'Successful', Description: 'Terminating EC2 instance: i-0bbb' },
      { ActivityId: '2', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('02:00'), EndTime: at('03:35'), StatusCode: 'Successful', Description: 'Launching a new EC2 instance: i-0ccc' },
      { ActivityId: '1', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('01:00'), EndTime: at('01:05'), StatusCode: 'Failed', Description: 'Launching a new EC2 instance.  Status Reason: capacity' },
    ],
  });
  const m = await adapter.launchActivities('qa-rabbit', 500);
  t.deepEqual([...m], [
    ['i-0aaa', { startTime: at('05:00').getTime() }],
    ['i-0ccc', { startTime: at('02:00').getTime(), endTime: at('03:35').getTime() }],
  ]);
  t.is(asg.commandCalls(DescribeScalingActivitiesCommand).length, 1);
  t.deepEqual(asg.commandCalls(DescribeScalingActivitiesCommand)[0].args[0].input, { AutoScalingGroupName: 'qa-rabbit', MaxRecords: 100 });
});

test('rebalanceLaunches: the launch activities whose Cause says "in response to an EC2 instance rebalance recommendation", with the at-risk instance when named; one call', async (t) => {
  const { asg, adapter } = setup();
  const at = (s: string) => new Date(`2026-01-01T00:${s}Z`);
  // The Cause texts as the sandbox writes them (SPEC [SPOT-2]; AWS documents the feature, not the
  // activity's wording: an ASSUMPTION, so the at-risk instance is optional).
  asg.on(DescribeScalingActivitiesCommand).resolves({
    Activities: [
      { ActivityId: 'a4', AutoScalingGroupName: 'qa-rabbit', Cause: 'At 2026-01-01T00:06:59Z a user request (SetDesiredCapacity) set the desired capacity to 21. At 2026-01-01T00:09:50Z an instance was launched in response to an EC2 instance rebalance recommendation for i-0c9f2140109d9579c.', StartTime: at('09:50'), StatusCode: 'InProgress', Progress: 20, Description: 'Launching a new EC2 instance: i-090785a6adeeb3f2a' },
      { ActivityId: 'a3', AutoScalingGroupName: 'qa-rabbit', Cause: 'At 2026-01-01T00:09:50Z an instance was taken out of service in response to an EC2 instance rebalance recommendation; its replacement i-0a57ca970827601e6 is in service.', StartTime: at('09:50'), StatusCode: 'Successful', Progress: 100, Description: 'Terminating EC2 instance: i-0e513d8cc41af6c98' },
      { ActivityId: 'a2', AutoScalingGroupName: 'qa-rabbit', Cause: 'At 2026-01-01T00:07:50Z an instance was launched in response to an EC2 instance rebalance recommendation.', StartTime: at('07:50'), EndTime: at('08:40'), StatusCode: 'Successful', Progress: 100, Description: 'Launching a new EC2 instance: i-0a57ca970827601e6' },
      { ActivityId: 'a1', AutoScalingGroupName: 'qa-rabbit', Cause: 'At 2026-01-01T00:06:59Z a user request (SetDesiredCapacity) set the desired capacity to 21. At 2026-01-01T00:07:00Z an instance was started in response to a difference between desired and actual capacity, increasing the capacity from 18 to 19.', StartTime: at('07:00'), EndTime: at('07:43'), StatusCode: 'Successful', Progress: 100, Description: 'Launching a new EC2 instance: i-0d27c4ff8a61b90cd' },
    ],
  });
  t.deepEqual(await adapter.rebalanceLaunches('qa-rabbit', 500), [{ instanceId: 'i-090785a6adeeb3f2a', atRisk: 'i-0c9f2140109d9579c' }, { instanceId: 'i-0a57ca970827601e6' }]);
  t.is(asg.commandCalls(DescribeScalingActivitiesCommand).length, 1);
  t.deepEqual(asg.commandCalls(DescribeScalingActivitiesCommand)[0].args[0].input, { AutoScalingGroupName: 'qa-rabbit', MaxRecords: 100 });
});

test('standbyReturns: the ExitStandby activities ("Moving EC2 instance out of Standby: i-…"), newest first, one call', async (t) => {
  const { asg, adapter } = setup();
  const at = (s: string) => new Date(`2026-01-01T00:${s}Z`);
  // Descriptions and causes as in the API reference's ExitStandby / EnterStandby example responses.
  asg.on(DescribeScalingActivitiesCommand).resolves({
    Activities: [
      { ActivityId: 'a3', AutoScalingGroupName: 'qa-rabbit', Cause: 'At 2026-01-01T00:05:00Z instance i-0123456789abcdef0 was moved out of standby in response to a user request, increasing the capacity from 3 to 4.', StartTime: at('05:00'), StatusCode: 'PreInService', Progress: 30, Description: 'Moving EC2 instance out of Standby: i-0123456789abcdef0' },
      { ActivityId: 'a2', AutoScalingGroupName: 'qa-rabbit', Cause: 'At 2026-01-01T00:04:00Z instance i-0123456789abcdef0 was moved to standby in response to a user request.', StartTime: at('04:00'), StatusCode: 'Successful', Progress: 100, Description: 'Moving EC2 instance to Standby: i-0123456789abcdef0' },
      { ActivityId: 'a1', AutoScalingGroupName: 'qa-rabbit', Cause: '', StartTime: at('01:00'), EndTime: at('02:30'), StatusCode: 'Successful', Description: 'Launching a new EC2 instance: i-0fedcba9876543210' },
    ],
  });
  t.deepEqual(await adapter.standbyReturns('qa-rabbit'), [{ activityId: 'a3', instanceId: 'i-0123456789abcdef0', startTime: at('05:00').getTime() }]);
  t.is(asg.commandCalls(DescribeScalingActivitiesCommand).length, 1);
  t.is(adapter.apiCalls(), 1);
});

test('observeGroup without ELB health, then describeInstanceHealth: one DescribeInstanceHealth when asked; resolving the name feeds the first observation', async (t) => {
  const { asg, ec2, elb, adapter } = setup();
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group()] });
  ec2.on(DescribeLaunchTemplateVersionsCommand).resolves({ LaunchTemplateVersions: [{ LaunchTemplateId: 'lt-1', LaunchTemplateName: 'rabbit', VersionNumber: 2 }] });
  ec2.on(DescribeInstancesCommand).resolves({ Reservations: [] });
  elb.on(DescribeInstanceHealthCommand).resolves({ InstanceStates: [{ InstanceId: 'i-new', State: 'InService', ReasonCode: 'N/A' }] });
  t.deepEqual(await adapter.findGroups('qa-rabbit'), ['qa-rabbit']);
  const s = await adapter.observeGroup('qa-rabbit', { elbHealth: false });
  t.is(asg.commandCalls(DescribeAutoScalingGroupsCommand).length, 1, 'the group findGroups just described is reused');
  t.is(elb.commandCalls(DescribeInstanceHealthCommand).length, 0);
  t.deepEqual(s.instances.map((i) => i.elb), [{}, {}]);
  const h = await adapter.describeInstanceHealth('qa-rabbit-elb');
  t.deepEqual(h.get('i-new'), { state: 'InService', reasonCode: 'N/A', description: undefined });
  await adapter.observeGroup('qa-rabbit', { elbHealth: false });
  t.is(asg.commandCalls(DescribeAutoScalingGroupsCommand).length, 2, 'a later observation asks AWS again');
});

test('describeAlarms: one DescribeAlarms per 100 names, metric and composite alarms, NextToken followed; unknown names absent', async (t) => {
  const { CloudWatchClient, DescribeAlarmsCommand } = await import('@aws-sdk/client-cloudwatch');
  const cloudWatch = new CloudWatchClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const cw = mockClient(cloudWatch);
  const { clients } = setup();
  const adapter = new AwsAdapter({ ...clients, cloudWatch }, new VirtualClock());
  cw.on(DescribeAlarmsCommand)
    .resolvesOnce({ MetricAlarms: [{ AlarmName: 'web-5xx', StateValue: 'ALARM', StateReason: 'Threshold Crossed', StateUpdatedTimestamp: new Date('2026-01-01T00:00:00Z') }], NextToken: 't1' })
    .resolvesOnce({ CompositeAlarms: [{ AlarmName: 'web-slo', StateValue: 'OK' }] })
    .resolves({ MetricAlarms: [{ AlarmName: 'n-100', StateValue: 'INSUFFICIENT_DATA' }] });
  const names = ['web-5xx', 'web-slo', 'nope', ...Array.from({ length: 100 }, (_, n) => `n-${n + 1}`)];
  const got = await adapter.describeAlarms(names);
  t.deepEqual(got, [
    { name: 'web-5xx', state: 'ALARM', reason: 'Threshold Crossed', updatedAt: Date.parse('2026-01-01T00:00:00Z') },
    { name: 'web-slo', state: 'OK', reason: undefined, updatedAt: undefined },
    { name: 'n-100', state: 'INSUFFICIENT_DATA', reason: undefined, updatedAt: undefined },
  ]);
  const calls = cw.commandCalls(DescribeAlarmsCommand).map((c) => c.args[0].input);
  t.is(calls.length, 3, 'two pages of the first 100 names, one call for the rest');
  t.is(calls[0].AlarmNames?.length, 100);
  t.deepEqual(calls[0].AlarmTypes, ['MetricAlarm', 'CompositeAlarm']);
  t.is(calls[1].NextToken, 't1');
  t.deepEqual(calls[2].AlarmNames, ['n-98', 'n-99', 'n-100']);
});

test('activeInstanceRefresh: one DescribeInstanceRefreshes; the running one (InstanceRefreshStatus Pending/InProgress/Cancelling/RollbackInProgress/Baking), else undefined', async (t) => {
  const { asg, adapter } = setup();
  asg.on(DescribeInstanceRefreshesCommand, { AutoScalingGroupName: 'qa-rabbit' }).resolves({
    InstanceRefreshes: [
      { InstanceRefreshId: 'r-2', AutoScalingGroupName: 'qa-rabbit', Status: 'InProgress', StartTime: new Date('2026-01-01T00:00:00Z'), PercentageComplete: 40 },
      { InstanceRefreshId: 'r-1', AutoScalingGroupName: 'qa-rabbit', Status: 'Successful' },
    ],
  });
  t.deepEqual(await adapter.activeInstanceRefresh('qa-rabbit'), { id: 'r-2', status: 'InProgress', startTime: Date.parse('2026-01-01T00:00:00Z'), percentageComplete: 40 });
  t.is(asg.commandCalls(DescribeInstanceRefreshesCommand).length, 1);
  asg.on(DescribeInstanceRefreshesCommand, { AutoScalingGroupName: 'qa-done' }).resolves({ InstanceRefreshes: [{ InstanceRefreshId: 'r-9', Status: 'Cancelled' }, { InstanceRefreshId: 'r-8', Status: 'Failed' }] });
  t.is(await adapter.activeInstanceRefresh('qa-done'), undefined);
});

test('lifecycleHooks: one DescribeLifecycleHooks, transitions named launch/terminate, PutLifecycleHook defaults (3600 s, ABANDON) for absent fields', async (t) => {
  const { asg, adapter } = setup();
  asg.on(DescribeLifecycleHooksCommand, { AutoScalingGroupName: 'qa-rabbit' }).resolves({
    LifecycleHooks: [
      { LifecycleHookName: 'boot', AutoScalingGroupName: 'qa-rabbit', LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING', HeartbeatTimeout: 300, GlobalTimeout: 30000, DefaultResult: 'ABANDON' },
      { LifecycleHookName: 'drain', AutoScalingGroupName: 'qa-rabbit', LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING' },
    ],
  });
  t.deepEqual(await adapter.lifecycleHooks('qa-rabbit'), [
    { name: 'boot', transition: 'launch', heartbeatTimeout: 300, globalTimeout: 30000, defaultResult: 'ABANDON' },
    { name: 'drain', transition: 'terminate', heartbeatTimeout: 3600, defaultResult: 'ABANDON' },
  ]);
  t.is(asg.commandCalls(DescribeLifecycleHooksCommand).length, 1);
});

test('describeWarmPool: every page (MaxRecords 50, NextToken), the configuration and each warmed instance with its launch spec; undefined without a pool', async (t) => {
  const { asg, adapter } = setup();
  asg.on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'qa-rabbit', MaxRecords: 50, NextToken: undefined }).resolves({
    WarmPoolConfiguration: { MinSize: 1, PoolState: 'Stopped', InstanceReusePolicy: { ReuseOnScaleIn: true } },
    Instances: [{ InstanceId: 'i-w1', AvailabilityZone: 'us-east-1a', LifecycleState: 'Warmed:Stopped', HealthStatus: 'Healthy', LaunchTemplate: { LaunchTemplateId: 'lt-1', LaunchTemplateName: 'rabbit', Version: '1' }, ProtectedFromScaleIn: false }],
    NextToken: 'p2',
  });
  asg.on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'qa-rabbit', MaxRecords: 50, NextToken: 'p2' }).resolves({
    WarmPoolConfiguration: { MinSize: 1, PoolState: 'Stopped', InstanceReusePolicy: { ReuseOnScaleIn: true } },
    Instances: [{ InstanceId: 'i-w2', AvailabilityZone: 'us-east-1b', LifecycleState: 'Warmed:Pending', HealthStatus: 'Healthy', LaunchTemplate: { LaunchTemplateId: 'lt-1', LaunchTemplateName: 'rabbit', Version: '2' }, ProtectedFromScaleIn: false }],
  });
  const pool = await adapter.describeWarmPool('qa-rabbit');
  t.deepEqual(pool, {
    poolState: 'Stopped',
    minSize: 1,
    reuseOnScaleIn: true,
    instances: [
      { instanceId: 'i-w1', availabilityZone: 'us-east-1a', lifecycleState: 'Warmed:Stopped', launchedFrom: { launchTemplate: { id: 'lt-1', version: 1 } } },
      { instanceId: 'i-w2', availabilityZone: 'us-east-1b', lifecycleState: 'Warmed:Pending', launchedFrom: { launchTemplate: { id: 'lt-1', version: 2 } } },
    ],
  });
  asg.on(DescribeWarmPoolCommand, { AutoScalingGroupName: 'qa-none' }).resolves({ Instances: [] });
  t.is(await adapter.describeWarmPool('qa-none'), undefined);
});

test('launchSpecExists: one DescribeLaunchTemplateVersions for that version (a deleted version or template answers …NotFound: false); a launch configuration by name (absent: false)', async (t) => {
  const { asg, ec2, adapter } = setup();
  ec2.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-1', Versions: ['2'] }).resolves({ LaunchTemplateVersions: [{ LaunchTemplateId: 'lt-1', VersionNumber: 2 }] });
  ec2.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-1', Versions: ['1'] }).rejects(
    new EC2ServiceException({ name: 'InvalidLaunchTemplateId.VersionNotFound', $fault: 'client', $metadata: {}, message: 'Could not find launch template version 1 for launch template lt-1' }),
  );
  ec2.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-gone', Versions: ['3'] }).rejects(
    new EC2ServiceException({ name: 'InvalidLaunchTemplateId.NotFound', $fault: 'client', $metadata: {}, message: 'The specified launch template, with template ID lt-gone, does not exist.' }),
  );
  t.true(await adapter.launchSpecExists({ launchTemplate: { id: 'lt-1', version: 2 } }));
  t.false(await adapter.launchSpecExists({ launchTemplate: { id: 'lt-1', version: 1 } }));
  t.false(await adapter.launchSpecExists({ launchTemplate: { id: 'lt-gone', version: 3 } }));
  asg.on(DescribeLaunchConfigurationsCommand, { LaunchConfigurationNames: ['lc-1'] }).resolves({ LaunchConfigurations: [{ LaunchConfigurationName: 'lc-1', ImageId: 'ami-1', InstanceType: 't3.small', CreatedTime: new Date() }] });
  asg.on(DescribeLaunchConfigurationsCommand, { LaunchConfigurationNames: ['lc-0'] }).resolves({ LaunchConfigurations: [] });
  t.true(await adapter.launchSpecExists({ launchConfigurationName: 'lc-1' }));
  t.false(await adapter.launchSpecExists({ launchConfigurationName: 'lc-0' }));
  // Any other error is not "gone": it is thrown (the retry policy rides out the transient ones).
  ec2.on(DescribeLaunchTemplateVersionsCommand, { LaunchTemplateId: 'lt-1', Versions: ['9'] }).rejects(
    new EC2ServiceException({ name: 'UnauthorizedOperation', $fault: 'client', $metadata: {}, message: 'You are not authorized to perform this operation.' }),
  );
  await t.throwsAsync(adapter.launchSpecExists({ launchTemplate: { id: 'lt-1', version: 9 } }), { name: 'UnauthorizedOperation' });
});

test('setGroupLaunch: UpdateAutoScalingGroup with the template id and a fixed version number, or the launch configuration, nothing else', async (t) => {
  const { asg, adapter } = setup();
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group({ LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '4' } })] });
  asg.on(UpdateAutoScalingGroupCommand).resolves({});
  await adapter.setGroupLaunch('qa-rabbit', { launchTemplate: { id: 'lt-1', name: 'rabbit', version: 3 } });
  await adapter.setGroupLaunch('qa-rabbit', { launchConfigurationName: 'lc-1' });
  t.deepEqual(
    asg.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input),
    [
      { AutoScalingGroupName: 'qa-rabbit', LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } },
      { AutoScalingGroupName: 'qa-rabbit', LaunchConfigurationName: 'lc-1' },
    ],
  );
});

test('setGroupLaunch on a mixed instances group: the policy goes back whole, only its launch template spec changed (overrides and distribution as read)', async (t) => {
  const { asg, adapter } = setup();
  const policy = {
    LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: 'lt-1', Version: '$Latest' }, Overrides: [{ InstanceType: 'm5.large' }, { InstanceType: 'c5.large' }] },
    InstancesDistribution: { OnDemandBaseCapacity: 1, OnDemandPercentageAboveBaseCapacity: 25, SpotAllocationStrategy: 'price-capacity-optimized', OnDemandAllocationStrategy: 'prioritized' },
  };
  asg.on(DescribeAutoScalingGroupsCommand).resolves({ AutoScalingGroups: [group({ LaunchTemplate: undefined, MixedInstancesPolicy: policy })] });
  asg.on(UpdateAutoScalingGroupCommand).resolves({});
  await adapter.setGroupLaunch('qa-rabbit', { launchTemplate: { id: 'lt-1', name: 'rabbit', version: 3 } });
  t.deepEqual(asg.commandCalls(UpdateAutoScalingGroupCommand).map((c) => c.args[0].input), [
    {
      AutoScalingGroupName: 'qa-rabbit',
      MixedInstancesPolicy: { ...policy, LaunchTemplate: { ...policy.LaunchTemplate, LaunchTemplateSpecification: { LaunchTemplateId: 'lt-1', Version: '3' } } },
    },
  ]);
});

test('observeGroup: a mixed policy\'s overrides and distribution (AWS\'s defaults filled in), Spot or On-Demand per instance from EC2, the type from the ASG; weighted overrides are refused (exit 2)', async (t) => {
  const { asg, ec2, adapter } = setup();
  const instances = [
    { InstanceId: 'i-od', InstanceType: 'm5.large', AvailabilityZone: 'us-east-1a', ProtectedFromScaleIn: false, LifecycleState: 'InService' as const, HealthStatus: 'Healthy', LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } },
    { InstanceId: 'i-spot', InstanceType: 'c5.large', AvailabilityZone: 'us-east-1b', ProtectedFromScaleIn: false, LifecycleState: 'InService' as const, HealthStatus: 'Healthy', LaunchTemplate: { LaunchTemplateId: 'lt-1', Version: '3' } },
  ];
  const mixed = (overrides: Array<{ InstanceType: string; WeightedCapacity?: string }>) =>
    group({ LaunchTemplate: undefined, LoadBalancerNames: [], CapacityRebalance: true, MaxInstanceLifetime: 604_800, Instances: instances, MixedInstancesPolicy: { LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: 'lt-1', Version: '3' }, Overrides: overrides }, InstancesDistribution: { OnDemandBaseCapacity: 1 } } });
  asg.on(DescribeAutoScalingGroupsCommand).resolvesOnce({ AutoScalingGroups: [mixed([{ InstanceType: 'm5.large' }, { InstanceType: 'c5.large', WeightedCapacity: '1' }])] }).resolves({ AutoScalingGroups: [mixed([{ InstanceType: 'm5.large', WeightedCapacity: '2' }, { InstanceType: 'c5.large', WeightedCapacity: '1' }])] });
  ec2.on(DescribeInstancesCommand).resolves({
    Reservations: [{ Instances: [
      { InstanceId: 'i-od', LaunchTime: new Date('2025-01-01T00:00:00Z'), State: { Name: 'running' } },
      { InstanceId: 'i-spot', LaunchTime: new Date('2025-01-01T00:00:00Z'), State: { Name: 'running' }, InstanceLifecycle: 'spot' },
    ] }],
  });
  const s = await adapter.observeGroup('qa-rabbit');
  t.deepEqual(s.launch, { launchTemplate: { id: 'lt-1', name: undefined, version: 3 } });
  t.deepEqual(s.mixedPolicy, { instanceTypes: ['m5.large', 'c5.large'], onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 100, spotAllocationStrategy: 'lowest-price', onDemandAllocationStrategy: 'prioritized' });
  t.true(s.capacityRebalance);
  t.is(s.maxInstanceLifetime, 604_800);
  t.deepEqual(s.instances.map((i) => [i.instanceId, i.instanceType, i.market]), [['i-od', 'm5.large', 'on-demand'], ['i-spot', 'c5.large', 'spot']]);
  const err = await t.throwsAsync(adapter.observeGroup('qa-rabbit'), { instanceOf: DeployError });
  t.is(err?.code, 'mixed-instances-weighted');
  t.is(err?.exit, 2);
  t.regex(err!.message, /m5\.large × 2/);
});
