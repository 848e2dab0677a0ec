// Git delivery of a Secret's source against real git: a clone of a local bare repository. Only the source file is
// committed; a diff holding a value raw or base64 is refused with nothing committed; a push the remote refuses takes
// the commit back, and its message reaches the user without the credential in a remote URL.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RotateError } from '../../src/errors.js';
import { holdsValue, openGitDelivery, scrubCredentials } from '../../src/target/git-delivery.js';

const VALUE = 'new-signing-secret-0123456789-abcdefghijklmnop';

describe('git delivery of the source', () => {
  let dir: string;
  let bare: string;
  let work: string;
  let file: string;
  const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8' }).trim();

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'rotate-git-delivery-'));
    bare = join(dir, 'remote.git');
    work = join(dir, 'work');
    git(dir, 'init', '--quiet', '--bare', '-b', 'main', bare);
    git(dir, 'clone', '--quiet', bare, work);
    git(work, 'config', 'user.name', 'Test');
    git(work, 'config', 'user.email', 'test@example.com');
    git(work, 'checkout', '--quiet', '-b', 'main');
    file = join(work, '.env.production');
    writeFileSync(file, 'JWT_SECRET="encrypted:old"\n');
    writeFileSync(join(work, 'other.txt'), 'other\n');
    git(work, 'add', '.');
    git(work, 'commit', '--quiet', '-m', 'init');
    git(work, 'push', '--quiet', 'origin', 'main');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('commits only the source file and pushes it to remote/branch', async () => {
    writeFileSync(file, 'JWT_SECRET="encrypted:new"\n');
    writeFileSync(join(work, 'other.txt'), 'someone else is editing this\n');
    const delivery = openGitDelivery(file, { remote: 'origin', branch: 'main' });
    expect((await delivery.preflight(true)).every((c) => c.ok)).toBe(false); // the file is dirty now
    const { commit } = await delivery.deliver('rotate: rotate jwt (run r1)', [VALUE]);
    expect(git(bare, 'rev-parse', 'main')).toBe(commit);
    expect(git(bare, 'show', '--name-only', '--format=', 'main')).toBe('.env.production');
    expect(git(work, 'status', '--porcelain')).toBe('M other.txt');
  });

  it('preflight: a clean encrypted source passes; plaintext, dirty, .env.keys and no repository are refused', async () => {
    const delivery = openGitDelivery(file, { remote: 'origin', branch: 'main' });
    expect((await delivery.preflight(true)).filter((c) => !c.ok)).toEqual([]);
    expect((await delivery.preflight(false)).filter((c) => !c.ok).map((c) => c.code)).toEqual(['GIT_PLAINTEXT']);
    writeFileSync(file, 'JWT_SECRET="encrypted:edited"\n');
    expect((await delivery.preflight(true)).filter((c) => !c.ok).map((c) => c.code)).toEqual(['GIT_SOURCE_DIRTY']);
    const keys = openGitDelivery(join(work, '.env.keys'), { remote: 'origin', branch: 'main' });
    expect((await keys.preflight(true)).map((c) => c.code)).toContain('GIT_PLAINTEXT');
    const outside = openGitDelivery(join(dir, 'loose.env'), { remote: 'origin', branch: 'main' });
    expect((await outside.preflight(true)).map((c) => c.code)).toEqual(['GIT_NOT_A_REPO']);
    const noRemote = openGitDelivery(file, { remote: 'upstream', branch: 'main' });
    expect((await noRemote.preflight(true)).map((c) => c.code)).toContain('GIT_NOT_A_REPO');
  });

  it('a diff holding the value raw or base64 is refused: nothing committed', async () => {
    const delivery = openGitDelivery(file, { remote: 'origin', branch: 'main' });
    const head = git(work, 'rev-parse', 'HEAD');
    for (const text of [`JWT_SECRET=${VALUE}\n`, `JWT_SECRET: ${Buffer.from(VALUE).toString('base64')}\n`]) {
      writeFileSync(file, text);
      await expect(delivery.deliver('rotate: rotate jwt', [VALUE])).rejects.toMatchObject({ code: 'GIT_PLAINTEXT' });
      expect(git(work, 'rev-parse', 'HEAD')).toBe(head);
      expect(git(bare, 'rev-parse', 'main')).toBe(head);
    }
  });

  it('a push the remote refuses takes the local commit back; the message has no credential', async () => {
    const hook = join(bare, 'hooks', 'pre-receive');
    writeFileSync(hook, '#!/bin/sh\necho "protected branch main; see https://deploy:s3cr3t-t0ken@git.example.com/help" >&2\nexit 1\n');
    chmodSync(hook, 0o755);
    const head = git(work, 'rev-parse', 'HEAD');
    writeFileSync(file, 'JWT_SECRET="encrypted:new"\n');
    const delivery = openGitDelivery(file, { remote: 'origin', branch: 'main' });
    const error = await delivery.deliver('rotate: rotate jwt', [VALUE]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RotateError);
    expect((error as RotateError).code).toBe('GIT_PUSH_REFUSED');
    expect((error as RotateError).message).toContain('protected branch main');
    expect((error as RotateError).message).not.toContain('s3cr3t-t0ken');
    expect(git(work, 'rev-parse', 'HEAD')).toBe(head);
    expect(git(bare, 'rev-parse', 'main')).toBe(head);
  });

  it('holdsValue and scrubCredentials', () => {
    expect(holdsValue(`+X=${Buffer.from(VALUE).toString('base64url')}`, VALUE)).toBe(true);
    expect(holdsValue('+X="encrypted:abc"', VALUE)).toBe(false);
    expect(scrubCredentials('fatal: https://user:pw@host/repo.git refused')).toBe('fatal: https://***@host/repo.git refused');
  });
});
