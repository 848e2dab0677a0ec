// Stripe keys: their shapes, the ones the target holds, and the new ones an operator hands in. A key's prefix says
// what it is and which mode (live/test) it belongs to; checking the prefixes before any network call catches a pasted
// publishable key, a test key in production, and so on. The new keys pass every hard check (shape, mode, account)
// in generate: a failure is a RotateError before anything at Stripe or in the target has changed.

import { type Check, check } from '../../core-types.js';
import { RotateError } from '../../errors.js';
import { SecretValue } from '../../secret-value.js';
import { lookupAccount, stripeFailure } from './client.js';
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
function malformedKeyText(where: string, value: string, role: KeyRole): string {
  const shape = describeShape(value);
  return shape.endsWith('…')
    ? `${where} starts like a Stripe key (${shape}) but is not a well-formed one: its length or characters after the prefix are wrong`
    : `${where} holds ${shape}; expected ${EXPECTED_PREFIX[role]}`;
}

const EXPECTED_PREFIX: Record<KeyRole, string> = {
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
        'stripe-current-key-shape',
        'current secret key',
        false,
        `${names.secretKey} is not set in ${ctx.location}`,
        "Put the app's current Stripe secret key in the env file first.",
      ),
    );
  else if (!secret)
    checks.push(
      check(
        'stripe-current-key-shape',
        'current secret key',
        false,
        malformedKeyText(names.secretKey, values.secretKey.reveal(), 'secret'),
        'Fix the env file: the secret key is on Developers -> API keys.',
      ),
    );
  else
    checks.push(
      check('stripe-current-key-shape', 'current secret key', true, `${names.secretKey}: ${secret.type} key, ${secret.mode} mode`),
    );

  if (values.publishableKey) {
    const publishable = keyShape('publishable', values.publishableKey.reveal());
    if (!publishable)
      checks.push(
        check(
          'stripe-publishable-key-shape',
          'current publishable key',
          false,
          malformedKeyText(names.publishableKey, values.publishableKey.reveal(), 'publishable'),
          'Fix the env file.',
        ),
      );
    else if (secret && publishable.mode !== secret.mode)
      checks.push(
        check(
          'stripe-publishable-key-shape',
          'current publishable key',
          false,
          `${names.publishableKey} is a ${publishable.mode} key but ${names.secretKey} is a ${secret.mode} key`,
          'Both keys must come from the same mode (live/test) of the same account.',
        ),
      );
    else
      checks.push(
        check('stripe-publishable-key-shape', 'current publishable key', true, `${names.publishableKey}: ${publishable.mode} mode`),
      );
  } else
    checks.push(check('stripe-publishable-key-shape', 'current publishable key', true, `${names.publishableKey} is not set; not checked`));

  if (withWebhook) {
    if (!values.webhookSecret)
      checks.push(
        check('stripe-webhook-secret-shape', 'current webhook secret', true, `${names.webhookSecret} is not set yet; the rotation sets it`),
      );
    else if (!keyShape('webhook', values.webhookSecret.reveal()))
      checks.push(
        check(
          'stripe-webhook-secret-shape',
          'current webhook secret',
          false,
          `${names.webhookSecret} holds ${describeShape(values.webhookSecret.reveal())}; expected whsec_`,
          "Fix the env file: the signing secret is on the endpoint's page under Developers -> Webhooks.",
        ),
      );
    else checks.push(check('stripe-webhook-secret-shape', 'current webhook secret', true, `${names.webhookSecret}: whsec_ signing secret`));
  }
  return { checks, ...(secret ? { secret } : {}) };
}

// The keys the operator rolled in the Dashboard.

export const NEW_SECRET_KEY = 'ROTATE_NEW_STRIPE_SECRET_KEY';
export const NEW_PUBLISHABLE_KEY = 'ROTATE_NEW_STRIPE_PUBLISHABLE_KEY';

export interface HandedKeys {
  secretKey?: SecretValue | undefined;
  publishableKey?: SecretValue | undefined;
}

export async function readHandedKeys(ctx: StripeContext): Promise<HandedKeys> {
  const input = await ctx.deps.readSecretInput([
    { name: NEW_SECRET_KEY, prompt: `New Stripe secret key for ${ctx.id} (rolled in the Dashboard, sk_/rk_)` },
    { name: NEW_PUBLISHABLE_KEY, prompt: 'New Stripe publishable key (pk_; leave empty to keep the current one)', optional: true },
  ]);
  return { secretKey: input[NEW_SECRET_KEY], publishableKey: input[NEW_PUBLISHABLE_KEY] };
}

export interface CheckedKeys {
  secretKey: SecretValue;
  publishableKey?: SecretValue;
  shape: KeyShape & { mode: StripeMode };
  accountId: string;
  /** How the account was matched: against the current key, or the account recorded at the last rotation. */
  accountSource: 'current key' | 'last rotation';
}

const malformed = (source: string, value: SecretValue, role: 'secret' | 'publishable'): RotateError =>
  new RotateError('STRIPE_KEY_MALFORMED', malformedKeyText(source, value.reveal(), role), {
    hint:
      role === 'secret'
        ? 'Copy the secret key (not the publishable key) from Developers -> API keys, without quotes or spaces.'
        : 'Copy the publishable key from Developers -> API keys, without quotes or spaces.',
  });

const modeMismatch = (message: string): RotateError =>
  new RotateError('STRIPE_MODE_MISMATCH', message, {
    hint: "Live and test keys must not be mixed: roll the key in the same mode (the Dashboard's test-mode toggle) as the keys in the env file.",
  });

/**
 * Shapes, modes, authentication and account of the new keys. `source` names where they came from (the hand-over
 * variables, or the previous rotation for a rollback); `recorded` is the account the last rotation recorded.
 */
export async function checkNewKeys(
  ctx: StripeContext,
  handed: HandedKeys,
  current: CurrentValues,
  source: { secret: string; publishable: string },
  recorded: string | undefined,
): Promise<CheckedKeys> {
  const secretKey = handed.secretKey;
  if (!secretKey)
    throw new RotateError('STRIPE_KEY_NOT_HANDED_IN', `No new Stripe secret key was handed in (${NEW_SECRET_KEY})`, {
      hint: `Roll the key in the Dashboard (Developers -> API keys -> Roll key), then run \`rotate ${ctx.id}\` at a terminal and paste it, or set ${NEW_SECRET_KEY} in the environment (never a flag).`,
    });
  const shape = keyShape('secret', secretKey.reveal());
  if (!shape?.mode) throw malformed(source.secret, secretKey, 'secret');
  const names = ctx.config.env;

  if (current.secretKey?.equals(secretKey))
    throw new RotateError('STRIPE_KEY_UNCHANGED', `${source.secret} is the key ${names.secretKey} already holds`, {
      hint: 'Roll the key in the Dashboard first: Developers -> API keys -> Roll key; Stripe shows the new key once.',
    });
  const currentShape = current.secretKey ? keyShape('secret', current.secretKey.reveal()) : undefined;
  if (currentShape?.mode && currentShape.mode !== shape.mode)
    throw modeMismatch(`${source.secret} is a ${shape.mode} key but ${names.secretKey} holds a ${currentShape.mode} key`);

  let publishableKey: SecretValue | undefined;
  if (handed.publishableKey && handed.publishableKey.length > 0) {
    const publishable = keyShape('publishable', handed.publishableKey.reveal());
    if (!publishable) throw malformed(source.publishable, handed.publishableKey, 'publishable');
    if (publishable.mode !== shape.mode)
      throw modeMismatch(`${source.publishable} is a ${publishable.mode} key but ${source.secret} is a ${shape.mode} key`);
    publishableKey = handed.publishableKey;
  } else if (current.publishableKey) {
    const kept = keyShape('publishable', current.publishableKey.reveal());
    if (kept && kept.mode !== shape.mode)
      throw modeMismatch(`${names.publishableKey} (kept) is a ${kept.mode} key but ${source.secret} is a ${shape.mode} key`);
  }

  const fresh = await lookupAccount(ctx, secretKey);
  if (!fresh.ok) throw stripeFailure(`${source.secret} (GET /v1/account)`, fresh.error);

  const { accountId, accountSource } = await expectedAccount(ctx, current, recorded);
  if (fresh.accountId !== accountId)
    throw new RotateError(
      'STRIPE_ACCOUNT_MISMATCH',
      `${source.secret} belongs to Stripe account ${fresh.accountId}, but ${accountSource === 'current key' ? `the key in ${names.secretKey}` : 'the last rotation'} is account ${accountId}`,
      { hint: 'Roll the key in the Dashboard of the same account (check the account switcher, top left) and hand that one in.' },
    );
  return { secretKey, ...(publishableKey ? { publishableKey } : {}), shape: { ...shape, mode: shape.mode }, accountId, accountSource };
}

/** The account the new key must belong to: the current key's, or (when that key has expired) the last rotation's. */
async function expectedAccount(
  ctx: StripeContext,
  current: CurrentValues,
  recorded: string | undefined,
): Promise<{ accountId: string; accountSource: CheckedKeys['accountSource'] }> {
  const names = ctx.config.env;
  if (!current.secretKey) {
    if (recorded) return { accountId: recorded, accountSource: 'last rotation' };
    throw new RotateError('STRIPE_ACCOUNT_UNKNOWN', `${names.secretKey} is not set and no earlier rotation recorded the Stripe account`, {
      hint: `Put the current key in ${names.secretKey} so that rotate can check the new key belongs to the same account.`,
    });
  }
  const lookup = await lookupAccount(ctx, current.secretKey);
  if (lookup.ok) return { accountId: lookup.accountId, accountSource: 'current key' };
  if (lookup.status === 401 && recorded) {
    ctx.deps.log.info(
      `${names.secretKey} is refused by Stripe (expired?); matching the new key against account ${recorded} from the last rotation`,
    );
    return { accountId: recorded, accountSource: 'last rotation' };
  }
  if (lookup.status === 401)
    throw new RotateError(
      'STRIPE_ACCOUNT_UNKNOWN',
      `Stripe refuses the key in ${names.secretKey} (${lookup.detail}) and no earlier rotation recorded its account`,
      {
        hint: 'rotate cannot prove the new key belongs to the same account. Roll again with an expiry for the old key (e.g. 1 hour) so that both work during the rotation.',
      },
    );
  throw new RotateError('STRIPE_ACCOUNT_UNKNOWN', `Could not read the account of the key in ${names.secretKey}: ${lookup.detail}`, {
    hint:
      lookup.status === 403
        ? 'The current key is restricted without account read access; grant it in the Dashboard or use a standard key.'
        : 'Check secrets.stripe.apiBase and the network.',
  });
}
