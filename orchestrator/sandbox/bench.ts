/**
 * Sandbox benchmark: a 1,000-instance group behind a classic ELB through a full oldest-first
 * replacement, driven like a rollout tool would — through the real SDK clients, polling every
 * 10 s of simulated time. Reports real time, simulated time, API calls and memory.
 *
 *   node --import tsx orchestrator/sandbox/bench.ts [instances] [batch]
 *
 * `benchSandbox()` is also what the project benchmark (`npm run bench`) can call.
 */
import { DescribeAutoScalingGroupsCommand, SetDesiredCapacityCommand, TerminateInstanceInAutoScalingGroupCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeInstanceHealthCommand } from '@aws-sdk/client-elastic-load-balancing';
import { Sandbox } from './index';

export interface SandboxBenchResult {
  instances: number;
  batch: number;
  replaced: number;
  simulatedSeconds: number;
  realMs: number;
  apiCalls: number;
  /** Heap used after the run, MB. */
  heapMB: number;
  minHealthy: number;
  healthyUpToDateTerminated: number;
}

export async function benchSandbox(options: { instances?: number; batch?: number; seed?: number } = {}): Promise<SandboxBenchResult> {
  const n = options.instances ?? 1000;
  const batch = options.batch ?? 10;
  const sb = Sandbox.create({ seed: options.seed ?? 1, faults: { bootSeconds: { min: 40, max: 90 } } });
  sb.seedGroup({ name: 'bench', capacity: n, max: n + batch, elb: { name: 'bench-lb', drainingTimeout: 30 } });
  const v2 = String(sb.newLaunchTemplateVersion('bench-lt', { ImageId: 'ami-v2' }));
  sb.monitor.baseline();
  const { autoScaling, elb } = sb.clients;
  const simStart = sb.clock.now();
  const realStart = performance.now();
  let replaced = 0;

  const observe = async () => {
    const g = (await autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['bench'] }))).AutoScalingGroups![0];
    const health = await elb.send(new DescribeInstanceHealthCommand({ LoadBalancerName: 'bench-lb' }));
    const inService = new Set(health.InstanceStates!.filter((s) => s.State === 'InService' && s.ReasonCode === 'N/A').map((s) => s.InstanceId));
    const instances = g.Instances!.filter((i) => i.LifecycleState === 'InService');
    const healthy = instances.filter((i) => i.HealthStatus === 'Healthy' && inService.has(i.InstanceId));
    return { desired: g.DesiredCapacity!, total: g.Instances!.length, instances, healthy, old: instances.filter((i) => i.LaunchTemplate?.Version !== v2) };
  };

  for (;;) {
    let o = await observe();
    if (o.old.length === 0 && o.healthy.length === n) break;
    const surge = Math.min(batch, o.old.length);
    if (o.desired === n) await autoScaling.send(new SetDesiredCapacityCommand({ AutoScalingGroupName: 'bench', DesiredCapacity: n + surge }));
    // Wait until the surge is healthy.
    while ((o = await observe()).healthy.length < n + surge) await sb.clock.sleep(10_000);
    const launchTimes = new Map(Object.values(sb.world.state.instances).map((i) => [i.id, i.launchTime]));
    const victims = o.old.sort((a, b) => launchTimes.get(a.InstanceId!)! - launchTimes.get(b.InstanceId!)!).slice(0, surge);
    for (const v of victims) {
      await autoScaling.send(new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: v.InstanceId, ShouldDecrementDesiredCapacity: true }));
      replaced++;
    }
    while ((o = await observe()).total !== n) await sb.clock.sleep(10_000);
  }

  const realMs = performance.now() - realStart;
  return {
    instances: n,
    batch,
    replaced,
    simulatedSeconds: (sb.clock.now() - simStart) / 1000,
    realMs,
    apiCalls: sb.calls.length,
    heapMB: process.memoryUsage().heapUsed / 1e6,
    minHealthy: sb.monitor.minHealthy('bench'),
    healthyUpToDateTerminated: sb.monitor.healthyUpToDateTerminated('bench').length,
  };
}

if (require.main === module) {
  const [instances, batch] = process.argv.slice(2).map(Number);
  benchSandbox({ instances: instances || undefined, batch: batch || undefined }).then((r) => {
    const h = (r.simulatedSeconds / 3600).toFixed(2);
    process.stdout.write(
      `sandbox bench: ${r.instances} instances, ${r.replaced} replaced ${r.batch} at a time\n` +
        `  simulated ${h} h in ${(r.realMs / 1000).toFixed(2)} s real (${Math.round(r.simulatedSeconds / (r.realMs / 1000))}x), ` +
        `${r.apiCalls} API calls, heap ${r.heapMB.toFixed(0)} MB\n` +
        `  min healthy ${r.minHealthy}/${r.instances}, healthy up-to-date terminated: ${r.healthyUpToDateTerminated}\n`,
    );
  });
}
