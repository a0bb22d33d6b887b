/**
 * `--health-url`: HTTP GET on the instance's private address; passes on a 2xx within the timeout.
 * The URL is a template: `{ip}` is replaced by the private IP (`http://{ip}:8080/health`); a bare
 * path (`/health`, `:8080/health`) means `http://{ip}` + path.
 *
 * The timeout is real network time (AbortSignal.timeout), not the rollout's clock: it bounds one
 * request on the wire.
 */
import type { InstanceView } from '../aws/port';
import type { Gate, GateResult } from './gate';

export function healthUrlFor(template: string, ip: string): string {
  const t = template.trim();
  if (t.includes('{ip}')) return t.split('{ip}').join(ip);
  if (t.startsWith('/') || t.startsWith(':')) return `http://${ip}${t}`;
  if (/^https?:\/\//.test(t)) return t;
  return `http://${ip}/${t}`;
}

export class HttpGate implements Gate {
  readonly name: string;
  constructor(
    private readonly template: string,
    private readonly timeoutMs = 5000,
  ) {
    this.name = `http ${template}`;
  }

  async check(instance: InstanceView, signal?: AbortSignal): Promise<GateResult> {
    if (!instance.privateIpAddress) return { ok: false, state: 'no private IP address yet' };
    const url = healthUrlFor(this.template, instance.privateIpAddress);
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const s = signal ? AbortSignal.any([signal, timeout]) : timeout;
    try {
      const res = await fetch(url, { method: 'GET', signal: s, redirect: 'manual' });
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, state: `HTTP ${res.status}` };
      return { ok: false, state: `GET ${url}: HTTP ${res.status}` };
    } catch (err) {
      if (signal?.aborted) throw err;
      const e = err as Error & { cause?: { code?: string; message?: string } };
      const why = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : e.cause?.code ?? e.cause?.message ?? e.message;
      return { ok: false, state: `GET ${url}: ${why}` };
    }
  }
}
