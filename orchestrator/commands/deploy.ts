/**
 * `asg-deploy deploy --stack S`: Pulumi up (preview with --dry-run), then each service's
 * post-update hook in manifest order (stack/deploy-flow.ts). With --sandbox the stack is the
 * real infra/ program under Pulumi's mock runtime applied to the simulated AWS.
 */
import type { Argv } from 'yargs';
import { createAwsPort } from '../aws/adapter';
import type { Clock } from '../clock';
import { usageError } from '../errors';
import { LiveView } from '../report/live-view';
import { JsonReporter, PlainReporter, TeeReporter, type Reporter } from '../report/reporter';
import { DeployCodes } from '../report/summary';
import { WebhookNotifier, noNotifier } from '../notify/webhook';
import { runDeploy } from '../stack/deploy-flow';
import { engineHooks } from '../stack/hooks';
import type { AutomationBackend } from '../stack/automation';
import { awsLockReader } from '../stack/locks';
import type { StackBackend } from '../stack/port';
import { stackRegion, type RegionChoice } from '../stack/region';
import { openAwsSession } from './aws-session';
import { withCommonOptions, type CommandContext, type CommandSpec } from './command';

/** Reporter for a command: JSON lines on stdout (with --json) plus, on stderr, the live view on a TTY or plain lines. */
export function progressReporter(ctx: CommandContext, clock: Clock): { reporter: Reporter; live?: LiveView } {
  const injected = !(ctx.reporter instanceof JsonReporter) && !(ctx.reporter instanceof PlainReporter);
  if (injected) return { reporter: ctx.reporter };
  const live = ctx.interactive ? new LiveView(clock, ctx.stderr) : undefined;
  const human: Reporter = live ?? new PlainReporter(clock, ctx.stderr, true);
  return { reporter: ctx.json ? new TeeReporter([new JsonReporter(clock, ctx.stdout), human]) : human, live };
}

export const deployCommand: CommandSpec = {
  name: 'deploy',
  describe: 'pulumi up (preview with --dry-run), then roll out each changed service',
  builder: (y: Argv) =>
    withCommonOptions(y)
      .option('stack', { type: 'string', demandOption: true, describe: 'the Pulumi stack (Pulumi.<stack>.yaml)' })
      .option('create', { type: 'boolean', default: false, describe: 'create the stack if it does not exist' })
      .option('config-file', { type: 'string', describe: 'stack config file instead of Pulumi.<stack>.yaml (pulumi --config-file)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'pulumi preview plus the rollout plan; no update, no mutating AWS call' })
      .option('service', { type: 'string', array: true, describe: 'roll out only this service (repeatable); infra is still updated' })
      .option('skip-rollout', { type: 'boolean', default: false, describe: 'infrastructure only: no post-update hook' })
      .option('force', { type: 'boolean', default: false, describe: 'A/B: swap even when the active color is up to date' })
      .option('notify-webhook', { type: 'string', describe: 'POST start/success/failure as Slack-compatible JSON to this URL' })
      .option('lock-bucket-name', { type: 'string', describe: "S3 bucket of the environment locks ('<env>.lock'); default: the asg-deploy:lock tag on the groups" })
      .option('poll-interval', { type: 'number', describe: 'fixed polling interval in seconds (default: adaptive)' }),
  async run(args, ctx) {
    const stack = String(args.stack ?? '');
    if (!/^[A-Za-z0-9_.\-/]+$/.test(stack)) throw usageError('usage', `--stack ${JSON.stringify(stack)}: a stack name is letters, digits, '-', '_', '.', '/'`);
    const poll = args['poll-interval'] as number | undefined;
    if (poll !== undefined && !(poll > 0)) throw usageError('usage', `--poll-interval ${poll}: must be a number of seconds > 0`);
    const services = ((args.service as string[] | undefined) ?? []).flatMap((s) => String(s).split(',')).filter(Boolean);

    const sandboxRun = Boolean(args.sandbox || args['sandbox-state'] !== undefined);
    const configFile = args['config-file'] as string | undefined;
    // Real AWS: the rollout talks to the region Pulumi deploys into (stack/region.ts).
    let automation: AutomationBackend | undefined;
    let region: RegionChoice | undefined;
    if (!sandboxRun) {
      automation = new (await automationModule()).AutomationBackend({ now: () => ctx.clock.now() });
      region = await stackRegion(await automation.readConfig(stack, { configFile }), stack);
    }

    const session = await openAwsSession(args as { sandbox?: boolean; 'sandbox-state'?: string }, ctx, { region: region?.region });
    const { reporter, live } = progressReporter(ctx, session.clock);
    live?.start();
    try {
      let backend: StackBackend;
      if (session.simulated && session.sandbox) {
        reporter.emit('warn', DeployCodes.simulation, `SIMULATION: the infra/ program runs under Pulumi's mock runtime against the embedded simulated AWS (state: ${session.sandbox.stateFile}); no pulumi CLI, no AWS account is used`, {
          stateFile: session.sandbox.stateFile,
        });
        backend = session.sandbox.stacks();
      } else {
        backend = automation ?? new (await automationModule()).AutomationBackend({ now: () => session.clock.now() });
      }
      if (region?.warning) reporter.emit('warn', DeployCodes.region, region.warning, { region: region.region, source: region.source });
      else if (region?.message) reporter.emit('info', DeployCodes.region, region.message, { region: region.region, source: region.source });
      const port = createAwsPort(session.clients, session.clock);
      const webhook = args['notify-webhook'] as string | undefined;
      const lockBucket = args['lock-bucket-name'] as string | undefined;
      const outcome = await runDeploy(
        {
          stack,
          create: Boolean(args.create),
          configFile,
          dryRun: Boolean(args['dry-run']),
          services,
          skipRollout: Boolean(args['skip-rollout']),
          force: Boolean(args.force),
          pollIntervalSeconds: poll,
        },
        {
          backend,
          hooks: engineHooks({ port, clock: session.clock, reporter, lockBucket }),
          locks: awsLockReader({ port, clock: session.clock, reporter, bucket: lockBucket, signal: ctx.signal }),
          reporter,
          clock: session.clock,
          signal: ctx.signal,
          notifier: webhook ? new WebhookNotifier(webhook, reporter) : noNotifier,
          print: (text) => {
            live?.finish();
            ctx.stderr.write(text + '\n');
          },
        },
      );
      return outcome.exit;
    } finally {
      live?.finish();
      await session.close();
    }
  },
};

/** The Automation API (and @pulumi/pulumi), loaded only when a command works on a real stack. */
function automationModule(): Promise<typeof import('../stack/automation')> {
  return import('../stack/automation');
}
