/**
 * Bench (issue 13, "Services in parallel"): a stack of 6 independent services on the simulated AWS
 * (real engines, virtual clock), deployed by the v2 deploy with --parallel 1 and --parallel 6 in
 * one run, each on a fresh sandbox with the same seed. Target: --parallel 6 takes at most 1.1× its
 * slowest service's rollout; --parallel 1 is shown beside it (about the sum of the rollouts).
 * Judged by ./bench-report.ts (parallelMarkdown); run by `npm run bench` (./bench.ts).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAwsPort } from '../aws/adapter';
import { noNotifier } from '../notify/webhook';
import { RecordingReporter } from '../report/reporter';
import type { SummaryRow } from '../report/summary';
import { Sandbox } from '../sandbox';
import { runDeploy } from '../stack/deploy-flow';
import { engineHooks } from '../stack/hooks';
import { awsLockReader } from '../stack/locks';
import { SandboxStacks, type SandboxStacksState } from '../stack/sandbox-stack';
import type { ParallelBench, ParallelRun } from './bench-report';

export const PARALLEL_SERVICES = ['s1', 's2', 's3', 's4', 's5', 's6'];
const SEED = 13;

/** The stack's config: 6 rolling services of 2–4 instances, independent (no dependsOn). */
export function parallelStackConfig(image: string): string {
  const services = PARALLEL_SERVICES.map(
    (s, i) => `    ${s}:
      strategy: rolling
      imageId: ${image}
      instanceType: t3.small
      capacity: ${2 + (i % 3)}
      minHealthy: 1
      surge: 1
      availabilityZones: [us-east-1a, us-east-1b]
      healthCheckGracePeriod: 30
      stepTimeout: 10m`,
  );
  return `config:\n  aws:region: us-east-1\n  asg-deploy:services:\n${services.join('\n')}\n`;
}

/**
 * Creates the stack (image 1) on a fresh sandbox, then deploys image 2 with `parallel`: the
 * simulated seconds of that second deploy and its summary rows (each service's rollout seconds).
 */
export async function deployV2(parallel: number): Promise<{ seconds: number; rows: SummaryRow[] }> {
  const sandbox = Sandbox.create({ seed: SEED });
  const stacks: SandboxStacksState = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-parallel-'));
  try {
    const file = (image: string) => {
      const f = path.join(dir, `${image}.yaml`);
      fs.writeFileSync(f, parallelStackConfig(image));
      return f;
    };
    const reporter = new RecordingReporter(sandbox.clock);
    const port = createAwsPort(sandbox.clients, sandbox.clock);
    const deps = () => ({
      backend: new SandboxStacks({ clients: sandbox.clients, clock: sandbox.clock, stacks, projectRoot: dir }),
      hooks: engineHooks({ port, clock: sandbox.clock, reporter }),
      locks: awsLockReader({ port, clock: sandbox.clock, reporter }),
      reporter,
      clock: sandbox.clock,
      signal: new AbortController().signal,
      notifier: noNotifier,
      print: () => {},
    });
    await runDeploy({ stack: 'bench', create: true, configFile: file('ami-0bench1') }, deps());
    const start = sandbox.clock.now();
    const out = await runDeploy({ stack: 'bench', configFile: file('ami-0bench2'), parallel }, deps());
    return { seconds: (sandbox.clock.now() - start) / 1000, rows: out.rows };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function figures(parallel: number, r: { seconds: number; rows: SummaryRow[] }): ParallelRun {
  const services = r.rows.map((row) => ({ service: row.service, seconds: row.seconds, result: row.result, detail: row.detail }));
  const slowest = Math.max(0, ...services.map((s) => s.seconds));
  const sum = services.reduce((a, s) => a + s.seconds, 0);
  return { parallel, seconds: r.seconds, services, slowestSeconds: slowest, sumSeconds: sum, ratioToSlowest: slowest > 0 ? r.seconds / slowest : Infinity };
}

/** Both deploys, one after the other in this run: the figures the report judges. */
export async function runParallelBench(): Promise<ParallelBench> {
  const one = figures(1, await deployV2(1));
  const six = figures(6, await deployV2(6));
  return { services: PARALLEL_SERVICES.length, one, six };
}

if (require.main === module) {
  runParallelBench().then(
    (b) => process.stdout.write(JSON.stringify(b, null, 2) + '\n'),
    (err) => {
      process.stderr.write(`parallel-bench: ${err instanceof Error ? err.stack : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
