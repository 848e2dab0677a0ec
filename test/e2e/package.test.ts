// The package as npm ships it, and the bin as a shell runs it: through its shebang, not as `node rotate.js`.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, ROOT, runCli, scratchDir } from '../helpers/cli.js';

const SECRET = 'package-test-secret-0123456789-0123456789';

/** Enough of npm's ranges for engines fields: `||`, `>=`, `^`, `x`/bare majors (`>=20`, `^20.17.0 || >=22.9.0`, `4.x`). */
function satisfies(version: string, range: string): boolean {
  const [major, minor, patch] = version.split('.').map(Number) as [number, number, number];
  const at = (v: string) => v.split('.').map((n) => (n === 'x' || n === '' ? 0 : Number(n)));
  const cmp = ([a = 0, b = 0, c = 0]: number[]) => major - a || minor - b || patch - c;
  return range.split('||').some((part) => {
    const p = part.replace(/\s+/g, '');
    if (p.startsWith('>=')) return cmp(at(p.slice(2))) >= 0;
    if (p.startsWith('^')) return at(p.slice(1))[0] === major && cmp(at(p.slice(1))) >= 0;
    if (/^\d+(\.x)?$/.test(p)) return Number.parseInt(p, 10) === major;
    throw new Error(`range not understood: ${range}`);
  });
}

/** Every installed package the CLI depends on at run time, with its own engines.node. */
function runtimeEngines(): { name: string; node: string }[] {
  const out = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8' });
  return out
    .split('\n')
    .slice(1)
    .filter(Boolean)
    .map((dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')))
    .filter((pkg) => typeof pkg.engines?.node === 'string')
    .map((pkg) => ({ name: `${pkg.name}@${pkg.version}`, node: pkg.engines.node }));
}

describe('the package', () => {
  it('engines.node promises only Node versions every run-time dependency supports', () => {
    const ours = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).engines.node;
    const deps = runtimeEngines();
    const versions = ['20.18.0', '20.19.0', '21.7.0', '22.0.0', '22.8.0', '22.9.0', '23.0.0', '24.0.0', '25.0.0'];
    const broken = versions.flatMap((v) =>
      satisfies(v, ours) ? deps.filter((d) => !satisfies(v, d.node)).map((d) => `${v}: ${d.name} wants ${d.node}`) : [],
    );
    expect(broken).toEqual([]);
    // The versions CI runs the CLI on are promised.
    for (const v of ['20.19.0', '22.9.0', '24.0.0']) expect(satisfies(v, ours), v).toBe(true);
  });

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
    // A fresh clone has no dist/: packing it (and `npm install -g .`, `npm ci`, a git URL install) must build first.
    // `prepare` runs for all of them; scripts/prepare.mjs installs the build tools first when npm linked a bare clone.
    expect(pkg.scripts.prepare).toBe('node scripts/prepare.mjs');
    expect(pkg.scripts.prepack).toBeUndefined(); // it would build a second time on npm pack
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
