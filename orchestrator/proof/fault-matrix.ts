/**
 * The fault matrix (issue 21 item 4): the same rolling rollout under one fault at a time — failing
 * boots (5, 10, 20 %), throttling (10, 20, 40 % of API calls), launch failures (20 %), an AZ
 * without capacity — over FAULT_SEEDS seeds, by asg-deploy's engine and by the 30-s baseline (the
 * seed tools), side by side on identical fleets (variance.ts: boots 60–180 s uniform, the ELB's
 * check phase random). Per row and tool: how many runs completed, why the others stopped (their
 * error codes), the duration and its ratio to the run's drawn limit (limit.ts), and API calls per
 * replaced instance.
 *
 * A failing boot here is an instance whose application never answers (the ELB keeps it
 * OutOfService; the ASG, with ELB health checks, replaces it after its grace period). Random
 * failures are not a broken version: the rollout is expected to finish, as a patient operator
 * would (rolling/strategy.ts `newSpecBroken`).
 *
 * To add a row: append a {@link FaultRow} to FAULT_ROWS (a name and the sandbox's fault settings).
 */
import type { FaultConfig } from '../sandbox/model';
import { runVariance, UNIFORM, type VarianceRun, type VarianceScenario, type VarianceTool } from './variance';

export const FAULT_SEEDS = 10;

/** The fleet every row rolls: 10 instances, one at a time (the baseline's way too), boots 60–180 s. */
export const FAULT_SCENARIO: VarianceScenario = {
  name: '10 instances, batch 1 (surge 1)',
  size: 10,
  batch: 1,
  surge: 1,
  drain: 0,
  boot: UNIFORM,
  bootLabel: 'boot 60–180 s uniform',
  baseline: true,
};

export interface FaultRow {
  name: string;
  faults: Partial<FaultConfig>;
}

export const FAULT_ROWS: FaultRow[] = [
  { name: 'no fault', faults: {} },
  { name: 'failing boots 5 %', faults: { bootFailureRate: 0.05 } },
  { name: 'failing boots 10 %', faults: { bootFailureRate: 0.1 } },
  { name: 'failing boots 20 %', faults: { bootFailureRate: 0.2 } },
  { name: 'throttling 10 %', faults: { throttleRate: 0.1 } },
  { name: 'throttling 20 %', faults: { throttleRate: 0.2 } },
  { name: 'throttling 40 %', faults: { throttleRate: 0.4 } },
  { name: 'launch failures 20 %', faults: { launchFailureRate: 0.2 } },
  { name: 'an AZ without capacity (us-east-1a)', faults: { unavailableZones: ['us-east-1a'] } },
];

export type FaultTool = Extract<VarianceTool, 'engine' | 'baseline'>;

export interface FaultCell {
  tool: FaultTool;
  runs: number;
  completed: number;
  /** Why the runs that did not complete stopped: error code → runs. */
  reasons: Record<string, number>;
  /** Completed runs only. */
  seconds: number[];
  ratios: number[];
  /** API calls per replaced instance (runs that replaced none are left out). */
  callsPerInstance: number[];
}

export interface FaultResult {
  row: FaultRow;
  cells: FaultCell[];
}

/** One cell: `tool` over `seeds` seeds under the row's faults. */
export async function runFaultCell(row: FaultRow, tool: FaultTool, seeds = FAULT_SEEDS, scenario = FAULT_SCENARIO): Promise<FaultCell> {
  const cell: FaultCell = { tool, runs: 0, completed: 0, reasons: {}, seconds: [], ratios: [], callsPerInstance: [] };
  for (let seed = 1; seed <= seeds; seed++) add(cell, await runVariance(scenario, seed, tool, row.faults));
  return cell;
}

function add(cell: FaultCell, r: VarianceRun): void {
  cell.runs++;
  if (r.error === undefined && r.seconds !== undefined) {
    cell.completed++;
    cell.seconds.push(r.seconds);
    if (r.limitSeconds > 0) cell.ratios.push(r.seconds / r.limitSeconds);
  } else {
    const code = r.errorCode ?? 'error';
    cell.reasons[code] = (cell.reasons[code] ?? 0) + 1;
  }
  if (r.replaced > 0) cell.callsPerInstance.push(r.apiCalls / r.replaced);
}

/** Every row, engine and baseline. */
export async function runFaultMatrix(seeds = FAULT_SEEDS, rows = FAULT_ROWS): Promise<FaultResult[]> {
  const out: FaultResult[] = [];
  for (const row of rows) out.push({ row, cells: [await runFaultCell(row, 'engine', seeds), await runFaultCell(row, 'baseline', seeds)] });
  return out;
}
