// The exchange key's facts: the encrypted rows its preflight counts and its rotation re-encrypts, as sentences.
import { counted, countOf, type Facts, type FactsMoment } from '../facts.js';

/** What the preflight records: rows per table, values, values the current key cannot read, a time estimate. */
export interface ExchangeKeyPlanFacts {
  rowsByTable: Record<string, number>;
  rows: number;
  values: number;
  undecryptable: number;
  estimatedSeconds: number;
}

/** What the generation records: the rows per table the rotation re-encrypts. */
export interface ExchangeKeyRotationFacts {
  rowsByTable: Record<string, number>;
  rows: number;
}

const duration = (seconds: number): string =>
  seconds < 90 ? counted(Math.max(1, seconds), 'second') : counted(Math.round(seconds / 60), 'minute');

export function exchangeKeyFactSentences(facts: Facts, moment: FactsMoment): string[] {
  const out: string[] = [];
  const byTable = facts.rowsByTable && typeof facts.rowsByTable === 'object' && !Array.isArray(facts.rowsByTable) ? facts.rowsByTable : {};
  const tables = Object.entries(byTable).flatMap(([table, rows]) => (typeof rows === 'number' ? [`${table} (${rows})`] : []));
  const rows = countOf(facts.rows);
  const values = countOf(facts.values);
  if (rows !== undefined) {
    const what = `${counted(rows, 'row')}${values !== undefined ? ` (${counted(values, 'encrypted value')})` : ''}${tables.length ? ` in ${tables.join(', ')}` : ''}`;
    out.push(moment === 'plan' ? `${what} to re-encrypt under the new key` : `re-encrypted ${what} under the new key`);
  }
  const undecryptable = countOf(facts.undecryptable);
  if (undecryptable) out.push(`${counted(undecryptable, 'value does', 'values do')} not decrypt under the current key`);
  const seconds = countOf(facts.estimatedSeconds);
  if (seconds !== undefined && moment === 'plan') out.push(`re-encrypting should take about ${duration(seconds)}`);
  return out;
}
