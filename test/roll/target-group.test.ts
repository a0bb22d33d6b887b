/**
 * Rolling on a group fronted only by an ALB target group (issue 14.2), on the simulated AWS with
 * the real SDK clients and adapter.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { Codes, RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup, type RollOptions } from '../../orchestrator/rollout/rolling/runner';

const NAME = 'qa-web';

/** 3 instances launched an hour apart behind target group qa-web-tg (interval 10 s × 3, deregistration delay 30 s). */
function world() {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 40 } });
  const lb = sb.seedTargetGroups({ name: NAME, targetGroups: [{ name: `${NAME}-tg`, healthCheck: { interval: 10, healthyThreshold: 3, unhealthyThreshold: 2 }, deregistrationDelay: 30 }] });
  sb.seedGroup({ name: NAME, capacity: 1, max: 3, targetGroupARNs: [lb.targetGroupArns[`${NAME}-tg`]] });
  for (let n = 2; n <= 3; n++) {
    sb.advance(3600_000);
    sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: NAME, DesiredCapacity: n });
    sb.settle({ group: NAME });
  }
  sb.advance(3600_000);
  return { sb, tg: lb.targetGroupArns[`${NAME}-tg`] };
}

function live(sb: Sandbox): string[] {
  const g = sb.world.state.groups[NAME];
  return sb.world.groupInstances(g).filter((i) => sb.world.isActive(i)).map((i) => i.id);
}

function roll(sb: Sandbox, o: Partial<RollOptions> = {}) {
  const reporter = new RecordingReporter(sb.clock);
  return { p: rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: NAME, ...o }), reporter };
}

test('regression (issue 14): a bad image on a target-group-only group halts with the target health reason, not "done, replaced 3"', async (t) => {
  const { sb } = world();
  const old = live(sb);
  sb.setImage('ami-0bad000000000000', { healthy: false });
  sb.newLaunchTemplateVersion(`${NAME}-lt`, { ImageId: 'ami-0bad000000000000' });
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb, { stepTimeoutMs: 8 * 60_000 });
  const e = (await t.throwsAsync(p, { instanceOf: DeployError })) as DeployError;
  t.is(e.exit, 1);
  t.regex(e.message, /tg qa-web-tg — (unhealthy \(Target\.FailedHealthChecks\)|initial \(Elb\.)/);
  t.deepEqual(live(sb).filter((id) => old.includes(id)).sort(), [...old].sort(), 'no old instance replaced');
  t.true(sb.monitor.minHealthy(NAME, t0) >= 3);
  t.is(sb.calls.filter((c) => c.actor === 'tool' && c.operation === 'DescribeTargetHealth').length > 0, true, 'target health was read');
  t.deepEqual(reporter.ofCode(Codes.failed)[0].data.replaced, []);
});

test('a good image on a target-group-only group: every instance replaced only once its target is healthy; old ones drain the deregistration delay', async (t) => {
  const { sb, tg } = world();
  const old = live(sb);
  sb.newLaunchTemplateVersion(`${NAME}-lt`, { ImageId: 'ami-0new000000000000' });
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const { p } = roll(sb, { minHealthy: 3 });
  const r = await p;
  t.is(r.status, 'done');
  t.deepEqual([...r.replaced].sort(), [...old].sort());
  // The monitor counts healthy only when `healthy` in the target group: never below 3.
  t.true(sb.monitor.minHealthy(NAME, t0) >= 3, `min healthy ${sb.monitor.minHealthy(NAME, t0)}`);
  t.deepEqual(sb.monitor.healthyUpToDateTerminated(NAME), []);
  t.deepEqual(sb.monitor.leftovers(NAME), []);
  // Done = every old target has finished draining (none still registered).
  const targets = sb.world.state.elbv2!.targetGroups[tg].targets;
  t.deepEqual(old.filter((id) => targets[id]), []);
  // One DescribeTargetHealth per target group per poll: never more than the polls.
  const polls = sb.calls.filter((c) => c.actor === 'tool' && c.operation === 'DescribeAutoScalingGroups').length;
  const reads = sb.calls.filter((c) => c.actor === 'tool' && c.operation === 'DescribeTargetHealth').length;
  t.true(reads <= polls, `${reads} target health reads for ${polls} polls`);
});

test('a target group another group is attached to too: the roll goes on with a warning naming that group (rollout.target-group-shared); its targets untouched and serving', async (t) => {
  const { sb, tg } = world();
  sb.seedGroup({ name: 'batch', capacity: 2, max: 2, launchTemplateName: 'batch-lt', targetGroupARNs: [tg] });
  const theirs = sb.world.groupInstances(sb.world.state.groups.batch).map((i) => i.id);
  sb.newLaunchTemplateVersion(`${NAME}-lt`, { ImageId: 'ami-0new000000000000' });
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb);
  const r = await p;
  t.is(r.status, 'done');
  const warned = reporter.ofCode('rollout.target-group-shared');
  t.is(warned.length, 1, 'said once');
  t.is(warned[0].level, 'warn');
  t.deepEqual(warned[0].data.otherGroups, ['batch']);
  t.regex(warned[0].message, /target group qa-web-tg also has targets of group batch/);
  t.true(sb.monitor.minHealthy(NAME, t0) >= 3);
  t.is(sb.monitor.minHealthy('batch', t0), 2, 'the other group served all along');
  t.deepEqual(sb.monitor.terminations({ group: 'batch' }), []);
  t.deepEqual(theirs.filter((id) => !sb.world.elbv2.isServing(sb.world.elbv2.targetGroup(tg)!, id)), []);
});

test('target health is read only when it can matter, as a classic ELB\'s: not while the new instance is Pending or cannot have passed HealthyThresholdCount checks yet', async (t) => {
  const { sb } = world();
  sb.newLaunchTemplateVersion(`${NAME}-lt`, { ImageId: 'ami-0new000000000000' });
  const t0 = sb.clock.now();
  const r = await roll(sb, { minHealthy: 3 }).p;
  t.is(r.status, 'done');
  const tool = sb.calls.filter((c) => c.actor === 'tool' && c.time >= t0);
  const reads = tool.filter((c) => c.operation === 'DescribeTargetHealth');
  // Each new instance: registered when it goes InService, healthy after 3 checks 10 s apart.
  const launches = Object.values(sb.world.state.instances).filter((i) => i.launchTime >= t0 && i.inServiceAt !== undefined);
  t.is(launches.length, 3);
  for (const c of reads) {
    const pendingOrEarly = launches.filter((i) => c.time >= i.launchTime && c.time < i.inServiceAt! + 20_000);
    // A read while a new instance could not pass is one the decision cannot use.
    t.deepEqual(pendingOrEarly.map((i) => i.id), [], `DescribeTargetHealth at ${(c.time - t0) / 1000} s`);
  }
  // The first look, then per step at most the looks in its pass window and the one that acts, and the final check.
  t.true(reads.length <= 1 + 3 * 3 + 1, `${reads.length} DescribeTargetHealth`);
});

/**
 * A group behind many target groups on an API that answers slowly (FAULT-15): a terminate of a
 * healthy instance goes only on a look whose oldest read is at most 2 s old (engine.ts
 * stalePremise). Read one target group after another, 12 reads of 250–350 ms spread each look over
 * 3–4 s: every look was stale, and the run looked again forever with the lock held. The target
 * groups are now read all at once, in the two-phase look (rolling/runner.ts readLbs) and in the
 * full one every look after a recheck takes (aws/adapter.ts observeGroup): one read's latency.
 */
for (const throttleRate of [0, 0.1]) test(`12 target groups on a slow API (250–350 ms a call)${throttleRate ? ', throttled 10 % (looks after a recheck read everything anew)' : ''}: the rollout finishes on fresh looks, never below --min-healthy, never a stale-read halt`, async (t) => {
  const sb = Sandbox.create({ seed: 5, faults: { bootSeconds: 40, throttleRate } });
  const names = Array.from({ length: 12 }, (_, k) => `${NAME}-tg${k}`);
  const lb = sb.seedTargetGroups({ name: NAME, targetGroups: names.map((name) => ({ name, healthCheck: { interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 }, deregistrationDelay: 10 })) });
  sb.seedGroup({ name: NAME, capacity: 3, max: 3, targetGroupARNs: names.map((n) => lb.targetGroupArns[n]) });
  sb.advance(3600_000);
  const old = live(sb);
  sb.newLaunchTemplateVersion(`${NAME}-lt`, { ImageId: 'ami-0new000000000000' });
  sb.faults = { ...sb.faults, apiLatencyMs: { min: 250, max: 350 } };
  sb.monitor.baseline();
  const t0 = sb.clock.now();
  const { p, reporter } = roll(sb, { minHealthy: 3 });
  const r = await p;
  t.is(r.status, 'done');
  t.deepEqual([...r.replaced].sort(), [...old].sort());
  t.true(sb.monitor.minHealthy(NAME, t0) >= 3, `min healthy ${sb.monitor.minHealthy(NAME, t0)}`);
  t.deepEqual(sb.monitor.leftovers(NAME), []);
  t.true(reporter.ofCode('rollout.recheck').length <= 3, `${reporter.ofCode('rollout.recheck').length} rechecks`);
  t.is(reporter.ofCode(Codes.failed).length, 0);
});
