/**
 * The post-update hooks `deploy` runs per service, wired to the one rollout engine: rolling
 * (`rollGroup`) where outdated instances exist, A/B (`abDeploy`) where the active color is
 * outdated (`--force`: swap anyway). `plan` is the dry run: read-only observation plus the
 * previewed change, no mutating call.
 */
import type { AwsPort, GroupSnapshot, InstanceView, LaunchSpec } from '../aws/port';
import type { Clock } from '../clock';
import type { Reporter } from '../report/reporter';
import type { RolloutResult } from '../rollout/result';
import { rollGroup } from '../rollout/rolling/runner';
import { RollbackCode, stackDisagreement, type RollbackOutcome } from '../rollout/rolling/rollback';
import { abDeploy, abPlanOptions, findForwards, findNeighbours, type AbDeployOptions } from '../rollout/ab/runner';
import { awsVerdict } from '../rollout/health';
import { decideAbHook, planAb as planAbSwap } from '../rollout/ab/strategy';
import { describeSteps } from '../rollout/ab/traffic';
import type { HookOptions, PlanContext, ServiceHooks, ServicePlan } from './deploy-flow';
import { groupsOf, targetOf, type AbServiceManifest, type RollingServiceManifest, type ServiceManifest } from './manifest';
import { DeployError, interruptedError, rolloutError } from '../errors';
import { retryingPort } from '../aws/transient';
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

/**
 * What deploy's A/B hook hands `abDeploy` for a service: the dry run plans from exactly these
 * options (count, step, ELBs) with the planner the run uses, so both promise the same count.
 */
export function abRunOptions(service: AbServiceManifest): Pick<AbDeployOptions, 'environment' | 'groups' | 'elbNames' | 'instanceCount' | 'healthCheckTimeout' | 'instanceCountStep' | 'trafficSteps' | 'stepWait' | 'keepOld'> {
  return {
    environment: service.environment,
    groups: service.asgNames,
    elbNames: service.elbNames,
    instanceCount: service.capacity,
    healthCheckTimeout: service.rollout.healthCheckTimeoutSeconds,
    instanceCountStep: service.rollout.instanceCountStep,
    // Config trafficSteps / stepWait (ALB/NLB): the swap shifts the weights in these steps, as `ab --traffic-steps`.
    ...(service.rollout.trafficSteps ? { trafficSteps: service.rollout.trafficSteps } : {}),
    ...(service.rollout.stepWaitSeconds !== undefined ? { stepWait: service.rollout.stepWaitSeconds } : {}),
    ...(service.rollout.keepOldSeconds !== undefined ? { keepOld: service.rollout.keepOldSeconds } : {}),
  };
}

export async function planAb(port: AwsPort, service: AbServiceManifest, context: PlanContext): Promise<ServicePlan> {
  const [a, b] = await Promise.all([port.observeGroup(service.asgNames.a, { elbHealth: false }), port.observeGroup(service.asgNames.b, { elbHealth: false })]);
  const changed = launchChanges(service, context.changes).length > 0;
  const decision = decideAbHook(a, b, { force: context.force, launchChanged: changed });
  if (decision.kind === 'none') return { action: 'none', instances: [], summary: `${service.service}: ${activeColor(a, b)} is up to date, no swap (--force swaps anyway)` };
  // On target groups the planner needs the weighted forward, as the run finds it (read-only).
  const forwards = await findForwards(port, a, b);
  const neighbours = await findNeighbours(port, a, b);
  const planned = planAbSwap({ a, b, names: service.asgNames, forwards, neighbours }, abPlanOptions(abRunOptions(service)));
  if (planned.kind === 'refuse') {
    return { action: 'none', instances: [], summary: `${service.service}: a real run would be refused (exit ${planned.exit}): ${planned.message}` };
  }
  if (planned.kind !== 'swap') return { action: 'none', instances: [], summary: `${service.service}: ${planned.summary}` };
  const color = (name?: string) => (name === service.asgNames.a ? 'a' : name === service.asgNames.b ? 'b' : name);
  if (!planned.from) return { action: 'create', instances: [], summary: `${service.service}: would deploy into ${color(planned.to)}, ${planned.count} instances (neither color has any)` };
  if (decision.kind === 'resume') {
    return {
      action: 'swap',
      instances: planned.replacing,
      summary: `${service.service}: would finish the swap ${color(planned.from)} → ${color(planned.to)} an earlier run left unfinished, ${planned.count} instances, then drain ${color(planned.from)}`,
    };
  }
  return {
    action: 'swap',
    instances: planned.replacing,
    summary: `${service.service}: would swap ${color(planned.from)} → ${color(planned.to)}, ${planned.count} instances, ${planned.traffic ? `shift traffic to ${color(planned.to)} (${describeSteps(planned.traffic)}), ` : ''}then drain ${color(planned.from)}${decision.why === '--force' ? ' (--force)' : ''}`,
  };
}

/** Serving = the AWS verdict of the health seam: the ASG, every attached classic ELB and every attached target group. */
function serving(g: GroupSnapshot): number {
  return g.instances.filter((i) => awsVerdict(i, g.loadBalancerNames, g.targetGroupARNs).healthy).length;
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
  // The hook's own reads follow the port's retry policy, as the engines' do (chaos seed
  // 3415651087: a throttled read before the swap surfaced as an internal error). The engines get
  // the bare port: they apply the policy with their own signal.
  const reads = (signal?: AbortSignal) => retryingPort(port, { clock, reporter: options.reporter, signal });
  return {
    plan(service, context) {
      return service.strategy === 'rolling' ? planRolling(reads(), service, context) : planAb(reads(), service, context);
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
        return rollingWithStack(service, reporter, reads(hook.signal), () => rollGroup({
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
          ...(service.alarms?.length ? { alarms: service.alarms } : {}),
          ...(hook.rollback ? { rollback: true } : {}),
        }));
      }
      const read = reads(hook.signal);
      const [a, b] = await Promise.all([read.observeGroup(service.asgNames.a, { elbHealth: false }), read.observeGroup(service.asgNames.b, { elbHealth: false })]);
      // One decision for the run and its dry run (rollout/ab/strategy.ts): an unfinished swap recorded
      // on the colors is resumed whatever the versions say; both populated is refused by the run.
      const decision = decideAbHook(a, b, { force: hook.force });
      if (decision.kind === 'none') {
        return { status: 'noop', target: service.environment, strategy: 'ab', replaced: [], seconds: 0, apiCalls: 0, summary: `active color ${activeColor(a, b)} is up to date; no swap` };
      }
      return abDeploy({
        ...common,
        ...abRunOptions(service),
        pollInterval: hook.pollIntervalSeconds,
        force: hook.force,
        reason: `asg-deploy deploy: ${service.service}`,
        lockBucket: options.lockBucket,
        ...(service.alarms?.length ? { alarms: service.alarms } : {}),
        ...(hook.rollback ? { rollback: true } : {}),
      });
    },
  };
}

/** The launch spec the stack declares for a rolling service (its manifest), if any. */
function declaredLaunch(service: RollingServiceManifest): LaunchSpec | undefined {
  if (service.launchTemplate) return { launchTemplate: service.launchTemplate };
  return service.launchConfigurationName ? { launchConfigurationName: service.launchConfigurationName } : undefined;
}

/**
 * A rolling service's rollout, told when the group and the stack disagree (rolling/rollback.ts
 * stackDisagreement): after this run rolled the group back (the error's `data.rollback`), or on a
 * later deploy whose rollout had nothing to do because the group still runs the version it was
 * rolled back to. Said in the summary (the error's message, the result's summary), in a
 * `rollout.rollback` event (state `stack-disagrees`) and in the data (`stackDisagrees`).
 */
async function rollingWithStack(service: RollingServiceManifest, reporter: Reporter, read: AwsPort, run: () => Promise<RolloutResult>): Promise<RolloutResult> {
  const declared = declaredLaunch(service);
  const tell = (group: LaunchSpec) => {
    const d = stackDisagreement(declared, group);
    if (d) reporter.emit('warn', RollbackCode, `${service.service}: ${d.message}`, { asg: service.asgName, state: 'stack-disagrees', ...d.data });
    return d;
  };
  let result: RolloutResult;
  try {
    result = await run();
  } catch (err) {
    const rb = err instanceof DeployError ? (err.data.rollback as RollbackOutcome | undefined) : undefined;
    // The group was set back (done, or a rollback a re-run finishes): the stack still says the new version.
    const d = rb?.to && rb.status !== 'refused' && rb.status !== 'skipped' ? tell(rb.to) : undefined;
    if (!d || !(err instanceof DeployError)) throw err;
    throw new DeployError(err.code, `${err.message}; ${d.message}`, { source: err.source, exit: err.exit, data: { ...err.data, stackDisagrees: d.data }, cause: err });
  }
  if (result.status !== 'noop' || !declared) return result;
  const d = tell((await read.observeGroup(service.asgName, { elbHealth: false })).launch);
  return d ? { ...result, summary: `${result.summary}; ${d.message}` } : result;
}
