/**
 * `--report FILE.html` on deploy, roll and ab (docs/report.md): a recorder teed beside the
 * command's output, its clients noting their calls, and the page written on every exit path —
 * done, failed (a returned non-zero exit or a thrown error), interrupted — saying which.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Argv } from 'yargs';
import type { AwsClients } from '../aws/clients';
import type { Clock } from '../clock';
import { DeployError, ExitCode, isAbortError, usageError } from '../errors';
import type { RunOutcome } from '../report/html';
import { ReportRecorder } from '../report/recorder';
import type { Reporter } from '../report/reporter';

/** Event code: the report was written ({file, outcome}), or could not be ({file, reason}, warn). */
export const ReportCodes = { written: 'report.written', writeFailed: 'report.write-failed' } as const;

export function withReportOption(y: Argv): Argv {
  return y.option('report', { type: 'string', describe: 'write a self-contained HTML report of the run to this file (on every exit path)' });
}

/** The `--report` value, checked before anything runs: an .html file in an existing directory. */
export function reportFlag(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  const file = String(v);
  if (!/\.html?$/i.test(file)) throw usageError('usage', `--report ${JSON.stringify(file)}: expected a file name ending in .html (the report is one HTML page)`, { flag: '--report' });
  const dir = path.dirname(path.resolve(file));
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw usageError('usage', `--report ${file}: directory ${dir} does not exist`, { flag: '--report' });
  if (fs.existsSync(file) && fs.statSync(file).isDirectory()) throw usageError('usage', `--report ${file}: is a directory; expected a file name ending in .html`, { flag: '--report' });
  return file;
}

export interface ReportRun {
  /** Tee this beside the command's reporter. */
  recorder: ReportRecorder;
  /** The clients to hand the rollout (they note each call's time). */
  clients(c: AwsClients): AwsClients;
  /**
   * Runs the command body, then writes the report whatever happened; returns or rethrows as the
   * body did. `announce` gets the `report.written` event (the command's own reporter).
   */
  around(announce: Reporter, body: () => Promise<number>): Promise<number>;
}

/**
 * `given`: a recorder of the caller's (CommandContext.reportRecorder): the run records into it
 * and the caller writes the page (a rehearsal adds its prediction first); nothing is written here.
 */
export function openReport(file: string | undefined, run: { command: string; dryRun: boolean; simulated: boolean; clock: Clock }, given?: ReportRecorder): ReportRun | undefined {
  if (given) return { recorder: given, clients: (c) => given.instrument(c), around: (_announce, body) => body() };
  if (!file) return undefined;
  const recorder = new ReportRecorder(run.clock);
  const write = (announce: Reporter, outcome: RunOutcome, exit: number, error?: { code: string; message: string }) => {
    try {
      recorder.write(file, { command: run.command, dryRun: run.dryRun, simulated: run.simulated, outcome, exit, error });
      announce.emit('info', ReportCodes.written, `report (${outcome}): ${file}`, { file, outcome });
    } catch (err) {
      // The run's own outcome stands; the missing report is said, not hidden.
      announce.emit('warn', ReportCodes.writeFailed, `could not write the report ${file}: ${(err as Error).message}`, { file, reason: (err as Error).message });
    }
  };
  return {
    recorder,
    clients: (c) => recorder.instrument(c),
    async around(announce, body) {
      let exit: number;
      try {
        exit = await body();
      } catch (err) {
        const interrupted = isAbortError(err) || (err instanceof DeployError && err.exit === ExitCode.interrupted);
        const e = err instanceof DeployError ? err : undefined;
        write(announce, interrupted ? 'interrupted' : 'failed', e?.exit ?? (interrupted ? ExitCode.interrupted : ExitCode.failed), {
          code: e?.code ?? 'internal',
          message: e?.message ?? (err instanceof Error ? `${err.name}: ${err.message}` : String(err)),
        });
        throw err;
      }
      write(announce, exit === 0 ? 'done' : exit === ExitCode.interrupted ? 'interrupted' : 'failed', exit);
      return exit;
    },
  };
}
