// rotate init --from-kubernetes, the pure part: which workloads read a Secret (envFrom, secretKeyRef, volumes,
// initContainers; CronJobs named, not rolled out), and the config the platform's Secret and workloads give.
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { discoverConfig } from '../../src/init/discover.js';
import { type ListedWorkload, readingOf, secretReaders } from '../../src/init/workloads.js';

const S = 'app-secrets';
const pod = (containers: object[], extra: object = {}) => ({ template: { spec: { containers, ...extra } } });
const deployment = (name: string, spec: object): ListedWorkload => ({ kind: 'Deployment', metadata: { name, namespace: 'ns' }, spec });

describe('which workloads read the Secret', () => {
  it('envFrom reads every key; secretKeyRef and volume items read theirs; another Secret reads nothing', () => {
    expect(readingOf(pod([{ image: 'app', envFrom: [{ secretRef: { name: S } }] }]).template.spec, S)?.whole).toBe(true);
    const keyed = readingOf(
      pod([{ image: 'app', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: S, key: 'REDIS_PASSWORD' } } }] }]).template.spec,
      S,
    );
    expect(keyed?.whole).toBe(false);
    expect([...(keyed?.keys ?? [])]).toEqual(['REDIS_PASSWORD']);
    const volume = readingOf(
      pod([{ image: 'app' }], { volumes: [{ name: 'v', secret: { secretName: S, items: [{ key: 'SENTRY_DSN', path: 'dsn' }] } }] }).template
        .spec,
      S,
    );
    expect([...(volume?.keys ?? [])]).toEqual(['SENTRY_DSN']);
    expect(volume?.via).toEqual(['volume v']);
    const projected = readingOf(
      pod([{ image: 'app' }], { volumes: [{ name: 'p', projected: { sources: [{ secret: { name: S } }] } }] }).template.spec,
      S,
    );
    expect(projected?.whole).toBe(true);
    expect(readingOf(pod([{ image: 'app', envFrom: [{ secretRef: { name: 'other' } }] }]).template.spec, S)).toBeUndefined();
  });

  it('an initContainer counts (the migrations read the same Secret)', () => {
    const reading = readingOf(
      pod([{ image: 'web' }], { initContainers: [{ image: 'app', envFrom: [{ secretRef: { name: S } }] }] }).template.spec,
      S,
    );
    expect(reading?.whole).toBe(true);
  });

  it('a CronJob is named, not rolled out; a name two kinds share gets its kind', () => {
    const listed: ListedWorkload[] = [
      deployment('redis', pod([{ image: 'app', envFrom: [{ secretRef: { name: S } }] }])),
      {
        kind: 'StatefulSet',
        metadata: { name: 'redis', namespace: 'ns' },
        spec: pod([{ image: 'redis:7', env: [{ name: 'P', valueFrom: { secretKeyRef: { name: S, key: 'REDIS_PASSWORD' } } }] }]),
      },
      {
        kind: 'CronJob',
        metadata: { name: 'backup', namespace: 'ns' },
        spec: { jobTemplate: { spec: { template: { spec: { containers: [{ image: 'pg', envFrom: [{ secretRef: { name: S } }] }] } } } } },
      },
      deployment('frontend', pod([{ image: 'nginx' }])),
    ];
    const { workloads, notes } = secretReaders(listed, S);
    expect(workloads.map((w) => [w.kind, w.name, w.consumer.name])).toEqual([
      ['Deployment', 'redis', 'redis-deployment'],
      ['StatefulSet', 'redis', 'redis-statefulset'],
    ]);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('CronJob backup');
  });
});

describe('the config from the platform Secret', () => {
  const env = {
    DATABASE_URL: 'postgresql+asyncpg://crypto:db-pass-0123456789@postgres:5432/app',
    POSTGRES_PASSWORD: 'db-pass-0123456789',
    REDIS_URL: 'redis://:redis-pass-0123456789@redis:6379/0',
    REDIS_PASSWORD: 'redis-pass-0123456789',
    CELERY_BROKER_URL: 'redis://:redis-pass-0123456789@redis:6379/1',
    JWT_SECRET: 'j'.repeat(40),
    STRIPE_SECRET_KEY: 'sk_test_0123456789',
    STRIPE_WEBHOOK_SECRET: 'whsec_0123456789',
  };
  const listed: ListedWorkload[] = [
    deployment('backend', pod([{ image: 'app', envFrom: [{ secretRef: { name: S } }] }])),
    {
      kind: 'StatefulSet',
      metadata: { name: 'redis', namespace: 'ns' },
      spec: pod([
        { image: 'redis:7-alpine', env: [{ name: 'REDIS_PASSWORD', valueFrom: { secretKeyRef: { name: S, key: 'REDIS_PASSWORD' } } }] },
      ]),
    },
  ];
  const { workloads, notes } = secretReaders(listed, S);
  const result = discoverConfig({ env, kubernetes: { namespace: 'ns', secret: S, context: 'prod', workloads, notes, owners: [] } });
  // biome-ignore lint/suspicious/noExplicitAny: the written config is read by path.
  const config = result.config as any;

  it('targets the Secret, rolls out the workloads that read each key, and is a valid config', () => {
    expect(config.target).toEqual({ type: 'kubernetes', namespace: 'ns', secret: S, context: 'prod' });
    expect(config.envFile).toBeUndefined();
    expect(config.services).toEqual({
      backend: { kubernetes: { kind: 'Deployment', name: 'backend' } },
      redis: { kubernetes: { kind: 'StatefulSet', name: 'redis' } },
    });
    expect(config.secrets.jwt.services).toEqual(['backend']);
    expect(config.secrets.redis).toMatchObject({ strategy: 'requirepass', services: ['backend', 'redis'] });
    expect(config.secrets.redis.alsoUpdate.sort()).toEqual(['CELERY_BROKER_URL', 'REDIS_PASSWORD']);
    expect(config.secrets.database.alsoUpdate).toEqual(['POSTGRES_PASSWORD']);
    expect(() => parseConfig(config, 'init')).not.toThrow();
  });

  it('names what only a person can give: the verify URLs', () => {
    expect(result.undecided.map((u) => u.path)).toEqual([
      'secrets.jwt.verify.url',
      'secrets.stripe.webhook.verifyUrl',
      'secrets.stripe.webhook.url',
    ]);
    expect(result.source).toBe(`Secret ns/${S}`);
  });

  it('an owner that writes the Secret back is named: target.source.file is for a person to give', () => {
    const owned = discoverConfig({
      env,
      kubernetes: {
        namespace: 'ns',
        secret: S,
        workloads,
        notes,
        owners: [{ kind: 'kubectl apply', evidence: 'annotation kubectl.kubernetes.io/last-applied-configuration', fix: 'name the file' }],
      },
    });
    expect(owned.undecided.find((u) => u.path === 'target.source.file')?.why).toContain('kubectl apply');
    expect((owned.config.target as Record<string, unknown>).context).toBeUndefined();
  });

  it('never copies a value of the Secret into the config or its sentences', () => {
    const text = JSON.stringify(result);
    for (const value of Object.values(env)) expect(text).not.toContain(value);
  });
});
