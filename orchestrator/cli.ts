/**
 * argv -> typed options -> a command; errors -> exit code; nothing else.
 */
import yargs from 'yargs';
import { SystemClock } from './clock';
import { DeployError, ExitCode } from './errors';
import { JsonReporter, PlainReporter, type Reporter } from './report/reporter';
import type { CommandContext, CommandSpec } from './commands/command';
import { deployCommand } from './commands/deploy';
import { statusCommand } from './commands/status';
import { demoCommand } from './commands/demo';
import { rollCommand } from './commands/roll';
import { abCommand } from './commands/ab';
import { lockCommand } from './commands/lock';
import { unlockCommand } from './commands/unlock';

/** Every command, in help order. Each file under commands/ owns its options and behaviour. */
export function commands(): CommandSpec[] {
  return [
    deployCommand,
    rollCommand,
    abCommand,
    statusCommand,
    lockCommand,
    unlockCommand,
    demoCommand,
  ];
}

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
  const specs = commands();
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
  for (const spec of specs) {
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
