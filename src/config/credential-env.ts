// The environment variables a config names as holding a credential, whatever they are called: a child process
// (a restart command) inherits none of them.

import { credentialEnvNamesOf, envKeysOf } from '../secrets/index.js';
import type { Config } from './schema.js';

/**
 * Kept from every child whatever the config says: rotate's own (the store's master key, hand-over values ROTATE_NEW_*,
 * admin and store URLs by their default names) and dotenvx's private keys (DOTENV_PRIVATE_KEY, _<ENV>): they open every
 * value of an encrypted env file, and after a `dotenvx` rotation an inherited one is the retired key.
 */
export const ROTATE_PRIVATE_ENV = /^(ROTATE_(MASTER_KEY|NEW_|.*ADMIN|STORE_URL)|DOTENV_PRIVATE_KEY)/;

/** Every string a `*Env` key (or an `env` key or object) of a secret's config names. */
function namedEnvKeys(value: unknown, key = ''): string[] {
  if (typeof value === 'string') return key === 'env' || key.endsWith('Env') ? [value] : [];
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([k, v]) => (key === 'env' && typeof v === 'string' ? [v] : namedEnvKeys(v, k)));
}

/**
 * Names a restart command must not inherit: the store's URL variable (`store.urlEnv`), every secret's admin URL
 * variable and other `*Env` keys, and the keys each secret writes (the child reads the new values from the env file;
 * an inherited copy would be the old value, and a secret).
 */
export function credentialEnvNames(config: Config): string[] {
  const names = new Set<string>(['ROTATE_MASTER_KEY']);
  if (config.store.type === 'postgres') names.add(config.store.urlEnv);
  for (const secret of Object.values(config.secrets)) {
    for (const name of [...credentialEnvNamesOf(secret), ...envKeysOf(secret), ...namedEnvKeys(secret)]) names.add(name);
  }
  return [...names];
}
