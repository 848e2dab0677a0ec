// Shapes of Stripe keys. A key's prefix says what it is and which mode (live/test) it belongs to; checking the
// prefixes before any network call catches a pasted publishable key, a test key in production, and so on.

import { type Check, check } from '../../core-types.js';
import { SecretValue } from '../../secret-value.js';
import type { StripeContext } from './index.js';

export type StripeMode = 'live' | 'test';
export type KeyRole = 'secret' | 'publishable' | 'webhook';

export interface KeyShape {
  /** `standard` (sk_) or `restricted` (rk_) for secret keys; `publishable`; `webhook` (whsec_). */
  type: 'standard' | 'restricted' | 'publishable' | 'webhook';
  /** Undefined for webhook secrets: whsec_ carries no mode. */
  mode?: StripeMode;
}

const SECRET = /^(sk|rk)_(live|test)_[A-Za-z0-9]{8,}$/;
const PUBLISHABLE = /^pk_(live|test)_[A-Za-z0-9]{8,}$/;
const WEBHOOK = /^whsec_[A-Za-z0-9+/=_-]{8,}$/;

/** What a value looks like to a person, without any of its secret part: `sk_live_…`, `whsec_…`. */
export function describeShape(value: string): string {
  const prefix = /^(sk|rk|pk)_(live|test)_/.exec(value)?.[0] ?? /^whsec_/.exec(value)?.[0];
  if (prefix) return `${prefix}…`;
  if (value.length === 0) return 'an empty value';
  return 'a value with no Stripe key prefix';
}

/** The shape of `value` when it is a well-formed key for `role`, else undefined. Never echoes the value. */
export function keyShape(role: KeyRole, value: string): KeyShape | undefined {
  if (role === 'secret') {
    const m = SECRET.exec(value);
    return m ? { type: m[1] === 'rk' ? 'restricted' : 'standard', mode: m[2] as StripeMode } : undefined;
  }
  if (role === 'publishable') {
    const m = PUBLISHABLE.exec(value);
    return m ? { type: 'publishable', mode: m[1] as StripeMode } : undefined;
  }
  return WEBHOOK.test(value) ? { type: 'webhook' } : undefined;
}

/**
 * Why `value` in `where` is not a well-formed key of `role`, without contradicting itself: a value with the right
 * prefix is malformed after it ("holds pk_test_…; expected pk_live_/pk_test_" read as if the prefix were wrong).
 */
export function malformedKeyText(where: string, value: string, role: KeyRole): string {
  const shape = describeShape(value);
  return shape.endsWith('…')
    ? `${where} starts like a Stripe key (${shape}) but is not a well-formed one: its length or characters after the prefix are wrong`
    : `${where} holds ${shape}; expected ${EXPECTED_PREFIX[role]}`;
}

export const EXPECTED_PREFIX: Record<KeyRole, string> = {
  secret: 'sk_live_/sk_test_ (or rk_ for a restricted key)',
  publishable: 'pk_live_/pk_test_',
  webhook: 'whsec_',
};

/**
 * Stripe's own error messages quote keys masked (`sk_test_****1234`); mask anything key-like again anyway, so that
 * a provider message can go into an error or a check detail whatever it holds.
 */
export function maskKeys(text: string): string {
  return text.replace(/\b(sk|rk|pk)_(live|test)_[A-Za-z0-9*]+/g, '$1_$2_…').replace(/\bwhsec_[A-Za-z0-9+/=_*-]+/g, 'whsec_…');
}

// The env file's current keys, and the checks of their shapes (preflight and `rotate verify`).

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

export interface ShapeResult {
  checks: Check[];
  secret?: KeyShape;
}

/** Prefixes and modes of the env file's current values. Never echoes a value, only its prefix. */
export function shapeChecks(ctx: StripeContext, values: CurrentValues, withWebhook: boolean): ShapeResult {
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
        malformedKeyText(names.secretKey, values.secretKey.reveal(), 'secret'),
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
          malformedKeyText(names.publishableKey, values.publishableKey.reveal(), 'publishable'),
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

  if (withWebhook) {
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
