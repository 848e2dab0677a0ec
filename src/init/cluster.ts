// `rotate init --from-kubernetes`: the Secret and the workloads of its namespace, read as kubectl would (the current
// kubeconfig, --context, --namespace), with reads only. The Secret's values stay in memory: they decide which keys
// are credentials and which hold copies of one another, and are never printed or written (src/init/discover.ts).

import { RotateError, usageError } from '../errors.js';
import { type KubeClients, kubeClients, kubeError } from '../kubernetes/client.js';
import { ownerFix, secretOwners } from '../kubernetes/ownership.js';
import type { InitInput } from './discover.js';
import { type ListedKind, type ListedWorkload, secretReaders } from './workloads.js';

export interface ClusterOptions {
  context?: string;
  namespace?: string;
  secret: string;
}

/** kubectl's context error, in init's words: the flag to fix is --context. */
async function connect(context: string | undefined): Promise<KubeClients> {
  try {
    return await kubeClients(context);
  } catch (error) {
    if (error instanceof RotateError && error.code === 'KUBE_CONTEXT_NOT_FOUND') {
      throw usageError(
        'KUBE_CONTEXT_NOT_FOUND',
        error.message.replace('(target.context)', '(--context)'),
        'pass one of those to --context (kubectl config get-contexts lists them); nothing was written',
      );
    }
    throw error;
  }
}

const LISTS: {
  kind: ListedKind;
  resource: string;
  group: string;
  list: (c: KubeClients, namespace: string) => Promise<{ items: unknown[] }>;
}[] = [
  { kind: 'Deployment', resource: 'deployments', group: 'apps', list: (c, namespace) => c.apps.listNamespacedDeployment({ namespace }) },
  { kind: 'StatefulSet', resource: 'statefulsets', group: 'apps', list: (c, namespace) => c.apps.listNamespacedStatefulSet({ namespace }) },
  { kind: 'DaemonSet', resource: 'daemonsets', group: 'apps', list: (c, namespace) => c.apps.listNamespacedDaemonSet({ namespace }) },
  { kind: 'CronJob', resource: 'cronjobs', group: 'batch', list: (c, namespace) => c.batch.listNamespacedCronJob({ namespace }) },
];

/** Every workload of the namespace that may read a Secret; a list the account may not make stops init, naming the rule. */
async function listWorkloads(clients: KubeClients, namespace: string): Promise<ListedWorkload[]> {
  const listed: ListedWorkload[] = [];
  for (const { kind, resource, group, list } of LISTS) {
    try {
      const answer = await list(clients, namespace);
      for (const item of answer.items as ListedWorkload[]) listed.push({ ...item, kind });
    } catch (error) {
      if ((error as { code?: unknown }).code === 403) {
        throw usageError(
          'KUBE_FORBIDDEN',
          `the Kubernetes account may not list ${resource}${group ? `.${group}` : ''} in namespace ${namespace}: init reads them to find the workloads that read the Secret; nothing was written`,
          `add this rule to the Role bound to the account in namespace ${namespace}: - { apiGroups: ["${group}"], resources: ["${resource}"], verbs: ["list"] } (kubectl auth can-i list ${resource} -n ${namespace})`,
        );
      }
      throw kubeError(error, { verb: 'list', resource, group, namespace, name: '' }, clients.server);
    }
  }
  return listed;
}

/** What init needs from the cluster: the Secret's keys and values (in memory only), its owners and its readers. */
export async function readCluster(options: ClusterOptions): Promise<{ input: InitInput; context: string; server: string }> {
  const clients = await connect(options.context);
  const namespace = options.namespace ?? clients.namespace ?? 'default';
  const ref = { verb: 'get', resource: 'secrets', group: '', namespace, name: options.secret };
  let secret: import('@kubernetes/client-node').V1Secret;
  try {
    secret = await clients.core.readNamespacedSecret({ name: options.secret, namespace });
  } catch (error) {
    const failure = kubeError(error, ref, clients.server);
    if (failure.code === 'KUBE_NOT_FOUND') {
      throw usageError(
        'KUBE_NOT_FOUND',
        `Secret ${namespace}/${options.secret} not found (context ${clients.context}, ${clients.server}); nothing was written`,
        `name it with --namespace and --secret (kubectl get secrets -n ${namespace} lists them), or another cluster with --context`,
      );
    }
    if (failure.code === 'KUBE_FORBIDDEN') {
      throw usageError('KUBE_FORBIDDEN', `${failure.message}; nothing was written`, failure.hint);
    }
    throw failure;
  }
  const env = Object.fromEntries(
    Object.entries(secret.data ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64').toString('utf8')]),
  );
  const { workloads, notes } = secretReaders(await listWorkloads(clients, namespace), options.secret);
  const owners = secretOwners(secret.metadata ?? {}).map((owner) => ({ kind: owner.kind, evidence: owner.evidence, fix: ownerFix(owner) }));
  // A context of the kubeconfig is written so that a later run does not follow whatever context is current then;
  // in a pod (the in-cluster service account) there is no context to name.
  const context = options.context ?? (clients.context === 'inClusterContext' ? undefined : clients.context);
  return {
    input: { env, kubernetes: { namespace, secret: options.secret, ...(context ? { context } : {}), workloads, notes, owners } },
    context: clients.context,
    server: clients.server,
  };
}
