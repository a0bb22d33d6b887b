/**
 * deploy's hooks read the groups before handing over to an engine (the A/B "is a swap due"
 * decision, the dry run's plan). Those reads follow the port's retry policy (aws/transient.ts),
 * as the engines' own do: a throttled read is retried after a back-off, not surfaced as an
 * unexpected error (chaos seed 3415651087: `internal-error: Throttling: Rate exceeded` from the
 * hook's first DescribeAutoScalingGroups).
 */
import test from 'ava';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { engineHooks } from '../../orchestrator/stack/hooks';
import type { AbServiceManifest } from '../../orchestrator/stack/manifest';
import { abEnv } from '../ab/harness';

const service = (count: number): AbServiceManifest => ({
  service: 'qa',
  strategy: 'ab',
  name: 'qa',
  environment: 'qa',
  asgNames: { a: 'qa-a', b: 'qa-b' },
  elbNames: { a: 'qa-a', b: 'qa-b' },
  capacityOwner: 'orchestrator',
  imageId: 'ami-v2',
  instanceType: 't3.small',
  capacity: count,
  maxSize: 10,
  healthCheckType: 'ELB',
  healthCheckGracePeriod: 300,
  rollout: { healthCheckTimeoutSeconds: 600, drainingTimeoutSeconds: 60 },
});

/** Every call throttled for the first `ms` of the run (a throttling storm, sandbox FAULT-5). */
function storm(env: ReturnType<typeof abEnv>, ms: number): void {
  const now = env.sandbox.clock.now();
  env.sandbox.faults.throttleWindows = [{ from: now, to: now + ms, rate: 1 }];
}

test('the A/B hook’s own reads ride out a throttling storm (retried with back-off), then the swap runs', async (t) => {
  const env = abEnv({ count: 3 });
  storm(env, 20_000);
  const hooks = engineHooks({ port: createAwsPort(env.sandbox.clients, env.sandbox.clock), clock: env.sandbox.clock, reporter: env.reporter });
  const r = await hooks.rollout(service(3), { changes: [], force: false, signal: new AbortController().signal });
  t.is(r.status, 'done');
  t.true(env.reporter.ofCode('aws.throttled').length > 0, 'the retries were said');
  t.is(env.group('qa-b').desired, 3);
});

test('the dry run’s plan rides out a throttling storm too, and stays read-only', async (t) => {
  const env = abEnv({ count: 3 });
  storm(env, 20_000);
  const hooks = engineHooks({ port: createAwsPort(env.sandbox.clients, env.sandbox.clock), clock: env.sandbox.clock, reporter: env.reporter });
  const plan = await hooks.plan(service(3), { changes: [], force: false });
  t.is(plan.action, 'swap');
  t.regex(plan.summary, /3 instances/);
  t.deepEqual(env.mutations(), []);
});
