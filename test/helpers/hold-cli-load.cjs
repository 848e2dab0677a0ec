// Preloaded (node --require) into the built bin: holds the process inside its `require('./cli.js')`, the start-up
// window before the CLI has loaded, until the test lets it go. It writes `cli-loading` in the working folder once
// held, and waits (at most 30 s) for a file named `cli-release` there. Blocking, as a slow load of the bundle is.
'use strict';
const Module = require('node:module');
const { existsSync, writeFileSync } = require('node:fs');

const load = Module._load;
Module._load = function holdCliLoad(request, ...rest) {
  if (request === './cli.js') {
    writeFileSync('cli-loading', '');
    const pause = new Int32Array(new SharedArrayBuffer(4));
    for (let i = 0; i < 1500 && !existsSync('cli-release'); i++) Atomics.wait(pause, 0, 0, 20);
  }
  return load.call(this, request, ...rest);
};
