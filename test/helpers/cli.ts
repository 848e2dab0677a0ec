// Runs the built CLI (dist/cli.js) as a user would, in a scratch folder.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const ROOT = resolve(import.meta.dirname, '../..');
export const CLI = join(ROOT, 'dist/bin/rotate.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  options: {
    cwd: string;
    env?: Record<string, string | undefined>;
    input?: string;
    timeoutMs?: number;
    /** Run the bin as a shell does, through its shebang (`env -S node --` and the first `node` on PATH). */
    shebang?: boolean;
  },
): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries({ ...process.env, NO_COLOR: '1', ...options.env })) if (v !== undefined) env[k] = v;
    const [command, argv] = options.shebang ? [CLI, args] : [process.execPath, [CLI, ...args]];
    const child = spawn(command, argv, { cwd: options.cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code: code ?? -1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

const scratchDirs: string[] = [];

/** Scratch folders hold env files with test secrets and a master key: test/setup.ts removes them after each file. */
export function removeScratchDirs(): void {
  for (const dir of scratchDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

export function scratchDir(prefix = 'rotate-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  scratchDirs.push(dir);
  return dir;
}

/** A TCP port on 127.0.0.1 that was free a moment ago (the one helper for it: servers, apps, private databases). */
export function freePort(): Promise<number> {
  return new Promise((resolvePromise, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolvePromise(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Every file below `dir`, as text, for secret-leak greps. */
export function readTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else out[path] = readFileSync(path, 'latin1');
    }
  };
  walk(dir);
  return out;
}

/** What a project's runs left for a leak grep: each result's stdout and stderr, everything under .rotate/, app.log. */
export function runOutputs(dir: string, ...results: CliResult[]): Record<string, string> {
  const texts: Record<string, string> = { ...readTree(join(dir, '.rotate')), appLog: readFileSync(join(dir, 'app.log'), 'utf8') };
  for (const [i, r] of results.entries()) {
    texts[`stdout${i}`] = r.stdout;
    texts[`stderr${i}`] = r.stderr;
  }
  return texts;
}

/** Fails with the places where any of `secrets` shows up in `texts`. */
export function findLeaks(texts: Record<string, string>, secrets: string[]): string[] {
  const leaks: string[] = [];
  for (const [where, text] of Object.entries(texts)) {
    for (const secret of secrets) {
      if (secret && (text.includes(secret) || text.includes(encodeURIComponent(secret)))) leaks.push(`${where} contains a secret`);
    }
  }
  return leaks;
}
