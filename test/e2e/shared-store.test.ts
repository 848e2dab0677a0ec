// Two hosts sharing one PostgreSQL store: shared state and history, one lock across hosts.

import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { findLeaks, runCli, scratchDir } from '../helpers/cli.js';
import { HELD_RESTART, heldInRestart, releaseRestart, waitUntil } from '../helpers/wait.js';

const STORE_URL = 'postgresql://postgres@127.0.0.1:5432/test';
const schema = `rotate_e2e_${randomBytes(4).toString('hex')}`;
const masterKey = randomBytes(32).toString('hex');
const OLD = 'shared-store-old-secret-0123456789-abcdefgh';

describe('the postgres store shared by two hosts', () => {
  let hostA: string;
  let hostB: string;
  let app: StandInApp;

  const config = (restartPrefix = '') => ({
    store: { type: 'postgres', urlEnv: 'ROTATE_STORE_URL', schema },
    services: { backend: { restart: `${restartPrefix}${app.restartCommand}`, health: { url: `${app.url}/healthz`, timeoutSeconds: 20 } } },
    secrets: { jwt: { kind: 'jwt', services: ['backend'], verify: { url: `${app.url}/api/auth/me` } } },
  });
  const cli = (dir: string, args: string[], env: Record<string, string | undefined> = {}) =>
    runCli(args, { cwd: dir, env: { ROTATE_STORE_URL: STORE_URL, ROTATE_MASTER_KEY: masterKey, ...env } });

  beforeAll(async () => {
    // Fails loudly when PostgreSQL is not there.
    const client = new pg.Client(STORE_URL);
    await client.connect();
    await client.end();
    hostA = scratchDir('rotate-host-a-');
    hostB = scratchDir('rotate-host-b-');
    writeFileSync(join(hostA, '.env'), `JWT_SECRET=${OLD}\n`);
    app = await standInApp(hostA);
    await app.start();
    writeFileSync(join(hostA, 'rotate.config.json'), JSON.stringify(config()));
    // Host B sees the same env file through --env-file (think: a shared volume).
    writeFileSync(join(hostB, 'rotate.config.json'), JSON.stringify({ ...config(), services: {}, secrets: { jwt: { kind: 'jwt' } } }));
  });

  afterAll(async () => {
    await app?.stop();
    const client = new pg.Client(STORE_URL);
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('a rotation on host A shows in the status and history of host B, with no secret in the tables', async () => {
    const result = await cli(hostA, ['jwt', '--yes', '--json']);
    expect(result.stderr).not.toContain('UNEXPECTED');
    expect(result.code).toBe(0);
    const status = JSON.parse((await cli(hostB, ['status', '--json', '--env-file', join(hostA, '.env')])).stdout);
    expect(status.results[0]).toMatchObject({ secret: 'jwt', state: 'ok' });
    const history = JSON.parse((await cli(hostB, ['history', '--json'])).stdout);
    expect(history.results[0]).toMatchObject({ secret: 'jwt', result: 'rotated' });

    const next = readFileSync(join(hostA, '.env'), 'utf8').trim().split('=')[1]!;
    const client = new pg.Client(STORE_URL);
    await client.connect();
    const tables = await client.query(`SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema]);
    const dump: Record<string, string> = {};
    for (const { table_name } of tables.rows) {
      const rows = await client.query(`SELECT * FROM ${schema}.${table_name}`);
      dump[table_name] = JSON.stringify(rows.rows);
    }
    await client.end();
    expect(Object.keys(dump)).toEqual(expect.arrayContaining(['state', 'history', 'backups']));
    expect(findLeaks(dump, [OLD, next, masterKey])).toEqual([]);
  });

  it('while host A rotates, host B gets exit 4 naming the holder', async () => {
    writeFileSync(join(hostA, 'rotate.config.json'), JSON.stringify(config(HELD_RESTART)));
    const first = cli(hostA, ['jwt', '--yes']);
    // Host A holds the lock from before its restart step until after it: it stays in its restart until released.
    expect(await waitUntil(() => heldInRestart(hostA), 20_000)).toBe(true);
    writeFileSync(join(hostB, '.env'), `JWT_SECRET=${OLD}\n`);
    const second = await cli(hostB, ['jwt', '--yes']);
    releaseRestart(hostA);
    expect(second.code).toBe(4);
    expect(second.stderr).toMatch(/\[LOCKED\].*rotate jwt/);
    expect((await first).code).toBe(0);
    writeFileSync(join(hostA, 'rotate.config.json'), JSON.stringify(config()));
  });

  it('refuses to run without a shared master key (exit 2)', async () => {
    const result = await cli(hostB, ['status'], { ROTATE_MASTER_KEY: undefined });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ROTATE_MASTER_KEY');
  });
});
