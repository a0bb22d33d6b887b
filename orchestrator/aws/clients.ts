/**
 * The AWS SDK v3 clients the tool uses. The real path builds them from the standard SDK
 * chain (AWS_PROFILE, AWS_REGION, AWS_ENDPOINT_URL, ...); the sandbox hands out the same
 * clients with the simulated service installed underneath (orchestrator/sandbox).
 */
import type { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { EC2Client } from '@aws-sdk/client-ec2';
import type { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import type { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import type { S3Client } from '@aws-sdk/client-s3';
import { loadConfig } from '@smithy/core/config';
import { NODE_RETRY_MODE_CONFIG_OPTIONS } from '@smithy/core/retry';

export interface AwsClients {
  autoScaling: AutoScalingClient;
  ec2: EC2Client;
  elb: ElasticLoadBalancingClient;
  /** ALB/NLB target groups, listeners and rules. */
  elbv2: ElasticLoadBalancingV2Client;
  s3: S3Client;
  /** CloudWatch (alarms: `--alarm`); optional for callers that never read alarms. */
  cloudWatch?: CloudWatchClient;
}

/**
 * Clients from the standard SDK credential/region/endpoint chain; `--region`/`--profile` pick
 * within it (never credentials as flags).
 * `region`: `deploy` passes the stack's `aws:region` (where Pulumi deploys), see stack/region.ts.
 *
 * Each client (and its SDK package) is loaded and built on first use: a command that never
 * touches S3 (no S3 lock bucket) never loads `@aws-sdk/client-s3`.
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
  let autoScaling: AutoScalingClient | undefined;
  let ec2: EC2Client | undefined;
  let elb: ElasticLoadBalancingClient | undefined;
  let elbv2: ElasticLoadBalancingV2Client | undefined;
  let s3: S3Client | undefined;
  let cloudWatch: CloudWatchClient | undefined;
  // require() on first access: the getters are synchronous, and a static import would load all four.
  return {
    get autoScaling() {
      return (autoScaling ??= new (require('@aws-sdk/client-auto-scaling') as typeof import('@aws-sdk/client-auto-scaling')).AutoScalingClient(common));
    },
    get ec2() {
      return (ec2 ??= new (require('@aws-sdk/client-ec2') as typeof import('@aws-sdk/client-ec2')).EC2Client(common));
    },
    get elb() {
      return (elb ??= new (require('@aws-sdk/client-elastic-load-balancing') as typeof import('@aws-sdk/client-elastic-load-balancing')).ElasticLoadBalancingClient(common));
    },
    get elbv2() {
      return (elbv2 ??= new (require('@aws-sdk/client-elastic-load-balancing-v2') as typeof import('@aws-sdk/client-elastic-load-balancing-v2')).ElasticLoadBalancingV2Client(common));
    },
    get s3() {
      return (s3 ??= new (require('@aws-sdk/client-s3') as typeof import('@aws-sdk/client-s3')).S3Client(common));
    },
    get cloudWatch() {
      return (cloudWatch ??= new (require('@aws-sdk/client-cloudwatch') as typeof import('@aws-sdk/client-cloudwatch')).CloudWatchClient(common));
    },
  };
}
