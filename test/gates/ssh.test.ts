/**
 * The SSH gate against a real sshd on loopback, started here with a temporary host key and
 * authorized_keys. The same sshd plays the bastion (ProxyJump hop) and the instance.
 * Without sshd (not installed) the tests skip with a message — except in CI (CI=true), where
 * they fail: .ci/run installs openssh-server.
 */
import test from 'ava';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { InstanceView } from '../../orchestrator/aws/port';
import { SshGate, sshArgs } from '../../orchestrator/gates/ssh';

const SSHD = ['/usr/sbin/sshd', '/usr/local/sbin/sshd'].find((p) => fs.existsSync(p));
const haveSsh = (() => {
  try {
    execFileSync('ssh', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const available = Boolean(SSHD) && haveSsh;
const inCi = Boolean(process.env.CI) && process.env.CI !== 'false';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(p));
    });
  });
}

async function waitForPort(port: number, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((r) => {
      const c = net.connect(port, '127.0.0.1', () => {
        c.destroy();
        r(true);
      });
      c.on('error', () => r(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`sshd did not listen on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface Sshd {
  dir: string;
  port: number;
  key: string;
  knownHosts: string;
  user: string;
  proc: ChildProcess;
}

let sshd: Sshd | undefined;

test.before(async () => {
  if (!available) return;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-sshd-'));
  const port = await freePort();
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'host_key')]);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(dir, 'client_key')]);
  fs.copyFileSync(path.join(dir, 'client_key.pub'), path.join(dir, 'authorized_keys'));
  const hostPub = fs.readFileSync(path.join(dir, 'host_key.pub'), 'utf8').trim().split(' ').slice(0, 2).join(' ');
  fs.writeFileSync(path.join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostPub}\n`);
  fs.writeFileSync(path.join(dir, 'empty_known_hosts'), '');
  fs.writeFileSync(
    path.join(dir, 'sshd_config'),
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${path.join(dir, 'host_key')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'StrictModes no',
      'UsePAM no',
      'AllowTcpForwarding yes',
      'LogLevel ERROR',
    ].join('\n') + '\n',
  );
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const proc = spawn(SSHD!, ['-D', '-e', '-f', path.join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  try {
    await waitForPort(port);
  } catch (e) {
    proc.kill();
    throw new Error(`${(e as Error).message}: ${err}`);
  }
  sshd = { dir, port, key: path.join(dir, 'client_key'), knownHosts: path.join(dir, 'known_hosts'), user: os.userInfo().username, proc };
});

test.after.always(() => {
  if (!sshd) return;
  sshd.proc.kill();
  fs.rmSync(sshd.dir, { recursive: true, force: true });
});

function instance(): InstanceView {
  return { instanceId: 'i-new', availabilityZone: 'a', lifecycleState: 'InService', healthStatus: 'Healthy', protectedFromScaleIn: false, launchedFrom: {}, privateIpAddress: '127.0.0.1', elb: {} };
}

const sshTest = available ? test : inCi ? test : test.skip;
if (!available && !inCi) console.warn('SSH gate tests skipped: sshd or ssh not installed (apt-get install -y openssh-server); they run in CI');

sshTest('SSH gate: a command that succeeds through the bastion passes', async (t) => {
  t.truthy(sshd, 'sshd must be installed in CI (.ci/run installs openssh-server)');
  const s = sshd!;
  const gate = new SshGate({ command: 'echo joined', bastion: `127.0.0.1:${s.port}`, user: s.user, key: s.key, knownHosts: s.knownHosts, port: s.port, timeoutMs: 20_000 });
  const r = await gate.check(instance());
  t.true(r.ok, r.state);
  t.is(r.state, 'joined');
});

sshTest('SSH gate: a failing command fails with its exit code and the first line of its stderr', async (t) => {
  t.truthy(sshd, 'sshd must be installed in CI');
  const s = sshd!;
  const gate = new SshGate({ command: 'echo progress; echo "rabbit: not joined" >&2; exit 3', bastion: `${s.user}@127.0.0.1:${s.port}`, user: s.user, key: s.key, knownHosts: s.knownHosts, port: s.port, timeoutMs: 20_000 });
  const r = await gate.check(instance());
  t.false(r.ok);
  t.is(r.state, 'exit 3: rabbit: not joined');
});

sshTest('SSH gate: host keys are checked — an unknown host key fails', async (t) => {
  t.truthy(sshd, 'sshd must be installed in CI');
  const s = sshd!;
  const gate = new SshGate({ command: 'true', bastion: `127.0.0.1:${s.port}`, user: s.user, key: s.key, knownHosts: path.join(s.dir, 'empty_known_hosts'), port: s.port, timeoutMs: 20_000 });
  const r = await gate.check(instance());
  t.false(r.ok);
  t.regex(r.state, /exit 255: .*Host key verification failed/, r.state);
});

test('sshArgs: BatchMode, strict host keys, the bastion hop with the same options', (t) => {
  const args = sshArgs({ command: 'rabbitmqctl cluster_status', bastion: 'bastion.example.com', user: 'centos', key: '/k.pem', knownHosts: '/kh' }, '10.0.0.7');
  const joined = args.join(' ');
  t.regex(joined, /BatchMode=yes/);
  t.regex(joined, /StrictHostKeyChecking=yes/);
  t.regex(joined, /UserKnownHostsFile=\/kh/);
  t.regex(joined, /ProxyCommand=ssh .*'-i' '\/k.pem'.* -W %h:%p 'centos@bastion.example.com'/);
  t.deepEqual(args.slice(-3), ['centos@10.0.0.7', '--', 'rabbitmqctl cluster_status']);
});
