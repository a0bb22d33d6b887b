/**
 * Which AWS a command talks to: your account through the standard SDK chain, or (with
 * `--sandbox`) the embedded simulated AWS, whose state is kept in a local file between runs.
 * Commands take their clock from the session: simulated time in the sandbox.
 *
 * The sandbox state file (default `.asg-deploy/sandbox-state.json`, `--sandbox-state FILE`)
 * holds the simulated AWS (orchestrator/sandbox `toJSON()`) and the sandbox stacks (the inputs
 * and outputs of the last simulated `pulumi up` per stack), so `deploy`, `roll`, `ab`, `status`
 * with `--sandbox` all see the same world.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createAwsClients, type AwsClients } from '../aws/clients';
import { VirtualClock, type Clock } from '../clock';
import { usageError } from '../errors';
import { profileFlag, regionFlag } from './values';
import type { Sandbox } from '../sandbox';
import { projectRoot } from '../package-info';
import type { ImageBehaviour, SandboxState } from '../sandbox/model';
import type { SandboxStacksState } from '../stack/sandbox-stack';
import type { StackBackend } from '../stack/port';
import type { CommandContext } from './command';

export interface SandboxHandle {
  sandbox: Sandbox;
  stateFile: string;
  /** The stacks of this simulated world (deploy --sandbox, status --stack --sandbox). */
  stacks(): StackBackend;
}

export interface AwsSession {
  clients: AwsClients;
  /** The clock rollouts wait on: the context's clock for real AWS, simulated time in the sandbox. */
  clock: Clock;
  /** True when this is the simulated AWS: commands say so in their output. */
  simulated: boolean;
  /** Set when simulated. */
  sandbox?: SandboxHandle;
  /** Persist the simulated state (sandbox) and release resources. Always call it, in `finally`. */
  close(): Promise<void>;
}

/** The simulated AWS, loaded on first use: commands on real AWS never load it. */
function sandboxModule(): typeof import('../sandbox') {
  return require('../sandbox') as typeof import('../sandbox');
}

/** The default sandbox state: in the project directory (package-info.ts `projectRoot`, the one path rule). */
export const DEFAULT_SANDBOX_STATE = path.join(projectRoot(), '.asg-deploy', 'sandbox-state.json');
const FORMAT = 'asg-deploy-sandbox-file/1';

/** The state file: the simulated AWS plus the sandbox stacks. */
export interface SandboxFile {
  format: typeof FORMAT;
  note: string;
  aws: SandboxState;
  stacks: SandboxStacksState;
}

/**
 * The simulation talks to no AWS: the SDK's NodeVersionSupportWarning (printed once per process,
 * at the first client's construction, on Node < 22) is noise there. Real runs keep it: it is true.
 * Call before the first SDK client is built.
 */
export function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ||= 'true';
}

export interface SessionArgs {
  sandbox?: boolean;
  'sandbox-state'?: string;
  region?: unknown;
  profile?: unknown;
}

/**
 * `options.region`: the region for real AWS clients (deploy: the stack's aws:region); else
 * `--region`, else the SDK chain's. `--profile` picks the profile (credentials and region).
 * `options.readOnly`: a command that changes nothing (status, a dry run) writes no sandbox state
 * file either (a missing one is an empty simulated AWS).
 */
export async function openAwsSession(args: SessionArgs, ctx: CommandContext, options: { region?: string; readOnly?: boolean } = {}): Promise<AwsSession> {
  const region = options.region ?? regionFlag(args.region);
  const profile = profileFlag(args.profile);
  if (args.sandbox || args['sandbox-state'] !== undefined) return openSandboxSession(sandboxStateFile(args, ctx.env), ctx, Boolean(options.readOnly));
  return { clients: createAwsClients({ region, profile }), clock: ctx.clock, simulated: false, close: async () => {} };
}

/** `--sandbox-state FILE`, else `ASG_DEPLOY_SANDBOX_STATE`, else `<project>/.asg-deploy/sandbox-state.json`. */
export function sandboxStateFile(args: SessionArgs, env: NodeJS.ProcessEnv = process.env): string {
  return args['sandbox-state'] ?? (env.ASG_DEPLOY_SANDBOX_STATE || DEFAULT_SANDBOX_STATE);
}

/** Reads the state file (absent: a fresh world). A corrupt file is bad input naming it. */
export function readSandboxFile(file: string): SandboxFile | undefined {
  if (!fs.existsSync(file)) return undefined;
  let parsed: SandboxFile;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as SandboxFile;
  } catch (err) {
    throw usageError('sandbox.state-invalid', `--sandbox-state ${file}: not valid JSON (${(err as Error).message}); delete it to start a fresh simulation`);
  }
  if (parsed?.format !== FORMAT) throw usageError('sandbox.state-invalid', `--sandbox-state ${file}: not an asg-deploy sandbox state file (format ${JSON.stringify(parsed?.format)})`);
  return parsed;
}

export function writeSandboxFile(file: string, sandbox: Sandbox, stacks: SandboxStacksState): void {
  const content: SandboxFile = {
    format: FORMAT,
    note: 'SIMULATION: the state of the embedded simulated AWS used by asg-deploy --sandbox; no real AWS resource exists',
    aws: sandbox.toJSON(),
    stacks,
  };
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(content));
  fs.renameSync(tmp, file);
}

/**
 * Marks how instances from an image behave in a sandbox state file (e.g. a broken image that never
 * becomes healthy), creating the file if needed. Tests and the demo use it to stage a bad release.
 */
export function setSandboxImage(file: string, imageId: string, behaviour: ImageBehaviour): void {
  const existing = readSandboxFile(file);
  const { Sandbox } = sandboxModule();
  const sandbox = existing ? Sandbox.fromJSON(existing.aws) : Sandbox.create();
  sandbox.setImage(imageId, behaviour);
  writeSandboxFile(file, sandbox, existing?.stacks ?? {});
}

async function openSandboxSession(file: string, ctx: CommandContext, readOnly: boolean): Promise<AwsSession> {
  quietSdkNodeWarning();
  const existing = readSandboxFile(file);
  // The context may hand in a VirtualClock (the demo's, scaled to real time); else simulated time.
  const given = ctx.clock instanceof VirtualClock ? ctx.clock : undefined;
  const clock = given ?? new VirtualClock(existing ? { start: existing.aws.now } : {});
  if (existing && clock.now() < existing.aws.now) clock.advanceTo(existing.aws.now);
  const { Sandbox } = sandboxModule();
  const sandbox = existing ? Sandbox.fromJSON(existing.aws, { clock }) : Sandbox.create({ clock });
  const stacks: SandboxStacksState = existing?.stacks ?? {};
  return {
    clients: sandbox.clients,
    clock: sandbox.clock,
    simulated: true,
    sandbox: {
      sandbox,
      stateFile: file,
      // The sandbox stacks (and Pulumi's mock runtime) only when a command works on a stack.
      stacks: () => {
        const { SandboxStacks } = require('../stack/sandbox-stack') as typeof import('../stack/sandbox-stack');
        return new SandboxStacks({ clients: sandbox.clients, clock: sandbox.clock, stacks, env: ctx.env });
      },
    },
    close: async () => {
      if (!readOnly) writeSandboxFile(file, sandbox, stacks);
      // Saved: this world must not keep simulating on a clock that outlives it (the demo's).
      sandbox.dispose();
    },
  };
}
