/**
 * Regression (chaos seeds 1178349314, 669791612): a run interrupted after one replacement
 * restores fully (no restore record left); the re-run meets that replacement — an up-to-date
 * instance of the group, not the re-run's — failing after it had passed, and halts. Its cleanup
 * used to pick that instance as "surge", the engine's guard refused it, and the refusal stopped the
 * whole restore (desired/max raised, processes suspended, tag left). Now cleanup picks only what the
 * one termination rule allows, removes the instance that serves nothing, and restores everything.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';
import { RESTORE_TAG } from '../../orchestrator/rollout/guard';

const NAME = 'qa-rabbit';

/** 3 instances an hour apart, a classic ELB, EC2 health checks (the ASG does not replace an ELB-unhealthy instance). */
function world() {
  const sb = Sandbox.create({ seed: 7, faults: { bootSeconds: 40 } });
  sb.seedGroup({ name: NAME, capacity: 1, max: 3, healthCheckType: 'EC2', elb: { name: NAME, healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 30 } });
  for (let n = 2; n <= 3; n++) {
    sb.advance(3600_000);
    sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: NAME, DesiredCapacity: n });
    sb.settle({ group: NAME });
  }
  sb.advance(3600_000);
  return sb;
}

const active = (sb: Sandbox) => sb.world.groupInstances(sb.world.state.groups[NAME]).filter((i) => sb.world.isActive(i));

function roll(sb: Sandbox, o: Partial<RollOptions> = {}) {
  const reporter = new RecordingReporter(sb.clock);
  return { p: rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: NAME, ...o }), reporter };
}

test('interrupt, re-run, the first run’s replacement fails after passing: the re-run halts (exit 1), removes it instead of a serving node, restores everything', async (t) => {
  const sb = world();
  const old = new Set(active(sb).map((i) => i.id));
  sb.setImage('ami-0new000000000000', { failAfterSeconds: 150 });
  sb.newLaunchTemplateVersion(`${NAME}-lt`, { ImageId: 'ami-0new000000000000' });
  sb.monitor.baseline();

  // Run 1: SIGINT once the oldest instance was replaced (its replacement healthy, the next surge launching).
  const ac = new AbortController();
  sb.clock.onAdvance(() => {
    const replacedOne = sb.monitor.terminations({ group: NAME, cause: ['api'] }).length === 1;
    if (!ac.signal.aborted && replacedOne && sb.world.state.groups[NAME].desired === 4) {
      ac.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
    }
  });
  const e1 = (await t.throwsAsync(roll(sb, { signal: ac.signal }).p, { instanceOf: DeployError })) as DeployError;
  t.is(e1.exit, 130);
  t.is(tagOf(sb), undefined, 'run 1 restored fully: no record for the re-run to find');
  const first = active(sb).filter((i) => !old.has(i.id));
  t.is(first.length, 1, 'run 1 replaced one instance');
  const n1 = first[0].id;

  // Run 2: the new version stops answering 150 s after launch (FAULT-2): n1 fails while the re-run
  // waits for its own surge, which is healthy when n1's step timeout halts the run. The step timeout
  // runs on the tool's clock from when run 2 first saw n1 (never from EC2's LaunchTime, defect 8):
  // 100 s, before the re-run's own surge fails in its turn (150 s after its launch).
  const byRun1 = sb.monitor.terminations({ group: NAME, cause: ['api', 'scale-in'] }).length;
  const { p, reporter } = roll(sb, { stepTimeoutMs: 100_000 });
  const e2 = (await t.throwsAsync(p, { instanceOf: DeployError })) as DeployError;
  t.is(e2.exit, 1, e2.message);
  t.is(e2.code, 'step-timeout');
  t.notRegex(e2.message, /refusing to terminate|restore incomplete/);
  t.regex(e2.message, new RegExp(n1));

  // The instance that serves nothing went; no old (serving) node and no healthy up-to-date one was touched.
  const byTool = sb.monitor.terminations({ group: NAME, cause: ['api', 'scale-in'] }).slice(byRun1);
  t.deepEqual(byTool.map((r) => r.instanceId), [n1]);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated(NAME), []);
  t.is(active(sb).filter((i) => old.has(i.id)).length, 2, 'the two old nodes keep serving');
  const failed = reporter.ofCode(Codes.failed)[0];
  t.is(failed.data.restored, true);
  t.deepEqual(failed.data.replaced, [], 'removing surplus is not a replacement');

  // Everything restored: desired, max, processes, the record.
  sb.advance(120_000);
  t.deepEqual(sb.monitor.leftovers(NAME), []);
  t.is(sb.world.state.groups[NAME].desired, 3);
});

function tagOf(sb: Sandbox): string | undefined {
  return sb.world.state.groups[NAME].tags.find((x) => x.key === RESTORE_TAG)?.value;
}
