/**
 * Before `deploy` runs `pulumi up`: no group of the stack may carry an unfinished rollout record.
 * A crashed or halted rollout leaves its originals on the group (rollout/guard.ts
 * `asg-deploy:restore`, A/B `asg-deploy:ab`); an `up` now would fight it (reset desired/min/max
 * mid-failure) and, after a `pulumi refresh`, erase the record the re-run needs. The deploy is
 * refused (exit 3, nothing changed) naming the group and the command that finishes the rollout.
 * Freezes (`asg-deploy:lock`) are refused by the lock check (stack/locks.ts) just before.
 */
import type { ServiceConfig } from '../../infra/config';
import type { AwsPort } from '../aws/port';
import { DeployError, ExitCode, refusedError } from '../errors';
import { RESTORE_TAG } from '../rollout/guard';
import { SWAP_TAG } from '../rollout/ab/strategy';

/** A group of the stack, with the service it belongs to and the command that rolls it. */
export interface RecordTarget {
  service: string;
  group: string;
  strategy: 'rolling' | 'ab';
  /** The A/B environment (the service's resource name). */
  environment: string;
}

export interface UnfinishedRecord extends RecordTarget {
  /** The tag holding the record. */
  tag: string;
  /** The command that finishes (or rolls back) that rollout. */
  finish: string;
}

export interface RecordReader {
  unfinished(targets: RecordTarget[]): Promise<UnfinishedRecord[]>;
}

/** Every group the stack's services declare, in config order. */
export function recordTargets(services: readonly ServiceConfig[]): RecordTarget[] {
  return services.flatMap((s): RecordTarget[] =>
    s.strategy === 'rolling'
      ? [{ service: s.service, group: s.name, strategy: 'rolling' as const, environment: s.name }]
      : (['a', 'b'] as const).map((c) => ({ service: s.service, group: `${s.name}-${c}`, strategy: 'ab' as const, environment: s.name })),
  );
}

/** The unfinished records among a group's tags (pure). */
export function unfinishedRecords(target: RecordTarget, tags: Record<string, string>): UnfinishedRecord[] {
  const finish = target.strategy === 'rolling' ? `asg-deploy roll --asg ${target.group}` : `asg-deploy ab --environment ${target.environment}`;
  return [RESTORE_TAG, SWAP_TAG].filter((tag) => tags[tag] !== undefined).map((tag) => ({ ...target, tag, finish }));
}

/** The refusal: exit 3, naming each group, its record and the command that finishes it. */
export function unfinishedRefusal(found: UnfinishedRecord[]): DeployError {
  const list = found.map((r) => `${r.group} (service ${r.service}) carries ${r.tag}: run '${r.finish}' to finish it`).join('; ');
  return refusedError('deploy.unfinished-rollout', `an earlier rollout is unfinished and deploy could not finish it: ${list}; deploy stopped before pulumi up`, {
    records: found.map((r) => ({ service: r.service, group: r.group, tag: r.tag, finish: r.finish })),
  });
}

/** Reads the groups' tags through the AWS port (read-only); a group that does not exist yet has no record. */
export function awsRecordReader(port: AwsPort): RecordReader {
  return {
    async unfinished(targets) {
      const found: UnfinishedRecord[] = [];
      for (const t of targets) {
        try {
          const exists = (await port.findGroups(t.group)).includes(t.group);
          if (!exists) continue;
          const snapshot = await port.observeGroup(t.group, { elbHealth: false });
          found.push(...unfinishedRecords(t, snapshot.tags));
        } catch (err) {
          if (err instanceof DeployError) throw err;
          // Not knowing whether a rollout is unfinished, deploy does not run up (nothing changed).
          throw new DeployError('deploy.records-unreadable', `could not read ${t.group}'s rollout records before pulumi up: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}; nothing was changed, run deploy again`, {
            source: 'aws',
            exit: ExitCode.failed,
            cause: err,
            data: { asg: t.group },
          });
        }
      }
      return found;
    },
  };
}
