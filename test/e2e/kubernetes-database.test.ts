// `rotate database` on the platform's Kubernetes layout: DATABASE_URL and its bare copy POSTGRES_PASSWORD live in the
// Secret; the backend's pods (the stand-in app, readiness = a fresh login with DATABASE_URL) read them when they start.
// The app's role lives in a private scram-sha-256 PostgreSQL cluster.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAppDatabase, loginWith, readAppTables } from '../helpers/app-database.js';
import { KUBE_E2E, type KubeProject, kubeService, NS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';

describe('rotate database through a Kubernetes Secret', KUBE_E2E, () => {
  let server: PrivatePostgres;
  let p: KubeProject;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    p = await startKubeProject({ prefix: 'rotate-kube-db-', masterKey: 'e'.repeat(64) });
  });

  afterAll(async () => {
    await p?.stop();
    await server?.stop();
  });

  it('alter-password: one patch writes DATABASE_URL and POSTGRES_PASSWORD, the backend rolls out and logs in with the new one', async () => {
    const role = `app_${randomBytes(3).toString('hex')}`;
    const db = `co_${randomBytes(3).toString('hex')}`;
    const old = `old-${randomBytes(12).toString('base64url')}`;
    const url = (password: string) => `postgresql+asyncpg://${role}:${password}@127.0.0.1:${server.port}/${db}`;
    await createAppDatabase(server, role, old, db);
    const backend = await p.deploy('backend', {
      values: { DATABASE_URL: url(old), POSTGRES_PASSWORD: old, POSTGRES_USER: role, POSTGRES_DB: db },
      replicas: 2,
      readinessPath: '/api/health/ready',
    });
    p.writeConfig({
      services: { backend: kubeService('Deployment', 'backend', `${backend.url}/api/health/ready`) },
      secrets: { database: { kind: 'postgres', strategy: 'alter-password', alsoUpdate: ['POSTGRES_PASSWORD'], services: ['backend'] } },
    });

    const result = await p.cli(['database', '--yes']);
    expect(result.stderr).toContain('backend: 2 of 2 updated, 2 ready');
    expect(result.code).toBe(0);
    const values = p.kube.secretValues(NS, SECRET);
    const next = values.POSTGRES_PASSWORD as string;
    expect(next).not.toBe(old);
    expect(values.DATABASE_URL).toBe(url(next));
    expect(values.POSTGRES_USER).toBe(role);
    expect(p.secretWrites()).toHaveLength(1);
    expect(await readAppTables(url(next))).toEqual({ users: 2, invoices: 1 });
    expect(await loginWith(url(old))).toBe('28P01');
    expect((await fetch(`${backend.url}/api/health/ready`)).status).toBe(200);
    expect(p.leaks([result.stdout, result.stderr], [old, next])).toEqual([]);
  });
  it('alternate-roles: setup through the Secret, then each rotation moves DATABASE_URL to the other login role, the backend never fails', async () => {
    const role = `shop_${randomBytes(3).toString('hex')}`;
    const db = `shopdb_${randomBytes(3).toString('hex')}`;
    const old = `old-${randomBytes(12).toString('base64url')}`;
    const url = (user: string, password: string) => `postgresql+asyncpg://${user}:${password}@127.0.0.1:${server.port}/${db}`;
    await createAppDatabase(server, role, old, db);
    const secret = `${SECRET}-roles`;
    const shop = await p.deploy('shop', {
      secret,
      values: { DATABASE_URL: url(role, old) },
      replicas: 2,
      readinessPath: '/api/health/ready',
    });
    p.writeConfig(
      {
        services: { shop: kubeService('Deployment', 'shop', `${shop.url}/api/health/ready`) },
        secrets: {
          database: { kind: 'postgres', strategy: 'alternate-roles', adminUrlEnv: 'ROTATE_DATABASE_ADMIN_URL', services: ['shop'] },
        },
      },
      { secret },
    );
    const cli = (args: string[]) => p.cli(args, { ROTATE_DATABASE_ADMIN_URL: server.adminUrl() });
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
      const current = p.kube.secretValues(NS, secret).DATABASE_URL as string;
      expect(current.startsWith(`postgresql+asyncpg://${login}:`)).toBe(true);
      expect(await readAppTables(current)).toEqual({ users: 2, invoices: 1 });
      passwords.push(decodeURIComponent(new URL(current.replace('+asyncpg', '')).password));
      outputs.push(result.stdout, result.stderr);
    }
    expect(p.leaks(outputs, passwords)).toEqual([]);
  });
});
