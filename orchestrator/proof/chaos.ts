/**
 * `npm run chaos -- [--runs N] [--seed S] [--strategy rolling|ab] [--jobs J]`
 *
 * Runs N randomized scenarios (./scenario.ts) on the simulated AWS, each with our real engines
 * (rollGroup / abDeploy) through the real SDK adapter, and checks every docs/design.md safety
 * invariant plus the outcome rules (./invariants.ts) from the sandbox's safety monitor. Prints a
 * table of scenarios × outcomes, each violation with its seed and the exact command that
 * reproduces it, and last `N passed, N failed`. Exit 1 on any violation.
 *
 * Runs are spread over J worker processes (default: the machine's cores); each run is
 * independent and deterministic given its seed, so the order of completion does not matter.
 */
import { fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { parseArgs as parseArgv } from 'node:util';
import { seedOf } from './prng';
import { describeScenario, generateScenario, reproduceCommand, type Strategy } from './scenario';
import { outcomeTable } from './table';
import type { RunOutcome } from './run';

export interface ChaosOptions {
  runs: number;
  seed: number;
  strategy?: Strategy;
  jobs: number;
  /** Print every event of every attempt on stderr (use with --runs 1). */
  trace?: boolean;
  /** Called after each run (progress). */
  onResult?: (r: RunOutcome, done: number) => void;
}

/** Runs the session; results come back in run order. */
export async function runChaos(o: ChaosOptions): Promise<RunOutcome[]> {
  const seeds = Array.from({ length: o.runs }, (_, i) => seedOf(o.seed, i));
  const results: RunOutcome[] = new Array(seeds.length);
  let done = 0;
  const record = (i: number, r: RunOutcome) => {
    results[i] = r;
    done++;
    o.onResult?.(r, done);
  };
  if (o.jobs <= 1 || seeds.length <= 2 || o.trace) {
    const { runScenario } = await import('./run');
    for (let i = 0; i < seeds.length; i++) record(i, await runScenario(generateScenario(seeds[i], o.strategy), { trace: o.trace }));
    return results;
  }
  let next = 0;
  // A worker that hangs on a run (real-time watchdog) or dies is replaced; the run is reported.
  const worker = (): Promise<void> =>
    new Promise<void>((resolve) => {
      const child = fork(__filename, ['--worker'], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
      let current = -1;
      const give = () => {
        if (next >= seeds.length) {
          child.send({ stop: true });
          return;
        }
        current = next++;
        child.send({ seed: seeds[current], strategy: o.strategy });
      };
      child.on('message', (m: { result: RunOutcome; exiting?: boolean }) => {
        record(current, m.result);
        current = -1;
        if (!m.exiting) give();
      });
      child.on('exit', (code, signal) => {
        if (current >= 0 && !results[current]) {
          const scenario = generateScenario(seeds[current], o.strategy);
          record(current, {
            scenario,
            attempts: [],
            violations: [{ code: 'hung', message: `the worker process died during this run (exit ${code ?? signal})` }],
            simulatedSeconds: 0,
            realMs: 0,
            apiCalls: 0,
          });
        }
        if (next < seeds.length) void worker().then(resolve);
        else resolve();
      });
      give();
    });
  await Promise.all(Array.from({ length: Math.min(o.jobs, seeds.length) }, worker));
  return results;
}

/** The report: table, violations with reproduction commands, and the last line `N passed, N failed`. */
export function formatReport(results: RunOutcome[], header: string): string {
  const lines: string[] = [header, ''];
  lines.push(
    outcomeTable(
      results.map((r) => ({ strategy: r.scenario.strategy, tags: r.scenario.tags, exit: r.exit, rerun: r.attempts.length > 1, passed: r.violations.length === 0 })),
    ),
  );
  const failed = results.filter((r) => r.violations.length > 0);
  if (failed.length) {
    lines.push('', `Violations (${failed.length} run${failed.length === 1 ? '' : 's'}):`);
    for (const r of failed) {
      lines.push(`- seed ${r.scenario.seed}: ${describeScenario(r.scenario)}`);
      const shown = new Map<string, number>();
      for (const v of r.violations) {
        const n = (shown.get(v.code) ?? 0) + 1;
        shown.set(v.code, n);
        if (n <= 3) lines.push(`    ${v.code}: ${v.message}`);
      }
      for (const [code, n] of shown) if (n > 3) lines.push(`    ${code}: … and ${n - 3} more`);
      lines.push(`    reproduce: ${reproduceCommand(r.scenario)}`);
    }
  }
  const simHours = results.reduce((a, r) => a + r.simulatedSeconds, 0) / 3600;
  lines.push('', `${results.length} runs, ${simHours.toFixed(1)} simulated hours`);
  lines.push(`${results.length - failed.length} passed, ${failed.length} failed`);
  return lines.join('\n');
}

interface Args {
  runs: number;
  seed: number;
  strategy?: Strategy;
  jobs: number;
  trace?: boolean;
}

/** The harness's argv, parsed by Node's util.parseArgs (strict: an unknown option is an error naming the allowed ones). */
export function parseArgs(argv: string[]): Args {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgv({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        runs: { type: 'string' },
        seed: { type: 'string' },
        jobs: { type: 'string' },
        strategy: { type: 'string' },
        trace: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    throw new Error(`${(err as Error).message.split('\n')[0]} (allowed: --runs, --seed, --strategy, --jobs, --trace)`);
  }
  if (values.help) {
    process.stdout.write('npm run chaos -- [--runs N (500)] [--seed S (random)] [--strategy rolling|ab] [--jobs J (cores)] [--trace (every event, one process)]\n');
    process.exit(0);
  }
  const int = (name: string, v: string | boolean | undefined, min: number, fallback: number) => {
    if (v === undefined) return fallback;
    const n = Number(v);
    if (typeof v !== 'string' || v.trim() === '' || !Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer ≥ ${min}, got '${String(v)}'`);
    return n;
  };
  const strategy = values.strategy;
  if (strategy !== undefined && strategy !== 'rolling' && strategy !== 'ab') throw new Error(`--strategy must be rolling or ab, got '${String(strategy)}'`);
  return {
    runs: int('runs', values.runs, 1, 500),
    seed: int('seed', values.seed, 0, Math.floor(Math.random() * 2 ** 31)) >>> 0,
    jobs: int('jobs', values.jobs, 1, availableParallelism()),
    ...(strategy ? { strategy } : {}),
    ...(values.trace ? { trace: true } : {}),
  };
}

async function worker(): Promise<void> {
  // A run's abandoned promises (after a watchdog) must not take the worker down with them.
  process.on('unhandledRejection', (err) => process.stderr.write(`chaos worker: unhandled rejection: ${err instanceof Error ? err.message : String(err)}\n`));
  const { runScenario } = await import('./run');
  process.on('message', async (m: { stop?: boolean; seed: number; strategy?: Strategy }) => {
    if (m.stop) {
      process.disconnect();
      return;
    }
    const result = await runScenario(generateScenario(m.seed, m.strategy));
    // After a hung run its promises may still be running here: hand back the result and start afresh.
    const exiting = result.violations.some((v) => v.code === 'hung');
    process.send!({ result, exiting }, () => {
      if (exiting) process.exit(0);
    });
  });
}

async function main(): Promise<number> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`chaos: ${(err as Error).message}\n`);
    return 2;
  }
  const started = Date.now();
  const header = `chaos: ${args.runs} runs, master seed ${args.seed}${args.strategy ? `, strategy ${args.strategy}` : ''}, ${args.jobs} job(s) (replay: npm run chaos -- --runs ${args.runs} --seed ${args.seed}${args.strategy ? ` --strategy ${args.strategy}` : ''})`;
  process.stderr.write(header + '\n');
  const results = await runChaos({
    ...args,
    onResult: (r, done) => {
      if (r.violations.length) process.stderr.write(`\nFAIL seed ${r.scenario.seed}: ${r.violations.map((v) => v.code).join(', ')}\n`);
      if (done % 25 === 0 || done === args.runs) process.stderr.write(`  ${done}/${args.runs} runs (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
    },
  });
  process.stderr.write(`real time ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
  process.stdout.write(formatReport(results, header) + '\n');
  return results.some((r) => r.violations.length) ? 1 : 0;
}

if (require.main === module) {
  if (process.argv.includes('--worker')) void worker();
  else
    main().then(
      (code) => (process.exitCode = code),
      (err) => {
        process.stderr.write(`chaos: ${err instanceof Error ? err.stack : String(err)}\n`);
        process.exitCode = 1;
      },
    );
}
