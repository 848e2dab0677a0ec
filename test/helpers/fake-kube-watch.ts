// List and watch of workloads (apps/v1 Deployments, StatefulSets, DaemonSets), as `kubectl rollout status` uses them:
// a list with metadata.resourceVersion, then `?watch=true&resourceVersion=<it>`, a chunked response of one JSON
// event per line (ADDED / MODIFIED), an event each time a matching object changes, ended after timeoutSeconds (the
// client watches again) or when the server stops. Only the `metadata.name=<name>` field selector is understood.
import type { ServerResponse } from 'node:http';
import type { JsonObject } from './fake-kube-patch.js';
import { badRequest } from './fake-kube-status.js';
import type { ObjectStore, Resource, ResourceKey } from './fake-kube-store.js';

const KIND: Record<string, string> = {
  deployments: 'Deployment',
  statefulsets: 'StatefulSet',
  daemonsets: 'DaemonSet',
  cronjobs: 'CronJob',
};
const API_VERSION = (resource: Resource) => (resource === 'cronjobs' ? 'batch/v1' : 'apps/v1');

export interface Selection {
  resource: Resource;
  namespace: string;
  /** From `fieldSelector=metadata.name=<name>`: the one object asked for (and what RBAC checks). */
  name?: string;
}

/** The selection a collection request asks for; a field selector other than metadata.name is refused. */
export function selection(resource: Resource, namespace: string, params: URLSearchParams): Selection {
  const selector = params.get('fieldSelector');
  if (!selector) return { resource, namespace };
  const name = /^metadata\.name(?:=|==)([^,]+)$/.exec(selector)?.[1];
  if (name === undefined) throw badRequest(`field label not supported by the fake API server: ${selector}`);
  return { resource, namespace, name };
}

const version = (object: JsonObject) => Number((object.metadata as JsonObject).resourceVersion);
const matching = (store: ObjectStore, s: Selection) =>
  store.list(s.resource, s.namespace).filter((o) => s.name === undefined || (o.metadata as JsonObject).name === s.name);

export function list(store: ObjectStore, s: Selection): JsonObject {
  return {
    kind: `${KIND[s.resource]}List`,
    apiVersion: API_VERSION(s.resource),
    metadata: { resourceVersion: store.resourceVersion },
    items: matching(store, s),
  };
}

/**
 * Streams the watch to `res` until timeoutSeconds pass, the client goes away or the server closes the connection.
 * Without a resourceVersion (or with "0", or sendInitialEvents=true) the current objects come first as ADDED, as
 * the API server does; from a resourceVersion, an object changed since then comes as MODIFIED at once.
 */
export function watch(store: ObjectStore, s: Selection, params: URLSearchParams, res: ServerResponse): void {
  const since = Number(params.get('resourceVersion') || 0);
  const initial = since === 0 || params.get('sendInitialEvents') === 'true';
  const known = new Set<string>();
  res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-cache, private' });
  // Headers now, before any event: client-go's watch waits for them, and kubectl cannot stop its informer (so never
  // exits, whatever its --timeout) while a watch request has no response.
  res.flushHeaders();
  const send = (type: string, object: JsonObject) => res.write(`${JSON.stringify({ type, object })}\n`);
  for (const object of matching(store, s)) {
    known.add(String((object.metadata as JsonObject).name));
    if (initial) send('ADDED', object);
    else if (version(object) > since) send('MODIFIED', object);
  }
  if (params.get('sendInitialEvents') === 'true') {
    const metadata = { resourceVersion: store.resourceVersion, annotations: { 'k8s.io/initial-events-end': 'true' } };
    send('BOOKMARK', { kind: KIND[s.resource] as string, apiVersion: API_VERSION(s.resource), metadata });
  }
  const onChange = (key: ResourceKey) => {
    if (key.resource !== s.resource || key.namespace !== s.namespace || (s.name !== undefined && key.name !== s.name)) return;
    const object = store.get(key);
    if (!object) return;
    send(known.has(key.name) ? 'MODIFIED' : 'ADDED', object);
    known.add(key.name);
  };
  store.on('change', onChange);
  const seconds = Number(params.get('timeoutSeconds') || 0);
  const timer = seconds > 0 ? setTimeout(() => res.end(), seconds * 1000) : undefined;
  res.on('close', () => {
    clearTimeout(timer);
    store.off('change', onChange);
  });
}
