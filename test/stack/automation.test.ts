import test from 'ava';
import { AutomationBackend, errorLines, mapError } from '../../orchestrator/stack/automation';
import { DeployError } from '../../orchestrator/errors';
import { ConcurrentUpdateError } from '@pulumi/pulumi/automation';

test.serial('no pulumi CLI on PATH: exit 2 with how to install it', async (t) => {
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const err = await t.throwsAsync(new AutomationBackend().open('qa'), { instanceOf: DeployError });
    t.is(err!.exit, 2);
    t.is(err!.code, 'stack.pulumi-missing');
    t.regex(err!.message, /https:\/\/www\.pulumi\.com\/docs\/install\//);
    t.regex(err!.message, /--sandbox/);
  } finally {
    process.env.PATH = saved;
  }
});

/**
 * A CommandError exactly as the pinned SDK builds one (automation/cmd.js exec): a real process
 * writes `stderr` and exits `code`; execa (the SDK's copy) rejects; the SDK wraps its error.
 */
async function commandError(stderr: string, code: number, command = 'up'): Promise<Error> {
  const { createRequire } = await import('node:module');
  const sdk = createRequire(require.resolve('@pulumi/pulumi/automation'));
  const execa = sdk('execa') as (f: string, a: string[]) => Promise<unknown>;
  const { CommandResult } = sdk('./cmd');
  const { createCommandError } = sdk('./errors');
  try {
    await execa(process.execPath, ['-e', `process.stderr.write(${JSON.stringify(stderr)}); process.exit(${code})`, command]);
  } catch (err) {
    return createCommandError(new CommandResult('', (err as Error).message, -2, err));
  }
  throw new Error('expected a failure');
}

test('Pulumi errors map to our exit codes and show Pulumi\'s own lines, not the execa header', async (t) => {
  const conflict = await commandError('error: [409] Conflict: Another update is currently in progress.\nTo learn more about possible reasons and resolution, visit https://www.pulumi.com/docs/support/troubleshooting/common-issues/update-conflicts/\n', 1);
  t.true(conflict instanceof ConcurrentUpdateError, 'the SDK classifies it');
  t.is(mapError('qa', conflict).exit, 3);
  t.regex(mapError('qa', conflict).message, /pulumi: \[409\] Conflict: Another update is currently in progress\.\n  To learn more/);
  t.is(mapError('qa', new Error('spawn pulumi ENOENT')).exit, 2);
  const aborted = new AbortController();
  aborted.abort();
  const cancelled = mapError('qa', await commandError('error: update cancelled\n', 8), { signal: aborted.signal });
  t.is(cancelled.exit, 130);
  t.regex(cancelled.message, /was cancelled: Pulumi finished its in-flight resource operations and recorded the stack's state/);
  const other = mapError('qa', await commandError('warning: something\nerror: could not load plugin for aws provider\n', 255));
  t.is(other.exit, 1);
  t.is(other.message, 'could not load plugin for aws provider');
  t.notRegex(other.message, /Command failed/);
});

test('an interrupt that pulumi did not answer with a cancellation is not reported as one', async (t) => {
  const aborted = new AbortController();
  aborted.abort();
  const e = mapError('qa', await commandError('error: update failed\n', 1), { signal: aborted.signal });
  t.is(e.exit, 130);
  t.notRegex(e.message, /recorded the stack's state|saved its state/);
  t.regex(e.message, /exited with code 1; pulumi: update failed; check the stack/);
});

test('errorLines: Pulumi\'s `error:` messages with their continuation lines', (t) => {
  t.deepEqual(errorLines('warning: a\nerror: one\n  file:///x: created by me\n\nerror: two\n'), ['one\n  file:///x: created by me', 'two']);
});

test.serial('deploy without --sandbox and without the pulumi CLI: exit 2 through the CLI', async (t) => {
  const { main } = await import('../../orchestrator/cli');
  const { PassThrough } = await import('node:stream');
  const err = new PassThrough();
  let text = '';
  err.on('data', (d) => (text += d));
  const saved = process.env.PATH;
  process.env.PATH = '/nonexistent';
  try {
    const code = await main(['deploy', '--stack', 'qa'], { stdout: new PassThrough(), stderr: err, signal: new AbortController().signal });
    t.is(code, 2);
    t.regex(text, /pulumi CLI was not found.*https:\/\/www\.pulumi\.com\/docs\/install\//);
  } finally {
    process.env.PATH = saved;
  }
});

test('engine events become our stack events; unchanged resources and the stack itself are skipped', async (t) => {
  const { onEngineEvent } = await import('../../orchestrator/stack/automation');
  const seen: unknown[] = [];
  const changes = new Map();
  const meta = (op: string, type: string, name: string) => ({ op, type, urn: `urn:pulumi:qa::asg-deploy::${type}::${name}`, provider: '', diffs: ['imageId'] });
  const ev = (e: object) => onEngineEvent({ sequence: 1, timestamp: 0, ...e } as never, changes, (x) => seen.push(x));
  ev({ resourcePreEvent: { metadata: meta('update', 'aws:ec2/launchTemplate:LaunchTemplate', 'qa-web') } });
  ev({ resOutputsEvent: { metadata: meta('update', 'aws:ec2/launchTemplate:LaunchTemplate', 'qa-web') } });
  ev({ resourcePreEvent: { metadata: meta('same', 'aws:autoscaling/group:Group', 'qa-web-a') } });
  ev({ resourcePreEvent: { metadata: meta('create', 'pulumi:pulumi:Stack', 'asg-deploy-qa') } });
  ev({ resOpFailedEvent: { metadata: meta('create', 'aws:elb/loadBalancer:LoadBalancer', 'qa-web-b'), status: 1, steps: 1 } });
  ev({ diagnosticEvent: { message: 'AccessDenied\n', color: 'never', severity: 'error' } });
  ev({ diagnosticEvent: { message: 'progress', color: 'never', severity: 'info', ephemeral: true } });
  t.deepEqual(seen, [
    { kind: 'resource', phase: 'start', change: { op: 'update', type: 'aws:ec2/launchTemplate:LaunchTemplate', name: 'qa-web', urn: 'urn:pulumi:qa::asg-deploy::aws:ec2/launchTemplate:LaunchTemplate::qa-web', diffs: ['imageId'] } },
    { kind: 'resource', phase: 'done', change: { op: 'update', type: 'aws:ec2/launchTemplate:LaunchTemplate', name: 'qa-web', urn: 'urn:pulumi:qa::asg-deploy::aws:ec2/launchTemplate:LaunchTemplate::qa-web', diffs: ['imageId'] } },
    { kind: 'resource', phase: 'failed', change: { op: 'create', type: 'aws:elb/loadBalancer:LoadBalancer', name: 'qa-web-b', urn: 'urn:pulumi:qa::asg-deploy::aws:elb/loadBalancer:LoadBalancer::qa-web-b', diffs: ['imageId'] } },
    { kind: 'diagnostic', severity: 'error', message: 'AccessDenied' },
  ]);
  t.is(changes.size, 2);
});

test.serial('deploy on real AWS warns before anything when AWS_REGION disagrees with the stack\'s aws:region', async (t) => {
  const { main } = await import('../../orchestrator/cli');
  const { PassThrough } = await import('node:stream');
  const out = new PassThrough();
  let json = '';
  out.on('data', (d) => (json += d));
  const saved = { PATH: process.env.PATH, AWS_REGION: process.env.AWS_REGION };
  process.env.PATH = '/nonexistent';
  process.env.AWS_REGION = 'eu-west-1';
  try {
    const code = await main(['deploy', '--stack', 'qa', '--json'], { stdout: out, stderr: new PassThrough(), signal: new AbortController().signal });
    t.is(code, 2, 'then: no pulumi CLI');
    const events = json.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { code: string; level: string; data: Record<string, unknown> });
    const region = events.find((e) => e.code === 'deploy.region');
    t.is(region?.level, 'warn');
    t.is(region?.data.region, 'us-east-1', 'Pulumi.qa.yaml says us-east-1: the rollout uses it');
  } finally {
    process.env.PATH = saved.PATH;
    if (saved.AWS_REGION === undefined) delete process.env.AWS_REGION;
    else process.env.AWS_REGION = saved.AWS_REGION;
  }
});
