import { createHash } from 'node:crypto';
import pg from 'pg';
import { clientConfig, parsePostgresUrl, refuseCredentialOverrides } from '../connection/postgres-url.js';
import { RotateError } from '../errors.js';
import { markSecret } from '../secret-value.js';
import { backupId, backupsOfJournal, backupsToPrune } from './backups.js';
import { FLEET_TABLES, type FleetStore, postgresFleet } from './fleet.js';
import { isHistoryEntry, NOT_A_RECORD } from './history.js';
import { keyCheckOf, keyMismatch, sameCheck } from './key-check.js';
import type { HistoryEntry, HistoryHead, HistoryReport, Journal, Lock, LockHolder, SecretState, Store, StoredJournal } from './types.js';
import { parseMasterKey, Vault } from './vault.js';

export interface PostgresStoreOptions {
  /** postgres://, postgresql:// or a driver-qualified form such as postgresql+asyncpg:// */
  url: string;
  /** Schema that holds the store's tables; created if missing. */
  schema: string;
  /** ROTATE_MASTER_KEY: seals backups and journals. Never stored in the database. */
  masterKey: string;
  warn(message: string): void;
  /** The env var that held the URL, for messages (never the URL itself). */
  urlEnv?: string;
  /** How many backups to keep per secret (store.keepBackups); default 1, the one before its last rotation. */
  keepBackups?: number;
  /** This process, named in the lock_owner row for others' LOCKED errors. */
  holder: LockHolder;
}

/** What stores set up before key checks sealed in meta.key-check. */
const LEGACY_KEY_CHECK = 'rotate-master-key-check';

/** A stable, non-negative 63-bit advisory-lock key per schema, so every host running rotate agrees on it. */
export function lockKey(schema: string): bigint {
  const digest = createHash('sha256').update(`rotate:lock:${schema}`).digest();
  return digest.readBigUInt64BE(0) & 0x7fff_ffff_ffff_ffffn;
}

const unreachable = (where: string, error: unknown): RotateError =>
  new RotateError('STORE_UNREACHABLE', `cannot use the postgres store at ${where}: ${(error as Error).message}`, {
    hint: 'check store.urlEnv (the URL, the role and its rights to create the schema) and that the server is up',
    cause: error,
  });

/** The shared store: tables in one schema, a session advisory lock that works across hosts. */
export class PostgresStore implements Store {
  readonly location: string;
  readonly #pool: pg.Pool;
  readonly #config: pg.ClientConfig;
  readonly #schema: string;
  readonly #key: bigint;
  readonly #vault: Vault;
  readonly #warn: (message: string) => void;
  readonly #holder: LockHolder;
  readonly #keepBackups: number;
  readonly #held = new Set<pg.Client>();

  private constructor(options: PostgresStoreOptions, config: pg.ClientConfig, where: string, vault: Vault) {
    this.#config = config;
    this.#pool = new pg.Pool({ ...config, max: 2 });
    this.#pool.on('error', (error) => options.warn(`the store's idle connection failed: ${error.message}`));
    this.#schema = pg.escapeIdentifier(options.schema);
    this.#key = lockKey(options.schema);
    this.#vault = vault;
    this.#warn = options.warn;
    this.#holder = options.holder;
    this.#keepBackups = options.keepBackups ?? 1;
    this.location = `postgres ${where} schema ${options.schema}`;
  }

  static async connect(options: PostgresStoreOptions): Promise<PostgresStore> {
    markSecret(options.masterKey);
    const name = options.urlEnv ?? 'the store URL';
    const url = parsePostgresUrl(options.url);
    if (!url) {
      throw new RotateError('STORE_URL_INVALID', `${name} is not a postgresql:// URL`, {
        hint: 'Expected postgresql://user:password@host:port/database; percent-encode a `/`, `?` or `#` in the password.',
      });
    }
    refuseCredentialOverrides(url, name);
    const where = `${url.host || 'localhost'}:${url.port}/${url.database ?? url.user}`;
    const vault = new Vault(parseMasterKey(options.masterKey, 'ROTATE_MASTER_KEY'));
    const store = new PostgresStore(options, { ...clientConfig(url), keepAlive: true }, where, vault);
    try {
      await store.#migrate();
    } catch (error) {
      await store.#pool.end().catch(() => {});
      if (error instanceof RotateError) throw error;
      throw unreachable(where, error);
    }
    return store;
  }

  #t(table: string): string {
    return `${this.#schema}.${table}`;
  }

  async #migrate(): Promise<void> {
    const client = await this.#pool.connect();
    try {
      await client.query('BEGIN');
      // Two hosts creating the schema at once would collide on the catalog; the two-int advisory key space is
      // separate from the bigint one the run lock uses.
      await client.query('SELECT pg_advisory_xact_lock($1::int, 0)', [Number(this.#key >> 32n) | 0]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#schema}`);
      await client.query(`
        CREATE TABLE IF NOT EXISTS ${this.#t('meta')} (name text PRIMARY KEY, value text NOT NULL);
        CREATE TABLE IF NOT EXISTS ${this.#t('state')} (
          secret text PRIMARY KEY, data jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS ${this.#t('history')} (
          id bigserial PRIMARY KEY, at timestamptz NOT NULL, entry jsonb NOT NULL);
        CREATE TABLE IF NOT EXISTS ${this.#t('journal')} (
          secret text PRIMARY KEY, data jsonb NOT NULL, updated_at timestamptz NOT NULL DEFAULT now());
        CREATE TABLE IF NOT EXISTS ${this.#t('backups')} (
          id text PRIMARY KEY, label text NOT NULL, created_at timestamptz NOT NULL DEFAULT now(), sealed text NOT NULL);
        CREATE TABLE IF NOT EXISTS ${this.#t('lock_owner')} (
          backend_pid int PRIMARY KEY, pid int NOT NULL, host text NOT NULL, since timestamptz NOT NULL,
          command text NOT NULL);
        ${FLEET_TABLES((name) => this.#t(name))}
        CREATE OR REPLACE FUNCTION ${this.#t('history_append_only')}() RETURNS trigger LANGUAGE plpgsql AS
          $$BEGIN RAISE EXCEPTION 'rotate history is append-only'; END$$;
        DO $$BEGIN
          IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'history_append_only'
                           AND tgrelid = ${pg.escapeLiteral(this.#t('history'))}::regclass) THEN
            CREATE TRIGGER history_append_only BEFORE UPDATE OR DELETE ON ${this.#t('history')}
              FOR EACH ROW EXECUTE FUNCTION ${this.#t('history_append_only')}();
          END IF;
          -- TRUNCATE fires no row trigger: it needs its own, per statement.
          IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'history_no_truncate'
                           AND tgrelid = ${pg.escapeLiteral(this.#t('history'))}::regclass) THEN
            CREATE TRIGGER history_no_truncate BEFORE TRUNCATE ON ${this.#t('history')}
              FOR EACH STATEMENT EXECUTE FUNCTION ${this.#t('history_append_only')}();
          END IF;
        END$$;
      `);
      // A key check (a MAC of a constant, never the key) proves at connect, before anything changes, that this host
      // has the key the other hosts used. Stores set up before key checks hold a sealed constant instead.
      await client.query(`INSERT INTO ${this.#t('meta')} VALUES ('key-check', $1) ON CONFLICT (name) DO NOTHING`, [
        `mac1:${keyCheckOf(this.#vault)}`,
      ]);
      const { rows } = await client.query<{ value: string }>(`SELECT value FROM ${this.#t('meta')} WHERE name = 'key-check'`);
      if (!this.#keyMatches(rows[0]!.value)) {
        const pending = await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.#t('journal')}`);
        throw keyMismatch(
          'ROTATE_MASTER_KEY',
          this.location,
          pending.rows[0]!.n > 0,
          'every host that runs rotate must share one master key: set ROTATE_MASTER_KEY to the key the other hosts use',
        );
      }
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }

  #keyMatches(stored: string): boolean {
    if (stored.startsWith('mac1:')) return sameCheck(stored.slice('mac1:'.length), keyCheckOf(this.#vault));
    try {
      return this.#vault.open(stored, 'key-check').toString() === LEGACY_KEY_CHECK;
    } catch {
      return false;
    }
  }

  async #query<R extends pg.QueryResultRow>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.#pool.query<R>(text, values);
    } catch (error) {
      throw unreachable(this.location, error);
    }
  }

  /** The hosts of `rotate agent`, the values a run wants on them and their acknowledgements (store/fleet.ts). */
  get fleet(): FleetStore {
    return postgresFleet(
      (text, values) => this.#query(text, values),
      (name) => this.#t(name),
    );
  }

  async acquireLock(command: string): Promise<Lock> {
    const client = new pg.Client(this.#config);
    let lost = false;
    client.on('error', (error) => {
      lost = true;
      this.#warn(`lost the connection that holds the store lock: ${error.message}`);
    });
    try {
      await client.connect();
      const { rows } = await client.query<{ locked: boolean; backend: number }>(
        'SELECT pg_try_advisory_lock($1::bigint) AS locked, pg_backend_pid() AS backend',
        [this.#key.toString()],
      );
      if (!rows[0]!.locked) throw await this.#lockedError();
      // The advisory lock is the truth; this row only names the holder for others' error messages.
      await client.query(
        `INSERT INTO ${this.#t('lock_owner')} (backend_pid, pid, host, since, command) VALUES ($1, $2, $3, now(), $4)
         ON CONFLICT (backend_pid) DO UPDATE SET pid = $2, host = $3, since = now(), command = $4`,
        [rows[0]!.backend, this.#holder.pid, this.#holder.host, command],
      );
    } catch (error) {
      await client.end().catch(() => {});
      if (error instanceof RotateError) throw error;
      throw unreachable(this.location, error);
    }
    this.#held.add(client);
    return { release: () => this.#release(client, lost) };
  }

  async #release(client: pg.Client, lost: boolean): Promise<void> {
    if (!this.#held.delete(client)) return;
    if (!lost) {
      await client
        .query(`DELETE FROM ${this.#t('lock_owner')} WHERE backend_pid = pg_backend_pid()`)
        .then(() => client.query('SELECT pg_advisory_unlock($1::bigint)', [this.#key.toString()]))
        .catch(() => {});
    }
    // Ending the session frees the lock even if the unlock above did not reach the server.
    await client.end().catch(() => {});
  }

  async #lockedError(): Promise<RotateError> {
    const { rows } = await this.#query<{ pid: number; host: string; since: Date; command: string; backend: number }>(
      `SELECT o.pid, o.host, o.since, o.command, l.pid AS backend
         FROM pg_locks l LEFT JOIN ${this.#t('lock_owner')} o ON o.backend_pid = l.pid
        WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
          AND ((l.classid::int8 << 32) | l.objid::int8) = $1::int8`,
      [this.#key.toString()],
    );
    const owner = rows[0];
    const who = owner?.host
      ? `process ${owner.pid} on ${owner.host} (${owner.command}), since ${owner.since.toISOString()}`
      : owner
        ? `database session ${owner.backend}`
        : 'another session';
    return new RotateError('LOCKED', `another rotation holds the store lock (${this.location}): ${who}`, {
      hint: 'wait for it to finish; if that host is gone, its lock ends with its database session (pg_terminate_backend)',
    });
  }

  async readStates(): Promise<Record<string, SecretState>> {
    const { rows } = await this.#query<{ secret: string; data: SecretState }>(
      `SELECT secret, data FROM ${this.#t('state')} ORDER BY secret`,
    );
    return Object.fromEntries(rows.map((r) => [r.secret, r.data]));
  }

  async writeState(secret: string, state: SecretState): Promise<void> {
    await this.#query(
      `INSERT INTO ${this.#t('state')} (secret, data) VALUES ($1, $2::jsonb)
       ON CONFLICT (secret) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`,
      [secret, JSON.stringify(state)],
    );
  }

  /** The record and the head move together (one transaction): a head is never behind or ahead of the table. */
  async appendHistory(entry: HistoryEntry, head?: HistoryHead): Promise<void> {
    const insert = `INSERT INTO ${this.#t('history')} (at, entry) VALUES ($1, $2::jsonb)`;
    const values = [entry.at, JSON.stringify(entry)];
    if (!head) {
      await this.#query(insert, values);
      return;
    }
    let client: pg.PoolClient | undefined;
    try {
      client = await this.#pool.connect();
      await client.query('BEGIN');
      await client.query(insert, values);
      await client.query(
        `INSERT INTO ${this.#t('meta')} (name, value) VALUES ('history-head', $1) ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value`,
        [JSON.stringify(head)],
      );
      await client.query('COMMIT');
    } catch (error) {
      await client?.query('ROLLBACK').catch(() => {});
      throw unreachable(this.location, error);
    } finally {
      client?.release();
    }
  }

  /** A head that is not JSON is returned as one whose MAC fails: `history --verify` names it edited. */
  async readHistoryHead(): Promise<HistoryHead | undefined> {
    const { rows } = await this.#query<{ value: string }>(`SELECT value FROM ${this.#t('meta')} WHERE name = 'history-head'`);
    if (!rows[0]) return undefined;
    try {
      return JSON.parse(rows[0].value) as HistoryHead;
    } catch {
      return { seq: -1, link: '', mac: '' };
    }
  }

  async readHistory(): Promise<HistoryEntry[]> {
    return (await this.readHistoryReport()).entries;
  }

  /** A row is written whole or not at all (one INSERT); a row that is not a record was put there by hand. */
  async readHistoryReport(): Promise<HistoryReport> {
    const { rows } = await this.#query<{ id: string; entry: unknown }>(`SELECT id, entry FROM ${this.#t('history')} ORDER BY id`);
    const report: HistoryReport = { entries: [], damaged: [] };
    for (const row of rows) {
      if (isHistoryEntry(row.entry)) report.entries.push(row.entry);
      else report.damaged.push({ file: `${this.location} table history`, line: Number(row.id), error: NOT_A_RECORD });
    }
    return report;
  }

  async readJournals(): Promise<StoredJournal[]> {
    const { rows } = await this.#query<{ data: StoredJournal }>(`SELECT data FROM ${this.#t('journal')} ORDER BY secret`);
    return rows.map((r) => r.data);
  }

  // The table's key column is named `secret` (one journal per secret before runs covered sets); it now holds the
  // run id of a journal, and a legacy row keeps its secret id. No migration needed either way.
  async writeJournal(journal: Journal): Promise<void> {
    await this.#query(
      `INSERT INTO ${this.#t('journal')} (secret, data) VALUES ($1, $2::jsonb)
       ON CONFLICT (secret) DO UPDATE SET data = EXCLUDED.data, updated_at = now()`,
      [journal.runId, JSON.stringify(journal)],
    );
  }

  journalLocation(runId: string): string {
    return `the row ${runId} of table ${this.#t('journal')} (${this.location})`;
  }

  async removeJournal(key: string): Promise<void> {
    await this.#query(`DELETE FROM ${this.#t('journal')} WHERE secret = $1`, [key]);
  }

  async listBackups(): Promise<string[]> {
    const { rows } = await this.#query<{ id: string }>(`SELECT id FROM ${this.#t('backups')} ORDER BY id`);
    return rows.map((r) => r.id);
  }

  async putBackup(label: string, data: Buffer): Promise<string> {
    const id = backupId(label);
    await this.#query(`INSERT INTO ${this.#t('backups')} (id, label, sealed) VALUES ($1, $2, $3)`, [
      id,
      label,
      this.#vault.seal(data, `backup:${id}`),
    ]);
    await this.#pruneBackups(id).catch((error: Error) => this.#warn(`could not remove old backups: ${error.message}`));
    return id;
  }

  /** Every old env file is a copy of old secrets: keep only what a restore or a resume can still use. */
  async #pruneBackups(newest: string): Promise<void> {
    const { rows } = await this.#query<{ id: string }>(`SELECT id FROM ${this.#t('backups')}`);
    const pinned = new Set([newest, ...(await this.readJournals()).flatMap(backupsOfJournal)]);
    const prune = backupsToPrune(
      rows.map((r) => r.id),
      this.#keepBackups,
      pinned,
    );
    if (prune.length > 0) await this.#query(`DELETE FROM ${this.#t('backups')} WHERE id = ANY($1::text[])`, [prune]);
  }

  async getBackup(id: string): Promise<Buffer> {
    const { rows } = await this.#query<{ sealed: string }>(`SELECT sealed FROM ${this.#t('backups')} WHERE id = $1`, [id]);
    if (!rows[0]) {
      throw new RotateError('STORE_CORRUPT', `no backup ${id} in ${this.location}`, {
        hint: 'the backup was deleted by hand; restore the env file from your own backups',
      });
    }
    return this.#vault.open(rows[0].sealed, `backup:${id}`);
  }

  async seal(plaintext: string, purpose: string): Promise<string> {
    return this.#vault.seal(Buffer.from(plaintext, 'utf8'), purpose);
  }

  async unseal(sealed: string, purpose: string): Promise<string> {
    return this.#vault.open(sealed, purpose).toString('utf8');
  }

  async mac(purpose: string, data: string): Promise<string> {
    return this.#vault.mac(purpose, data);
  }

  async close(): Promise<void> {
    for (const client of [...this.#held]) await this.#release(client, false);
    await this.#pool.end();
  }
}
