// The Stripe API as rotate uses it: the real stripe-node client pointed at config.apiBase, its errors translated
// into RotateErrors that never quote a key, the account a key belongs to, and the webhook endpoint calls.
// Stripe cannot roll an endpoint's signing secret by API, so the new secret comes from a new endpoint that copies
// the old one; the old endpoint is deleted when the app runs on the new secret.
import Stripe from 'stripe';
import type { JsonValue } from '../../core-types.js';
import { RotateError } from '../../errors.js';
import type { SecretValue } from '../../secret-value.js';
import { trace, tracing } from '../../trace.js';
import type { Rotation } from '../types.js';
import type { StripeContext } from './index.js';
import { maskKeys } from './keys.js';

export type StripeClient = Stripe;
export type WebhookEndpoint = Stripe.WebhookEndpoint;

/** A client for one key. `apiBase` was validated by the config schema (https, or http on loopback only). */
export function stripeClient(apiBase: string, key: SecretValue): Stripe {
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  const client = new Stripe(key.reveal(), {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (protocol === 'http' ? 80 : 443),
    protocol,
    maxNetworkRetries: 1,
    timeout: 20_000,
    telemetry: false,
  });
  // --verbose: each API call (method, path without its query, status, time); never a key or a body.
  if (tracing()) {
    client.on('response', (event: Stripe.ResponseEvent) =>
      trace(`stripe: ${event.method} ${url.host}${event.path.split('?')[0]}: HTTP ${event.status} in ${event.elapsed} ms`),
    );
  }
  return client;
}

interface StripeErrorLike {
  type?: string;
  statusCode?: number;
  code?: string;
  message?: string;
}

const asStripeError = (error: unknown): StripeErrorLike | undefined =>
  error instanceof Error && typeof (error as StripeErrorLike).type === 'string' && (error as StripeErrorLike).type!.startsWith('Stripe')
    ? (error as StripeErrorLike)
    : undefined;

export const statusOf = (error: unknown): number | undefined => asStripeError(error)?.statusCode;
const isAuthError = (error: unknown): boolean => statusOf(error) === 401;
const isNotFound = (error: unknown): boolean => statusOf(error) === 404;

/** Stripe's message for an error, with keys masked. */
function stripeMessage(error: unknown): string {
  const e = asStripeError(error);
  if (!e) return maskKeys(error instanceof Error ? error.message : String(error));
  return maskKeys(`${e.statusCode ?? 'no status'}${e.code ? ` ${e.code}` : ''}: ${e.message ?? e.type}`);
}

/**
 * A RotateError for a failed Stripe call. `what` names the key and the call, e.g. "the new secret key (GET /v1/account)".
 * The Stripe error is kept as cause only in its masked message form: stripe-node errors carry request headers.
 */
export function stripeFailure(what: string, error: unknown): RotateError {
  const status = statusOf(error);
  const detail = stripeMessage(error);
  if (status === 401)
    return new RotateError('STRIPE_KEY_REFUSED', `Stripe refused ${what}: ${detail}`, {
      hint: 'The key is unknown, mistyped or already expired. Copy it again from the Dashboard (Developers -> API keys).',
    });
  if (status === 403)
    return new RotateError('STRIPE_KEY_PERMISSION', `${what} is a restricted key without the permission this call needs: ${detail}`, {
      hint: 'Edit the restricted key in the Dashboard (Developers -> API keys) to grant the permission Stripe names, or hand in a standard secret key.',
    });
  if (status === 404)
    return new RotateError('STRIPE_NOT_FOUND', `Stripe has no such object for ${what}: ${detail}`, {
      hint: 'Check secrets.stripe.webhook (endpointId or url) against Developers -> Webhooks in the Dashboard, in the same mode (live/test) as the key.',
    });
  if (status === undefined && asStripeError(error))
    return new RotateError('STRIPE_UNREACHABLE', `Stripe could not be reached for ${what}: ${detail}`, {
      hint: 'Check secrets.stripe.apiBase and the network (proxy, firewall).',
    });
  return new RotateError('STRIPE_API_ERROR', `Stripe failed ${what}: ${detail}`, {
    hint: 'Retry later; see https://status.stripe.com when it persists.',
  });
}

/** Runs `call`, turning a Stripe error into a RotateError naming `what`. */
async function stripeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw stripeFailure(what, error);
  }
}

export type AccountLookup = { ok: true; accountId: string } | { ok: false; status: number | undefined; detail: string; error: unknown };

/** GET /v1/account with `key`: the account the key belongs to, or why Stripe said no. */
export async function lookupAccount(ctx: StripeContext, key: SecretValue): Promise<AccountLookup> {
  try {
    const account = await stripeClient(ctx.config.apiBase, key).accounts.retrieveCurrent();
    return { ok: true, accountId: account.id };
  } catch (error) {
    return { ok: false, status: statusOf(error), detail: stripeMessage(error), error };
  }
}

/**
 * Runs `call` with the new key, then with the old one when Stripe refuses the new: resume and rollback read the
 * keys back from the journal, and either may have been expired in the Dashboard since.
 */
export async function withKeys<T>(ctx: StripeContext, rotation: Rotation, call: (client: StripeClient) => Promise<T>): Promise<T> {
  const keys = [rotation.secrets.newSecretKey, rotation.secrets.oldSecretKey].filter((k): k is SecretValue => !!k);
  let refused: unknown;
  for (const key of keys) {
    try {
      return await call(stripeClient(ctx.config.apiBase, key));
    } catch (error) {
      const authFailure = isAuthError(error) || (error instanceof RotateError && error.code === 'STRIPE_KEY_REFUSED');
      if (!authFailure) throw error;
      refused = error;
    }
  }
  throw refused ?? new RotateError('STRIPE_NO_KEY', 'The journal holds no Stripe key for this rotation', { hint: 'Run `rotate status`.' });
}

// Webhook endpoints

/** Metadata key on endpoints that rotate creates: finds them again after a crash, before the journal knew the id. */
const RUN_METADATA = 'rotate_run';
const REPLACES_METADATA = 'rotate_replaces';

export interface WebhookTarget {
  endpointId?: string | undefined;
  url?: string | undefined;
}

async function listEndpoints(client: StripeClient, what: string): Promise<WebhookEndpoint[]> {
  return stripeCall(`${what} (GET /v1/webhook_endpoints)`, async () => {
    const all: WebhookEndpoint[] = [];
    for await (const endpoint of client.webhookEndpoints.list({ limit: 100 })) all.push(endpoint);
    return all;
  });
}

export async function retrieveEndpoint(client: StripeClient, id: string, what: string): Promise<WebhookEndpoint | undefined> {
  try {
    return await client.webhookEndpoints.retrieve(id);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    return stripeCall(`${what} (GET /v1/webhook_endpoints/${id})`, () => Promise.reject(error));
  }
}

/**
 * The endpoint to rotate: `webhook.endpointId`, or the one endpoint whose url is `webhook.url`. An id from the
 * config that a previous rotation replaced is followed to its replacement (`lastEndpointId`).
 */
export async function findEndpoint(
  client: StripeClient,
  target: WebhookTarget,
  lastEndpointId: string | undefined,
  what: string,
): Promise<WebhookEndpoint> {
  if (target.endpointId) {
    const byId = await retrieveEndpoint(client, target.endpointId, what);
    if (byId) return byId;
    const replaced = lastEndpointId ? await retrieveEndpoint(client, lastEndpointId, what) : undefined;
    if (replaced) return replaced;
    throw new RotateError(
      'STRIPE_WEBHOOK_NOT_FOUND',
      `Stripe has no webhook endpoint ${target.endpointId} (secrets.stripe.webhook.endpointId)`,
      {
        hint: 'Set secrets.stripe.webhook.url instead (it survives rotations), or the id shown under Developers -> Webhooks in the same mode as the key.',
      },
    );
  }
  const url = target.url!;
  const matches = (await listEndpoints(client, what)).filter((endpoint) => endpoint.url === url);
  if (matches.length === 1) return matches[0]!;
  if (matches.length === 0)
    throw new RotateError('STRIPE_WEBHOOK_NOT_FOUND', `Stripe has no webhook endpoint with url ${url} (secrets.stripe.webhook.url)`, {
      hint: 'Check the url against Developers -> Webhooks in the Dashboard, in the same mode (live/test) as the key.',
    });
  throw new RotateError(
    'STRIPE_WEBHOOK_AMBIGUOUS',
    `${matches.length} webhook endpoints have url ${url}: ${matches.map((e) => e.id).join(', ')}`,
    { hint: 'Set secrets.stripe.webhook.endpointId to the one to rotate (a leftover from an interrupted run: `rotate resume`).' },
  );
}

/** The connect flag is not part of the endpoint object; a Connect endpoint carries its `application`. */
function isConnectEndpoint(endpoint: WebhookEndpoint): boolean {
  const flag = (endpoint as unknown as { connect?: unknown }).connect;
  return typeof flag === 'boolean' ? flag : endpoint.application !== null && endpoint.application !== undefined;
}

/** What the plan, the facts and the history show of an endpoint. */
export function endpointFacts(endpoint: WebhookEndpoint): Record<string, JsonValue> {
  return {
    endpointId: endpoint.id,
    url: endpoint.url,
    status: endpoint.status,
    enabledEvents: endpoint.enabled_events.length,
    apiVersion: endpoint.api_version,
    connect: isConnectEndpoint(endpoint),
  };
}

/** Creates the copy of `old`, tagged with the run id so undo can find it even if its id was never journaled. */
export async function createReplacement(client: StripeClient, old: WebhookEndpoint, runId: string, what: string): Promise<WebhookEndpoint> {
  const metadata = { ...old.metadata, [RUN_METADATA]: runId, [REPLACES_METADATA]: old.id };
  return stripeCall(`${what} (POST /v1/webhook_endpoints)`, () =>
    client.webhookEndpoints.create({
      url: old.url,
      enabled_events: old.enabled_events as never,
      ...(old.api_version ? { api_version: old.api_version as never } : {}),
      ...(old.description ? { description: old.description } : {}),
      metadata,
      ...(isConnectEndpoint(old) ? { connect: true } : {}),
    }),
  );
}

/** Deletes an endpoint; one that is already gone is fine. Returns whether it existed. */
export async function deleteEndpoint(client: StripeClient, id: string, what: string): Promise<boolean> {
  try {
    await client.webhookEndpoints.del(id);
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    return stripeCall(`${what} (DELETE /v1/webhook_endpoints/${id})`, () => Promise.reject(error));
  }
}

/** Endpoints this run created (by metadata), whatever the journal knows. */
export async function endpointsOfRun(client: StripeClient, runId: string, what: string): Promise<WebhookEndpoint[]> {
  return (await listEndpoints(client, what)).filter((endpoint) => endpoint.metadata?.[RUN_METADATA] === runId);
}
