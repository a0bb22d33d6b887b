/**
 * `ab --clean-up`'s confirmation (issue 10 defect 4, issue 22 item 1): the look taken before the
 * prompt is re-checked after it, and Ctrl-C at the prompt stops the run at once (pseudo-terminal).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readSandboxFile, writeSandboxFile } from '../../orchestrator/commands/aws-session';
import { DeployError } from '../../orchestrator/errors';
import { LOCK_TAG } from '../../orchestrator/lock/record';
import { Sandbox } from '../../orchestrator/sandbox';
import { abEnv } from './harness';

test('--clean-up: the kept color stops serving while the prompt is open → refused (exit 3), nothing drained, lock released', async (t) => {
  const env = abEnv({ count: 3, bCount: 1 });
  const sb = env.sandbox;
  let asked = '';
  const confirm = async (q: string) => {
    asked = q;
    // Meanwhile someone (or AWS) takes every instance of the color the prompt says it keeps.
    sb.direct('ec2', 'TerminateInstances', { InstanceIds: env.live('qa-a') });
    await sb.clock.sleep(1000);
    return true;
  };
  const err = await t.throwsAsync(env.run({ cleanUp: true, confirm }), { instanceOf: DeployError });
  t.regex(asked, /Keep qa-a and DRAIN qa-b/);
  t.is(err!.exit, 3);
  t.is(err!.code, 'premise-changed');
  t.regex(err!.message, /while the confirmation was open; nothing was changed/);
  t.is(env.group('qa-b').desired, 1, 'the only serving color was not drained');
  t.deepEqual(sb.calls.filter((c) => c.mutating && c.actor === 'tool' && !['CreateOrUpdateTags', 'DeleteTags'].includes(c.operation)).map((c) => c.operation), []);
  for (const g of ['qa-a', 'qa-b']) t.is(env.group(g).tags.find((x) => x.key === LOCK_TAG), undefined, `${g}: lock released`);
});

test('--clean-up: nothing changed while the prompt was open → drains as confirmed', async (t) => {
  const env = abEnv({ count: 3, bCount: 1 });
  const r = await env.run({ cleanUp: true, confirm: async () => true });
  t.is(r.status, 'done');
  t.is(env.group('qa-b').desired, 0);
  t.is(env.group('qa-a').desired, 3);
});

/** Runs the CLI under a pseudo-terminal (python3's pty), answers the prompt with Ctrl-C. */
const DRIVER = `
import os, pty, sys, time, select
pid, fd = pty.fork()
if pid == 0:
    env = {k: v for k, v in os.environ.items() if k not in ('CI', 'GITHUB_ACTIONS')}
    os.execvpe(sys.argv[1], sys.argv[1:], env)
buf, t0, sent, took = b'', time.time(), None, None
while True:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        buf += d
    if sent is None and b'[y/N]' in buf:
        os.write(fd, b'\\x03')
        sent = time.time()
    if time.time() - t0 > 40:
        os.kill(pid, 9)
        break
_, st = os.waitpid(pid, 0)
took = None if sent is None else time.time() - sent
sys.stderr.write(buf.decode(errors='replace'))
print('%d %s' % (os.waitstatus_to_exitcode(st), 'none' if took is None else '%.2f' % took))
`;

test('Ctrl-C at the --clean-up prompt (a terminal): exit 130 at once, nothing drained, lock released', (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-pty-'));
  const file = path.join(dir, 'state.json');
  const sandbox = Sandbox.create({ seed: 3 });
  const elb = (name: string) => ({ name, drainingTimeout: 30 });
  sandbox.seedGroup({ name: 'qa-a', capacity: 2, min: 2, max: 4, launchTemplateName: 'qa-lt', imageId: 'ami-v1', elb: elb('qa-a') });
  sandbox.seedGroup({ name: 'qa-b', capacity: 1, min: 0, max: 4, launchTemplateName: 'qa-lt', elb: elb('qa-b') });
  writeSandboxFile(file, sandbox, {});
  const bin = path.resolve(__dirname, '../../bin/asg-deploy.js');
  const r = spawnSync('python3', ['-c', DRIVER, process.execPath, bin, 'ab', '--environment', 'qa', '--clean-up', '--sandbox-state', file], { encoding: 'utf8', timeout: 60_000 });
  t.is(r.error, undefined, 'python3 (pty) must be available');
  const [code, took] = r.stdout.trim().split(' ');
  t.regex(r.stderr, /Keep qa-a and DRAIN qa-b.*\[y\/N\]/);
  t.is(code, '130', r.stderr);
  t.true(took !== 'none' && Number(took) < 15, `exited ${took} s after Ctrl-C`);
  t.regex(r.stderr, /interrupted/);
  const state = readSandboxFile(file)!.aws;
  t.is(state.groups['qa-b'].desired, 1, 'nothing drained');
  for (const g of ['qa-a', 'qa-b']) t.is(state.groups[g].tags.find((x: { key: string }) => x.key === LOCK_TAG), undefined, `${g}: lock released`);
});
