/**
 * The post-update hooks `deploy` runs per service, wired to the one rollout engine: rolling
 * (`rollGroup`) where outdated instances exist, A/B (`abDeploy`) where the active color is
 * outdated (`--force`: swap anyway). `plan` is the dry run: read-only observation plus the
 * previewed change, no mutating call.
 */
import type { AwsPort, GroupSnapshot, InstanceView } from '../aws/port';
import type { Clock } from '../clock';
import type { Reporter } from '../report/reporter';
import type { RolloutResult } from '../rollout/result';
import { rollGroup } from '../rollout/roll';
import { abDeploy } from '../rollout/ab';
import { activeColorIsOutdated } from '../rollout/strategies/ab';
import type { HookOptions, PlanContext, ServiceHooks, ServicePlan } from './deploy-flow';
import { groupsOf, targetOf, type AbServiceManifest, type RollingServiceManifest, type ServiceManifest } from './manifest';
import { interruptedError, rolloutError } from '../errors';
import type { ResourceChange } from './port';

export interface EngineHooksOptions {
  port: AwsPort;
  clock: Clock;
  reporter: Reporter;
  /** `--lock-bucket-name`: the runs lock in S3 (`<env>.lock`, `<asg>.lock`) instead of the groups' tag. */
  lockBucket?: string;
}

/** Did the preview change what this service's instances launch from (image, type, template)? */
export function launchChanges(service: ServiceManifest, changes: ResourceChange[]): ResourceChange[] {
  const names = new Set([service.name, service.launchTemplate?.name, service.launchConfigurationName].filter(Boolean));
  return changes.filter(
    (c) => c.op !== 'same' && /LaunchTemplate|LaunchConfiguration/.test(c.type) && (names.has(c.name) || c.name.startsWith(`${service.name}-`)),
  );
}

/** The group's current launch template version, or its launch configuration. */
function launchKey(l: { launchTemplate?: { version: number }; launchConfigurationName?: string }): string {
  return l.launchTemplate ? `v${l.launchTemplate.version}` : `lc:${l.launchConfigurationName ?? ''}`;
}

const isLive = (i: InstanceView) => !/^Terminat/.test(i.lifecycleState) && i.lifecycleState !== 'Detached';

/** Instances not on the group's launch spec, oldest first (unknown launch time last). */
export function outdatedOldestFirst(group: GroupSnapshot, everything: boolean): InstanceView[] {
  const current = launchKey(group.launch);
  return group.instances
    .filter(isLive)
    .filter((i) => everything || launchKey(i.launchedFrom) !== current)
    .sort((a, b) => (a.launchTime ?? Infinity) - (b.launchTime ?? Infinity) || a.instanceId.localeCompare(b.instanceId));
}

/** Which color serves: the one with instances (A/B keeps the other at 0). */
export function activeColor(a: GroupSnapshot, b: GroupSnapshot): 'a' | 'b' | undefined {
  const count = (g: GroupSnapshot) => Math.max(g.desired, g.instances.filter(isLive).length);
  if (count(a) === 0 && count(b) === 0) return undefined;
  return count(b) > count(a) ? 'b' : 'a';
}

export async function planRolling(port: AwsPort, service: RollingServiceManifest, context: PlanContext): Promise<ServicePlan> {
  const group = await port.observeGroup(service.asgName, { elbHealth: false });
  const changed = launchChanges(service, context.changes).length > 0;
  const old = outdatedOldestFirst(group, changed);
  if (old.length === 0) return { action: 'none', instances: [], summary: `${service.service}: up to date, nothing to replace (${group.instances.length} instances)` };
  const ids = old.map((i) => i.instanceId);
  const batch = service.rollout.batchSize !== undefined && service.rollout.batchSize !== 1 ? `, batch ${service.rollout.batchSize}` : '';
  const why = changed ? 'the launch template changes' : 'instances not on the current launch template';
  return {
    action: 'roll',
    instances: ids,
    summary: `${service.service}: would replace ${ids.join(', ')} oldest first, surge ${service.rollout.surge}${batch}, never below ${service.rollout.minHealthy} healthy (${why})`,
  };
}

export async function planAb(port: AwsPort, service: AbServiceManifest, context: PlanContext): Promise<ServicePlan> {
  const [a, b] = await Promise.all([port.observeGroup(service.asgNames.a, { elbHealth: false }), port.observeGroup(service.asgNames.b, { elbHealth: false })]);
  const active = activeColor(a, b);
  if (!active) return { action: 'create', instances: [], summary: `${service.service}: would deploy into a, ${service.capacity} instances (neither color has any)` };
  const from = active === 'a' ? a : b;
  const to = active === 'a' ? 'b' : 'a';
  const changed = launchChanges(service, context.changes).length > 0;
  const outdated = changed || outdatedOldestFirst(from, false).length > 0;
  const count = Math.max(from.desired, service.capacity);
  const serving = from.instances.filter(isLive).map((i) => i.instanceId);
  if (!outdated && !context.force) return { action: 'none', instances: [], summary: `${service.service}: ${active} is up to date, no swap (--force swaps anyway)` };
  return {
    action: 'swap',
    instances: serving,
    summary: `${service.service}: would swap ${active} → ${to}, ${count} instances, then drain ${active}${outdated ? '' : ' (--force)'}`,
  };
}

/** Serving = InService and Healthy in the ASG and InService in every attached classic ELB. */
function serving(g: GroupSnapshot): number {
  return g.instances.filter((i) => i.lifecycleState === 'InService' && i.healthStatus === 'Healthy' && g.loadBalancerNames.every((lb) => i.elb[lb]?.state === 'InService')).length;
}

/**
 * A group this update created has nothing to roll: the hook waits until it serves its desired
 * capacity (Pulumi does not wait: waitForCapacityTimeout '0'), within `timeoutMs`.
 * Fixed polling every `pollMs` on the injected clock; read-only.
 */
export async function settleNewGroup(
  port: AwsPort,
  group: string,
  o: { clock: Clock; reporter: Reporter; signal: AbortSignal; timeoutMs: number; pollMs?: number },
): Promise<{ seconds: number; instances: number }> {
  const start = o.clock.now();
  let last = -1;
  for (;;) {
    const g = await port.observeGroup(group);
    const n = serving(g);
    if (n !== last) {
      o.reporter.emit('info', SettleCode, `${group}: ${n}/${g.desired} serving (new group)`, { asg: group, healthy: n, desired: g.desired, oldRemaining: 0, phase: 'launching' });
      last = n;
    }
    if (n >= g.desired) return { seconds: Math.round((o.clock.now() - start) / 1000), instances: n };
    if (o.clock.now() - start >= o.timeoutMs) {
      throw rolloutError('deploy.new-group-timeout', `${group}: only ${n} of ${g.desired} instances serving ${Math.round(o.timeoutMs / 1000)} s after the group was created`, {
        asg: group,
        healthy: n,
        desired: g.desired,
      });
    }
    await o.clock.sleep(o.pollMs ?? 5000, o.signal).catch((err) => {
      throw o.signal.aborted ? interruptedError('interrupted while waiting for a new group; nothing to restore') : err;
    });
  }
}

export const SettleCode = 'deploy.group.settle';

/** Hooks wired to the engines. */
export function engineHooks(options: EngineHooksOptions): ServiceHooks {
  const { port, clock } = options;
  return {
    plan(service, context) {
      return service.strategy === 'rolling' ? planRolling(port, service, context) : planAb(port, service, context);
    },
    async rollout(service: ServiceManifest, hook: HookOptions): Promise<RolloutResult> {
      const reporter = hook.reporter ?? options.reporter;
      const common = { port, clock, reporter, signal: hook.signal };
      const created = groupsOf(service).filter((g) => hook.changes.some((c) => c.op === 'create' && /autoscaling\/group/.test(c.type) && c.name === g));
      if (created.length > 0) {
        const calls = port.apiCalls();
        const timeoutMs = 1000 * (service.strategy === 'rolling' ? service.rollout.stepTimeoutSeconds ?? 600 : service.rollout.healthCheckTimeoutSeconds);
        let seconds = 0;
        let instances = 0;
        for (const g of created) {
          const r = await settleNewGroup(port, g, { clock, reporter, signal: hook.signal, timeoutMs, pollMs: hook.pollIntervalSeconds && hook.pollIntervalSeconds * 1000 });
          seconds += r.seconds;
          instances += r.instances;
        }
        return { status: 'done', target: targetOf(service), strategy: service.strategy, replaced: [], seconds, apiCalls: port.apiCalls() - calls, summary: `new: ${instances} instances serving in ${created.join(', ')}` };
      }
      if (service.strategy === 'rolling') {
        return rollGroup({
          ...common,
          asg: service.asgName,
          surge: service.rollout.surge,
          minHealthy: service.rollout.minHealthy,
          batchSize: service.rollout.batchSize,
          stepTimeoutMs: service.rollout.stepTimeoutSeconds === undefined ? undefined : service.rollout.stepTimeoutSeconds * 1000,
          pollIntervalMs: hook.pollIntervalSeconds === undefined ? undefined : hook.pollIntervalSeconds * 1000,
          // The group's lock for the whole rollout, as `roll` takes it (and as the ab hook does).
          lock: {},
          lockBucket: options.lockBucket,
          reason: `asg-deploy deploy: ${service.service}`,
        });
      }
      const [a, b] = await Promise.all([port.observeGroup(service.asgNames.a, { elbHealth: false }), port.observeGroup(service.asgNames.b, { elbHealth: false })]);
      // One piece of code for one decision: the A/B strategy's own predicate.
      if (!hook.force && !activeColorIsOutdated(a, b)) {
        return { status: 'noop', target: service.environment, strategy: 'ab', replaced: [], seconds: 0, apiCalls: 0, summary: `active color ${activeColor(a, b)} is up to date; no swap` };
      }
      return abDeploy({
        ...common,
        environment: service.environment,
        groups: service.asgNames,
        elbNames: service.elbNames,
        instanceCount: service.capacity,
        healthCheckTimeout: service.rollout.healthCheckTimeoutSeconds,
        instanceCountStep: service.rollout.instanceCountStep,
        pollInterval: hook.pollIntervalSeconds,
        force: hook.force,
        reason: `asg-deploy deploy: ${service.service}`,
        lockBucket: options.lockBucket,
      });
    },
  };
}
