/**
 * `--report FILE.html` through the CLI (`main`) on sandbox state files: the page is written on
 * every exit path (done, failed, interrupted, a dry run) and says which; its charts match the
 * JSON events of the same run; a bad --report is exit 2 before anything changes. The page itself
 * is checked as markup here and in a real browser in test/report/browser.test.ts.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../orchestrator/cli';
import { readSandboxFile, writeSandboxFile } from '../../orchestrator/commands/aws-session';
import { renderReport } from '../../orchestrator/report/html';
import { RecordingReporter, TeeReporter, type Reporter } from '../../orchestrator/report/reporter';
import { Sandbox } from '../../orchestrator/sandbox';
import { capture } from '../helpers/io';

const dirs: string[] = [];
test.after.always(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function world(setup: (sb: Sandbox) => void): { dir: string; state: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-report-'));
  dirs.push(dir);
  const state = path.join(dir, 'state.json');
  const sb = Sandbox.create({ seed: 4, faults: { bootSeconds: 40 } });
  setup(sb);
  writeSandboxFile(state, sb, {});
  return { dir, state };
}

const rabbit = (image = 'ami-0new000000000000') => (sb: Sandbox) => {
  sb.seedGroup({ name: 'qa-rabbit', capacity: 3, elb: { name: 'rabbit', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 20 } });
  sb.newLaunchTemplateVersion('qa-rabbit-lt', { ImageId: image });
};

interface Ev {
  code: string;
  level: string;
  data: Record<string, unknown>;
}

async function run(argv: string[], options: { reporter?: Reporter; signal?: AbortSignal } = {}) {
  const io = capture();
  const code = await main(argv, {
    stdout: io.out,
    stderr: io.err,
    signal: options.signal ?? new AbortController().signal,
    env: { CI: '1' },
    ...(options.reporter ? { context: { reporter: options.reporter } } : {}),
  });
  const events = io.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
  return { code, events, stderr: io.stderr };
}

/** What the page shows, read from its markup (attributes the drawing code sets). */
function page(file: string) {
  const html = fs.readFileSync(file, 'utf8');
  const attr = (re: RegExp) => [...html.matchAll(re)].map((m) => m[1]);
  return {
    html,
    outcome: attr(/id="outcome" data-outcome="(\w+)"/g)[0],
    series: [...html.matchAll(/data-series="(\w+)" data-points="(\d+)" data-values="([\d,]*)"/g)].map((m) => ({ name: m[1], points: Number(m[2]), values: m[3].split(',').map(Number) })),
    floors: attr(/class="floor" data-value="(\d+)"/g).map(Number),
    markers: attr(/class="marker" data-kind="(\w+)"/g),
    events: (html.match(/<tr class="\w+" data-level=/g) ?? []).length,
    calls: attr(/class="calls-bar" data-count="(\d+)"/g).reduce((n, c) => n + Number(c), 0),
  };
}

test('roll --report: done; the timeline matches the run\'s JSON events (3 series, floor at min healthy, a marker per step)', async (t) => {
  const { dir, state } = world(rabbit());
  const file = path.join(dir, 'roll.html');
  const r = await run(['roll', '--asg', 'qa-rabbit', '--json', '--sandbox-state', state, '--report', file]);
  t.is(r.code, 0, r.stderr);
  const written = r.events.find((e) => e.code === 'report.written');
  t.deepEqual(written?.data, { file, outcome: 'done' });
  const p = page(file);
  t.is(p.outcome, 'done');
  const plan = r.events.find((e) => e.code === 'rollout.plan')!.data;
  const terminations = r.events.filter((e) => e.code === 'instance.terminate').length;
  const launches = r.events.filter((e) => e.code === 'instance.launch').length;
  t.deepEqual(p.series.map((s) => s.name), ['outdated', 'upToDate', 'healthy']);
  const [outdated, upToDate, healthy] = p.series;
  t.is(outdated.values[0], (plan.order as unknown[]).length);
  t.is(outdated.values[outdated.values.length - 1], (plan.order as unknown[]).length - terminations);
  t.is(upToDate.values[upToDate.values.length - 1], launches);
  t.true(healthy.values.every((v) => v >= (plan.minHealthy as number)), `healthy ${healthy.values} never below the floor`);
  t.true(p.series.every((s) => s.points === outdated.points && s.points >= 1 + terminations), 'a point per change');
  t.deepEqual(p.floors, [plan.minHealthy as number]);
  t.is(p.markers.filter((k) => k === 'step').length, (plan.batches as unknown[]).length);
  t.is(p.markers.filter((k) => k === 'done').length, 1);
  // Every event the user saw (but the report's own notice) is in the list; API calls were counted.
  t.is(p.events, r.events.length - 1);
  t.true(p.calls >= (r.events.find((e) => e.code === 'rollout.done')!.data.apiCalls as number), `calls drawn: ${p.calls}`);
  t.regex(p.html, /SIMULATION/);
});

test('roll --report on a failing image: exit 1 and the page says failed, with the error and a failure marker', async (t) => {
  const { dir, state } = world((sb) => {
    sb.setImage('ami-0bad000000000000', { healthy: false });
    rabbit('ami-0bad000000000000')(sb);
  });
  const file = path.join(dir, 'failed.html');
  const r = await run(['roll', '--asg', 'qa-rabbit', '--step-timeout', '5m', '--sandbox-state', state, '--report', file]);
  t.is(r.code, 1);
  const p = page(file);
  t.is(p.outcome, 'failed');
  t.regex(p.html, /id="error"><strong>[\w.-]+<\/strong>/);
  t.true(p.markers.includes('failure'));
  t.regex(r.stderr, /report \(failed\): .*failed\.html/);
});

test('roll --report interrupted mid-rollout: exit 130 and the page says interrupted', async (t) => {
  const { dir, state } = world(rabbit());
  const file = path.join(dir, 'interrupted.html');
  const controller = new AbortController();
  const seen = new RecordingReporter({ now: () => 0, sleep: async () => {} });
  const stop: Reporter = { emit: (_l, code) => code === 'instance.launch' && controller.abort(Object.assign(new Error('interrupted by SIGINT'), { name: 'AbortError' })) };
  const code = (await run(['roll', '--asg', 'qa-rabbit', '--sandbox-state', state, '--report', file], { reporter: new TeeReporter([seen, stop]), signal: controller.signal })).code;
  t.is(code, 130);
  t.is(page(file).outcome, 'interrupted');
  t.true(seen.codes().includes('report.written'));
  t.is(readSandboxFile(state)!.aws.groups['qa-rabbit'].desired, 3, 'restored');
});

test('ab --report and roll --dry-run --report: written; a dry run draws the plan only', async (t) => {
  const { dir, state } = world((sb) => {
    sb.seedGroup({ name: 'qa-a', capacity: 2, min: 2, max: 4, launchTemplateName: 'qa-lt', imageId: 'ami-v1', elb: { name: 'qa-a', drainingTimeout: 30 } });
    sb.seedGroup({ name: 'qa-b', capacity: 0, min: 0, max: 4, launchTemplateName: 'qa-lt', elb: { name: 'qa-b', drainingTimeout: 30 } });
    sb.newLaunchTemplateVersion('qa-lt', { ImageId: 'ami-v2' });
    rabbit()(sb);
  });
  const dry = path.join(dir, 'dry.html');
  t.is((await run(['roll', '--asg', 'qa-rabbit', '--dry-run', '--sandbox-state', state, '--report', dry])).code, 0);
  const d = page(dry);
  t.regex(d.html, /<h1>asg-deploy roll --dry-run: done<\/h1>/);
  t.deepEqual(d.series.map((s) => s.points), [1, 1, 1]);
  t.regex(d.html, /Dry run: planned, nothing changed/);

  const ab = path.join(dir, 'ab.html');
  const r = await run(['ab', '--environment', 'qa', '--json', '--sandbox-state', state, '--report', ab]);
  t.is(r.code, 0, r.stderr);
  const p = page(ab);
  t.is(p.outcome, 'done');
  const [outdated, upToDate, healthy] = p.series;
  t.deepEqual([outdated.values[0], upToDate.values[0]], [2, 0]);
  t.deepEqual([outdated.values.at(-1), upToDate.values.at(-1), healthy.values.at(-1)], [0, 2, 2]);
  t.deepEqual(p.floors, [2], 'the active color\'s count');
  t.true(healthy.values.every((v) => v >= 2));
});

test('--report: a bad value is exit 2 naming it, before anything changes', async (t) => {
  const { dir, state } = world(rabbit());
  const before = fs.readFileSync(state, 'utf8');
  const cases: Array<[string, RegExp]> = [
    [path.join(dir, 'report.txt'), /--report .*report\.txt": expected a file name ending in \.html/],
    [path.join(dir, 'nope', 'r.html'), /--report .*r\.html: directory .*nope does not exist/],
  ];
  for (const [file, re] of cases) {
    const r = await run(['roll', '--asg', 'qa-rabbit', '--sandbox-state', state, '--report', file]);
    t.is(r.code, 2, file);
    t.regex(r.stderr, re);
  }
  t.is(fs.readFileSync(state, 'utf8'), before, 'nothing changed');
});

test('the page is self-contained and escapes what events say', (t) => {
  const html = renderReport({
    command: 'roll',
    dryRun: false,
    simulated: false,
    outcome: 'failed',
    exit: 1,
    error: { code: 'x', message: 'a <b>bold</b> "claim"' },
    events: [{ time: '2026-01-01T00:00:00.000Z', level: 'error', code: 'rollout.failed', message: '</script><script>alert(1)</script><img src=x>', data: {} }],
    calls: [{ t: Date.parse('2026-01-01T00:00:00Z'), service: 'autoscaling', operation: 'DescribeAutoScalingGroups' }],
  });
  t.false(html.includes('<script>alert(1)'), 'event text is escaped');
  t.true(html.includes('&lt;/script&gt;&lt;script&gt;alert(1)'));
  t.true(html.includes('a &lt;b&gt;bold&lt;/b&gt; &quot;claim&quot;'));
  t.notRegex(html, /<[^>]*\s(src|href)\s*=/i, 'nothing is loaded from anywhere');
  t.regex(html, /Content-Security-Policy" content="default-src 'none'/);
  t.is((html.match(/<script>/g) ?? []).length, 1, 'one inline script: the filter');
});

test('traffic weights are drawn under the timeline when the run shifts them; the steps compare with a given physical limit', (t) => {
  const T = Date.parse('2026-01-01T00:00:00Z');
  const e = (s: number, code: string, data: Record<string, unknown>) => ({ time: new Date(T + s * 1000).toISOString(), level: 'info' as const, code, message: code, data });
  const events = [
    e(0, 'rollout.plan', { environment: 'web', from: 'web-a', to: 'web-b', count: 2, step: 2 }),
    e(1, 'group.scale', { asg: 'web-b', from: 0, to: 2 }),
    e(30, 'instance.launch', { asg: 'web-b', instanceId: 'i-1' }),
    e(30, 'instance.launch', { asg: 'web-b', instanceId: 'i-2' }),
    e(60, 'instance.healthy', { asg: 'web-b', instanceId: 'i-1' }),
    e(60, 'instance.healthy', { asg: 'web-b', instanceId: 'i-2' }),
    e(61, 'traffic.shift', { environment: 'web', weights: { 'web-a': 50, 'web-b': 50 } }),
    e(91, 'traffic.shift', { environment: 'web', weights: { 'web-a': 0, 'web-b': 100 } }),
    e(120, 'rollout.done', { environment: 'web', status: 'done' }),
  ];
  const html = renderReport({ command: 'ab', dryRun: false, simulated: true, outcome: 'done', exit: 0, events, calls: [], stepLimitSeconds: 50 });
  t.is((html.match(/<svg class="weights"/g) ?? []).length, 1);
  t.regex(html, /<polyline class="weight" data-series="web-a" data-points="2" data-values="50,0"/);
  t.regex(html, /<polyline class="weight" data-series="web-b" data-points="2" data-values="50,100"/);
  t.regex(html, /<th class="num">physical limit<\/th>/);
  t.regex(html, /<tr class="step" data-seconds="59"><td class="num">1<\/td><td>web-b 0 → 2<\/td><td class="num">59s<\/td><td class="num">50s<\/td>/);
  const plain = renderReport({ command: 'ab', dryRun: false, simulated: true, outcome: 'done', exit: 0, events: events.filter((x) => x.code !== 'traffic.shift'), calls: [] });
  t.notRegex(plain, /class="weights"|physical limit/, 'no weights, no limit: neither is drawn');
});
