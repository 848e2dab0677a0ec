// `rotate database` on the platform's Kubernetes layout: DATABASE_URL and its bare copy POSTGRES_PASSWORD live in the
// Secret; the backend's pods (the stand-in app, readiness = a fresh login with DATABASE_URL) read them when they start.
// The app's role lives in a private scram-sha-256 PostgreSQL cluster.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppDatabase, loginWith, readAppTables } from '../helpers/app-database.js';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube } from '../helpers/fake-kube.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';

const NS = 'cryptoorchestrator';
const SECRET = 'cryptoorchestrator-secrets';
const masterKey = 'e'.repeat(64);

// One retry, as in kubernetes.test.ts: under load a pod may start slower than a deadline; the assertions stay as they are.
describe('rotate database through a Kubernetes Secret', { retry: 1 }, () => {
  let server: PrivatePostgres;
  let kube: FakeKube;
  let dir: string;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    dir = scratchDir('rotate-kube-db-');
    kube = await startFakeKube(dir);
  });

  afterAll(async () => {
    await kube?.stop();
    await server?.stop();
  });

  it('alter-password: one patch writes DATABASE_URL and POSTGRES_PASSWORD, the backend rolls out and logs in with the new one', async () => {
    const role = `app_${randomBytes(3).toString('hex')}`;
    const db = `co_${randomBytes(3).toString('hex')}`;
    const old = `old-${randomBytes(12).toString('base64url')}`;
    const url = (password: string) => `postgresql+asyncpg://${role}:${password}@127.0.0.1:${server.port}/${db}`;
    await createAppDatabase(server, role, old, db);
    kube.createSecret(NS, SECRET, { DATABASE_URL: url(old), POSTGRES_PASSWORD: old, POSTGRES_USER: role, POSTGRES_DB: db });
    kube.createWorkload('Deployment', NS, 'backend', {
      secret: SECRET,
      replicas: 2,
      readinessPath: '/api/health/ready',
      progressDeadlineSeconds: 60,
    });
    const backend = await kube.service('Deployment', NS, 'backend');
    await kube.until(() => kube.rolledOut('Deployment', NS, 'backend'));
    kube.kubeconfig(join(dir, 'kubeconfig'), [{ name: 'prod', token: ADMIN_TOKEN }]);
    const config = {
      target: { type: 'kubernetes', namespace: NS, secret: SECRET, context: 'prod' },
      services: {
        backend: {
          kubernetes: { kind: 'Deployment', name: 'backend' },
          health: { url: `${backend.url}/api/health/ready`, timeoutSeconds: 30 },
        },
      },
      secrets: { database: { kind: 'postgres', strategy: 'alter-password', alsoUpdate: ['POSTGRES_PASSWORD'], services: ['backend'] } },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
    const cli = (args: string[]) =>
      runCli(args, { cwd: dir, env: { KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir, ROTATE_MASTER_KEY: masterKey } });

    const result = await cli(['database', '--yes']);
    expect(result.stderr).toContain('backend: 2 of 2 updated, 2 ready');
    expect(result.code).toBe(0);
    const values = kube.secretValues(NS, SECRET);
    const next = values.POSTGRES_PASSWORD as string;
    expect(next).not.toBe(old);
    expect(values.DATABASE_URL).toBe(url(next));
    expect(values.POSTGRES_USER).toBe(role);
    expect(kube.api.writes().filter((r) => r.path.endsWith(`/secrets/${SECRET}`))).toHaveLength(1);
    expect(await readAppTables(url(next))).toEqual({ users: 2, invoices: 1 });
    expect(await loginWith(url(old))).toBe('28P01');
    expect((await fetch(`${backend.url}/api/health/ready`)).status).toBe(200);
    const texts = { ...readTree(join(dir, '.rotate')), output: result.stdout + result.stderr };
    expect(findLeaks(texts, [old, next, ADMIN_TOKEN, masterKey])).toEqual([]);
  });
  it('alternate-roles: setup through the Secret, then each rotation moves DATABASE_URL to the other login role, the backend never fails', async () => {
    const role = `shop_${randomBytes(3).toString('hex')}`;
    const db = `shopdb_${randomBytes(3).toString('hex')}`;
    const old = `old-${randomBytes(12).toString('base64url')}`;
    const url = (user: string, password: string) => `postgresql+asyncpg://${user}:${password}@127.0.0.1:${server.port}/${db}`;
    await createAppDatabase(server, role, old, db);
    const secret = `${SECRET}-roles`;
    kube.createSecret(NS, secret, { DATABASE_URL: url(role, old) });
    kube.createWorkload('Deployment', NS, 'shop', { secret, replicas: 2, readinessPath: '/api/health/ready', progressDeadlineSeconds: 60 });
    const shop = await kube.service('Deployment', NS, 'shop');
    await kube.until(() => kube.rolledOut('Deployment', NS, 'shop'));
    const config = {
      target: { type: 'kubernetes', namespace: NS, secret, context: 'prod' },
      services: {
        shop: { kubernetes: { kind: 'Deployment', name: 'shop' }, health: { url: `${shop.url}/api/health/ready`, timeoutSeconds: 30 } },
      },
      secrets: {
        database: { kind: 'postgres', strategy: 'alternate-roles', adminUrlEnv: 'ROTATE_DATABASE_ADMIN_URL', services: ['shop'] },
      },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
    const cli = (args: string[]) =>
      runCli(args, {
        cwd: dir,
        env: { KUBECONFIG: join(dir, 'kubeconfig'), HOME: dir, ROTATE_MASTER_KEY: masterKey, ROTATE_DATABASE_ADMIN_URL: server.adminUrl() },
      });
    const setup = await cli(['setup', 'database', '--apply']);
    expect(setup.code, setup.stderr).toBe(0);
    const outputs = [setup.stdout, setup.stderr];
    const passwords = [old];
    for (const login of [`${role}_blue`, `${role}_green`]) {
      // Old and new pods serve side by side: every answer during the run is a working database login.
      const answers: number[] = [];
      let running = true;
      const run = cli(['database', '--yes']).finally(() => {
        running = false;
      });
      while (running) {
        const response = await fetch(`${shop.url}/api/health/ready`).catch(() => undefined);
        await response?.body?.cancel();
        if (response) answers.push(response.status);
      }
      const result = await run;
      expect(result.code, result.stderr).toBe(0);
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.filter((status) => status !== 200)).toEqual([]);
      const current = kube.secretValues(NS, secret).DATABASE_URL as string;
      expect(current.startsWith(`postgresql+asyncpg://${login}:`)).toBe(true);
      expect(await readAppTables(current)).toEqual({ users: 2, invoices: 1 });
      passwords.push(decodeURIComponent(new URL(current.replace('+asyncpg', '')).password));
      outputs.push(result.stdout, result.stderr);
    }
    const texts = { ...readTree(join(dir, '.rotate')), output: outputs.join('\n') };
    expect(findLeaks(texts, [...passwords, ADMIN_TOKEN, masterKey])).toEqual([]);
  }, 180_000);
});
