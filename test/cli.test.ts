import test from 'ava';
import { PassThrough } from 'node:stream';
import { main } from '../orchestrator/cli';

function capture() {
  const out = new PassThrough();
  const err = new PassThrough();
  let o = '';
  let e = '';
  out.on('data', (d) => (o += d));
  err.on('data', (d) => (e += d));
  return { out, err, get stdout() { return o; }, get stderr() { return e; } };
}

test('an unknown command is bad input: exit 2 naming it', async (t) => {
  const io = capture();
  const code = await main(['no-such-command'], { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  t.is(code, 2);
  t.regex(io.stderr, /no-such-command/);
});

test('no command is bad input: exit 2', async (t) => {
  const io = capture();
  const code = await main([], { stdout: io.out, stderr: io.err, signal: new AbortController().signal });
  t.is(code, 2);
});
