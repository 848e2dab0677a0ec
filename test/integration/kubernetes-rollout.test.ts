// Workload restarts against the fake cluster, whose pods are the real stand-in app reading the Secret at start.
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Config, configSchema } from '../../src/config/schema.js';
import { rolloutRestart, workloadChecks } from '../../src/services/kubernetes.js';
import { authStatus } from '../helpers/app.js';
import { scratchDir } from '../helpers/cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube, type WorkloadKind } from '../helpers/fake-kube.js';
import { IMAGES } from '../helpers/fake-kube-pods.js';
import { readOnlyRules } from '../helpers/fake-kube-rbac.js';

const NS = 'cryptoorchestrator';
const SECRET = 'cryptoorchestrator-secrets';
const OLD = 'old-jwt-secret-0123456789abcdefghijklmnop';
const NEW = 'new-jwt-secret-0123456789abcdefghijklmnop';

function config(services: Record<string, { kind: WorkloadKind; name: string }>, timeoutSeconds = 30): Config {
  const parsed = configSchema.parse({
    services: Object.fromEntries(
      Object.entries(services).map(([n, k]) => [n, { kubernetes: k, health: { url: 'http://127.0.0.1:9/healthz', timeoutSeconds } }]),
    ),
  });
  return { ...parsed, target: { type: 'kubernetes', namespace: NS, secret: SECRET } } as Config;
}

describe('Kubernetes workload restarts', () => {
  let kube: FakeKube;
  const logged: string[] = [];
  const deps = {
    log: { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), debug: () => {} },
    now: () => new Date(),
    sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  };

  beforeAll(async () => {
    const dir = scratchDir('rotate-kube-rollout-');
    kube = await startFakeKube(dir);
    kube.addAccount('reader-token', { user: 'system:serviceaccount:cryptoorchestrator:reader', namespace: NS, rules: readOnlyRules });
    process.env.KUBECONFIG = kube.kubeconfig(join(dir, 'kubeconfig'), [
      { name: 'admin', token: ADMIN_TOKEN },
      { name: 'reader', token: 'reader-token' },
    ]);
    kube.createSecret(NS, SECRET, { JWT_SECRET: OLD });
  });
  afterAll(async () => {
    await kube?.stop();
    delete process.env.KUBECONFIG;
  });

  it('rolls a Deployment out: new pods read the changed Secret, old pods serve until then', async () => {
    kube.createWorkload('Deployment', NS, 'backend', { secret: SECRET, replicas: 2, readinessPath: '/healthz' });
    const service = await kube.service('Deployment', NS, 'backend');
    await kube.until(() => kube.rolledOut('Deployment', NS, 'backend'));
    expect(await authStatus(service.url, OLD)).toBe(200);

    kube.store.write(
      { resource: 'secrets', namespace: NS, name: SECRET },
      {
        ...(kube.store.get({ resource: 'secrets', namespace: NS, name: SECRET }) as object),
        data: { JWT_SECRET: Buffer.from(NEW).toString('base64') },
      },
    );
    // A Secret change alone restarts nothing.
    expect(await authStatus(service.url, NEW)).toBe(401);
    await rolloutRestart('backend', config({ backend: { kind: 'Deployment', name: 'backend' } }), deps);
    expect(kube.rolledOut('Deployment', NS, 'backend')).toBe(true);
    expect(await authStatus(service.url, NEW)).toBe(200);
    expect(await authStatus(service.url, OLD)).toBe(401);
    expect(logged).toContain('backend: 2 of 2 updated, 2 ready');
    const patch = kube.api.writes().find((r) => r.path.endsWith('/deployments/backend'));
    expect(patch?.contentType).toBe('application/strategic-merge-patch+json');
  });

  it('a rollout whose pods never get ready fails with ProgressDeadlineExceeded; the old pod keeps serving', async () => {
    kube.createWorkload('Deployment', NS, 'stuck', { secret: SECRET, readinessPath: '/healthz', progressDeadlineSeconds: 1 });
    const service = await kube.service('Deployment', NS, 'stuck');
    await kube.until(() => kube.rolledOut('Deployment', NS, 'stuck'));
    // The new template's pods probe a path the app never answers: they never become ready.
    kube.store.write(
      { resource: 'deployments', namespace: NS, name: 'stuck' },
      (() => {
        const d = kube.workload('Deployment', NS, 'stuck') as any;
        d.spec.template.spec.containers[0].readinessProbe.httpGet.path = '/never';
        return d;
      })(),
    );
    const error = await rolloutRestart('stuck', config({ stuck: { kind: 'Deployment', name: 'stuck' } }), deps).catch((e) => e);
    expect(error).toMatchObject({ code: 'ROLLOUT_FAILED', exitCode: 1 });
    expect(error.message).toContain('ProgressDeadlineExceeded');
    expect(await authStatus(service.url, NEW)).toBe(200);
  });

  it('a 500, a 429 and a reset connection while waiting for the rollout are asked again (as kubectl rollout status does)', async () => {
    kube.createWorkload('Deployment', NS, 'flaky', { secret: SECRET, readinessPath: '/healthz' });
    await kube.until(() => kube.rolledOut('Deployment', NS, 'flaky'));
    const read = (r: { method: string; path: string }) => r.method === 'GET' && r.path.endsWith('/deployments/flaky');
    kube.api.faults.push(
      { match: read, answer: 500, message: 'etcdserver: leader changed' },
      { match: read, answer: 429 },
      { match: read, answer: 'reset' },
    );
    const before = logged.length;
    await rolloutRestart('flaky', config({ flaky: { kind: 'Deployment', name: 'flaky' } }), deps);
    expect(kube.api.faults).toEqual([]);
    expect(kube.rolledOut('Deployment', NS, 'flaky')).toBe(true);
    const warned = logged.slice(before).join('\n');
    expect(warned).toContain('reading Deployment cryptoorchestrator/flaky failed (HTTP 500); asking again');
    expect(warned).toContain('(HTTP 429)');
  });

  it('a 4xx while waiting ends the wait at once; a 500 that lasts past the deadline ends it at the deadline', async () => {
    kube.createWorkload('Deployment', NS, 'broken-api', { secret: SECRET, readinessPath: '/healthz' });
    await kube.until(() => kube.rolledOut('Deployment', NS, 'broken-api'));
    const read = (r: { method: string; path: string }) => r.method === 'GET' && r.path.endsWith('/deployments/broken-api');
    const cfg = config({ 'broken-api': { kind: 'Deployment', name: 'broken-api' } }, 2);
    kube.api.faults.push({ match: read, answer: 404 });
    expect(await rolloutRestart('broken-api', cfg, deps).catch((e) => e)).toMatchObject({ code: 'KUBE_NOT_FOUND' });
    kube.api.faults.push(...Array.from({ length: 50 }, () => ({ match: read, answer: 503 })));
    const started = Date.now();
    expect(await rolloutRestart('broken-api', cfg, deps).catch((e) => e)).toMatchObject({ code: 'KUBE_API_ERROR', exitCode: 1 });
    expect(Date.now() - started).toBeLessThan(10_000);
    kube.api.faults.length = 0;
  });

  it('outliving the health timeout fails the restart', async () => {
    kube.createWorkload('Deployment', NS, 'slow', { secret: SECRET, readinessPath: '/never', progressDeadlineSeconds: 600 });
    const error = await rolloutRestart('slow', config({ slow: { kind: 'Deployment', name: 'slow' } }, 1), deps).catch((e) => e);
    expect(error).toMatchObject({ code: 'ROLLOUT_TIMEOUT', exitCode: 1 });
  });

  it.each(['StatefulSet', 'DaemonSet'] as const)('rolls a %s out', async (kind) => {
    const name = kind.toLowerCase();
    kube.createWorkload(kind, NS, name, { secret: SECRET, replicas: 2, readinessPath: '/healthz' });
    await kube.until(() => kube.rolledOut(kind, NS, name));
    const generation = Number((kube.workload(kind, NS, name).metadata as { generation: number }).generation);
    await rolloutRestart(name, config({ [name]: { kind, name } }), deps);
    expect(Number((kube.workload(kind, NS, name).metadata as { generation: number }).generation)).toBe(generation + 1);
    expect(kube.rolledOut(kind, NS, name)).toBe(true);
  });

  it('a Redis StatefulSet pod takes REDIS_PASSWORD when it starts and keeps its data across a rollout', async () => {
    kube.createSecret(NS, 'redis-secret', { REDIS_PASSWORD: 'first-password-0123' });
    kube.createWorkload('StatefulSet', NS, 'redis', {
      image: IMAGES.redis,
      secret: 'redis-secret',
      secretKeys: { REDIS_PASSWORD: 'REDIS_PASSWORD' },
    });
    const service = await kube.service('StatefulSet', NS, 'redis');
    await kube.until(() => kube.rolledOut('StatefulSet', NS, 'redis'));
    const first = new Redis({ port: service.port, host: '127.0.0.1', password: 'first-password-0123', lazyConnect: true });
    await first.connect();
    await first.set('kept', 'yes');
    first.disconnect();
    kube.store.write(
      { resource: 'secrets', namespace: NS, name: 'redis-secret' },
      {
        ...(kube.store.get({ resource: 'secrets', namespace: NS, name: 'redis-secret' }) as object),
        data: { REDIS_PASSWORD: Buffer.from('second-password-0123').toString('base64') },
      },
    );
    await rolloutRestart('redis', config({ redis: { kind: 'StatefulSet', name: 'redis' } }), deps);
    const second = new Redis({ port: service.port, host: '127.0.0.1', password: 'second-password-0123', lazyConnect: true });
    await second.connect();
    expect(await second.get('kept')).toBe('yes');
    second.disconnect();
    const old = new Redis({ port: service.port, host: '127.0.0.1', lazyConnect: true, enableReadyCheck: false });
    await old.connect();
    await expect(old.auth('first-password-0123')).rejects.toThrow(/WRONGPASS/);
    old.disconnect();
  });

  it('preflight: a missing workload and a read-only account are named, with the Role rule', async () => {
    const missing = await workloadChecks('api', config({ api: { kind: 'Deployment', name: 'api' } }));
    expect(missing.find((c) => !c.ok)?.detail).toContain('deployments.apps cryptoorchestrator/api not found');
    const readOnly = {
      ...config({ backend: { kind: 'Deployment', name: 'backend' } }),
      target: { type: 'kubernetes', namespace: NS, secret: SECRET, context: 'reader' },
    } as Config;
    const checks = await workloadChecks('backend', readOnly);
    const failed = checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual(['may patch Deployment cryptoorchestrator/backend']);
    expect(failed[0]?.hint).toContain('resources: ["deployments"]');
    expect(failed[0]?.hint).toContain('resourceNames: ["backend"]');
  });

  it('the fake API server: dry run changes nothing, JSON patch applies, a stale resourceVersion is 409', async () => {
    const path = `${kube.url}/api/v1/namespaces/${NS}/secrets/${SECRET}`;
    const headers = (type: string) => ({ authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': type });
    const before = kube.secretData(NS, SECRET);
    const dry = await fetch(`${path}?dryRun=All`, {
      method: 'PATCH',
      headers: headers('application/merge-patch+json'),
      body: JSON.stringify({ data: { X: 'eA==' } }),
    });
    expect(dry.status).toBe(200);
    expect((await dry.json()).data.X).toBe('eA==');
    expect(kube.secretData(NS, SECRET)).toEqual(before);
    const json = await fetch(path, {
      method: 'PATCH',
      headers: headers('application/json-patch+json'),
      body: JSON.stringify([{ op: 'add', path: '/data/X', value: 'eA==' }]),
    });
    expect(json.status).toBe(200);
    expect(kube.secretData(NS, SECRET).X).toBe('eA==');
    const stale = await fetch(path, {
      method: 'PATCH',
      headers: headers('application/merge-patch+json'),
      body: JSON.stringify({ metadata: { resourceVersion: '1' }, data: { X: null } }),
    });
    expect(stale.status).toBe(409);
    expect(await stale.json()).toMatchObject({ kind: 'Status', reason: 'Conflict', code: 409 });
    const forbidden = await fetch(path, {
      method: 'PATCH',
      headers: { ...headers('application/merge-patch+json'), authorization: 'Bearer reader-token' },
      body: '{}',
    });
    expect(forbidden.status).toBe(403);
    expect(await forbidden.json()).toMatchObject({ kind: 'Status', reason: 'Forbidden' });
  });
});
