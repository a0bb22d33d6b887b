/**
 * `asg-deploy roll --asg NAME_OR_PREFIX`: oldest-first rolling replacement of one Auto Scaling
 * Group (the seed asg_rolling_upgrade; its flag names are aliases). argv → typed options →
 * rollGroup; bad values are exit 2 naming the flag, the value and what is allowed. The run holds
 * the group's lock throughout (`asg-deploy lock --asg` freezes it: exit 3, nothing changed).
 */
import type { Argv } from 'yargs';
import { usageError } from '../errors';
import type { Gate } from '../gates/gate';
import { HttpGate } from '../gates/http';
import { SshGate } from '../gates/ssh';
import { holdOptionsProblem, type HoldOptions } from '../rollout/rolling/holds';
import { rollGroup, type RollOptions } from '../rollout/rolling/runner';
import { PROTECTED_POLICIES, STANDBY_POLICIES } from '../rollout/rolling/strategy';
import { openAwsSession } from './aws-session';
import { checkBucket } from './lock';
import { withCommonOptions, type CommandSpec } from './command';
import { commandOutput } from './output';
import { openReport, reportFlag, withReportOption } from './report-option';
import { checkFaultsNeedRehearse, withRehearseOptions } from './rehearse-faults';
import { durationFlag, wholeNumberFlag } from './values';

/** A flag's duration in ms (the one parser, commands/values.ts); kept under its old name. */
export const parseDuration = durationFlag;
const wholeNumber = wholeNumberFlag;

function batchSize(v: unknown): string | undefined {
  if (v === undefined || v === null || v === '') return undefined;
  const s = String(v).trim();
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(s);
  if (pct && Number(pct[1]) > 0 && Number(pct[1]) <= 100) return s;
  if (/^\d+$/.test(s) && Number(s) >= 1) return s;
  throw usageError('usage', `--batch-size ${s}: expected a whole number ≥ 1 or a percentage 1%..100% of the outdated instances`, { flag: 'batch-size', value: v });
}

/**
 * `--alarm NAME` (repeatable; also comma-separated) and `--ignore-alarms-at-start`. An empty name
 * is exit 2; whether the alarms exist is asked of CloudWatch before the start (exit 2 if not).
 */
export function alarmOptions(args: Record<string, unknown>): { alarms?: string[]; ignoreAlarmsAtStart?: boolean } {
  const raw = args.alarm === undefined ? [] : Array.isArray(args.alarm) ? args.alarm : [args.alarm];
  const alarms = raw.flatMap((v) => String(v).split(',')).map((v) => v.trim());
  if (raw.length && alarms.some((a) => !a)) throw usageError('usage', '--alarm: expected a CloudWatch alarm name (repeat --alarm for several)', { flag: 'alarm' });
  const ignore = Boolean(args['ignore-alarms-at-start']);
  if (ignore && alarms.length === 0) throw usageError('usage', '--ignore-alarms-at-start needs --alarm NAME (the alarms it is about)', { flag: 'ignore-alarms-at-start' });
  return alarms.length ? { alarms: [...new Set(alarms)], ...(ignore ? { ignoreAlarmsAtStart: true } : {}) } : {};
}

/**
 * `--canary N [--canary-wait D]`, `--checkpoints 20,50 [--checkpoint-wait D]`, `--bake D`
 * (rolling/holds.ts). Bad values are exit 2: checkpoints not whole percentages 1–100 in ascending
 * order, a wait without its point. Example: `--checkpoints 20,50` → [20, 50]; `50,20` → exit 2.
 */
export function holdOptions(args: Record<string, unknown>): { holds?: HoldOptions } {
  const canary = wholeNumber('canary', args.canary, 1);
  const canaryWaitMs = parseDuration('canary-wait', args['canary-wait']);
  const checkpointWaitMs = parseDuration('checkpoint-wait', args['checkpoint-wait']);
  const bakeMs = parseDuration('bake', args.bake);
  let checkpoints: number[] | undefined;
  if (args.checkpoints !== undefined) {
    const raw = (Array.isArray(args.checkpoints) ? args.checkpoints : [args.checkpoints]).flatMap((v) => String(v).split(',')).map((v) => v.trim());
    if (raw.some((v) => !/^\d+$/.test(v))) {
      throw usageError('usage', `--checkpoints ${raw.join(',')}: expected whole percentages from 1 to 100 in ascending order, comma-separated (e.g. 20,50)`, { flag: '--checkpoints', value: args.checkpoints });
    }
    checkpoints = raw.map(Number);
  }
  if (canaryWaitMs !== undefined && canary === undefined) throw usageError('usage', '--canary-wait needs --canary N (the instances replaced before the wait)', { flag: '--canary-wait' });
  if (checkpointWaitMs !== undefined && checkpoints === undefined) throw usageError('usage', '--checkpoint-wait needs --checkpoints P,... (where to wait)', { flag: '--checkpoint-wait' });
  const holds: HoldOptions = {
    ...(canary !== undefined ? { canary } : {}),
    ...(canaryWaitMs !== undefined ? { canaryWaitMs } : {}),
    ...(checkpoints ? { checkpoints } : {}),
    ...(checkpointWaitMs !== undefined ? { checkpointWaitMs } : {}),
    ...(bakeMs !== undefined ? { bakeMs } : {}),
  };
  const problem = holdOptionsProblem(holds);
  if (problem) throw usageError('usage', problem, { flag: problem.split(' ')[0] });
  return Object.keys(holds).length ? { holds } : {};
}

/** `--standby` / `--protected`: one of the allowed words (Instance Refresh's preferences), else exit 2 naming them. */
function policy<T extends string>(flag: string, v: unknown, allowed: readonly T[]): T | undefined {
  if (v === undefined) return undefined;
  const s = String(v).trim().toLowerCase();
  if ((allowed as readonly string[]).includes(s)) return s as T;
  throw usageError('usage', `--${flag} ${String(v)}: expected one of ${allowed.join(', ')}`, { flag, value: String(v), allowed: [...allowed] });
}

/** Typed rollGroup options from parsed argv (everything but clients, clock, reporter, signal). */
export function rollOptionsFromArgs(args: Record<string, unknown>): Omit<RollOptions, 'clock' | 'reporter'> {
  const asg = args.asg === undefined ? '' : String(args.asg);
  if (!asg) throw usageError('usage', '--asg (alias --limit) is required: an Auto Scaling Group name, or a prefix matching exactly one group', { flag: 'asg' });
  const surge = wholeNumber('surge', args.surge, 0);
  const minHealthy = wholeNumber('min-healthy', args['min-healthy'], 0);
  const maxWaitAttempts = wholeNumber('max-wait-attempts', args['max-wait-attempts'], 1);
  if (maxWaitAttempts !== undefined && args['step-timeout'] !== undefined) {
    throw usageError('usage', '--max-wait-attempts and --step-timeout both set the step timeout: give one (--max-wait-attempts N is N × the poll interval)', { flag: '--max-wait-attempts' });
  }
  const pollIntervalMs = parseDuration('sleep/--poll-interval', args['poll-interval']);
  const stepTimeoutMs = parseDuration('step-timeout', args['step-timeout']);
  const timeoutMs = parseDuration('timeout', args.timeout);
  const gates: Gate[] = [];
  if (args['health-url'] !== undefined) {
    const url = String(args['health-url']);
    if (!url) throw usageError('usage', '--health-url: expected a URL with {ip} (http://{ip}:8080/health) or a path (/health)', { flag: 'health-url' });
    gates.push(new HttpGate(url, parseDuration('health-timeout', args['health-timeout']) ?? 5000));
  }
  if (args['health-command'] !== undefined) {
    const command = String(args['health-command']);
    if (!command) throw usageError('usage', '--health-command: expected a command to run on the new instance', { flag: 'health-command' });
    gates.push(
      new SshGate({
        command,
        bastion: args['ssh-bastion'] === undefined ? undefined : String(args['ssh-bastion']),
        user: args['ssh-user'] === undefined ? undefined : String(args['ssh-user']),
        key: args['ssh-key'] === undefined ? undefined : String(args['ssh-key']),
        knownHosts: args['ssh-known-hosts'] === undefined ? undefined : String(args['ssh-known-hosts']),
        port: wholeNumber('ssh-port', args['ssh-port'], 1),
        timeoutMs: parseDuration('health-timeout', args['health-timeout']) ?? 30_000,
      }),
    );
  }
  return {
    asg,
    ...alarmOptions(args),
    ...holdOptions(args),
    surge,
    minHealthy,
    batchSize: batchSize(args['batch-size']),
    standby: policy('standby', args.standby, STANDBY_POLICIES),
    protected: policy('protected', args.protected, PROTECTED_POLICIES),
    stepTimeoutMs,
    maxWaitAttempts,
    pollIntervalMs,
    timeoutMs,
    gates,
    ...(args.rollback ? { rollback: true } : {}),
    dryRun: Boolean(args['dry-run']),
    lockBucket: checkBucket(args['lock-bucket-name']),
    lock: {},
  };
}

export const rollCommand: CommandSpec = {
  name: 'roll',
  describe: 'oldest-first rolling replacement of one Auto Scaling Group',
  usage: '$0 roll --asg NAME_OR_PREFIX [options]',
  examples: [
    ['$0 roll --asg qa-rabbit --dry-run', 'print the plan: which instances, in which order and steps'],
    ['$0 roll --asg qa-rabbit --surge 0 --health-url /health', 'replace in place (3-2-3), each new instance answering /health'],
    ['$0 roll --asg qa-rabbit --sandbox', 'roll the group on the simulated AWS'],
  ],
  builder: (y: Argv) =>
    withRehearseOptions(withReportOption(withCommonOptions(y)))
      .option('asg', { alias: 'limit', type: 'string', describe: 'group name, or a prefix matching exactly one group (seed flag: --limit)' })
      .option('surge', { type: 'string', describe: 'extra instances per step: 1 = 3-4-3 (default), 0 = 3-2-3' })
      .option('min-healthy', { type: 'string', describe: 'never fewer healthy instances (default: desired for surge ≥ 1, desired − 1 for surge 0)' })
      .option('batch-size', { type: 'string', describe: 'instances replaced per step: N or P% of the outdated ones' })
      .option('standby', { type: 'string', describe: 'outdated instances in Standby: ignore (default: left, listed), terminate (not replaced), wait (for ExitStandby, within the step timeout)' })
      .option('protected', { type: 'string', describe: 'outdated instances protected from scale-in: ignore (default: left, listed), replace, wait (for the protection to be removed, within the step timeout)' })
      .option('step-timeout', { type: 'string', describe: 'a replacement not healthy this long fails the rollout (a duration: 90, 90s, 1.5m, 20m; default 20m)' })
      .option('poll-interval', { alias: 'sleep', type: 'string', describe: 'fixed polling interval (a duration: 30, 30s, 1m; default adaptive; seed flag: --sleep)' })
      .option('max-wait-attempts', { alias: 'max_wait_attempts', type: 'string', describe: 'step timeout = poll interval (default 30 s) × this; not with --step-timeout (seed flag)' })
      .option('timeout', { type: 'string', describe: 'overall timeout for the whole rollout (a duration: 3600, 90m, 2h)' })
      .option('health-url', { type: 'string', describe: 'gate: HTTP GET must answer 2xx, e.g. http://{ip}:8080/health or /health' })
      .option('health-command', { type: 'string', describe: 'gate: command run on the new instance over SSH, exit 0 passes' })
      .option('health-timeout', { type: 'string', describe: 'per gate check timeout, a duration (default 5s HTTP, 30s SSH)' })
      .option('ssh-bastion', { alias: 'ssh_tunnel', type: 'string', describe: 'bastion host for --health-command ([user@]host[:port]; seed flag: --ssh_tunnel)' })
      .option('ssh-user', { alias: 'ssh_username', type: 'string', describe: 'SSH user on bastion and instances (seed flag: --ssh_username)' })
      .option('ssh-key', { alias: 'ssh_private_key', type: 'string', describe: 'SSH private key file (seed flag: --ssh_private_key)' })
      .option('ssh-known-hosts', { type: 'string', describe: 'known_hosts file for bastion and instances (host keys are always checked)' })
      .option('ssh-port', { type: 'string', describe: 'sshd port on the instances (default 22)' })
      .option('alarm', { type: 'string', array: true, describe: 'CloudWatch alarm watched before the start and at every poll: ALARM halts the rollout (repeatable)' })
      .option('ignore-alarms-at-start', { type: 'boolean', describe: 'an alarm already in ALARM at the start does not refuse the run (it halts once it left ALARM and comes back)' })
      .option('canary', { type: 'string', describe: 'replace this many instances first, then hold --canary-wait watching health and alarms' })
      .option('canary-wait', { type: 'string', describe: 'how long the canary holds (a duration; default 5m)' })
      .option('checkpoints', { type: 'string', describe: 'hold after these percentages of the outdated instances are replaced, ascending, e.g. 20,50' })
      .option('checkpoint-wait', { type: 'string', describe: 'how long each checkpoint holds (a duration; default 5m)' })
      .option('bake', { type: 'string', describe: 'after the last step, hold this long watching health and alarms before done (a duration)' })
      .option('rollback', { type: 'boolean', default: false, describe: 'a failed or alarmed rollout sets the group back to the launch spec its outdated instances ran and replaces the new instances with it (refused at the start where the previous version is gone)' })
      .option('lock-bucket-name', { type: 'string', describe: "S3 bucket holding the group's lock <ASG>.lock (default: a lock tag on the group)" })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan (instances, order, batches, gates); change nothing' }),
  async run(args, ctx) {
    checkFaultsNeedRehearse(args);
    // A rehearsal: the group(s) read from your account, this same run on a simulated AWS built alike (docs/rehearse.md).
    if (args.rehearse) return (await import('./rehearse')).rehearseRollout('roll', args, ctx, (a, c) => rollCommand.run(a, c));
    const opts = rollOptionsFromArgs(args);
    const reportFile = reportFlag(args.report);
    const session = await openAwsSession(args, ctx, { readOnly: opts.dryRun });
    const report = openReport(reportFile, { command: 'roll', dryRun: Boolean(opts.dryRun), simulated: session.simulated, clock: session.clock }, ctx.reportRecorder);
    const out = commandOutput(ctx, session, { verbose: Boolean(args.verbose), command: 'roll', also: report?.recorder });
    const clients = report?.clients(session.clients) ?? session.clients;
    const body = async () => {
      await rollGroup({ ...opts, clients, clock: session.clock, reporter: out.reporter, signal: ctx.signal });
      return 0;
    };
    try {
      return await (report ? report.around(out.reporter, body) : body());
    } finally {
      out.finish();
      await session.close();
    }
  },
};
