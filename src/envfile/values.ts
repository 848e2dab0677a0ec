// An env file as the app reads it: plain, or dotenvx-encrypted (read with its private key, written encrypted to its
// public key). The env-file target reads and writes through here; so may any other user of env files (a Secret's
// env-file source). The codec is ./dotenvx.ts; its crypto (eciesjs) loads only for a file that is encrypted.
import { RotateError } from '../errors.js';
import {
  type DecryptedEnvFile,
  decryptEnvFile,
  detectDotenvx,
  encryptChanges,
  type KeyLookupDeps,
  mightBeDotenvx,
  publicKeyOf,
} from './dotenvx.js';
import { parseEnv } from './edit.js';
import { type EnvFileSnapshot, editEnvFile, readEnvFile } from './file.js';

export interface EnvFileValues extends EnvFileSnapshot {
  /** The values in plaintext (decrypted when the file is encrypted); `text` stays the file's bytes. */
  values: Record<string, string>;
  /** Set when the file is dotenvx-encrypted: its public key, the private key that opened it and where it was found. */
  encrypted?: DecryptedEnvFile;
}

/** Reads `path` and, when dotenvx encrypted it, decrypts every value (exit 2 without a usable private key). */
export async function readEnvFileValues(path: string, deps: KeyLookupDeps): Promise<EnvFileValues> {
  const snapshot = await readEnvFile(path);
  if (!mightBeDotenvx(snapshot.text)) return snapshot;
  const file = detectDotenvx(path, snapshot.values);
  if (!file) return snapshot;
  const encrypted = await decryptEnvFile(file, deps);
  return { ...snapshot, values: encrypted.values, encrypted };
}

/**
 * Sets (string) or removes (null) keys of `path` in place, every other byte kept. In a dotenvx-encrypted file every
 * new value is written encrypted to the file's public key (`encrypted:...`), never in plaintext. A change of the
 * file's public key line itself (the `dotenvx` kind's new keypair) re-encrypts every encrypted value to the new public
 * key in the same write. The file is read back and decrypted, and must hold exactly the intended values.
 */
export async function editEnvFileValues(
  path: string,
  changes: Readonly<Record<string, string | null>>,
  deps: KeyLookupDeps,
): Promise<EnvFileValues> {
  const before = await readEnvFileValues(path, deps);
  if (!before.encrypted) {
    await editEnvFile(path, { ...changes });
    return readEnvFileValues(path, deps);
  }
  const { file, key } = before.encrypted;
  const newPublicKey = changes[file.publicKeyName];
  const { [file.publicKeyName]: _, ...valueChanges } = changes;
  // A new public key: every value that was encrypted is encrypted again, to it, unless the change sets it anyway.
  const reencrypted = newPublicKey ? Object.fromEntries(file.encryptedKeys.map((k) => [k, before.values[k] ?? ''])) : {};
  const toWrite = { ...reencrypted, ...valueChanges };
  const publicKey = newPublicKey ?? file.publicKey ?? (await publicKeyOf(key.key));
  if (!publicKey) throw new Error(`no public key for ${path}`); // the key opened the file, so it has one
  await editEnvFile(path, {
    ...(await encryptChanges(publicKey, toWrite)),
    ...(newPublicKey ? { [file.publicKeyName]: newPublicKey } : {}),
  });
  const after = await readEnvFileValues(path, deps);
  for (const [name, value] of Object.entries(toWrite)) {
    if ((after.values[name] ?? null) === value && (value === null || after.encrypted?.file.encryptedKeys.includes(name))) continue;
    throw new RotateError('ENV_EDIT_MISMATCH', `${path}: after writing, ${name} does not decrypt to its new value`, {
      hint: 'the file changed under rotate, or its key did: `rotate resume` puts the backup back',
    });
  }
  return after;
}

/**
 * Keys among `keys` that a dotenvx-encrypted file (its text) holds in plaintext: dotenvx would leave them readable to
 * anyone with the file. No key is needed to tell.
 */
export function plaintextKeysIn(path: string, text: string, keys: readonly string[]): string[] {
  if (!mightBeDotenvx(text)) return [];
  const file = detectDotenvx(path, parseEnv(text));
  if (!file) return [];
  return keys.filter((key) => file.raw[key] !== undefined && !file.encryptedKeys.includes(key));
}

/** What rotate says about such keys: the rotation is the remedy (it writes the new value encrypted), the old value is out. */
export const plaintextWarning = (path: string, keys: readonly string[]): string =>
  `${keys.join(', ')} ${keys.length === 1 ? 'is' : 'are'} in plaintext in ${path}, which dotenvx encrypts; rotate writes the new value encrypted, but treat the old one as exposed (it is in the file, and in git if the file is committed)`;

/**
 * The keys a restore of `keys` must put back in a dotenvx-encrypted file: with its public key line, every encrypted
 * value too (in the backup or now), since a new public key came with every value encrypted again.
 */
export function keysToRestore(path: string, texts: readonly string[], keys: readonly string[]): string[] {
  const out = new Set(keys);
  for (const text of texts) {
    const file = mightBeDotenvx(text) ? detectDotenvx(path, parseEnv(text)) : undefined;
    if (file && keys.includes(file.publicKeyName)) for (const key of file.encryptedKeys) out.add(key);
  }
  return [...out];
}
