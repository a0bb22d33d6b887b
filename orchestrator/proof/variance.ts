/**
 * Scenarios with variance (issue 21 items 1–2): boot times drawn from spreads, the classic ELB's
 * check phase drawn per registration, each scenario over SEEDS seeds. Every run's ratio is to its
 * own limit, computed from the boots and check phases the simulation drew for it (limit.ts
 * drawnLimit). Three tools per seed, each on a fresh identical fleet:
 *  - asg-deploy's engine (adaptive polling);
 *  - the 30-s baseline (the seed tools, one at a time; its poll phase against each boot is
 *    random because the boots are);
 *  - an "oracle": the same engine polling every second (it sees each change within 1 s, i.e.
 *    as if it knew every boot time), the brute-force check that the limit is a lower bound.
 *
 * To add a row: append a {@link VarianceScenario} to VARIANCE_SCENARIOS (name, fleet size,
 * batch, surge, drain, boot spread); the bench runs it over the seeds and the report prints it.
 */
import { createAwsPort } from '../aws/adapter';
import { silentReporter } from '../report/reporter';
import { rollGroup } from '../rollout/rolling/runner';
import { Sandbox } from '../sandbox';
import type { FaultConfig, Seconds } from '../sandbox/model';
import { DeployError } from '../errors';
import { baselineRolling } from './baseline';
import { drawnLimit, timeAboveLimit, type DrawnInterval, type TimeAbove } from './limit';
import type { VarianceCell, VarianceRowResult } from './variance-report';

export const VARIANCE_SEEDS = 10;
const ELB = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 };

export interface VarianceScenario {
  name: string;
  size: number;
  batch: number;
  /** 0: terminate first (the seed's 3-2-3). */
  surge: number;
  drain: number;
  boot: Seconds;
  bootLabel: string;
  /** Run the 30-s baseline (one at a time, no surge) too. */
  baseline: boolean;
}

export const UNIFORM: Seconds = { min: 60, max: 180 };
/** Long-tailed: log-normal, median 90 s, σ 0.5 (a tenth of boots above ~170 s), at least 45 s. */
export const LONG_TAIL: Seconds = { logMedian: 90, sigma: 0.5, min: 45 };

export const VARIANCE_SCENARIOS: VarianceScenario[] = [
  { name: '3-node quorum, batch 1 (surge 1)', size: 3, batch: 1, surge: 1, drain: 0, boot: UNIFORM, bootLabel: 'boot 60–180 s uniform', baseline: true },
  { name: '3-node quorum, batch 1 (surge 1)', size: 3, batch: 1, surge: 1, drain: 0, boot: LONG_TAIL, bootLabel: 'boot log-normal, median 90 s', baseline: true },
  { name: 'the seed\'s shape: 3-2-3 (surge 0), draining 300 s', size: 3, batch: 1, surge: 0, drain: 300, boot: UNIFORM, bootLabel: 'boot 60–180 s uniform', baseline: true },
  { name: '100 instances, batch 10 (surge 10)', size: 100, batch: 10, surge: 10, drain: 0, boot: UNIFORM, bootLabel: 'boot 60–180 s uniform', baseline: true },
];

export interface VarianceRun {
  /** Until the rollout was complete: the tool returned and every replaced instance had left the ELB (drained). */
  seconds?: number;
  /** Until the tool returned (the seed tools return while the last replaced instance still drains). */
  returnedSeconds?: number;
  limitSeconds: number;
  apiCalls: number;
  replaced: number;
  error?: string;
  /** The error's code (DeployError), else its name (an SDK error such as Throttling). */
  errorCode?: string;
  /** Where the time above the limit went (./variance.ts timeSpent), seconds. */
  spent?: TimeAbove;
}

export type VarianceTool = 'engine' | 'baseline' | 'oracle';

export function varianceFleet(s: Pick<VarianceScenario, 'size' | 'drain' | 'boot'>, seed: number, faults: Partial<FaultConfig> = {}): Sandbox {
  const sb = Sandbox.create({ seed, faults: { bootSeconds: s.boot, appStartSeconds: 0, elbCheckPhase: 'random', ...faults } });
  sb.seedGroup({ name: 'bench', capacity: s.size, max: s.size * 2, healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: { name: 'bench-elb', healthCheck: { target: 'HTTP:8080/health', ...ELB }, drainingTimeout: s.drain } });
  sb.newLaunchTemplateVersion('bench-lt', { ImageId: 'ami-0new0000000000000' });
  return sb;
}

/**
 * Launch → serving of every instance launched since t0 (the monitor's timeline); with `group`, of
 * that group's events only (an instance that joined from a warm pool counts from when it joined).
 */
export function drawnIntervals(sb: Sandbox, t0: number, group?: string): Array<DrawnInterval & { instanceId: string }> {
  const before = new Set<string>();
  const out = new Map<string, DrawnInterval & { instanceId: string }>();
  for (const e of sb.monitor.timeline()) {
    if (group !== undefined && e.group !== group) continue;
    if (e.time < t0) {
      before.add(e.instanceId);
      continue;
    }
    if (before.has(e.instanceId)) continue;
    let i = out.get(e.instanceId);
    if (!i) out.set(e.instanceId, (i = { instanceId: e.instanceId, launched: e.time }));
    if (e.healthy && i.healthy === undefined) i.healthy = e.time;
  }
  return [...out.values()];
}

/** When the last instance that served before t0 and was replaced left the ELB (deregistered, drained), ms. */
export function lastDeregistered(sb: Sandbox, t0: number): number | undefined {
  const served = new Set<string>();
  const gone = new Map<string, number>();
  for (const e of sb.monitor.timeline()) {
    if (e.time < t0) {
      if (Object.keys(e.elb ?? {}).length > 0) served.add(e.instanceId);
      continue;
    }
    if (!served.has(e.instanceId) || gone.has(e.instanceId)) continue;
    if (Object.keys(e.elb ?? {}).length === 0 && (e.lifecycle === 'Terminating' || e.lifecycle === 'Terminated')) gone.set(e.instanceId, e.time);
  }
  return gone.size ? Math.max(...gone.values()) : undefined;
}

export async function runVariance(s: VarianceScenario, seed: number, tool: VarianceTool, faults: Partial<FaultConfig> = {}): Promise<VarianceRun> {
  const sb = varianceFleet(s, seed, faults);
  const port = createAwsPort(sb.newClients(tool), sb.clock);
  const t0 = sb.clock.now();
  let replaced = 0;
  let error: string | undefined;
  let errorCode: string | undefined;
  try {
    const r =
      tool === 'baseline'
        ? await baselineRolling({ port, clock: sb.clock, group: 'bench' })
        : await rollGroup({ port, clock: sb.clock, reporter: silentReporter, asg: 'bench', surge: s.surge, batchSize: s.batch, lock: false, ...(tool === 'oracle' ? { pollIntervalMs: 1000 } : {}) });
    replaced = r.replaced.length;
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
    errorCode = err instanceof DeployError ? err.code : err instanceof Error ? err.name : 'error';
  }
  const returned = sb.clock.now();
  // Complete once every replaced instance left the load balancer: let the world run out the drains.
  sb.advance((s.drain + 60) * 1000);
  const drained = lastDeregistered(sb, t0);
  const seconds = error === undefined ? (Math.max(returned, Math.min(drained ?? returned, sb.clock.now())) - t0) / 1000 : undefined;
  const returnedSeconds = error === undefined ? (returned - t0) / 1000 : undefined;
  // The baseline (seed tools) terminates without decrement, one at a time: terminate first.
  const terminateFirst = tool === 'baseline' || s.surge === 0;
  const limit = drawnLimit(drawnIntervals(sb, t0), { drainSeconds: s.drain, terminateFirst });
  const spent = seconds !== undefined ? timeSpent(sb, tool, t0, t0 + seconds * 1000, { drainSeconds: s.drain, terminateFirst }) : undefined;
  return { seconds, returnedSeconds, limitSeconds: limit.seconds, apiCalls: port.apiCalls(), replaced, error, errorCode, spent };
}

/**
 * Where a run's time above its limit went, from the sandbox's records (seconds; limit.ts
 * timeAboveLimit): per batch, the tool's change → the ASG's launch (AWS's side, [ASG-1a]), the
 * batch's last instance healthy → the tool's next change (noticing it), and what follows the last
 * batch beyond what the limit counts (with surge 0 the last drain overlaps the last boot).
 * `end`: when the run was complete (ms). `group`: the intervals of that group only, as its limit
 * counts them (drawnIntervals); `limit`: what bounds the run beyond its batches (a warm pool's
 * refill, warm-bench.ts warmLimit), so that the parts add up to the time above that limit.
 */
export function timeSpent(sb: Sandbox, actor: string, t0: number, end: number, o: { drainSeconds: number; terminateFirst: boolean; group?: string; limit?: { refill?: DrawnInterval } }): TimeAbove {
  const changes = sb.calls.filter((c) => c.actor === actor && !c.error && c.mutating && c.time >= t0).map((c) => c.time);
  return timeAboveLimit(drawnIntervals(sb, t0, o.group), changes, { t0, end, drainSeconds: o.drainSeconds, terminateFirst: o.terminateFirst, ...(o.limit?.refill ? { refill: o.limit.refill } : {}) });
}

/** One variance scenario over `seeds` seeds, each tool on its own fresh fleet per seed. */
export async function runVarianceRow(s: VarianceScenario, tools: VarianceTool[], seeds = VARIANCE_SEEDS): Promise<VarianceRowResult> {
  const cells: VarianceCell[] = [];
  for (const tool of tools) {
    const c: VarianceCell = { tool, ratios: [], seconds: [], callsPerInstance: [], errors: [], detail: [] };
    for (let seed = 1; seed <= seeds; seed++) {
      addToCell(c, seed, await runVariance(s, seed, tool));
    }
    cells.push(c);
  }
  return { scenario: s, seeds, cells };
}

/** Adds one seed's run to its cell: an error is listed, a finished run adds its ratio, duration, calls per replaced instance and where its time went. */
export function addToCell(c: VarianceCell, seed: number, r: Pick<VarianceRun, 'error' | 'seconds' | 'limitSeconds' | 'replaced' | 'apiCalls' | 'spent'>): void {
  if (r.error !== undefined || r.seconds === undefined) {
    c.errors.push(`seed ${seed}: ${r.error}`);
    return;
  }
  c.ratios.push(r.seconds / r.limitSeconds);
  c.seconds.push(r.seconds);
  if (r.replaced > 0) c.callsPerInstance.push(r.apiCalls / r.replaced);
  if (r.spent) c.detail!.push(r.spent);
}
