// Built-in defaults that depend on the target's keys, and the envFile list in the config.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, parseConfig, withTargetDefaults } from '../../src/config/load.js';

describe('built-in defaults', () => {
  it('add a jwt-refresh secret (kind jwt, JWT_REFRESH_SECRET) only when the target has that key', () => {
    const config = parseConfig({}, 'defaults');
    expect(withTargetDefaults(config, { JWT_SECRET: 'x' }).secrets['jwt-refresh']).toBeUndefined();
    const refresh = withTargetDefaults(config, { JWT_SECRET: 'x', JWT_REFRESH_SECRET: 'y' }).secrets['jwt-refresh'];
    expect(refresh).toMatchObject({ kind: 'jwt', env: 'JWT_REFRESH_SECRET' });
  });

  it("list the platform's copies of the database and Redis passwords", () => {
    expect(parseConfig({}, 'defaults').secrets.database).toMatchObject({ alsoUpdate: ['POSTGRES_PASSWORD'] });
    expect(parseConfig({}, 'defaults').secrets.redis).toMatchObject({
      alsoUpdate: ['REDIS_PASSWORD', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'],
    });
  });
});

describe('envFile', () => {
  it('takes one path or a list, each relative to the config folder; --env-file overrides with one file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rotate-config-'));
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify({ envFile: ['.env', 'worker/.env'] }));
    const loaded = await loadConfig({ cwd: dir });
    expect(loaded.envFiles).toEqual([join(dir, '.env'), join(dir, 'worker/.env')]);
    expect(loaded.defaultSecrets).toBe(true);
    expect((await loadConfig({ cwd: dir, envFile: 'other.env' })).envFiles).toEqual([join(dir, 'other.env')]);
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify({ envFile: [] }));
    await expect(loadConfig({ cwd: dir })).rejects.toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
  });
});
