// What a restart command inherits: nothing the config names as a credential, whatever the variable is called
// (a custom store.urlEnv, an adminUrlEnv, the keys a secret writes), nor rotate's own keys.
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { findLeaks, runCli, scratchDir } from '../helpers/cli.js';

const schema = `rotate_childenv_${randomBytes(4).toString('hex')}`;
const STORE_PASSWORD = `store-dsn-pass-${randomBytes(6).toString('hex')}`;
// The shared server trusts local logins, so any password works and the marker is a real store URL's password.
const STORE_URL = `postgresql://postgres:${STORE_PASSWORD}@127.0.0.1:5432/test`;
const ADMIN_PASSWORD = `db-admin-pass-${randomBytes(6).toString('hex')}`;
const OLD_JWT = `old-jwt-secret-${randomBytes(12).toString('hex')}`;
const MASTER_KEY = randomBytes(32).toString('hex');

afterAll(async () => {
  const client = new pg.Client('postgresql://postgres@127.0.0.1:5432/test');
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await client.end();
});

describe('restart commands', () => {
  it('inherit no variable the config names as a credential: store.urlEnv, adminUrlEnv, the rotated keys, ROTATE_*', async () => {
    const dir = scratchDir('rotate-childenv-');
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${OLD_JWT}\nDATABASE_URL=postgresql://app:x@h/db\n`);
    const config = {
      store: { type: 'postgres', urlEnv: 'APP_STORE_DSN', schema },
      services: { backend: { restart: 'env > child-env.log' } },
      secrets: {
        jwt: { kind: 'jwt', services: ['backend'] },
        database: { kind: 'postgres', services: ['backend'], adminUrlEnv: 'PG_SUPER_DSN' },
      },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
    const result = await runCli(['jwt', '--yes'], {
      cwd: dir,
      env: {
        ROTATE_MASTER_KEY: MASTER_KEY,
        APP_STORE_DSN: STORE_URL,
        PG_SUPER_DSN: `postgresql://admin:${ADMIN_PASSWORD}@127.0.0.1:5432/test`,
        JWT_SECRET: OLD_JWT, // exported in the shell too: the child must read the env file, not this stale copy
        ROTATE_NEW_STRIPE_SECRET_KEY: 'sk_test_handover_value_0123456789',
        UNRELATED_SETTING: 'kept-for-the-child',
      },
    });
    expect(result.code, result.stderr).toBe(0);
    const childEnv = readFileSync(join(dir, 'child-env.log'), 'utf8');
    expect(childEnv).toContain('UNRELATED_SETTING=kept-for-the-child');
    expect(childEnv).toContain('PATH=');
    for (const name of ['APP_STORE_DSN', 'PG_SUPER_DSN', 'JWT_SECRET', 'ROTATE_MASTER_KEY', 'ROTATE_NEW_STRIPE_SECRET_KEY']) {
      expect(childEnv).not.toMatch(new RegExp(`^${name}=`, 'm'));
    }
    expect(findLeaks({ childEnv }, [STORE_PASSWORD, ADMIN_PASSWORD, OLD_JWT, MASTER_KEY, 'sk_test_handover_value_0123456789'])).toEqual([]);
  });
});
