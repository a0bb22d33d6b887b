/**
 * Simulated Elastic Load Balancing v2 API (@aws-sdk/client-elastic-load-balancing-v2): target
 * groups, target health, load balancers, listeners and rules (weighted forward). Rules: ./SPEC.md.
 * Request and response shapes follow the installed SDK's models (dist-types/models/models_0.d.ts).
 */
import { SimFault } from '../faults';
import type { ListenerRec, ListenerRuleRec, LoadBalancerV2Rec, TargetGroupRec } from '../model';
import { date, page, requireString, validation, type Handler } from '../ops-common';
import type { World } from '../world';

const ACCOUNT = '123456789012';

/** The defaults of CreateTargetGroup per protocol (API reference, CreateTargetGroup) [TG-1]. */
export function healthCheckDefaults(protocol: string): TargetGroupRec['healthCheck'] {
  const http = protocol === 'HTTP' || protocol === 'HTTPS';
  return {
    enabled: true,
    protocol: http ? protocol : 'TCP',
    port: 'traffic-port',
    path: http ? '/' : undefined,
    interval: 30,
    timeout: protocol === 'HTTP' ? 6 : 10,
    healthyThreshold: 5,
    unhealthyThreshold: 2,
    matcher: http ? '200' : undefined,
  };
}

function id16(w: World): string {
  return w.counter('elbv2').toString(16).padStart(16, '0');
}

function arnPrefix(w: World): string {
  return `arn:aws:elasticloadbalancing:${w.state.region}:${ACCOUNT}:`;
}

function getTg(w: World, arn: unknown): TargetGroupRec {
  const a = requireString(arn, 'targetGroupArn');
  const tg = w.elbv2.targetGroup(a);
  if (!tg) throw new SimFault('TargetGroupNotFound', `One or more target groups not found`);
  return tg;
}

function getLb(w: World, arn: unknown): LoadBalancerV2Rec {
  const a = requireString(arn, 'loadBalancerArn');
  const lb = w.elbv2.state.loadBalancers[a];
  if (!lb) throw new SimFault('LoadBalancerNotFound', `One or more load balancers not found`);
  return lb;
}

function getListener(w: World, arn: unknown): ListenerRec {
  const a = requireString(arn, 'listenerArn');
  const l = w.elbv2.state.listeners[a];
  if (!l) throw new SimFault('ListenerNotFound', `One or more listeners not found`);
  return l;
}

function range(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw validation(`1 validation error detected: Value '${String(v)}' at '${name}' failed to satisfy constraint: Member must have value between ${min} and ${max}`);
  return n;
}

/** Health check settings from a Create/ModifyTargetGroup input, ranges per the API reference [TG-1]. */
function applyHealthCheck(hc: TargetGroupRec['healthCheck'], input: any): void {
  hc.interval = range(input.HealthCheckIntervalSeconds, 'healthCheckIntervalSeconds', 5, 300) ?? hc.interval;
  hc.timeout = range(input.HealthCheckTimeoutSeconds, 'healthCheckTimeoutSeconds', 2, 120) ?? hc.timeout;
  hc.healthyThreshold = range(input.HealthyThresholdCount, 'healthyThresholdCount', 2, 10) ?? hc.healthyThreshold;
  hc.unhealthyThreshold = range(input.UnhealthyThresholdCount, 'unhealthyThresholdCount', 2, 10) ?? hc.unhealthyThreshold;
  if (input.HealthCheckEnabled !== undefined) hc.enabled = Boolean(input.HealthCheckEnabled);
  if (input.HealthCheckProtocol) hc.protocol = input.HealthCheckProtocol;
  if (input.HealthCheckPort) hc.port = String(input.HealthCheckPort);
  if (input.HealthCheckPath) hc.path = input.HealthCheckPath;
  if (input.Matcher?.HttpCode) hc.matcher = input.Matcher.HttpCode;
}

function tgOut(w: World, tg: TargetGroupRec) {
  const hc = tg.healthCheck;
  return {
    TargetGroupArn: tg.arn,
    TargetGroupName: tg.name,
    Protocol: tg.protocol,
    Port: tg.port,
    VpcId: tg.vpcId,
    HealthCheckProtocol: hc.protocol,
    HealthCheckPort: hc.port,
    HealthCheckEnabled: hc.enabled,
    HealthCheckIntervalSeconds: hc.interval,
    HealthCheckTimeoutSeconds: hc.timeout,
    HealthyThresholdCount: hc.healthyThreshold,
    UnhealthyThresholdCount: hc.unhealthyThreshold,
    HealthCheckPath: hc.path,
    Matcher: hc.matcher ? { HttpCode: hc.matcher } : undefined,
    LoadBalancerArns: w.elbv2.loadBalancersOf(tg),
    TargetType: tg.targetType,
    IpAddressType: 'ipv4',
  };
}

/**
 * Validates a listener's or rule's actions [TG-8]: a forward names existing target groups, either
 * by TargetGroupArn or in ForwardConfig with weights 0–999 (TargetGroupTuple); both given must
 * agree. Returns the actions as stored.
 */
function checkActions(w: World, actions: unknown): any[] {
  if (!Array.isArray(actions) || actions.length === 0) throw validation(`1 validation error detected: Value null at 'actions' failed to satisfy constraint: Member must not be null`);
  return actions.map((a: any) => {
    if (a?.Type !== 'forward') return { ...a };
    const tuples: any[] = a.ForwardConfig?.TargetGroups ?? [];
    if (!a.TargetGroupArn && tuples.length === 0) throw validation('A target group ARN must be specified for a forward action');
    if (a.TargetGroupArn) getTg(w, a.TargetGroupArn);
    for (const t of tuples) {
      getTg(w, t.TargetGroupArn);
      range(t.Weight, 'weight', 0, 999);
    }
    if (a.TargetGroupArn && tuples.length > 0 && !(tuples.length === 1 && tuples[0].TargetGroupArn === a.TargetGroupArn)) {
      throw validation('You cannot specify both a target group ARN and a forward config with different target groups');
    }
    const out: any = { Type: 'forward', Order: a.Order };
    if (a.TargetGroupArn) out.TargetGroupArn = a.TargetGroupArn;
    // AWS answers every forward with its ForwardConfig (a lone TargetGroupArn as one tuple of weight 1).
    out.ForwardConfig = {
      TargetGroups: tuples.length ? tuples.map((t) => ({ TargetGroupArn: t.TargetGroupArn, Weight: t.Weight ?? 1 })) : [{ TargetGroupArn: a.TargetGroupArn, Weight: 1 }],
      TargetGroupStickinessConfig: a.ForwardConfig?.TargetGroupStickinessConfig ?? { Enabled: false },
    };
    if (tuples.length > 1) delete out.TargetGroupArn;
    return out;
  });
}

/** Runs `change`, then restarts the checks of every target group it put in use [TG-8]. */
function changingUse(w: World, change: () => void): void {
  const tgs = Object.values(w.elbv2.state.targetGroups);
  const before = new Map(tgs.map((tg) => [tg.arn, w.elbv2.inUse(tg)]));
  change();
  for (const tg of tgs) {
    const now = w.elbv2.inUse(tg);
    if (now && !before.get(tg.arn)) w.elbv2.restartChecks(tg);
    else if (now !== before.get(tg.arn)) for (const id of Object.keys(tg.targets)) if (w.state.instances[id]) w.changed(w.state.instances[id]);
  }
}

function listenerOut(l: ListenerRec) {
  return { ListenerArn: l.arn, LoadBalancerArn: l.loadBalancerArn, Port: l.port, Protocol: l.protocol, DefaultActions: structuredClone(l.defaultActions) };
}

function ruleOut(r: ListenerRuleRec) {
  return { RuleArn: r.arn, Priority: String(r.priority), Conditions: structuredClone(r.conditions), Actions: structuredClone(r.actions), IsDefault: false };
}

/** The listener's default rule, as DescribeRules lists it (priority `default`) [TG-8]. */
function defaultRuleOut(l: ListenerRec) {
  return { RuleArn: defaultRuleArn(l), Priority: 'default', Conditions: [], Actions: structuredClone(l.defaultActions), IsDefault: true };
}

function defaultRuleArn(l: ListenerRec): string {
  return l.arn.replace(':listener/', ':listener-rule/') + '/default';
}

function lbOut(lb: LoadBalancerV2Rec) {
  return {
    LoadBalancerArn: lb.arn,
    DNSName: lb.dnsName,
    CreatedTime: date(lb.createdTime),
    LoadBalancerName: lb.name,
    Scheme: lb.scheme,
    State: { Code: 'active' },
    Type: lb.type,
    AvailabilityZones: lb.azs.map((ZoneName) => ({ ZoneName })),
    IpAddressType: 'ipv4',
  };
}

function targetHealthOut(w: World, tg: TargetGroupRec, id: string, port?: number) {
  const v = w.elbv2.viewOf(tg, id);
  const inst = w.state.instances[id];
  return {
    Target: { Id: id, Port: port ?? tg.targets[id]?.port ?? tg.port, AvailabilityZone: inst?.az },
    HealthCheckPort: tg.healthCheck.port === 'traffic-port' ? String(port ?? tg.targets[id]?.port ?? tg.port) : tg.healthCheck.port,
    TargetHealth: v.reason ? { State: v.state, Reason: v.reason, Description: v.description } : { State: v.state },
  };
}

export const elbv2Ops: Record<string, Handler> = {
  CreateTargetGroup(w, input) {
    const name = requireString(input.Name, 'name');
    // Names: at most 32 alphanumerics or hyphens, not starting or ending with a hyphen (CreateTargetGroup) [TG-1].
    if (!/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?$/.test(name)) throw validation(`Target group name '${name}' can have a maximum of 32 characters, can contain only alphanumeric characters or hyphens, and must not begin or end with a hyphen`);
    const protocol = String(input.Protocol ?? 'HTTP');
    const existing = Object.values(w.elbv2.state.targetGroups).find((t) => t.name === name);
    if (existing) throw new SimFault('DuplicateTargetGroupName', 'A target group with the same name exists, but with different settings');
    const tg: TargetGroupRec = {
      arn: `${arnPrefix(w)}targetgroup/${name}/${id16(w)}`,
      name,
      protocol,
      port: Number(input.Port ?? 80),
      vpcId: input.VpcId ?? 'vpc-sandbox',
      targetType: 'instance',
      healthCheck: healthCheckDefaults(protocol),
      deregistrationDelay: 300,
      createdTime: w.now,
      targets: {},
    };
    applyHealthCheck(tg.healthCheck, input);
    w.elbv2.state.targetGroups[tg.arn] = tg;
    return { TargetGroups: [tgOut(w, tg)] };
  },

  DeleteTargetGroup(w, input) {
    const tg = getTg(w, input.TargetGroupArn);
    if (w.elbv2.inUse(tg)) throw new SimFault('ResourceInUse', `Target group '${tg.arn}' is currently in use by a listener or a rule`);
    delete w.elbv2.state.targetGroups[tg.arn];
    return {};
  },

  DescribeTargetGroups(w, input, ctx) {
    let list = Object.values(w.elbv2.state.targetGroups).sort((a, b) => a.name.localeCompare(b.name));
    if (input.TargetGroupArns?.length) list = (input.TargetGroupArns as string[]).map((a) => getTg(w, a));
    else if (input.Names?.length) {
      list = (input.Names as string[]).map((n) => {
        const tg = list.find((t) => t.name === n);
        if (!tg) throw new SimFault('TargetGroupNotFound', `One or more target groups not found`);
        return tg;
      });
    } else if (input.LoadBalancerArn) {
      getLb(w, input.LoadBalancerArn);
      list = list.filter((tg) => w.elbv2.loadBalancersOf(tg).includes(input.LoadBalancerArn));
    }
    const p = page(list, input.Marker, input.PageSize, ctx, 400);
    return { TargetGroups: p.items.map((tg) => tgOut(w, tg)), NextMarker: p.next };
  },

  ModifyTargetGroup(w, input) {
    const tg = getTg(w, input.TargetGroupArn);
    applyHealthCheck(tg.healthCheck, input);
    w.elbv2.restartChecks(tg);
    return { TargetGroups: [tgOut(w, tg)] };
  },

  DescribeTargetGroupAttributes(w, input) {
    const tg = getTg(w, input.TargetGroupArn);
    return { Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(tg.deregistrationDelay) }] };
  },

  ModifyTargetGroupAttributes(w, input) {
    const tg = getTg(w, input.TargetGroupArn);
    for (const a of input.Attributes ?? []) {
      if (a.Key === 'deregistration_delay.timeout_seconds') tg.deregistrationDelay = range(a.Value, 'deregistration_delay.timeout_seconds', 0, 3600)!;
    }
    return { Attributes: [{ Key: 'deregistration_delay.timeout_seconds', Value: String(tg.deregistrationDelay) }] };
  },

  RegisterTargets(w, input) {
    const tg = getTg(w, input.TargetGroupArn);
    const targets: any[] = input.Targets ?? [];
    if (!targets.length) throw validation(`1 validation error detected: Value null at 'targets' failed to satisfy constraint: Member must not be null`);
    for (const t of targets) {
      const inst = w.state.instances[requireString(t.Id, 'targets.member.id')];
      // Only running (or pending) instances can be registered (RegisterTargets) [TG-2].
      if (!inst || inst.ec2State === 'terminated' || inst.ec2State === 'shutting-down') throw new SimFault('InvalidTarget', `The following targets are not in a running state and cannot be registered: '${t.Id}'`);
    }
    for (const t of targets) w.elbv2.register(tg, t.Id, t.Port ?? tg.port);
    return {};
  },

  DeregisterTargets(w, input) {
    const tg = getTg(w, input.TargetGroupArn);
    const targets: any[] = input.Targets ?? [];
    for (const t of targets) {
      if (!tg.targets[t.Id]) throw new SimFault('InvalidTarget', `The following targets are not registered in target group '${tg.arn}': '${t.Id}'`);
    }
    for (const t of targets) w.elbv2.deregister(tg, t.Id);
    return {};
  },

  DescribeTargetHealth(w, input) {
    const tg = getTg(w, input.TargetGroupArn);
    if (input.Targets?.length) {
      for (const t of input.Targets) {
        const inst = w.state.instances[t.Id];
        if (!inst || inst.visibleAt > w.now && !tg.targets[t.Id]) throw new SimFault('InvalidTarget', `The following targets are not valid instances: '${t.Id}'`);
      }
      return { TargetHealthDescriptions: (input.Targets as any[]).map((t) => targetHealthOut(w, tg, t.Id, t.Port)) };
    }
    return { TargetHealthDescriptions: Object.keys(tg.targets).map((id) => targetHealthOut(w, tg, id)) };
  },

  CreateLoadBalancer(w, input) {
    const name = requireString(input.Name, 'name');
    const type = (input.Type ?? 'application') as LoadBalancerV2Rec['type'];
    if (type !== 'application' && type !== 'network') throw validation(`sandbox: load balancer type '${type}' is not modelled (application, network)`);
    const existing = Object.values(w.elbv2.state.loadBalancers).find((l) => l.name === name);
    if (existing) return { LoadBalancers: [lbOut(existing)] };
    const kind = type === 'application' ? 'app' : 'net';
    const lb: LoadBalancerV2Rec = {
      arn: `${arnPrefix(w)}loadbalancer/${kind}/${name}/${id16(w)}`,
      name,
      type,
      dnsName: `${name}-${w.counter('elbv2-dns')}.${w.state.region}.elb.amazonaws.com`,
      scheme: input.Scheme ?? 'internet-facing',
      azs: w.zones(),
      createdTime: w.now,
    };
    w.elbv2.state.loadBalancers[lb.arn] = lb;
    return { LoadBalancers: [lbOut(lb)] };
  },

  DeleteLoadBalancer(w, input) {
    // Deleting a load balancer deletes its listeners and their rules; its target groups stay
    // (DeleteLoadBalancer: "also deletes the attached listeners", targets stay registered) [TG-8].
    const lb = getLb(w, input.LoadBalancerArn);
    const s = w.elbv2.state;
    changingUse(w, () => {
      for (const l of Object.values(s.listeners).filter((x) => x.loadBalancerArn === lb.arn)) {
        for (const r of Object.values(s.rules)) if (r.listenerArn === l.arn) delete s.rules[r.arn];
        delete s.listeners[l.arn];
      }
      delete s.loadBalancers[lb.arn];
    });
    return {};
  },

  DescribeLoadBalancers(w, input, ctx) {
    let list = Object.values(w.elbv2.state.loadBalancers).sort((a, b) => a.name.localeCompare(b.name));
    if (input.LoadBalancerArns?.length) list = (input.LoadBalancerArns as string[]).map((a) => getLb(w, a));
    const p = page(list, input.Marker, input.PageSize, ctx, 400);
    return { LoadBalancers: p.items.map(lbOut), NextMarker: p.next };
  },

  CreateListener(w, input) {
    const lb = getLb(w, input.LoadBalancerArn);
    const actions = checkActions(w, input.DefaultActions);
    const port = range(input.Port, 'port', 1, 65535) ?? (lb.type === 'application' ? 80 : 80);
    if (Object.values(w.elbv2.state.listeners).some((l) => l.loadBalancerArn === lb.arn && l.port === port)) throw new SimFault('DuplicateListener', 'A listener already exists on this port for this load balancer');
    const kind = lb.type === 'application' ? 'app' : 'net';
    const l: ListenerRec = {
      arn: `${arnPrefix(w)}listener/${kind}/${lb.name}/${lb.arn.split('/').pop()}/${id16(w)}`,
      loadBalancerArn: lb.arn,
      protocol: input.Protocol ?? (lb.type === 'application' ? 'HTTP' : 'TCP'),
      port,
      defaultActions: [],
    };
    changingUse(w, () => {
      l.defaultActions = actions;
      w.elbv2.state.listeners[l.arn] = l;
    });
    return { Listeners: [listenerOut(l)] };
  },

  DescribeListeners(w, input, ctx) {
    let list: ListenerRec[];
    if (input.ListenerArns?.length) list = (input.ListenerArns as string[]).map((a) => getListener(w, a));
    else {
      const lb = getLb(w, input.LoadBalancerArn);
      list = Object.values(w.elbv2.state.listeners).filter((l) => l.loadBalancerArn === lb.arn).sort((a, b) => a.port - b.port);
    }
    const p = page(list, input.Marker, input.PageSize, ctx, 400);
    return { Listeners: p.items.map(listenerOut), NextMarker: p.next };
  },

  ModifyListener(w, input) {
    const l = getListener(w, input.ListenerArn);
    const actions = input.DefaultActions ? checkActions(w, input.DefaultActions) : undefined;
    changingUse(w, () => {
      if (actions) l.defaultActions = actions;
      if (input.Port !== undefined) l.port = range(input.Port, 'port', 1, 65535)!;
    });
    return { Listeners: [listenerOut(l)] };
  },

  DeleteListener(w, input) {
    // A listener goes with its rules (DeleteListener: "Deletes the specified listener") [TG-8].
    const l = getListener(w, input.ListenerArn);
    const s = w.elbv2.state;
    changingUse(w, () => {
      for (const r of Object.values(s.rules)) if (r.listenerArn === l.arn) delete s.rules[r.arn];
      delete s.listeners[l.arn];
    });
    return {};
  },

  CreateRule(w, input) {
    const l = getListener(w, input.ListenerArn);
    const priority = range(input.Priority, 'priority', 1, 50000);
    if (priority === undefined) throw validation(`1 validation error detected: Value null at 'priority' failed to satisfy constraint: Member must not be null`);
    if (Object.values(w.elbv2.state.rules).some((r) => r.listenerArn === l.arn && r.priority === priority)) throw new SimFault('PriorityInUse', `Priority '${priority}' is currently in use`);
    const actions = checkActions(w, input.Actions);
    const r: ListenerRuleRec = {
      arn: l.arn.replace(':listener/', ':listener-rule/') + `/${id16(w)}`,
      listenerArn: l.arn,
      priority,
      conditions: structuredClone(input.Conditions ?? []),
      actions: [],
    };
    changingUse(w, () => {
      r.actions = actions;
      w.elbv2.state.rules[r.arn] = r;
    });
    return { Rules: [ruleOut(r)] };
  },

  DescribeRules(w, input, ctx) {
    let list: any[];
    if (input.RuleArns?.length) {
      list = (input.RuleArns as string[]).map((a) => {
        const r = w.elbv2.state.rules[a];
        if (r) return ruleOut(r);
        const l = Object.values(w.elbv2.state.listeners).find((x) => defaultRuleArn(x) === a);
        if (l) return defaultRuleOut(l);
        throw new SimFault('RuleNotFound', 'One or more rules not found');
      });
    } else {
      const l = getListener(w, input.ListenerArn);
      const rules = Object.values(w.elbv2.state.rules).filter((r) => r.listenerArn === l.arn).sort((a, b) => a.priority - b.priority);
      list = [...rules.map(ruleOut), defaultRuleOut(l)];
    }
    const p = page(list, input.Marker, input.PageSize, ctx, 400);
    return { Rules: p.items, NextMarker: p.next };
  },

  ModifyRule(w, input) {
    const arn = requireString(input.RuleArn, 'ruleArn');
    const r = w.elbv2.state.rules[arn];
    if (!r) {
      // The default rule's actions are the listener's: ModifyListener changes them [TG-8].
      if (Object.values(w.elbv2.state.listeners).some((x) => defaultRuleArn(x) === arn)) throw new SimFault('OperationNotPermitted', 'Default rule cannot be modified; modify the listener default actions instead');
      throw new SimFault('RuleNotFound', 'One or more rules not found');
    }
    const actions = input.Actions ? checkActions(w, input.Actions) : undefined;
    changingUse(w, () => {
      if (actions) r.actions = actions;
      if (input.Conditions) r.conditions = structuredClone(input.Conditions);
    });
    return { Rules: [ruleOut(r)] };
  },

  DeleteRule(w, input) {
    const arn = requireString(input.RuleArn, 'ruleArn');
    if (!w.elbv2.state.rules[arn]) throw new SimFault('RuleNotFound', 'One or more rules not found');
    changingUse(w, () => {
      delete w.elbv2.state.rules[arn];
    });
    return {};
  },
};

/** Which ELBv2 operations only read. */
export function elbv2ReadOnly(operation: string): boolean {
  return operation.startsWith('Describe');
}
