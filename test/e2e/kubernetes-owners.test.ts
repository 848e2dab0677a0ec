// A Secret another tool writes back is refused before anything changes: one case per kind of owner, the built CLI
// against the fake cluster, `rotate database` on a real private PostgreSQL. The cluster (the Secret, the backend's
// rollout) and the database (the old password still logs in) stay untouched; a dry run reports a failed check.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAppDatabase, loginWith } from '../helpers/app-database.js';
import type { JsonObject } from '../helpers/fake-kube-patch.js';
import { KUBE_E2E, type KubeProject, kubeService, NS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import { type PrivatePostgres, startPrivatePostgres } from '../helpers/private-postgres.js';

const secretKey = { resource: 'secrets' as const, namespace: NS, name: SECRET };
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
/** The fake store merges metadata: a previous case's marks are cleared explicitly. */
const CLEAN = { labels: null, annotations: null, ownerReferences: null, managedFields: null };

describe('rotate refuses a Secret another tool writes back', KUBE_E2E, () => {
  let server: PrivatePostgres;
  let p: KubeProject;
  let old: string;
  let url: string;
  let pristine: JsonObject;

  beforeAll(async () => {
    server = await startPrivatePostgres();
    p = await startKubeProject({ prefix: 'rotate-kube-owners-', masterKey: 'c'.repeat(64) });
    const role = `app_${randomBytes(3).toString('hex')}`;
    const db = `co_${randomBytes(3).toString('hex')}`;
    old = `old-${randomBytes(12).toString('base64url')}`;
    url = `postgresql+asyncpg://${role}:${old}@127.0.0.1:${server.port}/${db}`;
    await createAppDatabase(server, role, old, db);
    const backend = await p.deploy('backend', {
      values: { DATABASE_URL: url, POSTGRES_PASSWORD: old },
      readinessPath: '/api/health/ready',
    });
    p.writeConfig({
      services: { backend: kubeService('Deployment', 'backend', `${backend.url}/api/health/ready`) },
      secrets: { database: { kind: 'postgres', alsoUpdate: ['POSTGRES_PASSWORD'], services: ['backend'] } },
    });
    pristine = p.kube.store.get(secretKey) as JsonObject;
  });
  afterAll(async () => {
    await p?.stop();
    await server?.stop();
  });
  beforeEach(() => {
    p.kube.api.requests.length = 0;
  });

  /** The Secret as the owner leaves it: its values unchanged, the owner's marks in its metadata. */
  function ownBy(metadata: JsonObject): void {
    const current = p.kube.store.get(secretKey) as JsonObject;
    p.kube.store.write(secretKey, {
      ...current,
      metadata: { ...(pristine.metadata as JsonObject), ...CLEAN, ...metadata, resourceVersion: null },
    });
  }

  const manifest = () =>
    JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: SECRET, namespace: NS }, stringData: { POSTGRES_PASSWORD: old } });
  const owners: [string, JsonObject, RegExp][] = [
    [
      'ExternalSecret',
      {
        ownerReferences: [
          { apiVersion: 'external-secrets.io/v1beta1', kind: 'ExternalSecret', name: 'app-secrets', uid: 'u1', controller: true },
        ],
      },
      /external secret store/,
    ],
    [
      'SealedSecret',
      { ownerReferences: [{ apiVersion: 'bitnami.com/v1alpha1', kind: 'SealedSecret', name: 'app-secrets', uid: 'u2', controller: true }] },
      /kubeseal/,
    ],
    ['Argo CD', { annotations: { 'argocd.argoproj.io/tracking-id': `shop:/Secret:${NS}/${SECRET}` } }, /target\.source/],
    [
      'Argo CD',
      {
        labels: { 'app.kubernetes.io/instance': 'shop' },
        managedFields: [{ manager: 'argocd-controller', operation: 'Update', apiVersion: 'v1' }],
      },
      /target\.source/,
    ],
    [
      'Flux',
      { labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' } },
      /commit and push/,
    ],
    ['Helm', { labels: { 'app.kubernetes.io/managed-by': 'Helm' }, annotations: { 'meta.helm.sh/release-name': 'shop' } }, /helm upgrade/],
    ['kubectl apply', { annotations: { [LAST_APPLIED]: manifest() } }, /target\.source/],
  ];

  it.each(owners)('%s: exit 2, the owner and the fix named, nothing changed anywhere', async (kind, metadata, fix) => {
    ownBy(metadata);
    const generation = (p.kube.workload('Deployment', NS, 'backend').metadata as JsonObject).generation;
    const dataBefore = p.kube.secretData(NS, SECRET);

    const result = await p.cli(['database', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[KUBE_SECRET_OWNED]');
    expect(result.stderr).toContain(`managed by ${kind}`);
    expect(result.stderr).toMatch(fix);
    expect(p.secretWrites()).toEqual([]);
    expect(p.kube.secretData(NS, SECRET)).toEqual(dataBefore);
    expect((p.kube.workload('Deployment', NS, 'backend').metadata as JsonObject).generation).toBe(generation);
    expect(await loginWith(url)).toBe('ok');

    const dry = await p.cli(['database', '--dry-run', '--json']);
    expect(dry.code).toBe(1);
    const check = JSON.parse(dry.stdout).results[0].checks.find((c: { id: string }) => c.id === 'kube-secret-owner');
    expect(check).toMatchObject({ ok: false, code: 'KUBE_SECRET_OWNED' });
    expect(p.secretWrites()).toEqual([]);
    expect(p.leaks([result.stdout, result.stderr, dry.stdout, dry.stderr], [old])).toEqual([]);
  });

  it('a Secret no tool writes back passes the check (dry run)', async () => {
    ownBy({});
    const dry = await p.cli(['database', '--dry-run', '--json']);
    const check = JSON.parse(dry.stdout).results[0].checks.find((c: { id: string }) => c.id === 'kube-secret-owner');
    expect(check).toMatchObject({ ok: true });
  });
});
