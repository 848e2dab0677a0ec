// The fake cluster's etcd: objects by resource/namespace/name, one resourceVersion counter for all of them, and
// `metadata.generation` bumped when a workload's spec changes (never by a status update), as the API server does.
import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { JsonObject } from './fake-kube-patch.js';

export type Resource = 'secrets' | 'deployments' | 'statefulsets' | 'daemonsets' | 'cronjobs';

export interface ResourceKey {
  resource: Resource;
  namespace: string;
  name: string;
}

const id = (key: ResourceKey) => `${key.resource}/${key.namespace}/${key.name}`;

export class ObjectStore extends EventEmitter {
  readonly namespaces = new Set<string>();
  readonly #objects = new Map<string, JsonObject>();
  #version = 1000;

  /** The newest resourceVersion handed out: a list's `metadata.resourceVersion`. */
  get resourceVersion(): string {
    return String(this.#version);
  }

  /** Objects of one resource in a namespace (a list request), by name. */
  list(resource: Resource, namespace: string): JsonObject[] {
    const prefix = `${resource}/${namespace}/`;
    return [...this.#objects.entries()]
      .filter(([key]) => key.startsWith(prefix))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, object]) => structuredClone(object));
  }

  get(key: ResourceKey): JsonObject | undefined {
    const object = this.#objects.get(id(key));
    return object && structuredClone(object);
  }

  /** Creates an object (the test's `kubectl apply`): uid, creationTimestamp, resourceVersion, generation 1. */
  create(key: ResourceKey, object: JsonObject): JsonObject {
    this.namespaces.add(key.namespace);
    const metadata = {
      ...((object.metadata as JsonObject | undefined) ?? {}),
      name: key.name,
      namespace: key.namespace,
      uid: randomUUID(),
      creationTimestamp: new Date().toISOString(),
      resourceVersion: String(++this.#version),
      ...(key.resource === 'secrets' ? {} : { generation: 1 }),
    };
    this.#objects.set(id(key), { ...object, metadata });
    this.emit('change', key);
    return this.get(key) as JsonObject;
  }

  /** What a write of `next` would store, without storing it (server-side dry run). */
  preview(key: ResourceKey, next: JsonObject): JsonObject {
    const current = this.#objects.get(id(key)) as JsonObject;
    const before = current.metadata as JsonObject;
    const metadata: JsonObject = { ...before, ...(next.metadata as JsonObject | undefined) };
    for (const fixed of ['uid', 'creationTimestamp', 'name', 'namespace', 'generation', 'resourceVersion'])
      metadata[fixed] = before[fixed] ?? null;
    if (key.resource !== 'secrets') {
      const changed = JSON.stringify(current.spec) !== JSON.stringify(next.spec);
      metadata.generation = Number(metadata.generation) + (changed ? 1 : 0);
      return { ...next, metadata, status: current.status ?? {} };
    }
    delete metadata.generation;
    return { ...next, metadata };
  }

  /** Stores a client's write of the main resource: a new resourceVersion; the status subresource is kept. */
  write(key: ResourceKey, next: JsonObject): JsonObject {
    const stored = this.preview(key, next);
    (stored.metadata as JsonObject).resourceVersion = String(++this.#version);
    this.#objects.set(id(key), stored);
    this.emit('change', key);
    return structuredClone(stored);
  }

  /** The controller's write of the status subresource. */
  writeStatus(key: ResourceKey, status: JsonObject): void {
    const current = this.#objects.get(id(key));
    if (!current || JSON.stringify(current.status) === JSON.stringify(status)) return;
    current.status = structuredClone(status);
    (current.metadata as JsonObject).resourceVersion = String(++this.#version);
    this.emit('change', key);
  }
}
