import type { Client } from 'pg';
import { escapeIdentifier } from 'pg';
import { type Check, check } from '../../core-types.js';
import type { ExchangeKeySecretConfig } from './kind.js';

/** A configured table, checked against the catalog, with its identifiers quoted for SQL. */
export interface TableInfo {
  /** As configured (`exchange_api_keys`, or `schema.table`): for messages and facts. */
  name: string;
  sql: string;
  key: string;
  keySql: string;
  /** The key column's type, from the catalog (`integer`, `uuid`): the UPDATE casts the ids array to it. */
  keyType: string;
  columns: string[];
  columnsSql: string[];
}

const TEXT_TYPES = new Set(['text', 'character varying', 'character']);

export const quoteQualified = (name: string): string =>
  name
    .split('.')
    .map((part) => escapeIdentifier(part))
    .join('.');

/** Looks every configured table up; a missing table or column, or a non-text column, is a failing check. */
export async function describeTables(client: Client, config: ExchangeKeySecretConfig): Promise<{ tables: TableInfo[]; checks: Check[] }> {
  const tables: TableInfo[] = [];
  const checks: Check[] = [];
  for (const entry of config.tables) {
    const sql = quoteQualified(entry.table);
    const { rows } = await client.query<{ name: string; type: string }>(
      `SELECT attname AS name, format_type(atttypid, atttypmod) AS type FROM pg_attribute
       WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped`,
      [sql],
    );
    if (rows.length === 0) {
      checks.push(
        check(
          'table-exists',
          `table ${entry.table} exists`,
          false,
          'no such table (or no access to it)',
          'fix `tables` in the config, or check the database in the URL',
        ),
      );
      continue;
    }
    const types = new Map(rows.map((row) => [row.name, row.type.replace(/\(.*\)$/, '')]));
    const problems: string[] = [];
    if (!types.has(entry.key)) problems.push(`key column ${entry.key} is missing`);
    for (const column of entry.columns) {
      const type = types.get(column);
      if (type === undefined) problems.push(`column ${column} is missing`);
      else if (!TEXT_TYPES.has(type)) problems.push(`column ${column} is ${type}, expected text`);
    }
    checks.push(
      check(
        'table-columns',
        `table ${entry.table} has its columns`,
        problems.length === 0,
        problems.join('; ') || undefined,
        'fix `tables` in the config',
      ),
    );
    if (problems.length > 0) continue;
    if (config.commit === 'per-batch') {
      // Per-batch passes read in key order, after the last key of the batch before: the key must be unique, and
      // indexed so that each batch reads its own rows only.
      const { rows: unique } = await client.query<{ ok: boolean }>(
        `SELECT EXISTS (SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
         WHERE i.indrelid = to_regclass($1) AND i.indisunique AND i.indnkeyatts = 1 AND i.indpred IS NULL AND a.attname = $2) AS ok`,
        [sql, entry.key],
      );
      const ok = unique[0]?.ok === true;
      checks.push(
        check(
          'table-key-unique',
          `table ${entry.table}: key column ${entry.key} has a unique index`,
          ok,
          ok ? undefined : 'each batch is read by key (WHERE key > last ORDER BY key), which needs a unique index on the key',
          `add a primary key or a unique index on ${entry.key}, point \`key\` at such a column, or set "commit": "once" in the config`,
        ),
      );
      if (!ok) continue;
    }
    tables.push({
      name: entry.table,
      sql,
      key: entry.key,
      keySql: escapeIdentifier(entry.key),
      keyType: rows.find((row) => row.name === entry.key)!.type,
      columns: entry.columns,
      columnsSql: entry.columns.map((column) => escapeIdentifier(column)),
    });
  }
  return { tables, checks };
}

export async function countRows(client: Client, table: Pick<TableInfo, 'sql'>): Promise<number> {
  const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table.sql}`);
  return Number(rows[0]!.n);
}

/**
 * Rows for a progress bar: the planner's estimate when the table has been analyzed (a count(*) reads the whole table,
 * a second time per pass at a million rows), the exact count otherwise.
 */
export async function estimateRows(client: Client, table: Pick<TableInfo, 'sql'>): Promise<number> {
  const { rows } = await client.query<{ n: number }>(`SELECT reltuples::float8 AS n FROM pg_class WHERE oid = to_regclass($1)`, [
    table.sql,
  ]);
  const estimate = rows[0]?.n ?? -1;
  return estimate > 0 ? Math.round(estimate) : countRows(client, table);
}
