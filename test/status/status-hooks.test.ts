/** `status` on a group with lifecycle hooks and a warm pool (issue 15 item 8). */
import test from 'ava';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../orchestrator/cli';
import { writeSandboxFile } from '../../orchestrator/commands/aws-session';
import { lifecycleStatus, renderLifecycle } from '../../orchestrator/commands/status-lifecycle';
import { Sandbox } from '../../orchestrator/sandbox';
import { capture as io } from '../helpers/io';

/** 2 instances, a launch hook nobody answers, a warm pool of 2 launched from v1, then v2 published and a scale-out waiting in Pending:Wait. */
function world() {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 40, lifecycleAgents: { launch: { seconds: 10, abandonRate: 0, hangRate: 0 } } } });
  sb.seedGroup({ name: 'web', capacity: 2, max: 5, lifecycleHooks: [{ name: 'bootstrap', transition: 'launch', heartbeatTimeout: 600 }], warmPool: { poolState: 'Stopped', minSize: 1 } });
  sb.world.state.faults.lifecycleAgents = { launch: { seconds: 10, abandonRate: 0, hangRate: 1 } };
  sb.newLaunchTemplateVersion('web-lt', { ImageId: 'ami-2' });
  sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: 'web', DesiredCapacity: 3 });
  sb.advance(30_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'status-hooks-'));
  const state = path.join(dir, 'state.json');
  writeSandboxFile(state, sb, {});
  return state;
}

test('status: the hooks, the instances waiting in one, the warm pool with its states and its outdated instances', async (t) => {
  const state = world();
  const json = io();
  t.is(await main(['status', '--asg', 'web', '--sandbox', '--sandbox-state', state, '--json'], { stdout: json.out, stderr: json.err, signal: new AbortController().signal }), 0, json.stderr);
  const g = json.stdout.trim().split('\n').map((l) => JSON.parse(l)).find((e) => e.code === 'status.group').data;
  t.deepEqual(g.lifecycleHooks, [{ name: 'bootstrap', transition: 'launch', heartbeatTimeout: 600, globalTimeout: 60000, defaultResult: 'ABANDON' }]);
  t.is(g.inHooks.length, 1);
  t.regex(g.inHooks[0], /^i-\w+ Pending:Wait$/);
  t.like(g.warmPool, { poolState: 'Stopped', minSize: 1, size: 2, instances: 2 });
  t.is(g.warmPool.old.length, 2, 'both warmed instances were launched from v1 (the one that left for the group was replaced from v2, still on its way)');
  const text = io();
  t.is(await main(['status', '--asg', 'web', '--sandbox', '--sandbox-state', state], { stdout: text.out, stderr: text.err, signal: new AbortController().signal }), 0, text.stderr);
  t.regex(text.stdout, /lifecycle hooks: bootstrap \(launch, heartbeat timeout 600 s, default ABANDON\)/);
  t.regex(text.stdout, /in a lifecycle hook: i-\w+ Pending:Wait/);
  t.regex(text.stdout, /warm pool \(Stopped, min 1\): 2\/2: .*2 OLD \(a scale-out would bring the old version back/);
});

test('lifecycleStatus: nothing for a group with neither hooks nor a pool; renderLifecycle prints nothing then', (t) => {
  const g = { name: 'g', observedAt: 0, desired: 1, min: 0, max: 2, launch: {}, mixedInstancesPolicy: false, healthCheckType: 'EC2', healthCheckGracePeriod: 0, availabilityZones: [], suspendedProcesses: [], loadBalancerNames: [], targetGroupARNs: [], tags: {}, instances: [] };
  t.deepEqual(lifecycleStatus(g, [], undefined), {});
  t.deepEqual(renderLifecycle({}), []);
});
