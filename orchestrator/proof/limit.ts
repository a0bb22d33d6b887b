/**
 * The physical limit of a rollout: the least time ANY tool could take, given what AWS itself
 * needs. For each batch of replacements a new instance must boot and then pass the classic
 * ELB's health check (HealthyThreshold consecutive passes, one every Interval); batches are
 * sequential, because the next batch may only start once this one is healthy (quorum safety).
 * Once the last batch is healthy the old instances still have to drain their connections.
 *
 *   limit = Σ over batches (max boot in the batch + interval × healthyThreshold) + drain
 *
 * Worked examples (these are also the unit tests):
 * - 3-node quorum, batch 1, boot 90 s, ELB 10 s × 3, no draining:
 *   3 batches × (90 + 30) + 0 = 360 s.
 * - 100 instances, batch 10, boot 90 s, ELB 10 s × 3, no draining:
 *   10 batches × 120 + 0 = 1,200 s.
 * - A/B with 8 instances (one batch: the whole new color), boot 90 s, ELB 10 s × 3, draining 300 s:
 *   1 × 120 + 300 = 420 s.
 * - 7 instances in batches of 3: batches of 3, 3, 1 → 3 × 120 = 360 s (a partial batch costs a
 *   whole batch: it still waits one boot and one health check).
 *
 * It deliberately ignores everything a tool could in principle overlap or AWS could speed up
 * (API latency, the ASG's activity loop, the phase of the ELB's check timer), so a tool that
 * gets within a few per cent of it wastes essentially no time.
 */

export interface LimitInput {
  /** Instances to replace (rolling) or to bring up in the new color (A/B). */
  replace: number;
  /** How many at a time. A/B without steps: equal to `replace`. */
  batchSize: number;
  /** Seconds from launch until the application answers (EC2 boot + app start). */
  bootSeconds: number | ((batchIndex: number) => number);
  /** Classic ELB health check. */
  healthCheck: { interval: number; healthyThreshold: number };
  /** Connection draining of the replaced instances after the last batch, seconds (0 when off). */
  drainSeconds: number;
}

export interface LimitBreakdown {
  batches: number;
  /** Seconds per batch: boot + interval × healthyThreshold. */
  perBatch: number[];
  drain: number;
  total: number;
}

/** The physical limit in seconds, with its breakdown. Zero replacements cost nothing. */
export function physicalLimit(input: LimitInput): LimitBreakdown {
  if (input.replace < 0 || !Number.isFinite(input.replace)) throw new RangeError(`replace must be ≥ 0, got ${input.replace}`);
  if (input.batchSize < 1) throw new RangeError(`batchSize must be ≥ 1, got ${input.batchSize}`);
  const batches = input.replace === 0 ? 0 : Math.ceil(input.replace / input.batchSize);
  const health = input.healthCheck.interval * input.healthCheck.healthyThreshold;
  const perBatch: number[] = [];
  for (let i = 0; i < batches; i++) {
    const boot = typeof input.bootSeconds === 'function' ? input.bootSeconds(i) : input.bootSeconds;
    perBatch.push(boot + health);
  }
  const drain = batches === 0 ? 0 : input.drainSeconds;
  return { batches, perBatch, drain, total: perBatch.reduce((a, b) => a + b, 0) + drain };
}

/**
 * duration / limit, rounded to 3 decimals; a run that replaced nothing has ratio 1.
 * Example: a 372 s rollout against a 360 s limit → 1.033 (misses the 1.03 target).
 */
export function limitRatio(durationSeconds: number, limitSeconds: number): number {
  if (limitSeconds <= 0) return 1;
  return Math.round((durationSeconds / limitSeconds) * 1000) / 1000;
}
