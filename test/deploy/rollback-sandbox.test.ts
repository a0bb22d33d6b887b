/**
 * `deploy --rollback` for a rolling service on the simulated AWS (the real infra/ program under
 * the sandbox stack): an alarm rolls the group back; the summary and the JSON say the stack and
 * the group now disagree and what reconciles them; a deploy of the same config changes nothing
 * and says so again; the next deploy with a fixed config rolls out and reconciles them.
 */
import test from 'ava';
import * as fs from 'node:fs';
import { DeployError } from '../../orchestrator/errors';
import { DeployCodes } from '../../orchestrator/report/summary';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';

function setup() {
  const w = sandboxDeployWorld({ tmpPrefix: 'sbx-rollback-' });
  const config = (image: string) => {
    const f = w.config(image);
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('      strategy: rolling\n', '      strategy: rolling\n      alarms: [demo-rabbit-errors]\n'));
    return f;
  };
  return { ...w, config };
}

test('deploy --rollback: an alarm during the rolling rollout rolls the group back; the stack and the group disagree, said in the summary and the JSON; the same config changes nothing; a fixed config reconciles', async (t) => {
  const w = setup();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  const sb = w.sandbox;
  sb.setAlarm('demo-rabbit-errors', 'OK');
  const rabbit = () => sb.world.state.groups['demo-rabbit'];
  const images = () => sb.world.groupInstances(rabbit()).filter((i) => sb.world.isActive(i)).map((i) => i.imageId).sort();
  const v1 = Number(rabbit().launchTemplate!.version);
  const size = images().length;
  let tripped = false;
  sb.clock.onAdvance(() => {
    if (!tripped && sb.monitor.terminations({ group: 'demo-rabbit', cause: ['api', 'scale-in'] }).length >= 1) {
      tripped = true;
      sb.setAlarm('demo-rabbit-errors', 'ALARM', 'Threshold Crossed: 1 datapoint [9.0] was greater than the threshold (5.0)');
    }
  });
  sb.monitor.baseline(['demo-rabbit']);
  const t0 = sb.clock.now();
  const err = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2'), rollback: true }, w.deps()), { instanceOf: DeployError });
  t.true(tripped);
  t.is(err!.exit, 1);
  t.regex(err!.message, new RegExp(`rolled back: demo-rabbit is on launch template \\S+ version ${v1} again`));
  t.regex(err!.message, new RegExp(`the stack declares launch template \\S+ version ${v1 + 1}, the group runs version ${v1} \\(rolled back\\).*the next deploy with a fixed config reconciles them`));
  t.deepEqual(images(), Array(size).fill('ami-0a1'), 'every rabbit instance runs the previous image again');
  t.is(rabbit().launchTemplate!.version, String(v1));
  t.true(sb.monitor.minHealthy('demo-rabbit', t0) >= size);
  t.deepEqual(sb.monitor.leftovers('demo-rabbit'), []);
  // The JSON: the service's failure carries the rollback and the disagreement; a rollout.rollback event says it.
  const failed = w.reporter.events.find((e) => e.code === DeployCodes.serviceFailed && e.data.service === 'rabbit')!;
  t.like(failed.data, { rollback: { status: 'done' }, stackDisagrees: { reconcile: 'next-deploy-with-fixed-config', stack: { launchTemplate: { version: v1 + 1 } }, group: { launchTemplate: { version: v1 } } } });
  t.truthy(w.reporter.events.find((e) => e.code === 'rollout.rollback' && e.data.state === 'stack-disagrees' && e.data.service === 'rabbit'));

  // The same config again (alarm cleared): Pulumi sees no change; the group stays on the previous version, and the summary says why.
  sb.setAlarm('demo-rabbit-errors', 'OK');
  const mark = w.reporter.events.length;
  await runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, w.deps());
  t.deepEqual(images(), Array(size).fill('ami-0a1'));
  const done = w.reporter.events.slice(mark).find((e) => e.code === DeployCodes.serviceDone && e.data.service === 'rabbit')!;
  t.is(done.data.status, 'noop');
  t.regex(done.message, /the stack declares .* the group runs version \d+ \(rolled back\)/);

  // A fixed config: a new version, rolled out; the stack and the group agree again.
  const mark2 = w.reporter.events.length;
  await runDeploy({ stack: 'demo', configFile: w.config('ami-0a3') }, w.deps());
  t.deepEqual(images(), Array(size).fill('ami-0a3'));
  t.falsy(w.reporter.events.slice(mark2).find((e) => e.code === 'rollout.rollback'));
});
