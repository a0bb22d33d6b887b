import test from 'ava';
import type { AlarmView, AwsPort } from '../../orchestrator/aws/port';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError } from '../../orchestrator/errors';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { alarmError, AlarmWatch, judgeAlarms } from '../../orchestrator/rollout/alarms';
import { rollGroup } from '../../orchestrator/rollout/rolling/runner';
import { FakePort } from './fake-port';
import { LOCK_TAG } from '../../orchestrator/lock/record';

const A = (name: string, state: AlarmView['state'], reason?: string): AlarmView => ({ name, state, reason });

// judgeAlarms: missing names and alarms in ALARM (not ignored), in the order asked.
const judgeCases: [string, string[], AlarmView[], string[], { missing: string[]; alarming: string[] }][] = [
  ['all OK', ['a', 'b'], [A('a', 'OK'), A('b', 'OK')], [], { missing: [], alarming: [] }],
  ['INSUFFICIENT_DATA is not ALARM', ['a'], [A('a', 'INSUFFICIENT_DATA')], [], { missing: [], alarming: [] }],
  ['one in ALARM', ['a', 'b'], [A('b', 'ALARM'), A('a', 'OK')], [], { missing: [], alarming: ['b'] }],
  ['one missing', ['a', 'c'], [A('a', 'OK')], [], { missing: ['c'], alarming: [] }],
  ['ignored ALARM', ['a', 'b'], [A('a', 'ALARM'), A('b', 'ALARM')], ['a'], { missing: [], alarming: ['b'] }],
  ['answer with an alarm not asked for', ['a'], [A('a', 'OK'), A('z', 'ALARM')], [], { missing: [], alarming: [] }],
];
for (const [name, wanted, seen, ignored, want] of judgeCases) {
  test(`judgeAlarms: ${name}`, (t) => {
    const j = judgeAlarms(wanted, seen, new Set(ignored));
    t.deepEqual({ missing: j.missing, alarming: j.alarming.map((a) => a.name) }, want);
  });
}

// alarmError: exit code and code per phase.
const errorCases: [string, 'start' | 'run', { missing: string[]; alarming: AlarmView[] }, { code: string; exit: number } | undefined][] = [
  ['start, all fine', 'start', { missing: [], alarming: [] }, undefined],
  ['start, missing → exit 2', 'start', { missing: ['nope'], alarming: [] }, { code: 'alarm-not-found', exit: 2 }],
  ['start, missing wins over ALARM', 'start', { missing: ['nope'], alarming: [A('a', 'ALARM')] }, { code: 'alarm-not-found', exit: 2 }],
  ['start, in ALARM → exit 3', 'start', { missing: [], alarming: [A('a', 'ALARM', 'Threshold Crossed')] }, { code: 'alarm-at-start', exit: 3 }],
  ['run, all fine', 'run', { missing: [], alarming: [] }, undefined],
  ['run, ALARM → exit 1', 'run', { missing: [], alarming: [A('a', 'ALARM')] }, { code: 'alarm', exit: 1 }],
  ['run, deleted → exit 1', 'run', { missing: ['a'], alarming: [] }, { code: 'alarm', exit: 1 }],
];
for (const [name, phase, j, want] of errorCases) {
  test(`alarmError: ${name}`, (t) => {
    const e = alarmError(j, phase, 'web');
    t.deepEqual(e ? { code: e.code, exit: e.exit } : undefined, want);
  });
}

test('alarmError names the alarm, its reason and the way out', (t) => {
  const e = alarmError({ missing: [], alarming: [A('web-5xx', 'ALARM', 'Threshold Crossed: 2 datapoints')] }, 'start', 'web')!;
  t.regex(e.message, /web-5xx \(Threshold Crossed: 2 datapoints\).*--ignore-alarms-at-start/);
  t.regex(alarmError({ missing: ['nope'], alarming: [] }, 'start', 'web')!.message, /--alarm nope: no CloudWatch alarm/);
});

function stubPort(states: Record<string, AlarmView['state']>): AwsPort & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    async describeAlarms(names: string[]) {
      calls.push(names);
      return names.filter((n) => states[n]).map((n) => A(n, states[n]));
    },
  } as unknown as AwsPort & { calls: string[][] };
}

test('AlarmWatch: one batched read per check; --ignore-alarms-at-start holds an alarm back until it leaves ALARM', async (t) => {
  const states: Record<string, AlarmView['state']> = { a: 'ALARM', b: 'OK' };
  const port = stubPort(states);
  const reporter = new RecordingReporter(new VirtualClock());
  const w = new AlarmWatch(port, ['a', 'b'], { target: 'web', reporter, ignoreAtStart: true });
  t.is(await w.check('start'), undefined);
  t.is(await w.check('run'), undefined, 'still the same ALARM as at the start: ignored');
  states.a = 'OK';
  t.is(await w.check('run'), undefined);
  states.a = 'ALARM';
  t.is((await w.check('run'))?.code, 'alarm', 'back in ALARM after leaving it: halts');
  t.deepEqual(port.calls, [['a', 'b'], ['a', 'b'], ['a', 'b'], ['a', 'b']]);
  t.deepEqual(
    reporter.events.filter((e) => e.code === 'alarm.state').map((e) => `${e.data.alarm} ${e.data.state}`),
    ['a ALARM', 'b OK', 'a OK', 'a ALARM'],
    'the state at the start and each change, once',
  );
});

test('AlarmWatch without the flag: ALARM at the start refuses (exit 3)', async (t) => {
  const w = new AlarmWatch(stubPort({ a: 'ALARM' }), ['a'], { target: 'web', reporter: new RecordingReporter(new VirtualClock()) });
  const e = await w.check('start');
  t.is(e?.exit, 3);
});

function setup() {
  const clock = new VirtualClock();
  const port = new FakePort(clock, { capacity: 3 });
  const reporter = new RecordingReporter(clock);
  return { clock, port, reporter };
}

test('roll --alarm: an alarm tripping mid-rollout halts it within one poll (exit 1), surge removed, everything restored', async (t) => {
  const { clock, port, reporter } = setup();
  port.alarms = { 'web-5xx': 'OK' };
  let trippedAt: number | undefined;
  let callsAtTrip = 0;
  clock.onAdvance(() => {
    // The new version starts serving errors once the first old instance is gone.
    if (trippedAt === undefined && port.terminations.length > 0) {
      port.alarms['web-5xx'] = 'ALARM';
      trippedAt = clock.now();
      callsAtTrip = port.alarmCalls;
    }
  });
  const err = await t.throwsAsync(rollGroup({ port, clock, reporter, asg: 'rabbit', alarms: ['web-5xx'] }), { instanceOf: DeployError });
  t.is(err?.code, 'alarm');
  t.is(err?.exit, 1);
  t.regex(err!.message, /web-5xx.*ALARM.*halted/);
  t.is(port.alarmCalls - callsAtTrip, 1, 'the first read after the trip halts');
  t.is(port.terminations.filter((x) => x.version === 1).length, 1, 'no further old instance replaced');
  t.true(port.terminations.filter((x) => x.version === 2).length <= 1, 'at most the surge instance taken back');
  t.is(port.max, 3, 'max restored');
  t.is(port.desired, 3, 'desired restored');
  t.deepEqual(port.suspended, [], 'processes resumed');
  const failed = reporter.events.find((e) => e.code === 'rollout.failed');
  t.is(failed?.data.reason, 'alarm');
  t.deepEqual(failed?.data.alarms, ['web-5xx']);
});

test('roll --alarm: one DescribeAlarms per poll, and a clean run is unchanged otherwise', async (t) => {
  const { clock, port, reporter } = setup();
  port.alarms = { a: 'OK', b: 'INSUFFICIENT_DATA' };
  const r = await rollGroup({ port, clock, reporter, asg: 'rabbit', alarms: ['a', 'b'] });
  t.is(r.status, 'done');
  // One read at the start, then one per observation of the loop (never more than one per poll).
  t.true(port.alarmCalls >= 2);
  t.true(port.alarmCalls <= port.observeCalls, `${port.alarmCalls} alarm reads, ${port.observeCalls} observations`);
});

test('roll --alarm: an alarm in ALARM at the start refuses (exit 3, nothing changed); a missing alarm is exit 2', async (t) => {
  const { clock, port, reporter } = setup();
  port.alarms = { a: 'ALARM' };
  const refused = await t.throwsAsync(rollGroup({ port, clock, reporter, asg: 'rabbit', alarms: ['a'] }), { instanceOf: DeployError });
  t.is(refused?.exit, 3);
  const missing = await t.throwsAsync(rollGroup({ port, clock, reporter, asg: 'rabbit', alarms: ['nope'] }), { instanceOf: DeployError });
  t.is(missing?.exit, 2);
  t.deepEqual(port.mutations.filter((m) => m !== `tag ${LOCK_TAG}` && m !== `untag ${LOCK_TAG}`), [], 'nothing changed but the run\'s own lock (taken and released)');
  t.false(LOCK_TAG in port.tags);
  const ok = await rollGroup({ port, clock, reporter, asg: 'rabbit', alarms: ['a'], ignoreAlarmsAtStart: true });
  t.is(ok.status, 'done', 'with --ignore-alarms-at-start the same ALARM does not stop it');
});

test('roll --alarm --dry-run: the plan names the alarms; an alarm in ALARM refuses the dry run as it would the run', async (t) => {
  const { clock, port, reporter } = setup();
  port.alarms = { a: 'OK' };
  const r = await rollGroup({ port, clock, reporter, asg: 'rabbit', alarms: ['a'], dryRun: true });
  t.is(r.status, 'planned');
  const plan = reporter.events.find((e) => e.code === 'rollout.plan')!;
  t.regex(plan.message, /alarms: a\n/);
  t.deepEqual(plan.data.alarms, ['a']);
  port.alarms.a = 'ALARM';
  const e = await t.throwsAsync(rollGroup({ port, clock, reporter, asg: 'rabbit', alarms: ['a'], dryRun: true }), { instanceOf: DeployError });
  t.is(e?.exit, 3);
  t.deepEqual(port.mutations, []);
});
