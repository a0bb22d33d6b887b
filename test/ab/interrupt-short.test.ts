/**
 * Chaos seed 2283647944 (`npm run chaos -- --runs 1 --seed 2283647944 --strategy ab`): SIGINT
 * mid-swap while AWS had just taken one of the OLD color's instances (a spontaneous termination,
 * its replacement still booting). The interrupt scales the new color back to its original size —
 * restoring what the run raised (invariant 3) — and so leaves exactly what the old color serves by
 * itself: the tool never touches the old color, and says plainly that it is short.
 */
import test from 'ava';
import { abDeploy } from '../../orchestrator/rollout/ab';
import { DeployError } from '../../orchestrator/errors';
import { Codes, type Reporter } from '../../orchestrator/report/reporter';
import { abEnv } from './harness';

test('SIGINT mid-swap while AWS replaces an old-color instance: b back to 0, a never touched, the shortfall said; a re-run finishes', async (t) => {
  const env = abEnv({ count: 3 });
  const sb = env.sandbox;
  const controller = new AbortController();
  let victim: string | undefined;
  let aHealthyAtInterrupt: number | undefined;
  const reporter: Reporter = {
    emit(level, code, message, data) {
      env.reporter.emit(level, code, message, data);
      // The first new instance launches: AWS takes one of a's (hardware failure).
      if (code === Codes.launch && data?.asg === 'qa-b' && !victim) {
        victim = env.live('qa-a')[0];
        sb.direct('ec2', 'TerminateInstances', { InstanceIds: [victim] });
      }
      // The first new instance serves: Ctrl-C.
      if (code === Codes.healthy && data?.asg === 'qa-b' && !controller.signal.aborted) {
        aHealthyAtInterrupt = sb.monitor.healthyCount('qa-a', sb.clock.now());
        controller.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
      }
    },
  };
  const start = sb.clock.now();
  const err = (await t.throwsAsync(abDeploy({ clients: sb.clients, clock: sb.clock, reporter, signal: controller.signal, environment: 'qa', instanceCount: 3 }), { instanceOf: DeployError })) as DeployError;
  t.is(err.exit, 130);
  t.truthy(victim);
  t.is(aHealthyAtInterrupt, 2, 'a was short when interrupted');

  // What the run raised is restored; a keeps its size and was never changed by the tool.
  t.is(env.group('qa-b').desired, 0);
  t.is(env.group('qa-a').desired, 3);
  t.is(env.group('qa-a').min, 3);
  t.deepEqual([...new Set(env.reporter.ofCode(Codes.scale).map((e) => e.data.asg))], ['qa-b'], 'only qa-b was resized');
  t.deepEqual(sb.monitor.leftovers('qa-b'), []);
  t.deepEqual(sb.monitor.leftovers('qa-a'), []);
  // The tool's terminations are b's only; a's count never fell below what a served by itself.
  t.true(sb.monitor.terminations({ cause: ['api', 'scale-in'] }).filter((x) => x.call?.actor === 'tool').every((x) => x.group === 'qa-b'));
  t.true(sb.monitor.minHealthy('qa-a', start) >= 2);

  // Said plainly: the scale-back leaves what a serves by itself.
  const cleanup = env.reporter.ofCode('rollout.cleanup').map((e) => e.message);
  t.true(cleanup.some((m) => /scale qa-b back \d+ → 0; qa-a was never touched; qa-a serves 2 of its 3 by itself \(AWS is replacing the others\)/.test(m)), cleanup.join('\n'));

  // A re-run (once AWS has replaced a's instance) finishes the swap.
  const r = await env.run();
  t.is(r.status, 'done');
  t.is(sb.monitor.healthyCount('qa-b'), 3);
  t.is(env.group('qa-a').desired, 0);
});

test('SIGINT mid-swap with the old color whole: the scale-back message does not claim a shortfall', async (t) => {
  const env = abEnv({ count: 3 });
  const controller = new AbortController();
  const reporter: Reporter = {
    emit(level, code, message, data) {
      env.reporter.emit(level, code, message, data);
      if (code === Codes.healthy && data?.asg === 'qa-b' && !controller.signal.aborted) controller.abort(Object.assign(new Error('SIGINT'), { name: 'AbortError' }));
    },
  };
  const err = (await t.throwsAsync(abDeploy({ clients: env.sandbox.clients, clock: env.sandbox.clock, reporter, signal: controller.signal, environment: 'qa', instanceCount: 3 }), { instanceOf: DeployError })) as DeployError;
  t.is(err.exit, 130);
  const cleanup = env.reporter.ofCode('rollout.cleanup').map((e) => e.message);
  t.true(cleanup.some((m) => /scale qa-b back \d+ → 0; qa-a was never touched$/.test(m)), cleanup.join('\n'));
  t.is(env.group('qa-b').desired, 0);
});
