/**
 * Everything the user sees goes through one Reporter as coded events (docs/design.md "Events").
 * `--json` prints one object per line on stdout; humans get progress on stderr.
 */
import type { Clock } from '../clock';

export type Level = 'info' | 'warn' | 'error';

export interface DeployEvent {
  time: string; // ISO-8601
  level: Level;
  code: string;
  message: string;
  data: Record<string, unknown>;
}

export interface Reporter {
  emit(level: Level, code: string, message: string, data?: Record<string, unknown>): void;
}

/** Stable event codes (docs/design.md). More may be added; these do not change meaning. */
export const Codes = {
  plan: 'rollout.plan',
  scale: 'group.scale', // {asg, from, to}
  launch: 'instance.launch', // {asg, instanceId}
  healthy: 'instance.healthy', // {asg, instanceId}
  terminate: 'instance.terminate', // {asg, instanceId, launchTime, reason}
  done: 'rollout.done', // {asg|environment, replaced, seconds, apiCalls}
  failed: 'rollout.failed', // {reason, ...}
  trafficShift: 'traffic.shift', // {environment, share, from, weights: {tgName: weight}, targetGroups, forwards}
} as const;

export function makeEvent(clock: Clock, level: Level, code: string, message: string, data: Record<string, unknown> = {}): DeployEvent {
  return { time: new Date(clock.now()).toISOString(), level, code, message, data };
}

/** Writes one JSON object per line to `out` (stdout for `--json`). */
export class JsonReporter implements Reporter {
  constructor(private readonly clock: Clock, private readonly out: NodeJS.WritableStream = process.stdout) {}
  emit(level: Level, code: string, message: string, data: Record<string, unknown> = {}): void {
    this.out.write(JSON.stringify(makeEvent(this.clock, level, code, message, data)) + '\n');
  }
}

/** Plain timestamped lines (CI, logs) on `out` (stderr by default). */
export class PlainReporter implements Reporter {
  constructor(private readonly clock: Clock, private readonly out: NodeJS.WritableStream = process.stderr, private readonly verbose = true) {}
  emit(level: Level, code: string, message: string, data: Record<string, unknown> = {}): void {
    if (!this.verbose && level === 'info' && !IMPORTANT.has(code)) return;
    const e = makeEvent(this.clock, level, code, message, data);
    const tag = level === 'info' ? '' : `${level.toUpperCase()} `;
    this.out.write(`${e.time} ${tag}${message}\n`);
  }
}
const IMPORTANT = new Set<string>([Codes.plan, Codes.done, Codes.failed, Codes.trafficShift, 'rollout.rollback']);

/** Keeps every event in memory; tests assert on codes and data, not wording. */
export class RecordingReporter implements Reporter {
  readonly events: DeployEvent[] = [];
  constructor(private readonly clock: Clock) {}
  emit(level: Level, code: string, message: string, data: Record<string, unknown> = {}): void {
    this.events.push(makeEvent(this.clock, level, code, message, data));
  }
  codes(): string[] {
    return this.events.map((e) => e.code);
  }
  ofCode(code: string): DeployEvent[] {
    return this.events.filter((e) => e.code === code);
  }
}

/** Sends each event to every reporter given. */
export class TeeReporter implements Reporter {
  constructor(private readonly reporters: Reporter[]) {}
  emit(level: Level, code: string, message: string, data?: Record<string, unknown>): void {
    for (const r of this.reporters) r.emit(level, code, message, data);
  }
}

export const silentReporter: Reporter = { emit() {} };
