// The keys the operator rolled in the Dashboard, and the hard checks they pass before anything is written.
// Every failure here is a RotateError thrown from generate: nothing at Stripe or in the env file has changed yet.
import { RotateError } from '../../errors.js';
import type { SecretValue } from '../../secret-value.js';
import { lookupAccount, stripeFailure } from './client.js';
import type { StripeContext } from './index.js';
import { type CurrentValues, type KeyShape, keyShape, malformedKeyText, type StripeMode } from './keys.js';

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
