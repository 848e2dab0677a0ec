import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rm } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { RotateError } from '../errors.js';
import { loadFileStoreKey } from './file-key.js';
import { parseHistoryLines } from './history.js';
import type { HistoryEntry, HistoryReport, Journal, Lock, SecretState, Store } from './types.js';
import type { Vault } from './vault.js';

export interface FileStoreOptions {
  dir: string;
  /** ROTATE_MASTER_KEY, when set. */
  masterKey?: string;
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

const readJson = async <T>(path: string, fallback: T): Promise<T> => {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw new RotateError('STORE_CORRUPT', `cannot read ${path}: ${(error as Error).message}`, {
      hint: 'restore the file from a backup or move it aside',
    });
  }
};

/** The embedded store: a folder (0700) beside the config. */
export class FileStore implements Store {
  readonly location: string;
  readonly #options: FileStoreOptions;
  #vault: Vault | undefined;

  constructor(options: FileStoreOptions) {
    this.#options = options;
    this.location = options.dir;
  }

  #path(...parts: string[]): string {
    return join(this.#options.dir, ...parts);
  }

  async #ensureDir(...parts: string[]): Promise<void> {
    await mkdir(this.#path(...parts), { recursive: true, mode: 0o700 });
  }

  async acquireLock(command: string): Promise<Lock> {
    await this.#ensureDir();
    const path = this.#path('lock');
    const me: LockOwner = {
      token: randomBytes(8).toString('hex'),
      pid: process.pid,
      host: hostname(),
      since: new Date().toISOString(),
      command,
    };
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const handle = await open(path, 'wx', 0o600);
        await handle.writeFile(JSON.stringify(me));
        await handle.sync();
        await handle.close();
        const lock = {
          release: async () => {
            const owner = await readJson<LockOwner | null>(path, null);
            if (owner?.token === me.token) await rm(path, { force: true });
          },
        };
        await this.#checkKey().catch(async (error: unknown) => {
          await lock.release();
          throw error;
        });
        return lock;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
      const owner = await readJson<LockOwner | null>(path, null);
      if (owner && owner.host === me.host && !isAlive(owner.pid)) {
        this.#options.warn(`removing a stale lock left by process ${owner.pid} (${owner.command}, since ${owner.since})`);
        await rm(path, { force: true });
        continue;
      }
      throw new RotateError(
        'LOCKED',
        owner
          ? `another rotation holds the lock: process ${owner.pid} on ${owner.host} (${owner.command}), since ${owner.since}`
          : `another rotation holds the lock ${path}`,
        {
          hint: 'wait for it to finish; if that process is gone on another host, delete the lock file',
        },
      );
    }
    throw new RotateError('LOCKED', `cannot take the lock ${path}`);
  }

  async readStates(): Promise<Record<string, SecretState>> {
    return readJson(this.#path('state.json'), {});
  }

  async writeState(secret: string, state: SecretState): Promise<void> {
    await this.#ensureDir();
    const states = await this.readStates();
    states[secret] = state;
    await writeFileAtomic(this.#path('state.json'), `${JSON.stringify(states, null, 2)}\n`, { mode: 0o600 });
  }

  /**
   * Appends one line. A crash or a full disk can leave the last record cut short: the new record then starts on a
   * fresh line, so the torn one stays isolated (and named by readHistoryReport) instead of swallowing this one.
   */
  async appendHistory(entry: HistoryEntry): Promise<void> {
    await this.#ensureDir();
    const path = this.#path('history.jsonl');
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

  async readJournals(): Promise<Journal[]> {
    let names: string[];
    try {
      names = await readdir(this.#path('journal'));
    } catch {
      return [];
    }
    const journals = await Promise.all(
      names.filter((n) => n.endsWith('.json')).map((n) => readJson<Journal | null>(this.#path('journal', n), null)),
    );
    return journals.filter((j): j is Journal => j !== null);
  }

  async writeJournal(journal: Journal): Promise<void> {
    await this.#ensureDir('journal');
    await writeFileAtomic(this.#path('journal', `${journal.secret}.json`), JSON.stringify(journal, null, 2), {
      mode: 0o600,
      fsync: true,
    });
  }

  async removeJournal(secret: string): Promise<void> {
    await rm(this.#path('journal', `${secret}.json`), { force: true });
  }

  async putBackup(label: string, data: Buffer): Promise<string> {
    await this.#ensureDir('backups');
    const id = `${new Date().toISOString().replace(/[:.]/g, '-')}-${label.replace(/[^\w.-]/g, '_')}-${randomBytes(3).toString('hex')}`;
    const sealed = (await this.#getVault()).seal(data, `backup:${id}`);
    await writeFileAtomic(this.#path('backups', `${id}.enc`), sealed, { mode: 0o600, fsync: true });
    return id;
  }

  async getBackup(id: string): Promise<Buffer> {
    if (!/^[\w.-]+$/.test(id)) throw new RotateError('STORE_CORRUPT', `bad backup id ${id}`);
    const sealed = await readFile(this.#path('backups', `${id}.enc`), 'utf8');
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

  async #getVault(): Promise<Vault> {
    if (this.#vault) return this.#vault;
    await this.#ensureDir();
    this.#vault = await loadFileStoreKey(this.#options.dir, this.#options.masterKey, this.#options.warn);
    if (!this.#vault) throw new Error('unreachable: loadFileStoreKey mints a key when asked to');
    return this.#vault;
  }

  /** Under the lock, before a run changes anything: a wrong or missing key stops it here (a new key waits for use). */
  async #checkKey(): Promise<void> {
    this.#vault ??= await loadFileStoreKey(this.#options.dir, this.#options.masterKey, this.#options.warn, { mint: false });
  }
}
