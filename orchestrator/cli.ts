/**
 * argv -> typed options -> a command; errors -> exit code; nothing else.
 *
 * Conventions (as pulumi, kubectl and the aws CLI): `--version`/`-v`, `-h`/`--help`, `help` and
 * `help <command>` everywhere; an unknown command or flag is one line each with a did-you-mean;
 * a single-valued flag given twice is an error; `completion` prints a shell completion script.
 * Every failure is one `asg-deploy: ...` line (plus a hint) and its docs/design.md exit code;
 * a stack trace only with `--verbose`.
 */
import yargs, { type Argv } from 'yargs';
import { SystemClock } from './clock';
import { packageVersion } from './package-info';
import { DeployError, ExitCode } from './errors';
import { JsonReporter, PlainReporter, type Reporter } from './report/reporter';
import type { CommandContext, CommandSpec } from './commands/command';
import { awsSetupError } from './aws/setup-errors';

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

/** The package version (`asg-deploy --version`). */
export function version(): string {
  return packageVersion();
}

export const EXIT_CODES_HELP = [
  'Exit codes:',
  '  0    done, or nothing to do',
  '  1    rollout failed or timed out, halted in a safe state',
  '  2    bad input: usage, unknown group, invalid config, no AWS region/credentials',
  '  3    refused by a precondition: locked, both A and B populated, no headroom',
  '  130  interrupted (Ctrl-C, SIGTERM), after restoring what was changed',
].join('\n');

export const PATHS_HELP =
  'Paths: the project is the nearest directory at or above the current one holding a Pulumi.yaml (else the ' +
  'current directory): Pulumi.<stack>.yaml and the default sandbox state (.asg-deploy/) live there; a path you ' +
  'pass in a flag (--config-file, --sandbox-state, --ssh-key, ...) is relative to the current directory.';

export const SEED_HELP =
  '"seed flag": a flag name kept from the scripts this tool replaces (asg_rolling_upgrade for roll, ' +
  'ab-deployment-tool for ab), so their invocations keep working.';

export interface MainOptions {
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
  /** Supply a signal instead of listening to SIGINT/SIGTERM (tests). */
  signal?: AbortSignal;
  /** Override the context (tests, sandbox): merged over the defaults. */
  context?: Partial<CommandContext>;
}

/** The flags a command declares (names and aliases), for did-you-mean and repeated-flag checks. */
function declaredOptions(spec: CommandSpec | undefined): { keys: string[]; arrays: Set<string>; booleans: Set<string> } {
  const y = yargs([]);
  const built = (spec ? spec.builder(y) : y) as Argv & { getOptions(): { key: Record<string, boolean>; array: string[]; boolean: string[] } };
  const o = built.getOptions();
  const keys = Object.keys(o.key).filter((k) => k !== '$0');
  return { keys: [...new Set([...keys, 'help', 'version'])], arrays: new Set(o.array), booleans: new Set(o.boolean) };
}

/** Levenshtein distance (small strings). */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++)
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  return d[a.length][b.length];
}

/** The closest known name, when it is close enough to be what was meant. */
export function didYouMean(name: string, known: string[]): string | undefined {
  let best: { k: string; d: number } | undefined;
  for (const k of known) {
    if (k.length < 2 && name.length > 2) continue;
    const d = k.startsWith(name) || name.startsWith(k) ? Math.min(1, distance(name, k)) : distance(name, k);
    if (!best || d < best.d) best = { k, d };
  }
  return best && best.d <= Math.max(2, Math.floor(name.length / 3)) ? best.k : undefined;
}

const camelToKebab = (s: string) => s.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const flag = (k: string) => (k.length === 1 ? `-${k}` : `--${k}`);

/** yargs' "Unknown arguments: a, b" → one line per flag with a did-you-mean. */
function unknownArguments(list: string, argv: string[], spec: CommandSpec | undefined): string {
  const names = list.split(', ').map((s) => s.trim());
  // yargs lists both spellings of a flag (surge-count, surgeCount): keep the one typed.
  const unique = names.filter((n) => !(/[A-Z]/.test(n) && names.includes(camelToKebab(n))));
  const { keys } = declaredOptions(spec);
  const lines = unique.map((n) => {
    const typedAsFlag = argv.some((a) => a === flag(n) || a.startsWith(`${flag(n)}=`) || a === `--no-${n}`);
    if (!typedAsFlag) return `unexpected argument '${n}'${spec ? ` (${spec.name} takes flags only)` : ''}`;
    const near = didYouMean(n, keys.filter((k) => k.length > 1));
    return `unknown flag ${flag(n)}${spec ? ` for ${spec.name}` : ''}${near ? ` (did you mean --${near}?)` : ''}`;
  });
  return lines.join('\n');
}

/** `--stack qa --stack prod`: yargs collects an array; a single-valued flag given twice is an error. */
function checkRepeated(args: Record<string, unknown>, spec: CommandSpec): void {
  const { keys, arrays } = declaredOptions(spec);
  for (const k of keys) {
    if (!arrays.has(k) && Array.isArray(args[k]) && !/[A-Z]/.test(k)) {
      const values = (args[k] as unknown[]).map((v) => JSON.stringify(v)).join(', ');
      throw new DeployError('usage', `--${k} given ${(args[k] as unknown[]).length} times (${values}): it takes one value`, {
        source: 'user',
        exit: ExitCode.badInput,
        data: { flag: `--${k}` },
      });
    }
  }
}

/** Parses argv, runs the command, returns the exit code. Never calls process.exit. */
export async function main(argv: string[], options: MainOptions = {}): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const env = options.env ?? process.env;
  const clock = options.context?.clock ?? new SystemClock();
  // `help` and `help <command>` are `--help` and `<command> --help`.
  if (argv[0] === 'help') argv = argv[1] ? [argv[1], '--help'] : ['--help'];

  // Only the invoked command's module is loaded; the others are listed by name for --help.
  const invoked = COMMANDS.find((entry) => entry.name === argv[0]);
  let active: CommandSpec | undefined;
  try {
    active = invoked ? await invoked.load() : undefined;
  } catch (err) {
    return reportError(err, stderr, stdout, clock, argv.includes('--json'), argv.includes('--verbose'));
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
  const specs = COMMANDS;
  const columns = (stderr as NodeJS.WriteStream).columns ?? (stdout as NodeJS.WriteStream).columns ?? 100;
  let parser = yargs()
    .scriptName('asg-deploy')
    .usage('$0 <command> [options]\n\nPulumi infrastructure changes plus safe, self-managed rollouts of AWS Auto Scaling Groups.')
    .strict()
    .demandCommand(1, 'name a command')
    .recommendCommands()
    .help()
    .alias('h', 'help')
    .version(version())
    .alias('v', 'version')
    .completion('completion', 'print a bash/zsh completion script (asg-deploy completion >> ~/.bashrc)')
    .exitProcess(false)
    .parserConfiguration({ 'duplicate-arguments-array': true })
    .example('$0 demo', 'the whole story on the simulated AWS (about a minute)')
    .example('$0 deploy --stack qa --sandbox', 'deploy stack qa to the simulated AWS')
    .example('$0 help roll', "a command's options, examples and exit codes")
    .epilogue(`${EXIT_CODES_HELP}\n\n${PATHS_HELP}\n\n${SEED_HELP}\n\nDocs: README.md and docs/ in the package.`)
    .wrap(Math.min(110, columns))
    .fail((msg, err) => {
      if (err) throw err;
      throw usageFailure(msg ?? '', argv, specs, active);
    });
  for (const entry of specs) {
    if (entry !== invoked || !active) {
      parser = parser.command(entry.name, entry.describe);
      continue;
    }
    const spec = active;
    parser = parser.command(
      spec.name,
      spec.describe,
      (y) => {
        const b = spec.builder(y.usage(spec.usage ?? `$0 ${spec.name} [options]`));
        for (const [cmd, what] of spec.examples ?? []) b.example(cmd, what);
        return b.epilogue(`${EXIT_CODES_HELP}\n\n${PATHS_HELP}`);
      },
      async (args) => {
        checkRepeated(args as Record<string, unknown>, spec);
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
    let printed = '';
    await parser.parseAsync(argv, {}, (_err, _args, output) => {
      if (output) printed = output;
    });
    // --help, --version, completion: yargs hands the text back instead of printing it.
    if (printed) stdout.write(printed.endsWith('\n') ? printed : printed + '\n');
    return exit;
  } catch (err) {
    return reportError(err, stderr, stdout, clock, argv.includes('--json'), argv.includes('--verbose'));
  } finally {
    if (!external) {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}

/** yargs' validation message → one usage error, with did-you-mean for commands and flags. */
function usageFailure(msg: string, argv: string[], specs: readonly CommandEntry[], active: CommandSpec | undefined): DeployError {
  const names = specs.map((s) => s.name).join(', ');
  const first = argv[0];
  let message = msg;
  const mean = /^Did you mean (\S+)\?$/.exec(msg);
  const unknown = /^Unknown arguments?: (.+)$/.exec(msg);
  if (!active && first !== undefined && !first.startsWith('-') && first !== 'completion' && (mean || unknown)) {
    const near = mean?.[1] ?? didYouMean(first, specs.map((s) => s.name));
    message = `unknown command '${first}'${near ? ` (did you mean ${near}?)` : ''}; the commands are: ${names} (and help, completion)`;
  } else if (unknown) message = unknownArguments(unknown[1], argv, active);
  else if (msg === 'name a command') message = `name a command: ${names} (asg-deploy --help lists them)`;
  else {
    const missing = /^Missing required arguments?: (.+)$/.exec(msg);
    if (missing) message = `missing ${missing[1].split(', ').map((k) => `--${k}`).join(', ')}${active ? ` (asg-deploy ${active.name} --help)` : ''}`;
  }
  return new DeployError('usage', message, { source: 'user', exit: ExitCode.badInput });
}

function reportError(err: unknown, stderr: NodeJS.WritableStream, stdout: NodeJS.WritableStream, clock: SystemClock | CommandContext['clock'], json: boolean, verbose: boolean): number {
  const setup = awsSetupError(err);
  const e =
    setup ??
    (err instanceof DeployError
      ? err
      : new DeployError('internal', `unexpected error: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`, {
          source: 'tool',
          exit: ExitCode.failed,
          cause: err,
        }));
  if (json) new JsonReporter(clock, stdout).emit('error', e.code, e.message, { source: e.source, exit: e.exit, ...e.data });
  stderr.write(`asg-deploy: ${e.message}\n`);
  if (typeof e.data.hint === 'string') stderr.write(`  hint: ${e.data.hint}\n`);
  if (e.code === 'usage') stderr.write(`Run 'asg-deploy --help' or 'asg-deploy <command> --help' for the options.\n`);
  if (verbose) {
    const trace = (e.cause instanceof Error ? e.cause : e).stack;
    if (trace) stderr.write(`${trace}\n`);
  } else if (e.code === 'internal') stderr.write(`(--verbose prints the stack trace)\n`);
  return e.exit;
}
