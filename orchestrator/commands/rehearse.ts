/**
 * `deploy --stack S --rehearse [--faults slow-boots,az-outage] [--report FILE.html]`: what would
 * happen to *my* stack's rollout if boots were slow and one AZ had no capacity? (docs/rehearse.md)
 *
 * It runs the real deploy twice on a fresh embedded simulated AWS (a temporary state file; your
 * account is not used, nothing is read or changed there):
 *   1. the stack as it stands, every service on a stand-in previous image (`ami-0rehearsal000000`),
 *      created quietly: the groups, their ELBs and instances, as your config describes them;
 *   2. the named faults switched on (the sandbox's own fault switches), then your stack config as
 *      it is — so every service rolls out from the previous image to yours, with its real
 *      strategy, sizes, floors, timeouts — shown as a deploy shows it (and `--report`).
 * Then it prints the prediction: the outcome and exit code the deploy would have, its simulated
 * duration and API calls, and per group the lowest healthy count against the floor and whether
 * the safety invariants held, as the sandbox's safety monitor measured them
 * (docs/design.md "Safety invariants"). Exit: the predicted deploy's (0 done, 1 failed, ...);
 * 1 if an invariant was broken.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import yaml from 'js-yaml';
import { VirtualClock } from '../clock';
import { DeployError, ExitCode, usageError } from '../errors';
import { projectRoot } from '../package-info';
import { JsonReporter, PlainReporter, RecordingReporter, TeeReporter, silentReporter, type Reporter } from '../report/reporter';
import { formatDuration } from '../report/summary';
import { textTable } from '../report/table';
import { buildTimelines } from '../report/timeline';
import type { Sandbox } from '../sandbox';
import { quietSdkNodeWarning, readSandboxFile, writeSandboxFile } from './aws-session';
import type { CommandContext } from './command';

/** The previous image every service runs before the rehearsed rollout. */
export const REHEARSAL_IMAGE = 'ami-0rehearsal000000';

export const RehearseCodes = {
  start: 'rehearse.start', // {stack, faults, zones}
  result: 'rehearse.result', // {stack, faults, exit, outcome, seconds, apiCalls, groups: [{group, strategy, lowestHealthy, floor, held, healthyUpToDateTerminated, leftovers}], invariantsHeld}
} as const;

interface FaultWorld {
  /** The images the rehearsed rollout deploys (your config's). */
  newImages: string[];
  /** The availability zones the stack's groups use, sorted. */
  zones: string[];
}

/** The named fault profiles: each sets the sandbox's own fault switches (orchestrator/sandbox SPEC). */
export const FAULT_PROFILES: Record<string, { describe: string; apply(sb: Sandbox, w: FaultWorld): void }> = {
  none: { describe: 'the simulated AWS as it is by default (boots 30-60 s)', apply() {} },
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
    describe: 'the first availability zone of the stack has no capacity: every launch there fails',
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

/** `--faults a,b` (repeatable): known names, in order, without repeats; default `none`. */
export function faultsFlag(v: unknown): string[] {
  const given = (Array.isArray(v) ? v : v === undefined ? [] : [v]).flatMap((x) => String(x).split(',')).map((s) => s.trim());
  const names = [...new Set(given)];
  if (given.length && names.some((n) => !n)) throw usageError('usage', `--faults ${JSON.stringify(given.join(','))}: an empty fault name; the faults are: ${Object.keys(FAULT_PROFILES).join(', ')}`, { flag: '--faults' });
  const unknown = names.filter((n) => !(n in FAULT_PROFILES));
  if (unknown.length) {
    throw usageError('usage', `--faults ${unknown.join(', ')}: unknown fault${unknown.length > 1 ? 's' : ''}; the faults are: ${Object.keys(FAULT_PROFILES).join(', ')}`, {
      flag: '--faults',
      value: unknown,
      allowed: Object.keys(FAULT_PROFILES),
    });
  }
  return names.length ? names : ['none'];
}

/** Your stack config with every service's imageId set to the stand-in previous image. */
function previousConfig(file: string): { text: string; newImages: string[] } {
  let doc: { config?: Record<string, unknown> };
  try {
    doc = (yaml.load(fs.readFileSync(file, 'utf8')) ?? {}) as typeof doc;
  } catch (err) {
    throw usageError('stack.config-invalid', `${file}: not valid YAML (${(err as Error).message})`);
  }
  const config = doc.config ?? {};
  const key = 'asg-deploy:services' in config ? 'asg-deploy:services' : 'services';
  const services = config[key];
  if (!services || typeof services !== 'object' || Array.isArray(services) || 'secure' in services) {
    throw usageError('stack.config-invalid', `${file}: --rehearse needs asg-deploy:services as a map of services (with their imageId) in the stack config`);
  }
  const newImages: string[] = [];
  for (const s of Object.values(services as Record<string, Record<string, unknown>>)) {
    if (s && typeof s === 'object' && typeof s.imageId === 'string') {
      newImages.push(s.imageId);
      s.imageId = REHEARSAL_IMAGE;
    }
  }
  return { text: yaml.dump(doc, { lineWidth: -1 }), newImages: [...new Set(newImages)] };
}

const discard = () => new Writable({ write: (_c, _e, cb) => cb() });

/**
 * The rehearsal. `deploy` is the deploy command's own run (the same code path as a real deploy).
 */
export async function rehearse(
  args: Record<string, unknown>,
  ctx: CommandContext,
  deploy: (args: Record<string, unknown>, ctx: CommandContext) => Promise<number>,
): Promise<number> {
  const stack = String(args.stack ?? '');
  const faults = faultsFlag(args.faults);
  if (args['dry-run']) throw usageError('usage', '--rehearse and --dry-run: a rehearsal already changes nothing (it runs on a simulated AWS); drop --dry-run', { flag: '--dry-run' });
  if (args.sandbox || args['sandbox-state'] !== undefined) {
    throw usageError('usage', '--rehearse runs on its own fresh simulated AWS; drop --sandbox/--sandbox-state', { flag: '--sandbox' });
  }
  if (args['skip-rollout']) throw usageError('usage', '--rehearse and --skip-rollout: the rehearsal is of the rollout; drop --skip-rollout', { flag: '--skip-rollout' });
  const configFile = path.resolve(args['config-file'] !== undefined ? String(args['config-file']) : path.join(projectRoot(), `Pulumi.${stack}.yaml`));
  if (!fs.existsSync(configFile)) throw usageError('stack.config-missing', `${configFile}: no stack config to rehearse (Pulumi.${stack}.yaml in the project, or --config-file)`);
  const previous = previousConfig(configFile);

  quietSdkNodeWarning();
  const { Sandbox } = require('../sandbox') as typeof import('../sandbox');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-rehearse-'));
  try {
    const state = path.join(dir, 'sandbox-state.json');
    const before = path.join(dir, `Pulumi.${stack.replace(/[/]/g, '_')}.previous.yaml`);
    fs.writeFileSync(before, previous.text);
    const seeded = Sandbox.create({ seed: 17 });
    writeSandboxFile(state, seeded, {});
    seeded.dispose();
    const sim = { ...args, rehearse: false, faults: undefined, sandbox: true, 'sandbox-state': state };

    // 1. The stack as it stands, quietly.
    const quiet: CommandContext = { ...ctx, reporter: silentReporter, stderr: discard(), stdout: discard(), json: false, interactive: false };
    const setup = await deploy({ ...sim, create: true, report: undefined, service: undefined, json: false, 'config-file': before }, quiet);
    if (setup !== 0) throw new DeployError('rehearse.setup-failed', `--rehearse: building stack ${stack} on the simulated AWS failed (exit ${setup}); run 'deploy --stack ${stack} --create --sandbox' to see why`, { source: 'tool', exit: ExitCode.failed });

    // 2. The faults, a baseline for the safety monitor, then your config's rollout.
    const saved = readSandboxFile(state)!;
    const world = Sandbox.fromJSON(saved.aws);
    const groups = Object.keys(saved.aws.groups).sort();
    const zones = [...new Set(groups.flatMap((g) => saved.aws.groups[g].azs ?? []))].sort();
    for (const f of faults) FAULT_PROFILES[f].apply(world, { newImages: previous.newImages, zones });
    world.monitor.baseline(groups);
    writeSandboxFile(state, world, saved.stacks);
    world.dispose();

    const clock = new VirtualClock({ start: saved.aws.now });
    const given = !(ctx.reporter instanceof JsonReporter) && !(ctx.reporter instanceof PlainReporter);
    const out: Reporter = given ? ctx.reporter : ctx.json ? new JsonReporter(clock, ctx.stdout) : new PlainReporter(clock, ctx.stderr, true);
    const seen = new RecordingReporter(clock);
    const reporter = new TeeReporter([out, seen]);
    reporter.emit('info', RehearseCodes.start, `REHEARSAL of stack ${stack} on a fresh simulated AWS (nothing in your account is read or changed), faults: ${faults.join(', ')}${faults.includes('az-outage') && zones[0] ? ` (no capacity in ${zones[0]})` : ''}`, {
      stack,
      faults,
      zones,
    });
    // A failing deploy throws (exit 1, 3, 130): the prediction is made all the same, then it is rethrown.
    let exit: number;
    let failure: unknown;
    try {
      exit = await deploy({ ...sim, create: false, 'config-file': configFile }, { ...ctx, clock, reporter, interactive: false });
    } catch (err) {
      failure = err;
      exit = err instanceof DeployError ? err.exit : ExitCode.failed;
    }

    // 3. The prediction, measured by the sandbox's safety monitor.
    const after = Sandbox.fromJSON(readSandboxFile(state)!.aws);
    const timelines = buildTimelines(seen.events);
    const rows = timelines.map((tl) => {
      const members = tl.groups.filter((g) => g in after.toJSON().groups);
      const lowest = lowestTogether(members.map((g) => after.monitor.samples(g)), tl.start);
      const killed = members.flatMap((g) => after.monitor.healthyUpToDateTerminated(g));
      // A/B owns both colors' desired and min (the swap's very point): only the rest must be as it was.
      const owned = tl.strategy === 'ab' ? new Set(['desired', 'min']) : new Set<string>();
      const leftovers = members.flatMap((g) => after.monitor.leftovers(g).filter((l) => !owned.has(l.what)).map((l) => `${g}: ${l.what} ${l.detail}`));
      const floor = tl.floor ?? 0;
      const held = lowest >= floor && killed.length === 0 && leftovers.length === 0;
      return { group: tl.key, service: tl.service, strategy: tl.strategy, outcome: tl.outcome, seconds: tl.seconds, apiCalls: tl.apiCalls, lowestHealthy: lowest, floor, healthyUpToDateTerminated: killed.length, leftovers, held };
    });
    after.dispose();
    const summary = [...seen.events].reverse().find((e) => e.code === 'deploy.summary');
    const first = seen.events.find((e) => e.code === 'deploy.start');
    const last = seen.events[seen.events.length - 1];
    const seconds = first && last ? (Date.parse(last.time) - Date.parse(first.time)) / 1000 : 0;
    const apiCalls = rows.reduce((n, r) => n + (r.apiCalls ?? 0), 0);
    const invariantsHeld = rows.every((r) => r.held);
    const outcome = exit === 0 ? 'done' : exit === ExitCode.interrupted ? 'interrupted' : 'failed';
    const table = textTable([
      ['group', 'strategy', 'result', 'duration', 'API calls', 'lowest healthy', 'floor', 'invariants'],
      ...rows.map((r) => [r.group, r.strategy, r.outcome, r.seconds === undefined ? '-' : formatDuration(r.seconds), r.apiCalls ?? 0, r.lowestHealthy, r.floor, r.held ? 'held' : `BROKEN${r.leftovers.length ? `: ${r.leftovers.join('; ')}` : ''}`]),
    ]);
    const message =
      `REHEARSAL of stack ${stack} under ${faults.join(', ')}: the deploy would ${outcome === 'done' ? 'succeed' : outcome === 'failed' ? 'FAIL' : 'be interrupted'} (exit ${exit}) ` +
      `in ${formatDuration(seconds)} (simulated) with ${apiCalls} API calls; the safety invariants ${invariantsHeld ? 'held' : 'were BROKEN'}\n${table}`;
    reporter.emit(invariantsHeld ? 'info' : 'error', RehearseCodes.result, message, { stack, faults, exit, outcome, seconds, apiCalls, groups: rows, invariantsHeld, summary: summary?.data.rows });
    if (!invariantsHeld) throw new DeployError('rehearse.invariant-broken', `REHEARSAL of stack ${stack}: a safety invariant was broken (see the table above); this is a defect of asg-deploy, please report it`, { source: 'tool', exit: ExitCode.failed });
    if (failure) throw failure;
    return exit;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The lowest sum of the groups' healthy counts from `from` on (A/B: both colors together). */
export function lowestTogether(series: Array<Array<{ time: number; healthy: number }>>, from: number): number {
  const events = series.flatMap((s, i) => s.map((p) => ({ ...p, i }))).sort((a, b) => a.time - b.time);
  const current = series.map(() => 0);
  let lowest = Number.POSITIVE_INFINITY;
  let pending = false;
  for (let k = 0; k < events.length; k++) {
    const e = events[k];
    current[e.i] = e.healthy;
    pending = true;
    // Changes at the same instant count once, after all of them.
    if (k + 1 < events.length && events[k + 1].time === e.time) continue;
    if (e.time >= from && pending) lowest = Math.min(lowest, current.reduce((a, b) => a + b, 0));
    pending = false;
  }
  return Number.isFinite(lowest) ? lowest : current.reduce((a, b) => a + b, 0);
}
