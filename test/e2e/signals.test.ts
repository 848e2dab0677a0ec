// SIGINT/SIGTERM to the built CLI: it stops at the next safe point, ends the restart command it started, writes the
// journal, releases the lock, prints its one --json document, and exits 3 only when a run is really pending.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect, it } from 'vitest';
import { running } from '../app/running.mjs';
import { CLI, freePort } from '../helpers/cli.js';

const HOLD_CLI_LOAD = fileURLToPath(new URL('../helpers/hold-cli-load.cjs', import.meta.url));

import { JWT_ENV_TEXT, type JwtProject, jwtProject } from '../helpers/jwt-project.js';
import { HANGING_RESTART, inHangingRestart, pidsIn, waitUntil } from '../helpers/wait.js';

let project: JwtProject | undefined;
let proxy: Server | undefined;
afterEach(async () => {
  await project?.app.stop();
  project = undefined;
  await new Promise((r) => (proxy ? proxy.close(r) : r(undefined)));
  proxy = undefined;
});

interface Started {
  child: ChildProcess;
  result: Promise<{ code: number | null; stdout: string; stderr: string }>;
}

function start(dir: string, args: string[], nodeArgs: string[] = []): Started {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.ROTATE_MASTER_KEY;
  const child = spawn(process.execPath, [...nodeArgs, CLI, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const result = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  return { child, result };
}

it('SIGTERM during the restart: the restart command is ended, the lock released, one JSON document, exit 3; resume undoes it', async () => {
  project = await jwtProject();
  const { dir, cli } = project;
  project.writeConfig({ restartPrefix: HANGING_RESTART });
  const run = start(dir, ['jwt', '--yes', '--json']);
  expect(await waitUntil(() => inHangingRestart(dir, 'jwt'), 20_000)).toBe(true);
  const restartPids = pidsIn(join(dir, 'restart.pids'));
  run.child.kill('SIGTERM');
  const { code, stdout, stderr } = await run.result;

  expect(code, stderr).toBe(3);
  const doc = JSON.parse(stdout); // exactly one document: JSON.parse refuses two
  expect(doc).toMatchObject({ ok: false, exitCode: 3, error: { code: 'INTERRUPTED_PENDING' } });
  expect(doc.error.message).toContain('SIGTERM');
  expect(doc.error.message).toContain('restart');
  // Acknowledged at once, saying what happens: the restart ended, the run left to resume, which undoes it.
  expect(stderr).toContain(
    'SIGTERM: stopping now: the restart command under way is ended (step 3 of 6: restart); the run is then left pending (exit 3) and `rotate resume` undoes it. To exit at once, send SIGTERM again',
  );
  // The restart shell and what it ran in the foreground are gone; the lock is released; the journal is kept.
  for (const pid of restartPids) expect(await waitUntil(() => !running(pid), 5_000)).toBe(true);
  expect(existsSync(join(dir, '.rotate/lock'))).toBe(false);
  expect(readdirSync(join(dir, '.rotate/journal')).filter((n) => n.endsWith('.json'))).toHaveLength(1);

  // `rotate status` says which step the pending run reached, and what resume will do with it.
  const status = await cli(['status']);
  expect(status.code).toBe(3);
  expect(status.stdout).toMatch(/reached the step restart \(started at [^)]+\); `rotate resume` will undo it/);
  const statusDoc = JSON.parse((await cli(['status', '--json'])).stdout);
  expect(statusDoc.results.find((r: { secret: string }) => r.secret === 'jwt').pendingRun.reached).toMatchObject({
    step: 'restart',
    state: 'started',
    resume: 'undo',
  });
  project.writeConfig();
  const resume = await cli(['resume', '--json']);
  expect(resume.code, resume.stderr).toBe(0);
  expect(JSON.parse(resume.stdout).results[0].status).toBe('undone');
  expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(JWT_ENV_TEXT);
  expect((await cli(['status'])).code).toBe(0);
});

it.each(['SIGTERM', 'SIGINT'] as const)(
  '%s while the CLI is still loading (start-up): exit 2 INTERRUPTED with its --json document, not a silent 143',
  async (signal) => {
    project = await jwtProject();
    const { dir } = project;
    const run = start(dir, ['status', '--json'], ['--require', HOLD_CLI_LOAD]);
    expect(await waitUntil(() => existsSync(join(dir, 'cli-loading')), 20_000)).toBe(true);
    run.child.kill(signal);
    writeFileSync(join(dir, 'cli-release'), '');
    const { code, stdout, stderr } = await run.result;
    expect(code, stderr).toBe(2);
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'INTERRUPTED' } });
    expect(stderr).toContain(`stopped by ${signal}`);
  },
);

it('SIGINT before anything changed: exit 2, one JSON document, no journal, the env file and history untouched', async () => {
  project = await jwtProject();
  const { dir, app } = project;
  // The app's check URL behind a proxy that holds the preflight's request until the signal has been sent.
  let held: (() => void) | undefined;
  const port = await freePort();
  proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
    held = () =>
      void fetch(`${app.url}${req.url}`, { headers: { authorization: req.headers.authorization ?? '' } }).then(async (answer) => {
        res.writeHead(answer.status, { 'content-type': 'application/json' });
        res.end(await answer.text());
      });
  });
  await new Promise<void>((r) => proxy!.listen(port, '127.0.0.1', r));
  project.writeConfig({ verifyUrl: `http://127.0.0.1:${port}/api/auth/me` });

  const run = start(dir, ['jwt', '--yes', '--json']);
  expect(await waitUntil(() => held !== undefined, 20_000)).toBe(true);
  run.child.kill('SIGINT');
  // It does not exit at once (today's bug): it waits for the preflight to answer and stops at the safe point after it.
  expect(await waitUntil(() => run.child.exitCode !== null, 200)).toBe(false);
  const release = held!;
  held = undefined;
  release();
  // Later checks of the preflight go straight through.
  const pass = setInterval(() => {
    if (held) {
      const next = held;
      held = undefined;
      next();
    }
  }, 10);
  const { code, stdout, stderr } = await run.result;
  clearInterval(pass);

  expect(code, stderr).toBe(2);
  expect(JSON.parse(stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'INTERRUPTED' } });
  expect(stderr).toContain(
    'SIGINT: stopping before anything is changed, once the check under way ends: nothing will have changed (exit 2)',
  );
  expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(JWT_ENV_TEXT);
  const journal = join(dir, '.rotate/journal');
  expect(existsSync(journal) ? readdirSync(journal) : []).toEqual([]);
  expect(existsSync(join(dir, '.rotate/lock'))).toBe(false);
  expect(existsSync(join(dir, '.rotate/history.jsonl'))).toBe(false);
});

it('SIGINT during a dry run or verify (read-only work): it stops at once, exit 2, one JSON document, nothing written', async () => {
  project = await jwtProject();
  const { dir } = project;
  // The app's check URL never answers: the request is held until the test ends.
  const held: ServerResponse[] = [];
  const port = await freePort();
  proxy = createServer((_req: IncomingMessage, res: ServerResponse) => void held.push(res));
  await new Promise<void>((r) => proxy!.listen(port, '127.0.0.1', r));
  project.writeConfig({ verifyUrl: `http://127.0.0.1:${port}/api/auth/me` });
  try {
    for (const args of [
      ['--dry-run', 'jwt', '--json'],
      ['verify', 'jwt', '--json'],
    ]) {
      const before = held.length;
      const run = start(dir, args);
      expect(await waitUntil(() => held.length > before, 20_000), args.join(' ')).toBe(true);
      run.child.kill('SIGINT');
      // Nothing is being changed, so there is no safe point to wait for: it ends while the request is still held.
      expect(await waitUntil(() => run.child.exitCode !== null, 5_000), args.join(' ')).toBe(true);
      const { code, stdout, stderr } = await run.result;
      expect(code, `${args.join(' ')}: ${stderr}`).toBe(2);
      expect(JSON.parse(stdout), args.join(' ')).toMatchObject({
        command: args[0] === 'verify' ? 'verify' : 'rotate',
        ok: false,
        exitCode: 2,
        error: { code: 'INTERRUPTED' },
      });
      expect(stderr).toContain('nothing was changed');
    }
  } finally {
    for (const res of held) res.destroy();
  }
  expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(JWT_ENV_TEXT);
  expect(existsSync(join(dir, '.rotate/lock'))).toBe(false);
  expect(existsSync(join(dir, '.rotate/history.jsonl'))).toBe(false);
});
