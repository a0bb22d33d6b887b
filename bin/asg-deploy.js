#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm ci`/`npm install` through the `prepare` script).
'use strict';
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 20)) {
  process.stderr.write(`asg-deploy: needs Node.js >= 22.20 (the AWS SDK, Pulumi and this tool support 22, 24 and 26); this is ${process.version} at ${process.execPath}\n`);
  process.exit(2);
}
// V8's on-disk code cache (Node >= 22.1): later starts skip parsing the SDK's and Pulumi's bundles.
require('node:module').enableCompileCache?.();
let cli;
try {
  cli = require('../dist/orchestrator/cli.js');
} catch (err) {
  if (err && err.code === 'MODULE_NOT_FOUND' && String(err.message).includes('dist/orchestrator/cli')) {
    process.stderr.write("asg-deploy: the compiled CLI is missing (dist/); run 'npm run build' (npm ci builds it)\n");
    process.exit(1);
  }
  throw err;
}
cli.main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
