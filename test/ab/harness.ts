/**
 * An A/B environment on the simulated AWS: `qa-a` serving `count` instances of launch template
 * version 1, `qa-b` empty, both on one launch template at `$Latest`, each with its classic ELB;
 * then version 2 (good, or a bad image) so the next swap deploys it.
 */
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { abDeploy, type AbDeployOptions } from '../../orchestrator/rollout/ab/runner';
import { Sandbox } from '../../orchestrator/sandbox';

export interface AbEnvOptions {
  count?: number;
  /** Instances already in qa-b (both populated). */
  bCount?: number;
  /** Version 2's image never becomes healthy. */
  badV2?: boolean;
  /** Skip creating version 2. */
  noV2?: boolean;
  drainingTimeout?: number;
  seed?: number;
  empty?: boolean;
  /** qa-b's `bCount` instances are launched after version 2 exists (b up to date, a not). */
  bOnV2?: boolean;
}

export function abEnv(o: AbEnvOptions = {}) {
  const sandbox = Sandbox.create({ seed: o.seed ?? 7, faults: { bootSeconds: { min: 30, max: 50 }, appStartSeconds: 10 } });
  const count = o.count ?? 4;
  const lt = 'qa-lt';
  const elb = (name: string) => ({ name, healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 }, drainingTimeout: o.drainingTimeout ?? 60 });
  sandbox.seedGroup({ name: 'qa-a', capacity: o.empty ? 0 : count, min: o.empty ? 0 : count, max: 10, launchTemplateName: lt, imageId: 'ami-v1', elb: elb('qa-a') });
  sandbox.seedGroup({ name: 'qa-b', capacity: o.bOnV2 ? 0 : o.bCount ?? 0, min: 0, max: 10, launchTemplateName: lt, elb: elb('qa-b') });
  if (o.badV2) sandbox.setImage('ami-bad', { healthy: false });
  if (!o.noV2) sandbox.newLaunchTemplateVersion(lt, { ImageId: o.badV2 ? 'ami-bad' : 'ami-v2' });
  if (o.bOnV2 && o.bCount) {
    sandbox.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: 'qa-b', DesiredCapacity: o.bCount });
    sandbox.settle({ group: 'qa-b' });
  }
  sandbox.monitor.baseline();
  const reporter = new RecordingReporter(sandbox.clock);
  const ids = (group: string) =>
    Object.values(sandbox.world.state.instances)
      .filter((i) => i.group === group && i.ec2State !== 'terminated')
      .map((i) => i.id)
      .sort();
  /** Instances of `group` still taking or able to take requests: not shutting down or terminated. */
  const live = (group: string) =>
    Object.values(sandbox.world.state.instances)
      .filter((i) => i.group === group && i.ec2State !== 'terminated' && i.ec2State !== 'shutting-down')
      .map((i) => i.id)
      .sort();
  const group = (name: string) => sandbox.world.state.groups[name];
  return {
    sandbox,
    reporter,
    ids,
    live,
    group,
    /** abDeploy on this sandbox (client set `actor`, default the sandbox's own). */
    run(options: Partial<AbDeployOptions> = {}, actor?: string) {
      const clients = actor ? sandbox.newClients(actor) : sandbox.clients;
      return abDeploy({ clients, clock: sandbox.clock, reporter, environment: 'qa', instanceCount: count, ...options });
    },
    port: (actor?: string) => createAwsPort(actor ? sandbox.newClients(actor) : sandbox.clients, sandbox.clock),
    /** Healthy instances over both colors at every change: the environment's serving count. */
    servingTimeline(): Array<{ time: number; a: number; b: number }> {
      const sa = sandbox.monitor.samples('qa-a');
      const sb = sandbox.monitor.samples('qa-b');
      const times = [...new Set([...sa, ...sb].map((s) => s.time))].sort((x, y) => x - y);
      return times.map((time) => ({ time, a: sandbox.monitor.healthyCount('qa-a', time), b: sandbox.monitor.healthyCount('qa-b', time) }));
    },
    /** Time of the first mutating call on `group` matching `operation`. */
    mutations(operation?: string) {
      return sandbox.calls.filter((c) => c.mutating && (!operation || c.operation === operation));
    },
  };
}
