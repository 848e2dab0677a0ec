import { randomBytes } from 'node:crypto';
import { link, mkdir, open, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { RotateError } from '../errors.js';
import { localTime } from '../terminal/time.js';
import { backupId, backupsOfJournal, backupsToPrune, isBackupId } from './backups.js';
import { assertPrivate, loadFileStoreKey } from './file-key.js';
import { writing } from './full-disk.js';
import { parseHistoryLines } from './history.js';
import {
  damagedJournalHint,
  type HistoryEntry,
  type HistoryHead,
  type HistoryReport,
  type Journal,
  type Lock,
  type LockHolder,
  type SecretState,
  type Store,
  type StoredJournal,
} from './types.js';
import type { Vault } from './vault.js';

export interface FileStoreOptions {
  dir: string;
  /** ROTATE_MASTER_KEY, when set. */
  masterKey?: string;
  /** How many backups to keep per secret (store.keepBackups); default 1, the one before its last rotation. */
  keepBackups?: number;
  /** This process, named in the lock file. */
  holder: LockHolder;
  warn(message: string): void;
}

interface LockOwner {
  /** Tells this lock from a later one taken by the same process. */
  token?: string;
  pid: number;
  host: string;
  since: string;
  command: string;
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

const readJson = async <T>(path: string, fallback: T, hint = 'restore the file from a backup or move it aside'): Promise<T> => {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw new RotateError('STORE_CORRUPT', `cannot read ${path}: ${(error as Error).message}`, { hint });
  }
};

/** A lock that is not JSON was left by a rotate that wrote it in place and was cut short (a full disk, a kill). */
const TORN_LOCK_AGE_MS = 60_000;

/** Temp files write-file-atomic leaves when the process dies between writing and renaming (`state.json.123456`). */
const TORN_WRITE = /\.(json|enc)\.\d+$|^lock\.[0-9a-f]+\.tmp$/;

/** The embedded store: a folder (0700) beside the config. */
export class FileStore implements Store {
  readonly location: string;
  readonly #options: FileStoreOptions;
  #vault: Vault | undefined;
  #loadingVault: Promise<Vault> | undefined;
  #gitignored = false;

  constructor(options: FileStoreOptions) {
    this.#options = options;
    this.location = options.dir;
  }

  #path(...parts: string[]): string {
    return join(this.#options.dir, ...parts);
  }

  async #ensureDir(...parts: string[]): Promise<void> {
    await mkdir(this.#path(...parts), { recursive: true, mode: 0o700 });
    if (this.#gitignored) return;
    // The folder holds sealed backups and, unless ROTATE_MASTER_KEY is used, the key that opens them: never commit it.
    await writing(this.#path('.gitignore'), this.#options.dir, () =>
      writeFile(this.#path('.gitignore'), '*\n', { mode: 0o600, flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
        if (error.code !== 'EEXIST') throw error;
      }),
    );
    this.#gitignored = true;
  }

  /** Under the lock nobody else writes here: a temp file left is from a write a kill interrupted; it was never used. */
  async #removeTornWrites(): Promise<void> {
    for (const sub of ['', 'journal', 'backups']) {
      const names = await readdir(this.#path(sub)).catch(() => [] as string[]);
      for (const name of names.filter((n) => TORN_WRITE.test(n))) {
        await rm(this.#path(sub, name), { force: true });
        this.#options.warn(`removed ${this.#path(sub, name)}, left by a write that was interrupted`);
      }
    }
  }

  /** Like ssh with a private key: a store folder or master.key that group or others may read is refused. */
  async #assertPrivate(): Promise<void> {
    await assertPrivate(this.#options.dir, 'folder', 0o700);
    await assertPrivate(this.#path('master.key'), 'file', 0o600);
  }

  async acquireLock(command: string): Promise<Lock> {
    await this.#assertPrivate();
    await this.#ensureDir();
    const path = this.#path('lock');
    const me: LockOwner = {
      token: randomBytes(8).toString('hex'),
      pid: this.#options.holder.pid,
      host: this.#options.holder.host,
      since: new Date().toISOString(),
      command,
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      if (await this.#createLock(path, me)) {
        const lock = {
          release: async () => {
            const owner = await readJson<LockOwner | null>(path, null).catch(() => null);
            if (owner?.token === me.token) await rm(path, { force: true });
          },
        };
        await this.#checkKey().catch(async (error: unknown) => {
          await lock.release();
          throw error;
        });
        await this.#removeTornWrites();
        return lock;
      }
      const owner = await this.#lockOwner(path);
      if (owner === 'torn') {
        this.#options.warn(
          `removing ${path}: an empty or torn lock, left by a rotate whose write of it was cut short (a full disk or a kill)`,
        );
        await rm(path, { force: true });
        continue;
      }
      if (owner && owner.host === me.host && !isAlive(owner.pid)) {
        this.#options.warn(`removing a stale lock left by process ${owner.pid} (${owner.command}, since ${owner.since})`);
        await rm(path, { force: true });
        continue;
      }
      throw new RotateError(
        'LOCKED',
        owner
          ? `another rotation holds the lock ${path}: process ${owner.pid} on ${owner.host} (${owner.command}), since ${localTime(owner.since)}`
          : `another rotation holds the lock ${path}`,
        {
          hint: `wait for it to finish; if ${owner ? `process ${owner.pid} on ${owner.host}` : 'that process'} is gone, delete ${path} (rotate removes a stale lock of a dead process on this host itself)`,
        },
      );
    }
    throw new RotateError('LOCKED', `cannot take the lock ${path}`);
  }

  /**
   * Creates the lock whole or not at all: the holder is written to a temp file, synced, then hard-linked to `lock`
   * (link fails if `lock` exists, like open's `wx`). A full disk fails the temp file, never the lock. False: held.
   */
  async #createLock(path: string, me: LockOwner): Promise<boolean> {
    const temp = `${path}.${me.token}.tmp`;
    try {
      await writing(path, this.#options.dir, async () => {
        const handle = await open(temp, 'wx', 0o600);
        try {
          await handle.writeFile(JSON.stringify(me));
          await handle.sync();
        } finally {
          await handle.close();
        }
      });
      await link(temp, path);
      return true;
    } catch (error) {
      // ENOENT: the holder's clean-up of torn writes took this temp file away; it is held either way.
      if (['EEXIST', 'ENOENT'].includes((error as NodeJS.ErrnoException).code ?? '')) return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** Who holds the lock; 'torn' for a lock that is not JSON and older than a write takes; null when it is gone. */
  async #lockOwner(path: string): Promise<LockOwner | 'torn' | null> {
    try {
      return await readJson<LockOwner | null>(path, null);
    } catch {
      const info = await stat(path).catch(() => undefined);
      if (!info) return null;
      // Younger: possibly an older rotate writing it in place right now; it is held.
      return Date.now() - info.mtimeMs > TORN_LOCK_AGE_MS ? 'torn' : null;
    }
  }

  async readStates(): Promise<Record<string, SecretState>> {
    return readJson(this.#path('state.json'), {});
  }

  async writeState(secret: string, state: SecretState): Promise<void> {
    await this.#ensureDir();
    const states = await this.readStates();
    states[secret] = state;
    const path = this.#path('state.json');
    await writing(path, this.#options.dir, () => writeFileAtomic(path, `${JSON.stringify(states, null, 2)}\n`, { mode: 0o600 }));
  }

  /**
   * Appends one line. A crash or a full disk can leave the last record cut short: the new record then starts on a
   * fresh line, so the torn one stays isolated (and named by readHistoryReport) instead of swallowing this one.
   */
  async appendHistory(entry: HistoryEntry, head?: HistoryHead): Promise<void> {
    await this.#ensureDir();
    const path = this.#path('history.jsonl');
    await writing(path, this.#options.dir, () => this.#appendLine(path, entry));
    // After the record: a crash in between leaves the head one record behind, which the chain after it covers.
    if (head) {
      const headPath = this.#path('history-head.json');
      await writing(headPath, this.#options.dir, () =>
        writeFileAtomic(headPath, `${JSON.stringify(head)}\n`, { mode: 0o600, fsync: true }),
      );
    }
  }

  async #appendLine(path: string, entry: HistoryEntry): Promise<void> {
    const handle = await open(path, 'a+', 0o600);
    try {
      const { size } = await handle.stat();
      let lead = '';
      if (size > 0) {
        const last = Buffer.alloc(1);
        await handle.read(last, 0, 1, size - 1);
        if (last[0] !== 0x0a) {
          lead = '\n';
          const line = (await readFile(path, 'utf8')).split('\n').length;
          this.#options.warn(`${path} line ${line} was cut off (no end of line); it is kept as is and skipped when read`);
        }
      }
      await handle.appendFile(`${lead}${JSON.stringify(entry)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
  }

  /** A head that is not JSON is returned as one whose MAC fails: `history --verify` names it edited. */
  async readHistoryHead(): Promise<HistoryHead | undefined> {
    try {
      return JSON.parse(await readFile(this.#path('history-head.json'), 'utf8')) as HistoryHead;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      return { seq: -1, link: '', mac: '' };
    }
  }

  async readHistory(): Promise<HistoryEntry[]> {
    return (await this.readHistoryReport()).entries;
  }

  async readHistoryReport(): Promise<HistoryReport> {
    const path = this.#path('history.jsonl');
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], damaged: [] };
      throw error;
    }
    return parseHistoryLines(text, path);
  }

  async readJournals(): Promise<StoredJournal[]> {
    let names: string[];
    try {
      names = await readdir(this.#path('journal'));
    } catch {
      return [];
    }
    const journals = await Promise.all(
      names
        .filter((n) => n.endsWith('.json'))
        .map((n) => readJson<StoredJournal | null>(this.#path('journal', n), null, damagedJournalHint(this.#path('journal', n)))),
    );
    return journals.filter((j): j is StoredJournal => j !== null);
  }

  async writeJournal(journal: Journal): Promise<void> {
    await this.#ensureDir('journal');
    const path = this.#path('journal', `${journal.runId}.json`);
    await writing(path, this.#options.dir, () => writeFileAtomic(path, JSON.stringify(journal, null, 2), { mode: 0o600, fsync: true }));
  }

  journalLocation(runId: string): string {
    return this.#path('journal', `${runId}.json`);
  }

  async removeJournal(key: string): Promise<void> {
    await rm(this.#path('journal', `${key}.json`), { force: true });
  }

  async putBackup(label: string, data: Buffer): Promise<string> {
    await this.#ensureDir('backups');
    const id = backupId(label);
    const sealed = (await this.#getVault()).seal(data, `backup:${id}`);
    const path = this.#path('backups', `${id}.enc`);
    await writing(path, this.#options.dir, () => writeFileAtomic(path, sealed, { mode: 0o600, fsync: true }));
    await this.#pruneBackups(id).catch((error: Error) => this.#options.warn(`could not remove old backups: ${error.message}`));
    return id;
  }

  /** Every old env file is a copy of old secrets: keep only what a restore or a resume can still use. */
  async #pruneBackups(newest: string): Promise<void> {
    const ids = (await readdir(this.#path('backups'))).filter((n) => n.endsWith('.enc')).map((n) => n.slice(0, -'.enc'.length));
    const pinned = new Set([newest, ...(await this.readJournals()).flatMap(backupsOfJournal)]);
    for (const id of backupsToPrune(ids, this.#options.keepBackups ?? 1, pinned)) {
      await rm(this.#path('backups', `${id}.enc`), { force: true });
    }
  }

  async listBackups(): Promise<string[]> {
    const names = await readdir(this.#path('backups')).catch(() => [] as string[]);
    return names
      .filter((n) => n.endsWith('.enc'))
      .map((n) => n.slice(0, -'.enc'.length))
      .sort();
  }

  async getBackup(id: string): Promise<Buffer> {
    if (!isBackupId(id)) throw new RotateError('STORE_CORRUPT', `bad backup id ${id}`);
    const path = this.#path('backups', `${id}.enc`);
    const sealed = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
      throw new RotateError('STORE_CORRUPT', `the backup ${path} is missing`, {
        hint: 'it was deleted by hand; restore the env file from your own backups',
      });
    });
    return (await this.#getVault()).open(sealed, `backup:${id}`);
  }

  async seal(plaintext: string, purpose: string): Promise<string> {
    return (await this.#getVault()).seal(Buffer.from(plaintext, 'utf8'), purpose);
  }

  async unseal(sealed: string, purpose: string): Promise<string> {
    return (await this.#getVault()).open(sealed, purpose).toString('utf8');
  }

  async mac(purpose: string, data: string): Promise<string> {
    return (await this.#getVault()).mac(purpose, data);
  }

  async close(): Promise<void> {}

  /** One load per store, also when several seals start at once: a new key is made, and announced, once. */
  #getVault(): Promise<Vault> {
    if (this.#vault) return Promise.resolve(this.#vault);
    this.#loadingVault ??= (async () => {
      await this.#assertPrivate();
      await this.#ensureDir();
      const vault = await loadFileStoreKey(this.#options.dir, this.#options.masterKey, this.#options.warn);
      if (!vault) throw new Error('unreachable: loadFileStoreKey mints a key when asked to');
      this.#vault = vault;
      return vault;
    })().finally(() => {
      this.#loadingVault = undefined;
    });
    return this.#loadingVault;
  }

  /** Under the lock, before a run changes anything: a wrong or missing key stops it here (a new key waits for use). */
  async #checkKey(): Promise<void> {
    this.#vault ??= await loadFileStoreKey(this.#options.dir, this.#options.masterKey, this.#options.warn, { mint: false });
  }
}
