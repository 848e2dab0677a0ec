// The platform's `kubectl apply -f k8s/` flow with rotate: the Secret is created by the real kubectl from a manifest,
// rotate writes the new value into the manifest (that scalar's bytes only) and the live Secret as one, with
// last-applied-configuration rewritten; the next deploy (`kubectl apply -f` again, the real kubectl against the fake
// API server) changes no value and the app still accepts the new one. Bad sources are refused with nothing changed.
import { execFile, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lastAppliedFor } from '../../src/kubernetes/last-applied.js';
import { manifestObject } from '../../src/kubernetes/manifest.js';
import { authStatus } from '../helpers/app.js';
import { ADMIN_TOKEN } from '../helpers/fake-kube.js';
import { writeKubeconfig } from '../helpers/fake-kube-config.js';
import type { JsonObject } from '../helpers/fake-kube-patch.js';
import { KUBE_E2E, type KubeProject, kubeService, NS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import type { Service } from '../helpers/fake-kube-service.js';

const run = promisify(execFile);
const OLD = 'old-signing-secret-0123456789-abcdefghijklmnop';
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';
const secretKey = { resource: 'secrets' as const, namespace: NS, name: SECRET };
const MANIFEST = `# k8s/secrets.yaml: applied by the platform's runbook with kubectl apply -f k8s/
apiVersion: v1
kind: Secret
metadata:
  name: ${SECRET}
  namespace: ${NS}
type: Opaque
stringData:
  JWT_SECRET: ${OLD}   # rotated by rotate
  SMTP_PASSWORD: "smtp pass with spaces"
---
apiVersion: v1
kind: Secret
metadata:
  name: other-secrets
  namespace: ${NS}
stringData:
  JWT_SECRET: not-this-one-0123456789
`;

describe('a Secret deployed with kubectl apply -f, rotated with its source', KUBE_E2E, () => {
  let p: KubeProject;
  let service: Service;
  let kubectlConfig: string;
  let manifestPath: string;

  const kubectl = async (...args: string[]) => {
    try {
      const { stdout, stderr } = await run('/usr/bin/kubectl', args, {
        env: { ...process.env, KUBECONFIG: kubectlConfig },
        encoding: 'utf8',
      });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };
  const annotation = () =>
    ((p.kube.store.get(secretKey) as JsonObject).metadata as { annotations: Record<string, string> }).annotations[LAST_APPLIED];

  beforeAll(async () => {
    p = await startKubeProject({ prefix: 'rotate-kube-source-', masterKey: 'f'.repeat(64) });
    kubectlConfig = writeKubeconfig(join(p.dir, 'kubectl-config'), await p.kube.api.listenTls(), [{ name: 'prod', token: ADMIN_TOKEN }]);
    mkdirSync(join(p.dir, 'k8s'));
    manifestPath = join(p.dir, 'k8s', 'secrets.yaml');
    writeFileSync(manifestPath, MANIFEST);
    p.kube.store.namespaces.add(NS);
    const applied = await kubectl('apply', '-f', manifestPath);
    expect(applied.stdout).toContain(`secret/${SECRET} created`);
    service = await p.deploy('backend', { replicas: 1, readinessPath: '/healthz' });
    writeFileSync(
      join(p.dir, 'rotate.config.json'),
      JSON.stringify({
        target: { type: 'kubernetes', namespace: NS, secret: SECRET, context: 'prod', source: { file: 'k8s/secrets.yaml' } },
        services: { backend: kubeService('Deployment', 'backend', `${service.url}/healthz`) },
        secrets: { jwt: { services: ['backend'], verify: { url: `${service.url}/api/auth/me` } } },
      }),
    );
  });
  afterAll(async () => {
    await p?.stop();
  });

  it('a source that disagrees with the live Secret: exit 2, the file and key named, nothing changed', async () => {
    writeFileSync(manifestPath, MANIFEST.replace(`JWT_SECRET: ${OLD}`, 'JWT_SECRET: edited-but-never-applied-0123456789'));
    const result = await p.cli(['jwt', '--yes']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('[SOURCE_DISAGREES]');
    expect(result.stderr).toContain('k8s/secrets.yaml');
    expect(result.stderr).toContain('JWT_SECRET');
    expect(p.secretWrites()).toEqual([]);
    writeFileSync(manifestPath, MANIFEST.replace(`name: ${SECRET}`, 'name: renamed'));
    const missing = await p.cli(['jwt', '--yes']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('[SOURCE_NO_SECRET]');
    expect(p.secretWrites()).toEqual([]);
    expect(p.leaks([result.stdout, result.stderr, missing.stdout, missing.stderr], [OLD])).toEqual([]);
    writeFileSync(manifestPath, MANIFEST);
  });

  it('rotates file and Secret as one; the next kubectl apply -f changes no value; the app accepts the new one', async () => {
    const dry = await p.cli(['jwt', '--dry-run']);
    expect(dry.code).toBe(0);
    const result = await p.cli(['jwt', '--yes']);
    expect(result.code).toBe(0);
    const next = p.kube.secretValues(NS, SECRET).JWT_SECRET as string;
    expect(next).not.toBe(OLD);
    // Only the scalar changed in the file; the other document and every comment stay.
    const text = readFileSync(manifestPath, 'utf8');
    expect(text).toBe(MANIFEST.replace(`JWT_SECRET: ${OLD}   #`, `JWT_SECRET: ${next}   #`));
    // The annotation is the one kubectl apply would write for the new file; the old value is gone from it.
    expect(annotation()).toBe(lastAppliedFor(manifestObject(text, manifestPath, { namespace: NS, name: SECRET })));
    expect(annotation()).not.toContain(OLD);
    expect(p.secretWrites()).toHaveLength(1);

    // The next deploy: the real kubectl applies the source again.
    const redeploy = await kubectl('apply', '-f', manifestPath);
    expect(redeploy.code).toBe(0);
    expect(p.kube.secretValues(NS, SECRET)).toMatchObject({ JWT_SECRET: next, SMTP_PASSWORD: 'smtp pass with spaces' });
    expect(annotation()).not.toContain(OLD);
    expect(p.kube.rolledOut('Deployment', NS, 'backend')).toBe(true);
    // The platform's deploy check: the real kubectl lists, then watches the Deployment, and agrees it rolled out.
    const rollout = await kubectl('rollout', 'status', 'deployment/backend', '-n', NS, '--timeout=60s');
    expect(rollout).toMatchObject({ code: 0, stdout: 'deployment "backend" successfully rolled out\n' });
    expect(await authStatus(service.url, next)).toBe(200);
    expect(await authStatus(service.url, OLD)).toBe(401);
    const got = await kubectl('get', 'secret', SECRET, '-n', NS, '-o', 'jsonpath={.data.JWT_SECRET}');
    expect(Buffer.from(got.stdout, 'base64').toString('utf8')).toBe(next);

    const status = await p.cli(['status', '--check']);
    expect(status.code).toBe(0);
    expect(p.leaks([dry.stdout, dry.stderr, result.stdout, result.stderr, status.stdout], [OLD, next])).toEqual([]);
  });

  it('a revert of the source (an old manifest applied) is drift, naming the Secret and the file', async () => {
    const current = readFileSync(manifestPath, 'utf8');
    writeFileSync(manifestPath, MANIFEST);
    expect((await kubectl('apply', '-f', manifestPath)).code).toBe(0);
    const check = await p.cli(['status', '--check', '--json']);
    expect(check.code).toBe(1);
    expect(JSON.parse(check.stdout).results[0].drift.where).toEqual([`Secret ${NS}/${SECRET}`, manifestPath]);
    writeFileSync(manifestPath, current);
    expect((await kubectl('apply', '-f', manifestPath)).code).toBe(0);
    expect((await p.cli(['status', '--check'])).code).toBe(0);
  });

  it('a missing source: status still reports every secret, names the file and the fix; --check exits 1; a rotation is refused', async () => {
    const current = readFileSync(manifestPath, 'utf8');
    const live = p.kube.secretValues(NS, SECRET).JWT_SECRET as string;
    rmSync(manifestPath);
    try {
      const status = await p.cli(['status']);
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout).toMatch(/jwt .*cannot read .*k8s\/secrets\.yaml: see below/);
      expect(status.stdout).toContain(
        `jwt: cannot read ${manifestPath}: the source file ${manifestPath} (target.source.file) does not exist`,
      );
      expect(status.stdout).toContain('fix: point target.source.file');
      const json = await p.cli(['status', '--json']);
      expect(json.code).toBe(0);
      const row = JSON.parse(json.stdout).results[0];
      expect(row).toMatchObject({ secret: 'jwt', state: 'unreadable', scheduleState: expect.any(String) });
      expect(row.unreadable).toEqual([
        expect.objectContaining({ where: manifestPath, code: 'SOURCE_NOT_FOUND', hint: expect.any(String) }),
      ]);
      const check = await p.cli(['status', '--check', '--json']);
      expect(check.code).toBe(1);
      expect(JSON.parse(check.stdout).check.problems).toEqual([expect.stringContaining(`jwt: cannot read ${manifestPath}`)]);
      // A rotation still refuses it (exit 2), nothing written.
      const writes = p.secretWrites().length;
      const rotation = await p.cli(['jwt', '--yes']);
      expect(rotation.code).toBe(2);
      expect(rotation.stderr).toContain('[SOURCE_NOT_FOUND]');
      expect(p.secretWrites()).toHaveLength(writes);
      expect(p.leaks([status.stdout, status.stderr, json.stdout, check.stdout, rotation.stderr], [live])).toEqual([]);
    } finally {
      writeFileSync(manifestPath, current);
    }
  });
  it('a rollout that fails rolls back both: the file to its bytes, the Secret and its annotation to theirs', async () => {
    const fileBefore = readFileSync(manifestPath, 'utf8');
    const dataBefore = p.kube.secretData(NS, SECRET);
    const annotationBefore = annotation();
    const current = p.kube.secretValues(NS, SECRET).JWT_SECRET;
    p.kube.crashWhen('Deployment', NS, 'backend', (podEnv) => podEnv.JWT_SECRET !== current);
    const progressDeadline = (seconds: number) => {
      const deployment = p.kube.workload('Deployment', NS, 'backend') as { spec: { progressDeadlineSeconds: number } };
      deployment.spec.progressDeadlineSeconds = seconds;
      p.kube.store.write({ resource: 'deployments', namespace: NS, name: 'backend' }, deployment as never);
    };
    progressDeadline(5);
    await p.kube.until(() => p.kube.rolledOut('Deployment', NS, 'backend'));
    let secretWrites = 0;
    p.kube.api.options.beforeWrite = (key, dryRun) => {
      if (!dryRun && key.resource === 'secrets' && ++secretWrites === 2) progressDeadline(60);
    };
    try {
      const result = await p.cli(['jwt', '--yes', '--json']);
      expect(result.code).toBe(1);
      expect(JSON.parse(result.stdout).results[0].status).toBe('rolled-back');
      expect(readFileSync(manifestPath, 'utf8')).toBe(fileBefore);
      expect(p.kube.secretData(NS, SECRET)).toEqual(dataBefore);
      expect(annotation()).toBe(annotationBefore);
      await p.kube.until(() => p.kube.rolledOut('Deployment', NS, 'backend'));
      expect(await authStatus(service.url, current!)).toBe(200);
      expect(p.leaks([result.stdout, result.stderr], [current!])).toEqual([]);
    } finally {
      p.kube.api.options.beforeWrite = undefined;
      p.kube.crashWhen('Deployment', NS, 'backend', () => false);
    }
  });

  it('an env file the Secret is built from (kubectl create --from-env-file piped to kubectl apply) is written with it', async () => {
    const envPath = join(p.dir, 'k8s', 'app.env');
    const envText = `# the env file the Secret is built from\nJWT_SECRET=${OLD}\nAPP_MODE=prod\n`;
    writeFileSync(envPath, envText);
    // The usual way to apply an env file: kubectl renders the Secret, kubectl apply deploys it.
    const deploy = () =>
      run(
        '/bin/sh',
        [
          '-c',
          `kubectl create secret generic env-secrets -n ${NS} --from-env-file="$ENV_FILE" --dry-run=client -o yaml | kubectl apply -f -`,
        ],
        {
          env: { ...process.env, KUBECONFIG: kubectlConfig, ENV_FILE: envPath },
          encoding: 'utf8',
        },
      );
    expect((await deploy()).stdout).toContain('secret/env-secrets created');
    writeFileSync(
      join(p.dir, 'rotate.config.json'),
      JSON.stringify({
        target: { type: 'kubernetes', namespace: NS, secret: 'env-secrets', context: 'prod', source: { file: 'k8s/app.env' } },
        secrets: { jwt: {} },
      }),
    );
    const result = await p.cli(['jwt', '--yes', '--no-restart']);
    expect(result.code).toBe(0);
    const next = p.kube.secretValues(NS, 'env-secrets').JWT_SECRET as string;
    expect(next).not.toBe(OLD);
    expect(readFileSync(envPath, 'utf8')).toBe(envText.replace(OLD, next));
    const envAnnotation = () =>
      (
        (p.kube.store.get({ resource: 'secrets', namespace: NS, name: 'env-secrets' }) as JsonObject).metadata as {
          annotations: Record<string, string>;
        }
      ).annotations[LAST_APPLIED];
    const b64 = (value: string) => Buffer.from(value).toString('base64');
    expect(envAnnotation()).toContain(b64(next));
    expect(envAnnotation()).not.toContain(b64(OLD));
    // The next deploy from the env file changes no value.
    expect((await deploy()).stdout).toContain('secret/env-secrets');
    expect(p.kube.secretValues(NS, 'env-secrets')).toEqual({ JWT_SECRET: next, APP_MODE: 'prod' });
    expect(envAnnotation()).not.toContain(b64(OLD));
    expect(p.leaks([result.stdout, result.stderr], [OLD, next])).toEqual([]);
  });

  it('kubectl rollout status waits on the watch while a rollout is stuck, and ends when it completes', async () => {
    const key = { resource: 'deployments' as const, namespace: NS, name: 'backend' };
    const restart = (at: string) => {
      const deployment = p.kube.workload('Deployment', NS, 'backend') as { spec: { template: { metadata: JsonObject } } };
      deployment.spec.template.metadata.annotations = { 'kubectl.kubernetes.io/restartedAt': at };
      p.kube.store.write(key, deployment as never);
    };
    // A release whose pods crash: the new pod never becomes ready, the old one keeps serving.
    p.kube.crashWhen('Deployment', NS, 'backend', () => true);
    restart('2026-12-08T00:00:00Z');
    await p.kube.until(() => {
      const status = p.kube.workload('Deployment', NS, 'backend').status as { replicas?: number; updatedReplicas?: number };
      return status.replicas === 2 && status.updatedReplicas === 1;
    });
    const child = spawn('/usr/bin/kubectl', ['rollout', 'status', 'deployment/backend', '-n', NS, '--timeout=60s'], {
      env: { ...process.env, KUBECONFIG: kubectlConfig },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    const waiting = new Promise<void>((resolve) =>
      child.stdout.on('data', (chunk) => {
        stdout += chunk;
        if (stdout.includes('Waiting for deployment')) resolve();
      }),
    );
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    try {
      await waiting;
      expect(stdout).toContain('Waiting for deployment "backend" rollout to finish: 1 old replicas are pending termination...');
      // The fixed release: the next restart rolls out, and kubectl hears it on its watch.
      p.kube.crashWhen('Deployment', NS, 'backend', () => false);
      restart('2026-12-08T00:01:00Z');
      expect(await exited).toBe(0);
      expect(stdout).toContain('deployment "backend" successfully rolled out');
      expect(stderr).toBe('');
      expect(p.kube.rolledOut('Deployment', NS, 'backend')).toBe(true);
      const watches = p.kube.api.requests.filter((r) => r.method === 'GET' && r.path === `/apis/apps/v1/namespaces/${NS}/deployments`);
      expect(watches.length).toBeGreaterThanOrEqual(2);
    } finally {
      child.kill();
    }
  });
});
