// A service that is a Kubernetes workload: restarted the way `kubectl rollout restart` does (a new restartedAt
// annotation on the pod template, so new pods start and read the Secret), then watched until the rollout is complete
// by the fields `kubectl rollout status` reads. A rollout that reports ProgressDeadlineExceeded, or outlives the
// service's health timeout, fails the restart step; the old pods keep serving meanwhile (maxUnavailable 0).
import type { Config, KubernetesWorkloadConfig, ServiceConfig } from '../config/schema.js';
import type { Check, Logger } from '../core-types.js';
import { RotateError, usageError } from '../errors.js';
import { isTransient, type KubeClients, kubeClients, kubeError, mayI, type ObjectRef, roleRule } from '../kubernetes/client.js';
import { timed, traced } from '../trace.js';
import { type RolloutState, rolloutState } from './rollout-status.js';

export interface RolloutDeps {
  log: Logger;
  now(): Date;
  sleep(ms: number): Promise<void>;
}

/** What a service needs from the config's `target` (a Kubernetes Secret): its namespace and context. */
interface KubernetesTargetRef {
  type?: string;
  namespace?: string;
  context?: string;
}

const RESOURCE = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' } as const;
const POLL_MS = 250;
const DEFAULT_TIMEOUT_SECONDS = 600;

interface Workload {
  service: string;
  kind: KubernetesWorkloadConfig['kind'];
  name: string;
  namespace: string;
  context: string | undefined;
}

function workloadOf(service: string, config: Config): Workload {
  const workload = config.services[service]?.kubernetes;
  if (!workload) throw new Error(`service ${service} is not a Kubernetes workload`);
  const target = (config as { target?: KubernetesTargetRef }).target;
  const fromTarget = target?.type === 'kubernetes' ? target : undefined;
  const namespace = workload.namespace ?? fromTarget?.namespace;
  if (!namespace) {
    throw usageError(
      'KUBE_NAMESPACE_MISSING',
      `services.${service}.kubernetes: no namespace, and the target is not a Kubernetes Secret to take it from`,
      `add services.${service}.kubernetes.namespace`,
    );
  }
  return { service, kind: workload.kind, name: workload.name, namespace, context: fromTarget?.context };
}

const ref = (w: Workload, verb: string): ObjectRef => ({
  verb,
  resource: RESOURCE[w.kind],
  group: 'apps',
  namespace: w.namespace,
  name: w.name,
});
const label = (w: Workload) => `${w.kind} ${w.namespace}/${w.name}`;

async function readWorkload(clients: KubeClients, w: Workload): Promise<unknown> {
  try {
    return await readWorkloadRaw(clients, w);
  } catch (error) {
    throw kubeError(error, ref(w, 'get'), clients.server);
  }
}

function readWorkloadRaw(clients: KubeClients, w: Workload): Promise<unknown> {
  const params = { name: w.name, namespace: w.namespace };
  if (w.kind === 'Deployment') return clients.apps.readNamespacedDeployment(params);
  if (w.kind === 'StatefulSet') return clients.apps.readNamespacedStatefulSet(params);
  return clients.apps.readNamespacedDaemonSet(params);
}

/** Backoff between reads that failed for a passing reason: 0.5 s doubling to 5 s, always within the deadline. */
const RETRY_MS = [500, 1_000, 2_000, 5_000];

/** `kubectl rollout restart`: a strategic merge patch of the pod template's restartedAt annotation. */
async function restartWorkload(clients: KubeClients, w: Workload, at: Date): Promise<void> {
  const { kube } = clients;
  const body = { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': at.toISOString() } } } } };
  const params = { name: w.name, namespace: w.namespace, body, fieldManager: 'rotate' };
  const options = kube.setHeaderOptions('Content-Type', kube.PatchStrategy.StrategicMergePatch);
  try {
    if (w.kind === 'Deployment') await clients.apps.patchNamespacedDeployment(params, options);
    else if (w.kind === 'StatefulSet') await clients.apps.patchNamespacedStatefulSet(params, options);
    else await clients.apps.patchNamespacedDaemonSet(params, options);
  } catch (error) {
    throw kubeError(error, ref(w, 'patch'), clients.server);
  }
}

/** An empty strategic merge patch as a server-side dry run: may rotate patch the workload? Changes nothing. */
async function dryRunPatch(clients: KubeClients, w: Workload): Promise<void> {
  const { kube } = clients;
  const params = { name: w.name, namespace: w.namespace, body: {}, dryRun: 'All' };
  const options = kube.setHeaderOptions('Content-Type', kube.PatchStrategy.StrategicMergePatch);
  if (w.kind === 'Deployment') await clients.apps.patchNamespacedDeployment(params, options);
  else if (w.kind === 'StatefulSet') await clients.apps.patchNamespacedStatefulSet(params, options);
  else await clients.apps.patchNamespacedDaemonSet(params, options);
}

/** Restarts the service's workload and waits until its rollout is complete, failed, or past the timeout. */
export async function rolloutRestart(service: string, config: Config, deps: RolloutDeps): Promise<void> {
  const w = workloadOf(service, config);
  const clients = await kubeClients(w.context);
  const timeoutSeconds = (config.services[service] as ServiceConfig).health?.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
  deps.log.info(`restarting ${service} (${label(w)}, as kubectl rollout restart)`);
  await timed(`restart ${service}: patch the pod template of ${label(w)}`, () => restartWorkload(clients, w, deps.now()));
  await traced(`restart ${service}: wait for the rollout of ${label(w)} (up to ${timeoutSeconds} s)`, () =>
    waitRollout(clients, w, timeoutSeconds, deps),
  );
}

async function waitRollout(clients: KubeClients, w: Workload, timeoutSeconds: number, deps: RolloutDeps): Promise<void> {
  const { service } = w;
  const deadline = deps.now().getTime() + timeoutSeconds * 1000;
  let said = '';
  let state: RolloutState;
  let failures = 0;
  for (;;) {
    let object: unknown;
    try {
      object = await readWorkloadRaw(clients, w);
      failures = 0;
    } catch (error) {
      // One 500, 429 or dropped connection is not a failed rollout (kubectl rollout status asks again): retry with
      // backoff until the deadline; a 4xx, or a failure that lasts past the deadline, ends the wait.
      const wait = RETRY_MS[Math.min(failures, RETRY_MS.length - 1)]!;
      if (!isTransient(error) || deps.now().getTime() + wait >= deadline) throw kubeError(error, ref(w, 'get'), clients.server);
      failures++;
      deps.log.warn(`${service}: reading ${label(w)} failed (${transientText(error)}); asking again in ${wait / 1000} s`);
      await deps.sleep(wait);
      continue;
    }
    state = rolloutState(w.kind, object);
    if (state.progress !== said) {
      said = state.progress;
      deps.log.info(`${service}: ${state.progress}`);
    }
    if (state.done) return;
    if (state.failed) {
      throw new RotateError('ROLLOUT_FAILED', `${label(w)} did not roll out: ${state.failed}`, {
        hint: `the old pods keep serving; look at the new pods (kubectl -n ${w.namespace} describe ${w.kind.toLowerCase()} ${w.name}, kubectl logs)`,
      });
    }
    if (deps.now().getTime() >= deadline) {
      throw new RotateError('ROLLOUT_TIMEOUT', `${label(w)} did not finish rolling out within ${timeoutSeconds}s (${state.progress})`, {
        hint: `the old pods keep serving; raise services.${service}.health.timeoutSeconds if the rollout is only slow`,
      });
    }
    await deps.sleep(POLL_MS);
  }
}

/** A transient failure in a few words: the HTTP status, or the connection error's code (never a message or body). */
function transientText(error: unknown): string {
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'number') return `HTTP ${code}`;
  const cause = (error as { cause?: { code?: unknown } })?.cause?.code;
  return typeof code === 'string' ? code : typeof cause === 'string' ? cause : 'the connection failed';
}

/** Read-only checks for preflight and --dry-run: the workload exists, and rotate may get and patch it. */
export async function workloadChecks(service: string, config: Config): Promise<Check[]> {
  let w: Workload;
  let clients: KubeClients;
  try {
    w = workloadOf(service, config);
    clients = await kubeClients(w.context);
  } catch (error) {
    const failure = error as RotateError;
    return [
      {
        id: 'workload-found',
        name: `service ${service} reaches its workload`,
        ok: false,
        detail: failure.message,
        hint: failure.hint,
        code: failure.code,
      },
    ];
  }
  const checks: Check[] = [];
  try {
    await readWorkload(clients, w);
    checks.push({ id: 'workload-exists', name: `${label(w)} exists (service ${service})`, ok: true });
  } catch (error) {
    const failure = error as RotateError;
    checks.push({
      id: 'workload-exists',
      name: `${label(w)} exists (service ${service})`,
      ok: false,
      detail: failure.message,
      hint: failure.hint,
      code: failure.code,
    });
  }
  for (const verb of ['get', 'patch']) {
    const name = `may ${verb} ${label(w)}`;
    const id = verb === 'get' ? 'workload-may-get' : 'workload-may-patch';
    try {
      const ok = await mayI(clients, ref(w, verb), () => (verb === 'get' ? readWorkload(clients, w) : dryRunPatch(clients, w)));
      checks.push(
        ok
          ? { id, name, ok }
          : {
              id,
              name,
              ok,
              detail: `the account of context ${clients.context} may not ${verb} ${RESOURCE[w.kind]}.apps ${w.namespace}/${w.name}`,
              hint: `add this rule to the Role bound to rotate's account in namespace ${w.namespace}: ${roleRule(ref(w, verb), ['get', 'patch'])}`,
              code: 'KUBE_FORBIDDEN',
            },
      );
    } catch (error) {
      const failure = kubeError(
        error,
        { ...ref(w, 'create'), resource: 'selfsubjectaccessreviews', group: 'authorization.k8s.io' },
        clients.server,
      );
      checks.push({ id, name, ok: false, detail: failure.message, hint: failure.hint, code: failure.code });
    }
  }
  return checks;
}
