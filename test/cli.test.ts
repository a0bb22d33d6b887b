import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../orchestrator/cli';
import { capture } from './helpers/io';


test('an unknown command is bad input: exit 2 naming it', async (t) => {
  const io = capture();
  const code = await main(['no-such-command'], { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  t.is(code, 2);
  t.regex(io.stderr, /unknown command 'no-such-command'; the commands are: deploy, roll, ab, status, lock, unlock, demo/);
});

test('no command is bad input: exit 2', async (t) => {
  const io = capture();
  const code = await main([], { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  t.is(code, 2);
});

test('the command table lists each command as its own module describes it, in help order', async (t) => {
  const { COMMANDS } = await import('../orchestrator/cli');
  t.deepEqual(COMMANDS.map((c) => c.name), ['deploy', 'roll', 'ab', 'status', 'lock', 'unlock', 'demo']);
  for (const entry of COMMANDS) {
    const spec = await entry.load();
    t.is(spec.name, entry.name);
    t.is(spec.describe, entry.describe, `${entry.name}: the --help line drifted from the command's own describe`);
  }
});

test('--version prints the package version', async (t) => {
  const io = capture();
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  const code = await main(['--version'], { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  t.is(code, 0);
  t.is(io.stdout.trim(), pkg.version);
});

/** Runs `main(argv)` in a fresh process; returns the modules it had loaded when it exited. */
function loadedBy(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const script = `
    const { main } = require(${JSON.stringify(path.join(__dirname, '..', 'orchestrator', 'cli.ts'))});
    process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));
    main(${JSON.stringify(argv)}).then((code) => { process.exitCode = code; });`;
  const child = spawnSync(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, '-e', script], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  const line = child.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`no module list: ${child.stderr}`);
  return JSON.parse(line.slice('LOADED '.length)) as string[];
}

const heavy = (mods: string[]) => ({
  commands: mods.filter((m) => /orchestrator[\\/]commands[\\/]/.test(m)).length,
  sdk: [...new Set(mods.map((m) => /@aws-sdk[\\/](client-[a-z-]+)/.exec(m)?.[1]).filter(Boolean))].sort(),
  pulumi: mods.some((m) => /@pulumi[\\/]pulumi[\\/]/.test(m)),
  sandbox: mods.some((m) => /orchestrator[\\/]sandbox[\\/]/.test(m)),
});

test('--help loads no command, no AWS SDK client, no Pulumi and no sandbox', (t) => {
  t.deepEqual(heavy(loadedBy(['--help'], process.cwd())), { commands: 0, sdk: [], pulumi: false, sandbox: false });
});

test('status --sandbox loads its command and the sandbox, neither Pulumi nor S3 (tag locks)', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-lazy-'));
  const loaded = heavy(loadedBy(['status', '--sandbox', '--asg', 'no-such-group'], dir));
  t.true(loaded.commands > 0);
  t.true(loaded.sandbox);
  t.false(loaded.pulumi);
  t.false(loaded.sdk.includes('client-s3'), `loaded: ${loaded.sdk.join(', ')}`);
});

test('status on real AWS loads the clients it asks, not S3 (tag locks), Pulumi or the sandbox', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-lazy-'));
  // An endpoint nothing listens on: the call fails at once, after the modules are loaded.
  const env = { ...process.env, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' };
  const loaded = heavy(loadedBy(['status', '--asg', 'web'], dir, env));
  t.false(loaded.sdk.includes('client-s3'), `loaded: ${loaded.sdk.join(', ')}`);
  t.true(loaded.sdk.includes('client-auto-scaling'));
  t.false(loaded.pulumi);
  t.false(loaded.sandbox);
});
