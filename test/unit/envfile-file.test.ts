// editEnvFile on real files: the mode, atomic replacement, and refusals that leave the file untouched.
import { chmod, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { editEnvFile } from '../../src/envfile/file.js';

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function envFile(text?: string, mode?: number): Promise<{ dir: string; path: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'rotate-envfile-'));
  folders.push(dir);
  const path = join(dir, '.env');
  if (text !== undefined) {
    await writeFile(path, text);
    if (mode !== undefined) await chmod(path, mode); // chmod: the umask does not apply
  }
  return { dir, path };
}

const ENV = '# app\nexport JWT_SECRET="old-value-0123456789abcdef" # rotated by rotate\r\nOTHER=1\n';

describe('editEnvFile', () => {
  for (const mode of [0o640, 0o600, 0o644, 0o400]) {
    it(`keeps the file mode ${mode.toString(8)}`, async () => {
      const { path } = await envFile(ENV, mode);
      await editEnvFile(path, { JWT_SECRET: 'bmV3LXZhbHVlLTAxMjM0NTY3ODlhYmNkZWY' });
      expect((await stat(path)).mode & 0o7777).toBe(mode);
      expect(await readFile(path, 'utf8')).toBe(ENV.replace('old-value-0123456789abcdef', 'bmV3LXZhbHVlLTAxMjM0NTY3ODlhYmNkZWY'));
    });
  }

  it('creates a missing file with mode 0600 and returns what it now holds', async () => {
    const { dir, path } = await envFile();
    const after = await editEnvFile(path, { JWT_SECRET: 'abcdef0123456789', JWT_SECRET_PREVIOUS: null });
    expect((await stat(path)).mode & 0o7777).toBe(0o600);
    expect(await readFile(path, 'utf8')).toBe('JWT_SECRET=abcdef0123456789\n');
    expect(after).toMatchObject({ exists: true, values: { JWT_SECRET: 'abcdef0123456789' } });
    expect(await readdir(dir)).toEqual(['.env']);
  });

  it('leaves no temp file behind, and does not rewrite a file an edit does not change', async () => {
    const { dir, path } = await envFile(ENV, 0o640);
    for (let i = 0; i < 5; i++) await editEnvFile(path, { JWT_SECRET: `value${i}-0123456789abcdef` });
    expect(await readdir(dir)).toEqual(['.env']);
    // An mtime in the past: a rewrite now would move it, however coarse the file system's clock.
    await utimes(path, new Date('2020-01-01T00:00:00Z'), new Date('2020-01-01T00:00:00Z'));
    const before = await stat(path);
    await editEnvFile(path, { JWT_SECRET: 'value4-0123456789abcdef', MISSING: null });
    const after = await stat(path);
    expect([after.ino, after.mtimeMs]).toEqual([before.ino, before.mtimeMs]);
  });

  it('replaces the file atomically: a reader in a loop only ever sees a whole old or whole new file', async () => {
    // 4 MB of comments: a write that truncates and then writes in chunks is seen half-done many times over.
    const comments = `# ${'x'.repeat(78)}\n`.repeat(50_000);
    const versions = ['A', 'B'].map((c) => `${comments}JWT_SECRET=${c.repeat(43)}\nOTHER=1\n`);
    const { dir, path } = await envFile(versions[0], 0o640);
    let writing = true;
    let reads = 0;
    const torn: number[] = [];
    const reader = (async () => {
      while (writing) {
        const text = await readFile(path, 'utf8');
        reads++;
        if (!versions.includes(text)) torn.push(text.length);
      }
    })();
    for (let i = 1; i <= 12; i++) await editEnvFile(path, { JWT_SECRET: (i % 2 ? 'B' : 'A').repeat(43) });
    writing = false;
    await reader;
    expect(reads).toBeGreaterThan(12);
    expect(torn).toEqual([]);
    expect(await readdir(dir)).toEqual(['.env']);
    expect((await stat(path)).mode & 0o7777).toBe(0o640);
  });

  for (const [label, value] of [
    ['a newline', 'abc\ndef'],
    ['a #', 'abc#def'],
    ['a double quote', 'abc"def'],
    ['a single quote', "abc'def"],
    ['a backtick', 'abc`def'],
    ['a space', 'abc def'],
    ['a $', 'abc$def'],
  ]) {
    it(`refuses a value with ${label} (ENV_VALUE_UNSAFE) and leaves the file as it was`, async () => {
      const { path } = await envFile(ENV, 0o640);
      const before = await stat(path);
      const error = await editEnvFile(path, { OTHER: '2', JWT_SECRET: value! }).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string },
      );
      expect(error).toMatchObject({ name: 'RotateError', code: 'ENV_VALUE_UNSAFE' });
      // The message names the key, never the value.
      expect(error?.message).toContain('JWT_SECRET');
      expect(error?.message).not.toContain(value!);
      expect(await readFile(path, 'utf8')).toBe(ENV);
      const after = await stat(path);
      expect([after.ino, after.mtimeMs, after.mode]).toEqual([before.ino, before.mtimeMs, before.mode]);
    });
  }
});
