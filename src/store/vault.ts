import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { RotateError } from '../errors.js';

const VERSION = 'v1';

/** Reads a 32-byte master key given as 64 hex characters or as base64/base64url. */
export function parseMasterKey(text: string, source: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64url');
  if (key.length !== 32) {
    throw new RotateError('MASTER_KEY_INVALID', `the master key in ${source} is not 32 bytes`, {
      hint: 'give 32 random bytes as 64 hex characters or base64: openssl rand -base64 32',
    });
  }
  return key;
}

/** AES-256-GCM with a random 96-bit IV per message; `purpose` is bound as associated data. */
export class Vault {
  readonly #key: Buffer;
  readonly #macKeys = new Map<string, Buffer>();

  constructor(key: Buffer) {
    this.#key = key;
  }

  /**
   * HMAC-SHA256 of `data` (hex) under a key derived from the master key for `purpose` alone (HKDF-SHA256), so a MAC
   * made for one purpose (a fingerprint, the history chain, a key check) never stands for another, and the master
   * key itself is never used twice for different jobs. Deterministic: the same key, purpose and data give the same MAC
   * on every host and run.
   */
  mac(purpose: string, data: string | Buffer): string {
    let key = this.#macKeys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.#key, Buffer.alloc(0), `rotate mac v1:${purpose}`, 32));
      this.#macKeys.set(purpose, key);
    }
    return createHmac('sha256', key).update(data).digest('hex');
  }

  seal(plaintext: Buffer, purpose: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv);
    cipher.setAAD(Buffer.from(purpose));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return `${VERSION}.${iv.toString('base64url')}.${body.toString('base64url')}`;
  }

  open(sealed: string, purpose: string): Buffer {
    const [version, iv, body] = sealed.split('.');
    if (version !== VERSION || !iv || !body) {
      throw new RotateError('STORE_CORRUPT', 'a sealed value in the store has an unknown format', {
        hint: 'the store was written by a newer rotate, or damaged',
      });
    }
    const data = Buffer.from(body, 'base64url');
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(Buffer.from(purpose));
      decipher.setAuthTag(data.subarray(data.length - 16));
      return Buffer.concat([decipher.update(data.subarray(0, data.length - 16)), decipher.final()]);
    } catch (error) {
      throw new RotateError('MASTER_KEY_MISMATCH', 'cannot decrypt the store: the master key is not the one that wrote it', {
        hint: 'set ROTATE_MASTER_KEY (or restore .rotate/master.key) to the key used when this rotation ran',
        cause: error,
      });
    }
  }
}
