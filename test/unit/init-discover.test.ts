// rotate init from what is there: the platform's .env and docker-compose.yml (test/fixtures/platform-compose, the
// layout PLATFORM.md describes) give every secret, its copies, every service that reads it, and the values only a
// person can give, named.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { parseEnv } from '../../src/envfile/edit.js';
import { composeServices, hostUrl } from '../../src/init/compose.js';
import { discoverConfig, looksLikeCredential } from '../../src/init/discover.js';

const FIXTURE = join(import.meta.dirname, '../fixtures/platform-compose');
const env = parseEnv(readFileSync(join(FIXTURE, '.env'), 'utf8'));
const compose = parse(readFileSync(join(FIXTURE, 'docker-compose.yml'), 'utf8'));
const platform = () =>
  discoverConfig({ envFile: '.env', env, compose: { file: 'docker-compose.yml', services: composeServices(compose, '', '.env') } });
// biome-ignore lint/suspicious/noExplicitAny: the written config is read by path.
const secretsOf = (result: ReturnType<typeof platform>) => result.config.secrets as Record<string, any>;
// biome-ignore lint/suspicious/noExplicitAny: the written config is read by path.
const servicesOf = (result: ReturnType<typeof platform>) => result.config.services as Record<string, any>;

describe('compose services', () => {
  const services = composeServices(compose, '', '.env');
  const byName = Object.fromEntries(services.map((s) => [s.name, s]));

  it('env_file in each of its forms reads the whole file; interpolation reads the keys it names', () => {
    for (const name of ['backend', 'celery-worker', 'celery-beat']) expect(byName[name]?.readsWholeEnvFile, name).toBe(true);
    expect(byName.postgres?.readsWholeEnvFile).toBe(false);
    expect([...(byName.postgres?.interpolated ?? [])].sort()).toEqual(['POSTGRES_DB', 'POSTGRES_PASSWORD', 'POSTGRES_USER']);
    expect(byName.redis?.interpolated.has('REDIS_PASSWORD')).toBe(true);
    expect(byName.frontend?.interpolated.size).toBe(0);
  });

  it('interpolation counts only when the env file is the project .env beside the compose file', () => {
    const other = composeServices(compose, '', 'config/app.env');
    expect(other.find((s) => s.name === 'redis')?.interpolated.size).toBe(0);
    expect(other.find((s) => s.name === 'backend')?.readsWholeEnvFile).toBe(false);
  });

  it("the healthcheck's URL, reached on the host through the published port", () => {
    expect(byName.backend?.healthcheckUrl).toBe('http://localhost:8000/healthz');
    expect(
      hostUrl({ ...(byName.backend as NonNullable<typeof byName.backend>), ports: new Map([[8000, 18000]]) }, 'http://localhost:8000/x'),
    ).toBe('http://localhost:18000/x');
    expect(hostUrl(byName['celery-worker'] as NonNullable<(typeof byName)['celery-worker']>, 'http://localhost:8000/x')).toBeUndefined();
  });
});

describe('rotate init on the platform layout', () => {
  it('manages every secret of the .env, JWT_REFRESH_SECRET included, and the config is valid', () => {
    const result = platform();
    expect(Object.keys(secretsOf(result))).toEqual(['jwt', 'jwt-refresh', 'exchange-key', 'database', 'redis', 'stripe']);
    expect(() => parseConfig(result.config, 'init')).not.toThrow();
  });

  it('names the env file as target.files, not the deprecated top-level envFile', () => {
    const result = platform();
    expect(result.config.target).toEqual({ type: 'envfile', files: ['.env'] });
    expect(result.config).not.toHaveProperty('envFile');
  });

  it('wires the copies of each credential as alsoUpdate', () => {
    const secrets = secretsOf(platform());
    expect(secrets.database.alsoUpdate.sort()).toEqual(['DATABASE_URL_SYNC', 'POSTGRES_PASSWORD']);
    expect(secrets.redis.alsoUpdate.sort()).toEqual(['CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND', 'REDIS_PASSWORD']);
    // The database role changes its own password: no admin URL to provide.
    expect(secrets.database.adminUrlEnv).toBeUndefined();
  });

  it('restarts every service that reads a secret, the Celery worker and beat included; not the postgres server', () => {
    const secrets = secretsOf(platform());
    for (const id of ['jwt', 'jwt-refresh', 'exchange-key', 'database', 'stripe']) {
      expect(secrets[id].services, id).toEqual(['backend', 'celery-worker', 'celery-beat']);
    }
    // Redis started with --requirepass ${REDIS_PASSWORD} reads the env file at every start.
    expect(secrets.redis.services).toEqual(['backend', 'celery-worker', 'celery-beat', 'redis']);
    expect(secrets.redis.strategy).toBe('requirepass');
    const services = servicesOf(platform());
    expect(Object.keys(services)).toEqual(['backend', 'celery-worker', 'celery-beat', 'redis']);
    for (const [name, service] of Object.entries(services)) expect(service.restart).toBe(`docker compose up -d --force-recreate ${name}`);
  });

  it("checks the backend's readiness URL, not the static /healthz of its healthcheck; the JWT verify URL on its port", () => {
    const result = platform();
    expect(servicesOf(result).backend.health.url).toBe('http://localhost:8000/api/health/ready');
    expect(secretsOf(result).jwt.verify.url).toBe('http://localhost:8000/api/auth/me');
    expect(result.decided.join('\n')).toContain('/healthz is static');
    expect(servicesOf(result)['celery-worker'].health).toBeUndefined();
  });

  it('names each value only a person can give, and the credentials no secret manages', () => {
    const result = platform();
    expect(result.undecided.map((u) => u.path)).toEqual(['secrets.jwt.verify.claims', 'secrets.stripe.webhook.url']);
    expect(result.unmanaged).toEqual(['WALLET_ENCRYPTION_KEY', 'SMTP_PASSWORD']);
  });

  it('never copies a value of the env file into the config or the sentences', () => {
    const result = platform();
    const written = JSON.stringify(result);
    for (const [key, value] of Object.entries(env)) {
      if (looksLikeCredential(key, value)) expect(written, key).not.toContain(value);
    }
  });

  it('without a compose file: every secret restarts one backend whose command a person gives', () => {
    const result = discoverConfig({ envFile: '.env', env });
    expect(result.undecided.map((u) => u.path)).toContain('services.backend.restart');
    expect(secretsOf(result).jwt.services).toEqual(['backend']);
    expect(() => parseConfig(result.config, 'init')).not.toThrow();
  });

  it('a setting about a credential is not one: token lifetimes and lengths are not listed as unmanaged', () => {
    for (const key of ['JWT_ACCESS_TOKEN_MINUTES', 'REFRESH_TOKEN_DAYS', 'SESSION_SECRET_LENGTH', 'AUTH_TIMEOUT', 'JWT_SECRET_ALGORITHM']) {
      expect(looksLikeCredential(key, '15'), key).toBe(false);
    }
    for (const key of ['JWT_SECRET', 'API_TOKEN', 'SMTP_PASSWORD', 'SENTRY_DSN', 'TOKEN_MINUTES_SECRET']) {
      expect(looksLikeCredential(key, 'x'.repeat(20)), key).toBe(true);
    }
    const result = discoverConfig({ envFile: '.env', env: { JWT_SECRET: 'x'.repeat(40), JWT_ACCESS_TOKEN_MINUTES: '15' } });
    expect(result.unmanaged).toEqual([]);
  });

  it('only the keys present become secrets', () => {
    const result = discoverConfig({ envFile: '.env', env: { JWT_SECRET: 'x'.repeat(40), LOG_LEVEL: 'info' } });
    expect(Object.keys(secretsOf(result))).toEqual(['jwt']);
    expect(result.unmanaged).toEqual([]);
  });
});
