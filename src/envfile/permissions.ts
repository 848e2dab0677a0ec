// Who else may change or read the env file, judged once for every command that says it (a run, a dry run, `rotate
// check`): a file (or folder) every user can write lets anyone inject values into the app's configuration, including
// the very credentials rotate is about to write: an error, and rotate refuses to rotate into it. A file every user can
// read gives the new secret away: a warning naming the fix, and rotate writes it. A file its group can read is a
// warning of `rotate check` only (a group for the app's users is a common, deliberate setup: no run repeats it).
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

/** One judgement of an env file's mode: the same id, severity, text and fix wherever it is said. Paths only. */
export interface ModeFinding {
  id: 'env-file-writable' | 'env-file-readable';
  /** error: a run refuses the file (exit 2) and a dry run fails its check; warning: said, and the run goes on. */
  severity: 'error' | 'warning';
  where: string;
  message: string;
  fix: string;
  /** Said by a run and a dry run too (false: `rotate check` only). */
  inRun: boolean;
}

/** What the modes of `path` and its folder let other users do, worst first. */
export async function envFileModeFindings(path: string): Promise<ModeFinding[]> {
  const fileMode = await modeOf(path);
  if (fileMode === undefined) return [];
  const out: ModeFinding[] = [];
  if (fileMode & 0o002) {
    out.push({
      id: 'env-file-writable',
      severity: 'error',
      where: path,
      message: `the env file ${path} is writable by every user (mode ${octal(fileMode)}): anyone on this host could change the values rotate writes`,
      fix: `chmod o-w ${path} (or chmod 600 ${path}), then run rotate again`,
      inRun: true,
    });
  }
  const folder = dirname(path);
  const folderMode = await modeOf(folder);
  if (folderMode !== undefined && folderMode & 0o002) {
    out.push({
      id: 'env-file-writable',
      severity: 'error',
      where: folder,
      message: `the folder of the env file, ${folder}, is writable by every user (mode ${octal(folderMode)}): anyone could replace ${path}`,
      fix: `chmod o-w ${folder}, then run rotate again`,
      inRun: true,
    });
  }
  if (fileMode & 0o004) {
    out.push({
      id: 'env-file-readable',
      severity: 'warning',
      where: path,
      message: `the env file ${path} is readable by every user (mode ${octal(fileMode)}): anyone on this host reads the secrets in it`,
      fix: `chmod o-r ${path} (or chmod 600 ${path})`,
      inRun: true,
    });
  } else if (fileMode & 0o040) {
    out.push({
      id: 'env-file-readable',
      severity: 'warning',
      where: path,
      message: `the env file ${path} is readable by its group (mode ${octal(fileMode)})`,
      fix: `chmod 600 ${path}, unless the group holds only the app's users`,
      inRun: false,
    });
  }
  return out;
}

/**
 * For a run and a dry run: refuses (exit 2, before anything changes) an env file or folder that every user may write;
 * returns the warnings (a file every user may read). Paths only, never contents.
 */
export async function checkEnvFilePermissions(path: string): Promise<string[]> {
  const findings = (await envFileModeFindings(path)).filter((f) => f.inRun);
  const refused = findings.find((f) => f.severity === 'error');
  if (refused) throw new RotateError('ENV_FILE_WORLD_WRITABLE', refused.message, { hint: refused.fix });
  return findings.map((f) => `${f.message}; fix it with: ${f.fix}`);
}
