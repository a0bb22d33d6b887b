/**
 * The gates' signal (`--health-url`, `--health-command`): asked only of the instances in its scope
 * (the rolling runner: live, up-to-date instances) and only once every AWS signal said yes
 * (combineAsync stops at the first no). A pass is remembered per instance for the run (a gate is
 * not asked again); a failure is the gate's name and last state. Once the run is interrupted no new
 * check is made (cleanup must not wait on the network): not yet passed = not healthy.
 */
import type { GroupSnapshot, InstanceView } from '../../aws/port';
import { runGates, type Gate } from '../../gates/gate';
import { HEALTHY, type HealthSignal, type Verdict } from './signal';

export class GatesSignal implements HealthSignal {
  readonly name: string;
  private readonly passed = new Set<string>();

  constructor(
    private readonly gates: readonly Gate[],
    /** Which instances the gates judge; the others are healthy as far as the gates go. */
    private readonly inScope: (i: InstanceView, g: GroupSnapshot | undefined) => boolean,
    private readonly signal?: AbortSignal,
  ) {
    this.name = gates.map((x) => `gate ${x.name}`).join('; ') || 'gates';
  }

  async judge(i: InstanceView, g?: GroupSnapshot): Promise<Verdict> {
    if (this.gates.length === 0 || !this.inScope(i, g) || this.passed.has(i.instanceId)) return HEALTHY;
    if (this.signal?.aborted) return { healthy: false, gate: `gate ${this.gates[0].name}`, state: 'not checked (interrupted)' };
    const r = await runGates([...this.gates], i, this.signal);
    if (r.ok) {
      this.passed.add(i.instanceId);
      return HEALTHY;
    }
    return { healthy: false, gate: r.gate, state: r.state };
  }
}
