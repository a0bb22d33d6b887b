/**
 * `asg-deploy lock --environment ENV --reason "..."`: a deploy freeze. Every A/B run (and
 * deploy's ab hook) refuses with exit 3 while it is held. `asg-deploy unlock` releases it.
 */
import type { Argv } from 'yargs';
import { createAwsPort } from '../aws/adapter';
import { usageError } from '../errors';
import { environmentGroups, freezeEnvironment } from '../lock/lock';
import { asDeployError, retryingPort } from '../lock/transient';
import { openAwsSession } from './aws-session';
import { withCommonOptions, type CommandContext, type CommandSpec } from './command';
import type { Clock } from '../clock';
import { JsonReporter, PlainReporter, TeeReporter, type Reporter } from '../report/reporter';

/** An environment name as the groups use it: `<env>-a`, `<env>-b`, or `<env>`. */
export function checkEnvironment(value: unknown): string {
  const env = typeof value === 'string' ? value.trim() : '';
  if (!/^[A-Za-z0-9][A-Za-z0-9_.:/@-]*$/.test(env) || env.length > 240) {
    throw usageError('usage', `--environment ${JSON.stringify(value ?? '')}: an environment name (letters, digits, - _ . : / @) whose groups are <env>-a and <env>-b`, {
      flag: '--environment',
      value,
    });
  }
  return env;
}

export function checkBucket(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const b = String(value);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(b)) {
    throw usageError('usage', `--lock-bucket-name ${JSON.stringify(b)}: an S3 bucket name (3-63 lowercase letters, digits, '.', '-')`, { flag: '--lock-bucket-name', value: b });
  }
  return b;
}

/**
 * The reporter for ab/lock/unlock: events stamped with the session's clock (simulated time in the
 * sandbox); `--json` lines on stdout plus plain lines on stderr — every event with `--verbose`
 * (the seed's flag), else the plan, the result, warnings and errors. A reporter injected by the
 * caller (tests) is used as is.
 */
export function commandReporter(ctx: CommandContext, clock: Clock, verbose: boolean): Reporter {
  if (!(ctx.reporter instanceof JsonReporter) && !(ctx.reporter instanceof PlainReporter)) return ctx.reporter;
  const human = new PlainReporter(clock, ctx.stderr, verbose);
  return ctx.json ? new TeeReporter([new JsonReporter(clock, ctx.stdout), human]) : human;
}

export function withLockOptions(y: Argv): Argv {
  return y
    .option('environment', { type: 'string', demandOption: true, describe: 'the environment (its groups are <env>-a and <env>-b, or <env> itself)' })
    .option('lock-bucket-name', { type: 'string', describe: 'S3 bucket holding <ENV>.lock (default: a lock tag on the groups)' });
}

export const lockCommand: CommandSpec = {
  name: 'lock',
  describe: "hold an environment's deploy lock (a freeze with a reason)",
  builder: (y: Argv) =>
    withLockOptions(withCommonOptions(y))
      .option('reason', { type: 'string', demandOption: true, describe: 'why deploys are frozen (shown to whoever is refused)' })
      .option('single-asg', { type: 'boolean', default: false, describe: 'the environment is one group named ENV (tag lock)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'say what would be locked; change nothing' }),
  async run(args, ctx) {
    const environment = checkEnvironment(args.environment);
    const bucket = checkBucket(args['lock-bucket-name']);
    const reason = String(args.reason ?? '').trim();
    if (!reason) throw usageError('usage', '--reason "": say why deploys are frozen', { flag: '--reason', value: args.reason });
    const session = await openAwsSession(args as { sandbox?: boolean; 'sandbox-state'?: string }, ctx);
    const reporter = commandReporter(ctx, session.clock, true);
    try {
      // Throttling, 5xx and network errors ridden out in clock time; any AWS error a DeployError.
      const port = retryingPort(createAwsPort(session.clients, session.clock), { clock: session.clock, reporter, signal: ctx.signal });
      const groups = bucket
        ? undefined
        : await environmentGroups(port, environment, Boolean(args['single-asg'])).catch((err: unknown) => {
            throw asDeployError(err, `lock ${environment}: finding its groups`);
          });
      await freezeEnvironment(
        { port, clock: session.clock, reporter, signal: ctx.signal },
        { environment, bucket, groups: groups && groups.length ? groups : undefined, reason, dryRun: Boolean(args['dry-run']) },
      );
      return 0;
    } finally {
      await session.close();
    }
  },
};
