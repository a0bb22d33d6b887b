/**
 * The Pulumi program (Pulumi.yaml `main: infra/`). Reads `asg-deploy:services`, validates it
 * BEFORE declaring any resource, declares everything, and exports `services`: the manifest the
 * orchestrator reads after `up` (see ./manifest.ts and README "Configuration").
 */
import * as pulumi from '@pulumi/pulumi';
import { parseServices } from './config';
import { DeployError } from '../orchestrator/errors';
import { declareServices } from './program';

function validated() {
  const stack = pulumi.getStack();
  const raw = new pulumi.Config('asg-deploy').getObject<unknown>('services');
  try {
    return { stack, configs: parseServices(raw ?? {}, stack) };
  } catch (err) {
    // RunError: Pulumi prints the message (every problem, one per line) without a stack trace.
    if (err instanceof DeployError) throw Object.assign(new pulumi.RunError(err.message), { cause: err });
    throw err;
  }
}

const { stack, configs } = validated();

/** The services manifest (version 1): names, strategy, pinned launch template versions, rollout settings. */
export const services = declareServices(configs, stack).manifest;
