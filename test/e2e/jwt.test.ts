// `rotate jwt` as a user runs it: the built CLI, a real env file, the stand-in app restarted for real.

import { chmodSync, existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { authStatus, type StandInApp, standInApp } from '../helpers/app.js';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { HANGING_RESTART, HELD_RESTART, heldInRestart, killInRestart, releaseRestart, waitPast, waitUntil } from '../helpers/wait.js';

const OLD = 'old-signing-secret-0123456789-abcdefghijklmnop';

const ENV_TEXT = [
  '# CryptoOrchestrator production settings',
  '',
  'export APP_ENV=production',
  `JWT_SECRET="${OLD}"   # rotated by rotate`,
  "DATABASE_URL='postgresql+asyncpg://app:p%40ss@db:5432/cryptoorchestrator'",
  '# Celery',
  'CELERY_BROKER_URL=redis://:cachepass@redis:6379/0 # broker',
  'EMPTY=',
  'LAST_LINE=no-final-newline',
].join('\n');

describe('rotate jwt end to end', () => {
  let dir: string;
  let app: StandInApp;

  function writeConfig(extra: { graceHours?: number; restartPrefix?: string; verifyUrl?: string } = {}) {
    const config = {
      services: {
        backend: {
          // The restart command also records its own argv and environment, for the leak greps.
          restart: `${extra.restartPrefix ?? ''}tr "\\0" " " < /proc/$$/cmdline >> child-argv.log; env >> child-env.log; ${app.restartCommand}`,
          health: { url: `${app.url}/healthz`, timeoutSeconds: 20 },
        },
      },
      secrets: {
        jwt: {
          kind: 'jwt',
          services: ['backend'],
          graceHours: extra.graceHours ?? 0,
          verify: { url: extra.verifyUrl ?? `${app.url}/api/auth/me`, claims: { id: '1' } },
        },
      },
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  }

  beforeEach(async () => {
    dir = scratchDir('rotate-jwt-');
    writeFileSync(join(dir, '.env'), ENV_TEXT);
    chmodSync(join(dir, '.env'), 0o640);
    app = await standInApp(dir);
    writeConfig();
    await app.start();
  });

  afterEach(async () => {
    await app.stop();
  });

  const env = () => dotenv.parse(readFileSync(join(dir, '.env')));
  const masterKey = 'a'.repeat(64);
  const cli = (args: string[], opts: { env?: Record<string, string> } = {}) =>
    runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: masterKey, ...opts.env } });

  it('rotates, changing only the JWT_SECRET line, keeping the mode, and the app follows', async () => {
    expect(await authStatus(app.url, OLD)).toBe(200);
    const result = await cli(['jwt', '--yes']);
    expect(result.stderr).toContain('restarting backend');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('rotated and verified');

    const after = readFileSync(join(dir, '.env'), 'utf8');
    const next = env().JWT_SECRET!;
    expect(next).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(after).toBe(ENV_TEXT.replace(OLD, next));
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o640);

    expect(await authStatus(app.url, next)).toBe(200);
    expect(await authStatus(app.url, OLD)).toBe(401);

    const history = await cli(['history', '--json']);
    const entries = JSON.parse(history.stdout).results;
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ secret: 'jwt', action: 'rotate', result: 'rotated' });

    const status = JSON.parse((await cli(['status', '--json'])).stdout);
    expect(status.schemaVersion).toBe(1);
    expect(status.results[0]).toMatchObject({ secret: 'jwt', state: 'ok' });
    expect(Date.parse(status.results[0].nextDue) - Date.parse(status.results[0].lastRotatedAt)).toBe(90 * 86_400_000);

    // Everything rotate wrote or printed, and everything its child saw, holds neither value.
    const texts = {
      ...readTree(join(dir, '.rotate')),
      stdout: result.stdout + history.stdout,
      stderr: result.stderr,
      'child-argv.log': readFileSync(join(dir, 'child-argv.log'), 'utf8'),
      'app.log': app.log(),
    };
    expect(findLeaks(texts, [OLD, next])).toEqual([]);
    // The leak grep above read real argv: the shell's own command line and the app's.
    expect(texts['child-argv.log']).toContain('restart.mjs');
    expect(texts['app.log']).toContain('argv:');
    // The restart command never inherits the store's master key.
    expect(readFileSync(join(dir, 'child-env.log'), 'utf8')).not.toContain(masterKey);
    // Backups are encrypted: the old value is recoverable only with the master key.
    expect(readdirSync(join(dir, '.rotate/backups'))).toHaveLength(1);
  });

  it('--dry-run --json prints one document, runs the preflight checks and changes nothing', async () => {
    const ok = await cli(['--dry-run', '--json', 'jwt']);
    expect(ok.code).toBe(0);
    const doc = JSON.parse(ok.stdout);
    expect(doc).toMatchObject({ schemaVersion: 1, command: 'rotate', dryRun: true, ok: true });
    expect(doc.results[0].status).toBe('planned');
    expect(doc.results[0].checks.every((c: { ok: boolean }) => c.ok)).toBe(true);
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(ENV_TEXT);
    expect(existsSync(join(dir, '.rotate/history.jsonl'))).toBe(false);

    await app.stop();
    const down = await cli(['--dry-run', '--json', 'jwt']);
    expect(down.code).toBe(1);
    const failed = JSON.parse(down.stdout);
    expect(failed.ok).toBe(false);
    expect(failed.results[0].checks.some((c: { ok: boolean }) => !c.ok)).toBe(true);
  });

  it('--due rotates what was never rotated, then finds nothing due', async () => {
    const first = await cli(['--due', '--json']);
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout).results[0].status).toBe('rotated');
    const rotated = env().JWT_SECRET;
    const second = await cli(['--due', '--json']);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.stdout).results[0]).toMatchObject({ status: 'skipped' });
    expect(env().JWT_SECRET).toBe(rotated);
  });

  it('keeps the old secret valid for the grace period, then --due retires it', async () => {
    writeConfig({ graceHours: 0.0005 }); // 1.8 seconds
    const plan = JSON.parse((await cli(['jwt', '--dry-run', '--json'])).stdout).results[0];
    const result = await cli(['jwt', '--yes', '--json']);
    expect(result.code).toBe(0);
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0].status).toBe('grace');
    expect(doc.results[0].steps).toEqual(plan.steps);
    const next = env().JWT_SECRET!;
    expect(env().JWT_SECRET_PREVIOUS).toBe(OLD);
    expect(await authStatus(app.url, OLD)).toBe(200);
    expect(await authStatus(app.url, next)).toBe(200);

    expect(await waitPast(doc.results[0].graceUntil)).toBe(true);
    const retire = await cli(['--due', '--json']);
    expect(retire.code).toBe(0);
    expect(JSON.parse(retire.stdout).results.map((r: { status: string }) => r.status)).toEqual(['retired']);
    expect(env().JWT_SECRET_PREVIOUS).toBeUndefined();
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(ENV_TEXT.replace(OLD, next));
    expect(await authStatus(app.url, OLD)).toBe(401);
    expect(await authStatus(app.url, next)).toBe(200);
  });

  it('changes nothing when the current secret does not verify', async () => {
    const config = JSON.parse(readFileSync(join(dir, 'rotate.config.json'), 'utf8'));
    config.secrets.jwt.verify.url = `${app.url}/no-such-route`;
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
    const result = await cli(['jwt', '--yes', '--json']);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0]).toMatchObject({ status: 'failed', error: { code: 'PREFLIGHT_FAILED' } });
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(ENV_TEXT);
    expect(existsSync(join(dir, 'child-argv.log'))).toBe(false);
  });

  it('rolls back after the new value was written when the app does not accept it', async () => {
    // A restart command that starts the app on a stale copy of the env file: the new secret is never loaded.
    writeFileSync(join(dir, 'stale.env'), ENV_TEXT);
    const config = JSON.parse(readFileSync(join(dir, 'rotate.config.json'), 'utf8'));
    config.services.backend.restart = app.restartCommand.replace('--env-file .env', '--env-file stale.env');
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config));
    const result = await cli(['jwt', '--yes', '--json']);
    expect(result.code).toBe(1);
    const doc = JSON.parse(result.stdout);
    expect(doc.results[0].status).toBe('rolled-back');
    expect(doc.results[0].error.code).toBe('VERIFY_FAILED');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(ENV_TEXT);
    expect(statSync(join(dir, '.env')).mode & 0o777).toBe(0o640);
    expect(await authStatus(app.url, OLD)).toBe(200);
    const history = JSON.parse((await cli(['history', 'jwt', '--json'])).stdout).results;
    expect(history[0]).toMatchObject({ result: 'rolled-back', error: { code: 'VERIFY_FAILED' } });
    expect((await cli(['status', '--json'])).code).toBe(0);
  });

  it('a second rotation while one runs gets exit 4', async () => {
    writeConfig({ restartPrefix: HELD_RESTART });
    const first = cli(['jwt', '--yes']);
    // The first run holds the lock and stays in its restart until released, however slow the machine is.
    expect(await waitUntil(() => heldInRestart(dir), 20_000)).toBe(true);
    const second = await cli(['jwt', '--yes']);
    releaseRestart(dir);
    expect(second.code).toBe(4);
    expect(second.stderr).toContain('[LOCKED]');
    // The hint names the lock file and the holder's start in local time (the zone named), not a raw ISO string.
    expect(second.stderr).toContain(join(dir, '.rotate'));
    expect(second.stderr).toMatch(/since \d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})? [A-Z+]/);
    expect(second.stderr).toMatch(/hint: .*delete .*\.rotate/);
    expect((await first).code).toBe(0);
  });

  it('after a kill in the middle, status says so, rotations wait (exit 3), and resume undoes it', async () => {
    writeConfig({ restartPrefix: HANGING_RESTART });
    await killInRestart(dir, 'jwt', ['jwt', '--yes'], { ROTATE_MASTER_KEY: masterKey });
    expect(env().JWT_SECRET).not.toBe(OLD); // killed after the new value was written

    const status = await cli(['status']);
    expect(status.code).toBe(3);
    expect(status.stdout).toContain('rotate resume');
    expect((await cli(['jwt', '--yes'])).code).toBe(3);
    const dry = await cli(['--dry-run', '--json', 'jwt']);
    expect(dry.code).toBe(1);
    expect(JSON.parse(dry.stdout).results[0].checks[0]).toMatchObject({
      id: 'no-pending-run',
      name: 'no interrupted run is pending',
      ok: false,
    });

    writeConfig();
    const resume = await cli(['resume', '--json']);
    expect(resume.code).toBe(0);
    expect(JSON.parse(resume.stdout).results[0].status).toBe('undone');
    expect(readFileSync(join(dir, '.env'), 'utf8')).toBe(ENV_TEXT);
    expect(await authStatus(app.url, OLD)).toBe(200);
    expect((await cli(['status'])).code).toBe(0);
  });

  it('rollback puts the previous secret back and verifies it', async () => {
    expect((await cli(['jwt', '--yes'])).code).toBe(0);
    const next = env().JWT_SECRET!;
    const back = await cli(['rollback', 'jwt', '--yes', '--json']);
    expect(back.code).toBe(0);
    expect(JSON.parse(back.stdout).results[0].status).toBe('restored');
    expect(env().JWT_SECRET).toBe(OLD);
    expect(await authStatus(app.url, OLD)).toBe(200);
    expect(await authStatus(app.url, next)).toBe(401);
  });

  it('usage and config mistakes exit 2 and name what is wrong', async () => {
    const emergency = await cli(['jwt', '--emergency']);
    expect(emergency.code).toBe(2);
    expect(emergency.stderr).toContain('--reason');
    const unknown = await cli(['nope']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('known secrets: jwt');
    expect((await cli(['--bogus'])).code).toBe(2);
    const bogusJson = await cli(['--json', '--bogus']);
    expect(bogusJson.code).toBe(2);
    expect(JSON.parse(bogusJson.stdout)).toMatchObject({ schemaVersion: 1, ok: false, error: { code: 'USAGE' } });
    expect((await cli([])).code).toBe(2);
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify({ secrets: { jwt: { kind: 'jwt', intervalDays: 'often' } } }));
    const bad = await cli(['status', '--json']);
    expect(bad.code).toBe(2);
    const doc = JSON.parse(bad.stdout);
    expect(doc.error.code).toBe('CONFIG_INVALID');
    expect(doc.error.message).toContain('secrets.jwt.intervalDays');
    writeFileSync(join(dir, 'rotate.config.json'), '{\n  "secrets": {\n    "jwt": { kind: 1 }\n  }\n}');
    const syntax = await cli(['status']);
    expect(syntax.code).toBe(2);
    expect(syntax.stderr).toMatch(/rotate\.config\.json:3:\d+/);
  });
});
