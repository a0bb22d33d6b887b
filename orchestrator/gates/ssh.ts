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
 *
 * What it shows (plans, events, errors): the command's program name only (its arguments may hold
 * credentials), never the key file's path or contents; a failing command's exit code and the
 * first lines of its stderr, with the key path and the command's arguments masked.
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

/** Lines of a failing command's stderr shown, and their length. */
export const STDERR_LINES = 3;
const LINE_MAX = 200;

/** The command as plans show it: its first word (the program), arguments hidden. */
export function shownCommand(command: string): string {
  const words = command.trim().split(/\s+/);
  return words.length > 1 ? `${words[0]} …` : words[0] ?? '';
}

/**
 * Strings never shown: the key file path, the command line, and each argument of the command of
 * 8 or more characters (and the value of a `--flag=value`): where passwords and tokens would be.
 */
export function sensitiveStrings(o: Pick<SshOptions, 'command' | 'key'>): string[] {
  const args = o.command
    .trim()
    .split(/\s+/)
    .slice(1)
    .flatMap((w) => [w, ...w.split('=').slice(1)])
    .map((w) => w.replace(/^['"]+|['";]+$/g, ''));
  return [...new Set([o.key ?? '', o.command.trim(), ...args])].filter((s) => s.length >= 8).sort((a, b) => b.length - a.length);
}

/** `text` with every sensitive string masked. */
export function mask(text: string, sensitive: string[]): string {
  let out = text;
  for (const s of sensitive) out = out.split(s).join('[redacted]');
  return out;
}

/**
 * The state a finished ssh shows. Exit 0: its last stdout line. Otherwise the exit code (255 is
 * ssh's own: connection, authentication, host key) and the first lines of stderr only, masked.
 */
export function sshOutcome(code: number | null, signal: NodeJS.Signals | null, stdout: string, stderr: string, sensitive: string[]): { ok: boolean; state: string } {
  const lines = (text: string) => text.split('\n').map((l) => l.trim()).filter(Boolean).map((l) => mask(l, sensitive)).map((l) => (l.length > LINE_MAX ? `${l.slice(0, LINE_MAX)}…` : l));
  if (code === 0) return { ok: true, state: lines(stdout).slice(-1)[0] ?? 'exit 0' };
  const err = lines(stderr);
  const head = err.slice(0, STDERR_LINES).join(' | ');
  const more = err.length > STDERR_LINES ? ` (+${err.length - STDERR_LINES} more line${err.length - STDERR_LINES === 1 ? '' : 's'})` : '';
  const what = signal ? `killed (${signal}, timeout)` : `exit ${code}`;
  return { ok: false, state: `${what}${head ? `: ${head}${more}` : ''}` };
}

export class SshGate implements Gate {
  readonly name: string;
  constructor(private readonly o: SshOptions) {
    this.name = `ssh ${shownCommand(o.command)}${o.bastion ? ` via ${o.bastion}` : ''}`;
  }

  check(instance: InstanceView, signal?: AbortSignal): Promise<GateResult> {
    if (!instance.privateIpAddress) return Promise.resolve({ ok: false, state: 'no private IP address yet' });
    const args = sshArgs(this.o, instance.privateIpAddress);
    return new Promise((resolve, reject) => {
      const child = spawn(this.o.ssh ?? 'ssh', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let errText = '';
      // The end of stdout (its last line is shown on success), the start of stderr (its first lines on failure).
      child.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-2000)));
      child.stderr.on('data', (d: Buffer) => (errText = errText.length < 8000 ? errText + d.toString() : errText));
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
        resolve(sshOutcome(code, sig, out, errText, sensitiveStrings(this.o)));
      });
    });
  }
}
