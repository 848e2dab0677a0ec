import { createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Vault } from '../../src/store/vault.js';

describe('Vault.mac', () => {
  it('is HMAC-SHA256 under an HKDF key bound to the purpose, never under the master key itself', () => {
    const key = randomBytes(32);
    const vault = new Vault(key);
    const expected = createHmac('sha256', Buffer.from(hkdfSync('sha256', key, Buffer.alloc(0), 'rotate mac v1:fingerprint', 32)))
      .update('value')
      .digest('hex');
    expect(vault.mac('fingerprint', 'value')).toBe(expected);
    expect(vault.mac('fingerprint', 'value')).not.toBe(createHmac('sha256', key).update('value').digest('hex'));
  });

  it('differs under another master key, so a fingerprint says nothing without the key', () => {
    const data = randomBytes(16).toString('hex');
    expect(new Vault(randomBytes(32)).mac('fingerprint', data)).not.toBe(new Vault(randomBytes(32)).mac('fingerprint', data));
  });
});
