import fc from 'fast-check';
import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { SecretValue } from '../../src/secret-value.js';
import { stripeSignatureHeader } from '../../src/secrets/stripe/index.js';
// @ts-expect-error the stand-in app is plain JavaScript
import { verifyStripeSignature } from '../app/routes/stripe.mjs';

const stripe = new Stripe('sk_test_unused0000', { telemetry: false });

describe('Stripe-Signature', () => {
  it("is accepted by the stripe package's own verifier, and by the stand-in app", () => {
    fc.assert(
      fc.property(fc.json(), fc.stringMatching(/^[A-Za-z0-9]{16,40}$/), (payload, tail) => {
        const secret = `whsec_${tail}`;
        const t = Math.floor(Date.now() / 1000);
        const header = stripeSignatureHeader(payload, new SecretValue(secret), t);
        expect(header).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
        expect(() => stripe.webhooks.constructEvent(payload, header, secret)).not.toThrow();
        expect(verifyStripeSignature(Buffer.from(payload), header, secret)).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it("matches Stripe's test header for a fixed timestamp", () => {
    const payload = '{"id":"evt_1","object":"event"}';
    const secret = 'whsec_fixedsecretfortests';
    const expected = stripe.webhooks.generateTestHeaderString({ payload, secret, timestamp: 1_700_000_000 });
    expect(stripeSignatureHeader(payload, new SecretValue(secret), 1_700_000_000)).toBe(expected);
  });

  it('the stand-in app refuses another secret, a changed body, and a stale timestamp', () => {
    const payload = '{"id":"evt_1"}';
    const secret = new SecretValue('whsec_thesecretofthisapp');
    const now = Math.floor(Date.now() / 1000);
    const good = stripeSignatureHeader(payload, secret, now);
    expect(verifyStripeSignature(Buffer.from(payload), good, 'whsec_another00000000')).toBe(false);
    expect(verifyStripeSignature(Buffer.from('{"id":"evt_2"}'), good, secret.reveal())).toBe(false);
    expect(verifyStripeSignature(Buffer.from(payload), stripeSignatureHeader(payload, secret, now - 301), secret.reveal())).toBe(false);
    expect(verifyStripeSignature(Buffer.from(payload), stripeSignatureHeader(payload, secret, now - 299), secret.reveal())).toBe(true);
    expect(verifyStripeSignature(Buffer.from(payload), undefined, secret.reveal())).toBe(false);
    expect(verifyStripeSignature(Buffer.from(payload), 't=abc,v1=00', secret.reveal())).toBe(false);
  });
});
