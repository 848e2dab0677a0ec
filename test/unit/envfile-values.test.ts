// What the env-file target asks of a dotenvx-encrypted file without its key: which managed keys sit there in
// plaintext, and which keys a restore of its public key line must put back with it.
import { describe, expect, it } from 'vitest';
import { keysToRestore, plaintextKeysIn, plaintextWarning } from '../../src/envfile/values.js';

const ENCRYPTED = 'DOTENV_PUBLIC_KEY="02aa"\nAPP_ENV=encrypted:BAAA\nJWT_SECRET=plain-secret-value\nREDIS_URL=encrypted:BBBB\n';

describe('a dotenvx-encrypted file without its key', () => {
  it('names the managed keys held in plaintext, and none in a plain file', () => {
    expect(plaintextKeysIn('/app/.env', ENCRYPTED, ['JWT_SECRET', 'REDIS_URL', 'ABSENT'])).toEqual(['JWT_SECRET']);
    expect(plaintextKeysIn('/app/.env', 'JWT_SECRET=plain-secret-value\n', ['JWT_SECRET'])).toEqual([]);
    expect(plaintextWarning('/app/.env', ['JWT_SECRET'])).toMatch(/^JWT_SECRET is in plaintext in \/app\/\.env, which dotenvx encrypts/);
  });

  it('restores every encrypted value with the public key line, in the backup or now', () => {
    const now = `${ENCRYPTED}JWT_SECRET_PREVIOUS=encrypted:CCCC\n`;
    expect(keysToRestore('/app/.env', [ENCRYPTED, now], ['DOTENV_PUBLIC_KEY']).sort()).toEqual(
      ['APP_ENV', 'DOTENV_PUBLIC_KEY', 'JWT_SECRET_PREVIOUS', 'REDIS_URL'].sort(),
    );
    // Without the public key among the keys, only those keys.
    expect(keysToRestore('/app/.env', [ENCRYPTED, now], ['JWT_SECRET'])).toEqual(['JWT_SECRET']);
    expect(keysToRestore('/app/.env', ['A=1\n'], ['DOTENV_PUBLIC_KEY'])).toEqual(['DOTENV_PUBLIC_KEY']);
  });
});
