/**
 * `npm run bench`: each scenario rolled out by our engine and, side by side on an identical
 * simulated fleet (same seed), by the 30-s baseline that re-implements the seed tools
 * (./baseline.ts). Per scenario: simulated duration, the physical limit (./limit.ts), their
 * ratio, and AWS API calls per replaced instance. Then the engine's own cost on a 1,000-instance
 * group, measured in a child process so its memory high-water is the engine's and the
 * simulation's alone: real ms per pure decision and peak RSS/heap while simulating the whole
 * ~3-hour rollout; then the same rollout with the simulated AWS in a process of its own
 * (./engine-memory.ts, ./sim-server.ts), whose peak is the engine's alone and is the judged one
 * when it reproduced the in-process rollout exactly. Writes docs/benchmarks.md and prints it.
 *
 * Then a stack of 6 independent services deployed with --parallel 1 and --parallel 6
 * (./parallel-bench.ts, issue 13).
 *
 * Each scenario's engine run is recorded as `--report` records a command: its HTML report goes
 * to `--reports DIR` (default .asg-deploy/bench-reports), its timeline image to docs/img/ (beside
 * `--out`), shown under "Timelines" in docs/benchmarks.md (./bench-timelines.ts).
 *
 * Then the scenarios under variance and the fault matrix (issue 21: ./variance.ts,
 * ./fault-matrix.ts, printed by ./variance-report.ts; about 2–4 min of real time together).
 *
 * Then a group with a warm pool (issue 15: ./warm-bench.ts), engine and baseline over the variance seeds.
 *
 * Options: `--out FILE` (default docs/benchmarks.md), `--no-write`, `--skip-cost`,
 * `--skip-startup`, `--skip-parallel`, `--skip-variance`, `--skip-faults`, `--skip-warm`; `--parallel-only` prints the parallel bench's section alone
 * (writes nothing).
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import * as yaml from 'js-yaml';
import { writeSandboxFile } from '../commands/aws-session';
import { createAwsPort } from '../aws/adapter';
import type { AwsPort, GroupSnapshot, InstanceView } from '../aws/port';
import { silentReporter } from '../report/reporter';
import { abDeploy } from '../rollout/ab/runner';
import type { RolloutResult } from '../rollout/result';
import { planHolds, type HoldOptions } from '../rollout/rolling/holds';
import { rollGroup } from '../rollout/rolling/runner';
import { ROLLOUT_PROCESSES, baseVerdict, decideRolling, type RollingView, type Verdict } from '../rollout/rolling/strategy';
import { decideSwap } from '../rollout/ab/strategy';
import { Sandbox } from '../sandbox';
import { baselineAb, baselineRolling } from './baseline';
import { benchmarkMarkdown, machineInfo, missedTargets, costMissed, parallelMarkdown, parallelMissed, startupMissed, type BenchScenarioResult, type ParallelBench, type EngineCost, type RunMeasure, type StartupCost } from './bench-report';
import { scenarioReport, timelinesMarkdown, type BenchReportDirs } from './bench-timelines';
import { physicalLimit } from './limit';
import { runParallelBench } from './parallel-bench';
import { FAULT_SCENARIO, FAULT_SEEDS, runFaultMatrix } from './fault-matrix';
import { VARIANCE_SCENARIOS, runVarianceRow } from './variance';
import { faultMarkdown, faultMissed, varianceMarkdown, varianceMissed, type VarianceRowResult } from './variance-report';
import { runWarmRow, warmMarkdown, warmMissed } from './warm-bench';

const SEED = 20260101;
const BOOT = 90;
const ELB = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 };

interface RollingBench {
  kind: 'rolling';
  name: string;
  size: number;
  batch: number;
  drain: number;
  baseline: boolean;
  /** Canary, checkpoints and bake (issue 16; rollout/rolling/holds.ts): the limit includes their waits. */
  holds?: HoldOptions;
}
interface AbBench {
  kind: 'ab';
  name: string;
  size: number;
  drain: number;
}
/** Rolling on an ALB target group (issue 14): healthy = `healthy` in the target group; `drain` is its deregistration delay. */
interface TgRollingBench {
  kind: 'rolling-tg';
  name: string;
  size: number;
  batch: number;
  drain: number;
}
/** A/B on an ALB (issue 14): each color's target group in the listener's weighted forward; the swap shifts the weights in `steps`, holding `stepWait` s at each. */
interface AlbAbBench {
  kind: 'ab-alb';
  name: string;
  size: number;
  /** The target groups' deregistration delay, seconds. */
  drain: number;
  steps: number[];
  stepWait: number;
}
type Bench = RollingBench | AbBench | TgRollingBench | AlbAbBench;

/** The scenarios of issue 7. */
export const BENCHES: Bench[] = [
  { kind: 'rolling', name: '3-node quorum', size: 3, batch: 1, drain: 0, baseline: true },
  { kind: 'rolling', name: '100 instances, batch 10', size: 100, batch: 10, drain: 0, baseline: true },
  { kind: 'ab', name: 'A/B, 8 instances', size: 8, drain: 300 },
  { kind: 'ab', name: 'A/B, 100 instances', size: 100, drain: 300 },
  // Issue 14: the same shapes on ALB target groups.
  { kind: 'rolling-tg', name: '3-node quorum on a target group', size: 3, batch: 1, drain: 0 },
  { kind: 'ab-alb', name: 'A/B on an ALB, 8 instances, traffic steps 10/50/100', size: 8, drain: 300, steps: [10, 50, 100], stepWait: 60 },
  // Issue 16: the holds' waits are part of the limit (limit.ts: the points cut the batches).
  {
    kind: 'rolling',
    name: 'canary + checkpoints + bake, 10 instances, batch 2',
    size: 10,
    batch: 2,
    drain: 0,
    baseline: false,
    holds: { canary: 1, canaryWaitMs: 120_000, checkpoints: [50], checkpointWaitMs: 120_000, bakeMs: 300_000 },
  },
];

/** A fresh simulated fleet for a scenario; the same seed always builds the same fleet. */
function fleet(b: Bench): Sandbox {
  const sb = Sandbox.create({ seed: SEED, faults: { bootSeconds: BOOT, appStartSeconds: 0 } });
  const elb = (name: string) => ({ name, healthCheck: { target: 'HTTP:8080/health', ...ELB }, drainingTimeout: b.drain });
  // ALB target groups with the classic ELB's health check timing, so the rows compare.
  const tgs = (names: string[]) =>
    sb.seedTargetGroups({ name: 'bench', targetGroups: names.map((name, i) => ({ name, weight: i === 0 ? 100 : 0, healthCheck: ELB, deregistrationDelay: b.drain })) }).targetGroupArns;
  if (b.kind === 'rolling') {
    sb.seedGroup({ name: 'bench', capacity: b.size, max: b.size, healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: elb('bench-elb') });
    sb.newLaunchTemplateVersion('bench-lt', { ImageId: 'ami-0new0000000000000' });
  } else if (b.kind === 'rolling-tg') {
    const arns = tgs(['bench-tg']);
    sb.seedGroup({ name: 'bench', capacity: b.size, max: b.size, healthCheckType: 'ELB', healthCheckGracePeriod: 300, targetGroupARNs: [arns['bench-tg']] });
    sb.newLaunchTemplateVersion('bench-lt', { ImageId: 'ami-0new0000000000000' });
  } else if (b.kind === 'ab-alb') {
    const arns = tgs(['bench-a', 'bench-b']);
    sb.seedGroup({ name: 'bench-a', capacity: b.size, max: b.size, launchTemplateName: 'bench-lt', healthCheckType: 'ELB', healthCheckGracePeriod: 300, targetGroupARNs: [arns['bench-a']] });
    sb.seedGroup({ name: 'bench-b', capacity: 0, max: b.size, launchTemplateName: 'bench-lt', healthCheckType: 'ELB', healthCheckGracePeriod: 300, targetGroupARNs: [arns['bench-b']] });
    sb.newLaunchTemplateVersion('bench-lt', { ImageId: 'ami-0new0000000000000' });
  } else {
    sb.seedGroup({ name: 'bench-a', capacity: b.size, max: b.size, launchTemplateName: 'bench-lt', healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: elb('bench-a') });
    sb.seedGroup({ name: 'bench-b', capacity: 0, max: b.size, launchTemplateName: 'bench-lt', healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: elb('bench-b') });
    sb.newLaunchTemplateVersion('bench-lt', { ImageId: 'ami-0new0000000000000' });
  }
  return sb;
}

export interface Overshoot {
  /** Σ per batch: the tool raised desired → the ASG launched (AWS's activity loop). */
  launchLatency: number;
  /** Σ per batch: the batch's last instance healthy → the tool's next change. */
  detection: number;
  /** After the last batch acted on: time beyond the connection drain until the tool returned. */
  tail: number;
  batches: number;
}

/**
 * Where a rollout's time above the physical limit went, read from the sandbox's records: the
 * tool's calls (actor) and the monitor's instance timeline.
 */
export function overshoot(sb: Sandbox, actor: string, t0: number, t1: number, drainSeconds: number): Overshoot {
  const calls = sb.calls.filter((c) => c.actor === actor && !c.error && c.time >= t0);
  const desiredCalls = calls.filter((c) => c.operation === 'SetDesiredCapacity' || c.operation === 'UpdateAutoScalingGroup').map((c) => c.time);
  const mutating = calls.filter((c) => c.mutating).map((c) => c.time);
  const before = new Set<string>();
  const launchedAt = new Map<string, number>();
  const healthyAt = new Map<string, number>();
  for (const e of sb.monitor.timeline()) {
    if (e.time < t0) {
      before.add(e.instanceId);
      continue;
    }
    if (before.has(e.instanceId)) continue;
    if (!launchedAt.has(e.instanceId)) launchedAt.set(e.instanceId, e.time);
    if (e.healthy && !healthyAt.has(e.instanceId)) healthyAt.set(e.instanceId, e.time);
  }
  const batches = new Map<number, string[]>();
  for (const [id, t] of launchedAt) batches.set(t, [...(batches.get(t) ?? []), id]);
  let launchLatency = 0;
  let detection = 0;
  let lastActed = t0;
  for (const [t, ids] of [...batches].sort((a, b) => a[0] - b[0])) {
    const raised = Math.max(t0, ...desiredCalls.filter((c) => c <= t));
    launchLatency += t - raised;
    const healthy = Math.max(...ids.map((id) => healthyAt.get(id) ?? Infinity));
    if (!Number.isFinite(healthy)) continue;
    const next = mutating.find((c) => c >= healthy);
    if (next !== undefined) {
      detection += next - healthy;
      lastActed = Math.max(lastActed, next);
    }
  }
  return { launchLatency: launchLatency / 1000, detection: detection / 1000, tail: Math.max(0, (t1 - lastActed) / 1000 - drainSeconds), batches: batches.size };
}

function describeOvershoot(o: Overshoot): string {
  return `ASG launch latency ${o.launchLatency.toFixed(0)} s over ${o.batches} launch(es); healthy → next action ${o.detection.toFixed(1)} s; after the last action, beyond the drain: ${o.tail.toFixed(1)} s`;
}

async function measure(sb: Sandbox, port: AwsPort, run: () => Promise<RolloutResult>): Promise<RunMeasure> {
  const real = Date.now();
  const t0 = sb.clock.now();
  const c0 = port.apiCalls();
  try {
    const r = await run();
    return { seconds: (sb.clock.now() - t0) / 1000, apiCalls: port.apiCalls() - c0, replaced: r.replaced.length, realMs: Date.now() - real };
  } catch (err) {
    return { apiCalls: port.apiCalls() - c0, replaced: 0, error: err instanceof Error ? err.message : String(err), realMs: Date.now() - real };
  }
}

/** Runs one scenario with the engine and with the baseline, each on its own identical fleet. */
/** `reports`: also write the engine run's report and timeline image (./bench-timelines.ts). */
export async function runBench(b: Bench, reports?: BenchReportDirs): Promise<BenchScenarioResult> {
  const health = ELB.interval * ELB.healthyThreshold;
  if (b.kind === 'rolling-tg') {
    const limit = physicalLimit({ replace: b.size, batchSize: b.batch, bootSeconds: BOOT, healthCheck: ELB, drainSeconds: b.drain });
    const e = fleet(b);
    const rep = reports && scenarioReport(b.name, e.clock);
    const ePort = createAwsPort(rep?.clients(e.newClients('engine')) ?? e.newClients('engine'), e.clock);
    const t0 = e.clock.now();
    const engine = await measure(e, ePort, () => rollGroup({ port: ePort, clock: e.clock, reporter: rep?.recorder ?? silentReporter, asg: 'bench', surge: b.batch, batchSize: b.batch, lock: false }));
    const over = describeOvershoot(overshoot(e, 'engine', t0, e.clock.now(), b.drain));
    if (reports) rep?.write(reports, engine.error, BOOT + health);
    return {
      name: b.name,
      shape: `rolling, ${b.size} instances, batch ${b.batch} (surge ${b.batch}), boot ${BOOT} s, ALB target group checks ${ELB.interval} s × ${ELB.healthyThreshold}, deregistration delay ${b.drain} s`,
      batchSize: b.batch,
      limitSeconds: limit.total,
      limitFormula: `${limit.batches} × (${BOOT} + ${health}) + ${limit.drain}`,
      engine,
      baselineNote: 'the seed tools do not read target health; not run',
      overshoot: over,
    };
  }
  if (b.kind === 'ab-alb') {
    // Boot + the target health check, then one hold per step before the last, then the old color's deregistration delay.
    const holds = (b.steps.length - 1) * b.stepWait;
    const limit = physicalLimit({ replace: b.size, batchSize: b.size, bootSeconds: BOOT, healthCheck: ELB, drainSeconds: b.drain, holdSeconds: holds });
    const e = fleet(b);
    const rep = reports && scenarioReport(b.name, e.clock);
    const ePort = createAwsPort(rep?.clients(e.newClients('engine')) ?? e.newClients('engine'), e.clock);
    const t0 = e.clock.now();
    const engine = await measure(e, ePort, () =>
      abDeploy({ port: ePort, clock: e.clock, reporter: rep?.recorder ?? silentReporter, environment: 'bench', instanceCountMatch: true, lockBucket: 'bench-locks', trafficSteps: b.steps, stepWait: b.stepWait }),
    );
    const over = describeOvershoot(overshoot(e, 'engine', t0, e.clock.now(), b.drain + holds));
    if (reports) rep?.write(reports, engine.error, BOOT + health);
    return {
      name: b.name,
      shape: `A/B, ${b.size} instances (one step), boot ${BOOT} s, ALB target group checks ${ELB.interval} s × ${ELB.healthyThreshold}, traffic ${b.steps.join(' → ')} % holding ${b.stepWait} s at each, deregistration delay ${b.drain} s`,
      batchSize: b.size,
      limitSeconds: limit.total,
      limitFormula: `1 × (${BOOT} + ${health}) + ${b.steps.length - 1} × ${b.stepWait} + ${limit.drain}`,
      engine,
      baselineNote: 'the seed tools cannot shift ALB weights; not run',
      overshoot: over,
    };
  }
  if (b.kind === 'rolling') {
    const holds = b.holds ? planHolds(b.holds, b.size) : undefined;
    const limit = physicalLimit({ replace: b.size, batchSize: b.batch, bootSeconds: BOOT, healthCheck: ELB, drainSeconds: b.drain, ...(holds ? { holds } : {}) });
    const e = fleet(b);
    const rep = reports && scenarioReport(b.name, e.clock);
    const ePort = createAwsPort(rep?.clients(e.newClients('engine')) ?? e.newClients('engine'), e.clock);
    const t0 = e.clock.now();
    const engine = await measure(e, ePort, () => rollGroup({ port: ePort, clock: e.clock, reporter: rep?.recorder ?? silentReporter, asg: 'bench', surge: b.batch, batchSize: b.batch, lock: false /* the benchmark measures the rollout's own calls and time against the physical limit */, ...(b.holds ? { holds: b.holds } : {}) }));
    const over = describeOvershoot(overshoot(e, 'engine', t0, e.clock.now(), b.drain));
    if (reports) rep?.write(reports, engine.error, BOOT + health);
    let baseline: RunMeasure | undefined;
    if (b.baseline) {
      const s = fleet(b);
      const sPort = createAwsPort(s.newClients('baseline'), s.clock);
      baseline = await measure(s, sPort, () => baselineRolling({ port: sPort, clock: s.clock, group: 'bench' }));
    }
    return {
      name: b.name,
      shape: `rolling, ${b.size} instances, batch ${b.batch} (surge ${b.batch}), boot ${BOOT} s, ELB ${ELB.interval} s × ${ELB.healthyThreshold}${b.drain ? `, draining ${b.drain} s` : ', no draining'}${holds ? `; ${holdsText(b.holds!)}` : ''}${b.baseline ? '; baseline: the seed, one at a time without surge' : ''}`,
      batchSize: b.batch,
      limitSeconds: limit.total,
      limitFormula: holds ? `${limit.batches} × (${BOOT} + ${health}) + ${limit.waits} (canary and checkpoint waits) + max(${limit.drain}, ${limit.bake} bake)` : `${limit.batches} × (${BOOT} + ${health}) + ${limit.drain}`,
      engine,
      baseline,
      overshoot: over,
    };
  }
  const limit = physicalLimit({ replace: b.size, batchSize: b.size, bootSeconds: BOOT, healthCheck: ELB, drainSeconds: b.drain });
  const e = fleet(b);
  const rep = reports && scenarioReport(b.name, e.clock);
  const ePort = createAwsPort(rep?.clients(e.newClients('engine')) ?? e.newClients('engine'), e.clock);
  const t0 = e.clock.now();
  const engine = await measure(e, ePort, () => abDeploy({ port: ePort, clock: e.clock, reporter: rep?.recorder ?? silentReporter, environment: 'bench', instanceCountMatch: true, lockBucket: 'bench-locks' }));
  const over = describeOvershoot(overshoot(e, 'engine', t0, e.clock.now(), b.drain));
  if (reports) rep?.write(reports, engine.error, BOOT + health);
  const s = fleet(b);
  const sPort = createAwsPort(s.newClients('baseline'), s.clock);
  const baseline = await measure(s, sPort, () => baselineAb({ port: sPort, clock: s.clock, groups: ['bench-a', 'bench-b'], instanceCount: b.size }));
  return {
    name: b.name,
    shape: `A/B, ${b.size} instances (one step), boot ${BOOT} s, ELB ${ELB.interval} s × ${ELB.healthyThreshold}, connection draining ${b.drain} s`,
    batchSize: b.size,
    limitSeconds: limit.total,
    limitFormula: `1 × (${BOOT} + ${health}) + ${limit.drain}`,
    engine,
    baseline,
    overshoot: over,
  };
}

/** "canary 1 (wait 120 s), checkpoints 50 % (wait 120 s), bake 300 s" */
function holdsText(h: HoldOptions): string {
  const parts: string[] = [];
  if (h.canary) parts.push(`canary ${h.canary} (wait ${Math.round((h.canaryWaitMs ?? 0) / 1000)} s)`);
  if (h.checkpoints?.length) parts.push(`checkpoints ${h.checkpoints.map((p) => `${p} %`).join(', ')} (wait ${Math.round((h.checkpointWaitMs ?? 0) / 1000)} s)`);
  if (h.bakeMs) parts.push(`bake ${Math.round(h.bakeMs / 1000)} s`);
  return parts.join(', ');
}

// ------------------------------------------------------------------ the engine's own cost

const COST_SIZE = 1000;
const COST_BATCH = 10;

/** A port that keeps a copy of every n-th snapshot it observed (the decide benchmark's inputs). */
function capturing(port: AwsPort, every: number, into: GroupSnapshot[]): AwsPort {
  let n = 0;
  return new Proxy(port, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (prop !== 'observeGroup') return typeof v === 'function' ? v.bind(target) : v;
      return async (...args: Parameters<AwsPort['observeGroup']>) => {
        const s = await target.observeGroup(...args);
        if (n++ % every === 0) into.push(s);
        return s;
      };
    },
  });
}

/** Real ms of one pure `decideRolling` on each snapshot (after a warm-up), mean and worst. */
export function timeDecisions(snapshots: GroupSnapshot[], repeat: number): { mean: number; worstSnapshotMean: number; p99: number; max: number; count: number } {
  const times: number[] = [];
  let worstSnapshotMean = 0;
  for (const s of snapshots) {
    const elbs = s.loadBalancerNames;
    const verdicts = new Map<string, Verdict>(s.instances.map((i: InstanceView) => [i.instanceId, baseVerdict(i, elbs)]));
    const firstSeen: Record<string, number> = {};
    for (const i of s.instances) firstSeen[i.instanceId] = i.launchTime ?? s.observedAt;
    const view: RollingView = {
      group: s,
      config: { capacity: COST_SIZE, surge: COST_BATCH, batch: COST_BATCH, minHealthy: COST_SIZE, stepTimeoutMs: 20 * 60_000, maxReplacements: 2, processes: ROLLOUT_PROCESSES },
      verdict: (i) => verdicts.get(i.instanceId) ?? { healthy: false },
      memory: { firstSeen, terminated: [], lost: [] },
      now: s.observedAt,
    };
    for (let k = 0; k < 5; k++) decideRolling(view); // warm-up (JIT)
    let sum = 0;
    for (let k = 0; k < repeat; k++) {
      const t = process.hrtime.bigint();
      decideRolling(view);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      times.push(ms);
      sum += ms;
    }
    worstSnapshotMean = Math.max(worstSnapshotMean, sum / repeat);
  }
  const sorted = [...times].sort((a, b) => a - b);
  const pct = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  return { mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length), worstSnapshotMean, p99: pct(99), max: sorted[sorted.length - 1] ?? 0, count: times.length };
}

/** Real ms of one pure A/B `decideSwap` on each (old color, new color) snapshot pair. */
export function timeAbDecisions(pairs: Array<{ from: GroupSnapshot; to: GroupSnapshot }>, repeat: number): ReturnType<typeof timeDecisions> {
  const times: number[] = [];
  let worstSnapshotMean = 0;
  for (const { from, to } of pairs) {
    const plan = { count: COST_SIZE, step: COST_SIZE, elbNames: to.loadBalancerNames, targetMin: 0, suspend: ROLLOUT_PROCESSES };
    const progress = { stepStartedAt: to.observedAt, healthCheckTimeoutMs: 600_000 };
    for (let k = 0; k < 5; k++) decideSwap({ from, to }, plan, progress, to.observedAt);
    let sum = 0;
    for (let k = 0; k < repeat; k++) {
      const t = process.hrtime.bigint();
      decideSwap({ from, to }, plan, progress, to.observedAt);
      const ms = Number(process.hrtime.bigint() - t) / 1e6;
      times.push(ms);
      sum += ms;
    }
    worstSnapshotMean = Math.max(worstSnapshotMean, sum / repeat);
  }
  const sorted = [...times].sort((a, b) => a - b);
  return {
    mean: times.reduce((a, b) => a + b, 0) / Math.max(1, times.length),
    worstSnapshotMean,
    p99: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))] ?? 0,
    max: sorted[sorted.length - 1] ?? 0,
    count: times.length,
  };
}

/** A/B of 1,000 (`size`) instances: the decision cost on snapshot pairs captured during a real swap. */
export async function abCost(size = COST_SIZE): Promise<NonNullable<EngineCost['ab']>> {
  const sb = Sandbox.create({ seed: SEED, faults: { bootSeconds: BOOT, appStartSeconds: 0 } });
  const elb = (name: string) => ({ name, healthCheck: { target: 'HTTP:8080/health', ...ELB }, drainingTimeout: 300 });
  sb.seedGroup({ name: 'big-a', capacity: size, max: size, launchTemplateName: 'big-ab-lt', healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: elb('big-a') });
  sb.seedGroup({ name: 'big-b', capacity: 0, max: size, launchTemplateName: 'big-ab-lt', healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: elb('big-b') });
  sb.newLaunchTemplateVersion('big-ab-lt', { ImageId: 'ami-0new0000000000000' });
  const snapshots: GroupSnapshot[] = [];
  const port = capturing(createAwsPort(sb.newClients('engine'), sb.clock), 1, snapshots);
  const real = Date.now();
  const t0 = sb.clock.now();
  let ok = true;
  let apiCalls: number | undefined;
  try {
    // lock: false, as the rolling cost: the engine's own memory and calls (and what
    // engine-memory.ts reproduces with the simulated AWS in another process).
    apiCalls = (await abDeploy({ port, clock: sb.clock, reporter: silentReporter, environment: 'big', instanceCountMatch: true, lock: false })).apiCalls;
  } catch {
    ok = false;
  }
  const simulationRealSeconds = (Date.now() - real) / 1000;
  const pairs: Array<{ from: GroupSnapshot; to: GroupSnapshot }> = [];
  let lastA: GroupSnapshot | undefined;
  for (const s of snapshots) {
    if (s.name === 'big-a') lastA = s;
    else if (s.name === 'big-b' && lastA) pairs.push({ from: lastA, to: s });
  }
  const step = Math.max(1, Math.floor(pairs.length / 10));
  const d = timeAbDecisions(pairs.filter((_, i) => i % step === 0).slice(0, 10), 40);
  return {
    decideMeanMs: d.mean,
    decideWorstSnapshotMs: d.worstSnapshotMean,
    decideP99Ms: d.p99,
    decideMaxMs: d.max,
    decisions: d.count,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
    simulationRealSeconds,
    simulatedSeconds: ok ? (sb.clock.now() - t0) / 1000 : undefined,
    apiCalls,
  };
}

/** In the child process: simulate the 1,000-instance rollout, sample memory, time decisions. */
type CostChild = EngineCost & { limitSeconds: number; apiCalls: number; replaced: number; error?: string; overshoot?: string };

async function engineCost(): Promise<CostChild> {
  let peakHeap = process.memoryUsage().heapUsed;
  const sb = Sandbox.create({ seed: SEED, faults: { bootSeconds: BOOT, appStartSeconds: 0 } });
  let ticks = 0;
  sb.clock.onAdvance(() => {
    if (++ticks % 50 === 0) peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  });
  sb.seedGroup({ name: 'big', capacity: COST_SIZE, max: COST_SIZE, healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: { name: 'big-elb', healthCheck: { target: 'HTTP:8080/health', ...ELB }, drainingTimeout: 0 } });
  sb.newLaunchTemplateVersion('big-lt', { ImageId: 'ami-0new0000000000000' });
  const rssBeforeMb = process.memoryUsage().rss / 1024 / 1024;
  const snapshots: GroupSnapshot[] = [];
  const port = capturing(createAwsPort(sb.newClients('engine'), sb.clock), 40, snapshots);
  const real = Date.now();
  const t0 = sb.clock.now();
  let result: RolloutResult | undefined;
  let error: string | undefined;
  try {
    result = await rollGroup({ port, clock: sb.clock, reporter: silentReporter, asg: 'big', surge: COST_BATCH, batchSize: COST_BATCH, lock: false /* measures the engine's own memory and calls */ });
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const simulationRealSeconds = (Date.now() - real) / 1000;
  const over = describeOvershoot(overshoot(sb, 'engine', t0, sb.clock.now(), 0));
  peakHeap = Math.max(peakHeap, process.memoryUsage().heapUsed);
  const decisions = timeDecisions(snapshots.slice(0, 25), 40);
  const limit = physicalLimit({ replace: COST_SIZE, batchSize: COST_BATCH, bootSeconds: BOOT, healthCheck: ELB, drainSeconds: 0 });
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  const finalHeap = peakHeap;
  // What is really live (simulated AWS + engine state) once garbage is collected, read after the peak.
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  const liveHeapAfterMb = gc ? process.memoryUsage().heapUsed / 1024 / 1024 : undefined;
  void result?.replaced.length; // keep the result (and the sandbox) alive until here
  void sb.world;
  return {
    liveHeapAfterMb,
    instances: COST_SIZE,
    decideMeanMs: decisions.mean,
    decideWorstSnapshotMs: decisions.worstSnapshotMean,
    decideP99Ms: decisions.p99,
    decideMaxMs: decisions.max,
    rssBeforeMb,
    decisions: decisions.count,
    peakRssMb,
    peakHeapMb: finalHeap / 1024 / 1024,
    simulationRealSeconds,
    simulatedSeconds: result ? (sb.clock.now() - t0) / 1000 : undefined,
    limitSeconds: limit.total,
    apiCalls: result?.apiCalls ?? 0,
    replaced: result?.replaced.length ?? 0,
    error,
    overshoot: over,
  };
}

/** Runs of the engine-memory probe per measurement: its figure is their median (issue 12: "median of several runs"). */
export const ENGINE_MEMORY_RUNS = 5;

/**
 * The same 1,000-instance rollout (or, `ab`, the 1,000 → 1,000 A/B swap) with the simulated AWS in
 * another process (./engine-memory.ts), so the peak is the engine's process alone, run
 * {@link ENGINE_MEMORY_RUNS} times: the run of median peak RSS is reported, with every run's peak
 * (`runsMb`). Judged only when every run reproduced the in-process run exactly (same simulated
 * seconds, same API calls); undefined when a child failed.
 */
function engineAlone(inProcess: { simulatedSeconds?: number; apiCalls?: number }, wire: 'decoded' | 'xml' = 'decoded', scenario: 'rolling' | 'ab' = 'rolling'): EngineCost['engineAlone'] {
  type Probe = { peakRssMb: number; rssBeforeMb: number; simulatedSeconds?: number; apiCalls?: number; newSpaceMb?: number; oldSpaceMb?: number; newSpaceBeforeMb?: number; error?: string };
  const runs: Probe[] = [];
  for (let n = 0; n < ENGINE_MEMORY_RUNS; n++) {
    // Compiled, as the CLI runs (npm run bench builds dist/ first); one at a time (the peaks are each process's own).
    const r = spawnSync(process.execPath, [join(ROOT, 'dist', 'orchestrator', 'proof', 'engine-memory.js'), String(COST_SIZE), String(COST_BATCH), wire, scenario], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 900_000 });
    try {
      runs.push(JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as Probe);
    } catch {
      return undefined;
    }
  }
  const sorted = [...runs].sort((a, b) => a.peakRssMb - b.peakRssMb);
  const e = sorted[Math.floor((sorted.length - 1) / 2)];
  const matches = runs.every((x) => x.error === undefined && x.simulatedSeconds !== undefined && x.simulatedSeconds === inProcess.simulatedSeconds && x.apiCalls === inProcess.apiCalls);
  return { peakRssMb: e.peakRssMb, rssBeforeMb: e.rssBeforeMb, simulatedSeconds: e.simulatedSeconds, apiCalls: e.apiCalls, newSpaceMb: e.newSpaceMb, oldSpaceMb: e.oldSpaceMb, newSpaceBeforeMb: e.newSpaceBeforeMb, matches, runsMb: runs.map((x) => x.peakRssMb) };
}

/**
 * Peak RSS (MB) of three bare processes: node; node with tsx; node with tsx and the four AWS SDK
 * clients the tool loads. Undefined when one fails (the note is then left out, nothing guessed).
 */
function footprint(): EngineCost['footprint'] {
  // VmHWM, this process's own high-water: getrusage's maxRSS can carry the spawning bench's over exec.
  const peak = "{ let kb = process.resourceUsage().maxRSS; try { kb = Number(/VmHWM:\\s*(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]); } catch {} process.stdout.write(String(kb / 1024)); }";
  const sdk = "for (const m of ['@aws-sdk/client-auto-scaling', '@aws-sdk/client-ec2', '@aws-sdk/client-elastic-load-balancing', '@aws-sdk/client-s3']) require(m);";
  const run = (args: string[]): number => {
    const r = spawnSync(process.execPath, args, { encoding: 'utf8', cwd: join(__dirname, '..', '..'), timeout: 60_000 });
    const n = Number(r.stdout.trim());
    if (r.status !== 0 || !Number.isFinite(n) || n <= 0) throw new Error(`footprint: ${args.join(' ')} failed`);
    return n;
  };
  try {
    return { nodeMb: run(['-e', peak]), tsxMb: run(['--import', 'tsx', '-e', peak]), sdkMb: run(['--import', 'tsx', '-e', sdk + peak]) };
  } catch {
    return undefined;
  }
}

const ROOT = join(__dirname, '..', '..');
const STARTUP_RUNS = 7;

/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Startup: bare `node -e 0`, `asg-deploy --help`, `asg-deploy status` of a 3-instance sandbox
 * group, and the compiled Pulumi program under mocks (loaded and run until every resource is registered), each run STARTUP_RUNS times, interleaved
 * round by round. Wall time from spawn to exit; peak RSS from a preload that prints the
 * process's VmHWM at exit (loaded into bare node too). Undefined when one fails.
 */
function startup(): StartupCost | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'asg-bench-startup-'));
  try {
    const preload = join(dir, 'rss.cjs');
    // VmHWM: this process's own high-water (getrusage's maxRSS can carry the spawning parent's over exec).
    writeFileSync(
      preload,
      "process.on('exit', () => { const fs = require('node:fs'); let kb = process.resourceUsage().maxRSS; try { kb = Number(/VmHWM:\\s*(\\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1]); } catch {} fs.writeSync(2, '\\nASG_BENCH_RSS ' + kb + '\\n'); });\n",
    );
    const state = join(dir, 'sandbox-state.json');
    const sb = Sandbox.create({ seed: SEED });
    sb.seedGroup({ name: 'web', capacity: 3, elb: { name: 'web' } });
    writeSandboxFile(state, sb, {});
    sb.dispose();
    // The program with the demo stack's config, handed over as the language host does (PULUMI_CONFIG).
    const demo = yaml.load(readFileSync(join(ROOT, 'examples', 'demo', 'Pulumi.demo.yaml'), 'utf8')) as { config: Record<string, unknown> };
    const config = Object.fromEntries(Object.entries(demo.config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
    const program = join(dir, 'program.cjs');
    writeFileSync(
      program,
      [
        `const pulumi = require(${JSON.stringify(require.resolve('@pulumi/pulumi'))});`,
        "pulumi.runtime.setMocks({ newResource: (a) => ({ id: a.name + '-id', state: a.inputs }), call: (a) => (a.token.endsWith('getAvailabilityZones') ? { names: ['us-east-1a', 'us-east-1b', 'us-east-1c'] } : { name: 'us-east-1' }) }, 'asg-deploy', 'bench', false);",
        // Evaluated to the end: the process exits once every resource is registered with the mocks.
        `require(${JSON.stringify(join(ROOT, 'dist', 'infra'))});`,
      ].join('\n'),
    );
    const bin = join(ROOT, 'bin', 'asg-deploy.js');
    const env = { ...process.env, PULUMI_CONFIG: JSON.stringify(config), CI: 'true' };
    const one = (args: string[]): { ms: number; rssMb: number } => {
      const t0 = process.hrtime.bigint();
      const r = spawnSync(process.execPath, ['--require', preload, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const rss = /ASG_BENCH_RSS (\d+)/.exec(r.stderr ?? '');
      if (r.status !== 0 || !rss) throw new Error(`startup: node ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr ?? '').slice(-500)}`);
      return { ms, rssMb: Number(rss[1]) / 1024 };
    };
    const runs: Record<'bare' | 'help' | 'status' | 'program', Array<{ ms: number; rssMb: number }>> = { bare: [], help: [], status: [], program: [] };
    for (let i = 0; i < STARTUP_RUNS; i++) {
      runs.bare.push(one(['-e', '0']));
      runs.help.push(one([bin, '--help']));
      runs.status.push(one([bin, 'status', '--sandbox', '--sandbox-state', state, '--asg', 'web']));
      runs.program.push(one([program]));
    }
    const med = (xs: Array<{ ms: number; rssMb: number }>) => ({ ms: median(xs.map((x) => x.ms)), rssMb: median(xs.map((x) => x.rssMb)) });
    return { runs: STARTUP_RUNS, bare: med(runs.bare), help: med(runs.help), status: med(runs.status), program: med(runs.program) };
  } catch (err) {
    process.stderr.write(`bench: ${(err as Error).message}\n`);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function gitCommit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
}

async function main(argv: string[]): Promise<number> {
  if (argv.includes('--engine-cost-child')) {
    process.stdout.write(JSON.stringify(argv.includes('ab') ? await abCost() : await engineCost()) + '\n');
    return 0;
  }
  const out = argv.includes('--out') ? argv[argv.indexOf('--out') + 1] : join(__dirname, '..', '..', 'docs', 'benchmarks.md');
  if (argv.includes('--startup-only')) {
    const s = startup();
    if (!s) return 1;
    process.stdout.write(JSON.stringify(s) + '\n');
    return 0;
  }
  if (argv.includes('--parallel-only')) {
    const p = await runParallelBench();
    process.stdout.write(parallelMarkdown(p) + '\n');
    return parallelMissed(p).length ? 1 : 0;
  }
  process.stderr.write('bench: startup (--help, status, the Pulumi program, beside bare node)…\n');
  const startupCost = argv.includes('--skip-startup') ? undefined : startup();
  const scenarios: BenchScenarioResult[] = [];
  // Each scenario's report (--reports DIR, default .asg-deploy/bench-reports) and timeline image (docs/img beside --out).
  const reportDirs: BenchReportDirs = { reports: argv.includes('--reports') ? argv[argv.indexOf('--reports') + 1] : join(__dirname, '..', '..', '.asg-deploy', 'bench-reports'), images: join(dirname(out), 'img'), drawn: [] };
  for (const b of BENCHES) {
    process.stderr.write(`bench: ${b.name}…\n`);
    scenarios.push(await runBench(b, reportDirs));
  }

  let cost: EngineCost | undefined;
  let costError: string | undefined;
  if (!argv.includes('--skip-cost')) {
    process.stderr.write(`bench: engine cost on ${COST_SIZE} instances (child process)…\n`);
    const child = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', __filename, '--engine-cost-child'], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
    try {
      const c = JSON.parse(child.stdout.trim().split('\n').pop() ?? '') as CostChild;
      cost = c;
      // A/B in its own child process, so that neither memory high-water includes the other.
      const abChild = spawnSync(process.execPath, ['--import', 'tsx', __filename, '--engine-cost-child', 'ab'], { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024, timeout: 600_000 });
      try {
        cost.ab = JSON.parse(abChild.stdout.trim().split('\n').pop() ?? '') as EngineCost['ab'];
      } catch {
        cost.ab = undefined;
      }
      cost.footprint = footprint();
      cost.engineAlone = engineAlone(c);
      cost.engineAloneXml = engineAlone(c, 'xml');
      if (cost.ab) {
        cost.ab.engineAlone = engineAlone(cost.ab, 'decoded', 'ab');
        cost.ab.engineAloneXml = engineAlone(cost.ab, 'xml', 'ab');
      }
      // The 3-hour group is also a rollout scenario in its own right.
      scenarios.push({
        name: `${COST_SIZE.toLocaleString('en-US')} instances, batch ${COST_BATCH} (the ~3-hour rollout)`,
        shape: `rolling, ${COST_SIZE} instances, batch ${COST_BATCH} (surge ${COST_BATCH}), boot ${BOOT} s, ELB ${ELB.interval} s × ${ELB.healthyThreshold}, no draining; simulated in ${c.simulationRealSeconds.toFixed(1)} s of real time`,
        batchSize: COST_BATCH,
        limitSeconds: c.limitSeconds,
        limitFormula: `${COST_SIZE / COST_BATCH} × (${BOOT} + ${ELB.interval * ELB.healthyThreshold}) + 0`,
        engine: { seconds: c.error ? undefined : c.simulatedSeconds, apiCalls: c.apiCalls, replaced: c.replaced, error: c.error, realMs: c.simulationRealSeconds * 1000 },
        baselineNote: 'one at a time with 30-s polls it would take ~2 simulated days; not run',
        overshoot: c.overshoot,
      });
    } catch {
      costError = `child process failed (exit ${child.status}): ${(child.stderr ?? '').split('\n').filter((l) => !/Warning|node >=22|upgrade|a\.co|^\s*$|trace-warnings|versions published|To continue|security updates/.test(l)).slice(-5).join(' ')}`;
    }
  }

  let parallel: ParallelBench | undefined;
  if (!argv.includes('--skip-parallel')) {
    process.stderr.write('bench: 6 independent services, --parallel 1 beside --parallel 6…\n');
    parallel = await runParallelBench();
  }

  // Issue 21: under variance (engine, 30-s baseline, 1-s oracle on the 3-node rows), and the fault matrix.
  const issue21: string[] = [];
  const missed21: string[] = [];
  if (!argv.includes('--skip-variance')) {
    const t = Date.now();
    const rows: VarianceRowResult[] = [];
    for (const v of VARIANCE_SCENARIOS) {
      process.stderr.write(`bench: under variance: ${v.name}, ${v.bootLabel}…\n`);
      rows.push(await runVarianceRow(v, v.size <= 10 ? ['engine', 'baseline', 'oracle'] : ['engine', 'baseline']));
    }
    issue21.push(varianceMarkdown(rows, { seconds: (Date.now() - t) / 1000 }));
    missed21.push(...rows.flatMap((r) => varianceMissed(r).map((m) => `under variance, ${r.scenario.name}, ${r.scenario.bootLabel}: ${m}`)));
  }
  if (!argv.includes('--skip-faults')) {
    const t = Date.now();
    process.stderr.write('bench: fault matrix…\n');
    const results = await runFaultMatrix();
    issue21.push(faultMarkdown(results, { scenario: FAULT_SCENARIO, seeds: FAULT_SEEDS, seconds: (Date.now() - t) / 1000 }));
    missed21.push(...faultMissed(results).map((m) => `fault matrix: ${m}`));
  }

  // Issue 15: a group with a warm pool (./warm-bench.ts).
  if (!argv.includes('--skip-warm')) {
    const t = Date.now();
    process.stderr.write('bench: a group with a warm pool…\n');
    const warm = await runWarmRow();
    issue21.push(warmMarkdown(warm, { seconds: (Date.now() - t) / 1000 }));
    missed21.push(...warmMissed(warm).map((m) => `warm pool, ${warm.scenario.name}: ${m}`));
  }

  const commit = gitCommit();
  let md = benchmarkMarkdown({
    date: new Date().toISOString().replace(/\.\d+Z$/, 'Z') + (commit ? ` (commit ${commit})` : ''),
    machine: machineInfo(),
    command: 'npm run bench',
    scenarios,
    cost,
    costError,
    startup: startupCost,
    parallel,
  });
  const timelines = timelinesMarkdown(reportDirs.drawn ?? []);
  // Next to the scenario table: before the next section, else at the end.
  if (timelines) md = md.includes("\n## The engine's own cost") ? md.replace("\n## The engine's own cost", `\n${timelines}\n## The engine's own cost`) : `${md.replace(/\n*$/, '')}\n\n${timelines}`;
  if (issue21.length) md = md.includes("\n## The engine's own cost") ? md.replace("\n## The engine's own cost", `\n${issue21.join('\n')}\n## The engine's own cost`) : `${md.replace(/\n*$/, '')}\n\n${issue21.join('\n')}`;
  process.stdout.write(md);
  if (!argv.includes('--no-write')) {
    writeFileSync(out, md);
    process.stderr.write(`bench: wrote ${out}\n`);
  }
  const missed = scenarios.flatMap((s) => missedTargets(s).map((m) => `${s.name}: ${m}`)).concat(missed21).concat(cost ? costMissed(cost) : []).concat(startupCost ? startupMissed(startupCost) : []).concat(parallel ? parallelMissed(parallel) : []);
  if (missed.length) process.stderr.write(`bench: ${missed.length} target(s) MISSED:\n${missed.map((m) => `  - ${m}`).join('\n')}\n`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err) => {
      process.stderr.write(`bench: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
