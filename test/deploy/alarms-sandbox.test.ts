/**
 * The service key `alarms` under `deploy` on the simulated AWS: the hooks hand each service's
 * alarms to its rollout (rolling and A/B), read through the sandbox's CloudWatch.
 */
import test from 'ava';
import * as fs from 'node:fs';
import { DeployError } from '../../orchestrator/errors';
import { Codes } from '../../orchestrator/report/reporter';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';

/** The demo stack with `alarms` on both services. */
function setup() {
  const w = sandboxDeployWorld({ tmpPrefix: 'sbx-alarms-' });
  const config = (image: string) => {
    const f = w.config(image);
    const text = fs.readFileSync(f, 'utf8')
      .replace('      strategy: rolling\n', '      strategy: rolling\n      alarms: [demo-rabbit-errors]\n')
      .replace('      strategy: ab\n', '      strategy: ab\n      alarms: [demo-web-5xx]\n');
    fs.writeFileSync(f, text);
    return f;
  };
  return { ...w, config };
}

test('deploy: each service\'s alarms are watched by its rollout — ALARM before the rolling one refuses it (exit 3, group untouched); ALARM during the A/B swap halts it, the old color serving', async (t) => {
  const w = setup();
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  w.sandbox.setAlarm('demo-rabbit-errors', 'ALARM', 'sandbox: burning before the deploy');
  const rabbitOf = () => {
    const g = w.sandbox.world.state.groups['demo-rabbit'];
    return { desired: g.desired, max: g.max, suspended: g.suspended, instances: g.instances };
  };
  const rabbitBefore = rabbitOf();
  const err = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2') }, w.deps()), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.deepEqual(rabbitOf(), rabbitBefore, 'the rolling group was not changed (pulumi only published the new template version)');
  t.regex(err!.message, /demo-rabbit-errors/);

  // The rabbit alarm clears; the web alarm trips once the idle color has instances.
  w.sandbox.setAlarm('demo-rabbit-errors', 'OK');
  w.sandbox.setAlarm('demo-web-5xx', 'OK');
  const serving = Object.values(w.sandbox.world.state.groups).find((g) => g.name.startsWith('demo-web') && g.desired > 0)!.name;
  const idle = serving.endsWith('-a') ? serving.replace(/-a$/, '-b') : serving.replace(/-b$/, '-a');
  let tripped = false;
  w.sandbox.clock.onAdvance(() => {
    if (!tripped && Object.values(w.sandbox.world.state.instances).some((i) => i.group === idle && i.ec2State === 'running')) {
      tripped = true;
      w.sandbox.setAlarm('demo-web-5xx', 'ALARM', 'Threshold Crossed: 1 datapoint [12.0] was greater than the threshold (5.0)');
    }
  });
  const start = w.sandbox.clock.now();
  const halted = await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a3') }, w.deps()), { instanceOf: DeployError });
  t.is(halted!.exit, 1);
  t.true(tripped);
  t.truthy(w.reporter.events.find((e) => e.code === Codes.failed && e.data.reason === 'alarm' && e.data.service === 'web'), 'the web swap halted on its alarm');
  t.is(w.sandbox.world.state.groups[serving].desired, 4, 'the serving color was never touched');
  t.is(w.sandbox.monitor.minHealthy(serving, start), 4);
});
