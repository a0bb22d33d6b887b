/**
 * `deploy`'s own event codes and its final summary table (per service: strategy, replaced,
 * duration, API calls, result). The rollout codes themselves are in reporter.ts `Codes`.
 */

import { textTable } from './table';

/** Event codes `deploy` adds (stable; docs/design.md allows more codes). */
export const DeployCodes = {
  start: 'deploy.start', // {stack, services?, dryRun, simulated}
  simulation: 'deploy.simulation', // {stateFile}: this run is on the simulated AWS
  config: 'deploy.config', // {file, services: [{service, strategy, name}], region} (validated before any change) | {file, secret: true}
  unfinished: 'deploy.unfinished', // {records: [{service, group, tag, finish}]}: dry run, a real run would be refused
  locked: 'deploy.locked', // {environment, service, holder, reason, location}: dry run, a real run would be refused
  region: 'deploy.region', // {region, source: 'sdk' | 'stack', sdkRegion?, stackRegion?}
  stackPreview: 'stack.preview', // {stack, changeSummary, changes}
  stackResource: 'stack.resource', // {op, type, name, phase}
  stackDiagnostic: 'stack.diagnostic', // {severity}
  stackOutput: 'stack.output', // {line}
  stackUp: 'stack.up', // {stack, changeSummary, changes, seconds}
  services: 'deploy.services', // {services: [{service, strategy, target, groups}]}
  servicePlan: 'deploy.service.plan', // {service, strategy, action, instances, summary}
  serviceStart: 'deploy.service.start', // {service, strategy, target}
  serviceSkip: 'deploy.service.skip', // {service, reason}
  serviceDone: 'deploy.service.done', // {service, strategy, status, replaced, seconds, apiCalls}
  serviceFailed: 'deploy.service.failed', // {service, code, reason}
  summary: 'deploy.summary', // {rows}
  done: 'deploy.done', // {stack, seconds}
  failed: 'deploy.failed', // {stack, code, reason, exit}
  notifyFailed: 'notify.failed', // {url, reason}
} as const;

/** `interrupted`: stopped by Ctrl-C/SIGTERM after restoring what it changed (not a failure of the rollout). */
export type ServiceResult = 'done' | 'noop' | 'planned' | 'failed' | 'interrupted' | 'skipped' | 'not run';

export interface SummaryRow {
  service: string;
  strategy: 'rolling' | 'ab';
  /** Group (rolling) or environment (A/B). */
  target: string;
  result: ServiceResult;
  replaced: number;
  seconds: number;
  apiCalls: number;
  /** One line: the rollout's summary, the failure reason or why it did not run. */
  detail: string;
}

/**
 * Renders rows as an aligned text table.
 *
 *   service  strategy  replaced  duration  API calls  result
 *   rabbit   rolling   3         4m 12s    41         done
 *   web      ab        8         6m 40s    35         failed: web-b: i-0abc OutOfService ...
 */
export function renderSummary(rows: SummaryRow[]): string {
  const header = ['service', 'strategy', 'replaced', 'duration', 'API calls', 'result'];
  const body = rows.map((r) => [
    r.service,
    r.strategy,
    String(r.replaced),
    r.result === 'not run' || r.result === 'skipped' ? '-' : formatDuration(r.seconds),
    String(r.apiCalls),
    r.detail ? `${r.result}: ${r.detail}` : r.result,
  ]);
  return textTable([header, ...body], { rule: false });
}

/** 252 -> "4m 12s", 45 -> "45s", 3720 -> "1h 2m". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
}
