/**
 * Which AWS a command talks to: your account through the standard SDK chain, or (with
 * `--sandbox`) the embedded simulated AWS, whose state is kept in a local file between runs.
 * Commands take their clock from the session: simulated time in the sandbox.
 */
import { createAwsClients, type AwsClients } from '../aws/clients';
import type { Clock } from '../clock';
import { notImplemented } from '../errors';
import type { CommandContext } from './command';

export interface AwsSession {
  clients: AwsClients;
  /** The clock rollouts wait on: the context's clock for real AWS, simulated time in the sandbox. */
  clock: Clock;
  /** True when this is the simulated AWS: commands say so in their output. */
  simulated: boolean;
  /** Persist the simulated state (sandbox) and release resources. Always call it, in `finally`. */
  close(): Promise<void>;
}

export async function openAwsSession(args: { sandbox?: boolean; 'sandbox-state'?: string }, ctx: CommandContext): Promise<AwsSession> {
  if (args.sandbox) {
    // Wired up by the sandbox/deploy work (orchestrator/sandbox): load the state file, build the
    // simulated clients on a virtual clock, and save the state on close.
    throw notImplemented("'--sandbox'");
  }
  return { clients: createAwsClients(), clock: ctx.clock, simulated: false, close: async () => {} };
}
