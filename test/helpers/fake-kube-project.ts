// A scratch project whose target is a Secret in the fake cluster, as the Kubernetes end-to-end tests need it: a
// scratch folder, the fake API server with its pods, a kubeconfig (context `prod` = the admin token, plus any
// other accounts), rotate.config.json, and the built CLI run against them. stop() ends every pod and server; the
// folder goes with the other scratch folders after the file (test/setup.ts).
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type CliResult, findLeaks, readTree, runCli, scratchDir } from './cli.js';
import { ADMIN_TOKEN, type FakeKube, startFakeKube, type WorkloadKind, type WorkloadOptions } from './fake-kube.js';
import type { RequestRecord } from './fake-kube-api.js';
import type { KubeconfigContext } from './fake-kube-config.js';
import type { Account } from './fake-kube-rbac.js';
import type { Service } from './fake-kube-service.js';

/**
 * How long a rollout (and rotate's wait for it) may take in these tests: a deadline only a broken rollout reaches,
 * so a loaded machine makes a test slower, never red.
 */
export const ROLLOUT_SECONDS = 120;

/** For each describe of a Kubernetes end-to-end file: room for two rollouts at ROLLOUT_SECONDS. */
export const KUBE_E2E = { timeout: 2 * ROLLOUT_SECONDS * 1000 + 60_000 };

/** The platform's namespace and Secret. */
export const NS = 'cryptoorchestrator';
export const SECRET = 'cryptoorchestrator-secrets';

export interface KubeProjectOptions {
  /** The scratch folder's name prefix. */
  prefix: string;
  masterKey: string;
  /** More contexts in the kubeconfig, each with its token and what it may do (`prod`, the admin, comes first). */
  accounts?: (KubeconfigContext & { account: Account })[];
}

export type DeployOptions = Partial<WorkloadOptions> & {
  kind?: WorkloadKind;
  values?: Record<string, string> | ((service: Service) => Record<string, string>);
};

export interface KubeProject {
  dir: string;
  kube: FakeKube;
  kubeconfig: string;
  /**
   * A Service, then the Secret (SECRET unless said) with `values` when given (a function of the Service when they
   * name its port), then a Deployment (or `kind`) reading the Secret; resolves when it has rolled out.
   */
  deploy(name: string, options?: DeployOptions): Promise<Service>;
  /** rotate.config.json with the Secret as the target (context `prod`, Secret SECRET unless said). */
  writeConfig(
    config: { services: Record<string, unknown>; secrets: Record<string, unknown> },
    target?: { secret?: string; context?: string },
  ): void;
  /** The built CLI in the folder, with the kubeconfig, HOME and the master key. */
  cli(args: string[], env?: Record<string, string | undefined>): Promise<CliResult>;
  /** The requests that wrote the Secret `name` (SECRET unless said). */
  secretWrites(name?: string): RequestRecord[];
  /** Where `values`, a token or the master key show up in the store (.rotate) or in `outputs`. */
  leaks(outputs: string[], values: string[]): string[];
  stop(): Promise<void>;
}

/** A service entry of the config: the workload rotate restarts, and the URL it checks afterwards. */
export function kubeService(kind: WorkloadKind, name: string, healthUrl: string): Record<string, unknown> {
  return { kubernetes: { kind, name }, health: { url: healthUrl, timeoutSeconds: ROLLOUT_SECONDS } };
}

export async function startKubeProject(options: KubeProjectOptions): Promise<KubeProject> {
  const dir = scratchDir(options.prefix);
  const kube = await startFakeKube(dir);
  const accounts = options.accounts ?? [];
  for (const { token, account } of accounts) kube.addAccount(token, account);
  const kubeconfig = kube.kubeconfig(join(dir, 'kubeconfig'), [
    { name: 'prod', token: ADMIN_TOKEN },
    ...accounts.map(({ name, token, namespace }) => ({ name, token, namespace })),
  ]);
  const tokens = [ADMIN_TOKEN, ...accounts.map((a) => a.token)];
  return {
    dir,
    kube,
    kubeconfig,
    async deploy(name, { kind = 'Deployment', values, secret = SECRET, ...workload } = {}) {
      const service = await kube.service(kind, NS, name);
      if (values) kube.createSecret(NS, secret, typeof values === 'function' ? values(service) : values);
      kube.createWorkload(kind, NS, name, { secret, progressDeadlineSeconds: ROLLOUT_SECONDS, ...workload });
      await kube.until(() => kube.rolledOut(kind, NS, name));
      return service;
    },
    writeConfig(config, target = {}) {
      const file = {
        target: { type: 'kubernetes', namespace: NS, secret: target.secret ?? SECRET, context: target.context ?? 'prod' },
        ...config,
      };
      writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(file, null, 2));
    },
    cli: (args, env = {}) =>
      runCli(args, {
        cwd: dir,
        env: { KUBECONFIG: kubeconfig, HOME: dir, ROTATE_MASTER_KEY: options.masterKey, ...env },
        // A run may wait for a rollout and, when it rolls back, for a second one.
        timeoutMs: 2 * ROLLOUT_SECONDS * 1000 + 20_000,
      }),
    secretWrites: (name = SECRET) => kube.api.writes().filter((r) => r.path.endsWith(`/secrets/${name}`)),
    leaks(outputs, values) {
      const store = join(dir, '.rotate');
      const texts = { ...(existsSync(store) ? readTree(store) : {}), output: outputs.join('\n') };
      return findLeaks(texts, [...values, ...tokens, options.masterKey]);
    },
    stop: () => kube.stop(),
  };
}
