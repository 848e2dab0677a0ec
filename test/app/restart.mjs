#!/usr/bin/env node
// The restart command the tests and the demo configure for the stand-in app: stop the running process (pid file),
// start a new one that reads the env file again, and return once it listens. Like `docker compose up -d
// --force-recreate backend`.
// Usage: node test/app/restart.mjs --env-file <path> --port <n> --pid-file <path> [--log <path>] [--dotenvx]
// --dotenvx starts the app as `dotenvx run -f <env file> -- node server.mjs --env-from-process` (the real dotenvx CLI
// decrypts the file and hands the values over in the environment), as a team with an encrypted .env runs it.
import { spawn } from 'node:child_process';
import { existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { running } from './running.mjs';

const { values: args } = parseArgs({
  options: {
    'env-file': { type: 'string' },
    port: { type: 'string' },
    'pid-file': { type: 'string' },
    log: { type: 'string' },
    dotenvx: { type: 'boolean' },
  },
});
const pidFile = args['pid-file'];
if (pidFile && existsSync(pidFile)) {
  const pid = Number(readFileSync(pidFile, 'utf8'));
  if (pid > 0 && running(pid)) {
    process.kill(pid, 'SIGTERM');
    // A process that is not our child cannot be awaited: look every 10 ms, for 5 s at most, then SIGKILL.
    for (let i = 0; i < 500 && running(pid); i++) await sleep(10);
    if (running(pid)) process.kill(pid, 'SIGKILL');
  }
}
const out = args.log ? openSync(args.log, 'a') : 'ignore';
const here = dirname(fileURLToPath(import.meta.url));
const server = [join(here, 'server.mjs'), '--port', args.port, '--pid-file', pidFile];
if (args.dotenvx) {
  // dotenvx passes no IPC channel on: the new process is up when it wrote its pid file (removed first), 10 s at most.
  if (pidFile) rmSync(pidFile, { force: true });
  const dotenvx = join(here, '../../node_modules/.bin/dotenvx');
  const child = spawn(dotenvx, ['run', '-f', args['env-file'], '--', process.execPath, ...server, '--env-from-process'], {
    detached: true,
    stdio: ['ignore', out, out],
  });
  let exited = false;
  child.once('exit', () => (exited = true));
  for (let i = 0; i < 1000 && !exited && !(pidFile && existsSync(pidFile)); i++) await sleep(10);
  child.unref();
  process.exit(0);
}
const child = spawn(process.execPath, [...server, '--env-file', args['env-file']], { detached: true, stdio: ['ignore', out, out, 'ipc'] });
// Return once the new process listens (it says so over IPC), or has exited (it refused its config): the health
// check that follows then finds it up at its first look, not a poll interval later. 10 s at most, as before: 0.
await new Promise((resolve) => {
  const done = () => {
    clearTimeout(deadline);
    resolve(undefined);
  };
  const deadline = setTimeout(done, 10_000);
  child.once('message', done);
  child.once('exit', done);
});
if (child.connected) child.disconnect();
child.unref();
