// Shapes of Stripe keys. A key's prefix says what it is and which mode (live/test) it belongs to; checking the
// prefixes before any network call catches a pasted publishable key, a test key in production, and so on.

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
