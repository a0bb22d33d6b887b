/**
 * The sandbox example examples/hooks/Pulumi.hooks.yaml (issue 15): `deploy` creates the group with
 * its lifecycle hooks and warm pool on the simulated AWS; a second deploy with a new image rolls it —
 * the warm pool's outdated instances replaced first, every new instance through its bootstrap hook
 * (Pending:Wait), the drains (Terminating:Wait) waited for at the end, the pool back at its size.
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { DescribeLifecycleHooksCommand, DescribeWarmPoolCommand } from '@aws-sdk/client-auto-scaling';
import { Codes } from '../../orchestrator/report/reporter';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';

const EXAMPLE = fs.readFileSync(path.resolve(__dirname, '../../examples/hooks/Pulumi.hooks.yaml'), 'utf8');

test('deploy the hooks example, then a new image: hooks and warm pool declared; the rollout refreshes the pool and waits for the hooks', async (t) => {
  const w = sandboxDeployWorld({ tmpPrefix: 'sbx-hooks-' });
  const config = (image: string) => {
    const f = path.join(w.dir, `hooks-${image}.yaml`);
    fs.writeFileSync(f, EXAMPLE.replace(/ami-0hooks1/g, image));
    return f;
  };
  await runDeploy({ stack: 'hooks', create: true, configFile: config('ami-0h1') }, w.deps());
  const asg = w.sandbox.clients.autoScaling;
  const hooks = await asg.send(new DescribeLifecycleHooksCommand({ AutoScalingGroupName: 'hooks-worker' }));
  t.deepEqual(hooks.LifecycleHooks!.map((h) => [h.LifecycleHookName, h.LifecycleTransition, h.HeartbeatTimeout, h.DefaultResult]).sort(), [
    ['bootstrap', 'autoscaling:EC2_INSTANCE_LAUNCHING', 300, 'ABANDON'],
    ['drain', 'autoscaling:EC2_INSTANCE_TERMINATING', 600, 'CONTINUE'],
  ]);
  w.sandbox.settle({ group: 'hooks-worker' });
  const before = await asg.send(new DescribeWarmPoolCommand({ AutoScalingGroupName: 'hooks-worker' }));
  t.is(before.WarmPoolConfiguration?.PoolState, 'Stopped');
  t.is(before.WarmPoolConfiguration?.MinSize, 2);
  const oldWarm = before.Instances!.map((i) => i.InstanceId!);
  t.is(oldWarm.length, 3, 'max 6 − desired 3');

  const start = w.sandbox.clock.now();
  await runDeploy({ stack: 'hooks', configFile: config('ami-0h2') }, w.deps());
  const done = w.reporter.ofCode(Codes.done).at(-1)!;
  t.is((done.data.replaced as string[]).length, 3);
  t.regex(done.message, /termination lifecycle hooks: waited/);
  t.regex(done.message, /warm pool: 3 outdated warmed instance\(s\) replaced, back at 3 Warmed:Stopped/);
  const g = w.sandbox.world.state.groups['hooks-worker'];
  const live = w.sandbox.world.groupInstances(g).filter((i) => w.sandbox.world.isActive(i));
  t.true(live.every((i) => i.imageId === 'ami-0h2'));
  t.true(live.every((i) => w.sandbox.monitor.timeline({ instanceId: i.id }).some((e) => e.lifecycle === 'Pending:Wait')), 'every new instance waited for its bootstrap');
  t.true(w.sandbox.world.warmPool.instances(g).every((i) => i.imageId === 'ami-0h2' && i.lifecycle === 'Warmed:Stopped'));
  t.deepEqual(oldWarm.filter((id) => w.sandbox.monitor.timeline({ instanceId: id }).some((e) => e.group === 'hooks-worker')), [], 'no outdated warmed instance joined the group');
  t.true(w.sandbox.monitor.minHealthy('hooks-worker', start) >= 3);
});
