/**
 * The simulated AWS behind `--sandbox`, `npm run demo`, rehearsals and every rollout test.
 *
 * Real SDK v3 clients (orchestrator/aws/clients.ts) with the simulation installed UNDER the
 * SDK's retry middleware: the tool's AWS adapter runs unchanged, and injected throttling and
 * 5xx errors really go through the SDK's retry path. State advances lazily on a
 * {@link VirtualClock} (or a scaled one for the demo). Behaviour: ./SPEC.md.
 *
 * ```ts
 * const sandbox = Sandbox.create({ seed: 7 });
 * await sandbox.seedGroup({ name: 'qa-web', capacity: 4, elb: { name: 'qa-web' } });
 * sandbox.monitor.baseline();
 * await runRollout(sandbox.clients, sandbox.clock);           // the tool under test
 * t.true(sandbox.monitor.minHealthy('qa-web') >= 4);
 * t.deepEqual(sandbox.monitor.healthyUpToDateTerminated('qa-web'), []);
 * t.deepEqual(sandbox.monitor.leftovers('qa-web'), []);
 * ```
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { S3Client } from '@aws-sdk/client-s3';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { AwsClients } from '../aws/clients';
import { VirtualClock } from '../clock';
import { SandboxCrashedError, SimFault, serverError, throttle, toSdkError, type ServiceName } from './faults';
import { defaultFaults, type FaultConfig, type ImageBehaviour, type SandboxState } from './model';
import { SafetyMonitor } from './monitor';
import { lifecycleHookOps } from './autoscaling/hooks';
import { autoScalingOps, autoScalingReadOnly } from './autoscaling/ops';
import { warmPoolOps } from './autoscaling/warm-pool';
import type { CallCtx, Handler } from './ops-common';
import { ec2Ops, ec2ReadOnly } from './ec2/ops';
import { elbOps, elbReadOnly } from './elb/ops';
import { elbv2Ops, elbv2ReadOnly } from './elbv2/ops';
import { asgTargetGroupOps } from './elbv2/asg-ops';
import { makeS3Ops, s3ReadOnly } from './s3/ops';
import { cloudWatchOps, cloudWatchReadOnly, setAlarm, type AlarmStateValue } from './cloudwatch/ops';
import { VirtualClockRetryStrategy } from './retry';
import { SCALE_DELAY_MS, TICK_MS, World } from './world';
import { seedTargetGroups, type SeedTargetGroupsSpec, type SeededTargetGroups } from './elbv2/seed';
export type { SeedTargetGroupsSpec, SeededTargetGroups } from './elbv2/seed';

/** Which operations of each service only read (the rest count as mutating: faults after commit, the call log). */
const READ_ONLY: Record<ServiceName, (operation: string) => boolean> = {
  autoscaling: autoScalingReadOnly,
  ec2: ec2ReadOnly,
  elb: elbReadOnly,
  elbv2: elbv2ReadOnly,
  s3: s3ReadOnly,
  cloudwatch: cloudWatchReadOnly,
};

export type { FaultConfig, ImageBehaviour, SandboxState, Seconds } from './model';
export { SafetyMonitor } from './monitor';
export type { Leftover } from './monitor';
export { SandboxCrashedError } from './faults';

export interface SandboxOptions {
  /** Default: a new VirtualClock. The demo passes a scaled one. */
  clock?: VirtualClock;
  /** All randomness comes from a PRNG seeded with this: same seed, same run. Default 1. */
  seed?: number;
  /** Max items per page for every paginated call (tests make it tiny). */
  pageSize?: number;
  /** Default 'us-east-1'; AZs are `${region}a..c`. */
  region?: string;
  faults?: Partial<FaultConfig>;
  /** SDK attempts per call (the SDK's standard default is 3). */
  maxAttempts?: number;
  /** S3 buckets spring into existence on first use (default true), so a lock bucket needs no setup. */
  autoCreateBuckets?: boolean;
}

export interface ApiCallRecord {
  /** Simulated time, epoch ms. */
  time: number;
  service: ServiceName;
  operation: string;
  mutating: boolean;
  actor: string;
  /** AWS error code when the attempt failed. */
  error?: string;
  /** DescribeAutoScalingGroups: the groups it named (what the caller read, for the chaos checker). */
  groups?: string[];
}

/** What `seedGroup` builds: a launch template, optionally a classic ELB, and an ASG. */
export interface SeedGroupSpec {
  name: string;
  capacity: number;
  min?: number;
  max?: number;
  imageId?: string;
  instanceType?: string;
  availabilityZones?: string[];
  healthCheckType?: 'EC2' | 'ELB';
  healthCheckGracePeriod?: number;
  terminationPolicies?: string[];
  tags?: Record<string, string>;
  /** Reuse an existing launch template (by name) instead of creating `${name}-lt`. */
  launchTemplateName?: string;
  elb?: {
    name: string;
    healthCheck?: { target?: string; interval?: number; timeout?: number; healthyThreshold?: number; unhealthyThreshold?: number };
    /** Connection draining timeout in seconds (0: off). Default 300. */
    drainingTimeout?: number;
    /** AZs the load balancer routes to (default: every AZ of the region) [ELB-8]. */
    availabilityZones?: string[];
  };
  /** ELBv2 target groups to attach (ARNs from {@link Sandbox.seedTargetGroups}); the group then defaults to ELB health checks. */
  targetGroupARNs?: string[];
  /** Wait until every instance is healthy (default true). */
  settle?: boolean;
  /** Lifecycle hooks (PutLifecycleHook) [HOOK-1]: heartbeat timeout in s (default 3600), default result (default ABANDON). */
  lifecycleHooks?: Array<{ name: string; transition: 'launch' | 'terminate'; heartbeatTimeout?: number; defaultResult?: 'CONTINUE' | 'ABANDON' }>;
  /** A warm pool (PutWarmPool) [WARM-1]. */
  warmPool?: { minSize?: number; maxGroupPreparedCapacity?: number; poolState?: 'Stopped' | 'Running' | 'Hibernated'; reuseOnScaleIn?: boolean };
  /**
   * A mixed instances policy instead of the plain launch template [MIX-1..4]: the instance-type
   * overrides and the On-Demand/Spot distribution (AWS's defaults for what is left out).
   */
  mixed?: { instanceTypes: string[]; onDemandBaseCapacity?: number; onDemandPercentageAboveBaseCapacity?: number; spotAllocationStrategy?: string };
  /** CapacityRebalance [SPOT-2]. */
  capacityRebalance?: boolean;
  /** MaxInstanceLifetime in seconds (≥ 86,400) [LIFE-1]. */
  maxInstanceLifetime?: number;
}

const CRASHED = -1;

export class Sandbox {
  readonly clock: VirtualClock;
  readonly world: World;
  readonly monitor: SafetyMonitor;
  readonly calls: ApiCallRecord[] = [];
  readonly clients: AwsClients;
  private readonly options: SandboxOptions;
  /** Each service's API handlers, by the `ServiceName` its SDK client is installed under (see newClients). */
  private readonly ops: Record<ServiceName, Record<string, Handler>>;
  private readonly crash = new Map<string, number>();
  /** One-shot watchers of an actor's calls ({@link onCall}). */
  private watchers: Array<{ actor: string; match: (operation: string, input: any, mutating: boolean) => boolean; fn: () => void }> = [];
  private actorCount = 0;
  private disposed = false;
  private requestCount = 0;

  private constructor(state: SandboxState, options: SandboxOptions) {
    this.options = options;
    this.clock = options.clock ?? new VirtualClock({ start: state.now });
    if (this.clock.now() < state.now) this.clock.advanceTo(state.now);
    this.world = new World(state);
    this.monitor = new SafetyMonitor(this.world);
    this.world.observer = this.monitor;
    this.ops = { autoscaling: { ...autoScalingOps, ...asgTargetGroupOps, ...lifecycleHookOps, ...warmPoolOps }, ec2: ec2Ops, elb: elbOps, elbv2: elbv2Ops, s3: makeS3Ops(options.autoCreateBuckets ?? true), cloudwatch: cloudWatchOps };
    this.clock.onAdvance((t) => {
      if (!this.disposed) this.world.processUntil(t);
    });
    this.world.processUntil(this.clock.now());
    this.clients = this.newClients('tool');
  }

  static create(options: SandboxOptions = {}): Sandbox {
    const start = options.clock?.now() ?? Date.parse('2026-01-01T00:00:00Z');
    const state: SandboxState = {
      format: 'asg-deploy-sandbox/1',
      now: start,
      region: options.region ?? 'us-east-1',
      rng: (options.seed ?? 1) >>> 0 || 1,
      seq: 0,
      counters: {},
      faults: { ...defaultFaults, ...(options.faults ?? {}) },
      images: {},
      launchTemplates: {},
      launchConfigurations: {},
      groups: {},
      instances: {},
      elbs: {},
      activities: {},
      buckets: {},
      events: [],
      nextTick: Math.floor(start / TICK_MS) * TICK_MS + TICK_MS,
      monitor: { healthy: {}, timeline: [], terminations: [], baseline: {} },
    };
    return new Sandbox(state, options);
  }

  /** Restores a sandbox saved with {@link toJSON} (the `--sandbox` state file between CLI runs). */
  static fromJSON(state: SandboxState, options: SandboxOptions = {}): Sandbox {
    if (state?.format !== 'asg-deploy-sandbox/1') throw new Error('sandbox: not a sandbox state file (format asg-deploy-sandbox/1 expected)');
    const copy = structuredClone(state);
    if (options.faults) copy.faults = { ...copy.faults, ...options.faults };
    copy.faults = { ...defaultFaults, ...copy.faults };
    // Fields added after a state file was written get their defaults.
    copy.images ??= {};
    copy.buckets ??= {};
    copy.launchConfigurations ??= {};
    copy.monitor ??= { healthy: {}, timeline: [], terminations: [], baseline: {} };
    for (const g of Object.values(copy.groups)) {
      g.launchFailures ??= 0;
      g.activities ??= [];
      g.suspended ??= [];
      g.tags ??= [];
    }
    return new Sandbox(copy, { ...options, region: copy.region });
  }

  /** The whole simulated world as plain JSON (clock time, PRNG position, pending events, monitor). */
  toJSON(): SandboxState {
    this.world.syncRng();
    return structuredClone({ ...this.world.state, savedAt: Date.now() });
  }

  /**
   * Detaches this sandbox from its clock: it stops simulating and every later call through its
   * clients fails. Call it when a clock outlives the sandbox (a session saved to its state file
   * while the demo's clock runs on), so stale worlds do not keep simulating alongside the new one.
   */
  dispose(): void {
    this.disposed = true;
  }

  /** Fault switches; mutable at any time (`sandbox.faults.throttleRate = 0.2`). */
  get faults(): FaultConfig {
    return this.world.state.faults;
  }
  set faults(f: FaultConfig) {
    this.world.state.faults = { ...defaultFaults, ...f };
  }

  /**
   * A CloudWatch alarm's state (cloudwatch/SPEC.md [CW-2]): creates the alarm when new (a metric
   * alarm unless `type` says composite); what DescribeAlarms answers from now on.
   */
  setAlarm(name: string, state: AlarmStateValue, reason = `sandbox: set to ${state}`, type: 'MetricAlarm' | 'CompositeAlarm' = 'MetricAlarm'): void {
    this.world.processUntil(this.clock.now());
    setAlarm(this.world, name, state, reason, type);
  }

  /** Behaviour of instances launched from an image (boot time, never healthy, fails after N s). */
  setImage(imageId: string, behaviour: ImageBehaviour): void {
    this.world.state.images[imageId] = { ...behaviour };
  }

  /** Behaviour of instances launched from one launch template version (id or name), overriding the image's. */
  setLaunchTemplateVersion(launchTemplate: string, version: number, behaviour: ImageBehaviour): void {
    this.world.state.images[`${launchTemplate}:${version}`] = { ...behaviour };
  }

  /**
   * Simulated crash (kill -9) of a tool process: after `n` more API calls from `actor`'s client
   * set, every call from it fails with {@link SandboxCrashedError}, so it cannot clean up.
   * Other client sets (e.g. {@link newClients} for the re-run) keep working.
   */
  crashAfter(n: number, actor = 'tool'): void {
    this.crash.set(actor, n <= 0 ? CRASHED : n);
  }

  /** Simulated kill -9 of `actor` now: every later call from its client set fails ({@link crashAfter}). */
  crashNow(actor = 'tool'): void {
    this.crash.set(actor, CRASHED);
  }

  /**
   * Calls `fn` once, right after the first call from `actor` (from now on) that `match` accepts
   * has taken effect — the call itself goes through and answers. `match` sees the world as it was
   * before the call (e.g. the group's desired capacity a SetDesiredCapacity raises). How chaos lands a signal in a
   * window a clock cannot aim at: a SIGINT right after the tool raised desired capacity (the surge
   * asked for, not launched yet), a kill -9 right after its cleanup suspended a process.
   */
  onCall(actor: string, match: (operation: string, input: any, mutating: boolean) => boolean, fn: () => void): void {
    this.watchers.push({ actor, match, fn });
  }

  crashed(actor = 'tool'): boolean {
    return this.crash.get(actor) === CRASHED;
  }

  /** A fresh set of SDK clients on this sandbox, its calls recorded under `actor`. */
  newClients(actor?: string): AwsClients {
    const name = actor ?? `tool-${++this.actorCount}`;
    const region = this.world.state.region;
    const maxAttempts = this.options.maxAttempts ?? 3;
    const seed = this.world.state.rng ^ this.actorCount;
    const common = () => ({
      region,
      credentials: { accessKeyId: 'ASIASANDBOX0000000000', secretAccessKey: 'sandbox' },
      maxAttempts,
      retryStrategy: new VirtualClockRetryStrategy(this.clock, maxAttempts, seed),
      requestHandler: noNetwork as any,
      // No `info`: the SDK's logger middleware then skips building the (schema-filtered) log of
      // every response, which costs more than the simulation itself on 1,000-instance describes.
      logger: quietLogger as any,
    });
    // S3 (and its SDK package) only on first use, as aws/clients.ts: most runs keep their locks in tags.
    let s3: S3Client | undefined;
    let cloudWatch: CloudWatchClient | undefined;
    let elbv2: ElasticLoadBalancingV2Client | undefined;
    const install = (client: { middlewareStack: any }, service: ServiceName) => this.install(client, service, name);
    const clients: AwsClients = {
      autoScaling: new AutoScalingClient(common()),
      ec2: new EC2Client(common()),
      elb: new ElasticLoadBalancingClient(common()),
      get elbv2() {
        if (!elbv2) {
          elbv2 = new (require('@aws-sdk/client-elastic-load-balancing-v2') as typeof import('@aws-sdk/client-elastic-load-balancing-v2')).ElasticLoadBalancingV2Client(common());
          install(elbv2, 'elbv2');
        }
        return elbv2;
      },
      get s3() {
        if (!s3) {
          s3 = new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client({ ...common(), forcePathStyle: true });
          install(s3, 's3');
        }
        return s3;
      },
      // CloudWatch likewise: only `--alarm` loads it.
      get cloudWatch() {
        if (!cloudWatch) {
          cloudWatch = new (require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch')).CloudWatchClient(common());
          install(cloudWatch, 'cloudwatch');
        }
        return cloudWatch;
      },
    };
    install(clients.autoScaling, 'autoscaling');
    install(clients.ec2, 'ec2');
    install(clients.elb, 'elb');
    return clients;
  }

  private install(client: { middlewareStack: any }, service: ServiceName, actor: string): void {
    client.middlewareStack.addRelativeTo(
      (_next: unknown, context: { commandName?: string }) => async (args: { input: unknown }) => {
        const operation = String(context.commandName ?? '').replace(/Command$/, '');
        const output = await this.invoke(service, operation, args.input, actor);
        return { response: { statusCode: 200, headers: {} }, output };
      },
      { relation: 'after', toMiddleware: 'retryMiddleware', name: 'asgDeploySandbox', override: true },
    );
  }

  /**
   * One API attempt (what the middleware calls). Exposed for tests. With `faults.apiLatencyMs` it
   * takes that long in simulated time, carried out halfway through [FAULT-15].
   */
  async invoke(service: ServiceName, operation: string, input: any, actor: string): Promise<any> {
    const latency = this.disposed ? undefined : this.world.faults.apiLatencyMs;
    if (!latency) return this.answer(service, operation, input, actor);
    const ms = this.world.rng.uniform(latency.min, latency.max);
    await this.clock.sleep(ms / 2);
    try {
      return await this.answer(service, operation, input, actor);
    } finally {
      await this.clock.sleep(ms / 2);
    }
  }

  private async answer(service: ServiceName, operation: string, input: any, actor: string): Promise<any> {
    if (this.disposed) throw new Error(`sandbox: ${service} ${operation} called on a disposed sandbox (its state was saved; load it again)`);
    const w = this.world;
    w.processUntil(this.clock.now());
    const requestId = this.nextRequestId();
    const mutating = !READ_ONLY[service](operation);
    const record: ApiCallRecord = { time: w.now, service, operation, mutating, actor };
    if (operation === 'DescribeAutoScalingGroups' && Array.isArray(input?.AutoScalingGroupNames)) record.groups = [...input.AutoScalingGroupNames];
    const left = this.crash.get(actor);
    if (left === CRASHED) throw new SandboxCrashedError(actor, operation);
    if (left !== undefined) this.crash.set(actor, left - 1 <= 0 ? CRASHED : left - 1);
    this.calls.push(record);
    try {
      const handler = this.ops[service][operation];
      if (!handler) {
        throw new SimFault('SandboxUnsupportedOperation', `sandbox: ${service} operation ${operation} is not implemented by the simulated AWS`, 400);
      }
      const f = w.faults;
      let throttleRate = f.throttleRate;
      for (const win of f.throttleWindows ?? []) if (w.now >= win.from && w.now < win.to) throttleRate = Math.max(throttleRate, win.rate);
      if (w.rng.chance(throttleRate)) throw throttle(service);
      let commitThenFail = false;
      if (w.rng.chance(f.serverErrorRate)) {
        if (mutating && w.rng.chance(f.serverErrorAfterCommitRate)) commitThenFail = true;
        else throw serverError(service);
      }
      if (service === 'autoscaling' && mutating && w.rng.chance(f.resourceContentionRate)) {
        throw new SimFault('ResourceContention', 'You already have a pending update to an Auto Scaling resource (for example, a group, instance, or load balancer).', 500, 'server');
      }
      const ctx: CallCtx = { actor, operation, pageSize: this.options.pageSize };
      const due = this.dueWatchers(actor, operation, input ?? {}, mutating);
      const out = handler(w, input ?? {}, ctx);
      if (due.length > 0) {
        this.watchers = this.watchers.filter((x) => !due.includes(x));
        for (const x of due) x.fn();
      }
      if (commitThenFail) throw serverError(service);
      return { ...out, $metadata: { httpStatusCode: 200, requestId, attempts: 1, totalRetryDelay: 0 } };
    } catch (e) {
      if (e instanceof SimFault) {
        record.error = e.code;
        throw toSdkError(service, e, requestId);
      }
      record.error = e instanceof Error ? e.name : 'Error';
      throw e;
    }
  }

  /** The watchers this call would fire, matched on the world before it; fired (once each) only if it takes effect. */
  private dueWatchers(actor: string, operation: string, input: any, mutating: boolean): Sandbox['watchers'] {
    if (this.watchers.length === 0) return [];
    return this.watchers.filter((x) => x.actor === actor && x.match(operation, input, mutating));
  }

  private nextRequestId(): string {
    const n = (++this.requestCount).toString(16).padStart(12, '0');
    return `5a4d0b0e-0000-4000-8000-${n}`;
  }

  /** Calls a handler directly (setup helpers): no faults, not recorded. */
  direct(service: ServiceName, operation: string, input: any): any {
    this.world.processUntil(this.clock.now());
    return this.ops[service][operation](this.world, input, { actor: 'setup', operation, pageSize: undefined });
  }

  /** Moves simulated time forward by `ms`, running everything due (does not wake sleepers). */
  advance(ms: number): void {
    this.clock.advanceTo(this.clock.now() + ms);
  }

  /** True when every group has `desired` active instances, all healthy, none on its way in or out (Standby ones aside). */
  isSettled(group?: string): boolean {
    const groups = Object.values(this.world.state.groups).filter((g) => !group || g.name === group);
    return groups.every((g) => {
      const insts = this.world.groupInstances(g).filter((i) => !this.world.asg.isStandby(i));
      if (insts.length !== g.desired || !insts.every((i) => this.world.isHealthy(i))) return false;
      // A warm pool is settled once full, every instance in its pool state [WARM-2].
      const warm = this.world.warmPool.instances(g);
      return !g.warmPool || (warm.length === this.world.warmPool.targetSize(g) && warm.every((i) => i.lifecycle === `Warmed:${g.warmPool!.poolState}`));
    });
  }

  /** Advances time until {@link isSettled} (or throws after `timeoutMs`). Returns the simulated ms it took. */
  settle(options: { group?: string; timeoutMs?: number } = {}): number {
    const start = this.clock.now();
    const deadline = start + (options.timeoutMs ?? 3600_000);
    while (!this.isSettled(options.group)) {
      if (this.clock.now() >= deadline) throw new Error(`sandbox: not settled after ${(deadline - start) / 1000} s`);
      this.advance(1000);
    }
    return this.clock.now() - start;
  }

  /**
   * Setup helper: a launch template (ImageId `imageId`), optionally a classic ELB with health
   * check and connection draining, and an ASG of `capacity` instances attached to it; then
   * (by default) advances time until every instance is healthy.
   */
  seedGroup(spec: SeedGroupSpec): { launchTemplateId: string; launchTemplateName: string } {
    const ltName = spec.launchTemplateName ?? `${spec.name}-lt`;
    let lt = this.world.findLaunchTemplate({ name: ltName });
    if (!lt) {
      this.direct('ec2', 'CreateLaunchTemplate', {
        LaunchTemplateName: ltName,
        LaunchTemplateData: { ImageId: spec.imageId ?? 'ami-0123456789abcdef0', InstanceType: spec.instanceType ?? 't3.small' },
      });
      lt = this.world.findLaunchTemplate({ name: ltName })!;
    }
    if (spec.elb) {
      const hc = spec.elb.healthCheck ?? {};
      this.direct('elb', 'CreateLoadBalancer', {
        LoadBalancerName: spec.elb.name,
        Listeners: [{ Protocol: 'HTTP', LoadBalancerPort: 80, InstanceProtocol: 'HTTP', InstancePort: 8080 }],
        // Enabled in every AZ of the region, whatever the group's AZs (a group widened later keeps
        // its instances routable, [ELB-8]); `elb.availabilityZones` narrows it.
        AvailabilityZones: spec.elb.availabilityZones ?? this.world.zones(),
      });
      this.direct('elb', 'ConfigureHealthCheck', {
        LoadBalancerName: spec.elb.name,
        HealthCheck: {
          Target: hc.target ?? 'HTTP:8080/health',
          Interval: hc.interval ?? 10,
          Timeout: hc.timeout ?? 5,
          HealthyThreshold: hc.healthyThreshold ?? 3,
          UnhealthyThreshold: hc.unhealthyThreshold ?? 2,
        },
      });
      const drain = spec.elb.drainingTimeout ?? 300;
      this.direct('elb', 'ModifyLoadBalancerAttributes', {
        LoadBalancerName: spec.elb.name,
        LoadBalancerAttributes: { ConnectionDraining: { Enabled: drain > 0, Timeout: drain > 0 ? drain : 300 } },
      });
    }
    this.direct('autoscaling', 'CreateAutoScalingGroup', {
      AutoScalingGroupName: spec.name,
      ...(spec.mixed
        ? {
            MixedInstancesPolicy: {
              LaunchTemplate: { LaunchTemplateSpecification: { LaunchTemplateId: lt.id, Version: '$Latest' }, Overrides: spec.mixed.instanceTypes.map((InstanceType) => ({ InstanceType })) },
              InstancesDistribution: {
                OnDemandBaseCapacity: spec.mixed.onDemandBaseCapacity,
                OnDemandPercentageAboveBaseCapacity: spec.mixed.onDemandPercentageAboveBaseCapacity,
                SpotAllocationStrategy: spec.mixed.spotAllocationStrategy,
              },
            },
          }
        : { LaunchTemplate: { LaunchTemplateId: lt.id, Version: '$Latest' } }),
      ...(spec.capacityRebalance ? { CapacityRebalance: true } : {}),
      ...(spec.maxInstanceLifetime ? { MaxInstanceLifetime: spec.maxInstanceLifetime } : {}),
      MinSize: spec.min ?? 0,
      MaxSize: spec.max ?? Math.max(spec.capacity * 2, 1),
      DesiredCapacity: spec.capacity,
      AvailabilityZones: spec.availabilityZones ?? this.world.zones(),
      LoadBalancerNames: spec.elb ? [spec.elb.name] : [],
      TargetGroupARNs: spec.targetGroupARNs,
      HealthCheckType: spec.healthCheckType ?? (spec.elb || spec.targetGroupARNs?.length ? 'ELB' : 'EC2'),
      HealthCheckGracePeriod: spec.healthCheckGracePeriod ?? 300,
      TerminationPolicies: spec.terminationPolicies,
      Tags: Object.entries(spec.tags ?? {}).map(([Key, Value]) => ({ Key, Value, PropagateAtLaunch: true })),
    });
    for (const h of spec.lifecycleHooks ?? []) {
      this.direct('autoscaling', 'PutLifecycleHook', {
        AutoScalingGroupName: spec.name,
        LifecycleHookName: h.name,
        LifecycleTransition: h.transition === 'launch' ? 'autoscaling:EC2_INSTANCE_LAUNCHING' : 'autoscaling:EC2_INSTANCE_TERMINATING',
        HeartbeatTimeout: h.heartbeatTimeout,
        DefaultResult: h.defaultResult,
      });
    }
    if (spec.warmPool) {
      const p = spec.warmPool;
      // The group's first launches start first (1 s, [ASG-1a]): the pool then fills the zones they leave.
      this.advance(SCALE_DELAY_MS + 1);
      this.direct('autoscaling', 'PutWarmPool', {
        AutoScalingGroupName: spec.name,
        MinSize: p.minSize,
        MaxGroupPreparedCapacity: p.maxGroupPreparedCapacity,
        PoolState: p.poolState,
        InstanceReusePolicy: p.reuseOnScaleIn !== undefined ? { ReuseOnScaleIn: p.reuseOnScaleIn } : undefined,
      });
    }
    if (spec.settle ?? true) this.settle({ group: spec.name });
    return { launchTemplateId: lt.id, launchTemplateName: lt.name };
  }

  /** Setup helper: an ALB/NLB, a listener, and target groups it forwards to (by weight); returns their ARNs. See elbv2/seed.ts. */
  seedTargetGroups(spec: SeedTargetGroupsSpec): SeededTargetGroups {
    return seedTargetGroups(this, spec);
  }

  /** Setup helper: a new launch template version (optionally made the default), returns its number. */
  newLaunchTemplateVersion(launchTemplateName: string, data: Record<string, unknown>, options: { makeDefault?: boolean } = {}): number {
    const lt = this.world.findLaunchTemplate({ name: launchTemplateName });
    if (!lt) throw new Error(`sandbox: no launch template ${launchTemplateName}`);
    const out = this.direct('ec2', 'CreateLaunchTemplateVersion', { LaunchTemplateId: lt.id, SourceVersion: '$Latest', LaunchTemplateData: data });
    const v: number = out.LaunchTemplateVersion.VersionNumber;
    if (options.makeDefault) this.direct('ec2', 'ModifyLaunchTemplate', { LaunchTemplateId: lt.id, DefaultVersion: String(v) });
    return v;
  }

  /** API calls per actor (every SDK attempt counts). */
  callCount(filter: { actor?: string; mutating?: boolean } = {}): number {
    return this.calls.filter((c) => (filter.actor === undefined || c.actor === filter.actor) && (filter.mutating === undefined || c.mutating === filter.mutating)).length;
  }
}

const quietLogger = { trace() {}, debug() {}, warn() {}, error() {} };

/** The sandbox answers above the HTTP layer; reaching it would be a wiring bug. */
const noNetwork = {
  handle(): never {
    throw new Error('sandbox: a request reached the HTTP handler; the simulation middleware is not installed');
  },
  destroy(): void {},
  updateHttpClientConfig(): void {},
  httpHandlerConfigs(): Record<string, never> {
    return {};
  },
};
