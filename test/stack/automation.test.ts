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
