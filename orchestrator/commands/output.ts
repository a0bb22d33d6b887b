/**
 * One reporter construction for every command (deploy, roll, ab, lock, unlock): events stamped
 * with the session's clock (simulated time in the sandbox), and the same outputs everywhere —
 *
 *   on a terminal            the live view (one line per service or group), warnings above it
 *   piped, or --verbose      a timestamped line per event
 *   --json                   one JSON event per line on stdout (the human output stays on stderr)
 *
 * A sandbox session says SIMULATION first, whatever the command. A reporter injected by the
 * caller (tests) is used as is.
 */
import type { Clock } from '../clock';
import { LiveView } from '../report/live-view';
import { JsonReporter, PlainReporter, TeeReporter, type Reporter } from '../report/reporter';
import type { CommandContext } from './command';

/** Event code of the SIMULATION notice (deploy keeps its own `deploy.simulation`). */
export const SIMULATION_CODE = 'sandbox.simulation';

export interface CommandOutput {
  reporter: Reporter;
  /** Set on a terminal: call {@link CommandOutput.finish} before printing anything else. */
  live?: LiveView;
  /** Stops the live view's redrawing (the last frame stays). Idempotent. */
  finish(): void;
}

export function commandOutput(
  ctx: CommandContext,
  session: { clock: Clock; simulated: boolean; sandbox?: { stateFile: string } },
  options: { verbose?: boolean; command: string; simulationCode?: string; simulationMessage?: string; liveView?: boolean; also?: Reporter },
): CommandOutput {
  const injected = !(ctx.reporter instanceof JsonReporter) && !(ctx.reporter instanceof PlainReporter);
  let reporter: Reporter;
  let live: LiveView | undefined;
  if (injected) reporter = ctx.reporter;
  else {
    live = ctx.interactive && !options.verbose && options.liveView !== false ? new LiveView(session.clock, ctx.stderr) : undefined;
    const human: Reporter = live ?? new PlainReporter(session.clock, ctx.stderr, true);
    reporter = ctx.json ? new TeeReporter([new JsonReporter(session.clock, ctx.stdout), human]) : human;
  }
  // `--report`: the recorder sees every event the user does (commands/report-option.ts).
  if (options.also) reporter = new TeeReporter([reporter, options.also]);
  live?.start();
  if (session.simulated) {
    const file = session.sandbox?.stateFile;
    reporter.emit(
      'warn',
      options.simulationCode ?? SIMULATION_CODE,
      options.simulationMessage ?? `SIMULATION: ${options.command} runs against the embedded simulated AWS${file ? ` (state: ${file})` : ''}; no AWS account is used`,
      { stateFile: file, command: options.command },
    );
  }
  return { reporter, live, finish: () => live?.finish() };
}
