import test from 'ava';
import {
  CreateOrUpdateTagsCommand, DeleteAutoScalingGroupCommand, DeleteTagsCommand, DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand, DescribeTagsCommand, SetInstanceProtectionCommand, SuspendProcessesCommand,
  paginateDescribeScalingActivities,
} from '@aws-sdk/client-auto-scaling';
import { DeleteLaunchTemplateVersionsCommand, DescribeLaunchTemplateVersionsCommand, ModifyLaunchTemplateCommand } from '@aws-sdk/client-ec2';
import { DescribeLoadBalancerAttributesCommand, ModifyLoadBalancerAttributesCommand } from '@aws-sdk/client-elastic-load-balancing';
import { TICK_MS } from '../../orchestrator/sandbox/world';
import { active, sandbox, setDesired } from './helpers';

test('$Default and $Latest are resolved at each launch; the group reports the version as given', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1, max: 4 });
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'g', LaunchTemplate: { LaunchTemplateName: 'g-lt', Version: '$Default' } });
  const v2 = sb.newLaunchTemplateVersion('g-lt', { ImageId: 'ami-v2' });
  setDesired(sb, 'g', 2);
  sb.settle();
  t.deepEqual(active(sb, 'g').map((i) => i.launch.kind === 'lt' && i.launch.version), [1, 1], '$Default is still 1');
  const lt = sb.world.findLaunchTemplate({ name: 'g-lt' })!;
  await sb.clients.ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: lt.id, DefaultVersion: String(v2) }));
  setDesired(sb, 'g', 3);
  sb.settle();
  t.is(active(sb, 'g').filter((i) => i.launch.kind === 'lt' && i.launch.version === 2).length, 1);
  const { AutoScalingGroups } = await sb.clients.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['g'] }));
  t.is(AutoScalingGroups![0].LaunchTemplate!.Version, '$Default');
  t.deepEqual(AutoScalingGroups![0].Instances!.map((i) => i.LaunchTemplate!.Version).sort(), ['1', '1', '2']);
  const versions = await sb.clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.id, Versions: ['$Latest', '$Default'] }));
  t.deepEqual(versions.LaunchTemplateVersions!.map((v) => v.VersionNumber), [2]);
  t.is(versions.LaunchTemplateVersions![0].LaunchTemplateData!.ImageId, 'ami-v2');
  t.is(versions.LaunchTemplateVersions![0].LaunchTemplateData!.InstanceType, 't3.small', 'SourceVersion data carried over');
});

test('[LT-3] DeleteLaunchTemplateVersions: deletes named versions, never the default; a deleted version is VersionNotFound; instances launched from it stay', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 1 });
  const lt = sb.world.findLaunchTemplate({ name: 'g-lt' })!;
  sb.newLaunchTemplateVersion('g-lt', { ImageId: 'ami-v2' }, { makeDefault: true });
  const out = await sb.clients.ec2.send(new DeleteLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.id, Versions: ['1', '2', '7'] }));
  t.deepEqual(out.SuccessfullyDeletedLaunchTemplateVersions!.map((v) => v.VersionNumber), [1]);
  t.deepEqual(
    out.UnsuccessfullyDeletedLaunchTemplateVersions!.map((v) => [v.VersionNumber, v.ResponseError?.Code]),
    [[2, 'unexpectedError'], [7, 'launchTemplateVersionDoesNotExist']],
  );
  const e: any = await t.throwsAsync(sb.clients.ec2.send(new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.id, Versions: ['1'] })));
  t.is(e.name, 'InvalidLaunchTemplateId.VersionNotFound');
  t.deepEqual(active(sb, 'g').map((i) => i.launch.kind === 'lt' && i.launch.version), [1], 'the instance launched from version 1 is untouched');
});

test('DeleteAutoScalingGroup: ResourceInUse with instances, ForceDelete terminates them', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2 });
  const e: any = await t.throwsAsync(sb.clients.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'g' })));
  t.is(e.name, 'ResourceInUseFault');
  const ids = active(sb, 'g').map((i) => i.id);
  await sb.clients.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: 'g', ForceDelete: true }));
  t.true(sb.world.state.groups.g.deleting, '"Delete in progress" while its instances terminate [ASG-8]');
  sb.advance(60_000);
  t.true(ids.every((id) => sb.world.state.instances[id].ec2State === 'terminated'));
  t.false('g' in sb.world.state.groups);
});

test('tags: create, update, describe with filters, delete; leftovers reports tag changes', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 0, tags: { team: 'core' } });
  sb.seedGroup({ name: 'h', capacity: 0 });
  sb.monitor.baseline();
  const as = sb.clients.autoScaling;
  await as.send(new CreateOrUpdateTagsCommand({ Tags: [{ ResourceId: 'g', ResourceType: 'auto-scaling-group', Key: 'asg-deploy:rollout', Value: 'run-1', PropagateAtLaunch: false }] }));
  const tags = await as.send(new DescribeTagsCommand({ Filters: [{ Name: 'auto-scaling-group', Values: ['g'] }] }));
  t.deepEqual(tags.Tags!.map((x) => `${x.Key}=${x.Value}`).sort(), ['asg-deploy:rollout=run-1', 'team=core']);
  t.deepEqual(sb.monitor.leftovers('g').map((l) => l.what), ['tag']);
  await as.send(new DeleteTagsCommand({ Tags: [{ ResourceId: 'g', ResourceType: 'auto-scaling-group', Key: 'asg-deploy:rollout' }] }));
  t.deepEqual(sb.monitor.leftovers('g'), []);
  const byKey = await as.send(new DescribeTagsCommand({ Filters: [{ Name: 'key', Values: ['team'] }] }));
  t.deepEqual(byKey.Tags!.map((x) => x.ResourceId), ['g']);
});

test('leftovers: suspended processes and scale-in protection are reported until restored', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2 });
  sb.monitor.baseline();
  const as = sb.clients.autoScaling;
  await as.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'g', ScalingProcesses: ['AZRebalance'] }));
  const id = active(sb, 'g')[0].id;
  await as.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'g', InstanceIds: [id], ProtectedFromScaleIn: true }));
  t.deepEqual(sb.monitor.leftovers('g').map((l) => l.what).sort(), ['protection', 'suspended']);
  const e: any = await t.throwsAsync(as.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'g', InstanceIds: ['i-0000000000000000a'], ProtectedFromScaleIn: true })));
  t.is(e.name, 'ValidationError');
  const many = Array.from({ length: 51 }, (_, k) => `i-${String(k).padStart(17, '0')}`);
  const e2: any = await t.throwsAsync(as.send(new SetInstanceProtectionCommand({ AutoScalingGroupName: 'g', InstanceIds: many, ProtectedFromScaleIn: true })));
  t.is(e2.name, 'LimitExceededFault');
});

test('scaling activities: launches and terminations, newest first, paginated', async (t) => {
  const sb = sandbox({ pageSize: 1 });
  sb.seedGroup({ name: 'g', capacity: 2 });
  setDesired(sb, 'g', 1);
  sb.advance(TICK_MS);
  const first = await sb.clients.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: 'g' }));
  t.is(first.Activities!.length, 1);
  t.regex(first.Activities![0].Description!, /^Terminating EC2 instance: i-/);
  const all: string[] = [];
  for await (const p of paginateDescribeScalingActivities({ client: sb.clients.autoScaling }, { AutoScalingGroupName: 'g' })) all.push(...p.Activities!.map((a) => a.Description!));
  t.is(all.length, 3);
  t.is(all.filter((d) => d.startsWith('Launching a new EC2 instance: i-')).length, 2);
});

test('connection draining attributes round-trip', async (t) => {
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 0, elb: { name: 'lb', drainingTimeout: 0 } });
  await sb.clients.elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerName: 'lb', LoadBalancerAttributes: { ConnectionDraining: { Enabled: true, Timeout: 45 } } }));
  const out = await sb.clients.elb.send(new DescribeLoadBalancerAttributesCommand({ LoadBalancerName: 'lb' }));
  t.deepEqual(out.LoadBalancerAttributes!.ConnectionDraining, { Enabled: true, Timeout: 45 });
  const e: any = await t.throwsAsync(sb.clients.elb.send(new ModifyLoadBalancerAttributesCommand({ LoadBalancerName: 'lb', LoadBalancerAttributes: { ConnectionDraining: { Enabled: true, Timeout: 4000 } } })));
  t.is(e.name, 'InvalidConfigurationRequestException');
});

test('SetInstanceHealth: Unhealthy is replaced; inside the grace period it is ignored unless told not to respect it', async (t) => {
  const { SetInstanceHealthCommand } = await import('@aws-sdk/client-auto-scaling');
  const sb = sandbox();
  sb.seedGroup({ name: 'g', capacity: 2, healthCheckGracePeriod: 3600 });
  const [a, b] = active(sb, 'g');
  await sb.clients.autoScaling.send(new SetInstanceHealthCommand({ InstanceId: a.id, HealthStatus: 'Unhealthy' }));
  t.is(a.health, 'Healthy', 'inside the grace period');
  await sb.clients.autoScaling.send(new SetInstanceHealthCommand({ InstanceId: b.id, HealthStatus: 'Unhealthy', ShouldRespectGracePeriod: false }));
  t.is(b.health, 'Unhealthy');
  sb.advance(TICK_MS);
  t.is(b.lifecycle, 'Terminating');
  t.is(sb.monitor.terminations({ cause: ['replace-unhealthy'] })[0].instanceId, b.id);
});
