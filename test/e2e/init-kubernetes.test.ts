// rotate init --from-kubernetes against the fake cluster holding the platform's production layout (PLATFORM.md):
// the built CLI reads the Secret (hostile values: quotes, newlines, $, unicode) and the workloads that reference it,
// writes a config that rotate and the real kubectl accept, names what only a person can give, and never prints or
// writes a value of the Secret; no context, no Secret, or a missing right is exit 2 with nothing written.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { type CliResult, findLeaks, runCli, scratchDir } from '../helpers/cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube } from '../helpers/fake-kube.js';
import { writeKubeconfig } from '../helpers/fake-kube-config.js';
import { readOnlyRules } from '../helpers/fake-kube-rbac.js';
import { createPlatformWorkloads, PLATFORM_NS as NS, PLATFORM_SECRET as SECRET } from '../helpers/platform-cluster.js';

const run = promisify(execFile);

const DB_PASSWORD = `p"a$s'w\nörd-0123456789`;
const REDIS_PASSWORD = 'r3dis-$ecret-☃-0123456789';
/** The Secret's values: hostile where a careless renderer would break or show them. */
const VALUES: Record<string, string> = {
  DATABASE_URL: `postgresql+asyncpg://crypto:${encodeURIComponent(DB_PASSWORD)}@postgres:5432/cryptoorchestrator`,
  POSTGRES_USER: 'crypto',
  POSTGRES_PASSWORD: DB_PASSWORD,
  POSTGRES_DB: 'cryptoorchestrator',
  REDIS_URL: `redis://:${encodeURIComponent(REDIS_PASSWORD)}@redis:6379/0`,
  REDIS_PASSWORD,
  CELERY_BROKER_URL: `redis://:${encodeURIComponent(REDIS_PASSWORD)}@redis:6379/1`,
  CELERY_RESULT_BACKEND: `redis://:${encodeURIComponent(REDIS_PASSWORD)}@redis:6379/2`,
  JWT_SECRET: 'jwt-"quoted"-$HOME-`id`-\n-0123456789abcdefghijklmnop',
  JWT_REFRESH_SECRET: 'refresh-\u00e9\u4e2d-\\n-0123456789abcdefghijklmnopq',
  EXCHANGE_KEY_ENCRYPTION_KEY: "exchange-'key'-0123456789abcdefghijklmnopqrs",
  WALLET_ENCRYPTION_KEY: 'wallet-key-0123456789abcdefghijk',
  STRIPE_SECRET_KEY: 'sk_live_hostile0123456789abcdefghij',
  STRIPE_WEBHOOK_SECRET: 'whsec_hostile0123456789abcdef',
  STRIPE_PUBLISHABLE_KEY: 'pk_live_hostile0123456789abcdef',
  SMTP_PASSWORD: 'smtp-pass-$(reboot)-0123456789',
  SENTRY_DSN: 'https://abc123def456@o1.ingest.sentry.io/1',
  LETSENCRYPT_EMAIL: 'ops@example.com',
};
const SECRET_VALUES = Object.entries(VALUES)
  .filter(([key]) => !['POSTGRES_USER', 'POSTGRES_DB', 'LETSENCRYPT_EMAIL'].includes(key))
  .map(([, value]) => value);
/** Each value in every form an output could carry it: raw, JSON-escaped, base64 (the API's), and the passwords alone. */
const FORMS = [...SECRET_VALUES, DB_PASSWORD, REDIS_PASSWORD].flatMap((value) => [
  value,
  JSON.stringify(value).slice(1, -1),
  Buffer.from(value).toString('base64'),
]);

describe('rotate init --from-kubernetes', { timeout: 120_000 }, () => {
  let kube: FakeKube;
  let dir: string;
  let kubeconfig: string;
  const init = (cwd: string, args: string[], env: Record<string, string> = {}) =>
    runCli(['init', '--from-kubernetes', ...args], { cwd, env: { KUBECONFIG: kubeconfig, HOME: cwd, ...env } });
  const leaks = (cwd: string, ...results: CliResult[]) => {
    const texts: Record<string, string> = {};
    for (const [i, r] of results.entries()) Object.assign(texts, { [`stdout${i}`]: r.stdout, [`stderr${i}`]: r.stderr });
    if (existsSync(join(cwd, 'rotate.config.json'))) texts.config = readFileSync(join(cwd, 'rotate.config.json'), 'utf8');
    return findLeaks(texts, FORMS);
  };

  beforeAll(async () => {
    dir = scratchDir('rotate-init-kube-');
    kube = await startFakeKube(dir);
    kube.createSecret(NS, SECRET, VALUES);
    createPlatformWorkloads(kube);
    // Accounts: one that may read the Secret but list no workload, one that may list workloads but not read the Secret.
    kube.addAccount('secrets-only', {
      user: 'secrets-only',
      namespace: NS,
      rules: [{ apiGroups: [''], resources: ['secrets'], verbs: ['get'], resourceNames: [SECRET] }],
    });
    kube.addAccount('workloads-only', {
      user: 'workloads-only',
      namespace: NS,
      rules: [{ apiGroups: ['apps', 'batch'], resources: ['*'], verbs: ['get', 'list'] }],
    });
    kube.addAccount('viewer', { user: 'viewer', namespace: NS, rules: readOnlyRules });
    kubeconfig = kube.kubeconfig(join(dir, 'kubeconfig'), [
      { name: 'prod', token: ADMIN_TOKEN, namespace: NS },
      { name: 'no-namespace', token: ADMIN_TOKEN },
      { name: 'secrets-only', token: 'secrets-only', namespace: NS },
      { name: 'workloads-only', token: 'workloads-only', namespace: NS },
    ]);
  });
  afterAll(() => kube.stop());

  it('writes the Kubernetes target and rolls out every workload that reads the Secret; names what only a person can give; shows no value', async () => {
    const cwd = scratchDir('rotate-init-kube-ok-');
    const result = await init(cwd, ['--json']);
    expect(result.code, result.stderr).toBe(0);
    const [entry] = JSON.parse(result.stdout).results;
    expect(entry).toMatchObject({ written: true, source: `Secret ${NS}/${SECRET}` });
    expect(entry.undecided.map((u: { path: string }) => u.path)).toEqual([
      'secrets.jwt.verify.url',
      'secrets.stripe.webhook.verifyUrl',
      'secrets.stripe.webhook.url',
    ]);
    expect(entry.unmanaged).toEqual(['WALLET_ENCRYPTION_KEY', 'SMTP_PASSWORD', 'SENTRY_DSN']);
    expect(entry.decided.join('\n')).toContain('CronJob db-backup reads it (secretKeyRef DATABASE_URL)');
    const written = JSON.parse(readFileSync(join(cwd, 'rotate.config.json'), 'utf8'));
    expect(configSchema.safeParse(written).success).toBe(true);
    // The namespace came from the context, as kubectl takes it; the context is written so a later run uses it too.
    expect(written.target).toEqual({ type: 'kubernetes', namespace: NS, secret: SECRET, context: 'prod' });
    expect(written.envFile).toBeUndefined();
    expect(written.services).toEqual({
      backend: { kubernetes: { kind: 'Deployment', name: 'backend' } },
      'celery-beat': { kubernetes: { kind: 'Deployment', name: 'celery-beat' } },
      'celery-worker': { kubernetes: { kind: 'Deployment', name: 'celery-worker' } },
      redis: { kubernetes: { kind: 'StatefulSet', name: 'redis' } },
    });
    expect(Object.keys(written.secrets)).toEqual(['jwt', 'jwt-refresh', 'exchange-key', 'database', 'redis', 'stripe']);
    expect(written.secrets.database.alsoUpdate).toEqual(['POSTGRES_PASSWORD']);
    expect(written.secrets.redis).toMatchObject({
      strategy: 'requirepass',
      alsoUpdate: ['REDIS_PASSWORD', 'CELERY_BROKER_URL', 'CELERY_RESULT_BACKEND'],
      services: ['backend', 'celery-beat', 'celery-worker', 'redis'],
    });
    expect(leaks(cwd, result)).toEqual([]);

    // The human form says the same on stderr, the path on stdout.
    const human = await init(cwd, ['--force']);
    expect(human.code).toBe(0);
    expect(human.stdout.trim()).toBe(`wrote ${join(cwd, 'rotate.config.json')}`);
    expect(human.stderr).toContain(`read Secret ${NS}/${SECRET}: 6 secrets to manage`);
    expect(human.stderr).toContain('only you can give');
    expect(human.stderr).toContain('secrets.jwt.verify.url');
    expect(leaks(cwd, human)).toEqual([]);

    // The real kubectl finds every workload and key the config names, in the cluster the config names.
    const kubectlConfig = writeKubeconfig(join(cwd, 'kubectl-config'), await kube.api.listenTls(), [{ name: 'prod', token: ADMIN_TOKEN }]);
    const kubectl = (...args: string[]) =>
      run('/usr/bin/kubectl', ['--context', written.target.context, '-n', written.target.namespace, ...args], {
        env: { ...process.env, KUBECONFIG: kubectlConfig },
        encoding: 'utf8',
      });
    for (const service of Object.values(written.services) as { kubernetes: { kind: string; name: string } }[]) {
      const { stdout } = await kubectl('get', `${service.kubernetes.kind.toLowerCase()}/${service.kubernetes.name}`, '-o', 'name');
      expect(stdout.trim()).toBe(`${service.kubernetes.kind.toLowerCase()}.apps/${service.kubernetes.name}`);
    }
    const keys = (
      await kubectl('get', `secret/${written.target.secret}`, '-o', 'go-template={{range $k, $v := .data}}{{$k}} {{end}}')
    ).stdout
      .trim()
      .split(' ');
    for (const secret of Object.values(written.secrets) as { env?: string | Record<string, string>; alsoUpdate?: string[] }[]) {
      const named = [...(typeof secret.env === 'string' ? [secret.env] : Object.values(secret.env ?? {})), ...(secret.alsoUpdate ?? [])];
      for (const key of named) expect(keys).toContain(key);
    }
  });

  it('--dry-run prints the config and writes nothing; --namespace, --secret and --context pick the Secret as kubectl would', async () => {
    const cwd = scratchDir('rotate-init-kube-dry-');
    const dry = await init(cwd, ['--dry-run', '--context', 'no-namespace', '-n', NS, '--secret', SECRET]);
    expect(dry.code, dry.stderr).toBe(0);
    expect(existsSync(join(cwd, 'rotate.config.json'))).toBe(false);
    const printed = JSON.parse(dry.stdout);
    expect(printed.target).toEqual({ type: 'kubernetes', namespace: NS, secret: SECRET, context: 'no-namespace' });
    expect(dry.stderr).toContain('only you can give');
    const json = await init(cwd, ['--dry-run', '--json']);
    expect(JSON.parse(json.stdout).results[0]).toMatchObject({ written: false, config: { target: { secret: SECRET } } });
    expect(existsSync(join(cwd, 'rotate.config.json'))).toBe(false);
    expect(leaks(cwd, dry, json)).toEqual([]);
  });

  it('no such context, no such Secret, or a right the account lacks: exit 2, the fix named, nothing written, no value shown', async () => {
    const cwd = scratchDir('rotate-init-kube-err-');
    const cases: [string[], Record<string, string>, string, string][] = [
      [['--context', 'staging'], {}, 'KUBE_CONTEXT_NOT_FOUND', 'it has: prod, no-namespace'],
      [['--secret', 'nope'], {}, 'KUBE_NOT_FOUND', `Secret ${NS}/nope not found`],
      // kubectl's default namespace when the context names none: `default`, where the Secret is not.
      [['--context', 'no-namespace'], {}, 'KUBE_NOT_FOUND', `Secret default/${SECRET} not found`],
      [['--context', 'workloads-only'], {}, 'KUBE_FORBIDDEN', `may not get secrets ${NS}/${SECRET}`],
      [['--context', 'secrets-only'], {}, 'KUBE_FORBIDDEN', `may not list deployments.apps in namespace ${NS}`],
      [[], { KUBECONFIG: join(cwd, 'missing-kubeconfig') }, 'KUBE_CONFIG_INVALID', 'cannot read the kubeconfig'],
    ];
    const results: CliResult[] = [];
    for (const [args, env, code, says] of cases) {
      const result = await init(cwd, [...args, '--json'], env);
      results.push(result);
      expect(result.code, `${args.join(' ')}: ${result.stderr}`).toBe(2);
      const { error } = JSON.parse(result.stdout);
      expect(error.code, args.join(' ')).toBe(code);
      expect(error.message, args.join(' ')).toContain(says);
      expect(existsSync(join(cwd, 'rotate.config.json')), args.join(' ')).toBe(false);
    }
    // Flags of the cluster without --from-kubernetes, and --env-file with it, are bad usage.
    for (const args of [
      ['init', '--namespace', NS],
      ['init', '--from-kubernetes', '--env-file', '.env'],
    ]) {
      // Through the shebang, as a shell runs it: a bare `node` would take --env-file for itself.
      const result = await runCli(args, { cwd, env: { KUBECONFIG: kubeconfig }, shebang: true });
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('[USAGE]');
    }
    expect(existsSync(join(cwd, 'rotate.config.json'))).toBe(false);
    expect(leaks(cwd, ...results)).toEqual([]);
  });

  it('a Secret deployed with kubectl apply: target.source.file is named as a value only a person can give', async () => {
    const cwd = scratchDir('rotate-init-kube-owned-');
    kube.createSecret(NS, 'applied-secrets', { JWT_SECRET: VALUES.JWT_SECRET as string });
    const key = { resource: 'secrets' as const, namespace: NS, name: 'applied-secrets' };
    const stored = kube.store.get(key) as { metadata: Record<string, unknown> };
    kube.store.write(key, {
      ...stored,
      metadata: { ...stored.metadata, annotations: { 'kubectl.kubernetes.io/last-applied-configuration': JSON.stringify({ data: {} }) } },
    });
    const result = await init(cwd, ['--secret', 'applied-secrets', '--json']);
    expect(result.code, result.stderr).toBe(0);
    const { undecided } = JSON.parse(result.stdout).results[0];
    expect(undecided.find((u: { path: string }) => u.path === 'target.source.file')?.why).toContain('kubectl apply');
    expect(leaks(cwd, result)).toEqual([]);
  });

  it('a Secret holding no key a kind rotates: says so and what to do, names its credentials as not managed', async () => {
    const cwd = scratchDir('rotate-init-kube-none-');
    kube.createSecret(NS, 'misc-secrets', { LOG_LEVEL: 'info', API_TOKEN: VALUES.SMTP_PASSWORD as string });
    const result = await init(cwd, ['--secret', 'misc-secrets', '--dry-run']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).secrets).toEqual({});
    expect(result.stderr).toContain(`next: no key of Secret ${NS}/misc-secrets is one a kind rotates`);
    expect(result.stderr).toContain('not managed (they look like credentials; no kind rotates them yet): API_TOKEN');
    expect(leaks(cwd, result)).toEqual([]);
  });
});
