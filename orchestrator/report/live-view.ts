/**
 * The live, compact progress view a person watches on a TTY: one line per service (phase,
 * healthy/desired, old remaining, elapsed, last event), redrawn in place. It is a Reporter:
 * it renders only from the coded events (docs/design.md), so it shows whatever the engines report.
 * Warnings and errors are also printed as lines above the view, so nothing is lost.
 */
import type { Clock } from '../clock';
import { Codes, type Level, type Reporter } from './reporter';
import { DeployCodes, formatDuration } from './summary';

interface Row {
  service: string;
  strategy: string;
  groups: string[];
  phase: string;
  healthy?: number;
  desired?: number;
  oldRemaining?: number;
  /** A/B on target groups: the new color's share of the traffic, percent (traffic.shift). */
  traffic?: number;
  started?: number;
  ended?: number;
  last: string;
  /** Healthy counted from the events, per group; the group that is growing is the one shown. */
  healthyBy: Record<string, number>;
  growing?: string;
  /** Instances counted healthy, and the old ones the plan replaces. */
  counted: Set<string>;
  planned: Set<string>;
  /** From deploy's service list (else opened by a roll/ab plan). */
  declared?: boolean;
  /** A canary, checkpoint or bake holds until then (clock ms): the view counts it down. */
  holdUntil?: number;
}

/** Keeps the per-service state the view shows; pure bookkeeping, tested without a terminal. */
export class ProgressModel {
  readonly rows: Row[] = [];
  stackLine = '';
  private readonly byGroup = new Map<string, Row>();

  apply(time: number, level: Level, code: string, message: string, data: Record<string, unknown>): void {
    if (code === DeployCodes.services && Array.isArray(data.services)) {
      for (const s of data.services as Array<{ service: string; strategy: string; target: string; groups: string[] }>) {
        const row: Row = { service: s.service, strategy: s.strategy, groups: s.groups, phase: 'waiting', last: '', healthyBy: {}, counted: new Set(), planned: new Set(), declared: true };
        this.rows.push(row);
        for (const g of [s.target, ...s.groups]) this.byGroup.set(g, row);
      }
      return;
    }
    if (code.startsWith('stack.') || code === DeployCodes.start) {
      this.stackLine = message;
      return;
    }
    const row = this.rowFor(data) ?? this.ownRow(time, code, data);
    if (!row) return;
    if (code === DeployCodes.serviceStart) {
      row.phase = 'starting';
      row.started = time;
    } else if (code === DeployCodes.serviceSkip) row.phase = 'skipped';
    else if (code === DeployCodes.serviceDone) {
      row.phase = data.status === 'noop' ? 'up to date' : 'done';
      row.ended = time;
    } else if (code === DeployCodes.serviceFailed || code === Codes.failed) {
      row.phase = 'FAILED';
      row.ended = time;
    } else if (code === Codes.done) row.phase = 'done';
    else if (code === 'rollout.rollback' && (data.state === 'start' || data.state === 'done' || data.state === 'failed')) {
      // A rolling rollback runs after the rollout's failure: the row runs again until it ends.
      row.phase = typeof data.phase === 'string' ? data.phase : row.phase;
      row.ended = data.state === 'start' ? undefined : time;
    } else row.phase = typeof data.phase === 'string' ? data.phase : PHASE[code] ?? row.phase;
    this.count(row, code, data);
    if (code === 'rollout.checkpoint' || code === 'rollout.bake' || code === 'ab.keep-old') row.holdUntil = data.state === 'start' && typeof data.until === 'string' ? Date.parse(data.until) : undefined;
    else if (code === Codes.failed || code === Codes.done) row.holdUntil = undefined;
    // Counts an event states outright apply to the group on show (not, say, the idle A/B color).
    const onShow = typeof data.asg !== 'string' || row.growing === undefined || data.asg === row.growing;
    for (const [key, field] of [['healthy', 'healthy'], ['desired', 'desired'], ['oldRemaining', 'oldRemaining'], ['old', 'oldRemaining']] as const) {
      if (typeof data[key] === 'number' && (onShow || field === 'oldRemaining')) row[field] = data[key] as number;
    }
    row.last = level === 'info' ? message : `${level.toUpperCase()}: ${message}`;
  }

  /**
   * Derives healthy/desired and old remaining from the rollout events when they do not carry
   * the counts: a rolling plan starts from `capacity` healthy and its `order` to replace; each
   * `instance.healthy` adds one to its group, each `instance.terminate` takes one; an A/B swap
   * shows the color being scaled up, and the old color's size until it is drained.
   */
  private count(row: Row, code: string, data: Record<string, unknown>): void {
    const asg = typeof data.asg === 'string' ? data.asg : undefined;
    // A rollback's own plan (rollout.rollback, state plan) counts as the plan it is.
    if ((code === Codes.plan || (code === 'rollout.rollback' && data.state === 'plan')) && asg && typeof data.capacity === 'number') {
      row.healthyBy[asg] = data.capacity;
      row.growing = asg;
      row.desired = data.capacity;
      if (Array.isArray(data.order)) {
        // `order` entries are {instanceId, launchTime, healthy} (rollout/rolling/runner.ts plan data).
        row.oldRemaining = data.order.length;
        for (const entry of data.order as Array<{ instanceId: string; healthy?: boolean } | string>) {
          const id = typeof entry === 'string' ? entry : entry.instanceId;
          row.planned.add(id);
          // an outdated instance not healthy now is not among the `capacity` counted healthy
          if (typeof entry !== 'string' && entry.healthy === false) row.healthyBy[asg] = Math.max(0, row.healthyBy[asg] - 1);
          else row.counted.add(id);
        }
      }
    } else if (code === Codes.scale && asg && typeof data.to === 'number' && typeof data.from === 'number') {
      if (data.to > data.from) {
        row.growing = asg;
        row.desired = data.to;
        row.healthyBy[asg] ??= 0;
      } else if (data.to === 0) row.oldRemaining = data.from;
      else if (asg === row.growing) row.desired = data.to;
    } else if (typeof data.healthy === 'number' && asg) {
      row.healthyBy[asg] = data.healthy; // the event says it: authoritative
      row.growing ??= asg;
    } else if (code === Codes.healthy && asg) {
      const id = String(data.instanceId);
      if (!row.counted.has(id)) {
        row.counted.add(id);
        row.healthyBy[asg] = (row.healthyBy[asg] ?? 0) + 1;
      }
    } else if (code === Codes.terminate && asg) {
      const id = String(data.instanceId);
      // Only an instance counted healthy lowers the count (a never-healthy surge instance does not).
      if (row.counted.delete(id) && row.healthyBy[asg] !== undefined) row.healthyBy[asg] = Math.max(0, row.healthyBy[asg] - 1);
      if (row.planned.delete(id) && row.oldRemaining !== undefined) row.oldRemaining = Math.max(0, row.oldRemaining - 1);
      if (data.decrement === true && asg === row.growing && row.desired !== undefined) row.desired--;
    } else if (code === Codes.trafficShift && typeof data.share === 'number') row.traffic = data.share;
    else if (/drained$/.test(code)) row.oldRemaining = 0;
    if (row.growing && row.healthyBy[row.growing] !== undefined) row.healthy = row.healthyBy[row.growing];
  }

  /**
   * `roll` and `ab` run without deploy's service list: their plan event opens a row named for
   * the group (rolling) or the environment (A/B, covering `<env>-a` and `<env>-b`).
   */
  private ownRow(time: number, code: string, data: Record<string, unknown>): Row | undefined {
    if (code !== Codes.plan || this.declared) return undefined;
    const env = typeof data.environment === 'string' ? data.environment : undefined;
    const asg = typeof data.asg === 'string' ? data.asg : undefined;
    const name = env ?? asg;
    if (!name) return undefined;
    const groups = env ? [`${env}-a`, `${env}-b`, env] : [name];
    const row: Row = { service: name, strategy: env ? 'ab' : 'rolling', groups, phase: 'planning', started: time, last: '', healthyBy: {}, counted: new Set(), planned: new Set() };
    this.rows.push(row);
    for (const g of groups) this.byGroup.set(g, row);
    return row;
  }

  private get declared(): boolean {
    return this.rows.some((r) => r.declared);
  }

  private rowFor(data: Record<string, unknown>): Row | undefined {
    if (typeof data.service === 'string') {
      const r = this.rows.find((x) => x.service === data.service);
      if (r) return r;
    }
    for (const key of ['asg', 'environment', 'group', 'target']) {
      const v = data[key];
      if (typeof v === 'string' && this.byGroup.has(v)) return this.byGroup.get(v);
    }
    return undefined;
  }

  /** The view's lines, each cut to `width`. */
  render(now: number, width = 120): string[] {
    const lines = this.stackLine ? [`stack: ${this.stackLine}`] : [];
    const nameWidth = Math.max(7, ...this.rows.map((r) => r.service.length));
    for (const r of this.rows) {
      const elapsed = r.started === undefined ? '' : formatDuration(((r.ended ?? now) - r.started) / 1000);
      const counts = [
        r.healthy !== undefined && r.desired !== undefined ? `${r.healthy}/${r.desired} healthy` : r.desired !== undefined ? `desired ${r.desired}` : '',
        r.oldRemaining !== undefined ? `${r.oldRemaining} old` : '',
        r.holdUntil !== undefined && r.ended === undefined && r.holdUntil > now ? `${formatDuration((r.holdUntil - now) / 1000)} left` : '',
        r.traffic !== undefined ? `traffic ${r.traffic}%` : '',
      ].filter(Boolean);
      const line = `${r.service.padEnd(nameWidth)}  ${r.strategy.padEnd(7)}  ${r.phase.padEnd(11)}  ${counts.join(', ').padEnd(20)}  ${elapsed.padStart(7)}  ${r.last}`;
      lines.push(line.length > width ? line.slice(0, width - 1) + '…' : line);
    }
    return lines;
  }
}

const PHASE: Record<string, string> = {
  [Codes.plan]: 'planning',
  [Codes.scale]: 'scaling',
  [Codes.launch]: 'launching',
  [Codes.healthy]: 'waiting',
  [Codes.terminate]: 'replacing',
  [Codes.trafficShift]: 'shifting',
};

/** ANSI: hide and show the cursor while the view redraws. */
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/**
 * The frame to draw on a terminal of `rows` rows: never taller than rows − 1 (a frame taller than
 * the screen scrolls, and its top can no longer be reached with cursor-up to erase it), the
 * last line saying how many were left out.
 */
export function fitFrame(lines: string[], rows: number | undefined): string[] {
  if (!rows || rows < 2 || lines.length <= rows - 1) return lines;
  const keep = Math.max(0, rows - 2);
  return [...lines.slice(0, keep), `… ${lines.length - keep} more (the full list with --verbose or when piped)`];
}

/** Redraws the view in place on a TTY (ANSI: cursor up, clear to end), the cursor hidden meanwhile. */
export class LiveView implements Reporter {
  private readonly model = new ProgressModel();
  private drawn = 0;
  private cursorHidden = false;
  private readonly restoreCursor = () => {
    if (this.cursorHidden) this.out.write(SHOW_CURSOR);
    this.cursorHidden = false;
  };

  constructor(private readonly clock: Clock, private readonly out: NodeJS.WriteStream | NodeJS.WritableStream) {}

  emit(level: Level, code: string, message: string, data: Record<string, unknown> = {}): void {
    const now = this.clock.now();
    this.model.apply(now, level, code, message, data);
    if (this.closed) {
      // after the final frame (the summary is below it): plain lines only
      this.out.write(`${new Date(now).toISOString().slice(11, 19)} ${level === 'info' ? '' : level.toUpperCase() + ' '}${message}\n`);
      return;
    }
    if (level !== 'info' || code === DeployCodes.start || code === DeployCodes.simulation) {
      this.clear();
      this.out.write(`${new Date(now).toISOString().slice(11, 19)} ${level === 'info' ? '' : level.toUpperCase() + ' '}${message}\n`);
    }
    this.draw(now);
  }

  private ticker?: AbortController;
  private closed = false;

  /**
   * Redraw every second (on the injected clock) so `elapsed` moves while nothing is reported,
   * e.g. during a long ELB health wait. Stopped by {@link finish}.
   */
  start(): void {
    if (this.ticker) return;
    const ticker = (this.ticker = new AbortController());
    void (async () => {
      while (!ticker.signal.aborted) {
        try {
          await this.clock.sleep(1000, ticker.signal);
        } catch {
          return;
        }
        if (this.drawn > 0) this.draw(this.clock.now());
      }
    })();
  }

  /** Stop the ticker, leave the last frame on screen, show the cursor again and stop redrawing over it. */
  finish(): void {
    this.ticker?.abort();
    this.ticker = undefined;
    this.drawn = 0;
    this.closed = true;
    this.restoreCursor();
    process.off('exit', this.restoreCursor);
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(now: number): void {
    const tty = this.out as NodeJS.WriteStream;
    const width = tty.columns || 120;
    // one column spare: a line exactly as wide as the terminal may wrap, and then erase one row short
    const lines = fitFrame(this.model.render(now, width - 1), tty.rows);
    if (!this.cursorHidden && lines.length > 0) {
      this.out.write(HIDE_CURSOR);
      this.cursorHidden = true;
      // a second Ctrl-C exits at once: the terminal gets its cursor back even then
      process.once('exit', this.restoreCursor);
    }
    this.clear();
    if (lines.length > 0) this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}
