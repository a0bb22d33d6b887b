/**
 * ab, lock and unlock through the CLI itself (`main`), on a sandbox state file: exit codes and
 * JSON events exactly as docs/design.md says.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../orchestrator/cli';
import { readSandboxFile, writeSandboxFile } from '../../orchestrator/commands/aws-session';
import { Sandbox } from '../../orchestrator/sandbox';

function stateFile(bCount = 0): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-cli-'));
  const file = path.join(dir, 'state.json');
  const sandbox = Sandbox.create({ seed: 3 });
  const elb = (name: string) => ({ name, drainingTimeout: 30 });
  sandbox.seedGroup({ name: 'qa-a', capacity: 2, min: 2, max: 4, launchTemplateName: 'qa-lt', imageId: 'ami-v1', elb: elb('qa-a') });
  sandbox.seedGroup({ name: 'qa-b', capacity: bCount, min: 0, max: 4, launchTemplateName: 'qa-lt', elb: elb('qa-b') });
  sandbox.newLaunchTemplateVersion('qa-lt', { ImageId: 'ami-v2' });
  writeSandboxFile(file, sandbox, {});
  return file;
}

async function cli(argv: string[]) {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d) => (stdout += d));
  err.on('data', (d) => (stderr += d));
  const code = await main(argv, { stdout: out, stderr: err, signal: new AbortController().signal, env: { CI: '1' } });
  const events = stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { code: string; level: string; message: string; data: Record<string, unknown>; time: string });
  return { code, stdout, stderr, events };
}

function groupOf(file: string, name: string) {
  return readSandboxFile(file)!.aws.groups[name];
}

test('ab --json on the sandbox: exit 0, one JSON event per line, rollout.done with the drained instances', async (t) => {
  const file = stateFile();
  const r = await cli(['ab', '--environment', 'qa', '--instance-count', '2', '--sandbox-state', file, '--json']);
  t.is(r.code, 0, r.stderr);
  for (const e of r.events) {
    t.true(['info', 'warn', 'error'].includes(e.level));
    t.false(Number.isNaN(Date.parse(e.time)));
  }
  const codes = r.events.map((e) => e.code);
  t.true(codes.indexOf('rollout.plan') < codes.indexOf('rollout.done'));
  const done = r.events.find((e) => e.code === 'rollout.done')!;
  t.is(done.data.environment, 'qa');
  t.is((done.data.replaced as string[]).length, 2);
  t.is(typeof done.data.seconds, 'number');
  t.is(typeof done.data.apiCalls, 'number');
  t.like(r.events.find((e) => e.code === 'group.scale')!.data, { asg: 'qa-b', from: 0, to: 2 });
  t.is(groupOf(file, 'qa-b').desired, 2);
  t.is(groupOf(file, 'qa-a').desired, 0);
});

test('both populated through the CLI: exit 3 and an error event naming the code', async (t) => {
  const file = stateFile(1);
  const r = await cli(['ab', '--environment', 'qa', '--sandbox-state', file, '--json']);
  t.is(r.code, 3);
  const err = r.events.find((e) => e.level === 'error')!;
  t.is(err.code, 'both-populated');
  t.regex(r.stderr, /both colors have instances/);
});

test('lock freezes ab (exit 3 naming holder and reason); unlock releases it; ab then runs', async (t) => {
  const file = stateFile();
  t.is((await cli(['lock', '--environment', 'qa', '--reason', 'release freeze', '--sandbox-state', file])).code, 0);
  const refused = await cli(['ab', '--environment', 'qa', '--instance-count', '2', '--sandbox-state', file]);
  t.is(refused.code, 3);
  t.regex(refused.stderr, /locked by .+ \(release freeze\)/);
  t.is(groupOf(file, 'qa-b').desired, 0);
  const unlocked = await cli(['unlock', '--environment', 'qa', '--sandbox-state', file, '--json']);
  t.is(unlocked.code, 0, unlocked.stderr);
  t.regex(unlocked.events.find((e) => e.code === 'lock.released')!.message, /release freeze/);
  t.is((await cli(['ab', '--environment', 'qa', '--instance-count', '2', '--sandbox-state', file])).code, 0);
});

test('ab --dry-run through the CLI: the plan and an untouched state', async (t) => {
  const file = stateFile();
  const before = readSandboxFile(file)!.aws.groups;
  const r = await cli(['ab', '--environment', 'qa', '--dry-run', '--sandbox-state', file, '--json']);
  t.is(r.code, 0);
  t.regex(r.events.find((e) => e.code === 'rollout.plan')!.message, /swap qa-a → qa-b/);
  const after = readSandboxFile(file)!.aws.groups;
  for (const g of ['qa-a', 'qa-b']) {
    t.is(after[g].desired, before[g].desired);
    t.deepEqual(after[g].tags, before[g].tags);
  }
});
