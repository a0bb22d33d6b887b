/**
 * The one retry policy (aws/transient.ts): the classifier built on the SDK's own, the SDK's
 * retries off for mutating calls (one attempt on the wire), the port retrying per operation, the
 * SDK config chain respected for retryMode, and the chaos seed where a terminate retried inside
 * the SDK killed a healthy up-to-date instance.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import * as AS from '@aws-sdk/client-auto-scaling';
import * as EC2 from '@aws-sdk/client-ec2';
import { AwsAdapter } from '../../orchestrator/aws/adapter';
import { createAwsClients } from '../../orchestrator/aws/clients';
import type { AwsPort } from '../../orchestrator/aws/port';
import { PORT_RETRY_POLICY, isTransient, retryingPort } from '../../orchestrator/aws/transient';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError } from '../../orchestrator/errors';
import { runScenario } from '../../orchestrator/proof/run';
import { generateScenario } from '../../orchestrator/proof/scenario';
import { Sandbox } from '../../orchestrator/sandbox';

const meta = (httpStatusCode: number) => ({ httpStatusCode, requestId: 'r', attempts: 1, totalRetryDelay: 0 });

test('isTransient: the SDK classifiers plus Auto Scaling ResourceContention/ScalingActivityInProgress; no pattern false positives; ECONNRESET in cause', (t) => {
  const table: Array<[string, unknown, boolean]> = [
    ['Throttling (ASG, 400)', new AS.AutoScalingServiceException({ name: 'Throttling', $fault: 'client', $metadata: meta(400), message: 'Rate exceeded' }), true],
    ['RequestLimitExceeded (EC2)', new EC2.EC2ServiceException({ name: 'RequestLimitExceeded', $fault: 'client', $metadata: meta(503), message: 'Request limit exceeded.' }), true],
    ['InternalFailure 500', new AS.AutoScalingServiceException({ name: 'InternalFailure', $fault: 'server', $metadata: meta(500), message: 'x' }), true],
    ['ResourceContentionFault', new AS.ResourceContentionFault({ message: 'pending update', $metadata: meta(500) }), true],
    ['ScalingActivityInProgressFault (400)', new AS.ScalingActivityInProgressFault({ message: 'in progress', $metadata: meta(400) }), true],
    ['ECONNRESET', Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), true],
    ['ECONNRESET wrapped in cause', new Error('fetch failed', { cause: Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }) }), true],
    ['TimeoutError', Object.assign(new Error('timed out'), { name: 'TimeoutError' }), true],
    ['InvalidNetworkInterfaceID.NotFound (400)', new EC2.EC2ServiceException({ name: 'InvalidNetworkInterfaceID.NotFound', $fault: 'client', $metadata: meta(400), message: 'x' }), false],
    ['NetworkInterfaceLimitExceeded (400)', new EC2.EC2ServiceException({ name: 'NetworkInterfaceLimitExceeded', $fault: 'client', $metadata: meta(400), message: 'x' }), false],
    ['ValidationError 400', new AS.AutoScalingServiceException({ name: 'ValidationError', $fault: 'client', $metadata: meta(400), message: 'x' }), false],
    ['DeployError', new DeployError('x', 'y'), false],
    ['AbortError', Object.assign(new Error('aborted'), { name: 'AbortError' }), false],
    ['undefined', undefined, false],
  ];
  for (const [name, err, expected] of table) t.is(isTransient(err), expected, name);
});

function throttledSandbox() {
  const sb = Sandbox.create({ seed: 11, faults: { bootSeconds: 30, appStartSeconds: 0 } });
  sb.seedGroup({ name: 'web', capacity: 2, max: 4 });
  sb.advance(600_000);
  sb.faults.throttleRate = 1;
  return sb;
}

test('the SDK sends a mutating call once (its retries off), a read up to maxAttempts', async (t) => {
  const sb = throttledSandbox();
  const port = new AwsAdapter(sb.newClients('tool'), sb.clock);
  const id = sb.world.groupInstances(sb.world.state.groups.web)[0].id;
  const count = (op: string) => sb.calls.filter((c) => c.operation === op).length;
  await t.throwsAsync(port.terminateInstance(id, true), { name: 'Throttling' });
  t.is(count('TerminateInstanceInAutoScalingGroup'), 1, 'terminate: one attempt');
  await t.throwsAsync(port.setDesired('web', 3), { name: 'Throttling' });
  t.is(count('SetDesiredCapacity'), 1, 'set desired: one attempt');
  await t.throwsAsync(port.observeGroup('web'));
  t.is(count('DescribeAutoScalingGroups'), 3, "a read keeps the SDK's 3 attempts");
  t.is(port.apiCalls(), 5);
});

/** A port whose methods fail with throttling the first `fail` times. */
function flaky(fail: number): { port: AwsPort; calls: Record<string, number> } {
  const calls: Record<string, number> = {};
  const throttled = () => new AS.AutoScalingServiceException({ name: 'Throttling', $fault: 'client', $metadata: meta(400), message: 'Rate exceeded' });
  const handler: ProxyHandler<object> = {
    get(_t, prop) {
      if (typeof prop === 'symbol') return undefined;
      if (prop === 'apiCalls') return () => 0;
      return async () => {
        calls[String(prop)] = (calls[String(prop)] ?? 0) + 1;
        if (calls[String(prop)] <= fail) throw throttled();
        return undefined;
      };
    },
  };
  return { port: new Proxy({}, handler) as AwsPort, calls };
}

test('retryingPort: reads and idempotent writes are retried with back-off in clock time; terminate is never repeated', async (t) => {
  const clock = new VirtualClock();
  const { port, calls } = flaky(2);
  const p = retryingPort(port, { clock });
  const t0 = clock.now();
  await p.setDesired('web', 3);
  t.is(calls.setDesired, 3);
  t.is(clock.now() - t0, 1000 + 2000);
  await p.observeGroup('web');
  t.is(calls.observeGroup, 3);
  await t.throwsAsync(p.terminateInstance('i-1', true), { name: 'Throttling' });
  t.is(calls.terminateInstance, 1, 'the caller must look again before another terminate');
  t.is(retryingPort(p, { clock }), p, 'wrapping twice is a no-op');
});

test('PORT_RETRY_POLICY: terminate is the one non-idempotent write; every describe is a read', (t) => {
  const byClass = (c: string) => Object.entries(PORT_RETRY_POLICY).filter(([, v]) => v === c).map(([k]) => k).sort();
  t.deepEqual(byClass('non-idempotent-write'), ['terminateInstance']);
  t.deepEqual(byClass('read'), ['activeInstanceRefresh', 'describeAlarms', 'describeElb', 'describeInstanceHealth', 'describeTargetGroup', 'describeTargetHealth', 'describeWarmPool', 'findForwards', 'findGroups', 'getLockObject', 'groupsNamed', 'groupsOfInstances', 'lastFailedLaunch', 'launchActivities', 'launchSpecExists', 'lifecycleHooks', 'listenerRules', 'observeGroup', 'readForwards', 'rebalanceLaunches', 'recentLaunchDurations', 'standbyReturns']);
  // Setting weights reads the actions and writes them back with the weights: a repeat sets the same.
  t.is(PORT_RETRY_POLICY.setForwardWeights, 'idempotent-write');
  // Setting the group's launch spec back (rollback): the same spec sets the same state.
  t.is(PORT_RETRY_POLICY.setGroupLaunch, 'idempotent-write');
});

test("createAwsClients respects the profile's retry_mode and AWS_RETRY_MODE; 'adaptive' only where the chain has none", async (t) => {
  const saved = { file: process.env.AWS_CONFIG_FILE, mode: process.env.AWS_RETRY_MODE, profile: process.env.AWS_PROFILE };
  // The resolved config holds a provider (the chain); a plain value when a caller fixed it.
  const mode = async (c: { config: { retryMode: unknown } }) => {
    const m = c.config.retryMode;
    return typeof m === 'function' ? (m as () => Promise<string>)() : m;
  };
  const dir = mkdtempSync(join(tmpdir(), 'asg-deploy-retry-'));
  try {
    delete process.env.AWS_RETRY_MODE;
    delete process.env.AWS_PROFILE;
    const withMode = join(dir, 'config-standard');
    writeFileSync(withMode, '[default]\nretry_mode = standard\n');
    process.env.AWS_CONFIG_FILE = withMode;
    t.is(await mode(createAwsClients({ region: 'us-east-1' }).autoScaling), 'standard', "the profile's retry_mode");
    const without = join(dir, 'config-none');
    writeFileSync(without, '[default]\nregion = us-east-1\n');
    process.env.AWS_CONFIG_FILE = without;
    t.is(await mode(createAwsClients({ region: 'us-east-1' }).ec2), 'adaptive', 'no retry mode anywhere: the tool default');
    process.env.AWS_RETRY_MODE = 'legacy';
    t.is(await mode(createAwsClients({ region: 'us-east-1' }).s3), 'legacy', 'AWS_RETRY_MODE');
  } finally {
    for (const [k, v] of [['AWS_CONFIG_FILE', saved.file], ['AWS_RETRY_MODE', saved.mode], ['AWS_PROFILE', saved.profile]] as const) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('chaos seed 3417255494 (rolling): a throttled terminate is not retried inside the SDK after the instance became healthy', async (t) => {
  const r = await runScenario(generateScenario(3417255494, 'rolling'));
  t.deepEqual(r.violations, []);
});
