// `rotate redis` on the platform's Kubernetes layout: the Redis StatefulSet's pod is a real redis-server started with
// `requirepass $(REDIS_PASSWORD)` from the Secret and no config file (the Secret's REDIS_PASSWORD is the only
// persistence); the backend's pods are the stand-in app, which refuses to start when Redis rejects its REDIS_URL.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube } from '../helpers/fake-kube.js';
import { IMAGES } from '../helpers/fake-kube-pods.js';
import type { Service } from '../helpers/fake-kube-service.js';

const NS = 'cryptoorchestrator';
const SECRET = 'cryptoorchestrator-secrets';
const OLD = 'redis-old-password-0123456789abcdef';
const masterKey = 'c'.repeat(64);

/** A fresh connection's answer to AUTH with `password`: 'OK' or the error's first word (WRONGPASS). */
async function auth(port: number, password: string): Promise<string> {
  const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false, retryStrategy: () => null });
  client.on('error', () => {});
  try {
    await client.connect();
    return await client.auth(password);
  } catch (error) {
    return String((error as Error).message).split(' ')[0] ?? 'error';
  } finally {
    client.disconnect();
  }
}

// One retry, as in kubernetes.test.ts: under load a pod may start slower than a deadline; the assertions stay as they are.
describe('rotate redis through a Kubernetes Secret', { retry: 1 }, () => {
  let dir: string;
  let kube: FakeKube;
  let redis: Service;
  let backend: Service;
  const url = (password: string) => `redis://:${password}@127.0.0.1:${redis.port}/0`;

  beforeEach(async () => {
    dir = scratchDir('rotate-kube-redis-');
    kube = await startFakeKube(dir);
    redis = await kube.service('StatefulSet', NS, 'redis');
    backend = await kube.service('Deployment', NS, 'backend');
    kube.createSecret(NS, SECRET, {
      REDIS_PASSWORD: OLD,
      REDIS_URL: url(OLD),
      CELERY_BROKER_URL: url(OLD),
      JWT_SECRET: 'unrelated-0123456789-abcdefghijklmnopqrstu',
    });
    kube.createWorkload('StatefulSet', NS, 'redis', {
      image: IMAGES.redis,
      secret: SECRET,
      secretKeys: { REDIS_PASSWORD: 'REDIS_PASSWORD' },
    });
    await kube.until(() => kube.rolledOut('StatefulSet', NS, 'redis'));
    kube.createWorkload('Deployment', NS, 'backend', { secret: SECRET, readinessPath: '/healthz', progressDeadlineSeconds: 60 });
    await kube.until(() => kube.rolledOut('Deployment', NS, 'backend'));
    kube.kubeconfig(join(dir, 'kubeconfig'), [{ name: 'prod', token: ADMIN_TOKEN }]);
    const config = {
      target: { type: 'kubernetes', namespace: NS, secret: SECRET, context: 'prod' },
      services: {
        redis: { kubernetes: { kind: 'StatefulSet', name: 'redis' }, health: { url: `${backend.url}/healthz`, timeoutSeconds: 30 } },
        backend: {
          kubernetes: { kind: 'Deployment', name: 'backend' },
          health: { url: `${backend.url}/api/cache/ping`, timeoutSeconds: 30 },
        },
      },
      secrets: { redis: { strategy: 'requirepass', alsoUpdate: ['REDIS_PASSWORD', 'CELERY_BROKER_URL'], services: ['redis', 'backend'] } },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  });

  afterEach(async () => {
    await kube.stop();
  });

  const cli = (args: string[]) =>
    runCli(args, { cwd: dir, env: { KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir, ROTATE_MASTER_KEY: masterKey } });

  it('changes the live password, writes every copy in the Secret, then rolls Redis and the backend out', async () => {
    const seed = new Redis({ port: redis.port, host: '127.0.0.1', password: OLD, lazyConnect: true });
    await seed.connect();
    await seed.set('session:1', 'kept across the Redis restart');
    seed.disconnect();

    const dry = await cli(['--dry-run', 'redis']);
    expect(dry.code).toBe(0);
    expect(kube.api.writes()).toEqual([]);

    const result = await cli(['redis', '--yes']);
    expect(result.code).toBe(0);
    const values = kube.secretValues(NS, SECRET);
    const next = values.REDIS_PASSWORD as string;
    expect(next).not.toBe(OLD);
    expect(values.REDIS_URL).toBe(url(next));
    expect(values.CELERY_BROKER_URL).toBe(url(next));
    expect(values.JWT_SECRET).toBe('unrelated-0123456789-abcdefghijklmnopqrstu');
    // The Redis pod was replaced and took its password from the Secret: the new one works, the old one is refused.
    expect(kube.rolledOut('StatefulSet', NS, 'redis')).toBe(true);
    expect(await auth(redis.port, next)).toBe('OK');
    expect(await auth(redis.port, OLD)).toBe('WRONGPASS');
    const check = new Redis({ port: redis.port, host: '127.0.0.1', password: next, lazyConnect: true });
    await check.connect();
    expect(await check.get('session:1')).toBe('kept across the Redis restart');
    check.disconnect();
    expect((await fetch(`${backend.url}/api/cache/ping`)).status).toBe(200);
    const texts = { ...readTree(join(dir, '.rotate')), output: result.stdout + result.stderr + dry.stdout + dry.stderr };
    expect(findLeaks(texts, [OLD, next, ADMIN_TOKEN, masterKey])).toEqual([]);
  });
});
