/**
 * What the rollout engines need from AWS, in domain verbs (STYLE.md "Ports in domain verbs").
 * The SDK adapter (./adapter.ts) implements it with real SDK v3 clients; the sandbox gives it
 * simulated clients, so the same adapter code runs in tests, the demo and production.
 *
 * Decisions only ever see these plain snapshots: launch template versions are numbers here
 * ($Latest/$Default resolved once by the adapter), times are epoch milliseconds.
 */

/** What an instance or a group launches from. Exactly one of the two is set. */
export interface LaunchSpec {
  launchTemplate?: { id: string; name?: string; version: number };
  launchConfigurationName?: string;
}

export type LifecycleState =
  | 'Pending' | 'Pending:Wait' | 'Pending:Proceed'
  | 'InService'
  | 'Terminating' | 'Terminating:Wait' | 'Terminating:Proceed' | 'Terminated'
  | 'Detaching' | 'Detached' | 'EnteringStandby' | 'Standby'
  | 'Quarantined' | 'Warmed:Pending' | 'Warmed:Running' | 'Warmed:Stopped' | 'Warmed:Terminated'
  | string;

/** One classic ELB's view of an instance (DescribeInstanceHealth). */
export interface ElbInstanceHealth {
  state: 'InService' | 'OutOfService' | 'Unknown';
  reasonCode?: string; // 'ELB' | 'Instance' | 'N/A'
  description?: string;
}

/**
 * One ELBv2 target group's view of an instance (DescribeTargetHealth's TargetHealth): `State`
 * initial | healthy | unhealthy | unused | draining | unavailable | unhealthy.draining, with AWS's
 * reason code (`Elb.InitialHealthChecking`, `Target.FailedHealthChecks`, …) and description.
 */
export interface TargetHealthView {
  state: string;
  reason?: string;
  description?: string;
}

/** An ELBv2 target group's settings the rollout needs (DescribeTargetGroups + its attributes). */
export interface TargetGroupInfo {
  arn: string;
  name: string;
  healthCheck: { interval: number; healthyThreshold: number; unhealthyThreshold: number };
  /** deregistration_delay.timeout_seconds. */
  deregistrationDelay: number;
}

/**
 * One weighted forward of an ALB/NLB (issue 14): a listener's default action or a rule's forward
 * action, with its target groups' weights (ForwardConfig.TargetGroups; a lone TargetGroupArn
 * counts as weight 1, as AWS answers it). Changed with ModifyListener / ModifyRule.
 */
export interface TrafficForward {
  kind: 'listener' | 'rule';
  arn: string;
  /** The load balancer's type ('application' | 'network'), when known. */
  lbType?: string;
  /** Weight (0–999) per target group ARN in the forward. */
  weights: Record<string, number>;
}

/** One rule of an ALB listener (DescribeRules, the default rule left out): its priority and the target groups it forwards to. */
export interface ListenerRuleView {
  arn: string;
  priority: number;
  targetGroupArns: string[];
}

export interface InstanceView {
  instanceId: string;
  availabilityZone: string;
  lifecycleState: LifecycleState;
  /** The ASG's health status. */
  healthStatus: 'Healthy' | 'Unhealthy' | string;
  protectedFromScaleIn: boolean;
  /** What it was launched from: EC2 `aws:ec2launchtemplate:*` tags first, else the ASG's field. */
  launchedFrom: LaunchSpec;
  /** EC2 LaunchTime, epoch ms (undefined until EC2 reports the instance). */
  launchTime?: number;
  privateIpAddress?: string;
  /** EC2 instance state name ('pending' | 'running' | 'shutting-down' | 'terminated' | ...). */
  ec2State?: string;
  /** Per attached classic ELB name. Missing key: not yet known / not registered. */
  elb: Record<string, ElbInstanceHealth>;
  /**
   * Per attached target group ARN (one DescribeTargetHealth per target group per observation).
   * Missing key: not registered with that target group (or it was not read).
   */
  targetHealth?: Record<string, TargetHealthView>;
  /** The ASG's InstanceType of the instance (a mixed instances policy's override, or the template's). */
  instanceType?: string;
  /** Spot or On-Demand (EC2 `InstanceLifecycle`: `spot`, absent for On-Demand); undefined until EC2 reports it. */
  market?: 'spot' | 'on-demand';
}

/**
 * A group's mixed instances policy as the tool reads it (DescribeAutoScalingGroups'
 * MixedInstancesPolicy): the instance-type overrides and the On-Demand/Spot distribution with
 * AWS's defaults filled in (base 0, 100 % On-Demand above it, `lowest-price` Spot, `prioritized`
 * On-Demand — the InstancesDistribution defaults of the SDK model). The launch template itself is
 * the snapshot's `launch`.
 */
export interface MixedPolicyView {
  instanceTypes: string[];
  onDemandBaseCapacity: number;
  onDemandPercentageAboveBaseCapacity: number;
  spotAllocationStrategy: string;
  onDemandAllocationStrategy: string;
}

export interface ElbInfo {
  name: string;
  healthCheck: { target: string; interval: number; timeout: number; healthyThreshold: number; unhealthyThreshold: number };
  /** Connection draining timeout in seconds, or undefined when draining is off. */
  drainingTimeout?: number;
}

export interface GroupSnapshot {
  name: string;
  /** Observation time (clock ms). */
  observedAt: number;
  desired: number;
  min: number;
  max: number;
  /** The group's current launch spec with `$Latest`/`$Default` resolved to a number. */
  launch: LaunchSpec;
  /** True when the group uses a MixedInstancesPolicy (see adapter for how it is resolved). */
  mixedInstancesPolicy: boolean;
  /** The mixed instances policy's overrides and distribution, when it has one. */
  mixedPolicy?: MixedPolicyView;
  /** CapacityRebalance: AWS replaces Spot instances at risk of interruption on its own (launch first). */
  capacityRebalance?: boolean;
  /** MaxInstanceLifetime in seconds: AWS replaces instances that reach it on its own. */
  maxInstanceLifetime?: number;
  healthCheckType: 'EC2' | 'ELB' | string;
  healthCheckGracePeriod: number;
  availabilityZones: string[];
  suspendedProcesses: string[];
  loadBalancerNames: string[];
  targetGroupARNs: string[];
  tags: Record<string, string>;
  instances: InstanceView[];
  /**
   * The group's warm pool as DescribeAutoScalingGroups reports it (`WarmPoolConfiguration`,
   * `WarmPoolSize`); undefined when it has none. Its instances: {@link AwsPort.describeWarmPool}.
   */
  warmPool?: { size: number; poolState: string; minSize: number; maxPrepared?: number; status?: string };
  /**
   * Targets registered in the group's target groups that are not its instances (read from the same
   * DescribeTargetHealth answers, no extra call): another group's instances, or ones registered by
   * hand. Absent when there are none (or target health was not read).
   */
  foreignTargets?: ForeignTarget[];
}

/** One lifecycle hook of a group (DescribeLifecycleHooks). */
export interface LifecycleHookView {
  name: string;
  /** 'launch' (autoscaling:EC2_INSTANCE_LAUNCHING) or 'terminate' (…_TERMINATING). */
  transition: 'launch' | 'terminate';
  /** Seconds an action waits for CompleteLifecycleAction (or a heartbeat) before the default result applies. */
  heartbeatTimeout: number;
  /** Seconds, the bound heartbeats cannot extend past. */
  globalTimeout?: number;
  defaultResult: 'CONTINUE' | 'ABANDON' | string;
}

/** A group's warm pool and its instances (DescribeWarmPool, paginated). */
export interface WarmPoolView {
  poolState: 'Stopped' | 'Running' | 'Hibernated' | string;
  minSize: number;
  maxPrepared?: number;
  /** 'PendingDelete' while DeleteWarmPool runs. */
  status?: string;
  reuseOnScaleIn: boolean;
  instances: Array<{ instanceId: string; availabilityZone: string; lifecycleState: LifecycleState; launchedFrom: LaunchSpec }>;
}

/** A target of one of a group's target groups that is not an instance of that group. */
export interface ForeignTarget {
  targetGroup: string;
  instanceId: string;
  /** Its TargetHealth State (`draining` and `unused` ones are leaving or get no traffic). */
  state: string;
}

/** Filters for observeGroup; everything defaults to on. */
export interface ObserveOptions {
  /** Query every attached classic ELB for instance health (one call per ELB). */
  elbHealth?: boolean;
  /** Only these ELBs (the ab `--elb-name`). */
  elbNames?: string[];
  /** Query every attached target group for target health (one DescribeTargetHealth per target group; default on). */
  targetHealth?: boolean;
}

/** One CloudWatch alarm's state (DescribeAlarms: a metric or composite alarm). */
export interface AlarmView {
  name: string;
  state: 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';
  /** CloudWatch's StateReason ("Threshold Crossed: 2 out of the last 2 datapoints …"). */
  reason?: string;
  /** StateUpdatedTimestamp, epoch ms. */
  updatedAt?: number;
}

export interface LockRecord {
  holder: string; // who: user@host pid N
  reason: string;
  since: number; // epoch ms
  /** Run id of the deploy that holds it; absent for a manual `asg-deploy lock` freeze. */
  runId?: string;
  /** Epoch ms; a run refreshes it while it works, so a stale heartbeat marks a crashed run. */
  heartbeat?: number;
}

/** The domain port. Every method is one or a few AWS calls; none waits or sleeps. */
export interface AwsPort {
  /** ASG names equal to `nameOrPrefix`, else starting with it (paginated). */
  findGroups(nameOrPrefix: string): Promise<string[]>;
  /** Which of exactly these ASG names exist (one DescribeAutoScalingGroups call by name; no prefix search). */
  groupsNamed(names: string[]): Promise<string[]>;
  /** One snapshot of a group, its instances (EC2 data cached per id) and ELB health. */
  observeGroup(name: string, options?: ObserveOptions): Promise<GroupSnapshot>;
  /**
   * Optional: the Auto Scaling group of each of these instances (DescribeAutoScalingInstances, 50
   * ids a call). An instance in no group (registered with a target group by hand, or gone) is absent.
   */
  groupsOfInstances?(instanceIds: string[]): Promise<Record<string, string>>;
  /** Classic ELB settings (health check, draining), cached per run. */
  describeElb(name: string): Promise<ElbInfo>;
  /** Optional: an ELBv2 target group's health check and deregistration delay, cached per run. */
  describeTargetGroup?(arn: string): Promise<TargetGroupInfo>;
  /**
   * Optional: one classic ELB's view of its instances (one DescribeInstanceHealth), for a caller
   * that observed the group with `elbHealth: false` and then finds it needs the ELB after all.
   */
  describeInstanceHealth?(elb: string): Promise<Map<string, ElbInstanceHealth>>;
  /**
   * Optional: one target group's view of its registered targets (one DescribeTargetHealth), for a
   * caller that observed the group with `targetHealth: false` and then finds it needs it after all.
   */
  describeTargetHealth?(arn: string): Promise<Map<string, TargetHealthView>>;
  /**
   * Optional: how long the group's recent successful launches took from launch to InService, ms
   * (its launch scaling activities, StartTime → EndTime; one DescribeScalingActivities call).
   * Empty when AWS has none. Used to estimate boot time before the first launch of a rollout.
   */
  recentLaunchDurations?(group: string): Promise<number[]>;
  /**
   * Optional: the group's `max` most recent launch activities (one DescribeScalingActivities
   * call), per instance id: StartTime and, once Successful (the instance went InService), EndTime,
   * epoch ms on AWS's clock. Used to pin when a new instance went InService (and registered with
   * its load balancers) more closely than two looks at the group can (rollout/polling.ts).
   */
  launchActivities?(group: string, max?: number): Promise<Map<string, { startTime: number; endTime?: number }>>;
  /**
   * Optional: the StatusMessage of the group's most recent failed launch activity (one
   * DescribeScalingActivities call), or undefined when none of its recent activities failed.
   * Used to say why a step got no instance.
   */
  lastFailedLaunch?(group: string): Promise<string | undefined>;
  /**
   * Optional: the group's recent returns from Standby, newest first, from AWS's scaling activities
   * ("Moving EC2 instance out of Standby: i-…", the ExitStandby activity; one
   * DescribeScalingActivities call): each activity's id, the instance, and its StartTime (AWS's
   * clock, ms). Used to tell someone's ExitStandby (which increments desired) from anything else
   * when desired moved between two looks without the instance ever being seen in Standby.
   */
  standbyReturns?(group: string): Promise<Array<{ activityId: string; instanceId: string; startTime: number }>>;
  /**
   * Optional: Capacity Rebalancing's launches among the group's `max` most recent scaling
   * activities (one DescribeScalingActivities call): each "Launching a new EC2 instance: i-…"
   * activity whose Cause says it was launched "in response to an EC2 instance rebalance
   * recommendation", newest first, with the at-risk Spot instance it replaces when the Cause names
   * it. AWS launched these on its own, on top of the desired capacity while the at-risk instance
   * is still there: the rollout never counts them as its own surge (rolling/strategy.ts
   * rebalancePairs).
   */
  rebalanceLaunches?(group: string, max?: number): Promise<Array<{ instanceId: string; atRisk?: string }>>;
  /**
   * Optional: the group's instance refresh that is still running (Pending, InProgress,
   * Cancelling, RollbackInProgress or Baking), newest first, or undefined (one
   * DescribeInstanceRefreshes call). A rollout refuses to run beside it: two replacers would fight.
   */
  activeInstanceRefresh?(group: string): Promise<{ id: string; status: string; startTime?: number; percentageComplete?: number } | undefined>;

  /**
   * Optional: the group's lifecycle hooks (one DescribeLifecycleHooks). A rollout reads them once:
   * a launch hook's heartbeat timeout bounds how long a new instance may wait in `Pending:Wait`,
   * a termination hook's how long the final "done" waits for `Terminating:Wait`.
   */
  lifecycleHooks?(group: string): Promise<LifecycleHookView[]>;
  /**
   * Optional: the group's warm pool and its instances (DescribeWarmPool, 50 a page), or undefined
   * when it has none. A rollout refreshes outdated warmed instances (docs/commands/roll.md).
   */
  describeWarmPool?(group: string): Promise<WarmPoolView | undefined>;

  /**
   * Optional: the state of exactly these CloudWatch alarms, metric and composite, in one batched
   * DescribeAlarms (AlarmNames, up to 100 a page; more names or pages: a call each). Alarms that
   * do not exist are absent from the answer (DescribeAlarms names no error for them).
   */
  describeAlarms?(names: string[]): Promise<AlarmView[]>;

  /**
   * Optional (A/B on target groups): every listener default action and rule that forwards to any
   * of these target groups, with its weights (DescribeTargetGroups → their load balancers →
   * DescribeListeners → DescribeRules per listener).
   */
  findForwards?(targetGroupArns: string[]): Promise<TrafficForward[]>;
  /**
   * Optional: the rules of one existing ALB listener, the default rule left out (one
   * DescribeListeners by ARN, then DescribeRules, paginated), or undefined when the listener does
   * not exist (ListenerNotFound). `deploy` reads it before `pulumi up` (stack/listeners.ts).
   */
  listenerRules?(listenerArn: string): Promise<ListenerRuleView[] | undefined>;
  /** Optional: the same forwards read again by ARN (one DescribeListeners and/or one DescribeRules). */
  readForwards?(forwards: Array<Pick<TrafficForward, 'kind' | 'arn'>>): Promise<TrafficForward[]>;
  /**
   * Optional: set these target groups' weights in one forward (ModifyListener's DefaultActions or
   * ModifyRule's Actions; the other actions and target groups kept as they are). Idempotent.
   */
  setForwardWeights?(forward: Pick<TrafficForward, 'kind' | 'arn'>, weights: Record<string, number>): Promise<void>;

  /**
   * Optional (rollback of a rolling rollout): whether this launch spec still exists — the launch
   * template version (one DescribeLaunchTemplateVersions for that version; AWS answers a deleted
   * version or template with an `…NotFound` error) or the launch configuration (one
   * DescribeLaunchConfigurations by name; a deleted one is absent from the answer).
   */
  launchSpecExists?(spec: LaunchSpec): Promise<boolean>;
  /**
   * Optional (rollback): point the group at this launch spec — UpdateAutoScalingGroup with
   * `LaunchTemplate {LaunchTemplateId, Version: "N"}` (a fixed version number) or
   * `LaunchConfigurationName`; on a group with a mixed instances policy, the policy's launch
   * template (its overrides and distribution sent back as they are). Idempotent; instances already
   * running are not touched.
   */
  setGroupLaunch?(group: string, spec: LaunchSpec): Promise<void>;

  setDesired(group: string, desired: number): Promise<void>;
  /** UpdateAutoScalingGroup with only the given sizes. */
  updateSizes(group: string, sizes: { min?: number; max?: number; desired?: number }): Promise<void>;
  /** TerminateInstanceInAutoScalingGroup: a group's instance, or a warmed one of its warm pool (the pool then launches a replacement). */
  terminateInstance(instanceId: string, decrementDesired: boolean): Promise<void>;
  suspendProcesses(group: string, processes: string[]): Promise<void>;
  resumeProcesses(group: string, processes: string[]): Promise<void>;
  setScaleInProtection(group: string, instanceIds: string[], protect: boolean): Promise<void>;
  putGroupTags(group: string, tags: Record<string, string>): Promise<void>;
  deleteGroupTags(group: string, keys: string[]): Promise<void>;

  /** S3 lock object: create only if absent (If-None-Match: *). Returns false when someone holds it. */
  putLockObject(bucket: string, key: string, record: LockRecord): Promise<boolean>;
  getLockObject(bucket: string, key: string): Promise<{ record: LockRecord; etag?: string } | undefined>;
  /** Delete the lock object (only when its ETag still matches, where given). */
  deleteLockObject(bucket: string, key: string, etag?: string): Promise<void>;
  /**
   * Optional (lock heartbeat): overwrite the lock object only while its ETag is still `etag`
   * (PutObject If-Match). Returns the new ETag, or undefined when the object changed or is gone.
   * Without it, S3 locks are not refreshed and their age is judged from `since`.
   */
  replaceLockObject?(bucket: string, key: string, record: LockRecord, etag: string): Promise<string | undefined>;

  /** AWS API calls made through this port so far (every attempt the SDK made counts). */
  apiCalls(): number;
}
