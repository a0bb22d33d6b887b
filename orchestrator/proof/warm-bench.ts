/**
 * The warm-pool scenario of the bench (issue 15 item 3: "the polling and bench know a warm instance
 * boots fast"): a rolling rollout of a group with a warm pool (sandbox [WARM-1..6],
 * orchestrator/sandbox/autoscaling/warm-pool.ts). At the start the pool's warmed instances run the
 * old version; the engine replaces them first (the pool refills from the new version, cold launches
 * into the pool) and its steps' scale-outs then draw on the pool: a warmed instance starts again in
 * 10–20 s ([WARM-4], the sandbox's default) where a cold launch boots in 60–180 s. The 30-s
 * baseline (the seed tools, one at a time) runs on an identical fleet: its replacements come from
 * the pool too.
 *
 * Each run's limit is computed from the boots the simulation actually drew ({@link warmLimit}): the
 * group's batches one after another, each from the moment its instances joined the group (drawn
 * from the pool or launched cold) until the last served (limit.ts drawnLimit); and, for a run that
 * refreshes the pool (the engine: the rollout is done once the pool is back, up to date, in its
 * state), each refill of the pool (a launch into it until that instance was warmed) started no
 * earlier than the batches that had served when it started could have served back to back: 0 for
 * the refills of the outdated warmed instances at the start; the pool grows back when a step's
 * surge is taken back (max − desired, [WARM-2]), which a tool may do only once the step served. The baseline does not
 * refresh the pool (it draws the old version back and replaces it again): its limit is its group's
 * batches alone. Same targets as the variance scenarios (variance-report.ts): ratio ≤ 1.03 median,
 * ≤ 1.10 worst.
 */
import { createAwsPort } from '../aws/adapter';
import { DeployError } from '../errors';
import { silentReporter } from '../report/reporter';
import { rollGroup } from '../rollout/rolling/runner';
import { Sandbox } from '../sandbox';
import { baselineRolling } from './baseline';
import { drawnLimit, type DrawnInterval } from './limit';
import { addToCell, drawnIntervals, timeSpent, UNIFORM, VARIANCE_SEEDS, type VarianceScenario, type VarianceTool } from './variance';
import { markdownTable } from './table';
import { Targets } from './bench-report';
import { median, varianceMissed, whereTimeGoes, worst, WORST_RATIO, type VarianceCell, type VarianceRowResult } from './variance-report';

const ELB = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 };

/** The warm-pool scenario: a variance scenario whose group keeps a warm pool of `pool` instances. */
export interface WarmScenario extends VarianceScenario {
  /** The pool's size: the group's max is size + pool ([WARM-2]: max − desired). */
  pool: number;
  poolState: 'Stopped' | 'Running';
}

export const WARM_SCENARIO: WarmScenario = {
  name: 'warm pool: 10 instances, batch 2 (surge 2), pool of 6 (Stopped), outdated at the start',
  size: 10,
  batch: 2,
  surge: 2,
  drain: 0,
  boot: UNIFORM,
  bootLabel: 'cold boot 60–180 s uniform, warm start 10–20 s',
  baseline: true,
  pool: 6,
  poolState: 'Stopped',
};

/** A fresh fleet: the group, its warm pool filled and settled at the old version, then a new launch template version. */
export function warmFleet(s: WarmScenario, seed: number): Sandbox {
  const sb = Sandbox.create({ seed, faults: { bootSeconds: s.boot, appStartSeconds: 0, elbCheckPhase: 'random' } });
  sb.seedGroup({
    name: 'bench',
    capacity: s.size,
    max: s.size + s.pool,
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 300,
    elb: { name: 'bench-elb', healthCheck: { target: 'HTTP:8080/health', ...ELB }, drainingTimeout: s.drain },
    warmPool: { poolState: s.poolState },
  });
  sb.newLaunchTemplateVersion('bench-lt', { ImageId: 'ami-0new0000000000000' });
  return sb;
}

/**
 * Per instance launched into a warm pool at or after t0 (its timeline starts without a group):
 * from that launch until it was warmed (`Warmed:Stopped`, `Warmed:Running` or `Warmed:Hibernated`).
 */
export function poolIntervals(sb: Sandbox, t0: number): DrawnInterval[] {
  const seen = new Set<string>();
  const out = new Map<string, DrawnInterval>();
  for (const e of sb.monitor.timeline()) {
    const first = !seen.has(e.instanceId);
    seen.add(e.instanceId);
    if (e.time < t0) continue;
    if (first && e.group === undefined) out.set(e.instanceId, { launched: e.time });
    const i = out.get(e.instanceId);
    if (i && i.healthy === undefined && /^Warmed:(Stopped|Running|Hibernated)$/.test(e.lifecycle ?? '')) i.healthy = e.time;
  }
  return [...out.values()];
}

/**
 * The least time of a rollout that refreshes a warm pool, from what the simulation drew: the
 * group's batches back to back (limit.ts drawnLimit), or longer when a refill of the pool could
 * not end before: a refill that started once k batches had served could start no earlier than
 * those k batches take back to back, and ends its drawn span (launch into the pool → warmed)
 * later. Seconds.
 * Example: batches 45 s and 40 s; a refill of 100 s at the start and one of 110 s started after
 * both served → max(85, 0 + 100, 85 + 110) = 195 s.
 * `refill`: the refill that binds, when one does (where the time above the limit goes: variance.ts
 * timeSpent splits the run up to that refill's launch, then after its end).
 */
export function warmLimit(group: DrawnInterval[], refills: DrawnInterval[], o: { drainSeconds: number; terminateFirst: boolean }): { seconds: number; batches: number; refill?: DrawnInterval } {
  const base = drawnLimit(group, o);
  const byLaunch = new Map<number, number>();
  for (const i of group) if (i.healthy !== undefined) byLaunch.set(i.launched, Math.max(byLaunch.get(i.launched) ?? -Infinity, i.healthy));
  const batches = [...byLaunch].sort((a, b) => a[0] - b[0]);
  let seconds = base.seconds;
  let refill: DrawnInterval | undefined;
  for (const r of refills) {
    if (r.healthy === undefined) continue;
    // The batches that had served when this refill started, back to back.
    let served = 0;
    for (const [a, b] of batches) if (b <= r.launched) served += b - a;
    const bound = (served + (r.healthy - r.launched)) / 1000;
    if (bound > seconds) {
      seconds = bound;
      refill = r;
    }
  }
  return { seconds, batches: base.batches, ...(refill ? { refill } : {}) };
}

export interface WarmRun {
  seconds?: number;
  limitSeconds: number;
  apiCalls: number;
  replaced: number;
  /** Instances the group drew from the warm pool during the run, of all it gained. */
  fromPool: number;
  joined: number;
  error?: string;
  spent?: { launch: number; detection: number; tail: number };
}

/**
 * One run of one tool on a fresh warm-pool fleet. The 'oracle' is the engine polling every second
 * (as in the variance rows): it sees every change within a second, the brute-force check that the
 * limit is a lower bound (test/proof/limit-bound.test.ts).
 */
export async function runWarm(s: WarmScenario, seed: number, tool: VarianceTool): Promise<WarmRun> {
  const sb = warmFleet(s, seed);
  const pooled = new Set(Object.values(sb.world.state.instances).filter((i) => i.warmPoolOf === 'bench').map((i) => i.id));
  const port = createAwsPort(sb.newClients(tool), sb.clock);
  const t0 = sb.clock.now();
  let replaced = 0;
  let error: string | undefined;
  try {
    const r =
      tool === 'baseline'
        ? await baselineRolling({ port, clock: sb.clock, group: 'bench' })
        : await rollGroup({ port, clock: sb.clock, reporter: silentReporter, asg: 'bench', surge: s.surge, batchSize: s.batch, lock: false, ...(tool === 'oracle' ? { pollIntervalMs: 1000 } : {}) });
    replaced = r.replaced.length;
  } catch (err) {
    error = err instanceof DeployError ? `${err.code}: ${err.message}` : err instanceof Error ? err.message : String(err);
  }
  const returned = sb.clock.now();
  const intervals = drawnIntervals(sb, t0, 'bench');
  // Drawn from the pool: warmed before the run, or launched into the pool during it (its timeline starts without a group).
  const warmedDuring = new Set(sb.monitor.timeline().filter((e) => e.time >= t0 && e.group === undefined).map((e) => e.instanceId));
  const fromPool = intervals.filter((i) => pooled.has(i.instanceId) || warmedDuring.has(i.instanceId)).length;
  const shape = { drainSeconds: s.drain, terminateFirst: tool === 'baseline' || s.surge === 0 };
  const limit = warmLimit(intervals, tool === 'baseline' ? [] : poolIntervals(sb, t0), shape);
  const seconds = error === undefined ? (returned - t0) / 1000 : undefined;
  // Where the time above this row's own limit went: the group's intervals (as the limit counts
  // them) and, when a refill of the pool binds, up to its launch and after its end.
  const spent = seconds !== undefined ? timeSpent(sb, tool, t0, returned, { ...shape, group: 'bench', limit }) : undefined;
  return { seconds, limitSeconds: limit.seconds, apiCalls: port.apiCalls(), replaced, fromPool, joined: intervals.length, error, spent };
}

export interface WarmRowResult extends VarianceRowResult {
  scenario: WarmScenario;
  /** Per tool: instances drawn from the pool / instances the group gained, summed over the seeds. */
  drawn: Partial<Record<VarianceTool, { fromPool: number; joined: number }>>;
}

/** The warm-pool scenario over `seeds` seeds, engine, baseline and 1-s oracle each on a fresh fleet per seed. */
export async function runWarmRow(s: WarmScenario = WARM_SCENARIO, seeds = VARIANCE_SEEDS): Promise<WarmRowResult> {
  const cells: VarianceCell[] = [];
  const drawn: WarmRowResult['drawn'] = {};
  for (const tool of ['engine', 'baseline', 'oracle'] as const) {
    const c: VarianceCell = { tool, ratios: [], seconds: [], callsPerInstance: [], errors: [], detail: [] };
    const d = { fromPool: 0, joined: 0 };
    for (let seed = 1; seed <= seeds; seed++) {
      const r = await runWarm(s, seed, tool);
      d.fromPool += r.fromPool;
      d.joined += r.joined;
      addToCell(c, seed, r);
    }
    cells.push(c);
    drawn[tool] = d;
  }
  return { scenario: s, seeds, cells, drawn };
}

const f3 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(3));
const f1 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1));

/** The engine's targets missed on the warm-pool scenario (empty: all met): the variance scenarios' ratio targets. */
export function warmMissed(r: WarmRowResult): string[] {
  return varianceMissed(r);
}

/** The warm-pool section of docs/benchmarks.md (hand-written prose and the measured table). */
export function warmMarkdown(r: WarmRowResult, o: { seconds?: number } = {}): string {
  const s = r.scenario;
  const table: Array<Array<string | number>> = [['scenario', 'tool', 'ratio to the drawn limit: median', 'worst', 'API calls / replaced instance: median', 'worst', 'drawn from the pool', 'verdict']];
  for (const [n, c] of r.cells.entries()) {
    const d = r.drawn[c.tool];
    const missed = c.tool === 'engine' ? warmMissed(r) : [];
    table.push([
      n === 0 ? `**${s.name}**, ${s.bootLabel}, ELB phase random, ${r.seeds} seeds` : '',
      c.tool === 'engine' ? `asg-deploy (batch ${s.batch})` : c.tool === 'oracle' ? `1-s oracle (batch ${s.batch})` : '30-s baseline (seed, one at a time)',
      f3(median(c.ratios)) + (c.tool === 'engine' ? ` (≤ ${Targets.ratio})` : ''),
      f3(worst(c.ratios)) + (c.tool === 'engine' ? ` (≤ ${WORST_RATIO})` : ''),
      f1(median(c.callsPerInstance)),
      f1(worst(c.callsPerInstance)),
      d ? `${d.fromPool} of ${d.joined}` : '—',
      c.tool === 'engine' ? (missed.length ? `MISSED: ${missed.join('; ')}` : 'all targets met') : c.errors.length ? `${c.errors.length} failed: ${c.errors[0]}` : '',
    ]);
  }
  const e = r.cells.find((c) => c.tool === 'engine');
  return [
    '## A group with a warm pool (issue 15)',
    '',
    'A rolling rollout of a group that keeps a warm pool (sandbox [WARM-1..6]): at the start the pool\'s warmed',
    'instances run the old version; the engine replaces them first (the pool refills from the new version, cold',
    'launches into the pool), and its steps\' scale-outs then draw warmed instances, which start again in 10–20 s',
    'where a cold launch boots in 60–180 s. The polling knows it (docs/commands/roll.md, warm pools): after a',
    'scale-out the pool can serve, it looks at the new instances on this run\'s warm starts, not on cold boots.',
    'Each run\'s limit is computed from what the simulation drew (orchestrator/proof/warm-bench.ts): per launch',
    'moment, from the instance joining the group (drawn or cold) until it served, and for the engine, which',
    'finishes only once the pool is back up to date in its state, each launch into the pool until it was warmed.',
    'The 30-s baseline does not refresh the pool: it draws the old version back from it and replaces it again',
    '(more replacements than instances); its limit is its group\'s spans alone. The 1-s oracle (the engine polling',
    'every second) shows how close any polling can come: what remains is AWS\'s side, 1 s a step and the group\'s',
    '10-s loop launching into the pool, which the limit leaves out.',
    '',
    'What the engine does to come close (docs/commands/roll.md, warm pools): a warm start\'s pass window is looked',
    'at briskly (a 5-s look would lose a large share of a ~40-s warm step); and at the end, waiting for the pool to',
    'refill, it reads the pool alone (one call, the group at least every 30 s), from when the last launch into it',
    'could be warmed at the earliest (the shortest plausible cold boot after it), every 5 s — before, a whole look',
    '(group, load balancer, pool) every 10 s: median ratio 1.039, 14.2 calls per instance.',
    '',
    markdownTable(table),
    '',
    ...(e
      ? [
          `Where the engine's time above the limit goes: ${whereTimeGoes(e) ?? '—'}. Split against this row's own limit`,
          '(variance.ts `timeSpent` with the group and the limit; `timeAboveLimit` in orchestrator/proof/limit.ts): the',
          'group\'s batches as in the variance rows, and when a refill of the pool binds the limit, the run up to that',
          'refill\'s launch (the tool\'s last change → the group\'s loop launching into the pool counts as launch latency)',
          'and "after the last bound" from that refill being warmed until the run was complete; the parts add up to',
          'the time above the limit.',
        ]
      : []),
    ...(o.seconds !== undefined ? ['', `Simulated in ${o.seconds.toFixed(0)} s of real time.`] : []),
    '',
  ].join('\n');
}
