// PostgresStore against the shared PostgreSQL (127.0.0.1:5432, trust, database `test`): a random schema per file.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendChained, verifyChain } from '../../src/history/audit.js';
import { lockKey, PostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/types.js';
import { historyEntry, type StoreHarness, storeSuite } from '../helpers/store-suite.js';

const URL = 'postgresql://postgres@127.0.0.1:5432/test';
const schema = `rotate_test_${randomBytes(5).toString('hex')}`;
const masterKey = randomBytes(32).toString('base64');
const admin = new pg.Client({ connectionString: URL });
const opened: Store[] = [];

beforeAll(async () => {
  // No skip: without the shared PostgreSQL this file must fail.
  await admin.connect();
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close().catch(() => {})));
  await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(schema)} CASCADE`);
  await admin.end();
});

const warnings: string[] = [];
async function connect(options: { masterKey?: string; url?: string; schema?: string; keepBackups?: number } = {}): Promise<PostgresStore> {
  const store = await PostgresStore.connect({
    url: options.url ?? URL,
    schema: options.schema ?? schema,
    masterKey: options.masterKey ?? masterKey,
    keepBackups: options.keepBackups,
    holder: { pid: process.pid, host: hostname() },
    warn: (m) => warnings.push(m),
  });
  opened.push(store);
  return store;
}

async function tableText(): Promise<string> {
  const s = pg.escapeIdentifier(schema);
  const parts: string[] = [];
  for (const table of ['meta', 'state', 'history', 'journal', 'backups', 'lock_owner']) {
    const { rows } = await admin.query(`SELECT t::text AS row FROM ${s}.${table} t`);
    parts.push(...rows.map((r: { row: string }) => r.row));
  }
  return parts.join('\n');
}

const harness: StoreHarness = {
  warnings,
  open: (options) => connect(options),
  atRest: tableText,
  // A row is inserted whole or not at all, so the only damage is a row that is not a record, put there by hand.
  damageHistory: async () => {
    const { rows } = await admin.query<{ id: string }>(
      `INSERT INTO ${pg.escapeIdentifier(schema)}.history (at, entry) VALUES (now(), '"torn"'::jsonb) RETURNING id`,
    );
    return { line: Number(rows[0]!.id) };
  },
};

storeSuite('PostgresStore', async () => harness);

/** The backend pid that holds this schema's advisory lock, if any. */
async function lockHolder(): Promise<number | undefined> {
  const { rows } = await admin.query<{ pid: number }>(
    `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1
        AND ((classid::int8 << 32) | objid::int8) = $1::int8`,
    [lockKey(schema).toString()],
  );
  return rows[0]?.pid;
}

describe('PostgresStore: tables and keys', () => {
  it('creates its schema and tables when missing, and connects again to an existing one', async () => {
    await connect();
    await connect();
    const { rows } = await admin.query<{ table_name: string }>(
      'SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY 1',
      [schema],
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      'backups',
      'fleet_acks',
      'fleet_desired',
      'fleet_hosts',
      'history',
      'journal',
      'lock_owner',
      'meta',
      'state',
    ]);
  });

  it('lets nothing UPDATE or DELETE history rows', async () => {
    const store = await connect();
    await store.appendHistory(historyEntry('jwt', 'run-append-only', 'rotated'));
    const history = `${pg.escapeIdentifier(schema)}.history`;
    await expect(admin.query(`UPDATE ${history} SET entry = '{}'::jsonb`)).rejects.toThrow(/append-only/);
    await expect(admin.query(`DELETE FROM ${history}`)).rejects.toThrow(/append-only/);
    expect((await store.readHistory()).some((e) => e.runId === 'run-append-only')).toBe(true);
  });

  it('refuses TRUNCATE of the history; a truncate with the triggers off and a first row put back fails --verify', async () => {
    // Its own schema: the truncate must not take the other tests' rows with it.
    const own = `${schema}_trunc`;
    const history = `${pg.escapeIdentifier(own)}.history`;
    try {
      const store = await connect({ schema: own });
      for (const run of ['run-1', 'run-2', 'run-3']) await appendChained(store, historyEntry('jwt', run, 'rotated'));
      await expect(admin.query(`TRUNCATE ${history}`)).rejects.toThrow(/append-only/);
      const verify = async () => verifyChain(store, await store.readHistory(), { head: await store.readHistoryHead() });
      expect(await verify()).toMatchObject({ ok: true, checked: 3, head: { seq: 3 } });
      // The store's role owns the table, so it can turn the triggers off: the head in meta still tells.
      const { rows } = await admin.query<{ entry: unknown }>(`SELECT entry FROM ${history} ORDER BY id LIMIT 1`);
      await admin.query(`ALTER TABLE ${history} DISABLE TRIGGER USER`);
      await admin.query(`TRUNCATE ${history}`);
      await admin.query(`INSERT INTO ${history} (at, entry) VALUES (now(), $1::jsonb)`, [JSON.stringify(rows[0]!.entry)]);
      const report = await verify();
      expect(report.ok).toBe(false);
      expect(report.missing).toContain('2 record(s) were removed: the head says 3 chained record(s), the history holds 1');
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(own)} CASCADE`);
    }
  });

  it('never stores the master key, in any of its encodings', async () => {
    const store = await connect();
    await store.putBackup('env', Buffer.from('JWT_SECRET=abc\n'));
    const rest = await tableText();
    const key = Buffer.from(masterKey, 'base64');
    for (const form of [masterKey, key.toString('hex'), key.toString('base64url')]) expect(rest).not.toContain(form);
  });

  it('refuses to connect with a master key other than the one that set the store up', async () => {
    await connect();
    await expect(connect({ masterKey: randomBytes(32).toString('hex') })).rejects.toMatchObject({
      code: 'MASTER_KEY_MISMATCH',
      exitCode: 2,
    });
  });

  it('keeps a key check that is a MAC, never the key; a store set up before key checks still connects', async () => {
    await connect();
    const meta = `${pg.escapeIdentifier(schema)}.meta`;
    const { rows } = await admin.query<{ value: string }>(`SELECT value FROM ${meta} WHERE name = 'key-check'`);
    expect(rows[0]!.value).toMatch(/^mac1:[0-9a-f]{64}$/);
    const legacy = `legacy_${randomBytes(4).toString('hex')}`;
    try {
      const { Vault, parseMasterKey } = await import('../../src/store/vault.js');
      await connect({ schema: legacy });
      const sealed = new Vault(parseMasterKey(masterKey, 'test')).seal(Buffer.from('rotate-master-key-check'), 'key-check');
      await admin.query(`UPDATE ${pg.escapeIdentifier(legacy)}.meta SET value = $1 WHERE name = 'key-check'`, [sealed]);
      await connect({ schema: legacy });
      await expect(connect({ schema: legacy, masterKey: randomBytes(32).toString('hex') })).rejects.toMatchObject({
        code: 'MASTER_KEY_MISMATCH',
      });
    } finally {
      await admin.query(`DROP SCHEMA IF EXISTS ${pg.escapeIdentifier(legacy)} CASCADE`);
    }
  });

  it('accepts a SQLAlchemy URL with a driver (postgresql+asyncpg://)', async () => {
    const store = await connect({ url: 'postgresql+asyncpg://postgres@127.0.0.1:5432/test' });
    expect(await store.readStates()).toBeTypeOf('object');
  });

  it('names where it failed without the password when the server cannot be reached', async () => {
    const password = `pw-${randomBytes(8).toString('hex')}`;
    const error = await connect({ url: `postgresql://postgres:${password}@127.0.0.1:1/test` }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(error).toMatchObject({ code: 'STORE_UNREACHABLE', message: expect.stringContaining('127.0.0.1:1/test') });
    expect(`${error?.message} ${(error as { hint?: string }).hint}`).not.toContain(password);
  });

  it('derives a stable, non-negative 63-bit lock key from the schema name', () => {
    expect(lockKey('rotate')).toBe(lockKey('rotate'));
    expect(lockKey('rotate')).not.toBe(lockKey('rotate_b'));
    expect(lockKey(schema) >= 0n && lockKey(schema) < 2n ** 63n).toBe(true);
  });
});

describe('PostgresStore: the advisory lock across hosts', () => {
  it('holds the lock on a session of its own until release', async () => {
    const store = await connect();
    expect(await lockHolder()).toBeUndefined();
    const lock = await store.acquireLock('rotate jwt');
    const holder = await lockHolder();
    expect(holder).toBeTypeOf('number');
    const owner = await admin.query(`SELECT * FROM ${pg.escapeIdentifier(schema)}.lock_owner`);
    expect(owner.rows).toEqual([
      expect.objectContaining({ backend_pid: holder, pid: process.pid, host: hostname(), command: 'rotate jwt' }),
    ]);
    await lock.release();
    expect(await lockHolder()).toBeUndefined();
    expect((await admin.query(`SELECT * FROM ${pg.escapeIdentifier(schema)}.lock_owner`)).rows).toEqual([]);
  });

  it('lets one of two racing stores in, and the other in once the first releases', async () => {
    const [a, b] = [await connect(), await connect()];
    const results = await Promise.allSettled([a.acquireLock('rotate jwt'), b.acquireLock('rotate redis')]);
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({ code: 'LOCKED', exitCode: 4 });
    const loser = results[0]!.status === 'rejected' ? a : b;
    await expect(loser.acquireLock('rotate again')).rejects.toMatchObject({ code: 'LOCKED' });
    await (won[0] as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    const next = await loser.acquireLock('rotate again');
    await next.release();
  });

  it('a second release is harmless and does not free a lock another store took since', async () => {
    const [a, b] = [await connect(), await connect()];
    const lock = await a.acquireLock('rotate jwt');
    await lock.release();
    const other = await b.acquireLock('rotate redis');
    await lock.release();
    await expect(a.acquireLock('rotate jwt')).rejects.toMatchObject({ code: 'LOCKED' });
    await other.release();
  });

  it('frees the lock when the holding session dies, and the holder survives it with a warning', async () => {
    const [a, b] = [await connect(), await connect()];
    const lock = await a.acquireLock('rotate jwt');
    await expect(b.acquireLock('rotate --due')).rejects.toMatchObject({ code: 'LOCKED' });
    await admin.query('SELECT pg_terminate_backend($1)', [await lockHolder()]);
    await expect.poll(lockHolder).toBeUndefined();
    const taken = await b.acquireLock('rotate --due');
    await expect.poll(() => warnings.some((w) => w.includes('lost the connection that holds the store lock'))).toBe(true);
    await lock.release();
    expect(await lockHolder()).toBeTypeOf('number');
    await taken.release();
  });

  it('frees the lock when the process holding it is killed (SIGKILL)', async () => {
    const module = fileURLToPath(new globalThis.URL('../../src/store/postgres.ts', import.meta.url));
    const script = `
      const { PostgresStore } = await import(${JSON.stringify(module)});
      const store = await PostgresStore.connect({ url: ${JSON.stringify(URL)}, schema: ${JSON.stringify(schema)},
        masterKey: ${JSON.stringify(masterKey)}, holder: { pid: process.pid, host: 'child' }, warn: () => {} });
      await store.acquireLock('rotate jwt (child)');
      process.stdout.write('locked\\n');
      setInterval(() => {}, 1000);
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
        child.on('exit', (code) => reject(new Error(`child exited early (${code})`)));
      });
      const store = await connect();
      await expect(store.acquireLock('rotate jwt')).rejects.toMatchObject({
        code: 'LOCKED',
        message: expect.stringMatching(new RegExp(`process ${child.pid} on .*rotate jwt \\(child\\)`)),
      });
      child.kill('SIGKILL');
      await expect.poll(lockHolder, { timeout: 10_000 }).toBeUndefined();
      const lock = await store.acquireLock('rotate jwt');
      await lock.release();
    } finally {
      child.kill('SIGKILL');
    }
  });
});
