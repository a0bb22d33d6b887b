/**
 * AWS's wire format for the simulated AWS's answers (issue 21 item 5): the engine-memory probe
 * (./engine-memory.ts) can have the simulation answer each SDK attempt with the HTTP body AWS
 * itself sends, so that the engine's process pays for what it pays for against real AWS: the
 * SDK's XML parsing and schema-driven deserialization of every 1,000-instance answer.
 *
 * Auto Scaling and classic ELB speak the AWS Query protocol, EC2 the EC2 Query protocol; both
 * answer in XML:
 *  - Query:     `<OpResponse xmlns=NS><OpResult>…members…</OpResult><ResponseMetadata><RequestId>…`
 *  - EC2 Query: `<OpResponse xmlns=NS><requestId>…</requestId>…members…</OpResponse>`
 * The members are written by the SDK's own XmlShapeSerializer from the operation's output schema
 * (the `Op$` schema each client exports: member names, `xmlName` traits, `member`/`item` list
 * wrappers, date-time timestamps), the inverse of the XmlShapeDeserializer the client runs; the
 * namespaces are the clients' own `protocolSettings.xmlNamespace`. Errors use the bodies the
 * SDK's protocols parse (AwsQueryProtocol.loadQueryError: `Error` for Query, `Errors.Error` for
 * EC2), as in test/sandbox/errors.test.ts. A round-trip test (test/proof/wire.test.ts) decodes
 * each body with the real client and compares it with the simulation's object.
 */
import { XmlShapeSerializer } from '@aws-sdk/core/protocols';
import type { ServiceName } from '../sandbox/faults';

export type WireService = 'autoscaling' | 'ec2' | 'elb';

interface ServiceWire {
  /** The client package's exports: `Op$` operation schemas. */
  schemas: Record<string, unknown>;
  xmlNamespace: string;
  ec2: boolean;
}

const packages: Record<WireService, string> = {
  autoscaling: '@aws-sdk/client-auto-scaling',
  ec2: '@aws-sdk/client-ec2',
  elb: '@aws-sdk/client-elastic-load-balancing',
};
const clientClass: Record<WireService, string> = { autoscaling: 'AutoScalingClient', ec2: 'EC2Client', elb: 'ElasticLoadBalancingClient' };

const loaded = new Map<WireService, ServiceWire>();

export function isWireService(s: ServiceName): s is WireService {
  return s === 'autoscaling' || s === 'ec2' || s === 'elb';
}

function wireOf(service: WireService): ServiceWire {
  let w = loaded.get(service);
  if (!w) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(packages[service]) as Record<string, unknown>;
    const Client = mod[clientClass[service]] as new (c: object) => { config: { protocolSettings?: { xmlNamespace?: string } }; destroy(): void };
    const c = new Client({ region: 'us-east-1' });
    const xmlNamespace = c.config.protocolSettings?.xmlNamespace;
    c.destroy();
    if (!xmlNamespace) throw new Error(`wire: ${packages[service]} has no xmlNamespace`);
    w = { schemas: mod, xmlNamespace, ec2: service === 'ec2' };
    loaded.set(service, w);
  }
  return w;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** The XML body AWS answers `operation` with, for the output object `output`. */
export function responseXml(service: WireService, operation: string, output: Record<string, unknown>, requestId: string): string {
  const w = wireOf(service);
  const op = w.schemas[`${operation}$`] as unknown[] | undefined;
  if (!Array.isArray(op)) throw new Error(`wire: ${packages[service]} has no schema for ${operation}`);
  const outputSchema = typeof op[5] === 'function' ? (op[5] as () => unknown)() : op[5];
  if (outputSchema === 'unit') {
    // No output members (SetDesiredCapacity, TerminateInstances' Query cousins…): the envelope only.
    return w.ec2
      ? `<${operation}Response xmlns="${w.xmlNamespace}"><requestId>${requestId}</requestId></${operation}Response>`
      : `<${operation}Response xmlns="${w.xmlNamespace}"><ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
  }
  const ser = new XmlShapeSerializer({ timestampFormat: { useTrait: true, default: 5 /* date-time */ }, httpBindings: false, xmlNamespace: w.xmlNamespace } as never);
  ser.write(outputSchema as never, output);
  // The serializer names the root after the output shape; the protocol names it after the operation.
  type Node = { withName(n: string): Node; addChildNode(n: Node): Node; constructor: { of(name: string, text?: string): Node } };
  const root = (ser as unknown as { buffer: Node }).buffer;
  if (w.ec2) {
    root.withName(`${operation}Response`).addChildNode(root.constructor.of('requestId', requestId));
    return ser.flush() as string;
  }
  root.withName(`${operation}Result`);
  const result = (ser.flush() as string).replace(/^(<[A-Za-z]+Result) xmlns="[^"]*"/, '$1');
  return `<${operation}Response xmlns="${w.xmlNamespace}">${result}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${operation}Response>`;
}

/** The XML error body AWS answers with (Query: ErrorResponse/Error; EC2: Response/Errors/Error). */
export function errorXml(service: WireService, code: string, message: string, fault: 'client' | 'server', requestId: string): string {
  const m = escapeXml(message);
  if (service === 'ec2') return `<Response><Errors><Error><Code>${code}</Code><Message>${m}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`;
  return `<ErrorResponse><Error><Type>${fault === 'server' ? 'Receiver' : 'Sender'}</Type><Code>${code}</Code><Message>${m}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>`;
}
