/**
 * `--report FILE.html`: one self-contained HTML page (inline CSS, inline SVG, a few lines of
 * inline script for the event filter; no network, no external script or font: a
 * Content-Security-Policy of default-src 'none' says so to the browser) telling the run's story:
 * the outcome (done / failed / interrupted), the summary, a timeline per group
 * (report/timeline.ts, laid out by report/chart.ts), the steps and their durations, the API calls
 * over time, and every event, filterable. Its only inputs are the coded events and the API call
 * times, the same as the `--json` channel shows: nothing else (no argv, no environment).
 */
import { layoutBars, layoutTimeline, layoutWeights, type TimelineLayout } from './chart';
import type { DeployEvent } from './reporter';
import { formatDuration } from './summary';
import { buildTimelines, type GroupTimeline } from './timeline';

export type RunOutcome = 'done' | 'failed' | 'interrupted';

export interface ApiCall {
  /** ms since the epoch, on the run's clock. */
  t: number;
  service: string;
  operation: string;
}

export interface ReportInput {
  /** deploy, roll, ab. */
  command: string;
  dryRun: boolean;
  simulated: boolean;
  outcome: RunOutcome;
  exit: number;
  /** The error's code and message when the run failed or was interrupted (what stderr says). */
  error?: { code: string; message: string };
  events: readonly DeployEvent[];
  calls: readonly ApiCall[];
  /**
   * The least one step can take (s), when the caller knows it (the bench: boot + the health
   * checks, orchestrator/proof/limit.ts): the steps table compares each step with it. An event's
   * own `limitSeconds` wins for its step.
   */
  stepLimitSeconds?: number;
}

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const esc = (s: unknown): string => String(s).replace(/[&<>"']/g, (c) => ESC[c]);

const COLORS: Record<string, string> = { outdated: '#c0392b', upToDate: '#2471a3', healthy: '#1e8449' };
const MARKER_COLORS: Record<string, string> = {
  step: '#7f8c8d',
  failure: '#c0392b',
  alarm: '#d35400',
  checkpoint: '#8e44ad',
  bake: '#b7950b',
  traffic: '#117a65',
  rollback: '#a04000',
  warning: '#d68910',
  done: '#1e8449',
};

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1000px;padding:16px 24px;color:#1c2833}
h1{font-size:20px;margin:0 0 4px} h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d5d8dc} h3{font-size:15px;margin:18px 0 6px}
.outcome{display:inline-block;padding:2px 10px;border-radius:4px;color:#fff;font-weight:600}
.outcome.done{background:#1e8449}.outcome.failed{background:#c0392b}.outcome.interrupted{background:#d68910}
.muted{color:#5d6d7e} table{border-collapse:collapse;width:100%;font-size:13px} th,td{text-align:left;padding:3px 6px;border-bottom:1px solid #eaeded;vertical-align:top}
td.num,th.num{text-align:right;white-space:nowrap} tr.warn td{background:#fef9e7} tr.error td{background:#fdedec}
svg text{font:11px system-ui,sans-serif;fill:#5d6d7e} .legend span{margin-right:14px} .swatch{display:inline-block;width:12px;height:3px;vertical-align:middle;margin-right:4px}
.bar{display:inline-block;height:10px;background:#5d6d7e;vertical-align:middle} .bar.open{background:#d68910}
#filter{width:320px;padding:4px} pre{white-space:pre-wrap;margin:0;font:12px ui-monospace,monospace}
`;

/** The filter: text matches code or message (case-insensitive), the level select narrows further. */
const SCRIPT = `
(function(){
  var f=document.getElementById('filter'), l=document.getElementById('level'), n=document.getElementById('shown');
  var rows=[].slice.call(document.querySelectorAll('#events tbody tr'));
  function apply(){
    var q=f.value.toLowerCase(), lv=l.value, shown=0;
    rows.forEach(function(r){
      var ok=(!q||r.textContent.toLowerCase().indexOf(q)>=0)&&(!lv||r.getAttribute('data-level')===lv);
      r.hidden=!ok; if(ok) shown++;
    });
    n.textContent=shown+' of '+rows.length+' events';
  }
  f.addEventListener('input',apply); l.addEventListener('change',apply); apply();
})();
`;

/** The whole page. */
export function renderReport(input: ReportInput): string {
  const timelines = buildTimelines(input.events);
  const first = input.events.length ? Date.parse(input.events[0].time) : 0;
  const last = input.events.length ? Date.parse(input.events[input.events.length - 1].time) : first;
  const title = `asg-deploy ${input.command}${input.dryRun ? ' --dry-run' : ''}: ${input.outcome}`;
  const parts: string[] = [];
  parts.push(`<h1>${esc(title)}</h1>`);
  parts.push(
    `<p><span class="outcome ${input.outcome}" id="outcome" data-outcome="${input.outcome}">${esc(input.outcome)}</span> exit ${input.exit}` +
      ` · ${esc(new Date(first).toISOString())} → ${esc(new Date(last).toISOString())} (${formatDuration((last - first) / 1000)})` +
      ` · ${input.calls.length} API calls${input.simulated ? ' · <strong>SIMULATION</strong> (embedded simulated AWS, simulated time)' : ''}</p>`,
  );
  if (input.error) parts.push(`<p id="error"><strong>${esc(input.error.code)}</strong>: ${esc(input.error.message)}</p>`);
  parts.push(predictionSection(input.events));
  parts.push(summarySection(input.events, timelines));
  for (const tl of timelines) parts.push(groupSection(input.stepLimitSeconds === undefined ? tl : { ...tl, steps: tl.steps.map((s) => ({ ...s, limitSeconds: s.limitSeconds ?? input.stepLimitSeconds })) }));
  parts.push(callsSection(input.calls, first, last));
  parts.push(eventsSection(input.events, first));
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    // Nothing may be fetched: styles and the filter script are inline, images none.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(title)}</title><style>${CSS}</style></head><body>`,
    ...parts,
    `<script>${SCRIPT}</script>`,
    '</body></html>',
    '',
  ].join('\n');
}

/** A rehearsal's prediction (its `rehearse.result` event, commands/rehearse.ts); nothing for other runs. */
function predictionSection(events: readonly DeployEvent[]): string {
  const r = [...events].reverse().find((e) => e.code === 'rehearse.result');
  if (!r) return '';
  const d = r.data as { outcome?: string; exit?: number; seconds?: number; apiCalls?: number; invariantsHeld?: boolean; faults?: string[]; groups?: Array<Record<string, unknown>> };
  const head = '<tr><th>group</th><th>strategy</th><th>result</th><th class="num">duration</th><th class="num">API calls</th><th class="num">lowest healthy</th><th class="num">floor</th><th>invariants</th></tr>';
  const rows = (d.groups ?? []).map((g) =>
    row([g.group, g.strategy, g.outcome, g.seconds === undefined ? '-' : formatDuration(Number(g.seconds)), g.apiCalls ?? '-', g.lowestHealthy, g.floor, g.held ? 'held' : 'BROKEN']),
  );
  return (
    `<h2>Prediction (rehearsal on a simulated AWS)</h2><p id="prediction" data-outcome="${esc(d.outcome)}" data-invariants="${d.invariantsHeld ? 'held' : 'broken'}">` +
    `Under <strong>${esc((d.faults ?? []).join(', '))}</strong> the run would <strong>${esc(d.outcome === 'done' ? 'succeed' : d.outcome === 'failed' ? 'FAIL' : 'be interrupted')}</strong> (exit ${esc(d.exit)}) ` +
    `in ${formatDuration(Number(d.seconds) || 0)} (simulated) with ${esc(d.apiCalls)} API calls; the safety invariants <strong>${d.invariantsHeld ? 'held' : 'were BROKEN'}</strong>.</p>` +
    `<table id="prediction-groups"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`
  );
}

function summarySection(events: readonly DeployEvent[], timelines: GroupTimeline[]): string {
  const summary = [...events].reverse().find((e) => e.code === 'deploy.summary');
  const rows = Array.isArray(summary?.data.rows) ? (summary!.data.rows as Array<Record<string, unknown>>) : undefined;
  const head = '<tr><th>service</th><th>strategy</th><th>target</th><th class="num">replaced</th><th class="num">duration</th><th class="num">API calls</th><th>lowest healthy / floor</th><th>result</th></tr>';
  const body = rows
    ? rows.map((r) => {
        const tl = timelines.find((t) => t.service === r.service);
        return row([r.service, r.strategy, r.target, r.replaced, formatDuration(Number(r.seconds) || 0), r.apiCalls, tl ? floorText(tl) : '-', r.detail ? `${r.result}: ${r.detail}` : r.result]);
      })
    : timelines.map((tl) =>
        row([tl.service ?? '-', tl.strategy, tl.key, replacedCount(tl), formatDuration(tl.seconds ?? (tl.end - tl.start) / 1000), tl.apiCalls ?? '-', floorText(tl), tl.detail ? `${tl.outcome}: ${tl.detail.split('\n')[0]}` : tl.outcome]),
      );
  const empty = body.length ? '' : '<p class="muted">No rollout ran (no rollout.plan event).</p>';
  return `<h2>Summary</h2><table id="summary"><thead>${head}</thead><tbody>${body.join('')}</tbody></table>${empty}`;
}

function replacedCount(tl: GroupTimeline): number {
  const last = tl.points[tl.points.length - 1];
  const first = tl.points[0];
  return first && last ? Math.max(0, first.outdated - last.outdated) : 0;
}

function floorText(tl: GroupTimeline): string {
  return `${tl.lowestHealthy} / ${tl.floor ?? '-'}${tl.floor !== undefined && tl.lowestHealthy < tl.floor ? ' (below!)' : ''}`;
}

function row(cells: unknown[]): string {
  return `<tr>${cells.map((c) => `<td${typeof c === 'number' ? ' class="num"' : ''}>${esc(c ?? '-')}</td>`).join('')}</tr>`;
}

function groupSection(tl: GroupTimeline): string {
  const lay = layoutTimeline(tl);
  const name = tl.service ? `${tl.service}: ${tl.key}` : tl.key;
  const legend =
    `<p class="legend">${lay.series.map((s) => `<span><i class="swatch" style="background:${COLORS[s.name]}"></i>${esc(s.label)}</span>`).join('')}` +
    (lay.floor ? `<span><i class="swatch" style="background:#000"></i>min healthy (${lay.floor.value})</span>` : '') +
    `<span class="muted">lowest healthy: ${tl.lowestHealthy}</span></p>`;
  return [
    `<section class="group" data-group="${esc(tl.key)}" data-strategy="${tl.strategy}" data-outcome="${tl.outcome}">`,
    `<h2>${esc(name)} <span class="muted">(${tl.strategy}${tl.strategy === 'ab' ? `: ${esc(tl.groups.join(' → '))}` : ''}, ${esc(tl.outcome)})</span></h2>`,
    legend,
    timelineSvg(tl, lay),
    weightsSvg(tl),
    stepsTable(tl),
    '</section>',
  ].join('\n');
}

function timelineSvg(tl: GroupTimeline, lay: TimelineLayout): string {
  const { box, plot } = lay;
  const out: string[] = [];
  out.push(`<svg class="timeline" role="img" aria-label="${esc(`${tl.key}: instances over time`)}" width="${box.width}" height="${box.height}" viewBox="0 0 ${box.width} ${box.height}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(`<rect x="${plot.x0}" y="${plot.y0}" width="${plot.x1 - plot.x0}" height="${plot.y1 - plot.y0}" fill="#fbfcfc" stroke="#d5d8dc"/>`);
  for (const t of lay.yTicks) out.push(`<line x1="${plot.x0}" x2="${plot.x1}" y1="${t.at}" y2="${t.at}" stroke="#eaeded"/><text x="${plot.x0 - 6}" y="${t.at + 4}" text-anchor="end">${esc(t.label)}</text>`);
  lay.xTicks.forEach((t, i) => out.push(`<text x="${t.at}" y="${plot.y1 + 16}" text-anchor="${anchor(i, lay.xTicks.length)}">${esc(t.label)}</text>`));
  for (const m of lay.markers) {
    out.push(`<line class="marker" data-kind="${m.kind}" x1="${m.x}" x2="${m.x}" y1="${plot.y0}" y2="${plot.y1}" stroke="${MARKER_COLORS[m.kind] ?? '#7f8c8d'}" stroke-dasharray="${m.kind === 'step' ? '2,3' : '5,2'}"><title>${esc(m.label)}</title></line>`);
  }
  if (lay.floor) out.push(`<line class="floor" data-value="${lay.floor.value}" x1="${plot.x0}" x2="${plot.x1}" y1="${lay.floor.y}" y2="${lay.floor.y}" stroke="#000" stroke-width="1.5" stroke-dasharray="6,3"><title>min healthy ${lay.floor.value}</title></line>`);
  lay.series.forEach((s, i) => {
    // A small vertical offset per series keeps equal lines apart.
    const dy = (i - 1) * 1.5;
    const pts = s.vertices.map(([x, y]) => `${x},${Math.round((y + dy) * 10) / 10}`).join(' ');
    out.push(`<polyline class="series" data-series="${s.name}" data-points="${s.values.length}" data-values="${s.values.join(',')}" fill="none" stroke="${COLORS[s.name]}" stroke-width="2" points="${pts}"><title>${esc(s.label)}</title></polyline>`);
  });
  out.push('</svg>');
  return out.join('');
}

/**
 * One group's timeline as a standalone SVG image (docs/img/, `npm run bench`): the page's chart
 * with its legend and a title drawn in, its own font and a white background — nothing else
 * needed to show it in a markdown page. Deterministic: the same events give the same bytes.
 */
export function timelineImage(tl: GroupTimeline, title: string): string {
  const lay = layoutTimeline(tl);
  const { width, height } = lay.box;
  const legendY = 36;
  const items: string[] = [];
  let x = 8;
  const item = (color: string, label: string, dashed = false) => {
    items.push(`<line x1="${x}" x2="${x + 14}" y1="${legendY - 4}" y2="${legendY - 4}" stroke="${color}" stroke-width="2"${dashed ? ' stroke-dasharray="4,2"' : ''}/><text x="${x + 18}" y="${legendY}">${esc(label)}</text>`);
    x += 26 + label.length * 6;
  };
  for (const s of lay.series) item(COLORS[s.name], s.label);
  if (lay.floor) item('#000', `min healthy (${lay.floor.value})`, true);
  const chart = timelineSvg(tl, lay).replace('<svg class="timeline"', `<svg y="${legendY + 8}" class="timeline"`);
  const total = height + legendY + 8;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${total}" viewBox="0 0 ${width} ${total}">`,
    '<style>text{font:11px system-ui,-apple-system,"Segoe UI",sans-serif;fill:#5d6d7e} .title{font-size:13px;font-weight:600;fill:#1c2833}</style>',
    `<rect width="${width}" height="${total}" fill="#fff"/>`,
    `<text class="title" x="8" y="16">${esc(title)}</text>`,
    ...items,
    chart,
    '</svg>',
    '',
  ].join('\n');
}

const WEIGHT_COLORS = ['#117a65', '#884ea0', '#b9770e', '#2e4053'];
const WEIGHT_BOX = { width: 760, height: 110, left: 40, right: 16, top: 10, bottom: 22 };

/** Traffic shares per color (from `traffic.shift`), under the instances chart on the same time axis; nothing when none. */
function weightsSvg(tl: GroupTimeline): string {
  if (!tl.weights?.length) return '';
  const { lines, yTicks } = layoutWeights(tl, WEIGHT_BOX);
  const b = WEIGHT_BOX;
  const out: string[] = [`<p class="legend">traffic weights: ${lines.map((l, i) => `<span><i class="swatch" style="background:${WEIGHT_COLORS[i % WEIGHT_COLORS.length]}"></i>${esc(l.name)}</span>`).join('')}</p>`];
  out.push(`<svg class="weights" role="img" aria-label="${esc(`${tl.key}: traffic weights over time`)}" width="${b.width}" height="${b.height}" viewBox="0 0 ${b.width} ${b.height}" xmlns="http://www.w3.org/2000/svg">`);
  out.push(`<rect x="${b.left}" y="${b.top}" width="${b.width - b.left - b.right}" height="${b.height - b.top - b.bottom}" fill="#fbfcfc" stroke="#d5d8dc"/>`);
  for (const t of yTicks) out.push(`<line x1="${b.left}" x2="${b.width - b.right}" y1="${t.at}" y2="${t.at}" stroke="#eaeded"/><text x="${b.left - 6}" y="${t.at + 4}" text-anchor="end">${esc(t.label)}</text>`);
  lines.forEach((l, i) => {
    const pts = l.vertices.map(([x, y]) => `${x},${y}`).join(' ');
    out.push(`<polyline class="weight" data-series="${esc(l.name)}" data-points="${l.values.length}" data-values="${l.values.join(',')}" fill="none" stroke="${WEIGHT_COLORS[i % WEIGHT_COLORS.length]}" stroke-width="2" points="${pts}"><title>${esc(l.name)}</title></polyline>`);
  });
  out.push('</svg>');
  return out.join('');
}

/** The first tick's label starts at it, the last ends at it (inside the picture), the others are centred. */
const anchor = (i: number, n: number) => (i === 0 ? 'start' : i === n - 1 ? 'end' : 'middle');

function stepsTable(tl: GroupTimeline): string {
  if (!tl.steps.length) return `<p class="muted">${tl.dryRun ? 'Dry run: planned, nothing changed.' : 'No step started.'}</p>`;
  // The physical limit (the least a step can take) only when an event carries it (limitSeconds).
  const limits = tl.steps.some((s) => s.limitSeconds !== undefined);
  const longest = Math.max(1, ...tl.steps.map((s) => Math.max(s.seconds, s.limitSeconds ?? 0)));
  const rows = tl.steps.map((s) => {
    const width = Math.round((s.seconds / longest) * 240);
    const limit = limits ? `<td class="num">${s.limitSeconds === undefined ? '-' : formatDuration(s.limitSeconds)}</td>` : '';
    return `<tr class="step" data-seconds="${s.seconds}"><td class="num">${s.index}</td><td>${esc(s.what)}</td><td class="num">${formatDuration(s.seconds)}${s.end === undefined ? ' (unfinished)' : ''}</td>${limit}<td><i class="bar${s.end === undefined ? ' open' : ''}" style="width:${width}px"></i></td></tr>`;
  });
  const head = `<tr><th class="num">#</th><th>step</th><th class="num">duration</th>${limits ? '<th class="num">physical limit</th>' : ''}<th></th></tr>`;
  return `<h3>Steps</h3><table class="steps"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

function callsSection(calls: readonly ApiCall[], first: number, last: number): string {
  if (!calls.length) return '<h2>API calls</h2><p class="muted">No AWS API call was made.</p>';
  const start = Math.min(first, ...calls.map((c) => c.t));
  const end = Math.max(last, ...calls.map((c) => c.t));
  const { bars, yTicks, xTicks } = layoutBars(
    calls.map((c) => c.t),
    start,
    end,
    40,
    { width: 760, height: 140, left: 40, right: 16, top: 10, bottom: 26 },
  );
  const svg: string[] = [`<svg class="calls" role="img" aria-label="API calls over time" width="760" height="140" viewBox="0 0 760 140" xmlns="http://www.w3.org/2000/svg">`];
  for (const t of yTicks) svg.push(`<line x1="40" x2="744" y1="${t.at}" y2="${t.at}" stroke="#eaeded"/><text x="34" y="${t.at + 4}" text-anchor="end">${esc(t.label)}</text>`);
  xTicks.forEach((t, i) => svg.push(`<text x="${t.at}" y="130" text-anchor="${anchor(i, xTicks.length)}">${esc(t.label)}</text>`));
  for (const b of bars) if (b.count) svg.push(`<rect class="calls-bar" data-count="${b.count}" x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" fill="#5d6d7e"><title>${b.count} call(s) from ${formatDuration(b.from)}</title></rect>`);
  svg.push('</svg>');
  const byOp = new Map<string, number>();
  for (const c of calls) byOp.set(`${c.service} ${c.operation}`, (byOp.get(`${c.service} ${c.operation}`) ?? 0) + 1);
  const ops = [...byOp.entries()].sort((a, b) => b[1] - a[1]).map(([op, n]) => row([op, n]));
  return `<h2>API calls</h2><p>${calls.length} calls over ${formatDuration((end - start) / 1000)}.</p>${svg.join('')}<table id="operations"><thead><tr><th>operation</th><th class="num">calls</th></tr></thead><tbody>${ops.join('')}</tbody></table>`;
}

function eventsSection(events: readonly DeployEvent[], first: number): string {
  const rows = events.map(
    (e) =>
      `<tr class="${e.level}" data-level="${e.level}" data-code="${esc(e.code)}"><td class="num">${formatDuration((Date.parse(e.time) - first) / 1000)}</td><td>${esc(e.level)}</td><td>${esc(e.code)}</td><td><pre>${esc(e.message)}</pre></td></tr>`,
  );
  return [
    '<h2>Events</h2>',
    `<p><input id="filter" type="search" placeholder="filter: code or words (e.g. instance.terminate)"> <select id="level"><option value="">all levels</option><option>info</option><option>warn</option><option>error</option></select> <span id="shown" class="muted">${events.length} of ${events.length} events</span></p>`,
    `<table id="events"><thead><tr><th class="num">at</th><th>level</th><th>code</th><th>message</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
  ].join('\n');
}
