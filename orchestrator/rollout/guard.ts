/**
 * Guard rails (docs/design.md safety invariant 3): the only way a rollout changes a group's max size,
 * desired capacity, suspended processes or scale-in protection.
 *
 * Before changing anything the guard writes the ORIGINAL values to the group as a tag
 * (`asg-deploy:restore`, compact JSON, < 256 chars), so that:
 *  - every exit path (done, failure, timeout, abort) can put them back with {@link Guard.restore};
 *  - a re-run after a crash finds the tag ({@link Guard.load}), knows the real target capacity
 *    (the original desired, not the surge-raised one) and restores at its end.
 *
 * Only what the tool changed is recorded and restored: a process the user had already suspended
 * is neither recorded nor resumed; an instance already protected is not unprotected.
 *
 * Example: desired 3, max 3, nothing suspended. `suspend(AZRebalance, AlarmNotification,
 * ScheduledActions)` writes `{"v":1,"desired":3,"max":3,"suspended":["AZRebalance",…]}` then
 * suspends; `setDesired(4)` raises max to 4 with it (UpdateAutoScalingGroup). `restore()` resumes
 * the three processes, sets max back to 3 (desired is back at 3 after the last terminate with
 * decrement), and deletes the tag.
 */
import type { AwsPort, GroupSnapshot } from '../aws/port';
import { sentOnce } from '../aws/transient';
import { Codes, type Reporter } from '../report/reporter';

export const RESTORE_TAG = 'asg-deploy:restore';
export const PROTECTED_TAG = 'asg-deploy:protected';

/** The originals the tool recorded before its first change. */
export interface RestoreRecord {
  v: 1;
  /** Desired capacity before the rollout: the rollout's target. */
  desired: number;
  max: number;
  /** Processes the tool suspended (were not suspended before). */
  suspended: string[];
  /** Instances the tool protected from scale-in (were not protected before). */
  protected: string[];
  /** When the record was first written (clock ms). */
  since: number;
}

/** Parses the restore tags of a snapshot; undefined when there are none (or they are unreadable). */
export function readRestoreRecord(tags: Record<string, string>): RestoreRecord | undefined {
  const raw = tags[RESTORE_TAG];
  if (!raw) return undefined;
  try {
    const j = JSON.parse(raw) as Partial<RestoreRecord> & { p?: string[]; s?: string[] };
    if (typeof j.desired !== 'number' || typeof j.max !== 'number') return undefined;
    const prot = (tags[PROTECTED_TAG] ?? '').split(/\s+/).filter(Boolean);
    return { v: 1, desired: j.desired, max: j.max, suspended: j.suspended ?? [], protected: prot, since: j.since ?? 0 };
  } catch {
    return undefined;
  }
}

function encode(r: RestoreRecord): Record<string, string> {
  const { protected: _p, ...rest } = r;
  const tags: Record<string, string> = { [RESTORE_TAG]: JSON.stringify(rest) };
  return tags;
}

/** `once`: send the size change once (the record is still written with retries); a transient failure is the caller's to handle (a scale-in: look again, decide anew). */
export interface SizeOptions {
  once?: boolean;
}

export class Guard {
  private record?: RestoreRecord;
  /** What this guard last set, and when (clock ms): to say what is left changed without AWS. */
  private lastSet: { desired?: number; max?: number; at?: number } = {};
  private readonly resumed = new Set<string>();

  constructor(
    private readonly port: AwsPort,
    readonly group: string,
    private readonly reporter: Reporter,
    private readonly now: () => number,
  ) {}

  /** Reads a record left by an earlier (crashed) run. Returns it so the strategy can finish the job. */
  load(snapshot: GroupSnapshot): RestoreRecord | undefined {
    this.record = readRestoreRecord(snapshot.tags);
    if (this.record) {
      this.reporter.emit('warn', 'guard.recovered', `${this.group}: found the originals of an earlier interrupted run (desired ${this.record.desired}, max ${this.record.max}${this.record.suspended.length ? `, suspended ${this.record.suspended.join(', ')}` : ''}); finishing the job`, {
        asg: this.group,
        record: this.record,
      });
    }
    return this.record;
  }

  /** The originals, if anything was recorded (this run or a crashed one). */
  originals(): RestoreRecord | undefined {
    return this.record;
  }

  /** True when the tool has changed something it must put back. */
  get active(): boolean {
    return this.record !== undefined;
  }

  private async ensureRecorded(s: GroupSnapshot, extra: Partial<Pick<RestoreRecord, 'suspended' | 'protected'>> = {}): Promise<void> {
    const base: RestoreRecord = this.record ?? { v: 1, desired: s.desired, max: s.max, suspended: [], protected: [], since: this.now() };
    const next: RestoreRecord = {
      ...base,
      suspended: [...new Set([...base.suspended, ...(extra.suspended ?? [])])],
      protected: [...new Set([...base.protected, ...(extra.protected ?? [])])],
    };
    const changed =
      !this.record || next.suspended.length !== this.record.suspended.length || next.protected.length !== this.record.protected.length;
    if (!changed) return;
    const tags = encode(next);
    if (next.protected.length > 0) {
      const v = next.protected.join(' ');
      if (v.length > 256) throw new Error(`too many protected instances to record in a tag (${next.protected.length})`);
      tags[PROTECTED_TAG] = v;
    }
    await this.port.putGroupTags(this.group, tags);
    this.record = next;
  }

  /**
   * The group's capacity moved by someone else's act during the run (an instance put back from
   * Standby: AWS incremented desired): the recorded original desired follows, so that the run and
   * a re-run after a crash take the new capacity as the target. Nothing to do before the first change.
   */
  async followCapacity(desired: number): Promise<void> {
    if (!this.record || this.record.desired === desired) return;
    const next: RestoreRecord = { ...this.record, desired };
    await this.port.putGroupTags(this.group, encode(next));
    this.record = next;
  }

  /** Suspends those of `processes` not already suspended, recording them first. */
  async suspend(s: GroupSnapshot, processes: string[]): Promise<string[]> {
    const todo = processes.filter((p) => !s.suspendedProcesses.includes(p));
    if (todo.length === 0) return [];
    await this.ensureRecorded(s, { suspended: todo });
    await this.port.suspendProcesses(this.group, todo);
    for (const p of todo) this.resumed.delete(p);
    this.noteSet({});
    return todo;
  }

  /**
   * Resumes those of `processes` the tool itself suspended (recorded: by this run or a crashed one)
   * and that are still suspended — a process held for one step and no longer needed, e.g. the
   * cleanup's Launch a kill -9 left suspended (rolling/strategy.ts releaseHeld). Never one the
   * tool did not record (someone else's suspension stays). Then they leave the record — resumed
   * first, the tag rewritten after, so that a kill -9 between the two leaves a record naming a
   * running process, never a suspension no record names (the one residue: should someone suspend
   * that process before the re-run, the re-run takes it for the tool's and resumes it) — and from
   * then on a suspension of that process is someone else's: never resumed by this run or its
   * restore (a later hold by the tool records it again).
   */
  async resume(s: GroupSnapshot, processes: string[]): Promise<string[]> {
    const r = this.record;
    if (!r) return [];
    const todo = processes.filter((p) => r.suspended.includes(p) && s.suspendedProcesses.includes(p));
    if (todo.length === 0) return [];
    await this.port.resumeProcesses(this.group, todo);
    const next: RestoreRecord = { ...r, suspended: r.suspended.filter((p) => !todo.includes(p)) };
    await this.port.putGroupTags(this.group, encode(next));
    this.record = next;
    this.noteSet({});
    return todo;
  }

  /**
   * Sets desired capacity, raising max for the rollout when needed (recorded first).
   * Example: max 3, desired 3 → setDesired(4) = UpdateAutoScalingGroup {MaxSize 4, DesiredCapacity 4}.
   */
  async setDesired(s: GroupSnapshot, desired: number, opts: SizeOptions = {}): Promise<void> {
    await this.ensureRecorded(s);
    const port = opts.once ? sentOnce(this.port) : this.port;
    if (desired > s.max) await port.updateSizes(this.group, { max: desired, desired });
    else await port.setDesired(this.group, desired);
    this.noteSet({ desired, max: desired > s.max ? desired : undefined });
    this.reporter.emit('info', Codes.scale, `${this.group}: desired ${s.desired} → ${desired}${desired > s.max ? ` (max ${s.max} → ${desired} for the rollout)` : ''}`, {
      asg: this.group,
      from: s.desired,
      to: desired,
    });
  }

  /** Generic size change (min/max/desired), recorded first. */
  async updateSizes(s: GroupSnapshot, sizes: { min?: number; max?: number; desired?: number }, opts: SizeOptions = {}): Promise<void> {
    await this.ensureRecorded(s);
    await (opts.once ? sentOnce(this.port) : this.port).updateSizes(this.group, sizes);
    this.noteSet({ desired: sizes.desired, max: sizes.max });
    if (sizes.desired !== undefined && sizes.desired !== s.desired) {
      this.reporter.emit('info', Codes.scale, `${this.group}: desired ${s.desired} → ${sizes.desired}`, { asg: this.group, from: s.desired, to: sizes.desired });
    }
  }

  /** Protects (or unprotects) instances from scale-in; protection the tool added is recorded first. */
  async protect(s: GroupSnapshot, instanceIds: string[], protect: boolean): Promise<void> {
    const byId = new Map(s.instances.map((i) => [i.instanceId, i]));
    const ids = instanceIds.filter((id) => byId.get(id)?.protectedFromScaleIn !== protect);
    if (ids.length === 0) return;
    if (protect) await this.ensureRecorded(s, { protected: ids });
    await this.port.setScaleInProtection(this.group, ids, protect);
  }

  /**
   * Puts back everything recorded: resumes the processes the tool suspended, unprotects what it
   * protected, sets max back (never below the current desired: the strategy's cleanup removes
   * surge instances first, by explicit termination, so AWS never chooses which instance goes),
   * and deletes the tags. Safe to call more than once.
   *
   * `keepRecord` (the cleanup could not bring desired back): everything else is put back, but
   * while desired differs from the original the record stays on the group, rewritten to what is
   * still changed (desired and max originals, nothing suspended or protected), so that a re-run
   * knows the real capacity and finishes the job.
   */
  async restore(s: GroupSnapshot, opts: { keepRecord?: boolean } = {}): Promise<void> {
    const r = this.record ?? readRestoreRecord(s.tags);
    if (!r) return;
    const keep = opts.keepRecord === true && s.desired !== r.desired;
    const present = new Set(s.instances.map((i) => i.instanceId));
    const unprotect = r.protected.filter((id) => present.has(id));
    if (unprotect.length) await this.port.setScaleInProtection(this.group, unprotect, false);
    const resume = r.suspended.filter((p) => s.suspendedProcesses.includes(p));
    if (resume.length) await this.port.resumeProcesses(this.group, resume);
    for (const p of resume) this.resumed.add(p);
    this.noteSet({});
    if (s.max !== r.max) {
      const max = Math.max(r.max, s.desired);
      if (max !== s.max) await this.port.updateSizes(this.group, { max });
      this.noteSet({ max });
      if (max !== r.max) {
        this.reporter.emit('warn', 'guard.max-kept', `${this.group}: max size left at ${max} (originally ${r.max}) because desired is ${s.desired}`, {
          asg: this.group,
          max,
          originalMax: r.max,
        });
      }
    }
    if (keep) {
      const left: RestoreRecord = { ...r, suspended: [], protected: [] };
      await this.port.putGroupTags(this.group, encode(left));
      if (r.protected.length) await this.port.deleteGroupTags(this.group, [PROTECTED_TAG]);
      this.record = left;
      this.reporter.emit('warn', 'guard.kept', `${this.group}: restored${resume.length ? ` (resumed ${resume.join(', ')})` : ''} except desired ${s.desired} (originally ${r.desired}); the originals stay recorded (${RESTORE_TAG}) for a re-run`, {
        asg: this.group,
        resumed: resume,
        desired: s.desired,
        originalDesired: r.desired,
        unprotected: unprotect,
      });
      return;
    }
    await this.port.deleteGroupTags(this.group, r.protected.length ? [RESTORE_TAG, PROTECTED_TAG] : [RESTORE_TAG]);
    this.reporter.emit('info', 'guard.restored', `${this.group}: restored${resume.length ? ` (resumed ${resume.join(', ')})` : ''}${s.max !== r.max ? `, max ${r.max}` : ''}`, {
      asg: this.group,
      resumed: resume,
      max: r.max,
      unprotected: unprotect,
    });
    this.record = undefined;
    this.resumed.clear();
  }

  private noteSet(v: { desired?: number; max?: number }): void {
    this.lastSet = { desired: v.desired ?? this.lastSet.desired, max: v.max ?? this.lastSet.max, at: this.now() };
  }

  /**
   * What is still changed while a record exists (restore not finished), for an honest message:
   * from `s` when it was observed after this guard's last change, else from what this guard
   * itself last set. Example: ["desired 4 (originally 3)", "max 4 (originally 3)",
   * "suspended AZRebalance, AlarmNotification", "restore tag asg-deploy:restore kept"].
   */
  leftChanged(s: GroupSnapshot | undefined): string[] {
    const r = this.record;
    if (!r) return [];
    const fresh = s !== undefined && (this.lastSet.at === undefined || s.observedAt > this.lastSet.at);
    const desired = fresh ? s.desired : this.lastSet.desired ?? s?.desired;
    const max = fresh ? s.max : this.lastSet.max ?? s?.max;
    const suspended = fresh ? r.suspended.filter((p) => s.suspendedProcesses.includes(p)) : r.suspended.filter((p) => !this.resumed.has(p));
    const out: string[] = [];
    if (desired !== undefined && desired !== r.desired) out.push(`desired ${desired} (originally ${r.desired})`);
    if (max !== undefined && max !== r.max) out.push(`max ${max} (originally ${r.max})`);
    if (suspended.length) out.push(`suspended ${suspended.join(', ')}`);
    if (r.protected.length) out.push(`scale-in protection on ${r.protected.join(', ')}`);
    out.push(`restore tag ${RESTORE_TAG} kept`);
    return out;
  }
}
