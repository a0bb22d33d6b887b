/**
 * `deploy` checks the environment locks BEFORE `pulumi up`: a frozen environment (`asg-deploy
 * lock`), or one another run holds, must stop the deploy while nothing has changed yet, not
 * after the infrastructure did. Read-only: the lock module's reader, no write.
 *
 * Every service is checked, not only those `--service` selects: `up` changes the whole stack.
 * A service's environment is its resource name: an A/B service's `<name>` (groups `<name>-a`,
 * `<name>-b`), a rolling service's group `<name>` (`asg-deploy lock --environment <name>`).
 */
import type { ServiceConfig } from '../../infra/config';
import type { AwsPort, LockRecord } from '../aws/port';
import type { Clock } from '../clock';
import { DeployError, ExitCode, isAbortError, interruptedError, refusedError } from '../errors';
import { environmentGroups, readEnvironmentLock } from '../lock/lock';
import { DEFAULT_STALE_AFTER_MS, describeLock, isStale } from '../lock/record';
import type { Reporter } from '../report/reporter';

export interface LockTarget {
  service: string;
  environment: string;
}

/** A lock found held on an environment the deploy would change. */
export interface HeldLock extends LockTarget {
  record: LockRecord;
  /** Where it lives: `s3://bucket/env.lock` or `tag asg-deploy:lock on ...`. */
  location: string;
}

/** Reads locks; never takes, refreshes or releases one. */
export interface LockReader {
  held(targets: LockTarget[]): Promise<HeldLock[]>;
}

/** The environments a deploy of these services touches, in config order. */
export function lockTargets(services: readonly ServiceConfig[]): LockTarget[] {
  return services.map((s) => ({ service: s.service, environment: s.name }));
}

/**
 * The exit-3 refusal an `ab` run gives for the same lock (code `locked`), naming holder, reason
 * and age, and saying that nothing was changed.
 */
export function lockedRefusal(held: HeldLock, now: number, staleAfterMs = DEFAULT_STALE_AFTER_MS): DeployError {
  const r = held.record;
  return refusedError('locked', `${held.environment} (service ${held.service}) is ${describeLock(r, now, staleAfterMs)} [${held.location}]; deploy refused before pulumi up: nothing was changed`, {
    environment: held.environment,
    service: held.service,
    holder: r.holder,
    reason: r.reason,
    since: new Date(r.since).toISOString(),
    ageSeconds: Math.round((now - r.since) / 1000),
    stale: isStale(r, now, staleAfterMs),
    runId: r.runId,
    location: held.location,
  });
}

export interface AwsLockReaderOptions {
  port: AwsPort;
  clock: Clock;
  reporter: Reporter;
  /** `--lock-bucket-name`: the S3 store (`<env>.lock`); else the tag store on the environment's groups. */
  bucket?: string;
}

/**
 * Locks through the lock module's read-only reader. Tag store: an environment with no group yet
 * (a first deploy) cannot hold a lock and is skipped; S3 store: the object is read either way.
 */
export function awsLockReader(options: AwsLockReaderOptions): LockReader {
  const deps = { port: options.port, clock: options.clock, reporter: options.reporter };
  return {
    async held(targets) {
      const found: HeldLock[] = [];
      for (const t of targets) {
        try {
          const groups = options.bucket ? undefined : await environmentGroups(options.port, t.environment);
          if (groups && groups.length === 0) continue;
          const stored = await readEnvironmentLock(deps, { environment: t.environment, bucket: options.bucket, groups });
          if (stored) found.push({ ...t, record: stored.record, location: stored.where });
        } catch (err) {
          throw unreadable(t, err);
        }
      }
      return found;
    },
  };
}

/** The lock could not be read: the deploy stops before anything changed (a DeployError names why). */
function unreadable(t: LockTarget, err: unknown): DeployError {
  if (err instanceof DeployError) return err;
  if (isAbortError(err)) return interruptedError('interrupted while reading the environment locks; nothing was changed');
  const e = err as Error;
  return new DeployError('lock-error', `could not read the lock of ${t.environment} (service ${t.service}): ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}; deploy stopped before pulumi up, nothing was changed`, {
    source: 'aws',
    exit: ExitCode.failed,
    cause: err,
    data: { environment: t.environment, service: t.service },
  });
}
