import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { describeShape, keyShape, maskKeys } from '../../src/secrets/stripe/keys.js';

describe('stripe key shapes', () => {
  it('reads type and mode from the prefix', () => {
    expect(keyShape('secret', 'sk_live_51Habcdefgh')).toEqual({ type: 'standard', mode: 'live' });
    expect(keyShape('secret', 'rk_test_51Habcdefgh')).toEqual({ type: 'restricted', mode: 'test' });
    expect(keyShape('publishable', 'pk_test_51Habcdefgh')).toEqual({ type: 'publishable', mode: 'test' });
    expect(keyShape('webhook', 'whsec_abcdefgh1234')).toEqual({ type: 'webhook' });
  });

  it('refuses keys of the wrong role and malformed values', () => {
    for (const value of [
      'pk_live_51Habcdefgh',
      'whsec_abcdefgh1234',
      'sk_prod_51Habcdefgh',
      'sk_live_short',
      ' sk_live_51Habcdefgh',
      '"sk_live_51Habcdefgh"',
      'sk_live_51Habc defgh',
      '',
    ])
      expect(keyShape('secret', value), value).toBeUndefined();
    expect(keyShape('publishable', 'sk_test_51Habcdefgh')).toBeUndefined();
    expect(keyShape('webhook', 'sk_test_51Habcdefgh')).toBeUndefined();
  });

  it('describes a value by its prefix only', () => {
    expect(describeShape('pk_live_51Hsecretpart')).toBe('pk_live_…');
    expect(describeShape('whsec_secretpart')).toBe('whsec_…');
    expect(describeShape('hunter2-password')).toBe('a value with no Stripe key prefix');
    fc.assert(
      fc.property(
        fc.constantFrom('sk_live_', 'rk_test_', 'pk_test_', 'whsec_', ''),
        fc.stringMatching(/^[A-Za-z0-9]{8,40}$/),
        (prefix, rest) => {
          expect(describeShape(prefix + rest)).not.toContain(rest);
        },
      ),
    );
  });

  it('masks every key-like token in provider messages', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('sk', 'rk', 'pk'),
        fc.constantFrom('live', 'test'),
        fc.stringMatching(/^[A-Za-z0-9]{8,40}$/),
        fc.string(),
        (type, mode, rest, around) => {
          const text = `${around} Invalid API Key provided: ${type}_${mode}_${rest}. whsec_${rest} ${around}`;
          expect(maskKeys(text)).not.toContain(rest);
        },
      ),
    );
  });
});
