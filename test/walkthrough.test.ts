/**
 * The README's sandbox walk-through, run as written (each `npx asg-deploy ...` through the CLI's
 * main(), anything else through bash), on a fresh simulated AWS: every hint the tool prints must
 * work when followed literally. The only difference from a fresh checkout: the sandbox state
 * goes to a temporary file (ASG_DEPLOY_SANDBOX_STATE) instead of the checkout's .asg-deploy/.
 */
import test from 'ava';
import { execSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../orchestrator/cli';
import { DEMO_NEXT } from '../orchestrator/commands/demo';
import { capture } from './helpers/io';

const ROOT = path.resolve(__dirname, '..');

function walkthrough(): string[] {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const block = /<!-- walkthrough -->\s*```sh\n([\s\S]*?)```/.exec(readme)?.[1];
  if (!block) throw new Error('README.md has no <!-- walkthrough --> sh block');
  return block.split('\n').filter((l) => l.trim());
}

/** `a && b; c` → [[a, '&&'], [b, ';'], [c, '']] (quotes respected). */
function segments(line: string): Array<{ cmd: string; then: string }> {
  const out: Array<{ cmd: string; then: string }> = [];
  let cur = '';
  let quote = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote) {
      if (c === quote) quote = '';
      cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (line.startsWith('&&', i) || c === ';') {
      out.push({ cmd: cur.trim(), then: c === ';' ? ';' : '&&' });
      cur = '';
      if (c === '&') i++;
    } else cur += c;
  }
  out.push({ cmd: cur.trim(), then: '' });
  return out;
}

function words(cmd: string): string[] {
  return [...cmd.matchAll(/"([^"]*)"|'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2] ?? m[3]);
}

test('the README walk-through works literally on a fresh simulated AWS, and the demo ends with its first line', async (t) => {
  const lines = walkthrough();
  t.is(lines.length, 5);
  t.is(lines[0], DEMO_NEXT);
  const state = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'walkthrough-')), 'sandbox-state.json');
  const env = { CI: '1', ASG_DEPLOY_SANDBOX_STATE: state };
  const exits: string[] = [];
  let outputs = '';
  for (const line of lines) {
    let skip = false;
    for (const { cmd, then } of segments(line)) {
      if (!skip) {
        let code: number;
        const w = words(cmd);
        if (w[0] === 'npx' && w[1] === 'asg-deploy') {
          const io = capture();
          code = await main(w.slice(2), { stdout: io.out, stderr: io.err, env, signal: new AbortController().signal });
          outputs += `$ ${cmd}\n${io.stderr}${io.stdout}`;
          exits.push(`${w[2]} ${code}`);
        } else {
          execSync(cmd, { cwd: ROOT, shell: '/bin/bash', stdio: 'pipe' });
          code = 0;
        }
        skip = then === '&&' && code !== 0;
      }
    }
  }
  t.log(exits.join(', '));
  // line 4's ab is refused by the freeze (exit 3); everything else succeeds
  t.deepEqual(exits, ['deploy 0', 'status 0', 'deploy 0', 'roll 0', 'status 0', 'lock 0', 'ab 3', 'unlock 0', 'ab 0'], outputs);
  t.regex(outputs, /qa-rabbit: .*\n\s+instances 3: 3 new, 0 old; 3 healthy/);
  t.regex(outputs, /try a freeze/);
});
