// dotenvx-encrypted env files (https://dotenvx.com/encryption): a `DOTENV_PUBLIC_KEY[_<ENV>]="<compressed secp256k1
// public key, hex>"` line, and values `KEY=encrypted:<base64 of an ECIES message>` that only the matching private key
// (`DOTENV_PRIVATE_KEY[_<ENV>]`, in the environment or in `.env.keys`) opens. This module is the codec: it tells such a
// file apart, finds the private key the way dotenvx 2 does, decrypts values and encrypts new ones to the file's public
// key. It never writes a file; the env-file target (and a Secret's env-file source) call it around their edits.
//
// The ECIES scheme is dotenvx's own: eciesjs with its defaults (secp256k1, uncompressed ephemeral key, HKDF-SHA256,
// AES-256-GCM with a 16-byte nonce), the message base64-encoded after `encrypted:`. eciesjs loads on first use, so a
// plain env file never pays for it.

import { readFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RotateError } from '../errors.js';
import { SecretValue } from '../secret-value.js';
import { parseEnv } from './edit.js';

export const ENCRYPTED_PREFIX = 'encrypted:';
const PUBLIC_PREFIX = 'DOTENV_PUBLIC_KEY';
const PRIVATE_PREFIX = 'DOTENV_PRIVATE_KEY';
/** The file dotenvx keeps private keys in, beside the env file. */
export const KEYS_FILE = '.env.keys';

export const isEncryptedValue = (value: string | undefined): boolean => value?.startsWith(ENCRYPTED_PREFIX) === true;

/** dotenvx's naming rule for keys that stay plaintext in an encrypted file on purpose (`dotenvx encrypt` skips them). */
export const isPublicKeyName = (key: string): boolean => key.startsWith(PUBLIC_PREFIX);

/** What marks an env file as dotenvx-encrypted, read from its parsed values (no key needed). */
export interface DotenvxFile {
  path: string;
  /** `DOTENV_PUBLIC_KEY` for `.env`, `DOTENV_PUBLIC_KEY_PRODUCTION` for `.env.production` (the file's own line wins). */
  publicKeyName: string;
  /** The private key's name: the public key's with PUBLIC -> PRIVATE. */
  privateKeyName: string;
  /** The public key's hex, or undefined when the file has `encrypted:` values but no public key line. */
  publicKey: string | undefined;
  /** The keys whose value is `encrypted:...`, in file order. */
  encryptedKeys: string[];
  /** The file's values as written (ciphertext). */
  raw: Readonly<Record<string, string>>;
}

/**
 * The names dotenvx gives the file's keys: the file's own `DOTENV_PUBLIC_KEY*` line wins; otherwise from the file name
 * (`.env` -> DOTENV_PUBLIC_KEY, `.env.production` -> DOTENV_PUBLIC_KEY_PRODUCTION, `.env.production.local` ->
 * DOTENV_PUBLIC_KEY_PRODUCTION_LOCAL, `.env1` -> DOTENV_PUBLIC_KEY_DEVELOPMENT1; a `.txt` suffix is dropped).
 */
export function dotenvxKeyNames(path: string, values: Readonly<Record<string, string>>): { publicKeyName: string; privateKeyName: string } {
  const declared = Object.keys(values).find(isPublicKeyName);
  const publicKeyName = declared ?? `${PUBLIC_PREFIX}${environmentSuffix(path)}`;
  return { publicKeyName, privateKeyName: publicKeyName.replace(PUBLIC_PREFIX, PRIVATE_PREFIX) };
}

function environmentSuffix(path: string): string {
  let name = basename(path).toLowerCase();
  if (name.startsWith('.env') && name.endsWith('.txt')) name = name.slice(0, -4);
  if (name === '.env') return '';
  const parts = name.split('.').slice(2);
  const environment = parts.length === 0 ? name.replace('.env', 'development') : parts.slice(0, 2).join('_');
  return `_${environment.toUpperCase()}`;
}

/** The file as dotenvx sees it, or undefined for a plain env file (no public key line, no `encrypted:` value). */
export function detectDotenvx(path: string, values: Readonly<Record<string, string>>): DotenvxFile | undefined {
  const encryptedKeys = Object.keys(values).filter((key) => isEncryptedValue(values[key]));
  const hasPublicKey = Object.keys(values).some(isPublicKeyName);
  if (!hasPublicKey && encryptedKeys.length === 0) return undefined;
  const names = dotenvxKeyNames(path, values);
  const publicKey = values[names.publicKeyName]?.trim().toLowerCase() || undefined;
  return { path, ...names, publicKey, encryptedKeys, raw: values };
}

/** A cheap look at the raw text before parsing it for dotenvx: most env files are plain. */
export const mightBeDotenvx = (text: string): boolean => text.includes(PUBLIC_PREFIX) || text.includes(ENCRYPTED_PREFIX);

type Ecies = typeof import('eciesjs');
let ecies: Promise<Ecies> | undefined;
const loadEcies = (): Promise<Ecies> => {
  ecies ??= import('eciesjs');
  return ecies;
};

/** The compressed public key (hex) of a private key (hex), as dotenvx writes it; undefined when it is not a key. */
export async function publicKeyOf(privateKey: SecretValue): Promise<string | undefined> {
  const { PrivateKey } = await loadEcies();
  const hex = privateKey.reveal();
  if (!/^[0-9a-fA-F]{64}$/.test(hex)) return undefined;
  try {
    return new PrivateKey(Buffer.from(hex, 'hex')).publicKey.toHex(true);
  } catch {
    return undefined; // zero, or not below the curve order
  }
}

/** A new keypair, as `dotenvx encrypt` makes one: the private key's 32 bytes in hex, the compressed public key in hex. */
export async function generateKeypair(): Promise<{ privateKey: SecretValue; publicKey: string }> {
  const { PrivateKey } = await loadEcies();
  const key = new PrivateKey();
  return { privateKey: new SecretValue(Buffer.from(key.secret).toString('hex')), publicKey: key.publicKey.toHex(true) };
}

/** `encrypted:<base64>`: `plaintext` encrypted to `publicKey` (hex), which `dotenvx get` and `dotenvx run` read back. */
export async function encryptValue(publicKey: string, plaintext: SecretValue): Promise<string> {
  const { encrypt } = await loadEcies();
  const message = encrypt(publicKey, Buffer.from(plaintext.reveal(), 'utf8'));
  return `${ENCRYPTED_PREFIX}${Buffer.from(message).toString('base64')}`;
}

/** Changes to write into an encrypted file: every new value encrypted to `publicKey`; removals stay removals. */
export async function encryptChanges(
  publicKey: string,
  changes: Readonly<Record<string, string | null>>,
): Promise<Record<string, string | null>> {
  const out: Record<string, string | null> = {};
  for (const [key, value] of Object.entries(changes))
    out[key] = value === null ? null : await encryptValue(publicKey, new SecretValue(value));
  return out;
}

/** The plaintext of an `encrypted:` value, or undefined when this key does not open it (wrong key, damaged value). */
export async function decryptValue(privateKey: SecretValue, value: string): Promise<SecretValue | undefined> {
  const plain = await openValue(privateKey, value);
  return plain === undefined ? undefined : new SecretValue(plain);
}

// Plain text, not a SecretValue: the file's other values (a port, a host name) are not registered for redaction.
async function openValue(privateKey: SecretValue, value: string): Promise<string | undefined> {
  const { decrypt } = await loadEcies();
  const body = value.slice(ENCRYPTED_PREFIX.length);
  if (!isEncryptedValue(value) || !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) return undefined;
  try {
    return Buffer.from(decrypt(privateKey.reveal(), Buffer.from(body, 'base64'))).toString('utf8');
  } catch {
    return undefined;
  }
}

/** Where the private key was found, for messages (never the key): `DOTENV_PRIVATE_KEY in the environment`. */
export interface FoundPrivateKey {
  key: SecretValue;
  where: string;
}

export interface KeyLookupDeps {
  /** The process environment (never the env file, never argv). */
  environment: Readonly<Record<string, string | undefined>>;
  /** Reads a file's text, or undefined when it does not exist. Default: the file system. */
  readText?(path: string): Promise<string | undefined>;
}

const readTextFile = (path: string): Promise<string | undefined> =>
  readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });

interface Candidate {
  hex: string;
  where: string;
}

/** Private keys named `DOTENV_PRIVATE_KEY*` in `values`, the one named `first` before the others; a value may list several, comma-separated. */
function candidatesIn(values: Readonly<Record<string, string | undefined>>, first: string, where: (name: string) => string): Candidate[] {
  const names = Object.keys(values).filter((name) => name.startsWith(PRIVATE_PREFIX) && values[name]);
  names.sort((a, b) => Number(b === first) - Number(a === first));
  return names.flatMap((name) =>
    (values[name] ?? '')
      .split(',')
      .map((hex) => hex.trim())
      .filter((hex) => hex !== '')
      .map((hex) => ({ hex, where: where(name) })),
  );
}

/**
 * The private key that opens `file`, looked up as dotenvx 2 does: every `DOTENV_PRIVATE_KEY*` variable of the process
 * environment (the file's own name, `DOTENV_PRIVATE_KEY_PRODUCTION` for `.env.production`, first), then every
 * `DOTENV_PRIVATE_KEY*` entry of the `.env.keys` beside the file; the key whose public key is the file's wins. A file
 * without a public key line takes the first key that opens its first encrypted value. Throws (exit 2, nothing read
 * further) when none does: DOTENVX_KEY_MISSING when there is no candidate at all, DOTENVX_KEY_WRONG otherwise.
 */
export async function findPrivateKey(file: DotenvxFile, deps: KeyLookupDeps): Promise<FoundPrivateKey> {
  const keysPath = join(dirname(file.path), KEYS_FILE);
  const keysText = await (deps.readText ?? readTextFile)(keysPath);
  const keysValues = keysText === undefined ? {} : parseEnv(keysText);
  const candidates = [
    ...candidatesIn(deps.environment, file.privateKeyName, (name) => `${name} in the environment`),
    ...candidatesIn(keysValues, file.privateKeyName, (name) => `${name} in ${keysPath}`),
  ];
  const probe = file.encryptedKeys[0];
  for (const candidate of candidates) {
    const key = new SecretValue(candidate.hex);
    if (file.publicKey !== undefined) {
      if ((await publicKeyOf(key)) === file.publicKey) return { key, where: candidate.where };
    } else if (probe !== undefined && (await openValue(key, file.raw[probe] ?? '')) !== undefined) {
      return { key, where: candidate.where };
    }
  }
  const fix = `set ${file.privateKeyName} in rotate's environment (never on its command line) or put it in ${keysPath}, the key \`dotenvx encrypt\` wrote for ${file.path}; then run rotate again`;
  if (candidates.length === 0) {
    throw new RotateError(
      'DOTENVX_KEY_MISSING',
      `${file.path} is encrypted with dotenvx (${file.publicKeyName}) and rotate found no private key for it: no ${file.privateKeyName} in the environment and no ${KEYS_FILE} entry beside it (${keysPath}); nothing was changed`,
      { hint: fix },
    );
  }
  const looked = [...new Set(candidates.map((c) => c.where))].join(', ');
  throw new RotateError(
    'DOTENVX_KEY_WRONG',
    `${file.path} is encrypted with dotenvx (${file.publicKeyName}) and no private key rotate found opens it (looked at ${looked}); nothing was changed`,
    { hint: `the key there belongs to another file or an older keypair: ${fix}` },
  );
}

/** What an encrypted file holds, read with its private key. */
export interface DecryptedEnvFile {
  file: DotenvxFile;
  key: FoundPrivateKey;
  /** Every value in plaintext (the public key line as it is). */
  values: Record<string, string>;
}

/**
 * Opens every `encrypted:` value of `file` with its private key (found as `findPrivateKey` does). A value that the
 * key does not open is damaged (the file's public key is this key's): DOTENVX_VALUE_MALFORMED names it, exit 2.
 */
export async function decryptEnvFile(file: DotenvxFile, deps: KeyLookupDeps): Promise<DecryptedEnvFile> {
  const key = await findPrivateKey(file, deps);
  const values: Record<string, string> = { ...file.raw };
  for (const name of file.encryptedKeys) {
    const plain = await openValue(key.key, file.raw[name] ?? '');
    if (plain === undefined) {
      throw new RotateError(
        'DOTENVX_VALUE_MALFORMED',
        `${file.path}: the encrypted value of ${name} does not decrypt with the private key of the file (${key.where}): it is damaged or was encrypted to another key; nothing was changed`,
        {
          hint: `set ${name} again with \`dotenvx set ${name} <value> -f ${file.path}\` (it encrypts to the file's public key), then run rotate again`,
        },
      );
    }
    values[name] = plain;
  }
  return { file, key, values };
}
