// The HTTP face of the fake cluster: the few REST paths rotate uses, with the API server's semantics (bearer-token
// RBAC, resourceVersion preconditions, patch content types, ?dryRun=All, Status objects on every error);
// and list/watch of workloads for the real `kubectl rollout status` (fake-kube-watch.ts).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { discoveryDocument } from './fake-kube-discovery.js';
import { applyPatch, type Json, type JsonObject } from './fake-kube-patch.js';
import { type Account, isAllowed } from './fake-kube-rbac.js';
import { badRequest, conflict, forbidden, invalid, notFound, StatusError, unauthorized } from './fake-kube-status.js';
import type { ObjectStore, Resource, ResourceKey } from './fake-kube-store.js';
import { list, selection, watch } from './fake-kube-watch.js';

export interface RequestRecord {
  method: string;
  path: string;
  dryRun: boolean;
  contentType?: string;
  user: string;
  status: number;
}

export interface ApiServerOptions {
  store: ObjectStore;
  accounts: Map<string, Account>;
  /** Runs before a write is applied: a test changes the object here to play a concurrent writer. */
  beforeWrite?: (key: ResourceKey, dryRun: boolean) => void | Promise<void>;
  /** An API server without the authorization API (SelfSubjectAccessReview answers 404). */
  noAccessReview?: boolean;
}

const GROUP_OF: Record<string, string> = { secrets: '', deployments: 'apps', statefulsets: 'apps', daemonsets: 'apps', cronjobs: 'batch' };
const OBJECT_PATH =
  /^\/(?:api\/v1|apis\/apps\/v1|apis\/batch\/v1)\/namespaces\/([^/]+)\/(secrets|deployments|statefulsets|daemonsets|cronjobs)\/([^/]+)$/;
const COLLECTION_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/;
const WORKLOADS_PATH =
  /^\/apis\/(?:apps\/v1\/namespaces\/([^/]+)\/(deployments|statefulsets|daemonsets)|batch\/v1\/namespaces\/([^/]+)\/(cronjobs))$/;
const NAMESPACE_PATH = /^\/api\/v1\/namespaces\/([^/]+)$/;
const SSAR_PATH = '/apis/authorization.k8s.io/v1/selfsubjectaccessreviews';

/** A fault the next matching request gets instead of its answer: an HTTP status (a Status body), or a reset connection. */
export interface Fault {
  match(request: Pick<RequestRecord, 'method' | 'path'>): boolean;
  answer: number | 'reset';
  /** Why, in the Status message (an admission webhook's text, say). */
  message?: string;
}

/** An answer streamed rather than sent as one body: a watch. */
class Streamed {
  constructor(readonly start: (res: ServerResponse) => void) {}
}

export class ApiServer {
  readonly requests: RequestRecord[] = [];
  /** Taken one at a time, in order, by the requests they match. */
  readonly faults: Fault[] = [];
  #server: Server | undefined;
  #tls: Server | undefined;

  constructor(readonly options: ApiServerOptions) {}

  async listen(): Promise<string> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    await new Promise<void>((resolve) => this.#server?.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  /**
   * The same API over HTTPS (a self-signed certificate made with openssl), for the real kubectl: client-go sends a
   * bearer token only over TLS.
   */
  async listenTls(): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'rotate-fake-kube-tls-'));
    try {
      execFileSync(
        'openssl',
        [
          'req',
          '-x509',
          '-newkey',
          'rsa:2048',
          '-nodes',
          '-days',
          '1',
          '-subj',
          '/CN=127.0.0.1',
          '-keyout',
          join(dir, 'key.pem'),
          '-out',
          join(dir, 'cert.pem'),
        ],
        { stdio: 'ignore' },
      );
      const options = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
      this.#tls = createTlsServer(options, (req, res) => void this.#handle(req, res));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    await new Promise<void>((resolve) => this.#tls?.listen(0, '127.0.0.1', resolve));
    return `https://127.0.0.1:${(this.#tls.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const server of [this.#server, this.#tls]) {
      if (!server) continue;
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  }

  /** Writes that reached the store (dry runs and reads excluded). */
  writes(): RequestRecord[] {
    return this.requests.filter(
      (r) => ['PATCH', 'PUT', 'POST', 'DELETE'].includes(r.method) && !r.dryRun && r.path !== SSAR_PATH && r.status < 300,
    );
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const record: RequestRecord = {
      method: req.method ?? 'GET',
      path: url.pathname,
      dryRun: url.searchParams.get('dryRun') === 'All',
      contentType: req.headers['content-type'],
      user: '',
      status: 200,
    };
    this.requests.push(record);
    let status = 200;
    let body: unknown;
    try {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const raw = Buffer.concat(chunks).toString('utf8');
      const fault = this.faults.findIndex((f) => f.match(record));
      if (fault >= 0) {
        const [{ answer, message }] = this.faults.splice(fault, 1) as [Fault];
        if (answer === 'reset') {
          record.status = 0;
          req.socket.destroy();
          return;
        }
        throw new StatusError(answer, answer === 429 ? 'TooManyRequests' : 'InternalError', message ?? `injected fault ${answer}`);
      }
      const account = this.#authenticate(req);
      record.user = account.user;
      [status, body] = await this.#route(record, url, account, raw);
    } catch (error) {
      const statusError = error instanceof StatusError ? error : new StatusError(500, 'InternalError', String(error));
      status = statusError.code;
      body = statusError.toStatus();
    }
    record.status = status;
    if (body instanceof Streamed) return body.start(res);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  #authenticate(req: IncomingMessage): Account {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const account = token ? this.options.accounts.get(token) : undefined;
    if (!account) throw unauthorized();
    return account;
  }

  async #route(record: RequestRecord, url: URL, account: Account, raw: string): Promise<[number, unknown]> {
    const { store } = this.options;
    if (url.pathname === SSAR_PATH && record.method === 'POST' && !this.options.noAccessReview) {
      return [201, selfSubjectAccessReview(account, parse(raw))];
    }
    const document = discoveryDocument(url.pathname);
    if (document && record.method === 'GET') return [200, document];
    const collection = COLLECTION_PATH.exec(url.pathname);
    if (collection && record.method === 'POST') return this.#create(record, account, decodeURIComponent(collection[1] ?? ''), raw);
    const workloads = WORKLOADS_PATH.exec(url.pathname);
    if (workloads && record.method === 'GET')
      return this.#listOrWatch(account, url, workloads[1] ?? workloads[3] ?? '', (workloads[2] ?? workloads[4]) as Resource);
    const namespaceMatch = NAMESPACE_PATH.exec(url.pathname);
    if (namespaceMatch && record.method === 'GET') {
      const name = decodeURIComponent(namespaceMatch[1] ?? '');
      if (!isAllowed(account, { verb: 'get', group: '', resource: 'namespaces', namespace: name, name })) {
        throw forbidden(account.user, 'get', 'namespaces', '', name, name);
      }
      if (!store.namespaces.has(name)) throw notFound('namespaces', name);
      return [200, { kind: 'Namespace', apiVersion: 'v1', metadata: { name }, status: { phase: 'Active' } }];
    }
    const match = OBJECT_PATH.exec(url.pathname);
    if (!match) throw new StatusError(404, 'NotFound', 'the server could not find the requested resource');
    const [namespace, resource, name] = [match[1], match[2], match[3]].map((part) => decodeURIComponent(part ?? ''));
    const key: ResourceKey = { resource: resource as ResourceKey['resource'], namespace: namespace ?? '', name: name ?? '' };
    const group = GROUP_OF[key.resource] ?? '';
    const verb = { GET: 'get', PATCH: 'patch', PUT: 'update' }[record.method];
    if (!verb) throw new StatusError(405, 'MethodNotAllowed', `the server does not allow this method on the requested resource`);
    if (!isAllowed(account, { verb, group, resource: key.resource, namespace: key.namespace, name: key.name })) {
      throw forbidden(account.user, verb, key.resource, group, key.namespace, key.name);
    }
    const current = store.get(key);
    if (!current) throw notFound(key.resource, key.name, group);
    if (verb === 'get') return [200, current];

    const dryRun = url.searchParams.get('dryRun');
    if (dryRun !== null && dryRun !== 'All') throw badRequest(`invalid dry run value "${dryRun}": only All is supported`);
    await this.options.beforeWrite?.(key, dryRun === 'All');
    const latest = store.get(key) as JsonObject;
    const body = parse(raw);
    const next = (verb === 'patch' ? applyPatch(record.contentType ?? '', latest, body) : body) as JsonObject;
    if (!next || typeof next !== 'object' || Array.isArray(next)) throw badRequest('the body must be an object');
    const sent = (next.metadata as JsonObject | undefined)?.resourceVersion;
    const latestMeta = latest.metadata as JsonObject;
    if (sent !== undefined && sent !== null && sent !== '' && sent !== latestMeta.resourceVersion)
      throw conflict(key.resource, key.name, group);
    if ((next.metadata as JsonObject | undefined)?.name !== undefined && (next.metadata as JsonObject).name !== key.name) {
      throw badRequest(
        `the name of the object (${String((next.metadata as JsonObject).name)}) does not match the name on the URL (${key.name})`,
      );
    }
    const checked = key.resource === 'secrets' ? normalizeSecret(key.name, next) : next;
    return [200, dryRun === 'All' ? store.preview(key, checked) : store.write(key, checked)];
  }

  /** `kubectl rollout status`: a list of workloads (one, with a metadata.name field selector), then a watch of it. */
  #listOrWatch(account: Account, url: URL, rawNamespace: string, resource: Resource): [number, unknown] {
    const namespace = decodeURIComponent(rawNamespace);
    const wanted = selection(resource, namespace, url.searchParams);
    const watching = ['true', '1'].includes(url.searchParams.get('watch') ?? '');
    const verb = watching ? 'watch' : 'list';
    // The API server authorizes a list/watch with a metadata.name field selector as a request for that name.
    const group = GROUP_OF[resource] ?? 'apps';
    if (!isAllowed(account, { verb, group, resource, namespace, name: wanted.name })) {
      throw forbidden(account.user, verb, resource, group, namespace, wanted.name);
    }
    const { store } = this.options;
    if (!watching) return [200, list(store, wanted)];
    return [200, new Streamed((res) => watch(store, wanted, url.searchParams, res))];
  }

  /** `kubectl apply` of a Secret that does not exist yet: a POST to the namespace's collection. */
  #create(record: RequestRecord, account: Account, namespace: string, raw: string): [number, unknown] {
    const body = parse(raw) as JsonObject;
    const name = String((body?.metadata as JsonObject | undefined)?.name ?? '');
    if (!isAllowed(account, { verb: 'create', group: '', resource: 'secrets', namespace, name })) {
      throw forbidden(account.user, 'create', 'secrets', '', namespace, name);
    }
    const key: ResourceKey = { resource: 'secrets', namespace, name };
    if (this.options.store.get(key)) throw new StatusError(409, 'AlreadyExists', `secrets "${name}" already exists`);
    const checked = normalizeSecret(name, body);
    if (record.dryRun) return [201, { ...checked, metadata: { ...(checked.metadata as JsonObject), namespace } }];
    return [201, this.options.store.create(key, { ...checked, type: checked.type ?? 'Opaque' })];
  }
}

function parse(raw: string): Json {
  try {
    return JSON.parse(raw || 'null');
  } catch {
    throw badRequest('the request body is not JSON');
  }
}

/** stringData folds into data; every data value must be base64, as the API server validates. */
function normalizeSecret(name: string, secret: JsonObject): JsonObject {
  const data = { ...((secret.data as JsonObject | undefined) ?? {}) };
  for (const [k, v] of Object.entries((secret.stringData as JsonObject | undefined) ?? {}))
    data[k] = Buffer.from(String(v)).toString('base64');
  for (const [k, v] of Object.entries(data)) {
    if (!/^[-._a-zA-Z0-9]+$/.test(k))
      throw invalid(
        'Secret',
        name,
        `data[${k}]: Invalid value: a valid config key must consist of alphanumeric characters, '-', '_' or '.'`,
      );
    if (typeof v !== 'string' || Buffer.from(v, 'base64').toString('base64') !== v) {
      throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data in data[${k}]`);
    }
  }
  const { stringData: _ignored, ...rest } = secret;
  return { ...rest, data };
}

function selfSubjectAccessReview(account: Account, body: Json): JsonObject {
  const attributes = ((body as JsonObject | null)?.spec as JsonObject | undefined)?.resourceAttributes as JsonObject | undefined;
  if (!attributes) throw badRequest('spec.resourceAttributes is required');
  const request = {
    verb: String(attributes.verb ?? ''),
    group: String(attributes.group ?? ''),
    resource: String(attributes.resource ?? ''),
    namespace: String(attributes.namespace ?? ''),
    name: attributes.name === undefined ? undefined : String(attributes.name),
  };
  const allowed = isAllowed(account, request);
  return {
    kind: 'SelfSubjectAccessReview',
    apiVersion: 'authorization.k8s.io/v1',
    metadata: {},
    spec: (body as JsonObject).spec as Json,
    status: allowed ? { allowed: true, reason: 'RBAC: allowed by RoleBinding' } : { allowed: false },
  };
}
