// `rotate redis` on the platform's Kubernetes layout: the Redis StatefulSet's pod is a real redis-server started with
// `requirepass $(REDIS_PASSWORD)` from the Secret and no config file (the Secret's REDIS_PASSWORD is the only
// persistence); the backend's pods are the stand-in app, which refuses to start when Redis rejects its REDIS_URL.
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IMAGES } from '../helpers/fake-kube-pods.js';
import { KUBE_E2E, type KubeProject, kubeService, NS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import type { Service } from '../helpers/fake-kube-service.js';

const OLD = 'redis-old-password-0123456789abcdef';

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

describe('rotate redis through a Kubernetes Secret', KUBE_E2E, () => {
  let p: KubeProject;
  let redis: Service;
  let backend: Service;
  const url = (password: string) => `redis://:${password}@127.0.0.1:${redis.port}/0`;

  beforeEach(async () => {
    p = await startKubeProject({ prefix: 'rotate-kube-redis-', masterKey: 'c'.repeat(64) });
    redis = await p.deploy('redis', {
      kind: 'StatefulSet',
      image: IMAGES.redis,
      secretKeys: { REDIS_PASSWORD: 'REDIS_PASSWORD' },
      values: (service) => {
        const url = `redis://:${OLD}@127.0.0.1:${service.port}/0`;
        return { REDIS_PASSWORD: OLD, REDIS_URL: url, CELERY_BROKER_URL: url, JWT_SECRET: 'unrelated-0123456789-abcdefghijklmnopqrstu' };
      },
    });
    backend = await p.deploy('backend', { readinessPath: '/healthz' });
    p.writeConfig({
      services: {
        redis: kubeService('StatefulSet', 'redis', `${backend.url}/healthz`),
        backend: kubeService('Deployment', 'backend', `${backend.url}/api/cache/ping`),
      },
      secrets: { redis: { strategy: 'requirepass', alsoUpdate: ['REDIS_PASSWORD', 'CELERY_BROKER_URL'], services: ['redis', 'backend'] } },
    });
  });

  afterEach(async () => {
    await p.stop();
  });

  it('changes the live password, writes every copy in the Secret, then rolls Redis and the backend out', async () => {
    const seed = new Redis({ port: redis.port, host: '127.0.0.1', password: OLD, lazyConnect: true });
    await seed.connect();
    await seed.set('session:1', 'kept across the Redis restart');
    seed.disconnect();

    const dry = await p.cli(['--dry-run', 'redis']);
    expect(dry.code).toBe(0);
    expect(p.kube.api.writes()).toEqual([]);

    const result = await p.cli(['redis', '--yes']);
    expect(result.code).toBe(0);
    const values = p.kube.secretValues(NS, SECRET);
    const next = values.REDIS_PASSWORD as string;
    expect(next).not.toBe(OLD);
    expect(values.REDIS_URL).toBe(url(next));
    expect(values.CELERY_BROKER_URL).toBe(url(next));
    expect(values.JWT_SECRET).toBe('unrelated-0123456789-abcdefghijklmnopqrstu');
    // The Redis pod was replaced and took its password from the Secret: the new one works, the old one is refused.
    expect(p.kube.rolledOut('StatefulSet', NS, 'redis')).toBe(true);
    expect(await auth(redis.port, next)).toBe('OK');
    expect(await auth(redis.port, OLD)).toBe('WRONGPASS');
    const check = new Redis({ port: redis.port, host: '127.0.0.1', password: next, lazyConnect: true });
    await check.connect();
    expect(await check.get('session:1')).toBe('kept across the Redis restart');
    check.disconnect();
    expect((await fetch(`${backend.url}/api/cache/ping`)).status).toBe(200);
    expect(p.leaks([result.stdout, result.stderr, dry.stdout, dry.stderr], [OLD, next])).toEqual([]);
  });
});
