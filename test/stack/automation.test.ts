import test from 'ava';
import { AutomationBackend, mapError } from '../../orchestrator/stack/automation';
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

test('Pulumi errors map to our exit codes', (t) => {
  const concurrent = Object.create(ConcurrentUpdateError.prototype) as Error;
  Object.assign(concurrent, { message: 'code: 255\n stderr: error: [409] Conflict: Another update is currently in progress.' });
  t.is(mapError('qa', concurrent).exit, 3);
  t.is(mapError('qa', new Error('code: 255\n stderr: error: [409] Conflict: Another update is currently in progress.')).exit, 3);
  t.is(mapError('qa', new Error('spawn pulumi ENOENT')).exit, 2);
  const aborted = new AbortController();
  aborted.abort();
  t.is(mapError('qa', new Error('code: 255'), aborted.signal).exit, 130);
  const other = mapError('qa', new Error('code: 255\n stdout: \n stderr: error: update failed\n'));
  t.is(other.exit, 1);
  t.is(other.message, 'error: update failed');
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
