/**
 * The health signals an instance is judged by (signal.ts explains the seam). `groupSignals` is the
 * one place that says which AWS signals judge a group's instances: the ASG, then each classic ELB
 * in the given order. A new AWS signal (target groups, lifecycle hooks) joins here and in the
 * snapshot (aws/port.ts), and every strategy follows without a change.
 */
import { asgSignal } from './asg';
import { classicElbSignal } from './elb';
import { combine, type SnapshotSignal, type Verdict } from './signal';
import type { InstanceView } from '../../aws/port';

export { asgSignal } from './asg';
export { classicElbSignal, classicElbSignalOf } from './elb';
export { GatesSignal } from './gates';
export { combine, combineAsync, pollTiming, HEALTHY, type HealthSignal, type SnapshotSignal, type Verdict } from './signal';

const cache = new Map<string, SnapshotSignal[]>();

/** The AWS signals for instances judged by `elbNames`: asg, then `elb <name>` for each. */
export function groupSignals(elbNames: readonly string[]): SnapshotSignal[] {
  const key = elbNames.join('\n');
  let s = cache.get(key);
  if (!s) {
    s = [asgSignal, ...elbNames.map((e) => classicElbSignal(e))];
    if (cache.size > 256) cache.clear();
    cache.set(key, s);
  }
  return s;
}

/** The AWS verdict of `i` judged by `elbNames` (the ASG and each classic ELB). */
export function awsVerdict(i: InstanceView, elbNames: readonly string[]): Verdict {
  return combine(groupSignals(elbNames), i);
}
