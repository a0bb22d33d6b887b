/**
 * `asg-deploy roll` end to end through the CLI (argv → exit code, JSON events) on a sandbox
 * state file, and flag validation (exit 2 naming flag, value and what is allowed).
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../orchestrator/cli';
import { readSandboxFile, writeSandboxFile } from '../../orchestrator/commands/aws-session';
import { rollOptionsFromArgs, parseDuration } from '../../orchestrator/commands/roll';
import { Sandbox } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { capture } from '../helpers/io';


const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function stateFile(setup: (sb: Sandbox) => void): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-roll-'));
  dirs.push(dir);
  const file = path.join(dir, 'state.json');
  const sb = Sandbox.create({ seed: 4, faults: { bootSeconds: 40 } });
  setup(sb);
  writeSandboxFile(file, sb, {});
  return file;
}

async function run(argv: string[]) {
  const io = capture();
  const code = await main(argv, { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  const events = io.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { code: string; data: Record<string, unknown> });
  return { code, events, stderr: io.stderr };
}

const rabbit = (sb: Sandbox) =>
  sb.seedGroup({ name: 'SmokeTestRabbitMq-qa', capacity: 3, elb: { name: 'rabbit', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 20 } });

test('roll --limit PREFIX --sleep --json: replaces all, exit 0, JSON events with the docs/design.md fields', async (t) => {
  const file = stateFile((sb) => {
    rabbit(sb);
    sb.newLaunchTemplateVersion('SmokeTestRabbitMq-qa-lt', { ImageId: 'ami-0new000000000000' });
  });
  const { code, events } = await run(['roll', '--limit', 'SmokeTestRabbitMq', '--sleep', '10', '--json', '--sandbox-state', file]);
  t.is(code, 0);
  // Every sandbox run says SIMULATION first; the run holds the group's lock around the rollout (test/roll/lock.test.ts).
  t.is(events[0].code, 'sandbox.simulation');
  t.is(events[1].code, 'lock.acquired');
  t.is(events[events.length - 1].code, 'lock.released');
  const codes = events.map((e) => e.code).filter((c) => !c.startsWith('lock.') && c !== 'sandbox.simulation');
  t.is(codes[0], 'rollout.plan');
  t.is(codes[codes.length - 1], 'rollout.done');
  const done = events.find((e) => e.code === 'rollout.done')!.data;
  t.is(done.asg, 'SmokeTestRabbitMq-qa');
  t.is((done.replaced as string[]).length, 3);
  t.true(typeof done.seconds === 'number' && typeof done.apiCalls === 'number');
  for (const e of events.filter((x) => x.code === 'instance.terminate')) {
    t.truthy(e.data.asg);
    t.truthy(e.data.instanceId);
    t.truthy(e.data.launchTime);
    t.truthy(e.data.reason);
  }
  t.deepEqual(events.filter((e) => e.code === 'group.scale').map((e) => [e.data.from, e.data.to]), [[3, 4], [3, 4], [3, 4]]);
  // Already up to date on a second run: exit 0, nothing changed.
  const again = await run(['roll', '--asg', 'SmokeTestRabbitMq-qa', '--json', '--sandbox-state', file]);
  t.is(again.code, 0);
  t.deepEqual((again.events.find((e) => e.code === 'rollout.done')!.data.replaced as string[]), []);
  const g = readSandboxFile(file)!.aws.groups['SmokeTestRabbitMq-qa'];
  t.is(g.desired, 3);
  t.deepEqual(g.suspended, []);
});

test('roll: a bad image exits 1 with rollout.failed naming the instance; ambiguous prefix exits 2; surge 0 below min healthy exits 3', async (t) => {
  const file = stateFile((sb) => {
    rabbit(sb);
    sb.seedGroup({ name: 'SmokeTestRabbitMq-prod', capacity: 1, launchTemplateName: 'SmokeTestRabbitMq-qa-lt' });
    sb.setImage('ami-0bad000000000000', { healthy: false });
    sb.newLaunchTemplateVersion('SmokeTestRabbitMq-qa-lt', { ImageId: 'ami-0bad000000000000' });
  });
  const amb = await run(['roll', '--asg', 'SmokeTestRabbitMq', '--sandbox-state', file]);
  t.is(amb.code, 2);
  t.regex(amb.stderr, /SmokeTestRabbitMq-prod, SmokeTestRabbitMq-qa/);

  const refused = await run(['roll', '--asg', 'SmokeTestRabbitMq-qa', '--surge', '0', '--min-healthy', '3', '--sandbox-state', file]);
  t.is(refused.code, 3);
  t.regex(refused.stderr, /below --min-healthy 3/);

  const bad = await run(['roll', '--asg', 'SmokeTestRabbitMq-qa', '--step-timeout', '5m', '--json', '--sandbox-state', file]);
  t.is(bad.code, 1);
  const failed = bad.events.find((e) => e.code === 'rollout.failed')!;
  t.truthy(failed.data.instanceId);
  t.truthy(failed.data.gate);
  const g = readSandboxFile(file)!.aws.groups['SmokeTestRabbitMq-qa'];
  t.is(g.desired, 3);
  t.is(g.max, 6);
  t.deepEqual(g.suspended, []);
});

test('roll --rollback --json: a bad image exits 1; the rollout.failed verdict, then rollout.rollback (start, plan, done), the group back on version 1', async (t) => {
  const file = stateFile((sb) => {
    rabbit(sb);
    sb.setImage('ami-0bad000000000000', { healthy: false });
    sb.newLaunchTemplateVersion('SmokeTestRabbitMq-qa-lt', { ImageId: 'ami-0bad000000000000' });
  });
  const r = await run(['roll', '--asg', 'SmokeTestRabbitMq-qa', '--rollback', '--step-timeout', '5m', '--json', '--sandbox-state', file]);
  t.is(r.code, 1);
  const codes = r.events.map((e) => e.code).filter((c) => c === 'rollout.failed' || c === 'rollout.rollback' || c === 'rollout.done');
  t.deepEqual(codes, ['rollout.failed', 'rollout.rollback', 'rollout.rollback', 'rollout.rollback']);
  t.deepEqual(r.events.filter((e) => e.code === 'rollout.rollback').map((e) => e.data.state), ['start', 'plan', 'done']);
  t.regex(r.stderr, /rolled back: SmokeTestRabbitMq-qa is on launch template SmokeTestRabbitMq-qa-lt version 1 again/);
  const g = readSandboxFile(file)!.aws.groups['SmokeTestRabbitMq-qa'];
  t.is(g.launchTemplate?.version, '1');
  t.is(g.desired, 3);
  t.deepEqual(g.suspended, []);
});

test('flag validation: exit 2 naming flag, value and what is allowed', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['--asg', 'x', '--surge', '-1'], /--surge -1: expected a whole number ≥ 0/],
    [['--asg', 'x', '--surge', '1.5'], /--surge 1.5/],
    [['--asg', 'x', '--batch-size', '0'], /--batch-size 0: expected a whole number ≥ 1 or a percentage/],
    [['--asg', 'x', '--batch-size', '150%'], /--batch-size 150%/],
    [['--asg', 'x', '--step-timeout', 'soon'], /--step-timeout soon: expected a positive duration/],
    [['--asg', 'x', '--sleep', '0'], /--poll-interval 0/],
    [['--asg', 'x', '--max_wait_attempts', '0'], /--max-wait-attempts 0: expected a whole number ≥ 1/],
    [['--surge', '1'], /--asg \(alias --limit\) is required/],
    [['--asg', 'x', '--standby', 'replace'], /--standby replace: expected one of ignore, terminate, wait/],
    [['--asg', 'x', '--protected', 'terminate'], /--protected terminate: expected one of ignore, replace, wait/],
  ];
  for (const [args, re] of cases) {
    const r = await run(['roll', ...args]);
    t.is(r.code, 2, args.join(' '));
    t.regex(r.stderr, re);
  }
});

test('roll --dry-run --protected/--standby: the plan lists what each policy skips, terminates or waits for; bad words exit 2 (above)', async (t) => {
  const file = stateFile((sb) => {
    rabbit(sb);
    const [a, b] = sb.world.groupInstances(sb.world.state.groups['SmokeTestRabbitMq-qa']);
    sb.direct('autoscaling', 'SetInstanceProtection', { AutoScalingGroupName: 'SmokeTestRabbitMq-qa', InstanceIds: [a.id], ProtectedFromScaleIn: true });
    sb.direct('autoscaling', 'EnterStandby', { AutoScalingGroupName: 'SmokeTestRabbitMq-qa', InstanceIds: [b.id], ShouldDecrementDesiredCapacity: true });
    sb.advance(120_000);
    sb.newLaunchTemplateVersion('SmokeTestRabbitMq-qa-lt', { ImageId: 'ami-0new000000000000' });
  });
  const dflt = await run(['roll', '--asg', 'SmokeTestRabbitMq-qa', '--dry-run', '--json', '--sandbox-state', file]);
  t.is(dflt.code, 0, dflt.stderr);
  const plan = dflt.events.find((e) => e.code === 'rollout.plan')!.data;
  t.is((plan.order as unknown[]).length, 1);
  t.deepEqual((plan.skipped as Array<{ why: string }>).map((x) => x.why).sort(), ['in Standby, --standby ignore', 'protected from scale-in, --protected ignore']);
  const other = await run(['roll', '--asg', 'SmokeTestRabbitMq-qa', '--dry-run', '--json', '--protected', 'replace', '--standby', 'terminate', '--sandbox-state', file]);
  t.is(other.code, 0, other.stderr);
  const p2 = other.events.find((e) => e.code === 'rollout.plan')!.data;
  t.is((p2.order as unknown[]).length, 2);
  t.is((p2.terminateStandby as string[]).length, 1);
  t.is(p2.skipped, undefined);
});

test('seed flags map onto the options: --sleep × --max_wait_attempts is the step timeout; ssh flags build the gate', (t) => {
  const o = rollOptionsFromArgs({
    asg: 'SmokeTestRabbitMq',
    'poll-interval': '30',
    'max-wait-attempts': 40,
    'health-command': 'true',
    'ssh-bastion': 'bastion.smoketest.example.co.uk',
    'ssh-user': 'centos',
    'ssh-key': '~/.ssh/example.pem',
  });
  t.is(o.pollIntervalMs, 30_000);
  t.is(o.maxWaitAttempts, 40);
  t.is(o.gates?.length, 1);
  t.regex(o.gates![0].name, /ssh true via bastion.smoketest.example.co.uk/);
  t.is(parseDuration('step-timeout', '20m'), 1_200_000);
  t.throws(() => rollOptionsFromArgs({ asg: 'x', 'health-url': '' }), { instanceOf: DeployError });
});

test('--alarm (repeatable or comma-separated) and --ignore-alarms-at-start; bad values are exit 2', (t) => {
  t.deepEqual(rollOptionsFromArgs({ asg: 'x', alarm: ['a', 'b,c', 'a'] }).alarms, ['a', 'b', 'c']);
  t.is(rollOptionsFromArgs({ asg: 'x', alarm: ['a'], 'ignore-alarms-at-start': true }).ignoreAlarmsAtStart, true);
  t.is(rollOptionsFromArgs({ asg: 'x' }).alarms, undefined);
  t.is(t.throws(() => rollOptionsFromArgs({ asg: 'x', alarm: [''] }), { instanceOf: DeployError })?.exit, 2);
  t.is(t.throws(() => rollOptionsFromArgs({ asg: 'x', 'ignore-alarms-at-start': true }), { instanceOf: DeployError })?.exit, 2);
});

test('--canary/--canary-wait, --checkpoints/--checkpoint-wait, --bake parse into the holds; bad values are exit 2 naming the flag', (t) => {
  t.deepEqual(rollOptionsFromArgs({ asg: 'x', canary: '2', 'canary-wait': '10m', checkpoints: '20,50', 'checkpoint-wait': '90s', bake: '15m' }).holds, {
    canary: 2, canaryWaitMs: 600_000, checkpoints: [20, 50], checkpointWaitMs: 90_000, bakeMs: 900_000,
  });
  t.is(rollOptionsFromArgs({ asg: 'x' }).holds, undefined);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ checkpoints: '50,20' }, /--checkpoints 50,20: expected percentages in ascending order/],
    [{ checkpoints: '20,120' }, /120 is not a whole percentage from 1 to 100/],
    [{ checkpoints: '20%,50' }, /--checkpoints 20%,50: expected whole percentages/],
    [{ canary: '0' }, /--canary 0: expected a whole number ≥ 1/],
    [{ 'canary-wait': '5m' }, /--canary-wait needs --canary/],
    [{ 'checkpoint-wait': '5m' }, /--checkpoint-wait needs --checkpoints/],
    [{ bake: 'soon' }, /--bake soon: expected a positive duration/],
  ];
  for (const [args, msg] of bad) {
    const err = t.throws(() => rollOptionsFromArgs({ asg: 'x', ...args }), { instanceOf: DeployError });
    t.is(err?.exit, 2);
    t.regex(err!.message, msg);
  }
});
