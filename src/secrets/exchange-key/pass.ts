import type { Client } from 'pg';
import type { CryptoPool, RowsResult } from './crypto-pool.js';
import type { TableInfo } from './tables.js';

/** One undecryptable value: where it is, never what it is. */
export interface Failure {
  column: string;
  id: string;
}

export interface PassResult {
  rows: number;
  /** Non-empty values seen (NULL and "" are not encrypted and are left alone). */
  values: number;
  /** Values per key index (the order the pool tries them). */
  byKey: number[];
  failedCount: number;
  /** The first failures, enough to name them. */
  failures: Failure[];
  /** Rows written back. */
  rewritten: number;
  /** Rows the app changed between our read and our write: left as the app wrote them, for the next sweep. */
  changedMeanwhile: number;
  /** The transaction ids of this pass's UPDATEs (one per batch, or one for a once pass): see PassOptions.skipXids. */
  xids: string[];
  /**
   * With `collectTouched`: the keys (as text) of the rows this pass wrote or tried to write, so that a proof can read
   * back just those; undefined when there were more than MAX_TOUCHED.
   */
  touched?: string[];
  /** `stop` said so after a batch: the pass ended there, the rows after it not read (the caller throws). */
  stopped?: true;
}

export interface PassOptions {
  client: Client;
  pool: CryptoPool;
  table: TableInfo;
  batchSize: number;
  /** Write re-encrypted values back (inside the caller's transaction, or each batch on its own: `keyset`). */
  write: boolean;
  /**
   * Read by key (`WHERE key > last ORDER BY key LIMIT n`, one statement per batch) instead of a cursor: no statement
   * outlives its batch, so the caller runs without a transaction and each UPDATE commits on its own. Needs a unique
   * index on the key.
   */
  keyset?: boolean;
  /** Seconds since the epoch for new tokens' timestamps. */
  now(): number;
  onBatch?(rows: number): void;
  /** Stop at the first batch holding an undecryptable value (apply: all-or-nothing). */
  stopOnFailure?: boolean;
  /** Asked after each batch is handed to its UPDATE: true ends the pass once that UPDATE is done (a stop request). */
  stop?(): boolean;
  collectTouched?: boolean;
  /** Read only the rows with these keys (as text) instead of the whole table. */
  only?: string[];
  /**
   * Leave out the rows whose `xmin` is one of these transaction ids (an earlier pass's `xids`): rows that pass wrote
   * and nobody changed since, as any change gives a row a new `xmin`. The server skips them without sending them.
   */
  skipXids?: string[];
}

const MAX_FAILURES_KEPT = 50;
const MAX_TOUCHED = 10_000;

/**
 * Batches read but not yet written: enough that the workers always have the next batch queued while this thread
 * writes one and reads another, few enough that memory stays flat (a batch of 2000 rows is about 1 MB).
 */
const IN_FLIGHT = 3;

/**
 * Reads the table in batches of `batchSize` rows (a server-side cursor's `FETCH`, or with `keyset` one `SELECT ...
 * WHERE key > last ORDER BY key LIMIT n` per batch), decrypts/re-encrypts on the worker pool, and writes changed rows
 * back with one UPDATE per batch. Reading, crypto and writing overlap: up to IN_FLIGHT batches are on the workers
 * while the connection runs the next read and the previous UPDATE (queued back to back, so it never idles), and this
 * thread only packs rows into one string per worker and hands binary parameters to pg.
 *
 * Each UPDATE matches the row's `xmin` as read: a row the app rewrote in between is left as the app wrote it
 * (`changedMeanwhile`) instead of being overwritten with stale data; the sweep in verify/retire handles it.
 */
export async function runPass(options: PassOptions): Promise<PassResult> {
  const { client, table, batchSize, pool } = options;
  const cursor = 'rotate_exchange_key_cursor';
  const width = table.columns.length;
  // `t.key`, qualified: a bare name in ORDER BY would be the output column, the key as text (1, 10, 11, ..., 2).
  const key = `t.${table.keySql}`;
  const select = `SELECT ${key}::text, t.xmin::text, ${table.columnsSql.map((c) => `t.${c}`).join(', ')} FROM ${table.sql} AS t`;
  const filters: string[] = [];
  const filterValues: unknown[] = [];
  if (options.only) {
    filterValues.push(options.only);
    filters.push(`${key} = ANY($${filterValues.length}::text[]::${table.keyType}[])`);
  }
  if (options.skipXids?.length) {
    filterValues.push(options.skipXids);
    filters.push(`NOT (t.xmin = ANY($${filterValues.length}::text[]::xid[]))`);
  }
  const where = (more: string[]) => ([...filters, ...more].length ? ` WHERE ${[...filters, ...more].join(' AND ')}` : '');
  const keyset = options.keyset ?? false;
  if (!keyset) await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR ${select}${where([])}`, filterValues);
  // keyset: the first batch, then each next one after the last key read (as text, cast back to the key's type).
  const first = `${select}${where([])} ORDER BY ${key} LIMIT ${batchSize}`;
  const after = `${select}${where([`${key} > $${filterValues.length + 1}::text::${table.keyType}`])} ORDER BY ${key} LIMIT ${batchSize}`;
  let last: string | undefined;
  const fetchBatch = async (): Promise<unknown[][]> => {
    if (!keyset) return (await client.query<unknown[]>({ text: `FETCH ${batchSize} FROM ${cursor}`, rowMode: 'array' })).rows;
    const values = last === undefined ? filterValues : [...filterValues, last];
    const { rows } = await client.query<unknown[]>({ text: last === undefined ? first : after, values, rowMode: 'array' });
    // Inside the statement's turn on the connection: the next read, queued behind it, starts after this key.
    if (rows.length > 0) last = rows[rows.length - 1]![0] as string;
    return rows;
  };
  const total: PassResult = { rows: 0, values: 0, byKey: [], failedCount: 0, failures: [], rewritten: 0, changedMeanwhile: 0, xids: [] };
  if (options.collectTouched) total.touched = [];
  // pg runs one statement at a time and deprecates queuing on it: statements wait for each other here instead.
  let line: Promise<unknown> = Promise.resolve();
  const onConnection = <T>(statement: () => Promise<T>): Promise<T> => {
    const next = line.then(statement, statement);
    line = next.catch(() => {});
    return next;
  };
  const queue: Promise<RowsResult | undefined>[] = [];
  let exhausted = false;
  const readNext = async (): Promise<RowsResult | undefined> => {
    const rows = await onConnection(fetchBatch);
    if (rows.length < batchSize) exhausted = true;
    if (rows.length === 0) return undefined;
    return pool.runRows(rows, width, options.now());
  };
  const refill = () => {
    while (!exhausted && queue.length < IN_FLIGHT) {
      const next = readNext();
      next.catch(() => {}); // awaited in order below
      queue.push(next);
    }
  };
  let writing: Promise<void> | undefined;
  try {
    refill();
    while (queue.length > 0) {
      const batch = await queue.shift();
      refill(); // the next FETCH goes on the wire before this batch's UPDATE
      if (!batch) continue;
      tally(total, batch, table);
      if (options.stopOnFailure && total.failedCount > 0) break;
      if (options.write && batch.changed > 0) {
        if (total.touched) total.touched = addTouched(total.touched, batch.params[0]!);
        await writing; // one UPDATE queued at a time: bounded memory, and its error surfaces here
        writing = onConnection(() => writeBatch(client, table, batch, total));
        writing.catch(() => {});
      }
      options.onBatch?.(batch.rows);
      if (options.stop?.()) {
        total.stopped = true;
        break;
      }
    }
    await writing;
  } finally {
    await Promise.allSettled([...queue, writing]);
  }
  if (!keyset) await client.query(`CLOSE ${cursor}`);
  return total;
}

/** The keys in a binary text[] parameter (20-byte header, then length-prefixed elements), added to `into`. */
function addTouched(into: string[], keys: Buffer): string[] | undefined {
  const count = keys.readInt32BE(12);
  if (into.length + count > MAX_TOUCHED) return undefined;
  for (let i = 0, at = 20; i < count; i++) {
    const length = keys.readInt32BE(at);
    into.push(keys.toString('utf8', at + 4, at + 4 + length));
    at += 4 + length;
  }
  return into;
}

function tally(total: PassResult, batch: RowsResult, table: TableInfo): void {
  total.rows += batch.rows;
  total.values += batch.values;
  for (const [k, n] of batch.byKey.entries()) total.byKey[k] = (total.byKey[k] ?? 0) + n;
  total.failedCount += batch.failed;
  for (const failure of batch.failures) {
    if (total.failures.length >= MAX_FAILURES_KEPT) break;
    total.failures.push({ column: table.columns[failure.column]!, id: failure.id });
  }
}

async function writeBatch(client: Client, table: TableInfo, batch: RowsResult, total: PassResult): Promise<void> {
  // NULL in a column array means "unchanged" (NULL, "", or already under the target key): COALESCE keeps it.
  // Every parameter is a binary text[]: no array literal to build here or to parse on the server.
  const sets = table.columnsSql.map((column, c) => `${column} = COALESCE(v.c${c}, t.${column})`).join(', ');
  const names = table.columns.map((_, c) => `c${c}`).join(', ');
  const arrays = table.columns.map((_, c) => `$${c + 3}::text[]`).join(', ');
  const { rows } = await client.query<{ x: string; n: number }>({
    // Named: parsed once per connection and table, then planned per batch.
    name: `rotate_xk_update_${table.name}`,
    // The rows written carry this statement's transaction id as their xmin: a later sweep can leave them out.
    text: `WITH u AS (UPDATE ${table.sql} AS t SET ${sets} FROM unnest($1::text[], $2::text[], ${arrays}) AS v(k, x, ${names})
     WHERE t.${table.keySql} = v.k::${table.keyType} AND t.xmin = v.x::xid RETURNING t.xmin)
     SELECT xmin::text AS x, count(*)::int AS n FROM u GROUP BY xmin`,
    values: batch.params,
  });
  const written = rows.reduce((n, row) => n + row.n, 0);
  for (const row of rows) if (!total.xids.includes(row.x)) total.xids.push(row.x);
  total.rewritten += written;
  total.changedMeanwhile += batch.changed - written;
}
