/**
 * What `--report` collects while a command runs: every coded event (a Reporter teed beside the
 * user's output) and the time of every AWS API call (an SDK middleware on the run's clients),
 * then the HTML page (report/html.ts) written once, on whichever exit path the run takes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { AwsClients } from '../aws/clients';
import type { Clock } from '../clock';
import { makeEvent, type DeployEvent, type Level, type Reporter } from './reporter';
import { renderReport, type ApiCall, type ReportInput } from './html';

type Instrumentable = { middlewareStack: { add(mw: unknown, options: Record<string, unknown>): void } };

export class ReportRecorder implements Reporter {
  readonly events: DeployEvent[] = [];
  readonly calls: ApiCall[] = [];
  private readonly instrumented = new WeakSet<object>();

  constructor(private readonly clock: Clock) {}

  emit(level: Level, code: string, message: string, data: Record<string, unknown> = {}): void {
    this.events.push(makeEvent(this.clock, level, code, message, data));
  }

  /**
   * The same clients, each noting its calls' times (one per call the tool makes; the SDK's own
   * retries of it are not counted again). Clients are still built on first use, as before.
   */
  instrument(clients: AwsClients): AwsClients {
    const note = <C>(client: C, service: string): C => {
      const c = client as unknown as Instrumentable;
      if (!this.instrumented.has(c)) {
        this.instrumented.add(c);
        c.middlewareStack.add(
          (next: (a: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
            this.calls.push({ t: this.clock.now(), service, operation: String(context.commandName ?? '').replace(/Command$/, '') });
            return next(args);
          },
          { step: 'initialize', name: 'asgDeployReportCalls', override: true },
        );
      }
      return client;
    };
    return {
      get autoScaling() {
        return note(clients.autoScaling, 'autoscaling');
      },
      get ec2() {
        return note(clients.ec2, 'ec2');
      },
      get elb() {
        return note(clients.elb, 'elb');
      },
      get elbv2() {
        return note(clients.elbv2, 'elbv2');
      },
      get s3() {
        return note(clients.s3, 's3');
      },
      get cloudWatch() {
        const cloudWatch = clients.cloudWatch;
        return cloudWatch && note(cloudWatch, 'cloudwatch');
      },
    };
  }

  /** The page for what was recorded so far. */
  render(run: Omit<ReportInput, 'events' | 'calls'>): string {
    return renderReport({ ...run, events: this.events, calls: this.calls });
  }

  /** Writes the page (through a temporary file: a reader never sees half a report). */
  write(file: string, run: Omit<ReportInput, 'events' | 'calls'>): void {
    const html = this.render(run);
    const tmp = path.join(path.dirname(path.resolve(file)), `.${path.basename(file)}.${process.pid}.tmp`);
    fs.writeFileSync(tmp, html);
    fs.renameSync(tmp, file);
  }
}
