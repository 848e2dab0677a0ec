import { createCipheriv, createDecipheriv, createHmac, pbkdf2, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Fernet (spec version 0x80) on node:crypto, byte-compatible with Python's `cryptography.fernet.Fernet`:
 * token = base64url(0x80 | timestamp (8 bytes, big-endian) | IV (16) | AES-128-CBC/PKCS7 ciphertext | HMAC-SHA256),
 * with `=` padding as Python emits it. Key bytes 0-15 sign, 16-31 encrypt. No TTL: the platform's tokens have none.
 *
 * The worker threads carry their own copy of this code (worker-source.ts); test/unit/fernet.test.ts holds both to
 * the same vectors.
 */

const VERSION = 0x80;
const HEADER = 1 + 8 + 16;
const MAC = 32;
const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;

export class FernetKey {
  readonly signing: Buffer;
  readonly encryption: Buffer;

  /** `raw` is the 32 decoded key bytes. */
  constructor(raw: Buffer) {
    if (raw.length !== 32) throw new Error('a Fernet key is 32 bytes');
    this.signing = Buffer.from(raw.subarray(0, 16));
    this.encryption = Buffer.from(raw.subarray(16, 32));
  }

  /** From the url-safe base64 form (`Fernet.generate_key()`, or the platform's derived key). */
  static fromBase64(key: string): FernetKey {
    if (!BASE64URL.test(key)) throw new Error('a Fernet key is url-safe base64');
    return new FernetKey(Buffer.from(key, 'base64url'));
  }

  /** The 32 raw bytes (signing | encryption), for handing to worker threads. */
  raw(): Buffer {
    return Buffer.concat([this.signing, this.encryption]);
  }

  toString(): string {
    return '[redacted]';
  }

  toJSON(): string {
    return '[redacted]';
  }
}

/** base64url with `=` padding, as Python's `base64.urlsafe_b64encode` writes it. */
export function base64urlPadded(bytes: Buffer): string {
  const text = bytes.toString('base64url');
  return text + '='.repeat((4 - (text.length % 4)) % 4);
}

export interface EncryptOptions {
  /** Seconds since the epoch; defaults to now. */
  timestamp?: number;
  /** 16 bytes; defaults to random. Fixed only in tests (spec vectors). */
  iv?: Buffer;
}

export function fernetEncrypt(key: FernetKey, plaintext: Buffer | string, options: EncryptOptions = {}): string {
  const iv = options.iv ?? randomBytes(16);
  const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000);
  const cipher = createCipheriv('aes-128-cbc', key.encryption, iv);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const head = Buffer.alloc(9);
  head[0] = VERSION;
  head.writeBigUInt64BE(BigInt(timestamp), 1);
  const signed = Buffer.concat([head, iv, body]);
  const mac = createHmac('sha256', key.signing).update(signed).digest();
  return base64urlPadded(Buffer.concat([signed, mac]));
}

/** The plaintext, or `undefined` when the token is malformed or was not made with this key. */
export function fernetDecrypt(key: FernetKey, token: string): Buffer | undefined {
  const data = decodeLikePython(token);
  if (data === undefined || data.length < HEADER + 16 + MAC || data[0] !== VERSION) return undefined;
  if ((data.length - HEADER - MAC) % 16 !== 0) return undefined;
  const signed = data.subarray(0, data.length - MAC);
  const expected = createHmac('sha256', key.signing).update(signed).digest();
  if (!timingSafeEqual(expected, data.subarray(data.length - MAC))) return undefined;
  try {
    const decipher = createDecipheriv('aes-128-cbc', key.encryption, data.subarray(9, HEADER));
    return Buffer.concat([decipher.update(data.subarray(HEADER, data.length - MAC)), decipher.final()]);
  } catch {
    return undefined; // bad PKCS7 padding
  }
}

/**
 * `base64.urlsafe_b64decode` as Python does it: characters outside the alphabet are skipped, decoding stops at the
 * padding, and a missing padding is an error. So a token the platform can read is one we can read, and no more.
 */
export function decodeLikePython(text: string): Buffer | undefined {
  const clean = text.replace(/[^A-Za-z0-9_\-+/=]/g, '');
  const pad = clean.indexOf('=');
  const data = pad === -1 ? clean : clean.slice(0, pad);
  const rest = data.length % 4;
  if (rest === 1) return undefined;
  if (rest !== 0 && !clean.startsWith('='.repeat(4 - rest), pad === -1 ? clean.length : pad)) return undefined;
  return Buffer.from(data.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

export interface KdfParams {
  salt: string;
  iterations: number;
}

/**
 * The platform's key derivation: Fernet key = base64url(PBKDF2-HMAC-SHA256(env value as UTF-8, salt, iterations,
 * 32 bytes)), padded. Returns the url-safe base64 form the platform hands to `Fernet(...)`.
 */
export function deriveFernetKeyText(envValue: string, kdf: KdfParams): string {
  return base64urlPadded(pbkdf2Sync(Buffer.from(envValue, 'utf8'), Buffer.from(kdf.salt, 'utf8'), kdf.iterations, 32, 'sha256'));
}

export function deriveFernetKey(envValue: string, kdf: KdfParams): FernetKey {
  return FernetKey.fromBase64(deriveFernetKeyText(envValue, kdf));
}

/**
 * The same derivation off the main thread (libuv's thread pool): a pass derives its two keys side by side while the
 * thread opens the transaction, instead of one after the other on it (100,000 iterations each).
 */
export function deriveFernetKeyAsync(envValue: string, kdf: KdfParams): Promise<FernetKey> {
  return new Promise((resolve, reject) => {
    pbkdf2(Buffer.from(envValue, 'utf8'), Buffer.from(kdf.salt, 'utf8'), kdf.iterations, 32, 'sha256', (error, raw) => {
      if (error) reject(error);
      else resolve(new FernetKey(raw));
    });
  });
}
