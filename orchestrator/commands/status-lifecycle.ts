/**
 * `status` for lifecycle hooks and warm pools (issue 15 item 8): what the group declares (its
 * hooks: DescribeLifecycleHooks; its warm pool: DescribeWarmPool, read only when
 * DescribeAutoScalingGroups reports one) and which instances wait in a hook right now.
 */
import type { AwsPort, GroupSnapshot, LifecycleHookView, WarmPoolView } from '../aws/port';
import { sameLaunch } from '../rollout/rolling/strategy';
import { warmPoolSize } from '../rollout/rolling/lifecycle';

export interface LifecycleStatus {
  lifecycleHooks?: LifecycleHookView[];
  /** Instances waiting in a lifecycle hook now: "i-… Pending:Wait". */
  inHooks?: string[];
  warmPool?: {
    poolState: string;
    minSize: number;
    maxPreparedCapacity?: number;
    /** The size AWS keeps it at now: max(MinSize, (MaxGroupPreparedCapacity or max) − desired). */
    size: number;
    instances: number;
    /** Per lifecycle state (Warmed:Stopped 2, Warmed:Pending 1). */
    states: Record<string, number>;
    /** Warmed instances on another launch spec than the group's: a scale-out would bring them in. */
    old: string[];
  };
}

/** Reads the hooks and the warm pool of `g` (nothing for a port without those verbs; a failed read leaves that part out). */
export async function readLifecycle(port: AwsPort, g: GroupSnapshot): Promise<{ hooks?: LifecycleHookView[]; pool?: WarmPoolView }> {
  const hooks = port.lifecycleHooks ? await port.lifecycleHooks(g.name).catch(() => undefined) : undefined;
  const pool = g.warmPool && port.describeWarmPool ? await port.describeWarmPool(g.name).catch(() => undefined) : undefined;
  return { hooks, pool };
}

/** The status fields (pure); empty when the group has neither hooks nor a warm pool nor an instance in a hook. */
export function lifecycleStatus(g: GroupSnapshot, hooks: LifecycleHookView[] | undefined, pool: WarmPoolView | undefined): LifecycleStatus {
  const inHooks = g.instances.filter((i) => /^(Pending|Terminating):(Wait|Proceed)$/.test(i.lifecycleState)).map((i) => `${i.instanceId} ${i.lifecycleState}`);
  const out: LifecycleStatus = {};
  if (hooks?.length) out.lifecycleHooks = hooks;
  if (inHooks.length) out.inHooks = inHooks;
  if (pool) {
    const live = pool.instances.filter((w) => w.lifecycleState !== 'Warmed:Terminated');
    const states: Record<string, number> = {};
    for (const w of live) states[w.lifecycleState] = (states[w.lifecycleState] ?? 0) + 1;
    out.warmPool = {
      poolState: pool.poolState,
      minSize: pool.minSize,
      ...(pool.maxPrepared !== undefined ? { maxPreparedCapacity: pool.maxPrepared } : {}),
      size: warmPoolSize(g, pool),
      instances: live.length,
      states,
      old: live.filter((w) => !w.lifecycleState.startsWith('Warmed:Terminat') && !sameLaunch(w.launchedFrom, g.launch)).map((w) => w.instanceId),
    };
  }
  return out;
}

/** The lines `status` prints for them (none when there is nothing to show). */
export function renderLifecycle(s: LifecycleStatus): string[] {
  const lines: string[] = [];
  if (s.lifecycleHooks) lines.push(`  lifecycle hooks: ${s.lifecycleHooks.map((h) => `${h.name} (${h.transition}, heartbeat timeout ${h.heartbeatTimeout} s, default ${h.defaultResult})`).join(', ')}`);
  if (s.inHooks) lines.push(`  in a lifecycle hook: ${s.inHooks.join(', ')}`);
  if (s.warmPool) {
    const p = s.warmPool;
    const states = Object.entries(p.states).map(([st, n]) => `${n} ${st}`).join(', ') || 'empty';
    lines.push(`  warm pool (${p.poolState}, min ${p.minSize}${p.maxPreparedCapacity !== undefined ? `, max prepared ${p.maxPreparedCapacity}` : ''}): ${p.instances}/${p.size}: ${states}; ${p.old.length ? `${p.old.length} OLD (a scale-out would bring the old version back: roll refreshes them): ${p.old.join(', ')}` : 'all new'}`);
  }
  return lines;
}
