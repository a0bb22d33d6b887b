/**
 * Health gates: checks beyond the ASG and the ELB that a NEW instance must pass before the
 * rollout counts it healthy (`--health-url`, `--health-command`). A gate checks one instance and
 * says pass or fail with the last state it saw; it never throws for a failing check.
 */
import type { InstanceView } from '../aws/port';

export interface GateResult {
  ok: boolean;
  /** What the gate saw ("HTTP 503", "exit 1: not joined", "connect ECONNREFUSED"…). */
  state: string;
}

export interface Gate {
  /** Shown in plans and failure messages ("http http://{ip}:8080/health"). */
  readonly name: string;
  check(instance: InstanceView, signal?: AbortSignal): Promise<GateResult>;
}

/** Runs the gates in order; the first failure is the verdict. */
export async function runGates(gates: Gate[], instance: InstanceView, signal?: AbortSignal): Promise<{ ok: boolean; gate?: string; state?: string }> {
  for (const g of gates) {
    const r = await g.check(instance, signal);
    if (!r.ok) return { ok: false, gate: `gate ${g.name}`, state: r.state };
  }
  return { ok: true };
}
