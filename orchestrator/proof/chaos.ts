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

function parseArgs(argv: string[]): Args {
  const out: Args = { runs: 500, seed: Math.floor(Math.random() * 2 ** 31), jobs: availableParallelism() };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i].split('=', 2);
    const value = () => inline ?? argv[++i];
    const int = (name: string, v: string | undefined, min: number) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer ≥ ${min}, got '${v}'`);
      return n;
    };
    switch (flag) {
      case '--runs':
        out.runs = int('--runs', value(), 1);
        break;
      case '--seed':
        out.seed = int('--seed', value(), 0) >>> 0;
        break;
      case '--jobs':
        out.jobs = int('--jobs', value(), 1);
        break;
      case '--strategy': {
        const v = value();
        if (v !== 'rolling' && v !== 'ab') throw new Error(`--strategy must be rolling or ab, got '${v}'`);
        out.strategy = v;
        break;
      }
      case '--trace':
        out.trace = true;
        break;
      case '--help':
        process.stdout.write('npm run chaos -- [--runs N (500)] [--seed S (random)] [--strategy rolling|ab] [--jobs J (cores)] [--trace (every event, one process)]\n');
        process.exit(0);
      // falls through (process.exit never returns)
      default:
        throw new Error(`unknown option '${argv[i]}' (allowed: --runs, --seed, --strategy, --jobs, --trace)`);
    }
  }
  return out;
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
