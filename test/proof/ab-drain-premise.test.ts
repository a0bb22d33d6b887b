/**
 * A/B's drain of the old color rests on the new color serving its count as the tool last read it.
 * On a slow API ([FAULT-15]) someone's EnterStandby in the new color can land between that read
 * and the drain (chaos ab seed 2206767010: read, EnterStandby 1 s later, the drain 1.2 s after
 * that: 35 of 36 serving). No tool can see it; the engine's rule is that the read be fresh (at most
 * 2 s old when the drain is sent, engine.ts staleScaleIn, else read again and decide anew), and the
 * checker counts what the new color lost after a fresh read as still serving (run.ts premiseReadAt)
 * — never after a stale one.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { premiseReadAt, runScenario, type Fleet } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';

test('chaos seed 2206767010 (ab, slow API, someone\'s Standby in the new color): no violation', async (t) => {
  const r = await runScenario(generateScenario(2206767010, 'ab'));
  t.deepEqual(r.violations, [], 'npm run chaos -- --runs 1 --seed 2206767010 --strategy ab');
});

test('premiseReadAt: the tool\'s last read of the new color before the drain, only when fresh by the engine\'s rule', async (t) => {
  const sb = Sandbox.create({ seed: 1 });
  sb.seedGroup({ name: 'qa-a', capacity: 2 });
  sb.seedGroup({ name: 'qa-b', capacity: 2 });
  const s = generateScenario(3, 'ab');
  const f = { groups: ['qa-a', 'qa-b'], active: 'qa-a', target: 'qa-b' } as Fleet;
  const read = async (names: string[]) => sb.invoke('autoscaling', 'DescribeAutoScalingGroups', { AutoScalingGroupNames: names }, 'tool-1');
  await read(['qa-b']);
  const readAt = sb.clock.now();
  sb.advance(500);
  await read(['qa-a']); // the old color read after: not the premise
  const drain = (after: number) => ({ time: readAt + after, operation: 'UpdateAutoScalingGroup' });
  t.is(premiseReadAt(sb, s, f, 'qa-a', drain(2_500)), readAt, 'drain 2.5 s after the read: fresh (2 s, plus the two calls\' latency)');
  t.is(premiseReadAt(sb, s, f, 'qa-a', drain(3_500)), undefined, 'a drain on a read 3.5 s old gets no window');
  t.is(premiseReadAt(sb, s, f, 'qa-b', drain(1_000)), undefined, 'only the old color\'s drain');
  t.is(premiseReadAt(sb, s, f, 'qa-a', { time: readAt + 1_000, operation: 'TerminateInstanceInAutoScalingGroup' }), undefined, 'only the drain (UpdateAutoScalingGroup)');
  t.is(premiseReadAt(sb, generateScenario(3, 'rolling'), f, 'qa-a', drain(1_000)), undefined, 'A/B only');
});
