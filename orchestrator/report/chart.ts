/**
 * Chart layout for the HTML report: pure functions from a timeline (report/timeline.ts) to SVG
 * geometry in pixels. No charting library: three step lines, a floor line, markers and bars
 * are a few dozen lines, and a hand-drawn SVG needs nothing at view time (the report opens
 * offline from a CI artifact). html.ts turns the geometry into markup.
 *
 * Worked example: a plot 0..600 px wide for a rollout from t=0 to t=60 s puts t=15 s at
 * x = left + 150; with values up to 4 (and the floor 2) the y axis runs 0..5, so the floor
 * sits at top + plotHeight × (1 − 2/5).
 */
import type { GroupTimeline, Marker, TimelinePoint } from './timeline';
import { formatDuration } from './summary';

export interface Box {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
}

export const DEFAULT_BOX: Box = { width: 760, height: 240, left: 40, right: 16, top: 14, bottom: 28 };

export type SeriesName = 'outdated' | 'upToDate' | 'healthy';

export const SERIES: ReadonlyArray<{ name: SeriesName; label: string }> = [
  { name: 'outdated', label: 'outdated' },
  { name: 'upToDate', label: 'up-to-date' },
  { name: 'healthy', label: 'healthy, serving' },
];

export interface LaidSeries {
  name: SeriesName;
  label: string;
  /** The data points (one per change of the counts). */
  values: number[];
  /** The step line's vertices: each value held until the next point's time (2 per data point). */
  vertices: Array<[number, number]>;
}

export interface Tick {
  at: number;
  label: string;
}

export interface TimelineLayout {
  box: Box;
  plot: { x0: number; x1: number; y0: number; y1: number };
  series: LaidSeries[];
  floor?: { y: number; value: number };
  markers: Array<{ x: number; kind: Marker['kind']; label: string }>;
  xTicks: Tick[];
  yTicks: Tick[];
  /** The largest count drawn (the y axis runs 0..yMax). */
  yMax: number;
}

const round = (n: number) => Math.round(n * 10) / 10;

/** x (px) for a time, y (px) for a count, over a plot spanning [start, end] and [0, yMax]. */
export function scales(box: Box, start: number, end: number, yMax: number): { x(t: number): number; y(v: number): number } {
  const span = Math.max(end - start, 1000);
  const w = box.width - box.left - box.right;
  const h = box.height - box.top - box.bottom;
  return {
    x: (t) => round(box.left + (w * (t - start)) / span),
    y: (v) => round(box.top + h * (1 - v / yMax)),
  };
}

/** Lays out one group's timeline: step lines for the three counts, the floor, the markers. */
export function layoutTimeline(tl: GroupTimeline, box: Box = DEFAULT_BOX): TimelineLayout {
  const points = tl.points;
  const highest = Math.max(0, tl.floor ?? 0, ...points.flatMap((p) => [p.outdated, p.upToDate, p.healthy]));
  const yMax = highest + 1;
  const end = Math.max(tl.end, tl.start + 1000);
  const { x, y } = scales(box, tl.start, end, yMax);
  const series = SERIES.map(({ name, label }): LaidSeries => {
    const values = points.map((p) => p[name]);
    return { name, label, values, vertices: stepVertices(points, name, end).map(([t, v]) => [x(t), y(v)]) };
  });
  const yStep = Math.max(1, Math.ceil(yMax / 5));
  const yTicks: Tick[] = [];
  for (let v = 0; v <= yMax; v += yStep) yTicks.push({ at: y(v), label: String(v) });
  const xTicks: Tick[] = [];
  const span = end - tl.start;
  for (let i = 0; i <= 4; i++) xTicks.push({ at: x(tl.start + (span * i) / 4), label: formatDuration((span * i) / 4 / 1000) });
  return {
    box,
    plot: { x0: box.left, x1: box.width - box.right, y0: box.top, y1: box.height - box.bottom },
    series,
    floor: tl.floor === undefined ? undefined : { y: y(tl.floor), value: tl.floor },
    markers: tl.markers.map((m) => ({ x: x(m.t), kind: m.kind, label: m.label })),
    xTicks,
    yTicks,
    yMax,
  };
}

/** Step-line vertices in data units: (t0,v0) (t1,v0) (t1,v1) (t2,v1) … (tn−1,vn−1) (end,vn−1). */
export function stepVertices(points: readonly TimelinePoint[], name: SeriesName, end: number): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  points.forEach((p, i) => {
    const next = i + 1 < points.length ? points[i + 1].t : Math.max(end, p.t);
    out.push([p.t, p[name]], [next, p[name]]);
  });
  return out;
}

export interface LaidWeight {
  /** The color (group or target group). */
  name: string;
  /** Its share (percent) at each shift. */
  values: number[];
  vertices: Array<[number, number]>;
}

/**
 * Traffic shares per color over the rollout (from `traffic.shift`): a step line per color on a
 * 0..100 % axis, each share held from its shift to the next (before the first shift nothing is
 * drawn: the weights are unknown). Example: shares {a: 100} at 0 s and {a: 0, b: 100} at 30 s
 * over 0..60 s → a: (0,100)(30,100)(30,0)(60,0); b: (30,100)(60,100) — b starts at its first shift.
 */
export function layoutWeights(tl: GroupTimeline, box: Box): { lines: LaidWeight[]; yTicks: Tick[] } {
  const end = Math.max(tl.end, tl.start + 1000);
  const { x, y } = scales(box, tl.start, end, 100);
  const weights = tl.weights ?? [];
  const names = [...new Set(weights.flatMap((w) => Object.keys(w.shares)))].sort();
  const lines = names.map((name): LaidWeight => {
    const pts = weights.map((w, i) => ({ t: w.t, v: w.shares[name], next: i + 1 < weights.length ? weights[i + 1].t : end }));
    const known = pts.filter((p) => p.v !== undefined);
    const vertices: Array<[number, number]> = [];
    for (const p of pts) if (p.v !== undefined) vertices.push([x(p.t), y(p.v)], [x(Math.max(p.next, p.t)), y(p.v)]);
    return { name, values: known.map((p) => p.v!), vertices };
  });
  return { lines, yTicks: [0, 50, 100].map((v) => ({ at: y(v), label: `${v}%` })) };
}

export interface Bar {
  x: number;
  y: number;
  width: number;
  height: number;
  count: number;
  /** Seconds from the start to the bucket's start. */
  from: number;
}

/**
 * API calls over time: `times` (ms) counted into `buckets` equal slices of [start, end].
 * Example: calls at 0, 1, 59 s over 0..60 s in 2 buckets → counts [2, 1].
 */
export function layoutBars(times: readonly number[], start: number, end: number, buckets: number, box: Box = DEFAULT_BOX): { bars: Bar[]; yMax: number; yTicks: Tick[]; xTicks: Tick[] } {
  const span = Math.max(end - start, 1000);
  const counts = new Array<number>(buckets).fill(0);
  for (const t of times) counts[Math.min(buckets - 1, Math.max(0, Math.floor(((t - start) / span) * buckets)))]++;
  const yMax = Math.max(1, ...counts);
  const { x, y } = scales(box, start, start + span, yMax);
  const bars = counts.map((count, i): Bar => {
    const x0 = x(start + (span * i) / buckets);
    const x1 = x(start + (span * (i + 1)) / buckets);
    return { x: x0, y: y(count), width: round(Math.max(1, x1 - x0 - 1)), height: round(y(0) - y(count)), count, from: (span * i) / buckets / 1000 };
  });
  const yStep = Math.max(1, Math.ceil(yMax / 4));
  const yTicks: Tick[] = [];
  for (let v = 0; v <= yMax; v += yStep) yTicks.push({ at: y(v), label: String(v) });
  const xTicks: Tick[] = [];
  for (let i = 0; i <= 4; i++) xTicks.push({ at: x(start + (span * i) / 4), label: formatDuration((span * i) / 4 / 1000) });
  return { bars, yMax, yTicks, xTicks };
}
