import { randomBytes } from 'node:crypto';

/**
 * Backup ids: `<UTC time, 24 characters>-<label>-<6 hex>`. The label is the run's secret ids joined by `+`; ids sort by
 * time, and a label can be read back from an id alone (the file store keeps nothing else).
 */
const STAMP_LENGTH = '2026-01-01T00-00-00-000Z'.length;
let lastStamp = 0;

export function backupId(label: string): string {
  // Strictly increasing within a process, so two backups taken in the same millisecond still sort in order.
  lastStamp = Math.max(Date.now(), lastStamp + 1);
  const stamp = new Date(lastStamp).toISOString().replace(/[:.]/g, '-');
  return `${stamp}-${label.replace(/[^\w.+-]/g, '_')}-${randomBytes(3).toString('hex')}`;
}

export const isBackupId = (id: string): boolean => /^[\w.+-]+$/.test(id);

/** The secrets a backup was taken for (ids from before `+` labels give one name, possibly with `_`s). */
export const secretsOfBackup = (id: string): string[] => id.slice(STAMP_LENGTH + 1, -7).split('+');

/**
 * The backups nobody can use any more: for each secret only the newest `keep` backups taken for it are kept (the one
 * before its last rotation, for a restore), and never one a pending run's journal points at (resume restores it).
 */
export function backupsToPrune(ids: string[], keep: number, pinned: ReadonlySet<string>): string[] {
  const kept = new Set(pinned);
  const perSecret = new Map<string, number>();
  for (const id of [...ids].sort().reverse()) {
    for (const secret of secretsOfBackup(id)) {
      const seen = perSecret.get(secret) ?? 0;
      if (seen < keep) kept.add(id);
      perSecret.set(secret, seen + 1);
    }
  }
  return ids.filter((id) => !kept.has(id));
}

/** Backup ids a journal points at, whatever its format (`envBackup` before run sets, `targetBackup` after). */
export function backupsOfJournal(journal: object): string[] {
  const fields = journal as { envBackup?: unknown; targetBackup?: unknown };
  return [fields.envBackup, fields.targetBackup].filter((id): id is string => typeof id === 'string');
}
