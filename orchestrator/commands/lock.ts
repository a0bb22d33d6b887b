/**
 * `asg-deploy lock --environment ENV --reason "..."`: a deploy freeze. Every A/B run (and
 * deploy's ab hook) refuses with exit 3 while it is held. `asg-deploy lock --asg NAME` freezes
 * one Auto Scaling Group: `roll` and deploy's rolling hook refuse likewise (the lock they hold
 * while they run). `asg-deploy unlock` releases either.
 */
import type { Argv } from 'yargs';
import { createAwsPort } from '../aws/adapter';
import type { AwsPort } from '../aws/port';
import { DeployError, usageError } from '../errors';
import { environmentGroups, freezeEnvironment, groupLockOptions, type LockOptions } from '../lock/lock';
import { resolveGroup } from '../rollout/rolling/runner';
import { asDeployError, retryingPort } from '../lock/transient';
import { openAwsSession } from './aws-session';
import { withCommonOptions, type CommandSpec } from './command';
import { commandOutput } from './output';

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

export function withLockOptions(y: Argv): Argv {
  return y
    .option('environment', { type: 'string', describe: 'an A/B environment: the lock of <env>-a and <env>-b (or of <env> itself); what ab and deploy\'s ab hook take' })
    .option('asg', { type: 'string', describe: 'one Auto Scaling Group (name, or a prefix matching exactly one): the lock roll and deploy\'s rolling hook take' })
    .option('lock-bucket-name', { type: 'string', describe: 'S3 bucket holding <ENV>.lock / <ASG>.lock (default: a lock tag on the groups)' });
}

/**
 * Which lock `lock`/`unlock` act on: `--environment ENV` (the A/B environment's: `<ENV>.lock`, or
 * the tag on `<ENV>-a`/`<ENV>-b`, or on `<ENV>` with `--single-asg`) or `--asg NAME` (one
 * group's: `<ASG>.lock`, or the tag on the group). Exactly one of the two. `--asg` takes an exact
 * name or a prefix matching exactly one group, like `roll`; with a bucket, a group that does not
 * exist yet (a first deploy will create it) can be frozen by its exact name.
 */
export async function lockScope(args: Record<string, unknown>, port: AwsPort, command: string): Promise<LockOptions> {
  const bucket = checkBucket(args['lock-bucket-name']);
  const hasEnv = args.environment !== undefined;
  const hasAsg = args.asg !== undefined;
  if (hasEnv === hasAsg) {
    throw usageError('usage', `${command}: give --environment ENV (an A/B environment) or --asg NAME (one Auto Scaling Group), not ${hasEnv ? 'both' : 'neither'}`, { flag: hasEnv ? '--asg' : '--environment' });
  }
  if (hasEnv) {
    const environment = checkEnvironment(args.environment);
    const groups = bucket
      ? undefined
      : await environmentGroups(port, environment, Boolean(args['single-asg'])).catch((err: unknown) => {
          throw asDeployError(err, `${command} ${environment}: finding its groups`);
        });
    return { environment, bucket, groups: groups && groups.length ? groups : undefined };
  }
  if (args['single-asg']) throw usageError('usage', `${command}: --single-asg goes with --environment; --asg already names one group`, { flag: '--single-asg' });
  const given = typeof args.asg === 'string' ? args.asg.trim() : '';
  if (!given || given.length > 255) throw usageError('usage', `--asg ${JSON.stringify(args.asg ?? '')}: an Auto Scaling Group name, or a prefix matching exactly one group`, { flag: '--asg', value: args.asg });
  let asg: string;
  try {
    asg = await resolveGroup(port, given);
  } catch (err) {
    // S3 holds the lock apart from the group: freeze a group the next deploy creates.
    if (bucket && err instanceof DeployError && err.code === 'group-not-found') asg = given;
    else throw asDeployError(err, `${command} ${given}: finding the group`);
  }
  return groupLockOptions(asg, bucket);
}

export const lockCommand: CommandSpec = {
  name: 'lock',
  describe: "hold an environment's or a group's deploy lock (a freeze with a reason)",
  usage: '$0 lock (--environment ENV | --asg NAME) --reason TEXT [options]',
  examples: [
    ['$0 lock --environment qa-web --reason "release freeze"', 'ab and deploy refuse qa-web (exit 3) until unlock'],
    ['$0 lock --asg qa-rabbit --reason "broker upgrade"', 'roll and deploy refuse qa-rabbit'],
  ],
  builder: (y: Argv) =>
    withLockOptions(withCommonOptions(y))
      .option('reason', { type: 'string', demandOption: true, describe: 'why deploys are frozen (shown to whoever is refused)' })
      .option('single-asg', { type: 'boolean', default: false, describe: 'with --environment: the environment is one group named ENV (tag lock)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'say what would be locked; change nothing' }),
  async run(args, ctx) {
    checkBucket(args['lock-bucket-name']);
    if (args.environment !== undefined) checkEnvironment(args.environment);
    const reason = String(args.reason ?? '').trim();
    if (!reason) throw usageError('usage', '--reason "": say why deploys are frozen', { flag: '--reason', value: args.reason });
    const dryRun = Boolean(args['dry-run']);
    const session = await openAwsSession(args, ctx, { readOnly: dryRun });
    const out = commandOutput(ctx, session, { verbose: Boolean(args.verbose), command: 'lock', liveView: false });
    const reporter = out.reporter;
    try {
      // Throttling, 5xx and network errors ridden out in clock time; any AWS error a DeployError.
      const port = retryingPort(createAwsPort(session.clients, session.clock), { clock: session.clock, reporter, signal: ctx.signal });
      const scope = await lockScope(args, port, 'lock');
      await freezeEnvironment({ port, clock: session.clock, reporter, signal: ctx.signal }, { ...scope, reason, dryRun });
      return 0;
    } finally {
      await session.close();
    }
  },
};
