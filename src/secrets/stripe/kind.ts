import * as z from 'zod/mini';
import { envName, httpUrl, intervalDays, secretFields } from '../../config/fields.js';
import type { JsonValue } from '../../core-types.js';
import { counted, countOf, type Facts, type FactsMoment, flagOf, textOf } from '../facts.js';
import type { SecretKind } from '../types.js';

const isLoopback = (host: string): boolean =>
  host === 'localhost' || host === '[::1]' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);

export const stripeSecretSchema = z.strictObject({
  kind: z.literal('stripe'),
  ...secretFields,
  intervalDays: intervalDays(90),
  env: z.prefault(
    z.strictObject({
      secretKey: z._default(envName, 'STRIPE_SECRET_KEY'),
      publishableKey: z._default(envName, 'STRIPE_PUBLISHABLE_KEY'),
      webhookSecret: z._default(envName, 'STRIPE_WEBHOOK_SECRET'),
    }),
    {},
  ),
  apiBase: z._default(
    z.url({ protocol: /^https?$/ }).check(
      z.refine((value) => {
        const url = new URL(value);
        return url.protocol === 'https:' || isLoopback(url.hostname);
      }, 'apiBase must use https unless its host is loopback (127.0.0.1, localhost, ::1)'),
    ),
    'https://api.stripe.com',
  ),
  webhook: z.optional(
    z.strictObject({
      url: z.optional(httpUrl),
      endpointId: z.optional(z.string().check(z.startsWith('we_'))),
      verifyUrl: z.optional(httpUrl),
    }),
  ),
});

export type StripeSecretConfig = z.output<typeof stripeSecretSchema>;

// The Stripe secret's facts: the key's mode, type and account, the webhook endpoint its rotation replaces, and the
// sentences a person reads for them. `factsOf` (index.ts) reads back the ids later steps and rotations need.

/** What the preflight records (the plan). */
export type StripePlanFacts = {
  mode: string | null;
  keyType: string | null;
  accountId?: string;
  /** endpointFacts (client.ts): id, url, status, enabledEvents, apiVersion, connect. */
  webhookEndpoint?: Record<string, JsonValue>;
  /** Where the real run takes the new secret key from: the env var that holds it now, or the operator (stdin, prompt). */
  newKeyFrom?: string;
};

/** keys.ts NEW_SECRET_KEY, named here without loading the Stripe client with the config. */
const NEW_SECRET_KEY_ENV = 'ROTATE_NEW_STRIPE_SECRET_KEY';

const KEY_TYPE: Record<string, string> = { standard: 'standard (sk_)', restricted: 'restricted (rk_)' };

/** `at https://… (enabled, 12 events, API version 2024-06-20)`, or nothing when none of it is known. */
function endpointDetails(endpoint: Facts): string {
  const url = textOf(endpoint.url);
  const events = countOf(endpoint.enabledEvents);
  const details = [
    textOf(endpoint.status),
    events !== undefined ? counted(events, 'event') : undefined,
    flagOf(endpoint.connect) ? 'Connect' : undefined,
    textOf(endpoint.apiVersion) ? `API version ${textOf(endpoint.apiVersion)}` : undefined,
  ].filter(Boolean);
  return [url ? `at ${url}` : '', details.length ? `(${details.join(', ')})` : ''].filter(Boolean).join(' ');
}

const withDetails = (id: string, details: string): string => (details ? `${id} ${details}` : id);

export function stripeFactSentences(facts: Facts, moment: FactsMoment): string[] {
  const out: string[] = [];
  const from = textOf(facts.newKeyFrom);
  if (moment === 'plan' && from)
    out.push(
      from === 'operator'
        ? `first, a new secret key rolled in the Stripe Dashboard must be handed in (${NEW_SECRET_KEY_ENV}, a line on stdin, or a hidden prompt at a terminal): the run asks for it before any change`
        : `the new secret key, rolled in the Stripe Dashboard, is taken from ${from} before any change`,
    );
  const mode = textOf(facts.mode);
  const keyType = textOf(facts.keyType);
  const account = textOf(facts.accountId);
  if (mode || keyType || account) {
    const key = `${keyType ? `${KEY_TYPE[keyType] ?? keyType} ` : ''}${mode ? `${mode}-mode ` : ''}secret key`;
    const source = textOf(facts.accountMatchedAgainst);
    out.push(
      `${moment === 'plan' && !('rollback' in facts) ? 'the current' : 'the new'} ${key}${account ? ` of Stripe account ${account}` : ''}` +
        (source ? ` (the account checked against the ${source})` : ''),
    );
  }
  if (flagOf(facts.rollback)) out.push('back to the previous secret key');
  const publishable = flagOf(facts.publishableKeyChanged);
  if (publishable !== undefined) out.push(publishable ? 'the publishable key changes with it' : 'the publishable key stays as it is');
  const endpoint = facts.webhookEndpoint;
  if (endpoint && typeof endpoint === 'object' && !Array.isArray(endpoint)) {
    const id = textOf(endpoint.endpointId) ?? 'found';
    out.push(`webhook endpoint ${withDetails(id, endpointDetails(endpoint))}: a rotation replaces it by a copy with a new signing secret`);
  }
  if (flagOf(facts.webhook) === false) out.push('no webhook endpoint is configured: only the API keys change');
  const oldId = textOf(facts.oldEndpointId);
  const newId = textOf(facts.newEndpointId);
  if (oldId) {
    const details = endpointDetails({
      url: facts.webhookUrl ?? null,
      enabledEvents: facts.enabledEvents ?? null,
      apiVersion: facts.apiVersion ?? null,
    });
    if (!newId) out.push(`webhook endpoint ${withDetails(oldId, details)} is replaced by a copy with a new signing secret`);
    else if (moment === 'written')
      out.push(`webhook endpoint ${newId} was created beside ${oldId}, which still exists: --no-restart deletes nothing`);
    else out.push(`webhook endpoint ${withDetails(oldId, details)} was replaced by ${newId}, a copy with a new signing secret`);
  }
  return out;
}

export const stripeKind: SecretKind<StripeSecretConfig> = {
  kind: 'stripe',
  descriptions: {
    env: 'Env-file keys of the three Stripe values.',
    'env.secretKey': 'Key of the secret API key (sk_ or rk_).',
    'env.publishableKey': 'Key of the publishable key (pk_).',
    'env.webhookSecret': 'Key of the webhook signing secret (whsec_).',
    apiBase: 'Stripe API base URL; https unless the host is loopback (tests, proxies).',
    webhook: 'The webhook endpoint whose signing secret rotate rotates.',
    'webhook.url': 'URL of the endpoint in Stripe, to find it.',
    'webhook.endpointId': 'Id of the endpoint (we_...), instead of url.',
    'webhook.verifyUrl': 'Where the app receives events: a signed test event must be accepted there.',
  },
  ids: ['stripe'],
  builtIn: { id: 'stripe', config: {} },
  starter: {
    description:
      'roll the secret key in the Stripe Dashboard, then hand it in (ROTATE_NEW_STRIPE_SECRET_KEY, stdin or prompt); the webhook secret is rotated by rotate',
    intervalDays: 90,
    services: ['backend'],
    env: { secretKey: 'STRIPE_SECRET_KEY', publishableKey: 'STRIPE_PUBLISHABLE_KEY', webhookSecret: 'STRIPE_WEBHOOK_SECRET' },
    apiBase: 'https://api.stripe.com',
    webhook: { url: 'https://app.example.com/api/billing/webhook', verifyUrl: 'http://localhost:8000/api/billing/webhook' },
  },
  load: async () => (await import('./index.js')).stripeRotator,
  envKeys: (config) => [config.env.secretKey, config.env.publishableKey, config.env.webhookSecret],
  credentialEnvNames: () => [],
  describeFacts: stripeFactSentences,
  consentCosts: (config) => [
    'a new secret key, rolled in the Stripe Dashboard, is handed in first (the old one stays valid until the expiry chosen there)',
    ...(config.webhook ? ['the webhook endpoint is replaced by a copy with a new signing secret'] : []),
  ],
};
