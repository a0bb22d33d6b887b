/**
 * `asg-deploy` as a process for the signal tests: the real CLI (orchestrator/cli.ts `main`, its
 * own SIGINT/SIGTERM handling), the real Automation API stack backend (pulumi = the stand-in on
 * PATH), and the simulated AWS for the lock check and rollouts (the only seam:
 * `deploySeams.openSession`, state file FAKE_SANDBOX_STATE).
 */
import { main } from '../../../orchestrator/cli';
import { openAwsSession } from '../../../orchestrator/commands/aws-session';
import { deploySeams } from '../../../orchestrator/commands/deploy';

deploySeams.openSession = (_args, ctx) => openAwsSession({ 'sandbox-state': process.env.FAKE_SANDBOX_STATE ?? '/tmp/asg-deploy-fake-sandbox.json' }, ctx);
void main(process.argv.slice(2)).then((code) => process.exit(code));
