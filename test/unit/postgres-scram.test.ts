import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseScramVerifier, saslprep, scramKeys, scramVerifier } from '../../src/secrets/postgres/scram.js';

// RFC 7677 section 3: user "user", password "pencil".
const RFC = {
  password: 'pencil',
  salt: 'W22ZaJ0SNY7soEsUEjb6gQ==',
  iterations: 4096,
  clientFirstBare: 'n=user,r=rOprNGfwEbeRWgbNEkqO',
  serverFirst: 'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
  clientFinalWithoutProof: 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0',
  clientProof: 'dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=',
  serverSignature: '6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=',
};

describe('scramVerifier', () => {
  it('matches the RFC 7677 test vector (the keys prove the client proof and give the server signature)', () => {
    const keys = scramKeys(RFC.password, Buffer.from(RFC.salt, 'base64'), RFC.iterations);
    const authMessage = `${RFC.clientFirstBare},${RFC.serverFirst},${RFC.clientFinalWithoutProof}`;
    const serverSignature = createHmac('sha256', keys.serverKey).update(authMessage).digest('base64');
    expect(serverSignature).toBe(RFC.serverSignature);
    // ClientKey = ClientProof XOR HMAC(StoredKey, AuthMessage); the server accepts when H(ClientKey) == StoredKey.
    const clientSignature = createHmac('sha256', keys.storedKey).update(authMessage).digest();
    const proof = Buffer.from(RFC.clientProof, 'base64');
    const clientKey = Buffer.from(proof.map((byte, i) => byte ^ clientSignature[i]!));
    expect(createHash('sha256').update(clientKey).digest().equals(keys.storedKey)).toBe(true);
  });

  it('has the format PostgreSQL stores and parses back', () => {
    const salt = Buffer.alloc(16, 7);
    const verifier = scramVerifier('pencil', { salt });
    expect(verifier).toMatch(/^SCRAM-SHA-256\$4096:[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}:[A-Za-z0-9+/=]{44}$/);
    const parsed = parseScramVerifier(verifier);
    expect(parsed?.salt.equals(salt)).toBe(true);
    expect(parsed?.iterations).toBe(4096);
    expect(scramVerifier('pencil', { salt })).toBe(verifier);
  });

  it('uses a fresh random salt each time and never contains the password', () => {
    const a = scramVerifier('correct-horse-battery');
    const b = scramVerifier('correct-horse-battery');
    expect(a).not.toBe(b);
    expect(a).not.toContain('correct-horse-battery');
  });

  it('leaves ASCII alone and normalises other text like SASLprep', () => {
    expect(saslprep('abc-DEF_123')).toBe('abc-DEF_123');
    expect(saslprep('a\u00A0b')).toBe('a b');
    expect(saslprep('\u2168')).toBe('IX');
    expect(saslprep('a\u00ADb')).toBe('ab');
  });
});
