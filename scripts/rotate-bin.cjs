#!/usr/bin/env -S node --
// The bin, copied to dist/bin/rotate.js by bundle.mjs: turns on Node's compile cache, then runs the bundle (cli.js).
// Node 22.1+ keeps V8's compiled code of the bundle between runs, which saves a tenth of start-up; Node 20 has no
// module.enableCompileCache and simply runs the bundle. V8 trusts a code cache as it trusts code, so the cache lives
// only in a directory of this user's that nobody else can write (never the shared os.tmpdir(), Node's default).
// NODE_COMPILE_CACHE=dir chooses another directory, NODE_DISABLE_COMPILE_CACHE=1 turns it off (both Node's own).
'use strict';

// A SIGINT/SIGTERM before cli.js has loaded (the bundle's load takes a while on a busy host) would end the process
// with no report (exit 143, no --json document). Held here until cli.js installs its handler
// (commands/interrupt.ts), which takes the held ones over and reports them: exit 2, INTERRUPTED.
const heldSignals = { signals: [], hold: (signal) => heldSignals.signals.push(signal) };
globalThis[Symbol.for('rotate.held-signals')] = heldSignals;
process.on('SIGINT', heldSignals.hold);
process.on('SIGTERM', heldSignals.hold);

const { enableCompileCache } = require('node:module');

function privateCacheDir() {
  const { lstatSync, mkdirSync } = require('node:fs');
  const { homedir } = require('node:os');
  const { dirname, join } = require('node:path');
  const base = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  const dir = join(base, 'rotate', 'compile-cache');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const path of [dir, dirname(dir)]) {
    const stat = lstatSync(path);
    if (!stat.isDirectory() || stat.uid !== process.getuid() || (stat.mode & 0o022) !== 0) return undefined;
  }
  return dir;
}

if (enableCompileCache && process.getuid && !process.env.NODE_COMPILE_CACHE && !process.env.NODE_DISABLE_COMPILE_CACHE) {
  try {
    const dir = privateCacheDir();
    if (dir) enableCompileCache(dir);
  } catch {
    // No home, a read-only file system, someone else's directory: run without the cache.
  }
}
require('./cli.js');
