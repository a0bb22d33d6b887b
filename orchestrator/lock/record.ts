/**
 * The environment lock's record and the pure questions asked about it: whose is it, how old,
 * was it left by a crashed run. No I/O here.
 */
import os from 'node:os';
import type { LockRecord } from '../aws/port';

/** The tag that holds the lock on the environment's groups when no bucket is given. */
export const LOCK_TAG = 'asg-deploy:lock';
/** A classic limit: tag values are at most 256 characters. */
export const TAG_VALUE_MAX = 256;

/**
 * A run refreshes its heartbeat this often (ms): a third of the staleness bound, so a live run
 * (even one riding out a minute of throttling on a refresh) is never taken for a crashed one,
 * at one S3 write per 90 s.
 */
export const DEFAULT_HEARTBEAT_MS = 90_000;
/** A run lock whose heartbeat is older than this is taken to be left by a crashed run (ms). */
export const DEFAULT_STALE_AFTER_MS = 5 * 60_000;

/** `user@host pid N` of this process. */
export function currentHolder(): string {
  let user = 'unknown';
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? process.env.USERNAME ?? 'unknown';
  }
  return `${user}@${os.hostname()} pid ${process.pid}`;
}

/** `user@host` part of a holder (a person, not a process). */
export function holderIdentity(holder: string): string {
  return holder.replace(/\s+pid\s+\d+$/, '');
}

/**
 * A lock is "mine" (removable without --force) when it is a freeze (no runId) taken by the same
 * user@host, or a run lock with my own runId. A run lock of another process, even my own
 * crashed one, needs --force: nobody can tell from here that the other process is gone.
 */
export function isMine(record: LockRecord, me: { holder: string; runId?: string }): boolean {
  if (record.runId) return record.runId === me.runId;
  return holderIdentity(record.holder) === holderIdentity(me.holder);
}

/** Last sign of life of the holder: the heartbeat, else when it was taken. */
export function lastSeen(record: LockRecord): number {
  return record.heartbeat ?? record.since;
}

/**
 * A run lock (runId set) whose heartbeat stopped `staleAfterMs` ago was left by a crashed run.
 * A freeze (`asg-deploy lock`) never goes stale: it is meant to last.
 */
export function isStale(record: LockRecord, now: number, staleAfterMs = DEFAULT_STALE_AFTER_MS): boolean {
  return record.runId !== undefined && now - lastSeen(record) > staleAfterMs;
}

/** "3h 5m", "4m 10s", "12s". */
export function formatAge(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/**
 * One sentence naming holder, reason and age, for refusals and `unlock`:
 * "locked by alice@ci-3 pid 42 (deploy qa: ab swap) since 2026-01-01T00:00:00.000Z, 5m 0s ago".
 * A stale run lock says it was left by a crashed run and how to clear it.
 */
export function describeLock(record: LockRecord, now: number, staleAfterMs = DEFAULT_STALE_AFTER_MS): string {
  const since = new Date(record.since).toISOString();
  const base = `locked by ${record.holder} (${record.reason || 'no reason given'}) since ${since}, ${formatAge(now - record.since)} ago`;
  if (isStale(record, now, staleAfterMs)) {
    return `${base}; left by a crashed run at ${new Date(lastSeen(record)).toISOString()} (no heartbeat for ${formatAge(now - lastSeen(record))}); 'asg-deploy unlock --force' to clear`;
  }
  if (!record.runId) return `${base} (a freeze: 'asg-deploy unlock' releases it)`;
  return base;
}

/** The record as a tag value: JSON, with the reason shortened to keep within 256 characters. */
export function encodeTagValue(record: LockRecord): string {
  const full = JSON.stringify(record);
  if (full.length <= TAG_VALUE_MAX) return full;
  let reason = record.reason;
  const overhead = JSON.stringify({ ...record, reason: '' }).length;
  reason = reason.slice(0, Math.max(0, TAG_VALUE_MAX - overhead - 1));
  while (reason.length > 0 && JSON.stringify({ ...record, reason: reason + '…' }).length > TAG_VALUE_MAX) reason = reason.slice(0, -1);
  return JSON.stringify({ ...record, reason: reason + '…' });
}

/** Parses a lock tag value; a value that is not ours to read still counts as a lock. */
export function decodeTagValue(value: string): LockRecord {
  try {
    const parsed = JSON.parse(value) as Partial<LockRecord>;
    if (parsed && typeof parsed.holder === 'string' && typeof parsed.since === 'number') {
      return {
        holder: parsed.holder,
        reason: typeof parsed.reason === 'string' ? parsed.reason : '',
        since: parsed.since,
        runId: typeof parsed.runId === 'string' ? parsed.runId : undefined,
        heartbeat: typeof parsed.heartbeat === 'number' ? parsed.heartbeat : undefined,
      };
    }
  } catch {
    // fall through: someone wrote the tag by hand
  }
  return { holder: 'unknown (hand-written tag)', reason: value, since: 0 };
}

/** Two records are the same lock when their run ids match, or (freezes) holder and since match. */
export function sameLock(a: LockRecord, b: LockRecord): boolean {
  if (a.runId || b.runId) return a.runId === b.runId;
  return a.holder === b.holder && a.since === b.since;
}
