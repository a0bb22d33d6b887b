/**
 * Which services' rollouts `deploy` starts next (`--parallel N`, `dependsOn`,
 * `--continue-on-error`): pure decisions over the run's state, table-tested.
 *
 * A service starts when every service it depends on is done (or skipped: not selected, or
 * --skip-rollout), at most N run at once, in manifest order. After a failure nothing new starts,
 * unless --continue-on-error: then only the services that depend (directly or through others) on
 * a failed one are held back. Running rollouts are never cut short: they finish (or halt safe).
 */

export type RunStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface Schedulable {
  service: string;
  dependsOn?: string[];
}

export interface ScheduleOptions {
  parallel: number;
  continueOnError: boolean;
}

const satisfied = (s: RunStatus | undefined) => s === 'done' || s === 'skipped' || s === undefined;

/**
 * The services to start now, in manifest order.
 *
 * Example: a, b, c with c dependsOn a, parallel 2, nothing run yet: [a, b]; once a is done and b
 * runs: [c].
 */
export function startable(services: readonly Schedulable[], status: ReadonlyMap<string, RunStatus>, options: ScheduleOptions): string[] {
  const failed = [...status.values()].includes('failed');
  if (failed && !options.continueOnError) return [];
  let slots = Math.max(1, options.parallel) - [...status.values()].filter((s) => s === 'running').length;
  const out: string[] = [];
  for (const s of services) {
    if (slots <= 0) break;
    if (status.get(s.service) !== 'pending') continue;
    if (!(s.dependsOn ?? []).every((d) => satisfied(status.get(d)))) continue;
    out.push(s.service);
    slots--;
  }
  return out;
}

/** Why a service that is still pending at the end never started (for the summary). */
export function notStartedReason(service: Schedulable, services: readonly Schedulable[], status: ReadonlyMap<string, RunStatus>): string {
  for (const d of service.dependsOn ?? []) {
    if (status.get(d) === 'failed') return `not started: depends on ${d}, which failed`;
  }
  for (const d of service.dependsOn ?? []) {
    if (status.get(d) === 'pending') return `not started: depends on ${d}, which did not run`;
  }
  const failed = services.filter((s) => status.get(s.service) === 'failed').map((s) => s.service);
  return failed.length ? `not started: ${failed.join(', ')} failed first` : 'not started';
}
