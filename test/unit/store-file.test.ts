import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, chmod, chown, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file.js';
import { historyEntry, type StoreHarness, storeSuite } from '../helpers/store-suite.js';

/** A record cut off mid-string, as a crash or a full disk leaves it: no end of line. */
const TORN = '{"at":"2026-01-01T00:00:00.000Z","runId":"torn","secret":"jwt","act';

const folders: string[] = [];
afterAll(async () => {
  await Promise.all(folders.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'rotate-store-'));
  folders.push(dir);
  return dir;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

async function fileHarness(): Promise<StoreHarness & { dir: string }> {
  const dir = join(await tempDir(), '.rotate');
  const warnings: string[] = [];
  return {
    dir,
    warnings,
    open: async (options) =>
      new FileStore({
        dir,
        masterKey: options?.masterKey,
        keepBackups: options?.keepBackups,
        holder: { pid: process.pid, host: hostname() },
        warn: (m) => warnings.push(m),
      }),
    atRest: async () => {
      const texts = await Promise.all((await filesUnder(dir)).map((f) => readFile(f, 'latin1')));
      return texts.join('\n');
    },
    damageHistory: async () => {
      const path = join(dir, 'history.jsonl');
      await appendFile(path, TORN);
      return { line: (await readFile(path, 'utf8')).split('\n').length };
    },
  };
}

storeSuite('FileStore', fileHarness);

describe('FileStore: the lock file', () => {
  it('names the holder the command layer hands in (its deps), not what the store reads of the process', async () => {
    const dir = join(await tempDir(), '.rotate');
    const store = new FileStore({ dir, holder: { pid: 4242, host: 'host-from-deps' }, warn: () => {} });
    const lock = await store.acquireLock('rotate jwt');
    expect(JSON.parse(await readFile(join(dir, 'lock'), 'utf8'))).toMatchObject({ pid: 4242, host: 'host-from-deps' });
    await lock.release();
  });

  it('writes who holds it (0600) and removes it on release', async () => {
    const h = await fileHarness();
    const lock = await (await h.open()).acquireLock('rotate jwt');
    const path = join(h.dir, 'lock');
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(path, 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
      command: 'rotate jwt',
    });
    expect((await stat(h.dir)).mode & 0o777).toBe(0o700);
    await lock.release();
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('takes over a stale lock left by a dead process on this host, with a warning', async () => {
    const h = await fileHarness();
    const store = await h.open();
    // The pid of a process that has exited (pids are not reused this quickly).
    const deadPid = spawnSync(process.execPath, ['-e', '0']).pid;
    await (await h.open()).acquireLock('warm-up').then((l) => l.release());
    await writeFile(
      join(h.dir, 'lock'),
      JSON.stringify({ pid: deadPid, host: hostname(), since: '2025-01-01T00:00:00.000Z', command: 'rotate redis' }),
    );
    const lock = await store.acquireLock('rotate jwt');
    expect(h.warnings.join('\n')).toMatch(new RegExp(`stale lock .*${deadPid}.*rotate redis`));
    expect(JSON.parse(await readFile(join(h.dir, 'lock'), 'utf8'))).toMatchObject({ pid: process.pid });
    await lock.release();
  });

  it('does not take over a lock held from another host (it cannot tell whether that process lives)', async () => {
    const h = await fileHarness();
    const store = await h.open();
    await store.acquireLock('warm-up').then((l) => l.release());
    await writeFile(
      join(h.dir, 'lock'),
      JSON.stringify({ pid: 999_999, host: 'elsewhere.example', since: '2025-01-01T00:00:00.000Z', command: 'rotate --due' }),
    );
    await expect(store.acquireLock('rotate jwt')).rejects.toMatchObject({
      code: 'LOCKED',
      exitCode: 4,
      message: expect.stringContaining('elsewhere.example'),
    });
  });
});

describe('FileStore: history and keys at rest', () => {
  it('only ever appends to history.jsonl: earlier bytes stay a prefix', async () => {
    const h = await fileHarness();
    const store = await h.open();
    await store.appendHistory(historyEntry('jwt', 'run-1', 'rotated'));
    const before = await readFile(join(h.dir, 'history.jsonl'));
    await store.appendHistory(historyEntry('jwt', 'run-2', 'failed'));
    const after = await readFile(join(h.dir, 'history.jsonl'));
    expect(after.subarray(0, before.length).equals(before)).toBe(true);
    expect(after.toString('utf8').trimEnd().split('\n')).toHaveLength(2);
    expect((await stat(join(h.dir, 'history.jsonl'))).mode & 0o777).toBe(0o600);
  });

  it('a torn last line keeps its bytes; the next record starts on a fresh line and every later read works', async () => {
    const h = await fileHarness();
    const store = await h.open();
    const path = join(h.dir, 'history.jsonl');
    await store.appendHistory(historyEntry('jwt', 'run-1', 'rotated'));
    await appendFile(path, TORN);
    const torn = await readFile(path);
    await store.appendHistory(historyEntry('jwt', 'run-2', 'rotated'));
    await store.appendHistory(historyEntry('jwt', 'run-3', 'rotated'));
    const after = await readFile(path);
    expect(after.subarray(0, torn.length).equals(torn)).toBe(true);
    expect(after.toString('utf8').split('\n')[1]).toBe(TORN);
    expect(h.warnings.filter((w) => w.includes('line 2 was cut off'))).toHaveLength(1);
    const report = await store.readHistoryReport();
    expect(report.entries.map((e) => e.runId)).toEqual(['run-1', 'run-2', 'run-3']);
    expect(report.damaged).toEqual([{ file: path, line: 2, error: expect.stringContaining('not a whole JSON record') }]);
  });

  it('names every damaged line (a cut-off end, a hand edit, a JSON value that is not a record) and reads the rest', async () => {
    const h = await fileHarness();
    const path = join(h.dir, 'history.jsonl');
    const good = (runId: string) => JSON.stringify(historyEntry('jwt', runId, 'rotated'));
    await (await h.open()).appendHistory(historyEntry('jwt', 'warm-up', 'rotated'));
    await writeFile(path, [good('a'), 'not json', '', '[1,2]', good('b'), '{"at":1}', good('c'), TORN].join('\n'));
    const report = await (await h.open()).readHistoryReport();
    expect(report.entries.map((e) => e.runId)).toEqual(['a', 'b', 'c']);
    expect(report.damaged.map((d) => d.line)).toEqual([2, 4, 6, 8]);
    expect(report.damaged[3]!.error).toMatch(/^cut off/);
  });

  it('creates the master key file 0600 on first use, warns to back it up, and reuses it', async () => {
    const h = await fileHarness();
    const store = await h.open();
    const id = await store.putBackup('env', Buffer.from('JWT_SECRET=abc\n'));
    const keyPath = join(h.dir, 'master.key');
    expect((await stat(keyPath)).mode & 0o777).toBe(0o600);
    expect(Buffer.from((await readFile(keyPath, 'utf8')).trim(), 'base64')).toHaveLength(32);
    expect(h.warnings.filter((w) => w.includes('master key'))).toHaveLength(1);
    expect(h.warnings[0]).toMatch(/back it up/);
    expect((await (await h.open()).getBackup(id)).toString()).toBe('JWT_SECRET=abc\n');
    expect(h.warnings.filter((w) => w.includes('master key'))).toHaveLength(1);
    for (const file of await filesUnder(join(h.dir, 'backups'))) expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('uses ROTATE_MASTER_KEY over the key file, and creates no key file when it is set', async () => {
    const h = await fileHarness();
    const envKey = randomBytes(32).toString('hex');
    const withEnv = await h.open({ masterKey: envKey });
    const envId = await withEnv.putBackup('env', Buffer.from('A=1\n'));
    await expect(stat(join(h.dir, 'master.key'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await (await h.open({ masterKey: envKey })).getBackup(envId)).toString()).toBe('A=1\n');
  });

  it('never makes a new key over sealed data: without the key it names where it was, exit 2 (3 with a pending run)', async () => {
    const h = await fileHarness();
    const envKey = randomBytes(32).toString('hex');
    await (await h.open({ masterKey: envKey })).putBackup('env', Buffer.from('A=1\n'));
    const before = await h.atRest();
    const missing = await (await h.open()).acquireLock('resume').then(
      () => undefined,
      (e: unknown) => e as { code: string; exitCode: number; message: string; hint: string },
    );
    expect(missing).toMatchObject({ code: 'MASTER_KEY_MISSING', exitCode: 2 });
    expect(missing?.message).toContain(join(h.dir, 'master.key'));
    expect(missing?.message).toContain('1 backup(s)');
    expect(missing?.hint).toContain('ROTATE_MASTER_KEY');
    await expect(stat(join(h.dir, 'master.key'))).rejects.toMatchObject({ code: 'ENOENT' });
    await expect((await h.open()).seal('x', 'p')).rejects.toMatchObject({ code: 'MASTER_KEY_MISSING' });
    expect(await h.atRest()).toBe(before);
    await expect(stat(join(h.dir, 'lock'))).rejects.toMatchObject({ code: 'ENOENT' });

    await mkdir(join(h.dir, 'journal'));
    await writeFile(join(h.dir, 'journal', 'jwt.json'), '{}');
    await expect((await h.open()).acquireLock('resume')).rejects.toMatchObject({ code: 'PENDING_RUN_KEY_MISSING', exitCode: 3 });
  });

  it('a deleted master.key is not replaced while backups or a journal exist', async () => {
    const h = await fileHarness();
    await (await h.open()).putBackup('env', Buffer.from('A=1\n'));
    await rm(join(h.dir, 'master.key'));
    await expect((await h.open()).acquireLock('resume')).rejects.toMatchObject({
      code: 'MASTER_KEY_MISSING',
      hint: expect.stringContaining(`restore ${join(h.dir, 'master.key')}`),
    });
    await expect(stat(join(h.dir, 'master.key'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('keeps a key check beside the sealed data (a MAC, never the key); a ROTATE_MASTER_KEY that differs from master.key is refused', async () => {
    const h = await fileHarness();
    const store = await h.open();
    await store.putBackup('env', Buffer.from('A=1\n'));
    const key = (await readFile(join(h.dir, 'master.key'), 'utf8')).trim();
    const check = JSON.parse(await readFile(join(h.dir, 'key-check.json'), 'utf8'));
    expect(check).toMatchObject({ check: expect.stringMatching(/^[0-9a-f]{64}$/), source: 'master.key' });
    const raw = Buffer.from(key, 'base64');
    for (const form of [key, raw.toString('hex'), raw.toString('base64url')]) expect(JSON.stringify(check)).not.toContain(form);
    expect((await stat(join(h.dir, 'key-check.json'))).mode & 0o777).toBe(0o600);

    await expect((await h.open({ masterKey: randomBytes(32).toString('hex') })).acquireLock('rotate jwt')).rejects.toMatchObject({
      code: 'MASTER_KEY_MISMATCH',
      exitCode: 2,
      hint: expect.stringContaining('unset ROTATE_MASTER_KEY'),
    });
    // The same key given in the environment is fine.
    await (await (await h.open({ masterKey: key })).acquireLock('rotate jwt')).release();
  });

  it('a store from before key checks: the right key writes the check, a wrong one is refused', async () => {
    const h = await fileHarness();
    const id = await (await h.open()).putBackup('env', Buffer.from('A=1\n'));
    await rm(join(h.dir, 'key-check.json'));
    await expect((await h.open({ masterKey: randomBytes(32).toString('hex') })).acquireLock('x')).rejects.toMatchObject({
      code: 'MASTER_KEY_MISMATCH',
      exitCode: 2,
    });
    await expect(stat(join(h.dir, 'key-check.json'))).rejects.toMatchObject({ code: 'ENOENT' });
    expect((await (await h.open()).getBackup(id)).toString()).toBe('A=1\n');
    expect(JSON.parse(await readFile(join(h.dir, 'key-check.json'), 'utf8')).source).toBe('master.key');
  });

  it('fails with MASTER_KEY_MISMATCH (exit 2) when the key file was replaced', async () => {
    const h = await fileHarness();
    const id = await (await h.open()).putBackup('env', Buffer.from('A=1\n'));
    await writeFile(join(h.dir, 'master.key'), `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    await expect((await h.open()).getBackup(id)).rejects.toMatchObject({ code: 'MASTER_KEY_MISMATCH', exitCode: 2 });
  });

  it("writes .rotate/.gitignore with * once, and keeps an operator's own", async () => {
    const h = await fileHarness();
    await (await h.open()).putBackup('jwt', Buffer.from('A=1\n'));
    expect(await readFile(join(h.dir, '.gitignore'), 'utf8')).toBe('*\n');
    await writeFile(join(h.dir, '.gitignore'), '*\n!README\n');
    await (await h.open()).acquireLock('x').then((l) => l.release());
    expect(await readFile(join(h.dir, '.gitignore'), 'utf8')).toBe('*\n!README\n');
  });

  it('refuses (STORE_NOT_PRIVATE, exit 2) a store folder or master.key that group or others can read, naming the chmod', async () => {
    const h = await fileHarness();
    const store = await h.open();
    await store.putBackup('jwt', Buffer.from('A=1\n'));
    await chmod(h.dir, 0o755);
    const before = await h.atRest();
    await expect((await h.open()).acquireLock('rotate jwt')).rejects.toMatchObject({
      code: 'STORE_NOT_PRIVATE',
      exitCode: 2,
      message: expect.stringContaining('0755'),
      hint: `chmod 700 ${h.dir}`,
    });
    await expect(stat(join(h.dir, 'lock'))).rejects.toMatchObject({ code: 'ENOENT' });
    await chmod(h.dir, 0o700);
    await chmod(join(h.dir, 'master.key'), 0o640);
    await expect((await h.open()).seal('x', 'p')).rejects.toMatchObject({
      code: 'STORE_NOT_PRIVATE',
      hint: `chmod 600 ${join(h.dir, 'master.key')}`,
    });
    await expect((await h.open()).acquireLock('rotate jwt')).rejects.toMatchObject({ code: 'STORE_NOT_PRIVATE' });
    expect(await h.atRest()).toBe(before);
    await chmod(join(h.dir, 'master.key'), 0o600);
    await (await h.open()).acquireLock('rotate jwt').then((l) => l.release());
  });

  // #22 item 11: mode alone is not enough (ssh's StrictModes): a store or master.key owned by another user is refused.
  it.runIf(process.getuid?.() === 0)('refuses (STORE_NOT_OWNED, exit 2) a store folder or master.key owned by another user', async () => {
    const h = await fileHarness();
    await (await h.open()).putBackup('jwt', Buffer.from('A=1\n'));
    const before = await h.atRest();
    await chown(h.dir, 4242, 4242);
    await expect((await h.open()).acquireLock('rotate jwt')).rejects.toMatchObject({
      code: 'STORE_NOT_OWNED',
      exitCode: 2,
      message: expect.stringContaining('owned by user id 4242'),
      hint: expect.stringContaining(`chown 0 ${h.dir}`),
    });
    await chown(h.dir, 0, 0);
    await chown(join(h.dir, 'master.key'), 4242, 4242);
    await expect((await h.open()).seal('x', 'p')).rejects.toMatchObject({ code: 'STORE_NOT_OWNED' });
    expect(await h.atRest()).toBe(before);
    await chown(join(h.dir, 'master.key'), 0, 0);
    await (await h.open()).acquireLock('rotate jwt').then((l) => l.release());
  });

  it('a store owned by root is accepted for another user, as ssh accepts root-owned files', async () => {
    const { assertPrivate } = await import('../../src/store/file-key.js');
    const h = await fileHarness();
    await (await h.open()).putBackup('jwt', Buffer.from('A=1\n'));
    const owner = (await stat(h.dir)).uid;
    await expect(assertPrivate(h.dir, 'folder', 0o700, owner)).resolves.toBeUndefined();
    if (owner === 0) await expect(assertPrivate(h.dir, 'folder', 0o700, 1000)).resolves.toBeUndefined();
    else await expect(assertPrivate(h.dir, 'folder', 0o700, owner + 1)).rejects.toMatchObject({ code: 'STORE_NOT_OWNED' });
  });

  it('removes the temp files a kill during a write left (journal/<id>.json.<n>, state.json.<n>) when the next run takes the lock', async () => {
    const h = await fileHarness();
    const store = await h.open();
    await store.acquireLock('warm-up').then((l) => l.release());
    await mkdir(join(h.dir, 'journal'));
    const left = [join(h.dir, 'journal', 'jwt.json.2733105911'), join(h.dir, 'state.json.15'), join(h.dir, 'backups.enc.1')];
    for (const file of left) await writeFile(file, '{"half":');
    await writeFile(join(h.dir, 'journal', 'notes.txt'), 'mine');
    const lock = await (await h.open()).acquireLock('rotate jwt');
    for (const file of left) await expect(stat(file)).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readFile(join(h.dir, 'journal', 'notes.txt'), 'utf8')).toBe('mine');
    expect(h.warnings.filter((w) => w.includes('interrupted'))).toHaveLength(3);
    expect(await store.readJournals()).toEqual([]);
    await lock.release();
  });

  it('a damaged journal points to restoring the env file (rotate backups restore), not only to moving it aside', async () => {
    const h = await fileHarness();
    await (await h.open()).acquireLock('warm-up').then((l) => l.release());
    await mkdir(join(h.dir, 'journal'));
    const path = join(h.dir, 'journal', 'jwt.json');
    await writeFile(path, '{"runId": "r1", "steps": [');
    await expect((await h.open()).readJournals()).rejects.toMatchObject({
      code: 'STORE_CORRUPT',
      exitCode: 3,
      message: expect.stringContaining(path),
      hint: expect.stringMatching(/rotate backups restore.*never verified|never verified.*rotate backups restore/),
    });
  });

  it('refuses a master key that is not 32 bytes', async () => {
    const h = await fileHarness();
    await expect((await h.open({ masterKey: 'too-short' })).seal('x', 'p')).rejects.toMatchObject({
      code: 'MASTER_KEY_INVALID',
    });
  });

  it('keeps nothing sealed in the journal readable without the key', async () => {
    const h = await fileHarness();
    const store = await h.open();
    const secret = randomBytes(24).toString('base64url');
    const sealed = await store.seal(JSON.stringify({ JWT_SECRET: secret }), 'rotation:run-1');
    await store.writeJournal({
      format: 2,
      runId: 'run-1',
      mode: 'rotate',
      startedAt: new Date().toISOString(),
      host: hostname(),
      pid: process.pid,
      emergency: false,
      secrets: [{ secret: 'jwt', kind: 'jwt', rotation: { facts: {}, envKeys: ['JWT_SECRET'], sealed }, steps: [] }],
      steps: [],
    });
    expect(await h.atRest()).not.toContain(secret);
    expect((await stat(join(h.dir, 'journal', 'run-1.json'))).mode & 0o777).toBe(0o600);
  });
});
