import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../orchestrator/cli';
import { writeSandboxFile, readSandboxFile } from '../../orchestrator/commands/aws-session';
import { groupStatus } from '../../orchestrator/commands/status';
import { Sandbox } from '../../orchestrator/sandbox';
import { UpdateAutoScalingGroupCommand, SuspendProcessesCommand } from '@aws-sdk/client-auto-scaling';
import { CreateLaunchTemplateVersionCommand } from '@aws-sdk/client-ec2';
import { capture as io } from '../helpers/io';


/** A sandbox with one 3-instance group, one instance old (group moved to version 2), AZRebalance suspended. */
async function world() {
  const sandbox = Sandbox.create({ seed: 3 });
  const seeded = await sandbox.seedGroup({ name: 'qa-rabbit', capacity: 3, elb: { name: 'qa-rabbit' } });
  const ltName = 'qa-rabbit-lt';
  const out = await sandbox.clients.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateName: ltName, LaunchTemplateData: { ImageId: 'ami-0new' } }));
  await sandbox.clients.autoScaling.send(
    new UpdateAutoScalingGroupCommand({ AutoScalingGroupName: 'qa-rabbit', LaunchTemplate: { LaunchTemplateName: ltName, Version: String(out.LaunchTemplateVersion!.VersionNumber) } }),
  );
  await sandbox.clients.autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'qa-rabbit', ScalingProcesses: ['AZRebalance'] }));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'status-'));
  const state = path.join(dir, 'state.json');
  writeSandboxFile(state, sandbox, {});
  return { state, seeded };
}

test('status --asg on the sandbox: old/new, healthy, in ELB, suspended, lock — and it changes nothing', async (t) => {
  const { state } = await world();
  const before = readSandboxFile(state)!;
  const json = io();
  const code = await main(['status', '--asg', 'qa-rab', '--sandbox', '--sandbox-state', state, '--json'], { stdout: json.out, stderr: json.err, signal: new AbortController().signal });
  t.is(code, 0, json.stderr);
  const events = json.stdout.trim().split('\n').map((l) => JSON.parse(l));
  const g = events.find((e) => e.code === 'status.group').data;
  t.is(g.asg, 'qa-rabbit');
  t.is(g.instances, 3);
  t.is(g.old.length, 3);
  t.is(g.new.length, 0);
  t.is(g.healthy, 3);
  t.deepEqual(g.inElb, { 'qa-rabbit': 3 });
  t.deepEqual(g.suspendedProcesses, ['AZRebalance']);
  t.is(g.lock, undefined);
  t.regex(json.stderr, /SIMULATION/);
  const after = readSandboxFile(state)!;
  t.deepEqual(after.aws.groups, before.aws.groups, 'read-only');
  t.false(after.aws.monitor.terminations.length > before.aws.monitor.terminations.length);

  const human = io();
  t.is(await main(['status', '--sandbox', '--sandbox-state', state], { stdout: human.out, stderr: human.err, signal: new AbortController().signal }), 0);
  t.regex(human.stdout, /qa-rabbit: desired 3 \(min \d+, max \d+\), launch lt-\S+ v2/);
  t.regex(human.stdout, /instances 3: 0 new, 3 old; 3 healthy; in ELB: qa-rabbit 3\/3 InService/);
  t.regex(human.stdout, /suspended: AZRebalance; lock: none/);
  t.is((human.stdout.match(/ OLD /g) ?? []).length, 3);
});

test('status: an unknown group is exit 2; two selectors are exit 2', async (t) => {
  const { state } = await world();
  const a = io();
  t.is(await main(['status', '--asg', 'nope', '--sandbox', '--sandbox-state', state], { stdout: a.out, stderr: a.err, signal: new AbortController().signal }), 2);
  t.regex(a.stderr, /nope/);
  const b = io();
  t.is(await main(['status', '--asg', 'qa', '--environment', 'qa', '--sandbox', '--sandbox-state', state], { stdout: b.out, stderr: b.err, signal: new AbortController().signal }), 2);
});

test('groupStatus reads the lock tag', (t) => {
  const now = Date.parse('2026-01-01T01:00:00Z');
  const s = groupStatus(
    {
      name: 'g', observedAt: now, desired: 0, min: 0, max: 1, launch: {}, mixedInstancesPolicy: false, healthCheckType: 'EC2', healthCheckGracePeriod: 0,
      availabilityZones: [], suspendedProcesses: [], loadBalancerNames: [], targetGroupARNs: [], instances: [],
      tags: { 'asg-deploy:lock': JSON.stringify({ holder: 'alice@ci pid 1', reason: 'release freeze', since: now - 600_000 }) },
    },
    now,
  );
  t.regex(s.lock!, /locked by alice@ci pid 1 \(release freeze\)/);
});

test("status --asg --lock-bucket-name shows the group's S3 lock (the one roll takes)", async (t) => {
  const { state } = await world();
  const signal = new AbortController().signal;
  const held = io();
  t.is(await main(['lock', '--asg', 'qa-rabbit', '--reason', 'incident 42', '--lock-bucket-name', 'locks', '--sandbox', '--sandbox-state', state], { stdout: held.out, stderr: held.err, signal }), 0, held.stderr);
  const json = io();
  t.is(await main(['status', '--asg', 'qa-rabbit', '--lock-bucket-name', 'locks', '--sandbox', '--sandbox-state', state, '--json'], { stdout: json.out, stderr: json.err, signal }), 0, json.stderr);
  const lock = json.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.code === 'status.lock');
  t.truthy(lock, 'a status.lock event');
  t.is(lock.data.key, 'qa-rabbit.lock');
  t.is(lock.data.held.reason, 'incident 42');
  const human = io();
  t.is(await main(['status', '--asg', 'qa-rabbit', '--lock-bucket-name', 'locks', '--sandbox', '--sandbox-state', state], { stdout: human.out, stderr: human.err, signal }), 0);
  t.regex(human.stdout, /lock s3:\/\/locks\/qa-rabbit\.lock: .*incident 42/);
});

async function run(argv: string[], env: NodeJS.ProcessEnv = { CI: '1' }) {
  const c = io();
  const code = await main(argv, { stdout: c.out, stderr: c.err, env, signal: new AbortController().signal });
  return { code, stdout: c.stdout, stderr: c.stderr };
}

test('status errors are consistent: an unknown environment or stack is exit 2 naming it, never --create', async (t) => {
  const { state } = await world();
  const env = await run(['status', '--environment', 'nope', '--sandbox-state', state]);
  t.is(env.code, 2);
  t.regex(env.stderr, /--environment nope: no Auto Scaling Group nope-a, nope-b or nope exists/);
  t.is(env.stdout, '');
  const stack = await run(['status', '--stack', 'nope', '--sandbox-state', state]);
  t.is(stack.code, 2);
  t.regex(stack.stderr, /stack 'nope' does not exist/);
  t.notRegex(stack.stderr, /--create to create/);
  t.regex(stack.stderr, /deploy it first \(asg-deploy deploy --stack nope --create --sandbox\)/);
});

test('read-only commands write nothing: status and dry runs on the sandbox create no state file', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ro-'));
  const file = path.join(dir, 'never.json');
  for (const argv of [
    ['status', '--sandbox-state', file],
    ['roll', '--asg', 'qa', '--dry-run', '--sandbox-state', file],
    ['ab', '--environment', 'qa', '--dry-run', '--sandbox-state', file],
    ['lock', '--environment', 'qa', '--reason', 'x', '--dry-run', '--sandbox-state', file],
  ]) {
    await run(argv);
    t.false(fs.existsSync(file), argv.join(' '));
  }
  // and on an existing file, status leaves it byte for byte
  const { state } = await world();
  const before = fs.readFileSync(state, 'utf8');
  t.is((await run(['status', '--sandbox-state', state])).code, 0);
  t.is(fs.readFileSync(state, 'utf8'), before);
});

test('every sandbox command says SIMULATION and stamps its lines with simulated time', async (t) => {
  const { state } = await world();
  const simNow = readSandboxFile(state)!.aws.now;
  for (const argv of [
    ['roll', '--asg', 'qa-rabbit', '--dry-run'],
    ['ab', '--environment', 'qa-rabbit', '--single-asg', '--dry-run'],
    ['lock', '--asg', 'qa-rabbit', '--reason', 'freeze'],
    ['unlock', '--asg', 'qa-rabbit'],
  ]) {
    const r = await run([...argv, '--sandbox-state', state]);
    t.regex(r.stderr, /SIMULATION: \w+ runs against the embedded simulated AWS/, argv.join(' '));
    const stamps = [...r.stderr.matchAll(/^(\d{4}-\d\d-\d\dT[\d:.]+Z) /gm)].map((m) => Date.parse(m[1]));
    t.true(stamps.length > 0, argv.join(' '));
    // simulated time: from the state's clock on, not the wall clock
    for (const s of stamps) t.true(s >= simNow && s < simNow + 3_600_000, `${argv.join(' ')}: ${new Date(s).toISOString()} vs ${new Date(simNow).toISOString()}`);
  }
});
