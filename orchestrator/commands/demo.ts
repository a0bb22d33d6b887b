/**
 * `asg-deploy demo` (`npm run demo`): a scripted story on the embedded simulated AWS, in scaled
 * real time, in a fresh temporary state. It runs the real `deploy` command three times:
 *   v1  creates the stack (a 3-node quorum on rolling, an A/B web tier on an ALB);
 *   v2  rolls the quorum oldest first and swaps web a → b, shifting its traffic in steps;
 *   v3  ships an image that never becomes healthy: the rollout halts, v2 keeps serving.
 * Exits 0 when the story went as expected (v3 halting included, with nothing left changed), 1 otherwise.
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
/** Default speed: simulated seconds per real second (the story is ~8 simulated minutes: ~25 s at 20×, plus CPU). */
export const DEFAULT_SCALE = 20;

/** The demo's closing hint: the first line of the README's sandbox walk-through (a test runs it). */
export const DEMO_NEXT = 'npx asg-deploy deploy --stack qa --create --sandbox && npx asg-deploy status --sandbox';

interface Step {
  title: string;
  explain: string;
  image: string;
  expectExit: number;
}

const STEPS: Step[] = [
  { title: 'v1', image: 'ami-0demo1', expectExit: 0, explain: 'deploy v1: the simulated `pulumi up` creates launch templates, load balancers (a classic ELB, an ALB with its target groups) and groups; nothing to roll out yet.' },
  { title: 'v2', image: 'ami-0demo2', expectExit: 0, explain: 'deploy v2: new launch template versions; rabbit is replaced oldest first (never below 2 healthy), web swaps a → b on its ALB, shifting traffic 25 % → 50 % → 100 % while b stays healthy.' },
  { title: 'v3', image: 'ami-0demo3', expectExit: 1, explain: 'deploy v3: a broken image that never passes its health check; the rollout must halt with v2 still serving.' },
];

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
      writeSandboxFile(state, seeded, {});
      seeded.dispose(); // saved; each deploy loads the state file on the same clock

      // cli.ts registers this command: required here, not at load, to avoid the cycle.
      const { main } = require('../cli') as typeof import('../cli');
      const problems: string[] = [];
      for (const [n, step] of STEPS.entries()) {
        const config = path.join(dir, `Pulumi.demo.${step.title}.yaml`);
        fs.writeFileSync(config, base.replace(/ami-0demo1/g, step.image));
        say(`\n━━ step ${n + 1}/${STEPS.length}: ${step.explain}`);
        const argv = ['deploy', '--stack', 'demo', ...(n === 0 ? ['--create'] : []), '--sandbox', '--sandbox-state', state, '--config-file', config, ...(args.json ? ['--json'] : [])];
        say(`$ asg-deploy ${argv.join(' ')}`);
        const exit = await main(argv, { stdout: ctx.stdout, stderr: ctx.stderr, env: ctx.env, signal: ctx.signal, context: { clock, interactive: ctx.interactive } });
        if (exit === 130) return 130;
        const ok = exit === step.expectExit;
        say(ok ? `✔ ${step.title}: exit ${exit}, as expected` : `✘ ${step.title}: exit ${exit}, expected ${step.expectExit}`);
        if (!ok) problems.push(`${step.title} exited ${exit}, expected ${step.expectExit}`);
        if (!ok) break;
      }
      if (problems.length === 0) problems.push(...(await checkAfterV3(state)));
      if (problems.length > 0) {
        say(`\nThe demo did not go as expected:\n  ${problems.join('\n  ')}`);
        return 1;
      }
      say('\nAs expected: v1 created, v2 rolled out oldest first and swapped a → b in traffic steps, v3 halted safely with v2 still serving and nothing left changed.');
      say(`Try it yourself (README.md, "Try it in the sandbox"): ${DEMO_NEXT}`);
      return 0;
    } finally {
      if (args.keep) say(`state kept in ${dir}`);
      else fs.rmSync(dir, { recursive: true, force: true });
    }
  },
};

/**
 * After the broken v3: every healthy serving instance still runs v2, each service has enough of
 * them, and the halted rollout restored what it changed (no suspended process, no restore, swap
 * or lock tag, the rolling group back at its capacity).
 */
async function checkAfterV3(stateFile: string): Promise<string[]> {
  const file = readSandboxFile(stateFile);
  const manifest = file?.stacks.demo?.outputs.services as import('../stack/manifest').ServicesManifest | undefined;
  if (!file || !manifest) return ['no demo stack in the state after the story'];
  const sandbox = Sandbox.fromJSON(file.aws);
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

export type { CommandContext };
