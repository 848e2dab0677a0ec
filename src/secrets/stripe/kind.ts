import * as z from 'zod/mini';
import { envName, httpUrl, intervalDays, secretFields } from '../../config/fields.js';
import type { SecretKind } from '../types.js';
import { stripeFactSentences } from './facts.js';

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

export const stripeKind: SecretKind<StripeSecretConfig> = {
  kind: 'stripe',
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
};
