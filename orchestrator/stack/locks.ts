/**
 * `deploy` checks the environment locks BEFORE `pulumi up`: a frozen environment (`asg-deploy
 * lock`), or one another run holds, must stop the deploy while nothing has changed yet, not
 * after the infrastructure did. Read-only: the lock module's `checkEnvironmentLock`, the same
 * check (and the same exit-3 refusal) an `ab` run makes; no write.
 *
 * Every service is checked, not only those `--service` selects: `up` changes the whole stack.
 * An A/B service's lock is its environment's (`<name>`, groups `<name>-a`/`<name>-b`: `asg-deploy
 * lock --environment <name>`); a rolling service's is its group's (`<name>`: `asg-deploy lock
 * --asg <name>`, the lock `roll` holds while it runs).
 */
import type { ServiceConfig } from '../../infra/config';
import type { AwsPort } from '../aws/port';
import type { Clock } from '../clock';
import { DeployError, ExitCode, interruptedError, isAbortError, refusedError } from '../errors';
import { checkEnvironmentLock, checkGroupLock } from '../lock/lock';
import type { Reporter } from '../report/reporter';

export interface LockTarget {
  service: string;
  /** The lock's name: the A/B environment, or the rolling service's group. */
  environment: string;
  /** `group`: a rolling service's group lock (lock/lock.ts checkGroupLock); default the environment's. */
  kind?: 'environment' | 'group';
}

/** A lock found held on an environment the deploy would change. */
export interface HeldLock extends LockTarget {
  /** The lock module's refusal (code `locked`, exit 3): its message names holder, reason, age and where. */
  refusal: DeployError;
}

/** Reads locks; never takes, refreshes or releases one. */
export interface LockReader {
  held(targets: LockTarget[]): Promise<HeldLock[]>;
}

/** The environments a deploy of these services touches, in config order. */
export function lockTargets(services: readonly ServiceConfig[]): LockTarget[] {
  return services.map((s) => (s.strategy === 'rolling' ? { service: s.service, environment: s.name, kind: 'group' as const } : { service: s.service, environment: s.name }));
}

/** What `deploy` throws for a held lock: the `ab` refusal, naming the service and that `up` never ran. */
export function lockedRefusal(held: HeldLock): DeployError {
  return refusedError('locked', `service ${held.service}: ${held.refusal.message} (deploy stopped before pulumi up)`, {
    ...held.refusal.data,
    service: held.service,
    environment: held.environment,
  });
}

export interface AwsLockReaderOptions {
  port: AwsPort;
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
  /** `--lock-bucket-name`: the S3 store (`<env>.lock`); else the tag store on the environment's groups. */
  bucket?: string;
}

/**
 * Locks through `checkEnvironmentLock` (transient AWS errors ridden out there). Tag store: an
 * environment with no group yet (a first deploy) holds no lock; S3 store: the object is read.
 * Any other failure is a DeployError: the deploy stops before anything changed.
 */
export function awsLockReader(options: AwsLockReaderOptions): LockReader {
  const deps = { port: options.port, clock: options.clock, reporter: options.reporter, signal: options.signal };
  return {
    async held(targets) {
      const found: HeldLock[] = [];
      for (const t of targets) {
        try {
          if (t.kind === 'group') await checkGroupLock(deps, { asg: t.environment, bucket: options.bucket });
          else await checkEnvironmentLock(deps, { environment: t.environment, bucket: options.bucket });
        } catch (err) {
          if (err instanceof DeployError && err.code === 'locked') found.push({ ...t, refusal: err });
          else throw unreadable(t, err);
        }
      }
      return found;
    },
  };
}

/** The lock could not be read: the deploy stops before anything changed (a DeployError names why). */
function unreadable(t: LockTarget, err: unknown): DeployError {
  if (isAbortError(err) || (err instanceof DeployError && err.exit === ExitCode.interrupted)) {
    return interruptedError('interrupted while reading the environment locks; nothing was changed');
  }
  if (err instanceof DeployError) {
    return new DeployError(err.code, `could not read the lock of ${t.environment} (service ${t.service}): ${err.message}; deploy stopped before pulumi up`, {
      source: err.source,
      exit: err.exit,
      cause: err,
      data: { ...err.data, environment: t.environment, service: t.service },
    });
  }
  const e = err as Error;
  return new DeployError('lock-error', `could not read the lock of ${t.environment} (service ${t.service}): ${e?.name ?? 'Error'}: ${e?.message ?? String(err)}; deploy stopped before pulumi up, nothing was changed`, {
    source: 'aws',
    exit: ExitCode.failed,
    cause: err,
    data: { environment: t.environment, service: t.service },
  });
}
