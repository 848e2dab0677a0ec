// Webhook endpoint rotation. Stripe cannot roll an endpoint's signing secret by API, so the new secret comes from a
// new endpoint that copies the old one; the old endpoint is deleted when the app runs on the new secret.
import { RotateError } from '../../errors.js';
import type { JsonValue } from '../types.js';
import { isNotFound, type StripeClient, stripeCall, type WebhookEndpoint } from './client.js';

/** Metadata key on endpoints that rotate creates: finds them again after a crash, before the journal knew the id. */
export const RUN_METADATA = 'rotate_run';
export const REPLACES_METADATA = 'rotate_replaces';

export interface WebhookTarget {
  endpointId?: string | undefined;
  url?: string | undefined;
}

export async function listEndpoints(client: StripeClient, what: string): Promise<WebhookEndpoint[]> {
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
export function isConnectEndpoint(endpoint: WebhookEndpoint): boolean {
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
