import test from 'ava';
import type { ElbInstanceHealth, GroupSnapshot, InstanceView } from '../../orchestrator/aws/port';
import type { Gate } from '../../orchestrator/gates/gate';
import {
  asgSignal,
  awsVerdict,
  classicElbSignal,
  classicElbSignalOf,
  combine,
  combineAsync,
  GatesSignal,
  groupSignals,
  pollTiming,
  type Verdict,
} from '../../orchestrator/rollout/health';
import { instanceView } from './instance-view';

function inst(over: Partial<InstanceView> = {}, elb: Record<string, ElbInstanceHealth> = {}): InstanceView {
  return instanceView({ elb, ...over });
}

// The ASG signal: lifecycle first, then health status.
const asgCases: [string, Partial<InstanceView>, Verdict][] = [
  ['InService and Healthy', {}, { healthy: true }],
  ['Pending', { lifecycleState: 'Pending' }, { healthy: false, gate: 'asg', state: 'Pending' }],
  ['Pending:Wait (a lifecycle hook)', { lifecycleState: 'Pending:Wait' }, { healthy: false, gate: 'asg', state: 'Pending:Wait' }],
  ['Terminating', { lifecycleState: 'Terminating' }, { healthy: false, gate: 'asg', state: 'Terminating' }],
  ['InService but Unhealthy', { healthStatus: 'Unhealthy' }, { healthy: false, gate: 'asg', state: 'health status Unhealthy' }],
  ['lifecycle wins over health', { lifecycleState: 'Standby', healthStatus: 'Unhealthy' }, { healthy: false, gate: 'asg', state: 'Standby' }],
];
for (const [name, over, want] of asgCases) {
  test(`asg signal: ${name}`, (t) => t.deepEqual(asgSignal.judge(inst(over)), want));
}

// A classic ELB's signal: registered and InService; otherwise the ELB's words.
const elbCases: [string, Record<string, ElbInstanceHealth>, Verdict][] = [
  ['InService', { web: { state: 'InService', reasonCode: 'N/A', description: 'N/A' } }, { healthy: true }],
  ['not registered', {}, { healthy: false, gate: 'elb web', state: 'not registered yet' }],
  ['registered in another ELB only', { api: { state: 'InService' } }, { healthy: false, gate: 'elb web', state: 'not registered yet' }],
  [
    'OutOfService with description and reason code',
    { web: { state: 'OutOfService', reasonCode: 'Instance', description: 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.' } },
    { healthy: false, gate: 'elb web', state: 'OutOfService: Instance has failed at least the UnhealthyThreshold number of health checks consecutively. (Instance)' },
  ],
  ['reason code N/A is not shown', { web: { state: 'Unknown', reasonCode: 'N/A', description: 'Instance registration is still in progress.' } }, { healthy: false, gate: 'elb web', state: 'Unknown: Instance registration is still in progress.' }],
  ['bare state', { web: { state: 'OutOfService' } }, { healthy: false, gate: 'elb web', state: 'OutOfService' }],
];
for (const [name, elb, want] of elbCases) {
  test(`classic ELB signal: ${name}`, (t) => t.deepEqual(classicElbSignal('web').judge(inst({}, elb)), want));
}

// The combination: the first signal that says no, in order (ASG, then each ELB in the group's order).
const combineCases: [string, Partial<InstanceView>, Record<string, ElbInstanceHealth>, string[], Verdict][] = [
  ['no ELB: the ASG alone', {}, {}, [], { healthy: true }],
  ['healthy in the ASG and both ELBs', {}, { a: { state: 'InService' }, b: { state: 'InService' } }, ['a', 'b'], { healthy: true }],
  ['the ASG says no first', { lifecycleState: 'Pending' }, {}, ['a'], { healthy: false, gate: 'asg', state: 'Pending' }],
  ['first ELB in order that says no', {}, { a: { state: 'InService' } }, ['a', 'b'], { healthy: false, gate: 'elb b', state: 'not registered yet' }],
  ['both ELBs say no: the first named', {}, { a: { state: 'OutOfService' } }, ['b', 'a'], { healthy: false, gate: 'elb b', state: 'not registered yet' }],
];
for (const [name, over, elb, elbNames, want] of combineCases) {
  test(`combined AWS verdict: ${name}`, (t) => {
    t.deepEqual(awsVerdict(inst(over, elb), elbNames), want);
    t.deepEqual(combine(groupSignals(elbNames), inst(over, elb)), want);
  });
}

test('groupSignals: the ASG then each classic ELB, by name', (t) => {
  t.deepEqual(
    groupSignals(['a', 'b']).map((s) => s.name),
    ['asg', 'elb a', 'elb b'],
  );
});

// Polling hints: the longest interval and the highest threshold among the signals.
const timingCases: [string, { interval: number; healthyThreshold: number }[], ReturnType<typeof pollTiming>][] = [
  ['none', [], undefined],
  ['one ELB', [{ interval: 10, healthyThreshold: 3 }], { interval: 10, healthyThreshold: 3 }],
  ['two ELBs: longest interval, highest threshold', [{ interval: 10, healthyThreshold: 3 }, { interval: 5, healthyThreshold: 5 }], { interval: 10, healthyThreshold: 5 }],
  ['interval 0: no hint', [{ interval: 0, healthyThreshold: 2 }], undefined],
];
for (const [name, timings, want] of timingCases) {
  test(`pollTiming: ${name}`, (t) => {
    const signals = [asgSignal, ...timings.map((x, n) => classicElbSignal(`e${n}`, x))];
    t.deepEqual(pollTiming(signals), want);
  });
}

test('classicElbSignalOf takes the polling hint from the ELB health check', (t) => {
  const s = classicElbSignalOf({ name: 'web', healthCheck: { target: 'HTTP:80/', interval: 10, timeout: 5, healthyThreshold: 3, unhealthyThreshold: 2 } });
  t.is(s.name, 'elb web');
  t.deepEqual(s.timing, { interval: 10, healthyThreshold: 3 });
});

function countingGate(name: string, results: boolean[]): Gate & { calls: number } {
  const g = {
    name,
    calls: 0,
    async check() {
      const ok = results[Math.min(g.calls, results.length - 1)];
      g.calls++;
      return { ok, state: ok ? 'HTTP 200' : 'HTTP 503' };
    },
  };
  return g;
}

const group = { name: 'web' } as GroupSnapshot;

test('gates: asked only once the AWS signals say yes; a failure names the gate and its state', async (t) => {
  const gate = countingGate('http http://{ip}/health', [false, true]);
  const signals = [...groupSignals(['lb']), new GatesSignal([gate], () => true)];
  t.deepEqual(await combineAsync(signals, inst({}, {}), group), { healthy: false, gate: 'elb lb', state: 'not registered yet' });
  t.is(gate.calls, 0);
  t.deepEqual(await combineAsync(signals, inst({}, { lb: { state: 'InService' } }), group), { healthy: false, gate: 'gate http http://{ip}/health', state: 'HTTP 503' });
  t.deepEqual(await combineAsync(signals, inst({}, { lb: { state: 'InService' } }), group), { healthy: true });
  t.is(gate.calls, 2);
});

test('gates: a pass is remembered per instance; out-of-scope instances are not asked', async (t) => {
  const gate = countingGate('cmd', [true]);
  const s = new GatesSignal([gate], (i) => i.instanceId !== 'i-old');
  t.deepEqual(await s.judge(inst(), group), { healthy: true });
  t.deepEqual(await s.judge(inst(), group), { healthy: true });
  t.deepEqual(await s.judge(inst({ instanceId: 'i-old' }), group), { healthy: true });
  t.is(gate.calls, 1);
});

test('gates: once interrupted, no new check; not yet passed is not healthy', async (t) => {
  const gate = countingGate('cmd', [true]);
  const ac = new AbortController();
  ac.abort();
  const s = new GatesSignal([gate], () => true, ac.signal);
  t.deepEqual(await s.judge(inst(), group), { healthy: false, gate: 'gate cmd', state: 'not checked (interrupted)' });
  t.is(gate.calls, 0);
});
