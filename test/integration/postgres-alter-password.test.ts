// The alter-password strategy against a private scram-sha-256 cluster that logs every statement.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretValue } from '../../src/secret-value.js';
import { postgresRotator as rotator } from '../../src/secrets/postgres/index.js';
import type { PostgresSecretConfig } from '../../src/secrets/postgres/kind.js';
import { parseScramVerifier, scramVerifier } from '../../src/secrets/postgres/scram.js';
import type { Rotation } from '../../src/secrets/types.js';
import { createAppDatabase, loginWith as login, tableOwners } from '../helpers/app-database.js';
import { freePort } from '../helpers/cli.js';
import { rotateThrough, type TestContext, testContext } from '../helpers/context.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';

let server: PrivatePostgres;
let oldPassword: string;
const seen: string[] = []; // every password this file used, for the log grep
const produced: string[] = []; // everything the rotator produced, for the leak grep

/** Sets a password the way the rotator does (verifier only), so the setup never logs a plaintext either. */
async function setPassword(role: string, password: string): Promise<void> {
  seen.push(password);
  await server.sql(`ALTER ROLE ${pg.escapeIdentifier(role)} LOGIN PASSWORD ${pg.escapeLiteral(scramVerifier(password))}`);
}

const appEnv = (password: string) => ({
  DATABASE_URL: `postgresql+asyncpg://app:${password}@127.0.0.1:${server.port}/app?application_name=platform`,
  DATABASE_URL_SYNC: `postgresql://app:${password}@127.0.0.1:${server.port}/app`,
  UNRELATED: 'keep-me',
});

function context(options: { admin?: boolean; emergency?: boolean } = {}): TestContext<PostgresSecretConfig> {
  return testContext<PostgresSecretConfig>({
    id: 'database',
    config: {
      kind: 'postgres',
      alsoUpdate: ['DATABASE_URL_SYNC', 'CELERY_DB_URL'],
      ...(options.admin ? { adminUrlEnv: 'ROTATE_DATABASE_ADMIN_URL' } : {}),
    },
    env: appEnv(oldPassword),
    environment: options.admin ? { ROTATE_DATABASE_ADMIN_URL: server.adminUrl('app') } : {},
    emergency: options.emergency ?? false,
  });
}

/** What the engine does between apply and verify: write the env file, reload ctx.env. */
/** One whole rotation, as the engine runs it; returns the rotation and the new password. */
async function rotate(ctx: TestContext<PostgresSecretConfig>): Promise<{ rotation: Rotation; password: string }> {
  const { rotation, produced: outputs } = await rotateThrough(rotator, ctx);
  const password = rotation.secrets.newPassword!.reveal();
  seen.push(password);
  produced.push(...outputs, ...ctx.logged);
  oldPassword = password;
  return { rotation, password };
}

/** A new password generated and applied to the role, not yet in the env: the old one, the rotation, the new one. */
async function generateAndApply(ctx: TestContext<PostgresSecretConfig>) {
  const old = oldPassword;
  const rotation = await rotator.generate(ctx);
  const password = rotation.secrets.newPassword!.reveal();
  seen.push(password);
  await rotator.apply(ctx, rotation);
  return { old, rotation, password };
}

const owners = () => tableOwners(server, 'app');

beforeAll(async () => {
  server = await startPrivatePostgres();
  oldPassword = 'initial-Pass_word-0123456789';
  seen.push(oldPassword);
  // The app's role owns its tables, as the platform's migrations leave them.
  await createAppDatabase(server, 'app', oldPassword, 'app');
  await server.sql(
    'SET ROLE app; CREATE TABLE exchange_api_keys (id serial PRIMARY KEY, api_key_encrypted text NOT NULL)',
    undefined,
    'app',
  );
});

afterAll(async () => {
  await server?.stop();
});

describe('SCRAM verifier against PostgreSQL itself', () => {
  it('equals the verifier the server computes from the plaintext, given the same salt', async () => {
    const password = 'kat-only-password-Ω';
    await server.sql('CREATE ROLE kat LOGIN');
    // Only for this known-answer test: the server hashes a plaintext (a throwaway role and password).
    await server.sql(`SET password_encryption = 'scram-sha-256'; ALTER ROLE kat PASSWORD ${pg.escapeLiteral(password)}`);
    const stored = (await server.sql<{ p: string }>(`SELECT rolpassword AS p FROM pg_authid WHERE rolname = 'kat'`)).rows[0]!.p;
    const parsed = parseScramVerifier(stored)!;
    expect(scramVerifier(password, { salt: parsed.salt, iterations: parsed.iterations })).toBe(stored);
  });

  it('lets a client log in with a password set only as our verifier', async () => {
    await server.sql('CREATE ROLE kat2');
    await setPassword('kat2', 'client-side-verifier-pw');
    expect(await login(server.url('kat2', 'client-side-verifier-pw'))).toBe('ok');
    expect(await login(server.url('kat2', 'something-else'))).toBe('28P01');
  });
});

describe('alter-password', () => {
  it('rotates the app role by itself: new login works, old refused, tables still owned by app', async () => {
    const before = await owners();
    expect(Object.values(before)).toEqual(['app', 'app', 'app']);
    const ctx = context();
    const pre = await rotator.preflight(ctx);
    expect(pre.facts).toMatchObject({ role: 'app', readableTables: 3, strategy: 'alter-password' });
    const old = oldPassword;
    const logBefore = server.log().length;
    const { rotation, password } = await rotate(ctx);
    expect(password).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(ctx.env.DATABASE_URL).toBe(appEnv(password).DATABASE_URL);
    expect(ctx.env.DATABASE_URL_SYNC).toBe(appEnv(password).DATABASE_URL_SYNC);
    expect(ctx.env.UNRELATED).toBe('keep-me');
    expect(Object.keys(rotation.env).sort()).toEqual(['DATABASE_URL', 'DATABASE_URL_SYNC']);
    expect(rotation.facts).toMatchObject({ oldUser: 'app', newUser: 'app', readableTables: 3 });
    expect(await login(appEnv(password).DATABASE_URL_SYNC)).toBe('ok');
    expect(await login(appEnv(old).DATABASE_URL_SYNC)).toBe('28P01');
    expect(await owners()).toEqual(before);
    // Not a superuser: the statement was logged, but it carried a verifier only.
    expect(server.log().slice(logBefore)).toMatch(/ALTER ROLE "app" PASSWORD 'SCRAM-SHA-256\$4096:/);
  });

  it('with an admin URL, turns statement logging off around the change', async () => {
    const ctx = context({ admin: true });
    const logBefore = server.log().length;
    const { password } = await rotate(ctx);
    expect(await login(appEnv(password).DATABASE_URL_SYNC)).toBe('ok');
    const logged = server.log().slice(logBefore);
    expect(logged).toContain(`SET LOCAL log_statement = 'none'`);
    expect(logged).not.toContain('ALTER ROLE');
  });

  it('is idempotent, and undoApply puts the old password back (also twice)', async () => {
    const ctx = context();
    const { old, rotation, password } = await generateAndApply(ctx);
    await rotator.apply(ctx, rotation);
    expect(await login(appEnv(password).DATABASE_URL_SYNC)).toBe('ok');
    await rotator.undoApply(ctx, rotation);
    await rotator.undoApply(ctx, rotation);
    expect(await login(appEnv(old).DATABASE_URL_SYNC)).toBe('ok');
    expect(await login(appEnv(password).DATABASE_URL_SYNC)).toBe('28P01');
    expect((await rotator.verifyCurrent(ctx)).filter((c) => !c.ok)).toEqual([]);
    produced.push(JSON.stringify(rotation), ...ctx.logged);
  });

  it('undoes from the journal alone, as `rotate resume` does in a new process', async () => {
    const ctx = context();
    const { old, rotation, password } = await generateAndApply(ctx);
    // What the engine reads back: secrets unsealed into new SecretValues, facts through JSON (no appliedAt).
    const journaled: Rotation = {
      env: {},
      secrets: Object.fromEntries(Object.entries(rotation.secrets).map(([k, v]) => [k, new SecretValue(v!.reveal())])),
      facts: JSON.parse(JSON.stringify({ ...rotation.facts, appliedAt: undefined })),
    };
    await rotator.undoApply(context(), journaled);
    expect(await login(appEnv(old).DATABASE_URL_SYNC)).toBe('ok');
    expect(await login(appEnv(password).DATABASE_URL_SYNC)).toBe('28P01');
  });

  it('rolls back to the previous password with generate(ctx, restore)', async () => {
    const first = await rotate(context());
    const beforeFirst = first.rotation.secrets.oldPassword!.reveal();
    const ctx = context();
    const back = await rotator.generate(ctx, first.rotation);
    expect(back.secrets.newPassword!.reveal()).toBe(beforeFirst);
    await rotator.apply(ctx, back);
    expect(await login(appEnv(beforeFirst).DATABASE_URL_SYNC)).toBe('ok');
    expect(await login(appEnv(first.password).DATABASE_URL_SYNC)).toBe('28P01');
    oldPassword = beforeFirst;
  });

  it('--emergency ends sessions opened with the old password', async () => {
    const held = new pg.Client({ connectionString: appEnv(oldPassword).DATABASE_URL_SYNC });
    held.on('error', () => {});
    await held.connect();
    const ctx = context({ emergency: true });
    await rotate(ctx);
    await expect(held.query('SELECT 1')).rejects.toThrow();
    await held.end().catch(() => {});
  });

  it('keeps old sessions without --emergency', async () => {
    const held = new pg.Client({ connectionString: appEnv(oldPassword).DATABASE_URL_SYNC });
    await held.connect();
    await rotate(context());
    expect((await held.query('SELECT count(*) AS n FROM users')).rows[0].n).toBe('2');
    await held.end();
  });

  it('preflight fails on a wrong password; alsoUpdate with other credentials stops generate', async () => {
    const ctx = context();
    ctx.env = { ...appEnv('wrong-password-xyz'), DATABASE_URL_SYNC: appEnv(oldPassword).DATABASE_URL_SYNC };
    const pre = await rotator.preflight(ctx);
    expect(pre.checks.find((c) => c.name === 'DATABASE_URL connects')).toMatchObject({ ok: false });
    expect(pre.checks.find((c) => c.name === 'DATABASE_URL connects')?.detail).toContain('28P01');
    const mismatch = context();
    mismatch.env = { ...appEnv(oldPassword), DATABASE_URL_SYNC: `postgresql://other:x@127.0.0.1:${server.port}/app` };
    // A listed alsoUpdate key with other credentials is bad input: a check whose code (exit 2) stops a real run.
    const mismatchPre = await rotator.preflight(mismatch);
    expect(mismatchPre.checks.find((c) => c.name === 'postgres_also_update_mismatch')).toMatchObject({
      ok: false,
      code: 'POSTGRES_ALSO_UPDATE_MISMATCH',
    });
    const error = await rotator.generate(mismatch).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'POSTGRES_ALSO_UPDATE_MISMATCH', exitCode: 2 });
    produced.push(
      JSON.stringify(pre),
      JSON.stringify(mismatchPre),
      String(error),
      JSON.stringify(error),
      ...ctx.logged,
      ...mismatch.logged,
    );
  });

  it('serves the stand-in app: /api/health/ready proves a fresh login with its DATABASE_URL', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotate-app-'));
    const envFile = join(dir, '.env');
    const port = await freePort();
    const start = async (): Promise<ChildProcess> => {
      const child = spawn(process.execPath, ['test/app/server.mjs', '--env-file', envFile, '--port', String(port)], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await once(child.stdout!, 'data');
      return child;
    };
    const ready = async (): Promise<number> => (await fetch(`http://127.0.0.1:${port}/api/health/ready`)).status;
    try {
      writeFileSync(envFile, `DATABASE_URL=${appEnv(oldPassword).DATABASE_URL}\n`);
      let app = await start();
      expect(await ready()).toBe(200);
      const ctx = context();
      const { rotation } = await rotate(ctx);
      expect(await ready()).toBe(503); // still the old URL: fresh logins fail
      writeFileSync(envFile, `DATABASE_URL=${rotation.env.DATABASE_URL!.reveal()}\n`);
      app.kill();
      await once(app, 'exit');
      app = await start();
      expect(await ready()).toBe(200);
      app.kill();
      await once(app, 'exit');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never leaks a password: not in the server log, facts, logs, checks or the rotation JSON', () => {
    const log = server.log();
    expect(log.length).toBeGreaterThan(1000);
    expect(seen.length).toBeGreaterThan(5);
    expect(produced.join('').length).toBeGreaterThan(1000);
    for (const password of seen) {
      expect(log).not.toContain(password);
      expect(log).not.toContain(encodeURIComponent(password));
      for (const text of produced) expect(text).not.toContain(password);
    }
  });
});
