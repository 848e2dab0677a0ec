import { randomBytes } from 'node:crypto';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { RotateError } from '../errors.js';
import { writing } from './full-disk.js';
import { keyCheckOf, keyMismatch, sameCheck } from './key-check.js';
import type { SecretState } from './types.js';
import { parseMasterKey, Vault } from './vault.js';

/** `.rotate/key-check.json`: which key sealed this store's data, as a MAC (never the key) and where it came from. */
interface KeyCheckFile {
  check: string;
  source: 'ROTATE_MASTER_KEY' | 'master.key';
  since: string;
}

interface SealedData {
  journals: number;
  backups: number;
  rotations: number;
  check: KeyCheckFile | undefined;
}

const readOr = async <T>(read: () => Promise<T>, fallback: T): Promise<T> => {
  try {
    return await read();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return fallback;
    throw error;
  }
};

/**
 * Refuses a folder or key file that group or others can use (mode & 077), naming the chmod that fixes it, and one
 * owned by another user: like ssh's StrictModes, only this user or root may own it (whoever owns it can read the
 * master key and the backups, and change the mode back at will). `uid`: this process's user (undefined on Windows).
 */
export async function assertPrivate(path: string, what: 'folder' | 'file', mode: number, uid = process.getuid?.()): Promise<void> {
  const info = await readOr(() => stat(path), undefined);
  if (!info) return;
  if (uid !== undefined && info.uid !== uid && info.uid !== 0) {
    throw new RotateError(
      'STORE_NOT_OWNED',
      `the store ${what} ${path} is owned by user id ${info.uid}, not by this user (${uid}) or root: whoever owns it can read ${what === 'file' ? 'the master key' : 'its sealed backups'} and change its mode; nothing was changed`,
      { hint: `run rotate as the user that owns it, or take it over: chown ${uid} ${path}` },
    );
  }
  if ((info.mode & 0o077) === 0) return;
  const shown = (info.mode & 0o777).toString(8).padStart(4, '0');
  throw new RotateError(
    'STORE_NOT_PRIVATE',
    `the store ${what} ${path} has mode ${shown}: group or others have access to it, and it holds ${what === 'file' ? 'the master key' : 'sealed backups'}; nothing was changed`,
    { hint: `chmod ${mode.toString(8)} ${path}` },
  );
}

/** What in `dir` was sealed with a master key: a new key must never be made over any of it. */
async function sealedData(dir: string): Promise<SealedData> {
  const names = (sub: string) => readOr(() => readdir(join(dir, sub)), [] as string[]);
  const states = await readOr(
    async () => JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as Record<string, SecretState>,
    {} as Record<string, SecretState>,
  ).catch(() => ({}) as Record<string, SecretState>);
  const check = await readOr(async () => JSON.parse(await readFile(join(dir, 'key-check.json'), 'utf8')) as KeyCheckFile, undefined).catch(
    () => undefined,
  );
  return {
    journals: (await names('journal')).filter((n) => n.endsWith('.json')).length,
    backups: (await names('backups')).filter((n) => n.endsWith('.enc')).length,
    rotations: Object.values(states).filter((s) => s?.last).length,
    check,
  };
}

const describeSealed = (data: SealedData): string =>
  [
    data.journals && `${data.journals} pending run journal(s)`,
    data.backups && `${data.backups} backup(s)`,
    data.rotations && `${data.rotations} rotation(s) kept for rollback`,
    data.check && `the key check written ${data.check.since}`,
  ]
    .filter(Boolean)
    .join(', ');

/**
 * For a store written before key checks existed: does this key open what is sealed there (a backup, else a kept
 * rotation, else a journal)? undefined when nothing sealed exists. Purposes are the ones the store and the engine use.
 */
async function opensOldData(dir: string, vault: Vault): Promise<boolean | undefined> {
  const sealed: Array<[string, string]> = [];
  const backup = (await readOr(() => readdir(join(dir, 'backups')), [] as string[])).find((n) => n.endsWith('.enc'));
  if (backup) sealed.push([await readFile(join(dir, 'backups', backup), 'utf8'), `backup:${backup.slice(0, -'.enc'.length)}`]);
  const states = await readOr(async () => JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')), {}).catch(() => ({}));
  for (const [secret, state] of Object.entries(states as Record<string, SecretState>)) {
    if (state?.last?.sealed) sealed.push([state.last.sealed, `rotation:${secret}`]);
  }
  for (const name of await readOr(() => readdir(join(dir, 'journal')), [] as string[])) {
    if (!name.endsWith('.json')) continue;
    const journal = await readOr(async () => JSON.parse(await readFile(join(dir, 'journal', name), 'utf8')), undefined).catch(
      () => undefined,
    );
    if (journal?.rotation?.sealed) sealed.push([journal.rotation.sealed, `rotation:${journal.secret}`]);
  }
  if (sealed.length === 0) return undefined;
  const [text, purpose] = sealed[0]!;
  try {
    vault.open(text, purpose);
    return true;
  } catch {
    return false;
  }
}

/**
 * Said once, when the key is made: what it is, what losing or leaking it costs, and the one thing to do about it.
 */
export function masterKeyCreated(keyPath: string): string {
  return [
    `created the master key ${keyPath} (mode 0600); back it up now.`,
    '  It seals what rotate keeps of your secrets: the backups of the env files and the journal of a run in progress.',
    '  Lose it and `rotate rollback`, `rotate resume` and `rotate backups restore` cannot open them; anyone who can',
    '  read it can. Keep a copy off this host, for example in your secret manager as ROTATE_MASTER_KEY',
    `  (its value: \`cat ${keyPath}\`); rotate uses ROTATE_MASTER_KEY when it is set, on every host that shares the store.`,
  ].join('\n');
}

/**
 * The file store's master key: ROTATE_MASTER_KEY, else `master.key`, checked against `key-check.json` before anything
 * is sealed or opened. A key is made only for a store that holds nothing sealed yet.
 */
export async function loadFileStoreKey(
  dir: string,
  envKey: string | undefined,
  warn: (message: string) => void,
  options: { mint: boolean } = { mint: true },
): Promise<Vault | undefined> {
  const keyPath = join(dir, 'master.key');
  const data = await sealedData(dir);
  const pending = data.journals > 0;
  let vault: Vault;
  let source: KeyCheckFile['source'];
  if (envKey) {
    vault = new Vault(parseMasterKey(envKey, 'ROTATE_MASTER_KEY'));
    source = 'ROTATE_MASTER_KEY';
  } else {
    const text = await readOr(() => readFile(keyPath, 'utf8'), undefined);
    if (text !== undefined) {
      vault = new Vault(parseMasterKey(text, keyPath));
      source = 'master.key';
    } else {
      const held = describeSealed(data);
      if (held) {
        const was = data.check?.source === 'ROTATE_MASTER_KEY' ? 'given in ROTATE_MASTER_KEY' : `kept in ${keyPath}`;
        throw new RotateError(
          pending ? 'PENDING_RUN_KEY_MISSING' : 'MASTER_KEY_MISSING',
          `no master key: ROTATE_MASTER_KEY is not set and ${keyPath} does not exist, but ${dir} holds data sealed with one (${held}); nothing was changed`,
          {
            hint:
              `put back the key that sealed it (it was ${was}): restore ${keyPath} from where you backed it up, or set ` +
              'ROTATE_MASTER_KEY to it. rotate never makes a new key over sealed data.',
          },
        );
      }
      if (!options.mint) return undefined;
      const key = randomBytes(32);
      await writing(keyPath, dir, () => writeFile(keyPath, `${key.toString('base64')}\n`, { mode: 0o600, flag: 'wx' }));
      warn(masterKeyCreated(keyPath));
      vault = new Vault(key);
      source = 'master.key';
    }
  }
  const check = keyCheckOf(vault);
  const where = `the store ${dir}`;
  if (data.check) {
    if (sameCheck(data.check.check, check)) return vault;
    const other = source === 'ROTATE_MASTER_KEY' && (await readOr(() => readFile(keyPath, 'utf8'), undefined));
    const fileMatches = other && sameCheck(keyCheckOf(new Vault(parseMasterKey(other, keyPath))), data.check.check);
    throw keyMismatch(
      source === 'ROTATE_MASTER_KEY' ? 'ROTATE_MASTER_KEY' : keyPath,
      where,
      pending,
      fileMatches
        ? `${keyPath} holds the right key: unset ROTATE_MASTER_KEY (or set it to that key)`
        : `use the key that sealed it (it was ${data.check.source === 'ROTATE_MASTER_KEY' ? 'given in ROTATE_MASTER_KEY' : `kept in ${keyPath}`}, since ${data.check.since})`,
    );
  }
  if ((await opensOldData(dir, vault)) === false) {
    throw keyMismatch(
      source === 'ROTATE_MASTER_KEY' ? 'ROTATE_MASTER_KEY' : keyPath,
      where,
      pending,
      'use the key that sealed its backups',
    );
  }
  const record: KeyCheckFile = { check, source, since: new Date().toISOString() };
  const checkPath = join(dir, 'key-check.json');
  await writing(checkPath, dir, () => writeFileAtomic(checkPath, `${JSON.stringify(record, null, 2)}\n`, { mode: 0o600 }));
  return vault;
}
