/**
 * One canary run across every channel the tool writes to. The CLI runs as a subprocess (as in
 * CI) on a sandbox state file with canary values planted everywhere a secret enters:
 * - a Pulumi secret: the rabbit service's user data and a tag value (`secure:` leaves, passphrase provider);
 * - a webhook URL with a token in its path (the local receiver answers the first post with 500,
 *   so the failure message is exercised too);
 * - an SSH private key path and a password-like argument in the `--health-command` gate
 *   (a stand-in `ssh` on PATH prints what OpenSSH and a remote command would, and fails);
 * - AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN in the environment.
 * Commands: deploy --create, deploy --skip-rollout, roll with the failing gate (JSON and human),
 * deploy --dry-run, deploy, status, lock; and one deploy in-process with the live view
 * on a pretend terminal. The test fails if any canary, as is, base64 or URL-encoded, is found in
 * stdout, stderr, --json events, the live view, webhook bodies, the lock record, the `--report`
 * HTML pages (roll with the gate, deploy --dry-run, deploy) or the sandbox state file (read after
 * every command: simulated AWS, lock tags, stack records).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { main } from '../../orchestrator/cli';
import { readSandboxFile } from '../../orchestrator/commands/aws-session';
import { CANARY, PASSPHRASE, leaks, writeSecretStackConfig } from './canary';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'asg-deploy.js');

interface Run {
  what: string;
  code: number;
  stdout: string;
  stderr: string;
}

test('no canary reaches any output channel of deploy, deploy --dry-run, roll with an SSH gate, lock, status', async (t) => {
  t.timeout(480_000, 'a dozen CLI runs, each deriving the passphrase key');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'canary-'));
  const state = path.join(dir, 'state.json');
  const config = path.join(dir, 'Pulumi.sec.yaml');

  // The webhook receiver: keeps every body; the first post fails (500).
  const bodies: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      bodies.push(body);
      res.statusCode = bodies.length === 1 ? 500 : 200;
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T0CANARY/B0CANARY/${CANARY.webhookToken}`;

  // A stand-in ssh: OpenSSH's missing-identity warning, then a remote command echoing its arguments; exit 1.
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  fs.writeFileSync(
    path.join(bin, 'ssh'),
    '#!/bin/sh\nkey=""\nwhile [ $# -gt 0 ]; do [ "$1" = -i ] && key="$2"; last="$1"; shift; done\n' +
      'echo "Warning: Identity file $key not accessible: No such file or directory." >&2\necho "check failed: $last" >&2\nexit 1\n',
    { mode: 0o755 },
  );

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PATH: `${bin}${path.delimiter}${process.env.PATH}`,
    CI: 'true',
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    AWS_ACCESS_KEY_ID: 'AKIACANARYEXAMPLE',
    AWS_SECRET_ACCESS_KEY: CANARY.awsSecretKey,
    AWS_SESSION_TOKEN: CANARY.awsSessionToken,
  };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;

  const runs: Run[] = [];
  const states: string[] = [];
  const cli = (what: string, args: string[]) =>
    new Promise<Run>((resolve) => {
      const started = Date.now();
      execFile('node', [BIN, ...args], { cwd: ROOT, env, maxBuffer: 64 << 20, timeout: 180_000 }, (err, stdout, stderr) => {
        const run = { what, code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr };
        runs.push(run);
        t.log(`${what}: exit ${run.code} in ${Date.now() - started} ms`);
        if (fs.existsSync(state)) states.push(fs.readFileSync(state, 'utf8'));
        resolve(run);
      });
    });
  const sandbox = ['--sandbox-state', state];
  const reports = { roll: path.join(dir, 'roll.html'), dry: path.join(dir, 'dry.html'), deploy: path.join(dir, 'deploy.html') };
  const gate = ['--health-command', `rabbitmq-check --password=${CANARY.bastionPassword} cluster`, '--ssh-key', CANARY.sshKeyPath, '--ssh-bastion', 'ops@bastion.internal', '--step-timeout', '3m'];

  try {
    writeSecretStackConfig(dir, 'sec');
    const v1 = await cli('deploy v1 --create', ['deploy', '--stack', 'sec', '--create', '--config-file', config, ...sandbox, '--json', '--notify-webhook', hook]);
    t.is(v1.code, 0, v1.stderr);

    writeSecretStackConfig(dir, 'sec', { image: 'ami-0demo2' });
    const infra = await cli('deploy v2 --skip-rollout', ['deploy', '--stack', 'sec', '--config-file', config, ...sandbox, '--skip-rollout', '--notify-webhook', hook]);
    t.is(infra.code, 0, infra.stderr);
    const roll = await cli('roll with a failing SSH gate', ['roll', '--asg', 'sec-rabbit', ...sandbox, '--json', ...gate, '--report', reports.roll]);
    t.is(roll.code, 1, 'the gate fails, the rollout halts safe');
    t.regex(roll.stdout, /exit 1: Warning: Identity file \[redacted\] not accessible/, 'the gate failure is shown, masked');
    const rollHuman = await cli('roll (human)', ['roll', '--asg', 'sec-rabbit', ...sandbox, ...gate]);
    t.is(rollHuman.code, 1);
    t.regex(rollHuman.stderr, /ssh rabbitmq-check … via ops@bastion\.internal/, 'the plan names the gate by its program only');


    const dry = await cli('deploy --dry-run', ['deploy', '--stack', 'sec', '--config-file', config, ...sandbox, '--dry-run', '--json', '--report', reports.dry]);
    t.is(dry.code, 0, dry.stderr);
    const v2 = await cli('deploy v2', ['deploy', '--stack', 'sec', '--config-file', config, ...sandbox, '--json', '--notify-webhook', hook, '--report', reports.deploy]);
    t.is(v2.code, 0, v2.stderr);
    t.is((await cli('status --json', ['status', '--stack', 'sec', ...sandbox, '--json'])).code, 0);
  } finally {
    server.close();
  }

  // The live view, in-process on a pretend terminal (interactive, no CI).
  writeSecretStackConfig(dir, 'sec', { image: 'ami-0demo3' });
  const out = new PassThrough();
  const tty = Object.assign(new PassThrough(), { isTTY: true, columns: 120 });
  let live = '';
  tty.on('data', (d) => (live += d));
  out.resume();
  const savedEnv = { ...process.env };
  Object.assign(process.env, { AWS_SECRET_ACCESS_KEY: CANARY.awsSecretKey, AWS_SESSION_TOKEN: CANARY.awsSessionToken });
  let liveCode: number;
  try {
    liveCode = await main(['deploy', '--stack', 'sec', '--config-file', config, ...sandbox], {
      stdout: out,
      stderr: tty,
      signal: new AbortController().signal,
      env: { PULUMI_CONFIG_PASSPHRASE: PASSPHRASE, AWS_SECRET_ACCESS_KEY: CANARY.awsSecretKey, AWS_SESSION_TOKEN: CANARY.awsSessionToken },
    });
  } finally {
    process.env = savedEnv;
  }
  t.is(liveCode, 0, live);
  t.regex(live, /\x1b\[/, 'the live view drew on the terminal');
  states.push(fs.readFileSync(state, 'utf8'));

  // A freeze stays: its record is in the state file checked below.
  t.is((await cli('lock', ['lock', '--environment', 'sec-web', '--reason', 'freeze for the canary test', ...sandbox, '--json'])).code, 0);
  t.regex(states[states.length - 1], /freeze for the canary test/, 'the lock record is in the state file');

  // The rollouts really happened with the secret values in place.
  const aws = readSandboxFile(state)!;
  t.truthy(aws.stacks.sec, 'the stack record is in the state file');
  t.true(bodies.length >= 4, `webhook posts received: ${bodies.length}`);
  t.true(runs.some((r) => /notify\.failed/.test(r.stdout)), 'the failed webhook post was reported');

  const channels: Array<[string, string]> = [
    ...runs.flatMap((r): Array<[string, string]> => [
      [`${r.what}: stdout`, r.stdout],
      [`${r.what}: stderr`, r.stderr],
    ]),
    ['live view', live],
    ...bodies.map((b, i): [string, string] => [`webhook body ${i + 1}`, b]),
    ...Object.entries(reports).map(([what, file]): [string, string] => [`--report of ${what}`, fs.readFileSync(file, 'utf8')]),
  ];
  for (const [name, text] of channels) t.deepEqual(leaks(text), [], `${name} leaks`);
  // The state file: the stack records (Pulumi's state) hold no canary at all. The simulated AWS
  // holds what AWS holds: instances' user data base64-encoded, and tag values as given (AWS has
  // no secret tags: anyone allowed to describe the resources reads them; docs/security.md).
  const others = Object.values(CANARY).filter((v) => v !== CANARY.tag);
  states.forEach((text, i) => {
    const file = JSON.parse(text) as { aws: unknown; stacks: unknown };
    t.deepEqual(leaks(JSON.stringify(file.stacks)), [], `state file after command ${i + 1}: stack records leak`);
    t.deepEqual(leaks(JSON.stringify(file.aws), others), [], `state file after command ${i + 1}: simulated AWS leaks`);
  });
  t.true(states[0].includes(CANARY.tag), 'the secret tag value did reach (simulated) AWS');
  // The reports still say what happened (the assertions above are not vacuous).
  t.true(runs.some((r) => r.stdout.includes('rollout.done')));
  t.regex(fs.readFileSync(reports.roll, 'utf8'), /data-outcome="failed"[\s\S]*\[redacted\]/, 'the roll report tells the gate failure, masked');
  t.regex(fs.readFileSync(reports.deploy, 'utf8'), /data-series="healthy"/, 'the deploy report drew its timelines');
  t.true(states.some((text) => text.includes('hmac-sha256:')), 'the secret inputs are recorded sealed');
});
