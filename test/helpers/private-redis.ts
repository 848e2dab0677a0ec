// Private redis-server instances for tests that change authentication (the shared 127.0.0.1:6379 must never get a
// password). Each runs on a free port in its own temp folder; start them in beforeAll, stop them in afterAll, one
// set per test file. Passwords are set over a connection (or in the aclfile as hashes), never in argv.

import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import type { SecretConfig } from '../../src/config/schema.js';
import { checksOf } from '../../src/engine/checks.js';
import type { Rotation, Rotator, RotatorContext } from '../../src/secrets/types.js';
import { freePort } from './cli.js';
import { waitUntil } from './wait.js';

export type PersistenceMode = 'aclfile' | 'config-file' | 'none';

export interface PrivateRedisOptions {
  mode: PersistenceMode;
  /** The `default` user's password; for `config-file` it is written as `requirepass` unless `users` says otherwise. */
  password: string;
  /** Extra ACL rules, e.g. `{ app: 'on ~* &* +@all -@admin' }`; their password is added as `#sha256`. */
  users?: Record<string, { password: string; rules: string }>;
  /** `config-file` only: write `requirepass` (the platform's usual setup) rather than a `user default` line. */
  requirepassInConfig?: boolean;
}

export interface PrivateRedis {
  port: number;
  dir: string;
  configFile: string | undefined;
  aclFile: string | undefined;
  logFile: string;
  /** A URL for `user` (default: the default user) with `password`. */
  url(password: string, user?: string, db?: number): string;
  /** A connection authenticated with `password` (as `user`). Caller quits it. */
  connect(password: string, user?: string): Promise<Redis>;
  /** Stops the server (SIGTERM) and starts it again from the same files: proves what was persisted. */
  restart(): Promise<void>;
  stop(): Promise<void>;
  /** The child's argv, for leak greps. */
  argv(): string[];
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** Whether redis-server answers on `port` (NOAUTH counts: it is up, it wants a password). */
async function answers(port: number): Promise<boolean> {
  const client = new Redis({
    port,
    host: '127.0.0.1',
    lazyConnect: true,
    retryStrategy: () => null,
    enableReadyCheck: false,
    disableClientInfo: true,
    maxRetriesPerRequest: 0,
  });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping().catch((error: Error) => {
      if (!/NOAUTH/.test(error.message)) throw error;
    });
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

async function waitForPort(port: number, child: ChildProcess, logFile: string): Promise<void> {
  const up = await waitUntil(async () => child.exitCode !== null || (await answers(port)), 30_000, 50);
  if (child.exitCode !== null) {
    throw new Error(`redis-server exited with ${child.exitCode}: ${existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''}`);
  }
  if (!up) throw new Error(`redis-server on port ${port} did not start`);
}

export async function startPrivateRedis(options: PrivateRedisOptions): Promise<PrivateRedis> {
  const dir = mkdtempSync(join(tmpdir(), `rotate-redis-${options.mode}-`));
  const port = await freePort();
  const logFile = join(dir, 'redis.log');
  const users = options.users ?? {};
  const userLines = Object.entries(users).map(([name, u]) => `user ${name} ${u.rules} #${sha256(u.password)}`);
  const defaultLine = `user default on #${sha256(options.password)} ~* &* +@all`;
  let configFile: string | undefined;
  let aclFile: string | undefined;
  let args: string[];
  const base = ['port', String(port), 'bind', '127.0.0.1', 'dir', dir, 'logfile', logFile, 'save', '""', 'appendonly', 'no'];
  if (options.mode === 'none') {
    args = base.flatMap((value, i) => (i % 2 === 0 ? [`--${value}`] : [value === '""' ? '' : value]));
  } else {
    configFile = join(dir, 'redis.conf');
    const lines = [];
    for (let i = 0; i < base.length; i += 2) lines.push(`${base[i]} ${base[i + 1]}`);
    if (options.mode === 'aclfile') {
      aclFile = join(dir, 'users.acl');
      writeFileSync(aclFile, `${[defaultLine, ...userLines].join('\n')}\n`);
      lines.push(`aclfile ${aclFile}`);
    } else if (options.requirepassInConfig) {
      lines.push(`requirepass ${options.password}`, ...userLines);
    } else {
      lines.push(defaultLine, ...userLines);
    }
    writeFileSync(configFile, `${lines.join('\n')}\n`);
    args = [configFile];
  }

  let child: ChildProcess;
  const launch = async () => {
    child = spawn('redis-server', args, { stdio: 'ignore' });
    const failed = new Promise<never>((_, reject) =>
      child.once('error', (error) => reject(new Error(`cannot start redis-server (is it installed?): ${error.message}`))),
    );
    await Promise.race([waitForPort(port, child, logFile), failed]);
  };
  await launch();
  if (options.mode === 'none') {
    // Without files the password can only be set live (never through argv, which `ps` shows).
    const admin = new Redis({ port, host: '127.0.0.1', disableClientInfo: true });
    for (const [name, u] of Object.entries(users))
      await admin.call('ACL', 'SETUSER', name, ...u.rules.split(' '), `#${sha256(u.password)}`);
    await admin.call('ACL', 'SETUSER', 'default', 'resetpass', `#${sha256(options.password)}`);
    admin.disconnect();
  }

  const url = (password: string, user = '', db = 0) =>
    `redis://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;
  const stopChild = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  return {
    port,
    dir,
    configFile,
    aclFile,
    logFile,
    url,
    async connect(password, user = 'default') {
      const client = new Redis({
        port,
        host: '127.0.0.1',
        username: user,
        password,
        disableClientInfo: true,
        enableReadyCheck: false,
        lazyConnect: true,
        retryStrategy: () => null,
        maxRetriesPerRequest: 0,
      });
      let lastError: unknown;
      client.on('error', (error) => {
        lastError = error;
      });
      try {
        await client.connect();
        await client.ping(); // without the ready check, connect() can resolve before AUTH is answered
      } catch (error) {
        client.disconnect();
        throw lastError ?? error;
      }
      return client;
    },
    async restart() {
      await stopChild();
      await launch();
    },
    async stop() {
      await stopChild();
      rmSync(dir, { recursive: true, force: true });
    },
    argv: () => ['redis-server', ...args],
  };
}

/**
 * The engine's step order for one rotation, driven directly (the engine itself is tested elsewhere): preflight ->
 * generate -> apply -> env switch (ctx.env rebuilt from rotation.env) -> verify -> retire -> verifyRetired.
 * `between` runs at each boundary, for tests that watch old connections.
 */
export async function driveRotation<C extends SecretConfig>(
  rotator: Rotator<C>,
  ctx: RotatorContext<C>,
  between: (step: 'applied' | 'switched' | 'retired') => Promise<void> = async () => {},
) {
  const preflight = await rotator.preflight(ctx);
  const failing = preflight.checks.filter((c) => !c.ok);
  if (failing.length) throw new Error(`preflight failed: ${JSON.stringify(failing)}`);
  const rotation = await rotator.generate(ctx);
  await rotator.apply(ctx, rotation);
  await between('applied');
  const after = { ...ctx, env: switchedEnv(ctx.env, rotation) };
  await between('switched');
  const verify = checksOf(await rotator.verify(after, rotation));
  await rotator.retire(after, rotation);
  await between('retired');
  const retired = await rotator.verifyRetired(after, rotation);
  return { preflight, rotation, verify, retired, ctx: after };
}

/** The env as the engine rebuilds it after writing `rotation.env`. */
export function switchedEnv(env: Readonly<Record<string, string>>, rotation: Rotation): Record<string, string> {
  const out = { ...env };
  for (const [name, value] of Object.entries(rotation.env)) {
    if (value === null) delete out[name];
    else out[name] = value.reveal();
  }
  return out;
}
