// POST /api/billing/webhook like the platform: verifies Stripe-Signature
// (`t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<raw body>">`, keyed with the whole whsec_ string) with
// STRIPE_WEBHOOK_SECRET; 400 when invalid, 200 {"received":true} when valid. Tolerance 300 s, like Stripe's libraries.
import { createHmac, timingSafeEqual } from 'node:crypto';

const TOLERANCE_SECONDS = 300;

export function verifyStripeSignature(raw, header, secret, nowSeconds = Math.floor(Date.now() / 1000)) {
  if (!secret || typeof header !== 'string') return false;
  const parts = header.split(',').map((item) => item.split('='));
  const timestamp = Number(parts.find(([k]) => k === 't')?.[1]);
  const signatures = parts.filter(([k]) => k === 'v1').map(([, v]) => v ?? '');
  if (!Number.isInteger(timestamp) || signatures.length === 0) return false;
  if (Math.abs(nowSeconds - timestamp) > TOLERANCE_SECONDS) return false;
  const expected = createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest();
  return signatures.some((hex) => {
    const given = Buffer.from(hex, 'hex');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export function setup(env) {
  const secret = env.STRIPE_WEBHOOK_SECRET;
  return {
    routes: {
      'POST /api/billing/webhook': ({ req, raw }) => {
        if (!verifyStripeSignature(raw, req.headers['stripe-signature'], secret))
          return { status: 400, body: { detail: 'Invalid signature' } };
        try {
          JSON.parse(raw.toString('utf8'));
        } catch {
          return { status: 400, body: { detail: 'Invalid payload' } };
        }
        return { status: 200, body: { received: true } };
      },
    },
  };
}
