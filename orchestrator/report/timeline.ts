/**
 * The story of each rollout in a run, derived from the coded event stream alone (docs/reference.md
 * "JSON events"): per group (a rolling group, or an A/B environment) the count of outdated,
 * up-to-date and healthy-serving instances over time against the min-healthy floor, the steps
 * and their durations, and markers (steps, failures, alarms, checkpoints, bakes, traffic).
 * Pure: events in, a model out; `--report` (report/html.ts) draws it.
 *
 * How the counts are derived (no per-poll event is needed):
 *   rolling  `rollout.plan` gives capacity, minHealthy, the outdated instances (`order`, with their
 *            health) and the batches; `instance.launch` adds an up-to-date instance (not yet
 *            healthy), `instance.healthy` makes it serve, `instance.terminate` takes one away.
 *   A/B      `rollout.plan` gives from/to and the new color's count: the active color's instances
 *            are the outdated ones (all serving; `fromCount` of them, else as many as the new count
 *            or as were terminated when more), the new color's launches are up-to-date; the floor is the
 *            active color's count (docs/design.md, safety invariant 1).
 * Worked example (rolling, capacity 3, surge 1, min healthy 2): plan → (out 3, new 0, healthy 3);
 * launch → (3, 1, 3); healthy → (3, 1, 4); terminate → (2, 1, 3); ... → (0, 3, 3).
 */
import type { DeployEvent } from './reporter';

export interface TimelinePoint {
  /** ms since the epoch (the event's time: simulated time in the sandbox). */
  t: number;
  outdated: number;
  upToDate: number;
  healthy: number;
}

export type MarkerKind = 'step' | 'failure' | 'alarm' | 'checkpoint' | 'bake' | 'traffic' | 'rollback' | 'warning' | 'done';

export interface Marker {
  t: number;
  kind: MarkerKind;
  label: string;
}

export interface Step {
  /** 1-based, as the plan numbers them. */
  index: number;
  start: number;
  /** Undefined when the step never finished (the rollout failed or was interrupted in it). */
  end?: number;
  seconds: number;
  what: string;
  /** The least this step could take, when an event carries it (`limitSeconds`); else undefined. */
  limitSeconds?: number;
}

/**
 * `traffic.shift` {environment | asg | service, weights}: the load balancer's forward weights
 * after a shift (A/B on target groups). `weights` is a map color (group or target-group name) →
 * weight, or a list of {name | color | asg | targetGroup | targetGroupArn, weight}; weights are
 * relative (the timeline keeps each color's share in percent). Documented in docs/report.md.
 */
export interface TrafficShiftData {
  environment?: string;
  asg?: string;
  service?: string;
  weights: Record<string, number> | Array<{ name?: string; color?: string; asg?: string; targetGroup?: string; targetGroupArn?: string; weight: number }>;
}

/** Each color's share of the traffic (percent, summing to 100) from time `t` on. */
export interface WeightPoint {
  t: number;
  shares: Record<string, number>;
}

/** A `traffic.shift` event's weights as shares in percent (undefined when it carries none). */
export function trafficShares(data: Record<string, unknown>): Record<string, number> | undefined {
  const w = (data as Partial<TrafficShiftData>).weights;
  let pairs: Array<[string, number]> = [];
  if (Array.isArray(w)) pairs = w.map((x) => [String(x.name ?? x.color ?? x.asg ?? x.targetGroup ?? x.targetGroupArn ?? '?'), Number(x.weight)]);
  else if (w && typeof w === 'object') pairs = Object.entries(w).map(([k, v]) => [k, Number(v)]);
  pairs = pairs.filter(([, v]) => Number.isFinite(v) && v >= 0);
  if (!pairs.length) return undefined;
  const total = pairs.reduce((n, [, v]) => n + v, 0);
  return Object.fromEntries(pairs.map(([k, v]) => [k, total > 0 ? Math.round((v / total) * 1000) / 10 : 0]));
}

export interface GroupTimeline {
  /** The group (rolling) or environment (A/B). */
  key: string;
  service?: string;
  strategy: 'rolling' | 'ab';
  /** Groups whose events belong here (A/B: both colors). */
  groups: string[];
  floor?: number;
  dryRun: boolean;
  start: number;
  end: number;
  points: TimelinePoint[];
  markers: Marker[];
  steps: Step[];
  /** Traffic shares per color over time, from `traffic.shift` events (empty: none emitted). */
  weights?: WeightPoint[];
  lowestHealthy: number;
  /** done | noop | planned (dry run) | failed | interrupted | running (no final event: the run stopped before one). */
  outcome: 'done' | 'noop' | 'planned' | 'failed' | 'interrupted' | 'running';
  seconds?: number;
  apiCalls?: number;
  /** The final event's message (rollout.done / rollout.failed). */
  detail?: string;
}

/** Marker kinds by code; other codes of these families are markers too (markerKind). */
const MARKER_CODES: Record<string, MarkerKind> = {
  'rollout.failed': 'failure',
  'alarm.state': 'alarm',
  'rollout.checkpoint': 'checkpoint',
  'rollout.bake': 'bake',
  'traffic.shift': 'traffic',
  'rollout.rollback': 'rollback',
  'ab.rolled-back': 'rollback',
  'rollout.done': 'done',
};

/**
 * The marker an event draws: its code's kind, else by family — `*.checkpoint`, `*.bake`,
 * `alarm.*`, `traffic.*`, `*.rollback`/`*.rolled-back` — so events added later (a canary's
 * checkpoint, a bake, an alarm's halt) show without a change here; else errors and warnings.
 */
export function markerKind(code: string, level: string): MarkerKind | undefined {
  const known = MARKER_CODES[code];
  if (known) return known;
  if (/(^|\.)checkpoint(\.|$)/.test(code)) return 'checkpoint';
  if (/(^|\.)bake(\.|$)/.test(code)) return 'bake';
  if (/^alarm\./.test(code)) return 'alarm';
  if (/^traffic\./.test(code)) return 'traffic';
  if (/(^|\.)(rollback|rolled-back)$/.test(code)) return 'rollback';
  return level === 'error' ? 'failure' : level === 'warn' ? 'warning' : undefined;
}

interface Tracked {
  fresh: boolean;
  healthy: boolean;
}

interface Building {
  tl: GroupTimeline;
  instances: Map<string, Tracked>;
  /** Up-to-date instances present before the rollout (rolling: capacity − outdated), unnamed. */
  baseFresh: number;
  /** Rolling batches / A/B step targets, to close steps. */
  batches: string[][];
  terminated: Set<string>;
  /** Planned (outdated) instances terminated so far, in order: a batch's step names what it really replaced. */
  replacedOrder: string[];
  healthyNew: number;
  abFrom?: string;
  abTo?: string;
  openStep?: Step;
  /** The open step's marker, relabelled when the step closes. */
  openMarker?: Marker;
  /** replacedOrder's length when the open step started. */
  openAt?: number;
  stepTarget?: { kind: 'batch'; k: number } | { kind: 'ab-up'; to: number } | { kind: 'ab-drain' };
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** One timeline per rollout in the stream, in the order their plans appear. */
export function buildTimelines(events: readonly DeployEvent[]): GroupTimeline[] {
  const out: Building[] = [];
  const byGroup = new Map<string, Building>();
  const byService = new Map<string, Building>();
  // A/B: the active color's instances terminated over the whole run (its size when larger than the plan's count).
  const terminatedBy = new Map<string, Set<string>>();
  for (const e of events) {
    const asg = str(e.data.asg);
    const id = str(e.data.instanceId);
    if (e.code === 'instance.terminate' && asg && id) {
      if (!terminatedBy.has(asg)) terminatedBy.set(asg, new Set());
      terminatedBy.get(asg)!.add(id);
    }
  }

  const owner = (e: DeployEvent): Building | undefined => {
    const asg = str(e.data.asg);
    if (asg && byGroup.has(asg)) return byGroup.get(asg);
    const env = str(e.data.environment) ?? str(e.data.target);
    if (env && byGroup.has(env)) return byGroup.get(env);
    const service = str(e.data.service);
    if (service) return byService.get(service);
    // roll/ab run one rollout: events without a group name (rollout.wait) are its.
    return out.length === 1 ? out[0] : undefined;
  };

  for (const e of events) {
    const t = Date.parse(e.time);
    if (e.code === 'rollout.plan') {
      const b = planned(e, t, terminatedBy);
      if (!b) continue;
      out.push(b);
      for (const g of [b.tl.key, ...b.tl.groups]) byGroup.set(g, b);
      if (b.tl.service) byService.set(b.tl.service, b);
      continue;
    }
    const b = owner(e);
    if (!b) continue;
    apply(b, e, t);
  }
  return out.map((b) => finish(b));
}

function planned(e: DeployEvent, t: number, terminatedBy: Map<string, Set<string>>): Building | undefined {
  const d = e.data;
  const service = str(d.service);
  const dryRun = d.dryRun === true;
  const base = { service, dryRun, start: t, end: t, markers: [], steps: [], weights: [], outcome: (dryRun ? 'planned' : 'running') as GroupTimeline['outcome'] };
  const asg = str(d.asg);
  if (asg) {
    const order = Array.isArray(d.order) ? (d.order as Array<{ instanceId?: unknown; healthy?: unknown }>) : [];
    const capacity = num(d.capacity) ?? order.length;
    const instances = new Map<string, Tracked>();
    for (const o of order) if (str(o.instanceId)) instances.set(String(o.instanceId), { fresh: false, healthy: o.healthy !== false });
    const batches = Array.isArray(d.batches) ? (d.batches as unknown[]).map((b) => (Array.isArray(b) ? b.map(String) : [])) : order.map((o) => [String(o.instanceId)]);
    const b: Building = {
      tl: { ...base, key: asg, strategy: 'rolling', groups: [asg], floor: num(d.minHealthy), points: [], lowestHealthy: 0 },
      instances,
      baseFresh: Math.max(0, capacity - instances.size),
      batches,
      terminated: new Set(),
      replacedOrder: [],
      healthyNew: 0,
    };
    point(b, t);
    return b;
  }
  const env = str(d.environment);
  if (!env) return undefined;
  const from = str(d.from);
  const to = str(d.to);
  const count = num(d.count) ?? 0;
  const instances = new Map<string, Tracked>();
  // The active color's size: `fromCount` (its desired at the plan); older events lack it: the new count, or as many as were terminated when more.
  const fromCount = num(d.fromCount);
  const active = from ? (fromCount ?? Math.max(count, terminatedBy.get(from)?.size ?? 0)) : 0;
  // The active color's instances before any is named: placeholders, replaced by name as they are terminated.
  for (let i = 0; i < active; i++) instances.set(`${from}#${i}`, { fresh: false, healthy: true });
  const b: Building = {
    tl: { ...base, key: env, strategy: 'ab', groups: [from, to].filter((g): g is string => Boolean(g)), floor: from ? active : undefined, points: [], lowestHealthy: 0 },
    instances,
    baseFresh: 0,
    batches: [],
    terminated: new Set(),
    replacedOrder: [],
    healthyNew: 0,
    abFrom: from,
    abTo: to,
  };
  point(b, t);
  return b;
}

function counts(b: Building): Omit<TimelinePoint, 't'> {
  let outdated = 0;
  let upToDate = b.baseFresh;
  let healthy = b.baseFresh;
  for (const i of b.instances.values()) {
    if (i.fresh) upToDate++;
    else outdated++;
    if (i.healthy) healthy++;
  }
  return { outdated, upToDate, healthy };
}

/** Appends a point when the counts changed (a step chart needs only the changes). */
function point(b: Building, t: number): void {
  const c = counts(b);
  const last = b.tl.points[b.tl.points.length - 1];
  if (last && last.outdated === c.outdated && last.upToDate === c.upToDate && last.healthy === c.healthy) return;
  if (last && last.t === t) b.tl.points[b.tl.points.length - 1] = { t, ...c };
  else b.tl.points.push({ t, ...c });
}

function openStep(b: Building, t: number, what: string, target: Building['stepTarget']): void {
  closeStep(b, t);
  const step: Step = { index: b.tl.steps.length + 1, start: t, seconds: 0, what };
  b.tl.steps.push(step);
  b.openStep = step;
  b.stepTarget = target;
  b.openAt = b.replacedOrder.length;
  b.openMarker = { t, kind: 'step', label: `step ${step.index}: ${what}` };
  b.tl.markers.push(b.openMarker);
}

function closeStep(b: Building, t: number): void {
  const s = b.openStep;
  if (!s) return;
  s.end = t;
  s.seconds = (t - s.start) / 1000;
  // Rolling: name the instances the step really replaced (AWS may pick among equally old ones in another order than the plan listed).
  const replaced = b.stepTarget?.kind === 'batch' ? b.replacedOrder.slice(b.openAt ?? 0) : [];
  if (replaced.length) {
    s.what = `replace ${replaced.join(', ')}`;
    if (b.openMarker) b.openMarker.label = `step ${s.index}: ${s.what}`;
  }
  b.openStep = undefined;
  b.openMarker = undefined;
  b.stepTarget = undefined;
}

/**
 * Rolling: batch k is done when as many planned instances as batches 1..k hold are gone and as
 * many replacements serve. Counted, not named: among instances launched at the same moment the
 * order AWS terminates them in may differ from the plan's listing.
 */
function batchDone(b: Building, k: number): boolean {
  const needed = b.batches.slice(0, k + 1).reduce((n, batch) => n + batch.length, 0);
  return b.replacedOrder.length >= needed && b.healthyNew >= needed;
}

function apply(b: Building, e: DeployEvent, t: number): void {
  const d = e.data;
  const tl = b.tl;
  tl.end = Math.max(tl.end, t);
  const asg = str(d.asg);
  const id = str(d.instanceId);
  switch (e.code) {
    case 'group.scale': {
      const from = num(d.from) ?? 0;
      const to = num(d.to) ?? 0;
      if (tl.strategy === 'ab') {
        if (asg === b.abTo && to > from) openStep(b, t, `${asg} ${from} → ${to}`, { kind: 'ab-up', to });
        else if (asg === b.abFrom && to < from) openStep(b, t, `drain ${asg} ${from} → ${to}`, { kind: 'ab-drain' });
      } else if (!b.openStep) {
        const k = tl.steps.length;
        if (k < b.batches.length) openStep(b, t, `replace ${b.batches[k].join(', ')}`, { kind: 'batch', k });
      }
      break;
    }
    case 'instance.launch':
      if (id && !b.instances.has(id) && (tl.strategy === 'rolling' || asg === b.abTo)) b.instances.set(id, { fresh: true, healthy: false });
      break;
    case 'instance.healthy': {
      const i = id ? b.instances.get(id) : undefined;
      if (i && !i.healthy) {
        i.healthy = true;
        if (i.fresh) b.healthyNew++;
      } else if (!i && id) {
        b.instances.set(id, { fresh: true, healthy: true });
        b.healthyNew++;
      }
      break;
    }
    case 'instance.terminate': {
      if (!id) break;
      if (tl.strategy === 'rolling' && !b.openStep && tl.steps.length < b.batches.length) {
        // surge 0: the step starts with the termination.
        const k = tl.steps.length;
        openStep(b, t, `replace ${b.batches[k].join(', ')}`, { kind: 'batch', k });
      }
      b.terminated.add(id);
      if (b.instances.has(id) && !b.instances.get(id)!.fresh && !b.replacedOrder.includes(id)) b.replacedOrder.push(id);
      if (b.instances.has(id)) b.instances.delete(id);
      else if (tl.strategy === 'ab' && asg === b.abFrom) {
        const placeholder = [...b.instances.keys()].find((k) => k.startsWith(`${b.abFrom}#`));
        if (placeholder) b.instances.delete(placeholder);
      } else if (tl.strategy === 'rolling' && b.baseFresh > 0) b.baseFresh--;
      break;
    }
    case 'ab.drained':
      if (b.stepTarget?.kind === 'ab-drain') closeStep(b, t);
      break;
    case 'rollout.done': {
      tl.outcome = d.status === 'noop' ? 'noop' : d.status === 'planned' || tl.dryRun ? 'planned' : 'done';
      tl.seconds = num(d.seconds);
      tl.apiCalls = num(d.apiCalls);
      tl.detail = e.message;
      closeStep(b, t);
      break;
    }
    case 'rollout.failed':
      tl.outcome = e.level === 'warn' || d.interrupted === true ? 'interrupted' : 'failed';
      tl.seconds = num(d.seconds) ?? tl.seconds;
      tl.apiCalls = num(d.apiCalls) ?? tl.apiCalls;
      tl.detail = e.message;
      break;
  }
  point(b, t);
  // Close the step its event completed.
  const target = b.stepTarget;
  if (target?.kind === 'batch' && batchDone(b, target.k)) closeStep(b, t);
  else if (target?.kind === 'ab-up' && b.healthyNew >= target.to) closeStep(b, t);
  if (b.openStep && num(d.limitSeconds) !== undefined) b.openStep.limitSeconds = num(d.limitSeconds);
  if (e.code === 'traffic.shift') {
    const shares = trafficShares(d);
    if (shares) (tl.weights ??= []).push({ t, shares });
  }
  const kind = markerKind(e.code, e.level);
  if (kind) tl.markers.push({ t, kind, label: `${e.code}: ${e.message.split('\n')[0]}` });
}

function finish(b: Building): GroupTimeline {
  const tl = b.tl;
  const open = b.openStep;
  if (open) open.seconds = (tl.end - open.start) / 1000; // unfinished: as long as it ran
  tl.lowestHealthy = tl.points.reduce((m, p) => Math.min(m, p.healthy), Number.POSITIVE_INFINITY);
  if (!Number.isFinite(tl.lowestHealthy)) tl.lowestHealthy = 0;
  return tl;
}
