/**
 * `--faults` of a rehearsal (docs/rehearse.md): named profiles, or a YAML file of the simulated
 * AWS's own fault options (`FaultConfig`, orchestrator/sandbox/model.ts; rules in
 * orchestrator/sandbox/SPEC.md). A file is checked whole before anything runs: every unknown key
 * and every bad value named at once (exit 2), with the keys allowed.
 *
 * ```yaml
 * # faults.yaml: boots of 2-5 min, 10 % of launches without capacity, a throttled API
 * bootSeconds: {min: 120, max: 300}
 * launchFailureRate: 0.1
 * throttleRate: 0.05
 * ```
 */
import * as fs from 'node:fs';
import yaml from 'js-yaml';
import type { Argv } from 'yargs';
import { usageError } from '../errors';
import { defaultFaults, type FaultConfig } from '../sandbox/model';
import type { Sandbox } from '../sandbox';

/** What a profile may need to know of the rehearsed world. */
export interface FaultWorld {
  /** The images the rehearsed rollout deploys. */
  newImages: string[];
  /** The availability zones of the rehearsed groups (in the simulated AWS), sorted. */
  zones: string[];
}

/** The named fault profiles: each sets the sandbox's own fault switches (orchestrator/sandbox SPEC). */
export const FAULT_PROFILES: Record<string, { describe: string; apply(sb: Sandbox, w: FaultWorld): void }> = {
  none: { describe: 'the simulated AWS as it is by default (boots as observed, else 30-60 s)', apply() {} },
  'slow-boots': {
    describe: 'EC2 boots take 4-7 min and the application 30-90 s more',
    apply(sb) {
      sb.faults = { ...sb.faults, bootSeconds: { min: 240, max: 420 }, appStartSeconds: { min: 30, max: 90 } };
    },
  },
  'failing-version': {
    describe: 'instances of the new image never pass their health check',
    apply(sb, w) {
      for (const image of w.newImages) sb.setImage(image, { healthy: false });
    },
  },
  'az-outage': {
    describe: 'the first availability zone of the groups has no capacity: every launch there fails',
    apply(sb, w) {
      if (w.zones.length) sb.faults = { ...sb.faults, unavailableZones: [w.zones[0]] };
    },
  },
  throttling: {
    describe: 'a quarter of the API calls are throttled',
    apply(sb) {
      sb.faults = { ...sb.faults, throttleRate: 0.25 };
    },
  },
  'spot-interruptions': {
    describe: 'running instances are terminated spontaneously, 2 per instance-hour',
    apply(sb) {
      sb.faults = { ...sb.faults, spontaneousTerminationsPerHour: 2 };
    },
  },
};

/** A `--faults` value naming a file rather than a profile. */
export const isFaultFile = (v: string): boolean => /\.ya?ml$/i.test(v);

const allowedNames = () => `${Object.keys(FAULT_PROFILES).join(', ')}, or a YAML file of fault options (FILE.yaml)`;

/** `--faults a,b` (repeatable): known names or fault files, in order, without repeats; default `none`. Files are checked now. */
export function faultsFlag(v: unknown): string[] {
  const given = (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim());
  const names = [...new Set(given)];
  if (given.length && names.some((n) => !n)) throw usageError('usage', `--faults ${JSON.stringify(given.join(','))}: an empty fault name; the faults are: ${allowedNames()}`, { flag: '--faults' });
  const unknown = names.filter((n) => !(n in FAULT_PROFILES) && !isFaultFile(n));
  if (unknown.length) {
    throw usageError('usage', `--faults ${unknown.join(', ')}: unknown fault${unknown.length > 1 ? 's' : ''}; the faults are: ${Object.keys(FAULT_PROFILES).join(', ')}, or a YAML file of fault options (FILE.yaml)`, {
      flag: '--faults',
      value: unknown,
      allowed: Object.keys(FAULT_PROFILES),
    });
  }
  for (const n of names) if (isFaultFile(n)) loadFaultFile(n);
  return names.length ? names : ['none'];
}

/** Switches on `faults` (profiles and files, in order) in `sb`. */
export function applyFaults(sb: Sandbox, faults: readonly string[], world: FaultWorld): void {
  for (const f of faults) {
    if (isFaultFile(f)) sb.faults = { ...sb.faults, ...loadFaultFile(f) };
    else FAULT_PROFILES[f].apply(sb, world);
  }
}

type Check = (v: unknown) => string | undefined;

const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const nonNegative: Check = (v) => (isNum(v) && v >= 0 ? undefined : 'a number ≥ 0');
const probability: Check = (v) => (isNum(v) && v >= 0 && v <= 1 ? undefined : 'a probability 0..1');
/** A duration distribution in seconds (model.ts `Seconds`). */
const seconds: Check = (v) => {
  const ok =
    (isNum(v) && v >= 0) ||
    (typeof v === 'object' && v !== null && !Array.isArray(v) &&
      ((Object.keys(v).every((k) => k === 'min' || k === 'max') && isNum((v as { min: unknown }).min) && isNum((v as { max: unknown }).max) && (v as { min: number }).min >= 0 && (v as { min: number }).min <= (v as { max: number }).max) ||
        (Object.keys(v).every((k) => k === 'mean' || k === 'sd' || k === 'min') && isNum((v as { mean: unknown }).mean) && isNum((v as { sd: unknown }).sd) && (v as { sd: number }).sd >= 0) ||
        (Object.keys(v).every((k) => k === 'logMedian' || k === 'sigma' || k === 'min') && isNum((v as { logMedian: unknown }).logMedian) && (v as { logMedian: number }).logMedian > 0 && isNum((v as { sigma: unknown }).sigma) && (v as { sigma: number }).sigma >= 0)));
  return ok ? undefined : 'seconds: a number ≥ 0, {min, max}, {mean, sd, min?} or {logMedian, sigma, min?}';
};

/** One check per fault option (every key of FaultConfig: a test keeps them in step). */
export const FAULT_OPTION_CHECKS: Record<keyof FaultConfig, Check> = {
  bootSeconds: seconds,
  appStartSeconds: seconds,
  launchFailureRate: probability,
  unavailableZones: (v) => (Array.isArray(v) && v.every((z) => typeof z === 'string' && z) ? undefined : 'a list of availability zone names'),
  spontaneousTerminationsPerHour: nonNegative,
  spotInterruptionsPerHour: nonNegative,
  rebalanceRecommendationsPerHour: nonNegative,
  apiLatencyMs: (v) => {
    const o = v as { min?: unknown; max?: unknown };
    const ok = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).every((k) => k === 'min' || k === 'max') && isNum(o.min) && isNum(o.max) && o.min >= 0 && o.min <= o.max;
    return ok ? undefined : '{min, max} in ms (0 ≤ min ≤ max)';
  },
  throttleRate: probability,
  serverErrorRate: probability,
  serverErrorAfterCommitRate: probability,
  resourceContentionRate: probability,
  describeDelaySeconds: nonNegative,
  shutdownSeconds: nonNegative,
  bootFailureRate: probability,
  elbCheckPhase: (v) => (v === 'registration' || v === 'random' ? undefined : "'registration' or 'random'"),
  bootFailureMode: (v) => (v === 'never-healthy' || v === 'terminated' ? undefined : "'never-healthy' or 'terminated'"),
  connectionDrain: (v) => {
    const o = v as Record<string, unknown>;
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return '{idle, long, seconds}';
    const bad = Object.keys(o).filter((k) => !['idle', 'long', 'seconds'].includes(k));
    if (bad.length) return `{idle, long, seconds} (not ${bad.join(', ')})`;
    return probability(o.idle ?? 0) ?? probability(o.long ?? 0) ?? seconds(o.seconds ?? 0);
  },
  scalingActivityInProgressRate: probability,
  throttleWindows: (v) =>
    Array.isArray(v) && v.every((w) => typeof w === 'object' && w !== null && isNum(w.from) && isNum(w.to) && w.from <= w.to && !probability(w.rate))
      ? undefined
      : 'a list of {from, to, rate} (simulated epoch ms, rate 0..1)',
  scaleDelaySeconds: seconds,
  requestsPerSecond: nonNegative,
  lifecycleAgents: (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return '{launch?, terminate?} of {seconds, abandonRate, hangRate}';
    for (const [k, a] of Object.entries(v as Record<string, unknown>)) {
      if (k !== 'launch' && k !== 'terminate') return `{launch?, terminate?} (not ${k})`;
      const o = a as Record<string, unknown>;
      if (typeof a !== 'object' || a === null) return `${k}: {seconds, abandonRate, hangRate}`;
      const bad = seconds(o.seconds) ?? probability(o.abandonRate) ?? probability(o.hangRate);
      if (bad) return `${k}: {seconds, abandonRate, hangRate} (${bad})`;
    }
    return undefined;
  },
  warmStartSeconds: seconds,
  targetRegistrationSeconds: seconds,
};

/** The fault options of a YAML file, checked: every problem named at once (exit 2). */
export function loadFaultFile(file: string): Partial<FaultConfig> {
  let doc: unknown;
  try {
    doc = yaml.load(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw usageError('usage', `--faults ${file}: ${e.code === 'ENOENT' ? 'no such file' : `not valid YAML (${e.message.split('\n')[0]})`}`, { flag: '--faults', value: file });
  }
  if (doc === undefined || doc === null) return {};
  if (typeof doc !== 'object' || Array.isArray(doc)) throw usageError('usage', `--faults ${file}: expected a map of fault options (e.g. bootSeconds: {min: 120, max: 300})`, { flag: '--faults', value: file });
  const keys = Object.keys(defaultFaults) as Array<keyof FaultConfig>;
  const problems: string[] = [];
  const badKeys: string[] = [];
  for (const [k, v] of Object.entries(doc)) {
    if (!(k in FAULT_OPTION_CHECKS)) {
      badKeys.push(k);
      continue;
    }
    const why = FAULT_OPTION_CHECKS[k as keyof FaultConfig](v);
    if (why) problems.push(`${k}: ${JSON.stringify(v)} is not ${why}`);
  }
  if (badKeys.length) problems.unshift(`unknown key${badKeys.length > 1 ? 's' : ''} ${badKeys.join(', ')}`);
  if (problems.length) {
    throw usageError('usage', `--faults ${file}: ${problems.join('; ')}; the fault options are: ${keys.join(', ')} (orchestrator/sandbox/SPEC.md)`, {
      flag: '--faults',
      value: file,
      keys: badKeys,
      allowed: keys,
    });
  }
  return doc as Partial<FaultConfig>;
}

/** `--rehearse` and `--faults` of roll and ab (deploy declares its own, with the stack). */
export function withRehearseOptions(y: Argv): Argv {
  return y
    .option('rehearse', { type: 'boolean', default: false, describe: 'read the group(s) (read-only), run this rollout on a fresh simulated AWS built alike and predict duration, API calls, lowest healthy, invariants' })
    .option('faults', { type: 'string', array: true, describe: `with --rehearse: ${Object.keys(FAULT_PROFILES).join(', ')}, or FILE.yaml of fault options (comma-separated or repeated)` });
}

/** `--faults` without `--rehearse`: exit 2. */
export function checkFaultsNeedRehearse(args: Record<string, unknown>): void {
  if (args.faults !== undefined && !args.rehearse) throw usageError('usage', '--faults needs --rehearse (faults are switched on in the simulated AWS of a rehearsal only)', { flag: '--faults' });
}
