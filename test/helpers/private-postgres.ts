// A private PostgreSQL cluster for tests that change authentication: scram-sha-256 everywhere, every statement
// logged to a file the test can grep. One per test FILE (start in beforeAll, stop in afterAll).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { freePort } from './cli.js';

const BIN = '/usr/lib/postgresql/15/bin';

export interface PrivatePostgres {
  port: number;
  dir: string;
  /** The superuser's password (random; it never appears in an argv). */
  superPassword: string;
  /** postgresql://user:password@127.0.0.1:port/db, percent-encoded. */
  url(user: string, password: string, database?: string): string;
  /** The superuser's URL. */
  adminUrl(database?: string): string;
  /** Runs SQL as the superuser (simple protocol when no params). */
  sql<R extends pg.QueryResultRow = pg.QueryResultRow>(text: string, params?: unknown[], database?: string): Promise<pg.QueryResult<R>>;
  /** Everything the server logged so far. */
  log(): string;
  /** Stops the server and keeps its data, as a database that went down (start() brings it back on the same port). */
  halt(): void;
  start(): void;
  stop(): Promise<void>;
}

const asPostgres = (args: string[]): string =>
  execFileSync('runuser', ['-u', 'postgres', '--', ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  if (!existsSync(join(BIN, 'initdb'))) throw new Error(`PostgreSQL 15 binaries not found in ${BIN}`);
  const dir = mkdtempSync(join(tmpdir(), 'rotate-pg-'));
  const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  const superPassword = randomBytes(18).toString('base64url');
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${superPassword}\n`, { mode: 0o600 });
  chownSync(pwfile, uid, gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'server.log');
  asPostgres([join(BIN, 'initdb'), '-D', data, '-U', 'postgres', '--auth=scram-sha-256', `--pwfile=${pwfile}`, '-E', 'UTF8', '--no-sync']);
  rmSync(pwfile);
  const port = await freePort();
  const options = [
    `-p ${port}`,
    '-c listen_addresses=127.0.0.1',
    `-c unix_socket_directories=${dir}`,
    '-c log_statement=all',
    '-c logging_collector=off',
    '-c fsync=off',
    '-c password_encryption=scram-sha-256',
  ].join(' ');
  asPostgres([join(BIN, 'pg_ctl'), '-D', data, '-o', options, '-l', logFile, '-w', 'start']);

  const url = (user: string, password: string, database = 'postgres'): string =>
    `postgresql://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
  const adminUrl = (database = 'postgres'): string => url('postgres', superPassword, database);
  return {
    port,
    dir,
    superPassword,
    url,
    adminUrl,
    async sql(text, params, database) {
      const client = new pg.Client({ connectionString: adminUrl(database) });
      await client.connect();
      try {
        return await client.query(text, params as never);
      } finally {
        await client.end();
      }
    },
    log: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8') : ''),
    halt: () => void asPostgres([join(BIN, 'pg_ctl'), '-D', data, '-m', 'fast', '-w', 'stop']),
    start: () => void asPostgres([join(BIN, 'pg_ctl'), '-D', data, '-o', options, '-l', logFile, '-w', 'start']),
    async stop() {
      try {
        asPostgres([join(BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
