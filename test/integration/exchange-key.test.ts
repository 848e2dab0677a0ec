// exchange-key against the shared PostgreSQL: each test gets its own table in this file's scratch database
// (rotate_xk_<random>, dropped in afterAll). Rows come from Python's `cryptography` (the platform's code path) or
// from our Fernet; every invariant of issue 3 has a test here.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checksOf } from '../../src/engine/checks.js';
import { RotateError } from '../../src/errors.js';
import { deriveFernetKey, fernetDecrypt, fernetEncrypt } from '../../src/secrets/exchange-key/fernet.js';
import { exchangeKeyRotator as rotator } from '../../src/secrets/exchange-key/index.js';
import type { ExchangeKeySecretConfig } from '../../src/secrets/exchange-key/kind.js';
import type { Rotation } from '../../src/secrets/types.js';
import { type TestContext, testContext } from '../helpers/context.js';
import { scratchDatabase } from '../helpers/scratch-database.js';
import { waitUntil } from '../helpers/wait.js';

const database = scratchDatabase('rotate_xk');
const DB_URL = database.url;
const KDF = { salt: 'crypto_orchestrator_salt', iterations: 100_000 };
const OLD = 'default-encryption-key-change-in-production-32-chars!';
const COLUMNS = ['api_key_encrypted', 'api_secret_encrypted', 'passphrase_encrypted'] as const;
const oldKey = deriveFernetKey(OLD, KDF);

let db: pg.Client;
let tableNo = 0;

beforeAll(async () => {
  db = await database.create();
});

afterAll(() => database.drop());

interface Row {
  id: number;
  exchange: string;
  api_key_encrypted: string;
  api_secret_encrypted: string;
  passphrase_encrypted: string | null;
}

/** A fresh platform-shaped table; `rows` are [api_key, api_secret, passphrase] plaintexts (or raw tokens). */
async function makeTable(
  rows: [string, string, string | null][],
  encrypt = (p: string) => (p === '' ? '' : fernetEncrypt(oldKey, p)),
): Promise<string> {
  const table = `exchange_api_keys_${++tableNo}`;
  await db.query(`CREATE TABLE ${table} (id serial PRIMARY KEY, exchange text NOT NULL DEFAULT 'binance',
    api_key_encrypted text NOT NULL, api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL)`);
  for (let i = 0; i < rows.length; i += 1000) {
    const chunk = rows.slice(i, i + 1000);
    await db.query(`INSERT INTO ${table} (${COLUMNS.join(', ')}) SELECT * FROM unnest($1::text[], $2::text[], $3::text[])`, [
      chunk.map((r) => encrypt(r[0])),
      chunk.map((r) => encrypt(r[1])),
      chunk.map((r) => (r[2] === null ? null : encrypt(r[2]))),
    ]);
  }
  return table;
}

const snapshot = async (table: string): Promise<Row[]> => (await db.query<Row>(`SELECT * FROM ${table} ORDER BY id`)).rows;

function ctxFor(
  table: string,
  env: Record<string, string> = { EXCHANGE_KEY_ENCRYPTION_KEY: OLD, DATABASE_URL: DB_URL },
  extra: Record<string, unknown> = {},
): TestContext<ExchangeKeySecretConfig> {
  return testContext<ExchangeKeySecretConfig>({
    id: 'exchange-key',
    config: { kind: 'exchange-key', tables: [{ table, key: 'id', columns: [...COLUMNS] }], batchSize: 7, ...extra },
    env,
  });
}

/** Plaintexts of every row under `value` (null: NULL, '' stays ''); throws on a value that does not decrypt. */
async function plaintexts(table: string, value: string): Promise<(string | null)[][]> {
  const key = deriveFernetKey(value, KDF);
  return (await snapshot(table)).map((row) =>
    COLUMNS.map((c) => {
      const v = row[c];
      if (v === null || v === '') return v;
      const plain = fernetDecrypt(key, v);
      if (!plain) throw new Error(`row ${row.id}.${c} does not decrypt`);
      return plain.toString('utf8');
    }),
  );
}

/** The engine's part between apply and verify: the env file now holds the new value. */
const afterEnvWrite = (ctx: TestContext<ExchangeKeySecretConfig>, rotation: Rotation): TestContext<ExchangeKeySecretConfig> => {
  const next = { ...ctx, env: { ...ctx.env, EXCHANGE_KEY_ENCRYPTION_KEY: rotation.env.EXCHANGE_KEY_ENCRYPTION_KEY!.reveal() } };
  return next as TestContext<ExchangeKeySecretConfig>;
};

const SAMPLE: [string, string, string | null][] = Array.from({ length: 40 }, (_, i) => [
  `key-${i}`,
  i % 5 === 0 ? '' : `secret-${i}-ü`,
  i % 3 === 0 ? null : i % 4 === 0 ? '' : `pass-${i}`,
]);

describe('exchange-key rotator', () => {
  it('preflight counts rows and values, test-decrypts them all, estimates the time, and reads the +asyncpg URL', async () => {
    const table = await makeTable(SAMPLE);
    const { checks, facts } = await rotator.preflight(ctxFor(table));
    expect(checks.filter((c) => !c.ok)).toEqual([]);
    const values = SAMPLE.flat().filter((v) => v !== null && v !== '').length;
    expect(facts).toMatchObject({ rows: 40, values, undecryptable: 0, rowsByTable: { [table]: 40 } });
    expect(typeof facts?.estimatedSeconds).toBe('number');
  });

  it('preflight names table, column and ids of values the current key cannot decrypt, and changes nothing', async () => {
    const table = await makeTable(SAMPLE);
    const other = deriveFernetKey('some-other-key-that-is-not-the-current', KDF);
    await db.query(`UPDATE ${table} SET api_secret_encrypted = $1 WHERE id IN (3, 17)`, [fernetEncrypt(other, 'x')]);
    await db.query(`UPDATE ${table} SET passphrase_encrypted = 'not-a-token' WHERE id = 8`);
    const before = await snapshot(table);
    const ctx = ctxFor(table);
    const { checks } = await rotator.preflight(ctx);
    const failed = checks.find((c) => !c.ok);
    expect(failed?.detail).toContain(`${table}.api_secret_encrypted ids 3, 17`);
    expect(failed?.detail).toContain(`${table}.passphrase_encrypted ids 8`);
    expect(await snapshot(table)).toEqual(before);
    // apply refuses too (all-or-nothing), even without a preflight
    const rotation = await rotator.generate(ctx);
    await expect(rotator.apply(ctx, rotation)).rejects.toMatchObject({ code: 'EXCHANGE_KEY_UNDECRYPTABLE' });
    expect(await snapshot(table)).toEqual(before);
  });

  it('a full rotation: every row under the new key, NULL and "" kept, other columns and row count untouched', async () => {
    const table = await makeTable(SAMPLE);
    const before = await snapshot(table);
    const plainBefore = await plaintexts(table, OLD);
    const ctx = ctxFor(table);
    const rotation = await rotator.generate(ctx);
    const next = rotation.env.EXCHANGE_KEY_ENCRYPTION_KEY!.reveal();
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    await rotator.apply(ctx, rotation);
    const applied = (await rotator.apply(ctx, rotation)) ?? rotation; // idempotent
    const after = afterEnvWrite(ctx, rotation);
    const verified = await rotator.verify(after, applied);
    expect(checksOf(verified).filter((c) => !c.ok)).toEqual([]);
    const verifiedRotation = Array.isArray(verified) ? applied : verified.rotation;
    const retired = (await rotator.retire(after, verifiedRotation)) ?? verifiedRotation;
    expect((await rotator.verifyRetired(after, retired)).filter((c) => !c.ok)).toEqual([]);
    expect((await rotator.verifyCurrent(after)).filter((c) => !c.ok)).toEqual([]);
    expect(await plaintexts(table, next)).toEqual(plainBefore);
    const rows = await snapshot(table);
    expect(rows.map((r) => [r.id, r.exchange])).toEqual(before.map((r) => [r.id, r.exchange]));
    rows.forEach((r, i) => {
      for (const c of COLUMNS) if (before[i]![c] === null || before[i]![c] === '') expect(r[c]).toBe(before[i]![c]);
      expect(r.api_key_encrypted).not.toBe(before[i]!.api_key_encrypted);
    });
    // the old key is now refused by verifyCurrent
    expect((await rotator.verifyCurrent(ctx)).some((c) => !c.ok)).toBe(true);
  });

  it.each(['per-batch', 'once'] as const)(
    '%s: verify sweeps rows the old app wrote with the old key after the re-encryption',
    async (commit) => {
      const table = await makeTable(SAMPLE.slice(0, 10));
      const ctx = ctxFor(table, undefined, { commit });
      const rotation = await rotator.generate(ctx);
      const applied = (await rotator.apply(ctx, rotation)) ?? rotation;
      // the old app, still running until its restart, inserts and updates with the old key
      await db.query(`INSERT INTO ${table} (${COLUMNS.join(', ')}) VALUES ($1, $2, NULL)`, [
        fernetEncrypt(oldKey, 'late'),
        fernetEncrypt(oldKey, 'late-s'),
      ]);
      await db.query(`UPDATE ${table} SET api_key_encrypted = $1 WHERE id = 2`, [fernetEncrypt(oldKey, 'changed')]);
      const after = afterEnvWrite(ctx, rotation);
      expect((await rotator.verifyRetired(after, rotation)).some((c) => !c.ok)).toBe(true);
      // The rotation apply returned carries the transaction ids of its UPDATEs.
      const checks = checksOf(await rotator.verify(after, applied));
      expect(checks.filter((c) => !c.ok)).toEqual([]);
      // The sweep read only the two rows the app wrote: the others carry the apply's transaction ids as their xmin.
      expect(checks[0]!.detail).toMatch(/ in 2 row\(s\) read, besides the rows the re-encryption wrote/);
      const plain = await plaintexts(table, rotation.env.EXCHANGE_KEY_ENCRYPTION_KEY!.reveal());
      expect(plain.at(-1)).toEqual(['late', 'late-s', null]);
      expect(plain[1]![0]).toBe('changed');
    },
  );

  it('undoApply puts every row back under the old key after a completed apply, twice in a row', async () => {
    const table = await makeTable(SAMPLE);
    const plainBefore = await plaintexts(table, OLD);
    const ctx = ctxFor(table);
    const rotation = await rotator.generate(ctx);
    await rotator.apply(ctx, rotation);
    // the new app wrote a row with the new key before the failure was noticed
    const newKey = deriveFernetKey(rotation.secrets.new!.reveal(), KDF);
    await db.query(`INSERT INTO ${table} (${COLUMNS.join(', ')}) VALUES ($1, '', NULL)`, [fernetEncrypt(newKey, 'by-new-app')]);
    await rotator.undoApply(ctx, rotation);
    await rotator.undoApply(ctx, rotation);
    expect((await rotator.verifyCurrent(ctx)).filter((c) => !c.ok)).toEqual([]);
    expect(await plaintexts(table, OLD)).toEqual([...plainBefore, ['by-new-app', '', null]]);
  });

  it('undoApply rewrites what it can and names values that no key decrypts', async () => {
    const table = await makeTable(SAMPLE.slice(0, 5));
    const ctx = ctxFor(table);
    const rotation = await rotator.generate(ctx);
    await rotator.apply(ctx, rotation);
    await db.query(`UPDATE ${table} SET api_key_encrypted = 'garbage' WHERE id = 4`);
    const error = await rotator.undoApply(ctx, rotation).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotateError);
    expect((error as RotateError).message).toContain(`${table}.api_key_encrypted ids 4`);
    const rows = await snapshot(table);
    expect(fernetDecrypt(oldKey, rows[0]!.api_key_encrypted)?.toString()).toBe('key-0');
  });

  /** Which key each non-empty value is under: 'O' old, 'N' new, 'X' neither; one letter per value, in id order. */
  async function underWhich(table: string, next: string): Promise<string> {
    const newKey = deriveFernetKey(next, KDF);
    return (await snapshot(table))
      .flatMap((row) => COLUMNS.map((c) => row[c]).filter((v): v is string => v !== null && v !== ''))
      .map((v) => (fernetDecrypt(oldKey, v) ? 'O' : fernetDecrypt(newKey, v) ? 'N' : 'X'))
      .join('');
  }

  /**
   * Terminates the rotator's connection at its `at`th progress tick (a batch); returns the ticks seen so far. Only in
   * this file's database: the server is shared, and other runs of rotate (benches, other test files) connect to it.
   */
  function dropConnectionAt(ctx: TestContext<ExchangeKeySecretConfig>, at: number): () => number {
    let ticks = 0;
    ctx.deps.progress = () => ({
      tick: () => {
        if (++ticks === at)
          void db.query(
            `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'rotate exchange-key'`,
          );
      },
      done: () => {},
    });
    return () => ticks;
  }

  it('per-batch: a dropped connection in the middle of apply leaves the committed batches under the new key, the rest under the old; undoApply puts them back', async () => {
    const rows = Array.from({ length: 3000 }, (_, i): [string, string, string | null] => [`k${i}`, `s${i}`, null]);
    const table = await makeTable(rows);
    const ctx = ctxFor(table, undefined, { batchSize: 100 });
    const ticks = dropConnectionAt(ctx, 10);
    const rotation = await rotator.generate(ctx);
    await expect(rotator.apply(ctx, rotation)).rejects.toThrow();
    expect(ticks()).toBeGreaterThanOrEqual(10);
    // In key order: a prefix of committed batches under the new key, then the old key; no value under neither.
    const under = await underWhich(table, rotation.secrets.new!.reveal());
    expect(under).toMatch(/^N+O+$/);
    expect(under.indexOf('O') % 200).toBe(0); // whole batches of 100 rows, 2 values each
    await rotator.undoApply(ctx, rotation);
    expect(await underWhich(table, rotation.secrets.new!.reveal())).toBe('O'.repeat(6000));
    expect(await plaintexts(table, OLD)).toEqual(rows);
  });

  it('once: a dropped connection in the middle of apply leaves every row under the old key; undoApply is then a no-op', async () => {
    const table = await makeTable(Array.from({ length: 3000 }, (_, i) => [`k${i}`, `s${i}`, null]));
    const before = await snapshot(table);
    const ctx = ctxFor(table, undefined, { batchSize: 100, commit: 'once' });
    const ticks = dropConnectionAt(ctx, 10);
    const rotation = await rotator.generate(ctx);
    await expect(rotator.apply(ctx, rotation)).rejects.toThrow();
    expect(ticks()).toBeGreaterThanOrEqual(10);
    expect(await snapshot(table)).toEqual(before);
    await rotator.undoApply(ctx, rotation);
    expect(await snapshot(table)).toEqual(before);
  });

  /** Aborts the context's stop signal (a SIGINT, as the command layer aborts it) at the `at`th progress tick. */
  function stopAt(ctx: TestContext<ExchangeKeySecretConfig>, at: number): () => number {
    const stop = new AbortController();
    ctx.deps = { ...ctx.deps, stop: stop.signal };
    let ticks = 0;
    ctx.deps.progress = () => ({
      tick: () => {
        if (++ticks === at) stop.abort('SIGINT');
      },
      done: () => {},
    });
    return () => ticks;
  }

  it('per-batch: a stop request during apply ends it after the batch being written; undoApply puts those batches back', async () => {
    const rows = Array.from({ length: 3000 }, (_, i): [string, string, string | null] => [`k${i}`, `s${i}`, null]);
    const table = await makeTable(rows);
    const ctx = ctxFor(table, undefined, { batchSize: 100 });
    const ticks = stopAt(ctx, 10);
    expect(rotator.stopsApplyAt?.(ctx)).toContain('after the batch being re-encrypted');
    const rotation = await rotator.generate(ctx);
    await expect(rotator.apply(ctx, rotation)).rejects.toMatchObject({ code: 'INTERRUPTED_PENDING' });
    // Not one batch more: the 10 batches handed to their UPDATE are committed, the 20 after them never read.
    expect(ticks()).toBe(10);
    expect(await underWhich(table, rotation.secrets.new!.reveal())).toBe(`${'N'.repeat(2000)}${'O'.repeat(4000)}`);
    expect(ctx.logged.join('\n')).toContain('stopped re-encrypting');
    await rotator.undoApply(ctx, rotation);
    expect(await underWhich(table, rotation.secrets.new!.reveal())).toBe('O'.repeat(6000));
    expect(await plaintexts(table, OLD)).toEqual(rows);
  });

  it('once: a stop request during apply rolls its one transaction back at the next batch: no row changed', async () => {
    const table = await makeTable(Array.from({ length: 3000 }, (_, i) => [`k${i}`, `s${i}`, null]));
    const before = await snapshot(table);
    const ctx = ctxFor(table, undefined, { batchSize: 100, commit: 'once' });
    const ticks = stopAt(ctx, 10);
    const rotation = await rotator.generate(ctx);
    await expect(rotator.apply(ctx, rotation)).rejects.toMatchObject({ code: 'INTERRUPTED_PENDING' });
    expect(ticks()).toBe(10);
    expect(await snapshot(table)).toEqual(before);
  });

  it('per-batch: an app updating a row already re-encrypted is not blocked by the pass; once: it waits for the commit', async () => {
    const rows = Array.from({ length: 20_000 }, (_, i): [string, string, string | null] => [`k${i}`, `s${i}`, null]);
    const table = await makeTable(rows);
    // A second connection, as the app: never waits on a row lock longer than lock_timeout.
    const app = new pg.Client({ connectionString: DB_URL });
    await app.connect();
    try {
      // once first: its cursor reads in physical order, which is id order only in a table nobody updated yet
      for (const commit of ['once', 'per-batch'] as const) {
        const ctx = ctxFor(table, undefined, { batchSize: 100, commit });
        const rotation = await rotator.generate(ctx);
        const newKey = deriveFernetKey(rotation.secrets.new!.reveal(), KDF);
        let done = false;
        const applying = rotator.apply(ctx, rotation).finally(() => {
          done = true;
        });
        // per-batch: row 1 is visible under the new key once its batch committed; once: the pass's transaction has
        // written (it holds an id), row 1 being in its first batch.
        const moved =
          commit === 'per-batch'
            ? async () =>
                fernetDecrypt(newKey, (await db.query(`SELECT api_key_encrypted FROM ${table} WHERE id = 1`)).rows[0].api_key_encrypted) !==
                undefined
            : async () =>
                (
                  await db.query(
                    "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'rotate exchange-key' AND backend_xid IS NOT NULL",
                  )
                ).rowCount === 1;
        expect(await waitUntil(moved, 20_000, 10)).toBe(true);
        // once: a short wait proves the row is locked (the pass runs on for seconds); per-batch: the longest a batch
        // of 100 rows could hold it, with a wide margin
        await app.query(`SET lock_timeout = '${commit === 'once' ? '300ms' : '5s'}'`);
        const write = app.query(`UPDATE ${table} SET exchange = 'kraken' WHERE id = 1`);
        if (commit === 'per-batch') {
          await write;
          expect(done).toBe(false); // the app's write went through while the pass was still running
        } else {
          await expect(write).rejects.toMatchObject({ code: '55P03' }); // lock_timeout: it waited on the pass
          expect(done).toBe(false);
        }
        await applying;
        await rotator.undoApply(ctx, rotation);
      }
      expect(await plaintexts(table, OLD)).toEqual(rows);
    } finally {
      await app.end();
    }
  }, 90_000);

  it('a SIGKILLed rotate process in the middle of a large table: its committed batches are put back by undoApply, as resume runs it', async () => {
    const table = await makeTable(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, `s${i}`, i % 2 ? null : `p${i}`]));
    const plainBefore = await plaintexts(table, OLD);
    const ctx = ctxFor(table, undefined, { batchSize: 200 });
    const rotation = await rotator.generate(ctx);
    const next = rotation.secrets.new!.reveal();
    // The child gets the keys on stdin (never argv) and prints a line per batch; we kill it after a few.
    const here = fileURLToPath(new URL('.', import.meta.url));
    const code = `
      import { readFileSync } from 'node:fs';
      import { exchangeKeyRotator } from ${JSON.stringify(`${here}../../src/secrets/exchange-key/index.ts`)};
      import { testContext } from ${JSON.stringify(`${here}../helpers/context.ts`)};
      import { SecretValue } from ${JSON.stringify(`${here}../../src/secret-value.ts`)};
      const input = JSON.parse(readFileSync(0, 'utf8'));
      const ctx = testContext({ config: input.config, env: input.env });
      ctx.deps.progress = () => ({ tick: () => process.stdout.write('tick\\n'), done: () => {} });
      await exchangeKeyRotator.apply(ctx, { env: {}, secrets: { old: new SecretValue(input.old), new: new SecretValue(input.next) }, facts: {} });
      process.stdout.write('finished\\n');`;
    const scratch = mkdtempSync(join(tmpdir(), 'rotate-xk-'));
    const script = join(scratch, 'apply.mts');
    writeFileSync(script, code);
    const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: ['pipe', 'pipe', 'inherit'] });
    child.stdin.end(
      JSON.stringify({
        config: { kind: 'exchange-key', tables: [{ table, columns: [...COLUMNS] }], batchSize: 200 },
        env: ctx.env,
        old: OLD,
        next,
      }),
    );
    let out = '';
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        if ((out.match(/tick/g) ?? []).length >= 20) child.kill('SIGKILL');
      });
      child.on('exit', () => resolve());
      child.on('error', reject);
    });
    rmSync(scratch, { recursive: true, force: true });
    expect(out).not.toContain('finished');
    expect((out.match(/tick/g) ?? []).length).toBeGreaterThanOrEqual(20);
    // `rotate resume` in a new process: undoApply with the journaled secrets, then verifyCurrent with the old key
    await rotator.undoApply(ctx, rotation);
    expect((await rotator.verifyCurrent(ctx)).filter((c) => !c.ok)).toEqual([]);
    expect(await plaintexts(table, OLD)).toEqual(plainBefore);
  });

  it('rows written by Python are rotated and Python reads them with the new key from the env file', async () => {
    const plain = SAMPLE.map((r) => r.map((v) => v));
    const script = String.raw`
import json, sys, base64
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC
from cryptography.hazmat.primitives import hashes
req = json.load(sys.stdin)
kdf = PBKDF2HMAC(algorithm=hashes.SHA256(), length=32, salt=b"crypto_orchestrator_salt", iterations=100000)
f = Fernet(base64.urlsafe_b64encode(kdf.derive(req["env"].encode())))
if req["op"] == "encrypt":
    print(json.dumps([None if v is None else ("" if v == "" else f.encrypt(v.encode()).decode()) for v in req["values"]]))
else:
    print(json.dumps([None if v is None else ("" if v == "" else f.decrypt(v.encode()).decode()) for v in req["values"]]))
`;
    const py = (op: string, env: string, values: (string | null)[]): (string | null)[] =>
      JSON.parse(execFileSync('python3', ['-c', script], { input: JSON.stringify({ op, env, values }), encoding: 'utf8' }));
    const tokens = py('encrypt', OLD, plain.flat());
    const table = await makeTable(SAMPLE, () => 'placeholder');
    const ids = (await snapshot(table)).map((r) => r.id);
    for (const [n, id] of ids.entries()) {
      await db.query(`UPDATE ${table} SET api_key_encrypted = $2, api_secret_encrypted = $3, passphrase_encrypted = $4 WHERE id = $1`, [
        id,
        ...tokens.slice(n * 3, n * 3 + 3),
      ]);
    }
    const ctx = ctxFor(table);
    expect((await rotator.preflight(ctx)).checks.filter((c) => !c.ok)).toEqual([]);
    const rotation = await rotator.generate(ctx);
    await rotator.apply(ctx, rotation);
    const after = afterEnvWrite(ctx, rotation);
    expect(checksOf(await rotator.verify(after, rotation)).filter((c) => !c.ok)).toEqual([]);
    const rows = await snapshot(table);
    const read = py(
      'decrypt',
      after.env.EXCHANGE_KEY_ENCRYPTION_KEY!,
      rows.flatMap((r) => COLUMNS.map((c) => r[c])),
    );
    expect(read).toEqual(plain.flat());
  });

  it('rollback (generate with restore) goes back to the old key', async () => {
    const table = await makeTable(SAMPLE.slice(0, 6));
    const ctx = ctxFor(table);
    const first = await rotator.generate(ctx);
    await rotator.apply(ctx, first);
    const after = afterEnvWrite(ctx, first);
    const back = await rotator.generate(after, first);
    expect(back.env.EXCHANGE_KEY_ENCRYPTION_KEY!.reveal()).toBe(OLD);
    await rotator.apply(after, back);
    expect((await rotator.verifyCurrent(ctx)).filter((c) => !c.ok)).toEqual([]);
  });

  it('never lets a key out: logs, facts, checks, errors and the journaled rotation hold none', async () => {
    const table = await makeTable(SAMPLE.slice(0, 8));
    const ctx = ctxFor(table);
    const produced: unknown[] = [];
    produced.push(await rotator.preflight(ctx));
    const rotation = await rotator.generate(ctx);
    produced.push(rotation, JSON.stringify(rotation));
    await rotator.apply(ctx, rotation);
    const after = afterEnvWrite(ctx, rotation);
    produced.push(checksOf(await rotator.verify(after, rotation)));
    await rotator.retire(after, rotation);
    produced.push(await rotator.verifyRetired(after, rotation), await rotator.verifyCurrent(after), await rotator.verifyCurrent(ctx));
    await db.query(`UPDATE ${table} SET api_key_encrypted = 'garbage' WHERE id = 1`);
    produced.push(String(await rotator.undoApply(ctx, rotation).catch((e: unknown) => `${String(e)} ${(e as RotateError).hint}`)));
    const text = JSON.stringify(produced) + ctx.logged.join('\n') + after.logged.join('\n');
    const next = rotation.secrets.new!.reveal();
    for (const secret of [
      OLD,
      next,
      deriveFernetKey(OLD, KDF).raw().toString('base64url'),
      deriveFernetKey(next, KDF).raw().toString('base64url'),
    ]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(secret.slice(0, 16));
    }
    expect(ctx.logged.length + after.logged.length).toBeGreaterThan(0);
  });

  /** 400 rows, the last one's passphrase not a token: with batchSize 7, 57 batches come before the one that fails. */
  async function lastRowDamaged(): Promise<string> {
    const rows = Array.from({ length: 400 }, (_, i): [string, string, string | null] => [
      `k${i}`,
      i % 2 ? '' : `s${i}`,
      i % 3 ? null : `p${i}`,
    ]);
    const table = await makeTable(rows);
    await db.query(`UPDATE ${table} SET passphrase_encrypted = 'damaged' WHERE id = 400`);
    return table;
  }

  it('per-batch: a value that does not decrypt in the last batch stops apply there; undoApply puts every batch before it back', async () => {
    const table = await lastRowDamaged();
    const ctx = ctxFor(table);
    const rotation = await rotator.generate(ctx);
    const error = await rotator.apply(ctx, rotation).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EXCHANGE_KEY_UNDECRYPTABLE' });
    expect((error as RotateError).message).toContain(`${table}.passphrase_encrypted ids 400`);
    expect((error as RotateError).message).toContain('put back by the rollback');
    const next = rotation.secrets.new!.reveal();
    // batchSize 7: 57 batches committed under the new key, the last one (ids 393-400) not written
    expect(await underWhich(table, next)).toMatch(/^N+O+X$/);
    await rotator.undoApply(ctx, rotation).catch(() => {}); // names row 400 again
    expect(await underWhich(table, next)).toMatch(/^O+X$/);
    expect((await rotator.verifyCurrent(ctx)).filter((c) => !c.ok)).toHaveLength(1); // only row 400, as before
  });

  it('once: a value that does not decrypt in the last batch, after many batches were written: apply rolls every row back', async () => {
    // batchSize 7 over 400 rows: ~57 UPDATEs run inside the transaction before the last batch fails.
    const table = await lastRowDamaged();
    const before = await snapshot(table);
    const ctx = ctxFor(table, undefined, { commit: 'once' });
    let batches = 0;
    ctx.deps.progress = () => ({ tick: () => batches++, done: () => {} });
    const rotation = await rotator.generate(ctx);
    const error = await rotator.apply(ctx, rotation).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'EXCHANGE_KEY_UNDECRYPTABLE' });
    expect((error as RotateError).message).toContain(`${table}.passphrase_encrypted ids 400`);
    expect(batches).toBeGreaterThan(50);
    expect(await snapshot(table)).toEqual(before);
    expect((await rotator.verifyCurrent(ctx)).filter((c) => !c.ok)).toHaveLength(1); // only row 400, as before
  });

  it('a text key with non-ASCII ids, NULL and "" values at batch boundaries: rotated, the rest byte-identical', async () => {
    const table = `exchange_api_keys_${++tableNo}`;
    await db.query(`CREATE TABLE ${table} (name text PRIMARY KEY, note text, api_key_encrypted text NOT NULL,
      api_secret_encrypted text NOT NULL, passphrase_encrypted text NULL)`);
    // batchSize 7: rows 7, 14, 21 close a batch; whole batches hold only NULL and "" (nothing to write for them).
    const plain = Array.from({ length: 30 }, (_, i): [string, string, string | null] =>
      i >= 7 && i < 14 ? ['', '', null] : [`k${i}`, i % 7 === 6 ? '' : `s${i}`, i % 7 === 0 ? null : `p${i}`],
    );
    for (const [i, [k, sec, pass]] of plain.entries()) {
      const enc = (v: string | null) => (v === null || v === '' ? v : fernetEncrypt(oldKey, v));
      await db.query(`INSERT INTO ${table} VALUES ($1, $2, $3, $4, $5)`, [
        `ключ-${String(i).padStart(2, '0')} "q" {b},\\`,
        `note ${i}`,
        enc(k),
        enc(sec),
        enc(pass),
      ]);
    }
    const read = async () => (await db.query(`SELECT * FROM ${table} ORDER BY name`)).rows;
    const before = await read();
    const ctx = testContext<ExchangeKeySecretConfig>({
      id: 'exchange-key',
      config: { kind: 'exchange-key', tables: [{ table, key: 'name', columns: [...COLUMNS] }], batchSize: 7 },
      env: { EXCHANGE_KEY_ENCRYPTION_KEY: OLD, DATABASE_URL: DB_URL },
    });
    const rotation = await rotator.generate(ctx);
    await rotator.apply(ctx, rotation);
    const after = afterEnvWrite(ctx, rotation);
    expect(checksOf(await rotator.verify(after, rotation)).filter((c) => !c.ok)).toEqual([]);
    const newKey = deriveFernetKey(rotation.secrets.new!.reveal(), KDF);
    const rows = await read();
    expect(rows.map((r) => [r.name, r.note])).toEqual(before.map((r) => [r.name, r.note]));
    rows.forEach((row, i) => {
      for (const c of COLUMNS) {
        const was = before[i][c] as string | null;
        if (was === null || was === '') expect(row[c]).toBe(was);
        else expect(fernetDecrypt(newKey, row[c])?.toString()).toBe(fernetDecrypt(oldKey, was)?.toString());
      }
    });
  });

  it('verify and verifyRetired read the whole table when the sweep failed, and read back the rows the sweep wrote', async () => {
    const table = await makeTable(SAMPLE.slice(0, 12));
    const ctx = ctxFor(table);
    const rotation = await rotator.generate(ctx);
    const applied = (await rotator.apply(ctx, rotation)) ?? rotation;
    const after = afterEnvWrite(ctx, rotation);
    // a value no key decrypts: the sweep leaves it, and the proof must name it
    await db.query(`UPDATE ${table} SET api_key_encrypted = 'garbage' WHERE id = 5`);
    const failed = await rotator.verify(after, applied);
    const failing = checksOf(failed).filter((c) => !c.ok);
    expect(failing.map((c) => c.detail).join(' ')).toContain(`${table}.api_key_encrypted ids 5`);
    // retire's sweep is not clean either: it refuses (the old key stays in the env file), and verifyRetired reads
    // for itself and fails
    const afterFailing = Array.isArray(failed) ? applied : failed.rotation;
    await expect(rotator.retire(after, afterFailing)).rejects.toMatchObject({ code: 'EXCHANGE_KEY_OLD_VALUES' });
    expect((await rotator.verifyRetired(after, afterFailing)).some((c) => !c.ok)).toBe(true);
    // repaired: retire's sweep rewrites the repaired row, reads it back, and its proof stands for verifyRetired's
    await db.query(`UPDATE ${table} SET api_key_encrypted = $1 WHERE id = 5`, [fernetEncrypt(oldKey, 'repaired')]);
    const retired = (await rotator.retire(after, applied)) ?? applied;
    expect((await rotator.verifyRetired(after, retired)).filter((c) => !c.ok)).toEqual([]);
    // without a proof of this process (a resumed run: the rotation as journaled), verifyRetired reads the whole
    // table and names a damaged row
    await db.query(`UPDATE ${table} SET api_key_encrypted = 'damaged' WHERE id = 6`);
    const fullRead = (await rotator.verifyRetired(after, rotation)).filter((c) => !c.ok);
    expect(fullRead.map((c) => c.detail).join(' ')).toContain(`${table}.api_key_encrypted ids 6`);
    await db.query(`UPDATE ${table} SET api_key_encrypted = $1 WHERE id = 6`, [fernetEncrypt(oldKey, 'late')]);
    await rotator.retire(after, applied);
    const clean = (await rotator.retire(after, applied)) ?? applied; // clean: nothing to read back
    expect((await rotator.verifyRetired(after, clean)).filter((c) => !c.ok)).toEqual([]);
    // a passing verify stands for the retire right after it: no sweep, so a row damaged in between is not seen by
    // retire, but the next full proof names it
    const verified = await rotator.verify(after, applied);
    expect(checksOf(verified).filter((c) => !c.ok)).toEqual([]);
    await db.query(`UPDATE ${table} SET api_key_encrypted = 'damaged' WHERE id = 7`);
    const afterVerify = Array.isArray(verified) ? applied : verified.rotation;
    const retiredAfterVerify = (await rotator.retire(after, afterVerify)) ?? afterVerify;
    expect((await rotator.verifyRetired(after, retiredAfterVerify)).filter((c) => !c.ok)).toEqual([]);
    expect((await rotator.verifyCurrent(after)).find((c) => !c.ok)?.detail).toContain(`${table}.api_key_encrypted ids 7`);
    await db.query(`UPDATE ${table} SET api_key_encrypted = $1 WHERE id = 7`, [fernetEncrypt(oldKey, 'late')]);
    await rotator.retire(after, rotation);
    expect(await plaintexts(table, rotation.secrets.new!.reveal())).toHaveLength(12);
  });

  it('per-batch needs a unique index on the key (batches are read by key): preflight says so; once does not', async () => {
    const table = await makeTable(SAMPLE.slice(0, 3));
    await db.query(`ALTER TABLE ${table} DROP CONSTRAINT ${table}_pkey`);
    const failed = (await rotator.preflight(ctxFor(table))).checks.filter((c) => !c.ok);
    expect(failed.map((c) => c.name)).toEqual([`table ${table}: key column id has a unique index`]);
    expect(failed[0]!.hint).toContain('"commit": "once"');
    expect((await rotator.preflight(ctxFor(table, undefined, { commit: 'once' }))).checks.filter((c) => !c.ok)).toEqual([]);
    await db.query(`CREATE UNIQUE INDEX ON ${table} (id)`);
    expect((await rotator.preflight(ctxFor(table))).checks.filter((c) => !c.ok)).toEqual([]);
  });

  it('preflight fails cleanly when the key, the URL, the database or a table is missing', async () => {
    const table = await makeTable([]);
    expect((await rotator.preflight(ctxFor(table, { DATABASE_URL: DB_URL }))).checks.some((c) => !c.ok)).toBe(true);
    expect((await rotator.preflight(ctxFor(table, { EXCHANGE_KEY_ENCRYPTION_KEY: OLD }))).checks.some((c) => !c.ok)).toBe(true);
    const down = await rotator.preflight(
      ctxFor(table, { EXCHANGE_KEY_ENCRYPTION_KEY: OLD, DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/x' }),
    );
    expect(down.checks.find((c) => !c.ok)?.detail).toMatch(/cannot connect/);
    const missing = await rotator.preflight(ctxFor('no_such_table'));
    expect(missing.checks.find((c) => !c.ok)?.name).toContain('no_such_table');
    const empty = await rotator.preflight(ctxFor(table));
    expect(empty.checks.every((c) => c.ok)).toBe(true);
    expect(empty.facts).toMatchObject({ rows: 0, values: 0 });
  });
});
