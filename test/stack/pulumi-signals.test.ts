/**
 * Defect 1 (issue 13): an interrupted `deploy` sends exactly one SIGINT to pulumi, whatever the
 * signal's origin, so Pulumi cancels (finishes in-flight operations, records its state) instead
 * of terminating. `asg-deploy` runs as a process (test/stack/fake-pulumi/deploy-child.ts: the real
 * CLI and Automation API) in a process group of its own, as a terminal's foreground job; the
 * stand-in pulumi counts the signals it receives.
 */
import test from 'ava';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { DeployEvent } from '../../orchestrator/report/reporter';
import { fakePulumi, type FakePulumi } from './fake-pulumi/harness';

const ROOT = path.resolve(__dirname, '../..');
const CHILD = path.join(__dirname, 'fake-pulumi', 'deploy-child.ts');

interface Outcome {
  code: number | null;
  events: DeployEvent[];
  stderr: string;
}

async function interrupted(fake: FakePulumi, send: (pid: number) => void): Promise<Outcome> {
  const env = { ...process.env, ...fake.env, CI: 'true' };
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, 'deploy', '--stack', 'qa', '--json'], { cwd: ROOT, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 90_000;
  while (!fake.calls().some((c) => c.waiting)) {
    if (Date.now() > deadline) throw new Error(`pulumi up never started; stderr: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  send(child.pid!);
  const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 60_000);
  const code = await exited;
  clearTimeout(timer);
  const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as DeployEvent);
  return { code, events, stderr };
}

const slow = () => fakePulumi({ scenario: 'slow', changes: [{ op: 'update', type: 'aws:ec2/launchTemplate:LaunchTemplate', name: 'qa-rabbit', diffs: ['imageId'] }] });

for (const [origin, send] of [
  ['a terminal Ctrl-C (SIGINT to the whole process group)', (pid: number) => process.kill(-pid, 'SIGINT')],
  ['SIGTERM to asg-deploy alone (a CI runner)', (pid: number) => process.kill(pid, 'SIGTERM')],
  ['SIGTERM to the process group (a CI runner)', (pid: number) => process.kill(-pid, 'SIGTERM')],
] as const) {
  test.serial(`${origin}: pulumi receives exactly one SIGINT, cancels, and the message says so (exit 130)`, async (t) => {
    const fake = slow();
    const r = await interrupted(fake, send);
    t.is(r.code, 130, r.stderr);
    t.deepEqual(
      fake.signals('up').map((s) => s.signal),
      ['SIGINT'],
      'one SIGINT: a second would make Pulumi terminate ("may lead to orphaned resources")',
    );
    const failed = r.events.find((e) => e.code === 'deploy.failed');
    t.is(failed?.data.code, 'interrupted');
    t.regex(failed!.message, /pulumi up on stack 'qa' was cancelled: Pulumi finished its in-flight resource operations and recorded the stack's state/);
    t.regex(failed!.message, /no rollout was started/);
    t.falsy(r.events.find((e) => e.code === 'deploy.service.start'));
  });
}
