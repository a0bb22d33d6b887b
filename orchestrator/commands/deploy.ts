/**
 * `asg-deploy deploy --stack S`: Pulumi up (preview with --dry-run), then each service's
 * post-update hook in manifest order (stack/deploy-flow.ts). With --sandbox the stack is the
 * real infra/ program under Pulumi's mock runtime applied to the simulated AWS.
 */
import type { Argv } from 'yargs';
import { createAwsPort } from '../aws/adapter';
import { usageError } from '../errors';
import { DeployCodes } from '../report/summary';
import { WebhookNotifier, noNotifier } from '../notify/webhook';
import { runDeploy } from '../stack/deploy-flow';
import { engineHooks } from '../stack/hooks';
import type { AutomationBackend } from '../stack/automation';
import { awsLockReader } from '../stack/locks';
import { retryingPort } from '../aws/transient';
import { awsRecordReader } from '../stack/records';
import { awsListenerReader } from '../stack/listeners';
import type { StackBackend } from '../stack/port';
import { stackRegion, type RegionChoice } from '../stack/region';
import { openAwsSession } from './aws-session';
import { withCommonOptions, type CommandSpec } from './command';
import { commandOutput } from './output';
import { openReport, reportFlag, withReportOption } from './report-option';
import { FAULT_PROFILES, rehearse } from './rehearse';
import { durationFlag, profileFlag, regionFlag, urlFlag, wholeNumberFlag } from './values';

/**
 * Test seam: how `deploy` opens its AWS session. The stand-in pulumi tests (test/stack/fake-pulumi)
 * give it the simulated AWS while the stack stays the real Automation API path.
 */
export const deploySeams: { openSession: typeof openAwsSession } = { openSession: openAwsSession };

export const deployCommand: CommandSpec = {
  name: 'deploy',
  describe: 'pulumi up (preview with --dry-run), then roll out each changed service',
  usage: '$0 deploy --stack STACK [options]',
  examples: [
    ['$0 deploy --stack qa --dry-run', 'pulumi preview plus each service\'s rollout plan; changes nothing'],
    ['$0 deploy --stack qa --service rabbit', 'update the infrastructure, roll out only rabbit'],
    ['$0 deploy --stack qa --create --sandbox', 'create stack qa on the simulated AWS (no account, no pulumi CLI)'],
  ],
  builder: (y: Argv) =>
    withReportOption(withCommonOptions(y))
      .option('stack', { type: 'string', demandOption: true, describe: 'the Pulumi stack (Pulumi.<stack>.yaml)' })
      .option('create', { type: 'boolean', default: false, describe: 'create the stack if it does not exist' })
      .option('config-file', { type: 'string', describe: 'stack config file instead of Pulumi.<stack>.yaml (pulumi --config-file)' })
      .option('dry-run', { type: 'boolean', default: false, describe: 'pulumi preview plus the rollout plan; no update, no mutating AWS call' })
      .option('service', { type: 'string', array: true, describe: 'roll out only this service (repeatable); infra is still updated' })
      .option('skip-rollout', { type: 'boolean', default: false, describe: 'infrastructure only: no post-update hook' })
      .option('force', { type: 'boolean', default: false, describe: 'A/B: swap even when the active color is up to date' })
      .option('notify-webhook', { type: 'string', describe: 'POST start/success/failure as Slack-compatible JSON to this URL' })
      .option('lock-bucket-name', { type: 'string', describe: "S3 bucket of the environment locks ('<env>.lock'); default: the asg-deploy:lock tag on the groups" })
      .option('poll-interval', { type: 'string', describe: 'fixed polling interval, a duration (30, 30s, 1m; default: adaptive)' })
      .option('parallel', { type: 'string', default: '1', describe: "services' rollouts at once; dependsOn in the stack config orders them" })
      .option('rollback', { type: 'boolean', default: false, describe: 'a failed or alarmed rollout rolls back: rolling services to the version their outdated instances ran, A/B scales the new color back' })
      .option('continue-on-error', { type: 'boolean', default: false, describe: 'after a service fails, let the services that do not depend on it run' })
      .option('refresh', { type: 'boolean', default: false, describe: "Pulumi's refresh first (pulumi up/preview --refresh): adopt drift from AWS into the stack state" })
      .option('rehearse', { type: 'boolean', default: false, describe: "read your groups (read-only), run this stack's rollout on a fresh simulated AWS built alike and predict duration, API calls, lowest healthy, invariants" })
      .option('faults', { type: 'string', array: true, describe: `with --rehearse: ${Object.keys(FAULT_PROFILES).join(', ')}, or FILE.yaml of fault options (comma-separated or repeated)` }),
  async run(args, ctx) {
    const stack = String(args.stack ?? '');
    if (!/^[A-Za-z0-9_.\-/]+$/.test(stack)) throw usageError('usage', `--stack ${JSON.stringify(stack)}: a stack name is letters, digits, '-', '_', '.', '/'`);
    if (args.faults !== undefined && !args.rehearse) throw usageError('usage', '--faults needs --rehearse (faults are switched on in the simulated AWS of a rehearsal only)', { flag: '--faults' });
    if (args.rehearse) return rehearse(args, ctx, (a, c) => deployCommand.run(a, c));
    const pollMs = durationFlag('poll-interval', args['poll-interval']);
    const poll = pollMs === undefined ? undefined : pollMs / 1000;
    const parallel = wholeNumberFlag('parallel', args.parallel, 1) ?? 1;
    const webhook = urlFlag('notify-webhook', args['notify-webhook']);
    if (args['skip-rollout'] && args.force) throw usageError('usage', '--skip-rollout and --force: --force changes how an A/B rollout runs, --skip-rollout runs none; choose one', { flag: '--force' });
    const regionGiven = regionFlag(args.region);
    const profile = profileFlag(args.profile);
    const services = ((args.service as string[] | undefined) ?? []).flatMap((s) => String(s).split(',')).filter(Boolean);
    const reportFile = reportFlag(args.report);

    const sandboxRun = Boolean(args.sandbox || args['sandbox-state'] !== undefined);
    const configFile = args['config-file'] as string | undefined;
    // Real AWS: the rollout talks to the region Pulumi deploys into (stack/region.ts).
    let automation: AutomationBackend | undefined;
    let region: RegionChoice | undefined;
    if (!sandboxRun) {
      // --profile/--region: for the pulumi CLI (it inherits the environment) and the rollout alike.
      if (profile) process.env.AWS_PROFILE = profile;
      automation = new (await automationModule()).AutomationBackend({ now: () => ctx.clock.now() });
      const config = await automation.readConfig(stack, { configFile });
      const fromStack = config.values['aws:region'];
      if (regionGiven && typeof fromStack === 'string' && fromStack !== regionGiven) {
        throw usageError('usage', `--region ${regionGiven}: stack ${stack} sets aws:region ${fromStack}, where Pulumi deploys; drop --region or change aws:region in the stack config`, { flag: '--region' });
      }
      if (regionGiven) process.env.AWS_REGION = regionGiven;
      region = await stackRegion(config, stack);
    }

    const session = await deploySeams.openSession(args as { sandbox?: boolean; 'sandbox-state'?: string }, ctx, { region: region?.region, readOnly: Boolean(args['dry-run']) });
    const report = openReport(reportFile, { command: 'deploy', dryRun: Boolean(args['dry-run']), simulated: session.simulated, clock: session.clock }, ctx.reportRecorder);
    const out = commandOutput(ctx, session, {
      also: report?.recorder,
      verbose: Boolean(args.verbose),
      command: 'deploy',
      simulationCode: DeployCodes.simulation,
      simulationMessage: session.sandbox
        ? `SIMULATION: the infra/ program runs under Pulumi's mock runtime against the embedded simulated AWS (state: ${session.sandbox.stateFile}); no pulumi CLI, no AWS account is used`
        : undefined,
    });
    const { reporter, live } = out;
    const body = async (): Promise<number> => {
      let backend: StackBackend;
      if (sandboxRun && session.sandbox) {
        backend = session.sandbox.stacks();
      } else {
        backend = automation ?? new (await automationModule()).AutomationBackend({ now: () => session.clock.now() });
      }
      if (region?.warning) reporter.emit('warn', DeployCodes.region, region.warning, { region: region.region, source: region.source });
      else if (region?.message) reporter.emit('info', DeployCodes.region, region.message, { region: region.region, source: region.source });
      const port = createAwsPort(report?.clients(session.clients) ?? session.clients, session.clock);
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
          refresh: Boolean(args.refresh),
          parallel,
          continueOnError: Boolean(args['continue-on-error']),
          ...(args.rollback ? { rollback: true } : {}),
        },
        {
          backend,
          hooks: engineHooks({ port, clock: session.clock, reporter, lockBucket }),
          locks: awsLockReader({ port, clock: session.clock, reporter, bucket: lockBucket, signal: ctx.signal }),
          records: awsRecordReader(port),
          listeners: awsListenerReader(retryingPort(port, { clock: session.clock, reporter, signal: ctx.signal })),
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
    };
    try {
      return await (report ? report.around(reporter, body) : body());
    } finally {
      out.finish();
      await session.close();
    }
  },
};

/** The Automation API (and @pulumi/pulumi), loaded only when a command works on a real stack. */
function automationModule(): Promise<typeof import('../stack/automation')> {
  return import('../stack/automation');
}
