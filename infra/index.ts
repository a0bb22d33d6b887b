/**
 * The Pulumi program (Pulumi.yaml `main: infra/`). Reads `asg-deploy:services`, validates it
 * BEFORE declaring any resource, declares everything, and exports `services`: the manifest the
 * orchestrator reads after `up` (see ./manifest.ts and README "Configuration").
 */
import * as pulumi from '@pulumi/pulumi';
import { parseServices, uncoveredToolTags } from './config';
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
warnUnignoredToolTags();

/** The tool's runtime group tags must be in the AWS provider's ignoreTags, or a refresh adopts them and the next up deletes them. */
function warnUnignoredToolTags(): void {
  const missing = uncoveredToolTags(new pulumi.Config('aws').getObject<unknown>('ignoreTags'));
  if (missing.length > 0) {
    pulumi.log.warn(`aws:ignoreTags does not cover ${missing.join(', ')}: after a 'pulumi refresh' the next 'pulumi up' would delete these rollout records and freezes; add them to aws:ignoreTags.keys in the stack config (docs/configuration.md)`);
  }
}

/** The services manifest (version 1): names, strategy, pinned launch template versions, rollout settings. */
export const services = declareServices(configs, stack).manifest;
