/**
 * A/B on ALB/NLB target groups (issue 14), pure: each color has its own target group behind the
 * same listener default action or rule — one weighted forward whose weights the orchestrator
 * owns. After the new color serves, its share of the traffic goes up the `--traffic-steps`
 * (default all at once: `100`), holding `--step-wait` at each step while it stays healthy; only
 * then is the old color drained. A failure or an interrupt before the drain shifts the weights
 * back at once (the old instances are still registered and healthy): an instant switch-back.
 *
 * Weights: for a step of s %, the new color's target group gets `s` and the old one `100 - s`
 * (AWS allows 0–999 per target group, TargetGroupTuple; ALB and NLB alike since NLB's weighted
 * target groups). A swap 10,50,100 on web-a (old) → web-b (new):
 *
 *   weights (a, b)   decision
 *   100, 0           b serves its count → shift 10 %: (90, 10)
 *   90, 10           held < step wait → wait; b short of its count → abort (switch back)
 *   90, 10           held ≥ step wait → shift 50 %: (50, 50)
 *   50, 50           held ≥ step wait → shift 100 %: (0, 100)
 *   0, 100           done → the floor moves, then a is drained
 *
 * No AWS, no clock: table-tested in test/ab/traffic.test.ts.
 */
import type { GroupSnapshot, TrafficForward } from '../../aws/port';
import { abort, done, wait, type Action } from '../action';
import { targetGroupName } from '../health/target-group';

/** `--traffic-steps` when not given: everything at once (the seed's switch). */
export const DEFAULT_TRAFFIC_STEPS: readonly number[] = [100];
/** `--step-wait` when steps are given without it. */
export const DEFAULT_STEP_WAIT_MS = 60_000;

/** What the swap needs to move traffic: the forwards and each color's target group. */
export interface TrafficPlan {
  kind: 'traffic';
  /** The listener default actions and rules forwarding to the colors' target groups. */
  forwards: Array<Pick<TrafficForward, 'kind' | 'arn'>>;
  /** The new color's target group. */
  toTg: string;
  /** The old color's target group (a first deploy has one too: the empty color's). */
  fromTg: string;
  /** Ascending percentages of traffic for the new color, the last 100. */
  steps: number[];
  stepWaitMs: number;
  /** 'application' | 'network', for messages. */
  lbType?: string;
}

/** A refusal of the planner: exit 2 (bad input) or 3 (AWS's state refuses). */
export interface TrafficRefusal {
  kind: 'refuse';
  exit: 2 | 3;
  code: string;
  message: string;
  data?: Record<string, unknown>;
}

function refuse(exit: 2 | 3, code: string, message: string, data?: Record<string, unknown>): TrafficRefusal {
  return { kind: 'refuse', exit, code, message, data };
}

/**
 * `--traffic-steps 10,50,100`: whole percentages 1–100, strictly ascending, the last 100 (all of
 * the traffic ends on the new color before the old one drains). Anything else: exit 2 naming it.
 * Examples: "10,50,100" → [10, 50, 100]; "100" → [100]; "50,10,100" / "10,50" / "0,100" → refused.
 */
export function parseTrafficSteps(text: unknown): number[] | TrafficRefusal {
  const raw = (Array.isArray(text) ? text : [text]).flatMap((x) => String(x).split(',')).map((x) => x.trim());
  const bad = (why: string) =>
    refuse(2, 'usage', `--traffic-steps ${raw.join(',')}: ${why}; expected whole percentages 1-100, ascending, ending at 100 (e.g. 10,50,100)`, {
      flag: '--traffic-steps',
      value: raw.join(','),
      allowed: 'ascending percentages 1-100 ending at 100',
    });
  if (raw.length === 0 || raw.some((x) => x === '')) return bad('an empty step');
  const steps: number[] = [];
  for (const x of raw) {
    if (!/^\d+$/.test(x)) return bad(`'${x}' is not a whole number`);
    const n = Number(x);
    if (n < 1 || n > 100) return bad(`${n} is outside 1-100`);
    if (steps.length && n <= steps[steps.length - 1]) return bad(`${n} does not come after ${steps[steps.length - 1]} (steps must ascend)`);
    steps.push(n);
  }
  if (steps[steps.length - 1] !== 100) return bad(`the last step is ${steps[steps.length - 1]}, not 100`);
  return steps;
}

/** The new color's share in one forward, 0–100 (rounded): w(to) / (w(to) + w(from)). */
export function shareOf(f: TrafficForward, toTg: string, fromTg: string): number {
  const t = f.weights[toTg] ?? 0;
  const o = f.weights[fromTg] ?? 0;
  return t + o === 0 ? 0 : Math.round((t / (t + o)) * 100);
}

/** The least share over the forwards: the step every forward has reached. */
export function currentShare(forwards: readonly TrafficForward[], toTg: string, fromTg: string): number {
  return forwards.length ? Math.min(...forwards.map((f) => shareOf(f, toTg, fromTg))) : 0;
}

/** The weights of a step of `share` % for the new color: {to: share, from: 100 - share}. */
export function weightsFor(share: number, toTg: string, fromTg: string): Record<string, number> {
  return { [toTg]: share, [fromTg]: 100 - share };
}

/**
 * The checks before a swap on target groups, and its traffic plan (or a refusal, nothing
 * changed). `to`/`from` are the new and the active color (`from` undefined on a first deploy:
 * `other` is the empty color whose target group shares the forward).
 *
 * Refused (exit 3, AWS's state): a color with no or several target groups, both colors on the
 * same target group, no forward naming the colors' target groups, a forward naming only one of
 * them (not weighted between them), a forward with a third target group carrying weight, both
 * colors at weight 0 (no valid split to start from).
 */
export function planTraffic(
  to: GroupSnapshot,
  other: GroupSnapshot,
  forwards: readonly TrafficForward[],
  o: { steps?: number[]; stepWaitMs?: number },
): TrafficPlan | TrafficRefusal {
  for (const g of [to, other]) {
    if (g.targetGroupARNs.length !== 1) {
      return refuse(3, 'target-groups-ambiguous', `${g.name} is attached to ${g.targetGroupARNs.length} target groups (${g.targetGroupARNs.map(targetGroupName).join(', ') || 'none'}); an A/B swap by weights needs exactly one per color (nothing was changed)`, {
        asg: g.name,
        targetGroups: g.targetGroupARNs,
      });
    }
  }
  const toTg = to.targetGroupARNs[0];
  const fromTg = other.targetGroupARNs[0];
  if (toTg === fromTg) {
    return refuse(3, 'target-group-shared', `${to.name} and ${other.name} are attached to the same target group ${targetGroupName(toTg)}: weights cannot tell the colors apart; give each color its own (<name>-a, <name>-b; nothing was changed)`, { targetGroup: toTg });
  }
  const mine = forwards.filter((f) => f.weights[toTg] !== undefined || f.weights[fromTg] !== undefined);
  if (mine.length === 0) {
    return refuse(3, 'no-weighted-forward', `no listener or rule forwards to ${targetGroupName(fromTg)} or ${targetGroupName(toTg)}: there is no traffic to shift (nothing was changed; the program declares the weighted forward)`, { targetGroups: [fromTg, toTg] });
  }
  for (const f of mine) {
    const names = Object.keys(f.weights);
    if (f.weights[toTg] === undefined || f.weights[fromTg] === undefined) {
      return refuse(3, 'forward-not-weighted', `${f.kind} ${f.arn} forwards to ${names.map(targetGroupName).join(', ')}, not to both colors' target groups (${targetGroupName(fromTg)}, ${targetGroupName(toTg)}): the swap shifts weights within one forward (nothing was changed)`, {
        forward: f.arn,
        targetGroups: names,
      });
    }
    const others = names.filter((n) => n !== toTg && n !== fromTg && f.weights[n] > 0);
    if (others.length) {
      return refuse(3, 'forward-not-weighted', `${f.kind} ${f.arn} also sends traffic to ${others.map(targetGroupName).join(', ')}: the swap owns the whole forward's weights (nothing was changed)`, { forward: f.arn, targetGroups: others });
    }
    if (f.weights[toTg] + f.weights[fromTg] === 0) {
      return refuse(3, 'weights-invalid', `${f.kind} ${f.arn}: ${targetGroupName(fromTg)} and ${targetGroupName(toTg)} both have weight 0 (the weights must sum to more than 0: nothing is served by weight now); set the active color's weight first (nothing was changed)`, {
        forward: f.arn,
        weights: f.weights,
      });
    }
  }
  return {
    kind: 'traffic',
    forwards: mine.map((f) => ({ kind: f.kind, arn: f.arn })),
    toTg,
    fromTg,
    steps: o.steps && o.steps.length ? [...o.steps] : [...DEFAULT_TRAFFIC_STEPS],
    stepWaitMs: o.steps && o.steps.length > 1 ? (o.stepWaitMs ?? DEFAULT_STEP_WAIT_MS) : 0,
    lbType: mine.map((f) => f.lbType).find(Boolean),
  };
}

/** "10 % → 50 % → 100 %, holding 2m at each" */
export function describeSteps(p: Pick<TrafficPlan, 'steps' | 'stepWaitMs'>): string {
  if (p.steps.length === 1) return 'all traffic at once';
  return `${p.steps.map((s) => `${s} %`).join(' → ')}, holding ${Math.round(p.stepWaitMs / 1000)} s at each while healthy`;
}

/** The set-weights action (every forward the same weights). */
export function setWeights(p: Pick<TrafficPlan, 'forwards' | 'toTg' | 'fromTg'>, share: number, from: number, reason: string): Action {
  return { kind: 'setWeights', forwards: p.forwards, weights: weightsFor(share, p.toTg, p.fromTg), share, from, reason };
}

/**
 * One turn of the traffic phase, once the new color serves its count (decideGrow done):
 *
 *   new color serving < count (after a shift began) → abort (the cleanup switches back at once)
 *   share 100 on every forward                      → done (drain the old color next)
 *   held at a step less than the step wait          → wait (the rest of the hold)
 *   otherwise                                       → set the next step's weights
 *
 * `heldSince`: when the current share was reached (this run's shift, or first seen at a resume).
 * Why abort when short: weight must never go to a target group with fewer healthy targets than
 * the plan requires (an ALB with no healthy target fails open and routes to all of them).
 */
export function decideTraffic(
  forwards: readonly TrafficForward[],
  plan: Pick<TrafficPlan, 'forwards' | 'toTg' | 'fromTg' | 'steps' | 'stepWaitMs'> & { count: number; to: string },
  serving: number,
  heldSince: number | undefined,
  now: number,
): Action {
  const share = currentShare(forwards, plan.toTg, plan.fromTg);
  const all = forwards.every((f) => (f.weights[plan.fromTg] ?? 0) === 0 && (f.weights[plan.toTg] ?? 0) > 0);
  if (serving < plan.count && share > 0) {
    return abort('ab.unhealthy', `${plan.to}: ${serving} of ${plan.count} instance(s) serving while it carries ${share} % of the traffic: shifting it back`, { asg: plan.to, serving, wanted: plan.count, share });
  }
  if (all) return done(`${plan.to} carries all of the traffic`);
  const next = plan.steps.find((s) => s > share) ?? 100;
  if (share > 0 && heldSince !== undefined && now - heldSince < plan.stepWaitMs) {
    const left = plan.stepWaitMs - (now - heldSince);
    return wait(`${plan.to} at ${share} % of the traffic: holding ${Math.ceil(left / 1000)} s more while it stays healthy (next ${next} %)`, left);
  }
  return setWeights(plan, next, share, `shift traffic to ${plan.to}: ${share} % → ${next} %`);
}
