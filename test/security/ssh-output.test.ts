/**
 * What the SSH gate shows of a command, its key and its output: table tests of the pure pieces,
 * plus the gate end to end with a stand-in `ssh` executable that prints what OpenSSH and a remote
 * command print (the real-sshd tests live in test/gates/ssh.test.ts).
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { InstanceView } from '../../orchestrator/aws/port';
import { SshGate, sensitiveStrings, shownCommand, sshOutcome } from '../../orchestrator/gates/ssh';

const KEY = '/home/ci/.ssh/CANARY-deploy_key';
const PW = 'CANARY-pw-hunter2zz';
const COMMAND = `rabbitmq-check --user ops --password=${PW} cluster`;

test('the plan shows the program only: arguments (which may be credentials) are not shown', (t) => {
  const gate = new SshGate({ command: COMMAND, bastion: 'ops@bastion.example.com', key: KEY });
  t.is(gate.name, 'ssh rabbitmq-check … via ops@bastion.example.com');
  t.is(shownCommand('true'), 'true');
});

const sensitive = sensitiveStrings({ command: COMMAND, key: KEY });

const cases: Array<{ title: string; code: number | null; signal?: NodeJS.Signals; stdout?: string; stderr?: string; ok: boolean; state: string }> = [
  { title: 'exit 0: the last stdout line', code: 0, stdout: 'checking\njoined\n', ok: true, state: 'joined' },
  { title: 'exit 0, silent', code: 0, ok: true, state: 'exit 0' },
  {
    title: 'failure: exit code and the first 3 stderr lines, key path and password masked, stdout not shown',
    code: 3,
    stdout: `debug: using ${PW}\n`,
    stderr: `Warning: Identity file ${KEY} not accessible: No such file or directory.\nrabbitmq-check: login ops/${PW} refused\nnode rabbit@a not joined\nline 4\nline 5\n`,
    ok: false,
    state: 'exit 3: Warning: Identity file [redacted] not accessible: No such file or directory. | rabbitmq-check: login ops/[redacted] refused | node rabbit@a not joined (+2 more lines)',
  },
  { title: "ssh's own failure (255)", code: 255, stderr: 'Host key verification failed.\r\n', ok: false, state: 'exit 255: Host key verification failed.' },
  { title: 'timeout', code: null, signal: 'SIGKILL', ok: false, state: 'killed (SIGKILL, timeout)' },
  { title: 'failure without stderr', code: 1, stdout: 'not joined', ok: false, state: 'exit 1' },
];
for (const c of cases) {
  test(`sshOutcome: ${c.title}`, (t) => {
    t.deepEqual(sshOutcome(c.code, c.signal ?? null, c.stdout ?? '', c.stderr ?? '', sensitive), { ok: c.ok, state: c.state });
  });
}

test('the gate end to end: a failing command through a stand-in ssh shows exit code and masked stderr, and ssh gets the key', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssh-standin-'));
  const argsFile = path.join(dir, 'args');
  const ssh = path.join(dir, 'ssh');
  // Like OpenSSH with a missing identity file, then a remote command that echoes its arguments.
  fs.writeFileSync(
    ssh,
    `#!/bin/sh\nprintf '%s\\n' "$@" > ${argsFile}\nkey=''\nwhile [ $# -gt 0 ]; do [ "$1" = -i ] && key="$2"; last="$1"; shift; done\n` +
      `echo "Warning: Identity file $key not accessible: No such file or directory." >&2\necho "remote: $last" >&2\necho more >&2\necho more >&2\nexit 2\n`,
    { mode: 0o755 },
  );
  const gate = new SshGate({ command: COMMAND, key: KEY, ssh, knownHosts: path.join(dir, 'known_hosts') });
  const i = { instanceId: 'i-1', privateIpAddress: '10.0.0.9' } as InstanceView;
  const r = await gate.check(i);
  t.false(r.ok);
  t.is(r.state, 'exit 2: Warning: Identity file [redacted] not accessible: No such file or directory. | remote: [redacted] | more (+1 more line)');
  t.false(r.state.includes('CANARY'));
  const args = fs.readFileSync(argsFile, 'utf8').split('\n');
  t.true(args.includes('StrictHostKeyChecking=yes'), 'host keys checked');
  t.is(args[args.indexOf('-i') + 1], KEY, 'ssh itself gets the key path');
});
