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
 * With `scale` set (e.g. 60), the clock instead follows real time sped up by that factor:
 * one real second is `scale` simulated seconds. The demo uses this so a person can watch.
 */
export class VirtualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers: Timer[] = [];
  private pumping = false;
  private readonly listeners: Array<(now: number) => void> = [];
  private readonly scale?: number;
  private readonly realStart: number;
  private readonly virtualStart: number;

  constructor(options: { start?: number; scale?: number } = {}) {
    this.current = options.start ?? Date.parse('2026-01-01T00:00:00Z');
    this.scale = options.scale;
    this.realStart = Date.now();
    this.virtualStart = this.current;
  }

  now(): number {
    if (this.scale) {
      const t = this.virtualStart + (Date.now() - this.realStart) * this.scale;
      if (t > this.current) this.advanceTo(t);
    }
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
      const realWait = (next.at - this.now()) / this.scale;
      if (realWait > 0) {
        this.pumping = true;
        setTimeout(() => this.pump(), Math.min(realWait, 1000));
        return;
      }
    }
    this.timers.shift();
    this.advanceTo(next.at);
    next.resolve();
    if (this.timers.length > 0) this.schedulePump();
  }
}
