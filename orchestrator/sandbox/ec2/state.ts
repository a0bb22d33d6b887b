/**
 * EC2 in the simulated AWS: launch templates, instances (pending -> running -> shutting-down ->
 * terminated), subnets and AZs, private addresses. Rules: ./SPEC.md ([EC2-*], [LT-*]).
 *
 * What an instance's state change means to Auto Scaling and the load balancers is not decided
 * here: it is handed to the coupling (../coupling.ts).
 */
import { NEVER, type ImageBehaviour, type InstanceRec, type LaunchRef, type LaunchTemplateRec, type LaunchTemplateVersionRec } from '../model';
import type { World } from '../world';

/** Terminated instances stay visible to DescribeInstances this long [EC2-5]. */
export const TERMINATED_VISIBLE_MS = 3600_000;

export class Ec2Sim {
  constructor(private readonly w: World) {}

  zones(): string[] {
    return ['a', 'b', 'c'].map((l) => `${this.w.state.region}${l}`);
  }

  /** Subnet -> AZ: `subnet-<az>` names map to that AZ, anything else by a stable hash [EC2-6]. */
  zoneOfSubnet(subnetId: string): string {
    for (const z of this.zones()) if (subnetId.endsWith(z)) return z;
    let h = 0;
    for (const c of subnetId) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    return this.zones()[h % 3];
  }

  /** A subnet of `az` among `vpcZoneIdentifier`'s (comma-separated), else `subnet-<az>`. */
  subnetOfZone(az: string, vpcZoneIdentifier?: string): string {
    const subnets = (vpcZoneIdentifier ?? '').split(',').map((x) => x.trim()).filter(Boolean);
    return subnets.find((s) => this.zoneOfSubnet(s) === az) ?? `subnet-${az}`;
  }

  /** Private address in 127.0.0.0/8, from 127.0.1.1 on, skipping .0 and .255 [EC2-4]. */
  nextPrivateIp(): string {
    const n = this.w.counter('ip') - 1;
    const host = n % 254;
    const net = 1 + Math.floor(n / 254);
    return `127.${(net >> 8) & 255}.${net & 255}.${host + 1}`;
  }

  // ---------------------------------------------------------------- launch templates

  findLaunchTemplate(idOrName: { id?: string; name?: string }): LaunchTemplateRec | undefined {
    if (idOrName.id) return this.w.state.launchTemplates[idOrName.id];
    if (idOrName.name) return Object.values(this.w.state.launchTemplates).find((t) => t.name === idOrName.name);
    return undefined;
  }

  /** `$Latest`, `$Default` or a number -> the version record [LT-2]. */
  resolveVersion(lt: LaunchTemplateRec, version: string | undefined): LaunchTemplateVersionRec | undefined {
    const v = version === undefined || version === '$Default' ? lt.defaultVersion : version === '$Latest' ? lt.latestVersion : Number(version);
    return lt.versions.find((x) => x.version === v);
  }

  behaviourOf(launch: LaunchRef, imageId: string): ImageBehaviour {
    const images = this.w.state.images;
    const byVersion = launch.kind === 'lt' ? images[`${launch.id}:${launch.version}`] ?? images[`${launch.name}:${launch.version}`] : undefined;
    return { ...(images[imageId] ?? {}), ...(byVersion ?? {}) };
  }

  // ---------------------------------------------------------------- instances

  /** Creates an EC2 instance (pending) from a launch spec [EC2-1]. */
  createInstance(launch: LaunchRef, data: Record<string, any>, az: string, subnetId: string, extraTags: Record<string, string>): InstanceRec {
    const w = this.w;
    const now = w.now;
    const imageId: string = data.ImageId ?? 'ami-00000000000000000';
    const b = this.behaviourOf(launch, imageId);
    const boot = Math.max(1, w.sample(b.bootSeconds ?? w.faults.bootSeconds)) * 1000;
    const appStart = Math.max(0, w.sample(b.appStartSeconds ?? w.faults.appStartSeconds)) * 1000;
    // Per-instance boot failure [FAULT-11]; no draw at rate 0, so runs without the fault are unchanged.
    const failRate = b.bootFailureRate ?? w.faults.bootFailureRate ?? 0;
    const bootFailure = failRate > 0 && w.rng.chance(failRate) ? b.bootFailureMode ?? w.faults.bootFailureMode ?? 'never-healthy' : undefined;
    const tags: Record<string, string> = {};
    for (const spec of data.TagSpecifications ?? []) {
      if (spec.ResourceType === 'instance') for (const t of spec.Tags ?? []) if (t.Key) tags[t.Key] = t.Value ?? '';
    }
    Object.assign(tags, extraTags);
    if (launch.kind === 'lt') {
      tags['aws:ec2launchtemplate:id'] = launch.id;
      tags['aws:ec2launchtemplate:version'] = String(launch.version);
    }
    const inst: InstanceRec = {
      id: w.nextId('i'),
      az,
      subnetId,
      privateIp: this.nextPrivateIp(),
      imageId,
      instanceType: data.InstanceType ?? 't3.micro',
      launch,
      launchTime: now,
      ec2State: 'pending',
      runningAt: now + boot,
      appUpAt: b.healthy === false || bootFailure ? NEVER : now + boot + appStart,
      failAt: b.failAfterSeconds !== undefined ? now + b.failAfterSeconds * 1000 : undefined,
      // [CW-4] errors under traffic: from errorsAfterSeconds after the application answers.
      ...(b.errorsAfterSeconds !== undefined && b.healthy !== false && !bootFailure ? { errorsAt: now + boot + appStart + b.errorsAfterSeconds * 1000, errorRate: Math.min(1, Math.max(0, b.errorRate ?? 1)) } : {}),
      visibleAt: now + w.faults.describeDelaySeconds * 1000,
      bootFailure,
      tags,
    };
    w.state.instances[inst.id] = inst;
    w.schedule({ at: inst.runningAt, kind: 'running', id: inst.id });
    return inst;
  }

  /** The `running` event: pending -> running, or -> terminated for a launch that fails [FAULT-11]. */
  onRunning(id: string): void {
    const w = this.w;
    const inst = w.state.instances[id];
    if (!inst || inst.ec2State !== 'pending') return;
    if (inst.bootFailure === 'terminated') {
      // pending -> terminated during launch [FAULT-11]; the ASG notices on its next health check [HEALTH-1].
      inst.stateReason = 'Server.InternalError: Internal error on launch';
      w.link.launchFailed(inst);
      this.onTerminated(id);
      return;
    }
    inst.ec2State = 'running';
    w.link.instanceRunning(inst);
    w.changed(inst);
  }

  /** EC2 terminate: running -> shutting-down -> terminated after `shutdownSeconds` [EC2-3]. */
  terminate(inst: InstanceRec, reason = 'Client.UserInitiatedShutdown: User initiated shutdown'): void {
    const w = this.w;
    if (inst.ec2State === 'shutting-down' || inst.ec2State === 'terminated') return;
    inst.ec2State = 'shutting-down';
    inst.stateReason = reason;
    w.schedule({ at: w.now + w.faults.shutdownSeconds * 1000, kind: 'terminated', id: inst.id });
    w.elb.pokeElbs(inst);
    w.changed(inst);
  }

  /** The `terminated` event: gone from the load balancers and (if it was leaving) the group [EC2-3]. */
  onTerminated(id: string): void {
    const w = this.w;
    const inst = w.state.instances[id];
    if (!inst || inst.ec2State === 'terminated') return;
    inst.ec2State = 'terminated';
    inst.terminatedAt = w.now;
    w.link.instanceTerminated(inst);
    w.schedule({ at: w.now + TERMINATED_VISIBLE_MS, kind: 'purge', id });
    w.changed(inst);
  }

  /** The `purge` event: a terminated instance drops out of DescribeInstances [EC2-5]. */
  onPurge(id: string): void {
    const inst = this.w.state.instances[id];
    if (inst && inst.ec2State === 'terminated') delete this.w.state.instances[id];
  }

  /** Spot-style terminations by EC2 itself, `ratePerHour` per running instance [FAULT-4]. */
  spontaneousTerminations(ratePerHour: number, periodMs: number): void {
    const w = this.w;
    const p = 1 - Math.exp((-ratePerHour * periodMs) / 3600_000);
    for (const inst of Object.values(w.state.instances)) {
      if (inst.ec2State !== 'running' || !w.rng.chance(p)) continue;
      w.link.reportTermination(inst, 'spontaneous');
      this.terminate(inst, 'Server.SpotInstanceTermination: Spot instance termination');
    }
  }
}
