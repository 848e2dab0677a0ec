import type { Client } from 'pg';
import type { ExchangeKeySecretConfig } from '../../config/schema.js';
import { describeError, RotateError } from '../../errors.js';
import { markSecret } from '../../secret-value.js';
import type { RotatorContext } from '../types.js';

/** `postgresql+asyncpg://...` (SQLAlchemy's form, as the platform writes it) -> `postgresql://...` for pg. */
export function pgConnectionString(url: string): string {
  const plain = url.replace(/^(postgres(?:ql)?)\+[A-Za-z0-9_]+:/i, '$1:');
  try {
    const password = decodeURIComponent(new URL(plain).password);
    if (password) markSecret(password);
  } catch {
    // not a URL pg can use either; connect() reports it
  }
  return plain;
}

export async function connect(ctx: RotatorContext<ExchangeKeySecretConfig>): Promise<Client> {
  const name = ctx.config.databaseUrlEnv;
  const url = ctx.env[name];
  if (!url) {
    throw new RotateError('EXCHANGE_KEY_NO_DATABASE_URL', `${name} is not set in ${ctx.envFile}`, {
      hint: `set ${name} in the env file, or point secrets.${ctx.id}.databaseUrlEnv at the variable that holds the URL`,
    });
  }
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: pgConnectionString(url), application_name: 'rotate exchange-key' });
  client.on('error', () => {}); // a dropped connection surfaces as the failing query's error
  try {
    await client.connect();
  } catch (error) {
    await client.end().catch(() => {});
    throw new RotateError('EXCHANGE_KEY_DATABASE_UNREACHABLE', `cannot connect to the database in ${name}: ${describeError(error)}`, {
      hint: `check that PostgreSQL is up and that ${name} in ${ctx.envFile} is right`,
      cause: error,
    });
  }
  return client;
}

/** Runs `work` on a fresh connection and always closes it. */
export async function withClient<T>(ctx: RotatorContext<ExchangeKeySecretConfig>, work: (client: Client) => Promise<T>): Promise<T> {
  const client = await connect(ctx);
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * Runs `work` in one transaction: COMMIT when it returns, ROLLBACK when it throws. A crash or kill in between
 * leaves nothing behind: the server aborts the transaction when the connection drops.
 */
export async function inTransaction<T>(client: Client, mode: 'read write' | 'read only', work: () => Promise<T>): Promise<T> {
  await client.query(`BEGIN ISOLATION LEVEL READ COMMITTED ${mode === 'read only' ? 'READ ONLY' : 'READ WRITE'}`);
  try {
    // A role default must not cut a long re-encryption short half-way (it would roll back, but waste the run).
    await client.query(`SET LOCAL statement_timeout = 0`);
    await client.query(`SET LOCAL idle_in_transaction_session_timeout = 0`);
    const result = await work();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}
