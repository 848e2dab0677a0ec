import { RotateError } from '../errors.js';

/** A full disk (or quota) under the store: a store error naming the file and the fix, never a half-written file. */
const FULL = new Set(['ENOSPC', 'EDQUOT']);

const storeFull = (path: string, dir: string, error: unknown): RotateError =>
  new RotateError(
    'STORE_FULL',
    `cannot write ${path}: no space left on the device that holds the store (${(error as NodeJS.ErrnoException).code})`,
    {
      hint: `free space on the filesystem that holds ${dir} (\`df -h ${dir}\`), then run again; what was written before stands, and the file named was left as it was`,
      cause: error,
    },
  );

/** Runs a write of `path`; ENOSPC or EDQUOT becomes STORE_FULL naming it. */
export async function writing<T>(path: string, dir: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (FULL.has((error as NodeJS.ErrnoException).code ?? '')) throw storeFull(path, dir, error);
    throw error;
  }
}
