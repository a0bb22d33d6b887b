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
