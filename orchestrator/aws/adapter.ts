/**
 * The AWS SDK v3 adapter behind {@link AwsPort}: thin `client.send(new XCommand(input))` calls,
 * SDK paginators, `$Latest`/`$Default` resolved to a number once, and a per-instance EC2 cache
 * so that one poll of a group costs at most:
 *
 *   1 × DescribeAutoScalingGroups
 *   1 × DescribeInstances per 200 instance ids, only for ids not seen before (and ids whose EC2
 *       data was still incomplete: no LaunchTime yet / still 'pending' without a private address)
 *   1 × DescribeInstanceHealth per attached classic ELB
 *
 * Launch template versions: a group's `$Latest`/`$Default` is resolved with
 * DescribeLaunchTemplateVersions and cached per template for the life of this adapter (one
 * adapter per run: a new version can appear between runs, not within one). Call
 * {@link AwsAdapter.forgetLaunchTemplates} to re-resolve.
 *
 * What an instance was launched from comes from its EC2 tags `aws:ec2launchtemplate:id` /
 * `aws:ec2launchtemplate:version` (they record the launch itself), falling back to the ASG's
 * per-instance LaunchTemplate / LaunchConfigurationName field.
 *
 * Mixed instances policies: the policy's launch template is the group's launch spec, whatever
 * instance type an override gives an instance (an instance is outdated when its template or
 * version differs, never for its type). Overrides that name their own launch template are
 * rejected (`mixed-instances-unsupported`, exit 2), because "outdated" would then depend on the
 * instance type; so are instance weights other than 1 (`mixed-instances-weighted`, exit 2): the
 * group's sizes would be capacity units, not instances, and the rollout counts instances.
 *
 * API calls are counted per attempt: every response and every error carries the SDK's
 * `$metadata.attempts` (retries included); a call without metadata (mocks) counts once.
 *
 * Retries (aws/transient.ts, the one policy): reads keep the SDK's own retries; every MUTATING
 * call is sent exactly once — the SDK's retry middleware is replaced, for that command only, by
 * the same middleware with a one-attempt strategy — so a write is repeated only by the port's
 * policy (idempotent writes) or after a fresh look by the engine (terminate).
 */
import {
  CreateOrUpdateTagsCommand,
  DeleteTagsCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeScalingActivitiesCommand,
  ResumeProcessesCommand,
  SetDesiredCapacityCommand,
  SetInstanceProtectionCommand,
  DescribeInstanceRefreshesCommand,
  DescribeLifecycleHooksCommand,
  DescribeWarmPoolCommand,
  DescribeLaunchConfigurationsCommand,
  SuspendProcessesCommand,
  TerminateInstanceInAutoScalingGroupCommand,
  UpdateAutoScalingGroupCommand,
  paginateDescribeAutoScalingGroups,
  paginateDescribeAutoScalingInstances,
  type AutoScalingGroup,
  type LaunchTemplateSpecification,
} from '@aws-sdk/client-auto-scaling';
import { DescribeInstancesCommand, DescribeLaunchTemplateVersionsCommand, type Instance as Ec2Instance } from '@aws-sdk/client-ec2';
import {
  DescribeInstanceHealthCommand,
  DescribeLoadBalancerAttributesCommand,
  DescribeLoadBalancersCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeListenersCommand,
  DescribeLoadBalancersCommand as DescribeLoadBalancersV2Command,
  DescribeRulesCommand,
  DescribeTargetGroupAttributesCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  type Action as Elbv2Action,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { StandardRetryStrategy, getRetryPlugin } from '@smithy/core/retry';
import type { Clock } from '../clock';
import { DeployError, usageError } from '../errors';
import type { AwsClients } from './clients';
import type {
  AlarmView,
  AwsPort,
  ElbInfo,
  ElbInstanceHealth,
  ForeignTarget,
  GroupSnapshot,
  InstanceView,
  LaunchSpec,
  LifecycleHookView,
  LockRecord,
  MixedPolicyView,
  ObserveOptions,
  TargetGroupInfo,
  TargetHealthView,
  TrafficForward,
  ListenerRuleView,
  WarmPoolView,
} from './port';

/**
 * The weights of the forward actions in a listener's or rule's actions, per target group ARN
 * (ForwardConfig.TargetGroups; a lone TargetGroupArn is one group of weight 1, as AWS answers).
 */
export function forwardWeights(actions: Elbv2Action[] | undefined): Record<string, number> {
  const w: Record<string, number> = {};
  for (const a of actions ?? []) {
    if (a.Type !== 'forward') continue;
    const tuples = a.ForwardConfig?.TargetGroups ?? [];
    if (tuples.length) {
      for (const t of tuples) if (t.TargetGroupArn) w[t.TargetGroupArn] = t.Weight ?? 1;
    } else if (a.TargetGroupArn) {
      w[a.TargetGroupArn] = 1;
    }
  }
  return w;
}

/**
 * The actions with the forward's weights replaced for the given target groups (the others kept):
 * written back as ForwardConfig (TargetGroupArn dropped: AWS refuses both with several groups).
 */
export function withWeights(actions: Elbv2Action[], weights: Record<string, number>): Elbv2Action[] {
  return actions.map((a) => {
    if (a.Type !== 'forward') return a;
    const tuples = a.ForwardConfig?.TargetGroups?.length ? a.ForwardConfig.TargetGroups : a.TargetGroupArn ? [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }] : [];
    const next = tuples.map((t) => (t.TargetGroupArn && weights[t.TargetGroupArn] !== undefined ? { ...t, Weight: weights[t.TargetGroupArn] } : t));
    const { TargetGroupArn: _dropped, ...rest } = a;
    void _dropped;
    return { ...rest, ForwardConfig: { ...(a.ForwardConfig ?? {}), TargetGroups: next } };
  });
}

/** EC2 facts about an instance that do not change (LaunchTime, launch tags) plus its last state. */
interface Ec2Facts {
  /** The instance id, one string kept for the life of the instance (see {@link Strings}). */
  instanceId: string;
  imageId?: string;
  launchTime?: number;
  privateIpAddress?: string;
  ec2State?: string;
  launchedFrom?: LaunchSpec;
  /** EC2 InstanceLifecycle ('spot'; absent for On-Demand). */
  lifecycle?: string;
}

const SETTLED_EC2 = new Set(['running', 'shutting-down', 'terminated', 'stopping', 'stopped']);

/**
 * Instance ids per DescribeInstances. EC2 takes up to 1,000, but its answer carries every field of
 * every instance (~0.9 KB of XML each, ~2 KB of objects once parsed and deserialized), all alive
 * at once while the SDK parses it: one 1,000-instance answer (the first look at a big group, or an
 * A/B's new color coming up at once) was the largest single allocation of a rollout and made V8
 * double its young generation (docs/benchmarks.md, where the memory goes). 200 keeps each answer
 * the size of a classic ELB's 1,000-instance DescribeInstanceHealth, for a few more calls on the
 * first look only (the later polls describe the instances launched since, a batch at a time).
 */
export const DESCRIBE_INSTANCES_IDS = 200;

export { isThrottling, isTransient } from './transient';

/**
 * One copy of each short string that every poll repeats (lifecycle and health states, zones, ELB
 * reason codes and descriptions). A snapshot kept from one poll to the next would otherwise hold
 * the strings of the answer it was read from: new ones each poll (copied by every young-generation
 * collection that finds the snapshot alive, then promoted) and, from an SDK's XML parse, slices
 * that keep the whole response body alive (V8 sliced strings). Bounded: cleared past
 * {@link Strings.MAX} distinct values (free-text descriptions cannot grow it without limit).
 */
export class Strings {
  static readonly MAX = 1024;
  private readonly seen = new Map<string, string>();
  of(s: string): string;
  of(s: string | undefined): string | undefined;
  of(s: string | undefined): string | undefined {
    if (s === undefined) return undefined;
    const hit = this.seen.get(s);
    if (hit !== undefined) return hit;
    if (this.seen.size >= Strings.MAX) this.seen.clear();
    // A flat copy: a slice of a parsed body would keep the body (V8 keeps the parent of a slice).
    const own = flatCopy(s);
    this.seen.set(own, own);
    return own;
  }
}

/** A string with no link to a larger one (a slice of a response body becomes its own string). */
function flatCopy(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}

function attemptsOf(x: unknown): number {
  const m = (x as { $metadata?: { attempts?: number } } | undefined)?.$metadata;
  return m?.attempts && m.attempts > 0 ? m.attempts : 1;
}

function errorName(err: unknown): string {
  const e = err as { name?: string; Code?: string } | undefined;
  return e?.name ?? e?.Code ?? '';
}

function statusOf(err: unknown): number | undefined {
  return (err as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

function chunks<T>(xs: T[], n: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += n) out.push(xs.slice(i, i + n));
  return out;
}

function isSymbolicVersion(v: string | undefined): boolean {
  return v === undefined || v === '' || v === '$Latest' || v === '$Default';
}

/** The policy's overrides and distribution, AWS's defaults filled in (InstancesDistribution in the SDK model). */
function mixedPolicyView(p: NonNullable<AutoScalingGroup['MixedInstancesPolicy']>): MixedPolicyView {
  const d = p.InstancesDistribution ?? {};
  return {
    instanceTypes: (p.LaunchTemplate?.Overrides ?? []).map((o) => o.InstanceType).filter((t): t is string => Boolean(t)),
    onDemandBaseCapacity: d.OnDemandBaseCapacity ?? 0,
    onDemandPercentageAboveBaseCapacity: d.OnDemandPercentageAboveBaseCapacity ?? 100,
    spotAllocationStrategy: d.SpotAllocationStrategy ?? 'lowest-price',
    onDemandAllocationStrategy: d.OnDemandAllocationStrategy ?? 'prioritized',
  };
}

/** Instance refresh statuses in which it is still running (InstanceRefreshStatus of the SDK's model). */
const ACTIVE_REFRESH = new Set(['Pending', 'InProgress', 'Cancelling', 'RollbackInProgress', 'Baking']);

export class AwsAdapter implements AwsPort {
  private calls = 0;
  private readonly ec2Cache = new Map<string, Ec2Facts>();
  /**
   * Each group's instance ids as of its latest group read. The cache is shared by every group this
   * adapter looks at — at once, too (an A/B plan reads both colors together; `deploy --parallel`):
   * an id leaves the cache only when no group's latest read has it.
   */
  private readonly groupIds = new Map<string, ReadonlySet<string>>();
  private readonly elbCache = new Map<string, ElbInfo>();
  private readonly targetGroupCache = new Map<string, TargetGroupInfo>();
  /** Repeated strings, one copy each ({@link Strings}). */
  private readonly strings = new Strings();
  /**
   * Each classic ELB's / target group's last answer per instance: an unchanged state is handed on
   * as the same object (most of a 1,000-instance answer, poll after poll), so the snapshots and the
   * runner's memory of the last ELB look keep the objects they already had instead of new copies.
   */
  private readonly lastElbHealth = new Map<string, Map<string, ElbInstanceHealth>>();
  private readonly lastTargetHealth = new Map<string, Map<string, TargetHealthView>>();

  constructor(
    private readonly clients: AwsClients,
    private readonly clock: Clock,
  ) {}

  apiCalls(): number {
    return this.calls;
  }

  /** Forget resolved `$Latest`/`$Default` versions (next observe resolves them again). */
  forgetLaunchTemplates(): void {
    this.versionCache.clear();
  }

  /**
   * Sends one command, counting every attempt the SDK made (retries included). `mutating`: the
   * SDK makes one attempt only (see the file comment).
   */
  private async send<T>(client: { send(command: never): Promise<unknown>; config?: unknown }, command: unknown, mutating = false): Promise<T> {
    if (mutating) singleAttempt(client, command);
    try {
      const out = await client.send(command as never);
      this.calls += attemptsOf(out);
      return out as T;
    } catch (err) {
      this.calls += attemptsOf(err);
      throw err;
    }
  }

  /** Counts the pages a paginator fetched (each page carries its own $metadata). */
  private async *counted<T>(pages: AsyncIterable<T>): AsyncGenerator<T> {
    const it = pages[Symbol.asyncIterator]();
    for (;;) {
      let r: IteratorResult<T>;
      try {
        r = await it.next();
      } catch (err) {
        this.calls += attemptsOf(err);
        throw err;
      }
      if (r.done) return;
      this.calls += attemptsOf(r.value);
      yield r.value;
    }
  }

  /**
   * The group findGroups just described: the observation that follows at once (resolving the
   * name, then observing it) reuses it instead of asking AWS again for what cannot have changed.
   */
  private justDescribed?: { group: AutoScalingGroup; at: number };

  async findGroups(nameOrPrefix: string): Promise<string[]> {
    const exact = await this.describeGroup(nameOrPrefix);
    if (exact) {
      this.justDescribed = { group: exact, at: this.clock.now() };
      return [nameOrPrefix];
    }
    const names: string[] = [];
    for await (const page of this.counted(paginateDescribeAutoScalingGroups({ client: this.clients.autoScaling, pageSize: 100 }, {}))) {
      for (const g of page.AutoScalingGroups ?? []) {
        if (g.AutoScalingGroupName?.startsWith(nameOrPrefix)) names.push(g.AutoScalingGroupName);
      }
    }
    return names.sort();
  }

  async groupsNamed(names: string[]): Promise<string[]> {
    if (names.length === 0) return [];
    // AutoScalingGroupNames takes up to 1600 names, pages of up to 100 (MaxRecords): a handful of
    // names is usually one call — but a page may hold fewer, with a NextToken, so follow it (chaos
    // seed 978985500: with 1-item pages an environment's lock missed its -b color).
    const found = new Set<string | undefined>();
    const query = { AutoScalingGroupNames: [...new Set(names)], MaxRecords: 100 };
    for await (const page of this.counted(paginateDescribeAutoScalingGroups({ client: this.clients.autoScaling, pageSize: 100 }, query))) {
      for (const g of page.AutoScalingGroups ?? []) found.add(g.AutoScalingGroupName);
    }
    return names.filter((n) => found.has(n));
  }

  private async describeGroup(name: string): Promise<AutoScalingGroup | undefined> {
    const out = await this.send<{ AutoScalingGroups?: AutoScalingGroup[] }>(
      this.clients.autoScaling,
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [name] }),
    );
    return (out.AutoScalingGroups ?? []).find((g) => g.AutoScalingGroupName === name);
  }

  async observeGroup(name: string, options: ObserveOptions = {}): Promise<GroupSnapshot> {
    const fresh = this.justDescribed;
    this.justDescribed = undefined;
    const g = fresh && fresh.group.AutoScalingGroupName === name && this.clock.now() - fresh.at <= 1000 ? fresh.group : await this.describeGroup(name);
    if (!g) throw usageError('group-not-found', `Auto Scaling Group ${name} not found`, { asg: name });
    const observedAt = this.clock.now();
    const asgInstances = g.Instances ?? [];
    const ids = asgInstances.map((i) => i.InstanceId!).filter(Boolean);
    const elbNames = options.elbHealth !== false ? (g.LoadBalancerNames ?? []).filter((n) => !options.elbNames || options.elbNames.includes(n)) : [];
    // One DescribeTargetHealth per attached target group (all its targets in one answer).
    const arns = options.targetHealth !== false ? (g.TargetGroupARNs ?? []) : [];
    // Everything after the group read at once: a look is as old as its oldest read (engine.ts
    // stalePremise), so the reads that follow it must not add up one after another (12 target
    // groups at 300 ms a call made every look 4 s old).
    this.groupIds.set(name, new Set(ids));
    const [launch, ec2Facts, elbAnswers, targetAnswers] = await Promise.all([
      this.groupLaunchSpec(g),
      // This group's facts, taken as soon as EC2 answered: what another group's look does to the
      // shared cache meanwhile cannot touch them.
      this.refreshEc2(ids).then(() => new Map(ids.map((id) => [id, this.ec2Cache.get(id)]))),
      Promise.all(elbNames.map((elb) => this.instanceHealth(elb))),
      Promise.all(arns.map((arn) => this.targetHealth(arn))),
    ]);
    // Forget instances that left every group looked at (keeps the cache as small as the groups).
    // Only when the cache outgrew this group (it may then hold instances that left).
    if (this.ec2Cache.size > ids.length) {
      const sets = [...this.groupIds.values()];
      for (const id of this.ec2Cache.keys()) if (!sets.some((set) => set.has(id))) this.ec2Cache.delete(id);
    }
    const elbStates = new Map<string, Map<string, ElbInstanceHealth>>(elbNames.map((elb, k) => [elb, elbAnswers[k]]));
    const targetStates = new Map<string, Map<string, TargetHealthView>>(arns.map((arn, k) => [arn, targetAnswers[k]]));

    // Targets of its target groups that are not the group's instances (another group's, or registered by hand).
    const own = new Set(ids);
    const foreignTargets: ForeignTarget[] = [];
    for (const [arn, states] of targetStates) {
      for (const [id, h] of states) if (!own.has(id)) foreignTargets.push({ targetGroup: arn, instanceId: id, state: h.state });
    }

    const instances: InstanceView[] = [];
    const str = this.strings;
    for (const i of asgInstances) {
      const facts = ec2Facts.get(i.InstanceId!);
      // The id as kept since EC2 described the instance (not this answer's copy: see Strings).
      const id = facts?.instanceId ?? flatCopy(i.InstanceId!);
      const elb: Record<string, ElbInstanceHealth> = {};
      for (const [n, states] of elbStates) {
        const s = states.get(id);
        if (s) elb[n] = s;
      }
      let targetHealth: Record<string, TargetHealthView> | undefined;
      for (const [arn, states] of targetStates) {
        const s = states.get(id);
        targetHealth ??= {};
        if (s) targetHealth[arn] = s;
      }
      instances.push({
        instanceId: id,
        availabilityZone: str.of(i.AvailabilityZone ?? ''),
        lifecycleState: str.of(i.LifecycleState ?? 'Pending') as InstanceView['lifecycleState'],
        healthStatus: str.of(i.HealthStatus ?? 'Healthy'),
        protectedFromScaleIn: Boolean(i.ProtectedFromScaleIn),
        launchedFrom: facts?.launchedFrom ?? (await this.fallbackLaunchSpec(i.LaunchTemplate, i.LaunchConfigurationName, facts)),
        launchTime: facts?.launchTime,
        privateIpAddress: facts?.privateIpAddress,
        ec2State: facts?.ec2State,
        elb,
        ...(targetHealth ? { targetHealth } : {}),
        ...(i.InstanceType ? { instanceType: str.of(i.InstanceType) } : {}),
        ...(facts?.launchTime !== undefined ? { market: facts.lifecycle === 'spot' ? ('spot' as const) : ('on-demand' as const) } : {}),
      });
    }

    const tags: Record<string, string> = {};
    for (const t of g.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';

    return {
      name,
      observedAt,
      desired: g.DesiredCapacity ?? 0,
      min: g.MinSize ?? 0,
      max: g.MaxSize ?? 0,
      launch,
      mixedInstancesPolicy: Boolean(g.MixedInstancesPolicy),
      ...(g.MixedInstancesPolicy ? { mixedPolicy: mixedPolicyView(g.MixedInstancesPolicy) } : {}),
      ...(g.CapacityRebalance ? { capacityRebalance: true } : {}),
      ...(g.MaxInstanceLifetime ? { maxInstanceLifetime: g.MaxInstanceLifetime } : {}),
      healthCheckType: g.HealthCheckType ?? 'EC2',
      healthCheckGracePeriod: g.HealthCheckGracePeriod ?? 0,
      availabilityZones: g.AvailabilityZones ?? [],
      suspendedProcesses: (g.SuspendedProcesses ?? []).map((p) => p.ProcessName!).filter(Boolean),
      loadBalancerNames: g.LoadBalancerNames ?? [],
      targetGroupARNs: g.TargetGroupARNs ?? [],
      tags,
      instances,
      ...(g.WarmPoolConfiguration
        ? {
            warmPool: {
              size: g.WarmPoolSize ?? 0,
              poolState: g.WarmPoolConfiguration.PoolState ?? 'Stopped',
              minSize: g.WarmPoolConfiguration.MinSize ?? 0,
              ...(g.WarmPoolConfiguration.MaxGroupPreparedCapacity !== undefined ? { maxPrepared: g.WarmPoolConfiguration.MaxGroupPreparedCapacity } : {}),
              ...(g.WarmPoolConfiguration.Status ? { status: g.WarmPoolConfiguration.Status } : {}),
            },
          }
        : {}),
      ...(foreignTargets.length ? { foreignTargets } : {}),
    };
  }

  /** DescribeLifecycleHooks: the group's hooks (all of them in one answer: AWS allows 50 a group). */
  async lifecycleHooks(group: string): Promise<LifecycleHookView[]> {
    const out = await this.send<{ LifecycleHooks?: Array<{ LifecycleHookName?: string; LifecycleTransition?: string; HeartbeatTimeout?: number; GlobalTimeout?: number; DefaultResult?: string }> }>(
      this.clients.autoScaling,
      new DescribeLifecycleHooksCommand({ AutoScalingGroupName: group }),
    );
    return (out.LifecycleHooks ?? [])
      .filter((h) => h.LifecycleHookName && (h.LifecycleTransition === 'autoscaling:EC2_INSTANCE_LAUNCHING' || h.LifecycleTransition === 'autoscaling:EC2_INSTANCE_TERMINATING'))
      .map((h) => ({
        name: h.LifecycleHookName!,
        transition: h.LifecycleTransition === 'autoscaling:EC2_INSTANCE_LAUNCHING' ? 'launch' : 'terminate',
        // PutLifecycleHook's default is one hour.
        heartbeatTimeout: h.HeartbeatTimeout ?? 3600,
        ...(h.GlobalTimeout !== undefined ? { globalTimeout: h.GlobalTimeout } : {}),
        defaultResult: h.DefaultResult ?? 'ABANDON',
      }));
  }

  /** DescribeWarmPool, every page (50 instances a page): the pool's configuration and instances; undefined without a pool. */
  async describeWarmPool(group: string): Promise<WarmPoolView | undefined> {
    type Out = {
      WarmPoolConfiguration?: { PoolState?: string; MinSize?: number; MaxGroupPreparedCapacity?: number; Status?: string; InstanceReusePolicy?: { ReuseOnScaleIn?: boolean } };
      Instances?: Array<{ InstanceId?: string; AvailabilityZone?: string; LifecycleState?: string; LaunchTemplate?: LaunchTemplateSpecification; LaunchConfigurationName?: string }>;
      NextToken?: string;
    };
    let token: string | undefined;
    let view: WarmPoolView | undefined;
    do {
      const out = await this.send<Out>(this.clients.autoScaling, new DescribeWarmPoolCommand({ AutoScalingGroupName: group, MaxRecords: 50, NextToken: token }));
      const c = out.WarmPoolConfiguration;
      if (!c) return undefined;
      view ??= {
        poolState: c.PoolState ?? 'Stopped',
        minSize: c.MinSize ?? 0,
        ...(c.MaxGroupPreparedCapacity !== undefined ? { maxPrepared: c.MaxGroupPreparedCapacity } : {}),
        ...(c.Status ? { status: c.Status } : {}),
        reuseOnScaleIn: c.InstanceReusePolicy?.ReuseOnScaleIn ?? false,
        instances: [],
      };
      for (const i of out.Instances ?? []) {
        if (!i.InstanceId) continue;
        view.instances.push({
          instanceId: i.InstanceId,
          availabilityZone: i.AvailabilityZone ?? '',
          lifecycleState: i.LifecycleState ?? 'Warmed:Pending',
          launchedFrom: await this.instanceLaunchSpec(i.LaunchTemplate, i.LaunchConfigurationName),
        });
      }
      token = out.NextToken;
    } while (token);
    return view;
  }

  async groupsOfInstances(instanceIds: string[]): Promise<Record<string, string>> {
    const out: Record<string, string> = {};
    const ids = [...new Set(instanceIds)];
    // DescribeAutoScalingInstances takes up to 50 InstanceIds a call.
    for (let k = 0; k < ids.length; k += 50) {
      const query = { InstanceIds: ids.slice(k, k + 50), MaxRecords: 50 };
      for await (const page of this.counted(paginateDescribeAutoScalingInstances({ client: this.clients.autoScaling, pageSize: 50 }, query))) {
        for (const i of page.AutoScalingInstances ?? []) if (i.InstanceId && i.AutoScalingGroupName) out[i.InstanceId] = i.AutoScalingGroupName;
      }
    }
    return out;
  }

  /** The group's launch spec, `$Latest`/`$Default` resolved. */
  private async groupLaunchSpec(g: AutoScalingGroup): Promise<LaunchSpec> {
    if (g.LaunchConfigurationName) return { launchConfigurationName: g.LaunchConfigurationName };
    let spec: LaunchTemplateSpecification | undefined = g.LaunchTemplate;
    if (!spec && g.MixedInstancesPolicy) {
      const lt = g.MixedInstancesPolicy.LaunchTemplate;
      const overridden = (lt?.Overrides ?? []).filter((o) => o.LaunchTemplateSpecification);
      if (overridden.length > 0) {
        throw new DeployError(
          'mixed-instances-unsupported',
          `${g.AutoScalingGroupName}: its mixed instances policy overrides the launch template per instance type; ` +
            `asg-deploy cannot tell old from new instances there. Use one launch template for all overrides.`,
          { source: 'user', exit: 2, data: { asg: g.AutoScalingGroupName } },
        );
      }
      const weighted = (lt?.Overrides ?? []).filter((o) => o.WeightedCapacity !== undefined && Number(o.WeightedCapacity) !== 1);
      if (weighted.length > 0) {
        throw new DeployError(
          'mixed-instances-weighted',
          `${g.AutoScalingGroupName}: its mixed instances policy weighs instance types (${weighted.map((o) => `${o.InstanceType ?? '?'} × ${o.WeightedCapacity}`).join(', ')}); ` +
            `its sizes are then capacity units, not instances, and asg-deploy counts instances. Use weights of 1 (or none).`,
          { source: 'user', exit: 2, data: { asg: g.AutoScalingGroupName } },
        );
      }
      spec = lt?.LaunchTemplateSpecification;
    }
    if (!spec) {
      throw new DeployError('no-launch-spec', `${g.AutoScalingGroupName} has neither a launch template nor a launch configuration`, {
        source: 'user',
        exit: 2,
        data: { asg: g.AutoScalingGroupName },
      });
    }
    const resolved = await this.resolveVersion(spec.LaunchTemplateId, spec.LaunchTemplateName, spec.Version);
    return { launchTemplate: resolved };
  }

  /** Resolves a template version ('$Latest', '$Default', undefined = $Default, or a number). */
  private async resolveVersion(id: string | undefined, name: string | undefined, version: string | undefined): Promise<{ id: string; name?: string; version: number }> {
    if (!id && name) id = this.templateIds.get(name);
    if (!isSymbolicVersion(version) && id) return { id, name, version: Number(version) };
    const wanted = isSymbolicVersion(version) ? (version === '$Latest' ? '$Latest' : '$Default') : version!;
    const key = `${id ?? `name:${name}`}|${wanted}`;
    const hit = this.versionCache.get(key);
    if (hit) return hit;
    const out = await this.send<{ LaunchTemplateVersions?: Array<{ LaunchTemplateId?: string; LaunchTemplateName?: string; VersionNumber?: number; LaunchTemplateData?: { ImageId?: string } }> }>(
      this.clients.ec2,
      new DescribeLaunchTemplateVersionsCommand({ ...(id ? { LaunchTemplateId: id } : { LaunchTemplateName: name }), Versions: [wanted] }),
    );
    const v = out?.LaunchTemplateVersions?.[0];
    if (!v || v.VersionNumber === undefined) {
      throw new DeployError('launch-template-not-found', `launch template ${id ?? name} version ${wanted} not found`, { source: 'aws' });
    }
    const resolved = { id: v.LaunchTemplateId ?? id ?? name ?? '', name: v.LaunchTemplateName ?? name, version: v.VersionNumber };
    if (v.LaunchTemplateData?.ImageId) this.versionImage.set(`${resolved.id}|${resolved.version}`, v.LaunchTemplateData.ImageId);
    this.versionCache.set(key, resolved);
    this.versionCache.set(`${resolved.id}|${wanted}`, resolved);
    if (resolved.name) this.templateIds.set(resolved.name, resolved.id);
    return resolved;
  }
  private readonly versionCache = new Map<string, { id: string; name?: string; version: number }>();
  private readonly templateIds = new Map<string, string>();
  /** ImageId of resolved template versions (`id|version`), when DescribeLaunchTemplateVersions said. */
  private readonly versionImage = new Map<string, string>();

  /**
   * Fallback when the EC2 launch tags are absent (some emulators): the ASG's per-instance field.
   * If that field is symbolic (`$Latest`), it says nothing about the launch itself, so the
   * instance's ImageId is compared with the resolved version's: a different image means an older
   * version (reported as version 0, i.e. outdated).
   */
  private async fallbackLaunchSpec(lt: LaunchTemplateSpecification | undefined, lc: string | undefined, facts: Ec2Facts | undefined): Promise<LaunchSpec> {
    const spec = await this.instanceLaunchSpec(lt, lc);
    if (!lt || !isSymbolicVersion(lt.Version) || !spec.launchTemplate || !facts?.imageId) return spec;
    const image = this.versionImage.get(`${spec.launchTemplate.id}|${spec.launchTemplate.version}`);
    if (image && image !== facts.imageId) return { launchTemplate: { ...spec.launchTemplate, version: 0 } };
    return spec;
  }

  /** The ASG's per-instance field as a LaunchSpec (fallback when the EC2 tags are absent). */
  private async instanceLaunchSpec(lt: LaunchTemplateSpecification | undefined, lc: string | undefined): Promise<LaunchSpec> {
    if (lc) return { launchConfigurationName: lc };
    if (!lt) return {};
    const id = lt.LaunchTemplateId ?? (lt.LaunchTemplateName ? this.templateIds.get(lt.LaunchTemplateName) : undefined);
    if (!isSymbolicVersion(lt.Version) && id) return { launchTemplate: { id, version: Number(lt.Version) } };
    const r = await this.resolveVersion(id, lt.LaunchTemplateName, lt.Version);
    return { launchTemplate: { id: r.id, version: r.version } };
  }

  /** One DescribeInstances per DESCRIBE_INSTANCES_IDS ids whose EC2 facts are missing or incomplete. */
  private async refreshEc2(ids: string[]): Promise<void> {
    const need = ids.filter((id) => {
      const f = this.ec2Cache.get(id);
      return !f || f.launchTime === undefined || !f.ec2State || (!SETTLED_EC2.has(f.ec2State) && !f.privateIpAddress);
    });
    for (const batch of chunks(need, DESCRIBE_INSTANCES_IDS)) {
      let reservations: Array<{ Instances?: Ec2Instance[] }> = [];
      try {
        const out = await this.send<{ Reservations?: Array<{ Instances?: Ec2Instance[] }> }>(
          this.clients.ec2,
          new DescribeInstancesCommand({ InstanceIds: batch }),
        );
        reservations = out.Reservations ?? [];
      } catch (err) {
        // EC2 is eventually consistent: an id the ASG just launched may not be visible yet.
        // Leave those without EC2 facts this poll rather than failing the observation.
        if (!/InvalidInstanceID/.test(errorName(err))) throw err;
        const missing = new Set(String((err as Error).message).match(/i-[0-9a-zA-Z]+/g) ?? []);
        const rest = batch.filter((id) => !missing.has(id));
        if (rest.length === 0 || rest.length === batch.length) continue;
        const out = await this.send<{ Reservations?: Array<{ Instances?: Ec2Instance[] }> }>(
          this.clients.ec2,
          new DescribeInstancesCommand({ InstanceIds: rest }),
        );
        reservations = out.Reservations ?? [];
      }
      for (const r of reservations) for (const i of r.Instances ?? []) this.remember(i);
    }
  }

  /** The instance id as kept since EC2 described the instance, else an own copy (see Strings). */
  private idOf(raw: string): string {
    return this.ec2Cache.get(raw)?.instanceId ?? flatCopy(raw);
  }

  private remember(i: Ec2Instance): void {
    if (!i.InstanceId) return;
    const tags = new Map((i.Tags ?? []).map((t) => [t.Key ?? '', t.Value ?? '']));
    const ltId = tags.get('aws:ec2launchtemplate:id');
    const ltVersion = tags.get('aws:ec2launchtemplate:version');
    const launchedFrom: LaunchSpec | undefined =
      ltId && ltVersion && /^\d+$/.test(ltVersion) ? { launchTemplate: { id: this.strings.of(ltId), version: Number(ltVersion) } } : undefined;
    // Kept for the instance's life: own copies, not slices of this answer's body (see Strings).
    const instanceId = this.ec2Cache.get(i.InstanceId)?.instanceId ?? flatCopy(i.InstanceId);
    this.ec2Cache.set(instanceId, {
      instanceId,
      imageId: this.strings.of(i.ImageId),
      launchTime: i.LaunchTime ? new Date(i.LaunchTime).getTime() : undefined,
      privateIpAddress: i.PrivateIpAddress === undefined ? undefined : flatCopy(i.PrivateIpAddress),
      ec2State: this.strings.of(i.State?.Name),
      launchedFrom,
      ...(i.InstanceLifecycle ? { lifecycle: this.strings.of(i.InstanceLifecycle) } : {}),
    });
  }

  async describeInstanceHealth(elb: string): Promise<Map<string, ElbInstanceHealth>> {
    return this.instanceHealth(elb);
  }

  /**
   * Launch → InService of the group's recent successful launches (one DescribeScalingActivities,
   * the most recent `max` activities): an activity "Launching a new EC2 instance" starts when the
   * ASG launches and ends when the instance goes InService.
   */
  async recentLaunchDurations(group: string, max = 50): Promise<number[]> {
    const out = await this.send<{ Activities?: Array<{ Description?: string; StatusCode?: string; StartTime?: Date; EndTime?: Date }> }>(
      this.clients.autoScaling,
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group, MaxRecords: max }),
    );
    const durations: number[] = [];
    for (const a of out.Activities ?? []) {
      // Not a launch INTO the warm pool: that one ends in the pool, not InService.
      if (a.StatusCode !== 'Successful' || !a.StartTime || !a.EndTime || !/^Launching a new EC2 instance/.test(a.Description ?? '') || /into warm pool/.test(a.Description ?? '')) continue;
      const ms = new Date(a.EndTime).getTime() - new Date(a.StartTime).getTime();
      if (ms > 0) durations.push(ms);
    }
    return durations;
  }

  /**
   * The group's `max` most recent launch activities ("Launching a new EC2 instance: i-…", newest
   * first; one DescribeScalingActivities call): per instance, StartTime and, once the activity
   * completed (Successful: the instance went InService), EndTime — AWS's clock, epoch ms.
   */
  async launchActivities(group: string, max = 50): Promise<Map<string, { startTime: number; endTime?: number }>> {
    const out = await this.send<{ Activities?: Array<{ Description?: string; StatusCode?: string; StartTime?: Date; EndTime?: Date }> }>(
      this.clients.autoScaling,
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group, MaxRecords: Math.max(1, Math.min(100, max)) }),
    );
    const m = new Map<string, { startTime: number; endTime?: number }>();
    for (const a of out.Activities ?? []) {
      const id = /^Launching a new EC2 instance: (i-[0-9a-f]+)/.exec(a.Description ?? '')?.[1];
      if (!id || !a.StartTime || m.has(id)) continue;
      const end = a.StatusCode === 'Successful' && a.EndTime ? new Date(a.EndTime).getTime() : undefined;
      m.set(id, { startTime: new Date(a.StartTime).getTime(), ...(end !== undefined ? { endTime: end } : {}) });
    }
    return m;
  }

  /** StatusMessage of the most recent failed launch among the group's last 20 activities. */
  async lastFailedLaunch(group: string): Promise<string | undefined> {
    const out = await this.send<{ Activities?: Array<{ Description?: string; StatusCode?: string; StatusMessage?: string }> }>(
      this.clients.autoScaling,
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group, MaxRecords: 20 }),
    );
    const failed = (out.Activities ?? []).find((a) => a.StatusCode === 'Failed' && /^Launching a new EC2 instance/.test(a.Description ?? ''));
    return failed ? failed.StatusMessage ?? failed.Description : undefined;
  }

  /**
   * Capacity Rebalancing's launches among the group's `max` most recent activities, newest first:
   * a launch activity ("Launching a new EC2 instance: i-…") whose Cause says "in response to an
   * EC2 instance rebalance recommendation", with the at-risk instance when the Cause names it
   * (the sandbox's wording ends "… recommendation for i-…").
   */
  async rebalanceLaunches(group: string, max = 50): Promise<Array<{ instanceId: string; atRisk?: string }>> {
    const out = await this.send<{ Activities?: Array<{ Description?: string; Cause?: string }> }>(
      this.clients.autoScaling,
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group, MaxRecords: Math.max(1, Math.min(100, max)) }),
    );
    const launches: Array<{ instanceId: string; atRisk?: string }> = [];
    for (const a of out.Activities ?? []) {
      const id = /^Launching a new EC2 instance: (i-[0-9a-f]+)/.exec(a.Description ?? '')?.[1];
      if (!id || !/in response to an EC2 instance rebalance recommendation/i.test(a.Cause ?? '') || launches.some((l) => l.instanceId === id)) continue;
      const atRisk = /rebalance recommendation for (i-[0-9a-f]+)/i.exec(a.Cause ?? '')?.[1];
      launches.push({ instanceId: id, ...(atRisk ? { atRisk } : {}) });
    }
    return launches;
  }

  /**
   * Returns from Standby among the group's 50 most recent activities, newest first: AWS describes
   * an ExitStandby as "Moving EC2 instance out of Standby: i-…" (API reference, ExitStandby's
   * example response), one activity per instance.
   */
  async standbyReturns(group: string): Promise<Array<{ activityId: string; instanceId: string; startTime: number }>> {
    const out = await this.send<{ Activities?: Array<{ ActivityId?: string; Description?: string; StartTime?: Date }> }>(
      this.clients.autoScaling,
      new DescribeScalingActivitiesCommand({ AutoScalingGroupName: group, MaxRecords: 50 }),
    );
    const returns: Array<{ activityId: string; instanceId: string; startTime: number }> = [];
    for (const a of out.Activities ?? []) {
      const m = /^Moving EC2 instance out of Standby: (i-[0-9a-f]+)/.exec(a.Description ?? '');
      if (!m || !a.ActivityId || !a.StartTime) continue;
      returns.push({ activityId: a.ActivityId, instanceId: m[1], startTime: new Date(a.StartTime).getTime() });
    }
    return returns;
  }

  /**
   * The group's running instance refresh, if any: one DescribeInstanceRefreshes (newest first,
   * MaxRecords 10 — an active one is always among the newest; AWS allows one at a time).
   */
  async activeInstanceRefresh(group: string): Promise<{ id: string; status: string; startTime?: number; percentageComplete?: number } | undefined> {
    const out = await this.send<{ InstanceRefreshes?: Array<{ InstanceRefreshId?: string; Status?: string; StartTime?: Date; PercentageComplete?: number }> }>(
      this.clients.autoScaling,
      new DescribeInstanceRefreshesCommand({ AutoScalingGroupName: group, MaxRecords: 10 }),
    );
    const r = (out.InstanceRefreshes ?? []).find((x) => ACTIVE_REFRESH.has(x.Status ?? ''));
    if (!r) return undefined;
    return { id: r.InstanceRefreshId ?? '(unknown id)', status: r.Status!, startTime: r.StartTime?.getTime(), percentageComplete: r.PercentageComplete };
  }

  /**
   * One DescribeAlarms per 100 names (AlarmNames; the API's page follows NextToken), metric and
   * composite alarms both (without AlarmTypes, CloudWatch returns metric alarms only). Names
   * CloudWatch does not know are simply absent from the answer.
   */
  async describeAlarms(names: string[]): Promise<AlarmView[]> {
    const client = this.clients.cloudWatch;
    if (!client) throw new DeployError('internal', 'describeAlarms needs a CloudWatch client');
    const { DescribeAlarmsCommand } = await import('@aws-sdk/client-cloudwatch'); // only --alarm loads CloudWatch
    type Alarm = { AlarmName?: string; StateValue?: string; StateReason?: string; StateUpdatedTimestamp?: Date };
    const out: AlarmView[] = [];
    const unique = [...new Set(names)];
    for (let i = 0; i < unique.length; i += 100) {
      let token: string | undefined;
      do {
        const page = await this.send<{ MetricAlarms?: Alarm[]; CompositeAlarms?: Alarm[]; NextToken?: string }>(
          client,
          new DescribeAlarmsCommand({ AlarmNames: unique.slice(i, i + 100), AlarmTypes: ['MetricAlarm', 'CompositeAlarm'], NextToken: token }),
        );
        for (const a of [...(page.MetricAlarms ?? []), ...(page.CompositeAlarms ?? [])]) {
          if (!a.AlarmName) continue;
          const state = a.StateValue === 'ALARM' || a.StateValue === 'OK' ? a.StateValue : 'INSUFFICIENT_DATA';
          out.push({ name: a.AlarmName, state, reason: a.StateReason, updatedAt: a.StateUpdatedTimestamp ? new Date(a.StateUpdatedTimestamp).getTime() : undefined });
        }
        token = page.NextToken;
      } while (token);
    }
    return out;
  }

  private async instanceHealth(elb: string): Promise<Map<string, ElbInstanceHealth>> {
    const out = await this.send<{ InstanceStates?: Array<{ InstanceId?: string; State?: string; ReasonCode?: string; Description?: string }> }>(
      this.clients.elb,
      new DescribeInstanceHealthCommand({ LoadBalancerName: elb }),
    );
    const last = this.lastElbHealth.get(elb);
    const m = new Map<string, ElbInstanceHealth>();
    for (const s of out.InstanceStates ?? []) {
      if (!s.InstanceId) continue;
      const state = s.State === 'InService' || s.State === 'OutOfService' ? s.State : 'Unknown';
      const was = last?.get(s.InstanceId);
      const same = was && was.state === state && was.reasonCode === s.ReasonCode && was.description === s.Description;
      m.set(this.idOf(s.InstanceId), same ? was : { state, reasonCode: this.strings.of(s.ReasonCode), description: this.strings.of(s.Description) });
    }
    this.lastElbHealth.set(elb, m);
    return m;
  }

  /** One target group's view of its registered targets (one DescribeTargetHealth). */
  async describeTargetHealth(arn: string): Promise<Map<string, TargetHealthView>> {
    return this.targetHealth(arn);
  }

  /** One target group's view of its registered targets (DescribeTargetHealth without Targets: every registered one). */
  private async targetHealth(arn: string): Promise<Map<string, TargetHealthView>> {
    const out = await this.send<{ TargetHealthDescriptions?: Array<{ Target?: { Id?: string }; TargetHealth?: { State?: string; Reason?: string; Description?: string } }> }>(
      this.clients.elbv2,
      new DescribeTargetHealthCommand({ TargetGroupArn: arn }),
    );
    const last = this.lastTargetHealth.get(arn);
    const m = new Map<string, TargetHealthView>();
    for (const d of out.TargetHealthDescriptions ?? []) {
      const id = d.Target?.Id;
      if (!id) continue;
      const h = d.TargetHealth ?? {};
      const state = h.State ?? 'unavailable';
      const was = last?.get(id);
      // Unchanged: the object handed on last time (see lastElbHealth).
      const same = was && was.state === state && was.reason === (h.Reason || undefined) && was.description === (h.Description || undefined);
      const str = this.strings;
      m.set(this.idOf(id), same ? was : { state: str.of(state), ...(h.Reason ? { reason: str.of(h.Reason) } : {}), ...(h.Description ? { description: str.of(h.Description) } : {}) });
    }
    this.lastTargetHealth.set(arn, m);
    return m;
  }

  async describeTargetGroup(arn: string): Promise<TargetGroupInfo> {
    const hit = this.targetGroupCache.get(arn);
    if (hit) return hit;
    let out: { TargetGroups?: Array<{ TargetGroupName?: string; HealthCheckIntervalSeconds?: number; HealthyThresholdCount?: number; UnhealthyThresholdCount?: number }> };
    try {
      out = await this.send(this.clients.elbv2, new DescribeTargetGroupsCommand({ TargetGroupArns: [arn] }));
    } catch (e) {
      if ((e as { name?: string }).name === 'TargetGroupNotFoundException') {
        throw new DeployError('target-group-not-found', `target group ${arn} not found`, { source: 'aws', exit: 2, cause: e });
      }
      throw e;
    }
    const tg = out.TargetGroups?.[0];
    if (!tg) throw new DeployError('target-group-not-found', `target group ${arn} not found`, { source: 'aws', exit: 2 });
    const attrs = await this.send<{ Attributes?: Array<{ Key?: string; Value?: string }> }>(this.clients.elbv2, new DescribeTargetGroupAttributesCommand({ TargetGroupArn: arn }));
    const delay = attrs.Attributes?.find((a) => a.Key === 'deregistration_delay.timeout_seconds')?.Value;
    const info: TargetGroupInfo = {
      arn,
      name: tg.TargetGroupName ?? arn,
      // AWS's defaults when a field is absent (CreateTargetGroup: 30 s, 5, 2; deregistration delay 300 s).
      healthCheck: { interval: tg.HealthCheckIntervalSeconds ?? 30, healthyThreshold: tg.HealthyThresholdCount ?? 5, unhealthyThreshold: tg.UnhealthyThresholdCount ?? 2 },
      deregistrationDelay: delay !== undefined && Number.isFinite(Number(delay)) ? Number(delay) : 300,
    };
    this.targetGroupCache.set(arn, info);
    return info;
  }

  /**
   * Every listener default action and rule forwarding to any of `targetGroupArns`: the target
   * groups' load balancers (DescribeTargetGroups' LoadBalancerArns), their listeners and each
   * listener's rules (the default rule is the listener's default action: kind 'listener').
   */
  async findForwards(targetGroupArns: string[]): Promise<TrafficForward[]> {
    if (targetGroupArns.length === 0) return [];
    const tgs = await this.send<{ TargetGroups?: Array<{ LoadBalancerArns?: string[] }> }>(this.clients.elbv2, new DescribeTargetGroupsCommand({ TargetGroupArns: targetGroupArns }));
    const lbArns = [...new Set((tgs.TargetGroups ?? []).flatMap((t) => t.LoadBalancerArns ?? []))];
    if (lbArns.length === 0) return [];
    const lbs = await this.send<{ LoadBalancers?: Array<{ LoadBalancerArn?: string; Type?: string }> }>(this.clients.elbv2, new DescribeLoadBalancersV2Command({ LoadBalancerArns: lbArns }));
    const typeOf = new Map((lbs.LoadBalancers ?? []).map((l) => [l.LoadBalancerArn, l.Type]));
    const mine = (w: Record<string, number>) => targetGroupArns.some((t) => w[t] !== undefined);
    const out: TrafficForward[] = [];
    for (const lb of lbArns) {
      const lbType = typeOf.get(lb);
      let marker: string | undefined;
      const listeners: Array<{ ListenerArn?: string; DefaultActions?: Elbv2Action[] }> = [];
      do {
        const page = await this.send<{ Listeners?: typeof listeners; NextMarker?: string }>(this.clients.elbv2, new DescribeListenersCommand({ LoadBalancerArn: lb, Marker: marker }));
        listeners.push(...(page.Listeners ?? []));
        marker = page.NextMarker;
      } while (marker);
      for (const l of listeners) {
        if (!l.ListenerArn) continue;
        const w = forwardWeights(l.DefaultActions);
        if (mine(w)) out.push({ kind: 'listener', arn: l.ListenerArn, ...(lbType ? { lbType } : {}), weights: w });
        // NLB listeners have no rules (DescribeRules is an ALB API).
        if (lbType === 'network') continue;
        let rm: string | undefined;
        do {
          const page = await this.send<{ Rules?: Array<{ RuleArn?: string; IsDefault?: boolean; Actions?: Elbv2Action[] }>; NextMarker?: string }>(
            this.clients.elbv2,
            new DescribeRulesCommand({ ListenerArn: l.ListenerArn, Marker: rm }),
          );
          for (const r of page.Rules ?? []) {
            if (r.IsDefault || !r.RuleArn) continue;
            const rw = forwardWeights(r.Actions);
            if (mine(rw)) out.push({ kind: 'rule', arn: r.RuleArn, ...(lbType ? { lbType } : {}), weights: rw });
          }
          rm = page.NextMarker;
        } while (rm);
      }
    }
    return out;
  }

  /** One DescribeListeners by ARN (ListenerNotFound: undefined), then DescribeRules, paginated; the default rule left out. */
  async listenerRules(listenerArn: string): Promise<ListenerRuleView[] | undefined> {
    try {
      await this.send(this.clients.elbv2, new DescribeListenersCommand({ ListenerArns: [listenerArn] }));
    } catch (e) {
      if ((e as { name?: string }).name === 'ListenerNotFoundException') return undefined;
      throw e;
    }
    const rules: ListenerRuleView[] = [];
    let marker: string | undefined;
    do {
      const page = await this.send<{ Rules?: Array<{ RuleArn?: string; Priority?: string; IsDefault?: boolean; Actions?: Elbv2Action[] }>; NextMarker?: string }>(
        this.clients.elbv2,
        new DescribeRulesCommand({ ListenerArn: listenerArn, Marker: marker }),
      );
      for (const r of page.Rules ?? []) {
        if (r.IsDefault || !r.RuleArn || !/^\d+$/.test(r.Priority ?? '')) continue;
        rules.push({ arn: r.RuleArn, priority: Number(r.Priority), targetGroupArns: Object.keys(forwardWeights(r.Actions)) });
      }
      marker = page.NextMarker;
    } while (marker);
    return rules;
  }

  /** The forwards again by ARN: one DescribeListeners (ListenerArns) and/or one DescribeRules (RuleArns). */
  async readForwards(forwards: Array<Pick<TrafficForward, 'kind' | 'arn'>>): Promise<TrafficForward[]> {
    const byArn = new Map<string, TrafficForward>();
    const listenerArns = forwards.filter((f) => f.kind === 'listener').map((f) => f.arn);
    const ruleArns = forwards.filter((f) => f.kind === 'rule').map((f) => f.arn);
    if (listenerArns.length) {
      const out = await this.send<{ Listeners?: Array<{ ListenerArn?: string; DefaultActions?: Elbv2Action[] }> }>(this.clients.elbv2, new DescribeListenersCommand({ ListenerArns: listenerArns }));
      for (const l of out.Listeners ?? []) if (l.ListenerArn) byArn.set(l.ListenerArn, { kind: 'listener', arn: l.ListenerArn, weights: forwardWeights(l.DefaultActions) });
    }
    if (ruleArns.length) {
      const out = await this.send<{ Rules?: Array<{ RuleArn?: string; Actions?: Elbv2Action[] }> }>(this.clients.elbv2, new DescribeRulesCommand({ RuleArns: ruleArns }));
      for (const r of out.Rules ?? []) if (r.RuleArn) byArn.set(r.RuleArn, { kind: 'rule', arn: r.RuleArn, weights: forwardWeights(r.Actions) });
    }
    return forwards.map((f) => byArn.get(f.arn) ?? { kind: f.kind, arn: f.arn, weights: {} });
  }

  /** Read the forward's actions, replace the weights, write them back (ModifyListener / ModifyRule). */
  async setForwardWeights(forward: Pick<TrafficForward, 'kind' | 'arn'>, weights: Record<string, number>): Promise<void> {
    if (forward.kind === 'listener') {
      const out = await this.send<{ Listeners?: Array<{ DefaultActions?: Elbv2Action[] }> }>(this.clients.elbv2, new DescribeListenersCommand({ ListenerArns: [forward.arn] }));
      const actions = out.Listeners?.[0]?.DefaultActions ?? [];
      await this.send(this.clients.elbv2, new ModifyListenerCommand({ ListenerArn: forward.arn, DefaultActions: withWeights(actions, weights) }), true);
      return;
    }
    const out = await this.send<{ Rules?: Array<{ Actions?: Elbv2Action[] }> }>(this.clients.elbv2, new DescribeRulesCommand({ RuleArns: [forward.arn] }));
    const actions = out.Rules?.[0]?.Actions ?? [];
    await this.send(this.clients.elbv2, new ModifyRuleCommand({ RuleArn: forward.arn, Actions: withWeights(actions, weights) }), true);
  }

  async describeElb(name: string): Promise<ElbInfo> {
    const hit = this.elbCache.get(name);
    if (hit) return hit;
    const out = await this.send<{ LoadBalancerDescriptions?: Array<{ HealthCheck?: { Target?: string; Interval?: number; Timeout?: number; HealthyThreshold?: number; UnhealthyThreshold?: number } }> }>(
      this.clients.elb,
      new DescribeLoadBalancersCommand({ LoadBalancerNames: [name] }),
    );
    const d = out.LoadBalancerDescriptions?.[0];
    if (!d) throw new DeployError('elb-not-found', `classic load balancer ${name} not found`, { source: 'aws', exit: 2 });
    const attrs = await this.send<{ LoadBalancerAttributes?: { ConnectionDraining?: { Enabled?: boolean; Timeout?: number } } }>(
      this.clients.elb,
      new DescribeLoadBalancerAttributesCommand({ LoadBalancerName: name }),
    );
    const hc = d.HealthCheck ?? {};
    const cd = attrs.LoadBalancerAttributes?.ConnectionDraining;
    const info: ElbInfo = {
      name,
      healthCheck: {
        target: hc.Target ?? '',
        interval: hc.Interval ?? 30,
        timeout: hc.Timeout ?? 5,
        healthyThreshold: hc.HealthyThreshold ?? 10,
        unhealthyThreshold: hc.UnhealthyThreshold ?? 2,
      },
      drainingTimeout: cd?.Enabled ? cd.Timeout ?? 300 : undefined,
    };
    this.elbCache.set(name, info);
    return info;
  }

  async setDesired(group: string, desired: number): Promise<void> {
    await this.send(this.clients.autoScaling, new SetDesiredCapacityCommand({ AutoScalingGroupName: group, DesiredCapacity: desired, HonorCooldown: false }), true);
  }

  async updateSizes(group: string, sizes: { min?: number; max?: number; desired?: number }): Promise<void> {
    await this.send(
      this.clients.autoScaling,
      new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: group, MinSize: sizes.min, MaxSize: sizes.max, DesiredCapacity: sizes.desired }), true
    );
  }

  async terminateInstance(instanceId: string, decrementDesired: boolean): Promise<void> {
    await this.send(
      this.clients.autoScaling,
      new TerminateInstanceInAutoScalingGroupCommand({ InstanceId: instanceId, ShouldDecrementDesiredCapacity: decrementDesired }), true
    );
  }

  /**
   * Rollback's precondition: the launch template version (DescribeLaunchTemplateVersions for that
   * one version: a deleted version answers InvalidLaunchTemplateId.VersionNotFound, a deleted
   * template InvalidLaunchTemplateId.NotFound / InvalidLaunchTemplateName.NotFoundException) or
   * the launch configuration (DescribeLaunchConfigurations by name: absent when deleted).
   */
  async launchSpecExists(spec: LaunchSpec): Promise<boolean> {
    if (spec.launchConfigurationName) {
      const out = await this.send<{ LaunchConfigurations?: Array<{ LaunchConfigurationName?: string }> }>(
        this.clients.autoScaling,
        new DescribeLaunchConfigurationsCommand({ LaunchConfigurationNames: [spec.launchConfigurationName] }),
      );
      return (out.LaunchConfigurations ?? []).some((l) => l.LaunchConfigurationName === spec.launchConfigurationName);
    }
    const lt = spec.launchTemplate;
    if (!lt) return false;
    try {
      const out = await this.send<{ LaunchTemplateVersions?: Array<{ VersionNumber?: number }> }>(
        this.clients.ec2,
        new DescribeLaunchTemplateVersionsCommand({ LaunchTemplateId: lt.id, Versions: [String(lt.version)] }),
      );
      return (out.LaunchTemplateVersions ?? []).some((v) => v.VersionNumber === lt.version);
    } catch (err) {
      if (/NotFound/.test(String((err as { name?: string })?.name ?? ''))) return false;
      throw err;
    }
  }

  /** UpdateAutoScalingGroup with the launch spec only (a fixed template version number, or a launch configuration). */
  async setGroupLaunch(group: string, spec: LaunchSpec): Promise<void> {
    const lt = spec.launchTemplate;
    if (!lt && !spec.launchConfigurationName) throw new DeployError('internal', `setGroupLaunch(${group}): no launch spec given`);
    // A mixed instances policy: its launch template is what goes back. The whole policy is sent
    // with only the template spec changed, so that overrides and distribution stay as they are
    // however AWS treats the policy's parts left out of an update.
    const current = lt ? await this.describeGroup(group) : undefined;
    const mixed = current?.MixedInstancesPolicy;
    if (mixed && lt) {
      await this.send(
        this.clients.autoScaling,
        new UpdateAutoScalingGroupCommand({
          AutoScalingGroupName: group,
          MixedInstancesPolicy: { ...mixed, LaunchTemplate: { ...(mixed.LaunchTemplate ?? {}), LaunchTemplateSpecification: { LaunchTemplateId: lt.id, Version: String(lt.version) } } },
        }),
        true,
      );
      return;
    }
    await this.send(
      this.clients.autoScaling,
      new UpdateAutoScalingGroupCommand({
        AutoScalingGroupName: group,
        ...(lt ? { LaunchTemplate: { LaunchTemplateId: lt.id, Version: String(lt.version) } } : { LaunchConfigurationName: spec.launchConfigurationName }),
      }),
      true,
    );
  }

  async suspendProcesses(group: string, processes: string[]): Promise<void> {
    if (processes.length === 0) return;
    await this.send(this.clients.autoScaling, new SuspendProcessesCommand({ AutoScalingGroupName: group, ScalingProcesses: processes }), true);
  }

  async resumeProcesses(group: string, processes: string[]): Promise<void> {
    if (processes.length === 0) return;
    await this.send(this.clients.autoScaling, new ResumeProcessesCommand({ AutoScalingGroupName: group, ScalingProcesses: processes }), true);
  }

  async setScaleInProtection(group: string, instanceIds: string[], protect: boolean): Promise<void> {
    // SetInstanceProtection takes at most 50 ids per call.
    for (const ids of chunks(instanceIds, 50)) {
      await this.send(
        this.clients.autoScaling,
        new SetInstanceProtectionCommand({ AutoScalingGroupName: group, InstanceIds: ids, ProtectedFromScaleIn: protect }), true
      );
    }
  }

  async putGroupTags(group: string, tags: Record<string, string>): Promise<void> {
    const list = Object.entries(tags).map(([Key, Value]) => ({
      ResourceId: group,
      ResourceType: 'auto-scaling-group',
      Key,
      Value,
      PropagateAtLaunch: false,
    }));
    if (list.length === 0) return;
    await this.send(this.clients.autoScaling, new CreateOrUpdateTagsCommand({ Tags: list }), true);
  }

  async deleteGroupTags(group: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.send(
      this.clients.autoScaling,
      new DeleteTagsCommand({ Tags: keys.map((Key) => ({ ResourceId: group, ResourceType: 'auto-scaling-group', Key })) }), true
    );
  }

  async putLockObject(bucket: string, key: string, record: LockRecord): Promise<boolean> {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3'); // only S3 lock buckets load S3
    try {
      await this.send(
        this.clients.s3,
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(record), ContentType: 'application/json', IfNoneMatch: '*' }), true
      );
      return true;
    } catch (err) {
      if (isPreconditionFailure(err)) return false;
      throw err;
    }
  }

  async getLockObject(bucket: string, key: string): Promise<{ record: LockRecord; etag?: string } | undefined> {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3'); // only S3 lock buckets load S3
    try {
      const out = await this.send<{ Body?: { transformToString(): Promise<string> }; ETag?: string }>(
        this.clients.s3,
        new GetObjectCommand({ Bucket: bucket, Key: key }),
      );
      const text = out.Body ? await out.Body.transformToString() : '';
      return { record: JSON.parse(text) as LockRecord, etag: out.ETag };
    } catch (err) {
      if (errorName(err) === 'NoSuchKey' || statusOf(err) === 404) return undefined;
      throw err;
    }
  }

  async deleteLockObject(bucket: string, key: string, etag?: string): Promise<void> {
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3'); // only S3 lock buckets load S3
    try {
      await this.send(this.clients.s3, new DeleteObjectCommand({ Bucket: bucket, Key: key, ...(etag ? { IfMatch: etag } : {}) }), true);
    } catch (err) {
      if (errorName(err) === 'NoSuchKey' || statusOf(err) === 404) return;
      throw err;
    }
  }

  async replaceLockObject(bucket: string, key: string, record: LockRecord, etag: string): Promise<string | undefined> {
    const { PutObjectCommand } = await import('@aws-sdk/client-s3'); // only S3 lock buckets load S3
    try {
      const out = await this.send<{ ETag?: string }>(
        this.clients.s3,
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(record), ContentType: 'application/json', IfMatch: etag }), true
      );
      return out.ETag ?? etag;
    } catch (err) {
      if (isPreconditionFailure(err) || errorName(err) === 'NoSuchKey' || statusOf(err) === 404) return undefined;
      throw err;
    }
  }
}

/**
 * 412 PreconditionFailed: the object exists / its ETag changed. Not a 409
 * ConditionalRequestConflict: that is a concurrent operation, nothing was decided, and S3 says to
 * retry it (PutObject's IfNoneMatch/IfMatch docs); it reaches the lock store, which does.
 */
function isPreconditionFailure(err: unknown): boolean {
  const n = errorName(err);
  return n === 'PreconditionFailed' || (statusOf(err) === 412 && n !== 'ConditionalRequestConflict');
}

/**
 * Makes `command` a single attempt: the SDK's retry middleware, overridden on this command's own
 * stack (same name, step and priority: `override` replaces the client's entry when the stacks are
 * concatenated) by the SDK's middleware with a one-attempt StandardRetryStrategy. The client's
 * other middleware (signing, the sandbox installed after `retryMiddleware`) are untouched.
 */
function singleAttempt(client: { config?: unknown }, command: unknown): void {
  const stack = (command as { middlewareStack?: { use(p: unknown): void } }).middlewareStack;
  if (!stack || !client.config) return; // a mocked client (aws-sdk-client-mock) has no retries to turn off
  stack.use(
    getRetryPlugin({
      ...(client.config as Parameters<typeof getRetryPlugin>[0]),
      maxAttempts: () => Promise.resolve(1),
      retryStrategy: () => Promise.resolve(new StandardRetryStrategy(1)),
    }),
  );
}

/** The port over a set of SDK clients. */
export function createAwsPort(clients: AwsClients, clock: Clock): AwsAdapter {
  return new AwsAdapter(clients, clock);
}
