/**
 * Services in parallel (issue 13): `dependsOn`, `--parallel N`, `--continue-on-error`. The flow
 * runs with a fake stack whose manifest has the services, and hooks whose rollouts take a given
 * (virtual) time: the recorded timeline shows order, concurrency and what was not started.
 */
import test from 'ava';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError, rolloutError } from '../../orchestrator/errors';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { DeployCodes, type SummaryRow } from '../../orchestrator/report/summary';
import { runDeploy, type ServiceHooks } from '../../orchestrator/stack/deploy-flow';
import type { ServiceManifest, ServicesManifest } from '../../orchestrator/stack/manifest';
import type { StackBackend, StackPort } from '../../orchestrator/stack/port';
import { notStartedReason, startable, type RunStatus } from '../../orchestrator/stack/schedule';
import { parseServices, type ConfigProblem } from '../../infra/config';

const svc = (service: string, dependsOn?: string[]): ServiceManifest => ({
  service, strategy: 'rolling', name: `qa-${service}`, imageId: 'ami-2', instanceType: 't3.small', capacity: 2, maxSize: 3,
  healthCheckType: 'EC2', healthCheckGracePeriod: 60, launchTemplate: { id: `lt-${service}`, name: `qa-${service}`, version: 2 },
  asgName: `qa-${service}`, elbNames: [], rollout: { minHealthy: 1, surge: 1 }, ...(dependsOn ? { dependsOn } : {}),
});

interface Timeline {
  starts: Record<string, number>;
  ends: Record<string, number>;
  maxConcurrent: number;
}

/** `durations`: seconds each rollout takes; `fails`: services whose rollout fails at its end. */
function world(services: ServiceManifest[], durations: Record<string, number>, fails: string[] = []) {
  const clock = new VirtualClock();
  const reporter = new RecordingReporter(clock);
  const manifest: ServicesManifest = { version: 1, stack: 'qa', services };
  const port: StackPort = {
    name: 'qa',
    simulated: false,
    preview: async () => ({ changeSummary: {}, changes: [] }),
    up: async () => ({ changeSummary: { update: 1 }, changes: [], outputs: { services: manifest }, seconds: 1 }),
    outputs: async () => ({ services: manifest }),
    cancel: async () => {},
  };
  const backend: StackBackend = {
    open: async () => port,
    listStacks: async () => ['qa'],
    // A secret services value: the flow validates nothing here (the manifest drives the run).
    readConfig: async () => ({ file: '/project/Pulumi.qa.yaml', exists: true, values: { 'asg-deploy:services': { secure: 'x' } } }),
  };
  const timeline: Timeline = { starts: {}, ends: {}, maxConcurrent: 0 };
  let running = 0;
  const hooks: ServiceHooks = {
    plan: async (s) => ({ action: 'roll', instances: [], summary: s.service }),
    async rollout(s, o) {
      timeline.starts[s.service] = clock.now();
      running++;
      timeline.maxConcurrent = Math.max(timeline.maxConcurrent, running);
      o.reporter?.emit('info', 'rollout.step', `${s.service} step`, { group: `qa-${s.service}` });
      await clock.sleep((durations[s.service] ?? 60) * 1000);
      running--;
      timeline.ends[s.service] = clock.now();
      if (fails.includes(s.service)) throw rolloutError('rollout.unhealthy', `${s.service}: new instance never healthy`, { seconds: durations[s.service] });
      return { status: 'done', target: s.service, strategy: 'rolling', replaced: ['i-1'], seconds: durations[s.service] ?? 60, apiCalls: 5, summary: `${s.service} replaced 1` };
    },
  };
  const rows: SummaryRow[] = [];
  const deps = {
    backend, hooks, reporter, clock,
    locks: { held: async () => [] },
    signal: new AbortController().signal,
    notifier: { notify: async () => {} },
    print: () => {},
  };
  const t0 = clock.now();
  const rel = (t: number) => (t - t0) / 1000;
  return { clock, reporter, timeline, deps, rows, rel };
}

// ---- the pure schedule -----------------------------------------------------------------------------
const statuses = (o: Record<string, RunStatus>) => new Map(Object.entries(o));
for (const c of [
  { title: 'nothing ran, parallel 2: the first two in manifest order', services: [svc('a'), svc('b'), svc('c')], status: { a: 'pending', b: 'pending', c: 'pending' }, parallel: 2, start: ['a', 'b'] },
  { title: 'a dependency still running holds its dependent', services: [svc('a'), svc('c', ['a'])], status: { a: 'running', c: 'pending' }, parallel: 4, start: [] },
  { title: 'a dependency done releases it', services: [svc('a'), svc('c', ['a'])], status: { a: 'done', c: 'pending' }, parallel: 4, start: ['c'] },
  { title: 'a skipped (not selected) dependency counts as done', services: [svc('a'), svc('c', ['a'])], status: { a: 'skipped', c: 'pending' }, parallel: 1, start: ['c'] },
  { title: 'no slot left', services: [svc('a'), svc('b')], status: { a: 'running', b: 'pending' }, parallel: 1, start: [] },
  { title: 'after a failure nothing new starts', services: [svc('a'), svc('b')], status: { a: 'failed', b: 'pending' }, parallel: 2, start: [] },
  { title: '--continue-on-error: independents start, dependents of the failure do not', services: [svc('a'), svc('b'), svc('c', ['a'])], status: { a: 'failed', b: 'pending', c: 'pending' }, parallel: 2, continueOnError: true, start: ['b'] },
] as const) {
  test(`schedule: ${c.title}`, (t) => {
    t.deepEqual(startable(c.services, statuses(c.status as Record<string, RunStatus>), { parallel: c.parallel, continueOnError: 'continueOnError' in c }), [...c.start]);
  });
}

test('schedule: why a service was not started', (t) => {
  const services = [svc('a'), svc('b', ['a']), svc('c', ['b']), svc('d')];
  const st = statuses({ a: 'failed', b: 'pending', c: 'pending', d: 'pending' });
  t.is(notStartedReason(services[1], services, st), 'not started: depends on a, which failed');
  t.is(notStartedReason(services[2], services, st), 'not started: depends on b, which did not run');
  t.is(notStartedReason(services[3], services, st), 'not started: a failed first');
});

// ---- config --------------------------------------------------------------------------------------
const rollingCfg = (extra: Record<string, unknown> = {}) => ({ strategy: 'rolling', imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 2, ...extra });
function problems(raw: unknown): ConfigProblem[] {
  try {
    parseServices(raw, 'qa');
  } catch (err) {
    t0(err instanceof DeployError && err.exit === 2);
    return (err as DeployError).data.problems as ConfigProblem[];
  }
  return [];
}
function t0(ok: boolean) {
  if (!ok) throw new Error('expected a config error, exit 2');
}

test('config: dependsOn names services of the stack; unknown, itself and cycles are config errors (exit 2)', (t) => {
  const ok = parseServices({ a: rollingCfg(), b: rollingCfg({ dependsOn: ['a'] }) }, 'qa');
  t.deepEqual(ok.map((s) => [s.service, s.dependsOn]), [['a', undefined], ['b', ['a']]]);
  t.regex(problems({ a: rollingCfg({ dependsOn: ['nope'] }) })[0].message, /service "a": dependsOn = .*"nope" is not a service of this stack \(services: a\)/);
  t.regex(problems({ a: rollingCfg({ dependsOn: ['a'] }) })[0].message, /"a" is the service itself/);
  t.regex(problems({ a: rollingCfg({ dependsOn: 3 }) })[0].message, /expected a list of service names/);
  const cycle = problems({ a: rollingCfg({ dependsOn: ['c'] }), b: rollingCfg({ dependsOn: ['a'] }), c: rollingCfg({ dependsOn: ['b'] }) });
  t.is(cycle.length, 1);
  t.regex(cycle[0].message, /in a cycle \(a → c → b → a\)/);
});

// ---- the flow --------------------------------------------------------------------------------------
test('--parallel 1 (default): one after another in manifest order, the sum of the rollouts', async (t) => {
  const w = world([svc('a'), svc('b'), svc('c')], { a: 60, b: 120, c: 30 });
  const out = await runDeploy({ stack: 'qa' }, w.deps);
  t.is(out.exit, 0);
  t.deepEqual([w.timeline.starts.a, w.timeline.starts.b, w.timeline.starts.c].map(w.rel), [0, 60, 180]);
  t.is(w.timeline.maxConcurrent, 1);
});

test('--parallel 2 with dependsOn: dependents wait for their dependencies, never more than 2 at once', async (t) => {
  // c needs a; d needs b and c.
  const w = world([svc('a'), svc('b'), svc('c', ['a']), svc('d', ['b', 'c'])], { a: 60, b: 200, c: 60, d: 10 });
  const out = await runDeploy({ stack: 'qa', parallel: 2 }, w.deps);
  t.is(out.exit, 0);
  const at = (s: string) => w.rel(w.timeline.starts[s]);
  t.deepEqual([at('a'), at('b'), at('c'), at('d')], [0, 0, 60, 200]);
  t.is(w.timeline.maxConcurrent, 2);
  t.deepEqual(w.reporter.ofCode(DeployCodes.serviceStart).map((e) => e.data.service), ['a', 'b', 'c', 'd']);
  t.deepEqual(w.reporter.ofCode(DeployCodes.serviceStart).find((e) => e.data.service === 'd')?.data.dependsOn, ['b', 'c']);
  // The engines' events carry the service name.
  t.deepEqual(w.reporter.ofCode('rollout.step').map((e) => e.data.service).sort(), ['a', 'b', 'c', 'd']);
});

test('a failure stops services not yet started; running ones finish; the summary says why each did not run', async (t) => {
  const w = world([svc('a'), svc('b'), svc('c'), svc('d', ['a'])], { a: 30, b: 100, c: 50, d: 10 }, ['a']);
  const err = await t.throwsAsync(runDeploy({ stack: 'qa', parallel: 2 }, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.is(err!.code, 'rollout.unhealthy');
  t.deepEqual(Object.keys(w.timeline.ends).sort(), ['a', 'b'], 'b was running when a failed: it finished; c and d never started');
  const rows = w.reporter.ofCode(DeployCodes.summary)[0].data.rows as SummaryRow[];
  t.deepEqual(rows.map((r) => [r.service, r.result, r.result === 'not run' ? r.detail : '']), [
    ['a', 'failed', ''],
    ['b', 'done', ''],
    ['c', 'not run', 'not started: a failed first'],
    ['d', 'not run', 'not started: depends on a, which failed'],
  ]);
});

test('--continue-on-error: independent services finish, dependents of the failure are not started', async (t) => {
  const w = world([svc('a'), svc('b'), svc('c'), svc('d', ['a']), svc('e', ['d'])], { a: 30, b: 100, c: 50, d: 10, e: 5 }, ['a']);
  const err = await t.throwsAsync(runDeploy({ stack: 'qa', parallel: 2, continueOnError: true }, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  const rows = w.reporter.ofCode(DeployCodes.summary)[0].data.rows as SummaryRow[];
  t.deepEqual(rows.map((r) => [r.service, r.result, r.result === 'not run' ? r.detail : '']), [
    ['a', 'failed', ''],
    ['b', 'done', ''],
    ['c', 'done', ''],
    ['d', 'not run', 'not started: depends on a, which failed'],
    ['e', 'not run', 'not started: depends on d, which did not run'],
  ]);
});

test('schedule timing (fixed-length fake rollouts): 6 independent services, --parallel 6 takes ≤ 1.1× the slowest rollout; --parallel 1 the sum', async (t) => {
  const durations = { s1: 300, s2: 420, s3: 510, s4: 240, s5: 600, s6: 330 };
  const services = Object.keys(durations).map((s) => svc(s));
  const timed = async (parallel: number) => {
    const w = world(services, durations);
    const start = w.clock.now();
    await runDeploy({ stack: 'qa', parallel }, w.deps);
    return (w.clock.now() - start) / 1000;
  };
  const [one, six] = [await timed(1), await timed(6)];
  const slowest = Math.max(...Object.values(durations));
  const sum = Object.values(durations).reduce((a, b) => a + b, 0);
  t.log(`6 services: --parallel 1 ${one}s (sum ${sum}s), --parallel 6 ${six}s (slowest ${slowest}s, ratio ${(six / slowest).toFixed(3)})`);
  t.true(six <= 1.1 * slowest);
  t.true(one >= sum);
});

test('drift: a real stack whose aws:ignoreTags does not cover the tool\'s runtime tags is warned about', async (t) => {
  const w = world([svc('a')], { a: 1 });
  await runDeploy({ stack: 'qa' }, w.deps);
  const warn = w.reporter.ofCode(DeployCodes.config).find((e) => e.level === 'warn' && e.data.uncoveredTags);
  t.deepEqual(warn?.data.uncoveredTags, ['asg-deploy:restore', 'asg-deploy:protected', 'asg-deploy:ab', 'asg-deploy:lock']);
});
