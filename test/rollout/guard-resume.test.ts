/**
 * Guard.resume (issue 10, the cleanup's Launch window): the tool resumes only a process it
 * recorded as its own suspension — this run's, or a crashed run's found in the restore tag —
 * never one someone else suspended; the record keeps it, and restore then has nothing left to resume.
 */
import test from 'ava';
import { VirtualClock } from '../../orchestrator/clock';
import { Guard, RESTORE_TAG, readRestoreRecord } from '../../orchestrator/rollout/guard';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { FakePort } from './fake-port';

function setup(suspended: string[] = []) {
  const clock = new VirtualClock();
  const port = new FakePort(clock, { capacity: 3, suspended });
  const reporter = new RecordingReporter(clock);
  return { port, guard: new Guard(port, 'rabbit', reporter, () => clock.now()) };
}

test('resume: never a process someone else suspended (nothing recorded by the tool)', async (t) => {
  const { port, guard } = setup(['Launch']);
  t.deepEqual(await guard.resume(await port.observeGroup('rabbit'), ['Launch']), []);
  t.deepEqual(port.suspended, ['Launch'], 'still suspended');
  t.deepEqual(port.mutations, [], 'no call made');
});

test('resume: a process this run suspended goes back to running and leaves the record; a later suspension by someone else is theirs, never resumed by the restore', async (t) => {
  const { port, guard } = setup();
  await guard.suspend(await port.observeGroup('rabbit'), ['AZRebalance', 'Launch']);
  t.deepEqual(port.suspended, ['AZRebalance', 'Launch']);
  t.deepEqual(await guard.resume(await port.observeGroup('rabbit'), ['Launch', 'ScheduledActions']), ['Launch'], 'only what the tool suspended and is still suspended');
  t.deepEqual(port.suspended, ['AZRebalance']);
  t.deepEqual(port.mutations.slice(-2), ['resume Launch', `tag ${RESTORE_TAG}`], 'resumed first, then the record rewritten (a kill between leaves no unrecorded suspension)');
  t.deepEqual(readRestoreRecord(port.tags)?.suspended, ['AZRebalance'], 'Launch left the record');
  // An operator suspends Launch meanwhile: the restore resumes only the tool's own.
  port.suspended = [...port.suspended, 'Launch'];
  await guard.restore(await port.observeGroup('rabbit'));
  t.deepEqual(port.suspended, ['Launch'], 'someone else\'s Launch stays suspended');
  t.false(RESTORE_TAG in port.tags, 'the record is gone');
  // A later hold by the tool records it again.
  const again = setup();
  await again.guard.suspend(await again.port.observeGroup('rabbit'), ['Launch']);
  await again.guard.resume(await again.port.observeGroup('rabbit'), ['Launch']);
  await again.guard.suspend(await again.port.observeGroup('rabbit'), ['Launch']);
  t.deepEqual(readRestoreRecord(again.port.tags)?.suspended, ['Launch'], 'held again: recorded again');
  await again.guard.restore(await again.port.observeGroup('rabbit'));
  t.deepEqual(again.port.suspended, [], 'and resumed by the restore');
});

test('resume: a crashed run\'s recorded Launch (found by load) is resumed by the re-run', async (t) => {
  const { port, guard } = setup(['AZRebalance', 'Launch']);
  port.tags[RESTORE_TAG] = JSON.stringify({ v: 1, desired: 3, max: 3, suspended: ['AZRebalance', 'Launch'], since: 0 });
  guard.load(await port.observeGroup('rabbit'));
  t.deepEqual(await guard.resume(await port.observeGroup('rabbit'), ['Launch']), ['Launch']);
  t.deepEqual(port.suspended, ['AZRebalance'], 'the rollout\'s own process stays held');
});
