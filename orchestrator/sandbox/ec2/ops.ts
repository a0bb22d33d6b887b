/** Simulated Amazon EC2 API: instances (read + terminate) and launch templates. */
import { SimFault } from '../faults';
import type { InstanceRec, LaunchTemplateRec, LaunchTemplateVersionRec } from '../model';
import { filterMap, matches, page, requireString, type Handler } from '../ops-common';
import type { World } from '../world';

const STATE_CODE: Record<string, number> = { pending: 0, running: 16, 'shutting-down': 32, terminated: 48, stopping: 64, stopped: 80 };

function notFound(ids: string[]): SimFault {
  return ids.length === 1
    ? new SimFault('InvalidInstanceID.NotFound', `The instance ID '${ids[0]}' does not exist`)
    : new SimFault('InvalidInstanceID.NotFound', `The instance IDs '${ids.join(', ')}' do not exist`);
}

/** Instances EC2 Describe* calls can see now (eventual consistency: `visibleAt`) [FAULT-8]. */
function visible(w: World): InstanceRec[] {
  return Object.values(w.state.instances)
    .filter((i) => i.visibleAt <= w.now)
    .sort((a, b) => a.launchTime - b.launchTime || a.id.localeCompare(b.id));
}

function selectInstances(w: World, ids: string[] | undefined, filters: any[] | undefined): InstanceRec[] {
  let list: InstanceRec[];
  if (ids?.length) {
    for (const id of ids) if (!/^i-[0-9a-f]{8,17}$/.test(id)) throw new SimFault('InvalidInstanceID.Malformed', `Invalid id: "${id}"`);
    const missing = ids.filter((id) => !(w.state.instances[id]?.visibleAt <= w.now));
    if (missing.length) throw notFound(missing);
    list = [...new Set(ids)].map((id) => w.state.instances[id]).sort((a, b) => a.launchTime - b.launchTime || a.id.localeCompare(b.id));
  } else {
    list = visible(w);
  }
  for (const [name, values] of filterMap(filters)) {
    if (name === 'instance-id') list = list.filter((i) => matches(values, i.id));
    else if (name === 'instance-state-name') list = list.filter((i) => matches(values, i.ec2State));
    else if (name === 'availability-zone') list = list.filter((i) => matches(values, i.az));
    else if (name === 'image-id') list = list.filter((i) => matches(values, i.imageId));
    else if (name === 'private-ip-address') list = list.filter((i) => matches(values, i.privateIp));
    else if (name === 'tag-key') list = list.filter((i) => Object.keys(i.tags).some((k) => matches(values, k)));
    else if (name.startsWith('tag:')) list = list.filter((i) => matches(values, i.tags[name.slice(4)]));
    else throw new SimFault('InvalidParameterValue', `The filter '${name}' is invalid`);
  }
  return list;
}

function instanceOut(i: InstanceRec) {
  return {
    InstanceId: i.id,
    ImageId: i.imageId,
    InstanceType: i.instanceType,
    // "Indicates whether this is a Spot Instance or a Scheduled Instance": absent for On-Demand [MIX-5].
    InstanceLifecycle: i.market === 'spot' ? 'spot' : undefined,
    LaunchTime: new Date(i.launchTime),
    Placement: { AvailabilityZone: i.az, Tenancy: 'default' },
    PrivateIpAddress: i.ec2State === 'terminated' ? undefined : i.privateIp,
    PrivateDnsName: i.ec2State === 'terminated' ? '' : `ip-${i.privateIp.replace(/\./g, '-')}.ec2.internal`,
    State: { Code: STATE_CODE[i.ec2State], Name: i.ec2State },
    StateTransitionReason: i.stateReason ?? '',
    StateReason: i.stateReason ? { Code: i.stateReason.split(':')[0], Message: i.stateReason } : undefined,
    SubnetId: i.ec2State === 'terminated' ? undefined : i.subnetId,
    VpcId: 'vpc-00000000000sandbox',
    Architecture: 'x86_64',
    Tags: Object.entries(i.tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

function ltOut(lt: LaunchTemplateRec) {
  return {
    LaunchTemplateId: lt.id,
    LaunchTemplateName: lt.name,
    CreateTime: new Date(lt.createTime),
    CreatedBy: 'arn:aws:iam::123456789012:user/sandbox',
    DefaultVersionNumber: lt.defaultVersion,
    LatestVersionNumber: lt.latestVersion,
    Tags: Object.entries(lt.tags).map(([Key, Value]) => ({ Key, Value })),
  };
}

function versionOut(lt: LaunchTemplateRec, v: LaunchTemplateVersionRec) {
  return {
    LaunchTemplateId: lt.id,
    LaunchTemplateName: lt.name,
    VersionNumber: v.version,
    VersionDescription: v.description,
    CreateTime: new Date(v.createTime),
    CreatedBy: 'arn:aws:iam::123456789012:user/sandbox',
    DefaultVersion: v.version === lt.defaultVersion,
    LaunchTemplateData: structuredClone(v.data),
  };
}

function getLt(w: World, input: { LaunchTemplateId?: string; LaunchTemplateName?: string }): LaunchTemplateRec {
  const lt = w.findLaunchTemplate({ id: input.LaunchTemplateId, name: input.LaunchTemplateName });
  if (lt) return lt;
  if (input.LaunchTemplateId) throw new SimFault('InvalidLaunchTemplateId.NotFound', `The specified launch template, with template ID ${input.LaunchTemplateId}, does not exist.`);
  if (input.LaunchTemplateName) throw new SimFault('InvalidLaunchTemplateName.NotFoundException', `The specified launch template, with template name ${input.LaunchTemplateName}, does not exist.`);
  throw new SimFault('MissingParameter', 'The request must contain the parameter launchTemplateName or launchTemplateId');
}

function versionOf(lt: LaunchTemplateRec, v: string): LaunchTemplateVersionRec {
  const n = v === '$Latest' ? lt.latestVersion : v === '$Default' ? lt.defaultVersion : Number(v);
  const rec = lt.versions.find((x) => x.version === n);
  if (!rec) throw new SimFault('InvalidLaunchTemplateId.VersionNotFound', `Could not find launch template version ${v} for launch template ${lt.id}`);
  return rec;
}

function tagsOf(specs: any[] | undefined, type: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of specs ?? []) if (s.ResourceType === type) for (const t of s.Tags ?? []) out[t.Key] = t.Value ?? '';
  return out;
}

export const ec2Ops: Record<string, Handler> = {
  DescribeInstances(w, input, ctx) {
    const list = selectInstances(w, input.InstanceIds, input.Filters);
    const p = page(list, input.NextToken, input.MaxResults, ctx, 1000);
    return {
      Reservations: p.items.map((i) => ({ ReservationId: `r-${i.id.slice(2)}`, OwnerId: '123456789012', Groups: [], Instances: [instanceOut(i)] })),
      NextToken: p.next,
    };
  },

  DescribeInstanceStatus(w, input, ctx) {
    let list = selectInstances(w, input.InstanceIds, input.Filters);
    if (!input.IncludeAllInstances) list = list.filter((i) => i.ec2State === 'running');
    const p = page(list, input.NextToken, input.MaxResults, ctx, 1000);
    return {
      InstanceStatuses: p.items.map((i) => {
        const status = i.ec2State !== 'running' ? 'not-applicable' : w.now < i.runningAt + 60_000 ? 'initializing' : 'ok';
        const detail = status === 'ok' ? 'passed' : 'initializing';
        const summary = { Status: status, Details: status === 'not-applicable' ? [] : [{ Name: 'reachability', Status: detail }] };
        return {
          InstanceId: i.id,
          AvailabilityZone: i.az,
          InstanceState: { Code: STATE_CODE[i.ec2State], Name: i.ec2State },
          InstanceStatus: summary,
          SystemStatus: summary,
        };
      }),
      NextToken: p.next,
    };
  },

  TerminateInstances(w, input, ctx) {
    const ids: string[] = input.InstanceIds ?? [];
    const missing = ids.filter((id) => !w.state.instances[id]);
    if (missing.length) throw notFound(missing);
    const out = ids.map((id) => {
      const i = w.state.instances[id];
      const previous = { Code: STATE_CODE[i.ec2State], Name: i.ec2State };
      if (i.ec2State !== 'terminated' && i.ec2State !== 'shutting-down') {
        const g = i.group ? w.state.groups[i.group] : undefined; // undefined after the group was deleted
        w.observer?.terminated({
          time: w.now, instanceId: i.id, group: i.group, cause: 'api', call: { actor: ctx.actor, operation: ctx.operation, time: w.now },
          healthy: w.isHealthy(i), upToDate: g ? w.isUpToDate(i, g) : false, launch: i.launch, launchTime: i.launchTime,
        });
        w.ec2.terminate(i);
      }
      return { InstanceId: id, PreviousState: previous, CurrentState: { Code: STATE_CODE[i.ec2State], Name: i.ec2State } };
    });
    return { TerminatingInstances: out };
  },

  DescribeAvailabilityZones(w) {
    return {
      AvailabilityZones: w.zones().map((z, n) => ({ ZoneName: z, ZoneId: `use1-az${n + 1}`, State: 'available', RegionName: w.state.region, ZoneType: 'availability-zone' })),
    };
  },

  CreateLaunchTemplate(w, input) {
    const name = requireString(input.LaunchTemplateName, 'LaunchTemplateName');
    if (w.findLaunchTemplate({ name })) throw new SimFault('InvalidLaunchTemplateName.AlreadyExistsException', `Launch template name already in use.`);
    const lt: LaunchTemplateRec = {
      id: w.nextId('lt'),
      name,
      createTime: w.now,
      defaultVersion: 1,
      latestVersion: 1,
      versions: [{ version: 1, data: structuredClone(input.LaunchTemplateData ?? {}), createTime: w.now, description: input.VersionDescription }],
      tags: tagsOf(input.TagSpecifications, 'launch-template'),
    };
    w.state.launchTemplates[lt.id] = lt;
    return { LaunchTemplate: ltOut(lt) };
  },

  CreateLaunchTemplateVersion(w, input) {
    const lt = getLt(w, input);
    const base = input.SourceVersion ? structuredClone(versionOf(lt, String(input.SourceVersion)).data) : {};
    const v: LaunchTemplateVersionRec = {
      version: lt.latestVersion + 1,
      data: { ...base, ...structuredClone(input.LaunchTemplateData ?? {}) },
      createTime: w.now,
      description: input.VersionDescription,
    };
    lt.versions.push(v);
    lt.latestVersion = v.version;
    return { LaunchTemplateVersion: versionOut(lt, v) };
  },

  ModifyLaunchTemplate(w, input) {
    const lt = getLt(w, input);
    if (input.DefaultVersion !== undefined) lt.defaultVersion = versionOf(lt, String(input.DefaultVersion)).version;
    return { LaunchTemplate: ltOut(lt) };
  },

  DescribeLaunchTemplates(w, input, ctx) {
    let list = Object.values(w.state.launchTemplates);
    if (input.LaunchTemplateIds?.length) {
      for (const id of input.LaunchTemplateIds) getLt(w, { LaunchTemplateId: id });
      list = list.filter((l) => input.LaunchTemplateIds.includes(l.id));
    }
    if (input.LaunchTemplateNames?.length) {
      for (const name of input.LaunchTemplateNames) {
        if (!w.findLaunchTemplate({ name })) throw new SimFault('InvalidLaunchTemplateName.NotFoundException', 'At least one of the launch templates specified in the request does not exist.');
      }
      list = list.filter((l) => input.LaunchTemplateNames.includes(l.name));
    }
    for (const [name, values] of filterMap(input.Filters)) {
      if (name === 'launch-template-name') list = list.filter((l) => matches(values, l.name));
      else if (name.startsWith('tag:')) list = list.filter((l) => matches(values, l.tags[name.slice(4)]));
    }
    list.sort((a, b) => a.createTime - b.createTime || a.name.localeCompare(b.name));
    const p = page(list, input.NextToken, input.MaxResults, ctx, 1000);
    return { LaunchTemplates: p.items.map(ltOut), NextToken: p.next };
  },

  DescribeLaunchTemplateVersions(w, input, ctx) {
    const lt = getLt(w, input);
    let list: LaunchTemplateVersionRec[];
    if (input.Versions?.length) {
      const seen = new Set<number>();
      list = [];
      for (const v of input.Versions as string[]) {
        const rec = versionOf(lt, v);
        if (!seen.has(rec.version)) {
          seen.add(rec.version);
          list.push(rec);
        }
      }
    } else {
      list = [...lt.versions].sort((a, b) => b.version - a.version);
      if (input.MinVersion) list = list.filter((v) => v.version >= Number(input.MinVersion));
      if (input.MaxVersion) list = list.filter((v) => v.version <= Number(input.MaxVersion));
    }
    const p = page(list, input.NextToken, input.MaxResults, ctx, 1000);
    return { LaunchTemplateVersions: p.items.map((v) => versionOut(lt, v)), NextToken: p.next };
  },

  // [LT-3] The default version cannot be deleted; deleting a version does not touch instances
  // launched from it. Per-version outcome in Successfully/UnsuccessfullyDeleted… (ResponseError codes).
  DeleteLaunchTemplateVersions(w, input) {
    const lt = getLt(w, input);
    const ok: any[] = [];
    const failed: any[] = [];
    for (const raw of (input.Versions ?? []) as string[]) {
      const n = Number(raw);
      const item = { LaunchTemplateId: lt.id, LaunchTemplateName: lt.name, VersionNumber: n };
      const at = lt.versions.findIndex((v) => v.version === n);
      if (at < 0) failed.push({ ...item, ResponseError: { Code: 'launchTemplateVersionDoesNotExist', Message: `Could not find launch template version ${raw}` } });
      else if (n === lt.defaultVersion) failed.push({ ...item, ResponseError: { Code: 'unexpectedError', Message: 'Cannot delete the default version of a launch template' } });
      else {
        lt.versions.splice(at, 1);
        ok.push(item);
      }
    }
    return { SuccessfullyDeletedLaunchTemplateVersions: ok, UnsuccessfullyDeletedLaunchTemplateVersions: failed };
  },

  DeleteLaunchTemplate(w, input) {
    const lt = getLt(w, input);
    delete w.state.launchTemplates[lt.id];
    return { LaunchTemplate: ltOut(lt) };
  },
};

export const ec2ReadOnly = (op: string) => op.startsWith('Describe');
