/**
 * `asg-deploy unlock --environment ENV [--force]`: releases the environment's lock. Your own
 * freeze goes without --force; anyone else's (or a run's, even a crashed one) needs --force,
 * and the output says whose it was.
 */
import type { Argv } from 'yargs';
import { createAwsPort } from '../aws/adapter';
import { environmentGroups, unlockEnvironment } from '../lock/lock';
import { asDeployError, retryingPort } from '../lock/transient';
import { openAwsSession } from './aws-session';
import { withCommonOptions, type CommandSpec } from './command';
import { checkBucket, checkEnvironment, commandReporter, withLockOptions } from './lock';

export const unlockCommand: CommandSpec = {
  name: 'unlock',
  describe: "release an environment's deploy lock",
  builder: (y: Argv) =>
    withLockOptions(withCommonOptions(y))
      .option('force', { type: 'boolean', default: false, describe: "release someone else's lock (or one left by a crashed run)" })
      .option('single-asg', { type: 'boolean', default: false, describe: 'the environment is one group named ENV (tag lock)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'say whose lock would be released; change nothing' }),
  async run(args, ctx) {
    const environment = checkEnvironment(args.environment);
    const bucket = checkBucket(args['lock-bucket-name']);
    const session = await openAwsSession(args as { sandbox?: boolean; 'sandbox-state'?: string }, ctx);
    const reporter = commandReporter(ctx, session.clock, true);
    try {
      // Throttling, 5xx and network errors ridden out in clock time; any AWS error a DeployError.
      const port = retryingPort(createAwsPort(session.clients, session.clock), { clock: session.clock, reporter, signal: ctx.signal });
      const groups = bucket
        ? undefined
        : await environmentGroups(port, environment, Boolean(args['single-asg'])).catch((err: unknown) => {
            throw asDeployError(err, `unlock ${environment}: finding its groups`);
          });
      await unlockEnvironment(
        { port, clock: session.clock, reporter, signal: ctx.signal },
        { environment, bucket, groups: groups && groups.length ? groups : undefined, force: Boolean(args.force), dryRun: Boolean(args['dry-run']) },
      );
      return 0;
    } finally {
      await session.close();
    }
  },
};
