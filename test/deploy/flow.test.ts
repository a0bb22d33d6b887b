import test from 'ava';
import * as path from 'node:path';
import { VirtualClock } from '../../orchestrator/clock';
import { DeployError, refusedError, rolloutError } from '../../orchestrator/errors';
import { describeLock } from '../../orchestrator/lock/record';
import { RecordingReporter } from '../../orchestrator/report/reporter';
import { DeployCodes } from '../../orchestrator/report/summary';
import type { RolloutResult } from '../../orchestrator/rollout/result';
import type { Notifier, NotifyKind } from '../../orchestrator/notify/webhook';
import { runDeploy, type DeployOptions, type ServiceHooks } from '../../orchestrator/stack/deploy-flow';
import type { ServiceManifest, ServicesManifest } from '../../orchestrator/stack/manifest';
import { unknownStack, upFailed, concurrentUpdate, type StackBackend, type StackPort, type UpOutcome } from '../../orchestrator/stack/port';
import { readStackConfig } from '../../orchestrator/stack/config-file';
import type { HeldLock, LockReader } from '../../orchestrator/stack/locks';

/** A valid stack config (the worked example: web on ab, rabbit on rolling). */
const QA_CONFIG = readStackConfig(path.resolve(__dirname, '../../Pulumi.qa.yaml'), 'qa');

const rabbit: ServiceManifest = {
  service: 'rabbit', strategy: 'rolling', name: 'qa-rabbit', imageId: 'ami-2', instanceType: 't3.medium', capacity: 3, maxSize: 4,
  healthCheckType: 'EC2', healthCheckGracePeriod: 60, launchTemplate: { id: 'lt-1', name: 'qa-rabbit', version: 2 },
  asgName: 'qa-rabbit', elbNames: [], rollout: { minHealthy: 2, surge: 1 },
};
const web: ServiceManifest = {
  service: 'web', strategy: 'ab', name: 'qa-web', imageId: 'ami-2', instanceType: 't3.small', capacity: 8, maxSize: 8,
  healthCheckType: 'ELB', healthCheckGracePeriod: 60, launchTemplate: { id: 'lt-2', name: 'qa-web', version: 2 },
  environment: 'qa-web', asgNames: { a: 'qa-web-a', b: 'qa-web-b' }, elbNames: { a: 'qa-web-a', b: 'qa-web-b' },
  capacityOwner: 'orchestrator', rollout: { healthCheckTimeoutSeconds: 600, drainingTimeoutSeconds: 300 },
};
const manifest: ServicesManifest = { version: 1, stack: 'qa', services: [web, rabbit] };

/** Records every call the deploy makes on the stack, so tests can assert on order. */
function fakeWorld(
  opts: { upFails?: Error; hookFails?: string; stacks?: string[]; before?: ServicesManifest; config?: Record<string, unknown>; locked?: HeldLock[] } = {},
) {
  const calls: string[] = [];
  const stacks = opts.stacks ?? ['qa'];
  const port: StackPort = {
    name: 'qa',
    simulated: false,
    async preview() {
      calls.push('preview');
      return { changeSummary: { update: 1, same: 7 }, changes: [{ op: 'update', type: 'aws:ec2/launchTemplate:LaunchTemplate', name: 'qa-rabbit' }] };
    },
    async up(): Promise<UpOutcome> {
      calls.push('up');
      if (opts.upFails) throw opts.upFails;
      return { changeSummary: { update: 2 }, changes: [], outputs: { services: manifest }, seconds: 3 };
    },
    async outputs() {
      calls.push('outputs');
      return opts.before ? { services: opts.before } : {};
    },
    async cancel() {},
  };
  const backend: StackBackend = {
    async open(name, o) {
      calls.push(`open:${name}:${Boolean(o?.create)}`);
      if (!stacks.includes(name) && !o?.create) throw unknownStack(name, stacks);
      return port;
    },
    async listStacks() {
      return stacks;
    },
    async readConfig(name, o) {
      calls.push(`config:${name}`);
      // Pulumi.<name>.yaml exists for the stacks that exist; --config-file names one that exists.
      const exists = stacks.includes(name) || Boolean(o?.configFile);
      return { file: o?.configFile ?? `/project/Pulumi.${name}.yaml`, exists, values: exists ? opts.config ?? QA_CONFIG : {} };
    },
  };
  const lockTargets: string[] = [];
  const locks: LockReader = {
    async held(targets) {
      calls.push('locks');
      lockTargets.push(...targets.map((x) => `${x.service}:${x.environment}`));
      return opts.locked ?? [];
    },
  };
  const hooks: ServiceHooks = {
    async plan(s, c) {
      calls.push(`plan:${s.service}`);
      return { action: 'roll', instances: ['i-1'], summary: `${s.service}: would do something (${c.changes.length} changes)` };
    },
    async rollout(s): Promise<RolloutResult> {
      calls.push(`hook:${s.service}`);
      if (opts.hookFails === s.service) throw rolloutError('rollout.unhealthy', `${s.service} new instance never healthy`, { replaced: ['i-x'], seconds: 40, apiCalls: 12 });
      return { status: 'done', target: s.service, strategy: s.strategy, replaced: ['i-a', 'i-b'], seconds: 100, apiCalls: 20, summary: 'replaced 2' };
    },
  };
  const notes: Array<[NotifyKind, string]> = [];
  const notifier: Notifier = { notify: async (k, t) => void notes.push([k, t]) };
  const clock = new VirtualClock();
  const reporter = new RecordingReporter(clock);
  let printed = '';
  const deps = { backend, hooks, locks, reporter, clock, signal: new AbortController().signal, notifier, print: (t: string) => void (printed += t + '\n') };
  return { calls, notes, reporter, deps, lockTargets, get printed() { return printed; } };
}

const base: DeployOptions = { stack: 'qa' };

test('hooks run after a successful up, in manifest order', async (t) => {
  const w = fakeWorld();
  const out = await runDeploy(base, w.deps);
  t.is(out.exit, 0);
  t.deepEqual(w.calls, ['config:qa', 'open:qa:false', 'locks', 'up', 'hook:web', 'hook:rabbit']);
  t.deepEqual(out.rows.map((r) => [r.service, r.result, r.replaced]), [['web', 'done', 2], ['rabbit', 'done', 2]]);
  t.deepEqual(w.notes.map((n) => n[0]), ['start', 'success']);
  t.truthy(w.reporter.ofCode(DeployCodes.done)[0]);
  t.regex(w.printed, /service\s+strategy\s+replaced\s+duration\s+API calls\s+result/);
});

test('a failed up runs no hook: exit 1 error, failure notified', async (t) => {
  const w = fakeWorld({ upFails: upFailed('qa', 'creating LaunchTemplate: AccessDenied') });
  const err = await t.throwsAsync(runDeploy(base, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.false(w.calls.some((c) => c.startsWith('hook:')));
  t.deepEqual(w.notes.map((n) => n[0]), ['start', 'failure']);
  t.is(w.reporter.ofCode(DeployCodes.failed)[0].data.exit, 1);
});

test('a concurrent update is refused with exit 3 and no hook', async (t) => {
  const w = fakeWorld({ upFails: concurrentUpdate('qa') });
  const err = await t.throwsAsync(runDeploy(base, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.false(w.calls.some((c) => c.startsWith('hook:')));
});

test('a dry run previews and plans, never updates nor runs a hook', async (t) => {
  const w = fakeWorld({ before: manifest });
  const out = await runDeploy({ ...base, dryRun: true }, w.deps);
  t.is(out.exit, 0);
  t.deepEqual(w.calls, ['config:qa', 'open:qa:false', 'locks', 'outputs', 'preview', 'plan:web', 'plan:rabbit']);
  t.regex(w.printed, /1 to update, 7 unchanged/);
  t.regex(w.printed, /rabbit: would do something \(1 changes\)/);
  t.regex(w.printed, /no Pulumi update and no mutating AWS call/);
  t.deepEqual(w.notes, []);
});

test('a dry run of a stack never deployed plans creation, no hook plan', async (t) => {
  const w = fakeWorld();
  await runDeploy({ ...base, dryRun: true }, w.deps);
  t.deepEqual(w.calls, ['config:qa', 'open:qa:false', 'locks', 'outputs', 'preview']);
  t.regex(w.printed, /first deploy/);
});

test('--service limits the hooks; the others are reported skipped', async (t) => {
  const w = fakeWorld();
  const out = await runDeploy({ ...base, services: ['rabbit'] }, w.deps);
  t.deepEqual(w.calls.filter((c) => c.startsWith('hook:')), ['hook:rabbit']);
  t.deepEqual(out.rows.map((r) => r.result), ['skipped', 'done']);
  t.is(w.reporter.ofCode(DeployCodes.serviceSkip)[0].data.service, 'web');
});

test('--service naming no service of the manifest is bad input (exit 2) naming the services', async (t) => {
  const w = fakeWorld();
  const err = await t.throwsAsync(runDeploy({ ...base, services: ['rabit'] }, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 2);
  t.regex(err!.message, /rabit.*services: web, rabbit/);
  t.false(w.calls.some((c) => c.startsWith('hook:')));
});

test('--skip-rollout does infra only', async (t) => {
  const w = fakeWorld();
  const out = await runDeploy({ ...base, skipRollout: true }, w.deps);
  t.deepEqual(w.calls, ['config:qa', 'open:qa:false', 'locks', 'up']);
  t.deepEqual(out.rows.map((r) => r.result), ['skipped', 'skipped']);
});

test('the first failing hook stops the deploy; the summary says what was done and what not', async (t) => {
  const w = fakeWorld({ hookFails: 'web' });
  const err = await t.throwsAsync(runDeploy(base, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 1);
  t.deepEqual(w.calls, ['config:qa', 'open:qa:false', 'locks', 'up', 'hook:web']);
  const rows = w.reporter.ofCode(DeployCodes.summary)[0].data.rows as Array<{ service: string; result: string; replaced: number; apiCalls: number }>;
  t.deepEqual(rows.map((r) => [r.service, r.result]), [['web', 'failed'], ['rabbit', 'not run']]);
  t.is(rows[0].apiCalls, 12);
  t.regex(w.printed, /rabbit\s+rolling.*not run: not started: web failed first/);
  t.regex(w.notes.at(-1)![1], /not run: rabbit/);
});

test('an unknown stack is exit 2 listing the stacks that exist; --create creates it', async (t) => {
  const w = fakeWorld({ stacks: ['qa', 'prod'] });
  const err = await t.throwsAsync(runDeploy({ stack: 'staging' }, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 2);
  t.regex(err!.message, /'staging' does not exist \(the stacks that exist: qa, prod\)/);
  const ok = await runDeploy({ stack: 'staging', create: true, configFile: '/project/Pulumi.staging.yaml' }, w.deps);
  t.is(ok.exit, 0);
  t.true(w.calls.includes('open:staging:true'));
});

test('Ctrl-C during a rollout: the hook\'s interruption is exit 130, the rest not run, failure notified', async (t) => {
  const w = fakeWorld();
  const controller = new AbortController();
  w.deps.signal = controller.signal;
  w.deps.hooks.rollout = async (s, o) => {
    controller.abort();
    t.true(o.signal.aborted, 'the hook gets the signal');
    const { interruptedError } = await import('../../orchestrator/errors');
    throw interruptedError();
  };
  const err = await t.throwsAsync(runDeploy(base, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 130);
  t.regex(String(w.reporter.ofCode(DeployCodes.failed)[0].message), /interrupted/);
  t.is(w.notes.at(-1)![0], 'failure');
  // the summary says interrupted, not failed (the rollout did not fail: it was stopped and restored)
  const rows = w.reporter.ofCode(DeployCodes.summary)[0].data.rows as Array<{ result: string; detail: string }>;
  t.is(rows[0].result, 'interrupted');
  t.regex(rows[1].detail, /not started: interrupted/);
});

test('a failing webhook never fails the deploy', async (t) => {
  const { WebhookNotifier } = await import('../../orchestrator/notify/webhook');
  const w = fakeWorld();
  const notifier = new WebhookNotifier('http://127.0.0.1:9/hook', w.reporter, { timeoutMs: 2000 }); // discard port: nothing listens
  const out = await runDeploy(base, { ...w.deps, notifier });
  t.is(out.exit, 0);
  t.is(w.reporter.ofCode(DeployCodes.notifyFailed).length, 2); // start and success
});

/** QA_CONFIG with one service's keys replaced. */
function configWith(service: string, patch: Record<string, unknown>): Record<string, unknown> {
  const services = structuredClone(QA_CONFIG['asg-deploy:services']) as Record<string, Record<string, unknown>>;
  services[service] = { ...services[service], ...patch };
  return { ...QA_CONFIG, 'asg-deploy:services': services };
}

test('an invalid stack config is exit 2 before pulumi: naming service, key, value and what is allowed; nothing runs', async (t) => {
  for (const dryRun of [false, true]) {
    const w = fakeWorld({ config: configWith('rabbit', { strategy: 'blue-green', minHealthy: 2 }) });
    const err = await t.throwsAsync(runDeploy({ ...base, dryRun }, w.deps), { instanceOf: DeployError });
    t.is(err!.exit, 2);
    t.is(err!.code, 'config.invalid');
    t.regex(err!.message, /Pulumi\.qa\.yaml/, 'names the file');
    t.regex(err!.message, /rabbit/);
    t.regex(err!.message, /strategy/);
    t.regex(err!.message, /blue-green/);
    t.regex(err!.message, /rolling.*ab|ab.*rolling/, 'says what is allowed');
    t.deepEqual(w.calls, ['config:qa'], 'no lock read, no stack opened, no preview, no up, no hook');
    t.deepEqual(w.notes, []);
  }
});

test('every problem of an invalid config is listed at once', async (t) => {
  const bad = configWith('web', { capacity: -1 });
  (bad['asg-deploy:services'] as Record<string, Record<string, unknown>>).rabbit.minHealthy = 9;
  const w = fakeWorld({ config: bad });
  const err = await t.throwsAsync(runDeploy(base, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 2);
  t.regex(err!.message, /2 problems/);
  t.regex(err!.message, /web.*capacity/);
  t.regex(err!.message, /rabbit.*minHealthy/);
});

test('--create with an invalid config creates no stack', async (t) => {
  const w = fakeWorld({ config: configWith('web', { imageId: 'not-an-ami' }) });
  const err = await t.throwsAsync(runDeploy({ stack: 'staging', create: true, configFile: '/project/staging.yaml' }, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 2);
  t.regex(err!.message, /web.*imageId.*not-an-ami/);
  t.false(w.calls.some((c) => c.startsWith('open:')), 'the stack was not created');
});

test('without a config file and without --create, the unknown stack is named first', async (t) => {
  const w = fakeWorld({ stacks: ['qa'] });
  const err = await t.throwsAsync(runDeploy({ stack: 'qa2' }, w.deps), { instanceOf: DeployError });
  t.is(err!.code, 'stack.unknown');
  t.deepEqual(w.calls, ['config:qa2', 'open:qa2:false']);
});

/** A freeze on qa-web as the lock module reports it (`checkEnvironmentLock`'s refusal). */
const freezeRecord = { holder: 'alice@laptop', reason: 'release freeze for the audit', since: Date.parse('2025-12-31T22:00:00Z') };
const frozen: HeldLock = {
  service: 'web',
  environment: 'qa-web',
  refusal: refusedError('locked', `qa-web is ${describeLock(freezeRecord, Date.parse('2026-01-01T00:00:00Z'))} [tag asg-deploy:lock on qa-web-a]; nothing was changed`, {
    environment: 'qa-web',
    holder: freezeRecord.holder,
    reason: freezeRecord.reason,
    ageSeconds: 7200,
  }),
};

test('a frozen environment stops deploy before pulumi up: exit 3 naming holder, reason and age', async (t) => {
  const w = fakeWorld({ locked: [frozen] });
  const err = await t.throwsAsync(runDeploy(base, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.is(err!.code, 'locked');
  t.regex(err!.message, /^service web: qa-web is locked by alice@laptop \(release freeze for the audit\)/);
  t.regex(err!.message, /2h 0m ago/);
  t.regex(err!.message, /nothing was changed \(deploy stopped before pulumi up\)$/);
  t.like(err!.data, { holder: 'alice@laptop', service: 'web', environment: 'qa-web', ageSeconds: 7200 });
  t.deepEqual(w.calls, ['config:qa', 'open:qa:false', 'locks'], 'no preview, no up, no hook');
  t.deepEqual(w.lockTargets, ['web:qa-web', 'rabbit:qa-rabbit'], 'every service of the stack is checked, --service or not');
  t.deepEqual(w.notes, [], 'nothing started, nothing to notify');
});

test('--service does not skip the lock check: up changes every service', async (t) => {
  const w = fakeWorld({ locked: [frozen] });
  const err = await t.throwsAsync(runDeploy({ ...base, services: ['rabbit'] }, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.false(w.calls.includes('up'));
});

test('a dry run with a held lock previews and plans, then is refused as the real run would be (exit 3)', async (t) => {
  const w = fakeWorld({ locked: [frozen], before: manifest });
  const err = await t.throwsAsync(runDeploy({ ...base, dryRun: true }, w.deps), { instanceOf: DeployError });
  t.is(err!.exit, 3);
  t.deepEqual(w.calls, ['config:qa', 'open:qa:false', 'locks', 'outputs', 'preview', 'plan:web', 'plan:rabbit']);
  const warn = w.reporter.ofCode(DeployCodes.locked);
  t.is(warn.length, 1);
  t.is(warn[0].data.holder, 'alice@laptop');
  t.regex(w.printed, /rabbit: would do something/);
  t.regex(w.printed, /LOCKED: a real deploy would be refused \(exit 3\): service web: qa-web is locked/);
});

test('the validated config is reported (services, region)', async (t) => {
  const w = fakeWorld();
  await runDeploy(base, w.deps);
  const [config] = w.reporter.ofCode(DeployCodes.config);
  t.deepEqual(config.data.services, [
    { service: 'web', strategy: 'ab', name: 'qa-web' },
    { service: 'rabbit', strategy: 'rolling', name: 'qa-rabbit' },
  ]);
  t.is(config.data.region, 'us-east-1');
});

test('a secret services value cannot be validated here: a warning, no lock check, Pulumi validates it', async (t) => {
  const w = fakeWorld({ config: { ...QA_CONFIG, 'asg-deploy:services': { secure: 'v1:abc' } } });
  const out = await runDeploy(base, w.deps);
  t.is(out.exit, 0);
  t.is(w.reporter.ofCode(DeployCodes.config)[0].level, 'warn');
  t.false(w.calls.includes('locks'));
});
