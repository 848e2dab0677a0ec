// The README's first command on a fresh clone: npm run demo (here its script, on the built CLI) rotates for real.
import { spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { ROOT } from '../helpers/cli.js';

it('the demo rotates JWT against the stand-in app and, piped, prints no terminal escapes', async () => {
  const env: NodeJS.ProcessEnv = { ...process.env };
  delete env.NO_COLOR;
  delete env.ROTATE_MASTER_KEY;
  const child = spawn(process.execPath, [join(ROOT, 'scripts/demo.mjs')], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  const folder = /^demo folder: (.+)$/m.exec(stdout)?.[1];
  if (folder) rmSync(folder, { recursive: true, force: true });

  expect(code, stderr).toBe(0);
  expect(stdout).toContain('$ rotate jwt --yes');
  expect(stdout).toMatch(/jwt \(jwt\): rotated and verified/);
  // stdout is a pipe here: no bold headings, no colour (CONTRACT.md: colour only on a terminal).
  expect(stdout).not.toContain('\u001b[');
});
