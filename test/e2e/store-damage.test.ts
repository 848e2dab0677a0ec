// The built CLI on a damaged file store: a torn history, a wrong or missing master key, loose permissions.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readdirSync, readFileSync, renameSync, truncateSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readTree } from '../helpers/cli.js';
import { JWT_ENV_TEXT, type JwtProject, jwtProject } from '../helpers/jwt-project.js';
import { HANGING_RESTART, killInRestart } from '../helpers/wait.js';

let project: JwtProject | undefined;
afterEach(async () => {
  await project?.app.stop();
  project = undefined;
});

describe('a damaged history never silences the audit log', () => {
  it('a record cut mid-line is named (file, line) and skipped; the next rotation is readable; nothing is lost', async () => {
    project = await jwtProject();
    const { cli, dir } = project;
    expect((await cli(['jwt', '--yes'])).code).toBe(0);
    expect((await cli(['jwt', '--yes'])).code).toBe(0);
    const path = join(dir, '.rotate/history.jsonl');
    const whole = readFileSync(path, 'utf8');
    // A crash (or a full disk) during the second record's write: it ends half-way, with no end of line.
    const secondStart = whole.indexOf('\n') + 1;
    truncateSync(path, secondStart + Math.floor((whole.length - secondStart) / 2));
    const torn = readFileSync(path);

    const read = await cli(['history', '--json']);
    expect(read.code).toBe(0);
    const doc = JSON.parse(read.stdout);
    expect(doc.results).toHaveLength(1);
    expect(doc.damaged).toEqual([{ file: path, line: 2, error: expect.stringMatching(/^cut off/) }]);
    expect(read.stderr).toContain(`${path} line 2 is damaged`);
    expect(read.stderr).not.toContain('UNEXPECTED');

    const third = await cli(['jwt', '--yes']);
    expect(third.code).toBe(0);
    expect(third.stderr).toContain('line 2 was cut off');
    // The damaged bytes are kept as they were; the new record starts on a line of its own.
    const after = readFileSync(path);
    expect(after.subarray(0, torn.length).equals(torn)).toBe(true);
    const again = await cli(['history', '--json']);
    expect(again.code).toBe(0);
    const next = JSON.parse(again.stdout);
    expect(next.results.map((e: { result: string }) => e.result)).toEqual(['rotated', 'rotated']);
    expect(next.damaged.map((d: { line: number }) => d.line)).toEqual([2]);
    const people = await cli(['history']);
    expect(people.code).toBe(0);
    expect(people.stdout.match(/rotated/g)).toHaveLength(2);
    expect(people.stderr).toContain('line 2 is damaged');
  });
});

/** Kills a `rotate jwt` in the middle of its restart step (SIGKILL), leaving a journal; ends the shell it started. */
async function killDuringRestart(project: JwtProject, env: Record<string, string | undefined> = {}): Promise<void> {
  project.writeConfig({ restartPrefix: HANGING_RESTART });
  await killInRestart(project.dir, 'jwt', ['jwt', '--yes'], env);
  project.writeConfig();
}

describe('the master key is checked before anything is sealed', () => {
  it('a ROTATE_MASTER_KEY other than .rotate/master.key: exit 2, one JSON document, nothing changed', async () => {
    project = await jwtProject();
    const { cli, dir } = project;
    expect((await cli(['jwt', '--yes'])).code).toBe(0);
    const envBefore = readFileSync(join(dir, '.env'), 'utf8');
    const storeBefore = readTree(join(dir, '.rotate'));
    const wrong = randomBytes(32).toString('base64');
    const result = await cli(['jwt', '--yes', '--json'], { env: { ROTATE_MASTER_KEY: wrong } });
    expect(result.code).toBe(2);
    const doc = JSON.parse(result.stdout);
    expect(doc).toMatchObject({ ok: false, exitCode: 2, error: { code: 'MASTER_KEY_MISMATCH' } });
    expect(doc.error.hint).toContain('unset ROTATE_MASTER_KEY');
    expect(result.stdout + result.stderr).not.toContain(wrong);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(envBefore);
    expect(readTree(join(dir, '.rotate'))).toEqual(storeBefore);
    // The file's key still works.
    expect((await cli(['jwt', '--yes'])).code).toBe(0);
  });

  it('a deleted master.key is never replaced: rotate exits 2, resume of a pending run exits 3; with the key back resume undoes it', async () => {
    project = await jwtProject();
    const { cli, dir } = project;
    expect((await cli(['jwt', '--yes'])).code).toBe(0);
    const keyPath = join(dir, '.rotate/master.key');
    const rotated = readFileSync(join(dir, '.env'), 'utf8');
    renameSync(keyPath, join(dir, 'master.key.saved'));
    const storeBefore = readTree(join(dir, '.rotate'));

    const rotate = await cli(['jwt', '--yes', '--json']);
    expect(rotate.code).toBe(2);
    const doc = JSON.parse(rotate.stdout);
    expect(doc.error).toMatchObject({ code: 'MASTER_KEY_MISSING', message: expect.stringContaining(keyPath) });
    expect(doc.error.hint).toMatch(/restore .*master\.key.*ROTATE_MASTER_KEY/);
    expect(existsSync(keyPath)).toBe(false);
    expect(readTree(join(dir, '.rotate'))).toEqual(storeBefore);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(rotated);

    // A run interrupted while the key was there, then the key goes missing: resume needs a person (3).
    renameSync(join(dir, 'master.key.saved'), keyPath);
    await killDuringRestart(project);
    renameSync(keyPath, join(dir, 'master.key.saved'));
    // The killed run's lock is stale: resume may take it over and drop it. Everything else must stay as it was.
    const withoutLock = () => {
      const tree = readTree(join(dir, '.rotate'));
      delete tree[join(dir, '.rotate/lock')];
      return tree;
    };
    const pending = withoutLock();
    const resume = await cli(['resume', '--json']);
    expect(resume.code).toBe(3);
    expect(JSON.parse(resume.stdout).error.code).toBe('PENDING_RUN_KEY_MISSING');
    expect(resume.stderr).toContain('pending run journal');
    expect(existsSync(keyPath)).toBe(false);
    expect(withoutLock()).toEqual(pending);

    renameSync(join(dir, 'master.key.saved'), keyPath);
    const back = await cli(['resume', '--json']);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout).results[0].status).toBe('undone');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(rotated);
    expect(rotated).not.toBe(JWT_ENV_TEXT);
  });
});

describe('the file store is not a leak', () => {
  it('keeps one backup per secret (store.keepBackups more), ignores itself for git, and refuses loose permissions', async () => {
    project = await jwtProject();
    const { cli, dir } = project;
    const backups = () => readdirSync(join(dir, '.rotate/backups'));
    for (let i = 0; i < 3; i++) expect((await cli(['jwt', '--yes'])).code).toBe(0);
    expect(backups()).toHaveLength(1);
    expect(readFileSync(join(dir, '.rotate/.gitignore'), 'utf8')).toBe('*\n');
    const git = spawnSync('git', ['init', '-q'], { cwd: dir });
    if (git.status === 0) {
      const status = spawnSync('git', ['status', '--porcelain', '--untracked-files=all'], { cwd: dir, encoding: 'utf8' });
      expect(status.stdout).not.toContain('.rotate');
      expect(status.stdout).toContain('.env');
    }
    // The one backup left opens the env file from before the last rotation: rollback still works.
    const back = await cli(['rollback', 'jwt', '--yes', '--json']);
    expect(back.code).toBe(0);

    project.writeConfig({ store: { type: 'file', keepBackups: 2 } });
    for (let i = 0; i < 2; i++) expect((await cli(['jwt', '--yes'])).code).toBe(0);
    expect(backups()).toHaveLength(2);

    chmodSync(join(dir, '.rotate'), 0o755);
    const envBefore = readFileSync(join(dir, '.env'), 'utf8');
    const storeBefore = readTree(join(dir, '.rotate'));
    const open = await cli(['jwt', '--yes', '--json']);
    expect(open.code).toBe(2);
    expect(JSON.parse(open.stdout).error).toMatchObject({ code: 'STORE_NOT_PRIVATE', hint: `chmod 700 ${join(dir, '.rotate')}` });
    chmodSync(join(dir, '.rotate'), 0o700);
    chmodSync(join(dir, '.rotate/master.key'), 0o644);
    const key = await cli(['resume', '--json']);
    expect(key.code).toBe(2);
    expect(JSON.parse(key.stdout).error).toMatchObject({ code: 'STORE_NOT_PRIVATE', message: expect.stringContaining('0644') });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(envBefore);
    expect(readTree(join(dir, '.rotate'))).toEqual(storeBefore);
    chmodSync(join(dir, '.rotate/master.key'), 0o600);
    expect((await cli(['jwt', '--yes'])).code).toBe(0);
  });
});
