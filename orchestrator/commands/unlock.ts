/**
 * `asg-deploy unlock --environment ENV | --asg NAME [--force]`: releases the environment's (or
 * the group's) lock. Your own
 * freeze goes without --force; anyone else's (or a run's, even a crashed one) needs --force,
 * and the output says whose it was.
 */
import type { Argv } from 'yargs';
import { createAwsPort } from '../aws/adapter';
import { unlockEnvironment } from '../lock/lock';
import { retryingPort } from '../lock/transient';
import { openAwsSession } from './aws-session';
import { withCommonOptions, type CommandSpec } from './command';
import { checkBucket, checkEnvironment, lockScope, withLockOptions } from './lock';
import { commandOutput } from './output';

export const unlockCommand: CommandSpec = {
  name: 'unlock',
  describe: "release an environment's or a group's deploy lock",
  usage: '$0 unlock (--environment ENV | --asg NAME) [--force] [options]',
  examples: [
    ['$0 unlock --environment qa-web', 'release your own freeze'],
    ['$0 unlock --asg qa-rabbit --force', "release someone else's lock, or one a crashed run left"],
  ],
  builder: (y: Argv) =>
    withLockOptions(withCommonOptions(y))
      .option('force', { type: 'boolean', default: false, describe: "release someone else's lock (or one left by a crashed run)" })
      .option('single-asg', { type: 'boolean', default: false, describe: 'with --environment: the environment is one group named ENV (tag lock)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'say whose lock would be released; change nothing' }),
  async run(args, ctx) {
    checkBucket(args['lock-bucket-name']);
    if (args.environment !== undefined) checkEnvironment(args.environment);
    const dryRun = Boolean(args['dry-run']);
    const session = await openAwsSession(args, ctx, { readOnly: dryRun });
    const reporter = commandOutput(ctx, session, { verbose: Boolean(args.verbose), command: 'unlock', liveView: false }).reporter;
    try {
      // Throttling, 5xx and network errors ridden out in clock time; any AWS error a DeployError.
      const port = retryingPort(createAwsPort(session.clients, session.clock), { clock: session.clock, reporter, signal: ctx.signal });
      const scope = await lockScope(args, port, 'unlock');
      await unlockEnvironment({ port, clock: session.clock, reporter, signal: ctx.signal }, { ...scope, force: Boolean(args.force), dryRun });
      return 0;
    } finally {
      await session.close();
    }
  },
};
