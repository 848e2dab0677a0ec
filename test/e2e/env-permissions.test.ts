// Env file permissions: a file or folder every user may write is refused before anything changes (exit 2, the path
// and the chmod named); a file every user may read is rotated with a warning that names the fix.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, scratchDir } from '../helpers/cli.js';

const MASTER_KEY = randomBytes(32).toString('hex');

function scene(): { dir: string; env: string; original: string } {
  const dir = scratchDir('rotate-perm-');
  const env = join(dir, '.env');
  const original = `JWT_SECRET=old-${randomBytes(16).toString('hex')}\n`;
  writeFileSync(env, original, { mode: 0o600 });
  const config = { services: { backend: { restart: 'true' } }, secrets: { jwt: { kind: 'jwt', services: ['backend'] } } };
  writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
  return { dir, env, original };
}

const rotate = (dir: string) => runCli(['jwt', '--yes'], { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });

describe('env file permissions', () => {
  it('refuses a world-writable env file with exit 2, naming it and the chmod; nothing changes', async () => {
    const s = scene();
    chmodSync(s.env, 0o666);
    const result = await rotate(s.dir);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain('ENV_FILE_WORLD_WRITABLE');
    expect(result.stderr).toContain(s.env);
    expect(result.stderr).toContain(`chmod o-w ${s.env}`);
    expect(readFileSync(s.env, 'utf8')).toBe(s.original);
    // No journal left behind: status does not report an interrupted run (exit 3).
    const status = await runCli(['status', '--json'], { cwd: s.dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });
    expect(status.code, status.stdout).not.toBe(3);
    expect(status.stdout).not.toContain('needs-person');
  });

  it('--dry-run reports a world-writable env file as a failed check naming the chmod (exit 1)', async () => {
    const s = scene();
    chmodSync(s.env, 0o666);
    const result = await runCli(['jwt', '--dry-run', '--json'], { cwd: s.dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });
    expect(result.code, result.stderr).toBe(1);
    const failing = JSON.parse(result.stdout).results[0].checks.filter((c: { ok: boolean }) => !c.ok);
    expect(failing).toEqual([
      expect.objectContaining({ code: 'ENV_FILE_WORLD_WRITABLE', hint: expect.stringContaining(`chmod o-w ${s.env}`) }),
    ]);
    expect(readFileSync(s.env, 'utf8')).toBe(s.original);
  });

  it('refuses an env file in a world-writable folder', async () => {
    const s = scene();
    chmodSync(s.dir, 0o777);
    const result = await rotate(s.dir);
    chmodSync(s.dir, 0o700);
    expect(result.code, result.stderr).toBe(2);
    expect(result.stderr).toContain(`chmod o-w ${s.dir}`);
    expect(readFileSync(s.env, 'utf8')).toBe(s.original);
  });

  it('rotates a world-readable env file with a warning that names the chmod', async () => {
    const s = scene();
    chmodSync(s.env, 0o644);
    const result = await rotate(s.dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain(`chmod o-r ${s.env}`);
    expect(readFileSync(s.env, 'utf8')).not.toBe(s.original);
  });
});
