// One judgement of an env file's mode for every command that says it: `rotate check` and a run (or dry run) give a
// file every user may read the same severity (a warning: the run writes it and says the fix), a file or folder every
// user may write the same error (the run refuses it), and a group-readable file is check's warning only.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkEnvFilePermissions } from '../../src/envfile/permissions.js';
import { envFileFindings } from '../../src/policy/check.js';
import { scratchDir } from '../helpers/cli.js';

const notARepository = async () => 128;

async function judged(mode: number, folderMode = 0o700) {
  const dir = scratchDir('rotate-modes-');
  const path = join(dir, '.env');
  writeFileSync(path, 'JWT_SECRET=x\n');
  chmodSync(path, mode);
  chmodSync(dir, folderMode);
  const check = (await envFileFindings(path, ['JWT_SECRET'], notARepository)).map((f) => ({ id: f.id, severity: f.severity }));
  const run = await checkEnvFilePermissions(path).then(
    (warnings) => ({ refused: false, warnings }),
    (error: Error & { code?: string }) => ({ refused: true, code: error.code, warnings: [] as string[] }),
  );
  chmodSync(dir, 0o700);
  return { path, check, run };
}

describe('env file modes: rotate check and a run agree', () => {
  it('a file every user may read: a warning in both, naming the chmod (check called it an error before)', async () => {
    const { path, check, run } = await judged(0o644);
    expect(check).toEqual([{ id: 'env-file-readable', severity: 'warning' }]);
    expect(run).toEqual({ refused: false, warnings: [expect.stringContaining(`chmod o-r ${path}`)] });
  });

  it('a file or folder every user may write: an error in check, refused by a run', async () => {
    for (const [mode, folderMode] of [
      [0o666, 0o700],
      [0o600, 0o777],
    ] as const) {
      const { check, run } = await judged(mode, folderMode);
      expect(check.filter((f) => f.severity === 'error')).toEqual([{ id: 'env-file-writable', severity: 'error' }]);
      expect(run).toMatchObject({ refused: true, code: 'ENV_FILE_WORLD_WRITABLE' });
    }
  });

  it('a group-readable file: a warning of check only; a private file: nothing', async () => {
    const group = await judged(0o640);
    expect(group.check).toEqual([{ id: 'env-file-readable', severity: 'warning' }]);
    expect(group.run).toEqual({ refused: false, warnings: [] });
    const own = await judged(0o600);
    expect(own.check).toEqual([]);
    expect(own.run).toEqual({ refused: false, warnings: [] });
  });
});
