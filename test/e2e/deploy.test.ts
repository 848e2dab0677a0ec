// What ships for running rotate in a cluster: the Dockerfile and the kustomize base in deploy/kubernetes/. The base is
// rendered by kubectl's bundled kustomize (as `kubectl apply -k` would), read as objects, and its Role is put to work:
// the built CLI's dry run, as an account holding exactly the rendered Role, passes every check against the fake
// cluster's platform layout (sufficient), and fails naming the right when any one rule is taken away (minimal).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { ROOT } from '../helpers/cli.js';
import { KUBE_E2E, type KubeProject, kubeService, NS, SECRET, startKubeProject } from '../helpers/fake-kube-project.js';
import type { PolicyRule } from '../helpers/fake-kube-rbac.js';

const KUBECTL = '/usr/bin/kubectl';
const BASE = join(ROOT, 'deploy/kubernetes');
const VERSION: string = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;

type Obj = { kind: string; metadata: { name: string; namespace?: string }; [key: string]: unknown };
// biome-ignore lint/suspicious/noExplicitAny: rendered manifests are read by path; the assertions check the shape.
type Any = any;

function render(): Obj[] {
  const out = execFileSync(KUBECTL, ['kustomize', BASE], { encoding: 'utf8' });
  return parseAllDocuments(out).map((doc) => doc.toJS() as Obj);
}

const one = (objects: Obj[], kind: string): Any => {
  const found = objects.filter((o) => o.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0];
};

/** Dockerfile instructions of the last stage (the image that runs), continuation lines joined. */
function finalStage(): { instruction: string; args: string }[] {
  const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const all = lines.map((l) => ({ instruction: (l.split(/\s+/)[0] ?? '').toUpperCase(), args: l.replace(/^\S+\s*/, '') }));
  const last = all.map((i) => i.instruction).lastIndexOf('FROM');
  return all.slice(last);
}

describe('the Dockerfile', () => {
  const stage = finalStage();
  const get = (name: string) => stage.filter((i) => i.instruction === name).map((i) => i.args);

  it('runs rotate as its entrypoint, as a user that is not root', () => {
    expect(get('ENTRYPOINT').at(-1)).toBe('["rotate"]');
    const user = get('USER').at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^(root|0)(:|$)/);
  });

  it('bakes in no secret: no secret-looking ENV or ARG, no env file copied, the build context leaves them out', () => {
    const all = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(all).not.toMatch(/^\s*(ENV|ARG)\b.*\b\w*(SECRET|PASSWORD|TOKEN|MASTER_KEY|_KEY)\w*\s*=/im);
    expect(all).not.toMatch(/^\s*(COPY|ADD)\b.*\.env\b/im);
    expect(all).not.toMatch(/^\s*(COPY|ADD)\s+\.\s/im);
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.env', '.rotate', 'node_modules']) expect(ignored).toContain(entry);
  });

  it('writes nothing under / at run time: the work folder is a volume and caches go to /tmp', () => {
    expect(get('VOLUME').join(' ')).toContain('/work');
    expect(get('WORKDIR').at(-1)).toBe('/work');
    expect(get('ENV').join(' ')).toContain('XDG_CACHE_HOME=/tmp/');
  });
});

describe('deploy/kubernetes', () => {
  let objects: Obj[];
  beforeAll(() => {
    expect(existsSync(KUBECTL), `${KUBECTL} (kubectl 1.32, which bundles kustomize) renders the base`).toBe(true);
    objects = render();
  });

  it('renders a ServiceAccount, Role, RoleBinding, CronJob, dry-run Job and the config, all in the platform namespace', () => {
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'CronJob', 'Job', 'Role', 'RoleBinding', 'ServiceAccount']);
    for (const o of objects) expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(NS);
    const binding = one(objects, 'RoleBinding');
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: one(objects, 'Role').metadata.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: one(objects, 'ServiceAccount').metadata.name, namespace: NS }]);
  });

  it('the CronJob runs `rotate --due --json` and the Job `--dry-run --all`, both as the account, from the Dockerfile image, read-only', () => {
    const account = one(objects, 'ServiceAccount').metadata.name;
    const configMap = one(objects, 'ConfigMap').metadata.name;
    const pods: [string, Any][] = [
      ['CronJob', one(objects, 'CronJob').spec.jobTemplate.spec.template.spec],
      ['Job', one(objects, 'Job').spec.template.spec],
    ];
    for (const [kind, pod] of pods) {
      expect(pod.serviceAccountName, kind).toBe(account);
      expect(pod.securityContext.runAsNonRoot, kind).toBe(true);
      const [container] = pod.containers;
      // `docker build -t rotate:<version> .`, as the Dockerfile's first line says.
      expect(container.image, kind).toBe(`rotate:${VERSION}`);
      expect(container.command, kind).toBeUndefined(); // the image's ENTRYPOINT is rotate
      expect(container.securityContext.readOnlyRootFilesystem, kind).toBe(true);
      expect(container.securityContext.allowPrivilegeEscalation, kind).toBe(false);
      expect(container.args, kind).toContain('/config/rotate.config.json');
      const config = pod.volumes.find((v: Any) => v.configMap);
      expect(config.configMap.name, kind).toBe(configMap);
      expect(container.envFrom).toEqual([{ secretRef: { name: 'rotate-master-key' } }]);
    }
    const [cron, job] = pods.map(([, pod]) => pod.containers[0].args.slice(0, 2));
    expect(cron).toEqual(['--due', '--json']);
    expect(job).toEqual(['--dry-run', '--all']);
    expect(readFileSync(join(ROOT, 'Dockerfile'), 'utf8')).toContain(`docker build -t rotate:${VERSION} .`);
  });

  it("the config is valid and targets the Role's Secret; the Role names exactly the Secret and the workloads the config restarts", () => {
    const config = parseConfig(JSON.parse(one(objects, 'ConfigMap').data['rotate.config.json']), 'the ConfigMap');
    expect(config.target).toMatchObject({ type: 'kubernetes', namespace: NS, secret: SECRET });
    const workloads = Object.values(config.services).map((s) => (s as Any).kubernetes as { kind: string; name: string });
    const names = (kind: string) =>
      workloads
        .filter((w) => w.kind === kind)
        .map((w) => w.name)
        .sort();
    const rules: PolicyRule[] = one(objects, 'Role').rules;
    const sorted = (rule: PolicyRule) => ({
      ...rule,
      resourceNames: [...(rule.resourceNames ?? [])].sort(),
      verbs: [...rule.verbs].sort(),
    });
    expect(rules.map(sorted)).toEqual([
      { apiGroups: [''], resources: ['secrets'], resourceNames: [SECRET], verbs: ['get', 'patch'] },
      { apiGroups: ['apps'], resources: ['deployments'], resourceNames: names('Deployment'), verbs: ['get', 'patch'] },
      { apiGroups: ['apps'], resources: ['statefulsets'], resourceNames: names('StatefulSet'), verbs: ['get', 'patch'] },
    ]);
  });
});

describe("the base's Role at work: a dry run as the account it binds", KUBE_E2E, () => {
  const TOKEN = 'rotate-sa-token-0123456789abcdef';
  const user = `system:serviceaccount:${NS}:rotate`;
  let p: KubeProject;
  let rules: PolicyRule[];

  beforeAll(async () => {
    rules = one(render(), 'Role').rules;
    p = await startKubeProject({
      prefix: 'rotate-deploy-e2e-',
      masterKey: 'd'.repeat(64),
      accounts: [{ name: 'rotate', token: TOKEN, namespace: NS, account: { user, namespace: NS, rules } }],
    });
    const backend = await p.deploy('backend', {
      values: { JWT_SECRET: 'deploy-test-signing-secret-0123456789abcdef', REDIS_PASSWORD: 'deploy-test-redis-password' },
    });
    await p.deploy('celery-worker');
    await p.deploy('celery-beat');
    await p.deploy('redis', { kind: 'StatefulSet', secretKeys: { REDIS_PASSWORD: 'REDIS_PASSWORD' } });
    // Every workload the base's config restarts, on one secret, so one dry run asks about all of them.
    p.writeConfig(
      {
        services: {
          backend: kubeService('Deployment', 'backend', `${backend.url}/healthz`),
          worker: { kubernetes: { kind: 'Deployment', name: 'celery-worker' } },
          beat: { kubernetes: { kind: 'Deployment', name: 'celery-beat' } },
          redis: { kubernetes: { kind: 'StatefulSet', name: 'redis' } },
        },
        secrets: { jwt: { services: ['backend', 'worker', 'beat', 'redis'], verify: { url: `${backend.url}/api/auth/me` } } },
      },
      { context: 'rotate' },
    );
  }, KUBE_E2E.timeout);
  afterAll(() => p?.stop());

  it('passes every check with the rendered Role (sufficient), and writes nothing', async () => {
    p.kube.addAccount(TOKEN, { user, namespace: NS, rules });
    const result = await p.cli(['--dry-run', 'jwt']);
    expect(result.stderr + result.stdout).not.toContain('may not');
    expect(result.code).toBe(0);
    expect(p.kube.api.writes()).toEqual([]);
  });

  it('fails naming the right when any one rule of the Role is taken away (minimal)', async () => {
    for (const [index, rule] of rules.entries()) {
      p.kube.addAccount(TOKEN, { user, namespace: NS, rules: rules.filter((_, i) => i !== index) });
      const result = await p.cli(['--dry-run', 'jwt']);
      // 1: a failed check; 2: the Secret itself cannot be read, so nothing else is asked.
      expect([1, 2], `without ${JSON.stringify(rule)}`).toContain(result.code);
      expect(result.stdout + result.stderr, `without ${JSON.stringify(rule)}`).toContain(rule.resources[0]);
    }
    p.kube.addAccount(TOKEN, { user, namespace: NS, rules });
  });
});
