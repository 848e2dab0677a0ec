// The built CLI against a fake cluster with the platform's layout: one Secret feeding a backend Deployment whose pods
// are the real stand-in app behind a Service. Secrets go through the Secret, restarts are rollouts.
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authStatus } from '../helpers/app.js';
import { CLI } from '../helpers/cli.js';
import type { FakeKube } from '../helpers/fake-kube.js';
import { KUBE_E2E, type KubeProject, kubeService, NS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import { readOnlyRules } from '../helpers/fake-kube-rbac.js';
import type { Service } from '../helpers/fake-kube-service.js';

const OLD = 'old-signing-secret-0123456789-abcdefghijklmnop';
const READER_TOKEN = 'reader-token-0123456789abcdef';
const OTHER = {
  DATABASE_URL: 'postgresql+asyncpg://app:p%40ss@db:5432/cryptoorchestrator',
  STRIPE_SECRET_KEY: 'sk_test_keep-this-byte-for-byte',
  SMTP_PASSWORD: 'smtp pass with spaces and ünïcode',
};
const masterKey = 'b'.repeat(64);
const secretKey = { resource: 'secrets' as const, namespace: NS, name: SECRET };

describe('rotate on Kubernetes end to end', KUBE_E2E, () => {
  let p: KubeProject;
  let kube: FakeKube;
  let service: Service;

  /** A fresh cluster: the Secret holds OLD, the backend's two pods serve it, the config targets it. */
  async function start() {
    p = await startKubeProject({
      prefix: 'rotate-kube-e2e-',
      masterKey,
      accounts: [
        {
          name: 'reader',
          token: READER_TOKEN,
          account: { user: `system:serviceaccount:${NS}:reader`, namespace: NS, rules: readOnlyRules },
        },
      ],
    });
    kube = p.kube;
    service = await p.deploy('backend', { values: { JWT_SECRET: OLD, ...OTHER }, replicas: 2, readinessPath: '/healthz' });
    writeConfig();
  }

  function writeConfig(context = 'prod', graceHours = 0) {
    p.writeConfig(
      {
        services: { backend: kubeService('Deployment', 'backend', `${service.url}/healthz`) },
        secrets: { jwt: { services: ['backend'], graceHours, verify: { url: `${service.url}/api/auth/me` } } },
      },
      { context },
    );
  }

  const cli = (args: string[]) => p.cli(args);
  const resourceVersion = () => (kube.store.get(secretKey)?.metadata as { resourceVersion?: string } | undefined)?.resourceVersion;
  const leaks = (outputs: string[], values: string[]) => p.leaks(outputs, values);

  // Refusals write nothing, so they share one cluster; each starts with a clean request log and the prod config.
  describe('refusals', () => {
    beforeAll(start);
    afterAll(() => p?.stop());
    beforeEach(() => {
      kube.api.requests.length = 0;
      writeConfig();
    });

    it('a dry run reads and asks, and writes nothing to the cluster', async () => {
      const before = kube.secretData(NS, SECRET);
      const result = await cli(['--dry-run', 'jwt']);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain(`Secret ${NS}/${SECRET}`);
      expect(kube.api.writes()).toEqual([]);
      expect(kube.api.requests.some((r) => r.path.endsWith('/selfsubjectaccessreviews'))).toBe(true);
      expect(kube.secretData(NS, SECRET)).toEqual(before);
      expect(leaks([result.stdout, result.stderr], [OLD, ...Object.values(OTHER)])).toEqual([]);
    });

    it('a read-only account is refused before anything changes, with the missing right named (exit 2)', async () => {
      writeConfig('reader');
      const generation = (kube.workload('Deployment', NS, 'backend').metadata as { generation: number }).generation;
      const result = await cli(['jwt', '--yes']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`may patch Secret ${NS}/${SECRET}`);
      expect(result.stderr).toContain(`resourceNames: ["${SECRET}"]`);
      expect(kube.api.writes()).toEqual([]);
      expect((kube.workload('Deployment', NS, 'backend').metadata as { generation: number }).generation).toBe(generation);
      expect(leaks([result.stdout, result.stderr], [OLD])).toEqual([]);
    });

    it('a kubeconfig without the context is exit 2 naming it; nothing is written', async () => {
      writeConfig('staging');
      const result = await cli(['jwt', '--yes']);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('"staging"');
      expect(kube.api.writes()).toEqual([]);
    });
  });

  // Rotations change the Secret and the pods: a fresh cluster each.
  describe('rotations', () => {
    beforeEach(start);
    afterEach(() => p.stop());

    it('rotates JWT through the Secret: one conditional patch, a rollout, the new token accepted and the old refused', async () => {
      const before = kube.secretData(NS, SECRET);
      const version = resourceVersion();
      expect(await authStatus(service.url, OLD)).toBe(200);
      const result = await cli(['jwt', '--yes']);
      expect(result.stderr).toContain('backend: 2 of 2 updated, 2 ready');
      expect(result.code).toBe(0);
      const next = kube.secretValues(NS, SECRET).JWT_SECRET as string;
      expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
      // Every other key byte for byte; one write of the Secret.
      expect({ ...kube.secretData(NS, SECRET), JWT_SECRET: before.JWT_SECRET }).toEqual(before);
      expect(p.secretWrites()).toHaveLength(1);
      expect(p.secretWrites()[0]?.contentType).toBe('application/merge-patch+json');
      expect(version).not.toBe(resourceVersion());
      expect(kube.rolledOut('Deployment', NS, 'backend')).toBe(true);
      expect(await authStatus(service.url, next)).toBe(200);
      expect(await authStatus(service.url, OLD)).toBe(401);
      expect(leaks([result.stdout, result.stderr], [OLD, next, ...Object.values(OTHER)])).toEqual([]);
    });

    it('with a grace period the old token is accepted throughout the rollout; the old value waits in JWT_SECRET_PREVIOUS', async () => {
      writeConfig('prod', 1);
      const run = cli(['jwt', '--yes']);
      let finished = false;
      void run.finally(() => {
        finished = true;
      });
      // Old and new pods serve side by side during the rollout: a token signed with the old secret must keep working.
      const answers: number[] = [];
      // A connection the Service handed to a pod that is just stopping is cut (no HTTP answer): only answers count.
      while (!finished) {
        const status = await authStatus(service.url, OLD).catch(() => undefined);
        if (status !== undefined) answers.push(status);
      }
      const result = await run;
      expect(result.code).toBe(0);
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.filter((status) => status !== 200)).toEqual([]);
      const values = kube.secretValues(NS, SECRET);
      expect(values.JWT_SECRET_PREVIOUS).toBe(OLD);
      expect(await authStatus(service.url, values.JWT_SECRET as string)).toBe(200);
      expect(await authStatus(service.url, OLD)).toBe(200);
      expect(leaks([result.stdout, result.stderr], [OLD, values.JWT_SECRET as string])).toEqual([]);
    });

    it('a rollout whose pods crash restores the Secret, rolls back out, and exits 1; the old value is served', async () => {
      kube.crashWhen('Deployment', NS, 'backend', (podEnv) => podEnv.JWT_SECRET !== OLD);
      const progressDeadline = (seconds: number) => {
        const deployment = kube.workload('Deployment', NS, 'backend') as { spec: { progressDeadlineSeconds: number } };
        deployment.spec.progressDeadlineSeconds = seconds;
        kube.store.write({ resource: 'deployments', namespace: NS, name: 'backend' }, deployment as never);
      };
      // A short progress deadline, so the broken rollout fails fast; the long one again when rotate writes the old
      // value back (its second write of the Secret), so the restore rollout is not held to 5 s on a slow machine.
      progressDeadline(5);
      await kube.until(() => kube.rolledOut('Deployment', NS, 'backend'));
      let secretWrites = 0;
      kube.api.options.beforeWrite = (key, dryRun) => {
        if (!dryRun && key.resource === 'secrets' && ++secretWrites === 2) progressDeadline(60);
      };
      const before = kube.secretData(NS, SECRET);
      const result = await cli(['jwt', '--yes', '--json']);
      expect(result.code).toBe(1);
      const doc = JSON.parse(result.stdout);
      expect(doc.results[0].status).toBe('rolled-back');
      expect(JSON.stringify(doc)).toContain('ProgressDeadlineExceeded');
      expect(kube.secretData(NS, SECRET)).toEqual(before);
      await kube.until(() => kube.rolledOut('Deployment', NS, 'backend'));
      expect(await authStatus(service.url, OLD)).toBe(200);
      expect(leaks([result.stdout, result.stderr], [OLD, ...Object.values(OTHER)])).toEqual([]);
    });

    it('a concurrent change of the Secret (409) stops the run and overwrites nothing', async () => {
      let changed = false;
      kube.api.options.beforeWrite = (key, dryRun) => {
        if (changed || dryRun || key.resource !== 'secrets') return;
        changed = true;
        const current = kube.store.get(secretKey) as { data: Record<string, string> };
        kube.store.write(secretKey, {
          ...current,
          data: { ...current.data, SMTP_PASSWORD: Buffer.from('changed by a person').toString('base64') },
        });
      };
      const result = await cli(['jwt', '--yes']);
      expect(changed).toBe(true);
      // docs/kubernetes.md: KUBE_CONFLICT is exit 2 (it was 1: the run's rolled-back status decided alone).
      expect(result.code, result.stdout + result.stderr).toBe(2);
      expect(result.stderr).toContain('someone else changed');
      expect(kube.secretValues(NS, SECRET)).toEqual({ JWT_SECRET: OLD, ...OTHER, SMTP_PASSWORD: 'changed by a person' });
      expect(await authStatus(service.url, OLD)).toBe(200);
    });

    it('kill -9 during the rollout, then resume brings the Secret and the pods to one consistent value', async () => {
      // The first rollout's pods are slow to get ready, so the kill lands while it runs.
      const generation = (kube.workload('Deployment', NS, 'backend').metadata as { generation: number }).generation;
      const child = spawn(process.execPath, [CLI, 'jwt', '--yes'], {
        cwd: p.dir,
        env: { ...process.env, KUBECONFIG: p.kubeconfig, ROTATE_MASTER_KEY: masterKey, HOME: p.dir },
        stdio: 'ignore',
      });
      await kube.until(() => (kube.workload('Deployment', NS, 'backend').metadata as { generation: number }).generation > generation);
      child.kill('SIGKILL');
      await new Promise((resolve) => child.on('close', resolve));
      expect(kube.secretValues(NS, SECRET).JWT_SECRET).not.toBe(OLD);

      expect((await cli(['status'])).code).toBe(3);
      const resume = await cli(['resume', '--json']);
      expect(resume.code).toBe(0);
      const value = kube.secretValues(NS, SECRET).JWT_SECRET as string;
      await kube.until(() => kube.rolledOut('Deployment', NS, 'backend'));
      expect(await authStatus(service.url, value)).toBe(200);
      expect({ ...kube.secretValues(NS, SECRET), JWT_SECRET: OLD }).toEqual({ JWT_SECRET: OLD, ...OTHER });
      expect((await cli(['status'])).code).toBe(0);
      expect(leaks([resume.stdout, resume.stderr], [OLD, value])).toEqual([]);
    });
  });
});
