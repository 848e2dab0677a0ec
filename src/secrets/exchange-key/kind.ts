import * as z from 'zod/mini';
import { envName, httpUrl, intervalDays, nonEmpty, secretFields } from '../../config/fields.js';
import { counted, countOf, type Facts, type FactsMoment } from '../facts.js';
import type { SecretKind } from '../types.js';

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

// The exchange key's facts: the encrypted rows its preflight counts and its rotation re-encrypts, as sentences.

/** What the preflight records: rows per table, values, values the current key cannot read, a time estimate. */
export interface ExchangeKeyPlanFacts {
  rowsByTable: Record<string, number>;
  rows: number;
  values: number;
  undecryptable: number;
  estimatedSeconds: number;
}

/** What the generation records: the rows per table the rotation re-encrypts. */
export interface ExchangeKeyRotationFacts {
  rowsByTable: Record<string, number>;
  rows: number;
}

/** `40 seconds`, `3 minutes`: how long a re-encryption takes, in the words of the plan. */
export const duration = (seconds: number): string =>
  seconds < 90 ? counted(Math.max(1, seconds), 'second') : counted(Math.round(seconds / 60), 'minute');

export function exchangeKeyFactSentences(facts: Facts, moment: FactsMoment): string[] {
  const out: string[] = [];
  const byTable = facts.rowsByTable && typeof facts.rowsByTable === 'object' && !Array.isArray(facts.rowsByTable) ? facts.rowsByTable : {};
  const tables = Object.entries(byTable).flatMap(([table, rows]) => (typeof rows === 'number' ? [`${table} (${rows})`] : []));
  const rows = countOf(facts.rows);
  const values = countOf(facts.values);
  if (rows !== undefined) {
    const what = `${counted(rows, 'row')}${values !== undefined ? ` (${counted(values, 'encrypted value')})` : ''}${tables.length ? ` in ${tables.join(', ')}` : ''}`;
    out.push(moment === 'plan' ? `${what} to re-encrypt under the new key` : `re-encrypted ${what} under the new key`);
  }
  const undecryptable = countOf(facts.undecryptable);
  if (undecryptable) out.push(`${counted(undecryptable, 'value does', 'values do')} not decrypt under the current key`);
  const seconds = countOf(facts.estimatedSeconds);
  if (seconds !== undefined && moment === 'plan')
    out.push(`estimated time to re-encrypt: about ${duration(seconds)} (from the time the dry run took to test-decrypt)`);
  return out;
}

export const exchangeKeyKind: SecretKind<ExchangeKeySecretConfig> = {
  kind: 'exchange-key',
  descriptions: {
    databaseUrlEnv: 'Env-file key holding the URL of the database whose rows are re-encrypted.',
    tables: 'The tables whose encrypted columns are re-encrypted under the new key.',
    'tables.table': 'Table name.',
    'tables.key': 'Primary key column (default id).',
    'tables.columns': 'Encrypted columns (Fernet tokens).',
    batchSize: 'Rows re-encrypted per batch: per FETCH, per UPDATE and, with commit per-batch, per transaction (default 2000).',
    commit:
      'per-batch (default): each batch commits at once, so an app writing a row waits for one batch at most, and rows already moved are under the new key (held in nextEnv) before the restart; once: one transaction for the whole pass (no row moves before the end, but a writer of a moved row waits until then).',
    nextEnv: 'Env-file key that holds the new key while the rows are re-encrypted (default <env>_NEXT); the app need not read it.',
    previousEnv:
      'Env-file key that keeps the old key from the env write until the sweep proves no value is under it (default <env>_PREVIOUS).',
    kdf: 'The platform key derivation: Fernet key = PBKDF2-HMAC-SHA256(env value, salt, iterations, 32).',
    'kdf.salt': 'PBKDF2 salt (default crypto_orchestrator_salt).',
    'kdf.iterations': 'PBKDF2 iterations (default 100000).',
  },
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
  // The new key is staged under <env>_NEXT before the rows move; <env>_PREVIOUS leaves the target when retired.
  writes: () => ({ stage: true, onRetire: true }),
  load: async () => (await import('./index.js')).exchangeKeyRotator,
  envKeys: (config) => {
    const staging = exchangeKeyStagingEnv(config);
    return [config.env, staging.next, staging.previous, ...config.alsoUpdate];
  },
  credentialEnvNames: () => [],
  bareCopies: true,
  describeFacts: exchangeKeyFactSentences,
  consentCosts: (config, run) => [
    `every encrypted value in ${config.tables.map((t) => t.table).join(', ')} is re-encrypted (${config.commit === 'once' ? 'one transaction: writers of those rows wait until it commits' : `batches of ${config.batchSize}, each committed`})`,
    `a process that reads only ${config.env} cannot read the re-encrypted rows ${run.until} (the app given both keys reads either)`,
  ],
  unchecked: (config) =>
    config.verify
      ? undefined
      : 'no verify.url: nothing asked the app to read a row with the key in the env file; rotate itself checked the rows decrypt under it',
};
