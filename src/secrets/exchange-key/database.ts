import { type Client, closingAfter, connectPostgres } from '../../connection/postgres-client.js';
import { describeTarget, parsePostgresUrl, refuseCredentialOverrides } from '../../connection/postgres-url.js';
import { describeError, RotateError, usageError } from '../../errors.js';
import { redact } from '../../secret-value.js';
import type { RotatorContext } from '../types.js';
import type { ExchangeKeySecretConfig } from './kind.js';

export async function connect(ctx: RotatorContext<ExchangeKeySecretConfig>): Promise<Client> {
  const name = ctx.config.databaseUrlEnv;
  const raw = ctx.env[name];
  if (!raw) {
    throw new RotateError('EXCHANGE_KEY_NO_DATABASE_URL', `${name} is not set in ${ctx.location}`, {
      hint: `set ${name} in the env file, or point secrets.${ctx.id}.databaseUrlEnv at the variable that holds the URL`,
    });
  }
  const url = parsePostgresUrl(raw);
  if (!url) {
    throw usageError(
      'EXCHANGE_KEY_DATABASE_URL_INVALID',
      `${name} in ${ctx.location} is not a postgresql:// URL`,
      'Expected postgresql://user:password@host:port/database; percent-encode a `/`, `?` or `#` in the password.',
    );
  }
  refuseCredentialOverrides(url, `${name} in ${ctx.location}`);
  try {
    return await connectPostgres(url, {
      label: `postgres: connect to ${describeTarget(url)} (${name})`,
      applicationName: 'rotate exchange-key',
    });
  } catch (error) {
    throw new RotateError(
      'EXCHANGE_KEY_DATABASE_UNREACHABLE',
      `cannot connect to the database in ${name}: ${redact(describeError(error))}`,
      {
        hint: `check that PostgreSQL is up and that ${name} in ${ctx.location} is right`,
        cause: error,
      },
    );
  }
}

/** Runs `work` on a fresh connection and always closes it. */
export async function withClient<T>(ctx: RotatorContext<ExchangeKeySecretConfig>, work: (client: Client) => Promise<T>): Promise<T> {
  return closingAfter(await connect(ctx), work);
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

/**
 * Runs `work` outside any transaction: each statement commits on its own (a per-batch pass: each UPDATE is one batch).
 * A kill or a lost connection loses at most the statement in progress.
 */
export async function autocommit<T>(client: Client, work: () => Promise<T>): Promise<T> {
  // The connection is this pass's own: a role default must not cut a batch short either.
  await client.query('SET statement_timeout = 0');
  return work();
}
