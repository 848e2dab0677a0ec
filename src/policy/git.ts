import type { GitRunner } from './check.js';

/** The real `git`, its exit code only (its output is never read: paths only, never contents). 127: no git. */
export const realGit: GitRunner = async (args, cwd) => {
  const { execFile } = await import('node:child_process');
  return new Promise((resolve) => {
    execFile('git', args, { cwd, timeout: 10_000 }, (error) => {
      if (!error) return resolve(0);
      const code = (error as NodeJS.ErrnoException & { code?: unknown }).code;
      resolve(typeof code === 'number' ? code : code === 'ENOENT' ? 127 : 1);
    });
  });
};
