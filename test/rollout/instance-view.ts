import type { InstanceView } from '../../orchestrator/aws/port';

/** One instance as the port reports it: InService, Healthy, on launch template lt-1 v2, in no load balancer; `over` changes any field. */
export function instanceView(over: Partial<InstanceView> = {}): InstanceView {
  return {
    instanceId: 'i-1',
    availabilityZone: 'us-east-1a',
    lifecycleState: 'InService',
    healthStatus: 'Healthy',
    protectedFromScaleIn: false,
    launchedFrom: { launchTemplate: { id: 'lt-1', version: 2 } },
    elb: {},
    ...over,
  };
}
