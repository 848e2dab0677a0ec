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
}

export interface PassOptions {
  client: Client;
  pool: CryptoPool;
  table: TableInfo;
  batchSize: number;
  /** Write re-encrypted values back (inside the caller's transaction). */
  write: boolean;
  /** Seconds since the epoch for new tokens' timestamps. */
  now(): number;
  onBatch?(rows: number): void;
  /** Stop at the first batch holding an undecryptable value (apply: all-or-nothing). */
  stopOnFailure?: boolean;
}

const MAX_FAILURES_KEPT = 50;

/**
 * Reads the table through a server-side cursor (`FETCH batchSize`), decrypts/re-encrypts on the worker pool, and
 * writes changed rows back with one UPDATE per batch. The workers also build the UPDATE's array parameters, so this
 * thread only moves rows. The connection runs one statement at a time (FETCH k+1, UPDATE k, FETCH k+2, ...) while
 * the workers handle the next batch, so only about three batches are ever in memory.
 *
 * Each UPDATE matches the row's `xmin` as read: a row the app rewrote in between is left as the app wrote it
 * (`changedMeanwhile`) instead of being overwritten with stale data; the sweep in verify/retire handles it.
 */
export async function runPass(options: PassOptions): Promise<PassResult> {
  const { client, table, batchSize, pool } = options;
  const cursor = 'rotate_exchange_key_cursor';
  const width = table.columns.length;
  await client.query(
    `DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${table.keySql}::text, xmin::text, ${table.columnsSql.join(', ')} FROM ${table.sql}`,
  );
  const total: PassResult = { rows: 0, values: 0, byKey: [], failedCount: 0, failures: [], rewritten: 0, changedMeanwhile: 0 };
  let crypto: Promise<RowsResult> | undefined;
  try {
    for (;;) {
      const { rows } = await client.query<unknown[]>({ text: `FETCH ${batchSize} FROM ${cursor}`, rowMode: 'array' });
      // Queue this batch on the workers before waiting for the previous one, so they never wait for this thread.
      const next = rows.length > 0 ? pool.runRows(rows, width, options.now()) : undefined;
      next?.catch(() => {}); // awaited on the next turn
      const previous = crypto && (await crypto);
      crypto = next;
      if (previous) {
        tally(total, previous, table);
        if (options.stopOnFailure && total.failedCount > 0) break;
        if (options.write && previous.changed > 0) await writeBatch(client, table, previous, total);
        options.onBatch?.(previous.rows);
      }
      if (!crypto) break;
    }
  } finally {
    await crypto?.catch(() => {});
  }
  await client.query(`CLOSE ${cursor}`);
  return total;
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
  const sets = table.columnsSql.map((column, c) => `${column} = COALESCE(v.c${c}, t.${column})`).join(', ');
  const names = table.columns.map((_, c) => `c${c}`).join(', ');
  const arrays = table.columns.map((_, c) => `$${c + 3}::text[]`).join(', ');
  const literal = (inner: string): string => `{${inner}}`;
  const { rowCount } = await client.query({
    // Named: parsed once per connection and table, then planned per batch.
    name: `rotate_xk_update_${table.name}`,
    text: `UPDATE ${table.sql} AS t SET ${sets} FROM unnest($1::${table.keyType}[], $2::xid[], ${arrays}) AS v(k, x, ${names})
     WHERE t.${table.keySql} = v.k AND t.xmin = v.x`,
    values: [literal(batch.ids), literal(batch.xmins), ...batch.columns.map(literal)],
  });
  total.rewritten += rowCount ?? 0;
  total.changedMeanwhile += batch.changed - (rowCount ?? 0);
}
