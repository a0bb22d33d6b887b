/**
 * How a CLI command is declared. Each command lives in its own file under commands/ and is
 * registered in cli.ts; only cli.ts maps errors to exit codes.
 */
import type { Argv } from 'yargs';
import type { Clock } from '../clock';
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
}

export interface CommandSpec<A = Record<string, unknown>> {
  name: string;
  describe: string;
  builder(y: Argv): Argv;
  /** Returns the exit code (0 done/nothing to do); throws DeployError for anything else. */
  run(args: A & Record<string, unknown>, ctx: CommandContext): Promise<number>;
}

/** Options every command that changes or observes AWS takes. */
export function withCommonOptions(y: Argv): Argv {
  return y
    .option('json', { type: 'boolean', default: false, describe: 'one JSON event per line on stdout; progress on stderr' })
    .option('verbose', { type: 'boolean', default: false, describe: 'print every progress event (seed flag)' })
    .option('sandbox', { type: 'boolean', default: false, describe: 'run against the embedded simulated AWS instead of your account' })
    .option('sandbox-state', { type: 'string', describe: 'file holding the simulated AWS between runs (default .asg-deploy/sandbox-state.json)' });
}
