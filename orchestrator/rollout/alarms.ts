/**
 * CloudWatch alarms as a halting check (`--alarm NAME`, the service key `alarms`): the fleet's
 * verdict, not one instance's, so it sits beside the health signals rather than among them.
 *
 * Read with ONE batched DescribeAlarms per poll (aws/port.ts describeAlarms): before the start
 * (an alarm already in ALARM refuses the run, exit 3, unless `--ignore-alarms-at-start`; a name
 * CloudWatch does not know is bad input, exit 2, nothing changed), then after every observation
 * of the rollout: ALARM halts it (exit 1; the engine cleans up and restores, as for any failure).
 * INSUFFICIENT_DATA is not ALARM (as Instance Refresh's alarm specification: only ALARM fails it).
 *
 * With `--ignore-alarms-at-start`, an alarm in ALARM at the start is not held against the run
 * until it has been seen out of ALARM once: from then on, ALARM halts as for any other.
 */
import type { AlarmView, AwsPort } from '../aws/port';
import { DeployError, refusedError, rolloutError, usageError } from '../errors';
import type { Reporter } from '../report/reporter';

export const AlarmCodes = {
  state: 'alarm.state', // {alarm, state, reason}: the state at the start, and every change
} as const;

export type AlarmPhase = 'start' | 'run';

/** What the alarms say: names CloudWatch does not know, and the alarms in ALARM (not ignored). */
export interface AlarmJudgement {
  missing: string[];
  alarming: AlarmView[];
}

/**
 * Pure: which of `wanted` are missing from CloudWatch's answer, and which are in ALARM (leaving
 * out the `ignored` ones). Example: wanted [a, b, c], seen [a ALARM, b OK] → missing [c], alarming [a].
 */
export function judgeAlarms(wanted: readonly string[], seen: readonly AlarmView[], ignored: ReadonlySet<string> = new Set()): AlarmJudgement {
  const byName = new Map(seen.map((a) => [a.name, a]));
  const missing = wanted.filter((n) => !byName.has(n));
  const alarming = wanted.map((n) => byName.get(n)).filter((a): a is AlarmView => a !== undefined && a.state === 'ALARM' && !ignored.has(a.name));
  return { missing, alarming };
}

const describe = (a: AlarmView) => `${a.name} (${a.reason ?? 'no reason given'})`;

/**
 * Pure: the error a judgement means in a phase, or undefined to go on.
 *  - start, missing → exit 2 `alarm-not-found` naming them;
 *  - start, in ALARM → exit 3 `alarm-at-start` (the flag to go on anyway is named);
 *  - run, in ALARM or gone → exit 1 `alarm` (halted; cleanup and restore follow).
 */
export function alarmError(j: AlarmJudgement, phase: AlarmPhase, target: string): DeployError | undefined {
  if (phase === 'start') {
    if (j.missing.length) {
      return usageError('alarm-not-found', `--alarm ${j.missing.join(', ')}: no CloudWatch alarm (metric or composite) by that name in this account and region; nothing was changed`, { alarms: j.missing });
    }
    if (j.alarming.length) {
      return refusedError('alarm-at-start', `${target}: alarm ${j.alarming.map(describe).join('; ')} is in ALARM before the start; nothing was changed (--ignore-alarms-at-start to go on anyway)`, {
        alarms: j.alarming.map((a) => a.name),
      });
    }
    return undefined;
  }
  if (j.alarming.length) {
    return rolloutError('alarm', `${target}: alarm ${j.alarming.map(describe).join('; ')} went into ALARM; rollout halted`, { alarms: j.alarming.map((a) => a.name) });
  }
  if (j.missing.length) {
    return rolloutError('alarm', `${target}: alarm ${j.missing.join(', ')} no longer exists; rollout halted (its state cannot be watched)`, { alarms: j.missing });
  }
  return undefined;
}

/** The check the engine runs at the start and after every observation (rollout/engine.ts). */
export interface HaltCheck {
  /** The error that halts (or refuses) the run, or undefined. One AWS call at most. */
  check(phase: AlarmPhase): Promise<DeployError | undefined>;
}

/** Watches named alarms through the port; reports each state change (`alarm.state`). */
export class AlarmWatch implements HaltCheck {
  private readonly ignored = new Set<string>();
  private readonly last = new Map<string, AlarmView['state']>();
  /** What the last read said (the rolling rollback notes it without halting: rolling/rollback.ts). */
  judgement?: AlarmJudgement;

  constructor(
    private readonly port: AwsPort,
    private readonly names: readonly string[],
    private readonly options: { target: string; reporter: Reporter; ignoreAtStart?: boolean },
  ) {}

  async check(phase: AlarmPhase): Promise<DeployError | undefined> {
    if (this.names.length === 0) return undefined;
    if (!this.port.describeAlarms) throw new DeployError('internal', 'alarms need a port that reads CloudWatch (describeAlarms)');
    const seen = await this.port.describeAlarms([...this.names]);
    this.report(seen);
    for (const a of seen) {
      if (phase === 'start' && this.options.ignoreAtStart && a.state === 'ALARM') this.ignored.add(a.name);
      else if (a.state !== 'ALARM') this.ignored.delete(a.name);
    }
    this.judgement = judgeAlarms(this.names, seen, this.ignored);
    return alarmError(this.judgement, phase, this.options.target);
  }

  private report(seen: readonly AlarmView[]): void {
    for (const a of seen) {
      if (this.last.get(a.name) === a.state) continue;
      this.last.set(a.name, a.state);
      const level = a.state === 'ALARM' ? 'warn' : 'info';
      this.options.reporter.emit(level, AlarmCodes.state, `alarm ${a.name}: ${a.state}${a.reason ? ` (${a.reason})` : ''}`, { alarm: a.name, state: a.state, reason: a.reason });
    }
  }
}
