/**
 * Rehearsals (docs/rehearse.md): what would happen to *my* rollout if boots were slow and one AZ
 * had no capacity?
 *
 *   deploy --stack S --rehearse [--faults P] [--report F]
 *   roll --asg G --rehearse ...        ab --environment E --rehearse ...
 *
 * 1. Read your groups with read-only calls only (commands/rehearse-world.ts `readGroups`: sizes,
 *    AZs, health-check settings, load balancers and target groups, boot times observed from the
 *    groups' recent scaling activities) — from your account, or with `--sandbox` from the sandbox
 *    state. Nothing is written there. No credentials: said as such, exit 2.
 * 2. Build the same world in a fresh embedded simulated AWS (a temporary state file): roll/ab —
 *    your groups as they are on a stand-in previous image, then a new launch template version
 *    (every instance outdated); deploy — the stack built quietly from your config with every
 *    service on a stand-in previous image (`ami-0rehearsal000000`), then made like your groups
 *    where they exist (a stack not created yet is rehearsed from its config alone).
 * 3. Switch on the faults (profiles, or a YAML file of the sandbox's fault options) and run the
 *    command's own run there on the virtual clock, shown as the command shows it.
 * 4. Predict: the outcome and exit code the run would have, its simulated duration and API calls,
 *    and per group the lowest healthy count against the floor and whether the safety invariants
 *    held, as the sandbox's safety monitor measured them (docs/design.md "Safety invariants");
 *    printed, and in the `--report` page. Exit: the predicted run's (0 done, 1 failed, ...);
 *    1 if an invariant was broken.
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
import { awsSetupError } from '../aws/setup-errors';
import { ReportRecorder } from '../report/recorder';
import { openAwsSession, quietSdkNodeWarning, readSandboxFile, writeSandboxFile, type SessionArgs } from './aws-session';
import type { CommandContext } from './command';
import { ReportCodes, reportFlag } from './report-option';
import { applyFaults, faultsFlag } from './rehearse-faults';
import { bootDistribution, buildWorld, overlayWorld, readGroups, regionOfZones, releaseNewVersion, REHEARSAL_IMAGE, REHEARSAL_NEW_IMAGE, zoneMap, type ObservedGroup } from './rehearse-world';
import { regionFlag } from './values';

export { FAULT_PROFILES, faultsFlag } from './rehearse-faults';
export { REHEARSAL_IMAGE } from './rehearse-world';

export const RehearseCodes = {
  start: 'rehearse.start', // {stack|group|environment, faults, zones, observed: [{group, desired, min, max, azs, bootSeconds}], missing}
  result: 'rehearse.result', // {stack|group|environment, faults, exit, outcome, seconds, apiCalls, groups: [{group, strategy, lowestHealthy, floor, held, healthyUpToDateTerminated, leftovers}], invariantsHeld}
} as const;

/** Your stack config with every service's imageId set to the stand-in previous image; the groups it names. */
function previousConfig(file: string, stack: string): { text: string; newImages: string[]; groups: string[]; region?: string } {
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
  const groups: string[] = [];
  for (const [service, s] of Object.entries(services as Record<string, Record<string, unknown>>)) {
    if (!s || typeof s !== 'object') continue;
    if (typeof s.imageId === 'string') {
      newImages.push(s.imageId);
      s.imageId = REHEARSAL_IMAGE;
    }
    // The program's names (infra/config.ts): `<name>` (default `<stack>-<service>`), A/B `<name>-a`/`-b`.
    const name = typeof s.name === 'string' && s.name ? s.name : `${stack}-${service}`;
    groups.push(...(s.strategy === 'ab' ? [`${name}-a`, `${name}-b`] : [name]));
  }
  const region = typeof config['aws:region'] === 'string' ? (config['aws:region'] as string) : undefined;
  return { text: yaml.dump(doc, { lineWidth: -1 }), newImages: [...new Set(newImages)], groups, region };
}

const discard = () => new Writable({ write: (_c, _e, cb) => cb() });

/** Rehearsal seam for tests: how the real groups are read (default: the command's own AWS session, read-only). */
export const rehearseSeams: { read: typeof readReal } = { read: readReal };

/** Where the real groups were read: your account, or (with `--sandbox`) the sandbox state. */
interface Reading {
  groups: ObservedGroup[];
  missing: string[];
  source: string;
}

/**
 * Reads `names` from your account (or the sandbox state with `--sandbox`) with read-only calls
 * only; the session writes nothing back (readOnly). No credentials, no region, access denied:
 * said as such (exit 2) — the rehearsal needs read-only access to your groups.
 */
async function readReal(args: Record<string, unknown>, ctx: CommandContext, names: string[], region?: string): Promise<Reading> {
  const session = await openAwsSession(args as SessionArgs, ctx, { readOnly: true, region });
  try {
    const groups = await readGroups(session.clients, names);
    const found = new Set(groups.map((g) => g.name));
    const source = session.sandbox ? `the sandbox state ${session.sandbox.stateFile}` : `your account${region ?? regionFlag(args.region) ? ` (${region ?? regionFlag(args.region)})` : ''}`;
    return { groups, missing: names.filter((n) => !found.has(n)), source };
  } catch (err) {
    const setup = awsSetupError(err);
    if (setup) {
      throw new DeployError(setup.code, `--rehearse reads your groups (read-only: Describe* calls) and could not: ${setup.message}${args.sandbox ? '' : '; or rehearse on the sandbox state with --sandbox --rehearse'}`, {
        // No `cause`: the CLI would find the SDK's error in it and word it again without the rehearsal.
        source: 'user',
        exit: setup.exit,
        data: setup.data,
      });
    }
    throw err;
  } finally {
    await session.close();
  }
}

function checkArgs(args: Record<string, unknown>): void {
  if (args['dry-run']) throw usageError('usage', '--rehearse and --dry-run: a rehearsal already changes nothing (it runs on a simulated AWS); drop --dry-run', { flag: '--dry-run' });
  if (args['skip-rollout']) throw usageError('usage', '--rehearse and --skip-rollout: the rehearsal is of the rollout; drop --skip-rollout', { flag: '--skip-rollout' });
}

/** Observed groups, as the first event shows them. */
const observedData = (groups: readonly ObservedGroup[]) => groups.map((g) => ({ group: g.name, desired: g.desired, min: g.min, max: g.max, azs: g.azs, healthCheckType: g.healthCheckType, bootSeconds: g.bootSeconds }));

function observedText(r: Reading, zones: Map<string, string>): string {
  const boot = bootDistribution(r.groups);
  const moved = [...zones].filter(([a, b]) => a !== b);
  return (
    `read from ${r.source}: ${r.groups.length ? r.groups.map((g) => `${g.name} (${g.desired} desired, ${g.min}-${g.max}, ${g.azs.join('/') || 'no AZ'})`).join(', ') : 'no group'}` +
    (r.missing.length ? `; not there (built from the config): ${r.missing.join(', ')}` : '') +
    `; boot times ${boot === undefined ? 'not observed (simulated 30-60 s)' : typeof boot === 'number' ? `observed ${boot} s` : `observed ${boot.min}-${boot.max} s`}` +
    (moved.length ? `; AZs ${moved.map(([a, b]) => `${a} as ${b}`).join(', ')} (the simulated AWS has three)` : '')
  );
}

/**
 * `deploy --stack S --rehearse`: the stack's groups read from your account, the stack built on a
 * fresh simulated AWS from your config and then made like your groups, and your config deployed.
 * `deploy` is the deploy command's own run (the same code path as a real deploy).
 */
export async function rehearse(
  args: Record<string, unknown>,
  ctx: CommandContext,
  deploy: (args: Record<string, unknown>, ctx: CommandContext) => Promise<number>,
): Promise<number> {
  const stack = String(args.stack ?? '');
  const faults = faultsFlag(args.faults);
  checkArgs(args);
  const reportFile = reportFlag(args.report);
  const configFile = path.resolve(args['config-file'] !== undefined ? String(args['config-file']) : path.join(projectRoot(), `Pulumi.${stack}.yaml`));
  if (!fs.existsSync(configFile)) throw usageError('stack.config-missing', `${configFile}: no stack config to rehearse (Pulumi.${stack}.yaml in the project, or --config-file)`);
  const previous = previousConfig(configFile, stack);
  const reading = await rehearseSeams.read(args, ctx, previous.groups, previous.region);

  quietSdkNodeWarning();
  const { Sandbox } = require('../sandbox') as typeof import('../sandbox');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-rehearse-'));
  try {
    const state = path.join(dir, 'sandbox-state.json');
    const before = path.join(dir, `Pulumi.${stack.replace(/[/]/g, '_')}.previous.yaml`);
    fs.writeFileSync(before, previous.text);
    const seeded = Sandbox.create({ seed: 17, ...(previous.region ? { region: previous.region } : {}) });
    writeSandboxFile(state, seeded, {});
    seeded.dispose();
    const sim = { ...args, rehearse: false, faults: undefined, sandbox: true, 'sandbox-state': state };

    // 1. The stack as it stands, quietly.
    const quiet: CommandContext = { ...ctx, reporter: silentReporter, stderr: discard(), stdout: discard(), json: false, interactive: false, reportRecorder: undefined };
    const setup = await deploy({ ...sim, create: true, report: undefined, service: undefined, json: false, 'config-file': before }, quiet);
    if (setup !== 0) throw new DeployError('rehearse.setup-failed', `--rehearse: building stack ${stack} on the simulated AWS failed (exit ${setup}); run 'deploy --stack ${stack} --create --sandbox' to see why`, { source: 'tool', exit: ExitCode.failed });

    // 2. Made like your groups: sizes, AZs, health checks, draining, boot times.
    const saved = readSandboxFile(state)!;
    const world = Sandbox.fromJSON(saved.aws);
    const zones = zoneMap(reading.groups, world.world.zones());
    overlayWorld(world, reading.groups, zones);
    writeSandboxFile(state, world, saved.stacks);
    world.dispose();

    return await runAndPredict({
      ctx,
      state,
      faults,
      newImages: previous.newImages,
      subject: { stack },
      label: `stack ${stack}`,
      command: 'deploy',
      observed: `${observedText(reading, zones)}`,
      reading,
      reportFile,
      run: (c) => deploy({ ...sim, create: false, report: undefined, 'config-file': configFile }, c),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `roll --asg G --rehearse` / `ab --environment E --rehearse`: the group(s) read from your account,
 * built alike on a fresh simulated AWS on a stand-in previous image, a new version released
 * (every instance outdated: the rollout of a new version to the whole group), and the command's
 * own run on it. `run` is the command's run.
 */
export async function rehearseRollout(
  kind: 'roll' | 'ab',
  args: Record<string, unknown>,
  ctx: CommandContext,
  run: (args: Record<string, unknown>, ctx: CommandContext) => Promise<number>,
): Promise<number> {
  const faults = faultsFlag(args.faults);
  checkArgs(args);
  const reportFile = reportFlag(args.report);
  let names: string[];
  let subject: Record<string, string>;
  if (kind === 'roll') {
    const asg = args.asg === undefined ? '' : String(args.asg);
    if (!asg) throw usageError('usage', '--asg (alias --limit) is required: an Auto Scaling Group name', { flag: 'asg' });
    names = [asg];
    subject = { group: asg };
  } else {
    const env = String(args.environment ?? '');
    names = args['single-asg'] ? [env] : [`${env}-a`, `${env}-b`];
    subject = { environment: env };
  }
  const reading = await rehearseSeams.read(args, ctx, names);
  if (!reading.groups.length) {
    throw new DeployError('rehearse.group-not-found', `--rehearse: no group ${names.join(' or ')} in ${reading.source}; a rehearsal of ${kind} starts from your group as it is (read-only)`, {
      source: 'user',
      exit: ExitCode.badInput,
      data: { groups: names },
    });
  }

  quietSdkNodeWarning();
  const { Sandbox } = require('../sandbox') as typeof import('../sandbox');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-rehearse-'));
  try {
    const state = path.join(dir, 'sandbox-state.json');
    const region = regionOfZones(reading.groups);
    const sb = Sandbox.create({ seed: 17, ...(region ? { region } : {}) });
    const zones = zoneMap(reading.groups, sb.world.zones());
    const boot = bootDistribution(reading.groups);
    if (boot !== undefined) sb.faults = { ...sb.faults, bootSeconds: boot };
    buildWorld(sb, reading.groups, zones);
    releaseNewVersion(sb, reading.groups.map((g) => g.name));
    writeSandboxFile(state, sb, {});
    sb.dispose();
    const sim = { ...args, rehearse: false, faults: undefined, sandbox: true, 'sandbox-state': state, report: undefined };
    return await runAndPredict({
      ctx,
      state,
      faults,
      newImages: [REHEARSAL_NEW_IMAGE],
      subject,
      label: kind === 'roll' ? `group ${names[0]}` : `environment ${subject.environment}`,
      command: kind,
      observed: observedText(reading, zones),
      reading,
      reportFile,
      run: (c) => run(sim, c),
    });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface Rehearsal {
  ctx: CommandContext;
  /** The simulated AWS's state file, the world built. */
  state: string;
  faults: string[];
  newImages: string[];
  subject: Record<string, string>;
  label: string;
  command: string;
  observed: string;
  reading: Reading;
  reportFile?: string;
  run(ctx: CommandContext): Promise<number>;
}

/**
 * The faults switched on, a baseline for the safety monitor, the command's run on the simulated
 * AWS (shown as the command shows it), then the prediction as the sandbox's safety monitor
 * measured it, printed and in the report.
 */
async function runAndPredict(r: Rehearsal): Promise<number> {
  const { Sandbox } = require('../sandbox') as typeof import('../sandbox');
  const { ctx, faults } = r;
  const saved = readSandboxFile(r.state)!;
  const world = Sandbox.fromJSON(saved.aws);
  const groups = Object.keys(saved.aws.groups).sort();
  const zones = [...new Set(groups.flatMap((g) => saved.aws.groups[g].azs ?? []))].sort();
  applyFaults(world, faults, { newImages: r.newImages, zones });
  world.monitor.baseline(groups);
  const since = world.clock.now();
  writeSandboxFile(r.state, world, saved.stacks);
  world.dispose();

  const clock = new VirtualClock({ start: saved.aws.now });
  const given = !(ctx.reporter instanceof JsonReporter) && !(ctx.reporter instanceof PlainReporter);
  const out: Reporter = given ? ctx.reporter : ctx.json ? new JsonReporter(clock, ctx.stdout) : new PlainReporter(clock, ctx.stderr, true);
  const seen = new RecordingReporter(clock);
  const recorder = r.reportFile ? new ReportRecorder(clock) : undefined;
  // The run's reporter; the command tees its own events into `recorder` (ctx.reportRecorder), the rehearsal's go to `own`.
  const reporter = new TeeReporter([out, seen]);
  const own: Reporter = recorder ? new TeeReporter([reporter, recorder]) : reporter;
  const faultText = `${faults.join(', ')}${faults.includes('az-outage') && zones[0] ? ` (no capacity in ${zones[0]})` : ''}`;
  own.emit('info', RehearseCodes.start, `REHEARSAL of ${r.label} on a fresh simulated AWS (nothing in your account is changed), faults: ${faultText}; ${r.observed}`, {
    ...r.subject,
    faults,
    zones,
    observed: observedData(r.reading.groups),
    missing: r.reading.missing,
    source: r.reading.source,
  });
  // A failing run throws (exit 1, 3, 130): the prediction is made all the same, then it is rethrown.
  let exit: number;
  let failure: unknown;
  try {
    exit = await r.run({ ...ctx, clock, reporter, interactive: false, reportRecorder: recorder });
  } catch (err) {
    failure = err;
    exit = err instanceof DeployError ? err.exit : ExitCode.failed;
  }

  // The prediction, measured by the sandbox's safety monitor.
  const after = Sandbox.fromJSON(readSandboxFile(r.state)!.aws);
  const timelines = buildTimelines(seen.events);
  const rows = timelines.map((tl) => {
    const members = tl.groups.filter((g) => g in after.toJSON().groups);
    const lowest = lowestTogether(members.map((g) => after.monitor.samples(g)), tl.start);
    // Only the rehearsed run's: building the world (a scale-in to your size) is not the tool's doing.
    const killed = members.flatMap((g) => after.monitor.healthyUpToDateTerminated(g)).filter((k) => k.time >= since);
    // A/B owns both colors' desired and min (the swap's very point): only the rest must be as it was.
    const owned = tl.strategy === 'ab' ? new Set(['desired', 'min']) : new Set<string>();
    const leftovers = members.flatMap((g) => after.monitor.leftovers(g).filter((l) => !owned.has(l.what)).map((l) => `${g}: ${l.what} ${l.detail}`));
    const floor = tl.floor ?? 0;
    const held = lowest >= floor && killed.length === 0 && leftovers.length === 0;
    return { group: tl.key, service: tl.service, strategy: tl.strategy, outcome: tl.outcome, seconds: tl.seconds, apiCalls: tl.apiCalls, lowestHealthy: lowest, floor, healthyUpToDateTerminated: killed.length, leftovers, held };
  });
  after.dispose();
  const summary = [...seen.events].reverse().find((e) => e.code === 'deploy.summary');
  // From the run's first event (its SIMULATION notice) to its last: the whole run, lock included.
  const first = seen.events.find((e) => e.code !== RehearseCodes.start);
  const last = seen.events[seen.events.length - 1];
  const seconds = first && last ? (Date.parse(last.time) - Date.parse(first.time)) / 1000 : 0;
  // The rollouts' own count (rollout.done/failed apiCalls), the same with or without --report.
  const apiCalls = rows.reduce((n, x) => n + (x.apiCalls ?? 0), 0);
  const invariantsHeld = rows.every((x) => x.held);
  const outcome = exit === 0 ? 'done' : exit === ExitCode.interrupted ? 'interrupted' : 'failed';
  const table = textTable([
    ['group', 'strategy', 'result', 'duration', 'API calls', 'lowest healthy', 'floor', 'invariants'],
    ...rows.map((x) => [x.group, x.strategy, x.outcome, x.seconds === undefined ? '-' : formatDuration(x.seconds), x.apiCalls ?? 0, x.lowestHealthy, x.floor, x.held ? 'held' : `BROKEN${x.leftovers.length ? `: ${x.leftovers.join('; ')}` : ''}`]),
  ]);
  const what = r.command === 'deploy' ? 'the deploy' : `the ${r.command}`;
  const message =
    `REHEARSAL of ${r.label} under ${faults.join(', ')}: ${what} would ${outcome === 'done' ? 'succeed' : outcome === 'failed' ? 'FAIL' : 'be interrupted'} (exit ${exit}) ` +
    `in ${formatDuration(seconds)} (simulated) with ${apiCalls} API calls; the safety invariants ${invariantsHeld ? 'held' : 'were BROKEN'}\n${table}`;
  own.emit(invariantsHeld ? 'info' : 'error', RehearseCodes.result, message, { ...r.subject, faults, exit, outcome, seconds, apiCalls, groups: rows, invariantsHeld, summary: summary?.data.rows });
  const broken = invariantsHeld
    ? undefined
    : new DeployError('rehearse.invariant-broken', `REHEARSAL of ${r.label}: a safety invariant was broken (see the table above); this is a defect of asg-deploy, please report it`, { source: 'tool', exit: ExitCode.failed });
  if (recorder && r.reportFile) {
    const err = broken ?? (failure instanceof DeployError ? failure : undefined);
    try {
      recorder.write(r.reportFile, { command: `${r.command} --rehearse`, dryRun: false, simulated: true, outcome, exit: broken ? ExitCode.failed : exit, error: err ? { code: err.code, message: err.message } : undefined });
      out.emit('info', ReportCodes.written, `report (${outcome}): ${r.reportFile}`, { file: r.reportFile, outcome });
    } catch (e) {
      out.emit('warn', ReportCodes.writeFailed, `could not write the report ${r.reportFile}: ${(e as Error).message}`, { file: r.reportFile, reason: (e as Error).message });
    }
  }
  if (broken) throw broken;
  if (failure) throw failure;
  return exit;
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
