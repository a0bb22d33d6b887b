/**
 * Rehearsal from the real groups (docs/rehearse.md): `roll --asg G --rehearse`, `ab --environment
 * E --rehearse` and `deploy --stack S --rehearse` read "your account" — here a simulated AWS served
 * over HTTP (test/helpers/sandbox-endpoint.ts), reached by the commands' real SDK clients through
 * AWS_ENDPOINT_URL — with read-only calls, build the same world in a fresh simulated AWS and run
 * the rollout there. The account must see no mutating call (the endpoint refuses and records
 * any), and its state must be as it was. The world built must be the account's: sizes, AZs,
 * health-check settings, and the boot times observed from its scaling activities.
 */
import test from 'ava';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { main } from '../../orchestrator/cli';
import { bootDistribution, bootTimes, zoneMap, type ObservedGroup } from '../../orchestrator/commands/rehearse-world';
import { Sandbox } from '../../orchestrator/sandbox';
import { capture } from '../helpers/io';
import { serveSandbox, parseQueryForm, toQueryXml } from '../helpers/sandbox-endpoint';

const DEMO = path.resolve(__dirname, '../../examples/demo/Pulumi.demo.yaml');

interface Ev {
  code: string;
  level: string;
  message: string;
  data: Record<string, any>;
}

async function cli(argv: string[], env: Record<string, string | undefined>) {
  const io = capture();
  const saved = { ...process.env };
  for (const [k, v] of Object.entries(env)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
  let code: number;
  try {
    code = await main(argv, { stdout: io.out, stderr: io.err, signal: new AbortController().signal, env: { CI: '1' } });
  } finally {
    process.env = saved;
  }
  const events = io.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l) as Ev);
  return { code, events, stderr: io.stderr };
}

/** "Your account": a rolling group behind a classic ELB with slow observed boots, and an A/B pair. */
function account(): Sandbox {
  const sb = Sandbox.create({ seed: 5, faults: { bootSeconds: { min: 100, max: 140 } } });
  sb.seedGroup({
    name: 'acct-rabbit',
    capacity: 3,
    min: 3,
    max: 6,
    availabilityZones: ['us-east-1b', 'us-east-1c'],
    healthCheckType: 'ELB',
    healthCheckGracePeriod: 90,
    elb: { name: 'acct-rabbit', healthCheck: { target: 'TCP:5672', interval: 15, healthyThreshold: 4, unhealthyThreshold: 2, timeout: 5 }, drainingTimeout: 45 },
  });
  sb.seedGroup({ name: 'acct-web-a', capacity: 2, max: 4, availabilityZones: ['us-east-1a', 'us-east-1b'], elb: { name: 'acct-web-a', drainingTimeout: 10 } });
  sb.seedGroup({ name: 'acct-web-b', capacity: 0, max: 4, availabilityZones: ['us-east-1a', 'us-east-1b'], elb: { name: 'acct-web-b', drainingTimeout: 10 } });
  return sb;
}

const CREDS = { AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'AKIAREHEARSAL0000000', AWS_SECRET_ACCESS_KEY: 'x', AWS_PROFILE: undefined, AWS_MAX_ATTEMPTS: '1' };

test('the Query-protocol endpoint helper: forms in, XML out, as the SDK writes and reads them', (t) => {
  t.deepEqual(parseQueryForm('Action=DescribeAutoScalingGroups&Version=2011-01-01&AutoScalingGroupNames.member.1=a&AutoScalingGroupNames.member.2=b&MaxRecords=100'), {
    action: 'DescribeAutoScalingGroups',
    version: '2011-01-01',
    input: { AutoScalingGroupNames: ['a', 'b'], MaxRecords: 100 },
  });
  t.is(toQueryXml('R', { L: ['x'], D: new Date(0), S: { N: 1 } }), '<R><L><member>x</member></L><D>1970-01-01T00:00:00.000Z</D><S><N>1</N></S></R>');
});

test('bootTimes: successful launch activities only, newest first; bootDistribution: fastest to slowest', (t) => {
  const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
  const acts = [
    { Description: 'Launching a new EC2 instance: i-1', StatusCode: 'Successful', StartTime: at(0), EndTime: at(100) },
    { Description: 'Launching a new EC2 instance: i-2', StatusCode: 'Successful', StartTime: at(200), EndTime: at(330) },
    { Description: 'Launching a new EC2 instance: i-3', StatusCode: 'Failed', StartTime: at(400), EndTime: at(401) },
    { Description: 'Terminating EC2 instance: i-1', StatusCode: 'Successful', StartTime: at(500), EndTime: at(520) },
    { Description: 'Launching a new EC2 instance: i-4', StatusCode: 'InProgress', StartTime: at(600) },
  ] as any[];
  t.deepEqual(bootTimes(acts), [130, 100]);
  const g = (bootSeconds: number[]) => ({ bootSeconds }) as ObservedGroup;
  t.deepEqual(bootDistribution([g([130, 100]), g([90])]), { min: 90, max: 130 });
  t.is(bootDistribution([g([60])]), 60);
  t.is(bootDistribution([g([])]), undefined);
});

test('zoneMap: AZs the simulated AWS has keep their names, others map in order; more than three is exit 2', (t) => {
  const g = (azs: string[]) => ({ azs }) as ObservedGroup;
  const sim = ['us-east-1a', 'us-east-1b', 'us-east-1c'];
  t.deepEqual([...zoneMap([g(['us-east-1b', 'us-east-1f'])], sim)], [['us-east-1b', 'us-east-1b'], ['us-east-1f', 'us-east-1a']]);
  const e = t.throws(() => zoneMap([g(['us-east-1a', 'us-east-1b', 'us-east-1d', 'us-east-1f'])], sim))!;
  t.is((e as any).exit, 2);
  t.regex(e.message, /use 4 availability zones/);
});

test.serial('roll, ab and deploy --rehearse read the account with read-only calls only, and build its world', async (t) => {
  t.timeout(300_000, 'three rehearsals');
  const acct = account();
  const before = JSON.stringify(acct.toJSON().groups);
  const callsBefore = acct.calls.length;
  const ep = await serveSandbox(acct);
  t.teardown(() => ep.close());
  const env = { ...CREDS, AWS_ENDPOINT_URL: ep.url };
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-rehearse-real-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  // roll: the rolling group as it is, under slow boots.
  const report = path.join(dir, 'roll.html');
  const roll = await cli(['roll', '--asg', 'acct-rabbit', '--rehearse', '--json', '--report', report], env);
  t.is(roll.code, 0, roll.stderr);
  const start = roll.events[0];
  t.is(start.code, 'rehearse.start');
  const seen = start.data.observed[0];
  t.like(seen, { group: 'acct-rabbit', desired: 3, min: 3, max: 6, azs: ['us-east-1b', 'us-east-1c'], healthCheckType: 'ELB' });
  t.true(seen.bootSeconds.length >= 3 && seen.bootSeconds.every((s: number) => s >= 100 && s <= 140), `observed boots ${seen.bootSeconds}`);
  const plan = roll.events.find((e) => e.code === 'rollout.plan')!;
  t.like(plan.data, { asg: 'acct-rabbit', capacity: 3 });
  t.is(plan.data.order.length, 3, 'every instance of the group is rolled');
  const launches = roll.events.filter((e) => e.code === 'instance.launch');
  t.true(launches.every((e) => ['us-east-1b', 'us-east-1c'].includes(e.data.az ?? e.data.availabilityZone ?? 'us-east-1b')), 'launched in the account\'s AZs');
  const result = roll.events.find((e) => e.code === 'rehearse.result')!;
  t.like(result.data, { group: 'acct-rabbit', outcome: 'done', exit: 0, invariantsHeld: true });
  t.true(result.data.seconds >= 3 * 100, `three boots of ≥ 100 s: ${result.data.seconds} s`);
  const html = fs.readFileSync(report, 'utf8');
  t.regex(html, /roll --rehearse/);
  t.regex(html, /id="prediction" data-outcome="done" data-invariants="held"/);
  t.is((html.match(/<section class="group"/g) ?? []).length, 1, 'one timeline: each event recorded once');
  t.is((html.match(/data-code="rollout.plan"/g) ?? []).length, 1);

  // A YAML file of fault options: boots of exactly 400 s make each of the three steps last ≥ 400 s.
  const faults = path.join(dir, 'faults.yaml');
  fs.writeFileSync(faults, 'bootSeconds: 400\nappStartSeconds: 0\n');
  const slow = await cli(['roll', '--asg', 'acct-rabbit', '--rehearse', '--faults', faults, '--json'], env);
  t.is(slow.code, 0, slow.stderr);
  const slowResult = slow.events.find((e) => e.code === 'rehearse.result')!;
  t.deepEqual(slowResult.data.faults, [faults]);
  t.true(slowResult.data.seconds >= 3 * 400, `${slowResult.data.seconds} s`);

  // ab: the pair as it is (a active with 2).
  const ab = await cli(['ab', '--environment', 'acct-web', '--rehearse', '--json'], env);
  t.is(ab.code, 0, ab.stderr);
  const abResult = ab.events.find((e) => e.code === 'rehearse.result')!;
  t.like(abResult.data, { environment: 'acct-web', outcome: 'done', invariantsHeld: true });
  t.deepEqual(abResult.data.groups.map((g: any) => [g.group, g.strategy, g.floor]), [['acct-web', 'ab', 2]]);

  // deploy: the stack's groups (named in its config) read from the account, the stack built from the config and made like them.
  const config = path.join(dir, 'Pulumi.acct.yaml');
  fs.writeFileSync(
    config,
    fs
      .readFileSync(DEMO, 'utf8')
      .replace('    rabbit:\n', '    rabbit:\n      name: acct-rabbit\n')
      .replace('    web:\n', '    web:\n      name: acct-web\n'),
  );
  const deploy = await cli(['deploy', '--stack', 'acct', '--config-file', config, '--rehearse', '--json'], env);
  t.is(deploy.code, 0, deploy.events.find((e) => e.code === 'rehearse.result')?.message ?? deploy.stderr);
  const dStart = deploy.events[0];
  t.is(dStart.code, 'rehearse.start');
  t.deepEqual(dStart.data.observed.map((g: any) => g.group), ['acct-rabbit', 'acct-web-a', 'acct-web-b']);
  t.deepEqual(dStart.data.missing, []);
  const dResult = deploy.events.find((e) => e.code === 'rehearse.result')!;
  t.like(dResult.data, { stack: 'acct', outcome: 'done', invariantsHeld: true });
  t.deepEqual(dResult.data.groups.map((g: any) => [g.group, g.strategy]), [['acct-rabbit', 'rolling'], ['acct-web', 'ab']]);
  // The A/B floor is the account's active color (2 instances), not the config's capacity (4).
  t.is(dResult.data.groups.find((g: any) => g.group === 'acct-web').floor, 2);

  t.deepEqual(ep.mutating, [], 'no mutating call reached the account');
  t.true(ep.requests.includes('autoscaling DescribeAutoScalingGroups') && ep.requests.includes('autoscaling DescribeScalingActivities') && ep.requests.includes('elb DescribeLoadBalancers'), ep.requests.join(', '));
  t.is(acct.calls.slice(callsBefore).filter((c) => c.mutating).length, 0);
  t.is(JSON.stringify(acct.toJSON().groups), before, "the account's groups are as they were");
});

test.serial('--faults FILE.yaml: fault options from a file; unknown keys and bad values are exit 2 naming them', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-faults-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const bad = path.join(dir, 'bad.yaml');
  fs.writeFileSync(bad, 'bootSecs: 30\nthrottleRate: 2\nlaunchFailureRate: 0.1\n');
  const r = await cli(['roll', '--asg', 'x', '--rehearse', '--faults', bad], CREDS);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown key bootSecs; throttleRate: 2 is not a probability 0\.\.1; the fault options are: bootSeconds, appStartSeconds, /);
  const missing = await cli(['roll', '--asg', 'x', '--rehearse', '--faults', path.join(dir, 'none.yaml')], CREDS);
  t.is(missing.code, 2);
  t.regex(missing.stderr, /none\.yaml: no such file/);
  const noRehearse = await cli(['ab', '--environment', 'x', '--faults', 'slow-boots'], CREDS);
  t.is(noRehearse.code, 2);
  t.regex(noRehearse.stderr, /--faults needs --rehearse/);
});

test.serial('without credentials a rehearsal says so: exit 2, nothing run', async (t) => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-deploy-nocreds-'));
  t.teardown(() => fs.rmSync(home, { recursive: true, force: true }));
  const r = await cli(['roll', '--asg', 'acct-rabbit', '--rehearse', '--json'], {
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_PROFILE: undefined,
    AWS_CONFIG_FILE: path.join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
    AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
    AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  });
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /--rehearse reads your groups \(read-only: Describe\* calls\) and could not: no AWS credentials/);
  t.false(r.events.some((e) => e.code === 'rehearse.start'), 'nothing rehearsed');
});
