/** Small helpers for the sandbox's own tests: direct (unrecorded) setup calls and queries. */
import { Sandbox, type SandboxOptions } from '../../orchestrator/sandbox';
import type { InstanceRec } from '../../orchestrator/sandbox/model';

export const Z = ['us-east-1a', 'us-east-1b', 'us-east-1c'];

export function sandbox(options: SandboxOptions = {}): Sandbox {
  // Fixed boot time: timing assertions are exact.
  return Sandbox.create({ seed: 5, ...options, faults: { bootSeconds: 40, ...(options.faults ?? {}) } });
}

export function instances(sb: Sandbox, group: string): InstanceRec[] {
  return sb.world.groupInstances(sb.world.state.groups[group]);
}

export function active(sb: Sandbox, group: string): InstanceRec[] {
  return instances(sb, group).filter((i) => sb.world.isActive(i));
}

export function byZone(list: InstanceRec[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const i of list) out[i.az] = (out[i.az] ?? 0) + 1;
  return out;
}

export function setDesired(sb: Sandbox, group: string, desired: number): void {
  sb.direct('autoscaling', 'SetDesiredCapacity', { AutoScalingGroupName: group, DesiredCapacity: desired });
}

export function update(sb: Sandbox, input: Record<string, unknown>): void {
  sb.direct('autoscaling', 'UpdateAutoScalingGroup', input);
}

export function suspend(sb: Sandbox, group: string, processes: string[]): void {
  sb.direct('autoscaling', 'SuspendProcesses', { AutoScalingGroupName: group, ScalingProcesses: processes });
}

export function resume(sb: Sandbox, group: string, processes: string[]): void {
  sb.direct('autoscaling', 'ResumeProcesses', { AutoScalingGroupName: group, ScalingProcesses: processes });
}

/** Ids of instances that started terminating (Terminating*, or shutting-down/terminated). */
export function terminating(sb: Sandbox, group: string): string[] {
  return sb.monitor.terminations({ group }).map((r) => r.instanceId);
}
