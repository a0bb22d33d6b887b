/**
 * `deploy` through the real Automation API (LocalWorkspace, @pulumi/pulumi 3.248.0) against the
 * stand-in pulumi CLI (test/stack/fake-pulumi): argument forms, the engine event stream, Pulumi's
 * error texts and exit codes. AWS is the simulated one (locks, rollouts); the stack is not.
 */
import test from 'ava';
import { main } from '../../orchestrator/cli';
import { openAwsSession } from '../../orchestrator/commands/aws-session';
import { deploySeams } from '../../orchestrator/commands/deploy';
import type { DeployEvent } from '../../orchestrator/report/reporter';
import { fakePulumi, withEnv, type FakePulumi } from './fake-pulumi/harness';
import { capture } from '../helpers/io';
import { writeSandboxFile } from '../../orchestrator/commands/aws-session';
import { RESTORE_TAG } from '../../orchestrator/rollout/guard';
import { Sandbox } from '../../orchestrator/sandbox';

const LT = 'aws:ec2/launchTemplate:LaunchTemplate';
const ASG = 'aws:autoscaling/group:Group';
const MANIFEST = {
  version: 1,
  stack: 'qa',
  services: [{ service: 'rabbit', strategy: 'rolling', name: 'qa-rabbit', asgName: 'qa-rabbit', imageId: 'ami-0123456789abcdef0', instanceType: 't3.medium', capacity: 3, maxSize: 4, healthCheckType: 'EC2', healthCheckGracePeriod: 300 }],
};

interface Run {
  code: number;
  events: DeployEvent[];
  stderr: string;
}

async function deploy(fake: FakePulumi, args: string[]): Promise<Run> {
  const io = capture();
  const saved = deploySeams.openSession;
  deploySeams.openSession = (_a, ctx) => openAwsSession({ 'sandbox-state': fake.env.FAKE_SANDBOX_STATE }, ctx);
  try {
    const code = await withEnv(fake.env, () => main(['deploy', '--stack', 'qa', '--json', ...args], { stdout: io.out, stderr: io.err, signal: new AbortController().signal }));
    const events = io.stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as DeployEvent);
    return { code, events, stderr: io.stderr };
  } finally {
    deploySeams.openSession = saved;
  }
}

const failed = (r: Run) => r.events.find((e) => e.code === 'deploy.failed' || (e.level === 'error' && e.data.exit !== undefined));

test.serial('success (--refresh): up through LocalWorkspace, events from the gRPC event stream, outputs read (masked and --show-secrets)', async (t) => {
  const fake = fakePulumi({ outputs: { services: MANIFEST, dbPassword: 's3cret' }, secrets: ['dbPassword'], changes: [{ op: 'update', type: LT, name: 'qa-rabbit', diffs: ['imageId'] }] });
  const r = await deploy(fake, ['--skip-rollout', '--refresh']);
  t.is(r.code, 0, r.stderr);
  const up = r.events.find((e) => e.code === 'stack.up');
  t.deepEqual(up?.data.changeSummary, { same: 1, update: 1 });
  t.deepEqual((up?.data.changes as { name: string; diffs: string[] }[]).map((c) => [c.name, c.diffs]), [['qa-rabbit', ['imageId']]]);
  t.deepEqual((r.events.find((e) => e.code === 'deploy.services')?.data.services as { service: string }[]).map((s) => s.service), ['rabbit']);
  // The argument forms pulumi 3.248.0's SDK sends, in order.
  const argvs = fake.argvs();
  t.deepEqual(argvs[0], ['version']);
  t.deepEqual(argvs[1], ['stack', 'select', '--stack', 'qa', '--non-interactive']);
  const upArgs = argvs.find((a) => a[0] === 'up')!;
  t.regex(upArgs.join(' '), /^up --yes --skip-preview --refresh --exec-kind auto\.local --event-log tcp:\/\/127\.0\.0\.1:\d+ --stack qa --non-interactive$/);
  t.true(argvs.some((a) => a.join(' ') === 'stack output --json --stack qa --non-interactive'));
  t.true(argvs.some((a) => a.join(' ') === 'stack output --json --show-secrets --stack qa --non-interactive'));
  t.true(argvs.some((a) => a.join(' ') === 'stack history --json --show-secrets --page-size 1 --page 1 --stack qa --non-interactive'));
  // pulumi runs in a process group of its own (defect 1).
  const pgid = fake.calls().find((c) => c.argv?.[0] === 'up')?.pgid;
  t.truthy(pgid);
  t.not(pgid, ownPgid());
});

test.serial('preview (--dry-run): the diff is displayed from the engine events; a CLI <= 3.205 gets a file event log', async (t) => {
  const fake = fakePulumi({
    version: 'v3.205.0',
    changes: [
      { op: 'update', type: LT, name: 'qa-rabbit', diffs: ['imageId'] },
      { op: 'create', type: ASG, name: 'qa-new' },
    ],
  });
  const r = await deploy(fake, ['--dry-run']);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stderr, /Pulumi preview of stack qa: 1 to create, 1 to update, 1 unchanged/);
  t.regex(r.stderr, /~ update +aws:ec2\/launchTemplate:LaunchTemplate +qa-rabbit +\[imageId\]/);
  t.regex(r.stderr, /\+ create +aws:autoscaling\/group:Group +qa-new/);
  const previewArgs = fake.argvs().find((a) => a[0] === 'preview')!;
  t.regex(previewArgs.join(' '), /^preview --exec-kind auto\.local --event-log \/\S+\/automation-logs-preview-\w+\/eventlog\.txt --stack qa --non-interactive$/);
  t.false(fake.argvs().some((a) => a[0] === 'up'), 'a dry run never updates');
});

test.serial('an engine error: Pulumi\'s diagnostics are shown, exit 1, no rollout', async (t) => {
  const fake = fakePulumi({ scenario: 'engine-error', changes: [{ op: 'update', type: ASG, name: 'qa-rabbit', diffs: ['desiredCapacity'] }] });
  const r = await deploy(fake, []);
  t.is(r.code, 1);
  const f = failed(r)!;
  t.is(f.data.code, 'stack.up-failed');
  t.regex(f.message, /pulumi up on stack 'qa' failed: diagnostics: qa-rabbit: updating urn:pulumi:qa::asg-deploy::aws:autoscaling\/group:Group::qa-rabbit: 1 error occurred:/);
  t.regex(f.message, /api error ValidationError: Desired capacity:12 must be between the specified min size:1 and max size:10/);
  t.notRegex(f.message, /Command failed with exit code/);
  t.truthy(r.events.find((e) => e.code === 'stack.diagnostic' && e.level === 'error' && e.data.resource === 'qa-rabbit'));
  t.falsy(r.events.find((e) => e.code === 'deploy.service.start'));
});

test.serial('a program that throws: the unhandled exception is shown, exit 1', async (t) => {
  const fake = fakePulumi({ scenario: 'program-throws' });
  const r = await deploy(fake, []);
  t.is(r.code, 1);
  const f = failed(r)!;
  t.is(f.data.code, 'stack.up-failed');
  t.regex(f.message, /Running program '.*\/infra' failed with an unhandled exception:\nError: asg-deploy:services: boom/);
});

test.serial('missing passphrase: stack.passphrase, exit 2, Pulumi\'s line shown, nothing changed', async (t) => {
  const fake = fakePulumi({ scenario: 'no-passphrase' });
  const r = await deploy(fake, []);
  t.is(r.code, 2);
  const f = failed(r)!;
  t.is(f.data.code, 'stack.passphrase');
  t.regex(f.message, /set PULUMI_CONFIG_PASSPHRASE \(or PULUMI_CONFIG_PASSPHRASE_FILE\)/);
  t.regex(f.message, /pulumi: getting stack configuration: get stack secrets manager: constructing secrets manager: passphrase must be set with PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE environment variables/);
});

test.serial('not logged in: stack.login, exit 2, at stack select (before anything)', async (t) => {
  const fake = fakePulumi({ scenario: 'not-logged-in' });
  const r = await deploy(fake, []);
  t.is(r.code, 2);
  const e = r.events.find((x) => x.level === 'error')!;
  t.is(e.code, 'stack.login');
  t.regex(e.message, /pulumi login/);
  t.regex(e.message, /pulumi: PULUMI_ACCESS_TOKEN must be set for login during non-interactive CLI sessions/);
  t.false(fake.argvs().some((a) => a[0] === 'up'));
});

test.serial('a backend that cannot be opened: stack.backend, exit 2', async (t) => {
  const fake = fakePulumi({ scenario: 'bad-backend' });
  const r = await deploy(fake, []);
  t.is(r.code, 2);
  const e = r.events.find((x) => x.level === 'error')!;
  t.is(e.code, 'stack.backend');
  t.regex(e.message, /PULUMI_BACKEND_URL.*pulumi: unable to open bucket s3:\/\/no-such-state-bucket/);
});

test.serial('stack not found: stack.unknown, exit 2, listing the stacks that exist', async (t) => {
  const fake = fakePulumi({ stacks: ['prod', 'staging'] });
  const r = await deploy(fake, []);
  t.is(r.code, 2);
  const e = r.events.find((x) => x.level === 'error')!;
  t.is(e.code, 'stack.unknown');
  t.regex(e.message, /stack 'qa' does not exist \(the stacks that exist: prod, staging\)/);
});

test.serial('a concurrent update (409, and a DIY backend lock): exit 3 with what Pulumi said', async (t) => {
  for (const [scenario, said] of [
    ['conflict', /pulumi: \[409\] Conflict: Another update is currently in progress\./],
    ['conflict-diy', /pulumi: the stack is currently locked by 1 lock\(s\)/],
  ] as const) {
    const fake = fakePulumi({ scenario });
    const r = await deploy(fake, []);
    t.is(r.code, 3, scenario);
    const f = failed(r)!;
    t.is(f.data.code, 'stack.concurrent-update', scenario);
    t.regex(f.message, said);
  }
});

function ownPgid(): number {
  return Number(require('node:child_process').execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)]).toString().trim());
}


test.serial('drift: a group carrying an unfinished rollout record that deploy cannot finish (the stack has no outputs) refuses before pulumi up (exit 3)', async (t) => {
  const fake = fakePulumi();
  // The AWS side: qa-rabbit (Pulumi.qa.yaml's rolling service) halted mid-rollout, its record kept.
  const sandbox = Sandbox.create({ seed: 5 });
  sandbox.seedGroup({ name: 'qa-rabbit', capacity: 3, tags: { [RESTORE_TAG]: JSON.stringify({ v: 1, desired: 3, max: 4, suspended: [], protected: [], since: 0 }) } });
  writeSandboxFile(fake.env.FAKE_SANDBOX_STATE, sandbox, {});
  sandbox.dispose();
  const r = await deploy(fake, ['--refresh']);
  t.is(r.code, 3, r.stderr);
  const e = r.events.find((x) => x.level === 'error')!;
  t.is(e.code, 'deploy.unfinished-rollout');
  t.regex(e.message, /qa-rabbit \(service rabbit\) carries asg-deploy:restore: run 'asg-deploy roll --asg qa-rabbit' to finish it/);
  t.deepEqual(fake.argvs().map((a) => a[0]).filter((c) => c === 'up' || c === 'preview'), [], 'pulumi up never ran');
});
