#!/usr/bin/env node
// npm run bench:startup: wall time of `rotate --help` and `rotate status` against `node -e 0`, as ratios.
// Heavy dependencies (pg, ioredis, stripe, jose, the Kubernetes client) must stay out of start-up: both ratios should
// stay under 2. status runs where a user's does: beside a config (`rotate init`), an env file and a store holding one
// recorded rotation, so it parses the config, reads the history and prints times.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = join(resolve(import.meta.dirname, '..'), 'dist/bin/rotate.js');
const cwd = mkdtempSync(join(tmpdir(), 'rotate-bench-'));
const env = { ...process.env, ROTATE_MASTER_KEY: 'a'.repeat(64) };
// init before the env file exists writes the starter, which names all five kinds (status parses each kind's schema).
execFileSync(process.execPath, [cli, 'init'], { cwd, env, stdio: 'ignore' });
writeFileSync(join(cwd, '.env'), 'JWT_SECRET=bench-startup-0123456789-0123456789-abcdef\n', { mode: 0o600 });
execFileSync(process.execPath, [cli, 'mark', 'jwt', '--rotated-at', '2026-11-01', '--yes'], { cwd, env, stdio: 'ignore' });
const runs = Number(process.argv[2] ?? 21);

function time(args) {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, args, { cwd, stdio: 'ignore', env });
  if (result.status !== 0) throw new Error(`${args.join(' ')} exited ${result.status}`);
  return Number(process.hrtime.bigint() - start) / 1e6;
}

// Interleaved (node, help, status, node, ...) so that drift in the machine's load hits all three alike.
const commands = { base: ['-e', '0'], help: [cli, '--help'], status: [cli, 'status'] };
const times = { base: [], help: [], status: [] };
const load = () => loadavg()[0].toFixed(2);
const loadBefore = load();
for (let i = 0; i < runs + 2; i++) {
  for (const [name, args] of Object.entries(commands)) {
    const ms = time(args);
    if (i >= 2) times[name].push(ms); // the first two rounds warm the file cache (and Node 22+'s compile cache)
  }
}
rmSync(cwd, { recursive: true, force: true });
const at = (list, q) => [...list].sort((a, b) => a - b)[Math.floor((list.length - 1) * q)];
const median = (list) => at(list, 0.5);
const base = median(times.base);
const help = median(times.help);
const status = median(times.status);
// The middle half of the runs beside the median: how much the machine's load moved them.
const spread = (list) => `middle half ${at(list, 0.25).toFixed(0)}-${at(list, 0.75).toFixed(0)} ms`;
const row = (label, name) => {
  const ms = median(times[name]);
  return `${label.padEnd(16)} ${ms.toFixed(1).padStart(7)} ms   ratio ${(ms / base).toFixed(2)}   ${spread(times[name])}`;
};
console.log(`Node ${process.version}, median of ${runs} interleaved runs each, load average ${loadBefore} -> ${load()}`);
console.log(row('node -e 0', 'base'));
console.log(row('rotate --help', 'help'));
console.log(row('rotate status', 'status'));
const worst = Math.max(help, status) / base;
console.log(worst < 2 ? `ok: both ratios under 2` : `over budget: ratio ${worst.toFixed(2)} >= 2`);
process.exitCode = worst < 2 ? 0 : 1;
