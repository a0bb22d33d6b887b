/**
 * How a CLI command is declared. Each command lives in its own file under commands/ and is
 * registered in cli.ts; only cli.ts maps errors to exit codes.
 */
import type { Argv } from 'yargs';
import type { Clock } from '../clock';
import type { ReportRecorder } from '../report/recorder';
import type { Reporter } from '../report/reporter';

/** What every command receives besides its parsed arguments. */
export interface CommandContext {
  clock: Clock;
  reporter: Reporter;
  /** Aborted on SIGINT/SIGTERM: engines stop acting, restore what they changed, then throw. */
  signal: AbortSignal;
  /** True when `--json`: events go to stdout as JSON lines, human output to stderr. */
  json: boolean;
  /** Where human-readable output goes (stderr). */
  stderr: NodeJS.WritableStream;
  stdout: NodeJS.WritableStream;
  /** Is stderr an interactive terminal (live progress view, confirmation prompts)? */
  interactive: boolean;
  env: NodeJS.ProcessEnv;
  /**
   * A caller that writes the report itself (a rehearsal, commands/rehearse.ts): the command
   * records its events and API calls into this recorder and writes no report of its own.
   */
  reportRecorder?: ReportRecorder;
}

export interface CommandSpec<A = Record<string, unknown>> {
  name: string;
  describe: string;
  /** The usage line of `<command> --help` (default: `asg-deploy <name> [options]`). */
  usage?: string;
  /** Two or three [command, what it does] examples for `<command> --help`. */
  examples?: Array<[string, string]>;
  builder(y: Argv): Argv;
  /** Returns the exit code (0 done/nothing to do); throws DeployError for anything else. */
  run(args: A & Record<string, unknown>, ctx: CommandContext): Promise<number>;
}

/**
 * Options every command that changes or observes AWS takes. One output model for all of them:
 * a live view on a terminal, timestamped lines when piped, `--json` events on stdout,
 * `--verbose` plain lines of every event even on a terminal (and stack traces on errors).
 */
export function withCommonOptions(y: Argv): Argv {
  return y
    .option('json', { type: 'boolean', default: false, describe: 'one JSON event per line on stdout; progress on stderr' })
    .option('verbose', { type: 'boolean', default: false, describe: 'a timestamped line for every event even on a terminal (no live view); stack traces on errors' })
    .option('region', { type: 'string', describe: 'AWS region (overrides AWS_REGION and the profile; deploy: must match the stack\'s aws:region)' })
    .option('profile', { type: 'string', describe: 'AWS profile from ~/.aws/config (overrides AWS_PROFILE)' })
    .option('sandbox', { type: 'boolean', default: false, describe: 'run against the embedded simulated AWS instead of your account' })
    .option('sandbox-state', { type: 'string', describe: 'file holding the simulated AWS between runs (default <project>/.asg-deploy/sandbox-state.json; implies --sandbox)' });
}
