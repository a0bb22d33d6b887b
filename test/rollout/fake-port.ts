/**
 * A small port-level fake of one ASG + one classic ELB on a virtual clock, for engine tests that
 * need no SDK (the sandbox tests run the real adapter). Its state is a function of time:
 * an instance launched at t is Pending until t+boot, then InService; the ELB marks it InService
 * (healthThreshold × interval) later if its image is good; a terminated instance stays
 * Terminating for `drainMs`. The ASG launches whenever fewer live instances than desired exist.
 * It records a timeline (healthy count over time, terminations, mutating calls).
 */
import type { AlarmView, AwsPort, ElbInfo, ElbInstanceHealth, GroupSnapshot, InstanceView, LockRecord, ObserveOptions } from '../../orchestrator/aws/port';
import type { VirtualClock } from '../../orchestrator/clock';

interface Inst {
  id: string;
  version: number;
  launchedAt: number;
  good: boolean;
  terminatedAt?: number;
  terminatedBy?: 'tool' | 'aws';
}

export interface FakeOptions {
  capacity: number;
  bootMs?: number;
  interval?: number;
  healthyThreshold?: number;
  drainMs?: number;
  /** Versions whose instances never pass the ELB check. */
  badVersions?: number[];
  suspended?: string[];
  maxSize?: number;
  /** Throttle these many observeGroup calls (every 3rd call) before behaving. */
  throttleCalls?: number;
  /** Replace instances the ELB marks unhealthy after this many ms (HealthCheckType ELB + grace). */
  replaceUnhealthyAfterMs?: number;
}

export class FakePort implements AwsPort {
  name = 'rabbit';
  desired: number;
  max: number;
  version = 2;
  suspended: string[];
  tags: Record<string, string> = {};
  instances: Inst[] = [];
  calls = 0;
  mutations: string[] = [];
  minHealthySeen = Infinity;
  healthyTimeline: Array<{ t: number; healthy: number }> = [];
  terminations: Array<{ t: number; id: string; by: 'tool' | 'aws'; version: number; healthy: boolean }> = [];
  private seq = 0;
  private throttleLeft: number;
  private observeCount = 0;
  readonly bootMs: number;
  readonly interval: number;
  readonly threshold: number;
  readonly drainMs: number;
  badVersions: number[];

  constructor(
    private readonly clock: VirtualClock,
    private readonly o: FakeOptions,
  ) {
    this.desired = o.capacity;
    this.max = o.maxSize ?? o.capacity;
    this.suspended = [...(o.suspended ?? [])];
    this.bootMs = o.bootMs ?? 60_000;
    this.interval = o.interval ?? 10;
    this.threshold = o.healthyThreshold ?? 3;
    this.drainMs = o.drainMs ?? 30_000;
    this.badVersions = o.badVersions ?? [];
    this.throttleLeft = o.throttleCalls ?? 0;
    const t0 = clock.now();
    for (let n = 0; n < o.capacity; n++) {
      // Old instances, launched minutes apart, ids not in age order (oldest-first must use LaunchTime).
      this.instances.push({ id: `i-old${String((n * 7) % o.capacity).padStart(4, '0')}`, version: 1, launchedAt: t0 - (o.capacity - n) * 3_600_000, good: true });
    }
    clock.onAdvance(() => this.tick());
  }

  private now(): number {
    return this.clock.now();
  }

  isLive(i: Inst, t = this.now()): boolean {
    return i.terminatedAt === undefined || t < i.terminatedAt;
  }
  private inService(i: Inst, t: number): boolean {
    return i.terminatedAt === undefined && t >= i.launchedAt + this.bootMs;
  }
  elbHealthy(i: Inst, t = this.now()): boolean {
    return i.good && this.inService(i, t) && t >= i.launchedAt + this.bootMs + this.threshold * this.interval * 1000;
  }
  healthyCount(t = this.now()): number {
    return this.instances.filter((i) => this.elbHealthy(i, t)).length;
  }

  /** ASG reconciliation and the timeline; runs whenever time moves or the tool calls. */
  tick(): void {
    const t = this.now();
    // Drop instances whose draining finished.
    this.instances = this.instances.filter((i) => i.terminatedAt === undefined || t < i.terminatedAt + this.drainMs);
    if (this.o.replaceUnhealthyAfterMs !== undefined) {
      for (const i of this.instances) {
        if (i.terminatedAt === undefined && !i.good && t >= i.launchedAt + this.o.replaceUnhealthyAfterMs) this.terminate(i, 'aws');
      }
    }
    const live = this.instances.filter((i) => i.terminatedAt === undefined);
    for (let n = live.length; n < this.desired; n++) {
      const id = `i-new${String(++this.seq).padStart(4, '0')}`;
      this.instances.push({ id, version: this.version, launchedAt: t, good: !this.badVersions.includes(this.version) });
    }
    const h = this.healthyCount(t);
    this.minHealthySeen = Math.min(this.minHealthySeen, h);
    const last = this.healthyTimeline[this.healthyTimeline.length - 1];
    if (!last || last.healthy !== h) this.healthyTimeline.push({ t, healthy: h });
  }

  terminate(i: Inst, by: 'tool' | 'aws'): void {
    this.terminations.push({ t: this.now(), id: i.id, by, version: i.version, healthy: this.elbHealthy(i) });
    i.terminatedAt = this.now();
    i.terminatedBy = by;
  }

  /** A spontaneous termination by AWS (not the tool). */
  killSpontaneously(id: string): void {
    const i = this.instances.find((x) => x.id === id);
    if (i) this.terminate(i, 'aws');
    this.tick();
  }

  apiCalls(): number {
    return this.calls;
  }

  async findGroups(prefix: string): Promise<string[]> {
    this.calls++;
    return ['rabbit', 'rabbitmq-other', 'web'].filter((n) => n === prefix || n.startsWith(prefix)).filter((n, _i, all) => (all.includes(prefix) ? n === prefix : true));
  }

  async groupsNamed(names: string[]): Promise<string[]> {
    this.calls++;
    return names.filter((n) => ['rabbit', 'rabbitmq-other', 'web'].includes(n));
  }

  private described = new Set<string>();

  /** One DescribeInstanceHealth: the ELB's view now. */
  async describeInstanceHealth(): Promise<Map<string, ElbInstanceHealth>> {
    this.calls += 1;
    this.elbQueries++;
    this.tick();
    const m = new Map<string, ElbInstanceHealth>();
    for (const i of (await this.snapshot()).instances) if (i.elb.lb) m.set(i.instanceId, i.elb.lb);
    return m;
  }

  elbQueries = 0;

  /** Costs what the real adapter's poll costs: ASG + ELB (unless `elbHealth: false`), plus EC2 when there are new ids. */
  /** observeGroup calls (the runner's polls). */
  observeCalls = 0;
  async observeGroup(_name?: string, options: ObserveOptions = {}): Promise<GroupSnapshot> {
    this.observeCalls++;
    const s = await this.observeAll();
    if (options.elbHealth === false) {
      this.calls -= 1;
      for (const i of s.instances) i.elb = {};
    } else this.elbQueries++;
    return s;
  }

  private async snapshot(): Promise<GroupSnapshot> {
    const calls = this.calls;
    const count = this.observeCount;
    const throttle = this.throttleLeft;
    this.throttleLeft = 0;
    try {
      return await this.observeAll();
    } finally {
      this.calls = calls;
      this.observeCount = count;
      this.throttleLeft = throttle;
    }
  }

  private async observeAll(): Promise<GroupSnapshot> {
    this.calls += 1;
    this.observeCount++;
    if (this.throttleLeft > 0 && this.observeCount % 3 === 0) {
      this.throttleLeft--;
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });
    }
    this.tick();
    this.calls += 1;
    if (this.instances.some((i) => !this.described.has(i.id))) {
      this.calls += 1;
      for (const i of this.instances) this.described.add(i.id);
    }
    const t = this.now();
    const instances: InstanceView[] = this.instances.map((i) => ({
      instanceId: i.id,
      availabilityZone: 'us-east-1a',
      lifecycleState: i.terminatedAt !== undefined ? 'Terminating' : this.inService(i, t) ? 'InService' : 'Pending',
      healthStatus: 'Healthy',
      protectedFromScaleIn: false,
      launchedFrom: { launchTemplate: { id: 'lt-1', version: i.version } },
      launchTime: i.launchedAt,
      privateIpAddress: '10.0.0.1',
      ec2State: i.terminatedAt !== undefined ? 'shutting-down' : 'running',
      elb: (this.inService(i, t) || i.terminatedAt !== undefined
        ? { lb: this.elbHealthy(i, t) ? { state: 'InService', reasonCode: 'N/A' } : { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.' } }
        : {}) as InstanceView['elb'],
    }));
    return {
      name: this.name,
      observedAt: t,
      desired: this.desired,
      min: 0,
      max: this.max,
      launch: { launchTemplate: { id: 'lt-1', version: this.version } },
      mixedInstancesPolicy: false,
      healthCheckType: 'ELB',
      healthCheckGracePeriod: 300,
      availabilityZones: ['us-east-1a'],
      suspendedProcesses: [...this.suspended],
      loadBalancerNames: ['lb'],
      targetGroupARNs: [],
      tags: { ...this.tags },
      instances,
    };
  }

  /** CloudWatch alarms by name (absent: no such alarm); describeAlarms calls counted. */
  alarms: Record<string, AlarmView['state']> = {};
  alarmCalls = 0;
  async describeAlarms(names: string[]): Promise<AlarmView[]> {
    this.calls++;
    this.alarmCalls++;
    return names.filter((n) => this.alarms[n] !== undefined).map((n) => ({ name: n, state: this.alarms[n], reason: this.alarms[n] === 'ALARM' ? 'Threshold Crossed' : undefined }));
  }

  async describeElb(name: string): Promise<ElbInfo> {
    this.calls++;
    return { name, healthCheck: { target: 'HTTP:8080/health', interval: this.interval, timeout: 5, healthyThreshold: this.threshold, unhealthyThreshold: 2 }, drainingTimeout: this.drainMs / 1000 };
  }

  private mutate(what: string): void {
    this.calls++;
    this.mutations.push(what);
  }

  async setDesired(_g: string, desired: number): Promise<void> {
    this.mutate(`setDesired ${desired}`);
    if (desired > this.max) throw Object.assign(new Error(`New SetDesiredCapacity value ${desired} is above max value ${this.max}`), { name: 'ValidationError' });
    this.desired = desired;
    this.tick();
  }
  async updateSizes(_g: string, s: { min?: number; max?: number; desired?: number }): Promise<void> {
    this.mutate(`updateSizes ${JSON.stringify(s)}`);
    if (s.max !== undefined) this.max = s.max;
    if (s.desired !== undefined) this.desired = s.desired;
    this.tick();
  }
  async terminateInstance(id: string, decrement: boolean): Promise<void> {
    this.mutate(`terminate ${id}${decrement ? ' -1' : ''}`);
    const i = this.instances.find((x) => x.id === id && x.terminatedAt === undefined);
    if (!i) throw Object.assign(new Error(`Instance Id not found - No managed instance found for instance ID: ${id}`), { name: 'ValidationError' });
    this.terminate(i, 'tool');
    if (decrement) this.desired--;
    this.tick();
  }
  async suspendProcesses(_g: string, p: string[]): Promise<void> {
    this.mutate(`suspend ${p.join(',')}`);
    this.suspended = [...new Set([...this.suspended, ...p])];
  }
  async resumeProcesses(_g: string, p: string[]): Promise<void> {
    this.mutate(`resume ${p.join(',')}`);
    this.suspended = this.suspended.filter((x) => !p.includes(x));
  }
  async setScaleInProtection(): Promise<void> {
    this.mutate('protect');
  }
  async putGroupTags(_g: string, tags: Record<string, string>): Promise<void> {
    this.mutate(`tag ${Object.keys(tags).join(',')}`);
    Object.assign(this.tags, tags);
  }
  async deleteGroupTags(_g: string, keys: string[]): Promise<void> {
    this.mutate(`untag ${keys.join(',')}`);
    for (const k of keys) delete this.tags[k];
  }
  async putLockObject(_b: string, _k: string, _r: LockRecord): Promise<boolean> {
    return true;
  }
  async getLockObject(): Promise<undefined> {
    return undefined;
  }
  async deleteLockObject(): Promise<void> {}
}
