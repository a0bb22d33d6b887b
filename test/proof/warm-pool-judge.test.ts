/**
 * The chaos checker's warm-pool rule (lifecycle-chaos.ts judgeLifecycle): a rollout that says done
 * must not leave warmed instances of the version it rolled away from — a scale-out would bring it
 * back. Unless the group runs that version again at the end: a rollback set it back (chaos seed
 * 3543197495: a bad image, the rollback interrupted by SIGINT after it had set the group back to
 * version 1, a re-run to version 1 — done, with the pool on version 1, was reported).
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { judgeLifecycle } from '../../orchestrator/proof/lifecycle-chaos';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

function pooled() {
  const sb = Sandbox.create({ seed: 7, faults: { bootSeconds: 30 } });
  const { launchTemplateName } = sb.seedGroup({ name: 'app', capacity: 2, max: 4, warmPool: { poolState: 'Stopped' } });
  const g = sb.world.state.groups.app;
  const oldImage = sb.world.warmPool.instances(g)[0].imageId;
  sb.newLaunchTemplateVersion(launchTemplateName, { ImageId: 'ami-0new000000000000' });
  return { sb, oldImage };
}
const done = [{ kind: 'run' as const, exit: 0, status: 'done' as const }];
const c = { warmPool: { poolState: 'Stopped' as const, minSize: 0 } };

test('done with warmed instances of the version rolled away from: a leftover (sabotage: a tool that never replaces the pool is caught)', (t) => {
  const { sb, oldImage } = pooled();
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'app', LaunchTemplate: { LaunchTemplateName: 'app-lt', Version: '2' } });
  const v = judgeLifecycle(sb, 'app', c, done, oldImage);
  t.is(v.length, 1);
  t.regex(v[0].message, /done with outdated warmed instances in the pool/);
});

test('done with warmed instances of the old version while the group runs that version again (set back by a rollback): no leftover', (t) => {
  const { sb, oldImage } = pooled();
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'app', LaunchTemplate: { LaunchTemplateName: 'app-lt', Version: '1' } });
  t.deepEqual(judgeLifecycle(sb, 'app', c, done, oldImage), []);
});

test('chaos seed 3543197495: an interrupted rollback, then a re-run, with a Hibernated warm pool — no violation', async (t) => {
  const s = generateScenario(3543197495, 'rolling');
  t.like(s, { rollback: true, lifecycle: { warmPool: { poolState: 'Hibernated' } } });
  const r = await runScenario(s);
  t.deepEqual(r.violations, [], 'npm run chaos -- --runs 1 --seed 3543197495 --strategy rolling');
});
