/**
 * Lifecycle hooks in the simulated Auto Scaling [HOOK-1..7] (./SPEC.md § Lifecycle hooks):
 * `PutLifecycleHook`, `DeleteLifecycleHook`, `DescribeLifecycleHooks`, `CompleteLifecycleAction`,
 * `RecordLifecycleActionHeartbeat`, and the waits they put instances in — `Pending:Wait` after EC2
 * reports running (before InService and the load balancers), `Terminating:Wait` after the load
 * balancers deregistered the instance (before EC2 terminates it), `Warmed:Pending:Wait` for an
 * instance launched into the warm pool (./warm-pool.ts).
 *
 * Who completes an action: the user's script (bootstrap, drain). The sandbox plays it as the
 * "lifecycle agent" of `faults.lifecycleAgents` (per transition: answers after `seconds`, ABANDON
 * with `abandonRate`, never answers with `hangRate` — then the heartbeat timeout applies the hook's
 * default result). Nothing is drawn from the PRNG for a group without hooks.
 */
import { SimFault } from '../faults';
import type { GroupRec, HookAgent, InstanceRec, LifecycleActionRec, LifecycleHookRec } from '../model';
import { requireString, validation, type Handler } from '../ops-common';
import type { World } from '../world';

export const LAUNCHING = 'autoscaling:EC2_INSTANCE_LAUNCHING';
export const TERMINATING = 'autoscaling:EC2_INSTANCE_TERMINATING';
/** PutLifecycleHook's defaults and bounds [HOOK-1]: HeartbeatTimeout 30–7200 s, default 3600; DefaultResult default ABANDON. */
export const DEFAULT_HEARTBEAT_S = 3600;
/** The global timeout: 48 hours or 100 × the heartbeat timeout, whichever is smaller [HOOK-4]. */
export function globalTimeoutS(heartbeat: number): number {
  return Math.min(172_800, 100 * heartbeat);
}

/** The sandbox's stand-in for the user's script when `faults.lifecycleAgents` says nothing [HOOK-6]. */
export const DEFAULT_AGENT: HookAgent = { seconds: { min: 5, max: 30 }, abandonRate: 0, hangRate: 0 };

function hooksOf(g: GroupRec, transition: string): LifecycleHookRec[] {
  return (g.lifecycleHooks ?? []).filter((h) => h.transition === transition);
}

/**
 * EC2 reports the instance running: with launch hooks it waits in `Pending:Wait` (or
 * `Warmed:Pending:Wait` on its way into the warm pool) instead of going on [HOOK-2]. Returns true
 * when it waits. An instance coming back from Standby passes no hook (ASSUMPTION, SPEC [HOOK-2]).
 */
export function holdForLaunchHooks(w: World, g: GroupRec, inst: InstanceRec, warm = false): boolean {
  if (inst.hooksPassed?.includes(warm ? 'warm-launch' : 'launch')) return false;
  const hooks = hooksOf(g, LAUNCHING);
  if (hooks.length === 0) return false;
  inst.lifecycle = warm ? 'Warmed:Pending:Wait' : 'Pending:Wait';
  startActions(w, g, inst, hooks);
  const act = inst.launchActivity ? w.state.activities[inst.launchActivity] : undefined;
  if (act && act.status === 'InProgress') act.status = 'MidLifecycleAction';
  w.changed(inst);
  return true;
}

/**
 * The load balancers deregistered a terminating instance (connection draining over): with
 * termination hooks it waits in `Terminating:Wait` before EC2 terminates it [HOOK-3]. Returns
 * true when it waits.
 */
export function holdForTerminateHooks(w: World, inst: InstanceRec): boolean {
  const g = inst.group ? w.state.groups[inst.group] : undefined;
  if (!g || inst.hooksPassed?.includes('terminate') || inst.ec2State === 'terminated') return false;
  const hooks = hooksOf(g, TERMINATING);
  if (hooks.length === 0) return false;
  inst.lifecycle = 'Terminating:Wait';
  startActions(w, g, inst, hooks);
  const act = inst.terminateActivity ? w.state.activities[inst.terminateActivity] : undefined;
  if (act) act.status = 'MidLifecycleAction';
  w.changed(inst);
  return true;
}

function startActions(w: World, g: GroupRec, inst: InstanceRec, hooks: LifecycleHookRec[]): void {
  const agents = w.faults.lifecycleAgents ?? {};
  inst.lifecycleActions = hooks.map((h) => {
    const a: LifecycleActionRec = {
      hook: h.name,
      token: w.uuid(),
      transition: h.transition,
      deadline: w.now + h.heartbeatTimeout * 1000,
      globalDeadline: w.now + h.globalTimeout * 1000,
    };
    w.schedule({ at: a.deadline, kind: 'hook-timeout', id: inst.id, token: a.token });
    // The user's script [HOOK-6]: answers (CONTINUE or ABANDON) after a while, or never.
    const agent = (h.transition === LAUNCHING ? agents.launch : agents.terminate) ?? DEFAULT_AGENT;
    if (!(agent.hangRate > 0 && w.rng.chance(agent.hangRate))) {
      const result = agent.abandonRate > 0 && w.rng.chance(agent.abandonRate) ? 'ABANDON' : 'CONTINUE';
      const at = w.now + Math.max(1, Math.round(w.sample(agent.seconds) * 1000));
      w.schedule({ at, kind: 'hook-agent', id: inst.id, token: a.token, result });
    }
    return a;
  });
  void g;
}

/** The `hook-timeout` event: past its (possibly extended) deadline the hook's default result applies [HOOK-4]. */
export function onHookTimeout(w: World, id: string, token: string): void {
  const inst = w.state.instances[id];
  const a = inst?.lifecycleActions?.find((x) => x.token === token && x.result === undefined);
  if (!inst || !a) return;
  if (w.now < a.deadline) {
    // A heartbeat moved the deadline: look again then.
    w.schedule({ at: a.deadline, kind: 'hook-timeout', id, token });
    return;
  }
  const g = inst.group ? w.state.groups[inst.group] : inst.warmPoolOf ? w.state.groups[inst.warmPoolOf] : undefined;
  const hook = g?.lifecycleHooks?.find((h) => h.name === a.hook);
  resolve(w, inst, a, hook?.defaultResult ?? 'ABANDON', true);
}

/** The `hook-agent` event: the user's script completes the action [HOOK-6]. */
export function onHookAgent(w: World, id: string, token: string, result: 'CONTINUE' | 'ABANDON'): void {
  const inst = w.state.instances[id];
  const a = inst?.lifecycleActions?.find((x) => x.token === token && x.result === undefined);
  if (!inst || !a) return;
  resolve(w, inst, a, result, false);
}

/** Hooks set for an instance that is no longer waiting (EC2 terminated it meanwhile, say) are dropped. */
function resolve(w: World, inst: InstanceRec, a: LifecycleActionRec, result: 'CONTINUE' | 'ABANDON', timedOut: boolean): void {
  a.result = result;
  const all = inst.lifecycleActions ?? [];
  if (all.some((x) => x.result === undefined)) return;
  const abandoned = all.find((x) => x.result === 'ABANDON');
  inst.lifecycleActions = undefined;
  const lc = inst.lifecycle ?? '';
  if (lc === 'Pending:Wait' || lc === 'Warmed:Pending:Wait') {
    const warm = lc === 'Warmed:Pending:Wait';
    (inst.hooksPassed ??= []).push(warm ? 'warm-launch' : 'launch');
    if (abandoned) return abandonLaunch(w, inst, abandoned, timedOut, warm);
    if (warm) {
      inst.lifecycle = 'Warmed:Pending:Proceed';
      w.changed(inst);
      w.warmPool.settle(inst);
      return;
    }
    inst.lifecycle = 'Pending:Proceed';
    const g = inst.group ? w.state.groups[inst.group] : undefined;
    // Pending:Proceed → InService at once (the sandbox shows Pending:Proceed until the next event only) [HOOK-2].
    if (g && inst.ec2State === 'running') w.asg.putInService(g, inst);
    else w.changed(inst);
    return;
  }
  if (lc === 'Terminating:Wait') {
    // CONTINUE or ABANDON alike: the instance is terminated [HOOK-3].
    (inst.hooksPassed ??= []).push('terminate');
    inst.lifecycle = 'Terminating:Proceed';
    w.changed(inst);
    w.asg.finishTermination(inst);
  }
}

/**
 * A launch action ended ABANDON (completed so, or timed out with that default result): the
 * instance is terminated and the launch activity fails [HOOK-5].
 */
function abandonLaunch(w: World, inst: InstanceRec, a: LifecycleActionRec, timedOut: boolean, warm: boolean): void {
  const message = `Instance failed to complete user's Lifecycle Action: Lifecycle Action with token ${a.token} was abandoned: ${timedOut ? 'Heartbeat Timeout' : 'Lifecycle Action Completed with ABANDON Result'}`;
  const act = inst.launchActivity ? w.state.activities[inst.launchActivity] : undefined;
  if (act && act.status !== 'Successful' && act.status !== 'Failed') {
    act.status = 'Failed';
    act.statusMessage = message;
    act.progress = 100;
    act.endTime = w.now;
  }
  if (warm) return w.warmPool.terminate(inst);
  const g = inst.group ? w.state.groups[inst.group] : undefined;
  if (!g) return;
  // The terminating hooks do not run for an instance that never went InService (ASSUMPTION [HOOK-5]).
  (inst.hooksPassed ??= []).push('terminate');
  inst.lifecycle = 'Pending:Proceed';
  w.asg.beginTermination(g, inst, 'replace-unhealthy', undefined, `an instance was taken out of service in response to a launch lifecycle hook result ABANDON: ${message}.`);
  w.asg.requestScaling(g);
}

function groupOf(w: World, name: unknown): GroupRec {
  const n = requireString(name, 'autoScalingGroupName');
  const g = w.state.groups[n];
  if (!g) throw validation(`AutoScalingGroup name not found - AutoScalingGroup ${n} not found`);
  return g;
}

/** The instance's pending action of `hook`, by token or by instance id (CompleteLifecycleAction / RecordLifecycleActionHeartbeat) [HOOK-2]. */
function findAction(w: World, g: GroupRec, input: any): { inst: InstanceRec; a: LifecycleActionRec } {
  const hook = requireString(input.LifecycleHookName, 'lifecycleHookName');
  if (!g.lifecycleHooks?.some((h) => h.name === hook)) throw validation(`No Lifecycle Hook found for hook name ${hook} and group ${g.name}`);
  const ids = input.InstanceId ? [input.InstanceId] : [...g.instances, ...(g.warmInstances ?? [])];
  for (const id of ids) {
    const inst = w.state.instances[id];
    const a = inst?.lifecycleActions?.find((x) => x.hook === hook && x.result === undefined && (input.LifecycleActionToken === undefined || x.token === input.LifecycleActionToken));
    if (inst && a) return { inst, a };
  }
  throw validation(`No active Lifecycle Action found with ${input.InstanceId ? `instance ID ${input.InstanceId}` : `token ${input.LifecycleActionToken}`}`);
}

export const lifecycleHookOps: Record<string, Handler> = {
  /** [HOOK-1] Creates or updates a hook: HeartbeatTimeout 30–7200 (default 3600), DefaultResult CONTINUE | ABANDON (default ABANDON). */
  PutLifecycleHook(w, input) {
    const g = groupOf(w, input.AutoScalingGroupName);
    const name = requireString(input.LifecycleHookName, 'lifecycleHookName');
    const existing = g.lifecycleHooks?.find((h) => h.name === name);
    const transition = input.LifecycleTransition ?? existing?.transition;
    if (transition !== LAUNCHING && transition !== TERMINATING) {
      throw validation(existing || input.LifecycleTransition ? `Invalid Lifecycle Transition: ${transition}. Valid values are ${LAUNCHING} and ${TERMINATING}.` : `1 validation error detected: Value null at 'lifecycleTransition' failed to satisfy constraint: Member must not be null`);
    }
    const heartbeat = input.HeartbeatTimeout ?? existing?.heartbeatTimeout ?? DEFAULT_HEARTBEAT_S;
    if (!Number.isInteger(heartbeat) || heartbeat < 30 || heartbeat > 7200) throw validation(`Heartbeat timeout ${heartbeat} is out of range: valid values are 30 to 7200 seconds.`);
    const result = input.DefaultResult ?? existing?.defaultResult ?? 'ABANDON';
    if (result !== 'CONTINUE' && result !== 'ABANDON') throw validation(`Invalid default result ${result}: valid values are CONTINUE and ABANDON.`);
    if (!existing && (g.lifecycleHooks?.length ?? 0) >= 50) throw new SimFault('LimitExceeded', `The lifecycle hooks limit of 50 for Auto Scaling group ${g.name} has been reached.`);
    const rec: LifecycleHookRec = {
      name,
      transition,
      heartbeatTimeout: heartbeat,
      globalTimeout: globalTimeoutS(heartbeat),
      defaultResult: result,
      notificationTargetARN: input.NotificationTargetARN ?? existing?.notificationTargetARN,
      roleARN: input.RoleARN ?? existing?.roleARN,
      metadata: input.NotificationMetadata ?? existing?.metadata,
    };
    g.lifecycleHooks = [...(g.lifecycleHooks ?? []).filter((h) => h.name !== name), rec];
    return {};
  },

  /** [HOOK-1] Instances waiting on it are not moved on (ASSUMPTION: AWS documents none). */
  DeleteLifecycleHook(w, input) {
    const g = groupOf(w, input.AutoScalingGroupName);
    const name = requireString(input.LifecycleHookName, 'lifecycleHookName');
    if (!g.lifecycleHooks?.some((h) => h.name === name)) throw validation(`No Lifecycle Hook found for hook name ${name} and group ${g.name}`);
    g.lifecycleHooks = g.lifecycleHooks.filter((h) => h.name !== name);
    return {};
  },

  /** [HOOK-1] The group's hooks, or only those named (`LifecycleHookNames`, up to 50). */
  DescribeLifecycleHooks(w, input) {
    const g = groupOf(w, input.AutoScalingGroupName);
    const names: string[] | undefined = input.LifecycleHookNames?.length ? input.LifecycleHookNames : undefined;
    return {
      LifecycleHooks: (g.lifecycleHooks ?? [])
        .filter((h) => !names || names.includes(h.name))
        .map((h) => ({
          LifecycleHookName: h.name,
          AutoScalingGroupName: g.name,
          LifecycleTransition: h.transition,
          NotificationTargetARN: h.notificationTargetARN,
          RoleARN: h.roleARN,
          NotificationMetadata: h.metadata,
          HeartbeatTimeout: h.heartbeatTimeout,
          GlobalTimeout: h.globalTimeout,
          DefaultResult: h.defaultResult,
        })),
    };
  },

  /** [HOOK-2] Ends the action with CONTINUE or ABANDON (by token, or by instance id). */
  CompleteLifecycleAction(w, input) {
    const g = groupOf(w, input.AutoScalingGroupName);
    const result = requireString(input.LifecycleActionResult, 'lifecycleActionResult');
    if (result !== 'CONTINUE' && result !== 'ABANDON') throw validation(`Invalid lifecycle action result ${result}: valid values are CONTINUE and ABANDON.`);
    const { inst, a } = findAction(w, g, input);
    resolve(w, inst, a, result, false);
    return {};
  },

  /** [HOOK-4] Restarts the heartbeat timeout, never past the global timeout. */
  RecordLifecycleActionHeartbeat(w, input) {
    const g = groupOf(w, input.AutoScalingGroupName);
    const { inst, a } = findAction(w, g, input);
    const hook = g.lifecycleHooks!.find((h) => h.name === a.hook)!;
    a.deadline = Math.min(a.globalDeadline, w.now + hook.heartbeatTimeout * 1000);
    w.changed(inst);
    return {};
  },
};
