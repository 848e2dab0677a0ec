// The strength rules of rotate check: placeholders (and .env.example values), length per kind, character entropy.
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { entropyBits, FINDING_IDS, strengthFinding } from '../../src/policy/findings.js';

const judge = (kind: string, value: string, examples: string[] = []) =>
  strengthFinding({ secret: 's', kind, key: 'KEY', where: '.env: KEY', value, exampleValues: new Set(examples) })?.id;

describe('strengthFinding', () => {
  it('accepts what rotate generates', () => {
    expect(judge('jwt', randomBytes(32).toString('base64url'))).toBeUndefined();
    expect(judge('exchange-key', randomBytes(32).toString('base64url'))).toBeUndefined();
    expect(judge('postgres', randomBytes(24).toString('base64url'))).toBeUndefined();
  });

  it('finds placeholders, whole or from .env.example, before length', () => {
    expect(judge('jwt', 'changeme')).toBe('value-placeholder');
    expect(judge('jwt', 'SECRET')).toBe('value-placeholder');
    expect(judge('jwt', 'your-jwt-secret-goes-here-0123456789')).toBe('value-placeholder');
    expect(judge('jwt', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')).toBe('value-placeholder');
    const example = 'Example-Value-From-The-Example-File-123';
    expect(judge('jwt', example, [example])).toBe('value-placeholder');
  });

  it('holds a JWT secret to 32 characters (the guide) and judges entropy', () => {
    expect(judge('jwt', 'a1b2c3d4e5f6g7h8i9j0k1l2m3n4o5p')).toBe('value-too-short');
    expect(judge('jwt', 'abababababababababababababababababab')).toBe('value-low-entropy');
    expect(entropyBits('abababab')).toBeCloseTo(8);
  });

  it('does not judge kinds it has no rule for (Stripe keys come from Stripe)', () => {
    expect(judge('stripe', 'sk_test_short')).toBeUndefined();
  });

  it('has stable ids', () => {
    expect(FINDING_IDS).toContain('env-file-tracked');
    expect(new Set(FINDING_IDS).size).toBe(FINDING_IDS.length);
  });
});
