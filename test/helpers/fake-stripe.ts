// A local stand-in for the Stripe API: the endpoints `rotate stripe` uses, with Stripe's JSON error shapes
// ({error: {type, code, message}}), so that the real `stripe` package can be pointed at it (apiBase).
// Accounts and keys are set per test; every request is recorded for assertions and leak greps.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Mode = 'live' | 'test';

export interface FakeKey {
  account: string;
  mode: Mode;
  /** Restricted keys (rk_) only: permissions like 'account_read', 'webhook_read', 'webhook_write'. */
  permissions?: string[];
  revoked?: boolean;
}

export interface FakeEndpoint {
  id: string;
  account: string;
  mode: Mode;
  url: string;
  enabled_events: string[];
  api_version: string | null;
  description: string | null;
  metadata: Record<string, string>;
  connect: boolean;
  status: 'enabled' | 'disabled';
  secret: string;
  created: number;
  seq: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status: number;
}

const error = (status: number, type: string, message: string, code?: string, param?: string) => ({
  status,
  body: {
    error: {
      type,
      message,
      ...(code ? { code } : {}),
      ...(param ? { param } : {}),
      request_log_url: 'https://dashboard.stripe.com/logs/req_fake',
    },
  },
});

const masked = (key: string) => `${key.slice(0, key.indexOf('_', 3) + 1)}${'*'.repeat(20)}${key.slice(-4)}`;

/** Stripe's form encoding, one level deep: a[0]=x, a[k]=v, flag=true. */
function parseForm(body: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [rawKey, value] of new URLSearchParams(body)) {
    const m = /^([^[]+)\[([^\]]*)\]$/.exec(rawKey);
    if (!m) {
      out[rawKey] = value;
      continue;
    }
    const [, name, sub] = m as unknown as [string, string, string];
    if (/^\d*$/.test(sub)) {
      out[name] ??= [];
      (out[name] as string[]).push(value);
    } else {
      out[name] ??= {};
      (out[name] as Record<string, string>)[sub] = value;
    }
  }
  return out;
}

export class FakeStripe {
  readonly keys = new Map<string, FakeKey>();
  readonly endpoints = new Map<string, FakeEndpoint>();
  readonly requests: RecordedRequest[] = [];
  /** Every key and signing secret this fake ever issued, for leak greps. */
  readonly issued: string[] = [];
  /** Makes the next request matching `METHOD /path-prefix` answer this status (crash and outage tests). */
  readonly failures: { match: string; status: number }[] = [];
  #server?: Server;
  #seq = 0;

  static async start(): Promise<FakeStripe> {
    const fake = new FakeStripe();
    await fake.#listen();
    return fake;
  }

  get apiBase(): string {
    return `http://127.0.0.1:${(this.#server!.address() as AddressInfo).port}`;
  }

  /** A new key for `account`; its prefix decides its type and mode. Returns the key. */
  addKey(account: string, options: { mode?: Mode; restricted?: string[]; type?: 'sk' | 'rk' | 'pk' } = {}): string {
    const mode = options.mode ?? 'test';
    const type = options.type ?? (options.restricted ? 'rk' : 'sk');
    const key = `${type}_${mode}_${randomBytes(24).toString('hex')}`;
    this.keys.set(key, { account, mode, ...(options.restricted ? { permissions: options.restricted } : {}) });
    this.issued.push(key);
    return key;
  }

  /** Expires a key, as "Roll key" with an expiry of now does in the Dashboard. */
  revokeKey(key: string): void {
    const entry = this.keys.get(key);
    if (entry) entry.revoked = true;
  }

  addEndpoint(account: string, fields: Partial<Omit<FakeEndpoint, 'id' | 'account' | 'secret'>> & { url: string }): FakeEndpoint {
    const seq = ++this.#seq;
    const endpoint: FakeEndpoint = {
      id: `we_${randomBytes(12).toString('hex')}`,
      account,
      mode: fields.mode ?? 'test',
      url: fields.url,
      enabled_events: fields.enabled_events ?? ['*'],
      api_version: fields.api_version ?? null,
      description: fields.description ?? null,
      metadata: fields.metadata ?? {},
      connect: fields.connect ?? false,
      status: fields.status ?? 'enabled',
      secret: `whsec_${randomBytes(24).toString('base64url').replace(/[-_]/g, 'x')}`,
      created: Math.floor(Date.now() / 1000),
      seq,
    };
    this.endpoints.set(endpoint.id, endpoint);
    this.issued.push(endpoint.secret);
    return endpoint;
  }

  endpointsOf(account: string, mode: Mode = 'test'): FakeEndpoint[] {
    return [...this.endpoints.values()].filter((e) => e.account === account && e.mode === mode);
  }

  /** Requests as a string for leak greps, with the Authorization header (where keys belong) left out. */
  requestLogWithoutAuthorization(): string {
    return JSON.stringify(this.requests.map(({ headers, ...rest }) => ({ ...rest, headers: { ...headers, authorization: undefined } })));
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.#server?.close(() => resolve()) ?? resolve());
  }

  async #listen(): Promise<void> {
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve) => this.#server!.listen(0, '127.0.0.1', resolve));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = req.method ?? 'GET';
    const out = this.#route(method, url, req.headers.authorization, body);
    this.requests.push({ method, path: url.pathname, query: url.search, headers: { ...req.headers }, body, status: out.status });
    res.writeHead(out.status, { 'content-type': 'application/json', 'request-id': `req_${this.requests.length}` });
    res.end(JSON.stringify(out.body));
  }

  #route(method: string, url: URL, authorization: string | undefined, body: string): { status: number; body: unknown } {
    const failure = this.failures.findIndex((f) => `${method} ${url.pathname}`.startsWith(f.match));
    if (failure >= 0) {
      const [injected] = this.failures.splice(failure, 1);
      return error(injected!.status, 'api_error', 'Injected failure');
    }
    const key = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
    if (!key) return error(401, 'invalid_request_error', 'You did not provide an API key.');
    const entry = this.keys.get(key);
    if (!entry || key.startsWith('pk_')) return error(401, 'invalid_request_error', `Invalid API Key provided: ${masked(key)}`);
    if (entry.revoked) return error(401, 'invalid_request_error', `Expired API Key provided: ${masked(key)}`, 'api_key_expired');
    const need = (permission: string) =>
      entry.permissions && !entry.permissions.includes(permission)
        ? error(
            403,
            'invalid_request_error',
            `The provided key '${masked(key)}' does not have the required permissions for this endpoint on account '${entry.account}'. Having the 'rak_${permission}' permission would allow this request to continue.`,
          )
        : undefined;
    const path = url.pathname;
    if (method === 'GET' && path === '/v1/account')
      return (
        need('account_read') ?? {
          status: 200,
          body: { id: entry.account, object: 'account', charges_enabled: true, country: 'US', default_currency: 'usd' },
        }
      );
    if (method === 'GET' && path === '/v1/balance')
      return (
        need('balance_read') ?? {
          status: 200,
          body: { object: 'balance', available: [{ amount: 0, currency: 'usd' }], pending: [], livemode: entry.mode === 'live' },
        }
      );
    if (path === '/v1/webhook_endpoints') {
      if (method === 'GET') return need('webhook_read') ?? this.#list(entry, url);
      if (method === 'POST') return need('webhook_write') ?? this.#create(entry, parseForm(body));
    }
    const m = /^\/v1\/webhook_endpoints\/([^/]+)$/.exec(path);
    if (m) {
      const endpoint = this.endpoints.get(decodeURIComponent(m[1]!));
      const visible = endpoint && endpoint.account === entry.account && endpoint.mode === entry.mode ? endpoint : undefined;
      const denied = need(method === 'GET' ? 'webhook_read' : 'webhook_write');
      if (denied) return denied;
      if (!visible) return error(404, 'invalid_request_error', `No such webhook endpoint: '${m[1]}'`, 'resource_missing', 'id');
      if (method === 'GET') return { status: 200, body: this.#render(visible) };
      if (method === 'DELETE') {
        this.endpoints.delete(visible.id);
        return { status: 200, body: { id: visible.id, object: 'webhook_endpoint', deleted: true } };
      }
    }
    return error(404, 'invalid_request_error', `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs.`);
  }

  #render(endpoint: FakeEndpoint, withSecret = false): Record<string, unknown> {
    return {
      id: endpoint.id,
      object: 'webhook_endpoint',
      api_version: endpoint.api_version,
      application: endpoint.connect ? 'ca_fakeplatform' : null,
      created: endpoint.created,
      description: endpoint.description,
      enabled_events: endpoint.enabled_events,
      livemode: endpoint.mode === 'live',
      metadata: endpoint.metadata,
      status: endpoint.status,
      url: endpoint.url,
      ...(withSecret ? { secret: endpoint.secret } : {}),
    };
  }

  #list(entry: FakeKey, url: URL): { status: number; body: unknown } {
    const limit = Math.min(Number(url.searchParams.get('limit') ?? 10), 100);
    const after = url.searchParams.get('starting_after');
    let all = this.endpointsOf(entry.account, entry.mode).sort((a, b) => b.seq - a.seq);
    if (after) all = all.slice(all.findIndex((e) => e.id === after) + 1);
    const page = all.slice(0, limit);
    return {
      status: 200,
      body: { object: 'list', url: '/v1/webhook_endpoints', has_more: all.length > limit, data: page.map((e) => this.#render(e)) },
    };
  }

  #create(entry: FakeKey, params: Record<string, unknown>): { status: number; body: unknown } {
    if (typeof params.url !== 'string' || !/^https?:\/\//.test(params.url))
      return error(400, 'invalid_request_error', 'Invalid URL: URL must be publicly accessible.', 'url_invalid', 'url');
    const events = params.enabled_events;
    if (!Array.isArray(events) || events.length === 0)
      return error(400, 'invalid_request_error', 'Missing required param: enabled_events.', 'parameter_missing', 'enabled_events');
    const endpoint = this.addEndpoint(entry.account, {
      mode: entry.mode,
      url: params.url,
      enabled_events: events as string[],
      api_version: typeof params.api_version === 'string' ? params.api_version : null,
      description: typeof params.description === 'string' && params.description !== '' ? params.description : null,
      metadata: (params.metadata as Record<string, string>) ?? {},
      connect: params.connect === 'true',
    });
    return { status: 200, body: this.#render(endpoint, true) };
  }
}
