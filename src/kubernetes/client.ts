// The connection to the Kubernetes API, shared by the Secret target and the workload restarts. The official client is
// loaded on first use only (a dynamic import), so commands that never touch a cluster start as fast as before.
import { performance } from 'node:perf_hooks';
import type { ApiConstructor, ApiType, KubeConfig, RequestContext, ResponseContext } from '@kubernetes/client-node';
import { ROTATE_PRIVATE_ENV } from '../config/credential-env.js';
import { RotateError, usageError } from '../errors.js';
import { safeUrl, trace, tracing } from '../trace.js';

export type KubeModule = typeof import('@kubernetes/client-node');

export interface KubeClients {
  kube: KubeModule;
  core: import('@kubernetes/client-node').CoreV1Api;
  apps: import('@kubernetes/client-node').AppsV1Api;
  authorization: import('@kubernetes/client-node').AuthorizationV1Api;
  /** CronJobs (rotate init --from-kubernetes looks for the workloads that read a Secret). */
  batch: import('@kubernetes/client-node').BatchV1Api;
  /** The current context's namespace, when the kubeconfig gives one (kubectl's default for -n). */
  namespace?: string;
  /** The API server's URL, for messages (never a token). */
  server: string;
  context: string;
}

const cache = new Map<string, Promise<KubeClients>>();

/** Names the config says hold a credential (store URL, admin URLs, the secrets' keys): set by the session. */
const withheld = new Set<string>();

/** A kubeconfig `exec` plugin (aws eks get-token, gke-gcloud-auth-plugin) is given none of these variables. */
export function withholdFromKubePlugins(names: Iterable<string>): void {
  for (const name of names) withheld.add(name);
}

/**
 * The environment an `exec` credential plugin runs with: rotate's own secrets (ROTATE_MASTER_KEY, ROTATE_NEW_*, the
 * admin and store URLs) and every variable the config names as a credential are taken out, as for restart commands.
 * The rest stays: the plugin needs its cloud credentials (AWS_*, GOOGLE_*, KUBECONFIG).
 */
export function pluginEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([name]) => !ROTATE_PRIVATE_ENV.test(name) && !withheld.has(name)));
}

type Spawn = (command: string, args: string[], options?: { env?: NodeJS.ProcessEnv }) => unknown;

/**
 * The client runs `exec` plugins with the whole of process.env (plus the kubeconfig's `env`); its ExecAuth has no
 * option for that, so its spawn function is wrapped to pass pluginEnvironment() instead.
 */
function guardExecPlugins(config: KubeConfig): void {
  const authenticators = (config as unknown as { authenticators?: Array<{ execFn?: Spawn }> }).authenticators ?? [];
  for (const auth of authenticators) {
    const spawn = auth.execFn;
    if (typeof spawn !== 'function') continue;
    auth.execFn = (command, args, options = {}) => spawn(command, args, { ...options, env: pluginEnvironment(options.env ?? process.env) });
  }
}

/**
 * Credentials as kubectl finds them: `KUBECONFIG`, else `~/.kube/config`, else the in-cluster service account (a
 * CronJob). `context` picks a kubeconfig context; one that is not there is a usage error naming it.
 */
export function kubeClients(context?: string): Promise<KubeClients> {
  // Keyed by KUBECONFIG too: a test (or a long-lived caller) may point it elsewhere between runs.
  const key = `${process.env.KUBECONFIG ?? ''}\0${context ?? ''}`;
  let clients = cache.get(key);
  if (!clients) {
    clients = connect(context);
    cache.set(key, clients);
    clients.catch(() => cache.delete(key));
  }
  return clients;
}

async function connect(context: string | undefined): Promise<KubeClients> {
  const kube = await import('@kubernetes/client-node');
  const config = new kube.KubeConfig();
  guardExecPlugins(config);
  try {
    config.loadFromDefault();
  } catch (error) {
    throw usageError(
      'KUBE_CONFIG_INVALID',
      `cannot read the kubeconfig ${process.env.KUBECONFIG ? `(KUBECONFIG=${process.env.KUBECONFIG})` : '~/.kube/config'}: ${(error as Error).message.split('\n')[0]}`,
      'point KUBECONFIG at a readable kubeconfig, or run in a pod with a service account',
    );
  }
  if (context) {
    if (!config.getContextObject(context)) {
      const known = config.getContexts().map((c) => c.name);
      throw usageError(
        'KUBE_CONTEXT_NOT_FOUND',
        `the kubeconfig has no context "${context}" (target.context)${known.length ? `; it has: ${known.join(', ')}` : ''}`,
        'fix target.context in the config, or add the context to the kubeconfig (kubectl config get-contexts)',
      );
    }
    config.setCurrentContext(context);
  }
  const cluster = config.getCurrentCluster();
  // With no kubeconfig and no service account the client falls back to an unauthenticated http://localhost:8080.
  const fallback = cluster?.name === 'cluster' && cluster.server === 'http://localhost:8080' && config.getCurrentUser()?.name === 'user';
  if (!cluster || fallback) {
    throw usageError(
      'KUBE_NO_CREDENTIALS',
      'no Kubernetes credentials: KUBECONFIG is not set, ~/.kube/config does not exist and this is not a pod with a service account',
      'set KUBECONFIG, or run rotate in the cluster (docs/kubernetes.md)',
    );
  }
  trace(`kubernetes: API server ${safeUrl(cluster.server)}, context ${config.currentContext}`);
  const make = tracing()
    ? tracedClient(kube, config, cluster.server)
    : <T extends ApiType>(api: ApiConstructor<T>) => config.makeApiClient(api);
  return {
    kube,
    core: make(kube.CoreV1Api),
    apps: make(kube.AppsV1Api),
    authorization: make(kube.AuthorizationV1Api),
    batch: make(kube.BatchV1Api),
    ...(config.getContextObject(config.currentContext)?.namespace
      ? { namespace: config.getContextObject(config.currentContext)?.namespace as string }
      : {}),
    // For messages only: a server URL can carry user:password@ (or a token in its query); never printed raw.
    server: safeUrl(cluster.server),
    context: config.currentContext,
  };
}

/**
 * `--verbose`: an API client (as makeApiClient builds it) whose every request is traced: verb, path and query (no
 * header, no body), status and time. Requests and answers are paired in order (rotate awaits each call).
 */
function tracedClient(kube: KubeModule, config: KubeConfig, server: string) {
  const pending: { request: string; started: number }[] = [];
  const middleware = {
    pre: async (context: RequestContext) => {
      const url = new URL(context.getUrl());
      pending.push({ request: `${context.getHttpMethod()} ${url.pathname}${url.search}`, started: performance.now() });
      return context;
    },
    post: async (context: ResponseContext) => {
      const request = pending.shift();
      const took = request ? ` in ${Math.round(performance.now() - request.started)} ms` : '';
      trace(`kubernetes: ${request?.request ?? 'a request'}: HTTP ${context.httpStatusCode}${took}`);
      return context;
    },
  };
  return <T extends ApiType>(api: ApiConstructor<T>): T =>
    new api(
      kube.createConfiguration({
        baseServer: new kube.ServerConfiguration(server, {}),
        authMethods: { default: config },
        promiseMiddleware: [middleware],
      }),
    );
}

export interface ObjectRef {
  verb: string;
  /** Plural, as RBAC names it: `secrets`, `deployments`. */
  resource: string;
  group: string;
  namespace: string;
  name: string;
}

/** The Role rule that grants `verbs` on one object, on one line (YAML flow style) so that it reads well in a hint. */
export function roleRule(ref: Omit<ObjectRef, 'verb'>, verbs: string[]): string {
  const list = (items: string[]) => `[${items.map((item) => `"${item}"`).join(', ')}]`;
  return `- { apiGroups: ${list([ref.group])}, resources: ${list([ref.resource])}, resourceNames: ${list([ref.name])}, verbs: ${list(verbs)} }`;
}

const READS = new Set(['get', 'list', 'watch']);

const describeRef = (ref: ObjectRef) => `${ref.resource}${ref.group ? `.${ref.group}` : ''} ${ref.namespace}/${ref.name}`;

/**
 * Turns what the client threw into a RotateError naming the object and the fix. Only the API's `Status.message` and
 * reason are used: the client's own message carries the response body and headers.
 */
export function kubeError(error: unknown, ref: ObjectRef, server: string): RotateError {
  if (error instanceof RotateError) return error;
  const code = typeof (error as { code?: unknown })?.code === 'number' ? (error as { code: number }).code : undefined;
  const body = (error as { body?: unknown })?.body;
  const status = typeof body === 'string' ? safeParse(body) : (body as { message?: string; reason?: string } | undefined);
  // A failed write keeps only the Status reason: its message is written by whoever refused it (an admission webhook)
  // and can quote the object sent, the Secret's base64 data included. A read's message is the API server's own.
  const said = READS.has(ref.verb) ? (status?.message ? `: ${status.message}` : '') : status?.reason ? ` (reason: ${status.reason})` : '';
  const what = describeRef(ref);
  if (code === 404) {
    return usageError(
      'KUBE_NOT_FOUND',
      `${what} not found${said}`,
      `check the namespace and name in the config, and the context (${server})`,
    );
  }
  if (code === 403) {
    return usageError(
      'KUBE_FORBIDDEN',
      `the Kubernetes account may not ${ref.verb} ${what}${said}`,
      `add this rule to the Role bound to rotate's account in namespace ${ref.namespace}: ${roleRule(ref, [ref.verb])}`,
    );
  }
  if (code === 401) {
    return usageError(
      'KUBE_UNAUTHORIZED',
      `the API server ${server} rejected the credentials`,
      'refresh the kubeconfig token or the service account',
    );
  }
  if (code === 409) {
    return usageError(
      'KUBE_CONFLICT',
      `someone else changed ${what} since rotate read it; nothing was overwritten`,
      'check who changed it (kubectl get events / audit log), then run rotate again',
    );
  }
  if (code === undefined) {
    const reason = (error as { code?: string })?.code ?? (error as Error)?.name ?? 'error';
    return usageError(
      'KUBE_UNREACHABLE',
      `cannot reach the Kubernetes API server ${server} (${reason}) to ${ref.verb} ${what}`,
      'check the cluster address in the kubeconfig and the network',
    );
  }
  return new RotateError('KUBE_API_ERROR', `the API server answered ${code} to ${ref.verb} ${what}${said}`, {
    hint: 'see the message above; run again once the cluster is healthy',
  });
}

/**
 * A failure worth asking again, as `kubectl rollout status` does: the API server busy or failing (429, 5xx) or the
 * connection dropped (no HTTP status: reset, refused while it restarts, a timeout). Never a 4xx that says what to fix.
 */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'number') return code === 429 || code >= 500;
  // A RotateError is rotate's own verdict (a KUBE_* code), not the client's.
  return !(error instanceof RotateError);
}

function safeParse(text: string): { message?: string; reason?: string } | undefined {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/**
 * May this account `verb` the object? Asked with a SelfSubjectAccessReview; where the API server offers none (404),
 * `probe` answers instead: the read itself for `get`, a server-side dry run (`?dryRun=All`) for `patch`. Either way
 * nothing changes.
 */
export async function mayI(clients: KubeClients, ref: ObjectRef, probe?: () => Promise<unknown>): Promise<boolean> {
  let review: import('@kubernetes/client-node').V1SelfSubjectAccessReview;
  try {
    review = await clients.authorization.createSelfSubjectAccessReview({
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind: 'SelfSubjectAccessReview',
        spec: {
          resourceAttributes: { namespace: ref.namespace, verb: ref.verb, group: ref.group, resource: ref.resource, name: ref.name },
        },
      },
    });
  } catch (error) {
    if (!probe || ![404, 405].includes((error as { code?: number }).code ?? 0)) throw error;
    try {
      await probe();
      return true;
    } catch (refusal) {
      const code = (refusal as { code?: number | string }).code;
      if (code === 403 || code === 'KUBE_FORBIDDEN') return false;
      throw refusal;
    }
  }
  return review.status?.allowed === true;
}
