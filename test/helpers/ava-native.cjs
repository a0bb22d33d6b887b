'use strict';
/**
 * Preloaded into every ava worker, before tsx (package.json `ava.nodeArguments`).
 *
 * ava 8 is ESM only and keeps its runner in module state; the worker imports it as ESM. The
 * test files are TypeScript compiled to CommonJS by tsx, so `import test from 'ava'` becomes
 * `require('ava')`, and tsx's require hook would recompile ava's ESM files into a second,
 * CommonJS copy whose state the worker never set ("assert.ok(refs.runnerChain)"). Node >= 22.12
 * can require ESM natively and then returns the very module instance the worker imported, so
 * `require('ava')` is routed to Node's own `.js` loader, captured here before tsx replaces it.
 */
const Module = require('node:module');
const path = require('node:path');

const nativeJs = Module._extensions['.js'];
const load = Module._load;
let ava;

Module._load = function (request, parent, isMain) {
  if (request !== 'ava') return load.call(this, request, parent, isMain);
  if (ava === undefined) {
    const file = Module._resolveFilename(request, parent, isMain);
    const m = new Module(file, parent);
    m.filename = file;
    m.paths = Module._nodeModulePaths(path.dirname(file));
    nativeJs(m, file);
    ava = m.exports;
  }
  return ava;
};
