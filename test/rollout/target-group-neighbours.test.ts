/** Other groups' targets in a group's target groups (rollout/target-group-neighbours.ts): one row per situation. */
import test from 'ava';
import type { ForeignTarget, GroupSnapshot } from '../../orchestrator/aws/port';
import { judgeNeighbours, neighboursOf } from '../../orchestrator/rollout/target-group-neighbours';
import { instanceView } from './instance-view';

const TA = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-a/73e2d6bc24d8a067';
const TB = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web-b/0000000000000001';

function group(name: string, ids: string[], foreign: ForeignTarget[] = []): GroupSnapshot {
  return {
    name, observedAt: 0, desired: ids.length, min: 0, max: 10, launch: {}, mixedInstancesPolicy: false, healthCheckType: 'ELB', healthCheckGracePeriod: 300,
    availabilityZones: [], suspendedProcesses: [], loadBalancerNames: [], targetGroupARNs: [name === 'web-a' ? TA : TB], tags: {},
    instances: ids.map((instanceId) => instanceView({ instanceId })),
    ...(foreign.length ? { foreignTargets: foreign } : {}),
  };
}
const t = (targetGroup: string, instanceId: string, state = 'healthy'): ForeignTarget => ({ targetGroup, instanceId, state });

const neighbourRows: Array<[string, Array<GroupSnapshot | undefined>, ForeignTarget[]]> = [
  ['none: only the group\'s own targets', [group('web-a', ['i-1'])], []],
  ['a third group\'s healthy target', [group('web-a', ['i-1'], [t(TA, 'i-9')])], [t(TA, 'i-9')]],
  ['initial, unhealthy and unavailable targets can take traffic: counted', [group('web-a', ['i-1'], [t(TA, 'i-7', 'initial'), t(TA, 'i-8', 'unhealthy'), t(TA, 'i-6', 'unavailable')])], [t(TA, 'i-7', 'initial'), t(TA, 'i-8', 'unhealthy'), t(TA, 'i-6', 'unavailable')]],
  ['draining (leaving) and unused (terminated, not in use) targets: not counted', [group('web-a', ['i-1'], [t(TA, 'i-7', 'draining'), t(TA, 'i-8', 'unused')])], []],
  ['the other color\'s instance in this color\'s target group is not a third group\'s', [group('web-a', ['i-1'], [t(TA, 'i-2')]), group('web-b', ['i-2'])], []],
  ['a missing color is skipped; the same target listed twice counts once', [group('web-a', ['i-1'], [t(TA, 'i-9'), t(TA, 'i-9')]), undefined], [t(TA, 'i-9')]],
];
for (const [name, groups, want] of neighbourRows) {
  test(`neighboursOf: ${name}`, (x) => x.deepEqual(neighboursOf(groups), want));
}

test('judgeNeighbours: none → none, whatever the strategy', (x) => {
  x.deepEqual(judgeNeighbours('ab', 'web', [], {}), { kind: 'none' });
  x.deepEqual(judgeNeighbours('rolling', 'web-a', [], {}), { kind: 'none' });
});

test('judgeNeighbours: an A/B swap with a third group in a color\'s target group is refused (exit 3), naming the group, the target group and its targets', (x) => {
  const v = judgeNeighbours('ab', 'web', [t(TB, 'i-9'), t(TB, 'i-8')], { 'i-9': 'batch', 'i-8': 'batch' });
  if (v.kind !== 'refuse') return x.fail(v.kind);
  x.is(v.exit, 3);
  x.is(v.code, 'target-group-other-group');
  x.is(v.message, "environment web: target group web-b also has targets of group batch (i-8, i-9): an A/B swap moves its colors' target groups' weights and drains a color, which would move those targets' traffic too; detach batch from the colors' target groups (or give the environment target groups of its own); nothing was changed");
  x.deepEqual(v.data, { targetGroups: [TB], otherGroups: ['batch'], registeredByHand: [] });
});

test('judgeNeighbours: targets registered by hand (in no Auto Scaling group) refuse an A/B swap too, named as such; several groups and target groups each named', (x) => {
  const v = judgeNeighbours('ab', 'web', [t(TA, 'i-7'), t(TB, 'i-9'), t(TA, 'i-5')], { 'i-9': 'batch', 'i-5': 'admin' });
  if (v.kind !== 'refuse') return x.fail(v.kind);
  x.regex(v.message, /target group web-a also has targets of group admin \(i-5\) and registered by hand, in no Auto Scaling group \(i-7\); target group web-b also has targets of group batch \(i-9\)/);
  x.regex(v.message, /detach admin, batch from/);
  x.deepEqual(v.data, { targetGroups: [TA, TB], otherGroups: ['admin', 'batch'], registeredByHand: ['i-7'] });
});

test('judgeNeighbours: a rolling rollout goes on with a warning naming the other group (its targets keep serving, min-healthy counts the group\'s own)', (x) => {
  const v = judgeNeighbours('rolling', 'web-a', [t(TA, 'i-9')], { 'i-9': 'batch' });
  if (v.kind !== 'warn') return x.fail(v.kind);
  x.is(v.code, 'rollout.target-group-shared');
  x.is(v.message, "web-a: target group web-a also has targets of group batch (i-9); they keep serving beside web-a's instances and are not touched (min-healthy counts web-a's instances only)");
  x.deepEqual(v.data, { asg: 'web-a', targetGroups: [TA], otherGroups: ['batch'], registeredByHand: [] });
});
