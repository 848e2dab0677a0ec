import * as z from 'zod/mini';
import { envName, httpUrl, intervalDays, nonEmpty, secretFields } from '../../config/fields.js';
import type { SecretKind } from '../types.js';
import { exchangeKeyFactSentences } from './facts.js';

export const exchangeKeyTableSchema = z.strictObject({
  table: nonEmpty(),
  key: z._default(nonEmpty(), 'id'),
  columns: z.array(nonEmpty()).check(z.minLength(1)),
});

export const exchangeKeySecretSchema = z.strictObject({
  kind: z.literal('exchange-key'),
  env: z._default(envName, 'EXCHANGE_KEY_ENCRYPTION_KEY'),
  /** Other keys holding the same key as a bare copy: written with the same new value. */
  alsoUpdate: z._default(z.array(envName), []),
  ...secretFields,
  intervalDays: intervalDays(180),
  databaseUrlEnv: z._default(envName, 'DATABASE_URL'),
  tables: z._default(z.array(exchangeKeyTableSchema).check(z.minLength(1)), [
    {
      table: 'exchange_api_keys',
      key: 'id',
      columns: ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'],
    },
  ]),
  batchSize: z._default(z.int().check(z.gte(1), z.lte(100_000)), 2000),
  /** Each batch its own transaction (writers wait at most one batch), or one transaction for the whole pass. */
  commit: z._default(z.enum(['per-batch', 'once']), 'per-batch'),
  /** Holds the new key while the rows are re-encrypted (the app need not read it). */
  nextEnv: z.optional(envName),
  /** Holds the old key from the env write until no value is left under it (the app need not read it). */
  previousEnv: z.optional(envName),
  /** A route of the app that decrypts stored keys (2xx when it can): checked after the restart. */
  verify: z.optional(z.strictObject({ url: httpUrl })),
  /** The platform's key derivation: Fernet key = PBKDF2-HMAC-SHA256(env value, salt, iterations, 32). */
  kdf: z.prefault(
    z.strictObject({
      salt: z._default(z.string(), 'crypto_orchestrator_salt'),
      iterations: z._default(z.int().check(z.gte(1)), 100_000),
    }),
    {},
  ),
});

export type ExchangeKeySecretConfig = z.output<typeof exchangeKeySecretSchema>;

/**
 * The staging keys: `next` holds the new key while the rows are re-encrypted, `previous` the old key from the env
 * write until no value is under it (jwt's rule for its grace-period key: `previousEnv`, by default `<env>_PREVIOUS`).
 * Neither is read by the app; both are the secret's own keys.
 */
export const exchangeKeyStagingEnv = (config: ExchangeKeySecretConfig): { next: string; previous: string } => ({
  next: config.nextEnv ?? `${config.env}_NEXT`,
  previous: config.previousEnv ?? `${config.env}_PREVIOUS`,
});

export const exchangeKeyKind: SecretKind<ExchangeKeySecretConfig> = {
  kind: 'exchange-key',
  ids: ['exchange-key'],
  builtIn: { id: 'exchange-key', config: {} },
  starter: {
    description: 'Fernet key of the exchange API keys; every encrypted column is re-encrypted',
    env: 'EXCHANGE_KEY_ENCRYPTION_KEY',
    intervalDays: 180,
    services: ['backend'],
    databaseUrlEnv: 'DATABASE_URL',
    tables: [{ table: 'exchange_api_keys', key: 'id', columns: ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'] }],
  },
  load: async () => (await import('./index.js')).exchangeKeyRotator,
  envKeys: (config) => {
    const staging = exchangeKeyStagingEnv(config);
    return [config.env, staging.next, staging.previous, ...config.alsoUpdate];
  },
  credentialEnvNames: () => [],
  bareCopies: true,
  describeFacts: exchangeKeyFactSentences,
};
