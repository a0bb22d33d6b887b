/**
 * The tool's failure detection does not depend on AWS replacing instances (issue 20, [HEALTH-6]):
 * in AWS the ASG may replace a bad version's instances late or never (one at a time, only once the
 * load balancer attachment is InService, never with EC2 health checks). A rolling rollout of a
 * version that never passes its health check must still halt — by its step timeout — with the
 * old instances serving, whether or not the ASG ever replaces a new instance.
 */
import test from 'ava';
import { Sandbox } from '../../orchestrator/sandbox';
import { DeployError } from '../../orchestrator/errors';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { rollGroup } from '../../orchestrator/rollout/rolling/runner';

for (const healthCheckType of ['EC2', 'ELB'] as const) {
  test(`a never-healthy version halts by the step timeout when the ASG ${healthCheckType === 'EC2' ? 'never replaces it (EC2 health checks)' : 'replaces it one at a time'}`, async (t) => {
    const sb = Sandbox.create({ seed: 11, faults: { bootSeconds: 40 } });
    sb.seedGroup({ name: 'g', capacity: 4, max: 8, healthCheckType, healthCheckGracePeriod: 60, elb: { name: 'g', healthCheck: { interval: 10, healthyThreshold: 3 }, drainingTimeout: 0 } });
    sb.setImage('ami-0bad000000000000', { healthy: false });
    sb.newLaunchTemplateVersion('g-lt', { ImageId: 'ami-0bad000000000000' });
    sb.monitor.baseline();
    const t0 = sb.clock.now();
    const stepTimeoutMs = 10 * 60_000;
    const reporter = new RecordingReporter(sb.clock);
    const e = (await t.throwsAsync(rollGroup({ clients: sb.clients, clock: sb.clock, reporter, asg: 'g', surge: 1, stepTimeoutMs }), { instanceOf: DeployError })) as DeployError;
    t.is(e.exit, 1);
    const replacedByAsg = sb.monitor.terminations({ group: 'g', cause: ['replace-unhealthy'] }).length;
    if (healthCheckType === 'EC2') t.is(replacedByAsg, 0, 'the ASG never replaced anything');
    // Halted within the step timeout plus a few polls, not never.
    t.true(sb.clock.now() - t0 <= stepTimeoutMs + 5 * 60_000, `halted after ${(sb.clock.now() - t0) / 1000} s`);
    sb.advance(120_000);
    t.true(sb.monitor.minHealthy('g', t0) >= 4, 'the old instances kept serving');
    t.deepEqual(sb.monitor.leftovers('g'), []);
  });
}
