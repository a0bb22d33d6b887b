/**
 * `asg-deploy ab --environment ENV`: A/B (blue/green) between `<ENV>-a` and `<ENV>-b` — the
 * seed ab-deployment-tool with every one of its flags. argv → typed options → abDeploy; bad
 * values are exit 2 naming the flag, the value and what is allowed.
 */
import readline from 'node:readline/promises';
import type { Argv } from 'yargs';
import { usageError } from '../errors';
import { abDeploy, type AbDeployOptions } from '../rollout/ab/runner';
import { parseTrafficSteps } from '../rollout/ab/traffic';
import { openAwsSession } from './aws-session';
import { withCommonOptions, type CommandContext, type CommandSpec } from './command';
import { checkBucket, checkEnvironment } from './lock';
import { commandOutput } from './output';
import { openReport, reportFlag, withReportOption } from './report-option';
import { alarmOptions } from './roll';
import { checkFaultsNeedRehearse, withRehearseOptions } from './rehearse-faults';
import { durationFlag, wholeNumberFlag } from './values';

const count = wholeNumberFlag;

function elbNames(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  const list = (Array.isArray(v) ? v : [v]).flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter(Boolean);
  for (const n of list) {
    if (!/^[A-Za-z0-9-]{1,32}$/.test(n)) throw usageError('usage', `--elb-name ${n}: a classic ELB name (1-32 letters, digits, '-')`, { flag: '--elb-name', value: n, allowed: '[A-Za-z0-9-]{1,32}' });
  }
  return list.length ? list : undefined;
}

/** Typed abDeploy options from parsed argv (everything but AWS, clock, reporter, signal). */
export function abOptionsFromArgs(args: Record<string, unknown>): Omit<AbDeployOptions, 'clock' | 'reporter'> {
  const environment = checkEnvironment(args.environment);
  const zero = Boolean(args.zero);
  const cleanUp = Boolean(args['clean-up']);
  if (zero && cleanUp) throw usageError('usage', '--zero and --clean-up: choose one (zero empties the active color; clean-up resolves two populated colors)', { flag: '--zero', allowed: 'not with --clean-up' });
  if (Boolean(args['single-asg']) && cleanUp) throw usageError('usage', '--clean-up needs two colors; not with --single-asg', { flag: '--clean-up', allowed: 'not with --single-asg' });
  if (Boolean(args.yes) && !cleanUp) throw usageError('usage', '--yes only answers the --clean-up question; without --clean-up nothing asks (drop --yes)', { flag: '--yes', allowed: 'with --clean-up' });
  const instanceCount = count('instance-count', args['instance-count'], 1);
  // Default: as many as the active color runs (the seed's fixed 8 would double a 4-instance fleet);
  // with no active color, abDeploy's default (8) or --instance-count. --instance-count-match wins (seed).
  const match = Boolean(args['instance-count-match']) || instanceCount === undefined;
  const pollMs = durationFlag('poll-interval/--update-timeout', args['poll-interval']);
  const healthMs = durationFlag('health-check-timeout', args['health-check-timeout']);
  const steps = args['traffic-steps'] === undefined ? undefined : parseTrafficSteps(args['traffic-steps']);
  if (steps && !Array.isArray(steps)) throw usageError(steps.code, steps.message, steps.data);
  const stepWaitMs = durationFlag('step-wait', args['step-wait']);
  if (stepWaitMs !== undefined && (!steps || steps.length < 2)) {
    throw usageError('usage', `--step-wait ${String(args['step-wait'])}: only with --traffic-steps of two or more steps (it is the hold at each step)`, { flag: '--step-wait', allowed: 'with --traffic-steps, e.g. --traffic-steps 10,50,100 --step-wait 2m' });
  }
  const keepOldMs = durationFlag('keep-old', args['keep-old']);
  if (keepOldMs !== undefined && zero) throw usageError('usage', '--keep-old and --zero: --keep-old keeps the old color serving after a swap; --zero swaps nothing in', { flag: '--keep-old', allowed: 'not with --zero' });
  if (keepOldMs !== undefined && Boolean(args['single-asg'])) throw usageError('usage', '--keep-old needs two colors; not with --single-asg', { flag: '--keep-old', allowed: 'not with --single-asg' });
  return {
    environment,
    elbNames: elbNames(args['elb-name']),
    instanceCount,
    instanceCountMatch: match,
    instanceCountStep: count('instance-count-step', args['instance-count-step'], 1),
    ...(steps ? { trafficSteps: steps } : {}),
    ...(stepWaitMs !== undefined ? { stepWait: stepWaitMs / 1000 } : {}),
    healthCheckTimeout: healthMs === undefined ? undefined : healthMs / 1000,
    pollInterval: pollMs === undefined ? undefined : pollMs / 1000,
    zero,
    singleAsg: Boolean(args['single-asg']),
    cleanUp,
    yes: Boolean(args.yes),
    rollback: Boolean(args.rollback),
    ...(keepOldMs !== undefined ? { keepOld: keepOldMs / 1000 } : {}),
    ...alarmOptions(args),
    dryRun: Boolean(args['dry-run']),
    lockBucket: checkBucket(args['lock-bucket-name']),
  };
}

/**
 * y/N on the terminal (stderr), for `--clean-up` without `--yes`. Ctrl-C at the prompt stops the
 * run at once like every other wait (exit 130, lock released): readline reads the terminal raw,
 * so the key is its 'SIGINT' event, not a signal; it is turned into the process's SIGINT (the
 * CLI's one handler aborts the run's signal, and the question, asked with that signal, rejects).
 */
export function terminalConfirm(ctx: CommandContext): ((q: string) => Promise<boolean>) | undefined {
  if (!ctx.interactive || !process.stdin.isTTY) return undefined;
  return async (question) => {
    const rl = readline.createInterface({ input: process.stdin, output: ctx.stderr, terminal: true });
    rl.on('SIGINT', () => process.kill(process.pid, 'SIGINT'));
    try {
      const answer = await rl.question(`${question} [y/N] `, { signal: ctx.signal });
      return /^y(es)?$/i.test(answer.trim());
    } catch (err) {
      if (ctx.signal.aborted || (err as Error)?.name === 'AbortError') throw Object.assign(new Error('interrupted at the confirmation prompt'), { name: 'AbortError' });
      throw err;
    } finally {
      rl.close();
    }
  };
}

export const abCommand: CommandSpec = {
  name: 'ab',
  describe: 'A/B (blue/green) swap between <env>-a and <env>-b',
  usage: '$0 ab --environment ENV [options]',
  examples: [
    ['$0 ab --environment qa-web --dry-run', 'print the plan: which color scales up, how many, which drains'],
    ['$0 ab --environment qa-web --instance-count-step 2', 'grow the new color 2 at a time, each step healthy first'],
    ['$0 ab --environment qa-web --traffic-steps 10,50,100 --step-wait 2m', 'on ALB/NLB target groups: shift 10 %, 50 %, 100 % of the traffic, holding 2 minutes at each while healthy'],
    ['$0 ab --environment qa-web --clean-up --yes', 'both colors populated: keep the up-to-date serving one'],
  ],
  builder: (y: Argv) =>
    withRehearseOptions(withReportOption(withCommonOptions(y)))
      .option('environment', { type: 'string', demandOption: true, describe: 'the environment: groups <ENV>-a and <ENV>-b (with --single-asg, the group ENV)' })
      .option('elb-name', { type: 'string', array: true, describe: 'judge the new color by this classic ELB (repeatable; default every ELB attached to it)' })
      .option('instance-count', { type: 'string', describe: "instances in the new color (default: the active color's desired, 8 when no color is active)" })
      .option('instance-count-match', { type: 'boolean', default: false, describe: "as many instances as the active color's desired (the default; seed flag)" })
      .option('instance-count-step', { type: 'string', describe: 'grow the new color this many at a time, each step healthy before the next (default: all at once)' })
      .option('poll-interval', { alias: 'update-timeout', type: 'string', describe: 'fixed polling interval, a duration (30, 30s, 1m; default adaptive; seed flag: --update-timeout, which is this poll interval, not a timeout)' })
      .option('traffic-steps', { type: 'string', describe: 'ALB/NLB target groups: the new color\'s share of the traffic in steps, ascending percentages ending at 100 (e.g. 10,50,100; default all at once)' })
      .option('step-wait', { type: 'string', describe: 'with --traffic-steps: how long to hold at each step while the new color stays healthy, a duration (default 60s)' })
      .option('health-check-timeout', { type: 'string', default: '600', describe: 'a duration (600, 90s, 10m) for each step of the new color to become healthy in the ASG and the ELB' })
      .option('clean-up', { type: 'boolean', default: false, describe: 'both colors populated: keep the up-to-date serving one, drain the other (asks; --yes to skip)' })
      .option('yes', { alias: 'y', type: 'boolean', default: false, describe: 'do not ask for confirmation (only with --clean-up)' })
      .option('lock-bucket-name', { type: 'string', describe: 'S3 bucket for the <ENV>.lock object (default: a lock tag on the groups)' })
      .option('single-asg', { type: 'boolean', default: false, describe: 'the group named ENV itself: drain it and scale it back up (DOWNTIME)' })
      .option('zero', { type: 'boolean', default: false, describe: 'drain the active color to 0' })
      .option('rollback', { type: 'boolean', default: false, describe: 'on failure scale the new color back to 0 instead of leaving it for inspection' })
      .option('keep-old', { type: 'string', describe: 'once the new color serves, keep the old one at full size this long (a duration), watching health and alarms; a failure switches back' })
      .option('alarm', { type: 'string', array: true, describe: 'CloudWatch alarm read before the swap and at every poll until the old color drains: ALARM halts the swap (repeatable)' })
      .option('ignore-alarms-at-start', { type: 'boolean', describe: 'an alarm already in ALARM at the start does not refuse the run (it halts once it left ALARM and comes back)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'print the plan; make no mutating call' }),
  async run(args, ctx) {
    checkFaultsNeedRehearse(args);
    // A rehearsal: the group(s) read from your account, this same run on a simulated AWS built alike (docs/rehearse.md).
    if (args.rehearse) return (await import('./rehearse')).rehearseRollout('ab', args, ctx, (a, c) => abCommand.run(a, c));
    const opts = abOptionsFromArgs(args);
    const reportFile = reportFlag(args.report);
    const session = await openAwsSession(args, ctx, { readOnly: opts.dryRun });
    const report = openReport(reportFile, { command: 'ab', dryRun: Boolean(opts.dryRun), simulated: session.simulated, clock: session.clock }, ctx.reportRecorder);
    const out = commandOutput(ctx, session, { verbose: Boolean(args.verbose), command: 'ab', also: report?.recorder });
    const confirm = terminalConfirm(ctx);
    const body = async () => {
      await abDeploy({
        ...opts,
        clients: report?.clients(session.clients) ?? session.clients,
        clock: session.clock,
        reporter: out.reporter,
        signal: ctx.signal,
        // the question goes below the live view's last frame
        confirm: confirm && ((q) => (out.finish(), confirm(q))),
      });
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
