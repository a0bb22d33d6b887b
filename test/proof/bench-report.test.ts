import test from 'ava';
import { benchmarkMarkdown, callsTarget, costMissed, engineNote, memoryNote, missedTargets, parallelMarkdown, parallelMissed, startupMarkdown, startupMissed, type BenchScenarioResult, type ParallelBench, type ParallelRun, type StartupCost } from '../../orchestrator/proof/bench-report';

const quorum = (engineSeconds: number | undefined, engineCalls: number): BenchScenarioResult => ({
  name: 'quorum',
  shape: '3 instances, batch 1',
  batchSize: 1,
  limitSeconds: 360,
  limitFormula: '3 × (90 + 30) + 0',
  engine: { seconds: engineSeconds, apiCalls: engineCalls, replaced: 3, realMs: 10, error: engineSeconds === undefined ? 'step timeout' : undefined },
  baseline: { seconds: 480, apiCalls: 60, replaced: 3, realMs: 10 },
});

test('targets met: no MISSED in the table', (t) => {
  const r = quorum(365, 30);
  t.deepEqual(missedTargets(r), []);
  const md = benchmarkMarkdown({ date: '2026-01-01', machine: { cpu: 'x', cores: 2, node: 'v20', os: 'linux' }, command: 'npm run bench', scenarios: [r] });
  t.false(md.includes('MISSED'));
  t.true(md.includes('1.014 ok'));
  t.true(md.includes('engine 1.32× faster'));
});

test('a slow rollout or too many calls is MISSED, never hidden', (t) => {
  t.deepEqual(missedTargets(quorum(372, 30)).length, 1); // 1.033 > 1.03
  t.regex(missedTargets(quorum(360, 48))[0], /16\.0 API calls per instance > 15/);
  t.regex(missedTargets(quorum(undefined, 30))[0], /did not finish: step timeout/);
  const md = benchmarkMarkdown({ date: 'd', machine: { cpu: 'x', cores: 2, node: 'v20', os: 'linux' }, command: 'npm run bench', scenarios: [quorum(372, 30)] });
  t.true(md.includes('1.033 MISSED'));
});

test('engine cost targets: decision < 5 ms on the slowest snapshot, RSS < 200 MB', (t) => {
  const ok = { instances: 1000, decideMeanMs: 0.4, decideWorstSnapshotMs: 0.9, decideP99Ms: 1.1, decideMaxMs: 1.2, decisions: 100, peakRssMb: 150, peakHeapMb: 60, simulationRealSeconds: 5, simulatedSeconds: 12000 };
  t.deepEqual(costMissed(ok), []);
  t.is(costMissed({ ...ok, decideWorstSnapshotMs: 5 }).length, 1);
  t.deepEqual(costMissed({ ...ok, decideMaxMs: 9, decideP99Ms: 7 }), []); // lone pauses are shown, not judged
  t.is(costMissed({ ...ok, peakRssMb: 201 }).length, 1);
});

test('calls target by batch size', (t) => {
  t.is(callsTarget(1), 15);
  t.is(callsTarget(10), 4);
  t.is(callsTarget(100), 4);
  t.is(callsTarget(5), undefined);
});

test('the memory note adds up to the measured peak and keeps the verdict', (t) => {
  const c = { instances: 1000, decideMeanMs: 0.4, decideWorstSnapshotMs: 0.9, decideP99Ms: 1.1, decideMaxMs: 1.2, decisions: 100, peakRssMb: 251, peakHeapMb: 120, rssBeforeMb: 174, liveHeapAfterMb: 30, simulationRealSeconds: 3, simulatedSeconds: 12200, footprint: { nodeMb: 40, tsxMb: 73, sdkMb: 148 } };
  const note = memoryNote(c)!;
  for (const part of ['node itself 40 MB', '+33 MB', '+75 MB', '+26 MB (174 MB before', '+77 MB', 'only 30 MB is live']) t.true(note.includes(part), part);
  t.is(memoryNote({ ...c, footprint: undefined }), undefined, 'nothing guessed without the measurement');
  const md = benchmarkMarkdown({ date: 'd', machine: { cpu: 'x', cores: 2, node: 'v20', os: 'linux' }, command: 'npm run bench', scenarios: [quorum(365, 30)], cost: c });
  t.true(md.includes('MISSED: peak RSS 251 MB'));
  t.true(md.includes('### Where the memory goes'));
  t.false(md.includes('10-s loop'), 'the sandbox starts API capacity changes after 1 s');
});

test('memory: the engine’s own process is judged only when it reproduced the in-process rollout', (t) => {
  const c = { instances: 1000, decideMeanMs: 0.4, decideWorstSnapshotMs: 0.9, decideP99Ms: 1.1, decideMaxMs: 1.2, decisions: 100, peakRssMb: 259, peakHeapMb: 120, rssBeforeMb: 175, simulationRealSeconds: 3, simulatedSeconds: 12200 };
  const alone = { peakRssMb: 190, rssBeforeMb: 166, simulatedSeconds: 12200, apiCalls: 1714 };
  t.deepEqual(costMissed({ ...c, engineAlone: { ...alone, matches: true } }), [], 'engine alone 190 MB < 200');
  t.regex(costMissed({ ...c, engineAlone: { ...alone, matches: false } })[0], /259 MB \(whole process/, 'a different rollout is not evidence');
  t.regex(costMissed({ ...c, engineAlone: { ...alone, peakRssMb: 236, matches: true } })[0], /236 MB \(engine process/);
  t.regex(costMissed(c)[0], /259 MB \(whole process/);
  const md = benchmarkMarkdown({ date: 'd', machine: { cpu: 'x', cores: 2, node: 'v20', os: 'linux' }, command: 'npm run bench', scenarios: [quorum(365, 30)], cost: { ...c, engineAlone: { ...alone, matches: false } } });
  t.true(md.includes('NOT the same rollout as in-process'));
});

test('memory: the A/B swap is judged on the engine’s own process when it reproduced the in-process swap', (t) => {
  const c = { instances: 1000, decideMeanMs: 0.4, decideWorstSnapshotMs: 0.9, decideP99Ms: 1.1, decideMaxMs: 1.2, decisions: 100, peakRssMb: 180, peakHeapMb: 120, rssBeforeMb: 150, simulationRealSeconds: 3, simulatedSeconds: 12200 };
  const ab = { decideMeanMs: 0.02, decideWorstSnapshotMs: 0.03, decideP99Ms: 0.05, decideMaxMs: 0.1, decisions: 40, peakRssMb: 340, simulationRealSeconds: 2, simulatedSeconds: 423, apiCalls: 58 };
  const alone = { peakRssMb: 175, rssBeforeMb: 148, simulatedSeconds: 423, apiCalls: 58 };
  t.deepEqual(costMissed({ ...c, ab: { ...ab, engineAlone: { ...alone, matches: true } } }), [], 'engine process 175 MB: the whole-process 340 MB is not judged');
  t.regex(costMissed({ ...c, ab: { ...ab, engineAlone: { ...alone, matches: false } } })[0], /A\/B peak RSS 340 MB \(whole process/, 'a different swap is not evidence');
  t.regex(costMissed({ ...c, ab })[0], /A\/B peak RSS 340 MB \(whole process/);
  t.regex(costMissed({ ...c, ab: { ...ab, engineAlone: { ...alone, matches: true }, engineAloneXml: { ...alone, peakRssMb: 230, matches: true } } })[0], /A\/B peak RSS 230 MB \(engine process, answers in AWS's XML\)/);
  const md = benchmarkMarkdown({ date: 'd', machine: { cpu: 'x', cores: 2, node: 'v24', os: 'linux' }, command: 'npm run bench', scenarios: [quorum(365, 30)], cost: { ...c, ab: { ...ab, engineAlone: { ...alone, matches: true } } } });
  t.regex(md, /A\/B: peak memory of the engine's process[^|]*\| RSS 175 MB \(of which 148 MB before it started\); same run as in-process[^|]*\| < 200 MB \| ok/);
  t.regex(md, /A\/B: peak memory \(whole process[^|]*\| RSS 340 MB[^|]*\| < 200 MB \| not judged/);
});

test('memory: the engine process\'s figure is the median of several runs, their range shown beside it', (t) => {
  const c = { instances: 1000, decideMeanMs: 0.4, decideWorstSnapshotMs: 0.9, decideP99Ms: 1.1, decideMaxMs: 1.2, decisions: 100, peakRssMb: 259, peakHeapMb: 120, rssBeforeMb: 175, simulationRealSeconds: 3, simulatedSeconds: 12200 };
  const alone = { peakRssMb: 181, rssBeforeMb: 124, simulatedSeconds: 12200, apiCalls: 1732, matches: true, runsMb: [183.9, 179.2, 181, 180.4, 192.6] };
  const md = benchmarkMarkdown({ date: 'd', machine: { cpu: 'x', cores: 2, node: 'v24', os: 'linux' }, command: 'npm run bench', scenarios: [quorum(365, 30)], cost: { ...c, engineAlone: alone, engineAloneXml: { ...alone, peakRssMb: 250, runsMb: [250, 251, 249] } } });
  t.regex(md, /peak memory of the engine's process[^|]*\| RSS 181 MB \(median of 5 runs: 179–193 MB\) \(of which 124 MB before the rollout started/);
  t.regex(md, /RSS 250 MB \(median of 3 runs: 249–251 MB\) \(of which 124 MB before the rollout\)/);
  t.deepEqual(costMissed({ ...c, engineAlone: alone }), [], 'judged on the median: 181 MB < 200 although one run reached 193');
  t.false(benchmarkMarkdown({ date: 'd', machine: { cpu: 'x', cores: 2, node: 'v24', os: 'linux' }, command: 'npm run bench', scenarios: [quorum(365, 30)], cost: { ...c, engineAlone: { ...alone, runsMb: undefined } } }).includes('median of'), 'one run: no range');
});

test('memory: where the engine process\'s peak goes is told from what the probe measured, and only for a run that matched', (t) => {
  const c = { instances: 1000, decideMeanMs: 0.4, decideWorstSnapshotMs: 0.9, decideP99Ms: 1.1, decideMaxMs: 1.2, decisions: 100, peakRssMb: 251, peakHeapMb: 120, rssBeforeMb: 174, liveHeapAfterMb: 30, simulationRealSeconds: 3, simulatedSeconds: 12200, footprint: { nodeMb: 40, tsxMb: 73, sdkMb: 148 } };
  const alone = { peakRssMb: 198, rssBeforeMb: 148, simulatedSeconds: 12200, apiCalls: 1719, newSpaceBeforeMb: 32, newSpaceMb: 64, oldSpaceMb: 31 };
  const note = engineNote({ ...c, engineAlone: { ...alone, matches: true }, engineAloneXml: { ...alone, peakRssMb: 320, newSpaceMb: 128, matches: true } }).join(' ');
  for (const part of ["In the engine's own process (198 MB), 148 MB is there before the first AWS call", '(32 MB when the rollout starts)', 'The rollout adds 50 MB', 'from 32 MB to 64 MB', 'old space reaches 31 MB', "With AWS's XML (320 MB, young generation 128 MB)"]) t.true(note.includes(part), part);
  t.deepEqual(engineNote({ ...c, engineAlone: { ...alone, matches: false } }), [], 'a run that did not match explains nothing');
  t.false(engineNote({ ...c, engineAlone: { ...alone, matches: true } }).join(' ').includes("AWS's XML"), 'no XML run, no XML paragraph');
});

test('startup: --help judged against bare node of the same run (≤ 2×, ≤ 80 MB), status ≤ 1 s, the program < 3 s', (t) => {
  const ok: StartupCost = { runs: 7, bare: { ms: 100, rssMb: 42 }, help: { ms: 190, rssMb: 52 }, status: { ms: 600, rssMb: 120 }, program: { ms: 1500, rssMb: 150 } };
  t.deepEqual(startupMissed(ok), []);
  const md = startupMarkdown(ok);
  t.regex(md, /## Startup/);
  t.regex(md, /190 ms = 1\.90 × bare node; RSS 52 MB \| ≤ 2 × bare node, ≤ 80 MB \| ok/);
  t.notRegex(md, /MISSED/);
  const cases: Array<[Partial<StartupCost>, RegExp]> = [
    [{ help: { ms: 210, rssMb: 52 } }, /--help 2\.10 × bare node > 2/],
    [{ help: { ms: 150, rssMb: 81 } }, /--help RSS 81 MB > 80 MB/],
    [{ status: { ms: 1001, rssMb: 120 } }, /status of a 3-instance sandbox group 1001 ms > 1000 ms/],
    [{ program: { ms: 3001, rssMb: 150 } }, /Pulumi program load 3001 ms > 3000 ms/],
  ];
  for (const [change, missed] of cases) {
    const s = { ...ok, ...change };
    t.regex(startupMissed(s).join('; '), missed);
    t.regex(startupMarkdown(s), /MISSED/);
  }
});

const parallelRun = (parallel: number, seconds: number, rollouts: number[], result = 'done'): ParallelRun => ({
  parallel,
  seconds,
  services: rollouts.map((r, i) => ({ service: `s${i + 1}`, seconds: r, result, detail: '' })),
  slowestSeconds: Math.max(...rollouts),
  sumSeconds: rollouts.reduce((a, b) => a + b, 0),
  ratioToSlowest: seconds / Math.max(...rollouts),
});

test('services in parallel: --parallel 6 judged against 1.1× its slowest rollout, beside --parallel 1', (t) => {
  const rollouts = [100, 150, 200, 90, 130, 180];
  const ok: ParallelBench = { services: 6, one: parallelRun(1, 870, rollouts), six: parallelRun(6, 220, rollouts) };
  t.deepEqual(parallelMissed(ok), []);
  const md = parallelMarkdown(ok);
  t.regex(md, /## Services in parallel/);
  t.regex(md, /\| `--parallel 1` \(baseline\) \| 870 s \| s1 100, s2 150, s3 200, s4 90, s5 130, s6 180 \| 200 s \| 850 s \| 4\.35 \|/);
  t.regex(md, /\| `--parallel 6` \| 220 s \| .* \| 200 s \| 850 s \| 1\.10 \| ≤ 1\.1× slowest service \| ok \|/);
  t.notRegex(md, /MISSED/);

  const slow: ParallelBench = { ...ok, six: parallelRun(6, 221, rollouts) };
  t.regex(parallelMissed(slow)[0], /--parallel 6: 221 s = 1\.10 × slowest rollout \(200 s\) > 1\.1/);
  t.regex(parallelMarkdown(slow), /\| 1\.10 \| ≤ 1\.1× slowest service \| MISSED \|/);
  t.regex(parallelMarkdown(slow), /\nMISSED: --parallel 6: 221 s/);

  const failed: ParallelBench = { ...ok, one: parallelRun(1, 870, rollouts, 'failed') };
  t.regex(parallelMissed(failed)[0], /--parallel 1: s1 failed/, 'a failed rollout is never a met target');

  const full = benchmarkMarkdown({ date: 'd', machine: { cpu: 'x', cores: 2, node: 'v24', os: 'linux' }, command: 'npm run bench', scenarios: [quorum(365, 30)], parallel: ok });
  t.true(full.includes('## Services in parallel'));
  t.false(benchmarkMarkdown({ date: 'd', machine: { cpu: 'x', cores: 2, node: 'v24', os: 'linux' }, command: 'npm run bench', scenarios: [quorum(365, 30)] }).includes('Services in parallel'));
});
