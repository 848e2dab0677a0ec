// rotate backups: the sealed env-file backups listed, and one written out by hand to a new 0600 file.
import { readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findLeaks, runCli, scratchDir } from '../helpers/cli.js';

const SECRET = 'backups-test-secret-0123456789-0123456789-ab';

describe('rotate backups', () => {
  it('lists the backup taken before a rotation and restores it to a new 0600 file, never over one without --force', async () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `# app\nJWT_SECRET=${SECRET}\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, 'rotate.config.json'),
      JSON.stringify({ services: { app: { restart: 'true' } }, secrets: { jwt: { services: ['app'] } } }),
    );
    const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: 'b'.repeat(64) } });
    expect((await cli(['jwt', '--yes'])).code).toBe(0);

    const list = await cli(['backups', '--json']);
    expect(list.code).toBe(0);
    const [backup] = JSON.parse(list.stdout).results;
    expect(backup).toMatchObject({ secrets: ['jwt'] });
    const table = await cli(['backups']);
    expect(table.stdout).toContain(backup.id);

    const restored = await cli(['backups', 'restore', backup.id, '--to', 'env.before']);
    expect(restored.code, restored.stderr).toBe(0);
    expect(readFileSync(join(dir, 'env.before'), 'utf8')).toBe(`# app\nJWT_SECRET=${SECRET}\n`);
    expect(statSync(join(dir, 'env.before')).mode & 0o777).toBe(0o600);

    writeFileSync(join(dir, 'env.before'), 'mine\n');
    const again = await cli(['backups', 'restore', backup.id, '--to', 'env.before']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain('--force');
    expect(readFileSync(join(dir, 'env.before'), 'utf8')).toBe('mine\n');
    expect((await cli(['backups', 'restore', backup.id, '--to', 'env.before', '--force'])).code).toBe(0);
    expect(readFileSync(join(dir, 'env.before'), 'utf8')).toContain(SECRET);

    // #22 item 11: a symlink planted at --to is refused (exit 2), with and without --force; its target is untouched.
    writeFileSync(join(dir, 'victim'), 'victim\n');
    symlinkSync(join(dir, 'victim'), join(dir, 'planted'));
    for (const force of [[], ['--force']]) {
      const refused = await cli(['backups', 'restore', backup.id, '--to', 'planted', ...force]);
      expect(refused.code, refused.stderr).toBe(2);
      expect(refused.stderr).toContain('symbolic link');
      expect(readFileSync(join(dir, 'victim'), 'utf8')).toBe('victim\n');
    }

    expect((await cli(['backups', 'restore', 'no-such-id', '--to', 'x.env'])).code).toBe(2);
    // A restore without its id or --to: the hint is a command that works, with the newest backup's real id.
    for (const args of [
      ['backups', 'restore'],
      ['backups', 'restore', backup.id],
    ]) {
      const incomplete = await cli(args);
      expect(incomplete.code, args.join(' ')).toBe(2);
      expect(incomplete.stderr, args.join(' ')).toContain(`hint: rotate backups restore ${backup.id} --to ./env.restored`);
      expect(incomplete.stderr, args.join(' ')).not.toMatch(/<[a-z]+>/);
    }
    const printed = { list: list.stdout + list.stderr + table.stdout, restore: restored.stdout + restored.stderr };
    expect(findLeaks(printed, [SECRET])).toEqual([]);
  });
});
