/**
 * The simulated AWS in a process of its own, so that the engine's memory can be measured apart
 * from it (./engine-memory.ts). Forked with `serialization: 'advanced'` (Dates and byte arrays
 * cross intact). Messages:
 *
 *   { setup: { name, size, boot, elb, scenario? } } → { ready: now }
 *       scenario 'rolling' (default): a settled group `name` of `size` instances behind the classic
 *       ELB `name-elb` (no draining) + a new template version;
 *       scenario 'ab': the colors `name-a` (`size` instances) and `name-b` (empty), each behind its
 *       own classic ELB with 300 s draining, one shared launch template with a new version
 *   { id, service, operation, input, actor, now }     one SDK attempt, at the engine's clock time
 *                                  → { id, output } | { id, fault: {code, message, status, fault} } | { id, error }
 *   { stats: true }                → { stats: { calls, now } }
 *
 * With `wire: 'xml'` in the call (Auto Scaling, EC2, classic ELB), the answer is the HTTP status
 * and the XML body AWS would send (./wire.ts): { id, status, body, requestId }; the engine's SDK
 * parses it as it parses AWS's.
 *
 * Sound because the sandbox runs everything due up to the clock time at the start of every API
 * call (SPEC.md §0): advancing its clock to the engine's time before each call gives the same
 * world the in-process sandbox would show at that moment. The bench checks it: the rollout's
 * simulated duration and API calls must equal the in-process run's.
 */
import { Sandbox } from '../sandbox';
import type { ServiceName } from '../sandbox/faults';
import { errorXml, isWireService, responseXml } from './wire';

const SEED = 20260101;

interface Call {
  id: number;
  service: ServiceName;
  operation: string;
  input: unknown;
  actor: string;
  now: number;
  wire?: 'xml';
}

function main(): void {
  let sb: Sandbox | undefined;
  // The engine's process is gone (done, killed or crashed): nothing is left to answer.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { setup?: { name: string; size: number; boot: number; elb: Record<string, number>; scenario?: 'rolling' | 'ab' } } & Partial<Call> & { stats?: boolean }) => {
    if (m.setup) {
      const { name, size, boot, elb, scenario } = m.setup;
      sb = Sandbox.create({ seed: SEED, faults: { bootSeconds: boot, appStartSeconds: 0 } });
      const healthCheck = { target: 'HTTP:8080/health', ...elb };
      if (scenario === 'ab') {
        // As the bench's in-process A/B (bench.ts abCost): a 1,000 → 1,000 swap with draining.
        const lt = `${name}-ab-lt`;
        sb.seedGroup({ name: `${name}-a`, capacity: size, max: size, launchTemplateName: lt, healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: { name: `${name}-a`, healthCheck, drainingTimeout: 300 } });
        sb.seedGroup({ name: `${name}-b`, capacity: 0, max: size, launchTemplateName: lt, healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: { name: `${name}-b`, healthCheck, drainingTimeout: 300 } });
        sb.newLaunchTemplateVersion(lt, { ImageId: 'ami-0new0000000000000' });
      } else {
        sb.seedGroup({ name, capacity: size, max: size, healthCheckType: 'ELB', healthCheckGracePeriod: 300, elb: { name: `${name}-elb`, healthCheck, drainingTimeout: 0 } });
        sb.newLaunchTemplateVersion(`${name}-lt`, { ImageId: 'ami-0new0000000000000' });
      }
      process.send!({ ready: sb.clock.now() });
      return;
    }
    if (m.stats) {
      const operations: Record<string, number> = {};
      for (const c of sb?.calls ?? []) operations[c.operation] = (operations[c.operation] ?? 0) + 1;
      process.send!({ stats: { calls: sb?.calls.length ?? 0, now: sb?.clock.now(), operations } });
      return;
    }
    const c = m as Call;
    if (!sb) {
      process.send!({ id: c.id, error: 'sim-server: no setup' });
      return;
    }
    sb.clock.advanceTo(c.now);
    const xml = c.wire === 'xml' && isWireService(c.service) ? c.service : undefined;
    sb.invoke(c.service, c.operation, c.input, c.actor).then(
      (output) => {
        if (!xml) return process.send!({ id: c.id, output });
        const requestId = (output as { $metadata?: { requestId?: string } }).$metadata?.requestId ?? `sim-${c.id}`;
        process.send!({ id: c.id, status: 200, requestId, body: responseXml(xml, c.operation, output as Record<string, unknown>, requestId) });
      },
      (err: { Code?: string; name?: string; message?: string; $fault?: 'client' | 'server'; $metadata?: { httpStatusCode?: number } }) => {
        // An AWS-shaped error (the sandbox's toSdkError): its code, status and fault rebuild it on the other side.
        if (err?.$metadata?.httpStatusCode !== undefined && xml) {
          const requestId = (err.$metadata as { requestId?: string }).requestId ?? `sim-${c.id}`;
          process.send!({ id: c.id, status: err.$metadata.httpStatusCode, requestId, body: errorXml(xml, String(err.Code ?? err.name), String(err.message), err.$fault ?? 'client', requestId) });
        } else if (err?.$metadata?.httpStatusCode !== undefined) {
          process.send!({ id: c.id, fault: { code: err.Code ?? err.name, message: err.message, status: err.$metadata.httpStatusCode, fault: err.$fault } });
        } else {
          process.send!({ id: c.id, error: `${err?.name}: ${err?.message}` });
        }
      },
    );
  });
}

if (require.main === module) main();
