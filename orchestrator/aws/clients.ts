/**
 * The AWS SDK v3 clients the tool uses. The real path builds them from the standard SDK
 * chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...); the sandbox hands out the same
 * clients with the simulated service installed underneath (orchestrator/sandbox).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '@smithy/core/config';
import { NODE_RETRY_MODE_CONFIG_OPTIONS } from '@smithy/core/retry';

export interface AwsClients {
  autoScaling: AutoScalingClient;
  ec2: EC2Client;
  elb: ElasticLoadBalancingClient;
  s3: S3Client;
}

/**
 * Clients from the standard SDK credential/region/endpoint chain; `--region`/`--profile` pick
 * within it (never credentials as flags).
 * `region`: `deploy` passes the stack's `aws:region` (where Pulumi deploys), see stack/region.ts.
 */
export function createAwsClients(options: { region?: string; profile?: string } = {}): AwsClients {
  // maxAttempts and retryMode come from the SDK's chain (AWS_MAX_ATTEMPTS / AWS_RETRY_MODE, then
  // the profile's max_attempts / retry_mode in ~/.aws/config). Only where that chain has no
  // retry mode does the tool default to 'adaptive' (client-side back-off on throttling) instead
  // of the SDK's 'standard'. Mutating calls are single-attempt whatever the mode (adapter.ts).
  const common = {
    retryMode: loadConfig({ ...NODE_RETRY_MODE_CONFIG_OPTIONS, default: 'adaptive' }),
    ...(options.region ? { region: options.region } : {}),
  };
  // --profile: the named profile's credentials and region, as AWS_PROFILE would pick them.
  if (options.profile) Object.assign(common, { profile: options.profile });
  return {
    autoScaling: new AutoScalingClient(common),
    ec2: new EC2Client(common),
    elb: new ElasticLoadBalancingClient(common),
    s3: new S3Client(common),
  };
}
