import type { Client } from 'pg';
import { RotateError } from '../../errors.js';
import type { SecretValue } from '../../secret-value.js';
import type { RotatorContext } from '../types.js';
import { CryptoPool } from './crypto-pool.js';
import { autocommit, inTransaction } from './database.js';
import { deriveFernetKeyAsync } from './fernet.js';
import type { ExchangeKeySecretConfig } from './kind.js';
import { type Failure, type PassResult, runPass } from './pass.js';
import { describeTables, estimateRows, type TableInfo } from './tables.js';

type Ctx = RotatorContext<ExchangeKeySecretConfig>;

export interface TableOutcome extends PassResult {
  table: string;
}

export interface WalkOptions {
  /** Env values (not derived keys), in the order to try them. */
  keys: (string | SecretValue)[];
  /** Index into `keys` to re-encrypt under; -1: read only. */
  target: number;
  /** Progress-bar label; none for a silent pass. */
  label?: string;
  stopOnFailure?: boolean;
  /** Keep the keys of the rows written (see PassResult.touched). */
  collectTouched?: boolean;
  /** Per table: read only these rows (keys as text); a table not in the map is skipped. */
  only?: Map<string, string[]>;
  /** Leave out the rows an earlier pass wrote and nobody changed since (its outcomes' `xids`; PassOptions.skipXids). */
  skipXids?: string[];
  /** End the pass after the batch being written when `ctx.deps.stop` is aborted (apply: a SIGINT or SIGTERM). */
  stoppable?: boolean;
}

/**
 * Walks every configured table once: read only (`target` -1, in a READ ONLY transaction), or re-encrypting
 * everything that is not under `keys[target]`: with `commit` per-batch each batch commits on its own (rows read by
 * key, no transaction spans two batches), with `once` in ONE transaction across all tables. `commitOnFailure`
 * decides what an undecryptable value does to a once pass: roll everything back (apply) or keep the rest (undo,
 * sweep); a per-batch pass has committed the batches before it either way (apply's rollback undoes them).
 */
export async function walkTables(ctx: Ctx, client: Client, options: WalkOptions & { commitOnFailure?: boolean }): Promise<TableOutcome[]> {
  const kdf = ctx.config.kdf;
  const [{ tables, checks }, derived] = await Promise.all([
    describeTables(client, ctx.config),
    Promise.all(options.keys.map((value) => deriveFernetKeyAsync(typeof value === 'string' ? value : value.reveal(), kdf))),
  ]);
  const raw = derived.map((key) => key.raw());
  const broken = checks.filter((c) => !c.ok);
  if (broken.length > 0) {
    for (const key of raw) key.fill(0);
    throw new RotateError('EXCHANGE_KEY_TABLES', broken.map((c) => `${c.name}: ${c.detail}`).join('; '), {
      hint: `fix secrets.${ctx.id}.tables in the config`,
    });
  }
  const write = options.target >= 0;
  const batched = write && ctx.config.commit === 'per-batch';
  const pool = new CryptoPool(raw, options.target);
  const walk = async () => {
    const outcomes: TableOutcome[] = [];
    for (const table of tables) {
      if (options.only && !options.only.get(table.name)?.length) continue;
      const outcome = await walkTable(ctx, client, pool, table, options, write, batched);
      outcomes.push(outcome);
      if (outcome.stopped) throw stoppedPass(ctx, outcomes, batched);
      if (write && outcome.failedCount > 0 && !options.commitOnFailure) {
        throw undecryptable(
          outcomes,
          `under ${ctx.config.env} (current or new value)`,
          batched ? 'the rows re-encrypted before it are put back by the rollback' : 'nothing was changed',
        );
      }
    }
    return outcomes;
  };
  try {
    return batched ? await autocommit(client, walk) : await inTransaction(client, write ? 'read write' : 'read only', walk);
  } finally {
    for (const key of raw) key.fill(0);
    await pool.close();
  }
}

async function walkTable(
  ctx: Ctx,
  client: Client,
  pool: CryptoPool,
  table: TableInfo,
  options: WalkOptions,
  write: boolean,
  keyset: boolean,
): Promise<TableOutcome> {
  const bar = options.label ? ctx.deps.progress(`${options.label} ${table.name}`, await estimateRows(client, table)) : undefined;
  try {
    const result = await runPass({
      client,
      pool,
      table,
      batchSize: ctx.config.batchSize,
      write,
      keyset,
      now: () => Math.floor(ctx.deps.now().getTime() / 1000),
      onBatch: (rows) => bar?.tick(rows),
      stopOnFailure: options.stopOnFailure ?? false,
      collectTouched: options.collectTouched,
      only: options.only?.get(table.name),
      skipXids: options.skipXids,
      ...(options.stoppable && { stop: () => ctx.deps.stop?.aborted === true }),
    });
    return { table: table.name, ...result };
  } finally {
    bar?.done();
  }
}

/**
 * A pass ended at a stop request. Per batch, the batches written so far stay committed: every row is under the old key
 * or the new one, both in the target (the new one staged), and `undoApply` puts them back; once, the one transaction
 * rolls back as this is thrown, so no row changed.
 */
function stoppedPass(ctx: Ctx, outcomes: TableOutcome[], batched: boolean): RotateError {
  const rewritten = outcomes.reduce((n, o) => n + o.rewritten, 0);
  const table = outcomes.at(-1)!.table;
  const what = batched
    ? `after ${rewritten.toLocaleString('en-US')} row(s) in committed batches; the rest are still under the old key, and every row decrypts with a key the env file holds`
    : 'and rolled its one transaction back: no row changed';
  ctx.deps.log.info(`stopped re-encrypting ${table} ${what}`);
  return new RotateError('INTERRUPTED_PENDING', `the re-encryption of ${table} stopped at a stop request ${what}`);
}

/** "exchange_api_keys.api_secret_encrypted ids 4, 9" per column; ids only, never values. */
export function describeFailures(outcomes: TableOutcome[]): string {
  const parts: string[] = [];
  for (const outcome of outcomes) {
    const byColumn = new Map<string, string[]>();
    for (const failure of outcome.failures) byColumn.set(failure.column, [...(byColumn.get(failure.column) ?? []), failure.id]);
    for (const [column, ids] of byColumn) parts.push(`${outcome.table}.${column} ids ${ids.join(', ')}`);
    const more = outcome.failedCount - outcome.failures.length;
    if (more > 0) parts.push(`and ${more} more in ${outcome.table}`);
  }
  return parts.join('; ');
}

export const failedCount = (outcomes: TableOutcome[]): number => outcomes.reduce((n, o) => n + o.failedCount, 0);
export const keyCount = (outcomes: TableOutcome[], key: number): number => outcomes.reduce((n, o) => n + (o.byKey[key] ?? 0), 0);

export function undecryptable(outcomes: TableOutcome[], under: string, consequence: string): RotateError {
  return new RotateError(
    'EXCHANGE_KEY_UNDECRYPTABLE',
    `${failedCount(outcomes)} value(s) do not decrypt ${under}: ${describeFailures(outcomes)}; ${consequence}`,
    { hint: 'repair or re-enter those rows (the app cannot read them either), then run the rotation again' },
  );
}

export type { Failure };
