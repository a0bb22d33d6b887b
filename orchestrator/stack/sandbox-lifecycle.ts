/**
 * The sandbox stack's part for lifecycle hooks and warm pools (issue 15): what Pulumi's AWS
 * provider does for `aws.autoscaling.LifecycleHook` (PutLifecycleHook on create and update,
 * DeleteLifecycleHook on delete) and for a group's `warmPool` block (PutWarmPool when declared or
 * changed, DeleteWarmPool with ForceDelete when removed), against the simulated AWS's clients.
 */
import {
  DeleteLifecycleHookCommand,
  DeleteWarmPoolCommand,
  PutLifecycleHookCommand,
  PutWarmPoolCommand,
  type AutoScalingClient,
} from '@aws-sdk/client-auto-scaling';

export const LIFECYCLE_HOOK_TYPE = 'aws:autoscaling/lifecycleHook:LifecycleHook';

/** The hook's inputs the provider sends on create and on every update. */
export const LIFECYCLE_HOOK_KEYS = ['autoscalingGroupName', 'lifecycleTransition', 'heartbeatTimeout', 'defaultResult', 'notificationMetadata', 'notificationTargetArn', 'roleArn'];

/** PutLifecycleHook from the resource's inputs; returns the id (the hook's name) and its state. */
export async function putLifecycleHook(asg: AutoScalingClient, name: string, inputs: Record<string, unknown>): Promise<{ id: string; state: Record<string, unknown> }> {
  const hookName = String(inputs.name ?? name);
  const group = String(inputs.autoscalingGroupName);
  await asg.send(
    new PutLifecycleHookCommand({
      LifecycleHookName: hookName,
      AutoScalingGroupName: group,
      LifecycleTransition: inputs.lifecycleTransition as string,
      HeartbeatTimeout: inputs.heartbeatTimeout === undefined ? undefined : Number(inputs.heartbeatTimeout),
      DefaultResult: inputs.defaultResult as string | undefined,
      NotificationMetadata: inputs.notificationMetadata as string | undefined,
      NotificationTargetARN: inputs.notificationTargetArn as string | undefined,
      RoleARN: inputs.roleArn as string | undefined,
    }),
  );
  return { id: hookName, state: { name: hookName, autoscalingGroupName: group } };
}

export async function deleteLifecycleHook(asg: AutoScalingClient, id: string, inputs: Record<string, unknown>): Promise<void> {
  // A hook of a group deleted already went with it.
  await asg.send(new DeleteLifecycleHookCommand({ LifecycleHookName: id, AutoScalingGroupName: String(inputs.autoscalingGroupName) })).catch((err: Error) => {
    if (!/not found/i.test(err.message)) throw err;
  });
}

/** The group's `warmPool` block applied: PutWarmPool, or (block removed) DeleteWarmPool ForceDelete. */
export async function applyWarmPool(asg: AutoScalingClient, group: string, warmPool: unknown, hadOne: boolean): Promise<void> {
  const p = warmPool as { poolState?: string; minSize?: number; maxGroupPreparedCapacity?: number; instanceReusePolicy?: { reuseOnScaleIn?: boolean } } | undefined;
  if (!p) {
    if (hadOne) await asg.send(new DeleteWarmPoolCommand({ AutoScalingGroupName: group, ForceDelete: true }));
    return;
  }
  await asg.send(
    new PutWarmPoolCommand({
      AutoScalingGroupName: group,
      PoolState: p.poolState as 'Stopped' | 'Running' | 'Hibernated' | undefined,
      MinSize: p.minSize,
      // The provider sends -1 to clear a maximum that is no longer declared.
      MaxGroupPreparedCapacity: p.maxGroupPreparedCapacity ?? (hadOne ? -1 : undefined),
      InstanceReusePolicy: p.instanceReusePolicy ? { ReuseOnScaleIn: p.instanceReusePolicy.reuseOnScaleIn } : undefined,
    }),
  );
}
