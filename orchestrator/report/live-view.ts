/**
 * The live, compact progress view a person watches on a TTY: one line per service (phase,
 * healthy/desired, old remaining, elapsed, last event), redrawn in place. It is a Reporter:
 * it renders only from the coded events (DESIGN.md), so it shows whatever the engines report.
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
  started?: number;
  ended?: number;
  last: string;
}

/** Keeps the per-service state the view shows; pure bookkeeping, tested without a terminal. */
export class ProgressModel {
  readonly rows: Row[] = [];
  stackLine = '';
  private readonly byGroup = new Map<string, Row>();

  apply(time: number, level: Level, code: string, message: string, data: Record<string, unknown>): void {
    if (code === DeployCodes.services && Array.isArray(data.services)) {
      for (const s of data.services as Array<{ service: string; strategy: string; target: string; groups: string[] }>) {
        const row: Row = { service: s.service, strategy: s.strategy, groups: s.groups, phase: 'waiting', last: '' };
        this.rows.push(row);
        for (const g of [s.target, ...s.groups]) this.byGroup.set(g, row);
      }
      return;
    }
    if (code.startsWith('stack.') || code === DeployCodes.start) {
      this.stackLine = message;
      return;
    }
    const row = this.rowFor(data);
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
    else row.phase = typeof data.phase === 'string' ? data.phase : PHASE[code] ?? row.phase;
    if (code === Codes.scale && typeof data.to === 'number') row.desired = data.to;
    for (const [key, field] of [['healthy', 'healthy'], ['desired', 'desired'], ['oldRemaining', 'oldRemaining'], ['old', 'oldRemaining']] as const) {
      if (typeof data[key] === 'number') row[field] = data[key] as number;
    }
    row.last = level === 'info' ? message : `${level.toUpperCase()}: ${message}`;
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
        r.healthy !== undefined || r.desired !== undefined ? `${r.healthy ?? '?'}/${r.desired ?? '?'} healthy` : '',
        r.oldRemaining !== undefined ? `${r.oldRemaining} old` : '',
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
};

/** Redraws the view in place on a TTY (ANSI: cursor up, clear line). */
export class LiveView implements Reporter {
  private readonly model = new ProgressModel();
  private drawn = 0;

  constructor(private readonly clock: Clock, private readonly out: NodeJS.WriteStream | NodeJS.WritableStream) {}

  emit(level: Level, code: string, message: string, data: Record<string, unknown> = {}): void {
    const now = this.clock.now();
    this.model.apply(now, level, code, message, data);
    if (level !== 'info' || code === DeployCodes.start || code === DeployCodes.simulation) {
      this.clear();
      this.out.write(`${new Date(now).toISOString().slice(11, 19)} ${level === 'info' ? '' : level.toUpperCase() + ' '}${message}\n`);
    }
    this.draw(now);
  }

  /** Leave the last frame on screen and stop redrawing over it. */
  finish(): void {
    this.drawn = 0;
  }

  private clear(): void {
    if (this.drawn > 0) this.out.write(`\x1b[${this.drawn}A\x1b[0J`);
    this.drawn = 0;
  }

  private draw(now: number): void {
    const width = (this.out as NodeJS.WriteStream).columns ?? 120;
    const lines = this.model.render(now, width);
    this.clear();
    if (lines.length > 0) this.out.write(lines.join('\n') + '\n');
    this.drawn = lines.length;
  }
}
