/**
 * The baselines the benchmark compares our engine with: faithful re-implementations of what the
 * two seed tools did, written against the same AwsPort so they run on identical simulated fleets
 * and pay for the same API calls.
 *
 * - rolling (seeds/asg-rolling-upgrade-README.md): find the outdated instances, terminate the
 *   OLDEST one without decrementing desired (so the group is one short: 3-2-3), then test every
 *   `--sleep` (30 s) until it has been replaced, up to `--max_wait_attempts` (40) tests; repeat.
 * - A/B (seeds/ab-deployment-tool-README.md): set the empty color's desired to the instance count,
 *   test every `--update-timeout` (30 s) until the ASG reports them InService, then until the ELB
 *   does (each wait bounded by `--health-check-timeout`, 600 s), then set the old color's desired
 *   to 0. The seed exited there and let the ASG drain; to time both tools to the same end state
 *   (old color empty), the baseline keeps testing at its 30-s rhythm until the old color is empty.
 *
 * "Healthy" is the same for both tools: ASG InService + Healthy and InService in every attached
 * classic ELB.
 */
import type { AwsPort, GroupSnapshot, InstanceView, LaunchSpec } from '../aws/port';
import type { Clock } from '../clock';
import { rolloutError, refusedError } from '../errors';
import type { RolloutResult } from '../rollout/result';

export function sameLaunch(a: LaunchSpec, b: LaunchSpec): boolean {
  if (a.launchTemplate && b.launchTemplate) return a.launchTemplate.id === b.launchTemplate.id && a.launchTemplate.version === b.launchTemplate.version;
  if (a.launchConfigurationName !== undefined || b.launchConfigurationName !== undefined) return a.launchConfigurationName === b.launchConfigurationName;
  return false;
}

const LIVE = new Set(['Pending', 'Pending:Wait', 'Pending:Proceed', 'InService']);
const isLive = (i: InstanceView) => LIVE.has(i.lifecycleState);

export function isServing(i: InstanceView): boolean {
  return i.lifecycleState === 'InService' && i.healthStatus === 'Healthy' && Object.values(i.elb).every((h) => h.state === 'InService');
}

export function servingCount(g: GroupSnapshot): number {
  return g.instances.filter(isServing).length;
}

export interface BaselineRollingOptions {
  port: AwsPort;
  clock: Clock;
  group: string;
  /** Seconds between tests (the seed's --sleep, default 30). */
  sleepSeconds?: number;
  /** Tests per replacement (the seed's --max_wait_attempts, default 40). */
  maxWaitAttempts?: number;
}

/** The rolling seed: oldest outdated first, one at a time, terminate without decrement, poll every 30 s. */
export async function baselineRolling(o: BaselineRollingOptions): Promise<RolloutResult> {
  const sleepMs = (o.sleepSeconds ?? 30) * 1000;
  const attempts = o.maxWaitAttempts ?? 40;
  const start = o.clock.now();
  const calls0 = o.port.apiCalls();
  const replaced: string[] = [];
  for (;;) {
    const g = await o.port.observeGroup(o.group);
    const outdated = g.instances.filter((i) => isLive(i) && !sameLaunch(i.launchedFrom, g.launch));
    if (outdated.length === 0) break;
    const oldest = [...outdated].sort((x, y) => (x.launchTime ?? 0) - (y.launchTime ?? 0) || x.instanceId.localeCompare(y.instanceId))[0];
    await o.port.terminateInstance(oldest.instanceId, false);
    replaced.push(oldest.instanceId);
    let ok = false;
    for (let n = 0; n < attempts && !ok; n++) {
      await o.clock.sleep(sleepMs);
      const now = await o.port.observeGroup(o.group);
      const gone = !now.instances.some((i) => i.instanceId === oldest.instanceId && isLive(i));
      ok = gone && servingCount(now) >= now.desired;
    }
    if (!ok) throw rolloutError('baseline.timeout', `${o.group}: ${oldest.instanceId} not replaced by a healthy instance after ${attempts} tests every ${sleepMs / 1000} s`);
  }
  return {
    status: replaced.length ? 'done' : 'noop',
    target: o.group,
    strategy: 'rolling',
    replaced,
    seconds: (o.clock.now() - start) / 1000,
    apiCalls: o.port.apiCalls() - calls0,
    summary: `baseline replaced ${replaced.length} oldest first, 30-s polling`,
  };
}

export interface BaselineAbOptions {
  port: AwsPort;
  clock: Clock;
  groups: [string, string];
  /** New color's size (the seed's --instance-count, default 8). */
  instanceCount?: number;
  /** Seconds between tests (the seed's --update-timeout, default 30). */
  pollSeconds?: number;
  /** Bound of each wait (the seed's --health-check-timeout, default 600). */
  healthCheckTimeoutSeconds?: number;
  /** Keep testing until the old color is empty (see the file comment); default true. */
  waitForDrain?: boolean;
}

/** The A/B seed: scale the empty color, poll ASG then ELB every 30 s, then desired 0 on the old color. */
export async function baselineAb(o: BaselineAbOptions): Promise<RolloutResult> {
  const pollMs = (o.pollSeconds ?? 30) * 1000;
  const timeoutMs = (o.healthCheckTimeoutSeconds ?? 600) * 1000;
  const start = o.clock.now();
  const calls0 = o.port.apiCalls();
  const [a, b] = await Promise.all(o.groups.map((n) => o.port.observeGroup(n)));
  const populated = (g: GroupSnapshot) => g.desired > 0 || g.instances.some(isLive);
  if (populated(a) && populated(b)) throw refusedError('baseline.both-populated', `both ${a.name} and ${b.name} have instances`);
  const [active, target] = populated(a) ? [a, b] : [b, a];
  const count = o.instanceCount ?? 8;
  await o.port.updateSizes(target.name, { desired: count, max: Math.max(target.max, count) });

  const waitFor = async (what: string, ok: (g: GroupSnapshot) => boolean) => {
    const deadline = o.clock.now() + timeoutMs;
    for (;;) {
      await o.clock.sleep(pollMs);
      const g = await o.port.observeGroup(target.name, { elbHealth: what === 'ELB' });
      if (ok(g)) return;
      if (o.clock.now() >= deadline) throw rolloutError('baseline.timeout', `${target.name}: not ${what} healthy within ${timeoutMs / 1000} s`);
    }
  };
  await waitFor('ASG', (g) => g.instances.filter((i) => i.lifecycleState === 'InService' && i.healthStatus === 'Healthy').length >= count);
  await waitFor('ELB', (g) => servingCount(g) >= count);

  const replaced = active.instances.filter(isLive).map((i) => i.instanceId);
  if (populated(active)) await o.port.updateSizes(active.name, { min: 0, desired: 0 });
  if (o.waitForDrain ?? true) {
    for (;;) {
      const g = await o.port.observeGroup(active.name, { elbHealth: false });
      if (g.instances.length === 0) break;
      await o.clock.sleep(pollMs);
    }
  }
  return {
    status: 'done',
    target: `${a.name}/${b.name}`,
    strategy: 'ab',
    replaced,
    seconds: (o.clock.now() - start) / 1000,
    apiCalls: o.port.apiCalls() - calls0,
    summary: `baseline scaled ${target.name} to ${count}, drained ${active.name}, 30-s polling`,
  };
}
