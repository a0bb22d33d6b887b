/**
 * What every rollout (rolling or A/B, from its command or from `deploy`'s post-update hook)
 * returns when it ends without throwing. Failures throw DeployError (exit 1/3/130) after the
 * guard rails restored what the tool changed; `data` on those errors carries the same fields.
 */
export interface RolloutResult {
  /** 'done': the group(s) now run the new version; 'noop': nothing was outdated; 'planned': a dry run. */
  status: 'done' | 'noop' | 'planned';
  /** The group name (rolling) or environment (A/B) this result is about. */
  target: string;
  strategy: 'rolling' | 'ab';
  /** Instances the tool terminated or drained because they were outdated. */
  replaced: string[];
  /** Simulated or real seconds from start to end. */
  seconds: number;
  /** AWS API calls made. */
  apiCalls: number;
  /** Human one-line summary ("replaced 3 of 3 instances oldest first, surge 1"). */
  summary: string;
}
