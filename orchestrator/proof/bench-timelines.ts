/**
 * `npm run bench` writes each scenario's report (issue 17): the engine's run recorded as
 * `--report` records a command (its coded events and the time of each AWS call,
 * report/recorder.ts), then written as the HTML page (`<dir>/<slug>.html`, default
 * `.asg-deploy/bench-reports/`, not committed) and the scenario's timeline as a small SVG image
 * (`docs/img/bench-<slug>.svg`, committed: docs/benchmarks.md shows it next to the table).
 *
 * Why SVG rather than a PNG screenshot: the image is the report's own chart (report/chart.ts, the
 * same tested layout), text a diff can read, a few KB, byte-identical for the same run (simulated
 * time, seeded ids), and needs no browser on the machine that runs the bench.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AwsClients } from '../aws/clients';
import type { Clock } from '../clock';
import { timelineImage } from '../report/html';
import { ReportRecorder } from '../report/recorder';
import { buildTimelines } from '../report/timeline';

/** Where the bench writes its reports and images. */
export interface BenchReportDirs {
  /** HTML reports (not committed). */
  reports: string;
  /** SVG timeline images (docs/img). */
  images: string;
  /** Filled in: the scenarios whose image this run wrote, in order. */
  drawn?: string[];
}

/** `3-node quorum` → `3-node-quorum`. */
export const slug = (name: string): string =>
  name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

/** The image's path relative to docs/ (what docs/benchmarks.md links). */
export const imagePath = (name: string): string => `img/bench-${slug(name)}.svg`;

/** One scenario's recorder: hand `recorder` to the run as its reporter and `clients(...)` as its clients, then `write`. */
export function scenarioReport(name: string, clock: Clock) {
  const recorder = new ReportRecorder(clock);
  return {
    recorder,
    clients: (c: AwsClients) => recorder.instrument(c),
    /** Writes the page and the image; returns the image's file name (undefined when the run drew no timeline). */
    write(dirs: BenchReportDirs, error?: string, stepLimitSeconds?: number): string | undefined {
      mkdirSync(dirs.reports, { recursive: true });
      recorder.write(join(dirs.reports, `${slug(name)}.html`), {
        command: `bench: ${name}`,
        dryRun: false,
        simulated: true,
        outcome: error ? 'failed' : 'done',
        exit: error ? 1 : 0,
        error: error ? { code: 'bench.failed', message: error } : undefined,
        stepLimitSeconds,
      });
      const tl = buildTimelines(recorder.events)[0];
      if (!tl) return undefined;
      mkdirSync(dirs.images, { recursive: true });
      const file = join(dirs.images, `bench-${slug(name)}.svg`);
      writeFileSync(file, timelineImage(tl, `${name}: instances over time (simulated)`));
      dirs.drawn?.push(name);
      return file;
    },
  };
}

/** The "Timelines" section of docs/benchmarks.md: each scenario's image, in the table's order. */
export function timelinesMarkdown(names: readonly string[]): string {
  if (!names.length) return '';
  return [
    '## Timelines',
    '',
    "Each scenario's rollout by the engine, drawn by the `--report` page's own chart",
    '(outdated, up-to-date and healthy-serving instances over simulated time, the min-healthy floor',
    'dashed, a dotted line at each step); `npm run bench` writes these images and each scenario\'s',
    'full HTML report (`.asg-deploy/bench-reports/`, not committed; [report.md](report.md)).',
    '',
    ...names.flatMap((n) => [`**${n}**`, '', `![${n}: instances over time](${imagePath(n)})`, '']),
  ].join('\n');
}
