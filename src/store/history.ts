import type { DamagedRecord, HistoryEntry } from './types.js';

export const NOT_A_RECORD = 'not a history record (at, runId, secret, action, result)';

/** What makes a parsed value a history record: the fields every reader (history, status, metrics) relies on. */
export function isHistoryEntry(value: unknown): value is HistoryEntry {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const entry = value as Record<string, unknown>;
  return ['at', 'runId', 'secret', 'action', 'result'].every((field) => typeof entry[field] === 'string');
}

/**
 * Reads `history.jsonl` line by line. A line that is not a whole record (cut short by a full disk or a crash
 * mid-write, or edited by hand) is named with its 1-based line number and skipped; every other record is kept.
 */
export function parseHistoryLines(text: string, file: string): { entries: HistoryEntry[]; damaged: DamagedRecord[] } {
  const entries: HistoryEntry[] = [];
  const damaged: DamagedRecord[] = [];
  const lines = text.split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      const cut = index === lines.length - 1 ? 'cut off (no end of line)' : 'not a whole JSON record';
      damaged.push({ file, line: index + 1, error: `${cut}: ${(error as Error).message}` });
      return;
    }
    if (isHistoryEntry(value)) entries.push(value);
    else damaged.push({ file, line: index + 1, error: NOT_A_RECORD });
  });
  return { entries, damaged };
}
