import { timed, trace } from '../trace.js';
import type { Store } from './types.js';

/** `--verbose`: each store operation (lock, state, journal, history, backups) with its time; never what it holds. */
export function withTrace(store: Store): Store {
  const op = <T>(what: string, work: () => Promise<T>, outcome?: (value: T) => string) => timed(`store: ${what}`, work, outcome);
  trace(`store: ${store.location}`);
  return {
    location: store.location,
    acquireLock: (command) =>
      op(`take the lock for ${command}`, async () => {
        const lock = await store.acquireLock(command);
        return { release: () => op('release the lock', () => lock.release()) };
      }),
    readStates: () =>
      op(
        'read the states',
        () => store.readStates(),
        (s) => `${Object.keys(s).length} secrets`,
      ),
    writeState: (secret, state) => op(`write the state of ${secret}`, () => store.writeState(secret, state)),
    appendHistory: (entry, head) => op(`append to the history (${entry.secret}: ${entry.result})`, () => store.appendHistory(entry, head)),
    readHistoryHead: () => op('read the history head', () => store.readHistoryHead()),
    readHistory: () =>
      op(
        'read the history',
        () => store.readHistory(),
        (h) => `${h.length} records`,
      ),
    readHistoryReport: () =>
      op(
        'read the history',
        () => store.readHistoryReport(),
        (r) => `${r.entries.length} records, ${r.damaged.length} damaged`,
      ),
    readJournals: () =>
      op(
        'read the journals',
        () => store.readJournals(),
        (j) => `${j.length} pending`,
      ),
    writeJournal: (journal) => op(`write the journal of run ${journal.runId} (${journal.mode})`, () => store.writeJournal(journal)),
    journalLocation: (runId) => store.journalLocation(runId),
    removeJournal: (key) => op(`remove the journal ${key}`, () => store.removeJournal(key)),
    putBackup: (label, data) =>
      op(
        `seal a backup for ${label}`,
        () => store.putBackup(label, data),
        (id) => `backup ${id}`,
      ),
    getBackup: (id) => op(`read the backup ${id}`, () => store.getBackup(id)),
    listBackups: () =>
      op(
        'list the backups',
        () => store.listBackups(),
        (ids) => `${ids.length} backups`,
      ),
    seal: (plaintext, purpose) => store.seal(plaintext, purpose),
    unseal: (sealed, purpose) => store.unseal(sealed, purpose),
    mac: (purpose, data) => store.mac(purpose, data),
    close: () => op('close', () => store.close()),
  };
}
