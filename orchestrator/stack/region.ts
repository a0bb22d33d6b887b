/**
 * Which region `deploy`'s rollout talks to. Pulumi's AWS provider deploys into the stack's
 * `aws:region` when it is set (provider config beats AWS_REGION and the profile), so the
 * orchestrator, which reads that stack's manifest and rolls its groups, must use the same
 * region: otherwise it finds no group, or worse a same-named group of another region.
 *
 *   AWS_REGION / profile   aws:region   rollout uses   event
 *   (none)                 us-east-1    us-east-1      info  (from the stack)
 *   us-east-1              us-east-1    us-east-1      info
 *   eu-west-1              us-east-1    us-east-1      warn  (they disagree; Pulumi uses us-east-1)
 *   eu-west-1              (none)       eu-west-1      info  (Pulumi uses the same chain)
 *   (none)                 (none)       (none)         none  (the SDK fails: "Region is missing")
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { REGION_KEY, type StackConfig } from './config-file';

export interface RegionChoice {
  /** The region for the orchestrator's clients; undefined: leave it to the SDK chain. */
  region?: string;
  source: 'stack' | 'sdk' | 'none';
  /** Set when AWS_REGION/the profile names another region than the stack. */
  warning?: string;
  message?: string;
}

/** Pure: the table above. */
export function chooseRegion(sdkRegion: string | undefined, stackRegion: string | undefined, stack: string): RegionChoice {
  if (stackRegion) {
    if (sdkRegion && sdkRegion !== stackRegion) {
      return {
        region: stackRegion,
        source: 'stack',
        warning:
          `region: AWS_REGION/your profile say ${sdkRegion} but stack ${stack} sets aws:region ${stackRegion}; ` +
          `Pulumi deploys into ${stackRegion}, so the rollout talks to ${stackRegion} too (not ${sdkRegion})`,
      };
    }
    return { region: stackRegion, source: 'stack', message: `region ${stackRegion} (aws:region of stack ${stack}${sdkRegion ? ', as AWS_REGION/your profile' : '; AWS_REGION and your profile set none'})` };
  }
  if (sdkRegion) return { region: sdkRegion, source: 'sdk', message: `region ${sdkRegion} (AWS_REGION/your profile; stack ${stack} sets no aws:region, so Pulumi uses the same)` };
  return { source: 'none' };
}

/** The region the SDK v3 default chain resolves (AWS_REGION, else the profile's region in ~/.aws/config), or undefined. */
export async function sdkChainRegion(): Promise<string | undefined> {
  const probe = new AutoScalingClient({});
  try {
    return await probe.config.region();
  } catch {
    return undefined; // "Region is missing"
  } finally {
    probe.destroy();
  }
}

/** The region for a command on `stack` (real AWS): its config's `aws:region` against the SDK chain. */
export async function stackRegion(config: StackConfig, stack: string): Promise<RegionChoice> {
  const fromStack = config.values[REGION_KEY];
  return chooseRegion(await sdkChainRegion(), typeof fromStack === 'string' ? fromStack : undefined, stack);
}
