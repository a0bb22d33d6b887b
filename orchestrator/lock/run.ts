/**
 * The lock of one rollout run, in one call: `withRunLock(deps, request, body)` — the one entry the
 * rollout runners (rollout/rolling/runner.ts, rollout/ab/runner.ts) use. Everything about the
 * lock stays in this room: which groups it covers, which store holds it (S3 object with
 * `--lock-bucket-name`, else the group tags: lock.ts storeFor), riding out transient AWS errors
 * (every store call goes through the one retry policy), the dry run's read-only check, the
 * heartbeat, and the release on every exit path.
 *
 *  - A real run takes the lock (exit 3 naming holder, reason and age when held), runs `body`, and
 *    releases it. A release that fails is reported (`lock.release-failed`); it fails the run
 *    (exit 1, saying how to clear it) only when the body succeeded — a failed run's own error stands.
 *  - A dry run only reads the lock: when held, it warns ("a real run would be refused") and throws
 *    the refusal (exit 3) — `before` the body (A/B: nothing is planned) or `after` it (rolling: the
 *    plan is still printed first).
 *  - No lock (`lock: false`): the body alone (the caller holds the lock, or a benchmark).
 */
import type { AwsPort } from '../aws/port';
import type { Clock } from '../clock';
import { DeployError } from '../errors';
import type { Reporter } from '../report/reporter';
import { acquireRunLock, checkEnvironmentLock, checkGroupLock, environmentGroups, groupLockOptions, type RunLock } from './lock';
import { asDeployError } from './transient';

export interface LockTuning {
  heartbeatMs?: number;
  staleAfterMs?: number;
  settleMs?: number;
  holder?: string;
}

export interface RunLockRequest {
  /**
   * What the run changes: one group (`roll`, deploy's rolling services: the group's own lock), or
   * an A/B environment — `groups` the run changes, `existing` those of them that exist now; the
   * lock also covers every group of the environment (`ENV`, `ENV-a`, `ENV-b`: lock.ts
   * environmentGroups), so a freeze taken through any of them holds.
   */
  target: { asg: string } | { environment: string; groups: string[]; existing: string[] };
  bucket?: string;
  /** The lock's tuning; false: no lock. */
  lock: false | LockTuning;
  /** Why, for the lock record. */
  reason: string;
  runId?: string;
  dryRun?: boolean;
  /** Dry run of a locked target: the warning's event code, and when the refusal is thrown. */
  dryRunRefusal: { code: string; when: 'before' | 'after' };
}

export interface RunLockDeps {
  port: AwsPort;
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
}

/** Runs `body` under the run's lock (see the module comment). */
export async function withRunLock<T>(deps: RunLockDeps, request: RunLockRequest, body: () => Promise<T>): Promise<T> {
  if (request.lock === false) return body();
  if (request.dryRun) return dryRunUnderLock(deps, request, body);
  const lock = await takeLock(deps, request, request.lock);
  let finished = false;
  try {
    const result = await body();
    finished = true;
    return result;
  } finally {
    if (lock) await release(deps, request, lock, finished);
  }
}

/** Where the data of events names the target: `asg` or `environment`. */
function targetData(request: RunLockRequest): Record<string, string> {
  return 'asg' in request.target ? { asg: request.target.asg } : { environment: request.target.environment };
}

function targetName(request: RunLockRequest): string {
  return 'asg' in request.target ? request.target.asg : request.target.environment;
}

/**
 * An A/B environment's lock: the groups it covers, or undefined when there is nothing to hold it
 * (no bucket and no group exists: a first deploy creates them).
 */
async function environmentLock(deps: RunLockDeps, request: RunLockRequest, t: { environment: string; groups: string[]; existing: string[] }, tuning: LockTuning) {
  const covered = request.bucket ? [] : await environmentGroups(deps.port, t.environment);
  const lockGroups = [...new Set([...t.existing, ...covered])].sort();
  if (!request.bucket && lockGroups.length === 0) return undefined;
  return { environment: t.environment, bucket: request.bucket, groups: lockGroups.length ? lockGroups : t.groups, ...tuning };
}

async function takeLock(deps: RunLockDeps, request: RunLockRequest, tuning: LockTuning): Promise<RunLock | undefined> {
  const t = request.target;
  if ('asg' in t) return acquireRunLock(deps, { ...groupLockOptions(t.asg, request.bucket), ...tuning, reason: request.reason, runId: request.runId });
  const target = await environmentLock(deps, request, t, tuning);
  return target ? acquireRunLock(deps, { ...target, reason: request.reason, runId: request.runId }) : undefined;
}

/** The read-only check of a dry run: the refusal (exit 3) it would meet, or undefined. */
async function dryRunRefusal(deps: RunLockDeps, request: RunLockRequest, tuning: LockTuning): Promise<DeployError | undefined> {
  const t = request.target;
  try {
    if ('asg' in t) {
      await checkGroupLock(deps, { asg: t.asg, bucket: request.bucket, staleAfterMs: tuning.staleAfterMs });
    } else {
      const target = await environmentLock(deps, request, t, tuning);
      if (target) await checkEnvironmentLock(deps, target);
    }
    return undefined;
  } catch (err) {
    if (err instanceof DeployError && err.code === 'locked') return err;
    throw err;
  }
}

async function dryRunUnderLock<T>(deps: RunLockDeps, request: RunLockRequest, body: () => Promise<T>): Promise<T> {
  const refused = await dryRunRefusal(deps, request, request.lock as LockTuning);
  const warn = (e: DeployError) => deps.reporter.emit('warn', request.dryRunRefusal.code, `dry run: a real run would be refused (exit 3): ${e.message}`, { ...targetData(request), ...e.data });
  if (refused && request.dryRunRefusal.when === 'before') {
    warn(refused);
    throw refused;
  }
  const result = await body();
  if (refused) {
    warn(refused);
    throw refused;
  }
  return result;
}

/** Releases the lock; a failure is reported, and fails the run only when the body succeeded. */
async function release(deps: RunLockDeps, request: RunLockRequest, lock: RunLock, finished: boolean): Promise<void> {
  try {
    await lock.release();
  } catch (err) {
    const e = asDeployError(err, `releasing the lock of ${targetName(request)}`);
    deps.reporter.emit('error', 'lock.release-failed', e.message, { ...targetData(request), ...e.data });
    // A failed run's own error stands; a finished run whose lock stays held is not a clean exit 0
    // (the next run would be refused): exit 1, saying how to clear it.
    if (finished) throw e;
  }
}
