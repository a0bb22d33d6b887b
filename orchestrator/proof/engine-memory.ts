/**
 * The engine's peak memory with the simulated AWS in another process (./sim-server.ts), run by
 * `npm run bench` as a child, compiled as the CLI runs: `node dist/orchestrator/proof/engine-memory.js
 * SIZE BATCH [decoded|xml] [rolling|ab]` (or under tsx from the sources): the rolling rollout of a
 * SIZE-instance group in batches of BATCH (default), or the A/B swap of SIZE → SIZE instances
 * (`ab`, BATCH unused), as the bench runs them in-process. This process holds only what a real `roll` holds —
 * node, the AWS SDK v3 clients a roll uses, the tool — and its clients' middleware forwards every SDK attempt to the simulation over IPC instead
 * of HTTP. It starts as the CLI starts (bin/asg-deploy.js): V8's compile cache enabled before anything else
 * loads (./as-cli.ts). Prints one JSON line: { peakRssMb, rssBeforeMb, simulatedSeconds, apiCalls, replaced,
 * serverCalls, operations (per AWS operation), wire, scenario, newSpaceMb and oldSpaceMb (the largest size
 * V8 gave those heap spaces), newSpaceBeforeMb (the young generation's size when the rollout
 * started, after loading), error? }.
 *
 * Two ways the answers cross (the third argument):
 *  - `decoded` (default): the simulation's output objects, decoded from IPC, handed to the SDK past
 *    its deserializer (a middleware after the retry middleware returns them): the SDK parses nothing;
 *  - `xml`: the simulation answers with the HTTP status and the XML body AWS would send (./wire.ts)
 *    and the clients' own request handler hands it to the SDK, which signs the request and parses
 *    the XML and deserializes it by the operation's schema as it does against AWS (issue 21 item 5).
 *
 * Same rollout as in-process: the bench compares simulated seconds and API calls with the
 * in-process run and reports the measurement only when they agree.
 */
// First, as bin/asg-deploy.js does before loading the CLI: the compile cache (./as-cli.ts).
import './as-cli';
import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { getHeapSpaceStatistics } from 'node:v8';
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { S3Client } from '@aws-sdk/client-s3';
import { createAwsPort } from '../aws/adapter';
import type { AwsClients } from '../aws/clients';
import { VirtualClock } from '../clock';
import { silentReporter } from '../report/reporter';
import { abDeploy } from '../rollout/ab/runner';
import type { RolloutResult } from '../rollout/result';
import { rollGroup } from '../rollout/rolling/runner';
import { SimFault, toSdkError, type ServiceName } from '../sandbox/faults';
import { VirtualClockRetryStrategy } from '../sandbox/retry';

const BOOT = 90;
const ELB = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2, timeout: 5 };

type Reply = { id: number; output?: Record<string, unknown>; status?: number; body?: string; requestId?: string; fault?: { code: string; message: string; status: number; fault: 'client' | 'server' }; error?: string };

/**
 * This process's own RSS high-water (VmHWM, Linux), in KB. getrusage's maxRSS is kept across exec:
 * a child spawned by a big process (the bench) would report its parent's high-water.
 */
export function ownPeakRssKb(): number {
  try {
    const m = /VmHWM:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]);
  } catch {
    // not Linux: maxRSS
  }
  return process.resourceUsage().maxRSS;
}

export type Scenario = 'rolling' | 'ab';

async function main(size: number, batch: number, wire: 'decoded' | 'xml', scenario: Scenario): Promise<void> {
  // Compiled (dist/, as the CLI runs) or TypeScript under tsx (tests): the server the same way.
  const compiled = __filename.endsWith('.js');
  const server = fork(join(__dirname, compiled ? 'sim-server.js' : 'sim-server.ts'), [], { execArgv: compiled ? [] : ['--import', 'tsx'], serialization: 'advanced', stdio: ['ignore', 'ignore', process.env.SIM_DEBUG ? 'inherit' : 'ignore', 'ipc'] });
  const pending = new Map<number, (r: Reply) => void>();
  let ready: ((now: number) => void) | undefined;
  let stats: ((s: { calls: number; operations?: Record<string, number> }) => void) | undefined;
  server.on('message', (m: Reply & { ready?: number; stats?: { calls: number; operations?: Record<string, number> } }) => {
    if (m.ready !== undefined) return ready?.(m.ready);
    if (m.stats) return stats?.(m.stats);
    pending.get(m.id)?.(m);
    pending.delete(m.id);
    sampleSpaces();
  });
  // Where the peak goes: the largest size V8 gave its young generation (new space) and old space, sampled at every answer.
  const spaces = { newSpaceMb: 0, oldSpaceMb: 0 };
  const sampleSpaces = () => {
    for (const sp of getHeapSpaceStatistics()) {
      if (sp.space_name === 'new_space') spaces.newSpaceMb = Math.max(spaces.newSpaceMb, sp.space_size / 1048576);
      if (sp.space_name === 'old_space') spaces.oldSpaceMb = Math.max(spaces.oldSpaceMb, sp.space_size / 1048576);
    }
  };
  const start = await new Promise<number>((resolve) => {
    ready = resolve;
    server.send({ setup: { name: 'big', size, boot: BOOT, elb: ELB, scenario } });
  });
  const clock = new VirtualClock({ start });
  let nextId = 0;
  const call = (service: ServiceName, operation: string, input: unknown, asXml = false): Promise<Reply> =>
    new Promise((resolve) => {
      const id = ++nextId;
      pending.set(id, resolve);
      server.send({ id, service, operation, input, actor: 'engine', now: clock.now(), ...(asXml ? { wire: 'xml' } : {}) });
    });
  const quietLogger = { trace() {}, debug() {}, warn() {}, error() {} };
  const noNetwork = { handle: () => Promise.reject(new Error('engine-memory: a request reached HTTP')), destroy() {}, updateHttpClientConfig() {}, httpHandlerConfigs: () => ({}) };
  // xml: the attempt (operation and input, by a header the middleware below sets) goes to the
  // simulation, whose XML answer comes back as the HTTP response the SDK then parses.
  const attempts = new Map<string, { service: ServiceName; operation: string; input: unknown }>();
  const SIM_HEADER = 'x-asg-deploy-sim-attempt';
  const xmlHandler = {
    async handle(request: { headers: Record<string, string> }) {
      const key = request.headers[SIM_HEADER];
      const a = attempts.get(key);
      attempts.delete(key);
      if (!a) throw new Error('engine-memory: an attempt without its operation');
      const r = await call(a.service, a.operation, a.input, true);
      if (r.error !== undefined) throw new Error(r.error);
      return { response: { statusCode: r.status ?? 500, headers: { 'content-type': 'text/xml', 'x-amzn-requestid': r.requestId ?? '' }, body: Readable.from([Buffer.from(r.body ?? '')]) } };
    },
    destroy() {},
    updateHttpClientConfig() {},
    httpHandlerConfigs: () => ({}),
  };
  const common = (seed: number) => ({
    region: 'us-east-1',
    credentials: { accessKeyId: 'ASIASANDBOX0000000000', secretAccessKey: 'sandbox' },
    maxAttempts: 3,
    retryStrategy: new VirtualClockRetryStrategy(clock, 3, seed),
    requestHandler: (wire === 'xml' ? xmlHandler : noNetwork) as never,
    logger: quietLogger as never,
  });
  let attemptNo = 0;
  const install = (client: { middlewareStack: any }, service: ServiceName) =>
    client.middlewareStack.addRelativeTo(
      (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: { input: unknown; request: { headers: Record<string, string> } }) => {
        const operation = String(context.commandName ?? '').replace(/Command$/, '');
        if (wire === 'xml' && service !== 's3') {
          const key = String(++attemptNo);
          attempts.set(key, { service, operation, input: args.input });
          args.request.headers[SIM_HEADER] = key;
          return next(args);
        }
        const r = await call(service, operation, args.input);
        if (r.fault) throw toSdkError(service, new SimFault(r.fault.code, r.fault.message, r.fault.status, r.fault.fault), `remote-${r.id}`);
        if (r.error !== undefined) throw new Error(r.error);
        return { response: { statusCode: 200, headers: {} }, output: r.output };
      },
      { relation: 'after', toMiddleware: 'retryMiddleware', name: 'asgDeploySandbox', override: true },
    );
  // As createAwsClients: each client built on first use (a roll with tag locks never builds S3).
  let s3: S3Client | undefined;
  const clients: AwsClients = {
    autoScaling: new AutoScalingClient(common(1)),
    ec2: new EC2Client(common(2)),
    elb: new ElasticLoadBalancingClient(common(3)),
    get elbv2(): never {
      throw new Error('engine-memory: the memory probe uses no target groups');
    },
    get s3() {
      if (!s3) {
        s3 = new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client({ ...common(4), forcePathStyle: true });
        install(s3, 's3');
      }
      return s3;
    },
  };
  install(clients.autoScaling, 'autoscaling');
  install(clients.ec2, 'ec2');
  install(clients.elb, 'elb');

  const rssBeforeMb = process.memoryUsage().rss / 1024 / 1024;
  const newSpaceBeforeMb = (getHeapSpaceStatistics().find((sp) => sp.space_name === 'new_space')?.space_size ?? 0) / 1048576;
  let result: RolloutResult | undefined;
  let error: string | undefined;
  try {
    const port = createAwsPort(clients, clock);
    // lock: false, as in-process: the engine's own memory and calls.
    result =
      scenario === 'ab'
        ? await abDeploy({ port, clock, reporter: silentReporter, environment: 'big', instanceCountMatch: true, lock: false })
        : await rollGroup({ port, clock, reporter: silentReporter, asg: 'big', surge: batch, batchSize: batch, lock: false });
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  const peakRssMb = ownPeakRssKb() / 1024;
  const { calls: serverCalls, operations } = await new Promise<{ calls: number; operations?: Record<string, number> }>((resolve) => {
    stats = resolve;
    server.send({ stats: true });
  });
  server.disconnect();
  server.kill();
  process.stdout.write(
    JSON.stringify({ peakRssMb, rssBeforeMb, simulatedSeconds: result ? (clock.now() - start) / 1000 : undefined, apiCalls: result?.apiCalls, replaced: result?.replaced.length, serverCalls, operations, wire, scenario, ...spaces, newSpaceBeforeMb, error }) + '\n',
  );
}

if (require.main === module) {
  const [size, batch] = process.argv.slice(2, 4).map(Number);
  main(size || 1000, batch || 10, process.argv[4] === 'xml' ? 'xml' : 'decoded', process.argv[5] === 'ab' ? 'ab' : 'rolling').catch((err) => {
    process.stderr.write(`engine-memory: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exitCode = 1;
  });
}
