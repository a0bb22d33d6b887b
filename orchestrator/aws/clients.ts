/**
 * The AWS SDK v3 clients the tool uses. The real path builds them from the standard SDK
 * chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...); the sandbox hands out the same
 * clients with the simulated service installed underneath (orchestrator/sandbox).
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { S3Client } from '@aws-sdk/client-s3';

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
  // maxAttempts/retryMode also come from the chain (AWS_MAX_ATTEMPTS, AWS_RETRY_MODE);
  // adaptive retry backs off client-side on throttling.
  const common = { retryMode: process.env.AWS_RETRY_MODE ?? 'adaptive', ...(options.region ? { region: options.region } : {}) };
  // --profile: the named profile's credentials and region, as AWS_PROFILE would pick them.
  if (options.profile) Object.assign(common, { profile: options.profile });
  return {
    autoScaling: new AutoScalingClient(common),
    ec2: new EC2Client(common),
    elb: new ElasticLoadBalancingClient(common),
    s3: new S3Client(common),
  };
}
