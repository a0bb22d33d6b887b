/**
 * The `--report` page of a sandbox deploy (rolling rabbit + A/B web, the demo stack) opened in a
 * real headless Chromium — Debian's `chromium`, driven by playwright-core (no browser download) —
 * checking what a person sees: each group's chart drawn with its three series and every point,
 * the floor line at the min-healthy tick, the step markers, the event filter narrowing the list,
 * no console error, no request beyond the file itself. One browser start; a screenshot is saved
 * (ASG_DEPLOY_REPORT_SCREENSHOT=FILE, else the temp dir; CI keeps it as an artifact).
 * Skips, saying so, only when no chromium is installed here (.ci/run installs it).
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../../orchestrator/cli';
import { capture } from '../helpers/io';

const DEMO = fs.readFileSync(path.resolve(__dirname, '../../examples/demo/Pulumi.demo.yaml'), 'utf8');

/** ASG_DEPLOY_CHROMIUM, else Debian's chromium (its wrapper, then the binary), else none. */
function chromiumPath(): string | undefined {
  const candidates = [process.env.ASG_DEPLOY_CHROMIUM, '/usr/bin/chromium', '/usr/lib/chromium/chromium', '/usr/bin/chromium-browser'];
  return candidates.find((c): c is string => Boolean(c) && fs.existsSync(c!));
}

interface Ev {
  code: string;
  level: string;
  data: Record<string, unknown>;
}

async function deploy(argv: string[]) {
  const io = capture();
  const code = await main(['deploy', ...argv], { stdout: io.out, stderr: io.err, signal: new AbortController().signal, env: { CI: '1' } });
  return { code, stderr: io.stderr, events: io.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev) };
}

const executable = chromiumPath();

/** The DOM nodes the checks read, as the page has them (tsconfig has no DOM lib: the tool never runs in a browser). */
interface DomNode {
  textContent: string | null;
  getAttribute(name: string): string | null;
  querySelector(selector: string): DomNode | null;
  querySelectorAll(selector: string): ArrayLike<DomNode> & Iterable<DomNode>;
  getBoundingClientRect(): { width: number };
  getBBox(): { width: number };
  points: { numberOfItems: number };
  y1: { baseVal: { value: number } };
}

const TITLE = 'the report of a sandbox deploy, in headless Chromium: charts, floor, markers, filter';
(executable ? test : test.skip)(executable ? TITLE : `${TITLE} — SKIPPED: no chromium here (apt-get install chromium, or ASG_DEPLOY_CHROMIUM=PATH; .ci/run installs it)`, async (t) => {
  t.timeout(180_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-browser-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const state = path.join(dir, 'state.json');
  const config = (image: string) => {
    const f = path.join(dir, `Pulumi.demo.${image}.yaml`);
    fs.writeFileSync(f, DEMO.replace(/ami-0demo1/g, image));
    return f;
  };
  const v1 = await deploy(['--stack', 'demo', '--create', '--config-file', config('ami-0demo1'), '--sandbox-state', state]);
  t.is(v1.code, 0, v1.stderr);
  const file = path.join(dir, 'deploy.html');
  const v2 = await deploy(['--stack', 'demo', '--config-file', config('ami-0demo2'), '--sandbox-state', state, '--json', '--report', file]);
  t.is(v2.code, 0, v2.stderr);
  const plans = v2.events.filter((e) => e.code === 'rollout.plan');
  t.is(plans.length, 2);

  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: executable, headless: true });
  t.teardown(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const problems: string[] = [];
  const requests: string[] = [];
  page.on('console', (m) => m.type() === 'error' && problems.push(`console: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push(r.url()));
  const url = pathToFileURL(file).href;
  await page.goto(url);

  t.is(await page.locator('#outcome').textContent(), 'done');
  // What the charts show, read from the rendered SVG (geometry the browser computed).
  const groups = await page.$$eval('section.group', (sections) =>
    (sections as unknown as DomNode[]).map((s) => {
      const svg = s.querySelector('svg.timeline')!;
      const lines = [...svg.querySelectorAll('polyline.series')];
      const floor = svg.querySelector('line.floor');
      const ticks = [...svg.querySelectorAll('text')].map((x) => ({ label: x.textContent, y: Number(x.getAttribute('y')) - 4 }));
      return {
        group: s.getAttribute('data-group'),
        strategy: s.getAttribute('data-strategy'),
        width: svg.getBoundingClientRect().width,
        series: lines.map((l) => ({
          name: l.getAttribute('data-series'),
          points: Number(l.getAttribute('data-points')),
          values: (l.getAttribute('data-values') ?? '').split(',').map(Number),
          vertices: l.points.numberOfItems,
          drawnWidth: l.getBBox().width,
        })),
        floor: floor ? { value: Number(floor.getAttribute('data-value')), y: floor.y1.baseVal.value, tick: ticks.find((x) => x.label === floor.getAttribute('data-value'))?.y } : undefined,
        stepMarkers: svg.querySelectorAll('line.marker[data-kind="step"]').length,
        stepRows: s.querySelectorAll('table.steps tr.step').length,
      };
    }),
  );
  t.deepEqual(groups.map((g) => [g.group, g.strategy]), [
    ['demo-rabbit', 'rolling'],
    ['demo-web', 'ab'],
  ]);
  for (const g of groups) {
    const plan = plans.find((p) => p.data.asg === g.group || p.data.environment === g.group)!.data;
    t.true(g.width > 600, `${g.group}: the chart is drawn (${g.width} px)`);
    t.deepEqual(g.series.map((s) => s.name), ['outdated', 'upToDate', 'healthy'], `${g.group}: three series`);
    for (const s of g.series) {
      t.is(s.vertices, 2 * s.points, `${g.group} ${s.name}: every point drawn as a step`);
      t.true(s.drawnWidth > 600, `${g.group} ${s.name}: spans the run`);
    }
    // The counts the events imply: all outdated at the start, none at the end, never below the floor.
    const [outdated, upToDate, healthy] = g.series;
    const replaced = g.strategy === 'rolling' ? (plan.order as unknown[]).length : (plan.count as number);
    t.is(outdated.values[0], replaced);
    t.is(outdated.values.at(-1), 0);
    t.is(upToDate.values.at(-1), g.strategy === 'rolling' ? (plan.capacity as number) : (plan.count as number));
    const floor = g.strategy === 'rolling' ? (plan.minHealthy as number) : (plan.count as number);
    t.is(g.floor?.value, floor, `${g.group}: the floor is min healthy`);
    t.is(g.floor?.y, g.floor?.tick, `${g.group}: the floor line sits on the ${floor} tick`);
    t.true(healthy.values.every((v: number) => v >= floor), `${g.group}: healthy ${healthy.values} stays at or above ${floor}`);
    t.true(g.stepRows > 0 && g.stepMarkers === g.stepRows, `${g.group}: a marker per step (${g.stepMarkers} / ${g.stepRows})`);
  }

  // The event filter: what a person types narrows the list to those events.
  const total = await page.locator('#events tbody tr').count();
  t.is(total, v2.events.filter((e) => e.code !== 'report.written').length);
  const terminations = v2.events.filter((e) => e.code === 'instance.terminate').length;
  await page.fill('#filter', 'instance.terminate');
  const visible = page.locator('#events tbody tr:visible');
  t.is(await visible.count(), terminations);
  t.deepEqual([...new Set(await visible.evaluateAll((rows) => rows.map((r) => r.getAttribute('data-code'))))], ['instance.terminate']);
  t.is(await page.locator('#shown').textContent(), `${terminations} of ${total} events`);
  await page.fill('#filter', '');
  await page.selectOption('#level', 'warn');
  t.is(await visible.count(), v2.events.filter((e) => e.level === 'warn').length);
  await page.selectOption('#level', '');
  t.is(await visible.count(), total);

  const shot = process.env.ASG_DEPLOY_REPORT_SCREENSHOT || path.join(os.tmpdir(), 'asg-deploy-report.png');
  await page.screenshot({ path: shot, fullPage: true });
  t.true(fs.statSync(shot).size > 10_000, 'a screenshot');
  t.log(`screenshot: ${shot}`);
  t.deepEqual(problems, [], 'no console error');
  t.deepEqual(requests, [url], 'nothing fetched but the page');
});
