/**
 * The Auto Scaling operations that attach ELBv2 target groups to a group [TG-9]
 * (@aws-sdk/client-auto-scaling AttachLoadBalancerTargetGroups / DetachLoadBalancerTargetGroups),
 * kept beside the ELBv2 service; `index.ts` merges them into the Auto Scaling ops.
 */
import { SimFault } from '../faults';
import { requireString, validation, type Handler } from '../ops-common';

export const asgTargetGroupOps: Record<string, Handler> = {
  /** Attaching registers the group's InService instances at once; later ones as they go InService [TG-9]. */
  AttachLoadBalancerTargetGroups(w, input) {
    const name = requireString(input.AutoScalingGroupName, 'autoScalingGroupName');
    const g = w.state.groups[name];
    if (!g) throw validation(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    const arns: string[] = input.TargetGroupARNs ?? [];
    for (const arn of arns) if (!w.elbv2.targetGroup(arn)) throw validation(`Provided Target Groups may not be valid. Please ensure they exist and try again. ${arn}`);
    for (const arn of arns) {
      if (g.targetGroupARNs.includes(arn)) continue;
      g.targetGroupARNs.push(arn);
      const tg = w.elbv2.targetGroup(arn)!;
      for (const inst of w.groupInstances(g)) if (inst.lifecycle === 'InService') w.elbv2.register(tg, inst.id);
    }
    return {};
  },

  /** Detaching deregisters the group's instances (they drain for the deregistration delay) [TG-9]. */
  DetachLoadBalancerTargetGroups(w, input) {
    const name = requireString(input.AutoScalingGroupName, 'autoScalingGroupName');
    const g = w.state.groups[name];
    if (!g) throw validation(`AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
    for (const arn of (input.TargetGroupARNs ?? []) as string[]) {
      if (!g.targetGroupARNs.includes(arn)) throw new SimFault('ValidationError', `Trying to remove Target Groups that are not part of the group {${arn}}`);
    }
    for (const arn of (input.TargetGroupARNs ?? []) as string[]) {
      g.targetGroupARNs = g.targetGroupARNs.filter((a) => a !== arn);
      const tg = w.elbv2.targetGroup(arn);
      if (tg) for (const inst of w.groupInstances(g)) w.elbv2.deregister(tg, inst.id);
    }
    return {};
  },
};
