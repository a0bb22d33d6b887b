/**
 * argv -> typed options -> a command; errors -> exit code; nothing else.
 */
import yargs from 'yargs';
import { SystemClock } from './clock';
import { packageVersion } from './package-info';
import { DeployError, ExitCode } from './errors';
import { JsonReporter, PlainReporter, type Reporter } from './report/reporter';
import type { CommandContext, CommandSpec } from './commands/command';

/** A command as `--help` lists it; `load` imports its module (and what that needs) only when it runs. */
export interface CommandEntry {
  name: string;
  describe: string;
  load(): Promise<CommandSpec>;
}

/**
 * Every command, in help order. Each file under commands/ owns its options and behaviour and is
 * loaded only when that command is invoked: `--help` loads none of them, so none of the AWS
 * SDK, Pulumi or the sandbox (test/cli.test.ts checks each `describe` against its module's).
 */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'deploy', describe: 'pulumi up (preview with --dry-run), then roll out each changed service', load: async () => (await import('./commands/deploy')).deployCommand },
  { name: 'roll', describe: 'oldest-first rolling replacement of one Auto Scaling Group', load: async () => (await import('./commands/roll')).rollCommand },
  { name: 'ab', describe: 'A/B (blue/green) swap between <env>-a and <env>-b', load: async () => (await import('./commands/ab')).abCommand },
  { name: 'status', describe: 'old/new/healthy instances per group, without changing anything', load: async () => (await import('./commands/status')).statusCommand },
  { name: 'lock', describe: "hold an environment's or a group's deploy lock (a freeze with a reason)", load: async () => (await import('./commands/lock')).lockCommand },
  { name: 'unlock', describe: "release an environment's or a group's deploy lock", load: async () => (await import('./commands/unlock')).unlockCommand },
  { name: 'demo', describe: 'a scripted deploy story on the embedded simulated AWS (about a minute)', load: async () => (await import('./commands/demo')).demoCommand },
];

export interface MainOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  /** Supply a signal instead of listening to SIGINT/SIGTERM (tests). */
  signal?: AbortSignal;
  /** Override the context (tests, sandbox): merged over the defaults. */
  context?: Partial<CommandContext>;
}

/** Parses argv, runs the command, returns the exit code. Never calls process.exit. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const clock = options.context?.clock ?? new SystemClock();

  // Before yargs, whose own --version prints with console.log and exits the process.
  if (argv.length === 1 && argv[0] === '--version') {
    stdout.write(`${packageVersion()}\n`);
    return ExitCode.ok;
  }

  // Only the invoked command's module is loaded; the others are listed by name for --help.
  const invoked = COMMANDS.find((entry) => entry.name === argv[0]);
  let loaded: CommandSpec | undefined;
  try {
    loaded = invoked ? await invoked.load() : undefined;
  } catch (err) {
    return reportError(err, stderr, stdout, clock, argv.includes('--json'));
  }

  const controller = new AbortController();
  let interrupts = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    interrupts++;
    if (interrupts === 1) {
      stderr.write(`\n${sig}: stopping and restoring what was changed (press Ctrl-C again to exit at once)\n`);
      controller.abort(Object.assign(new Error(`interrupted by ${sig}`), { name: 'AbortError' }));
    } else {
      stderr.write(`${sig} again: exiting without cleanup\n`);
      process.exit(ExitCode.interrupted);
    }
  };
  const external = options.signal;
  if (external) external.addEventListener('abort', () => controller.abort(external.reason), { once: true });
  else {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }

  let exit: number = ExitCode.ok;
  let handled = false;
  const specs = COMMANDS;
  let parser = yargs(argv)
    .scriptName('asg-deploy')
    .usage('$0 <command> [options]')
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .help()
    .version(false)
    .wrap(Math.min(110, (stderr as NodeJS.WriteStream).columns ?? 100))
    .fail((msg, err) => {
      if (err) throw err;
      throw new DeployError('usage', msg, { source: 'user', exit: ExitCode.badInput });
    });
  for (const entry of specs) {
    if (entry !== invoked || !loaded) {
      parser = parser.command(entry.name, entry.describe);
      continue;
    }
    const spec = loaded;
    parser = parser.command(
      spec.name,
      spec.describe,
      (y) => spec.builder(y),
      async (args) => {
        handled = true;
        const json = Boolean(args.json);
        const reporter: Reporter =
          options.context?.reporter ?? (json ? new JsonReporter(clock, stdout) : new PlainReporter(clock, stderr, true));
        const ctx: CommandContext = {
          clock,
          reporter,
          signal: controller.signal,
          json,
          stderr,
          stdout,
          interactive: Boolean((stderr as NodeJS.WriteStream).isTTY) && !env.CI,
          env,
          ...options.context,
        };
        exit = await spec.run(args as Record<string, unknown>, ctx);
      },
    );
  }

  try {
    const first = argv[0];
    if (first !== undefined && !first.startsWith('-') && !specs.some((spec) => spec.name === first)) {
      throw new DeployError('usage', `unknown command '${first}'; the commands are: ${specs.map((spec) => spec.name).join(', ')}`, {
        source: 'user',
        exit: ExitCode.badInput,
      });
    }
    await parser.parseAsync();
    if (!handled && exit === ExitCode.ok) {
      // --help printed
    }
    return exit;
  } catch (err) {
    return reportError(err, stderr, stdout, clock, argv.includes('--json'));
  } finally {
    if (!external) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

function reportError(err: unknown, stderr: NodeJS.WritableStream, stdout: NodeJS.WritableStream, clock: SystemClock | CommandContext['clock'], json: boolean): number {
  const e =
    err instanceof DeployError
      ? err
      : new DeployError('internal', `unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`, {
          source: 'tool',
          exit: ExitCode.failed,
          cause: err,
        });
  if (json) new JsonReporter(clock, stdout).emit('error', e.code, e.message, { source: e.source, exit: e.exit, ...e.data });
  stderr.write(`asg-deploy: ${e.message}\n`);
  if (e.code === 'usage') stderr.write(`Run 'asg-deploy --help' or 'asg-deploy <command> --help' for the options.\n`);
  return e.exit;
}
