// rotate's one way to open a connection to the app's database: the database rotator (the role's password) and
// exchange-key (the encrypted rows) connect here, with the options of src/connection/postgres-url.ts (driver suffix,
// asyncpg's `?ssl=`, credentials). The postgres store pools connections with the same options.
import pg from 'pg';
import { timed } from '../trace.js';
import { clientConfig, type PostgresUrl } from './postgres-url.js';

export type Client = pg.Client;

export interface ConnectOptions {
  /** What the --verbose trace says while connecting (never a password). */
  label: string;
  /** `application_name`: how the connection shows in pg_stat_activity. */
  applicationName: string;
  /** Another login than the URL's own (a new password being proved, an alternate role). */
  credentials?: { user: string; password: string | undefined };
  connectionTimeoutMillis?: number;
  statementTimeoutMillis?: number;
}

/** A NEW connection (never a pooled one: a verification must prove that a fresh login works). */
export async function connectPostgres(url: PostgresUrl, options: ConnectOptions): Promise<Client> {
  const client = new pg.Client({
    ...clientConfig(url, options.credentials),
    application_name: options.applicationName,
    ...(options.connectionTimeoutMillis === undefined ? {} : { connectionTimeoutMillis: options.connectionTimeoutMillis }),
    ...(options.statementTimeoutMillis === undefined ? {} : { statement_timeout: options.statementTimeoutMillis }),
  });
  // An idle client whose server goes away emits 'error'; without a listener that would crash the process. A dropped
  // connection surfaces as the failing query's error instead.
  client.on('error', () => {});
  try {
    await timed(options.label, () => client.connect());
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return client;
}

/** Runs `work` on a connection just opened and always closes it. */
export async function closingAfter<T>(client: Client, work: (client: Client) => Promise<T>): Promise<T> {
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}
