// Starts the stand-in app (test/app/server.mjs) the way the demo and the tests configure it: through the same
// restart command rotate runs, so a rotation really restarts a process that re-reads the env file.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { get } from 'node:http';
import { join } from 'node:path';
import { SignJWT } from 'jose';
import { running } from '../app/running.mjs';
import { freePort, ROOT } from './cli.js';
import { waitUntil } from './wait.js';

export interface StandInApp {
  port: number;
  url: string;
  /** The restart command for rotate.config.json (services.backend.restart). */
  restartCommand: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  log(): string;
}

/**
 * `name` names its pid file and log (`<name>.pid`, `<name>.log`): several replicas may share one folder. `dotenvx`:
 * the app runs under `dotenvx run -f <envFile> --`, which decrypts an encrypted file for it.
 */
export async function standInApp(dir: string, envFile = '.env', name = 'app', options: { dotenvx?: boolean } = {}): Promise<StandInApp> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const script = join(ROOT, 'test/app/restart.mjs');
  const args = ['--env-file', envFile, '--port', String(port), '--pid-file', `${name}.pid`, '--log', `${name}.log`];
  if (options.dotenvx) args.push('--dotenvx');
  const app: StandInApp = {
    port,
    url,
    restartCommand: `node ${script} ${args.join(' ')}`,
    async start() {
      execFileSync(process.execPath, [script, ...args], { cwd: dir });
      const healthy = () =>
        fetch(`${url}/healthz`).then(
          (response) => response.ok,
          () => false,
        );
      // Slow on a loaded machine, never red: 30 s; looked at often, so a test waits no longer than the start takes.
      if (await waitUntil(healthy, 30_000, 25)) return;
      throw new Error(`the stand-in app did not start:\n${app.log()}`);
    },
    async stop() {
      const pidFile = join(dir, `${name}.pid`);
      if (!existsSync(pidFile)) return;
      const pid = Number(readFileSync(pidFile, 'utf8'));
      if (!(pid > 0) || !running(pid)) return;
      process.kill(pid, 'SIGTERM');
      // Gone means its port is free again for the next start.
      await waitUntil(() => !running(pid), 5000, 10);
    },
    log: () => (existsSync(join(dir, `${name}.log`)) ? readFileSync(join(dir, `${name}.log`), 'utf8') : ''),
  };
  return app;
}

/**
 * The app's answer to GET /api/auth/me with a token signed by `secret`, over a NEW connection each time: through a
 * fake cluster's Service a pooled keep-alive connection would stay pinned to one pod (and break when a rollout ends it).
 */
export async function authStatus(url: string, secret: string): Promise<number> {
  const token = await new SignJWT({ id: '1', email: 'a@example.com' })
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuedAt()
    .setExpirationTime('2m')
    .sign(new TextEncoder().encode(secret));
  return new Promise((resolve, reject) => {
    const request = get(`${url}/api/auth/me`, { agent: false, headers: { authorization: `Bearer ${token}` } }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode ?? 0));
    });
    request.on('error', reject);
  });
}
