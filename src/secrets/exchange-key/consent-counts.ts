// What the plan before consent says the exchange key's rotation costs in rows and time: the rows of each configured
// table (the planner's estimate once the table was analyzed, else a count) and a time estimated from them. Read-only
// and cheap: no encrypted value is read (the dry run's preflight test-decrypts them all and times that instead).
import { counted } from '../facts.js';
import type { RotatorContext } from '../types.js';
import { withClient } from './database.js';
import { duration, type ExchangeKeySecretConfig } from './kind.js';
import { estimateRows, quoteQualified } from './tables.js';

/**
 * Rows re-encrypted per second, rounded down from the slowest apply measured by bench:reencrypt (8,089 rows/s on the
 * 2-core machine, docs/secrets/exchange-key.md): an estimate for the plan, not a promise.
 */
export const ESTIMATED_ROWS_PER_SECOND = 5000;

export async function exchangeKeyConsentCounts(ctx: RotatorContext<ExchangeKeySecretConfig>): Promise<string[]> {
  const byTable = await withClient(ctx, async (client) => {
    const out: [string, number][] = [];
    for (const { table } of ctx.config.tables) out.push([table, await estimateRows(client, { sql: quoteQualified(table) })]);
    return out;
  });
  const rows = byTable.reduce((n, [, count]) => n + count, 0);
  const seconds = Math.ceil(rows / ESTIMATED_ROWS_PER_SECOND);
  const tables = byTable.map(([table, count]) => `${table}: ${count.toLocaleString('en-US')}`).join(', ');
  return [
    `about ${counted(rows, 'row')} to re-encrypt (${tables}); estimated ${duration(seconds)} at about ${ESTIMATED_ROWS_PER_SECOND.toLocaleString('en-US')} rows/s, during which the moved rows need the new key`,
  ];
}
