/**
 * The benchmark measures what it says: the physical limit is a true lower bound for both tools,
 * the engine and the 30-s baseline both finish on identical fleets, and API calls are counted.
 */
import test from 'ava';
import { BENCHES, abCost, runBench } from '../../orchestrator/proof/bench';

test.serial('bench quorum scenario: both tools finish, neither beats the physical limit, the 30-s baseline is slower', async (t) => {
  const r = await runBench(BENCHES.find((b) => b.name === '3-node quorum')!);
  t.is(r.limitSeconds, 360);
  t.is(r.engine.error, undefined);
  t.is(r.engine.replaced, 3);
  t.is(r.baseline?.replaced, 3);
  t.true(r.engine.seconds! >= r.limitSeconds, `engine ${r.engine.seconds} s below the physical limit`);
  t.true(r.baseline!.seconds! >= r.limitSeconds);
  t.true(r.baseline!.seconds! > r.engine.seconds!);
  t.true(r.engine.apiCalls > 0 && r.baseline!.apiCalls > 0);
  t.regex(r.overshoot ?? '', /ASG launch latency \d+ s over 3 launch/);
});

test.serial('bench A/B scenario: the limit includes the connection drain', async (t) => {
  const r = await runBench(BENCHES.find((b) => b.name === 'A/B, 8 instances')!);
  t.is(r.limitSeconds, 90 + 30 + 300);
  t.is(r.engine.replaced, 8);
  t.true(r.engine.seconds! >= r.limitSeconds);
  t.true(r.baseline!.seconds! >= r.limitSeconds);
});

test.serial('bench on ALB target groups (issue 14): the A/B limit is boot + checks + the step holds + the deregistration delay; rolling waits for target health; neither run beats its limit', async (t) => {
  const ab = await runBench(BENCHES.find((b) => b.kind === 'ab-alb')!);
  t.is(ab.limitSeconds, 90 + 30 + 2 * 60 + 300);
  t.is(ab.engine.error, undefined);
  t.is(ab.engine.replaced, 8);
  t.true(ab.engine.seconds! >= ab.limitSeconds, `${ab.engine.seconds} s < ${ab.limitSeconds} s`);
  const rolling = await runBench(BENCHES.find((b) => b.kind === 'rolling-tg')!);
  t.is(rolling.limitSeconds, 3 * (90 + 30));
  t.is(rolling.engine.replaced, 3);
  t.true(rolling.engine.seconds! >= rolling.limitSeconds);
});

test.serial('the engine run with the simulated AWS in another process is the same rollout as in-process', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const inProcess = await runBench(BENCHES.find((b) => b.name === '100 instances, batch 10')!);
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../orchestrator/proof/engine-memory.ts'), '100', '10'], { encoding: 'utf8', timeout: 60_000 });
  const out = JSON.parse(child.stdout.trim().split('\n').pop()!) as { simulatedSeconds?: number; apiCalls: number; replaced: number; serverCalls: number; peakRssMb: number };
  t.is(out.replaced, 100);
  t.is(out.simulatedSeconds, inProcess.engine.seconds);
  t.is(out.apiCalls, inProcess.engine.apiCalls);
  t.is(out.serverCalls, out.apiCalls, 'every SDK attempt reached the simulation');
  t.true(out.peakRssMb > 0);
});

test.serial('the engine-memory probe\'s A/B swap (simulated AWS in another process) is the same swap as in-process', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const inProcess = await abCost(30);
  const child = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../orchestrator/proof/engine-memory.ts'), '30', '10', 'decoded', 'ab'], { encoding: 'utf8', timeout: 150_000 });
  const out = JSON.parse(child.stdout.trim().split('\n').pop()!) as { simulatedSeconds?: number; apiCalls: number; replaced: number; scenario: string; operations: Record<string, number>; error?: string };
  t.is(out.error, undefined);
  t.is(out.scenario, 'ab');
  t.is(out.replaced, 30);
  t.is(out.simulatedSeconds, inProcess.simulatedSeconds);
  t.is(out.apiCalls, inProcess.apiCalls ?? -1);
  t.true((out.operations.SetDesiredCapacity ?? 0) + (out.operations.UpdateAutoScalingGroup ?? 0) > 0, 'the new color was grown');
});

test.serial('the engine-memory probe with AWS\'s XML wire format: the same rollout, every answer parsed by the SDK', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { join } = await import('node:path');
  const run = (wire: string) => {
    const child = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../../orchestrator/proof/engine-memory.ts'), '30', '10', wire], { encoding: 'utf8', timeout: 60_000 });
    return JSON.parse(child.stdout.trim().split('\n').pop()!) as { simulatedSeconds?: number; apiCalls: number; replaced: number; serverCalls: number; wire: string; operations: Record<string, number>; error?: string };
  };
  const decoded = run('decoded');
  const xml = run('xml');
  t.is(xml.error, undefined);
  t.is(xml.wire, 'xml');
  t.is(xml.replaced, 30);
  t.is(xml.simulatedSeconds, decoded.simulatedSeconds);
  t.is(xml.apiCalls, decoded.apiCalls);
  t.is(xml.serverCalls, xml.apiCalls);
  t.deepEqual(xml.operations, decoded.operations);
});

test.serial('bench canary + checkpoints + bake (issue 16): the limit includes the waits and the points cut the batches; the engine is within 1.03 of it', async (t) => {
  const r = await runBench(BENCHES.find((b) => b.name.startsWith('canary + checkpoints + bake'))!);
  // Segments 1 (canary), 4 (to 50 %), 5 → 1 + 2 + 3 = 6 batches × (90 + 30) + 120 + 120 + max(0, 300 bake).
  t.is(r.limitSeconds, 6 * 120 + 120 + 120 + 300);
  t.regex(r.limitFormula, /6 × \(90 \+ 30\) \+ 240 \(canary and checkpoint waits\) \+ max\(0, 300 bake\)/);
  t.is(r.engine.error, undefined);
  t.is(r.engine.replaced, 10);
  t.true(r.engine.seconds! >= r.limitSeconds, `engine ${r.engine.seconds} s below the limit ${r.limitSeconds} s`);
  t.true(r.engine.seconds! <= 1.03 * r.limitSeconds, `engine ${r.engine.seconds} s > 1.03 × ${r.limitSeconds} s`);
});
