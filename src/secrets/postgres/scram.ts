import { createHash, createHmac, pbkdf2Sync, randomBytes } from 'node:crypto';

/** PostgreSQL's own defaults (src/include/common/scram-common.h): 4096 iterations, 16-byte salt. */
const SCRAM_ITERATIONS = 4096;
const SCRAM_SALT_BYTES = 16;

// RFC 3454 C.1.2 (non-ASCII spaces, mapped to U+0020) and B.1 (mapped to nothing), as SASLprep asks.
const NON_ASCII_SPACE = /[\u00A0\u1680\u2000-\u200B\u202F\u205F\u3000]/g;
// biome-ignore lint/suspicious/noMisleadingCharacterClass: RFC 3454 table B.1 lists these joiners and variation selectors as single code points
const MAPPED_TO_NOTHING = /[\u00AD\u034F\u1806\u180B-\u180D\u200C\u200D\u2060\uFE00-\uFE0F\uFEFF]/g;

/**
 * The password as the server hashes it. PostgreSQL applies SASLprep and falls back to the raw bytes when the
 * string is not valid for it; ASCII (every password `rotate` generates) passes through unchanged. For other text
 * this is the mapping + NFKC part of SASLprep, which is what matters for the common cases.
 */
export function saslprep(password: string): string {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7F]*$/.test(password)) return password;
  return password.replace(NON_ASCII_SPACE, ' ').replace(MAPPED_TO_NOTHING, '').normalize('NFKC');
}

export interface ScramKeys {
  salt: Buffer;
  iterations: number;
  storedKey: Buffer;
  serverKey: Buffer;
}

/** RFC 5802 section 3: SaltedPassword, then the two keys the server stores. */
export function scramKeys(password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): ScramKeys {
  const salted = pbkdf2Sync(Buffer.from(saslprep(password), 'utf8'), salt, iterations, 32, 'sha256');
  const clientKey = createHmac('sha256', salted).update('Client Key').digest();
  const storedKey = createHash('sha256').update(clientKey).digest();
  const serverKey = createHmac('sha256', salted).update('Server Key').digest();
  return { salt, iterations, storedKey, serverKey };
}

/**
 * The verifier PostgreSQL stores in pg_authid.rolpassword, computed here so that the plaintext never reaches the
 * server (like psql's `\password`): `SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>`, all base64.
 */
export function scramVerifier(password: string, options: { salt?: Buffer; iterations?: number } = {}): string {
  const salt = options.salt ?? randomBytes(SCRAM_SALT_BYTES);
  const keys = scramKeys(password, salt, options.iterations ?? SCRAM_ITERATIONS);
  return (
    `SCRAM-SHA-256$${keys.iterations}:${keys.salt.toString('base64')}` +
    `$${keys.storedKey.toString('base64')}:${keys.serverKey.toString('base64')}`
  );
}

/** Splits a stored verifier; undefined when it is not a SCRAM-SHA-256 verifier. */
export function parseScramVerifier(verifier: string): ScramKeys | undefined {
  const match = /^SCRAM-SHA-256\$(\d+):([A-Za-z0-9+/=]+)\$([A-Za-z0-9+/=]+):([A-Za-z0-9+/=]+)$/.exec(verifier);
  if (!match) return undefined;
  return {
    iterations: Number(match[1]),
    salt: Buffer.from(match[2]!, 'base64'),
    storedKey: Buffer.from(match[3]!, 'base64'),
    serverKey: Buffer.from(match[4]!, 'base64'),
  };
}
