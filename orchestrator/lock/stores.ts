/**
 * Where an environment lock lives. Two stores behind one small interface:
 *
 * - {@link S3LockStore}: the object `<ENV>.lock` in a bucket, created with a conditional write
 *   (`If-None-Match: *`), so of two concurrent runs exactly one wins. This is the safe one.
 * - {@link TagLockStore}: the tag `asg-deploy:lock` on the environment's groups. Auto Scaling tags
 *   have no compare-and-set, so this is best effort: read every group (refuse if anyone holds
 *   it), write ours to every group, wait a settle period, re-read every group, and proceed only
 *   if every group still carries OUR record; otherwise take ours back off (only where it is still
 *   ours) and report contention. Two runs racing can therefore both back off, but two runs
 *   cannot both proceed unless a write lands after the other's re-read — a window of one settle
 *   period (`settleMs`, default 3 s) that the S3 store does not have. Use a bucket in CI.
 */
import type { AwsPort, LockRecord } from '../aws/port';
import type { Clock } from '../clock';
import { LOCK_TAG, decodeTagValue, encodeTagValue, sameLock } from './record';
import { isTransient } from './transient';

export interface StoredLock {
  record: LockRecord;
  /** S3: the object's ETag. Tags: the group carrying this record. */
  where: string;
  etag?: string;
}

export type CreateResult = { won: true; etag?: string } | { won: false; holder?: StoredLock; contended?: boolean };

export interface LockStore {
  /** "s3://bucket/qa.lock" or "tag asg-deploy:lock on qa-a, qa-b". */
  readonly location: string;
  read(): Promise<StoredLock | undefined>;
  create(record: LockRecord, signal?: AbortSignal): Promise<CreateResult>;
  /** Refresh our record (heartbeat); false when it is no longer ours. */
  refresh(record: LockRecord, previous: { etag?: string }): Promise<{ ok: boolean; etag?: string }>;
  /** Remove the given lock record (ours, or someone else's with force). */
  remove(lock: StoredLock): Promise<void>;
}

/**
 * S3's `409 ConditionalRequestConflict`: a conflicting operation was in progress, nothing was
 * decided; S3's documentation says to retry (PutObject `IfNoneMatch`/`IfMatch`). Not "someone
 * holds the lock" (that is 412 PreconditionFailed).
 */
export function isConditionalConflict(err: unknown): boolean {
  const e = err as { name?: string; Code?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'ConditionalRequestConflict' || e?.Code === 'ConditionalRequestConflict' || e?.$metadata?.httpStatusCode === 409;
}

/** Attempts at a conditional S3 write that keeps meeting 409s, and the pause before each retry. */
export const CONFLICT_ATTEMPTS = 5;
const CONFLICT_PAUSE_MS = [200, 400, 800, 1600];

/** `<ENV>.lock` in an S3 bucket. */
export class S3LockStore implements LockStore {
  readonly location: string;
  private readonly key: string;
  constructor(
    private readonly port: AwsPort,
    private readonly bucket: string,
    environment: string,
    private readonly clock?: Clock,
  ) {
    this.key = `${environment}.lock`;
    this.location = `s3://${bucket}/${this.key}`;
  }

  /** Runs a conditional write, retrying it on 409 ConditionalRequestConflict (fresh look first: `before`). */
  private async onConflictRetry<T>(op: () => Promise<T>, before?: () => Promise<T | 'retry'>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await op();
      } catch (err) {
        if (!isConditionalConflict(err) || attempt >= CONFLICT_ATTEMPTS) throw err;
        await this.clock?.sleep(CONFLICT_PAUSE_MS[Math.min(attempt - 1, CONFLICT_PAUSE_MS.length - 1)]);
        if (before) {
          const decided = await before();
          if (decided !== 'retry') return decided;
        }
      }
    }
  }

  async read(): Promise<StoredLock | undefined> {
    const got = await this.port.getLockObject(this.bucket, this.key);
    return got && { record: got.record, where: this.location, etag: got.etag };
  }

  async create(record: LockRecord): Promise<CreateResult> {
    // A 412 may be our own write: a 5xx after S3 applied the PUT makes the SDK retry it, and the
    // retry finds the object (ours) present. The record's run id (or holder+since) tells.
    // A 409 decided nothing: look again (the conflicting write may have been someone's lock, or
    // ours), and put again only while the key is still free.
    const put = await this.onConflictRetry(
      () => this.port.putLockObject(this.bucket, this.key, record),
      async () => ((await this.read()) ? false : 'retry'),
    );
    const now = await this.read();
    if (now && sameLock(now.record, record)) return { won: true, etag: now.etag };
    if (put) return { won: true }; // written, then changed or gone before the read: refresh will tell
    return { won: false, holder: now };
  }

  async refresh(record: LockRecord, previous: { etag?: string }): Promise<{ ok: boolean; etag?: string }> {
    if (!this.port.replaceLockObject || !previous.etag) {
      // No conditional overwrite available: check it is still ours, keep the old heartbeat.
      const now = await this.read();
      return { ok: Boolean(now && sameLock(now.record, record)), etag: previous.etag };
    }
    let expected = previous.etag;
    const etag = await this.onConflictRetry(
      () => this.port.replaceLockObject!(this.bucket, this.key, record, expected),
      async () => {
        const now = await this.read();
        if (!now || !sameLock(now.record, record)) return undefined;
        expected = now.etag ?? expected;
        return 'retry';
      },
    );
    if (etag !== undefined) return { ok: true, etag };
    // 412: someone changed it — or our own overwrite was applied and its response lost (a 5xx
    // after the write, retried by the SDK against the new ETag). Ours when it still carries this
    // record (same run id): adopt its ETag.
    const now = await this.read();
    return now && sameLock(now.record, record) ? { ok: true, etag: now.etag } : { ok: false };
  }

  async remove(lock: StoredLock): Promise<void> {
    try {
      let etag = lock.etag;
      await this.onConflictRetry(
        () => this.port.deleteLockObject(this.bucket, this.key, etag),
        async () => {
          const now = await this.read();
          if (!now || !sameLock(now.record, lock.record)) return undefined; // gone, or no longer this lock
          etag = lock.etag ? now.etag : undefined;
          return 'retry';
        },
      );
    } catch (err) {
      // 412: the object changed since it was read (e.g. a heartbeat of the holder landed): delete
      // it only if it is still the same lock. Some S3-compatible stores reject conditional
      // deletes (If-Match) outright: same fallback (a tiny window, only on those stores).
      if (!lock.etag || isTransient(err)) throw err;
      const now = await this.read();
      if (!now || !sameLock(now.record, lock.record)) return;
      if (/PreconditionFailed|ConditionalRequestConflict/.test(String((err as Error)?.name))) {
        await this.port.deleteLockObject(this.bucket, this.key, now.etag);
      } else {
        await this.port.deleteLockObject(this.bucket, this.key);
      }
    }
  }
}

/** The `asg-deploy:lock` tag on every group of the environment (see the module comment). */
export class TagLockStore implements LockStore {
  readonly location: string;
  constructor(
    private readonly port: AwsPort,
    private readonly clock: Clock,
    private readonly groups: string[],
    private readonly settleMs = 3000,
  ) {
    this.location = `tag ${LOCK_TAG} on ${groups.join(', ')}`;
  }

  private async readAll(): Promise<Array<{ group: string; record?: LockRecord }>> {
    const out: Array<{ group: string; record?: LockRecord }> = [];
    for (const group of this.groups) {
      const snap = await this.port.observeGroup(group, { elbHealth: false, targetHealth: false });
      const value = snap.tags[LOCK_TAG];
      out.push({ group, record: value === undefined ? undefined : decodeTagValue(value) });
    }
    return out;
  }

  async read(): Promise<StoredLock | undefined> {
    const found = (await this.readAll()).find((g) => g.record);
    return found && { record: found.record!, where: `${LOCK_TAG} tag on ${found.group}` };
  }

  async create(record: LockRecord, signal?: AbortSignal): Promise<CreateResult> {
    const before = (await this.readAll()).find((g) => g.record);
    if (before) return { won: false, holder: { record: before.record!, where: `${LOCK_TAG} tag on ${before.group}` } };
    const value = encodeTagValue(record);
    for (const group of this.groups) await this.port.putGroupTags(group, { [LOCK_TAG]: value });
    // Why wait: a concurrent writer's tag may land after ours; only a re-read after it
    // settles tells who won. Last writer wins on each group; anyone who sees a foreign
    // record anywhere backs off.
    try {
      await this.clock.sleep(this.settleMs, signal);
    } catch (err) {
      // Interrupted while settling: take our record back off before giving up.
      for (const g of await this.readAll()) if (g.record && sameLock(g.record, record)) await this.port.deleteGroupTags(g.group, [LOCK_TAG]);
      throw err;
    }
    const after = await this.readAll();
    const foreign = after.find((g) => !g.record || !sameLock(g.record, record));
    if (!foreign) return { won: true };
    for (const g of after) {
      if (g.record && sameLock(g.record, record)) await this.port.deleteGroupTags(g.group, [LOCK_TAG]);
    }
    return {
      won: false,
      contended: true,
      holder: foreign.record && { record: foreign.record, where: `${LOCK_TAG} tag on ${foreign.group}` },
    };
  }

  async refresh(record: LockRecord): Promise<{ ok: boolean }> {
    const all = await this.readAll();
    if (!all.every((g) => g.record && sameLock(g.record, record))) return { ok: false };
    const value = encodeTagValue(record);
    for (const group of this.groups) await this.port.putGroupTags(group, { [LOCK_TAG]: value });
    return { ok: true };
  }

  async remove(lock: StoredLock): Promise<void> {
    for (const g of await this.readAll()) {
      if (g.record && sameLock(g.record, lock.record)) await this.port.deleteGroupTags(g.group, [LOCK_TAG]);
    }
  }
}

/**
 * One lock per group whatever the store: with a bucket the S3 object decides (conditional
 * write), and the same record is also put on the groups' `asg-deploy:lock` tag, so a run or a
 * freeze without `--lock-bucket-name` sees it; before taking the object the tags are read, so a
 * tag-only lock (a run or freeze without a bucket) is seen too. Taking it: tags free → object →
 * tags (the tag store's write, settle, re-read); a tag-side loss takes the object back off.
 */
export class BothLockStores implements LockStore {
  readonly location: string;
  constructor(
    private readonly s3: S3LockStore,
    private readonly tag: TagLockStore,
  ) {
    this.location = `${s3.location} (and ${tag.location})`;
  }

  async read(): Promise<StoredLock | undefined> {
    return (await this.s3.read()) ?? (await this.tag.read());
  }

  async create(record: LockRecord, signal?: AbortSignal): Promise<CreateResult> {
    const tagged = await this.tag.read();
    if (tagged && !sameLock(tagged.record, record)) return { won: false, holder: tagged };
    const s = await this.s3.create(record);
    if (!s.won) return s;
    const ours: StoredLock = { record, where: this.s3.location, etag: s.etag };
    let t: CreateResult;
    try {
      t = await this.tag.create(record, signal);
    } catch (err) {
      await this.s3.remove(ours).catch(() => undefined);
      throw err;
    }
    if (!t.won) {
      await this.s3.remove(ours);
      return t;
    }
    return s;
  }

  async refresh(record: LockRecord, previous: { etag?: string }): Promise<{ ok: boolean; etag?: string }> {
    const r = await this.s3.refresh(record, previous);
    if (!r.ok) return r;
    return (await this.tag.refresh(record)).ok ? r : { ok: false };
  }

  async remove(lock: StoredLock): Promise<void> {
    if (lock.where === this.s3.location) await this.s3.remove(lock);
    else {
      const now = await this.s3.read();
      if (now && sameLock(now.record, lock.record)) await this.s3.remove(now);
    }
    await this.tag.remove(lock);
  }
}
