import { describe, expect, it } from 'vitest';
import { backupId, backupsOfJournal, backupsToPrune, isBackupId, secretsOfBackup } from '../../src/store/backups.js';

describe('backup ids and pruning', () => {
  it('ids sort by time even within one millisecond, and give their secrets back', () => {
    const ids = Array.from({ length: 50 }, (_, i) => backupId(i % 2 ? 'jwt' : 'exchange-key+redis'));
    expect([...ids].sort()).toEqual(ids);
    expect(ids.every(isBackupId)).toBe(true);
    expect(secretsOfBackup(ids[0]!)).toEqual(['exchange-key', 'redis']);
    expect(secretsOfBackup(ids[1]!)).toEqual(['jwt']);
    expect(secretsOfBackup('2025-06-01T10-00-00-000Z-jwt-refresh-a1b2c3')).toEqual(['jwt-refresh']);
    expect(isBackupId('../master.key')).toBe(false);
  });

  it('keeps the newest per secret (or keep of them) and every pinned one', () => {
    const id = (minute: number, label: string) => `2025-06-01T10-${String(minute).padStart(2, '0')}-00-000Z-${label}-abcdef`;
    const all = [id(1, 'jwt'), id(2, 'jwt'), id(3, 'redis'), id(4, 'jwt+redis'), id(5, 'jwt')];
    expect(backupsToPrune(all, 1, new Set())).toEqual([id(1, 'jwt'), id(2, 'jwt'), id(3, 'redis')]);
    expect(backupsToPrune(all, 1, new Set([id(1, 'jwt')]))).toEqual([id(2, 'jwt'), id(3, 'redis')]);
    expect(backupsToPrune(all, 2, new Set())).toEqual([id(1, 'jwt'), id(2, 'jwt')]);
    expect(backupsToPrune(all, 3, new Set())).toEqual([id(1, 'jwt')]);
  });

  it('reads the backup a journal names, in either journal format', () => {
    expect(backupsOfJournal({ envBackup: 'a' })).toEqual(['a']);
    expect(backupsOfJournal({ targetBackup: 'b' })).toEqual(['b']);
    expect(backupsOfJournal({})).toEqual([]);
  });
});
