// What the env file holds now, and the read-only checks on it (preflight and `rotate verify`).
import type { StripeSecretConfig } from '../../config/schema.js';
import { SecretValue } from '../../secret-value.js';
import { type Check, check, type RotatorContext } from '../types.js';
import { statusOf, stripeClient, stripeMessage } from './client.js';
import { describeShape, EXPECTED_PREFIX, type KeyShape, keyShape, type StripeMode } from './keys.js';
import type { WebhookTarget } from './webhook.js';

export type StripeContext = RotatorContext<StripeSecretConfig>;

export interface CurrentValues {
  secretKey?: SecretValue;
  publishableKey?: SecretValue;
  webhookSecret?: SecretValue;
}

const wrap = (value: string | undefined): SecretValue | undefined => (value ? new SecretValue(value) : undefined);

export function currentValues(ctx: StripeContext): CurrentValues {
  const { env } = ctx.config;
  const values: CurrentValues = {};
  const secretKey = wrap(ctx.env[env.secretKey]);
  const publishableKey = wrap(ctx.env[env.publishableKey]);
  const webhookSecret = wrap(ctx.env[env.webhookSecret]);
  if (secretKey) values.secretKey = secretKey;
  if (publishableKey) values.publishableKey = publishableKey;
  if (webhookSecret) values.webhookSecret = webhookSecret;
  return values;
}

/** The endpoint to rotate, when the config names one; without it only the API keys rotate. */
export function webhookTarget(ctx: StripeContext): WebhookTarget | undefined {
  const webhook = ctx.config.webhook;
  if (!webhook?.endpointId && !webhook?.url) return undefined;
  return { endpointId: webhook.endpointId, url: webhook.url };
}

export const lastString = (ctx: StripeContext, key: string): string | undefined => {
  const value = ctx.lastFacts[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

export interface ShapeResult {
  checks: Check[];
  secret?: KeyShape;
}

/** Prefixes and modes of the env file's current values. Never echoes a value, only its prefix. */
export function shapeChecks(ctx: StripeContext, values: CurrentValues): ShapeResult {
  const names = ctx.config.env;
  const checks: Check[] = [];
  const secret = values.secretKey ? keyShape('secret', values.secretKey.reveal()) : undefined;
  if (!values.secretKey)
    checks.push(
      check(
        'current secret key',
        false,
        `${names.secretKey} is not set in ${ctx.envFile}`,
        "Put the app's current Stripe secret key in the env file first.",
      ),
    );
  else if (!secret)
    checks.push(
      check(
        'current secret key',
        false,
        `${names.secretKey} holds ${describeShape(values.secretKey.reveal())}; expected ${EXPECTED_PREFIX.secret}`,
        'Fix the env file: the secret key is on Developers -> API keys.',
      ),
    );
  else checks.push(check('current secret key', true, `${names.secretKey}: ${secret.type} key, ${secret.mode} mode`));

  if (values.publishableKey) {
    const publishable = keyShape('publishable', values.publishableKey.reveal());
    if (!publishable)
      checks.push(
        check(
          'current publishable key',
          false,
          `${names.publishableKey} holds ${describeShape(values.publishableKey.reveal())}; expected ${EXPECTED_PREFIX.publishable}`,
          'Fix the env file.',
        ),
      );
    else if (secret && publishable.mode !== secret.mode)
      checks.push(
        check(
          'current publishable key',
          false,
          `${names.publishableKey} is a ${publishable.mode} key but ${names.secretKey} is a ${secret.mode} key`,
          'Both keys must come from the same mode (live/test) of the same account.',
        ),
      );
    else checks.push(check('current publishable key', true, `${names.publishableKey}: ${publishable.mode} mode`));
  } else checks.push(check('current publishable key', true, `${names.publishableKey} is not set; not checked`));

  if (webhookTarget(ctx)) {
    if (!values.webhookSecret)
      checks.push(check('current webhook secret', true, `${names.webhookSecret} is not set yet; the rotation sets it`));
    else if (!keyShape('webhook', values.webhookSecret.reveal()))
      checks.push(
        check(
          'current webhook secret',
          false,
          `${names.webhookSecret} holds ${describeShape(values.webhookSecret.reveal())}; expected whsec_`,
          "Fix the env file: the signing secret is on the endpoint's page under Developers -> Webhooks.",
        ),
      );
    else checks.push(check('current webhook secret', true, `${names.webhookSecret}: whsec_ signing secret`));
  }
  return { checks, ...(secret ? { secret } : {}) };
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

export const modeOf = (key: SecretValue): StripeMode | undefined => keyShape('secret', key.reveal())?.mode;
