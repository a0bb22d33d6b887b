import test from 'ava';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { main } from '../orchestrator/cli';
import { capture } from './helpers/io';


test('an unknown command is bad input: exit 2 naming it', async (t) => {
  const io = capture();
  const code = await main(['no-such-command'], { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  t.is(code, 2);
  t.regex(io.stderr, /unknown command 'no-such-command'; the commands are: deploy, roll, ab, status, lock, unlock, demo/);
});

test('no command is bad input: exit 2', async (t) => {
  const io = capture();
  const code = await main([], { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  t.is(code, 2);
});

import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { version } from '../orchestrator/cli';
import { parseDurationMs } from '../orchestrator/duration';

async function cli(argv: string[], env: NodeJS.ProcessEnv = { CI: '1' }) {
  const io = capture();
  const code = await main(argv, { stdout: io.out, stderr: io.err, env, signal: new AbortController().signal });
  return { code, stdout: io.stdout, stderr: io.stderr };
}

test('--version and -v print the version; -h, --help, help and help <command> print help, exit 0', async (t) => {
  for (const argv of [['--version'], ['-v']]) {
    const r = await cli(argv);
    t.is(r.code, 0, argv.join(' '));
    t.is(r.stdout.trim(), version());
  }
  for (const argv of [['--help'], ['-h'], ['help']]) {
    const r = await cli(argv);
    t.is(r.code, 0, argv.join(' '));
    t.regex(r.stdout, /asg-deploy <command> \[options\]/);
    t.regex(r.stdout, /Exit codes:[\s\S]*130/);
    t.regex(r.stdout, /"seed flag": a flag name kept from the scripts this tool replaces/);
    t.regex(r.stdout, /completion/);
  }
  // per command: usage line, examples, exit codes, the path rule; -h never demands --stack
  for (const argv of [['deploy', '-h'], ['help', 'deploy'], ['roll', '--help'], ['help', 'ab'], ['status', '-h'], ['lock', '-h'], ['unlock', '-h'], ['demo', '-h']]) {
    const r = await cli(argv);
    t.is(r.code, 0, argv.join(' '));
    t.regex(r.stdout, new RegExp(`^asg-deploy ${argv[0] === 'help' ? argv[1] : argv[0]} `), argv.join(' '));
    t.regex(r.stdout, /Examples:/, argv.join(' '));
    t.regex(r.stdout, /Exit codes:/, argv.join(' '));
    t.regex(r.stdout, /Paths: the project is the nearest directory at or above the current one holding a Pulumi.yaml/, argv.join(' '));
    t.is(r.stderr, '', argv.join(' '));
  }
  // "(seed flag)" only on the seed tools' own flags: none on deploy, status, lock
  for (const c of ['deploy', 'status', 'lock', 'unlock']) t.notRegex((await cli([c, '--help'])).stdout, /seed/, c);
});

test('an unknown command or flag: one line each with a did-you-mean, exit 2', async (t) => {
  const typo = await cli(['deplyo']);
  t.is(typo.code, 2);
  t.regex(typo.stderr, /unknown command 'deplyo' \(did you mean deploy\?\)/);
  const flags = await cli(['roll', '--asg', 'x', '--surge-count', '3', '--bogus']);
  t.is(flags.code, 2);
  t.regex(flags.stderr, /unknown flag --surge-count for roll \(did you mean --surge\?\)\n/);
  t.regex(flags.stderr, /unknown flag --bogus for roll\n/);
  t.notRegex(flags.stderr, /surgeCount/); // listed once, as typed
  t.is(flags.stderr.match(/surge-count/g)?.length, 1);
  const near = await cli(['status', '--enviroment', 'qa']);
  t.regex(near.stderr, /unknown flag --enviroment for status \(did you mean --environment\?\)/);
});

test('a single-valued flag given twice, conflicting flags and a bad webhook URL are exit 2 before anything runs', async (t) => {
  const rows: Array<[string[], RegExp]> = [
    [['deploy', '--stack', 'qa', '--stack', 'prod'], /--stack given 2 times \("qa", "prod"\): it takes one value/],
    [['roll', '--asg', 'a', '--asg', 'b'], /--asg given 2 times/],
    [['roll', '--asg', 'x', '--max-wait-attempts', '3', '--step-timeout', '10m'], /--max-wait-attempts and --step-timeout/],
    [['ab', '--environment', 'qa', '--yes'], /--yes only answers the --clean-up question/],
    [['deploy', '--stack', 'qa', '--skip-rollout', '--force'], /--skip-rollout and --force/],
    [['deploy', '--stack', 'qa', '--notify-webhook', 'notaurl'], /--notify-webhook notaurl: expected an http:\/\/ or https:\/\/ URL/],
    [['status', '--region', 'moon-1'], /--region moon-1: expected an AWS region name/],
  ];
  for (const [argv, re] of rows) {
    const r = await cli(argv);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.stderr, re, argv.join(' '));
  }
});

test('one parser per value type: bad values quote what was typed (never NaN), durations read alike everywhere', async (t) => {
  const rows: Array<[string[], RegExp]> = [
    [['deploy', '--stack', 'qa', '--poll-interval', 'abc'], /--poll-interval abc: expected a positive duration/],
    [['roll', '--asg', 'x', '--surge', 'abc'], /--surge abc: expected a whole number ≥ 0/],
    [['roll', '--asg', 'x', '--min-healthy', 'two'], /--min-healthy two: expected a whole number ≥ 0/],
    [['demo', '--scale', 'fast'], /--scale fast: expected a number > 0/],
    [['ab', '--environment', 'qa', '--poll-interval', '10 parsecs'], /--poll-interval\/--update-timeout "10 parsecs": expected a positive duration/],
  ];
  for (const [argv, re] of rows) {
    const r = await cli(argv);
    t.is(r.code, 2, argv.join(' '));
    t.regex(r.stderr, re, argv.join(' '));
    t.notRegex(r.stderr, /NaN|null/, argv.join(' '));
  }
  t.deepEqual(['1.5m', '90', '90s', '500ms', '10 m', '10m', '1h', 90].map(parseDurationMs), [90_000, 90_000, 90_000, 500, 600_000, 600_000, 3_600_000, 90_000]);
  t.deepEqual(['soon', '-5', '', '5x'].map(parseDurationMs), [undefined, undefined, undefined, undefined]);
});

test('completion prints a shell completion script', async (t) => {
  const r = await cli(['completion']);
  t.is(r.code, 0);
  t.regex(r.stdout, /asg-deploy/);
  t.regex(r.stdout, /complete|compdef/);
});

/**
 * AWS setup errors through the real SDK: no region, no credentials (real SDK errors, no network),
 * an expired token and access denied (a local endpoint answering in the Auto Scaling Query API's
 * error shape), an unreachable endpoint. Each: a named code, exit 2, a hint, no stack trace
 * unless --verbose. Serial: they set process.env, which the SDK reads.
 */
async function withAwsEnv<T>(env: Record<string, string | undefined>, fn: () => Promise<T>): Promise<T> {
  const keys = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL', 'AWS_CONFIG_FILE', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_EC2_METADATA_DISABLED', 'AWS_MAX_ATTEMPTS', 'AWS_CONTAINER_CREDENTIALS_RELATIVE_URI', 'AWS_CONTAINER_CREDENTIALS_FULL_URI', 'AWS_WEB_IDENTITY_TOKEN_FILE'];
  const saved = Object.fromEntries(keys.map((k) => [k, process.env[k]]));
  const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'no-aws-'));
  for (const k of keys) delete process.env[k];
  Object.assign(process.env, { AWS_CONFIG_FILE: path.join(empty, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(empty, 'credentials'), AWS_EC2_METADATA_DISABLED: 'true', AWS_MAX_ATTEMPTS: '1' });
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
  try {
    return await fn();
  } finally {
    for (const k of keys) if (saved[k] === undefined) delete process.env[k]; else process.env[k] = saved[k];
  }
}

async function awsErrorEndpoint(code: string, status: number) {
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(status, { 'content-type': 'text/xml' });
      res.end(`<ErrorResponse xmlns="http://autoscaling.amazonaws.com/doc/2011-01-01/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${code === 'ExpiredToken' ? 'The security token included in the request is expired' : 'User: arn:aws:iam::123456789012:user/dev is not authorized to perform: autoscaling:DescribeAutoScalingGroups'}</Message></Error><RequestId>0f0e0d0c-0000-4000-8000-000000000000</RequestId></ErrorResponse>`);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise((r) => server.close(r)) };
}

const creds = { AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE', AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' };

test.serial('no AWS region: aws.region-missing, exit 2, a hint naming --region/AWS_REGION, no trace (roll, status, ab)', async (t) => {
  await withAwsEnv({}, async () => {
    for (const argv of [['roll', '--asg', 'qa-rabbit', '--dry-run'], ['status'], ['ab', '--environment', 'qa', '--dry-run']]) {
      const r = await cli(argv);
      t.is(r.code, 2, argv.join(' '));
      t.regex(r.stderr, /^asg-deploy: no AWS region/, argv.join(' '));
      t.regex(r.stderr, /hint: pass --region REGION, set AWS_REGION/);
      t.notRegex(r.stderr, /\n\s+at /, 'no stack trace');
      const j = await cli([...argv, '--json']);
      t.is(JSON.parse(j.stdout.trim().split('\n').at(-1)!).code, 'aws.region-missing');
    }
    const v = await cli(['status', '--verbose']);
    t.regex(v.stderr, /\n\s+at /, '--verbose adds the trace');
  });
});

test.serial('no AWS credentials: aws.credentials-missing, exit 2, a hint naming --profile/AWS_PROFILE and the chain', async (t) => {
  await withAwsEnv({ AWS_REGION: 'us-east-1' }, async () => {
    for (const argv of [['status', '--json'], ['roll', '--asg', 'qa-rabbit', '--dry-run', '--json']]) {
      const r = await cli(argv);
      t.is(r.code, 2, argv.join(' '));
      const e = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
      t.is(e.code, 'aws.credentials-missing');
      t.regex(e.data.hint, /--profile NAME or AWS_PROFILE/);
      t.notRegex(r.stderr, /\n\s+at /);
    }
  });
  // --region satisfies the region: the next thing missing is the credentials
  await withAwsEnv({}, async () => {
    const r = await cli(['status', '--region', 'eu-west-1', '--json']);
    t.is(JSON.parse(r.stdout.trim().split('\n').at(-1)!).code, 'aws.credentials-missing');
  });
});

test.serial('expired token, access denied, unreachable endpoint: each a named code, exit 2, a hint', async (t) => {
  for (const [awsCode, status, code, hint] of [
    ['ExpiredToken', 403, 'aws.credentials-expired', /renew them/],
    ['AccessDenied', 403, 'aws.access-denied', /docs\/iam\.md/],
  ] as const) {
    const ep = await awsErrorEndpoint(awsCode, status);
    try {
      await withAwsEnv({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: ep.url, ...creds }, async () => {
        const r = await cli(['status', '--asg', 'qa', '--json']);
        t.is(r.code, 2, awsCode);
        const e = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
        t.is(e.code, code);
        t.is(e.data.error, awsCode);
        t.regex(r.stderr, hint);
      });
    } finally {
      await ep.close();
    }
  }
  await withAwsEnv({ AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://127.0.0.1:1', ...creds }, async () => {
    const r = await cli(['status', '--json']);
    t.is(r.code, 2);
    t.is(JSON.parse(r.stdout.trim().split('\n').at(-1)!).code, 'aws.endpoint-unreachable');
    t.regex(r.stderr, /AWS_ENDPOINT_URL/);
  });
});

test('flags and the stack config read durations with one parser: 1.5m, 500ms, "10 m" mean the same in both', async (t) => {
  const { parseServices } = await import('../infra/config');
  const { durationFlag } = await import('../orchestrator/commands/values');
  for (const [text, seconds] of [['1.5m', 90], ['10 m', 600], ['90s', 90], ['2h', 7200]] as const) {
    const [svc] = parseServices({ rabbit: { strategy: 'rolling', imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 3, stepTimeout: text } }, 'qa');
    t.is((svc as { stepTimeoutSeconds: number }).stepTimeoutSeconds, seconds, `config ${text}`);
    t.is(durationFlag('step-timeout', text), seconds * 1000, `flag ${text}`);
  }
  // 500ms is a duration to both; the config wants whole seconds, and says so
  t.is(durationFlag('poll-interval', '500ms'), 500);
  t.throws(() => parseServices({ rabbit: { strategy: 'rolling', imageId: 'ami-0123456789abcdef0', instanceType: 't3.small', capacity: 3, stepTimeout: '500ms' } }, 'qa'), { message: /stepTimeout.*expected whole seconds/s });
});

test('the command table lists each command as its own module describes it, in help order', async (t) => {
  const { COMMANDS } = await import('../orchestrator/cli');
  t.deepEqual(COMMANDS.map((c) => c.name), ['deploy', 'roll', 'ab', 'status', 'lock', 'unlock', 'demo']);
  for (const entry of COMMANDS) {
    const spec = await entry.load();
    t.is(spec.name, entry.name);
    t.is(spec.describe, entry.describe, `${entry.name}: the --help line drifted from the command's own describe`);
  }
});

test('--version prints the package version', async (t) => {
  const io = capture();
  const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', 'package.json'), 'utf8')) as { version: string };
  const code = await main(['--version'], { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  t.is(code, 0);
  t.is(io.stdout.trim(), pkg.version);
});

/** Runs `main(argv)` in a fresh process; returns the modules it had loaded when it exited. */
function loadedBy(argv: string[], cwd: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const script = `
    const { main } = require(${JSON.stringify(path.join(__dirname, '..', 'orchestrator', 'cli.ts'))});
    process.on('exit', () => process.stderr.write('LOADED ' + JSON.stringify(Object.keys(require.cache)) + '\\n'));
    main(${JSON.stringify(argv)}).then((code) => { process.exitCode = code; });`;
  const child = spawnSync(process.execPath, ['--import', pathToFileURL(require.resolve('tsx')).href, '-e', script], { cwd, env, encoding: 'utf8', timeout: 120_000 });
  const line = child.stderr.split('\n').find((l) => l.startsWith('LOADED '));
  if (!line) throw new Error(`no module list: ${child.stderr}`);
  return JSON.parse(line.slice('LOADED '.length)) as string[];
}

const heavy = (mods: string[]) => ({
  commands: mods.filter((m) => /orchestrator[\\/]commands[\\/]/.test(m)).length,
  sdk: [...new Set(mods.map((m) => /@aws-sdk[\\/](client-[a-z-]+)/.exec(m)?.[1]).filter(Boolean))].sort(),
  pulumi: mods.some((m) => /@pulumi[\\/]pulumi[\\/]/.test(m)),
  sandbox: mods.some((m) => /orchestrator[\\/]sandbox[\\/]/.test(m)),
});

test('--help loads no command, no AWS SDK client, no Pulumi and no sandbox', (t) => {
  t.deepEqual(heavy(loadedBy(['--help'], process.cwd())), { commands: 0, sdk: [], pulumi: false, sandbox: false });
});

test('status --sandbox loads its command and the sandbox, neither Pulumi nor S3 (tag locks)', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-lazy-'));
  const loaded = heavy(loadedBy(['status', '--sandbox', '--asg', 'no-such-group'], dir));
  t.true(loaded.commands > 0);
  t.true(loaded.sandbox);
  t.false(loaded.pulumi);
  t.false(loaded.sdk.includes('client-s3'), `loaded: ${loaded.sdk.join(', ')}`);
});

test('status on real AWS loads the clients it asks, not S3 (tag locks), Pulumi or the sandbox', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asg-lazy-'));
  // An endpoint nothing listens on: the call fails at once, after the modules are loaded.
  const env = { ...process.env, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_MAX_ATTEMPTS: '1' };
  const loaded = heavy(loadedBy(['status', '--asg', 'web'], dir, env));
  t.false(loaded.sdk.includes('client-s3'), `loaded: ${loaded.sdk.join(', ')}`);
  t.true(loaded.sdk.includes('client-auto-scaling'));
  t.false(loaded.pulumi);
  t.false(loaded.sandbox);
});
