import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Check, check } from '../core-types.js';
import { variableReferences } from '../envfile/edit.js';
import { readEnvFile, restoreEnvFile } from '../envfile/file.js';
import { checkEnvFilePermissions } from '../envfile/permissions.js';
import {
  type EnvFileValues,
  editEnvFileValues,
  keysToRestore,
  plaintextKeysIn,
  plaintextWarning,
  readEnvFileValues,
} from '../envfile/values.js';
import { RotateError } from '../errors.js';
import type { OpenTarget, Target, TargetPreflight, TargetSnapshot } from './types.js';

/** What `backup()` returns: every file's bytes (the store seals it). */
interface EnvFilesBackup {
  format: 'envfiles';
  files: { path: string; exists: boolean; text: string }[];
}

const versionOf = (snapshots: EnvFileValues[]): string => {
  const hash = createHash('sha256');
  for (const s of snapshots) hash.update(`${s.path}\0${s.exists}\0${s.text}\0`);
  return hash.digest('hex');
};

const writable = (path: string): Promise<boolean> =>
  access(path, constants.W_OK).then(
    () => true,
    () => false,
  );

/** Nobody else may write the file or its folder (exit 2 in a real run); a world-readable file passes with a warning. */
async function permissionsCheck(path: string): Promise<Check> {
  const name = `${path} is not writable by other users`;
  try {
    const warnings = await checkEnvFilePermissions(path);
    return check('env-file-permissions', name, true, warnings.length > 0 ? `warning: ${warnings.join('; ')}` : undefined);
  } catch (error) {
    if (!(error instanceof RotateError)) throw error;
    return { ...check('env-file-permissions', name, false, error.message, error.hint), code: error.code };
  }
}

/**
 * A managed key held in plaintext in a dotenvx-encrypted file passes with a warning: the rotation writes its new value
 * encrypted (the remedy), but the old one was readable to anyone with the file (`rotate check` flags it too).
 */
function plaintextCheck(file: EnvFileValues, keys: readonly string[]): Check | undefined {
  const plain = plaintextKeysIn(file.path, file.text, keys);
  if (plain.length === 0) return undefined;
  return check(
    'env-file-encrypted',
    `${file.path} keeps ${plain.join(', ')} encrypted`,
    true,
    `warning: ${plaintextWarning(file.path, plain)}`,
  );
}

/** What a run and a dry run say about a file before anything changes; a world-writable one is a failed check instead. */
async function envFileWarnings(path: string, text: string, keys: readonly string[]): Promise<string[]> {
  const warnings: string[] = await checkEnvFilePermissions(path).catch(() => []);
  // A managed key left in plaintext in a dotenvx-encrypted file: its new value is written encrypted; the old is out.
  const plain = plaintextKeysIn(path, text, keys);
  if (plain.length > 0) warnings.push(plaintextWarning(path, plain));
  // A value written as ${OTHER} reads differently in different loaders: say so before it is replaced.
  for (const ref of variableReferences(text, keys)) {
    warnings.push(
      `${path}:${ref.line}: ${ref.key} is written as ${ref.reference}, which some loaders (docker compose, dotenv-expand) ` +
        'replace with another variable and others read as it stands; rotate checks and replaces the text as it stands, ' +
        'with a plain value',
    );
  }
  return warnings;
}

/** Opens the env files of `target: { type: "envfile", files }` (config/load.ts resolved them). */
export const openTarget: OpenTarget<{ files?: string | readonly string[] }> = async (config, deps) =>
  openEnvFileTarget(typeof config.files === 'string' ? [config.files] : [...(config.files ?? [])], { environment: deps.environment });

/** Where the private keys of encrypted env files come from: rotate's own environment (never argv). */
export interface EnvFileTargetDeps {
  environment: Readonly<Record<string, string | undefined>>;
}

/**
 * One or several env files that must hold the same values: the backend's `.env` and the worker's, say. Each is
 * edited in place (only the changed lines), one after the other; a crash between two files is undone by `restore`.
 * A dotenvx-encrypted file is read with its private key and every value written into it is encrypted to its public
 * key (src/envfile/values.ts); its backup and restore are its bytes, ciphertext and all.
 */
export function openEnvFileTarget(paths: readonly string[], deps: EnvFileTargetDeps = { environment: {} }): Target {
  if (paths.length === 0) throw new Error('an env-file target needs at least one file');
  const readAll = () => Promise.all(paths.map((path) => readEnvFileValues(path, deps)));

  async function read(agreeOn: readonly string[] = []): Promise<TargetSnapshot> {
    const snapshots = await readAll();
    const [first, ...others] = snapshots as [EnvFileValues, ...EnvFileValues[]];
    for (const key of agreeOn) {
      const other = others.find((s) => s.values[key] !== first.values[key]);
      if (!other) continue;
      const held = (s: EnvFileValues) => (s.values[key] === undefined ? 'does not set it' : 'sets it');
      throw new RotateError(
        'ENV_FILES_DISAGREE',
        `${first.path} and ${other.path} hold different values of ${key} (${first.path} ${held(first)}, ${other.path} ${held(other)}); nothing was changed`,
        {
          hint: `make every file in envFile hold the same current ${key} (or list only the files of the services that read it), then run rotate again`,
        },
      );
    }
    // Every key of every file; where files differ on a key nobody rotates, the first file's value is shown.
    const values: Record<string, string> = {};
    for (const s of [...snapshots].reverse()) Object.assign(values, s.values);
    // Hashed when asked (a write compares it); status and plans never ask, and so never load node:crypto.
    return {
      values,
      get version() {
        return versionOf(snapshots);
      },
    };
  }

  return {
    description: paths.join(' and '),
    files: [...paths],
    read,

    async preflight(keys): Promise<TargetPreflight> {
      const checks: Check[] = [];
      const warnings: string[] = [];
      for (const path of paths) {
        const snapshot = await readEnvFileValues(path, deps);
        warnings.push(...(await envFileWarnings(path, snapshot.text, keys)));
        const ok = snapshot.exists ? await writable(path) : await writable(dirname(path));
        checks.push(
          check(
            'env-file-writable',
            `${path} is writable`,
            ok,
            undefined,
            `rotate edits ${path} in place: give the user running rotate write access to it and its folder`,
          ),
        );
        checks.push(await permissionsCheck(path));
        const plain = plaintextCheck(snapshot, keys);
        if (plain) checks.push(plain);
      }
      return { checks, warnings };
    },

    places: async () => (await readAll()).map((s) => ({ where: s.path, values: s.values })),

    async backup(): Promise<Buffer> {
      // The bytes as they are (an encrypted file's ciphertext): nothing is decrypted into a backup.
      const files: EnvFilesBackup['files'] = [];
      for (const path of paths) {
        const { exists, text } = await readEnvFile(path);
        files.push({ path, exists, text });
      }
      return Buffer.from(JSON.stringify({ format: 'envfiles', files } satisfies EnvFilesBackup));
    },

    async write(changes, expected): Promise<TargetSnapshot> {
      if (expected && (await read()).version !== expected.version) {
        throw new RotateError(
          'TARGET_CHANGED',
          `${paths.join(' or ')} changed since rotate read it at the start of the run; nothing was written`,
          {
            hint: 'another process edits the env file: let it finish, then run rotate again',
          },
        );
      }
      for (const path of paths) await editEnvFileValues(path, changes, deps);
      return read();
    },

    async restore(backup: Buffer, keys: readonly string[]): Promise<void> {
      const parsed = JSON.parse(backup.toString('utf8')) as EnvFilesBackup;
      if (parsed.format !== 'envfiles') throw new Error('not a backup of env files');
      for (const file of parsed.files) {
        const now = await readEnvFile(file.path);
        await restoreEnvFile(file.path, file.text, keysToRestore(file.path, [file.text, now.text], keys));
      }
    },
  };
}
