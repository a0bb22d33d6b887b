/**
 * The simulated control plane's core: the state, the seeded PRNG, the clock and the one
 * time-ordered event queue that drives every service.
 *
 * Each AWS service lives in its own folder with its state machine (`state.ts`), its API handlers
 * (`ops.ts`) and its rules (`SPEC.md`): ./ec2, ./autoscaling, ./elb, ./s3. Rules that involve
 * more than one service (registering with load balancers, ELB health replacing instances, the
 * safety monitor's view) live in ./coupling.ts. Everything that happens "by itself" (boots,
 * health checks, the ASG's loop, connection draining, shutdowns, faults) is an event in the queue;
 * `processUntil` runs the due events in (time, sequence) order and hands each to the service that
 * owns it. Numbers in [brackets] are SPEC rule ids.
 */
import { onHookAgent, onHookTimeout } from './autoscaling/hooks';
import { SpotSim } from './autoscaling/spot';
import { AutoScalingSim, TICK_MS } from './autoscaling/state';
import { WarmPoolSim } from './autoscaling/warm-pool';
import { CloudWatchSim } from './cloudwatch/metrics';
import { Coupling } from './coupling';
import { Ec2Sim } from './ec2/state';
import { ElbSim } from './elb/state';
import { Elbv2Sim } from './elbv2/state';
import { SimFault } from './faults';
import type { FaultConfig, GroupRec, InstanceRec, LaunchTemplateRec, Seconds, SandboxState, SimEvent, TerminationRecord } from './model';
import { Rng } from './rng';

export { NEVER } from './model';
export { ALL_PROCESSES, SCALE_DELAY_MS, TICK_MS } from './autoscaling/state';
export { TERMINATED_VISIBLE_MS } from './ec2/state';
export type { ElbView } from './elb/state';

/** Hooks the safety monitor installs. */
export interface WorldObserver {
  instanceChanged(inst: InstanceRec): void;
  terminated(rec: TerminationRecord): void;
}

export class World {
  readonly rng: Rng;
  observer?: WorldObserver;
  /** EC2: instances, launch templates, subnets (./ec2). */
  readonly ec2: Ec2Sim;
  /** Auto Scaling: groups, their loop, activities (./autoscaling). */
  readonly asg: AutoScalingSim;
  /** Auto Scaling warm pools (./autoscaling/warm-pool.ts). */
  readonly warmPool: WarmPoolSim;
  /** AWS's own replacements: Spot interruptions, Capacity Rebalancing, maximum instance lifetime [SPOT, LIFE]. */
  readonly spot: SpotSim;
  /** Classic ELB: registrations, health checks, draining (./elb). */
  readonly elb: ElbSim;
  /** ELBv2 target groups: registrations, health checks, deregistration delay (./elbv2). */
  readonly elbv2: Elbv2Sim;
  /** The cross-service rules (./coupling.ts). */
  readonly link: Coupling;
  /** CloudWatch: the load balancers' metrics and the metric alarms' evaluation (./cloudwatch). */
  readonly cloudWatch: CloudWatchSim;

  constructor(readonly state: SandboxState) {
    this.rng = new Rng(state.rng);
    this.ec2 = new Ec2Sim(this);
    this.asg = new AutoScalingSim(this);
    this.warmPool = new WarmPoolSim(this);
    this.spot = new SpotSim(this);
    this.elb = new ElbSim(this);
    this.elbv2 = new Elbv2Sim(this);
    this.link = new Coupling(this);
    this.cloudWatch = new CloudWatchSim(this);
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

  /** Routes a due event to the service that owns it. */
  private handle(ev: SimEvent): void {
    switch (ev.kind) {
      case 'running':
        return this.ec2.onRunning(ev.id);
      case 'terminated':
        return this.ec2.onTerminated(ev.id);
      case 'purge':
        return this.ec2.onPurge(ev.id);
      case 'check':
        return this.elb.onCheck(ev.elb, ev.id, ev.gen);
      case 'drained':
        return this.elb.onDrained(ev.elb, ev.id);
      case 'tg-check':
        return this.elbv2.onCheck(ev.tg, ev.id, ev.gen);
      case 'tg-drained':
        return this.elbv2.onDrained(ev.tg, ev.id);
      case 'scale':
        return this.asg.onScale(ev.group, ev.at);
      case 'hook-timeout':
        return onHookTimeout(this, ev.id, ev.token);
      case 'hook-agent':
        return onHookAgent(this, ev.id, ev.token, ev.result);
      case 'tick':
      case 'chaos':
        return;
    }
  }

  /** The periodic loop: EC2's own terminations (a fault), then every group's loop [ASG-1]. */
  private tick(): void {
    const rate = this.faults.spontaneousTerminationsPerHour;
    if (rate > 0) this.ec2.spontaneousTerminations(rate, TICK_MS);
    this.spot.tick(TICK_MS);
    this.asg.tick();
    this.cloudWatch.tick(TICK_MS);
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

  /**
   * How long a serving instance's in-flight connections take to drain when a load balancer (a
   * classic ELB [ELB-6] or a target group [TG-6]) deregisters it with `timeoutSeconds` of draining:
   * none (the deregistration completes at once), the full timeout (long-lived connections), or a
   * drawn duration capped at the timeout, per `faults.connectionDrain`. No PRNG draw for the
   * default (always the full timeout), so runs that do not use the fault are unchanged.
   */
  connectionDrainMs(timeoutSeconds: number): number {
    const full = timeoutSeconds * 1000;
    const c = this.faults.connectionDrain ?? { idle: 0, long: 1, seconds: 0 };
    if (c.long >= 1) return full;
    if (c.idle >= 1) return 0;
    const u = this.rng.next();
    if (u < c.idle) return 0;
    if (u < c.idle + c.long) return full;
    return Math.min(full, Math.max(0, Math.round(this.sample(c.seconds) * 1000)));
  }

  sample(d: Seconds): number {
    if (typeof d === 'number') return d;
    if ('min' in d && 'max' in d) return this.rng.uniform(d.min, d.max);
    // Box-Muller with the seeded PRNG.
    const u = 1 - this.rng.next();
    const v = this.rng.next();
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    if ('logMedian' in d) return Math.max(d.min ?? 1, Math.exp(Math.log(d.logMedian) + d.sigma * z));
    const { mean, sd } = d as { mean: number; sd: number; min?: number };
    return Math.max((d as { min?: number }).min ?? 1, mean + sd * z);
  }

  changed(inst: InstanceRec): void {
    this.observer?.instanceChanged(inst);
  }

  /** Raise a modeled AWS error (see ./faults.ts). */
  fail(code: string, message: string, status = 400): never {
    throw new SimFault(code, message, status);
  }

  // ---------------------------------------------------------------- the stable read surface
  // What the proof harness, the safety monitor and tests read; each delegates to its service.

  zones(): string[] {
    return this.ec2.zones();
  }
  findLaunchTemplate(idOrName: { id?: string; name?: string }): LaunchTemplateRec | undefined {
    return this.ec2.findLaunchTemplate(idOrName);
  }
  groupInstances(g: GroupRec): InstanceRec[] {
    return this.asg.groupInstances(g);
  }
  isActive(inst: InstanceRec): boolean {
    return this.asg.isActive(inst);
  }
  isUpToDate(inst: InstanceRec, g: GroupRec): boolean {
    return this.asg.isUpToDate(inst, g);
  }
  isHealthy(inst: InstanceRec): boolean {
    return this.link.isHealthy(inst);
  }
  elbStates(inst: InstanceRec): Record<string, string> {
    return this.link.elbStates(inst);
  }
  pokeElbs(inst: InstanceRec): void {
    this.elb.pokeElbs(inst);
  }
  /** EC2 terminates the instance (as TerminateInstances does; tests use it as an outside event). */
  ec2Terminate(inst: InstanceRec, reason?: string): void {
    this.ec2.terminate(inst, reason);
  }
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

function before(a: SimEvent, b: SimEvent): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
