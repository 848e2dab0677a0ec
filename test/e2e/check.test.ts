// rotate check on a real git repository: a committed env file, a value reused under another key, a weak JWT secret,
// a placeholder from .env.example; each found with its fix, exit 1, and no value in any output.
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { outputSchema } from '../../src/terminal/output-schema.js';
import { findLeaks, runCli, scratchDir } from '../helpers/cli.js';

const WEAK = 'short-jwt-secret-123';
const SHARED = 'Vq3b9TzK1mX8pL2wR7nY4cF6hJ0sD5gA';
const PLACEHOLDER = 'please-replace-this-redis-password';

describe('rotate check', () => {
  it('finds a committed env file, a reused value, a weak secret and a placeholder, never printing a value', async () => {
    const dir = scratchDir('rotate-check-');
    writeFileSync(
      join(dir, '.env'),
      `JWT_SECRET=${WEAK}\nJWT_REFRESH_SECRET=${SHARED}\nAPI_TOKEN=${SHARED}\nREDIS_URL=redis://:${PLACEHOLDER}@127.0.0.1:6379/0\n`,
      { mode: 0o600 },
    );
    writeFileSync(join(dir, '.env.example'), `REDIS_URL=redis://:${PLACEHOLDER}@localhost:6379/0\nREDIS_PASSWORD=${PLACEHOLDER}\n`);
    const git = (...args: string[]) =>
      execFileSync('git', ['-c', 'user.email=a@b.c', '-c', 'user.name=a', ...args], { cwd: dir, stdio: 'pipe' });
    git('init', '-q');
    git('add', '.env');
    git('commit', '-qm', 'oops');

    const result = await runCli(['check', '--json'], { cwd: dir });
    expect(result.code, result.stderr).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(outputSchema.safeParse(doc).success).toBe(true);
    const ids = doc.results.map((f: { id: string; secret?: string }) => `${f.id}${f.secret ? `:${f.secret}` : ''}`);
    expect(ids).toEqual(
      expect.arrayContaining(['env-file-tracked', 'value-too-short:jwt', 'value-reused:jwt-refresh', 'value-placeholder:redis']),
    );
    const tracked = doc.results.find((f: { id: string }) => f.id === 'env-file-tracked');
    expect(tracked).toMatchObject({ severity: 'error', where: join(dir, '.env') });
    expect(tracked.fix).toContain('git rm --cached .env');
    const reused = doc.results.find((f: { id: string }) => f.id === 'value-reused');
    expect(reused.where).toContain('JWT_REFRESH_SECRET and API_TOKEN');

    // The dry run of a rotation carries the finding a rotation would make worse: the new value would be committed next.
    const dry = JSON.parse((await runCli(['--dry-run', 'jwt', '--json'], { cwd: dir })).stdout);
    expect(dry.exitCode).toBe(1);
    expect(dry.results[0].checks).toContainEqual(expect.objectContaining({ name: 'policy: env-file-tracked', ok: false }));

    const human = await runCli(['check'], { cwd: dir });
    expect(human.code).toBe(1);
    expect(human.stdout).toMatch(/error {3}env-file-tracked/);
    expect(findLeaks({ json: result.stdout + result.stderr, human: human.stdout + human.stderr }, [WEAK, SHARED, PLACEHOLDER])).toEqual([]);
  });

  it('passes (exit 0) a private, ignored env file with strong values; warns about one that is not ignored and group-readable', async () => {
    const dir = scratchDir('rotate-check-');
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${'aB3dE6gH9jK2mN5pQ8sT1vW4yZ7bC0eF'}x9\n`, { mode: 0o600 });
    execFileSync('git', ['init', '-q'], { cwd: dir });
    writeFileSync(join(dir, '.gitignore'), '.env\n.rotate/\n');
    const config = { secrets: { jwt: {} } };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
    // mark it rotated so that never-rotated does not warn
    const ok = await runCli(['check', '--json'], { cwd: dir });
    const okDoc = JSON.parse(ok.stdout);
    expect(okDoc.results.filter((f: { severity: string }) => f.severity === 'error')).toEqual([]);
    expect(ok.code).toBe(0);

    writeFileSync(join(dir, '.gitignore'), '.rotate/\n');
    chmodSync(join(dir, '.env'), 0o640);
    const warned = JSON.parse((await runCli(['check', '--json'], { cwd: dir })).stdout);
    expect(warned.exitCode).toBe(0);
    expect(warned.results.map((f: { id: string; severity: string }) => `${f.id}/${f.severity}`)).toEqual(
      expect.arrayContaining(['env-file-not-ignored/warning', 'env-file-readable/warning', 'secret-never-rotated/warning']),
    );
  });
});
