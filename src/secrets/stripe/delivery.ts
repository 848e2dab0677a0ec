// The check that the app at webhook.verifyUrl accepts (or refuses) an event signed with a given secret.
import type { SecretValue } from '../../secret-value.js';
import { type Check, check } from '../types.js';
import type { StripeContext } from './current.js';
import { keyShape } from './keys.js';
import { deliverSignedEvent, verificationEvent } from './signature.js';

export async function deliveryCheck(
  ctx: StripeContext,
  name: string,
  secret: SecretValue,
  expect: 'accept' | 'refuse',
  accountId: string | undefined,
): Promise<Check> {
  const url = ctx.config.webhook?.verifyUrl;
  if (!url)
    return check(
      name,
      false,
      'secrets.stripe.webhook.verifyUrl is not set',
      'Set it to where the app receives Stripe events, e.g. http://localhost:8000/api/billing/webhook.',
    );
  const key = ctx.env[ctx.config.env.secretKey];
  const mode = (key ? keyShape('secret', key)?.mode : undefined) ?? 'test';
  try {
    const { status } = await deliverSignedEvent(ctx.deps, url, verificationEvent(ctx.deps, mode, accountId), secret);
    const accepted = status >= 200 && status < 300;
    if (expect === 'accept')
      return check(
        name,
        accepted,
        `POST ${url} answered ${status}`,
        'The app does not accept the new signing secret: is the service restarted and reading the env file?',
      );
    const refused = status >= 400 && status < 500;
    return check(
      name,
      refused,
      `POST ${url} answered ${status}`,
      accepted
        ? 'The app still accepts the old secret: it may read a second secret or was not restarted.'
        : 'Expected 400 from the app for a bad signature.',
    );
  } catch (error) {
    return check(
      name,
      false,
      `POST ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
      'Is the app up at webhook.verifyUrl?',
    );
  }
}
