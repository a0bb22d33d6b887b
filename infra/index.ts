/**
 * The Pulumi program (Pulumi.yaml `main: infra/`). Reads `asg-deploy:services`, validates it
 * BEFORE declaring any resource, declares everything, and exports `services`: the manifest the
 * orchestrator reads after `up` (see ./manifest.ts and README "Configuration").
 * A services value holding Pulumi secrets is read with the secret-aware accessor and its
 * secret-capable fields stay secret Outputs (./secrets.ts).
 */
import * as pulumi from '@pulumi/pulumi';
import { parseServices, secretSafeError } from './config';
import { DeployError } from '../orchestrator/errors';
import { declareServices } from './program';
import { readServicesConfig, servicesSecrets } from './secrets';

function validated() {
  const stack = pulumi.getStack();
  const read = readServicesConfig(new pulumi.Config('asg-deploy'));
  try {
    return { stack, read, configs: parseServices(read.raw ?? {}, stack) };
  } catch (err) {
    // RunError: Pulumi prints the message (every problem, one per line) without a stack trace.
    // A secret services value: the problems name their keys, never a value.
    const shown = read.secret && err instanceof DeployError ? secretSafeError(err) : err;
    if (shown instanceof DeployError) throw Object.assign(new pulumi.RunError(shown.message), { cause: shown });
    throw err;
  }
}

const { stack, read, configs } = validated();

/** The services manifest (version 1): names, strategy, pinned launch template versions, rollout settings. */
export const services = declareServices(configs, stack, servicesSecrets(read, configs, stack)).manifest;
