// Webhook events signed the way Stripe signs them, to prove the app accepts the new signing secret and refuses
// the old one. Stripe-Signature: `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the
// whole `whsec_...` string (not its base64 decoding).
import { createHmac } from 'node:crypto';
import { type Check, check } from '../../core-types.js';
import { NO_REDIRECT, redirectText } from '../../http/redirect.js';
import type { SecretValue } from '../../secret-value.js';
import type { RotatorDeps } from '../types.js';
import type { StripeContext } from './index.js';
import { keyShape, type StripeMode } from './keys.js';

export function stripeSignatureHeader(payload: string, secret: SecretValue, timestamp: number): string {
  const signature = createHmac('sha256', secret.reveal()).update(`${timestamp}.${payload}`, 'utf8').digest('hex');
  return `t=${timestamp},v1=${signature}`;
}

/** A small event of a type no handler acts on; Stripe asks apps to answer 2xx to types they do not handle. */
function verificationEvent(deps: RotatorDeps, mode: StripeMode, accountId: string | undefined): string {
  const now = Math.floor(deps.now().getTime() / 1000);
  return JSON.stringify({
    id: `evt_rotate_${deps.randomBytes(12).toString('hex')}`,
    object: 'event',
    type: 'rotate.webhook_secret.verification',
    created: now,
    livemode: mode === 'live',
    ...(accountId ? { account: accountId } : {}),
    data: { object: { object: 'rotate_verification', note: 'sent by rotate to check the webhook signing secret' } },
    pending_webhooks: 0,
    request: { id: null, idempotency_key: null },
  });
}

export interface DeliveryResult {
  status: number;
  /** The words for a redirect, which is never followed (a 302 to a login page is not the app accepting the event). */
  redirect: string | undefined;
}

/** POSTs `payload` signed with `secret` to `url`, as Stripe would deliver it. */
async function deliverSignedEvent(deps: RotatorDeps, url: string, payload: string, secret: SecretValue): Promise<DeliveryResult> {
  const timestamp = Math.floor(deps.now().getTime() / 1000);
  const response = await deps.fetch(url, {
    ...NO_REDIRECT,
    method: 'POST',
    headers: {
      'content-type': 'application/json; charset=utf-8',
      'user-agent': 'Stripe/1.0 (+https://stripe.com/docs/webhooks) rotate-verification',
      'stripe-signature': stripeSignatureHeader(payload, secret, timestamp),
    },
    body: payload,
    signal: AbortSignal.timeout(15_000),
  });
  await response.arrayBuffer().catch(() => undefined);
  return { status: response.status, redirect: redirectText(response, url) };
}

/** The check that the app at webhook.verifyUrl accepts (or refuses) an event signed with `secret`. */
export async function deliveryCheck(
  ctx: StripeContext,
  name: string,
  secret: SecretValue,
  expect: 'accept' | 'refuse',
  accountId: string | undefined,
): Promise<Check> {
  const id = expect === 'accept' ? 'stripe-webhook-event-accepted' : 'stripe-old-webhook-secret-refused';
  const url = ctx.config.webhook?.verifyUrl;
  if (!url)
    return check(
      id,
      name,
      false,
      'secrets.stripe.webhook.verifyUrl is not set',
      'Set it to where the app receives Stripe events, e.g. http://localhost:8000/api/billing/webhook.',
    );
  const key = ctx.env[ctx.config.env.secretKey];
  const mode = (key ? keyShape('secret', key)?.mode : undefined) ?? 'test';
  try {
    const { status, redirect } = await deliverSignedEvent(ctx.deps, url, verificationEvent(ctx.deps, mode, accountId), secret);
    if (redirect)
      return check(
        id,
        name,
        false,
        `POST ${url} ${redirect}`,
        'Set secrets.stripe.webhook.verifyUrl to the route that receives the events itself.',
      );
    const accepted = status >= 200 && status < 300;
    if (expect === 'accept')
      return check(
        id,
        name,
        accepted,
        `POST ${url} answered ${status}`,
        'The app does not accept the new signing secret: is the service restarted and reading the env file?',
      );
    const refused = status >= 400 && status < 500;
    return check(
      id,
      name,
      refused,
      `POST ${url} answered ${status}`,
      accepted
        ? 'The app still accepts the old secret: it may read a second secret or was not restarted.'
        : 'Expected 400 from the app for a bad signature.',
    );
  } catch (error) {
    return check(
      id,
      name,
      false,
      `POST ${url} failed: ${error instanceof Error ? error.message : String(error)}`,
      'Is the app up at webhook.verifyUrl?',
    );
  }
}
