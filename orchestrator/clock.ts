/**
 * The one clock. Nothing below the CLI calls `Date.now()` or `setTimeout` directly:
 * production code gets a {@link SystemClock}, tests and the sandbox a {@link VirtualClock}
 * (optionally scaled to real time for the demo).
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Resolves after `ms` milliseconds of this clock's time; rejects with an AbortError when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError' && Object.prototype.toString.call(reason) === '[object Error]') return reason;
  const err = new Error(reason instanceof Error ? reason.message : 'The operation was aborted', { cause: reason });
  err.name = 'AbortError';
  return err;
}

/** Wall-clock time. */
export class SystemClock implements Clock {
  now(): number {
    return Date.now();
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, Math.max(0, ms));
      const onAbort = () => {
        clearTimeout(timer);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

interface Timer {
  at: number;
  seq: number;
  resolve: () => void;
}

/**
 * A discrete-event clock. `sleep` registers a timer; once every actor is waiting (no more
 * work in the microtask/immediate queues), time jumps to the earliest timer and wakes it.
 * A 3-hour rollout therefore runs in milliseconds, and two actors sharing one clock (two
 * concurrent deploys, say) interleave in simulated-time order.
 *
 * Listeners registered with {@link onAdvance} run each time `now` moves forward, before the
 * woken sleeper continues; the simulated AWS uses this to process its own scheduled events.
 *
 * With `scale` set (e.g. 20), the same discrete-event clock is paced for a person to watch:
 * before time jumps to the next timer, the pump waits until (jump / scale) of real time has
 * passed. Only the pace depends on real time: `now()` never follows the wall clock, so the
 * order and the simulated instants of every event are those of the unscaled clock, and a
 * loaded machine makes the demo slower, never different. Falling more than a second behind
 * the pace re-anchors it (no catch-up burst).
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers: Timer[] = [];
  private pumping = false;
  private readonly listeners: Array<(now: number) => void> = [];
  private readonly scale?: number;
  /** Scaled: the real time (ms) at which `current` was due; pacing counts from it. */
  private realAtCurrent: number;
  /** Scaled: the pending real-time wait of the pump, cancelled when an earlier timer arrives. */
  private pacing?: ReturnType<typeof setTimeout>;

  constructor(options: { start?: number; scale?: number } = {}) {
    this.current = options.start ?? Date.parse('2026-01-01T00:00:00Z');
    this.scale = options.scale;
    this.realAtCurrent = Date.now();
  }

  now(): number {
    return this.current;
  }

  /** Called with the new time whenever the clock moves forward. */
  onAdvance(listener: (now: number) => void): void {
    this.listeners.push(listener);
  }

  /** Moves time forward (never back) and notifies listeners. Does not wake sleepers by itself. */
  advanceTo(t: number): void {
    if (t <= this.current) return;
    this.current = t;
    for (const l of this.listeners) l(t);
  }

  /** Advance by `ms` (tests), waking any sleeper that is due. */
  async tick(ms: number): Promise<void> {
    await this.sleep(ms);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortError(signal));
      const timer: Timer = {
        at: this.current + Math.max(0, ms),
        seq: this.seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const i = this.timers.indexOf(timer);
        if (i >= 0) this.timers.splice(i, 1);
        reject(abortError(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.timers.push(timer);
      this.schedulePump();
    });
  }

  /** Number of sleepers waiting (diagnostics and tests). */
  get pending(): number {
    return this.timers.length;
  }

  private schedulePump(): void {
    if (this.pacing) {
      // a new timer may be due before the one the pump is pacing towards: look again
      clearTimeout(this.pacing);
      this.pacing = undefined;
      this.pumping = false;
    }
    if (this.pumping) return;
    this.pumping = true;
    // setImmediate runs after pending promise callbacks and I/O callbacks, i.e. once every
    // actor has reached its next await.
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumping = false;
    if (this.timers.length === 0) return;
    this.timers.sort((a, b) => a.at - b.at || a.seq - b.seq);
    const next = this.timers[0];
    if (this.scale) {
      const due = this.realAtCurrent + (next.at - this.current) / this.scale;
      const wait = due - Date.now();
      if (wait > 0) {
        this.pumping = true;
        this.pacing = setTimeout(() => {
          this.pacing = undefined;
          this.pump();
        }, Math.min(wait, 1000));
        return;
      }
      this.realAtCurrent = wait < -1000 ? Date.now() : due;
    }
    this.timers.shift();
    this.advanceTo(next.at);
    next.resolve();
    if (this.timers.length > 0) this.schedulePump();
  }
}
