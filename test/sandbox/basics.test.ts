import test from 'ava';
import {
  DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand, paginateDescribeAutoScalingGroups,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, paginateDescribeInstances } from '@aws-sdk/client-ec2';
import { DescribeInstanceHealthCommand, paginateDescribeLoadBalancers } from '@aws-sdk/client-elastic-load-balancing';
import { GetObjectCommand, PutObjectCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Sandbox } from '../../orchestrator/sandbox';

test('real SDK clients talk to the simulation: a seeded group is InService with tags, IPs and LaunchTime', async (t) => {
  const sb = Sandbox.create({ seed: 3 });
  sb.seedGroup({ name: 'qa-web', capacity: 3, elb: { name: 'qa-web-elb' } });
  const { AutoScalingGroups } = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['qa-web'] }));
  const g = AutoScalingGroups![0];
  t.is(g.DesiredCapacity, 3);
  t.is(g.Instances!.length, 3);
  t.true(g.Instances!.every((i) => i.LifecycleState === 'InService' && i.HealthStatus === 'Healthy'));
  t.deepEqual(new Set(g.Instances!.map((i) => i.AvailabilityZone)).size, 3);
  const ids = g.Instances!.map((i) => i.InstanceId!);
  const r = await sb.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }));
  const insts = r.Reservations!.flatMap((x) => x.Instances!);
  t.is(insts.length, 3);
  for (const i of insts) {
    t.regex(i.PrivateIpAddress!, /^127\.\d+\.\d+\.\d+$/);
    t.is(i.State!.Name, 'running');
    t.true(i.LaunchTime instanceof Date);
    const tags = Object.fromEntries(i.Tags!.map((x) => [x.Key, x.Value]));
    t.is(tags['aws:autoscaling:groupName'], 'qa-web');
    t.regex(tags['aws:ec2launchtemplate:id']!, /^lt-/);
    t.is(tags['aws:ec2launchtemplate:version'], '1');
  }
  const h = await sb.clients.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: 'qa-web-elb' }));
  t.true(h.InstanceStates!.every((s) => s.State === 'InService'));
});

test('an unknown operation fails loudly, naming it', async (t) => {
  const sb = Sandbox.create();
  const { DescribeVpcsCommand } = await import('@aws-sdk/client-ec2');
  const err = await t.throwsAsync(sb.clients.ec2.send(new DescribeVpcsCommand({})));
  t.regex(err!.message, /ec2 operation DescribeVpcs is not implemented/);
  t.is(err!.name, 'SandboxUnsupportedOperation');
});

test('errors have AWS names and shapes', async (t) => {
  const sb = Sandbox.create();
  const e1: any = await t.throwsAsync(sb.clients.autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'nope', DesiredCapacity: 1 })));
  t.is(e1.name, 'ValidationError');
  t.is(e1.$fault, 'client');
  t.is(e1.$metadata.httpStatusCode, 400);
  const e2: any = await t.throwsAsync(sb.clients.elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: 'nope' })));
  t.is(e2.name, 'AccessPointNotFoundException');
  t.is(e2.Code, 'LoadBalancerNotFound');
  const e3: any = await t.throwsAsync(sb.clients.ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0123456789abcdef0'] })));
  t.is(e3.name, 'InvalidInstanceID.NotFound');
});

test('throttling goes through the SDK retry path ($metadata.attempts, recorded attempts)', async (t) => {
  const sb = Sandbox.create({ seed: 11, maxAttempts: 10, faults: { throttleRate: 0.6 } });
  sb.faults.throttleRate = 0;
  sb.seedGroup({ name: 'g', capacity: 1 });
  sb.faults.throttleRate = 0.6;
  let maxAttempts = 0;
  for (let k = 0; k < 20; k++) {
    const out = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({}));
    maxAttempts = Math.max(maxAttempts, out.$metadata.attempts!);
  }
  t.true(maxAttempts > 1);
  const throttled = sb.calls.filter((c) => c.error === 'Throttling');
  t.true(throttled.length > 0);
  t.is(sb.calls.filter((c) => !c.error).length, 20);
});

test('pagination with page size 1 via the SDK paginators', async (t) => {
  const sb = Sandbox.create({ pageSize: 1 });
  sb.seedGroup({ name: 'a', capacity: 2 });
  sb.seedGroup({ name: 'b', capacity: 1 });
  const names: string[] = [];
  for await (const p of paginateDescribeAutoScalingGroups({ client: sb.clients.autoScaling }, {})) {
    t.true(p.AutoScalingGroups!.length <= 1);
    names.push(...p.AutoScalingGroups!.map((g) => g.AutoScalingGroupName!));
  }
  t.deepEqual(names, ['a', 'b']);
  const ids: string[] = [];
  for await (const p of paginateDescribeInstances({ client: sb.clients.ec2 }, {})) {
    ids.push(...p.Reservations!.flatMap((r) => r.Instances!.map((i) => i.InstanceId!)));
  }
  t.is(ids.length, 3);
  sb.seedGroup({ name: 'c', capacity: 0, elb: { name: 'lb-c' } });
  sb.seedGroup({ name: 'd', capacity: 0, elb: { name: 'lb-d' } });
  const lbs: string[] = [];
  for await (const p of paginateDescribeLoadBalancers({ client: sb.clients.elb }, {})) {
    t.true(p.LoadBalancerDescriptions!.length <= 1);
    lbs.push(...p.LoadBalancerDescriptions!.map((l) => l.LoadBalancerName!));
  }
  t.deepEqual(lbs, ['lb-c', 'lb-d']);
});

test('S3 lock object: If-None-Match create, GetObject body, If-Match delete', async (t) => {
  const sb = Sandbox.create();
  const s3 = sb.clients.s3;
  const put = await s3.send(new PutObjectCommand({ Bucket: 'locks', Key: 'qa', Body: '{"holder":"me"}', IfNoneMatch: '*' }));
  const e: any = await t.throwsAsync(s3.send(new PutObjectCommand({ Bucket: 'locks', Key: 'qa', Body: 'x', IfNoneMatch: '*' })));
  t.is(e.name, 'PreconditionFailed');
  t.is(e.$metadata.httpStatusCode, 412);
  const got = await s3.send(new GetObjectCommand({ Bucket: 'locks', Key: 'qa' }));
  t.is(await got.Body!.transformToString(), '{"holder":"me"}');
  t.is(got.ETag, put.ETag);
  const e2: any = await t.throwsAsync(s3.send(new DeleteObjectCommand({ Bucket: 'locks', Key: 'qa', IfMatch: '"wrong"' })));
  t.is(e2.name, 'PreconditionFailed');
  await s3.send(new DeleteObjectCommand({ Bucket: 'locks', Key: 'qa', IfMatch: put.ETag }));
  const e3: any = await t.throwsAsync(s3.send(new GetObjectCommand({ Bucket: 'locks', Key: 'qa' })));
  t.is(e3.name, 'NoSuchKey');
  const e4: any = await t.throwsAsync(s3.send(new HeadObjectCommand({ Bucket: 'locks', Key: 'qa' })));
  t.is(e4.name, 'NotFound');
});
