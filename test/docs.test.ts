/**
 * The documents hold together: the README fits on a page, every link in README.md, CHANGELOG.md
 * and docs/ resolves (files and #anchors, GitHub's heading slugs), and every documented command
 * that pipes --json produces pure JSONL (no npm banner): checked statically on every example and
 * by running one documented form as a subprocess.
 */
import test from 'ava';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');

function markdownFiles(): string[] {
  const out = ['README.md', 'CHANGELOG.md'];
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const rel = path.join(dir, e.name);
      if (e.isDirectory()) walk(rel);
      else if (e.name.endsWith('.md')) out.push(rel);
    }
  };
  walk('docs');
  return out;
}

/** GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens, -N for repeats. */
export function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  let fence = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*```/.test(line)) fence = !fence;
    const m = !fence && /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m) continue;
    const base = m[1].toLowerCase().replace(/<[^>]+>/g, '').replace(/[^\p{L}\p{N}\s_-]/gu, '').trim().replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  for (const m of markdown.matchAll(/<a (?:name|id)="([^"]+)"/g)) out.add(m[1]);
  return out;
}

function links(markdown: string): string[] {
  const text = markdown.replace(/```[\s\S]*?```/g, '').replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)].map((m) => m[1]);
}

test('README.md is a page a newcomer reads in five minutes (≤ 15 KB) and starts with the two commands', (t) => {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  t.true(Buffer.byteLength(readme) <= 15 * 1024, `${Buffer.byteLength(readme)} bytes`);
  const first = readme.indexOf('```sh');
  t.regex(readme.slice(first, first + 200), /npm ci && npm run demo[\s\S]*npm test/);
});

test('every link in README, CHANGELOG and docs/ resolves: files and #anchors', (t) => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of markdownFiles()) {
    const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
    for (const link of links(text)) {
      if (/^(https?|mailto):/.test(link)) continue;
      checked++;
      const [target, anchor] = link.split('#');
      const resolved = target ? path.resolve(path.dirname(path.join(ROOT, file)), decodeURIComponent(target)) : path.join(ROOT, file);
      if (!fs.existsSync(resolved)) {
        broken.push(`${file}: ${link} (no such file)`);
        continue;
      }
      if (anchor && resolved.endsWith('.md') && !anchors(fs.readFileSync(resolved, 'utf8')).has(anchor)) broken.push(`${file}: ${link} (no such heading)`);
    }
  }
  t.true(checked > 30, `${checked} links checked`);
  t.deepEqual(broken, []);
});

test('the link checker catches a missing file and a missing anchor', (t) => {
  t.true(anchors('# Exit codes\n## The `services` stack output (manifest)\n## AWS setup errors\n').has('the-services-stack-output-manifest'));
  t.false(anchors('# Exit codes\n').has('exit-code'));
  t.deepEqual(links('see [a](docs/x.md#y) and `[b](c.md)` and [w](https://e.com)'), ['docs/x.md#y', 'https://e.com']);
});

test('every documented command that pipes --json writes pure JSONL: npx asg-deploy or npm run --silent', (t) => {
  const offenders: string[] = [];
  let seen = 0;
  for (const file of markdownFiles()) {
    for (const line of fs.readFileSync(path.join(ROOT, file), 'utf8').split('\n')) {
      // a shell line (not a markdown table row) sending --json output to a file or a pipe
      if (/^\s*\|/.test(line) || !/--json\b.*(\s>\s|\s\|\s)/.test(line)) continue;
      seen++;
      if (/npm run (?!--silent)/.test(line) || !/npx asg-deploy|npm run --silent/.test(line)) offenders.push(`${file}: ${line.trim()}`);
    }
  }
  t.true(seen > 0);
  t.deepEqual(offenders, []);
});

test('a documented --json form run as written prints only JSON lines on stdout', (t) => {
  // docs/commands/status.md: `npx asg-deploy status --stack qa --sandbox --json`
  const doc = fs.readFileSync(path.join(ROOT, 'docs/commands/status.md'), 'utf8');
  const line = doc.split('\n').find((l) => /^npx asg-deploy status .*--json/.test(l.trim()));
  t.truthy(line);
  const state = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'jsonl-')), 'state.json');
  let stdout: string;
  try {
    stdout = execFileSync('bash', ['-c', `${line!.trim()} 2>/dev/null`], { cwd: ROOT, env: { ...process.env, ASG_DEPLOY_SANDBOX_STATE: state, CI: '1' }, encoding: 'utf8', timeout: 90_000 });
  } catch (err) {
    stdout = (err as { stdout: string }).stdout; // a non-zero exit still must print JSON only
  }
  const lines = stdout.split('\n').filter(Boolean);
  t.true(lines.length > 0);
  for (const l of lines) t.notThrows(() => JSON.parse(l), l);
});
