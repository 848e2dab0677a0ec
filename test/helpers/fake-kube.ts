// A fake Kubernetes cluster for tests: an API server with the semantics rotate relies on (fake-kube-api.ts), an
// object store (fake-kube-store.ts), workload controllers whose pods are real processes (fake-kube-controller.ts,
// fake-kube-pods.ts), Services that proxy to ready pods (fake-kube-service.ts) and kubeconfig files
// (fake-kube-config.ts). Start one per test file or per test; stop() ends every pod.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApiServer } from './fake-kube-api.js';
import { type KubeconfigContext, writeKubeconfig } from './fake-kube-config.js';
import { Controller } from './fake-kube-controller.js';
import type { JsonObject } from './fake-kube-patch.js';
import { IMAGES } from './fake-kube-pods.js';
import { type Account, adminRules } from './fake-kube-rbac.js';
import { Service } from './fake-kube-service.js';
import { ObjectStore, type Resource, type ResourceKey } from './fake-kube-store.js';

export type WorkloadKind = 'Deployment' | 'StatefulSet' | 'DaemonSet';
export const PLURAL: Record<WorkloadKind, Resource> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets' };

export interface WorkloadOptions {
  replicas?: number;
  image?: string;
  /** The Secret read with envFrom (all its keys), as the platform's backend does. */
  secret: string;
  /** Single keys through secretKeyRef: env name -> key of `secret` (the Redis StatefulSet's REDIS_PASSWORD). */
  secretKeys?: Record<string, string>;
  readinessPath?: string;
  progressDeadlineSeconds?: number;
}

export interface FakeKube {
  url: string;
  store: ObjectStore;
  api: ApiServer;
  controller: Controller;
  /** A token and what it may do. The admin token `admin-token` exists from the start. */
  addAccount(token: string, account: Account): void;
  createSecret(namespace: string, name: string, values: Record<string, string>): JsonObject;
  /** The Secret's data, decoded. */
  secretValues(namespace: string, name: string): Record<string, string>;
  /** The Secret's data exactly as stored (base64). */
  secretData(namespace: string, name: string): Record<string, string>;
  createWorkload(kind: WorkloadKind, namespace: string, name: string, options: WorkloadOptions): JsonObject;
  workload(kind: WorkloadKind, namespace: string, name: string): JsonObject;
  /** A Service in front of the workload's ready pods. */
  service(kind: WorkloadKind, namespace: string, name: string): Promise<Service>;
  /** Resolves when `condition` holds, re-checked at every change in the cluster (fails after 120 s by default: a loaded machine is slow, not wrong). */
  until(condition: () => boolean, timeoutMs?: number): Promise<void>;
  rolledOut(kind: WorkloadKind, namespace: string, name: string): boolean;
  /** From now on, pods of the workload whose env matches crash at start (the app refuses that config). */
  crashWhen(kind: WorkloadKind, namespace: string, name: string, predicate: (env: Record<string, string>) => boolean): void;
  kubeconfig(path: string, contexts: KubeconfigContext[]): string;
  stop(): Promise<void>;
}

export const ADMIN_TOKEN = 'admin-token';

export async function startFakeKube(dir: string): Promise<FakeKube> {
  const store = new ObjectStore();
  const accounts = new Map<string, Account>([[ADMIN_TOKEN, { user: 'kubernetes-admin', namespace: '*', rules: adminRules }]]);
  const api = new ApiServer({ store, accounts });
  const url = await api.listen();
  const podDir = join(dir, 'pods');
  mkdirSync(podDir, { recursive: true });
  const controller = new Controller(store, podDir);
  const services: Service[] = [];
  const secretKey = (namespace: string, name: string): ResourceKey => ({ resource: 'secrets', namespace, name });

  const kube: FakeKube = {
    url,
    store,
    api,
    controller,
    addAccount: (token, account) => accounts.set(token, account),
    createSecret: (namespace, name, values) =>
      store.create(secretKey(namespace, name), {
        apiVersion: 'v1',
        kind: 'Secret',
        type: 'Opaque',
        data: Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
      }),
    secretData: (namespace, name) => (store.get(secretKey(namespace, name))?.data ?? {}) as Record<string, string>,
    secretValues: (namespace, name) =>
      Object.fromEntries(Object.entries(kube.secretData(namespace, name)).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')])),
    createWorkload(kind, namespace, name, options) {
      const container = {
        name: 'main',
        image: options.image ?? IMAGES.app,
        envFrom: options.secretKeys ? [] : [{ secretRef: { name: options.secret } }],
        env: Object.entries(options.secretKeys ?? {}).map(([env, key]) => ({
          name: env,
          valueFrom: { secretKeyRef: { name: options.secret, key } },
        })),
        ...(options.readinessPath ? { readinessProbe: { httpGet: { path: options.readinessPath, port: 8000 } } } : {}),
      };
      const spec: JsonObject = {
        selector: { matchLabels: { app: name } },
        template: { metadata: { labels: { app: name } }, spec: { containers: [container] } },
      };
      if (kind !== 'DaemonSet') spec.replicas = options.replicas ?? 1;
      if (kind === 'Deployment') {
        spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
        spec.progressDeadlineSeconds = options.progressDeadlineSeconds ?? 600;
      }
      if (kind === 'StatefulSet') spec.serviceName = name;
      // The API server's default, which `kubectl rollout status` requires of a StatefulSet or DaemonSet.
      if (kind !== 'Deployment') spec.updateStrategy = { type: 'RollingUpdate' };
      return store.create({ resource: PLURAL[kind], namespace, name }, { apiVersion: 'apps/v1', kind, spec });
    },
    workload: (kind, namespace, name) => store.get({ resource: PLURAL[kind], namespace, name }) as JsonObject,
    async service(kind, namespace, name) {
      const service = new Service(() => controller.readyPods(namespace, PLURAL[kind], name));
      await service.listen();
      services.push(service);
      return service;
    },
    until: (condition, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (!condition()) return;
          cleanup();
          resolve();
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error('the fake cluster did not reach the expected state in time'));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          store.off('change', check);
        };
        store.on('change', check);
        check();
      }),
    rolledOut(kind, namespace, name) {
      const object = kube.workload(kind, namespace, name);
      const status = (object.status ?? {}) as Record<string, unknown>;
      const generation = Number((object.metadata as JsonObject).generation);
      if (Number(status.observedGeneration ?? 0) < generation) return false;
      if (kind === 'DaemonSet') {
        const desired = Number(status.desiredNumberScheduled ?? -1);
        return status.updatedNumberScheduled === desired && status.numberAvailable === desired;
      }
      const replicas = Number((object.spec as JsonObject).replicas ?? 1);
      if (kind === 'StatefulSet')
        return status.readyReplicas === replicas && status.updatedReplicas === replicas && status.currentRevision === status.updateRevision;
      return status.updatedReplicas === replicas && status.replicas === replicas && status.availableReplicas === replicas;
    },
    crashWhen: (kind, namespace, name, predicate) => controller.crashWhen.set(`${PLURAL[kind]}/${namespace}/${name}`, predicate),
    kubeconfig: (path, contexts) => writeKubeconfig(path, url, contexts),
    async stop() {
      await controller.stop();
      await Promise.all(services.map((s) => s.close()));
      await api.close();
    },
  };
  return kube;
}
