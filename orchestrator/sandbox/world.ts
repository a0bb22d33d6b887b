/**
 * The simulated control plane: EC2 instances, launch templates, Auto Scaling groups, classic
 * ELBs and S3 objects, advanced lazily and deterministically on simulated time.
 *
 * Everything that happens "by itself" (boots, health checks, the ASG's reconciliation loop,
 * connection draining, shutdowns, faults) is an event in one time-ordered queue; `processUntil`
 * runs the due events in (time, sequence) order. The API handlers (./ops-*.ts) mutate state
 * through the methods here. Each rule cites SPEC.md; numbers in [brackets] are SPEC rule ids.
 */
import { Rng } from './rng';
import type {
  ActivityRec, CallRef, ElbRec, FaultConfig, GroupRec, ImageBehaviour, InstanceRec, LaunchRef,
  LaunchTemplateRec, LaunchTemplateVersionRec, LbAttachState, RegistrationRec, SandboxState, Seconds, SimEvent, TerminationRecord,
} from './model';
import { SimFault } from './faults';

/** "Never" as a JSON-safe time (Infinity does not survive JSON): the largest Date. */
export const NEVER = 8.64e15;

/** The ASG's periodic loop (health checks, replacement of unhealthy instances, AZRebalance) [ASG-1]. */
export const TICK_MS = 10_000;
/** A capacity change requested through the API starts its scaling activity this long after the call [ASG-1a]. */
export const SCALE_DELAY_MS = 1_000;
/** Terminated instances stay visible to DescribeInstances this long [EC2-5]. */
export const TERMINATED_VISIBLE_MS = 3600_000;
const MAX_ACTIVITIES_PER_GROUP = 500;

export const ALL_PROCESSES = [
  'Launch', 'Terminate', 'AddToLoadBalancer', 'AlarmNotification', 'AZRebalance', 'HealthCheck',
  'InstanceRefresh', 'ReplaceUnhealthy', 'ScheduledActions',
];

export interface ElbView {
  state: 'InService' | 'OutOfService';
  reasonCode: string;
  description: string;
}

/** Hooks the safety monitor installs. */
export interface WorldObserver {
  instanceChanged(inst: InstanceRec): void;
  terminated(rec: TerminationRecord): void;
}

export class World {
  readonly rng: Rng;
  observer?: WorldObserver;

  constructor(readonly state: SandboxState) {
    this.rng = new Rng(state.rng);
  }

  get now(): number {
    return this.state.now;
  }
  get faults(): FaultConfig {
    return this.state.faults;
  }

  /** Saves the PRNG position into the state (before toJSON). */
  syncRng(): void {
    this.state.rng = this.rng.state;
  }

  // ---------------------------------------------------------------- time

  /** Runs every event due up to `t` in time order, then sets now = t. */
  processUntil(t: number): void {
    if (Number.isNaN(t)) throw new Error('sandbox: processUntil(NaN)');
    const s = this.state;
    for (;;) {
      const nextEvent = s.events.length ? s.events[0].at : Infinity;
      const at = Math.min(nextEvent, s.nextTick);
      if (at > t) break;
      if (s.nextTick <= nextEvent) {
        s.now = Math.max(s.now, s.nextTick);
        s.nextTick += TICK_MS;
        this.tick();
      } else {
        const ev = this.pop()!;
        s.now = Math.max(s.now, ev.at);
        this.handle(ev);
      }
    }
    if (t > s.now) s.now = t;
  }

  schedule(ev: DistributiveOmit<SimEvent, 'seq'>): void {
    const e = { ...ev, seq: this.state.seq++ } as SimEvent;
    const h = this.state.events;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  private pop(): SimEvent | undefined {
    const h = this.state.events;
    if (h.length === 0) return undefined;
    const top = h[0];
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l], h[m])) m = l;
        if (r < h.length && before(h[r], h[m])) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m], h[i]];
        i = m;
      }
    }
    return top;
  }

  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'running':
        return this.onRunning(ev.id);
      case 'check':
        return this.onCheck(ev.elb, ev.id, ev.gen);
      case 'drained':
        return this.onDrained(ev.elb, ev.id);
      case 'terminated':
        return this.onTerminated(ev.id);
      case 'purge': {
        const inst = this.state.instances[ev.id];
        if (inst && inst.ec2State === 'terminated') delete this.state.instances[ev.id];
        return;
      }
      case 'scale': {
        const g = this.state.groups[ev.group];
        if (!g || g.scaleAt !== ev.at) return; // deleted (or recreated) meanwhile
        g.scaleAt = undefined;
        this.reconcileCapacity(g, this.groupInstances(g));
        return;
      }
      case 'tick':
      case 'chaos':
        return;
    }
  }

  // ---------------------------------------------------------------- helpers

  nextId(prefix: string, hexDigits = 17): string {
    return `${prefix}-${this.rng.hex(hexDigits)}`;
  }

  counter(name: string): number {
    const c = (this.state.counters[name] ?? 0) + 1;
    this.state.counters[name] = c;
    return c;
  }

  uuid(): string {
    const h = this.rng.hex(32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  sample(d: Seconds): number {
    if (typeof d === 'number') return d;
    if ('min' in d && 'max' in d) return this.rng.uniform(d.min, d.max);
    const { mean, sd } = d as { mean: number; sd: number; min?: number };
    // Box-Muller with the seeded PRNG.
    const u = 1 - this.rng.next();
    const v = this.rng.next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    return Math.max((d as { min?: number }).min ?? 1, mean + sd * z);
  }

  zones(): string[] {
    return ['a', 'b', 'c'].map((l) => `${this.state.region}${l}`);
  }

  /** Subnet -> AZ: `subnet-<az>` names map to that AZ, anything else by a stable hash [EC2-6]. */
  zoneOfSubnet(subnetId: string): string {
    for (const z of this.zones()) if (subnetId.endsWith(z)) return z;
    let h = 0;
    for (const c of subnetId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return this.zones()[h % 3];
  }

  subnetOfZone(az: string, group?: GroupRec): string {
    const subnets = (group?.vpcZoneIdentifier ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    return subnets.find((s) => this.zoneOfSubnet(s) === az) ?? `subnet-${az}`;
  }

  /** Private address in 127.0.0.0/8, from 127.0.1.1 on, skipping .0 and .255 [EC2-4]. */
  nextPrivateIp(): string {
    const n = this.counter('ip') - 1;
    const host = n % 254;
    const net = 1 + Math.floor(n / 254);
    return `127.${(net >> 8) & 255}.${net & 255}.${host + 1}`;
  }

  // ---------------------------------------------------------------- launch templates

  findLaunchTemplate(idOrName: { id?: string; name?: string }): LaunchTemplateRec | undefined {
    if (idOrName.id) return this.state.launchTemplates[idOrName.id];
    if (idOrName.name) return Object.values(this.state.launchTemplates).find((t) => t.name === idOrName.name);
    return undefined;
  }

  /** `$Latest`, `$Default` or a number -> the version record [LT-2]. */
  resolveVersion(lt: LaunchTemplateRec, version: string | undefined): LaunchTemplateVersionRec | undefined {
    const v = version === undefined || version === '$Default' ? lt.defaultVersion : version === '$Latest' ? lt.latestVersion : Number(version);
    return lt.versions.find((x) => x.version === v);
  }

  /** The group's launch spec resolved now (what a launch would use). */
  currentLaunch(g: GroupRec): LaunchRef {
    const spec = g.launchTemplate ?? groupLtFromMixed(g);
    if (spec) {
      const lt = this.state.launchTemplates[spec.id];
      const v = lt && this.resolveVersion(lt, spec.version);
      if (lt && v) return { kind: 'lt', id: lt.id, name: lt.name, version: v.version };
      return { kind: 'none' };
    }
    if (g.launchConfigurationName) return { kind: 'lc', name: g.launchConfigurationName };
    return { kind: 'none' };
  }

  isUpToDate(inst: InstanceRec, g: GroupRec): boolean {
    const cur = this.currentLaunch(g);
    const l = inst.launch;
    if (cur.kind === 'lt' && l.kind === 'lt') return cur.id === l.id && cur.version === l.version;
    if (cur.kind === 'lc' && l.kind === 'lc') return cur.name === l.name;
    return false;
  }

  behaviourOf(launch: LaunchRef, imageId: string): ImageBehaviour {
    const images = this.state.images;
    const byVersion = launch.kind === 'lt' ? images[`${launch.id}:${launch.version}`] ?? images[`${launch.name}:${launch.version}`] : undefined;
    return { ...(images[imageId] ?? {}), ...(byVersion ?? {}) };
  }

  // ---------------------------------------------------------------- EC2 instances

  /** Creates an EC2 instance (pending) from a launch spec [EC2-1]. */
  createInstance(launch: LaunchRef, data: Record<string, any>, az: string, subnetId: string, extraTags: Record<string, string>): InstanceRec {
    const now = this.now;
    const imageId: string = data.ImageId ?? 'ami-00000000000000000';
    const b = this.behaviourOf(launch, imageId);
    const boot = Math.max(1, this.sample(b.bootSeconds ?? this.faults.bootSeconds)) * 1000;
    const appStart = Math.max(0, this.sample(b.appStartSeconds ?? this.faults.appStartSeconds)) * 1000;
    // Per-instance boot failure [FAULT-11]; no draw at rate 0, so runs without the fault are unchanged.
    const failRate = b.bootFailureRate ?? this.faults.bootFailureRate ?? 0;
    const bootFailure = failRate > 0 && this.rng.chance(failRate) ? b.bootFailureMode ?? this.faults.bootFailureMode ?? 'never-healthy' : undefined;
    const tags: Record<string, string> = {};
    for (const spec of data.TagSpecifications ?? []) {
      if (spec.ResourceType === 'instance') for (const t of spec.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
    }
    Object.assign(tags, extraTags);
    if (launch.kind === 'lt') {
      tags['aws:ec2launchtemplate:id'] = launch.id;
      tags['aws:ec2launchtemplate:version'] = String(launch.version);
    }
    const inst: InstanceRec = {
      id: this.nextId('i'),
      az,
      subnetId,
      privateIp: this.nextPrivateIp(),
      imageId,
      instanceType: data.InstanceType ?? 't3.micro',
      launch,
      launchTime: now,
      ec2State: 'pending',
      runningAt: now + boot,
      appUpAt: b.healthy === false || bootFailure ? NEVER : now + boot + appStart,
      failAt: b.failAfterSeconds !== undefined ? now + b.failAfterSeconds * 1000 : undefined,
      visibleAt: now + this.faults.describeDelaySeconds * 1000,
      bootFailure,
      tags,
    };
    this.state.instances[inst.id] = inst;
    this.schedule({ at: inst.runningAt, kind: 'running', id: inst.id });
    return inst;
  }

  private onRunning(id: string): void {
    const inst = this.state.instances[id];
    if (!inst || inst.ec2State !== 'pending') return;
    if (inst.bootFailure === 'terminated') {
      // pending -> terminated during launch [FAULT-11]; the ASG notices on its next health check [HEALTH-1].
      inst.stateReason = 'Server.InternalError: Internal error on launch';
      const act = inst.launchActivity ? this.state.activities[inst.launchActivity] : undefined;
      if (act && act.status === 'InProgress') {
        act.status = 'Failed';
        act.statusMessage = `Instance ${inst.id} terminated during launch: ${inst.stateReason}`;
        act.progress = 100;
        act.endTime = this.now;
      }
      this.onTerminated(id);
      return;
    }
    inst.ec2State = 'running';
    const g = inst.group ? this.state.groups[inst.group] : undefined;
    if (g && inst.lifecycle === 'Pending') this.putInService(g, inst);
    this.pokeElbs(inst);
    this.changed(inst);
  }

  /** Pending -> InService once EC2 is running; registers with the group's ELBs first [ASG-6]. */
  private putInService(g: GroupRec, inst: InstanceRec): void {
    if (!this.isSuspended(g, 'AddToLoadBalancer')) {
      for (const name of g.loadBalancerNames) {
        const elb = this.state.elbs[name];
        if (elb) this.register(elb, inst.id);
      }
    }
    inst.lifecycle = 'InService';
    inst.inServiceAt = this.now;
    // "Instance scale-in protection starts when the instance state is InService" [TERM-5].
    if (inst.protectOnInService) inst.protected = true;
    inst.protectOnInService = undefined;
    const act = inst.launchActivity ? this.state.activities[inst.launchActivity] : undefined;
    if (act && act.status !== 'Successful') {
      act.status = 'Successful';
      act.progress = 100;
      act.endTime = this.now;
    }
  }

  /** EC2 terminate: running -> shutting-down -> terminated after `shutdownSeconds` [EC2-3]. */
  ec2Terminate(inst: InstanceRec, reason = 'Client.UserInitiatedShutdown: User initiated shutdown'): void {
    if (inst.ec2State === 'shutting-down' || inst.ec2State === 'terminated') return;
    inst.ec2State = 'shutting-down';
    inst.stateReason = reason;
    this.schedule({ at: this.now + this.faults.shutdownSeconds * 1000, kind: 'terminated', id: inst.id });
    this.pokeElbs(inst);
    this.changed(inst);
  }

  private onTerminated(id: string): void {
    const inst = this.state.instances[id];
    if (!inst || inst.ec2State === 'terminated') return;
    inst.ec2State = 'terminated';
    inst.terminatedAt = this.now;
    for (const elb of Object.values(this.state.elbs)) {
      if (elb.registrations[id]) delete elb.registrations[id];
    }
    const g = inst.group ? this.state.groups[inst.group] : undefined;
    if (g) {
      if (inst.lifecycle !== 'Terminating') {
        // Terminated outside the ASG: it notices on its next health check [ASG-8]; until then it
        // still lists the instance (as Unhealthy after the check).
      } else {
        this.removeFromGroup(g, inst);
      }
    }
    this.schedule({ at: this.now + TERMINATED_VISIBLE_MS, kind: 'purge', id });
    this.changed(inst);
  }

  private removeFromGroup(g: GroupRec, inst: InstanceRec): void {
    inst.lifecycle = 'Terminated';
    g.instances = g.instances.filter((x) => x !== inst.id);
    const act = inst.terminateActivity ? this.state.activities[inst.terminateActivity] : undefined;
    if (act) {
      act.status = 'Successful';
      act.progress = 100;
      act.endTime = this.now;
    }
    this.changed(inst);
    inst.group = undefined;
  }

  // ---------------------------------------------------------------- classic ELB

  /** What DescribeInstanceHealth reports for a registered instance [ELB-2..5]. */
  elbView(elb: ElbRec, inst: InstanceRec | undefined, reg: RegistrationRec): ElbView {
    // While draining, classic ELB reports "InService: Instance deregistration currently in progress" [ELB-6].
    if (reg.drainingUntil !== undefined) return { state: 'InService', reasonCode: 'ELB', description: 'Instance deregistration currently in progress.' };
    if (!inst || inst.ec2State === 'terminated' || inst.ec2State === 'shutting-down') {
      return { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance is in terminated state.' };
    }
    if (inst.ec2State === 'pending') return { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance is in pending state.' };
    if (reg.state === 'InService') return { state: 'InService', reasonCode: 'N/A', description: 'N/A' };
    if (!reg.everPassed && reg.passes === 0 && reg.fails === 0) {
      return { state: 'OutOfService', reasonCode: 'ELB', description: 'Instance registration is still in progress.' };
    }
    if (!reg.everPassed) {
      return { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance has not passed the configured HealthyThreshold number of health checks consecutively.' };
    }
    return { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.' };
  }

  register(elb: ElbRec, id: string): void {
    const existing = elb.registrations[id];
    if (existing && existing.drainingUntil === undefined) return;
    const reg: RegistrationRec = { instanceId: id, registeredAt: this.now, passes: 0, fails: 0, state: 'OutOfService', everPassed: false, gen: 0 };
    elb.registrations[id] = reg;
    this.scheduleCheck(elb, reg, this.firstCheckAfter(elb, reg, this.now));
    const inst = this.state.instances[id];
    if (inst) this.changed(inst);
  }

  /** Deregister; with connection draining the instance stays "deregistration in progress" up to the timeout [ELB-6]. */
  deregister(elb: ElbRec, id: string): number | undefined {
    const reg = elb.registrations[id];
    if (!reg || reg.drainingUntil !== undefined) return reg?.drainingUntil;
    const inst = this.state.instances[id];
    // Only an instance the ELB routes requests to has any to drain: one it reports OutOfService
    // (still registering, never passed, or failed) is deregistered at once [ELB-6].
    const serving = inst !== undefined && inst.ec2State === 'running' && this.elbView(elb, inst, reg).state === 'InService';
    const drainMs = elb.draining.enabled && elb.draining.timeout > 0 && serving ? this.drainMs(elb) : 0;
    if (drainMs > 0) {
      reg.drainingUntil = this.now + drainMs;
      reg.gen++;
      this.schedule({ at: reg.drainingUntil, kind: 'drained', elb: elb.name, id });
      this.changed(inst);
      return reg.drainingUntil;
    }
    delete elb.registrations[id];
    if (inst) this.changed(inst);
    return undefined;
  }

  /**
   * How long a serving instance's in-flight connections take to drain [ELB-6]: none (the
   * deregistration completes at once), the full timeout (long-lived connections), or a drawn
   * duration capped at the timeout, per `faults.connectionDrain`. No PRNG draw for the default
   * (always the full timeout), so runs that do not use the fault are unchanged.
   */
  private drainMs(elb: ElbRec): number {
    const full = elb.draining.timeout * 1000;
    const c = this.faults.connectionDrain ?? { idle: 0, long: 1, seconds: 0 };
    if (c.long >= 1) return full;
    if (c.idle >= 1) return 0;
    const u = this.rng.next();
    if (u < c.idle) return 0;
    if (u < c.idle + c.long) return full;
    return Math.min(full, Math.max(0, Math.round(this.sample(c.seconds) * 1000)));
  }

  private onDrained(elbName: string, id: string): void {
    const elb = this.state.elbs[elbName];
    const reg = elb?.registrations[id];
    if (!elb || !reg || reg.drainingUntil === undefined || reg.drainingUntil > this.now) return;
    delete elb.registrations[id];
    const inst = this.state.instances[id];
    if (!inst) return;
    this.changed(inst);
    if (inst.lifecycle === 'Terminating' && !this.isDraining(inst)) this.finishTermination(inst);
  }

  isDraining(inst: InstanceRec): boolean {
    for (const elb of Object.values(this.state.elbs)) if (elb.registrations[inst.id]?.drainingUntil !== undefined) return true;
    return false;
  }

  /** Application answers the health check at `t` [ELB-3]. */
  appOk(inst: InstanceRec, t: number): boolean {
    return inst.ec2State === 'running' && t >= inst.appUpAt && !(inst.failAt !== undefined && t >= inst.failAt);
  }

  private nextAppChange(inst: InstanceRec, t: number): number {
    let n = Infinity;
    if (inst.appUpAt > t && inst.appUpAt < NEVER) n = Math.min(n, inst.appUpAt);
    if (inst.failAt !== undefined && inst.failAt > t) n = Math.min(n, inst.failAt);
    if (inst.ec2State === 'pending' && inst.runningAt > t) n = Math.min(n, inst.runningAt);
    return n;
  }

  /** Checks run at registeredAt + k*Interval, k >= 1: the first check strictly after `t`. */
  private firstCheckAfter(elb: ElbRec, reg: RegistrationRec, t: number): number {
    const I = elb.healthCheck.interval * 1000;
    const k = Math.max(1, Math.floor((t - reg.registeredAt) / I) + 1);
    return reg.registeredAt + k * I;
  }

  /** The first check at or after `t`. */
  private firstCheckFrom(elb: ElbRec, reg: RegistrationRec, t: number): number {
    const I = elb.healthCheck.interval * 1000;
    const k = Math.max(1, Math.ceil((t - reg.registeredAt) / I));
    return reg.registeredAt + k * I;
  }

  private scheduleCheck(elb: ElbRec, reg: RegistrationRec, at: number): void {
    reg.gen++;
    this.schedule({ at, kind: 'check', elb: elb.name, id: reg.instanceId, gen: reg.gen });
  }

  /** Something about the instance changed outside the known schedule: re-check at the next slot. */
  pokeElbs(inst: InstanceRec): void {
    for (const elb of Object.values(this.state.elbs)) {
      const reg = elb.registrations[inst.id];
      if (reg && reg.drainingUntil === undefined) this.scheduleCheck(elb, reg, this.firstCheckAfter(elb, reg, this.now));
    }
  }

  /** Health check changed (ConfigureHealthCheck): restart the check phase of every registration. */
  restartChecks(elb: ElbRec): void {
    for (const reg of Object.values(elb.registrations)) {
      if (reg.drainingUntil !== undefined) continue;
      reg.registeredAt = this.now;
      this.scheduleCheck(elb, reg, this.firstCheckAfter(elb, reg, this.now));
    }
  }

  /** One health check [ELB-3/4]: HealthyThreshold passes -> InService, UnhealthyThreshold failures -> OutOfService. */
  private onCheck(elbName: string, id: string, gen: number): void {
    const elb = this.state.elbs[elbName];
    const reg = elb?.registrations[id];
    if (!elb || !reg || reg.gen !== gen || reg.drainingUntil !== undefined) return;
    const inst = this.state.instances[id];
    const t = this.now;
    const ok = inst ? this.appOk(inst, t) : false;
    const hc = elb.healthCheck;
    const before = reg.state;
    if (ok) {
      reg.passes++;
      reg.fails = 0;
      if (reg.state === 'OutOfService' && reg.passes >= hc.healthyThreshold) {
        reg.state = 'InService';
        reg.everPassed = true;
      }
    } else {
      reg.fails++;
      reg.passes = 0;
      if (reg.state === 'InService' && reg.fails >= hc.unhealthyThreshold) reg.state = 'OutOfService';
    }
    if (inst && (reg.state !== before || reg.passes + reg.fails === 1)) this.changed(inst);
    // Steady (further checks change nothing until the app's health changes): skip ahead.
    const steady = (reg.state === 'InService' && ok) || (reg.state === 'OutOfService' && !ok);
    if (!steady) {
      this.scheduleCheck(elb, reg, t + hc.interval * 1000);
    } else if (inst) {
      const change = this.nextAppChange(inst, t);
      if (change !== Infinity) this.scheduleCheck(elb, reg, this.firstCheckFrom(elb, reg, change));
    }
  }

  // ---------------------------------------------------------------- Auto Scaling

  isSuspended(g: GroupRec, process: string): boolean {
    return g.suspended.some((p) => p.name === process);
  }

  groupInstances(g: GroupRec): InstanceRec[] {
    const out: InstanceRec[] = [];
    for (const id of g.instances) {
      const i = this.state.instances[id];
      if (i) out.push(i);
    }
    return out;
  }

  /** Counts toward capacity: everything not on its way out [ASG-2]. */
  isActive(inst: InstanceRec): boolean {
    return inst.lifecycle !== undefined && !inst.lifecycle.startsWith('Terminat') && inst.lifecycle !== 'Detached';
  }

  addActivity(g: GroupRec, a: Omit<ActivityRec, 'id' | 'group' | 'startTime' | 'progress' | 'details'> & { progress?: number }): ActivityRec {
    const act: ActivityRec = {
      id: this.uuid(),
      group: g.name,
      startTime: this.now,
      progress: a.progress ?? 0,
      details: JSON.stringify({ 'Subnet ID': '', 'Availability Zone': '' }),
      ...a,
    };
    this.state.activities[act.id] = act;
    g.activities.push(act.id);
    if (g.activities.length > MAX_ACTIVITIES_PER_GROUP) {
      for (const old of g.activities.splice(0, g.activities.length - MAX_ACTIVITIES_PER_GROUP)) delete this.state.activities[old];
    }
    return act;
  }

  private iso(t = this.now): string {
    return new Date(t).toISOString().replace(/\.\d{3}Z$/, 'Z');
  }

  private causeText(g: GroupRec, what: string): string {
    const c = g.lastDesiredChange;
    const user = c ? `At ${this.iso(c.time)} a user request (${c.operation}) set the desired capacity to ${g.desired}. ` : '';
    return `${user}At ${this.iso()} ${what}`;
  }

  /** AZs a launch may use, fewest active instances first (ties: AZ name) [ASG-3]. */
  private launchZones(g: GroupRec, counts: Map<string, number>): string[] {
    return [...g.azs].sort((a, b) => (counts.get(a) ?? 0) - (counts.get(b) ?? 0) || a.localeCompare(b));
  }

  private zoneCounts(g: GroupRec, insts: InstanceRec[]): Map<string, number> {
    const counts = new Map<string, number>(g.azs.map((z) => [z, 0]));
    for (const i of insts) if (this.isActive(i)) counts.set(i.az, (counts.get(i.az) ?? 0) + 1);
    return counts;
  }

  /** One launch attempt; a failure is a Failed scaling activity [ASG-4, FAULT-3]. */
  private launchOne(g: GroupRec, counts: Map<string, number>, why: string, rebalance = false): InstanceRec | undefined {
    const launch = this.currentLaunch(g);
    let data: Record<string, any> = {};
    if (launch.kind === 'lt') data = this.resolveVersion(this.state.launchTemplates[launch.id], String(launch.version))!.data;
    else if (launch.kind === 'lc') {
      const lc = this.state.launchConfigurations[launch.name];
      data = lc ? { ImageId: lc.imageId, InstanceType: lc.instanceType } : {};
    }
    const instanceType = data.InstanceType ?? 't3.micro';
    const zones = this.launchZones(g, counts);
    const available = zones.filter((z) => !this.faults.unavailableZones.includes(z));
    const az = available[0];
    if (launch.kind === 'none' || az === undefined || this.rng.chance(this.faults.launchFailureRate)) {
      const zone = az ?? zones[0];
      const reason = launch.kind === 'none'
        ? 'The specified launch template, with template ID or name, does not exist.'
        : `We currently do not have sufficient ${instanceType} capacity in the Availability Zone you requested (${zone}). Our system will be working on provisioning additional capacity. You can currently get ${instanceType} capacity by not specifying an Availability Zone in your request or choosing ${zones.filter((z) => z !== zone).join(', ')}. Launching EC2 instance failed.`;
      this.addActivity(g, {
        description: 'Launching a new EC2 instance.  Status Reason: ' + reason,
        cause: this.causeText(g, why),
        status: 'Failed',
        statusMessage: reason,
        endTime: this.now,
        progress: 100,
      });
      g.launchFailures++;
      g.launchBackoffUntil = this.now + Math.min(300_000, TICK_MS * 2 ** Math.min(5, g.launchFailures - 1));
      return undefined;
    }
    g.launchFailures = 0;
    g.launchBackoffUntil = undefined;
    const tags: Record<string, string> = { 'aws:autoscaling:groupName': g.name };
    for (const t of g.tags) if (t.propagateAtLaunch) tags[t.key] = t.value;
    const inst = this.createInstance(launch, data, az, this.subnetOfZone(az, g), tags);
    inst.group = g.name;
    inst.lifecycle = 'Pending';
    inst.health = 'Healthy';
    inst.protected = false;
    inst.protectOnInService = g.newInstancesProtectedFromScaleIn || undefined;
    inst.rebalance = rebalance || undefined;
    // A launch while ELB-unhealthy instances await their replacement is one of those replacements [HEALTH-6].
    if (!rebalance && (g.replaceDebt ?? 0) > 0) {
      g.replaceDebt! -= 1;
      inst.elbReplacement = true;
    }
    g.instances.push(inst.id);
    counts.set(az, (counts.get(az) ?? 0) + 1);
    const act = this.addActivity(g, {
      description: `Launching a new EC2 instance: ${inst.id}`,
      cause: this.causeText(g, why),
      status: 'InProgress',
      progress: 30,
    });
    act.details = JSON.stringify({ 'Subnet ID': inst.subnetId, 'Availability Zone': az });
    inst.launchActivity = act.id;
    this.changed(inst);
    return inst;
  }

  /**
   * Starts an ASG termination: Terminating, deregistered from the group's ELBs (waiting for
   * connection draining), then EC2 terminate [ASG-7, ELB-6].
   */
  beginTermination(g: GroupRec, inst: InstanceRec, cause: TerminationRecord['cause'], call: CallRef | undefined, description: string): void {
    if (!this.isActive(inst)) return;
    this.observer?.terminated({
      time: this.now,
      instanceId: inst.id,
      group: g.name,
      cause,
      call,
      healthy: this.isHealthy(inst),
      upToDate: this.isUpToDate(inst, g),
      launch: inst.launch,
      launchTime: inst.launchTime,
    });
    inst.lifecycle = 'Terminating';
    const act = this.addActivity(g, {
      description: `Terminating EC2 instance: ${inst.id}`,
      cause: `At ${this.iso()} ${description}`,
      status: 'InProgress',
      progress: 0,
    });
    inst.terminateActivity = act.id;
    // Deregistered from the group's load balancers (others keep it until EC2 terminates it).
    let until: number | undefined;
    for (const name of g.loadBalancerNames) {
      const elb = this.state.elbs[name];
      const d = elb ? this.deregister(elb, inst.id) : undefined;
      if (d !== undefined) until = Math.max(until ?? 0, d);
    }
    if (until !== undefined) {
      inst.drainingUntil = until;
      act.status = 'WaitingForELBConnectionDraining';
      this.changed(inst);
    } else {
      this.finishTermination(inst);
    }
  }

  private finishTermination(inst: InstanceRec): void {
    inst.drainingUntil = undefined;
    const act = inst.terminateActivity ? this.state.activities[inst.terminateActivity] : undefined;
    if (act) {
      act.status = 'InProgress';
      act.progress = 50;
    }
    if (inst.ec2State === 'terminated') {
      const g = inst.group ? this.state.groups[inst.group] : undefined;
      if (g) this.removeFromGroup(g, inst);
      return;
    }
    this.ec2Terminate(inst, 'Client.UserInitiatedShutdown: User initiated shutdown');
    this.changed(inst);
  }

  /** The ASG's loop [ASG-1]: health checks, replace unhealthy, launch/scale in, AZ rebalance. */
  private tick(): void {
    const rate = this.faults.spontaneousTerminationsPerHour;
    if (rate > 0) this.spontaneousTerminations(rate);
    for (const g of Object.values(this.state.groups)) this.reconcile(g);
  }

  private spontaneousTerminations(ratePerHour: number): void {
    const p = 1 - Math.exp((-ratePerHour * TICK_MS) / 3600_000);
    for (const inst of Object.values(this.state.instances)) {
      if (inst.ec2State !== 'running' || !this.rng.chance(p)) continue;
      this.observer?.terminated({
        time: this.now, instanceId: inst.id, group: inst.group, cause: 'spontaneous', healthy: this.isHealthy(inst),
        upToDate: inst.group && this.state.groups[inst.group] ? this.isUpToDate(inst, this.state.groups[inst.group]) : false, launch: inst.launch, launchTime: inst.launchTime,
      });
      this.ec2Terminate(inst, 'Server.SpotInstanceTermination: Spot instance termination');
    }
  }

  /**
   * An API call changed what the group should run (SetDesiredCapacity, UpdateAutoScalingGroup,
   * CreateAutoScalingGroup, TerminateInstanceInAutoScalingGroup without decrement): the ASG starts
   * the scaling activity promptly, `SCALE_DELAY_MS` later, not on its next periodic loop [ASG-1a].
   * Several requests before it runs make one activity.
   */
  requestScaling(g: GroupRec): void {
    if (g.scaleAt !== undefined && g.scaleAt > this.now) return;
    // A fixed latency draws nothing from the PRNG (the default); chaos draws it from a range.
    const d = this.faults.scaleDelaySeconds ?? SCALE_DELAY_MS / 1000;
    g.scaleAt = this.now + Math.max(1, Math.round(this.sample(d) * 1000));
    this.schedule({ at: g.scaleAt, kind: 'scale', group: g.name });
  }

  reconcile(g: GroupRec): void {
    const insts = this.groupInstances(g);
    this.advanceAttachments(g, insts);
    // 1. health checks [HEALTH-1..3, HEALTH-6]
    if (!this.isSuspended(g, 'HealthCheck')) {
      const elbFailing: InstanceRec[] = [];
      for (const inst of insts) {
        if (inst.health !== 'Healthy') continue;
        // A Pending instance whose EC2 instance terminated during launch is unhealthy too [HEALTH-1].
        if (inst.lifecycle === 'Pending' && (inst.ec2State === 'terminated' || inst.ec2State === 'shutting-down')) {
          inst.health = 'Unhealthy';
          this.changed(inst);
          continue;
        }
        if (inst.lifecycle !== 'InService') continue;
        if (inst.ec2State !== 'running') {
          inst.health = 'Unhealthy';
          this.changed(inst);
          continue;
        }
        if (g.healthCheckType === 'ELB' && this.now >= (inst.inServiceAt ?? 0) + g.healthCheckGracePeriod * 1000) {
          for (const name of g.loadBalancerNames) {
            const elb = this.state.elbs[name];
            const reg = elb?.registrations[inst.id];
            // Only a load balancer whose attachment is InService gets instances replaced [ELB-7].
            if (elb && reg && this.attachState(g, name) === 'InService' && this.elbView(elb, inst, reg).state === 'OutOfService') {
              elbFailing.push(inst);
              break;
            }
          }
        }
      }
      this.markElbUnhealthy(g, insts, elbFailing);
    }
    // 2. replace unhealthy: terminate first, the launch below replaces it [HEALTH-4]
    if (!this.isSuspended(g, 'ReplaceUnhealthy') && !this.isSuspended(g, 'Terminate')) {
      for (const inst of insts) {
        if (inst.health === 'Unhealthy' && this.isActive(inst)) {
          const byElb = inst.ec2State === 'running';
          if (byElb) g.replaceDebt = (g.replaceDebt ?? 0) + 1;
          this.beginTermination(g, inst, 'replace-unhealthy', undefined,
            byElb
              ? 'an instance was taken out of service in response to an ELB system health check failure.'
              : inst.ec2State === 'pending'
                ? 'an instance was taken out of service in response to an EC2 instance status checks failure.'
                : 'an instance was taken out of service in response to an EC2 health check indicating it has been terminated or stopped.');
        }
      }
    }
    // 3. capacity [ASG-2..5] (also run promptly after an API capacity change [ASG-1a])
    if (this.reconcileCapacity(g, insts)) return;
    // 4. AZ rebalance: launch first, then (next loop, once InService) terminate [AZ-1..3]
    const active = insts.filter((i) => this.isActive(i));
    const terminateSuspended = this.isSuspended(g, 'Terminate');
    // With Terminate suspended AZRebalance still launches, and the group stays above desired [AZ-3, PROC-2]:
    // the surplus may only be its own (InService) rebalancing launches.
    const surplus = active.length - g.desired;
    const rebalanced = active.filter((i) => i.rebalance).length;
    if (
      (surplus === 0 || (terminateSuspended && surplus > 0 && surplus === rebalanced)) &&
      !active.some((i) => i.rebalance && i.lifecycle === 'Pending') &&
      !this.isSuspended(g, 'AZRebalance') && !this.isSuspended(g, 'Launch') &&
      active.every((i) => i.lifecycle === 'InService')
    ) {
      const counts = this.zoneCounts(g, insts);
      const usable = g.azs.filter((z) => !this.faults.unavailableZones.includes(z));
      if (usable.length < 2) return;
      const cs = usable.map((z) => counts.get(z) ?? 0);
      if (Math.max(...cs) - Math.min(...cs) <= 1) return;
      // Up to 10 % over max, or one instance, whichever is greater [AZ-2].
      const allowance = Math.max(1, Math.floor(g.max * 0.1));
      if (active.length + 1 > g.max + allowance) return;
      this.launchOne(g, counts, 'an instance was started in response to an Availability Zone rebalancing operation.', true);
    }
  }

  /** A classic ELB's attachment state for the group; one attached at creation is InService [ELB-7]. */
  attachState(g: GroupRec, name: string): LbAttachState {
    return g.lbStates?.[name] ?? (g.loadBalancerNames.includes(name) ? 'InService' : 'Removed');
  }

  /**
   * Attachment states move on with the loop [ELB-7]: Adding -> Added once the group's InService
   * instances are registered (AttachLoadBalancers registers them at once); Added -> InService once
   * one of them passed the health check, only with ELB health checks ("If EC2 health checks are
   * enabled instead, the load balancer remains in the Added state"); Removing -> gone once none of
   * the group's instances is still registered or draining.
   */
  private advanceAttachments(g: GroupRec, insts: InstanceRec[]): void {
    if (!g.lbStates) return;
    for (const [name, st] of Object.entries(g.lbStates)) {
      const elb = this.state.elbs[name];
      if (st === 'Removing') {
        if (!elb || !insts.some((i) => elb.registrations[i.id])) delete g.lbStates[name];
        continue;
      }
      if (!elb) continue;
      if (st === 'Adding') {
        const all = insts.filter((i) => i.lifecycle === 'InService').every((i) => elb.registrations[i.id]);
        if (all) g.lbStates[name] = 'Added';
      } else if (st === 'Added' && g.healthCheckType === 'ELB') {
        if (insts.some((i) => elb.registrations[i.id]?.everPassed)) g.lbStates[name] = 'InService';
      }
    }
  }

  /**
   * ELB-unhealthy marking paced the way AWS paces its replacements [HEALTH-6]: at most
   * `max(1, floor(10 % of desired))` replacements in flight — a replacement is in flight from the
   * moment its predecessor is marked until it is InService in every attached ELB and past the
   * group's default instance warm-up — so AWS marks fewer instances unhealthy than are failing
   * when many fail at once (the rest stay `Healthy` until a slot frees). A failing replacement
   * hands its slot on to its own replacement.
   */
  private markElbUnhealthy(g: GroupRec, insts: InstanceRec[], failing: InstanceRec[]): void {
    let inFlight = g.replaceDebt ?? 0;
    for (const i of insts) {
      if (!i.elbReplacement) continue;
      if (!this.isActive(i)) {
        i.elbReplacement = undefined;
        continue;
      }
      if (this.replacementReady(g, i)) i.elbReplacement = undefined;
      else inFlight++;
    }
    const budget = Math.max(1, Math.floor(g.desired * 0.1));
    // Failing replacements first: their slot is already counted.
    const ordered = [...failing.filter((i) => i.elbReplacement), ...failing.filter((i) => !i.elbReplacement)];
    for (const inst of ordered) {
      // A failing replacement's own slot passes to its replacement.
      const slot = inst.elbReplacement ? 1 : 0;
      if (inFlight - slot >= budget) break;
      inst.elbReplacement = undefined;
      inst.health = 'Unhealthy';
      inFlight += 1 - slot;
      this.changed(inst);
    }
  }

  private replacementReady(g: GroupRec, i: InstanceRec): boolean {
    if (i.lifecycle !== 'InService' || i.ec2State !== 'running') return false;
    if (this.now < (i.inServiceAt ?? 0) + (g.defaultInstanceWarmup ?? 0) * 1000) return false;
    for (const name of g.loadBalancerNames) {
      const elb = this.state.elbs[name];
      const reg = elb?.registrations[i.id];
      if (elb && (!reg || this.elbView(elb, i, reg).state !== 'InService')) return false;
    }
    return true;
  }

  /**
   * Launches toward desired capacity or scales in [ASG-2..5]. Returns true when the group was not
   * at its desired size (so AZ rebalancing waits for another loop).
   */
  private reconcileCapacity(g: GroupRec, insts: InstanceRec[]): boolean {
    const active = insts.filter((i) => this.isActive(i));
    const counts = this.zoneCounts(g, insts);
    const rebalancing = active.some((i) => i.rebalance && i.lifecycle === 'Pending');
    // Replacements owed for ELB-unhealthy instances lapse once the group is at its desired size [HEALTH-6].
    if (active.length >= g.desired) g.replaceDebt = undefined;
    // A rebalancing launch the desired capacity has since absorbed is an ordinary instance.
    if (!rebalancing && active.length <= g.desired) for (const i of active) i.rebalance = undefined;
    if (active.length < g.desired) {
      if (!this.isSuspended(g, 'Launch') && (g.launchBackoffUntil === undefined || this.now >= g.launchBackoffUntil)) {
        const n = g.desired - active.length;
        for (let k = 0; k < n; k++) {
          if (!this.launchOne(g, counts, `an instance was started in response to a difference between desired and actual capacity, increasing the capacity from ${active.length + k} to ${active.length + k + 1}.`)) break;
        }
      }
      return true;
    }
    if (active.length > g.desired && !rebalancing) {
      // Nothing to scale in; AZRebalance may still launch (step 4) [PROC-2].
      if (this.isSuspended(g, 'Terminate')) return false;
      const rebalanceDone = active.find((i) => i.rebalance);
      const victims = this.pickForScaleIn(g, active, active.length - g.desired);
      for (const v of victims) {
        if (rebalanceDone) {
          this.beginTermination(g, v, 'rebalance', undefined, 'an instance was taken out of service in response to an Availability Zone rebalancing operation.');
        } else {
          this.beginTermination(g, v, 'scale-in', g.lastDesiredChange,
            `a user request update of AutoScalingGroup constraints to min: ${g.min}, max: ${g.max}, desired: ${g.desired} changing the desired capacity from ${active.length} to ${g.desired}.  An instance was taken out of service in response to a difference between desired and actual capacity, shrinking the capacity from ${active.length} to ${g.desired}.`);
        }
      }
      if (rebalanceDone) for (const i of active) i.rebalance = undefined;
      return true;
    }
    return false;
  }

  /**
   * Scale-in choice [TERM-1..6]: the AZ with the most instances (that has an unprotected one),
   * then each termination policy in order narrows the candidates, then Default, then random.
   */
  pickForScaleIn(g: GroupRec, active: InstanceRec[], n: number): InstanceRec[] {
    const picked: InstanceRec[] = [];
    const remaining = new Set(active);
    for (let k = 0; k < n; k++) {
      const candidates = [...remaining].filter((i) => !i.protected);
      if (candidates.length === 0) break;
      const victim = this.pickOne(g, [...remaining], candidates);
      picked.push(victim);
      remaining.delete(victim);
    }
    return picked;
  }

  pickOne(g: GroupRec, all: InstanceRec[], candidates: InstanceRec[]): InstanceRec {
    const counts = new Map<string, number>();
    for (const i of all) counts.set(i.az, (counts.get(i.az) ?? 0) + 1);
    const candidateZones = new Set(candidates.map((i) => i.az));
    const max = Math.max(...[...candidateZones].map((z) => counts.get(z) ?? 0));
    let pool = candidates.filter((i) => (counts.get(i.az) ?? 0) === max);
    const policies = g.terminationPolicies.length ? [...g.terminationPolicies] : ['Default'];
    if (policies[policies.length - 1] !== 'Default') policies.push('Default');
    for (const p of policies) {
      if (pool.length <= 1) break;
      pool = this.applyPolicy(g, p, pool);
    }
    return pool.length === 1 ? pool[0] : pool[Math.floor(this.rng.next() * pool.length)];
  }

  private applyPolicy(g: GroupRec, policy: string, pool: InstanceRec[]): InstanceRec[] {
    const narrow = (f: (i: InstanceRec) => boolean) => {
      const out = pool.filter(f);
      return out.length ? out : pool;
    };
    const cur = this.currentLaunch(g);
    switch (policy) {
      case 'OldestInstance': {
        const min = Math.min(...pool.map((i) => i.launchTime));
        return pool.filter((i) => i.launchTime === min);
      }
      case 'NewestInstance': {
        const max = Math.max(...pool.map((i) => i.launchTime));
        return pool.filter((i) => i.launchTime === max);
      }
      case 'OldestLaunchConfiguration': {
        if (cur.kind !== 'lc') return narrow((i) => i.launch.kind === 'lc');
        const others = pool.filter((i) => i.launch.kind !== 'lc' || i.launch.name !== cur.name);
        if (!others.length) return pool;
        const lcTimes = (i: InstanceRec) => (i.launch.kind === 'lc' ? this.state.launchConfigurations[i.launch.name]?.createTime ?? 0 : Infinity);
        const oldest = Math.min(...others.map(lcTimes));
        return others.filter((i) => lcTimes(i) === oldest);
      }
      case 'OldestLaunchTemplate': {
        // Non-current template first, then the oldest version of the current template.
        const nonCurrent = pool.filter((i) => i.launch.kind !== 'lt' || cur.kind !== 'lt' || i.launch.id !== cur.id);
        if (nonCurrent.length) return nonCurrent;
        const v = (i: InstanceRec) => (i.launch.kind === 'lt' ? i.launch.version : 0);
        const min = Math.min(...pool.map(v));
        return pool.filter((i) => v(i) === min);
      }
      case 'ClosestToNextInstanceHour': {
        const left = (i: InstanceRec) => 3600_000 - ((this.now - i.launchTime) % 3600_000);
        const min = Math.min(...pool.map(left));
        return pool.filter((i) => left(i) === min);
      }
      case 'Default': {
        // Launch configuration before launch template, then oldest template / configuration, then next billing hour.
        let p = pool;
        if (cur.kind === 'lt') {
          const lcs = p.filter((i) => i.launch.kind === 'lc');
          if (lcs.length) p = lcs;
          else p = this.applyPolicy(g, 'OldestLaunchTemplate', p);
        } else if (cur.kind === 'lc') {
          p = this.applyPolicyOn(g, 'OldestLaunchConfiguration', p);
        }
        if (p.length > 1) p = this.applyPolicyOn(g, 'ClosestToNextInstanceHour', p);
        return p;
      }
      case 'AllocationStrategy':
      default:
        return pool;
    }
  }

  private applyPolicyOn(g: GroupRec, policy: string, pool: InstanceRec[]): InstanceRec[] {
    return this.applyPolicy(g, policy, pool);
  }

  // ---------------------------------------------------------------- monitor hooks

  /** Healthy for the safety monitor: ASG InService+Healthy, EC2 running, InService in every attached ELB. */
  isHealthy(inst: InstanceRec): boolean {
    if (inst.lifecycle !== 'InService' || inst.health !== 'Healthy' || inst.ec2State !== 'running') return false;
    const g = inst.group ? this.state.groups[inst.group] : undefined;
    if (!g) return false;
    for (const name of g.loadBalancerNames) {
      const elb = this.state.elbs[name];
      const reg = elb?.registrations[inst.id];
      // A draining instance takes no new requests: not healthy for the monitor.
      if (!elb || !reg || reg.drainingUntil !== undefined || this.elbView(elb, inst, reg).state !== 'InService') return false;
    }
    return true;
  }

  elbStates(inst: InstanceRec): Record<string, string> {
    const out: Record<string, string> = {};
    for (const elb of Object.values(this.state.elbs)) {
      const reg = elb.registrations[inst.id];
      if (reg) out[elb.name] = this.elbView(elb, inst, reg).state;
    }
    return out;
  }

  changed(inst: InstanceRec): void {
    this.observer?.instanceChanged(inst);
  }

  /** Raise a modeled AWS error (see ./faults.ts). */
  fail(code: string, message: string, status = 400): never {
    throw new SimFault(code, message, status);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}

function groupLtFromMixed(g: GroupRec): { id: string; name: string; version: string } | undefined {
  const spec = g.mixedInstancesPolicy?.LaunchTemplate?.LaunchTemplateSpecification;
  if (!spec || !spec._resolvedId) return undefined;
  return { id: spec._resolvedId, name: spec.LaunchTemplateName ?? '', version: spec.Version ?? '$Default' };
}
