#!/usr/bin/env node
// Runs the TypeScript CLI directly (no build step): tsx compiles on the fly.
'use strict';
require('tsx/cjs');
require('../orchestrator/cli.ts').main(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
