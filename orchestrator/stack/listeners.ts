/**
 * Before `deploy` runs `pulumi up`: every existing listener a service's `elbv2.listenerArn` names
 * must exist, and the priority its rule asks for must be free on it (or held by this service's own
 * rule from an earlier update). Otherwise `up` would fail half-way (CreateRule: ListenerNotFound,
 * PriorityInUse) after creating the service's target groups. Refused before anything changes:
 * a listener that does not exist is bad input (exit 2), a priority another rule holds is AWS's
 * state (exit 3). Read-only: DescribeListeners and DescribeRules through the AWS port.
 */
import type { ServiceConfig } from '../../infra/config';
import type { AwsPort, ListenerRuleView } from '../aws/port';
import { DeployError, ExitCode, refusedError, usageError } from '../errors';
import { targetGroupName } from '../rollout/health/target-group';

/** One rule a service adds to an existing listener. */
export interface ListenerCheck {
  service: string;
  listenerArn: string;
  priority: number;
  /** The target groups the service's rule forwards to: `<name>`, or `<name>-a` / `<name>-b`. */
  targetGroups: string[];
}

export interface ListenerReader {
  /** The refusal for the first check that fails, or undefined. */
  refusal(checks: ListenerCheck[]): Promise<DeployError | undefined>;
}

/** The rules the stack's services add to existing listeners, in config order. */
export function listenerChecks(services: readonly ServiceConfig[]): ListenerCheck[] {
  return services.flatMap((s): ListenerCheck[] =>
    s.elbv2?.listenerArn && s.elbv2.rule
      ? [{ service: s.service, listenerArn: s.elbv2.listenerArn, priority: s.elbv2.rule.priority, targetGroups: s.strategy === 'ab' ? [`${s.name}-a`, `${s.name}-b`] : [s.name] }]
      : [],
  );
}

/**
 * The verdict on one check from what AWS says (pure): the listener's rules, or undefined when it
 * does not exist. A rule at the priority is the service's own when everything it forwards to is
 * the service's target groups (by name: the ARN's `targetgroup/<name>/<id>`).
 *
 *   listener missing                                  → exit 2 deploy.listener-not-found
 *   a rule at the priority forwarding elsewhere       → exit 3 deploy.rule-priority-taken
 *   no rule at the priority, or the service's own one → fine
 */
export function judgeListener(check: ListenerCheck, rules: ListenerRuleView[] | undefined): DeployError | undefined {
  if (!rules) {
    return usageError('deploy.listener-not-found', `service "${check.service}": elbv2.listenerArn ${check.listenerArn} does not exist (DescribeListeners: ListenerNotFound); give the ARN of an existing ALB listener; nothing was changed`, {
      service: check.service,
      listenerArn: check.listenerArn,
    });
  }
  const holder = rules.find((r) => r.priority === check.priority);
  if (!holder) return undefined;
  const names = holder.targetGroupArns.map(targetGroupName);
  if (names.length > 0 && names.every((n) => check.targetGroups.includes(n))) return undefined;
  const taken = rules.map((r) => r.priority).sort((a, b) => a - b);
  return refusedError(
    'deploy.rule-priority-taken',
    `service "${check.service}": elbv2.rule.priority ${check.priority} on listener ${check.listenerArn} is taken by rule ${holder.arn} (forwarding to ${names.join(', ') || 'no target group'}); priorities are unique per listener: pick a free one (taken: ${taken.join(', ')}); nothing was changed`,
    { service: check.service, listenerArn: check.listenerArn, priority: check.priority, rule: holder.arn, taken },
  );
}

/** Reads each named listener's rules through the AWS port (read-only). */
export function awsListenerReader(port: AwsPort): ListenerReader {
  return {
    async refusal(checks) {
      const read = new Map<string, ListenerRuleView[] | undefined>();
      for (const c of checks) {
        if (!port.listenerRules) return undefined;
        if (!read.has(c.listenerArn)) {
          try {
            read.set(c.listenerArn, await port.listenerRules(c.listenerArn));
          } catch (err) {
            if (err instanceof DeployError) throw err;
            // Not knowing whether the rule can be added, deploy does not run up (nothing changed).
            throw new DeployError('deploy.listener-unreadable', `could not read listener ${c.listenerArn} (service "${c.service}") before pulumi up: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}; nothing was changed, run deploy again`, {
              source: 'aws',
              exit: ExitCode.failed,
              cause: err,
              data: { service: c.service, listenerArn: c.listenerArn },
            });
          }
        }
        const refusal = judgeListener(c, read.get(c.listenerArn));
        if (refusal) return refusal;
      }
      return undefined;
    },
  };
}
