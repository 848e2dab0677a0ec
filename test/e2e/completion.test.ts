// Shell completion: the bash script asks rotate itself, at TAB time, for the configured secret ids and the backup ids.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI, scratchDir } from '../helpers/cli.js';

const BACKUP = '2026-12-01T03-15-00-000Z-jwt-a1b2c3';
const VALUE = 'completion-test-value-0123456789-0123456789';

describe('rotate completion bash', () => {
  it('offers the config’s secret ids, and backup ids after `rotate backups restore`, never a value', () => {
    const dir = scratchDir();
    writeFileSync(join(dir, '.env'), `JWT_SECRET=${VALUE}\nSESSION_KEY=${VALUE}x\n`, { mode: 0o600 });
    writeFileSync(
      join(dir, 'rotate.config.json'),
      JSON.stringify({
        services: { app: { restart: 'true' } },
        secrets: { jwt: { services: ['app'] }, 'session-key': { kind: 'jwt', env: 'SESSION_KEY', services: ['app'] } },
      }),
    );
    mkdirSync(join(dir, '.rotate', 'backups'), { recursive: true });
    writeFileSync(join(dir, '.rotate', 'backups', `${BACKUP}.enc`), 'sealed');
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'rotate'), `#!/bin/sh\nexec "${process.execPath}" "${CLI}" "$@"\n`);
    chmodSync(join(dir, 'bin', 'rotate'), 0o755);

    const complete = (...words: string[]) =>
      execFileSync(
        'bash',
        [
          '-c',
          'source <(rotate completion bash) && COMP_WORDS=("$@") && COMP_CWORD=$(($# - 1)) && _rotate && printf "%s\\n" "$' +
            '{COMPREPLY[@]}"',
          'bash',
          ...words,
        ],
        { cwd: dir, encoding: 'utf8', env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` } },
      )
        .trim()
        .split('\n');

    const top = complete('rotate', '');
    expect(top).toEqual(expect.arrayContaining(['jwt', 'session-key', 'status', 'backups', '--due']));
    expect(top).not.toContain('stripe'); // the built-in ids only when no config says otherwise
    expect(complete('rotate', 'verify', 's')).toEqual(['session-key']);
    expect(complete('rotate', 'backups', 'restore', '')).toEqual([BACKUP]);
    expect(complete('rotate', 'backups', '')).toContain('restore');
    for (const word of [...top, ...complete('rotate', 'rollback', '')]) expect(word).not.toContain(VALUE);
  });

  it('--list prints ids one per line, and nothing (exit 0) where the config is broken', () => {
    const dir = scratchDir();
    const list = (what: string) => execFileSync(process.execPath, [CLI, 'completion', '--list', what], { cwd: dir, encoding: 'utf8' });
    writeFileSync(join(dir, 'rotate.config.json'), '{ not json');
    expect(list('secrets')).toBe('');
    expect(list('backups')).toBe('');
    writeFileSync(
      join(dir, 'rotate.config.json'),
      JSON.stringify({ services: { app: { restart: 'true' } }, secrets: { jwt: { services: ['app'] } } }),
    );
    expect(list('secrets')).toBe('jwt\n');
    expect(list('backups')).toBe('');
  });
});
