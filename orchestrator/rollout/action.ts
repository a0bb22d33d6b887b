/**
 * What a strategy's pure `decide` returns: the engine's next step. Every action carries the
 * `reason` the user sees. A dry run is "decide and print": the same code path, no act.
 */
export type Action =
  | {
      kind: 'wait';
      reason: string;
      /** earliest useful re-observation, ms from now (engine may poll sooner/later) */
      waitMs?: number;
      /** Only the group's warm pool is awaited (rolling/lifecycle.ts): the next look may read the pool alone. */
      awaiting?: 'warm-pool';
    }
  | { kind: 'setDesired'; group: string; desired: number; reason: string }
  | {
      kind: 'updateSizes';
      group: string;
      min?: number;
      max?: number;
      desired?: number;
      reason: string;
      /**
       * A scale-in that rests on another group's health (A/B's drain of the old color: the new
       * one serves its count): when that health was read (epoch ms). The engine sends it only on
       * a read at most STALE_DECISION_MS old, else reads again and decides anew (chaos ab seed
       * 2206767010: someone's EnterStandby 1.2 s before a drain decided on a 3-s-old read).
       */
      seenAt?: number;
    }
  | {
      kind: 'terminate';
      group: string;
      instanceIds: string[];
      decrement: boolean;
      reason: string;
      /** The tool removes its own surplus new instances (not a replacement of an outdated one): not counted as replaced. */
      surplus?: boolean;
      /** Outdated instances of the group's warm pool (not its capacity): not counted as replaced (rolling/lifecycle.ts). */
      warmPool?: boolean;
    }
  | { kind: 'suspend'; group: string; processes: string[]; reason: string }
  | { kind: 'resume'; group: string; processes: string[]; reason: string }
  | { kind: 'protect'; group: string; instanceIds: string[]; protect: boolean; reason: string }
  | {
      /** A/B on target groups: set the weights of every forward (ModifyListener / ModifyRule). */
      kind: 'setWeights';
      forwards: Array<{ kind: 'listener' | 'rule'; arn: string }>;
      /** Weight per target group ARN. */
      weights: Record<string, number>;
      /** The new color's share after / before (percent), for the traffic.shift event. */
      share: number;
      from: number;
      reason: string;
      /**
       * A raise (share > from): when the new color's health it was decided on was read (epoch ms).
       * The engine sends a raise only on a read at most STALE_DECISION_MS old, once (never
       * retried blind): else it looks again and decides anew (chaos seed 2227145015).
       */
      seenAt?: number;
    }
  | { kind: 'done'; reason: string }
  | { kind: 'abort'; code: string; reason: string; data?: Record<string, unknown> };

export const wait = (reason: string, waitMs?: number): Action => ({ kind: 'wait', reason, waitMs });
export const done = (reason: string): Action => ({ kind: 'done', reason });
export const abort = (code: string, reason: string, data?: Record<string, unknown>): Action => ({ kind: 'abort', code, reason, data });
