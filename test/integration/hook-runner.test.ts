// The hook runner with the real child processes of processDeps: values only in the environment, output redacted,
// a timeout that ends the hook's whole process group.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processDeps } from '../../src/commands/process-deps.js';
import type { EngineDeps } from '../../src/engine/session.js';
import type { RotateError } from '../../src/errors.js';
import { runHook } from '../../src/hooks/run.js';
import { type HookConfig, hookSchema } from '../../src/hooks/schema.js';
import { SecretValue } from '../../src/secret-value.js';
import { running } from '../app/running.mjs';
import { scratchDir } from '../helpers/cli.js';
import { waitUntil } from '../helpers/wait.js';

// Hostile on purpose: quotes, a dollar, a space, a newline-free shell metacharacter mix.
const NEW = `new-'value "$HOME" ; rm -rf x 0123456789`;
const OLD = 'old-value-abcdefghijklmnopqrstuvwxyz';
const forms = (value: string) => [value, Buffer.from(value).toString('base64'), Buffer.from(value).toString('hex')];

function deps(): { deps: EngineDeps; logged: string[] } {
  const logged: string[] = [];
  const real = processDeps({ quiet: true, verbose: false, unattended: true, privateEnvNames: ['APP_ADMIN_URL'] });
  const log = { info: (m: string) => logged.push(m), warn: (m: string) => logged.push(m), debug: (m: string) => logged.push(m) };
  return { deps: { ...real, log, environment: { ...process.env, APP_ADMIN_URL: 'postgres://x' } }, logged };
}
const hook = (run: string, extra: Partial<HookConfig> = {}) => hookSchema.parse({ run, ...extra });
const values = { newValue: new SecretValue(NEW), oldValue: new SecretValue(OLD) };

async function failure(promise: Promise<unknown>): Promise<RotateError> {
  try {
    await promise;
  } catch (error) {
    return error as RotateError;
  }
  throw new Error('expected the hook to fail');
}

describe('runHook', () => {
  it('gives the values only as ROTATE_NEW_VALUE / ROTATE_OLD_VALUE, in the config folder, never in argv', async () => {
    const dir = scratchDir('rotate-hook-');
    const { deps: d } = deps();
    const run =
      'tr "\\0" " " < /proc/$$/cmdline > argv.txt; printf %s "$ROTATE_NEW_VALUE" > new.txt; printf %s "$ROTATE_OLD_VALUE" > old.txt; env > env.txt';
    await runHook('jwt', 'afterApply', hook(run), values, dir, d);
    expect(readFileSync(join(dir, 'new.txt'), 'utf8')).toBe(NEW);
    expect(readFileSync(join(dir, 'old.txt'), 'utf8')).toBe(OLD);
    const argv = readFileSync(join(dir, 'argv.txt'), 'utf8');
    for (const form of [...forms(NEW), ...forms(OLD)]) expect(argv).not.toContain(form);
    const env = readFileSync(join(dir, 'env.txt'), 'utf8');
    expect(env).toContain('ROTATE_SECRET=jwt');
    expect(env).toContain('ROTATE_HOOK=afterApply');
    // rotate's own credentials do not follow the values in.
    expect(env).not.toContain('APP_ADMIN_URL');
    expect(env).not.toContain('ROTATE_MASTER_KEY');
  });

  it('a failing hook that prints the value: HOOK_FAILED naming the hook, its output redacted in every form', async () => {
    const { deps: d, logged } = deps();
    const run =
      'echo "migrating with $ROTATE_NEW_VALUE"; printf %s "$ROTATE_NEW_VALUE" | base64; printf %s "$ROTATE_OLD_VALUE" | od -An -tx1 | tr -d " \\n"; echo; exit 3';
    const error = await failure(runHook('database', 'before', hook(run), values, scratchDir('rotate-hook-'), d));
    expect(error.code).toBe('HOOK_FAILED');
    expect(error.message).toBe('hook before of database exited with 3');
    expect(error.hint).toContain('secrets.database.hooks.before.run');
    expect(error.hint).toContain('migrating with [redacted]');
    const shown = `${error.message}\n${error.hint}\n${logged.join('\n')}`;
    for (const form of [...forms(NEW), ...forms(OLD)]) expect(shown).not.toContain(form);
  });

  it('a hook that succeeds and prints the value shows it redacted', async () => {
    const { deps: d, logged } = deps();
    await runHook('jwt', 'afterVerify', hook('echo "flushed for $ROTATE_NEW_VALUE"'), values, scratchDir('rotate-hook-'), d);
    expect(logged.join('\n')).toContain('flushed for [redacted]');
    expect(logged.join('\n')).not.toContain(NEW);
  });

  it('a hook that hangs: killed with what it started after timeoutSeconds, HOOK_TIMEOUT', async () => {
    const dir = scratchDir('rotate-hook-');
    const { deps: d } = deps();
    const started = Date.now();
    const error = await failure(
      runHook('jwt', 'afterApply', hook('sleep 60 & echo $! > child.pid; wait', { timeoutSeconds: 0.5 }), values, dir, d),
    );
    expect(error.code).toBe('HOOK_TIMEOUT');
    expect(error.message).toContain('did not finish within 0.5s');
    expect(error.hint).toContain('secrets.jwt.hooks.afterApply.timeoutSeconds');
    expect(Date.now() - started).toBeLessThan(10_000);
    const child = Number(readFileSync(join(dir, 'child.pid'), 'utf8'));
    expect(await waitUntil(() => !running(child), 5000)).toBe(true);
    expect(existsSync(join(dir, 'child.pid'))).toBe(true);
  });

  it('defaults: runOn one, 300 s, not idempotent; refuses an unknown runOn', () => {
    expect(hook('true')).toEqual({ run: 'true', runOn: 'one', timeoutSeconds: 300, idempotent: false });
    expect(() => hook('true', { runOn: 'all' as never })).toThrow(/one or every/);
  });
});
