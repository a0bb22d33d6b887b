/**
 * What an operator does after a run was killed (kill -9): `asg-deploy unlock --asg G --force`,
 * since a killed run cannot release the group's lock (rollGroup takes it by default). The lock's
 * own crash path — refusal naming the holder, "left by a crashed run" once stale — is tested in
 * test/roll/lock.test.ts; tests of the engine's recovery call this before their re-run.
 */
import type { AwsPort } from '../../orchestrator/aws/port';
import type { Clock } from '../../orchestrator/clock';
import { groupLockOptions, unlockEnvironment } from '../../orchestrator/lock/lock';
import { RecordingReporter } from '../../orchestrator/report/reporter';

export async function forceUnlockGroup(port: AwsPort, clock: Clock, group: string): Promise<void> {
  await unlockEnvironment({ port, clock, reporter: new RecordingReporter(clock) }, { ...groupLockOptions(group), force: true, holder: 'operator@laptop' });
}
