/**
 * The environment lock (the A/B seed's first step, made safe). A run takes it before it changes
 * anything, refreshes its heartbeat while it works and releases it on every exit path;
 * `asg-deploy lock` takes it as a freeze (no run id, no heartbeat) until `asg-deploy unlock`.
 *
 * With a bucket it is the S3 object `<ENV>.lock` (conditional write: exactly one of two
 * concurrent runs wins); without, the `asg-deploy:lock` tag on the environment's groups (best
 * effort, see stores.ts).
 */
import { randomUUID } from 'node:crypto';
import type { AwsPort, LockRecord } from '../aws/port';
import type { Clock } from '../clock';
import { DeployError, ExitCode, interruptedError, isAbortError, refusedError, usageError } from '../errors';
import type { Reporter } from '../report/reporter';
import {
  DEFAULT_HEARTBEAT_MS,
  DEFAULT_STALE_AFTER_MS,
  currentHolder,
  describeLock,
  formatAge,
  isMine,
  isStale,
  sameLock,
} from './record';
import { BothLockStores, S3LockStore, TagLockStore, type LockStore, type StoredLock } from './stores';
import { asDeployError, isTransient, retryingPort } from './transient';

export const LockCodes = {
  acquired: 'lock.acquired', // {environment, location, holder, runId}
  released: 'lock.released', // {environment, location, holder, forced}
  lost: 'lock.lost', // {environment, location}
  heartbeatFailed: 'lock.heartbeat-failed',
} as const;

export interface LockDeps {
  port: AwsPort;
  clock: Clock;
  reporter: Reporter;
  signal?: AbortSignal;
}

export interface LockOptions {
  environment: string;
  /** `--lock-bucket-name`: the S3 store; else the tag store on `groups`. */
  bucket?: string;
  /** The environment's groups (tag store). Found with {@link environmentGroups} when absent. */
  groups?: string[];
  /** Who: defaults to `user@host pid N`. */
  holder?: string;
  heartbeatMs?: number;
  staleAfterMs?: number;
  /** Tag store: how long to wait before re-reading the tags (ms). */
  settleMs?: number;
  /** What `environment` names, for the commands the messages suggest: `--environment` (default) or `--asg`. */
  scope?: 'environment' | 'asg';
}

/** `--environment qa-web` or `--asg qa-rabbit`, as the messages suggest it. */
function scopeFlag(options: Pick<LockOptions, 'environment' | 'scope'>): string {
  return `--${options.scope ?? 'environment'} ${options.environment}`;
}

/**
 * The groups of an environment that exist, asked for by name in one call: `<env>`, `<env>-a`,
 * `<env>-b`. The lock covers every one of them, whichever command takes it: with groups `qa`,
 * `qa-a` and `qa-b`, `lock --environment qa` (or `--single-asg`) marks all three, so neither
 * `ab --environment qa` (the colors) nor `ab --single-asg` (the group `qa`) can pass a freeze
 * taken by the other. No prefix search: `qa-web` is not part of `qa`.
 */
export async function environmentGroups(port: AwsPort, environment: string, _singleAsg = false): Promise<string[]> {
  return (await port.groupsNamed([environment, `${environment}-a`, `${environment}-b`])).sort();
}

/** AWS errors from the lock store as DeployErrors: a missing bucket is bad input (exit 2). */
function lockFailure(err: unknown, location: string): DeployError {
  if (err instanceof DeployError) return err;
  if (isAbortError(err)) return interruptedError('interrupted while taking the lock; nothing was changed');
  const name = String((err as Error)?.name ?? 'Error');
  const message = `${location}: ${name}: ${(err as Error)?.message ?? String(err)}`;
  if (/NoSuchBucket|InvalidBucketName/.test(name)) return usageError('lock-bucket', `the lock bucket does not exist or is not usable (${message}); check --lock-bucket-name`, { location });
  const transient = isTransient(err);
  return new DeployError('lock-error', `could not use the environment lock (${message}${transient ? ', still failing after retries with back-off' : ''}); nothing was changed`, {
    source: 'aws',
    exit: ExitCode.failed,
    cause: err,
    data: { location, transient },
  });
}

/** Runs `f`, turning AWS errors into a DeployError that names the lock's location. */
async function guarded<T>(location: string, f: () => Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (err) {
    throw lockFailure(err, location);
  }
}

async function storeFor(deps: LockDeps, options: LockOptions): Promise<LockStore> {
  // Every lock call rides out throttling, 5xx and network errors (bounded, in clock time).
  const port = retryingPort(deps.port, { clock: deps.clock, reporter: deps.reporter, signal: deps.signal });
  if (options.bucket) {
    // The S3 object decides; the groups that exist carry the same record (BothLockStores), so
    // runs and freezes with and without a bucket see each other.
    const s3 = new S3LockStore(port, options.bucket, options.environment, deps.clock);
    const wanted = options.groups ?? (await guarded(`${options.environment} groups`, () => environmentGroups(port, options.environment)));
    const groups = wanted.length ? await guarded(`${options.environment} groups`, () => port.groupsNamed(wanted)) : [];
    return groups.length ? new BothLockStores(s3, new TagLockStore(port, deps.clock, [...groups].sort(), options.settleMs)) : s3;
  }
  const groups = options.groups ?? (await guarded(`${options.environment} groups`, () => environmentGroups(port, options.environment)));
  if (groups.length === 0) {
    throw usageError('unknown-environment', `no Auto Scaling Group ${options.environment}-a, ${options.environment}-b or ${options.environment} to hold the lock tag; give --lock-bucket-name or check --environment`, {
      environment: options.environment,
    });
  }
  return new TagLockStore(port, deps.clock, [...groups].sort(), options.settleMs);
}

function refusal(environment: string, held: StoredLock, now: number, staleAfterMs: number, contended = false) {
  const r = held.record;
  const message = contended
    ? `${environment}: another run took the lock at the same moment (${held.where}: ${describeLock(r, now, staleAfterMs)}); nothing was changed, try again`
    : `${environment} is ${describeLock(r, now, staleAfterMs)} [${held.where}]; nothing was changed`;
  return refusedError('locked', message, {
    environment,
    holder: r.holder,
    reason: r.reason,
    since: new Date(r.since).toISOString(),
    ageSeconds: Math.round((now - r.since) / 1000),
    stale: isStale(r, now, staleAfterMs),
    runId: r.runId,
    location: held.where,
    contended,
  });
}

/** A lock this process holds for a run. `release()` is idempotent; call it in `finally`. */
export interface RunLock {
  readonly record: LockRecord;
  readonly location: string;
  /** True when the heartbeat found the lock no longer ours (someone ran `unlock --force`). */
  readonly lost: boolean;
  release(): Promise<void>;
}

/**
 * Takes the environment lock for a run, or throws exit 3 naming holder, reason and age.
 * Starts the heartbeat, which runs on the clock until `release()`.
 */
export async function acquireRunLock(deps: LockDeps, options: LockOptions & { reason: string; runId?: string }): Promise<RunLock> {
  const { clock, reporter } = deps;
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const store = await storeFor(deps, options);
  const now = clock.now();
  const record: LockRecord = {
    holder: options.holder ?? currentHolder(),
    reason: options.reason,
    since: now,
    runId: options.runId ?? randomUUID(),
    heartbeat: now,
  };
  let created: Awaited<ReturnType<LockStore['create']>>;
  try {
    created = await store.create(record, deps.signal);
  } catch (err) {
    // Our record may have been written before the failure: take it back off (best effort).
    try {
      const now = await store.read();
      if (now && sameLock(now.record, record)) await store.remove(now);
    } catch {
      // still failing: the record carries our run id and goes stale without a heartbeat
    }
    throw lockFailure(err, store.location);
  }
  if (!created.won) {
    const holder = created.holder ?? (await guarded(store.location, () => store.read()));
    const err = holder
      ? refusal(options.environment, holder, clock.now(), staleAfterMs, created.contended)
      : refusedError('locked', `${options.environment}: the lock ${store.location} changed hands while taking it; nothing was changed, try again`, {
          environment: options.environment,
          contended: true,
        });
    throw err; // reported once, by whoever maps it (the CLI: an error event with code 'locked')
  }
  reporter.emit('info', LockCodes.acquired, `lock taken: ${store.location} (${record.holder}, ${record.reason})`, {
    environment: options.environment,
    location: store.location,
    holder: record.holder,
    runId: record.runId,
  });

  let etag = created.etag;
  let lost = false;
  let released = false;
  const stop = new AbortController();
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  const heartbeat = (async () => {
    for (;;) {
      try {
        await clock.sleep(heartbeatMs, stop.signal);
      } catch {
        return;
      }
      if (stop.signal.aborted) return;
      const next = { ...record, heartbeat: clock.now() };
      try {
        const r = await store.refresh(next, { etag });
        if (!r.ok) {
          lost = true;
          reporter.emit('warn', LockCodes.lost, `the lock ${store.location} is no longer ours (someone ran 'unlock --force'?)`, {
            environment: options.environment,
            location: store.location,
          });
          return;
        }
        etag = r.etag ?? etag;
        record.heartbeat = next.heartbeat;
      } catch (err) {
        reporter.emit('warn', LockCodes.heartbeatFailed, `could not refresh the lock heartbeat: ${err instanceof Error ? err.message : String(err)}`, {
          environment: options.environment,
        });
      }
    }
  })();

  return {
    record,
    location: store.location,
    get lost() {
      return lost;
    },
    async release() {
      if (released) return;
      released = true;
      stop.abort();
      await heartbeat;
      if (lost) return;
      // Each call is retried on transient errors (the store's port); the whole release once more.
      let failure: unknown;
      for (let attempt = 0; attempt < 2; attempt++) {
        try {
          const current = await store.read();
          if (current && sameLock(current.record, record)) await store.remove(current);
          const after = await store.read();
          if (after && sameLock(after.record, record)) throw new Error('the lock record is still there after deleting it');
          failure = undefined;
          break;
        } catch (err) {
          failure = err;
        }
      }
      if (failure !== undefined) {
        const cause = asDeployError(failure, store.location);
        throw new DeployError(
          'lock-release-failed',
          `could not release the ${options.scope === 'asg' ? 'group' : 'environment'} lock ${store.location} (${cause.message}); it stays held by ${record.holder} (run ${record.runId}) and will show as left by a crashed run once its heartbeat is ${formatAge(staleAfterMs)} old; clear it with 'asg-deploy unlock ${scopeFlag(options)}${options.bucket ? ` --lock-bucket-name ${options.bucket}` : ''} --force'`,
          { source: 'aws', exit: ExitCode.failed, cause: failure, data: { environment: options.environment, location: store.location, runId: record.runId, holder: record.holder } },
        );
      }
      reporter.emit('info', LockCodes.released, `lock released: ${store.location}`, {
        environment: options.environment,
        location: store.location,
        holder: record.holder,
        forced: false,
      });
    },
  };
}

/** `asg-deploy lock`: a freeze with a reason, no run id and no heartbeat (it never goes stale). */
export async function freezeEnvironment(deps: LockDeps, options: LockOptions & { reason: string; dryRun?: boolean }): Promise<{ record: LockRecord; location: string }> {
  const store = await storeFor(deps, options);
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const record: LockRecord = { holder: options.holder ?? currentHolder(), reason: options.reason, since: deps.clock.now() };
  if (options.dryRun) {
    const held = await guarded(store.location, () => store.read());
    if (held) throw refusal(options.environment, held, deps.clock.now(), staleAfterMs);
    deps.reporter.emit('info', 'rollout.plan', `dry run: would lock ${options.environment} (${store.location}): ${options.reason}`, {
      environment: options.environment,
      location: store.location,
      dryRun: true,
    });
    return { record, location: store.location };
  }
  const created = await guarded(store.location, () => store.create(record, deps.signal));
  if (!created.won) {
    const holder = created.holder ?? (await guarded(store.location, () => store.read()));
    throw holder
      ? refusal(options.environment, holder, deps.clock.now(), staleAfterMs, created.contended)
      : refusedError('locked', `${options.environment}: the lock changed hands while taking it; try again`, { environment: options.environment });
  }
  deps.reporter.emit('info', LockCodes.acquired, `${options.environment} locked (${store.location}) by ${record.holder}: ${record.reason}`, {
    environment: options.environment,
    location: store.location,
    holder: record.holder,
    reason: record.reason,
  });
  return { record, location: store.location };
}

/**
 * `asg-deploy unlock`: releases the lock. Someone else's (another user@host, or another run's
 * lock, crashed or not) only with `force`, and the event names whose it was.
 * Returns what was released, or undefined when there was no lock (nothing to do).
 */
export async function unlockEnvironment(
  deps: LockDeps,
  options: LockOptions & { force?: boolean; dryRun?: boolean },
): Promise<StoredLock | undefined> {
  const store = await storeFor(deps, options);
  const staleAfterMs = options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS;
  const now = deps.clock.now();
  const held = await guarded(store.location, () => store.read());
  if (!held) {
    deps.reporter.emit('info', LockCodes.released, `${options.environment} is not locked (${store.location}); nothing to do`, {
      environment: options.environment,
      location: store.location,
      held: false,
    });
    return undefined;
  }
  const me = { holder: options.holder ?? currentHolder() };
  const mine = isMine(held.record, me);
  if (!mine && !options.force) {
    throw refusedError(
      'locked-by-other',
      `${options.environment} is ${describeLock(held.record, now, staleAfterMs)} [${held.where}]; it is not yours: 'asg-deploy unlock ${scopeFlag(options)}${options.bucket ? ` --lock-bucket-name ${options.bucket}` : ''} --force' to release it anyway`,
      { environment: options.environment, holder: held.record.holder, reason: held.record.reason, since: new Date(held.record.since).toISOString(), stale: isStale(held.record, now, staleAfterMs) },
    );
  }
  const whose = `${held.record.holder} (${held.record.reason || 'no reason given'}, taken ${formatAge(now - held.record.since)} ago${isStale(held.record, now, staleAfterMs) ? ', left by a crashed run' : ''})`;
  if (options.dryRun) {
    deps.reporter.emit('info', 'rollout.plan', `dry run: would release ${store.location}, held by ${whose}`, {
      environment: options.environment,
      holder: held.record.holder,
      dryRun: true,
    });
    return held;
  }
  await guarded(store.location, () => store.remove(held));
  deps.reporter.emit(mine ? 'info' : 'warn', LockCodes.released, `${options.environment} unlocked (${store.location}); ${mine ? 'it was yours' : 'forced'}: held by ${whose}`, {
    environment: options.environment,
    location: store.location,
    holder: held.record.holder,
    reason: held.record.reason,
    forced: !mine,
  });
  return held;
}

/** Reads the lock without changing it (status, dry runs). */
export async function readEnvironmentLock(deps: LockDeps, options: LockOptions): Promise<StoredLock | undefined> {
  const store = await storeFor(deps, options);
  return guarded(store.location, () => store.read());
}

/**
 * Read-only check for `asg-deploy deploy` (before `pulumi up`): resolves when the environment is
 * not locked; throws the same exit-3 DeployError (code 'locked', naming holder, reason and age)
 * that an `ab` run would. An environment without groups and without a bucket has no lock to check.
 * AWS errors (after retries) are DeployErrors too: exit 2 for a missing bucket, else exit 1.
 */
export async function checkEnvironmentLock(
  deps: { port: AwsPort; clock: Clock; reporter?: Reporter; signal?: AbortSignal },
  options: { environment: string; bucket?: string; groups?: string[]; staleAfterMs?: number },
): Promise<void> {
  const reporter: Reporter = deps.reporter ?? { emit() {} };
  const full: LockDeps = { port: deps.port, clock: deps.clock, reporter, signal: deps.signal };
  if (!options.bucket) {
    const groups = options.groups ?? (await guarded(`${options.environment} groups`, () => environmentGroups(retryingPort(deps.port, { clock: deps.clock, reporter, signal: deps.signal }), options.environment)));
    if (groups.length === 0) return;
    options = { ...options, groups };
  }
  const store = await storeFor(full, options);
  const held = await guarded(store.location, () => store.read());
  if (held) throw refusal(options.environment, held, deps.clock.now(), options.staleAfterMs ?? DEFAULT_STALE_AFTER_MS);
}

/**
 * The lock of one Auto Scaling Group (`roll`, `lock --asg`, deploy's rolling services): the same
 * record, heartbeat and stale detection as an environment's, keyed by the group's name — the S3
 * object `<ASG>.lock` with a bucket, else the `asg-deploy:lock` tag on the group itself. The tag
 * is the one an A/B environment's lock puts on its groups, so freezing a group of an A/B
 * environment (tag store) freezes that environment too; `ab --single-asg --environment X` and
 * `roll --asg X` share the lock of X in both stores.
 */
export function groupLockOptions(asg: string, bucket?: string): LockOptions {
  return { environment: asg, bucket, groups: [asg], scope: 'asg' };
}

/**
 * Read-only check of a group's lock (deploy before `pulumi up`, a dry run of `roll`): resolves
 * when it is not locked, else throws the exit-3 refusal naming holder, reason and age. Without a
 * bucket, a group that does not exist yet (a first deploy) holds no lock.
 */
export async function checkGroupLock(
  deps: { port: AwsPort; clock: Clock; reporter?: Reporter; signal?: AbortSignal },
  options: { asg: string; bucket?: string; staleAfterMs?: number },
): Promise<void> {
  if (!options.bucket) {
    const reporter: Reporter = deps.reporter ?? { emit() {} };
    const port = retryingPort(deps.port, { clock: deps.clock, reporter, signal: deps.signal });
    const found = await guarded(`${options.asg} group`, () => port.findGroups(options.asg));
    if (!found.includes(options.asg)) return;
  }
  await checkEnvironmentLock(deps, { ...groupLockOptions(options.asg, options.bucket), staleAfterMs: options.staleAfterMs });
}
