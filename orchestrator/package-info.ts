/**
 * Where the installed tool lives and which version it is. The same code runs as TypeScript from
 * a checkout (orchestrator/*.ts) and compiled from the package (dist/orchestrator/*.js), so paths
 * to the package's own files are found from the nearest `package.json` named asg-deploy, not by
 * counting `..`.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

let found: { root: string; version: string } | undefined;

function locate(): { root: string; version: string } {
  if (found) return found;
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (fs.existsSync(file)) {
      const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'asg-deploy') return (found = { root: dir, version: String(pkg.version) });
    }
    if (path.dirname(dir) === dir) throw new Error(`asg-deploy: no package.json named asg-deploy above ${__dirname}`);
  }
}

/** The directory of the asg-deploy package (the checkout, or node_modules/asg-deploy). */
export function packageRoot(): string {
  return locate().root;
}

/** The package's version (package.json), as `asg-deploy --version` prints it. */
export function packageVersion(): string {
  return locate().version;
}

/**
 * The project directory — the one path rule (`--help` states it): the nearest directory at or
 * above the current directory that holds a `Pulumi.yaml`, or the current directory when none
 * does. `Pulumi.<stack>.yaml`, the Pulumi workspace and the default sandbox state
 * (`.asg-deploy/`) all live there; a path given in a flag is relative to the current directory.
 * From a checkout: the checkout, from any directory inside it. From a user's project with the
 * package installed: their project.
 */
export function projectRoot(cwd: string = process.cwd()): string {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'Pulumi.yaml'))) return dir;
    if (path.dirname(dir) === dir) return path.resolve(cwd);
  }
}
