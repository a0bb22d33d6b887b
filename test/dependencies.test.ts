/**
 * Every package the code imports is declared in package.json (a transitive dependency can vanish
 * with any update of the package that brings it): runtime code (orchestrator/, infra/, bin/) in
 * `dependencies`, tests may also use `devDependencies`. Type-only imports count: tsc needs them.
 */
import test from 'ava';
import { builtinModules } from 'node:module';
import * as fs from 'node:fs';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(rel));
    else if (/\.(ts|js|mjs|cjs)$/.test(e.name)) out.push(rel);
  }
  return out;
}

/** Package names a source file imports: `import ... from 'x'`, `import 'x'`, `import('x')`, `require('x')`, `export ... from 'x'`. */
export function importedPackages(text: string): string[] {
  const specs = [...text.matchAll(/(?:\bfrom\s+|\bimport\s+|\bimport\s*\(\s*|\brequire\s*\(\s*)['"]([^'"]+)['"]/g)].map((m) => m[1]);
  return [
    ...new Set(
      specs
        .filter((s) => !s.startsWith('.') && !s.startsWith('/') && !s.startsWith('node:') && !builtinModules.includes(s.split('/')[0]))
        .map((s) => (s.startsWith('@') ? s.split('/').slice(0, 2).join('/') : s.split('/')[0])),
    ),
  ];
}

test('the import scanner sees every form of import', (t) => {
  const text = `import type { A } from '@smithy/types';\nimport yargs from 'yargs';\nimport 'tsx/cjs';\nconst x = await import('js-yaml');\nrequire("ava");\nexport { y } from '@pulumi/pulumi/automation';\nimport * as fs from 'node:fs';\nimport path from 'path';\nimport { z } from './local';`;
  t.deepEqual(importedPackages(text).sort(), ['@pulumi/pulumi', '@smithy/types', 'ava', 'js-yaml', 'tsx', 'yargs']);
});

test('every imported package is declared in package.json (runtime code: dependencies)', (t) => {
  const missing: string[] = [];
  for (const [dirs, allowed] of [
    [['orchestrator', 'infra', 'bin'], pkg.dependencies],
    [['test'], { ...pkg.dependencies, ...pkg.devDependencies }],
  ] as const) {
    for (const file of dirs.flatMap(sources).filter((f) => f !== path.join('test', 'dependencies.test.ts'))) {
      for (const name of importedPackages(fs.readFileSync(path.join(ROOT, file), 'utf8'))) if (!(name in allowed)) missing.push(`${file}: ${name}`);
    }
  }
  t.deepEqual(missing, []);
});
