import test from 'ava';
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
