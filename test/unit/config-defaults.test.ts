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
    // The old top-level envFile is mapped onto the target, which owns its files.
    expect(loaded.config.target).toEqual({ type: 'envfile', files: [join(dir, '.env'), join(dir, 'worker/.env')] });
    expect(loaded.defaultSecrets).toBe(true);
    expect((await loadConfig({ cwd: dir, envFile: 'other.env' })).config.target).toEqual({
      type: 'envfile',
      files: [join(dir, 'other.env')],
    });
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify({ target: { type: 'envfile', files: 'app.env' } }));
    expect((await loadConfig({ cwd: dir })).config.target).toEqual({ type: 'envfile', files: [join(dir, 'app.env')] });
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify({ envFile: '.env', target: { type: 'envfile', files: 'app.env' } }));
    await expect(loadConfig({ cwd: dir })).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify({ envFile: [] }));
    await expect(loadConfig({ cwd: dir })).rejects.toMatchObject({ code: 'CONFIG_INVALID', exitCode: 2 });
  });
});

describe('a config error names the path and the fix', () => {
  const messageOf = (raw: unknown): string => {
    try {
      parseConfig(raw, 'rotate.config.json');
    } catch (error) {
      return (error as Error).message;
    }
    throw new Error('the config was accepted');
  };

  it('a typo in a key gets the key it meant, at its path', () => {
    expect(messageOf({ secrets: { jwt: { intervalDay: 30 } } })).toContain(
      'secrets.jwt: unknown key "intervalDay"; did you mean `intervalDays`?',
    );
    expect(messageOf({ servces: {} })).toContain('(top level): unknown key "servces"; did you mean `services`?');
    expect(messageOf({ services: { web: { restart: 'true', helth: {} } } })).toContain(
      'services.web: unknown key "helth"; did you mean `health`?',
    );
    // A key of another kind or target type: said so, never "unknown key "source"; did you mean `source`?".
    expect(messageOf({ target: { type: 'envfile', source: { file: 'k8s/secrets.yaml' } } })).toContain(
      'target: key "source" does not apply to type "envfile" (another type takes it; docs/configuration.md lists the keys of each)',
    );
    expect(messageOf({ secrets: { jwt: { kind: 'jwt', strategy: 'requirepass' } } })).toContain(
      'secrets.jwt: key "strategy" does not apply to kind "jwt" (another kind takes it; docs/configuration.md lists the keys of each)',
    );
    // Far from every key: no guess, still the path.
    expect(messageOf({ secrets: { jwt: { colour: 'blue' } } })).toMatch(/secrets\.jwt: unknown key "colour"$/m);
  });

  it('a secret id that is not built in and names no kind says so, with the id it may have meant', () => {
    expect(messageOf({ secrets: { jwtx: { env: 'X' } } })).toContain(
      'secrets.jwtx: no kind, and "jwtx" is not a built-in id; did you mean `jwt`? Otherwise add "kind": one of jwt, exchange-key, postgres, redis, stripe',
    );
    expect(messageOf({ secrets: { 'api-token': { env: 'X' } } })).toContain(
      'secrets.api-token: no kind, and "api-token" is not a built-in id; add "kind": one of jwt, exchange-key, postgres, redis, stripe',
    );
    expect(messageOf({ secrets: { signing: { kind: 'jwtt', env: 'X' } } })).toContain(
      'secrets.signing.kind: "jwtt" is not a kind; did you mean `jwt`? The kinds: jwt, exchange-key, postgres, redis, stripe',
    );
  });
});
