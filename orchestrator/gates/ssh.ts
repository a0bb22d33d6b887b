/**
 * `--health-command`: a command run ON the new instance over SSH through a bastion, with the
 * system OpenSSH client — the seed's way to check that a RabbitMQ node joined its cluster.
 * Exit status 0 passes.
 *
 * The jump goes through the bastion as `ProxyJump` does (`ssh -W %h:%p` on the bastion), written
 * out as a ProxyCommand so the bastion hop gets the same key, BatchMode and host-key options.
 * Host keys are checked by default (`StrictHostKeyChecking yes`); `--ssh-known-hosts FILE` points
 * both hops at a known-hosts file. BatchMode: never a prompt.
 *
 * `bastion` and target accept `user@host:port`; the user defaults to `--ssh-user`.
 * The timeout is real wall time for one SSH session (a child process), not the rollout clock.
 */
import { spawn } from 'node:child_process';
import type { InstanceView } from '../aws/port';
import type { Gate, GateResult } from './gate';

export interface SshOptions {
  command: string;
  bastion?: string;
  user?: string;
  key?: string;
  knownHosts?: string;
  /** Port sshd listens on for the instances (default 22). */
  port?: number;
  timeoutMs?: number;
  /** The ssh binary (tests may point at another). */
  ssh?: string;
}

function splitHost(spec: string, defaultUser?: string): { user?: string; host: string; port?: number } {
  let user = defaultUser;
  let rest = spec;
  const at = spec.lastIndexOf('@');
  if (at >= 0) {
    user = spec.slice(0, at);
    rest = spec.slice(at + 1);
  }
  const m = /^\[(.+)\](?::(\d+))?$/.exec(rest) ?? /^([^:]+)(?::(\d+))?$/.exec(rest);
  return { user, host: m ? m[1] : rest, port: m?.[2] ? Number(m[2]) : undefined };
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The argv for `ssh` (exported for tests and --dry-run). */
export function sshArgs(o: SshOptions, ip: string): string[] {
  const common: string[] = ['-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', 'ConnectTimeout=10', '-o', 'LogLevel=ERROR'];
  if (o.knownHosts) common.push('-o', `UserKnownHostsFile=${o.knownHosts}`, '-o', 'GlobalKnownHostsFile=/dev/null');
  if (o.key) common.push('-i', o.key, '-o', 'IdentitiesOnly=yes');
  const args = [...common];
  if (o.bastion) {
    const b = splitHost(o.bastion, o.user);
    const hop = [o.ssh ?? 'ssh', ...common.map(q), ...(b.port ? ['-p', String(b.port)] : []), '-W', '%h:%p', q(b.user ? `${b.user}@${b.host}` : b.host)];
    args.push('-o', `ProxyCommand=${hop.join(' ')}`);
  }
  const t = splitHost(ip, o.user);
  const port = t.port ?? o.port;
  if (port) args.push('-p', String(port));
  args.push(t.user ? `${t.user}@${t.host}` : t.host, '--', o.command);
  return args;
}

export class SshGate implements Gate {
  readonly name: string;
  constructor(private readonly o: SshOptions) {
    this.name = `ssh ${o.command}${o.bastion ? ` via ${o.bastion}` : ''}`;
  }

  check(instance: InstanceView, signal?: AbortSignal): Promise<GateResult> {
    if (!instance.privateIpAddress) return Promise.resolve({ ok: false, state: 'no private IP address yet' });
    const args = sshArgs(this.o, instance.privateIpAddress);
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.ssh ?? 'ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const take = (d: Buffer) => {
        out = (out + d.toString()).slice(-2000);
      };
      child.stdout.on('data', take);
      child.stderr.on('data', take);
      const timer = setTimeout(() => child.kill('SIGKILL'), this.o.timeoutMs ?? 30_000);
      const onAbort = () => child.kill('SIGKILL');
      signal?.addEventListener('abort', onAbort, { once: true });
      child.on('error', (err) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        resolve({ ok: false, state: `cannot run ssh: ${err.message}` });
      });
      child.on('close', (code, sig) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (signal?.aborted) return reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
        const lines = out.trim().split('\n').filter(Boolean);
        const last = code === 0 ? lines.slice(-1)[0] ?? '' : lines.slice(-2).join(' | ');
        if (code === 0) resolve({ ok: true, state: last || 'exit 0' });
        else resolve({ ok: false, state: `${sig ? `killed (${sig}, timeout)` : `exit ${code}`}${last ? `: ${last}` : ''}` });
      });
    });
  }
}
