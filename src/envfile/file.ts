import { readFile, stat } from 'node:fs/promises';
import writeFileAtomic from 'write-file-atomic';
import { RotateError, unreadableFileReason } from '../errors.js';
import { checkEnvEdit, type EnvEdits, parseEnv, replaceEnvLines } from './edit.js';

export interface EnvFileSnapshot {
  path: string;
  exists: boolean;
  text: string;
  values: Record<string, string>;
}

export async function readEnvFile(path: string): Promise<EnvFileSnapshot> {
  try {
    const text = await readFile(path, 'utf8');
    return { path, exists: true, text, values: parseEnv(text) };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return { path, exists: false, text: '', values: {} };
    throw new RotateError('ENV_READ', `the env file ${path} ${unreadableFileReason(error)}; nothing was touched`, {
      hint:
        code === 'EISDIR'
          ? 'point envFile in the config or --env-file at the file itself, not at a folder'
          : 'check the path (envFile in the config, or --env-file) and that the user running rotate may read and write it',
      cause: error,
    });
  }
}

/** Writes `text` atomically (temp file in the same folder, fsync, rename), keeping the mode; a new file is 0600. */
async function writeEnvText(path: string, text: string): Promise<void> {
  const mode = await stat(path).then(
    (s) => s.mode & 0o7777,
    () => 0o600,
  );
  try {
    await writeFileAtomic(path, text, { mode, fsync: true });
  } catch (error) {
    throw new RotateError('ENV_WRITE', `cannot write the env file ${path}: ${(error as Error).message}`, {
      hint: 'rotate needs write access to the env file and its folder (it writes a temp file beside it)',
      cause: error,
    });
  }
}

/** Edits only the lines of the changed keys, checks the result parses as intended, then writes it atomically. */
export async function editEnvFile(path: string, edits: EnvEdits): Promise<EnvFileSnapshot> {
  const before = await readEnvFile(path);
  const text = replaceEnvLines(before.text, edits);
  checkEnvEdit(before.text, text, edits, path);
  if (text !== before.text) await writeEnvText(path, text);
  const after = await readEnvFile(path);
  checkEnvEdit(before.text, after.text, edits, path);
  return after;
}

/**
 * Puts `keys` of an env file back as they are in `backup` (its text before rotate wrote it): the backup's exact
 * bytes when nothing but those keys changed since, otherwise only the lines of those keys. Idempotent.
 */
export async function restoreEnvFile(path: string, backup: string, keys: readonly string[]): Promise<void> {
  const current = await readEnvFile(path);
  if (current.text === backup) return;
  const now = parseEnv(current.text);
  const onlyKeysChanged = replaceEnvLines(backup, Object.fromEntries(keys.map((key) => [key, now[key] ?? null]))) === current.text;
  if (onlyKeysChanged) {
    await writeEnvText(path, backup);
    return;
  }
  const old = parseEnv(backup);
  await editEnvFile(path, Object.fromEntries(keys.map((key) => [key, old[key] ?? null])));
}
