/**
 * The simulated AWS's state: plain, JSON-serialisable records (times are epoch ms of the
 * sandbox clock). Behaviour lives in the per-service modules (./ec2, ./autoscaling, ./elb, ./s3) and ./coupling.ts,
 * driven by ./world.ts; the rules are written down in ./SPEC.md and the per-service SPEC files.
 */

/** "Never" as a JSON-safe time (Infinity does not survive JSON): the largest Date. */
export const NEVER = 8.64e15;

/** A duration distribution in seconds: a fixed value, uniform range, or normal (clamped at `min`). */
export type Seconds =
  | number
  | { min: number; max: number }
  | { mean: number; sd: number; min?: number }
  /** Log-normal (long-tailed): exp(ln(logMedian) + sigma × z), at least `min`. */
  | { logMedian: number; sigma: number; min?: number };

/** How instances launched from an image (or a launch template version) behave. */
export interface ImageBehaviour {
  /** EC2 pending -> running. Default: faults.bootSeconds. */
  bootSeconds?: Seconds;
  /** running -> the application answers health checks. Default: faults.appStartSeconds. */
  appStartSeconds?: Seconds;
  /** false: the application never becomes healthy (a bad image). Default true. */
  healthy?: boolean;
  /** The application stops answering this many seconds after launch (a version that dies later). */
  failAfterSeconds?: number;
  /**
   * The application passes its health checks but answers requests with 5xx errors from this many
   * seconds after it starts answering (a version that is bad only under traffic) [CW-4].
   */
  errorsAfterSeconds?: number;
  /** The share of its requests such an instance fails once it errs (0-1). Default 1 [CW-4]. */
  errorRate?: number;
  /** Probability that one instance launched from it fails to boot [FAULT-11]. Default: faults.bootFailureRate. */
  bootFailureRate?: number;
  /** How a failed boot shows. Default: faults.bootFailureMode. */
  bootFailureMode?: BootFailureMode;
}

/**
 * How a failed boot shows [FAULT-11]: `never-healthy` — EC2 running, the application never answers
 * (the ELB keeps it OutOfService); `terminated` — EC2 goes pending -> terminated at the end of the
 * boot with StateReason `Server.InternalError` (the ASG notices on its next health check).
 */
export type BootFailureMode = 'never-healthy' | 'terminated';

export interface FaultConfig {
  /** Default EC2 boot time (pending -> running). */
  bootSeconds: Seconds;
  /** Default application start after running. */
  appStartSeconds: Seconds;
  /** Probability that one launch attempt fails with InsufficientInstanceCapacity. */
  launchFailureRate: number;
  /** AZs with no capacity at all: every launch there fails (AWS then tries another AZ). */
  unavailableZones: string[];
  /** Spontaneous (spot-like) terminations, per running instance per hour. */
  spontaneousTerminationsPerHour: number;
  /**
   * Spot interruptions of mixed instances groups' Spot instances, per running Spot instance per
   * hour: the two-minute notice, then EC2 terminates it [SPOT-1]. Absent/0: none (no PRNG draw).
   */
  spotInterruptionsPerHour?: number;
  /**
   * EC2 rebalance recommendations, per running Spot instance per hour: a group with
   * CapacityRebalance launches a replacement first, then terminates the at-risk instance [SPOT-2].
   * Absent/0: none (no PRNG draw).
   */
  rebalanceRecommendationsPerHour?: number;
  /**
   * Every API attempt takes a latency drawn uniformly in [min, max] ms of simulated time, carried
   * out halfway through it and answered at its end [FAULT-15]. Absent: none (no PRNG draw).
   */
  apiLatencyMs?: { min: number; max: number };
  /** Probability that an API call is throttled (Throttling / RequestLimitExceeded / SlowDown). */
  throttleRate: number;
  /** Probability that an API call fails with a 5xx. */
  serverErrorRate: number;
  /** When a mutating call draws a 5xx: probability the change was applied anyway (ambiguous commit). */
  serverErrorAfterCommitRate: number;
  /** Probability that an Auto Scaling mutating call fails with ResourceContention. */
  resourceContentionRate: number;
  /** A new instance is invisible to EC2 Describe* calls for this long after launch (eventual consistency). */
  describeDelaySeconds: number;
  /** EC2 shutting-down -> terminated. */
  shutdownSeconds: number;
  /** Probability that one launched instance fails to boot (per instance, seeded) [FAULT-11]; per image: ImageBehaviour. */
  bootFailureRate: number;
  /** How a failed boot shows (see {@link BootFailureMode}). */
  bootFailureMode: BootFailureMode;
  /**
   * Where a classic ELB's check timer falls for a new registration [ELB-2]: 'registration' (the
   * first check one Interval after registering, the default) or 'random' (drawn uniformly in
   * (0, Interval] per registration, seeded: AWS states no phase).
   */
  elbCheckPhase: 'registration' | 'random';
  /**
   * In-flight connections when an instance is deregistered with connection draining [ELB-6]:
   * with probability `idle` it has none (deregistration completes at once), with probability
   * `long` its connections outlast the draining timeout (the full timeout), otherwise they finish
   * after `seconds` (capped at the timeout). Default: always long (the worst case).
   */
  connectionDrain: ConnectionDrain;
  /**
   * Probability that SetDesiredCapacity / TerminateInstanceInAutoScalingGroup fail with
   * ScalingActivityInProgress while one of the group's scaling activities is in progress [ASG-9].
   */
  scalingActivityInProgressRate: number;
  /**
   * Throttling storms: during [from, to) (sandbox epoch ms) calls are throttled with probability
   * `rate` (the larger of it and `throttleRate`) — sustained throttling that drains a client's
   * retry quota [FAULT-5].
   */
  throttleWindows: Array<{ from: number; to: number; rate: number }>;
  /** Latency of a scaling activity asked for through the API [ASG-1a]; default 1 s (SCALE_DELAY_MS). */
  scaleDelaySeconds: Seconds;
  /** Client requests each load balancer receives per second, for the request metrics [CW-4]. Default 10. */
  requestsPerSecond: number;
  /** Who completes lifecycle actions, per transition [HOOK-6]; absent: hooks/DEFAULT_AGENT. */
  lifecycleAgents?: { launch?: HookAgent; terminate?: HookAgent };
  /** EC2 start of a warmed instance leaving a Stopped/Hibernated warm pool [WARM-4]; absent: 10–20 s. */
  warmStartSeconds?: Seconds;
  /**
   * Slow target registration [FAULT-14]: a target registered with an ELBv2 target group waits
   * this long (drawn per registration) before its health checks start, `initial` /
   * `Elb.RegistrationInProgress` meanwhile. Default 0 (checks one interval after registration).
   */
  targetRegistrationSeconds?: Seconds;
}

/** See {@link FaultConfig.connectionDrain}. */
export interface ConnectionDrain {
  idle: number;
  long: number;
  seconds: Seconds;
}

export const defaultFaults: FaultConfig = {
  bootSeconds: { min: 30, max: 60 },
  appStartSeconds: 0,
  launchFailureRate: 0,
  unavailableZones: [],
  spontaneousTerminationsPerHour: 0,
  throttleRate: 0,
  serverErrorRate: 0,
  serverErrorAfterCommitRate: 0,
  resourceContentionRate: 0,
  describeDelaySeconds: 0,
  shutdownSeconds: 20,
  bootFailureRate: 0,
  bootFailureMode: 'never-healthy',
  elbCheckPhase: 'registration',
  connectionDrain: { idle: 0, long: 1, seconds: 0 },
  scalingActivityInProgressRate: 0,
  throttleWindows: [],
  scaleDelaySeconds: 1,
  requestsPerSecond: 10,
};

export interface LaunchTemplateVersionRec {
  version: number;
  data: Record<string, any>;
  createTime: number;
  description?: string;
}

export interface LaunchTemplateRec {
  id: string;
  name: string;
  createTime: number;
  defaultVersion: number;
  latestVersion: number;
  versions: LaunchTemplateVersionRec[];
  tags: Record<string, string>;
}

export interface LaunchConfigurationRec {
  name: string;
  arn: string;
  imageId: string;
  instanceType: string;
  createTime: number;
  data: Record<string, any>;
}

/** What one instance was launched from (versions resolved to a number at launch). */
export type LaunchRef = { kind: 'lt'; id: string; name: string; version: number } | { kind: 'lc'; name: string } | { kind: 'none' };

export type Ec2State = 'pending' | 'running' | 'stopped' | 'shutting-down' | 'terminated';

export interface InstanceRec {
  id: string;
  az: string;
  subnetId: string;
  privateIp: string;
  imageId: string;
  instanceType: string;
  launch: LaunchRef;
  launchTime: number;
  ec2State: Ec2State;
  /** When EC2 reaches running. */
  runningAt: number;
  /** When the application answers health checks (NEVER = 8.64e15: never). */
  appUpAt: number;
  /** When the application stops answering (undefined: never). */
  failAt?: number;
  /** From this time the application fails `errorRate` of the requests it serves (health checks still pass) [CW-4]. */
  errorsAt?: number;
  /** The share of requests it fails from `errorsAt` (0-1) [CW-4]. */
  errorRate?: number;
  /** EC2 Describe* calls see the instance from this time (eventual consistency). */
  visibleAt: number;
  terminatedAt?: number;
  stateReason?: string;
  /** Drawn at launch: this instance fails to boot [FAULT-11]. */
  bootFailure?: BootFailureMode;
  tags: Record<string, string>;
  /** Auto Scaling view; undefined when not in a group. */
  group?: string;
  lifecycle?: string;
  health?: 'Healthy' | 'Unhealthy';
  protected?: boolean;
  inServiceAt?: number;
  /** Scaling activity that launched / terminates this instance. */
  launchActivity?: string;
  terminateActivity?: string;
  /** ELBs this instance is draining from; termination proceeds after the last drains. */
  drainingUntil?: number;
  /** The group's rebalancing launch (AZRebalance). */
  rebalance?: boolean;
  /** NewInstancesProtectedFromScaleIn at launch: protection starts when the instance is InService [TERM-5]. */
  protectOnInService?: boolean;
  /** Launched to replace an ELB-unhealthy instance and not yet healthy and warmed up [HEALTH-6]. */
  elbReplacement?: boolean;
  /** The EnterStandby / ExitStandby activity in progress [ASG-10]. */
  standbyActivity?: string;
  /** Pending after ExitStandby: goes InService at the group's next scaling activity [ASG-10]. */
  exitingStandby?: boolean;
  /** Unhealthy, kept running while its replacement launches first (instance maintenance policy) [HEALTH-7]. */
  awaitingReplacement?: boolean;
  /** Lifecycle actions it waits on (Pending:Wait, Terminating:Wait, Warmed:Pending:Wait) [HOOK-2, HOOK-3]. */
  lifecycleActions?: LifecycleActionRec[];
  /** The lifecycle hook waits it went through: 'launch', 'warm-launch', 'terminate' [HOOK-2, HOOK-3]. */
  hooksPassed?: string[];
  /** In this group's warm pool (then `group` is unset) [WARM-1]. */
  warmPoolOf?: string;
  /** A Spot instance of a mixed instances group (EC2 `InstanceLifecycle: spot`); absent: On-Demand [MIX-3]. */
  market?: 'spot';
  /** EC2 interrupts this Spot instance at this time (the two-minute notice was given) [SPOT-1]. */
  spotInterruptAt?: number;
  /** EC2's rebalance recommendation for this Spot instance arrived (Capacity Rebalancing acts on it) [SPOT-2]. */
  rebalanceRecommended?: boolean;
  /** Launched by Capacity Rebalancing to replace this at-risk instance [SPOT-2]. */
  replacesAtRisk?: string;
  /** Terminated for the group's maximum instance lifetime [LIFE-1]. */
  lifetimeEnded?: boolean;
}

/** One lifecycle hook of a group [HOOK-1]. */
export interface LifecycleHookRec {
  name: string;
  transition: 'autoscaling:EC2_INSTANCE_LAUNCHING' | 'autoscaling:EC2_INSTANCE_TERMINATING';
  /** Seconds (30–7200). */
  heartbeatTimeout: number;
  /** Seconds: min(48 h, 100 × heartbeat). */
  globalTimeout: number;
  defaultResult: 'CONTINUE' | 'ABANDON';
  notificationTargetARN?: string;
  roleARN?: string;
  metadata?: string;
}

/** A pending lifecycle action [HOOK-2]. */
export interface LifecycleActionRec {
  hook: string;
  token: string;
  transition: string;
  deadline: number;
  globalDeadline: number;
  result?: 'CONTINUE' | 'ABANDON';
}

/**
 * The sandbox's stand-in for the user's script that completes lifecycle actions [HOOK-6]: answers
 * after `seconds`, ABANDON with probability `abandonRate`, never (the heartbeat timeout applies
 * the hook's default result) with probability `hangRate`.
 */
export interface HookAgent {
  seconds: Seconds;
  abandonRate: number;
  hangRate: number;
}

/** A group's warm pool [WARM-1]. */
export interface WarmPoolRec {
  minSize: number;
  /** MaxGroupPreparedCapacity; undefined: the group's max. */
  maxPrepared?: number;
  poolState: 'Stopped' | 'Running' | 'Hibernated';
  reuseOnScaleIn: boolean;
  /** DeleteWarmPool in progress (Status PendingDelete). */
  deleting?: boolean;
}

/** A classic ELB's attachment to a group [ELB-7]. */
export type LbAttachState = 'Adding' | 'Added' | 'InService' | 'Removing' | 'Removed';

export interface GroupTag {
  key: string;
  value: string;
  propagateAtLaunch: boolean;
}

export interface ActivityRec {
  id: string;
  group: string;
  description: string;
  cause: string;
  startTime: number;
  endTime?: number;
  status: 'PendingSpotBidPlacement' | 'WaitingForSpotInstanceRequestId' | 'WaitingForSpotInstanceId' | 'WaitingForInstanceId' | 'PreInService' | 'InProgress' | 'WaitingForELBConnectionDraining' | 'MidLifecycleAction' | 'WaitingForInstanceWarmup' | 'Successful' | 'Failed' | 'Cancelled';
  statusMessage?: string;
  progress: number;
  details: string;
}

/** Who changed the desired capacity last: scale-ins are attributed to it. */
export interface CallRef {
  actor: string;
  operation: string;
  time: number;
}

export interface GroupRec {
  name: string;
  arn: string;
  launchTemplate?: { id: string; name: string; version: string };
  mixedInstancesPolicy?: any;
  launchConfigurationName?: string;
  min: number;
  max: number;
  desired: number;
  defaultCooldown: number;
  azs: string[];
  vpcZoneIdentifier?: string;
  loadBalancerNames: string[];
  targetGroupARNs: string[];
  healthCheckType: string;
  healthCheckGracePeriod: number;
  terminationPolicies: string[];
  newInstancesProtectedFromScaleIn: boolean;
  tags: GroupTag[];
  suspended: { name: string; reason: string }[];
  /** Instance ids, launch order. */
  instances: string[];
  createdTime: number;
  lastDesiredChange?: CallRef;
  /** ids of the group's activities, oldest first (capped). */
  activities: string[];
  /** A failed launch waits until this time before the next attempt (AWS backs off). */
  launchBackoffUntil?: number;
  launchFailures: number;
  /**
   * Zones whose last launch failed for want of capacity, and until when launches avoid them
   * (balanced-best-effort: the next attempt goes to another zone) [ASG-3a].
   */
  failedZones?: Record<string, number>;
  /** A capacity change requested through the API is acted on at this time (a pending 'scale' event) [ASG-1]. */
  scaleAt?: number;
  /** Attachment state per classic ELB (attached, or Removing after a detach) [ELB-7]; absent: InService. */
  lbStates?: Record<string, LbAttachState>;
  /** ELB-unhealthy instances terminated whose replacement has not launched yet [HEALTH-6]. */
  replaceDebt?: number;
  /** DefaultInstanceWarmup (s): a replacement counts as ready only this long after InService [HEALTH-6]. */
  defaultInstanceWarmup?: number;
  /** ForceDelete in progress: "Delete in progress" until its instances are gone [ASG-8]. */
  deleting?: boolean;
  /** The desired capacity at which "all remaining instances are protected" was last recorded [TERM-5]. */
  protectedNotice?: number;
  /** InstanceMaintenancePolicy: min/max healthy percentage of desired while replacing [HEALTH-7]. */
  maintenance?: { min: number; max: number };
  /** Instance refreshes started on the group, oldest first [ASG-11]. */
  instanceRefreshes?: InstanceRefreshRec[];
  /** Lifecycle hooks [HOOK-1]. */
  lifecycleHooks?: LifecycleHookRec[];
  /** The warm pool [WARM-1] and its instances' ids, launch order. */
  warmPool?: WarmPoolRec;
  warmInstances?: string[];
  /** CapacityRebalance: replace a Spot instance on EC2's rebalance recommendation, launch first [SPOT-2]. */
  capacityRebalance?: boolean;
  /** MaxInstanceLifetime (s; 0/absent: none): instances older are replaced [LIFE-1]. */
  maxInstanceLifetime?: number;
  /** When the last maximum-lifetime replacement started [LIFE-1]. */
  lifetimeLastAt?: number;
}

/** One instance refresh [ASG-11] (a record only: the sandbox does not replace instances for it). */
export interface InstanceRefreshRec {
  id: string;
  status: 'Pending' | 'InProgress' | 'Successful' | 'Failed' | 'Cancelling' | 'Cancelled' | 'RollbackInProgress' | 'RollbackFailed' | 'RollbackSuccessful' | 'Baking';
  statusReason?: string;
  startTime: number;
  endTime?: number;
  percentageComplete: number;
  preferences?: Record<string, unknown>;
}

export interface RegistrationRec {
  instanceId: string;
  registeredAt: number;
  passes: number;
  fails: number;
  state: 'InService' | 'OutOfService';
  everPassed: boolean;
  /** Set while deregistering with connection draining: removed at this time. */
  drainingUntil?: number;
  /** Bumped whenever the next check is rescheduled; stale heap entries are ignored. */
  gen: number;
  /** ms from registration to the first check (faults.elbCheckPhase 'random'); absent: one Interval. */
  phaseMs?: number;
}

export interface HealthCheckRec {
  target: string;
  interval: number;
  timeout: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

export interface ElbRec {
  name: string;
  dnsName: string;
  createdTime: number;
  listeners: any[];
  azs: string[];
  subnets: string[];
  securityGroups: string[];
  scheme: string;
  healthCheck: HealthCheckRec;
  draining: { enabled: boolean; timeout: number };
  crossZone: boolean;
  idleTimeout: number;
  /** Registered (and draining) instances by id. */
  registrations: Record<string, RegistrationRec>;
  tags: Record<string, string>;
}

export interface S3ObjectRec {
  body: string; // base64
  etag: string; // quoted, like S3
  lastModified: number;
  contentType?: string;
}

export type SimEvent =
  | { at: number; seq: number; kind: 'tick' }
  | { at: number; seq: number; kind: 'running'; id: string }
  | { at: number; seq: number; kind: 'check'; elb: string; id: string; gen: number }
  | { at: number; seq: number; kind: 'drained'; elb: string; id: string }
  | { at: number; seq: number; kind: 'terminated'; id: string }
  | { at: number; seq: number; kind: 'chaos' }
  | { at: number; seq: number; kind: 'scale'; group: string }
  | { at: number; seq: number; kind: 'purge'; id: string }
  | { at: number; seq: number; kind: 'tg-check'; tg: string; id: string; gen: number }
  | { at: number; seq: number; kind: 'tg-drained'; tg: string; id: string }
  | { at: number; seq: number; kind: 'hook-timeout'; id: string; token: string }
  | { at: number; seq: number; kind: 'hook-agent'; id: string; token: string; result: 'CONTINUE' | 'ABANDON' };

export interface MonitorState {
  /** Per group: [time, healthy count] samples (only changes). */
  healthy: Record<string, Array<[number, number]>>;
  timeline: TimelineEntry[];
  terminations: TerminationRecord[];
  baseline: Record<string, GroupBaseline>;
}

export interface TimelineEntry {
  time: number;
  instanceId: string;
  group?: string;
  ec2State: string;
  lifecycle?: string;
  health?: string;
  /** ELB name -> InService/OutOfService. */
  elb: Record<string, string>;
  healthy: boolean;
}

/**
 * AWS's own replacements of a mixed instances group's instances: a Spot interruption by EC2
 * [SPOT-1], Capacity Rebalancing's termination of an at-risk Spot instance [SPOT-2], and the
 * maximum instance lifetime [LIFE-1]. None is the tool's.
 */
export type AwsReplacementCause = 'spot-interruption' | 'capacity-rebalance' | 'max-lifetime';

export interface TerminationRecord {
  time: number;
  instanceId: string;
  group?: string;
  /** 'api': TerminateInstanceInAutoScalingGroup / TerminateInstances; 'scale-in': the ASG after a desired decrease; 'replace-unhealthy'; 'rebalance'; 'spontaneous'. */
  cause: 'api' | 'scale-in' | 'replace-unhealthy' | 'rebalance' | 'spontaneous' | AwsReplacementCause;
  /** The API call it is attributed to (api and scale-in). */
  call?: CallRef;
  /** Healthy (ASG InService+Healthy and InService in every attached ELB) at that moment. */
  healthy: boolean;
  /** Launched from the group's current launch template version / launch configuration. */
  upToDate: boolean;
  launch: LaunchRef;
  launchTime: number;
}

export interface GroupBaseline {
  time: number;
  min: number;
  max: number;
  desired: number;
  suspended: string[];
  tags: Record<string, string>;
  protectedInstances: string[];
  newInstancesProtectedFromScaleIn: boolean;
}

export interface SandboxState {
  format: 'asg-deploy-sandbox/1';
  now: number;
  /** Wall-clock ms when saved (a CLI session may let simulated time catch up). */
  savedAt?: number;
  region: string;
  rng: number;
  seq: number;
  counters: Record<string, number>;
  faults: FaultConfig;
  images: Record<string, ImageBehaviour>;
  launchTemplates: Record<string, LaunchTemplateRec>;
  launchConfigurations: Record<string, LaunchConfigurationRec>;
  groups: Record<string, GroupRec>;
  instances: Record<string, InstanceRec>;
  elbs: Record<string, ElbRec>;
  activities: Record<string, ActivityRec>;
  buckets: Record<string, { createdAt: number; objects: Record<string, S3ObjectRec> }>;
  /** CloudWatch alarms (cloudwatch/ops.ts); absent in state files written before them. */
  alarms?: Record<string, import('./cloudwatch/ops').AlarmRec>;
  /** CloudWatch metric datapoints the sandbox derives from the fleet, by metric key, then minute (epoch ms) [CW-4]; absent until first reported. */
  metrics?: Record<string, Record<string, number>>;
  /** ELBv2 target groups, load balancers, listeners, rules (absent until first used). */
  elbv2?: Elbv2State;
  events: SimEvent[];
  nextTick: number;
  monitor: MonitorState;
}

// ---------------------------------------------------------------- ELBv2 (./elbv2, rules [TG-*])

/** One target's registration with a target group [TG-2..6]. */
export interface TargetRegRec {
  instanceId: string;
  port: number;
  registeredAt: number;
  passes: number;
  fails: number;
  /** The checks' verdict: `initial` until HealthyThresholdCount passes or UnhealthyThresholdCount failures [TG-3]. */
  state: 'initial' | 'healthy' | 'unhealthy';
  /** Set while deregistering: the target is `draining` until this time [TG-6]. */
  drainingUntil?: number;
  /** Slow registration [FAULT-14]: no health check before this time (the registration still in progress). */
  checksFrom?: number;
  gen: number;
}

export interface TargetGroupRec {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: 'instance';
  healthCheck: { enabled: boolean; protocol: string; port: string; path?: string; interval: number; timeout: number; healthyThreshold: number; unhealthyThreshold: number; matcher?: string };
  /** deregistration_delay.timeout_seconds [TG-6]. */
  deregistrationDelay: number;
  createdTime: number;
  targets: Record<string, TargetRegRec>;
}

export interface LoadBalancerV2Rec {
  arn: string;
  name: string;
  type: 'application' | 'network';
  dnsName: string;
  scheme: string;
  azs: string[];
  createdTime: number;
}

export interface ListenerRec {
  arn: string;
  loadBalancerArn: string;
  protocol: string;
  port: number;
  defaultActions: any[];
}

export interface ListenerRuleRec {
  arn: string;
  listenerArn: string;
  priority: number;
  conditions: any[];
  actions: any[];
}

/** ELBv2 records; optional so saved worlds from before ELBv2 still load. */
export interface Elbv2State {
  targetGroups: Record<string, TargetGroupRec>;
  loadBalancers: Record<string, LoadBalancerV2Rec>;
  listeners: Record<string, ListenerRec>;
  rules: Record<string, ListenerRuleRec>;
}
