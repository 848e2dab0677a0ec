// The `.env.keys` beside a dotenvx-encrypted env file: `DOTENV_PRIVATE_KEY[_<ENV>]=<hex>[,<hex>...]`. dotenvx tries
// every key of a comma-separated entry, so during a keypair rotation the entry holds both keys: the new one is added
// before any ciphertext changes, and the old one leaves only after the file is encrypted to the new one.
import { chmod } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { KEYS_FILE } from '../../envfile/dotenvx.js';
import { parseEnv } from '../../envfile/edit.js';
import { editEnvFile, readEnvFile } from '../../envfile/file.js';
import type { SecretValue } from '../../secret-value.js';

export const keysFileOf = (envFile: string): string => join(dirname(envFile), KEYS_FILE);

/** The private keys (hex) of entry `name` in the keys file, in order; none when the file or the entry is absent. */
export async function privateKeysIn(keysFile: string, name: string): Promise<string[]> {
  const { text } = await readEnvFile(keysFile);
  return (parseEnv(text)[name] ?? '')
    .split(',')
    .map((key) => key.trim())
    .filter((key) => key !== '');
}

/**
 * Sets entry `name` to `keys` (comma-separated, in that order), every other byte of the file kept; written atomically,
 * mode 0600 (a new file too). Idempotent.
 */
export async function setPrivateKeys(keysFile: string, name: string, keys: readonly SecretValue[]): Promise<void> {
  const value = [...new Set(keys.map((key) => key.reveal()))].join(',');
  if ((await privateKeysIn(keysFile, name)).join(',') !== value) await editEnvFile(keysFile, { [name]: value });
  await chmod(keysFile, 0o600);
}
