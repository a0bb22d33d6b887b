/**
 * deploy's A/B hook on the sandbox: a re-run after a crashed swap finishes it (issue 10 defect 1),
 * and the dry run promises the count the real run uses (defect 6).
 */
import test from 'ava';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createAwsPort } from '../../orchestrator/aws/adapter';
import { unlockEnvironment } from '../../orchestrator/lock/lock';
import { Codes } from '../../orchestrator/report/reporter';
import { DeployCodes } from '../../orchestrator/report/summary';
import { SWAP_TAG } from '../../orchestrator/rollout/ab/strategy';
import { runDeploy } from '../../orchestrator/stack/deploy-flow';
import { engineHooks } from '../../orchestrator/stack/hooks';
import { sandboxDeployWorld } from '../helpers/sandbox-deploy';
import { onFirstEvent } from '../helpers/reporter-tap';

const WEB = { a: 'demo-web-a', b: 'demo-web-b' };

for (const when of ['mid-growth', 'mid-drain'] as const) {
  test(`deploy re-run after a swap crashed ${when} (kill -9, unlock --force) finishes the swap and leaves nothing`, async (t) => {
    const w = sandboxDeployWorld({ tmpPrefix: 'sbx-abhook-' });
    await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
    w.sandbox.monitor.baseline();
    const g = (n: string) => w.sandbox.world.state.groups[n];
    const active = g(WEB.a).desired > 0 ? WEB.a : WEB.b;
    const idle = active === WEB.a ? WEB.b : WEB.a;
    // The second deploy runs its hooks on a client set that dies (kill -9) mid-swap.
    const doomed = createAwsPort(w.sandbox.newClients('doomed'), w.sandbox.clock);
    const [code, asg] = when === 'mid-growth' ? [Codes.healthy, idle] : [Codes.scale, active];
    const reporter = onFirstEvent(w.reporter, code, asg, () => w.sandbox.crashAfter(0, 'doomed'));
    const deps = { ...w.deps(), reporter, hooks: engineHooks({ port: doomed, clock: w.sandbox.clock, reporter }) };
    await t.throwsAsync(runDeploy({ stack: 'demo', configFile: w.config('ami-0a2'), services: ['web'] }, deps));
    t.true(w.sandbox.crashed('doomed'));
    t.truthy([...g(active).tags, ...g(idle).tags].find((x) => x.key === SWAP_TAG), 'the crashed run left its swap record');

    await unlockEnvironment({ port: w.port, clock: w.sandbox.clock, reporter: w.reporter }, { environment: 'demo-web', groups: [WEB.a, WEB.b], force: true });
    const out = await runDeploy({ stack: 'demo', configFile: w.config('ami-0a2'), services: ['web'] }, w.deps());
    t.is(out.exit, 0);
    // The re-run finished the recorded swap before pulumi up (deploy-flow finishUnfinished), as ab would.
    t.true(w.reporter.ofCode(DeployCodes.unfinished).some((e) => /finishing it before pulumi up/.test(e.message)), 'finished first');
    t.true(w.reporter.codes().includes('ab.resumed'), 'the re-run resumed the recorded swap');
    // Finished: the new color serves 4, the old one is empty, no record, nothing suspended.
    w.sandbox.settle({});
    t.is(g(idle).desired, 4);
    t.is(g(active).desired, 0);
    t.is(w.sandbox.monitor.healthyCount(idle), 4);
    for (const n of [WEB.a, WEB.b]) {
      t.deepEqual(w.sandbox.monitor.leftovers(n).filter((l) => !['desired', 'min'].includes(l.what)), [], `${n} leftovers`);
      t.deepEqual(g(n).suspended, [], `${n} processes`);
    }
  });
}

test('deploy --dry-run promises the A/B count the real run uses (capacity lowered 4 → 2)', async (t) => {
  const w = sandboxDeployWorld({ tmpPrefix: 'sbx-abcount-' });
  await runDeploy({ stack: 'demo', create: true, configFile: w.config('ami-0a1') }, w.deps());
  const g = (n: string) => w.sandbox.world.state.groups[n];
  const active = g(WEB.a).desired > 0 ? WEB.a : WEB.b;
  const idle = active === WEB.a ? WEB.b : WEB.a;
  t.is(g(active).desired, 4);
  const lowered = path.join(w.dir, 'lowered.yaml');
  fs.writeFileSync(lowered, fs.readFileSync(w.config('ami-0a2'), 'utf8').replace(/(strategy: ab[\s\S]*?capacity: )4/, '$12'));
  t.regex(fs.readFileSync(lowered, 'utf8'), /strategy: ab[\s\S]*capacity: 2/);
  await runDeploy({ stack: 'demo', configFile: lowered, services: ['web'], dryRun: true }, w.deps());
  const plan = w.reporter.ofCode(DeployCodes.servicePlan).find((e) => e.data.service === 'web')!;
  const promised = Number(/(\d+) instances/.exec(plan.message)?.[1]);
  await runDeploy({ stack: 'demo', configFile: lowered, services: ['web'] }, w.deps());
  t.is(g(idle).desired, 2, 'the run brings up the configured capacity');
  t.is(promised, g(idle).desired, `the dry run said: ${plan.message}`);
});
