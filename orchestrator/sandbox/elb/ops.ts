/** Simulated Classic Load Balancer API (@aws-sdk/client-elastic-load-balancing). */
import { SimFault } from '../faults';
import type { ElbRec } from '../model';
import { page, requireString, validation, type Handler } from '../ops-common';
import type { World } from '../world';

function getElb(w: World, name: unknown): ElbRec {
  const n = requireString(name, 'loadBalancerName');
  const elb = w.state.elbs[n];
  if (!elb) throw new SimFault('LoadBalancerNotFound', `There is no ACTIVE Load Balancer named '${n}'`);
  return elb;
}

function hcOut(elb: ElbRec) {
  const h = elb.healthCheck;
  return { Target: h.target, Interval: h.interval, Timeout: h.timeout, UnhealthyThreshold: h.unhealthyThreshold, HealthyThreshold: h.healthyThreshold };
}

function attributesOut(elb: ElbRec) {
  return {
    ConnectionDraining: { Enabled: elb.draining.enabled, Timeout: elb.draining.timeout },
    CrossZoneLoadBalancing: { Enabled: elb.crossZone },
    ConnectionSettings: { IdleTimeout: elb.idleTimeout },
    AccessLog: { Enabled: false },
  };
}

/** Registered instances, as DescribeLoadBalancers lists them (not those still draining) [ELB-6]. */
function registered(elb: ElbRec) {
  return Object.values(elb.registrations).filter((r) => r.drainingUntil === undefined).map((r) => ({ InstanceId: r.instanceId }));
}

export const elbOps: Record<string, Handler> = {
  CreateLoadBalancer(w, input) {
    const name = requireString(input.LoadBalancerName, 'loadBalancerName');
    const existing = w.state.elbs[name];
    if (existing) return { DNSName: existing.dnsName };
    const listeners = (input.Listeners ?? []).map((l: any) => ({ ...l }));
    if (!listeners.length) throw validation('Listeners cannot be empty');
    const subnets: string[] = input.Subnets ?? [];
    const elb: ElbRec = {
      name,
      dnsName: `${name}-${w.counter('elb')}.${w.state.region}.elb.amazonaws.com`,
      createdTime: w.now,
      listeners,
      azs: input.AvailabilityZones?.length ? [...input.AvailabilityZones] : [...new Set(subnets.map((s) => w.ec2.zoneOfSubnet(s)))],
      subnets,
      securityGroups: input.SecurityGroups ?? [],
      scheme: input.Scheme ?? 'internet-facing',
      // Classic ELB defaults when no health check is configured: Target TCP:80 (the API's default) [ELB-1].
      healthCheck: { target: 'TCP:80', interval: 30, timeout: 5, healthyThreshold: 10, unhealthyThreshold: 2 },
      draining: { enabled: false, timeout: 300 },
      crossZone: false,
      idleTimeout: 60,
      registrations: {},
      tags: Object.fromEntries((input.Tags ?? []).map((t: any) => [t.Key, t.Value ?? ''])),
    };
    w.state.elbs[name] = elb;
    return { DNSName: elb.dnsName };
  },

  DeleteLoadBalancer(w, input) {
    const name = requireString(input.LoadBalancerName, 'loadBalancerName');
    const elb = w.state.elbs[name];
    if (elb) {
      delete w.state.elbs[name];
      for (const id of Object.keys(elb.registrations)) if (w.state.instances[id]) w.changed(w.state.instances[id]);
    }
    return {};
  },

  DescribeLoadBalancers(w, input, ctx) {
    let list: ElbRec[];
    if (input.LoadBalancerNames?.length) list = (input.LoadBalancerNames as string[]).map((n) => getElb(w, n));
    else list = Object.values(w.state.elbs).sort((a, b) => a.name.localeCompare(b.name));
    const p = page(list, input.Marker, input.PageSize, ctx, 400);
    return {
      LoadBalancerDescriptions: p.items.map((elb) => ({
        LoadBalancerName: elb.name,
        DNSName: elb.dnsName,
        CanonicalHostedZoneName: elb.dnsName,
        CanonicalHostedZoneNameID: 'Z35SXDOTRQ7X7K',
        ListenerDescriptions: elb.listeners.map((l) => ({ Listener: l, PolicyNames: [] })),
        Policies: { AppCookieStickinessPolicies: [], LBCookieStickinessPolicies: [], OtherPolicies: [] },
        BackendServerDescriptions: [],
        AvailabilityZones: [...elb.azs],
        Subnets: [...elb.subnets],
        VPCId: elb.subnets.length ? 'vpc-00000000000sandbox' : undefined,
        Instances: registered(elb),
        HealthCheck: hcOut(elb),
        SourceSecurityGroup: { OwnerAlias: '123456789012', GroupName: 'default' },
        SecurityGroups: [...elb.securityGroups],
        CreatedTime: new Date(elb.createdTime),
        Scheme: elb.scheme,
      })),
      NextMarker: p.next,
    };
  },

  DescribeInstanceHealth(w, input) {
    const elb = getElb(w, input.LoadBalancerName);
    let ids: string[];
    if (input.Instances?.length) {
      ids = input.Instances.map((i: any) => i.InstanceId);
      for (const id of ids) {
        if (!w.state.instances[id]) throw new SimFault('InvalidInstance', `Could not find EC2 instance ${id}.`);
      }
    } else {
      ids = Object.keys(elb.registrations);
    }
    return {
      InstanceStates: ids.map((id) => {
        const reg = elb.registrations[id];
        if (!reg) return { InstanceId: id, State: 'OutOfService', ReasonCode: 'ELB', Description: 'Instance is not currently registered with the LoadBalancer.' };
        const v = w.elb.elbView(elb, w.state.instances[id], reg);
        return { InstanceId: id, State: v.state, ReasonCode: v.reasonCode, Description: v.description };
      }),
    };
  },

  RegisterInstancesWithLoadBalancer(w, input) {
    const elb = getElb(w, input.LoadBalancerName);
    const ids: string[] = (input.Instances ?? []).map((i: any) => i.InstanceId);
    for (const id of ids) {
      const inst = w.state.instances[id];
      if (!inst || inst.ec2State === 'terminated' || inst.ec2State === 'shutting-down') {
        throw new SimFault('InvalidInstance', `EC2 instance ${id} is not in running state.`);
      }
    }
    for (const id of ids) w.elb.register(elb, id);
    return { Instances: registered(elb) };
  },

  DeregisterInstancesFromLoadBalancer(w, input) {
    const elb = getElb(w, input.LoadBalancerName);
    const ids: string[] = (input.Instances ?? []).map((i: any) => i.InstanceId);
    for (const id of ids) if (!w.state.instances[id]) throw new SimFault('InvalidInstance', `Could not find EC2 instance ${id}.`);
    for (const id of ids) w.elb.deregister(elb, id);
    return { Instances: registered(elb) };
  },

  ConfigureHealthCheck(w, input) {
    const elb = getElb(w, input.LoadBalancerName);
    const h = input.HealthCheck ?? {};
    const hc = {
      target: requireString(h.Target, 'healthCheck.target'),
      interval: Number(h.Interval),
      timeout: Number(h.Timeout),
      unhealthyThreshold: Number(h.UnhealthyThreshold),
      healthyThreshold: Number(h.HealthyThreshold),
    };
    if (!(hc.interval >= 5 && hc.interval <= 300)) throw validation('Interval must be between 5 and 300 seconds');
    if (!(hc.timeout >= 2 && hc.timeout <= 60)) throw validation('Timeout must be between 2 and 60 seconds');
    if (hc.timeout >= hc.interval) throw validation('Interval must be greater than the timeout.');
    if (!(hc.healthyThreshold >= 2 && hc.healthyThreshold <= 10)) throw validation('HealthyThreshold must be between 2 and 10');
    if (!(hc.unhealthyThreshold >= 2 && hc.unhealthyThreshold <= 10)) throw validation('UnhealthyThreshold must be between 2 and 10');
    if (!/^(HTTP|HTTPS|TCP|SSL):\d+/.test(hc.target)) throw validation(`Invalid health check target ${hc.target}`);
    elb.healthCheck = hc;
    w.elb.restartChecks(elb);
    return { HealthCheck: hcOut(elb) };
  },

  ModifyLoadBalancerAttributes(w, input) {
    const elb = getElb(w, input.LoadBalancerName);
    const a = input.LoadBalancerAttributes ?? {};
    if (a.ConnectionDraining) {
      const timeout = a.ConnectionDraining.Timeout ?? elb.draining.timeout ?? 300;
      if (timeout < 1 || timeout > 3600) throw new SimFault('InvalidConfigurationRequest', 'Connection draining timeout must be between 1 and 3600 seconds.');
      elb.draining = { enabled: !!a.ConnectionDraining.Enabled, timeout };
    }
    if (a.CrossZoneLoadBalancing) elb.crossZone = !!a.CrossZoneLoadBalancing.Enabled;
    if (a.ConnectionSettings?.IdleTimeout !== undefined) elb.idleTimeout = a.ConnectionSettings.IdleTimeout;
    return { LoadBalancerName: elb.name, LoadBalancerAttributes: attributesOut(elb) };
  },

  DescribeLoadBalancerAttributes(w, input) {
    const elb = getElb(w, input.LoadBalancerName);
    return { LoadBalancerAttributes: attributesOut(elb) };
  },

  AddTags(w, input) {
    for (const n of input.LoadBalancerNames ?? []) {
      const elb = getElb(w, n);
      for (const t of input.Tags ?? []) elb.tags[t.Key] = t.Value ?? '';
    }
    return {};
  },

  RemoveTags(w, input) {
    for (const n of input.LoadBalancerNames ?? []) {
      const elb = getElb(w, n);
      for (const t of input.Tags ?? []) delete elb.tags[t.Key];
    }
    return {};
  },

  DescribeTags(w, input) {
    return {
      TagDescriptions: (input.LoadBalancerNames ?? []).map((n: string) => {
        const elb = getElb(w, n);
        return { LoadBalancerName: n, Tags: Object.entries(elb.tags).map(([Key, Value]) => ({ Key, Value })) };
      }),
    };
  },
};

export const elbReadOnly = (op: string) => op.startsWith('Describe');
