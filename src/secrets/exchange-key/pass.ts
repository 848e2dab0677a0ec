import type { Client } from 'pg';
import type { CryptoPool } from './crypto-worker.js';
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

interface Prepared {
  rows: unknown[][];
  result: { found: Int8Array; out: (string | null)[] };
  slots: number[];
}

/**
 * Reads the table through a server-side cursor (`FETCH batchSize`), decrypts/re-encrypts on the worker pool, and
 * writes changed rows back with one UPDATE per batch. While the workers handle batch k+1, the connection runs the
 * UPDATE of batch k and the FETCH of batch k+2, so only about three batches are ever in memory.
 *
 * Each UPDATE matches the row's `xmin` as read: a row the app rewrote in between is left as the app wrote it
 * (`changedMeanwhile`) instead of being overwritten with stale data; the sweep in verify/retire handles it.
 */
export async function runPass(options: PassOptions): Promise<PassResult> {
  const { client, table, batchSize } = options;
  const cursor = 'rotate_exchange_key_cursor';
  const columns = table.columnsSql.join(', ');
  await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${table.keySql}::text, xmin::text, ${columns} FROM ${table.sql}`);
  const total: PassResult = { rows: 0, values: 0, byKey: [], failedCount: 0, failures: [], rewritten: 0, changedMeanwhile: 0 };
  // The connection runs one statement at a time (FETCH k+1, UPDATE k, FETCH k+2, ...) while the workers encrypt.
  let crypto: Promise<Prepared> | undefined;
  try {
    for (;;) {
      const { rows } = await client.query<unknown[]>({ text: `FETCH ${batchSize} FROM ${cursor}`, rowMode: 'array' });
      const previous = crypto && (await crypto);
      crypto = rows.length > 0 ? prepare(options, rows) : undefined;
      crypto?.catch(() => {}); // awaited on the next turn
      if (previous) {
        tally(total, previous, table);
        if (options.stopOnFailure && total.failedCount > 0) break;
        if (options.write) await writeBatch(client, table, previous, total);
        options.onBatch?.(previous.rows.length);
      }
      if (!crypto) break;
    }
  } finally {
    await crypto?.catch(() => {});
  }
  await client.query(`CLOSE ${cursor}`);
  return total;
}

async function prepare(options: PassOptions, rows: unknown[][]): Promise<Prepared> {
  const width = options.table.columns.length;
  const values: string[] = [];
  const slots: number[] = [];
  for (let r = 0; r < rows.length; r++) {
    for (let c = 0; c < width; c++) {
      const value = rows[r]![2 + c];
      if (typeof value === 'string' && value !== '') {
        values.push(value);
        slots.push(r * width + c);
      }
    }
  }
  return { rows, result: await options.pool.run(values, options.now()), slots };
}

function tally(total: PassResult, { rows, result, slots }: Prepared, table: TableInfo): void {
  total.rows += rows.length;
  total.values += slots.length;
  const width = table.columns.length;
  for (let i = 0; i < slots.length; i++) {
    const key = result.found[i]!;
    if (key >= 0) {
      total.byKey[key] = (total.byKey[key] ?? 0) + 1;
      continue;
    }
    total.failedCount++;
    if (total.failures.length < MAX_FAILURES_KEPT) {
      const slot = slots[i]!;
      total.failures.push({ column: table.columns[slot % width]!, id: String(rows[Math.floor(slot / width)]![0]) });
    }
  }
}

async function writeBatch(client: Client, table: TableInfo, { rows, result, slots }: Prepared, total: PassResult): Promise<void> {
  const width = table.columns.length;
  const changed = new Map<number, (string | null)[]>();
  for (let i = 0; i < slots.length; i++) {
    const token = result.out[i];
    if (token == null) continue;
    const row = Math.floor(slots[i]! / width);
    let values = changed.get(row);
    if (!values) changed.set(row, (values = new Array<string | null>(width).fill(null)));
    values[slots[i]! % width] = token;
  }
  if (changed.size === 0) return;
  const ids: string[] = [];
  const xmins: string[] = [];
  const columns: (string | null)[][] = table.columns.map(() => []);
  for (const [row, values] of changed) {
    ids.push(String(rows[row]![0]));
    xmins.push(String(rows[row]![1]));
    values.forEach((value, c) => columns[c]!.push(value));
  }
  // NULL in the arrays means "unchanged" (NULL, "", or already under the target key): COALESCE keeps the row's value.
  const sets = table.columnsSql.map((column, c) => `${column} = COALESCE(v.c${c}, t.${column})`).join(', ');
  const names = table.columns.map((_, c) => `c${c}`).join(', ');
  const arrays = table.columns.map((_, c) => `$${c + 3}::text[]`).join(', ');
  const { rowCount } = await client.query(
    `UPDATE ${table.sql} AS t SET ${sets} FROM unnest($1::${table.keyType}[], $2::xid[], ${arrays}) AS v(k, x, ${names})
     WHERE t.${table.keySql} = v.k AND t.xmin = v.x`,
    [ids, xmins, ...columns],
  );
  total.rewritten += rowCount ?? 0;
  total.changedMeanwhile += ids.length - (rowCount ?? 0);
}
