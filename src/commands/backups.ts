import { constants } from 'node:fs';
import { lstat, open } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import * as z from 'zod/mini';
import { ExitCode, usageError } from '../errors.js';
import { lazy } from '../lazy.js';
import { table } from '../terminal/render.js';
import { localTime } from '../terminal/time.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { withSession } from './session.js';

const optionsSchema = lazy(() =>
  z.extend(globalOptionsSchema(), {
    to: z.optional(z.string().check(z.minLength(1))),
    file: z.optional(z.string()),
    force: z._default(z.boolean(), false),
  }),
);
type BackupsOptions = z.output<ReturnType<typeof optionsSchema>>;

/** `rotate backups` lists the sealed backups; `rotate backups restore <id> --to <path>` writes one out for a person. */
export const backupsCommand = defineCommand(
  () =>
    new Command('backups')
      .description('list the sealed backups of the env files (taken before each write); restore one to a new file')
      .argument('[action]', 'restore')
      .argument('[id]', 'the backup to restore (from the list)')
      .option('--to <path>', 'restore: the file to write (a new file, mode 0600)')
      .option('--file <path>', 'restore: which env file of the backup, when it holds several')
      .option('--force', 'restore: overwrite --to if it exists'),
  optionsSchema,
  (options, [action, id]) => backups(action as string | undefined, id as string | undefined, options),
);

/** `2026-12-01T21-35-14-194Z-jwt-a1b2c3` -> when it was taken and for which secrets. */
function describe(id: string): { id: string; takenAt: string; secrets: string[] } {
  const stamp = id.slice(0, 24).replace(/^(\d{4}-\d{2}-\d{2}T\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/, '$1:$2:$3.$4Z');
  return { id, takenAt: stamp, secrets: id.slice(25, -7).split('+') };
}

async function backups(action: string | undefined, id: string | undefined, options: BackupsOptions): Promise<number> {
  if (action !== undefined && action !== 'restore') {
    throw usageError('USAGE', `unknown action "${action}"`, 'rotate backups lists the backups; rotate backups restore writes one out');
  }
  return withSession(options, {}, async (session) => {
    const ids = await session.store.listBackups();
    if (action === 'restore' && (!id || !options.to)) {
      // The hint is a command that works: the backup named, or else the newest one.
      const example = id ?? ids.at(-1);
      throw usageError(
        'USAGE',
        'restore needs the id of a backup and --to, the new file to write',
        example ? `rotate backups restore ${example} --to ./env.restored` : `there are no backups in ${session.store.location} yet`,
      );
    }
    if (action !== 'restore') {
      const list = ids.map(describe).reverse();
      return printResult(options, 'backups', ExitCode.ok, { results: list }, () =>
        list.length === 0
          ? `no backups in ${session.store.location}`
          : table(
              ['ID', 'TAKEN AT', 'SECRETS'],
              list.map((b) => [b.id, localTime(b.takenAt, { seconds: true }), b.secrets.join(', ')]),
            ),
      );
    }
    if (!ids.includes(id!)) {
      throw usageError('USAGE', `there is no backup "${id}" in ${session.store.location}`, 'rotate backups lists them');
    }
    const text = pick((await session.store.getBackup(id!)).toString('utf8'), options.file);
    const to = resolve(process.cwd(), options.to!);
    try {
      // A new file readable by its owner only; never over an existing one unless --force, and never through a
      // symlink (O_EXCL does not follow one; with --force, O_NOFOLLOW refuses it): a link planted at --to would
      // put the old secrets wherever it points.
      const { O_WRONLY, O_CREAT, O_EXCL, O_NOFOLLOW } = constants;
      const flags = O_WRONLY | O_CREAT | O_NOFOLLOW | (options.force ? 0 : O_EXCL);
      const handle = await open(to, flags, 0o600);
      try {
        // Checked on the file opened, before anything is written: a regular file with no other name (a hard link
        // would carry the old secrets to its other path too).
        const info = await handle.stat();
        if (!info.isFile() || info.nlink > 1) {
          throw usageError('USAGE', `${to} is not a regular file with one name; nothing was written`, 'choose a new path for --to');
        }
        await handle.chmod(0o600);
        await handle.truncate(0);
        await handle.writeFile(text.text);
      } finally {
        await handle.close();
      }
    } catch (error) {
      let code = (error as NodeJS.ErrnoException).code;
      // O_EXCL says only "exists": a link is named as one, so that --force is not the advice.
      if (code === 'EEXIST' && (await lstat(to).catch(() => undefined))?.isSymbolicLink()) code = 'ELOOP';
      if (code === 'EEXIST') {
        throw usageError('USAGE', `${to} exists; nothing was written`, 'choose a new path, or pass --force to overwrite it');
      }
      if (code === 'ELOOP') {
        throw usageError(
          'RESTORE_TARGET_SYMLINK',
          `${to} is a symbolic link; nothing was written (it would write the old secrets wherever it points)`,
          'choose a new path for --to, or remove the link first',
        );
      }
      throw error;
    }
    const result = { id: id!, from: text.path, to, bytes: Buffer.byteLength(text.text) };
    return printResult(
      options,
      'backups',
      ExitCode.ok,
      { results: [result] },
      () => `wrote ${to} (mode 0600): ${text.path} as of ${localTime(describe(id!).takenAt, { seconds: true })}`,
    );
  });
}

/** The env file to write out of a backup: its only one, or the one --file names. */
function pick(sealed: string, file: string | undefined): { path: string; text: string } {
  const backup = JSON.parse(sealed) as { format?: string; files?: { path: string; exists: boolean; text: string }[] };
  if (backup.format !== 'envfiles' || !backup.files) {
    throw usageError('USAGE', 'this backup holds a Kubernetes Secret, not env files', 'restore it with kubectl; see docs/kubernetes.md');
  }
  const files = backup.files.filter((f) => f.exists);
  const chosen = file ? files.find((f) => f.path === resolve(process.cwd(), file)) : files.length === 1 ? files[0] : undefined;
  if (!chosen) {
    throw usageError('USAGE', `the backup holds ${files.map((f) => f.path).join(', ')}`, 'name one with --file <path>');
  }
  return chosen;
}
