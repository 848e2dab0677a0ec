// The package as npm ships it, and the bin as a shell runs it: through its shebang, not as `node rotate.js`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, runCli, scratchDir } from '../helpers/cli.js';

const SECRET = 'package-test-secret-0123456789-0123456789';

describe('the package', () => {
  it('npm pack ships the built CLI, the schemas and the docs, and nothing else', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: ROOT, encoding: 'utf8' });
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path);
    for (const path of [
      'dist/bin/rotate.js',
      'schema/rotate.config.schema.json',
      'schema/rotate.output.schema.json',
      'man/rotate.1',
      'README.md',
      'docs/runbook.md',
      'package.json',
    ]) {
      expect(files).toContain(path);
    }
    const outside = files.filter((f) => !/^(dist\/bin\/|schema\/|man\/|docs\/|README\.md$|package\.json$|LICENSE)/.test(f));
    expect(outside).toEqual([]);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    // A fresh clone has no dist/: packing it must build first.
    expect(pkg.scripts.prepack).toBe('npm run build');
    expect(pkg.bin.rotate).toBe('dist/bin/rotate.js');
    // A list: npm links the man pages of a global install (into <prefix>/share/man/man1) only when `man` is an array
    // (bin-links' linkMans skips a string), so `man rotate` would find nothing.
    expect(pkg.man).toEqual(['./man/rotate.1']);
  });

  it('the bin is executable and stops Node from reading its options', () => {
    expect(statSync(CLI).mode & 0o111).not.toBe(0);
    expect(readFileSync(CLI, 'utf8').split('\n')[0]).toBe('#!/usr/bin/env -S node --');
  });

  it("--env-file with a missing file is rotate's own exit 2, also as one JSON document", async () => {
    const dir = scratchDir();
    const plain = await runCli(['--env-file', 'nope.env', 'status'], { cwd: dir, shebang: true });
    expect(plain.code).toBe(2);
    expect(plain.stderr).toContain('[ENV_FILE_MISSING]');
    expect(plain.stderr).toContain(join(dir, 'nope.env'));
    expect(plain.stderr).not.toContain('node:');
    const json = await runCli(['--dry-run', '--all', '--env-file', 'nope.env', '--json'], { cwd: dir, shebang: true });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, exitCode: 2, error: { code: 'ENV_FILE_MISSING' } });
    expect(existsSync(join(dir, '.rotate'))).toBe(false);
  });

  it('--env-file with a file that exists is the file rotate edits, never loaded into its own environment', async () => {
    const dir = scratchDir();
    // Were Node to load this file (Node 20 checks the path; the issue saw versions load it), rotate would take its
    // master key from it and write no master.key of its own.
    writeFileSync(join(dir, 'app.env'), `JWT_SECRET=${SECRET}\nROTATE_MASTER_KEY=${'e'.repeat(64)}\n`);
    const result = await runCli(['jwt', '--yes', '--no-restart', '--env-file', 'app.env', '--json'], {
      cwd: dir,
      shebang: true,
      env: { ROTATE_MASTER_KEY: undefined },
    });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).results[0]).toMatchObject({ secret: 'jwt', status: 'written', applied: false });
    expect(readFileSync(join(dir, 'app.env'), 'utf8')).not.toContain(SECRET);
    expect(existsSync(join(dir, '.rotate/master.key'))).toBe(true);
    expect(existsSync(join(dir, '.env'))).toBe(false);
  });
});
