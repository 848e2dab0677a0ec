// The file a Kubernetes Secret is deployed from (`target.source.file`): a Secret manifest (YAML or JSON, applied with
// `kubectl apply -f`) or an env file (plain or dotenvx-encrypted, what `kubectl create secret --from-env-file` reads).
// Both are edited in place, every other byte kept; the Secret target writes it together with the live Secret.
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { type Check, check } from '../core-types.js';
import { detectDotenvx, mightBeDotenvx } from '../envfile/dotenvx.js';
import { parseEnv } from '../envfile/edit.js';
import { restoreEnvFile } from '../envfile/file.js';
import { editEnvFileValues, readEnvFileValues } from '../envfile/values.js';
import { RotateError, usageError } from '../errors.js';
import { editManifestSecret, manifestObject, readManifestSecret, type SecretRef } from '../kubernetes/manifest.js';

export interface SecretSource {
  /** The path, as the config resolved it (for messages and drift). */
  readonly path: string;
  /** The file's bytes now. */
  text(): Promise<string>;
  /** The Secret's values as the file gives them (decrypted for an encrypted env file). */
  values(text?: string): Promise<Record<string, string>>;
  /** Writes `changes` in place; returns the new bytes. */
  write(changes: Readonly<Record<string, string | null>>): Promise<string>;
  /** Puts `keys` back as they are in `backup` (the file's bytes before): those exact bytes where nothing else changed. */
  restore(backup: string, keys: readonly string[]): Promise<void>;
  /** A manifest's Secret as kubectl reads it (for last-applied-configuration); none for an env file. */
  manifest?(text: string): Record<string, unknown>;
  preflight(): Promise<Check[]>;
  /** Whether the file keeps its values encrypted (a dotenvx env file): only such a source may go to git. */
  encrypted(): Promise<boolean>;
}

const isManifest = (path: string) => /\.(ya?ml|json)$/i.test(path);

export function openSecretSource(
  path: string,
  ref: SecretRef,
  deps: { environment: Readonly<Record<string, string | undefined>> },
): SecretSource {
  return isManifest(path) ? manifestSource(path, ref) : envFileSource(path, deps);
}

async function readSource(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw usageError(
        'SOURCE_NOT_FOUND',
        `the source file ${path} (target.source.file) does not exist; nothing was changed`,
        'point target.source.file (relative to the config) at the manifest or env file the Secret is deployed from',
      );
    }
    throw new RotateError('SOURCE_INVALID', `cannot read the source file ${path}: ${(error as Error).message}`, {
      hint: 'the user running rotate must be able to read and write target.source.file',
    });
  }
}

async function writeSource(path: string, text: string): Promise<void> {
  const mode = await stat(path).then(
    (s) => s.mode & 0o7777,
    () => 0o600,
  );
  await writeFileAtomic(path, text, { mode, fsync: true });
}

const writable = (path: string) =>
  access(path, constants.W_OK).then(
    () => true,
    () => false,
  );

async function sourceChecks(path: string, values: () => Promise<unknown>): Promise<Check[]> {
  const name = `source ${path} holds the Secret`;
  try {
    await values();
  } catch (error) {
    if (!(error instanceof RotateError)) throw error;
    return [{ ...check('source-readable', name, false, error.message, error.hint), code: error.code }];
  }
  return [
    check('source-readable', name, true),
    check(
      'source-writable',
      `source ${path} is writable`,
      (await writable(path)) && (await writable(dirname(path))),
      undefined,
      `give the user running rotate write access to ${path} and its folder`,
    ),
  ];
}

function manifestSource(path: string, ref: SecretRef): SecretSource {
  const source: SecretSource = {
    path,
    text: () => readSource(path),
    values: async (text) => readManifestSecret(text ?? (await readSource(path)), path, ref),
    async write(changes) {
      const before = await readSource(path);
      const after = editManifestSecret(before, path, ref, changes);
      if (after !== before) await writeSource(path, after);
      return after;
    },
    async restore(backup, keys) {
      const current = await readSource(path);
      if (current === backup) return;
      const now = readManifestSecret(current, path, ref);
      // Only rotate's keys changed since the backup: its exact bytes go back (quoting included).
      const onlyKeys = editManifestSecret(backup, path, ref, Object.fromEntries(keys.map((key) => [key, now[key] ?? null])));
      if (onlyKeys === current) {
        await writeSource(path, backup);
        return;
      }
      const old = readManifestSecret(backup, path, ref);
      await writeSource(path, editManifestSecret(current, path, ref, Object.fromEntries(keys.map((key) => [key, old[key] ?? null]))));
    },
    manifest: (text) => manifestObject(text, path, ref),
    preflight: () => sourceChecks(path, () => source.values()),
    // A manifest's stringData/data are plaintext or base64: never encrypted.
    encrypted: async () => false,
  };
  return source;
}

function envFileSource(path: string, deps: { environment: Readonly<Record<string, string | undefined>> }): SecretSource {
  const source: SecretSource = {
    path,
    text: () => readSource(path),
    async values(text) {
      if (text !== undefined && !text.includes('encrypted:')) return parseEnv(text);
      await readSource(path);
      return (await readEnvFileValues(path, deps)).values;
    },
    async write(changes) {
      await readSource(path);
      return (await editEnvFileValues(path, changes, deps)).text;
    },
    restore: (backup, keys) => restoreEnvFile(path, backup, keys),
    preflight: () => sourceChecks(path, () => source.values()),
    async encrypted() {
      const text = await readSource(path);
      return mightBeDotenvx(text) && detectDotenvx(path, parseEnv(text)) !== undefined;
    },
  };
  return source;
}
