// Reading a Rotation back: its facts, and the keys it holds for the provider calls of apply, undo and retire.
import { RotateError } from '../../errors.js';
import type { SecretValue } from '../../secret-value.js';
import type { Rotation } from '../types.js';
import { isAuthError, type StripeClient, stripeClient } from './client.js';
import type { StripeContext } from './current.js';

export const factString = (rotation: Rotation, key: string): string | undefined => {
  const value = rotation.facts[key];
  return typeof value === 'string' && value.length > 0 ? value : undefined;
};

export /**
 * Runs `call` with the new key, then with the old one when Stripe refuses the new: resume and rollback read the
 * keys back from the journal, and either may have been expired in the Dashboard since.
 */
async function withKeys<T>(ctx: StripeContext, rotation: Rotation, call: (client: StripeClient) => Promise<T>): Promise<T> {
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
