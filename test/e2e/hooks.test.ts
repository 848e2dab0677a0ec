// secrets.<id>.hooks with the built CLI and the stand-in app: the order they run in, the values only in their
// environment, a failing hook rolling back (onRollback then runs), a kill in the middle of a hook and its resume.

import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { authStatus } from '../helpers/app.js';
import { CLI, readTree } from '../helpers/cli.js';
import { eachJwtProject, type JwtProject, OLD_JWT } from '../helpers/jwt-project.js';
import { waitUntil } from '../helpers/wait.js';

const log = (point: string) =>
  `echo "${point} $ROTATE_SECRET new=$(test -n "$ROTATE_NEW_VALUE" && echo set) old=$(test "$ROTATE_OLD_VALUE" = '${OLD_JWT}' && echo old)" >> hooks.log`;

function writeHooks(project: JwtProject, hooks: Record<string, unknown>) {
  const path = join(project.dir, 'rotate.config.json');
  const config = JSON.parse(readFileSync(path, 'utf8'));
  config.secrets.jwt.hooks = hooks;
  writeFileSync(path, JSON.stringify(config, null, 2));
}
const hooksLog = (project: JwtProject) =>
  existsSync(join(project.dir, 'hooks.log')) ? readFileSync(join(project.dir, 'hooks.log'), 'utf8') : '';

/** Every form of a value a leak could take: raw, base64, hex. */
const forms = (values: string[]) => values.flatMap((v) => [v, Buffer.from(v).toString('base64'), Buffer.from(v).toString('hex')]);
function leaks(texts: Record<string, string>, values: string[]): string[] {
  return Object.entries(texts).flatMap(([where, text]) => (forms(values).some((f) => text.includes(f)) ? [where] : []));
}

describe('secrets.<id>.hooks', () => {
  const project = eachJwtProject();

  it('run before, afterApply and afterVerify in order, with the values only in their environment, output redacted', async () => {
    const p = project();
    writeHooks(p, {
      before: { run: log('before') },
      // Prints the new value in two forms: rotate shows what a hook printed only redacted.
      afterApply: { run: `${log('afterApply')}; echo "new is $ROTATE_NEW_VALUE"; printf %s "$ROTATE_NEW_VALUE" | base64` },
      afterVerify: { run: log('afterVerify') },
      onRollback: { run: log('onRollback') },
    });
    const dry = await p.cli(['jwt', '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const steps: string[] = JSON.parse(dry.stdout).results[0].steps;
    expect(steps).toEqual([
      'hook-before',
      'apply',
      'write-target',
      'restart',
      'hook-afterApply',
      'verify',
      'hook-afterVerify',
      'retire',
      'verify-retired',
    ]);
    expect(hooksLog(p)).toBe('');
    const result = await p.cli(['jwt', '--yes', '--verbose']);
    expect(result.code, result.stderr).toBe(0);
    expect(hooksLog(p)).toBe(
      ['before jwt new=set old=old', 'afterApply jwt new=set old=old', 'afterVerify jwt new=set old=old', ''].join('\n'),
    );
    expect(result.stderr).toContain('new is [redacted]');
    const value = p.jwt()!;
    expect(await authStatus(p.app.url, value)).toBe(200);
    expect(leaks({ stdout: result.stdout, stderr: result.stderr, ...readTree(join(p.dir, '.rotate')) }, [value, OLD_JWT])).toEqual([]);
  });

  it('a failing afterVerify hook rolls back before retire, then onRollback runs with the old value', async () => {
    const p = project();
    writeHooks(p, {
      afterVerify: { run: `${log('afterVerify')}; echo "cannot migrate with $ROTATE_NEW_VALUE" >&2; exit 4` },
      onRollback: { run: log('onRollback') },
    });
    const result = await p.cli(['jwt', '--yes', '--json']);
    expect(result.code).toBe(1);
    expect(p.jwt()).toBe(OLD_JWT);
    expect(await authStatus(p.app.url, OLD_JWT)).toBe(200);
    expect(hooksLog(p)).toBe('afterVerify jwt new=set old=old\nonRollback jwt new=set old=old\n');
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0].status).toBe('rolled-back');
    expect(doc.results[0].error.code).toBe('HOOK_FAILED');
    expect(doc.results[0].error.message).toContain('hook afterVerify of jwt exited with 4');
    const history = await p.cli(['history', '--json']);
    expect(
      leaks({ stdout: result.stdout, stderr: result.stderr, history: history.stdout, ...readTree(join(p.dir, '.rotate')) }, [OLD_JWT]),
    ).toEqual([]);
  });

  it('a failing before hook changes nothing and runs no onRollback', async () => {
    const p = project();
    writeHooks(p, { before: { run: 'exit 1' }, onRollback: { run: log('onRollback') } });
    const result = await p.cli(['jwt', '--yes']);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('hook before of jwt exited with 1');
    expect(p.jwt()).toBe(OLD_JWT);
    expect(hooksLog(p)).toBe('');
  });

  it('killed in the middle of a hook: resume asks a person, then reruns it once marked idempotent', async () => {
    const p = project();
    const hanging = `${log('afterVerify')}; echo $$ > hook.pid; while [ ! -e release ]; do sleep 0.05; done`;
    writeHooks(p, { afterVerify: { run: hanging } });
    const child = spawn(process.execPath, [CLI, 'jwt', '--yes'], { cwd: p.dir, env: { ...process.env, NO_COLOR: '1' }, stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('close', resolve));
    expect(await waitUntil(() => existsSync(join(p.dir, 'hook.pid')), 30_000)).toBe(true);
    child.kill('SIGKILL');
    await exited;
    // The hook's own process group outlives rotate: end it as a reboot would.
    process.kill(-Number(readFileSync(join(p.dir, 'hook.pid'), 'utf8')), 'SIGKILL');
    const rotated = p.jwt()!;
    expect(rotated).not.toBe(OLD_JWT);

    const status = await p.cli(['status']);
    expect(status.stdout + status.stderr).toMatch(/interrupted|resume/i);
    const parked = await p.cli(['resume']);
    expect(parked.code).toBe(3);
    expect(parked.stderr).toContain('HOOK_INTERRUPTED');
    expect(parked.stderr).toContain('secrets.jwt.hooks.afterVerify');
    expect(hooksLog(p)).toBe('afterVerify jwt new=set old=old\n');

    writeHooks(p, { afterVerify: { run: log('afterVerify'), idempotent: true } });
    const resumed = await p.cli(['resume']);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(hooksLog(p)).toBe('afterVerify jwt new=set old=old\nafterVerify jwt new=set old=old\n');
    expect(p.jwt()).toBe(rotated);
    expect(await authStatus(p.app.url, rotated)).toBe(200);
    expect(leaks({ a: parked.stderr, b: resumed.stderr, ...readTree(join(p.dir, '.rotate')) }, [rotated, OLD_JWT])).toEqual([]);
  });
});
