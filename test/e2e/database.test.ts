import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import dotenv from 'dotenv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { createAppDatabase, loginWith, readAppTables, roleCanLogin, tableOwners } from '../helpers/app-database.js';
import { findLeaks, freePort, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';
import { HANGING_RESTART, killInRestart } from '../helpers/wait.js';

const MASTER_KEY = 'd'.repeat(64);
const ADMIN_ENV = 'ROTATE_DATABASE_ADMIN_URL';
const NEW_PASSWORD = /^[A-Za-z0-9_-]{43}$/;

let server: PrivatePostgres;

beforeAll(async () => {
  server = await startPrivatePostgres();
});

afterAll(async () => {
  await server?.stop();
});

/** A password of the shape a person sets by hand: `@` and `%` must be percent-encoded in the URL. */
const handSetPassword = (label: string): string => `${label}@Pass%${randomBytes(9).toString('base64url')}`;

const urlOf = (role: string, password: string, db: string, port = server.port): string =>
  `postgresql+asyncpg://${role}:${encodeURIComponent(password)}@127.0.0.1:${port}/${db}`;

const envText = (databaseUrl: string): string =>
  [
    '# CryptoOrchestrator production settings',
    '',
    'export APP_ENV=production',
    '# Database (SQLAlchemy + asyncpg)',
    `DATABASE_URL=${databaseUrl}`,
    'JWT_SECRET="an-unrelated-signing-secret-0123456789abcdef"   # not this rotation',
    '# Celery',
    'CELERY_BROKER_URL=redis://:cachepass@redis:6379/0 # broker',
    'EMPTY=',
    'LAST_LINE=no-final-newline',
  ].join('\n');

interface Scene {
  dir: string;
  app: StandInApp;
  role: string;
  db: string;
  oldPassword: string;
  oldUrl: string;
  original: string;
  envFile(): string;
  databaseUrl(): string;
  cli(args: string[], env?: Record<string, string | undefined>): ReturnType<typeof runCli>;
  configure(options?: SceneOptions): void;
  ready(): Promise<number>;
  /** Everything rotate printed or wrote and everything its children saw, for the leak greps. */
  texts(...outputs: { stdout: string; stderr: string }[]): Record<string, string>;
}

interface SceneOptions {
  strategy?: 'alter-password' | 'alternate-roles';
  admin?: boolean;
  /** Runs before the restart of the app (after the argv/env dumps). */
  restartPrefix?: string;
  restart?: string;
  healthTimeoutSeconds?: number;
}

const scenes: Scene[] = [];

async function scene(role: string, db: string, options: SceneOptions = {}): Promise<Scene> {
  const oldPassword = handSetPassword(role);
  await createAppDatabase(server, role, oldPassword, db);
  const dir = scratchDir(`rotate-db-${role}-`);
  const oldUrl = urlOf(role, oldPassword, db);
  const original = envText(oldUrl);
  writeFileSync(join(dir, '.env'), original);
  const app = await standInApp(dir);
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'latin1') : '');
  const s: Scene = {
    dir,
    app,
    role,
    db,
    oldPassword,
    oldUrl,
    original,
    envFile: () => readFileSync(join(dir, '.env'), 'utf8'),
    databaseUrl: () => dotenv.parse(readFileSync(join(dir, '.env'))).DATABASE_URL!,
    cli: (args, env = {}) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY, [ADMIN_ENV]: undefined, ...env } }),
    configure(o = options) {
      const config = {
        services: {
          backend: {
            // The restart command also records its own argv and environment, for the leak greps.
            restart: `tr '\\0' ' ' < /proc/$$/cmdline >> child-argv.log; echo >> child-argv.log; env >> child-env.log; ${o.restartPrefix ?? ''}${o.restart ?? app.restartCommand}`,
            health: { url: `${app.url}/api/health/ready`, timeoutSeconds: o.healthTimeoutSeconds ?? 15 },
          },
        },
        secrets: {
          database: {
            kind: 'postgres',
            services: ['backend'],
            strategy: o.strategy ?? 'alter-password',
            ...(o.admin ? { adminUrlEnv: ADMIN_ENV } : {}),
          },
        },
      };
      writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
    },
    async ready() {
      return (await fetch(`${app.url}/api/health/ready`)).status;
    },
    texts(...outputs) {
      return {
        ...readTree(join(dir, '.rotate')),
        stdout: outputs.map((o) => o.stdout).join('\n'),
        stderr: outputs.map((o) => o.stderr).join('\n'),
        'app.log': app.log(),
        'child-argv.log': read('child-argv.log'),
        'child-env.log': read('child-env.log'),
      };
    },
  };
  s.configure(options);
  await app.start();
  scenes.push(s);
  expect(await s.ready()).toBe(200);
  return s;
}

afterEach(async () => {
  for (const s of scenes.splice(0)) await s.app.stop();
});

const REFUSED = ['28P01', '28000'];

describe('rotate database end to end', () => {
  it('alter-password: only DATABASE_URL changes, the new password reaches the tables, the old one is refused', async () => {
    const s = await scene('app', 'appdb');
    const ownersBefore = await tableOwners(server, 'appdb');
    expect(Object.values(ownersBefore)).toEqual(['app', 'app']);
    const logFrom = server.log().length;
    const pidBefore = readFileSync(join(s.dir, 'app.pid'), 'utf8');

    const plan = JSON.parse((await s.cli(['database', '--dry-run', '--json'])).stdout).results[0];
    const result = await s.cli(['database', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, ok: true });
    expect(doc.results[0]).toMatchObject({ secret: 'database', kind: 'postgres', status: 'rotated' });
    expect(doc.results[0].steps).toEqual(plan.steps);

    const next = s.databaseUrl();
    const newPassword = decodeURIComponent(/^postgresql\+asyncpg:\/\/app:([^@]*)@/.exec(next)![1]!);
    expect(newPassword).toMatch(NEW_PASSWORD);
    expect(next).toBe(`postgresql+asyncpg://app:${newPassword}@127.0.0.1:${server.port}/appdb`);
    expect(s.envFile()).toBe(s.original.replace(s.oldUrl, next));

    expect(await readAppTables(next)).toEqual({ users: 2, invoices: 1 });
    expect(REFUSED).toContain(await loginWith(s.oldUrl));
    expect(readFileSync(join(s.dir, 'app.pid'), 'utf8')).not.toBe(pidBefore); // a new process, on the new URL
    expect(await s.ready()).toBe(200);
    expect(await tableOwners(server, 'appdb')).toEqual(ownersBefore);

    // Without an admin URL the role changes its own password: the statement may be logged, with a verifier only.
    const log = server.log();
    expect(log.slice(logFrom)).toContain(`ALTER ROLE "app" PASSWORD 'SCRAM-SHA-256$4096:`);
    expect(findLeaks({ 'server.log': log }, [s.oldPassword, newPassword])).toEqual([]);
    expect(findLeaks(s.texts(result), [s.oldPassword, newPassword])).toEqual([]);
    expect(readFileSync(join(s.dir, 'child-argv.log'), 'utf8')).toContain('restart.mjs');
    expect(readFileSync(join(s.dir, 'child-env.log'), 'utf8')).toContain('PATH=');
  });

  it('with adminUrlEnv the admin session changes it and the ALTER ROLE is not logged at all', async () => {
    const s = await scene('app_admin', 'admindb', { admin: true });
    const ownersBefore = await tableOwners(server, 'admindb');
    const logFrom = server.log().length;

    const missing = await s.cli(['database', '--yes', '--json']);
    // A missing admin URL is a failing preflight check (exit 1, nothing touched) that names the variable.
    expect(missing.code).toBe(1);
    const missingDoc = JSON.parse(missing.stdout).results[0];
    expect(missingDoc).toMatchObject({ status: 'failed', error: { code: 'PREFLIGHT_FAILED' } });
    expect(missingDoc.checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([
      expect.objectContaining({ name: 'postgres_admin_url_missing', detail: expect.stringContaining(ADMIN_ENV) }),
    ]);
    expect(s.envFile()).toBe(s.original);

    const result = await s.cli(['database', '--yes', '--json'], { [ADMIN_ENV]: server.adminUrl() });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).results[0].status).toBe('rotated');
    const next = s.databaseUrl();
    const newPassword = decodeURIComponent(/:\/\/app_admin:([^@]*)@/.exec(next)![1]!);
    expect(newPassword).toMatch(NEW_PASSWORD);
    expect(s.envFile()).toBe(s.original.replace(s.oldUrl, next));
    expect(next.startsWith('postgresql+asyncpg://')).toBe(true);

    expect(await readAppTables(next)).toEqual({ users: 2, invoices: 1 });
    expect(REFUSED).toContain(await loginWith(s.oldUrl));
    expect(await s.ready()).toBe(200);
    expect(await tableOwners(server, 'admindb')).toEqual(ownersBefore);

    const log = server.log();
    expect(log.slice(logFrom)).toContain('SET LOCAL log_statement'); // the log is on, and rotate turned it off
    expect(log.slice(logFrom)).not.toContain('ALTER ROLE');
    expect(log.slice(logFrom)).not.toContain('SCRAM-SHA-256$');
    expect(findLeaks({ 'server.log': log }, [s.oldPassword, newPassword])).toEqual([]);
    const texts = s.texts(missing, result);
    expect(findLeaks(texts, [s.oldPassword, newPassword, server.superPassword])).toEqual([]);
  });

  it('a failure after apply rolls back: original bytes, the old password works again, the new one does not', async () => {
    const s = await scene('app_fail', 'faildb');
    // The app is restarted on a stale copy of the env file, so it keeps the old password and is never ready; the
    // restart command also keeps a copy of what .env held at that moment, to learn the new password.
    writeFileSync(join(s.dir, 'stale.env'), s.original);
    s.configure({
      restartPrefix: '[ -e seen-at-restart.env ] || cp .env seen-at-restart.env; ',
      restart: s.app.restartCommand.replace('--env-file .env', '--env-file stale.env'),
      healthTimeoutSeconds: 2,
    });
    const result = await s.cli(['database', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0].status).toBe('rolled-back');
    expect(doc.results[0].error.code).toBe('HEALTH_TIMEOUT');

    const seen = dotenv.parse(readFileSync(join(s.dir, 'seen-at-restart.env'))).DATABASE_URL!;
    expect(seen).not.toBe(s.oldUrl);
    const newPassword = decodeURIComponent(/:\/\/app_fail:([^@]*)@/.exec(seen)![1]!);
    expect(s.envFile()).toBe(s.original);
    expect(await loginWith(s.oldUrl)).toBe('ok');
    expect(REFUSED).toContain(await loginWith(seen));
    expect(await s.ready()).toBe(200);

    const history = await s.cli(['history', 'database', '--json']);
    expect(JSON.parse(history.stdout).results[0]).toMatchObject({ result: 'rolled-back', error: { code: 'HEALTH_TIMEOUT' } });
    expect((await s.cli(['status'])).code).toBe(0);
    expect(findLeaks({ 'server.log': server.log() }, [s.oldPassword, newPassword])).toEqual([]);
    expect(findLeaks(s.texts(result, history), [s.oldPassword, newPassword])).toEqual([]);
  });

  it('after a SIGKILL during the restart, status exits 3 and resume undoes it', async () => {
    const s = await scene('app_kill', 'killdb');
    s.configure({ restartPrefix: HANGING_RESTART });
    await killInRestart(s.dir, 'database', ['database', '--yes'], { ROTATE_MASTER_KEY: MASTER_KEY });

    const next = s.databaseUrl();
    expect(next).not.toBe(s.oldUrl); // killed after the new URL was written
    const newPassword = decodeURIComponent(/:\/\/app_kill:([^@]*)@/.exec(next)![1]!);
    expect(REFUSED).toContain(await loginWith(s.oldUrl)); // and after the password was changed

    const status = await s.cli(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain('rotate resume');

    s.configure({});
    const resume = await s.cli(['resume', '--json']);
    expect(resume.code, resume.stderr).toBe(0);
    expect(JSON.parse(resume.stdout).results[0].status).toBe('undone');
    expect(s.envFile()).toBe(s.original);
    expect(await loginWith(s.oldUrl)).toBe('ok');
    expect(REFUSED).toContain(await loginWith(next));
    expect(await s.ready()).toBe(200);
    expect((await s.cli(['status'])).code).toBe(0);
    expect(findLeaks({ 'server.log': server.log() }, [s.oldPassword, newPassword])).toEqual([]);
    expect(findLeaks(s.texts(status, resume), [s.oldPassword, newPassword])).toEqual([]);
  });

  it('alternate-roles: setup prints then applies, rotations alternate the login role, the owner keeps its tables', async () => {
    const s = await scene('shop', 'shopdb', { strategy: 'alternate-roles', admin: true });
    const admin = { [ADMIN_ENV]: server.adminUrl() };
    const ownersBefore = await tableOwners(server, 'shopdb');

    const refused = await s.cli(['database', '--yes', '--json'], admin);
    expect(refused.code).toBe(1);
    const failedDoc = JSON.parse(refused.stdout).results[0];
    expect(failedDoc.status).toBe('failed');
    expect(failedDoc.checks.find((c: { ok: boolean }) => !c.ok).hint).toContain('rotate setup database');
    expect(s.envFile()).toBe(s.original);

    const printed = await s.cli(['setup', 'database']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toContain('CREATE ROLE "shop_blue" LOGIN INHERIT;');
    expect(printed.stdout).toContain('GRANT "shop" TO "shop_green";');
    expect(printed.stdout).not.toMatch(/PASSWORD|DROP|REASSIGN/);
    expect(await roleCanLogin(server, 'shop_blue')).toBeUndefined(); // printing changes nothing

    const applied = await s.cli(['setup', 'database', '--apply'], admin);
    expect(applied.code, applied.stderr).toBe(0);
    expect(await roleCanLogin(server, 'shop_blue')).toBe(true);
    expect(await roleCanLogin(server, 'shop_green')).toBe(true);
    expect(await loginWith(s.oldUrl)).toBe('ok'); // the setup does not disturb the running app
    expect(await s.ready()).toBe(200);

    const outputs = [refused, printed, applied];
    const passwords = [s.oldPassword];
    let previous = s.oldUrl;
    for (const expected of ['shop_blue', 'shop_green']) {
      // Zero downtime for the database: while rotate runs, the app is restarting (no answer) or ready, never 503.
      const answers: number[] = [];
      let polling = true;
      const poller = (async () => {
        while (polling) {
          answers.push(await s.ready().catch(() => 0));
          await sleep(10);
        }
      })();
      const result = await s.cli(['database', '--yes', '--json'], admin);
      polling = false;
      await poller;
      expect(answers.filter((a) => a !== 200 && a !== 0)).toEqual([]);
      // The poller ran while rotate did (how many answers depends on the machine's speed, so only that it answered).
      expect(answers.filter((a) => a === 200).length).toBeGreaterThan(0);
      outputs.push(result);
      expect(result.code, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout).results[0].status).toBe('rotated');
      const next = s.databaseUrl();
      const match = /^postgresql\+asyncpg:\/\/([^:]+):([^@]+)@/.exec(next)!;
      expect(match[1]).toBe(expected);
      passwords.push(decodeURIComponent(match[2]!));
      expect(s.envFile()).toBe(s.original.replace(s.oldUrl, next));
      expect(await readAppTables(next)).toEqual({ users: 2, invoices: 1 });
      expect(await s.ready()).toBe(200);
      expect(REFUSED).toContain(await loginWith(previous));
      expect(await tableOwners(server, 'shopdb')).toEqual(ownersBefore);
      previous = next;
    }
    expect(await roleCanLogin(server, 'shop')).toBe(false); // the owner no longer logs in; it still owns everything
    expect(Object.values(ownersBefore)).toEqual(['shop', 'shop']);
    expect(findLeaks({ 'server.log': server.log() }, passwords)).toEqual([]);
    expect(findLeaks(s.texts(...outputs), [...passwords, server.superPassword])).toEqual([]);
  });

  it('--dry-run names the failing check and changes nothing; rollback puts the previous password back', async () => {
    const s = await scene('app_dry', 'drydb');
    const dry = async (databaseUrl: string) => {
      writeFileSync(join(s.dir, '.env'), envText(databaseUrl));
      const result = await s.cli(['--dry-run', '--json', 'database']);
      expect(s.envFile()).toBe(envText(databaseUrl));
      return result;
    };
    const wrong = await dry(urlOf('app_dry', 'not-the-password', 'drydb'));
    expect(wrong.code).toBe(1);
    const wrongDoc = JSON.parse(wrong.stdout);
    expect(wrongDoc).toMatchObject({ dryRun: true, ok: false });
    expect(wrongDoc.results[0].checks.filter((c: { ok: boolean }) => !c.ok)).toEqual([
      expect.objectContaining({ name: 'DATABASE_URL connects', detail: expect.stringContaining('28P01') }),
    ]);

    const down = await dry(urlOf('app_dry', s.oldPassword, 'drydb', await freePort()));
    expect(down.code).toBe(1);
    const downChecks = JSON.parse(down.stdout).results[0].checks.filter((c: { ok: boolean }) => !c.ok);
    expect(downChecks.map((c: { name: string }) => c.name)).toEqual(['DATABASE_URL connects']);
    expect(existsSync(join(s.dir, '.rotate/history.jsonl'))).toBe(false);
    expect(await loginWith(s.oldUrl)).toBe('ok'); // nothing was changed on the server either

    writeFileSync(join(s.dir, '.env'), s.original);
    const ok = await s.cli(['--dry-run', '--json', 'database']);
    expect(ok.code, ok.stdout).toBe(0);
    expect(JSON.parse(ok.stdout).results[0].status).toBe('planned');

    const rotated = await s.cli(['database', '--yes', '--json']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const next = s.databaseUrl();
    const newPassword = decodeURIComponent(/:\/\/app_dry:([^@]*)@/.exec(next)![1]!);
    expect(REFUSED).toContain(await loginWith(s.oldUrl));

    const back = await s.cli(['rollback', 'database', '--yes', '--json']);
    expect(back.code, back.stderr).toBe(0);
    expect(JSON.parse(back.stdout).results[0].status).toBe('restored');
    expect(s.envFile()).toBe(s.original);
    expect(await loginWith(s.oldUrl)).toBe('ok');
    expect(REFUSED).toContain(await loginWith(next));
    expect(await readAppTables(s.oldUrl)).toEqual({ users: 2, invoices: 1 });
    expect(await s.ready()).toBe(200);
    expect(findLeaks({ 'server.log': server.log() }, [s.oldPassword, newPassword])).toEqual([]);
    expect(findLeaks(s.texts(wrong, down, ok, rotated, back), [s.oldPassword, newPassword])).toEqual([]);
  });
});
