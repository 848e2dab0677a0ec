// The real stripe-node client, pointed at config.apiBase, and the translation of its errors into RotateErrors that
// say what went wrong without ever quoting a key.
import Stripe from 'stripe';
import { RotateError } from '../../errors.js';
import type { SecretValue } from '../../secret-value.js';
import { maskKeys } from './keys.js';

export type StripeClient = Stripe;
export type WebhookEndpoint = Stripe.WebhookEndpoint;

/** A client for one key. `apiBase` was validated by the config schema (https, or http on loopback only). */
export function stripeClient(apiBase: string, key: SecretValue): Stripe {
  const url = new URL(apiBase);
  const protocol = url.protocol === 'http:' ? 'http' : 'https';
  return new Stripe(key.reveal(), {
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port || (protocol === 'http' ? 80 : 443),
    protocol,
    maxNetworkRetries: 1,
    timeout: 20_000,
    telemetry: false,
  });
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
export const isAuthError = (error: unknown): boolean => statusOf(error) === 401;
export const isNotFound = (error: unknown): boolean => statusOf(error) === 404;

/** Stripe's message for an error, with keys masked. */
export function stripeMessage(error: unknown): string {
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
export async function stripeCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw stripeFailure(what, error);
  }
}
