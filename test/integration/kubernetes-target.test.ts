// The Secret target against the fake API server: what it reads, the one conditional write, 409, 403, restore.
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RotateError } from '../../src/errors.js';
import { openKubernetesTarget } from '../../src/target/kubernetes.js';
import type { Target } from '../../src/target/types.js';
import { scratchDir } from '../helpers/cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube } from '../helpers/fake-kube.js';
import { readOnlyRules } from '../helpers/fake-kube-rbac.js';

const NS = 'cryptoorchestrator';
const SECRET = 'cryptoorchestrator-secrets';
const JWT = 'old-jwt-secret-0123456789abcdefghijklmnop';
const log = { info: () => {}, warn: () => {}, debug: () => {} };

describe('Kubernetes Secret target', () => {
  let kube: FakeKube;
  let dir: string;
  let target: Target;

  beforeAll(async () => {
    dir = scratchDir('rotate-kube-target-');
    kube = await startFakeKube(dir);
    kube.addAccount('reader-token', { user: 'system:serviceaccount:cryptoorchestrator:reader', namespace: NS, rules: readOnlyRules });
    process.env.KUBECONFIG = kube.kubeconfig(join(dir, 'kubeconfig'), [
      { name: 'admin', token: ADMIN_TOKEN },
      { name: 'reader', token: 'reader-token' },
    ]);
  });
  afterAll(async () => {
    await kube.stop();
    delete process.env.KUBECONFIG;
  });

  let secretName: string;
  beforeEach(async () => {
    secretName = `${SECRET}-${Math.random().toString(36).slice(2, 8)}`;
    kube.createSecret(NS, secretName, { JWT_SECRET: JWT, OTHER: 'keep\nme\u00e9', BINARY: '\u0000\u00ff' });
    target = await openKubernetesTarget({ namespace: NS, secret: secretName }, { log });
  });

  it('reads the values and the resourceVersion', async () => {
    const snapshot = await target.read();
    expect(snapshot.values.JWT_SECRET).toBe(JWT);
    expect(snapshot.version).toBe(
      (kube.store.get({ resource: 'secrets', namespace: NS, name: secretName })?.metadata as { resourceVersion: string } | undefined)
        ?.resourceVersion,
    );
  });

  it('writes in one request; other keys stay byte for byte', async () => {
    const before = kube.secretData(NS, secretName);
    const snapshot = await target.read();
    const writesBefore = kube.api.writes().length;
    const after = await target.write({ JWT_SECRET: 'new-value-abcdefghijklmnopqrstuvwxyz012345', JWT_SECRET_PREVIOUS: JWT }, snapshot);
    expect(kube.api.writes().length - writesBefore).toBe(1);
    expect(kube.api.writes().at(-1)?.contentType).toBe('application/merge-patch+json');
    expect(after.values.JWT_SECRET_PREVIOUS).toBe(JWT);
    expect(after.version).not.toBe(snapshot.version);
    const data = kube.secretData(NS, secretName);
    expect(data.OTHER).toBe(before.OTHER);
    expect(data.BINARY).toBe(before.BINARY);
    await target.write({ JWT_SECRET_PREVIOUS: null }, after);
    expect(Object.keys(kube.secretData(NS, secretName)).sort()).toEqual(['BINARY', 'JWT_SECRET', 'OTHER']);
  });

  it('a concurrent change gets 409: nothing is overwritten, exit 2', async () => {
    const snapshot = await target.read();
    kube.store.write(
      { resource: 'secrets', namespace: NS, name: secretName },
      {
        ...(kube.store.get({ resource: 'secrets', namespace: NS, name: secretName }) as object),
        data: { ...kube.secretData(NS, secretName), OTHER: Buffer.from('changed by someone').toString('base64') },
      },
    );
    const error = await target.write({ JWT_SECRET: 'new-value-abcdefghijklmnopqrstuvwxyz012345' }, snapshot).catch((e) => e);
    expect(error).toBeInstanceOf(RotateError);
    expect(error).toMatchObject({ code: 'KUBE_CONFLICT', exitCode: 2 });
    expect(error.message).toContain('someone else changed');
    expect(kube.secretValues(NS, secretName).JWT_SECRET).toBe(JWT);
    expect(kube.secretValues(NS, secretName).OTHER).toBe('changed by someone');
  });

  it('restores the keys from a backup', async () => {
    const backup = await target.backup();
    await target.write({ JWT_SECRET: 'new-value-abcdefghijklmnopqrstuvwxyz012345', JWT_SECRET_PREVIOUS: JWT }, await target.read());
    await target.restore(backup, ['JWT_SECRET', 'JWT_SECRET_PREVIOUS']);
    expect(kube.secretValues(NS, secretName)).toEqual({ JWT_SECRET: JWT, OTHER: 'keep\nme\u00e9', BINARY: '\u0000\u00ff' });
    await target.restore(backup, ['JWT_SECRET', 'JWT_SECRET_PREVIOUS']);
  });

  it('preflight: the admin may; keys not there yet are listed', async () => {
    const checks = await (await target.preflight(['JWT_SECRET', 'STRIPE_SECRET_KEY'])).checks;
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    expect(checks.find((c) => c.name.endsWith('keys the run adds when needed'))?.detail).toBe('STRIPE_SECRET_KEY');
  });

  it('preflight with a read-only account names the verb and the Role rule; a write is 403 exit 2', async () => {
    const reader = await openKubernetesTarget({ namespace: NS, secret: secretName, context: 'reader' }, { log });
    const failed = (await reader.preflight(['JWT_SECRET'])).checks.filter((c) => !c.ok);
    expect(failed).toHaveLength(1);
    expect(failed[0]?.name).toContain('may patch');
    expect(failed[0]?.hint).toContain(`resourceNames: ["${secretName}"]`);
    expect(failed[0]?.hint).toContain('verbs: ["get", "patch"]');
    const error = await reader.write({ JWT_SECRET: 'x'.repeat(40) }, await reader.read()).catch((e) => e);
    expect(error).toMatchObject({ code: 'KUBE_FORBIDDEN', exitCode: 2 });
    expect(kube.secretValues(NS, secretName).JWT_SECRET).toBe(JWT);
  });

  it('without SelfSubjectAccessReview, preflight asks with a server-side dry run and still writes nothing', async () => {
    kube.api.options.noAccessReview = true;
    try {
      const before = kube.secretData(NS, secretName);
      const writes = kube.api.writes().length;
      expect((await target.preflight(['JWT_SECRET'])).checks.filter((c) => !c.ok)).toEqual([]);
      const reader = await openKubernetesTarget({ namespace: NS, secret: secretName, context: 'reader' }, { log });
      const failed = (await reader.preflight(['JWT_SECRET'])).checks.filter((c) => !c.ok);
      expect(failed.map((c) => [c.name, c.code])).toEqual([[`may patch Secret ${NS}/${secretName}`, 'KUBE_FORBIDDEN']]);
      expect(kube.api.requests.some((r) => r.dryRun && r.method === 'PATCH')).toBe(true);
      expect(kube.api.writes().length).toBe(writes);
      expect(kube.secretData(NS, secretName)).toEqual(before);
    } finally {
      kube.api.options.noAccessReview = false;
    }
  });

  it('no kubeconfig and no service account is exit 2, saying so', async () => {
    const saved = { KUBECONFIG: process.env.KUBECONFIG, HOME: process.env.HOME };
    delete process.env.KUBECONFIG;
    process.env.HOME = scratchDir('rotate-kube-home-');
    try {
      await expect(openKubernetesTarget({ namespace: NS, secret: secretName }, { log })).rejects.toMatchObject({
        code: 'KUBE_NO_CREDENTIALS',
        exitCode: 2,
      });
    } finally {
      Object.assign(process.env, saved);
    }
  });

  it('a missing context, Secret or API server is exit 2, named', async () => {
    await expect(openKubernetesTarget({ namespace: NS, secret: secretName, context: 'prod' }, { log })).rejects.toMatchObject({
      code: 'KUBE_CONTEXT_NOT_FOUND',
      exitCode: 2,
      message: expect.stringContaining('"prod"'),
    });
    const missing = await openKubernetesTarget({ namespace: NS, secret: 'nope' }, { log });
    await expect(missing.read()).rejects.toMatchObject({
      code: 'KUBE_NOT_FOUND',
      exitCode: 2,
      message: expect.stringContaining(`${NS}/nope`),
    });
    const down = scratchDir('rotate-kube-down-');
    const saved = process.env.KUBECONFIG;
    process.env.KUBECONFIG = kube.kubeconfig(join(down, 'kubeconfig'), [{ name: 'admin', token: ADMIN_TOKEN }]);
    const { writeFileSync, readFileSync } = await import('node:fs');
    writeFileSync(process.env.KUBECONFIG, readFileSync(process.env.KUBECONFIG, 'utf8').replace(kube.url, 'http://127.0.0.1:9'));
    const unreachable = await openKubernetesTarget({ namespace: NS, secret: secretName }, { log });
    await expect(unreachable.read()).rejects.toMatchObject({ code: 'KUBE_UNREACHABLE', exitCode: 2 });
    process.env.KUBECONFIG = saved;
  });
});
