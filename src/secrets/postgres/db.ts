import pg from 'pg';
import { type Client, closingAfter, connectPostgres } from '../../connection/postgres-client.js';
import type { PostgresUrl } from '../../connection/postgres-url.js';
import { describeError, type ErrorCode, RotateError } from '../../errors.js';
import { redact } from '../../secret-value.js';

export type { Client };

/** SQLSTATEs a server answers when it refuses a login (bad or expired password, NOLOGIN role). */
const REFUSED = new Set(['28P01', '28000']);

export const isLoginRefused = (error: unknown): boolean =>
  typeof error === 'object' && error !== null && REFUSED.has(String((error as { code?: unknown }).code));

/** Network errors and SQLSTATEs that say the server could not be reached or is not taking connections now. */
const UNREACHABLE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'EAI_AGAIN', '57P03']);

export function isServerUnreachable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, errors, message } = error as { code?: unknown; errors?: unknown; message?: unknown };
  if (UNREACHABLE.has(String(code))) return true;
  // node-postgres: a connect timeout is a plain Error; a host with several addresses fails as an AggregateError.
  if (typeof message === 'string' && /connection timeout|timeout expired/i.test(message)) return true;
  return Array.isArray(errors) && errors.length > 0 && errors.every(isServerUnreachable);
}

/** A printable reason for a failed connection or query: the SQLSTATE and the server's words, redacted. */
export function reason(error: unknown): string {
  const code = typeof error === 'object' && error !== null ? (error as { code?: unknown }).code : undefined;
  return redact(`${code ? `${String(code)} ` : ''}${describeError(error)}`);
}

/** A new connection as rotate's database rotator (as `user` when given: a login being proved). */
export const connect = (url: PostgresUrl, user = url.user, password = url.password): Promise<Client> =>
  connectPostgres(url, {
    label: `postgres: log in to ${url.host || 'localhost'}:${url.port}/${url.database ?? user} as ${user}`,
    applicationName: 'rotate',
    credentials: { user, password },
    connectionTimeoutMillis: 10_000,
    statementTimeoutMillis: 30_000,
  });

export async function withClient<T>(
  url: PostgresUrl,
  run: (client: Client) => Promise<T>,
  credentials?: { user: string; password: string | undefined },
): Promise<T> {
  return closingAfter(await connect(url, credentials?.user ?? url.user, credentials ? credentials.password : url.password), run);
}

/** Tries a login; `refused` when the server said no to the credentials, `error` for anything else. */
export async function tryLogin(
  url: PostgresUrl,
  user: string,
  password: string | undefined,
): Promise<{ outcome: 'ok' } | { outcome: 'refused' | 'error'; detail: string }> {
  try {
    const client = await connect(url, user, password);
    await client.end().catch(() => {});
    return { outcome: 'ok' };
  } catch (error) {
    return { outcome: isLoginRefused(error) ? 'refused' : 'error', detail: reason(error) };
  }
}

// Every relation an application reads, outside the system schemas.
const APP_RELATIONS = `
  FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
  WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
    AND n.nspname NOT IN ('pg_catalog', 'information_schema')
    AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'`;

/** Qualified names of the app's tables that `role` (default: the session's current user) may SELECT from. */
export async function readableTables(client: Client, role?: string): Promise<string[]> {
  const result = role
    ? await client.query<{ name: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name ${APP_RELATIONS}
           AND has_schema_privilege($1, n.oid, 'USAGE') AND has_table_privilege($1, c.oid, 'SELECT')
         ORDER BY 1`,
        [role],
      )
    : await client.query<{ name: string }>(
        `SELECT format('%I.%I', n.nspname, c.relname) AS name ${APP_RELATIONS}
           AND has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')
         ORDER BY 1`,
      );
  return result.rows.map((row) => row.name);
}

/** Tables of the app's schemas owned by each role. */
export async function tableOwners(client: Client): Promise<Record<string, number>> {
  const result = await client.query<{ owner: string; count: string }>(
    `SELECT pg_get_userbyid(c.relowner) AS owner, count(*) AS count ${APP_RELATIONS} GROUP BY 1 ORDER BY 1`,
  );
  return Object.fromEntries(result.rows.map((row) => [row.owner, Number(row.count)]));
}

/**
 * Whether the session may change `target`'s password: itself always; a superuser any role; a CREATEROLE role a
 * non-superuser (from PostgreSQL 16 only with ADMIN OPTION on it).
 */
export async function mayAlterRole(client: Client, target: string): Promise<{ ok: boolean; detail: string }> {
  const result = await client.query<{ me: string; sup: boolean; cr: boolean; tsup: boolean | null; admin: boolean | null; v: number }>(
    `SELECT current_user AS me, r.rolsuper AS sup, r.rolcreaterole AS cr,
            (SELECT rolsuper FROM pg_roles WHERE rolname = $1) AS tsup,
            CASE WHEN EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)
                 THEN pg_has_role(current_user, $1, 'MEMBER WITH ADMIN OPTION') END AS admin,
            current_setting('server_version_num')::int AS v
       FROM pg_roles r WHERE r.rolname = current_user`,
    [target],
  );
  const row = result.rows[0];
  if (!row) return { ok: false, detail: 'the connecting role was not found in pg_roles' };
  if (row.tsup === null) return { ok: false, detail: `role ${target} does not exist` };
  if (row.me === target) return { ok: true, detail: `${row.me} changes its own password` };
  if (row.sup) return { ok: true, detail: `${row.me} is a superuser` };
  if (row.cr && !row.tsup && (row.v < 160000 || row.admin)) return { ok: true, detail: `${row.me} has CREATEROLE` };
  return { ok: false, detail: `${row.me} is neither a superuser nor a CREATEROLE role allowed to alter ${target}` };
}

/**
 * Runs a role change inside a transaction that first turns statement logging off when the session may
 * (superuser, or granted SET on log_statement); otherwise it goes on: the statement carries a verifier, never the
 * password.
 */
export async function quietly(client: Client, statements: string[]): Promise<{ logging: 'off' | 'unchanged' }> {
  await client.query('BEGIN');
  let logging: 'off' | 'unchanged' = 'unchanged';
  try {
    if (await trySetting(client, `SET LOCAL log_statement = 'none'`)) logging = 'off';
    await trySetting(client, 'SET LOCAL log_min_duration_statement = -1');
    for (const statement of statements) await client.query(statement);
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
  return { logging };
}

/** A SET that may be refused (it needs superuser or a SET grant) without aborting the transaction. */
async function trySetting(client: Client, statement: string): Promise<boolean> {
  await client.query('SAVEPOINT rotate_quiet');
  try {
    await client.query(statement);
    await client.query('RELEASE SAVEPOINT rotate_quiet');
    return true;
  } catch {
    await client.query('ROLLBACK TO SAVEPOINT rotate_quiet');
    return false;
  }
}

export const ident = (name: string): string => pg.escapeIdentifier(name);
export const literal = (text: string): string => pg.escapeLiteral(text);

export function connectError(code: ErrorCode, what: string, error: unknown, hint: string): RotateError {
  return new RotateError(code, `${what}: ${reason(error)}`, { hint });
}
