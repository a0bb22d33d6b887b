/** `status` on a group fronted by an ALB target group (issue 14.5): target health per group and per instance. */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../orchestrator/cli';
import { writeSandboxFile } from '../../orchestrator/commands/aws-session';
import { Sandbox } from '../../orchestrator/sandbox';
import { capture as io } from '../helpers/io';

/** 3 healthy instances in target group web-tg, then a 4th from a bad image still failing its checks. */
function world() {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 40 } });
  const lb = sb.seedTargetGroups({ name: 'web', targetGroups: [{ name: 'web-tg', healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 } }] });
  sb.seedGroup({ name: 'web', capacity: 3, max: 4, targetGroupARNs: [lb.targetGroupArns['web-tg']] });
  sb.setImage('ami-0bad', { healthy: false });
  sb.newLaunchTemplateVersion('web-lt', { ImageId: 'ami-0bad' });
  sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: 'web', DesiredCapacity: 4 });
  sb.advance(100_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'status-tg-'));
  const state = path.join(dir, 'state.json');
  writeSandboxFile(state, sb, {});
  return state;
}

test('status: healthy counts need `healthy` in the target group; the target group line and each target state with its reason code', async (t) => {
  const state = world();
  const json = io();
  t.is(await main(['status', '--asg', 'web', '--sandbox', '--sandbox-state', state, '--json'], { stdout: json.out, stderr: json.err, signal: new AbortController().signal }), 0, json.stderr);
  const g = json.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.code === 'status.group').data;
  t.is(g.instances, 4);
  t.is(g.healthy, 3, 'the bad instance is ASG-Healthy (grace period) but unhealthy in the target group');
  t.deepEqual(g.inTargetGroup, { 'web-tg': 3 });
  const text = io();
  t.is(await main(['status', '--asg', 'web', '--sandbox', '--sandbox-state', state], { stdout: text.out, stderr: text.err, signal: new AbortController().signal }), 0, text.stderr);
  t.regex(text.stdout, /target groups: web-tg 3\/4 healthy/);
  t.regex(text.stdout, /tg web-tg:unhealthy\(Target\.FailedHealthChecks\)/);
  t.is((text.stdout.match(/tg web-tg:healthy/g) ?? []).length, 3);
});

test('status --environment on A/B target groups: each color shows its target group weight (the share of the traffic it gets)', async (t) => {
  const sb = Sandbox.create({ seed: 4, faults: { bootSeconds: 40 } });
  const hc = { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 };
  const lb = sb.seedTargetGroups({ name: 'qa', targetGroups: [{ name: 'qa-a', weight: 90, healthCheck: hc }, { name: 'qa-b', weight: 10, healthCheck: hc }], rulePriority: 5 });
  sb.seedGroup({ name: 'qa-a', capacity: 2, max: 4, launchTemplateName: 'qa', targetGroupARNs: [lb.targetGroupArns['qa-a']] });
  sb.seedGroup({ name: 'qa-b', capacity: 2, max: 4, launchTemplateName: 'qa', targetGroupARNs: [lb.targetGroupArns['qa-b']] });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'status-w-'));
  const state = path.join(dir, 'state.json');
  writeSandboxFile(state, sb, {});
  const json = io();
  t.is(await main(['status', '--environment', 'qa', '--sandbox', '--sandbox-state', state, '--json'], { stdout: json.out, stderr: json.err, signal: new AbortController().signal }), 0, json.stderr);
  const groups = json.stdout.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.code === 'status.group').map((e) => e.data);
  t.deepEqual(Object.fromEntries(groups.map((g) => [g.asg, g.weights])), { 'qa-a': { 'qa-a': 90 }, 'qa-b': { 'qa-b': 10 } });
  const text = io();
  t.is(await main(['status', '--environment', 'qa', '--sandbox', '--sandbox-state', state], { stdout: text.out, stderr: text.err, signal: new AbortController().signal }), 0, text.stderr);
  t.regex(text.stdout, /target groups: qa-a 2\/2 healthy, weight 90/);
  t.regex(text.stdout, /target groups: qa-b 2\/2 healthy, weight 10/);
});
