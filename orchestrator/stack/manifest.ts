/**
 * Reads the `services` stack output (infra/manifest.ts) after `up`: the orchestrator learns
 * what to roll only from it, never from names (docs/design.md "Stack outputs").
 */
import { DeployError, ExitCode } from '../errors';
import { serviceManifest, type AbServiceManifest, type RollingServiceManifest, type ServiceManifest, type ServicesManifest } from '../../infra/manifest';
import type { ServiceConfig } from '../../infra/config';

export type { AbServiceManifest, RollingServiceManifest, ServiceManifest, ServicesManifest };

/** Validates the `services` output's shape (version 1). Missing or malformed: exit 1 naming what is wrong. */
export function readManifest(outputs: Record<string, unknown>, stack: string): ServicesManifest | undefined {
  const raw = outputs.services;
  if (raw === undefined) return undefined;
  const fail = (what: string) =>
    new DeployError('stack.manifest', `stack '${stack}': the 'services' output ${what}; is infra/index.ts exporting the manifest?`, {
      source: 'tool',
      exit: ExitCode.failed,
      data: { stack },
    });
  if (typeof raw !== 'object' || raw === null) throw fail('is not an object');
  const m = raw as Partial<ServicesManifest>;
  if (m.version !== 1) throw fail(`has version ${JSON.stringify(m.version)}, this asg-deploy reads version 1`);
  if (!Array.isArray(m.services)) throw fail('has no services list');
  for (const s of m.services) {
    if (!s || typeof s.service !== 'string') throw fail('has a service without a name');
    if (s.strategy === 'rolling') {
      if (typeof s.asgName !== 'string') throw fail(`service ${s.service}: missing asgName`);
    } else if (s.strategy === 'ab') {
      if (!s.asgNames || typeof s.asgNames.a !== 'string' || typeof s.asgNames.b !== 'string') throw fail(`service ${s.service}: missing asgNames {a, b}`);
    } else throw fail(`service ${(s as ServiceManifest).service}: unknown strategy ${JSON.stringify((s as { strategy?: unknown }).strategy)}`);
  }
  return m as ServicesManifest;
}

/** The ASG names a service's rollout touches. */
export function groupsOf(service: ServiceManifest): string[] {
  return service.strategy === 'rolling' ? [service.asgName] : [service.asgNames.a, service.asgNames.b];
}

/** The rollout target the engines report on: the ASG (rolling) or the environment (A/B). */
export function targetOf(service: ServiceManifest): string {
  return service.strategy === 'rolling' ? service.asgName : service.environment;
}

/**
 * A service's manifest as the update being previewed will make it: the validated stack config's
 * settings (capacity, step, timeouts) on the current launch template. The dry run plans from it,
 * so it promises what the real run (which reads the manifest after `up`) will do. A service the
 * config renames, re-strategises or hides (a secret) keeps its current manifest.
 */
export function manifestAfterUpdate(current: ServiceManifest, config: ServiceConfig[] | undefined): ServiceManifest {
  const cfg = config?.find((c) => c.service === current.service && c.strategy === current.strategy);
  if (!cfg) return current;
  const launch = current.launchTemplate ? { launchTemplate: current.launchTemplate } : current.launchConfigurationName ? { launchConfigurationName: current.launchConfigurationName } : undefined;
  if (!launch) return current;
  const next = serviceManifest(cfg, launch);
  return groupsOf(next).join() === groupsOf(current).join() ? next : current;
}
