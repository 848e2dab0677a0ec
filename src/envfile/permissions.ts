// Who else may change or read the env file. A file (or folder) every user can write lets anyone inject values into
// the app's configuration, including the very credentials rotate is about to write: rotate refuses to rotate into
// it. A file every user can read gives the new secret away: rotate writes it, with a warning naming the fix.
import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { RotateError } from '../errors.js';

const octal = (mode: number): string => (mode & 0o7777).toString(8).padStart(4, '0');

async function modeOf(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).mode;
  } catch {
    return undefined; // missing: the read that follows reports it
  }
}

/**
 * Refuses (exit 2, before anything changes) an env file or folder that every user may write; returns a warning for
 * a file every user may read. Paths only, never contents.
 */
export async function checkEnvFilePermissions(path: string): Promise<string[]> {
  const fileMode = await modeOf(path);
  if (fileMode === undefined) return [];
  if (fileMode & 0o002) {
    throw new RotateError(
      'ENV_FILE_WORLD_WRITABLE',
      `the env file ${path} is writable by every user (mode ${octal(fileMode)}): anyone on this host could change the values rotate writes`,
      { hint: `chmod o-w ${path} (or chmod 600 ${path}), then run rotate again` },
    );
  }
  const folder = dirname(path);
  const folderMode = await modeOf(folder);
  if (folderMode !== undefined && folderMode & 0o002) {
    throw new RotateError(
      'ENV_FILE_WORLD_WRITABLE',
      `the folder of the env file, ${folder}, is writable by every user (mode ${octal(folderMode)}): anyone could replace ${path}`,
      { hint: `chmod o-w ${folder}, then run rotate again` },
    );
  }
  if (fileMode & 0o004) {
    return [`the env file ${path} is readable by every user (mode ${octal(fileMode)}); fix it with: chmod o-r ${path}`];
  }
  return [];
}
