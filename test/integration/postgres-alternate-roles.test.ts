// The alternate-roles strategy against a private scram-sha-256 cluster that logs every statement: the one-time
// setup on a database whose tables a single app role owns, then rotations that alternate two login roles.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyRoleSetup, roleSetupSql, postgresRotator as rotator, setupRolesOf } from '../../src/secrets/postgres/index.js';
import type { PostgresSecretConfig } from '../../src/secrets/postgres/kind.js';
import type { Rotation } from '../../src/secrets/types.js';
import { createAppDatabase, loginWith, tableOwners } from '../helpers/app-database.js';
import { rotateThrough, type TestContext, testContext } from '../helpers/context.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';

let server: PrivatePostgres;
let current = { user: 'app', password: 'initial-alternate-Pass_0123456789' };
const seen: string[] = [];
const produced: string[] = [];

const urlOf = (user: string, password: string): string =>
  `postgresql+asyncpg://${user}:${password}@127.0.0.1:${server.port}/app?application_name=platform`;

const login = (user: string, password: string): Promise<string> => loginWith(server.url(user, password, 'app'));

function context(options: { admin?: boolean; emergency?: boolean } = {}): TestContext<PostgresSecretConfig> {
  return testContext<PostgresSecretConfig>({
    id: 'database',
    config: {
      kind: 'postgres',
      strategy: 'alternate-roles',
      alsoUpdate: ['DATABASE_URL_SYNC'],
      ...(options.admin === false ? {} : { adminUrlEnv: 'ROTATE_DATABASE_ADMIN_URL' }),
    },
    env: {
      DATABASE_URL: urlOf(current.user, current.password),
      DATABASE_URL_SYNC: server.url(current.user, current.password, 'app'),
    },
    environment: { ROTATE_DATABASE_ADMIN_URL: server.adminUrl('app') },
    emergency: options.emergency ?? false,
  });
}

async function rotate(ctx: TestContext<PostgresSecretConfig>): Promise<Rotation> {
  const { rotation, produced: outputs } = await rotateThrough(rotator, ctx);
  seen.push(rotation.secrets.newPassword!.reveal());
  produced.push(...outputs, ...ctx.logged);
  current = { user: String(rotation.facts.newUser), password: rotation.secrets.newPassword!.reveal() };
  return rotation;
}

const owners = async (): Promise<string[]> => [...new Set(Object.values(await tableOwners(server, 'app')))];

beforeAll(async () => {
  server = await startPrivatePostgres();
  seen.push(current.password);
  await createAppDatabase(server, 'app', current.password, 'app');
});

afterAll(async () => {
  await server?.stop();
});

describe('alternate-roles', () => {
  let first: Rotation;

  it('refuses with a clear error until the one-time setup ran', async () => {
    const ctx = context();
    const pre = await rotator.preflight(ctx);
    const layout = pre.checks.find((c) => c.name === 'alternate roles layout in place');
    expect(layout).toMatchObject({ ok: false });
    expect(layout?.detail).toContain('login role app_blue does not exist');
    expect(layout?.hint).toContain('rotate setup database');
    await expect(rotator.generate(ctx)).rejects.toMatchObject({
      code: 'POSTGRES_ROLES_NOT_SET_UP',
      hint: expect.stringContaining('rotate setup database --apply'),
    });
  });

  it('prints setup SQL that keeps the owner and applies it twice without harm', async () => {
    const ctx = context();
    const roles = setupRolesOf(ctx);
    expect(roles).toEqual({ owner: 'app', logins: ['app_blue', 'app_green'] });
    const sql = roleSetupSql(roles, ctx.id);
    expect(sql).toContain('CREATE ROLE "app_blue" LOGIN INHERIT;');
    expect(sql).toContain('GRANT "app" TO "app_green";');
    expect(sql).toContain(`ALTER ROLE "app_blue" SET role = 'app';`);
    expect(sql).not.toMatch(/REASSIGN|DROP|PASSWORD/);
    await applyRoleSetup(ctx);
    await applyRoleSetup(ctx);
    expect(await owners()).toEqual(['app']);
    expect(await login(current.user, current.password)).toBe('ok'); // the app is not disturbed by the setup
  });

  it('moves the app from the owner to a login role; the owner keeps its tables and becomes NOLOGIN', async () => {
    const ctx = context();
    const old = current;
    first = await rotate(ctx);
    expect(first.facts).toMatchObject({ strategy: 'alternate-roles', oldUser: 'app', newUser: 'app_blue', owner: 'app' });
    expect(ctx.env.DATABASE_URL).toBe(urlOf('app_blue', current.password));
    expect(ctx.env.DATABASE_URL_SYNC).toBe(server.url('app_blue', current.password, 'app'));
    expect(await login('app_blue', current.password)).toBe('ok');
    expect(['28000', '28P01']).toContain(await login('app', old.password));
    expect(await owners()).toEqual(['app']);
    const canLogin = await server.sql<{ l: boolean }>(`SELECT rolcanlogin AS l FROM pg_roles WHERE rolname = 'app'`);
    expect(canLogin.rows[0]?.l).toBe(false);
  });

  it('objects a login role creates belong to the owner, so the other role reads them', async () => {
    const client = new pg.Client({ connectionString: server.url(current.user, current.password, 'app') });
    await client.connect();
    await client.query('CREATE TABLE created_by_migration (id int)');
    await client.end();
    expect(await owners()).toEqual(['app']);
  });

  it('alternates to the idle role; sessions of the old one may finish, new logins are refused', async () => {
    const held = new pg.Client({ connectionString: server.url(current.user, current.password, 'app') });
    held.on('error', () => {});
    await held.connect();
    const old = current;
    const rotation = await rotate(context());
    expect(rotation.facts).toMatchObject({ oldUser: 'app_blue', newUser: 'app_green', readableTables: 3 });
    expect((await held.query('SELECT count(*) AS n FROM users')).rows[0].n).toBe('2');
    expect(await login(old.user, old.password)).toBe('28P01');
    expect(await login(current.user, current.password)).toBe('ok');
    await held.end();
  });

  it('--emergency also ends the old role sessions', async () => {
    const held = new pg.Client({ connectionString: server.url(current.user, current.password, 'app') });
    held.on('error', () => {});
    await held.connect();
    await rotate(context({ emergency: true }));
    await expect(held.query('SELECT 1')).rejects.toThrow();
    await held.end().catch(() => {});
  });

  it('undoApply expires the idle role again (idempotent); the current role keeps working', async () => {
    const ctx = context();
    const rotation = await rotator.generate(ctx);
    const idle = String(rotation.facts.newUser);
    const password = rotation.secrets.newPassword!.reveal();
    seen.push(password);
    await rotator.apply(ctx, rotation);
    await rotator.apply(ctx, rotation);
    expect(await login(idle, password)).toBe('ok');
    await rotator.undoApply(ctx, rotation);
    await rotator.undoApply(ctx, rotation);
    expect(await login(idle, password)).toBe('28P01');
    expect((await rotator.verifyCurrent(ctx)).filter((c) => !c.ok)).toEqual([]);
    produced.push(JSON.stringify(rotation), ...ctx.logged);
  });

  it('rolls back to the role and password the last rotation replaced', async () => {
    const last = await rotate(context());
    const ctx = context();
    const back = await rotator.generate(ctx, last);
    expect(back.facts.newUser).toBe(last.facts.oldUser);
    await rotator.apply(ctx, back);
    expect(await login(String(last.facts.oldUser), last.secrets.oldPassword!.reveal())).toBe('ok');
    await rotator.undoApply(ctx, back);
  });

  it('without an admin URL, preflight says the login role may not alter the other', async () => {
    const pre = await rotator.preflight(context({ admin: false }));
    expect(pre.checks.find((c) => c.id === 'database-may-alter-role')).toMatchObject({ ok: false });
  });

  it('never leaks a password into the server log or anything the rotator produced', () => {
    const log = server.log();
    expect(log).toContain('SET LOCAL log_statement');
    for (const password of seen) {
      expect(log).not.toContain(password);
      for (const text of produced) expect(text).not.toContain(password);
    }
  });
});
