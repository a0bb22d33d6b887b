/**
 * Bench (issue 13): a stack of 6 independent services on the simulated AWS (real engines, virtual
 * clock): the v2 deploy with --parallel 6 beside --parallel 1, in one run. --parallel 6 must take
 * at most 1.1x its slowest service's rollout; --parallel 1 about the sum.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { noNotifier } from '../../orchestrator/notify/webhook';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import type { SummaryRow } from '../../orchestrator/report/summary';
import { Sandbox } from '../../orchestrator/sandbox';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { engineHooks } from '../../orchestrator/stack/hooks';
import { awsLockReader } from '../../orchestrator/stack/locks';
import { SandboxStacks, type SandboxStacksState } from '../../orchestrator/stack/sandbox-stack';

const SERVICES = ['s1', 's2', 's3', 's4', 's5', 's6'];

function stackConfig(image: string): string {
  const services = SERVICES.map(
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

async function deployV2(parallel: number): Promise<{ seconds: number; rows: SummaryRow[] }> {
  const sandbox = Sandbox.create({ seed: 13 });
  const stacks: SandboxStacksState = {};
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-parallel-'));
  const file = (image: string) => {
    const f = path.join(dir, `${image}.yaml`);
    fs.writeFileSync(f, stackConfig(image));
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
}

test('bench: 6 independent services on the sandbox, --parallel 6 ≤ 1.1x the slowest rollout, beside --parallel 1', async (t) => {
  const one = await deployV2(1);
  const six = await deployV2(6);
  for (const r of [...one.rows, ...six.rows]) t.is(r.result, 'done', `${r.service}: ${r.detail}`);
  const slowest = Math.max(...six.rows.map((r) => r.seconds));
  const sum = one.rows.reduce((a, r) => a + r.seconds, 0);
  t.log(`| 6 services, v2 deploy | --parallel 1: ${one.seconds}s (sum of rollouts ${sum}s) | --parallel 6: ${six.seconds}s (slowest rollout ${slowest}s, ${(six.seconds / slowest).toFixed(2)}x) |`);
  t.true(six.seconds <= 1.1 * slowest, `${six.seconds}s > 1.1 x ${slowest}s`);
  t.true(one.seconds >= 0.9 * sum);
});
