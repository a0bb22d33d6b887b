/**
 * Simulated CloudWatch metrics and metric-alarm evaluation [CW-4..CW-7]: the load balancers'
 * backend 5xx counts, derived from the fleet (which instances serve, and which of them answer
 * requests with errors: ImageBehaviour.errorsAfterSeconds), and every metric alarm evaluated once
 * a minute against them (./evaluate.ts). Rules: ./SPEC.md.
 *
 * Requests: each load balancer receives `faults.requestsPerSecond`, spread evenly over what it
 * routes to — a classic ELB's InService instances; an ALB's forwards (listener default actions and
 * rules, equally), each split by the target groups' weights, then evenly over each group's healthy
 * targets [TG-7] — and an instance past its `errorsAt` fails `errorRate` of its share. Sampled at
 * the world's 10 s tick, summed into one-minute datapoints; a minute with no error has no datapoint
 * ("Reporting criteria: There is a nonzero value").
 */
import { NEVER, type InstanceRec } from '../model';
import type { World } from '../world';
import { alarms, type AlarmRec } from './ops';
import { evaluateAlarm } from './evaluate';

const MINUTE = 60_000;
/** Datapoints older than this are dropped (an alarm's Period × EvaluationPeriods is at most a day for periods under an hour). */
const KEEP_MS = 2 * 86_400_000;

/** The metrics the sandbox publishes [CW-4]. */
export const CLASSIC_5XX = { namespace: 'AWS/ELB', metricName: 'HTTPCode_Backend_5XX' } as const;
export const ALB_5XX = { namespace: 'AWS/ApplicationELB', metricName: 'HTTPCode_Target_5XX_Count' } as const;

/** One metric's identity: namespace, name and dimensions (order-free), as a map key. */
export function metricKey(namespace: string, metricName: string, dimensions: ReadonlyArray<{ Name?: string; Value?: string }> = []): string {
  const dims = [...dimensions].map((d) => `${d.Name}=${d.Value}`).sort();
  return [namespace, metricName, ...dims].join('|');
}

/** The ALB's `LoadBalancer` dimension: its ARN after `loadbalancer/` (`app/<name>/<id>`). */
export function loadBalancerDimension(arn: string): string {
  return arn.slice(arn.indexOf(':loadbalancer/') + ':loadbalancer/'.length);
}

/** The `TargetGroup` dimension: the ARN's resource part (`targetgroup/<name>/<id>`). */
export function targetGroupDimension(arn: string): string {
  return arn.slice(arn.lastIndexOf(':') + 1);
}

export class CloudWatchSim {
  constructor(private readonly w: World) {}

  /** The world's tick: sample the last TICK_MS of requests; at a whole minute, evaluate the alarms. */
  tick(tickMs: number): void {
    const w = this.w;
    if (this.anyErrors()) this.sample(tickMs);
    if (w.now % MINUTE === 0 && w.state.alarms) this.evaluateAll();
  }

  /** Cheap guard: only images or versions that err under traffic produce datapoints. */
  private anyErrors(): boolean {
    for (const b of Object.values(this.w.state.images)) if (b.errorsAfterSeconds !== undefined) return true;
    return false;
  }

  /** Errors per second an instance answers now, given the requests per second it receives. */
  private errorShare(inst: InstanceRec | undefined): number {
    if (!inst || inst.errorsAt === undefined || this.w.now < inst.errorsAt) return 0;
    const t = this.w.now;
    if (inst.ec2State !== 'running' || t < inst.appUpAt || inst.appUpAt >= NEVER) return 0;
    return inst.errorRate ?? 1;
  }

  /** [CW-4] Adds the errors of the tick just ended (time now − tickMs .. now) to each metric's minute. */
  private sample(tickMs: number): void {
    const w = this.w;
    const seconds = tickMs / 1000;
    const rps = w.faults.requestsPerSecond ?? 10;
    const minute = Math.floor((w.now - tickMs) / MINUTE) * MINUTE;
    const add = (key: string, errors: number) => {
      if (errors <= 0) return;
      const series = ((w.state.metrics ??= {})[key] ??= {});
      series[minute] = (series[minute] ?? 0) + errors;
    };
    // Classic ELBs: InService (not draining) registrations share the load balancer's requests.
    for (const elb of Object.values(w.state.elbs)) {
      const serving = Object.values(elb.registrations).filter((r) => r.drainingUntil === undefined && w.elb.elbView(elb, w.state.instances[r.instanceId], r).state === 'InService');
      if (serving.length === 0) continue;
      const errors = serving.reduce((n, r) => n + this.errorShare(w.state.instances[r.instanceId]), 0) * ((rps * seconds) / serving.length);
      add(metricKey(CLASSIC_5XX.namespace, CLASSIC_5XX.metricName, [{ Name: 'LoadBalancerName', Value: elb.name }]), errors);
    }
    // ALBs: each forward gets an equal part of its load balancer's requests, split by weight.
    const s = w.state.elbv2;
    if (!s) return;
    for (const lb of Object.values(s.loadBalancers)) {
      if (lb.type !== 'application') continue;
      const listeners = Object.values(s.listeners).filter((l) => l.loadBalancerArn === lb.arn);
      const forwards = [...listeners.map((l) => l.defaultActions), ...Object.values(s.rules).filter((r) => listeners.some((l) => l.arn === r.listenerArn)).map((r) => r.actions)]
        .map((actions) => actions.find((a: any) => a?.Type === 'forward'))
        .filter(Boolean);
      if (forwards.length === 0) continue;
      const lbDim = loadBalancerDimension(lb.arn);
      let lbErrors = 0;
      const byTg = new Map<string, number>();
      for (const fwd of forwards) {
        const tuples: Array<{ TargetGroupArn: string; Weight?: number }> = fwd.ForwardConfig?.TargetGroups ?? (fwd.TargetGroupArn ? [{ TargetGroupArn: fwd.TargetGroupArn, Weight: 1 }] : []);
        const total = tuples.reduce((n, t) => n + (t.Weight ?? 1), 0);
        if (total <= 0) continue;
        for (const t of tuples) {
          const tg = s.targetGroups[t.TargetGroupArn];
          const weight = t.Weight ?? 1;
          if (!tg || weight <= 0) continue;
          const ids = Object.keys(tg.targets).filter((id) => w.elbv2.isServing(tg, id));
          if (ids.length === 0) continue; // fail-open and the load balancer's own 5xx: not modelled
          const requests = (rps * seconds * weight) / total / forwards.length;
          const errors = ids.reduce((n, id) => n + this.errorShare(w.state.instances[id]), 0) * (requests / ids.length);
          lbErrors += errors;
          byTg.set(tg.arn, (byTg.get(tg.arn) ?? 0) + errors);
        }
      }
      add(metricKey(ALB_5XX.namespace, ALB_5XX.metricName, [{ Name: 'LoadBalancer', Value: lbDim }]), lbErrors);
      for (const [arn, errors] of byTg) {
        add(metricKey(ALB_5XX.namespace, ALB_5XX.metricName, [{ Name: 'LoadBalancer', Value: lbDim }, { Name: 'TargetGroup', Value: targetGroupDimension(arn) }]), errors);
      }
    }
  }

  /**
   * The datapoint of one metric over [from, to): the minutes whose start falls in it, by the
   * statistic; undefined when none has a value (missing) [CW-4, CW-5]. Each error is one sample of
   * value 1: Sum and SampleCount count them, Average, Minimum and Maximum are 1.
   */
  datapoint(key: string, statistic: string, from: number, to: number): number | undefined {
    const series = this.w.state.metrics?.[key];
    if (!series) return undefined;
    let sum = 0;
    let any = false;
    for (let m = Math.ceil(from / MINUTE) * MINUTE; m < to; m += MINUTE) {
      const v = series[m];
      if (v !== undefined && v > 0) {
        sum += v;
        any = true;
      }
    }
    if (!any) return undefined;
    return statistic === 'Sum' || statistic === 'SampleCount' ? sum : 1;
  }

  /** [CW-6] Every metric alarm once a minute; [CW-7] the state and its timestamp move on a change. */
  evaluateAll(): void {
    const w = this.w;
    const now = w.now;
    for (const a of Object.values(alarms(w))) if (a.metric) this.evaluate(a, now);
    const series = w.state.metrics;
    if (series && now % (60 * MINUTE) === 0) {
      for (const [key, points] of Object.entries(series)) {
        for (const m of Object.keys(points)) if (Number(m) < now - KEEP_MS) delete points[m];
        if (Object.keys(points).length === 0) delete series[key];
      }
    }
  }

  private evaluate(a: AlarmRec, now: number): void {
    const m = a.metric!;
    const period = m.period * 1000;
    // [CW-5] The evaluation range: N + 2 sliding periods ending now, oldest first.
    const range: Array<number | undefined> = [];
    for (let i = m.evaluationPeriods + 1; i >= 0; i--) range.push(this.datapoint(m.key, m.statistic, now - (i + 1) * period, now - i * period));
    const e = evaluateAlarm(range, m, a.state);
    if (e.state !== a.state) {
      a.updatedAt = now;
      a.state = e.state;
      a.reason = e.reason;
    } else if (!a.reason) {
      a.reason = e.reason;
    }
  }
}
