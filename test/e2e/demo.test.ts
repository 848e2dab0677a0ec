// npm run demo: its diff of the env file is a real unified diff, before and after, with every value masked.
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { expect, it } from 'vitest';
import { findLeaks, ROOT } from '../helpers/cli.js';

function runDemo(): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/demo.mjs')], { env: { ...process.env, NO_COLOR: '1' } });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout }));
  });
}

it('the demo rotates for real and shows a masked unified diff of .env, never a value', async () => {
  const demo = await runDemo();
  const dir = /demo folder: (\S+)/.exec(demo.stdout)?.[1];
  expect(dir, demo.stdout).toBeDefined();
  try {
    expect(demo.code, demo.stdout).toBe(0);
    const diff = demo.stdout.slice(demo.stdout.indexOf('diff -u .env'));
    expect(diff).toContain('--- .env (before)\n+++ .env (after)\n@@ ');
    const removed = /^-JWT_SECRET=\*{4}… \(fingerprint ([0-9a-f]{12})\)$/m.exec(diff);
    const added = /^\+JWT_SECRET=\*{4}… \(fingerprint ([0-9a-f]{12})\)$/m.exec(diff);
    expect(removed, diff).not.toBeNull();
    expect(added, diff).not.toBeNull();
    expect(removed![1]).not.toBe(added![1]);
    // One fingerprint form (#25 item 8): the history the demo printed shows the same two, old -> new.
    expect(demo.stdout.slice(0, demo.stdout.indexOf('diff -u .env'))).toContain(`${removed![1]} -> ${added![1]}`);
    // Lines that did not change are context, not part of the change; non-secret values stay readable.
    expect(diff).toMatch(/^ APP_ENV=production$/m);
    expect(diff).toMatch(/^ JWT_ACCESS_TOKEN_MINUTES=15$/m);
    const now = dotenv.parse(readFileSync(join(dir!, '.env'))).JWT_SECRET!;
    expect(findLeaks({ demo: demo.stdout }, [now])).toEqual([]);
  } finally {
    rmSync(dir!, { recursive: true, force: true });
  }
}, 120_000);
