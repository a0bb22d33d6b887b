/** Snapshot builders for the pure A/B tables. */
import type { GroupSnapshot, InstanceView } from '../../orchestrator/aws/port';

export const LT = 'lt-0abc';

/** `serving` | `booting` | `outOfElb` | `unhealthy` | `terminating`, launched from version `v`. */
export function inst(id: string, kind: 'serving' | 'booting' | 'outOfElb' | 'unhealthy' | 'terminating' = 'serving', v = 2, elb = 'qa-b'): InstanceView {
  const lifecycleState = kind === 'booting' ? 'Pending' : kind === 'terminating' ? 'Terminating' : 'InService';
  const healthStatus = kind === 'unhealthy' ? 'Unhealthy' : 'Healthy';
  const elbState =
    kind === 'serving' ? { state: 'InService' as const } : { state: 'OutOfService' as const, reasonCode: 'Instance', description: 'Instance has failed at least the UnhealthyThreshold number of health checks consecutively.' };
  return {
    instanceId: id,
    availabilityZone: 'us-east-1a',
    lifecycleState,
    healthStatus,
    protectedFromScaleIn: false,
    launchedFrom: { launchTemplate: { id: LT, version: v } },
    launchTime: 0,
    elb: kind === 'booting' ? {} : { [elb]: elbState },
  };
}

export function group(name: string, o: { desired?: number; min?: number; max?: number; version?: number; instances?: InstanceView[]; elbs?: string[] } = {}): GroupSnapshot {
  const instances = o.instances ?? [];
  return {
    name,
    observedAt: 0,
    desired: o.desired ?? instances.length,
    min: o.min ?? 0,
    max: o.max ?? 10,
    launch: { launchTemplate: { id: LT, version: o.version ?? 2 } },
    mixedInstancesPolicy: false,
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 300,
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    suspendedProcesses: [],
    loadBalancerNames: o.elbs ?? [name],
    targetGroupARNs: [],
    tags: {},
    instances,
  };
}

/** n instances of a kind, ids `${prefix}1..n`, for ELB `elb`. */
export function many(prefix: string, n: number, kind: Parameters<typeof inst>[1] = 'serving', v = 2, elb = 'qa-b'): InstanceView[] {
  return Array.from({ length: n }, (_, k) => inst(`${prefix}${k + 1}`, kind, v, elb));
}
