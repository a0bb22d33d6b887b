/**
 * A simulated AWS served over HTTP, standing in for "your account": the real SDK clients of a
 * command (aws/clients.ts, the standard chain with AWS_ENDPOINT_URL pointing here) send it real
 * signed requests. It speaks the AWS Query protocol of EC2 Auto Scaling, ELB and ELBv2 — the
 * request a form (`Action=…&Version=…&Names.member.1=…`), the answer
 * `<{Action}Response><{Action}Result>…</…>` with lists as `<member>` elements and errors as
 * `<ErrorResponse><Error><Code>…` — as the SDK's own AwsQueryProtocol serializes and parses them
 * (node_modules/@aws-sdk/core, protocols: QueryShapeSerializer, XmlShapeDeserializer,
 * AwsQueryProtocol.deserializeResponse/handleError).
 *
 * Read-only operations are answered by the sandbox. A MUTATING operation (the sandbox's own
 * list: anything but Describe*) is recorded in `mutating` and refused without being applied
 * (400 `RehearsalMutatingCall`): a test of a read-only guarantee asserts `mutating` is empty.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Sandbox } from '../../orchestrator/sandbox';
import { autoScalingReadOnly } from '../../orchestrator/sandbox/autoscaling/ops';
import { elbReadOnly } from '../../orchestrator/sandbox/elb/ops';
import { elbv2ReadOnly } from '../../orchestrator/sandbox/elbv2/ops';
import type { ServiceName } from '../../orchestrator/sandbox/faults';

export interface SandboxEndpoint {
  url: string;
  /** Every request: `service Operation`. */
  requests: string[];
  /** Mutating requests (refused, not applied). */
  mutating: string[];
  close(): Promise<void>;
}

/** The API versions the SDK sends (the `Version` form field): ELB and ELBv2 share a signing name. */
const BY_VERSION: Record<string, ServiceName> = { '2011-01-01': 'autoscaling', '2012-06-01': 'elb', '2015-12-01': 'elbv2' };
const READ_ONLY: Partial<Record<ServiceName, (op: string) => boolean>> = { autoscaling: autoScalingReadOnly, elb: elbReadOnly, elbv2: elbv2ReadOnly };
const NUMBERS = new Set(['MaxRecords', 'PageSize']);
const BOOLEANS = new Set(['IncludeDeletedGroups']);

/** A Query-protocol form as the input object the SDK was given (`X.member.N` → arrays). */
export function parseQueryForm(body: string): { action: string; version: string; input: Record<string, unknown> } {
  const form = new URLSearchParams(body);
  const root: Record<string, unknown> = {};
  let action = '';
  let version = '';
  for (const [key, raw] of form) {
    if (key === 'Action') action = raw;
    else if (key === 'Version') version = raw;
    else {
      const parts = key.split('.');
      let node = root as Record<string, unknown>;
      parts.forEach((p, i) => {
        if (i === parts.length - 1) node[p] = NUMBERS.has(p) ? Number(raw) : BOOLEANS.has(p) ? raw === 'true' : raw;
        else node = (node[p] ??= {}) as Record<string, unknown>;
      });
    }
  }
  const lists = (v: unknown): unknown => {
    if (!v || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    const keys = Object.keys(o);
    if (keys.length === 1 && keys[0] === 'member') {
      const m = o.member as Record<string, unknown>;
      return Object.keys(m)
        .sort((a, b) => Number(a) - Number(b))
        .map((k) => lists(m[k]));
    }
    return Object.fromEntries(keys.map((k) => [k, lists(o[k])]));
  };
  return { action, version, input: lists(root) as Record<string, unknown> };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** One value as Query-protocol XML: lists as `<member>`, timestamps ISO 8601, structures by member name. */
export function toQueryXml(name: string, v: unknown): string {
  if (v === undefined || v === null) return '';
  if (Array.isArray(v)) return `<${name}>${v.map((x) => toQueryXml('member', x)).join('')}</${name}>`;
  if (v instanceof Date) return `<${name}>${v.toISOString()}</${name}>`;
  if (typeof v === 'object') {
    return `<${name}>${Object.entries(v)
      .filter(([k]) => k !== '$metadata')
      .map(([k, x]) => toQueryXml(k, x))
      .join('')}</${name}>`;
  }
  return `<${name}>${esc(String(v))}</${name}>`;
}

function errorXml(code: string, message: string, type = 'Sender'): string {
  return `<ErrorResponse><Error><Type>${type}</Type><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ErrorResponse>`;
}

export async function serveSandbox(sb: Sandbox): Promise<SandboxEndpoint> {
  const requests: string[] = [];
  const mutating: string[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const { action, version, input } = parseQueryForm(Buffer.concat(chunks).toString('utf8'));
      const service = BY_VERSION[version];
      const reply = (status: number, xml: string) => {
        res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': '00000000-0000-4000-8000-000000000000' });
        res.end(xml);
      };
      requests.push(`${service ?? `unknown(${req.headers.authorization?.split('/')[3] ?? version})`} ${action}`);
      if (!service) return reply(400, errorXml('InvalidAction', `this test endpoint serves Auto Scaling, ELB and ELBv2 only (Version ${version})`));
      if (!READ_ONLY[service]!(action)) {
        mutating.push(`${service} ${action}`);
        return reply(400, errorXml('RehearsalMutatingCall', `${service} ${action} changes AWS: refused (the rehearsal must only read)`));
      }
      sb.invoke(service, action, input, 'real-account').then(
        (out: Record<string, unknown>) => reply(200, `<${action}Response>${toQueryXml(`${action}Result`, out)}<ResponseMetadata><RequestId>00000000-0000-4000-8000-000000000000</RequestId></ResponseMetadata></${action}Response>`),
        (err: { name?: string; Code?: string; message?: string; $fault?: string; $metadata?: { httpStatusCode?: number } }) =>
          reply(err.$metadata?.httpStatusCode ?? 500, errorXml(err.Code ?? err.name ?? 'InternalFailure', err.message ?? '', err.$fault === 'server' ? 'Receiver' : 'Sender')),
      );
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    mutating,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
