import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStore } from '../../src/store/file.js';

// #22 item 4: a store on a full disk. A real full filesystem: a 256 KiB tmpfs mounted for this file (needs root,
// which the test machines run as; elsewhere the file says why it did not run).
const canMount = process.getuid?.() === 0;
const mountPoint = mkdtempSync(join(tmpdir(), 'rotate-full-'));
const holder = { pid: process.pid, host: hostname() };
const masterKey = 'd'.repeat(64);

beforeAll(() => {
  if (canMount) execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mountPoint]);
});
afterAll(() => {
  if (canMount) execFileSync('umount', ['-l', mountPoint]);
  rmSync(mountPoint, { recursive: true, force: true });
});

/** Fills the filesystem until a write fails with ENOSPC; returns the filler's path (delete it to free the space). */
async function fill(dir: string): Promise<string> {
  const path = join(dir, 'filler');
  const handle = await open(path, 'w');
  try {
    const chunk = Buffer.alloc(4096, 1);
    for (;;) await handle.write(chunk);
  } catch (error) {
    expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
  } finally {
    await handle.close();
  }
  return path;
}

describe.runIf(canMount)('FileStore on a full disk (real tmpfs)', () => {
  it('the lock is never left half-written: ENOSPC is STORE_FULL naming the lock file, and the next run takes the lock', async () => {
    const dir = join(mountPoint, 'lock-case', '.rotate');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = new FileStore({ dir, masterKey, holder, warn: () => {} });
    // The key check and .gitignore first, while there is room: the case is a disk that fills up between runs.
    await (await store.acquireLock('rotate')).release();
    const filler = await fill(join(mountPoint, 'lock-case'));
    const error = await store.acquireLock('rotate').catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_FULL', exitCode: 1 });
    expect((error as Error).message).toContain(join(dir, 'lock'));
    expect((error as { hint?: string }).hint).toContain(`df -h ${dir}`);
    expect(readdirSync(dir).filter((n) => n.startsWith('lock'))).toEqual([]);
    rmSync(filler);
    const lock = await store.acquireLock('rotate');
    await lock.release();
  });

  it('a state or journal write on a full disk is STORE_FULL naming the file, and leaves the old file whole', async () => {
    const dir = join(mountPoint, 'state-case', '.rotate');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const store = new FileStore({ dir, masterKey, holder, warn: () => {} });
    await store.writeState('jwt', { lastRotatedAt: '2026-01-01T00:00:00.000Z' });
    const filler = await fill(join(mountPoint, 'state-case'));
    const error = await store
      .writeState('jwt', { lastRotatedAt: '2026-12-01T00:00:00.000Z', lastRunId: 'x'.repeat(5000) })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'STORE_FULL' });
    expect((error as Error).message).toContain(join(dir, 'state.json'));
    expect(await store.readStates()).toEqual({ jwt: { lastRotatedAt: '2026-01-01T00:00:00.000Z' } });
    rmSync(filler);
  });

  it('an empty lock an older rotate left on a full disk is taken over with a warning, not STORE_CORRUPT forever', async () => {
    const dir = join(mountPoint, 'empty-lock', '.rotate');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const warnings: string[] = [];
    const store = new FileStore({ dir, masterKey, holder, warn: (m) => warnings.push(m) });
    await (await store.acquireLock('rotate')).release();
    writeFileSync(join(dir, 'lock'), '', { mode: 0o600 });
    const past = new Date(Date.now() - 120_000);
    const { utimesSync } = await import('node:fs');
    utimesSync(join(dir, 'lock'), past, past);
    const lock = await store.acquireLock('rotate');
    await lock.release();
    expect(warnings.join('\n')).toContain('an empty or torn lock');
  });
});
