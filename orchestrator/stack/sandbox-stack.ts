/**
 * The sandbox stack — a SIMULATION of `pulumi up`: the real infra/ program is evaluated under
 * Pulumi's mock runtime (`pulumi.runtime.setMocks`, config from `Pulumi.<stack>.yaml`), and each
 * declared resource is applied to the simulated AWS through the same SDK clients the rest of the
 * tool uses. No pulumi CLI, no AWS account.
 *
 * Like Pulumi, it diffs the program's new inputs against the inputs recorded at the last update
 * (kept with the simulated AWS in the state file) and applies only what changed:
 * - launch template: created, or a new version when its data changes (the default version follows,
 *   `updateDefaultVersion`), so the group is re-pinned to the new number;
 * - classic ELB: created (listeners, health check, connection draining, cross-zone), or updated;
 * - ALB/NLB (`aws:lb/*`): target groups (health check, deregistration delay), load balancers,
 *   listeners and listener rules, created or updated; a weighted forward (A/B) is the
 *   orchestrator's after creation (infra's `ignoreChanges` on `defaultActions` / `actions`);
 * - ASG: created, or updated with the changed fields; on A/B groups desired/min are ignored after
 *   creation (infra's `ignoreChanges`), and suspended processes always are;
 * - legacy launch configuration: immutable, so a change is a new one (name prefix + suffix);
 * - resources the program no longer declares are deleted.
 * What it does not model: Pulumi's state backend and locking (one run at a time per state file),
 * provider-side defaults and refresh, replacements of anything but launch configurations.
 */
import { projectRoot } from '../package-info';
import { applyWarmPool, deleteLifecycleHook, LIFECYCLE_HOOK_KEYS, LIFECYCLE_HOOK_TYPE, putLifecycleHook } from './sandbox-lifecycle';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as pulumi from '@pulumi/pulumi';
import {
  AttachLoadBalancerTargetGroupsCommand,
  CreateAutoScalingGroupCommand,
  CreateLaunchConfigurationCommand,
  DetachLoadBalancerTargetGroupsCommand,
  DeleteAutoScalingGroupCommand,
  DeleteLaunchConfigurationCommand,
  UpdateAutoScalingGroupCommand,
  type CreateAutoScalingGroupCommandInput,
  type UpdateAutoScalingGroupCommandInput,
} from '@aws-sdk/client-auto-scaling';
import {
  CreateLaunchTemplateCommand,
  CreateLaunchTemplateVersionCommand,
  DeleteLaunchTemplateCommand,
  ModifyLaunchTemplateCommand,
  type RequestLaunchTemplateData,
} from '@aws-sdk/client-ec2';
import {
  ConfigureHealthCheckCommand,
  CreateLoadBalancerCommand,
  DeleteLoadBalancerCommand,
  ModifyLoadBalancerAttributesCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  CreateListenerCommand,
  CreateLoadBalancerCommand as CreateLoadBalancerV2Command,
  CreateRuleCommand,
  CreateTargetGroupCommand,
  DeleteListenerCommand,
  DeleteLoadBalancerCommand as DeleteLoadBalancerV2Command,
  DeleteRuleCommand,
  DeleteTargetGroupCommand,
  ModifyListenerCommand,
  ModifyRuleCommand,
  ModifyTargetGroupAttributesCommand,
  ModifyTargetGroupCommand,
  type Action as Elbv2Action,
  type RuleCondition,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import type { AwsClients } from '../aws/clients';
import { loadStackConfig, readStackConfig, stackConfigPath, type StackConfig } from './config-file';
import { decryptStackConfig } from './secure-config';

/** Moved to ./config-file (the orchestrator validates the config before any update); kept here for importers. */
export { readStackConfig };
import type { Clock } from '../clock';
import { DeployError, usageError } from '../errors';
import {
  summarize,
  unknownStack,
  upFailed,
  type OpenOptions,
  type PreviewOutcome,
  type ResourceChange,
  type StackBackend,
  type StackOperationOptions,
  type StackPort,
  type UpOutcome,
} from './port';

/** One resource as the last update left it: the program's inputs and the resulting state. */
export interface ResourceRecord {
  type: string;
  name: string;
  id: string;
  inputs: Record<string, unknown>;
  state: Record<string, unknown>;
}

export interface SandboxStackRecord {
  resources: Record<string, ResourceRecord>;
  outputs: Record<string, unknown>;
}

/** The stacks part of the sandbox state file. */
export type SandboxStacksState = Record<string, SandboxStackRecord>;

export interface SandboxStacksOptions {
  clients: AwsClients;
  clock: Clock;
  /** Stack records, mutated in place on each update (the session persists them). */
  stacks: SandboxStacksState;
  /** Where `Pulumi.<stack>.yaml` files live (default: the project root). */
  projectRoot?: string;
  region?: string;
  /** Where PULUMI_CONFIG_PASSPHRASE(_FILE) is read to decrypt `secure:` config values (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The project directory (package-info.ts `projectRoot`: nearest Pulumi.yaml at or above the current directory). */
export const PROJECT_ROOT = projectRoot();
const PROJECT = 'asg-deploy';

/** Stacks of the simulated AWS: a stack exists once updated, or when the project has its `Pulumi.<stack>.yaml`. */
export class SandboxStacks implements StackBackend {
  private readonly root: string;
  constructor(private readonly options: SandboxStacksOptions) {
    this.root = options.projectRoot ?? PROJECT_ROOT;
  }

  async listStacks(): Promise<string[]> {
    const fromFiles = fs
      .readdirSync(this.root)
      .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
      .filter((s): s is string => Boolean(s));
    return [...new Set([...Object.keys(this.options.stacks), ...fromFiles])].sort();
  }

  async readConfig(name: string, options: OpenOptions = {}): Promise<StackConfig> {
    return loadStackConfig(this.root, name, options.configFile);
  }

  async open(name: string, options: OpenOptions = {}): Promise<StackPort> {
    const configFile = stackConfigPath(this.root, name, options.configFile);
    if (options.configFile && !fs.existsSync(configFile)) throw usageError('stack.config-missing', `--config-file ${options.configFile}: no such file`);
    // Like Pulumi: a config file does not make a stack; a recorded update or the project's own Pulumi.<stack>.yaml does.
    const exists = name in this.options.stacks || fs.existsSync(path.join(this.root, `Pulumi.${name}.yaml`));
    if (!exists && !options.create) throw unknownStack(name, await this.listStacks());
    return new SandboxStack(name, configFile, this.options);
  }
}

interface Planned {
  change?: ResourceChange;
  apply: () => Promise<{ id: string; state: Record<string, unknown> }>;
  /**
   * The state a preview hands the program for a changed resource (default: the prior state). A new
   * launch template version must show as one, or the groups pinned to it would preview unchanged.
   */
  previewState?: Record<string, unknown>;
}

class SandboxStack implements StackPort {
  readonly simulated = true;
  constructor(readonly name: string, private readonly configFile: string, private readonly options: SandboxStacksOptions) {}

  private get record(): SandboxStackRecord {
    return (this.options.stacks[this.name] ??= { resources: {}, outputs: {} });
  }

  async outputs(): Promise<Record<string, unknown>> {
    return this.options.stacks[this.name]?.outputs ?? {};
  }

  async cancel(): Promise<void> {
    // Resource operations here are single SDK calls; an abort stops between them.
  }

  async preview(options: StackOperationOptions = {}): Promise<PreviewOutcome> {
    const run = await this.evaluate(false, options);
    return { changeSummary: run.summary, changes: run.changes };
  }

  async up(options: StackOperationOptions = {}): Promise<UpOutcome> {
    const started = this.options.clock.now();
    const run = await this.evaluate(true, options);
    this.record.outputs = run.outputs;
    return { changeSummary: run.summary, changes: run.changes, outputs: run.outputs, seconds: Math.round((this.options.clock.now() - started) / 1000) };
  }

  /** Evaluates infra/ under mocks; with `apply`, performs each change on the simulated AWS. */
  private evaluate(apply: boolean, options: StackOperationOptions) {
    // Pulumi's runtime (mocks, config) is process-global: one evaluation at a time.
    const run = evaluations.then(() => this.evaluateNow(apply, options));
    evaluations = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  private async evaluateNow(apply: boolean, options: StackOperationOptions) {
    // Like the pulumi CLI: secure values decrypted, their keys handed to the program as secret keys.
    const { values: config, secretKeys, key: secretsKey } = decryptStackConfig(this.configFile, readStackConfig(this.configFile, this.name), this.options.env ?? process.env);
    const previous = this.record.resources;
    const next: Record<string, ResourceRecord> = {};
    const changes: ResourceChange[] = [];
    let unchanged = 0;
    let failure: unknown;
    let inFlight = 0;
    let registered = 0;
    let rejectFailure: (e: unknown) => void = () => {};
    // A failed resource leaves the outputs that depend on it unresolved forever: stop waiting then.
    const failed = new Promise<never>((_, reject) => (rejectFailure = reject));
    failed.catch(() => undefined);
    const signal = options.signal;

    await pulumi.runtime.setMocks(
      {
        call: (args) => {
          if (args.token === 'aws:index/getAvailabilityZones:getAvailabilityZones') {
            const region = String(config['aws:region'] ?? this.options.region ?? 'us-east-1');
            const names = ['a', 'b', 'c'].map((z) => `${region}${z}`);
            return { names, zoneIds: names.map((_, i) => `use1-az${i + 1}`), id: region };
          }
          if (args.token === 'aws:index/getRegion:getRegion') return { name: config['aws:region'] ?? 'us-east-1' };
          // The simulated AWS has one VPC (target groups default to `vpc-sandbox`, elbv2/SPEC.md [TG-1]).
          if (args.token === 'aws:ec2/getSubnet:getSubnet') return { id: args.inputs.id, vpcId: SANDBOX_VPC };
          throw new Error(`sandbox: data source ${args.token} is not simulated`);
        },
        newResource: async (args) => {
          const key = `${args.type}::${args.name}`;
          // After a failure nothing more is applied; the remaining registrations get placeholder
          // state instead of a rejection (which nobody would await: Pulumi leaves them unhandled).
          if (failure) return placeholder(args.name, args.inputs);
          inFlight++;
          try {
            if (signal?.aborted) throw abortedUp(this.name);
            const prior = previous[key];
            // Secret inputs: applied in plain, recorded sealed (as Pulumi's state keeps them encrypted).
            const sealed = sealSecrets(args.inputs, secretsKey) as Record<string, unknown>;
            const planned = this.plan(args.type, args.name, unwrapSecrets(args.inputs) as Record<string, unknown>, prior, apply, sealed);
            if (planned.change) {
              changes.push(planned.change);
              options.onEvent?.({ kind: 'resource', phase: 'start', change: planned.change });
            } else unchanged++;
            const result =
              planned.change && apply
                ? await planned.apply()
                : prior
                  ? { id: prior.id, state: (planned.change && planned.previewState) || prior.state }
                  : await planned.apply();
            next[key] = { type: args.type, name: args.name, id: result.id, inputs: sealed, state: result.state };
            if (planned.change) options.onEvent?.({ kind: 'resource', phase: 'done', change: planned.change });
            return { id: result.id, state: { ...args.inputs, ...result.state } };
          } catch (err) {
            failure ??= err;
            rejectFailure(err);
            options.onEvent?.({ kind: 'resource', phase: 'failed', change: { op: previous[key] ? 'update' : 'create', type: args.type, name: args.name } });
            return placeholder(args.name, args.inputs);
          } finally {
            inFlight--;
            registered++;
          }
        },
      },
      PROJECT,
      this.name,
      false,
    );
    pulumi.runtime.setAllConfig(Object.fromEntries(Object.entries(config).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)])), secretKeys);

    let outputs: Record<string, unknown> = {};
    try {
      const program = loadProgram();
      for (const [k, v] of Object.entries(program)) {
        outputs[k] = pulumi.Output.isInstance(v) ? await Promise.race([resolveOutput(v as pulumi.Output<unknown>), failed]) : v;
      }
      await settled(() => inFlight, () => registered, failed);
    } catch (err) {
      if (apply) this.record.resources = { ...previous, ...next }; // like Pulumi: what was applied is recorded
      throw programError(this.name, failure ?? err);
    }
    if (failure) {
      if (apply) this.record.resources = { ...previous, ...next };
      throw programError(this.name, failure);
    }

    // Resources no longer declared are deleted (groups before what they use).
    const removed = Object.entries(previous).filter(([k]) => !(k in next));
    removed.sort(([, a], [, b]) => deleteOrder(a.type) - deleteOrder(b.type));
    for (const [, r] of removed) {
      const change: ResourceChange = { op: 'delete', type: r.type, name: r.name };
      changes.push(change);
      if (apply) {
        options.onEvent?.({ kind: 'resource', phase: 'start', change });
        try {
          await this.destroy(r);
        } catch (err) {
          options.onEvent?.({ kind: 'resource', phase: 'failed', change });
          throw upFailed(this.name, `deleting ${r.type} ${r.name}: ${(err as Error).message}`, err);
        }
        options.onEvent?.({ kind: 'resource', phase: 'done', change });
      }
    }
    if (apply) this.record.resources = next;
    if (!apply) outputs = this.record.outputs; // a preview changes nothing, outputs included
    return { changes, summary: summarize(changes, unchanged), outputs };
  }

  /** Decides create/update/same for one resource and how to apply it. */
  private plan(type: string, name: string, inputs: Record<string, unknown>, prior: ResourceRecord | undefined, apply: boolean, sealed: Record<string, unknown> = inputs): Planned {
    const c = this.options.clients;
    const changed = (keys: string[]) => (prior ? keys.filter((k) => !sameValue(prior.inputs[k], sealed[k])) : keys);
    switch (type) {
      case 'aws:ec2/launchTemplate:LaunchTemplate': {
        const dataKeys = ['imageId', 'instanceType', 'keyName', 'vpcSecurityGroupIds', 'iamInstanceProfile', 'userData', 'tagSpecifications'];
        if (!prior) {
          return {
            change: { op: 'create', type, name },
            apply: async () => {
              if (!apply) return { id: `lt-preview-${name}`, state: { latestVersion: 1, defaultVersion: 1 } };
              const out = await c.ec2.send(
                new CreateLaunchTemplateCommand({ LaunchTemplateName: String(inputs.name ?? name), LaunchTemplateData: launchTemplateData(inputs) }),
              );
              const lt = out.LaunchTemplate!;
              return { id: lt.LaunchTemplateId!, state: { name: lt.LaunchTemplateName, latestVersion: lt.LatestVersionNumber ?? 1, defaultVersion: lt.DefaultVersionNumber ?? 1 } };
            },
          };
        }
        const diffs = changed(dataKeys);
        if (diffs.length === 0) return { apply: async () => ({ id: prior.id, state: prior.state }) };
        // What the update will make of it (the next version, the default following it), for a preview.
        const nextVersion = Number(prior.state.latestVersion ?? 1) + 1;
        return {
          change: { op: 'update', type, name, diffs },
          previewState: { ...prior.state, latestVersion: nextVersion, defaultVersion: inputs.updateDefaultVersion !== false ? nextVersion : prior.state.defaultVersion },
          apply: async () => {
            const out = await c.ec2.send(new CreateLaunchTemplateVersionCommand({ LaunchTemplateId: prior.id, LaunchTemplateData: launchTemplateData(inputs) }));
            const version = out.LaunchTemplateVersion!.VersionNumber!;
            if (inputs.updateDefaultVersion !== false) {
              await c.ec2.send(new ModifyLaunchTemplateCommand({ LaunchTemplateId: prior.id, DefaultVersion: String(version) }));
            }
            return { id: prior.id, state: { ...prior.state, latestVersion: version, defaultVersion: version } };
          },
        };
      }
      case 'aws:ec2/launchConfiguration:LaunchConfiguration': {
        const keys = ['imageId', 'instanceType', 'keyName', 'securityGroups', 'iamInstanceProfile', 'userData'];
        const diffs = changed(keys);
        if (prior && diffs.length === 0) return { apply: async () => ({ id: prior.id, state: prior.state }) };
        return {
          change: { op: prior ? 'replace' : 'create', type, name, diffs: prior ? diffs : undefined },
          apply: async () => {
            const lcName = `${String(inputs.namePrefix ?? `${name}-`)}${this.options.clock.now().toString(36)}`;
            if (apply) {
              await c.autoScaling.send(
                new CreateLaunchConfigurationCommand({
                  LaunchConfigurationName: lcName,
                  ImageId: String(inputs.imageId),
                  InstanceType: String(inputs.instanceType),
                  KeyName: inputs.keyName as string | undefined,
                  SecurityGroups: inputs.securityGroups as string[] | undefined,
                  IamInstanceProfile: inputs.iamInstanceProfile as string | undefined,
                  UserData: inputs.userData as string | undefined,
                }),
              );
              if (prior) this.deferredLcDeletes.push(prior.id);
            }
            return { id: lcName, state: { name: lcName } };
          },
        };
      }
      case 'aws:elb/loadBalancer:LoadBalancer': {
        const lbName = String(inputs.name ?? name);
        if (!prior) {
          return {
            change: { op: 'create', type, name },
            apply: async () => {
              if (apply) {
                await c.elb.send(
                  new CreateLoadBalancerCommand({
                    LoadBalancerName: lbName,
                    Listeners: (inputs.listeners as Array<Record<string, unknown>>).map((l) => ({
                      LoadBalancerPort: Number(l.lbPort),
                      Protocol: String(l.lbProtocol).toUpperCase(),
                      InstancePort: Number(l.instancePort),
                      InstanceProtocol: String(l.instanceProtocol ?? l.lbProtocol).toUpperCase(),
                      SSLCertificateId: l.sslCertificateId as string | undefined,
                    })),
                    AvailabilityZones: inputs.availabilityZones as string[] | undefined,
                    Subnets: inputs.subnets as string[] | undefined,
                    SecurityGroups: inputs.securityGroups as string[] | undefined,
                    Scheme: inputs.internal ? 'internal' : undefined,
                  }),
                );
                await this.configureElb(lbName, inputs, ['healthCheck', 'connectionDraining', 'crossZoneLoadBalancing']);
              }
              return { id: lbName, state: { name: lbName, dnsName: `${lbName}.elb.sandbox.local` } };
            },
          };
        }
        const diffs = changed(['healthCheck', 'connectionDraining', 'connectionDrainingTimeout', 'crossZoneLoadBalancing']);
        if (diffs.length === 0) return { apply: async () => ({ id: prior.id, state: prior.state }) };
        return {
          change: { op: 'update', type, name, diffs },
          apply: async () => {
            await this.configureElb(lbName, inputs, diffs);
            return { id: prior.id, state: prior.state };
          },
        };
      }
      case 'aws:autoscaling/group:Group': {
        const groupName = String(inputs.name ?? name);
        const tags = (inputs.tags as Array<{ key: string; value: string; propagateAtLaunch?: boolean }> | undefined) ?? [];
        // infra/program.ts: A/B groups' desired/min belong to the orchestrator after creation (ignoreChanges).
        const isAb = tags.some((t) => t.key === 'asg-deploy:color');
        if (!prior) {
          return {
            change: { op: 'create', type, name },
            apply: async () => {
              if (apply) await c.autoScaling.send(new CreateAutoScalingGroupCommand(groupInput(groupName, inputs, tags)));
              if (apply && inputs.warmPool) await applyWarmPool(c.autoScaling, groupName, inputs.warmPool, false);
              return { id: groupName, state: { name: groupName, arn: `arn:aws:autoscaling:sandbox:000000000000:autoScalingGroup:${groupName}` } };
            },
          };
        }
        const keys = ['launchTemplate', 'launchConfiguration', 'mixedInstancesPolicy', 'capacityRebalance', 'healthCheckGracePeriod', 'healthCheckType', 'terminationPolicies', 'availabilityZones', 'vpcZoneIdentifiers', 'targetGroupArns', 'warmPool'];
        if (!isAb) keys.push('desiredCapacity', 'minSize', 'maxSize'); // A/B: infra/program.ts AB_IGNORED_CHANGES
        const diffs = changed(keys);
        if (diffs.length === 0) return { apply: async () => ({ id: prior.id, state: prior.state }) };
        return {
          change: { op: 'update', type, name, diffs },
          apply: async () => {
            const full = groupInput(groupName, inputs, tags);
            const update: UpdateAutoScalingGroupCommandInput = { AutoScalingGroupName: groupName };
            for (const d of diffs) {
              if (d === 'launchTemplate') update.LaunchTemplate = full.LaunchTemplate;
              if (d === 'launchConfiguration') update.LaunchConfigurationName = full.LaunchConfigurationName;
              if (d === 'mixedInstancesPolicy' && full.MixedInstancesPolicy) update.MixedInstancesPolicy = full.MixedInstancesPolicy;
              if (d === 'capacityRebalance') update.CapacityRebalance = full.CapacityRebalance ?? false;
              if (d === 'maxSize') update.MaxSize = full.MaxSize;
              if (d === 'minSize') update.MinSize = full.MinSize;
              if (d === 'desiredCapacity') update.DesiredCapacity = full.DesiredCapacity;
              if (d === 'healthCheckGracePeriod') update.HealthCheckGracePeriod = full.HealthCheckGracePeriod;
              if (d === 'healthCheckType') update.HealthCheckType = full.HealthCheckType;
              if (d === 'terminationPolicies') update.TerminationPolicies = full.TerminationPolicies;
              if (d === 'availabilityZones') update.AvailabilityZones = full.AvailabilityZones;
              if (d === 'vpcZoneIdentifiers') update.VPCZoneIdentifier = full.VPCZoneIdentifier;
            }
            if (Object.keys(update).length > 1) await c.autoScaling.send(new UpdateAutoScalingGroupCommand(update));
            if (diffs.includes('warmPool')) await applyWarmPool(c.autoScaling, groupName, inputs.warmPool, prior.inputs.warmPool !== undefined);
            if (diffs.includes('targetGroupArns')) {
              // As the provider does: attach what is new, detach what the program no longer names.
              const before = (prior.inputs.targetGroupArns as string[] | undefined) ?? [];
              const after = (inputs.targetGroupArns as string[] | undefined) ?? [];
              const attach = after.filter((a) => !before.includes(a));
              const detach = before.filter((a) => !after.includes(a));
              if (attach.length) await c.autoScaling.send(new AttachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: groupName, TargetGroupARNs: attach }));
              if (detach.length) await c.autoScaling.send(new DetachLoadBalancerTargetGroupsCommand({ AutoScalingGroupName: groupName, TargetGroupARNs: detach }));
            }
            for (const lc of this.deferredLcDeletes.splice(0)) {
              await c.autoScaling.send(new DeleteLaunchConfigurationCommand({ LaunchConfigurationName: lc })).catch(() => undefined);
            }
            return { id: prior.id, state: prior.state };
          },
        };
      }
      case LIFECYCLE_HOOK_TYPE: {
        const diffs = changed(LIFECYCLE_HOOK_KEYS);
        if (prior && diffs.length === 0) return { apply: async () => ({ id: prior.id, state: prior.state }) };
        return {
          change: prior ? { op: 'update', type, name, diffs } : { op: 'create', type, name },
          apply: async () => (apply ? putLifecycleHook(c.autoScaling, name, inputs) : { id: String(inputs.name ?? name), state: { name: inputs.name ?? name } }),
        };
      }
      case 'aws:lb/targetGroup:TargetGroup':
      case 'aws:lb/loadBalancer:LoadBalancer':
      case 'aws:lb/listener:Listener':
      case 'aws:lb/listenerRule:ListenerRule':
        return this.planElbv2(type, name, inputs, prior, apply, changed);
      default:
        throw usageError('sandbox.unsupported-resource', `the sandbox does not simulate resource type ${type} (${name}); run without --sandbox`);
    }
  }

  private readonly deferredLcDeletes: string[] = [];

  /**
   * ALB/NLB resources (`aws:lb/*`), applied as the AWS provider does: CreateTargetGroup then its
   * deregistration delay attribute; CreateLoadBalancer; CreateListener; CreateRule. Updates: a
   * target group's health check (ModifyTargetGroup) and delay (ModifyTargetGroupAttributes), a
   * listener's port/protocol/default actions (ModifyListener), a rule's conditions/actions
   * (ModifyRule). A weighted forward between two target groups (an A/B pair) is left alone after
   * creation: infra/program.ts AB_LISTENER_IGNORED_CHANGES / AB_RULE_IGNORED_CHANGES.
   */
  private planElbv2(type: string, name: string, inputs: Record<string, unknown>, prior: ResourceRecord | undefined, apply: boolean, changed: (keys: string[]) => string[]): Planned {
    const c = this.options.clients.elbv2;
    const same = prior ? { apply: async () => ({ id: prior.id, state: prior.state }) } : undefined;
    switch (type) {
      case 'aws:lb/targetGroup:TargetGroup': {
        const tgName = String(inputs.name ?? name);
        if (!prior) {
          return {
            change: { op: 'create', type, name },
            apply: async () => {
              if (!apply) return { id: previewArn('targetgroup', tgName), state: { arn: previewArn('targetgroup', tgName), name: tgName } };
              const out = await c.send(new CreateTargetGroupCommand({ Name: tgName, Port: Number(inputs.port), Protocol: String(inputs.protocol) as never, VpcId: inputs.vpcId as string | undefined, TargetType: 'instance', ...healthCheckInput(inputs), Tags: tagList(inputs.tags) }));
              const arn = out.TargetGroups![0].TargetGroupArn!;
              if (inputs.deregistrationDelay !== undefined) await c.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: arn, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(inputs.deregistrationDelay) }] }));
              return { id: arn, state: { arn, arnSuffix: arn.split(':').pop(), name: tgName } };
            },
          };
        }
        const diffs = changed(['healthCheck', 'deregistrationDelay']);
        if (diffs.length === 0) return same!;
        return {
          change: { op: 'update', type, name, diffs },
          apply: async () => {
            if (diffs.includes('healthCheck')) await c.send(new ModifyTargetGroupCommand({ TargetGroupArn: prior.id, ...healthCheckInput(inputs) }));
            if (diffs.includes('deregistrationDelay')) await c.send(new ModifyTargetGroupAttributesCommand({ TargetGroupArn: prior.id, Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(inputs.deregistrationDelay ?? 300) }] }));
            return { id: prior.id, state: prior.state };
          },
        };
      }
      case 'aws:lb/loadBalancer:LoadBalancer': {
        const lbName = String(inputs.name ?? name);
        if (prior) return same!; // the program sets nothing the sandbox models an update of
        return {
          change: { op: 'create', type, name },
          apply: async () => {
            if (!apply) return { id: previewArn('loadbalancer', lbName), state: { arn: previewArn('loadbalancer', lbName), name: lbName } };
            const out = await c.send(
              new CreateLoadBalancerV2Command({
                Name: lbName,
                Type: (inputs.loadBalancerType as 'application' | 'network' | undefined) ?? 'application',
                Scheme: inputs.internal ? 'internal' : 'internet-facing',
                Subnets: inputs.subnets as string[] | undefined,
                SecurityGroups: inputs.securityGroups as string[] | undefined,
                Tags: tagList(inputs.tags),
              }),
            );
            const lb = out.LoadBalancers![0];
            return { id: lb.LoadBalancerArn!, state: { arn: lb.LoadBalancerArn, arnSuffix: lb.LoadBalancerArn!.split(':loadbalancer/').pop(), name: lbName, dnsName: lb.DNSName } };
          },
        };
      }
      case 'aws:lb/listener:Listener': {
        const weighted = isWeighted(inputs.defaultActions);
        if (!prior) {
          return {
            change: { op: 'create', type, name },
            apply: async () => {
              if (!apply) return { id: previewArn('listener', name), state: { arn: previewArn('listener', name) } };
              const out = await c.send(
                new CreateListenerCommand({
                  LoadBalancerArn: String(inputs.loadBalancerArn),
                  Port: Number(inputs.port),
                  Protocol: inputs.protocol as never,
                  Certificates: inputs.certificateArn ? [{ CertificateArn: String(inputs.certificateArn) }] : undefined,
                  DefaultActions: actionsInput(inputs.defaultActions),
                  Tags: tagList(inputs.tags),
                }),
              );
              const arn = out.Listeners![0].ListenerArn!;
              return { id: arn, state: { arn } };
            },
          };
        }
        const diffs = changed(['port', 'protocol', 'certificateArn', ...(weighted ? [] : ['defaultActions'])]);
        if (diffs.length === 0) return same!;
        return {
          change: { op: 'update', type, name, diffs },
          apply: async () => {
            await c.send(
              new ModifyListenerCommand({
                ListenerArn: prior.id,
                ...(diffs.includes('port') ? { Port: Number(inputs.port) } : {}),
                ...(diffs.includes('protocol') ? { Protocol: inputs.protocol as never } : {}),
                ...(diffs.includes('certificateArn') && inputs.certificateArn ? { Certificates: [{ CertificateArn: String(inputs.certificateArn) }] } : {}),
                ...(diffs.includes('defaultActions') ? { DefaultActions: actionsInput(inputs.defaultActions) } : {}),
              }),
            );
            return { id: prior.id, state: prior.state };
          },
        };
      }
      case 'aws:lb/listenerRule:ListenerRule': {
        const weighted = isWeighted(inputs.actions);
        if (!prior || !sameValue(prior.inputs.listenerArn, inputs.listenerArn) || !sameValue(prior.inputs.priority, inputs.priority)) {
          // A rule moves to another listener or priority by replacement (the provider: ForceNew on listenerArn; priority in place is a SetRulePriorities the sandbox does not model).
          return {
            change: { op: prior ? 'replace' : 'create', type, name, ...(prior ? { diffs: changed(['listenerArn', 'priority']) } : {}) },
            apply: async () => {
              if (!apply) return { id: previewArn('listener-rule', name), state: { arn: previewArn('listener-rule', name) } };
              const out = await c.send(
                new CreateRuleCommand({
                  ListenerArn: String(inputs.listenerArn),
                  Priority: Number(inputs.priority),
                  Conditions: conditionsInput(inputs.conditions),
                  Actions: actionsInput(inputs.actions),
                  Tags: tagList(inputs.tags),
                }),
              );
              if (prior) await c.send(new DeleteRuleCommand({ RuleArn: prior.id }));
              const arn = out.Rules![0].RuleArn!;
              return { id: arn, state: { arn } };
            },
          };
        }
        const diffs = changed(['conditions', ...(weighted ? [] : ['actions'])]);
        if (diffs.length === 0) return same!;
        return {
          change: { op: 'update', type, name, diffs },
          apply: async () => {
            await c.send(
              new ModifyRuleCommand({
                RuleArn: prior.id,
                ...(diffs.includes('conditions') ? { Conditions: conditionsInput(inputs.conditions) } : {}),
                ...(diffs.includes('actions') ? { Actions: actionsInput(inputs.actions) } : {}),
              }),
            );
            return { id: prior.id, state: prior.state };
          },
        };
      }
    }
    throw usageError('sandbox.unsupported-resource', `the sandbox does not simulate resource type ${type} (${name}); run without --sandbox`);
  }

  private async configureElb(lbName: string, inputs: Record<string, unknown>, keys: string[]): Promise<void> {
    const c = this.options.clients;
    const hc = inputs.healthCheck as Record<string, unknown> | undefined;
    if (hc && keys.includes('healthCheck')) {
      await c.elb.send(
        new ConfigureHealthCheckCommand({
          LoadBalancerName: lbName,
          HealthCheck: {
            Target: String(hc.target),
            Interval: Number(hc.interval),
            Timeout: Number(hc.timeout),
            HealthyThreshold: Number(hc.healthyThreshold),
            UnhealthyThreshold: Number(hc.unhealthyThreshold),
          },
        }),
      );
    }
    if (keys.some((k) => k.startsWith('connectionDraining') || k === 'crossZoneLoadBalancing')) {
      await c.elb.send(
        new ModifyLoadBalancerAttributesCommand({
          LoadBalancerName: lbName,
          LoadBalancerAttributes: {
            ConnectionDraining: { Enabled: Boolean(inputs.connectionDraining), Timeout: Number(inputs.connectionDrainingTimeout ?? 300) },
            CrossZoneLoadBalancing: { Enabled: inputs.crossZoneLoadBalancing !== false },
          },
        }),
      );
    }
  }

  private async destroy(r: ResourceRecord): Promise<void> {
    const c = this.options.clients;
    switch (r.type) {
      case LIFECYCLE_HOOK_TYPE:
        await deleteLifecycleHook(c.autoScaling, r.id, r.inputs);
        return;
      case 'aws:autoscaling/group:Group':
        await c.autoScaling.send(new DeleteAutoScalingGroupCommand({ AutoScalingGroupName: r.id, ForceDelete: true }));
        return;
      case 'aws:elb/loadBalancer:LoadBalancer':
        await c.elb.send(new DeleteLoadBalancerCommand({ LoadBalancerName: r.id }));
        return;
      case 'aws:lb/listenerRule:ListenerRule':
        await c.elbv2.send(new DeleteRuleCommand({ RuleArn: r.id }));
        return;
      case 'aws:lb/listener:Listener':
        await c.elbv2.send(new DeleteListenerCommand({ ListenerArn: r.id }));
        return;
      case 'aws:lb/loadBalancer:LoadBalancer':
        await c.elbv2.send(new DeleteLoadBalancerV2Command({ LoadBalancerArn: r.id }));
        return;
      case 'aws:lb/targetGroup:TargetGroup':
        await c.elbv2.send(new DeleteTargetGroupCommand({ TargetGroupArn: r.id }));
        return;
      case 'aws:ec2/launchTemplate:LaunchTemplate':
        await c.ec2.send(new DeleteLaunchTemplateCommand({ LaunchTemplateId: r.id }));
        return;
      case 'aws:ec2/launchConfiguration:LaunchConfiguration':
        await c.autoScaling.send(new DeleteLaunchConfigurationCommand({ LaunchConfigurationName: r.id }));
        return;
    }
  }
}

let evaluations: Promise<unknown> = Promise.resolve();

/** What a registration gets once the evaluation has failed: nothing applied. */
function placeholder(name: string, inputs: Record<string, unknown>): { id: string; state: Record<string, unknown> } {
  return { id: `not-applied-${name}`, state: { ...inputs, latestVersion: 1 } };
}

/** Deletion order: groups, then what forwards to target groups (rules, listeners, load balancers), then target groups, then launch specs. */
const DELETE_ORDER = ['autoscaling/lifecycleHook', 'autoscaling/group', 'lb/listenerRule', 'lb/listener:', 'loadBalancer', 'lb/targetGroup'];
function deleteOrder(type: string): number {
  const i = DELETE_ORDER.findIndex((t) => type.includes(t));
  return i === -1 ? DELETE_ORDER.length : i;
}

/** The simulated AWS's one VPC (elbv2/SPEC.md [TG-1]). */
const SANDBOX_VPC = 'vpc-sandbox';

/** A stand-in ARN for a resource a preview would create. */
function previewArn(kind: string, name: string): string {
  return `arn:aws:elasticloadbalancing:sandbox:000000000000:${kind}/preview/${name}`;
}

/** The provider's `tags` map as the API's tag list. */
function tagList(tags: unknown): Array<{ Key: string; Value: string }> | undefined {
  if (!tags || typeof tags !== 'object') return undefined;
  return Object.entries(tags as Record<string, unknown>).map(([Key, Value]) => ({ Key, Value: String(Value) }));
}

/** A target group's `healthCheck` input as Create/ModifyTargetGroup's fields. */
function healthCheckInput(inputs: Record<string, unknown>) {
  const hc = (inputs.healthCheck as Record<string, unknown> | undefined) ?? {};
  const n = (v: unknown) => (v === undefined ? undefined : Number(v));
  return {
    HealthCheckEnabled: hc.enabled === undefined ? undefined : Boolean(hc.enabled),
    HealthCheckProtocol: hc.protocol as never,
    HealthCheckPort: hc.port === undefined ? undefined : String(hc.port),
    HealthCheckPath: hc.path as string | undefined,
    Matcher: hc.matcher ? { HttpCode: String(hc.matcher) } : undefined,
    HealthCheckIntervalSeconds: n(hc.interval),
    HealthCheckTimeoutSeconds: n(hc.timeout),
    HealthyThresholdCount: n(hc.healthyThreshold),
    UnhealthyThresholdCount: n(hc.unhealthyThreshold),
  };
}

type ProgramAction = { type: string; targetGroupArn?: string; forward?: { targetGroups: Array<{ arn: string; weight?: number }> } };

/** A forward between two or more target groups by weight: the A/B pair's, owned by the orchestrator after creation. */
function isWeighted(actions: unknown): boolean {
  return ((actions as ProgramAction[] | undefined) ?? []).some((a) => (a.forward?.targetGroups.length ?? 0) > 1);
}

/** The provider's `defaultActions` / `actions` (forward by ARN, or by weights) as the API's actions. */
function actionsInput(actions: unknown): Elbv2Action[] {
  return ((actions as ProgramAction[] | undefined) ?? []).map((a, i) => {
    if (a.type !== 'forward') throw usageError('sandbox.unsupported-resource', `the sandbox does not simulate listener action type ${a.type}; run without --sandbox`);
    return a.forward
      ? { Type: 'forward', Order: i + 1, ForwardConfig: { TargetGroups: a.forward.targetGroups.map((t) => ({ TargetGroupArn: t.arn, Weight: t.weight ?? 1 })) } }
      : { Type: 'forward', Order: i + 1, TargetGroupArn: a.targetGroupArn };
  });
}

/** The provider's rule `conditions` (hostHeader, pathPattern) as the API's conditions. */
function conditionsInput(conditions: unknown): RuleCondition[] {
  const list = (conditions as Array<{ hostHeader?: { values: string[] }; pathPattern?: { values: string[] } }> | undefined) ?? [];
  return list.flatMap((cond): RuleCondition[] => [
    ...(cond.hostHeader ? [{ Field: 'host-header', HostHeaderConfig: { Values: cond.hostHeader.values } }] : []),
    ...(cond.pathPattern ? [{ Field: 'path-pattern', PathPatternConfig: { Values: cond.pathPattern.values } }] : []),
  ]);
}

function launchTemplateData(inputs: Record<string, unknown>): RequestLaunchTemplateData {
  const profile = inputs.iamInstanceProfile as { arn?: string; name?: string } | undefined;
  const specs = inputs.tagSpecifications as Array<{ resourceType: string; tags: Record<string, string> }> | undefined;
  return {
    ImageId: inputs.imageId as string | undefined,
    InstanceType: inputs.instanceType as RequestLaunchTemplateData['InstanceType'],
    KeyName: inputs.keyName as string | undefined,
    SecurityGroupIds: inputs.vpcSecurityGroupIds as string[] | undefined,
    IamInstanceProfile: profile ? { Arn: profile.arn, Name: profile.name } : undefined,
    UserData: inputs.userData as string | undefined,
    TagSpecifications: specs?.map((s) => ({
      ResourceType: s.resourceType as NonNullable<RequestLaunchTemplateData['TagSpecifications']>[number]['ResourceType'],
      Tags: Object.entries(s.tags ?? {}).map(([Key, Value]) => ({ Key, Value })),
    })),
  };
}

function groupInput(groupName: string, inputs: Record<string, unknown>, tags: Array<{ key: string; value: string; propagateAtLaunch?: boolean }>): CreateAutoScalingGroupCommandInput {
  const lt = inputs.launchTemplate as { id: string; version?: string } | undefined;
  const subnets = inputs.vpcZoneIdentifiers as string[] | undefined;
  return {
    AutoScalingGroupName: groupName,
    LaunchTemplate: lt ? { LaunchTemplateId: lt.id, Version: lt.version } : undefined,
    LaunchConfigurationName: inputs.launchConfiguration as string | undefined,
    MixedInstancesPolicy: mixedInput(inputs.mixedInstancesPolicy as PulumiMixedPolicy | undefined),
    CapacityRebalance: inputs.capacityRebalance === undefined ? undefined : Boolean(inputs.capacityRebalance),
    MinSize: Number(inputs.minSize ?? 0),
    MaxSize: Number(inputs.maxSize),
    DesiredCapacity: inputs.desiredCapacity === undefined ? undefined : Number(inputs.desiredCapacity),
    AvailabilityZones: subnets ? undefined : (inputs.availabilityZones as string[] | undefined),
    VPCZoneIdentifier: subnets?.join(','),
    HealthCheckType: inputs.healthCheckType as string | undefined,
    HealthCheckGracePeriod: inputs.healthCheckGracePeriod === undefined ? undefined : Number(inputs.healthCheckGracePeriod),
    LoadBalancerNames: inputs.loadBalancers as string[] | undefined,
    TargetGroupARNs: inputs.targetGroupArns as string[] | undefined,
    TerminationPolicies: inputs.terminationPolicies as string[] | undefined,
    Tags: tags.map((t) => ({ Key: t.key, Value: t.value, PropagateAtLaunch: t.propagateAtLaunch ?? true, ResourceId: groupName, ResourceType: 'auto-scaling-group' })),
  };
}

/** The program's `mixedInstancesPolicy` input (the @pulumi/aws Group shape, infra/program.ts). */
interface PulumiMixedPolicy {
  launchTemplate: { launchTemplateSpecification: { launchTemplateId?: string; launchTemplateName?: string; version?: string }; overrides?: Array<{ instanceType?: string; weightedCapacity?: string }> };
  instancesDistribution?: { onDemandBaseCapacity?: number; onDemandPercentageAboveBaseCapacity?: number; spotAllocationStrategy?: string; onDemandAllocationStrategy?: string };
}

/** The Auto Scaling API's MixedInstancesPolicy for the program's input, as the provider sends it. */
function mixedInput(p: PulumiMixedPolicy | undefined): CreateAutoScalingGroupCommandInput['MixedInstancesPolicy'] {
  if (!p) return undefined;
  const spec = p.launchTemplate.launchTemplateSpecification;
  const d = p.instancesDistribution;
  return {
    LaunchTemplate: {
      LaunchTemplateSpecification: { LaunchTemplateId: spec.launchTemplateId, LaunchTemplateName: spec.launchTemplateName, Version: spec.version },
      Overrides: (p.launchTemplate.overrides ?? []).map((o) => ({ InstanceType: o.instanceType, ...(o.weightedCapacity ? { WeightedCapacity: o.weightedCapacity } : {}) })),
    },
    ...(d
      ? {
          InstancesDistribution: {
            OnDemandBaseCapacity: d.onDemandBaseCapacity,
            OnDemandPercentageAboveBaseCapacity: d.onDemandPercentageAboveBaseCapacity,
            SpotAllocationStrategy: d.spotAllocationStrategy,
            OnDemandAllocationStrategy: d.onDemandAllocationStrategy,
          },
        }
      : {}),
  };
}

/** The inputs with Pulumi's secret wrappers removed (what a provider acts on). */
function unwrapSecrets(value: unknown): unknown {
  if (pulumi.runtime.isRpcSecret(value)) return unwrapSecrets(pulumi.runtime.unwrapRpcSecret(value));
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}

/**
 * The inputs as the stack record keeps them: each secret replaced by an HMAC of its value, keyed
 * with the passphrase-derived key (not in the state file), so the record can still tell a change
 * but holds no secret, not even a hash one could test guesses against.
 */
function sealSecrets(value: unknown, key: Buffer | undefined): unknown {
  if (pulumi.runtime.isRpcSecret(value)) {
    const plain = JSON.stringify(unwrapSecrets(value)) ?? 'undefined';
    return { secret: `hmac-sha256:${crypto.createHmac('sha256', key ?? 'asg-deploy sandbox').update(plain).digest('hex')}` };
  }
  if (Array.isArray(value)) return value.map((v) => sealSecrets(v, key));
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, sealSecrets(v, key)]));
  }
  return value;
}

function sameValue(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * Loads the program shipped with the tool (infra/index: TypeScript in a checkout, compiled
 * JavaScript in the package) afresh: the demo evaluates it several times in one process.
 */
function loadProgram(): Record<string, unknown> {
  const infra = path.resolve(__dirname, '..', '..', 'infra') + path.sep;
  for (const id of Object.keys(require.cache)) if (id.startsWith(infra)) delete require.cache[id];
  return require(path.join(infra, 'index')) as Record<string, unknown>;
}

/**
 * Waits until the program stops registering resources: the outputs may resolve before the
 * resources that do not feed them (groups, ELBs) are registered. Quiet means nothing in flight
 * and nothing new for several event-loop turns (the mocks answer in-process, without I/O).
 */
async function settled(inFlight: () => number, registered: () => number, failed: Promise<never>): Promise<void> {
  let quiet = 0;
  let last = -1;
  while (quiet < 10) {
    await Promise.race([new Promise((r) => setImmediate(r)), failed]);
    const n = registered();
    quiet = inFlight() === 0 && n === last ? quiet + 1 : 0;
    last = n;
  }
}

function resolveOutput<T>(o: pulumi.Output<T>): Promise<T> {
  return new Promise((resolve) => {
    o.apply((v) => {
      resolve(v);
      return v;
    });
  });
}

function abortedUp(stack: string): DeployError {
  return new DeployError('interrupted', `sandbox update of stack '${stack}' interrupted between resources; no rollout was started`, { source: 'user', exit: 130 });
}

/** A program error: invalid config is the user's (exit 2); anything else a failed update (exit 1). */
function programError(stack: string, err: unknown): DeployError {
  if (err instanceof DeployError) return err;
  const cause = (err as { cause?: unknown })?.cause;
  if (cause instanceof DeployError) return cause;
  const msg = err instanceof Error ? err.message : String(err);
  return upFailed(stack, msg.split('\n')[0], err);
}
