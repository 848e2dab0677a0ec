// An app database in a private cluster, the way the platform has it: one login role that owns its tables (two
// schemas, a row), and small probes the end-to-end tests use to see what a rotation really did to PostgreSQL.
import pg from 'pg';
import { clientConfig, parsePostgresUrl } from '../../src/connection/postgres-url.js';
import { scramVerifier } from '../../src/secrets/postgres/scram.js';
import type { PrivatePostgres } from './private-postgres.js';

/** Creates `role` (LOGIN, password set as a SCRAM verifier) and database `db` whose tables `role` creates and owns. */
export async function createAppDatabase(server: PrivatePostgres, role: string, password: string, db: string): Promise<void> {
  await server.sql(`CREATE ROLE ${pg.escapeIdentifier(role)} LOGIN PASSWORD ${pg.escapeLiteral(scramVerifier(password))}`);
  await server.sql(`CREATE DATABASE ${pg.escapeIdentifier(db)} OWNER ${pg.escapeIdentifier(role)}`);
  const client = new pg.Client({ connectionString: server.url(role, password, db) });
  await client.connect();
  try {
    await client.query(`CREATE TABLE users (id serial PRIMARY KEY, email text);
      CREATE SCHEMA billing; CREATE TABLE billing.invoices (id serial PRIMARY KEY, user_id int);
      INSERT INTO users (email) VALUES ('a@example.com'), ('b@example.com');
      INSERT INTO billing.invoices (user_id) VALUES (1);`);
  } finally {
    await client.end();
  }
}

/** node-postgres options for `url`, read the way rotate reads it (last `@`, driver suffix, asyncpg's `?ssl=`). */
export function forNodePostgres(url: string): pg.ClientConfig {
  const parsed = parsePostgresUrl(url);
  if (!parsed) throw new Error('not a postgresql:// URL');
  return clientConfig(parsed);
}

/** A NEW login with `url`; 'ok', or the SQLSTATE (or message) of the refusal. */
export async function loginWith(url: string): Promise<string> {
  const client = new pg.Client({ ...forNodePostgres(url), connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return 'ok';
  } catch (error) {
    return String((error as { code?: string }).code ?? (error as Error).message);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A new connection with `url` reads the app's tables: the row counts of users and billing.invoices. */
export async function readAppTables(url: string): Promise<{ users: number; invoices: number }> {
  const client = new pg.Client({ ...forNodePostgres(url), connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  await client.connect();
  try {
    const users = await client.query<{ n: string }>('SELECT count(*) AS n FROM users');
    const invoices = await client.query<{ n: string }>('SELECT count(*) AS n FROM billing.invoices');
    return { users: Number(users.rows[0]!.n), invoices: Number(invoices.rows[0]!.n) };
  } finally {
    await client.end().catch(() => {});
  }
}

/** Owner of every table of the app's schemas, by qualified name. */
export async function tableOwners(server: PrivatePostgres, db: string): Promise<Record<string, string>> {
  const result = await server.sql<{ t: string; o: string }>(
    `SELECT schemaname || '.' || tablename AS t, tableowner AS o FROM pg_tables
      WHERE schemaname IN ('public', 'billing') ORDER BY 1`,
    [],
    db,
  );
  return Object.fromEntries(result.rows.map((r) => [r.t, r.o]));
}

export async function roleCanLogin(server: PrivatePostgres, role: string): Promise<boolean | undefined> {
  const result = await server.sql<{ l: boolean }>('SELECT rolcanlogin AS l FROM pg_roles WHERE rolname = $1', [role]);
  return result.rows[0]?.l;
}
