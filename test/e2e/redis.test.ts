import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';
import dotenv from 'dotenv';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { findLeaks, freePort, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { type PrivateRedis, startPrivateRedis } from '../helpers/private-redis.js';
import { HANGING_RESTART, journalSteps, killInRestart, waitPast, waitUntil } from '../helpers/wait.js';

const KEEPER = 'keeper-pass-never-rotated-0123456789';
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const masterKey = 'b'.repeat(64);

/** Characters that must be percent-encoded in a URL: the rotator has to decode them and write the new one plainly. */
const oldPassword = (n: number) => `Old-p@ss/w0rd+${n}-abcdefghijklmnopqrstu`;

function platformEnv(port: number, password: string): string {
  const p = encodeURIComponent(password);
  return [
    '# CryptoOrchestrator production settings',
    '',
    'export APP_ENV=production',
    'LOG_LEVEL=info   # keep',
    `REDIS_URL=redis://:${p}@127.0.0.1:${port}/0`,
    '# Celery',
    `CELERY_BROKER_URL=redis://:${p}@127.0.0.1:${port}/1`,
    `CELERY_RESULT_BACKEND="redis://:${p}@127.0.0.1:${port}/2?socket_timeout=5&retry_on_timeout=true"`,
    "STRIPE_PUBLISHABLE_KEY='pk_test_abc'",
    'EMPTY=',
    'LAST_LINE=no-final-newline',
  ].join('\n');
}

/** The env text with every URL's old (encoded) password replaced by the new one: exactly what rotate may change. */
const withNew = (text: string, old: string, next: string) => text.replaceAll(`:${encodeURIComponent(old)}@`, `:${next}@`);

/** A fresh AUTH + PING as the default user: 'ok' or the server's error code (WRONGPASS...). */
async function authAs(server: PrivateRedis, password: string): Promise<string> {
  try {
    const client = await server.connect(password);
    client.disconnect();
    return 'ok';
  } catch (error) {
    return String((error as Error).message).split(' ')[0]!;
  }
}

async function dbsizes(keeper: Redis): Promise<number[]> {
  const sizes: number[] = [];
  for (const db of [0, 1, 2]) {
    await keeper.select(db);
    sizes.push(await keeper.dbsize());
  }
  await keeper.select(0);
  return sizes;
}

/** Puts the default user back to exactly `password`, persisted, with a known data set. */
async function resetServer(server: PrivateRedis, password: string): Promise<void> {
  const keeper = await server.connect(KEEPER, 'keeper');
  try {
    await keeper.call('ACL', 'SETUSER', 'default', 'on', 'resetpass', `#${sha256(password)}`);
    if (server.aclFile) await keeper.call('ACL', 'SAVE');
    await keeper.call('CLIENT', 'KILL', 'USER', 'default');
    await keeper.flushall();
    for (const [db, count] of [
      [0, 25],
      [1, 4],
      [2, 2],
    ] as const) {
      await keeper.select(db);
      for (let i = 0; i < count; i++) await keeper.set(`key:${db}:${i}`, `value ${i}`);
    }
  } finally {
    keeper.disconnect();
  }
}

interface Scene {
  dir: string;
  envText: string;
  old: string;
  app?: StandInApp;
  cli(args: string[]): ReturnType<typeof runCli>;
  env(): Record<string, string>;
  envBytes(): string;
  writeConfig(options?: {
    graceHours?: number;
    restartPrefix?: string;
    health?: string;
    healthTimeout?: number;
    noServices?: boolean;
  }): void;
}

describe('rotate redis end to end', () => {
  let aclServer: PrivateRedis;
  let confServer: PrivateRedis;
  let bareServer: PrivateRedis;
  const apps: StandInApp[] = [];
  const keeperUser = { keeper: { password: KEEPER, rules: 'on ~* &* +@all' } };

  beforeAll(async () => {
    [aclServer, confServer, bareServer] = await Promise.all([
      startPrivateRedis({ mode: 'aclfile', password: oldPassword(0), users: keeperUser }),
      startPrivateRedis({ mode: 'config-file', password: oldPassword(0), users: keeperUser, requirepassInConfig: true }),
      startPrivateRedis({ mode: 'none', password: oldPassword(0), users: keeperUser }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([aclServer?.stop(), confServer?.stop(), bareServer?.stop()]);
  });

  afterEach(async () => {
    while (apps.length) await apps.pop()!.stop();
  });

  /** A scratch folder with the platform env file for `server`, a config, and (unless `withApp` is false) the app. */
  async function scene(server: PrivateRedis, n: number, withApp = true): Promise<Scene> {
    const old = oldPassword(n);
    await resetServer(server, old);
    const dir = scratchDir('rotate-redis-e2e-');
    const envText = platformEnv(server.port, old);
    writeFileSync(join(dir, '.env'), envText);
    const app = withApp ? await standInApp(dir) : undefined;
    const s: Scene = {
      dir,
      envText,
      old,
      app,
      cli: (args) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: masterKey } }),
      env: () => dotenv.parse(readFileSync(join(dir, '.env'))),
      envBytes: () => readFileSync(join(dir, '.env'), 'utf8'),
      writeConfig(options = {}) {
        const services =
          app && !options.noServices
            ? {
                backend: {
                  // The restart command records its own argv and environment, for the leak greps.
                  restart: `${options.restartPrefix ?? ''}echo "$0 $*" >> child-argv.log; env >> child-env.log; ${app.restartCommand}`,
                  health: { url: options.health ?? `${app.url}/api/cache/ping`, timeoutSeconds: options.healthTimeout ?? 20 },
                },
              }
            : app
              ? {}
              : // Scenes without the app test the server's persistence: a restart that succeeds is enough there.
                { worker: { restart: 'true' } };
        const config = {
          services,
          secrets: {
            redis: {
              kind: 'redis',
              env: 'REDIS_URL',
              alsoUpdate: ['CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'],
              services: Object.keys(services),
              strategy: 'acl',
              graceHours: options.graceHours ?? 0,
            },
          },
        };
        writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
      },
    };
    s.writeConfig();
    if (app) {
      apps.push(app);
      await app.start();
    }
    return s;
  }

  const ping = async (app: StandInApp) => (await fetch(`${app.url}/api/cache/ping`)).status;
  const newPasswordOf = (s: Scene) => decodeURIComponent(new URL(s.env().REDIS_URL!).password);

  it('acl + aclfile: only the three URL lines change, old connections survive, the old password is refused, a Redis restart keeps the new one, nothing leaks', async () => {
    const s = await scene(aclServer, 1);
    const app = s.app!;
    expect(await ping(app)).toBe(200);
    const keeper = await aclServer.connect(KEEPER, 'keeper');
    const before = await dbsizes(keeper);
    const openedBefore = await aclServer.connect(s.old);

    const plan = await s.cli(['--dry-run', '--json', 'redis']);
    expect(plan.code, plan.stderr).toBe(0);
    const planned = JSON.parse(plan.stdout).results[0];
    expect(planned.status).toBe('planned');
    expect(planned.checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    expect(s.envBytes()).toBe(s.envText);

    const result = await s.cli(['redis', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0]).toMatchObject({ secret: 'redis', status: 'rotated' });
    expect(doc.results[0].facts).toMatchObject({ persistence: 'aclfile', user: 'default', keysBefore: 25 });
    expect(doc.results[0].steps).toEqual(planned.steps);

    const next = newPasswordOf(s);
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.envBytes()).toBe(withNew(s.envText, s.old, next));
    const env = s.env();
    expect(env.CELERY_BROKER_URL).toBe(`redis://:${next}@127.0.0.1:${aclServer.port}/1`);
    expect(env.CELERY_RESULT_BACKEND).toBe(`redis://:${next}@127.0.0.1:${aclServer.port}/2?socket_timeout=5&retry_on_timeout=true`);

    // The connection opened before the run was never cut; a fresh AUTH with the old password is refused.
    expect(await openedBefore.ping()).toBe('PONG');
    expect(await openedBefore.get('key:0:3')).toBe('value 3');
    openedBefore.disconnect();
    expect(await authAs(aclServer, s.old)).toBe('WRONGPASS');
    expect(await authAs(aclServer, next)).toBe('ok');
    expect(await dbsizes(keeper)).toEqual(before);
    keeper.disconnect();
    expect(await ping(app)).toBe(200); // the app was restarted on the new URL

    // The aclfile holds the new password's hash only.
    const aclText = readFileSync(aclServer.aclFile!, 'utf8');
    expect(aclText).toContain(sha256(next));
    expect(aclText).not.toContain(sha256(s.old));

    await aclServer.restart();
    expect(await authAs(aclServer, next)).toBe('ok');
    expect(await authAs(aclServer, s.old)).toBe('WRONGPASS');

    const history = await s.cli(['history', 'redis', '--json']);
    expect(JSON.parse(history.stdout).results[0]).toMatchObject({ secret: 'redis', result: 'rotated' });
    const verify = await s.cli(['verify', 'redis']);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    const texts = {
      ...readTree(join(s.dir, '.rotate')),
      stdout: plan.stdout + result.stdout + history.stdout + verify.stdout,
      stderr: plan.stderr + result.stderr + history.stderr + verify.stderr,
      'app.log': app.log(),
      'redis.log': readFileSync(aclServer.logFile, 'utf8'),
      aclfile: aclText,
      'redis argv': aclServer.argv().join(' '),
      'child-argv.log': readFileSync(join(s.dir, 'child-argv.log'), 'utf8'),
      'child-env.log': readFileSync(join(s.dir, 'child-env.log'), 'utf8'),
    };
    expect(findLeaks(texts, [s.old, next, KEEPER])).toEqual([]);
    expect(texts['child-env.log']).not.toContain(masterKey);
  });

  it('config file with requirepass: CONFIG REWRITE persists, the old plaintext leaves the file, both strategies', async () => {
    const s = await scene(confServer, 2, false);
    const conf = () => readFileSync(confServer.configFile!, 'utf8');
    // Put the platform's own setup back: the password as requirepass in the config file.
    const keeper = await confServer.connect(KEEPER, 'keeper');
    await keeper.call('CONFIG', 'SET', 'requirepass', s.old);
    await keeper.call('CONFIG', 'REWRITE');
    expect(conf()).toContain(s.old);

    const result = await s.cli(['redis', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).results[0]).toMatchObject({ status: 'rotated', facts: { persistence: 'config-file' } });
    const next = newPasswordOf(s);
    expect(s.envBytes()).toBe(withNew(s.envText, s.old, next));
    expect(conf()).not.toContain(s.old);
    expect(conf()).not.toContain(sha256(s.old));
    expect(await authAs(confServer, s.old)).toBe('WRONGPASS');

    // Strategy requirepass, on top: the file is rewritten again and holds neither earlier password.
    const config = JSON.parse(readFileSync(join(s.dir, 'rotate.config.json'), 'utf8'));
    config.secrets.redis.strategy = 'requirepass';
    writeFileSync(join(s.dir, 'rotate.config.json'), JSON.stringify(config));
    const second = await s.cli(['redis', '--yes', '--json']);
    expect(second.code, second.stderr).toBe(0);
    expect(second.stderr).toContain('requirepass');
    const third = newPasswordOf(s);
    expect(third).not.toBe(next);
    expect(s.envBytes()).toBe(withNew(s.envText, s.old, third));
    expect(conf()).not.toContain(next);
    expect(conf()).not.toContain(s.old);

    keeper.disconnect();
    await confServer.restart();
    expect(await authAs(confServer, third)).toBe('ok');
    expect(await authAs(confServer, next)).toBe('WRONGPASS');
    expect(await authAs(confServer, s.old)).toBe('WRONGPASS');

    const texts = { ...readTree(join(s.dir, '.rotate')), stdout: result.stdout + second.stdout, stderr: result.stderr + second.stderr };
    expect(findLeaks(texts, [s.old, next, third])).toEqual([]);
  });

  it('a server with neither file: refused naming --allow-unpersisted, nothing changed; with the flag it rotates', async () => {
    const s = await scene(bareServer, 3, false);
    const refused = await s.cli(['redis', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stdout + refused.stderr).toContain('--allow-unpersisted');
    expect(s.envBytes()).toBe(s.envText);
    expect(journalSteps(s.dir, 'redis')).toEqual([]);
    const keeper = await bareServer.connect(KEEPER, 'keeper');
    const acl = (await keeper.call('ACL', 'GETUSER', 'default')) as unknown[];
    expect(acl[acl.indexOf('passwords') + 1]).toEqual([sha256(s.old)]);
    expect(await authAs(bareServer, s.old)).toBe('ok');

    const allowed = await s.cli(['redis', '--yes', '--allow-unpersisted', '--json']);
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(JSON.parse(allowed.stdout).results[0]).toMatchObject({ status: 'rotated', facts: { persistence: 'none' } });
    const next = newPasswordOf(s);
    expect(s.envBytes()).toBe(withNew(s.envText, s.old, next));
    expect(await authAs(bareServer, next)).toBe('ok');
    expect(await authAs(bareServer, s.old)).toBe('WRONGPASS');
    keeper.disconnect();
  });

  it('a failure after apply rolls back: env bytes restored, the new password removed, the app back on the old', async () => {
    const s = await scene(aclServer, 4);
    // Healthy only while the env file holds the original bytes (the services "cannot work" with the new values)
    // and the app answers its cache ping.
    const health: Server = createServer((_req, res) => {
      const up = s.envBytes() === s.envText ? ping(s.app!).catch(() => 0) : Promise.resolve(503);
      void up.then((status) => res.writeHead(status === 200 ? 200 : 503).end());
    });
    const healthPort = await freePort();
    await new Promise<void>((r) => health.listen(healthPort, '127.0.0.1', r));
    try {
      s.writeConfig({ restartPrefix: 'cat .env >> seen.env; ', health: `http://127.0.0.1:${healthPort}/`, healthTimeout: 1.5 });
      const result = await s.cli(['redis', '--yes', '--json']);
      expect(result.code, result.stderr).toBe(1);
      const doc = JSON.parse(result.stdout);
      expect(doc.results[0]).toMatchObject({ status: 'rolled-back', error: { code: 'HEALTH_TIMEOUT' } });
      expect(s.envBytes()).toBe(s.envText);

      // The first restart saw the new URL; that password is gone from the server, the old one works.
      const seen = readFileSync(join(s.dir, 'seen.env'), 'utf8')
        .split('\n')
        .filter((l) => l.startsWith('REDIS_URL='));
      const next = seen.map((l) => decodeURIComponent(new URL(l.slice('REDIS_URL='.length)).password)).find((p) => p !== s.old)!;
      expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(await authAs(aclServer, next)).toBe('WRONGPASS');
      expect(await authAs(aclServer, s.old)).toBe('ok');
      const aclText = readFileSync(aclServer.aclFile!, 'utf8');
      expect(aclText).toContain(sha256(s.old));
      expect(aclText).not.toContain(sha256(next));
      expect(await ping(s.app!)).toBe(200); // restarted again, on the old URL
      const history = JSON.parse((await s.cli(['history', 'redis', '--json'])).stdout).results;
      expect(history[0]).toMatchObject({ result: 'rolled-back', error: { code: 'HEALTH_TIMEOUT' } });
      expect((await s.cli(['status'])).code).toBe(0);
    } finally {
      await new Promise((r) => health.close(r));
    }
  });

  it('after a kill in the middle, status exits 3 and resume undoes it: old password works, new refused', async () => {
    const s = await scene(aclServer, 5);
    // The restart hangs; killInRestart kills rotate there, then its restart shell and sleep (no orphan later).
    s.writeConfig({ restartPrefix: HANGING_RESTART });
    await killInRestart(s.dir, 'redis', ['redis', '--yes'], { ROTATE_MASTER_KEY: masterKey });
    expect(journalSteps(s.dir, 'redis').length).toBeGreaterThan(0);

    const next = newPasswordOf(s);
    expect(next).not.toBe(s.old);
    // Killed mid-way: both passwords are valid (the overlap), and the app still runs on the old one.
    expect(await authAs(aclServer, next)).toBe('ok');
    expect(await authAs(aclServer, s.old)).toBe('ok');

    const status = await s.cli(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain('rotate resume');
    expect((await s.cli(['redis', '--yes'])).code).toBe(3);

    s.writeConfig();
    const resume = await s.cli(['resume', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout).results[0].status).toBe('undone');
    expect(s.envBytes()).toBe(s.envText);
    expect(await authAs(aclServer, s.old)).toBe('ok');
    expect(await authAs(aclServer, next)).toBe('WRONGPASS');
    expect(readFileSync(aclServer.aclFile!, 'utf8')).not.toContain(sha256(next));
    expect(await ping(s.app!)).toBe(200);
    expect((await s.cli(['status'])).code).toBe(0);
  });

  it('--emergency: no grace, the old password is refused at once and a client still using it is cut', async () => {
    const s = await scene(aclServer, 6);
    s.writeConfig({ graceHours: 24 });
    const leaked = await aclServer.connect(s.old);
    let closed = false;
    leaked.on('end', () => (closed = true));
    expect(await leaked.ping()).toBe('PONG');

    const result = await s.cli(['redis', '--yes', '--json', '--emergency', '--reason', 'password in a CI log']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).results[0].status).toBe('rotated');
    const next = newPasswordOf(s);
    expect(await authAs(aclServer, s.old)).toBe('WRONGPASS');
    expect(await authAs(aclServer, next)).toBe('ok');
    expect(await waitUntil(() => closed, 1000, 50)).toBe(true);
    await expect(leaked.ping()).rejects.toThrow();
    leaked.disconnect();
    expect(await ping(s.app!)).toBe(200);
    const history = JSON.parse((await s.cli(['history', 'redis', '--json'])).stdout).results;
    expect(history[0]).toMatchObject({ result: 'rotated', reason: 'password in a CI log' });
  });

  it('graceHours keeps the old password valid, then --due retires it', async () => {
    const s = await scene(aclServer, 7);
    s.writeConfig({ graceHours: 0.001 }); // 3.6 seconds: status must still say grace on a loaded machine
    const result = await s.cli(['redis', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { status: state, graceUntil } = JSON.parse(result.stdout).results[0];
    expect(state).toBe('grace');
    const next = newPasswordOf(s);
    expect(s.envBytes()).toBe(withNew(s.envText, s.old, next));
    expect(await authAs(aclServer, s.old)).toBe('ok');
    expect(await authAs(aclServer, next)).toBe('ok');
    const status = JSON.parse((await s.cli(['status', '--json'])).stdout);
    expect(status.results[0]).toMatchObject({ secret: 'redis', state: 'grace' });

    expect(await waitPast(graceUntil)).toBe(true);
    const retire = await s.cli(['--due', '--json']);
    expect(retire.code, retire.stderr).toBe(0);
    expect(JSON.parse(retire.stdout).results.map((r: { status: string }) => r.status)).toEqual(['retired']);
    expect(await authAs(aclServer, s.old)).toBe('WRONGPASS');
    expect(await authAs(aclServer, next)).toBe('ok');
    expect(s.envBytes()).toBe(withNew(s.envText, s.old, next));
    expect(readFileSync(aclServer.aclFile!, 'utf8')).not.toContain(sha256(s.old));
  });

  // The sequence a new user tries (#22 item 3): written without a restart, the app restarted by hand, verify, --due.
  it('--no-restart, a restart by hand, verify: verify retires the old password at once (graceHours 0); --due and status agree', async () => {
    const s = await scene(aclServer, 11);
    s.writeConfig();
    const written = await s.cli(['redis', '--yes', '--no-restart']);
    expect(written.code, written.stderr).toBe(0);
    const next = newPasswordOf(s);
    expect(await authAs(aclServer, s.old)).toBe('ok'); // the app that was not restarted still uses it
    await s.app!.start(); // the restart by hand
    const verified = await s.cli(['verify', 'redis', '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout).results.map((r: { status: string }) => r.status)).toEqual(['verified', 'retired']);
    const due = await s.cli(['--due', '--json']);
    expect(due.code, due.stderr).toBe(0);
    expect(await authAs(aclServer, s.old)).toBe('WRONGPASS');
    expect(await authAs(aclServer, next)).toBe('ok');
    expect(JSON.parse((await s.cli(['status', '--json'])).stdout).results[0]).toMatchObject({ secret: 'redis', state: 'ok' });
    const history = JSON.parse((await s.cli(['history', '--json'])).stdout).results.map((e: { result: string }) => e.result);
    expect(history.slice(0, 3)).toEqual(['retired', 'verified', 'written']);
  });

  it('--no-restart, a restart by hand, verify with graceHours: the old password stays until the first --due after the grace', async () => {
    const s = await scene(aclServer, 12);
    s.writeConfig({ graceHours: 0.001 });
    expect((await s.cli(['redis', '--yes', '--no-restart'])).code).toBe(0);
    const next = newPasswordOf(s);
    await s.app!.start();
    const verified = await s.cli(['verify', 'redis', '--json']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(await authAs(aclServer, s.old)).toBe('ok');
    const status = JSON.parse((await s.cli(['status', '--json'])).stdout).results[0];
    expect(status).toMatchObject({ secret: 'redis', state: expect.stringMatching(/^(grace|retire-due)$/) });
    expect(await waitPast(status.graceUntil)).toBe(true);
    const due = await s.cli(['--due', '--json']);
    expect(due.code, due.stderr).toBe(0);
    expect(JSON.parse(due.stdout).results.map((r: { status: string }) => r.status)).toEqual(['retired']);
    expect(await authAs(aclServer, s.old)).toBe('WRONGPASS');
    expect(await authAs(aclServer, next)).toBe('ok');
    expect(JSON.parse((await s.cli(['status', '--json'])).stdout).results[0]).toMatchObject({ state: 'ok' });
  });

  it('rollback puts the previous password back in the env file and on the server, and refuses the rotated one', async () => {
    const s = await scene(aclServer, 8);
    expect((await s.cli(['redis', '--yes'])).code).toBe(0);
    const next = newPasswordOf(s);
    const back = await s.cli(['rollback', 'redis', '--yes', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).results[0].status).toBe('restored');
    expect(s.envBytes()).toBe(s.envText);
    expect(await authAs(aclServer, s.old)).toBe('ok');
    expect(await authAs(aclServer, next)).toBe('WRONGPASS');
    expect(await ping(s.app!)).toBe(200);
    const aclText = readFileSync(aclServer.aclFile!, 'utf8');
    expect(aclText).toContain(sha256(s.old));
    expect(aclText).not.toContain(sha256(next));
  });
});
