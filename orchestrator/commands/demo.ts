/**
 * `asg-deploy demo` (`npm run demo`): a scripted story on the embedded simulated AWS, in scaled
 * real time, in a fresh temporary state. It runs the real `deploy` command four times:
 *   v1  creates the stack (a 3-node quorum on rolling, an A/B web tier on an ALB);
 *   v2  rolls the quorum oldest first and swaps web a → b, shifting its traffic in steps;
 *   v3  ships an image that never becomes healthy: the rollout halts, v2 keeps serving;
 *   v4  (the web tier only) ships a version that passes its health checks but fails its requests
 *       (the simulated AWS's [CW-4]): the team's CloudWatch alarm on the web tier's 5xx count
 *       trips during the swap's keep-old window and the swap switches back, v2 serving throughout.
 * Exits 0 when the story went as expected (v3 and v4 failing included, with nothing left changed), 1 otherwise.
 *
 * Robust under load: the scaled clock only paces the discrete-event simulation (clock.ts), so
 * the story's simulated instants and outcome do not depend on how fast the machine is; the
 * demo's boots are fixed-range and the world seeded.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Argv } from 'yargs';
import { createAwsPort } from '../aws/adapter';
import { VirtualClock } from '../clock';
import { positiveNumberFlag } from './values';
import { usageError } from '../errors';
import { packageRoot } from '../package-info';
import { Sandbox } from '../sandbox';
import { isServing } from './status';
import { RESTORE_TAG } from '../rollout/guard';
import { SWAP_TAG } from '../rollout/ab/strategy';
import { LOCK_TAG } from '../lock/record';
import { quietSdkNodeWarning, readSandboxFile, writeSandboxFile } from './aws-session';
import type { CommandContext, CommandSpec } from './command';

export const DEMO_CONFIG = path.join(packageRoot(), 'examples', 'demo', 'Pulumi.demo.yaml');
/** Default speed: simulated seconds per real second (the story is ~14 simulated minutes: ~45 s at 20×, plus CPU). */
export const DEFAULT_SCALE = 20;

/** The demo's closing hint: the first line of the README's sandbox walk-through (a test runs it). */
export const DEMO_NEXT = 'npx asg-deploy deploy --stack qa --create --sandbox && npx asg-deploy status --sandbox';

interface Step {
  title: string;
  explain: string;
  image: string;
  expectExit: number;
  /** The stack config of this step from the demo's file (default: the image replaced everywhere). */
  config?: (base: string, alarms: string[]) => string;
  /** Extra deploy arguments. */
  args?: string[];
}

/** v4: how long after it starts answering the version fails its requests, and the keep-old window. */
export const V4_ERRORS_AFTER_SECONDS = 240;
export const V4_KEEP_OLD = '10m';

const STEPS: Step[] = [
  { title: 'v1', image: 'ami-0demo1', expectExit: 0, explain: 'deploy v1: the simulated `pulumi up` creates launch templates, load balancers (a classic ELB, an ALB with its target groups) and groups; nothing to roll out yet.' },
  { title: 'v2', image: 'ami-0demo2', expectExit: 0, explain: 'deploy v2: new launch template versions; rabbit is replaced oldest first (never below 2 healthy), web swaps a → b on its ALB, shifting traffic 25 % → 50 % → 100 % while b stays healthy.' },
  { title: 'v3', image: 'ami-0demo3', expectExit: 1, explain: 'deploy v3: a broken image that never passes its health check; the rollout must halt with v2 still serving.' },
  {
    title: 'v4',
    image: 'ami-0demo4',
    expectExit: 1,
    explain: `deploy v4 of the web tier (keepOld ${V4_KEEP_OLD}, watching its 5xx alarm): it passes its health checks but fails its requests ${V4_ERRORS_AFTER_SECONDS / 60} min after it starts; the alarm trips during the keep-old window and the swap switches back, v2 serving throughout.`,
    config: v4Config,
    args: ['--service', 'web'],
  },
];

/**
 * v4's stack config: the web service gets ami-0demo4, `keepOld` and the alarms on its 5xx
 * count; rabbit goes back to v2's image (after v3's halt; v4 deploys `--service web` only).
 */
export function v4Config(base: string, alarms: string[]): string {
  const lines = base.split('\n');
  const start = lines.findIndex((l) => /^ {4}web:\s*$/.test(l));
  if (start < 0) throw new Error('demo: no web service in the demo stack config');
  let end = lines.findIndex((l, i) => i > start && /^ {0,4}\S/.test(l));
  if (end < 0) end = lines.length;
  const image = (from: number, to: number, ami: string) => lines.slice(from, to).map((l) => l.replace(/ami-0demo1/g, ami));
  return [
    ...image(0, start + 1, 'ami-0demo2'),
    `      keepOld: ${V4_KEEP_OLD}`,
    `      alarms: [${alarms.join(', ')}]`,
    ...image(start + 1, end, 'ami-0demo4'),
    ...image(end, lines.length, 'ami-0demo2'),
  ].join('\n');
}

export const demoCommand: CommandSpec = {
  name: 'demo',
  describe: 'a scripted deploy story on the embedded simulated AWS (about a minute)',
  usage: '$0 demo [--scale N] [--keep] [--json]',
  examples: [
    ['$0 demo', 'the story at 20x speed (about a minute)'],
    ['$0 demo --scale 100 --keep', 'faster, and keep the state directory to look at afterwards'],
  ],
  builder: (y: Argv) =>
    y
      .option('scale', { type: 'string', describe: `simulated seconds per real second (default ${DEFAULT_SCALE}; env ASG_DEPLOY_DEMO_SCALE)` })
      .option('keep', { type: 'boolean', default: false, describe: 'keep the temporary state directory and print its path' })
      .option('json', { type: 'boolean', default: false, describe: 'JSON events of each deploy on stdout' }),
  async run(args, ctx) {
    const scale = positiveNumberFlag('scale', args.scale ?? ctx.env.ASG_DEPLOY_DEMO_SCALE) ?? DEFAULT_SCALE;
    quietSdkNodeWarning(); // before the first SDK client: the demo is a simulation
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-demo-'));
    const say = (line: string) => ctx.stderr.write(`${line}\n`);
    try {
      const state = path.join(dir, 'sandbox-state.json');
      const base = fs.readFileSync(DEMO_CONFIG, 'utf8');
      const clock = new VirtualClock({ scale });
      say(`asg-deploy demo — a SIMULATION: the real infra/ program and rollout engines against the embedded simulated AWS.`);
      say(`No AWS account, no pulumi CLI. Time runs ${scale}× faster than real time. State: ${state}\n`);

      // Boots in the demo are quick and fixed so the story fits in about a minute.
      const seeded = Sandbox.create({ clock, seed: 7, faults: { bootSeconds: { min: 25, max: 35 } } });
      seeded.setImage('ami-0demo3', { healthy: false });
      // v4 answers its health checks, then fails its requests (cloudwatch/SPEC.md [CW-4]).
      seeded.setImage('ami-0demo4', { errorsAfterSeconds: V4_ERRORS_AFTER_SECONDS });
      writeSandboxFile(state, seeded, {});
      seeded.dispose(); // saved; each deploy loads the state file on the same clock

      // cli.ts registers this command: required here, not at load, to avoid the cycle.
      const { main } = require('../cli') as typeof import('../cli');
      const problems: string[] = [];
      let alarms: string[] = [];
      let stepStart = 0;
      for (const [n, step] of STEPS.entries()) {
        const config = path.join(dir, `Pulumi.demo.${step.title}.yaml`);
        if (step.config) alarms = await createWebAlarms(state, clock);
        fs.writeFileSync(config, step.config ? step.config(base, alarms) : base.replace(/ami-0demo1/g, step.image));
        say(`\n━━ step ${n + 1}/${STEPS.length}: ${step.explain}`);
        stepStart = clock.now();
        const argv = ['deploy', '--stack', 'demo', ...(n === 0 ? ['--create'] : []), '--sandbox', '--sandbox-state', state, '--config-file', config, ...(step.args ?? []), ...(args.json ? ['--json'] : [])];
        say(`$ asg-deploy ${argv.join(' ')}`);
        const exit = await main(argv, { stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env, signal: ctx.signal, context: { clock, interactive: ctx.interactive } });
        if (exit === 130) return 130;
        const ok = exit === step.expectExit;
        say(ok ? `✔ ${step.title}: exit ${exit}, as expected` : `✘ ${step.title}: exit ${exit}, expected ${step.expectExit}`);
        if (!ok) problems.push(`${step.title} exited ${exit}, expected ${step.expectExit}`);
        if (!ok) break;
      }
      // v4's switch-back scaled the new color to 0 as the run ended: the check looks once AWS has drained it.
      if (problems.length === 0) problems.push(...(await checkAfterV3(state, SETTLE_MS)), ...checkAfterV4(state, alarms, stepStart));
      if (problems.length > 0) {
        say(`\nThe demo did not go as expected:\n  ${problems.join('\n  ')}`);
        return 1;
      }
      say('\nAs expected: v1 created, v2 rolled out oldest first and swapped a → b in traffic steps, v3 halted safely with v2 still serving and nothing left changed.');
      say('v4 passed its health checks, tripped the web tier\'s 5xx alarm during the keep-old window and was switched back automatically, v2 serving throughout.');
      say(`Try it yourself (README.md, "Try it in the sandbox"): ${DEMO_NEXT}`);
      return 0;
    } finally {
      if (args.keep) say(`state kept in ${dir}`);
      else fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

/** How long the checks let the simulated AWS carry out what the last run asked (a scale-in: connection draining, shutdown). */
const SETTLE_MS = 5 * 60_000;

/**
 * After the broken v3 (and v4): every healthy serving instance still runs v2, each service has
 * enough of them, and the halted rollout restored what it changed (no suspended process, no
 * restore, swap or lock tag, the rolling group back at its capacity) — looked at `settleMs` after
 * the last run ended (AWS carrying out a scale-in it was asked for).
 */
async function checkAfterV3(stateFile: string, settleMs = 0): Promise<string[]> {
  const file = readSandboxFile(stateFile);
  const manifest = file?.stacks.demo?.outputs.services as import('../stack/manifest').ServicesManifest | undefined;
  if (!file || !manifest) return ['no demo stack in the state after the story'];
  const sandbox = Sandbox.fromJSON(file.aws);
  sandbox.advance(settleMs);
  const port = createAwsPort(sandbox.clients, sandbox.clock);
  const problems: string[] = [];
  const v2 = new Set(Object.values(file.aws.launchTemplates).flatMap((lt) => lt.versions.filter((v) => v.data.ImageId === 'ami-0demo2').map((v) => `${lt.id}:${v.version}`)));
  for (const s of manifest.services) {
    const groups = s.strategy === 'rolling' ? [s.asgName] : [s.asgNames.a, s.asgNames.b];
    let serving = 0;
    for (const name of groups) {
      const g = await port.observeGroup(name);
      if (g.suspendedProcesses.length > 0) problems.push(`${name}: processes left suspended: ${g.suspendedProcesses.join(', ')}`);
      for (const tag of [RESTORE_TAG, SWAP_TAG, LOCK_TAG]) if (g.tags[tag] !== undefined) problems.push(`${name}: tag ${tag} left behind`);
      if (s.strategy === 'rolling' && g.desired !== s.capacity) problems.push(`${name}: desired ${g.desired}, not back at its capacity ${s.capacity}`);
      for (const i of g.instances.filter((x) => isServing(x, g))) {
        const lt = i.launchedFrom.launchTemplate;
        if (!lt || !v2.has(`${lt.id}:${lt.version}`)) problems.push(`${s.service}: ${i.instanceId} serves but is not v2`);
        else serving++;
      }
    }
    const need = s.strategy === 'rolling' ? s.rollout.minHealthy : s.capacity;
    if (serving < need) problems.push(`${s.service}: only ${serving} healthy v2 instances serve, expected at least ${need}`);
  }
  sandbox.dispose();
  return problems;
}

/**
 * Before v4: the team's alarms on the web tier's 5xx count (a real PutMetricAlarm through the SDK
 * client on the saved simulated AWS): one per color's classic ELB (AWS/ELB HTTPCode_Backend_5XX),
 * or one on the ALB (AWS/ApplicationELB HTTPCode_Target_5XX_Count). More than 10 errors in a
 * minute is ALARM; no datapoint (no error) is not breaching.
 */
async function createWebAlarms(stateFile: string, clock: VirtualClock): Promise<string[]> {
  const file = readSandboxFile(stateFile);
  const web = (file?.stacks.demo?.outputs.services as import('../stack/manifest').ServicesManifest | undefined)?.services.find((x) => x.service === 'web');
  if (!file || !web || web.strategy !== 'ab') throw new Error('demo: no web service in the demo stack after v1');
  const sandbox = Sandbox.fromJSON(file.aws, { clock });
  const { PutMetricAlarmCommand } = require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch');
  const common = { Statistic: 'Sum' as const, Period: 60, EvaluationPeriods: 1, Threshold: 10, ComparisonOperator: 'GreaterThanThreshold' as const, TreatMissingData: 'notBreaching' };
  const made: Array<{ name: string; namespace: string; metric: string; dimension: { Name: string; Value: string } }> = [];
  const lbArn = web.elbv2?.loadBalancerArn;
  if (lbArn) {
    made.push({ name: 'demo-web-5xx', namespace: 'AWS/ApplicationELB', metric: 'HTTPCode_Target_5XX_Count', dimension: { Name: 'LoadBalancer', Value: lbArn.slice(lbArn.indexOf(':loadbalancer/') + ':loadbalancer/'.length) } });
  } else if (web.elbNames) {
    for (const c of ['a', 'b'] as const) made.push({ name: `demo-web-${c}-5xx`, namespace: 'AWS/ELB', metric: 'HTTPCode_Backend_5XX', dimension: { Name: 'LoadBalancerName', Value: web.elbNames[c] } });
  }
  try {
    for (const a of made) {
      await sandbox.clients.cloudWatch!.send(new PutMetricAlarmCommand({ AlarmName: a.name, Namespace: a.namespace, MetricName: a.metric, Dimensions: [a.dimension], ...common }));
    }
    writeSandboxFile(stateFile, sandbox, file.stacks);
  } finally {
    sandbox.dispose();
  }
  return made.map((a) => a.name);
}

/**
 * After v4: its alarm went to ALARM once the new color served its whole count (in the keep-old
 * window), the old color served its full count all through the step, and (checkAfterV3) only
 * v2 serves, nothing left changed.
 */
function checkAfterV4(stateFile: string, alarms: string[], stepStart: number): string[] {
  const file = readSandboxFile(stateFile);
  const web = (file?.stacks.demo?.outputs.services as import('../stack/manifest').ServicesManifest | undefined)?.services.find((x) => x.service === 'web');
  if (!file || !web || web.strategy !== 'ab') return ['no web service in the demo stack after v4'];
  if (alarms.length === 0) return ['v4: no alarm was created on the web tier'];
  const sandbox = Sandbox.fromJSON(file.aws);
  try {
    const problems: string[] = [];
    const tripped = alarms.map((n) => file.aws.alarms?.[n]).filter((a) => a?.state === 'ALARM');
    if (tripped.length === 0) problems.push(`v4: the alarm (${alarms.join(', ')}) never went to ALARM`);
    const groups = [web.asgNames.a, web.asgNames.b];
    // The old color: the one serving v2 now; the new one: the other, which v4 grew and gave back.
    const old = groups.find((g) => (file.aws.groups[g]?.desired ?? 0) > 0);
    const fresh = groups.find((g) => g !== old);
    if (!old || !fresh) return [...problems, 'v4: no color serves after the step'];
    const min = sandbox.monitor.minHealthy(old, stepStart);
    if (min < web.capacity) problems.push(`v4: ${old} (v2) fell to ${min} healthy instances during the step (expected ${web.capacity} throughout)`);
    const samples = file.aws.monitor.healthy[fresh] ?? [];
    const servedAt = samples.find(([time, n]) => time >= stepStart && n >= web.capacity)?.[0];
    if (servedAt === undefined) problems.push(`v4: ${fresh} never served its ${web.capacity} instances (the keep-old window never opened)`);
    else if (tripped.length && !tripped.some((a) => a!.updatedAt >= servedAt)) problems.push('v4: the alarm tripped before the new version served (not in the keep-old window)');
    if ((file.aws.groups[fresh]?.desired ?? 0) !== 0) problems.push(`v4: ${fresh} was not scaled back (desired ${file.aws.groups[fresh]?.desired})`);
    return problems;
  } finally {
    sandbox.dispose();
  }
}

export type { CommandContext };
