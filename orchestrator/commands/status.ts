/**
 * `asg-deploy status [--stack S | --asg NAME | --environment ENV]`: per group, the instances
 * old and new, healthy, in the ELB, the suspended processes and the lock. Read-only: only
 * Describe* calls (and, with --stack on real Pulumi, `pulumi stack output`).
 */
import type { Argv } from 'yargs';
import { createAwsPort } from '../aws/adapter';
import type { AwsPort, GroupSnapshot, InstanceView, MixedPolicyView, TrafficForward } from '../aws/port';
import { DeployError, usageError } from '../errors';
import { environmentGroups, groupLockOptions, readEnvironmentLock, type LockOptions } from '../lock/lock';
import { LOCK_TAG, decodeTagValue, describeLock } from '../lock/record';
import { JsonReporter, type Reporter } from '../report/reporter';
import { targetGroupName } from '../rollout/health/target-group';
import { lifetimeLabel, marketCounts } from '../rollout/rolling/mixed';
import { readManifest, groupsOf } from '../stack/manifest';
import type { StackBackend } from '../stack/port';
import { stackRegion, type RegionChoice } from '../stack/region';
import { openAwsSession } from './aws-session';
import { lifecycleStatus, readLifecycle, renderLifecycle } from './status-lifecycle';
import { withCommonOptions, type CommandSpec } from './command';

export const StatusCodes = {
  group: 'status.group', // GroupStatus
  missing: 'status.missing', // {asg, service?}
  lock: 'status.lock', // {bucket, key, held?}
} as const;

export interface GroupStatus {
  asg: string;
  service?: string;
  desired: number;
  min: number;
  max: number;
  /** "lt-0abc v3" or "lc:name". */
  launch: string;
  instances: number;
  /** On the group's current launch spec. */
  new: string[];
  old: string[];
  /** InService + Healthy in the ASG and InService in every attached ELB. */
  healthy: number;
  /** Per ELB: how many instances it has InService. */
  inElb: Record<string, number>;
  /** Per attached ALB/NLB target group (by name): live instances `healthy` in it. Absent without target groups. */
  inTargetGroup?: Record<string, number>;
  /**
   * Per attached target group (by name): its weight in the listener default actions and rules
   * that forward to it (the largest, when several do; A/B: the share of traffic the color gets).
   * Absent without target groups or when no forward names them.
   */
  weights?: Record<string, number>;
  suspendedProcesses: string[];
  lock?: string;
  /** The mixed instances policy (issue 15 item 8), with the live Spot and On-Demand counts. */
  mixed?: MixedPolicyView & { spot: number; onDemand: number };
  /** AWS's own replacers: Capacity Rebalancing, the maximum instance lifetime (s). */
  capacityRebalance?: boolean;
  maxInstanceLifetime?: number;
}

const launchOf = (l: { launchTemplate?: { id: string; version: number }; launchConfigurationName?: string }) =>
  l.launchTemplate ? `${l.launchTemplate.id} v${l.launchTemplate.version}` : l.launchConfigurationName ? `lc:${l.launchConfigurationName}` : 'none';

const isLive = (i: InstanceView) => !/^Terminat/.test(i.lifecycleState) && i.lifecycleState !== 'Detached';

/** Healthy the way the safety invariant counts it. */
export function isServing(i: InstanceView, group: GroupSnapshot): boolean {
  return (
    i.lifecycleState === 'InService' &&
    i.healthStatus === 'Healthy' &&
    group.loadBalancerNames.every((lb) => i.elb[lb]?.state === 'InService') &&
    group.targetGroupARNs.every((arn) => i.targetHealth?.[arn]?.state === 'healthy')
  );
}

/** One group's status from one snapshot (pure). */
export function groupStatus(g: GroupSnapshot, now: number, service?: string, forwards: readonly TrafficForward[] = []): GroupStatus {
  const current = launchOf(g.launch);
  const live = g.instances.filter(isLive);
  const inElb: Record<string, number> = {};
  for (const lb of g.loadBalancerNames) inElb[lb] = live.filter((i) => i.elb[lb]?.state === 'InService').length;
  const inTargetGroup: Record<string, number> = {};
  for (const arn of g.targetGroupARNs) inTargetGroup[targetGroupName(arn)] = live.filter((i) => i.targetHealth?.[arn]?.state === 'healthy').length;
  const weights: Record<string, number> = {};
  for (const arn of g.targetGroupARNs) {
    const ws = forwards.map((f) => f.weights[arn]).filter((w): w is number => w !== undefined);
    if (ws.length) weights[targetGroupName(arn)] = Math.max(...ws);
  }
  const tag = g.tags[LOCK_TAG];
  return {
    asg: g.name,
    service,
    desired: g.desired,
    min: g.min,
    max: g.max,
    launch: current,
    instances: live.length,
    new: live.filter((i) => launchOf(i.launchedFrom) === current).map((i) => i.instanceId),
    old: live.filter((i) => launchOf(i.launchedFrom) !== current).map((i) => i.instanceId),
    healthy: live.filter((i) => isServing(i, g)).length,
    inElb,
    ...(g.targetGroupARNs.length > 0 ? { inTargetGroup } : {}),
    ...(Object.keys(weights).length > 0 ? { weights } : {}),
    suspendedProcesses: g.suspendedProcesses,
    lock: tag ? describeLock(decodeTagValue(tag), now) : undefined,
    ...(g.mixedPolicy ? { mixed: { ...g.mixedPolicy, spot: marketCounts(live).spot, onDemand: marketCounts(live).onDemand } } : {}),
    ...(g.capacityRebalance ? { capacityRebalance: true } : {}),
    ...(g.maxInstanceLifetime ? { maxInstanceLifetime: g.maxInstanceLifetime } : {}),
  };
}

/** The status lines of a mixed instances policy and of AWS's own replacers (none for a plain group). */
export function mixedLines(s: GroupStatus): string[] {
  const lines: string[] = [];
  const m = s.mixed;
  if (m) {
    lines.push(`  mixed instances policy: ${m.instanceTypes.join(', ') || "the template's type"}; On-Demand base ${m.onDemandBaseCapacity} + ${m.onDemandPercentageAboveBaseCapacity} % above, Spot ${m.spotAllocationStrategy}; live: ${m.onDemand} On-Demand, ${m.spot} Spot`);
  }
  const own = [...(s.capacityRebalance ? ['Capacity Rebalancing'] : []), ...(s.maxInstanceLifetime ? [`maximum instance lifetime ${lifetimeLabel(s.maxInstanceLifetime)}`] : [])];
  if (own.length) lines.push(`  AWS replaces on its own: ${own.join(', ')}`);
  return lines;
}

/** Human-readable block for one group, then one line per instance. */
export function renderGroup(s: GroupStatus, g: GroupSnapshot): string {
  const elb = Object.entries(s.inElb).map(([lb, n]) => `${lb} ${n}/${s.instances} InService`).join(', ') || 'no ELB';
  const lines = [
    `${s.asg}${s.service ? ` (${s.service})` : ''}: desired ${s.desired} (min ${s.min}, max ${s.max}), launch ${s.launch}`,
    `  instances ${s.instances}: ${s.new.length} new, ${s.old.length} old; ${s.healthy} healthy; in ELB: ${elb}`,
    ...(s.inTargetGroup ? [`  target groups: ${Object.entries(s.inTargetGroup).map(([tg, n]) => `${tg} ${n}/${s.instances} healthy${s.weights?.[tg] !== undefined ? `, weight ${s.weights[tg]}` : ''}`).join(', ')}`] : []),
    `  suspended: ${s.suspendedProcesses.length ? s.suspendedProcesses.join(', ') : 'none'}; lock: ${s.lock ?? 'none'}`,
    ...mixedLines(s),
  ];
  const current = launchOf(g.launch);
  for (const i of [...g.instances].sort((a, b) => (a.launchTime ?? 0) - (b.launchTime ?? 0))) {
    const tgState = Object.entries(i.targetHealth ?? {}).map(([arn, h]) => ` tg ${targetGroupName(arn)}:${h.state}${h.reason ? `(${h.reason})` : ''}`).join('');
    const elbState = Object.entries(i.elb).map(([lb, h]) => `${lb}:${h.state}`).join(' ') + tgState;
    // A mixed group's instances say their market and type (Spot or On-Demand, the override).
    const market = s.mixed ? ` ${i.market === 'spot' ? 'spot' : i.market === 'on-demand' ? 'on-demand' : '?'} ${i.instanceType ?? '?'}` : '';
    lines.push(
      `    ${i.instanceId.padEnd(20)} ${i.availabilityZone.padEnd(11)} ${i.lifecycleState.padEnd(11)} ${i.healthStatus.padEnd(9)} ${(launchOf(i.launchedFrom) === current ? 'new' : 'OLD').padEnd(4)} ${launchOf(i.launchedFrom).padEnd(16)} ${i.launchTime ? new Date(i.launchTime).toISOString() : '-'} ${elbState}${market}`,
    );
  }
  return lines.join('\n');
}

/** Which groups to show: a stack's manifest, an ASG name or prefix, an environment, or every group. */
async function selectGroups(port: AwsPort, args: Record<string, unknown>, stacks: () => Promise<StackBackend>, simulated: boolean): Promise<Array<{ asg: string; service?: string }>> {
  const chosen = ['stack', 'asg', 'environment'].filter((k) => args[k] !== undefined);
  if (chosen.length > 1) throw usageError('usage', `status takes one of --stack, --asg, --environment (got ${chosen.map((k) => `--${k}`).join(', ')})`);
  if (args.stack !== undefined) {
    let stack;
    try {
      stack = await (await stacks()).open(String(args.stack));
    } catch (err) {
      // status creates nothing: point at deploy, not at a --create it does not have.
      if (err instanceof DeployError && err.code === 'stack.unknown') {
        throw usageError('stack.unknown', `${err.message.replace(/; pass --create to create it$/, '')}; deploy it first (asg-deploy deploy --stack ${String(args.stack)} --create${simulated ? ' --sandbox' : ''})`, err.data);
      }
      throw err;
    }
    const manifest = readManifest(await stack.outputs(), stack.name);
    if (!manifest) throw usageError('status.no-manifest', `stack '${stack.name}' has no services output yet: deploy it first`);
    return manifest.services.flatMap((s) => groupsOf(s).map((asg) => ({ asg, service: s.service })));
  }
  // An empty simulated AWS: say how to fill it (a hint that works when followed literally).
  const empty = async () =>
    simulated && (await port.findGroups('')).length === 0 ? ' (the simulated AWS has none yet: asg-deploy deploy --stack qa --create --sandbox creates some)' : '';
  const quote = (v: string) => (v === '' || /[\s"']/.test(v) ? JSON.stringify(v) : v);
  if (args.environment !== undefined) {
    const env = String(args.environment);
    const groups = await environmentGroups(port, env);
    if (groups.length === 0) throw usageError('status.no-group', `--environment ${quote(env)}: no Auto Scaling Group ${env}-a, ${env}-b or ${env} exists${await empty()}`, { environment: env });
    return groups.map((asg) => ({ asg }));
  }
  const prefix = args.asg === undefined ? '' : String(args.asg);
  const found = await port.findGroups(prefix);
  if (found.length === 0) throw usageError('status.no-group', prefix ? `--asg ${quote(prefix)}: no Auto Scaling Group has this name or prefix${await empty()}` : `no Auto Scaling Group found${await empty()}`);
  return found.map((asg) => ({ asg }));
}

export const statusCommand: CommandSpec = {
  name: 'status',
  describe: 'old/new/healthy instances per group, without changing anything',
  usage: '$0 status [--stack STACK | --asg NAME_OR_PREFIX | --environment ENV] [options]',
  examples: [
    ['$0 status --stack qa', "every group of stack qa's services"],
    ['$0 status --environment qa-web', 'both colors of an A/B environment'],
    ['$0 status --sandbox', 'every group on the simulated AWS'],
  ],
  builder: (y: Argv) =>
    withCommonOptions(y)
      .option('stack', { type: 'string', describe: "the groups of a stack's services manifest" })
      .option('asg', { type: 'string', alias: 'limit', describe: 'an ASG name or prefix' })
      .option('environment', { type: 'string', describe: 'an A/B environment: <env>-a and <env>-b' })
      .option('lock-bucket-name', { type: 'string', describe: 'also read the S3 lock objects in this bucket (<ENV>.lock, <ASG>.lock)' }),
  async run(args, ctx) {
    // --stack on real AWS: look where Pulumi deployed the stack (its aws:region), as deploy does.
    const sandboxRun = Boolean(args.sandbox || args['sandbox-state'] !== undefined);
    let region: RegionChoice | undefined;
    if (args.stack !== undefined && !sandboxRun) {
      const stack = String(args.stack);
      region = await stackRegion(await new (await automationModule()).AutomationBackend().readConfig(stack), stack);
      if (region.warning) ctx.stderr.write(`warning: ${region.warning}\n`);
    }
    // Read-only: a sandbox status never writes the state file (a missing one is an empty world).
    const session = await openAwsSession(args, ctx, { region: region?.region, readOnly: true });
    try {
      const clock = session.clock;
      const reporter: Reporter = ctx.json ? new JsonReporter(clock, ctx.stdout) : { emit() {} };
      const port = createAwsPort(session.clients, clock);
      if (session.simulated) ctx.stderr.write('SIMULATION: status of the embedded simulated AWS (no AWS account is used)\n');
      const stacks = async (): Promise<StackBackend> => {
        if (session.sandbox) return session.sandbox.stacks();
        return new (await automationModule()).AutomationBackend();
      };
      const groups = await selectGroups(port, args, stacks, session.simulated);
      const blocks: string[] = [];
      const snapshots: Array<{ asg: string; service?: string; snapshot?: GroupSnapshot; message?: string }> = [];
      for (const { asg, service } of groups) {
        try {
          snapshots.push({ asg, service, snapshot: await port.observeGroup(asg) });
        } catch (err) {
          snapshots.push({ asg, service, message: `${asg}: not found (${(err as Error).message.split('\n')[0]})` });
        }
      }
      // The weights of the forwards to these groups' target groups (A/B: each color's share).
      const tgArns = [...new Set(snapshots.flatMap((x) => x.snapshot?.targetGroupARNs ?? []))];
      const forwards = tgArns.length > 0 && port.findForwards ? await port.findForwards(tgArns) : [];
      for (const { asg, service, snapshot, message } of snapshots) {
        if (!snapshot) {
          reporter.emit('warn', StatusCodes.missing, message!, { asg, service });
          blocks.push(message!);
          continue;
        }
        const s = groupStatus(snapshot, clock.now(), service, forwards);
        // Lifecycle hooks and the warm pool (status-lifecycle.ts): only present when the group has them.
        const lc = await readLifecycle(port, snapshot);
        const hooksAndPool = lifecycleStatus(snapshot, lc.hooks, lc.pool);
        reporter.emit('info', StatusCodes.group, `${asg}: ${s.new.length} new, ${s.old.length} old, ${s.healthy}/${s.desired} healthy`, { ...s, ...hooksAndPool });
        blocks.push([renderGroup(s, snapshot), ...renderLifecycle(hooksAndPool)].join('\n'));
      }
      const bucket = args['lock-bucket-name'] === undefined ? undefined : String(args['lock-bucket-name']);
      if (bucket) {
        // S3 locks: the environment's `<ENV>.lock` (ab) and each shown group's `<ASG>.lock` (roll).
        const keys: Array<{ key: string; options: LockOptions }> = args.environment ? [{ key: String(args.environment), options: { environment: String(args.environment), bucket } }] : [];
        for (const { asg } of groups) keys.push({ key: asg, options: groupLockOptions(asg, bucket) });
        for (const { key, options } of keys) {
          const held = await readEnvironmentLock({ port, clock, reporter }, options);
          reporter.emit('info', StatusCodes.lock, `lock ${bucket}/${key}.lock: ${held ? describeLock(held.record, clock.now()) : 'none'}`, {
            bucket,
            key: `${key}.lock`,
            held: held ? { ...held.record } : undefined,
          });
          blocks.push(`lock s3://${bucket}/${key}.lock: ${held ? describeLock(held.record, clock.now()) : 'none'}`);
        }
      }
      if (!ctx.json) ctx.stdout.write(blocks.join('\n\n') + '\n');
      return 0;
    } finally {
      await session.close();
    }
  },
};

/** The Automation API (and @pulumi/pulumi), loaded only when a command works on a real stack. */
function automationModule(): Promise<typeof import('../stack/automation')> {
  return import('../stack/automation');
}
