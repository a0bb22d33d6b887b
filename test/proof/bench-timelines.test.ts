/**
 * `npm run bench` writes each scenario's report and its timeline image (orchestrator/proof/
 * bench-timelines.ts): the HTML page of the engine's run, and an SVG image of its timeline that
 * docs/benchmarks.md shows — the same bytes for the same run (simulated time, seeded ids), so the
 * committed images change only when the rollout does.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BENCHES, runBench } from '../../orchestrator/proof/bench';
import { imagePath, slug, timelinesMarkdown } from '../../orchestrator/proof/bench-timelines';

test('a scenario run with report dirs writes its HTML report and a deterministic SVG timeline', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-bench-timelines-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const quorum = BENCHES.find((b) => b.name === '3-node quorum')!;
  const one = { reports: path.join(dir, 'r1'), images: path.join(dir, 'i1'), drawn: [] as string[] };
  const two = { reports: path.join(dir, 'r2'), images: path.join(dir, 'i2'), drawn: [] as string[] };
  const a = await runBench(quorum, one);
  await runBench(quorum, two);
  t.deepEqual(one.drawn, ['3-node quorum']);
  const html = fs.readFileSync(path.join(one.reports, '3-node-quorum.html'), 'utf8');
  t.regex(html, /data-outcome="done"/);
  t.is((html.match(/<section class="group"/g) ?? []).length, 1);
  t.regex(html, /<th class="num">physical limit<\/th>/, 'each step against boot + health checks (90 + 30 s)');
  t.is((html.match(/<td class="num">2m 00s<\/td><td><i class="bar/g) ?? []).length, 3);
  const svg = fs.readFileSync(path.join(one.images, 'bench-3-node-quorum.svg'), 'utf8');
  t.is(svg, fs.readFileSync(path.join(two.images, 'bench-3-node-quorum.svg'), 'utf8'), 'the same run draws the same bytes');
  t.regex(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
  t.is((svg.match(/<polyline class="series"/g) ?? []).length, 3, 'outdated, up-to-date, healthy');
  t.regex(svg, /class="floor" data-value="3"/, 'the floor at min healthy (3 of 3, surge 1)');
  t.is((svg.match(/data-kind="step"/g) ?? []).length, 3, 'a marker per step (3 batches of 1)');
  t.true(svg.length < 20_000, `${svg.length} bytes`);
  // The measurement is the same with or without the recorder.
  const plain = await runBench(quorum);
  t.is(plain.engine.seconds, a.engine.seconds);
  t.is(plain.engine.apiCalls, a.engine.apiCalls);
});

test('timelinesMarkdown: one image per drawn scenario, linked from docs/', (t) => {
  t.is(slug('A/B, 100 instances'), 'a-b-100-instances');
  t.is(imagePath('3-node quorum'), 'img/bench-3-node-quorum.svg');
  const md = timelinesMarkdown(['3-node quorum', 'A/B, 8 instances']);
  t.regex(md, /^## Timelines\n/);
  t.regex(md, /!\[3-node quorum: instances over time\]\(img\/bench-3-node-quorum\.svg\)/);
  t.regex(md, /!\[A\/B, 8 instances: instances over time\]\(img\/bench-a-b-8-instances\.svg\)/);
  t.is(timelinesMarkdown([]), '');
});
