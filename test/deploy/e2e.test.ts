/**
 * End to end on the sandbox, through the CLI itself as a subprocess:
 * deploy v1 (create) → v2 (roll oldest first + A/B swap) → broken v3 (halts, v2 serving).
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { readSandboxFile, setSandboxImage } from '../../orchestrator/commands/aws-session';
import { isServing } from '../../orchestrator/commands/status';
import { Sandbox } from '../../orchestrator/sandbox';
import type { DeployEvent } from '../../orchestrator/report/reporter';
import type { ServicesManifest } from '../../orchestrator/stack/manifest';

const ROOT = path.resolve(__dirname, '../..');
const BIN = path.join(ROOT, 'bin', 'asg-deploy.js');
const DEMO = fs.readFileSync(path.join(ROOT, 'examples/demo/Pulumi.demo.yaml'), 'utf8');

/** The test runner silences the SDK's Node-version warning; the CLI under test must do that itself. */
function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED;
  return env;
}

function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; events: DeployEvent[]; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile('node', [BIN, ...args], { cwd: ROOT, env: { ...childEnv(), CI: 'true', ...env }, maxBuffer: 64 << 20, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      const events = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as DeployEvent);
      resolve({ code, events, stderr, stdout });
    });
  });
}
const codes = (events: DeployEvent[]) => events.map((e) => e.code);

test('deploy v1 → v2 → broken v3 through the CLI on the sandbox', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'e2e-deploy-'));
  const state = path.join(dir, 'state.json');
  const config = (v: string) => {
    const f = path.join(dir, `${v}.yaml`);
    fs.writeFileSync(f, DEMO.replace(/ami-0demo1/g, `ami-0e2e${v}`));
    return f;
  };
  setSandboxImage(state, 'ami-0e2ev3', { healthy: false });
  // A local Slack-compatible webhook receiver.
  const posts: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      posts.push((JSON.parse(body) as { text: string }).text);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const hook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  t.teardown(() => server.close());
  const deploy = (v: string, extra: string[] = []) =>
    cli(['deploy', '--stack', 'e2e', '--sandbox', '--sandbox-state', state, '--config-file', config(v), '--json', ...extra]);

  // An unknown stack without --create: exit 2 listing what exists.
  const unknown = await deploy('v1');
  t.is(unknown.code, 2, unknown.stderr);
  t.regex(unknown.stderr, /stack 'e2e' does not exist/);

  // An invalid config: exit 2 naming service, key, value and what is allowed; no stack created, nothing applied.
  const badConfig = path.join(dir, 'bad.yaml');
  fs.writeFileSync(badConfig, DEMO.replace('strategy: ab', 'strategy: blue-green'));
  const bad = await cli(['deploy', '--stack', 'e2e', '--create', '--sandbox', '--sandbox-state', state, '--config-file', badConfig, '--json']);
  t.is(bad.code, 2, bad.stderr);
  t.regex(bad.stderr, /service "web": strategy = "blue-green" is not allowed/);
  t.deepEqual(readSandboxFile(state)!.stacks, {}, 'no stack was created');
  t.deepEqual(readSandboxFile(state)!.aws.launchTemplates, {}, 'nothing was applied');

  const v1 = await deploy('v1', ['--create']);
  t.is(v1.code, 0, v1.stderr);
  t.regex(v1.stderr, /SIMULATION/);
  t.notRegex(v1.stderr, /NodeVersionSupportWarning/, '--sandbox runs print no SDK warning');
  const up1 = v1.events.find((e) => e.code === 'stack.up')!;
  // 2 launch templates, rabbit's classic ELB, web's ALB with its listener and 2 target groups, 3 groups.
  t.deepEqual(up1.data.changeSummary, { create: 10 });
  t.true(codes(v1.events).includes('deploy.done'));

  // Dry run of v2: preview + plan, nothing changes.
  const before = fs.readFileSync(state, 'utf8');
  const dry = await deploy('v2', ['--dry-run']);
  t.is(dry.code, 0, dry.stderr);
  const plans = dry.events.filter((e) => e.code === 'deploy.service.plan');
  t.deepEqual(plans.map((p) => [p.data.service, p.data.action]), [['rabbit', 'roll'], ['web', 'swap']]);
  t.regex(dry.stderr, /web: would swap a → b, 4 instances, shift traffic to b \(25 % → 50 % → 100 %, holding 20 s at each while healthy\), then drain a/);
  t.regex(dry.stderr, /rabbit: would replace i-\S+, i-\S+, i-\S+ oldest first, surge 1/);
  const after = readSandboxFile(state)!;
  t.deepEqual(after.stacks, JSON.parse(before).stacks, 'a dry run changes no stack');
  t.is(Object.values(after.aws.launchTemplates).reduce((n, lt) => n + lt.versions.length, 0), 2, 'no new launch template version');

  const v2 = await deploy('v2', ['--notify-webhook', hook]);
  t.is(v2.code, 0, v2.stderr);
  const done = v2.events.filter((e) => e.code === 'deploy.service.done');
  t.deepEqual(done.map((e) => [e.data.service, e.data.status]), [['rabbit', 'done'], ['web', 'done']]);
  t.is((done[0].data.replaced as string[]).length, 3);
  // Oldest first: the terminated rabbit instances in launch-time order.
  const terminated = v2.events.filter((e) => e.code === 'instance.terminate' && e.data.asg === 'e2e-rabbit');
  const times = terminated.map((e) => Number(new Date(String(e.data.launchTime))) || Number(e.data.launchTime));
  t.deepEqual([...times].sort((a, b) => a - b), times);

  // roll with --sandbox works on the same state file: the group is up to date now.
  const roll = await cli(['roll', '--asg', 'e2e-rabbit', '--sandbox', '--sandbox-state', state, '--json']);
  t.is(roll.code, 0, roll.stderr);
  t.is(roll.events.find((e) => e.code === 'rollout.done')?.data.status, 'noop');
  t.is(posts.length, 2);
  t.regex(posts[0], /deploying stack \*e2e\*/);
  t.regex(posts[1], /stack \*e2e\* deployed.*rolled out rabbit \(3 replaced\), web \(4 replaced\)/);
  const v3 = await deploy('v3', ['--notify-webhook', hook]);
  t.is(v3.code, 1, v3.stderr);
  const failed = v3.events.find((e) => e.code === 'deploy.failed')!;
  t.is(failed.data.exit, 1);
  const rows = v3.events.find((e) => e.code === 'deploy.summary')!.data.rows as Array<{ service: string; result: string }>;
  t.deepEqual(rows.map((r) => [r.service, r.result]), [['rabbit', 'failed'], ['web', 'not run']]);
  t.is(posts.length, 4);
  t.regex(posts[3], /deploy of stack \*e2e\* failed: .*not run: web/);

  // Final state: v2 still serves everywhere.
  const file = readSandboxFile(state)!;
  const manifest = file.stacks.e2e.outputs.services as ServicesManifest;
  const sandbox = Sandbox.fromJSON(file.aws);
  const port = createAwsPort(sandbox.clients, sandbox.clock);
  const rabbit = await port.observeGroup('e2e-rabbit');
  const serving = rabbit.instances.filter((i) => isServing(i, rabbit));
  t.true(serving.length >= 2, `rabbit: ${serving.length} serving`);
  const v2Version = (manifest.services.find((s) => s.service === 'rabbit')!.launchTemplate!.version) - 1;
  t.true(serving.every((i) => i.launchedFrom.launchTemplate?.version === v2Version), 'every serving rabbit node runs v2');
  t.deepEqual(rabbit.suspendedProcesses, [], 'nothing left suspended');

  const status = await cli(['status', '--stack', 'e2e', '--sandbox', '--sandbox-state', state, '--json']);
  t.is(status.code, 0, status.stderr);
  t.deepEqual(status.events.filter((e) => e.code === 'status.group').map((e) => e.data.asg), ['e2e-rabbit', 'e2e-web-a', 'e2e-web-b']);
  fs.rmSync(dir, { recursive: true, force: true });
});

test('the demo exits 0 (paced far beyond real time: its outcome does not depend on the pace)', async (t) => {
  // The scaled clock only paces the simulation (clock.ts), so a huge scale runs the same story
  // as the default one, as fast as the CPU allows, whatever the machine's load.
  const demo = await cli(['demo'], { ASG_DEPLOY_DEMO_SCALE: '1000000' });
  t.is(demo.code, 0, demo.stderr.slice(-3000));
  t.regex(demo.stderr, /v3 halted safely with v2 still serving and nothing left changed/);
  // v4 (issue 16): passes its health checks, trips the 5xx alarm in the keep-old window, switched back.
  t.regex(demo.stderr, /alarm demo-web(-[ab])?-5xx: ALARM \(Threshold Crossed/);
  t.regex(demo.stderr, /v4 passed its health checks, tripped the web tier's 5xx alarm during the keep-old window and was switched back automatically, v2 serving throughout/);
  // The web tier's A/B swap on its ALB shifts the traffic in the stack config's steps (issue 14).
  t.regex(demo.stderr, /demo-web: traffic 0 % → 25 %[\s\S]*traffic 25 % → 50 %[\s\S]*traffic 50 % → 100 %/);
  t.regex(demo.stderr, /SIMULATION/);
  t.notRegex(demo.stderr, /NodeVersionSupportWarning/, 'the README\'s first command prints no SDK warning');
});
