// `rotate database` with the passwords and URLs production env files really hold (a raw `@`, `%`, `#`, quotes,
// spaces; credentials in the query string), end to end with the built CLI against a private scram-sha-256 cluster.
// Every output rotate wrote (stdout, --json, history, journal, backups, the notification, the child's argv and env)
// is grepped for every part of the passwords.

import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { createAppDatabase, loginWith, readAppTables } from '../helpers/app-database.js';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';
import { startWebhook, type Webhook } from '../helpers/webhook.js';

const MASTER_KEY = 'e'.repeat(64);
const REFUSED = ['28P01', '28000'];

let server: PrivatePostgres;
let hook: Webhook;
const apps: StandInApp[] = [];

beforeAll(async () => {
  server = await startPrivatePostgres();
  hook = await startWebhook();
});

afterAll(async () => {
  await hook?.close();
  await server?.stop();
});

afterEach(async () => {
  for (const app of apps.splice(0)) await app.stop();
  hook.bodies.length = 0;
});

interface Scene {
  dir: string;
  envFile(): string;
  env(): Record<string, string>;
  cli(args: string[]): ReturnType<typeof runCli>;
  texts(...outputs: { stdout: string; stderr: string }[]): Record<string, string>;
  ready(): Promise<number>;
}

/** An app folder whose .env holds `lines`, restarted by rotate through the stand-in app. */
async function scene(lines: string[], secret: Record<string, unknown> = {}): Promise<Scene> {
  const dir = scratchDir('rotate-dbh-');
  writeFileSync(join(dir, '.env'), `${lines.join('\n')}\n`);
  const app = await standInApp(dir);
  apps.push(app);
  const config = {
    services: {
      backend: {
        restart: `env >> child-env.log; tr '\\0' ' ' < /proc/$$/cmdline >> child-argv.log; ${app.restartCommand}`,
        health: { url: `${app.url}/api/health/ready`, timeoutSeconds: 15 },
      },
    },
    secrets: { database: { kind: 'postgres', services: ['backend'], ...secret } },
    notify: { webhookUrl: hook.url, on: ['failure', 'needs-person', 'success'] },
  };
  writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  await app.start();
  const read = (name: string) => (existsSync(join(dir, name)) ? readFileSync(join(dir, name), 'latin1') : '');
  return {
    dir,
    envFile: () => readFileSync(join(dir, '.env'), 'utf8'),
    env: () => dotenv.parse(readFileSync(join(dir, '.env'))),
    cli: (args) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } }),
    texts: (...outputs) => ({
      ...readTree(join(dir, '.rotate')),
      stdout: outputs.map((o) => o.stdout).join('\n'),
      stderr: outputs.map((o) => o.stderr).join('\n'),
      notifications: hook.bodies.join('\n'),
      'app.log': app.log(),
      'child-env.log': read('child-env.log'),
      'child-argv.log': read('child-argv.log'),
    }),
    ready: async () => (await fetch(`${app.url}/api/health/ready`)).status,
  };
}

const tagged = (tag: string, texts: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(texts).map(([where, text]) => [`${tag}: ${where}`, text]));

/** Every piece of a password a leak could show: the whole, and each part between the URL's delimiters. */
const partsOf = (password: string): string[] => [password, ...password.split(/[@%#:'" ]/).filter((part) => part.length >= 6)];

describe('hostile database URLs', () => {
  it('a raw @ in the password (postgresql://app:Old@Secret99@host/db) rotates the right role and leaks nothing', async () => {
    const oldPassword = 'Old@Secret99';
    await createAppDatabase(server, 'app_at', oldPassword, 'atdb');
    const oldUrl = `postgresql://app_at:${oldPassword}@127.0.0.1:${server.port}/atdb`;
    const s = await scene(['APP_ENV=production', `DATABASE_URL=${oldUrl}`, 'LAST=x']);
    expect(await s.ready()).toBe(200); // node-postgres (the app) reads it as user app_at, password Old@Secret99

    const verify = await s.cli(['verify', 'database']);
    expect(verify.code, verify.stderr).toBe(0);
    const result = await s.cli(['database', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).results[0]).toMatchObject({ status: 'rotated' });

    const next = s.env().DATABASE_URL!;
    const newPassword = /^postgresql:\/\/app_at:([A-Za-z0-9_-]{43})@/.exec(next)?.[1];
    expect(newPassword).toBeDefined();
    expect(next).toBe(`postgresql://app_at:${newPassword}@127.0.0.1:${server.port}/atdb`);
    expect(s.envFile()).toBe(`APP_ENV=production\nDATABASE_URL=${next}\nLAST=x\n`);
    expect(await readAppTables(next)).toEqual({ users: 2, invoices: 1 });
    expect(REFUSED).toContain(await loginWith(oldUrl));
    expect(await s.ready()).toBe(200);

    const history = await s.cli(['history', '--json']);
    expect(hook.bodies.length).toBeGreaterThan(0);
    const texts = s.texts(verify, result, history);
    expect(findLeaks(texts, [...partsOf(oldPassword), newPassword!])).toEqual([]);
    expect(findLeaks(texts, ['Secret99'])).toEqual([]);
  });

  it('a password with quotes, spaces, #, %, @ and a newline (percent-encoded) rotates and leaks nothing', async () => {
    const oldPassword = `O'l"d #p@ss %zz\nline2 ${Date.now()}`;
    await createAppDatabase(server, 'app_odd', oldPassword, 'odddb');
    const oldUrl = `postgresql+asyncpg://app_odd:${encodeURIComponent(oldPassword)}@127.0.0.1:${server.port}/odddb`;
    const s = await scene([`DATABASE_URL=${oldUrl}`]);
    const result = await s.cli(['database', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const next = s.env().DATABASE_URL!;
    const newPassword = /^postgresql\+asyncpg:\/\/app_odd:([A-Za-z0-9_-]{43})@/.exec(next)?.[1];
    expect(newPassword).toBeDefined();
    expect(await readAppTables(next)).toEqual({ users: 2, invoices: 1 });
    expect(REFUSED).toContain(await loginWith(oldUrl));
    const history = await s.cli(['history', '--json']);
    expect(findLeaks(s.texts(result, history), [...partsOf(oldPassword), newPassword!])).toEqual([]);
  });

  it('a URL whose query sets password= or user= is refused with exit 2 before anything changes', async () => {
    await createAppDatabase(server, 'app_q', 'query-pass-1', 'qdb');
    for (const query of ['password=other-secret-9', 'user=postgres']) {
      const url = `postgresql://app_q:query-pass-1@127.0.0.1:${server.port}/qdb?${query}`;
      const s = await scene([`DATABASE_URL=${url}`]);
      const before = s.envFile();
      const result = await s.cli(['database', '--yes']);
      expect(result.code, result.stderr).toBe(2);
      expect(result.stderr).toContain('DATABASE_URL');
      expect(result.stderr).toContain('DATABASE_URL_CREDENTIAL_OVERRIDE');
      expect(s.envFile()).toBe(before);
      expect(await loginWith(`postgresql://app_q:query-pass-1@127.0.0.1:${server.port}/qdb`)).toBe('ok');
      expect(findLeaks(s.texts(result), ['query-pass-1', 'other-secret-9'])).toEqual([]);
      await apps.pop()?.stop();
    }
  });

  it('a role named `b<newline>CREATE TABLE pwn();--` (URL user or config) is refused with exit 2 and runs no SQL', async () => {
    const hostile = 'b\nCREATE TABLE pwn();--';
    const url = `postgresql://${encodeURIComponent(hostile)}:some-pass-123@127.0.0.1:${server.port}/postgres`;
    const s = await scene([`DATABASE_URL=${url}`], { strategy: 'alternate-roles', adminUrlEnv: 'ROTATE_TEST_ADMIN_URL' });
    const env = { ROTATE_MASTER_KEY: MASTER_KEY, ROTATE_TEST_ADMIN_URL: server.adminUrl() };
    const before = s.envFile();
    for (const args of [
      ['setup', 'database', '--apply'],
      ['setup', 'database'],
      ['database', '--yes'],
    ]) {
      const result = await runCli(args, { cwd: s.dir, env });
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain('POSTGRES_ROLE_NAME_INVALID');
      expect(result.stdout).not.toContain('CREATE TABLE pwn');
    }
    expect(s.envFile()).toBe(before);
    const created = await server.sql<{ t: string | null }>("SELECT to_regclass('public.pwn')::text AS t");
    expect(created.rows[0]!.t).toBeNull();

    // The same name in secrets.database.roles is a config error.
    const config = JSON.parse(readFileSync(join(s.dir, 'rotate.config.json'), 'utf8'));
    config.secrets.database.roles = { owner: hostile, logins: ['app_blue', 'app_green'] };
    writeFileSync(join(s.dir, 'rotate.config.json'), JSON.stringify(config));
    const fromConfig = await runCli(['setup', 'database', '--apply'], { cwd: s.dir, env });
    expect(fromConfig.code, fromConfig.stderr).toBe(2);
    expect(fromConfig.stderr).toContain('secrets.database.roles.owner');
    expect((await server.sql<{ t: string | null }>("SELECT to_regclass('public.pwn')::text AS t")).rows[0]!.t).toBeNull();
  });

  it('copies of the password: unlisted ones stop the run (exit 2, role unchanged); listed ones (URL and bare) all get the new one', async () => {
    const old = 'Copy@p%ss-w0rd:1';
    await createAppDatabase(server, 'app_copy', old, 'copydb');
    const at = `127.0.0.1:${server.port}/copydb`;
    const lines = [
      `DATABASE_URL=postgresql://app_copy:${old}@${at}`,
      `DATABASE_URL_SYNC=postgresql+psycopg://app_copy:${encodeURIComponent(old)}@${at}?sslmode=disable`,
      `POSTGRES_PASSWORD=${old}`,
      'POSTGRES_USER=app_copy',
    ];
    const s = await scene(lines);
    const before = s.envFile();
    const refused = await s.cli(['database', '--yes']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(refused.stderr).toContain('POSTGRES_COPY_NOT_LISTED');
    expect(refused.stderr).toContain('DATABASE_URL_SYNC, POSTGRES_PASSWORD');
    expect(s.envFile()).toBe(before);
    expect(await loginWith(`postgresql://app_copy:${encodeURIComponent(old)}@${at}`)).toBe('ok');

    // A listed key that holds another credential is bad input too.
    const other = await scene([...lines, `OTHER_URL=postgresql://someone:else-pass-1@${at}`], {
      alsoUpdate: ['DATABASE_URL_SYNC', 'POSTGRES_PASSWORD', 'OTHER_URL'],
    });
    const mismatch = await other.cli(['database', '--yes']);
    expect(mismatch.code, mismatch.stderr).toBe(2);
    expect(mismatch.stderr).toContain('POSTGRES_ALSO_UPDATE_MISMATCH');
    expect(mismatch.stderr).toContain('OTHER_URL');
    expect(await loginWith(`postgresql://app_copy:${encodeURIComponent(old)}@${at}`)).toBe('ok');

    const listed = await scene(lines, { alsoUpdate: ['DATABASE_URL_SYNC', 'POSTGRES_PASSWORD'] });
    const result = await listed.cli(['database', '--yes', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const env = listed.env();
    const next = env.POSTGRES_PASSWORD!;
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(env.DATABASE_URL).toBe(`postgresql://app_copy:${next}@${at}`);
    expect(env.DATABASE_URL_SYNC).toBe(`postgresql+psycopg://app_copy:${next}@${at}?sslmode=disable`);
    expect(env.POSTGRES_USER).toBe('app_copy');
    for (const url of [env.DATABASE_URL!, env.DATABASE_URL_SYNC!]) expect(await loginWith(url)).toBe('ok');
    expect(REFUSED).toContain(await loginWith(`postgresql://app_copy:${encodeURIComponent(old)}@${at}`));
    expect(
      findLeaks(
        { ...tagged('refused', s.texts(refused)), ...tagged('mismatch', other.texts(mismatch)), ...tagged('listed', listed.texts(result)) },
        [...partsOf(old), next, 'else-pass-1'],
      ),
    ).toEqual([]);
  });
});
