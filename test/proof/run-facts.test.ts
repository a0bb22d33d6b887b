/**
 * The harness's fact-gathering rules that judge what AWS did on its own (./run.ts): a rebalancing
 * launch after the tool handed the group back, and spontaneous losses not yet made good. Each is
 * checked on the simulated AWS against the record it reads (activities, call log, monitor), with
 * the case it must NOT excuse beside the one it must.
 */
import test from 'ava';
import { ResumeProcessesCommand, SuspendProcessesCommand } from '@aws-sdk/client-auto-scaling';
import { staleReadsInStorm, awsAfterHandBack, lastToolCall, awsShortfall, sizedAsConfigured, capacityAfterPutBacks, standbyAfterLastLook, excusedSeries, abSizeLeftovers, abOutcomeOf, haltedBeforeSigint, keepInstanceFacts, type SizedColor } from '../../orchestrator/proof/run';
import { TERMINATED_VISIBLE_MS } from '../../orchestrator/sandbox/world';
import { Sandbox } from '../../orchestrator/sandbox';
import { generateScenario } from '../../orchestrator/proof/scenario';

const live = (sb: Sandbox, g: string) => sb.world.groupInstances(sb.world.state.groups[g]).filter((i) => sb.world.isActive(i));

/** A group of 3 in one zone (settled), then allowed all three zones, so AZRebalance wants to act. */
async function unevenGroup(): Promise<Sandbox> {
  const sb = Sandbox.create({ seed: 7, faults: { bootSeconds: 30, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'g', capacity: 3, max: 3, availabilityZones: [sb.world.zones()[0]], elb: { name: 'g-elb', drainingTimeout: 0 } });
  await sb.newClients('tool-1').autoScaling.send(new SuspendProcessesCommand({ AutoScalingGroupName: 'g', ScalingProcesses: ['AZRebalance'] }));
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'g', AvailabilityZones: sb.world.zones() });
  return sb;
}

test('a rebalancing launch that started after the tool resumed AZRebalance is AWS’s; an ordinary launch is not', async (t) => {
  const sb = await unevenGroup();
  sb.advance(30_000);
  t.is(live(sb, 'g').length, 3, 'no rebalancing while suspended');
  await sb.newClients('tool-1').autoScaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: 'g', ScalingProcesses: ['AZRebalance'] }));
  const handBack = lastToolCall(sb, 'ResumeProcesses');
  t.is(handBack, sb.clock.now());
  sb.advance(10_000); // the next ASG loop
  const insts = live(sb, 'g');
  t.is(insts.length, 4, 'AWS launched one to rebalance');
  const aws = awsAfterHandBack(sb, 'g', insts, handBack);
  t.is(aws.length, 1);
  t.regex(sb.world.state.activities[aws[0].launchActivity!].cause, /Availability Zone rebalancing/);
  // Not excused: the same launch judged against a hand-back after it, or with no hand-back at all.
  t.deepEqual(awsAfterHandBack(sb, 'g', insts, sb.clock.now() + 1), []);
  t.deepEqual(awsAfterHandBack(sb, 'g', insts, undefined), []);
  // Not excused: a launch toward a raised desired capacity, even after the hand-back.
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', { AutoScalingGroupName: 'g', MaxSize: 6, DesiredCapacity: 5 });
  sb.advance(2_000);
  const after = live(sb, 'g');
  t.true(after.length >= 5);
  t.deepEqual(awsAfterHandBack(sb, 'g', after, handBack).map((i) => i.id), [aws[0].id]);
});

test('capacity as configured allows AWS’s rebalancing launches above the size, never a deficit', (t) => {
  const rows: Array<[live: number, size: number, launches: number, ok: boolean]> = [
    [10, 10, 0, true],
    [11, 10, 0, false],
    [11, 10, 1, true],
    [10, 10, 1, true], // the rebalance finished: one launched, one in the largest zone terminated
    [9, 10, 1, false],
    [12, 10, 1, false],
  ];
  for (const [n, size, launches, ok] of rows) t.is(sizedAsConfigured(n, size, launches), ok, `${n} live, size ${size}, ${launches} launch(es)`);
});

test('spontaneous losses count until a replacement is healthy, and only those AWS made', async (t) => {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 60, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'old', capacity: 4, max: 4, elb: { name: 'old-elb', drainingTimeout: 0, healthCheck: { interval: 10, healthyThreshold: 3 } } });
  const from = sb.clock.now();
  sb.advance(1_000);
  const victims = live(sb, 'old').slice(0, 2);
  // What the sandbox's spontaneous-termination fault does [FAULT-4], for two chosen instances.
  for (const v of victims) {
    sb.monitor.terminated({ time: sb.clock.now(), instanceId: v.id, group: 'old', cause: 'spontaneous', healthy: true, upToDate: true, launch: v.launch, launchTime: v.launchTime });
    sb.world.ec2Terminate(v, 'Server.SpotInstanceTermination: Spot instance termination');
  }
  const lostAt = sb.clock.now();
  t.is(awsShortfall(sb, 'old', from, lostAt), 2);
  sb.advance(40_000); // replacements launched at the next loop, still booting (60 s)
  t.is(awsShortfall(sb, 'old', from, sb.clock.now()), 2);
  sb.settle({ group: 'old' });
  t.is(awsShortfall(sb, 'old', from, sb.clock.now() + 1), 0, 'both replacements healthy: nothing outstanding');
  // Losses before the window are not counted.
  t.is(awsShortfall(sb, 'old', lostAt + 1, sb.clock.now()), 0);
});

test('a deficit AWS did not cause is not excused, even beside one it did', (t) => {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 60, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'old', capacity: 4, max: 4, elb: { name: 'old-elb', drainingTimeout: 0 } });
  const from = sb.clock.now();
  sb.advance(1_000);
  const [v, other] = live(sb, 'old');
  sb.monitor.terminated({ time: sb.clock.now(), instanceId: v.id, group: 'old', cause: 'spontaneous', healthy: true, upToDate: true, launch: v.launch, launchTime: v.launchTime });
  sb.world.ec2Terminate(v, 'Server.SpotInstanceTermination: Spot instance termination');
  t.is(awsShortfall(sb, 'old', from, sb.clock.now()), 1);
  // Someone (not AWS) takes a second one out of the ELB: the deficit is 2, AWS explains 1.
  sb.direct('elb', 'DeregisterInstancesFromLoadBalancer', { LoadBalancerName: 'old-elb', Instances: [{ InstanceId: other.id }] });
  t.is(sb.monitor.healthyCount('old', sb.clock.now()), 2);
  t.is(awsShortfall(sb, 'old', from, sb.clock.now()), 1);
});

test('an AZ rebalance that ends by terminating a healthy instance counts until its launch is healthy', async (t) => {
  const sb = await unevenGroup();
  const from = sb.clock.now();
  await sb.newClients('tool-1').autoScaling.send(new ResumeProcessesCommand({ AutoScalingGroupName: 'g', ScalingProcesses: ['AZRebalance'] }));
  let at: number | undefined;
  for (let i = 0; i < 120 && at === undefined; i++) {
    sb.advance(1_000);
    at = sb.monitor.terminations({ group: 'g', cause: ['rebalance'] }).find((x) => x.healthy)?.time;
  }
  t.truthy(at, 'AWS terminated a healthy instance to rebalance');
  t.is(awsShortfall(sb, 'g', from, at!), 3 - sb.monitor.healthyCount('g', at!));
  t.true(awsShortfall(sb, 'g', from, at!) <= 1);
  sb.settle({ group: 'g' });
  t.is(awsShortfall(sb, 'g', from, sb.clock.now()), 0);
});

const minOf = (series: Array<[number, number]>) => Math.min(...series.map(([, n]) => n));

test('invariant 1 over time: AWS’s own losses (spontaneous, an application failing after it passed) are excused per instance until made good; a deregistration is not', (t) => {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 30, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'old', capacity: 4, max: 4, imageId: 'ami-x', elb: { name: 'old-elb', drainingTimeout: 0, healthCheck: { interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 } } });
  // From now on the image's application fails 300 s after it starts: AWS's replacements will.
  sb.setImage('ami-x', { healthy: true, failAfterSeconds: 300 });
  const from = sb.clock.now();
  sb.advance(1_000);
  const [v, other] = live(sb, 'old');
  // AWS takes one (FAULT-4).
  sb.monitor.terminated({ time: sb.clock.now(), instanceId: v.id, group: 'old', cause: 'spontaneous', healthy: true, upToDate: true, launch: v.launch, launchTime: v.launchTime });
  sb.world.ec2Terminate(v, 'Server.SpotInstanceTermination: Spot instance termination');
  t.is(sb.monitor.healthyCount('old', sb.clock.now()), 3);
  t.is(minOf(excusedSeries(sb, ['old'], from).series), 4, 'AWS’s loss: excused');
  sb.advance(150_000); // the replacement serves: the excuse is made good
  t.is(sb.monitor.healthyCount('old', sb.clock.now()), 4);
  t.is(excusedSeries(sb, ['old'], from).excusedAtEnd, 0);
  // ...then its application fails (and AWS replaces it in turn): excused again meanwhile.
  for (let i = 0; i < 120 && sb.monitor.healthyCount('old', sb.clock.now()) === 4; i++) sb.advance(5_000);
  t.is(sb.monitor.healthyCount('old', sb.clock.now()), 3);
  t.true(sb.world.state.instances[sb.monitor.timeline({ group: 'old' }).filter((e) => !e.healthy).pop()!.instanceId].failAt !== undefined, 'the application failed');
  let judged = excusedSeries(sb, ['old'], from);
  t.is(minOf(judged.series), 4);
  t.is(judged.excusedAtEnd, 1);
  // Someone else (not AWS) takes another out of the ELB: not excused.
  sb.direct('elb', 'DeregisterInstancesFromLoadBalancer', { LoadBalancerName: 'old-elb', Instances: [{ InstanceId: other.id }] });
  judged = excusedSeries(sb, ['old'], from);
  t.is(minOf(judged.series), 3);
});

test('invariant 1 over time: an application that failed after passing stays excused once EC2 has forgotten the instance (purged an hour after its termination, [EC2-5])', (t) => {
  // Chaos seed 1799852234: a 70-minute --rollback run judged at its end, the first new instance's loss read from a purged record.
  const judge = (keep: boolean) => {
    const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 30, appStartSeconds: 0 } });
    if (keep) keepInstanceFacts(sb);
    sb.seedGroup({ name: 'g', capacity: 3, max: 4, elb: { name: 'g-elb', drainingTimeout: 0, healthCheck: { interval: 10, healthyThreshold: 2, unhealthyThreshold: 2 } } });
    const from = sb.clock.now();
    sb.advance(1_000);
    const [v] = live(sb, 'g');
    // Its application fails (the fails-after-healthy fault's own fail time); the ELB takes it out.
    v.failAt = sb.clock.now();
    sb.world.pokeElbs(v);
    for (let i = 0; i < 60 && sb.monitor.healthyCount('g', sb.clock.now()) === 3; i++) sb.advance(5_000);
    t.is(sb.monitor.healthyCount('g', sb.clock.now()), 2);
    // Later the tool replaces it (terminate with decrement), and EC2 forgets it an hour after.
    sb.direct('autoscaling', 'TerminateInstanceInAutoScalingGroup', { InstanceId: v.id, ShouldDecrementDesiredCapacity: true });
    sb.advance(TERMINATED_VISIBLE_MS + 60_000);
    t.false(v.id in sb.world.state.instances, 'purged');
    return minOf(excusedSeries(sb, ['g'], from).series);
  };
  t.is(judge(true), 3, 'the application failed: excused');
  t.is(judge(false), 2, 'read from the purged state alone, the loss looked like one the tool caused');
});

test('invariant 1 over time: changes in the same millisecond are not merged across groups', (t) => {
  const sb = Sandbox.create({ seed: 3, faults: { bootSeconds: 30, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'a', capacity: 2, max: 2, elb: { name: 'a-elb', drainingTimeout: 0 } });
  sb.seedGroup({ name: 'b', capacity: 2, max: 2, elb: { name: 'b-elb', drainingTimeout: 0 } });
  const from = sb.clock.now();
  sb.advance(1_000);
  const [x] = live(sb, 'a');
  const [y] = live(sb, 'b');
  // In one millisecond: a's x leaves its ELB, then b's y does, then x comes back: 4 → 3 → 2 → 3.
  sb.direct('elb', 'DeregisterInstancesFromLoadBalancer', { LoadBalancerName: 'a-elb', Instances: [{ InstanceId: x.id }] });
  sb.direct('elb', 'DeregisterInstancesFromLoadBalancer', { LoadBalancerName: 'b-elb', Instances: [{ InstanceId: y.id }] });
  const judged = excusedSeries(sb, ['a', 'b'], from);
  t.is(minOf(judged.series), 2);
});

const color = (name: string, before: [number, number, number], after: [number, number, number]): SizedColor => ({
  name,
  before: { desired: before[0], min: before[1], max: before[2] },
  after: { desired: after[0], min: after[1], max: after[2] },
});
const what = (l: Array<{ group: string; what: string }>) => l.map((x) => `${x.group}:${x.what}`);

test('A/B sizes judged in full: what each outcome allows of both colors (desired, min, max)', (t) => {
  // [outcome, old before→after, new before→after (desired, min, max)], count 4 → leftovers
  const rows: Array<[Parameters<typeof abSizeLeftovers>[0]['outcome'], [number, number, number], [number, number, number], [number, number, number], [number, number, number], string[]]> = [
    ['done', [4, 0, 4], [0, 0, 4], [0, 0, 1], [4, 0, 4], []],
    ['done', [4, 0, 4], [0, 0, 4], [0, 0, 1], [4, 0, 6], ['b:max']], // max raised past the count
    ['done', [4, 0, 4], [1, 0, 4], [0, 0, 1], [4, 0, 4], ['a:desired']], // old color not drained
    ['done', [4, 0, 4], [0, 0, 4], [0, 0, 1], [4, 4, 4], ['b:min']], // min left raised
    ['not-committed', [4, 0, 4], [4, 0, 4], [0, 0, 1], [0, 0, 1], []], // rolled back
    ['not-committed', [4, 0, 4], [4, 0, 4], [0, 0, 1], [4, 0, 4], []], // left for inspection
    ['not-committed', [4, 0, 4], [4, 0, 4], [0, 0, 1], [1, 0, 4], []], // a stand-in kept
    ['not-committed', [4, 0, 4], [4, 0, 6], [0, 0, 1], [0, 0, 1], ['a:max']], // old color's max touched
    ['not-committed', [4, 0, 4], [4, 0, 4], [0, 0, 1], [5, 0, 5], ['b:desired', 'b:max']],
    ['unchanged', [4, 0, 4], [4, 0, 4], [0, 0, 1], [0, 0, 1], []],
    ['unchanged', [4, 0, 4], [4, 0, 4], [0, 0, 1], [0, 0, 4], ['b:max']], // a refusal that raised max
    ['other', [4, 0, 4], [2, 0, 4], [0, 0, 1], [4, 0, 4], []], // committed, draining: not judged here
  ];
  for (const [outcome, ob, oa, nb, na, want] of rows) {
    t.deepEqual(what(abSizeLeftovers({ outcome, count: 4, old: color('a', ob, oa), target: color('b', nb, na), untouched: [] })), want, `${outcome} a ${oa} b ${na}`);
  }
  // A first deploy: the other color is not the run's business — any change to it is a leftover.
  t.deepEqual(what(abSizeLeftovers({ outcome: 'done', count: 2, target: color('a', [0, 0, 1], [2, 0, 2]), untouched: [color('b', [0, 0, 1], [0, 0, 1])] })), []);
  t.deepEqual(what(abSizeLeftovers({ outcome: 'done', count: 2, target: color('a', [0, 0, 1], [2, 0, 2]), untouched: [color('b', [0, 0, 1], [1, 0, 1])] })), ['b:desired']);
});

test('A/B outcome for the sizes: judged by the last attempt that could change anything — a refused re-run leaves what the attempt before it left (chaos seed 1907761789)', (t) => {
  const x = (exit?: number) => ({ exit });
  // [attempts' exits, dry run, new color served] → outcome
  const rows: Array<[Array<number | undefined>, boolean, boolean, ReturnType<typeof abOutcomeOf>]> = [
    [[0], false, true, 'done'],
    [[3], false, false, 'unchanged'], // a refusal
    [[3, 3], false, false, 'unchanged'], // refused, and its re-run refused: nothing acted
    [[0], true, false, 'unchanged'], // a dry run
    [[1], false, false, 'not-committed'], // halted before the new color served
    [[1, 3], false, false, 'not-committed'], // the halt left the new color for inspection, the re-run refused "both populated"
    [[130, 3], false, false, 'not-committed'],
    [[undefined, 3], false, false, 'other'], // killed, then refused: what the kill left is not sized here
    [[undefined, 0], false, true, 'done'], // killed, the re-run finished the swap
    [[1], false, true, 'other'], // halted after the new color served (committed): not judged here
  ];
  for (const [exits, dryRun, newColorServed, want] of rows) {
    t.is(abOutcomeOf(exits.map(x), { dryRun, newColorServed }), want, `${JSON.stringify(exits)} dry ${dryRun} served ${newColorServed}`);
  }
});

test('A/B: a SIGINT attempt is cut short unless the run had halted on its own first (its own code, its halt reported at error level) — then it is not re-run (chaos seed 1907761789)', (t) => {
  const halted = { kind: 'sigint' as const, exit: 1, code: 'ab.unhealthy', haltReportedAt: 1000 };
  t.true(haltedBeforeSigint(halted));
  t.false(haltedBeforeSigint({ ...halted, haltReportedAt: undefined }), 'exit 1 without a halt of its own reported (e.g. AWS unavailable before the engine ran): cut short');
  t.false(haltedBeforeSigint({ ...halted, exit: 130, code: 'interrupted' }), 'interrupted: cut short');
  t.false(haltedBeforeSigint({ ...halted, code: 'interrupted' }), 'an interrupt whatever the exit');
  t.false(haltedBeforeSigint({ ...halted, code: 'internal' }), 'a bug is no halt');
  t.false(haltedBeforeSigint({ ...halted, kind: 'run' }), 'not interrupted at all: the ordinary rule');
  t.false(haltedBeforeSigint({ ...halted, kind: 'crash', exit: undefined }));
});

test('capacityAfterPutBacks: after someone put an instance back from Standby (desired + 1) the tool may keep it or take the surplus back; anything else is not as configured (chaos seeds 3839052769, 3270877186)', (t) => {
  const allowed = new Set([16, 17]);
  const o = { size: 17, allowedDesired: allowed, exits: 1, exogenousLoss: false, rebalanceLaunches: 0 };
  t.true(capacityAfterPutBacks({ ...o, desired: 16, live: 16 }), 'surplus taken back to the recorded 16');
  t.true(capacityAfterPutBacks({ ...o, desired: 17, live: 17 }), 'the put-back kept');
  t.false(capacityAfterPutBacks({ ...o, desired: 15, live: 15 }), 'below the recorded size');
  t.false(capacityAfterPutBacks({ ...o, desired: 18, live: 18 }), 'above recorded + put-backs');
  t.false(capacityAfterPutBacks({ ...o, desired: 16, live: 15 }), 'one short of its desired');
  // No put-back: exactly the configured size, as before.
  const none = { size: 16, allowedDesired: new Set([16]), exits: 0, exogenousLoss: false, rebalanceLaunches: 0 };
  t.true(capacityAfterPutBacks({ ...none, desired: 16, live: 16 }));
  t.false(capacityAfterPutBacks({ ...none, desired: 17, live: 17 }));
});

test('standbyAfterLastLook: an instance someone put into Standby after the tool\'s last look counts as the capacity the tool left, AWS\'s replacement is AWS\'s; one entered before it is the tool\'s (chaos seed 1996067550)', (t) => {
  const ours = [
    { id: 'i-n1', launchStartedAt: 100 },
    { id: 'i-n2', launchStartedAt: 200 },
  ];
  const replaced = [...ours, { id: 'i-r1', launchStartedAt: 1_010 }]; // AWS's replacement for the entry at 1 000
  const inStandby = (id: string) => id === 'i-s1';
  const entry = new Map([['i-s1', 1_000]]);
  const none = { setAside: [], replacements: [] };
  const rows: Array<[string, number | undefined, Map<string, number>, typeof ours, ReturnType<typeof standbyAfterLastLook>]> = [
    ['entered after the last look, replacement launched', 900, entry, replaced, { setAside: ['i-s1'], replacements: ['i-r1'] }],
    ['entered after the last look, replacement not yet launched', 900, entry, ours, { setAside: ['i-s1'], replacements: [] }],
    ['entered before the last look: the tool saw it', 1_005, entry, replaced, none],
    ['entered at the last look: seen', 1_000, entry, replaced, none],
    ['no hand-back (no last look): nothing set apart', undefined, entry, replaced, none],
    ['put back since (no longer in Standby): the put-back rule judges it', 900, new Map([['i-other', 1_000]]), replaced, none],
    ['one replacement per entry, the earliest launch', 900, entry, [...replaced, { id: 'i-x', launchStartedAt: 1_500 }], { setAside: ['i-s1'], replacements: ['i-r1'] }],
  ];
  for (const [name, lastLook, standbyAt, live, want] of rows) t.deepEqual(standbyAfterLastLook({ standbyAt, lastLook, inStandby, live }), want, name);
});

test('staleReadsInStorm: a stale-reads halt is excused only by a throttling storm within the ten minutes before it', (t) => {
  const T = Date.parse('2026-01-01T00:00:00Z');
  const s = generateScenario(1, 'rolling');
  const storm = (afterSeconds: number, seconds: number) => ({ ...s, faults: { ...s.faults, throttleStorm: { afterSeconds, seconds, rate: 0.9 } } });
  const halt = (at: number) => [{ kind: 'run' as const, exit: 1, code: 'stale-reads', haltReportedAt: T + at * 1000 }];
  t.true(staleReadsInStorm(storm(100, 300), halt(500), T), 'the storm ended as the halt came');
  t.true(staleReadsInStorm(storm(100, 300), halt(900), T), 'ended 8 min before it: its stale looks began in the storm');
  t.false(staleReadsInStorm(storm(100, 60), halt(1500), T), 'ended 22 min before it');
  t.false(staleReadsInStorm(storm(2000, 60), halt(1500), T), 'came after it');
  t.false(staleReadsInStorm({ ...s, faults: { ...s.faults, throttleStorm: undefined } }, halt(500), T), 'no storm');
  t.false(staleReadsInStorm(storm(100, 300), [{ kind: 'run', exit: 1, code: 'stale-reads' }], T), 'a halt with no time');
});
