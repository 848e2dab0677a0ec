// Operations signals end to end (#13): the built CLI, the stand-in app restarted for real, a local webhook.

import { createHmac, hkdfSync } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import dotenv from 'dotenv';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type StandInApp, standInApp } from '../helpers/app.js';
import { findLeaks, readTree, runCli, scratchDir } from '../helpers/cli.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';
import { startWebhook, type Webhook } from '../helpers/webhook.js';

const OLD = 'old-signing-secret-0123456789-abcdefghijklmnop';
const ENV_TEXT = `APP_ENV=production\nJWT_SECRET=${OLD}\n`;
const MASTER_KEY = 'c'.repeat(64);
const DAY = 86_400_000;

/** The contract's keyed fingerprint, computed independently of rotate's code. */
function expectedFingerprint(value: string): string {
  const key = Buffer.from(hkdfSync('sha256', Buffer.from(MASTER_KEY, 'hex'), Buffer.alloc(0), 'rotate mac v1:fingerprint', 32));
  return createHmac('sha256', key).update(value).digest('hex').slice(0, 12);
}

const day = (offsetDays: number) => new Date(Date.now() + offsetDays * DAY).toISOString().slice(0, 10);
const pad = (n: number) => String(n).padStart(2, '0');

describe('operations signals end to end', () => {
  let dir: string;
  let app: StandInApp;
  let hook: Webhook;
  let bodies: string[];

  function writeConfig(extra: Record<string, unknown> = {}, restart = app.restartCommand) {
    const config = {
      services: {
        backend: {
          // Every env file the app was restarted with is kept, for the leak greps (the values a failed run tried).
          restart: `cat .env >> seen-env.log; ${restart}`,
          health: { url: `${app.url}/healthz`, timeoutSeconds: 20 },
        },
      },
      secrets: { jwt: { kind: 'jwt', services: ['backend'], verify: { url: `${app.url}/api/auth/me`, claims: { id: '1' } } } },
      notify: { webhookUrl: hook.url },
      ...extra,
    };
    writeFileSync(join(dir, 'rotate.config.json'), JSON.stringify(config, null, 2));
  }

  beforeEach(async () => {
    dir = scratchDir('rotate-ops-');
    writeFileSync(join(dir, '.env'), ENV_TEXT);
    hook = await startWebhook();
    bodies = hook.bodies;
    app = await standInApp(dir);
    writeConfig();
    await app.start();
  });

  afterEach(async () => {
    await app.stop();
    await hook.close();
  });

  const cli = (args: string[]) => runCli(args, { cwd: dir, env: { ROTATE_MASTER_KEY: MASTER_KEY } });
  const env = () => dotenv.parse(readFileSync(join(dir, '.env')));
  /** Every JWT_SECRET value the app was ever started with. */
  const valuesSeen = () =>
    existsSync(join(dir, 'seen-env.log'))
      ? [...readFileSync(join(dir, 'seen-env.log'), 'utf8').matchAll(/^JWT_SECRET=(.*)$/gm)].map((m) => m[1]!)
      : [];

  it('history has durations, keyed fingerprints and a chain that --verify checks', async () => {
    const rotated = await cli(['jwt', '--yes']);
    expect(rotated.code, rotated.stderr).toBe(0);
    const next = env().JWT_SECRET!;
    const history = await cli(['history', '--json']);
    const [entry] = JSON.parse(history.stdout).results;
    expect(entry.durationMs).toBeGreaterThan(0);
    expect(entry.fingerprints).toEqual({ old: expectedFingerprint(OLD), new: expectedFingerprint(next) });
    const table = await cli(['history']);
    expect(table.stdout).toContain(`${expectedFingerprint(OLD)} -> ${expectedFingerprint(next)}`);
    expect(table.stdout).toMatch(/\d+(\.\d)? (ms|s)/);

    const verified = await cli(['history', '--verify']);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toContain('history verified: 1 record');

    // An edit by hand: the result of the run is changed after the fact.
    const path = join(dir, '.rotate/history.jsonl');
    writeFileSync(path, readFileSync(path, 'utf8').replace('"result":"rotated"', '"result":"failed"'));
    const broken = await cli(['history', '--verify', '--json']);
    expect(broken.code).toBe(1);
    expect(JSON.parse(broken.stdout)).toMatchObject({ verified: false, broken: { position: 1, secret: 'jwt' } });

    // A torn last line (a crash mid-write): the check fails naming the line, even though the chain of the rest holds.
    writeFileSync(path, readFileSync(path, 'utf8').replace('"result":"failed"', '"result":"rotated"'));
    expect((await cli(['history', '--verify'])).code).toBe(0);
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"at":"2026-`);
    const torn = await cli(['history', '--verify']);
    expect(torn.code).toBe(1);
    expect(torn.stdout).toContain('history.jsonl line 2 is not a readable record');

    // #22 item 8: the tail deleted (here the only record), then every chain link stripped: both refused, exit 1.
    const whole = readFileSync(path, 'utf8').split('\n')[0]!;
    writeFileSync(path, '');
    const truncated = await cli(['history', '--verify', '--json']);
    expect(truncated.code, truncated.stdout).toBe(1);
    expect(JSON.parse(truncated.stdout)).toMatchObject({
      verified: false,
      missing: expect.stringContaining('1 record(s) were removed'),
      runsWithoutRecord: [{ secret: 'jwt' }],
    });
    writeFileSync(path, `${JSON.stringify({ ...JSON.parse(whole), chain: undefined })}\n`);
    const stripped = await cli(['history', '--verify']);
    expect(stripped.code, stripped.stdout).toBe(1);
    expect(stripped.stdout).toContain('every chain link was stripped');
    writeFileSync(path, `${whole}\n`);
    expect((await cli(['history', '--verify'])).code).toBe(0);

    // A store whose chain began before the head existed (no history-head.json): refused with the way out, accepted
    // with --accept-no-head (said so), and headed again by the next record.
    const headPath = join(dir, '.rotate/history-head.json');
    const headText = readFileSync(headPath, 'utf8');
    rmSync(headPath);
    const headless = await cli(['history', '--verify']);
    expect(headless.code).toBe(1);
    expect(headless.stdout).toContain('rotate history --verify --accept-no-head');
    const accepted = await cli(['history', '--verify', '--accept-no-head', '--json']);
    expect(accepted.code, accepted.stdout).toBe(0);
    expect(JSON.parse(accepted.stdout)).toMatchObject({ verified: true, noHead: true });
    expect((await cli(['history', '--verify', '--accept-no-head'])).stdout).toContain('no head yet (accepted with --accept-no-head');
    expect((await cli(['history', '--accept-no-head'])).code).toBe(2);
    writeFileSync(headPath, headText);

    const texts = { ...readTree(join(dir, '.rotate')), out: rotated.stdout + rotated.stderr + history.stdout + table.stdout };
    expect(findLeaks(texts, [OLD, next])).toEqual([]);
  });

  it('a --reason with control characters is kept as given and shown escaped by history (#22 item 11)', async () => {
    const reason = 'audit\u001b]0;owned\u0007\r\u001b[2Kfine\u202e';
    const marked = await cli(['mark', 'jwt', '--rotated-at', day(-1), '--yes', '--reason', reason]);
    expect(marked.code, marked.stderr).toBe(0);
    expect(JSON.parse((await cli(['history', '--json'])).stdout).results[0].reason).toBe(reason);
    const shown = await cli(['history']);
    expect(shown.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202e]/);
    expect(shown.stdout).toContain('audit\\x1b]0;owned\\x07\\r\\x1b[2Kfine\\u202e');
  });

  it('a secret marked 100 days ago fails status --check and is overdue in the metrics; mark refuses bad dates', async () => {
    const before = await cli(['status']);
    expect(before.stdout).toContain('Never rotated by rotate: jwt');
    expect(before.stdout).toContain('rotate mark jwt --rotated-at YYYY-MM-DD');

    for (const bad of ['yesterday', '2026-02-30', day(2)]) {
      const refused = await cli(['mark', 'jwt', '--rotated-at', bad, '--yes']);
      expect(refused.code, bad).toBe(2);
      expect(refused.stderr).toContain('[MARK_DATE_INVALID]');
    }
    const noConsent = await cli(['mark', 'jwt', '--rotated-at', day(-100)]);
    expect(noConsent.code).toBe(2);
    expect(noConsent.stderr).toContain('--yes');
    expect(existsSync(join(dir, '.rotate/state.json'))).toBe(false);

    const marked = await cli(['mark', 'jwt', '--rotated-at', day(-100), '--reason', 'rotated by hand in August', '--yes']);
    expect(marked.code, marked.stderr).toBe(0);
    expect(marked.stdout).toContain(`next due ${day(-10)}`);
    const history = JSON.parse((await cli(['history', '--json'])).stdout).results;
    expect(history[0]).toMatchObject({ action: 'mark', result: 'marked', reason: 'rotated by hand in August' });
    expect(history[0].fingerprints).toEqual({ old: null, new: expectedFingerprint(OLD) });

    const check = await cli(['status', '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain(`jwt: overdue since ${day(-10)}`);

    const metrics = await cli(['metrics']);
    expect(metrics.code, metrics.stderr).toBe(0);
    const families = parsePrometheusText(metrics.stdout);
    const sample = (name: string) => families.get(name)!.samples.find((s) => s.labels.secret === 'jwt' && s.labels.kind === 'jwt')!.value;
    expect(sample('rotate_secret_overdue')).toBe(1);
    expect(sample('rotate_secret_last_run_ok')).toBe(1);
    expect(sample('rotate_secret_needs_person')).toBe(0);
    expect(sample('rotate_secret_last_rotation_timestamp_seconds')).toBe(Date.parse(`${day(-100)}T00:00:00Z`) / 1000);
    expect(sample('rotate_secret_next_due_timestamp_seconds')).toBe(Date.parse(`${day(-10)}T00:00:00Z`) / 1000);

    // After a rotation the secret is in date again.
    expect((await cli(['--due'])).code).toBe(0);
    expect((await cli(['status', '--check'])).code).toBe(0);
    expect(parsePrometheusText((await cli(['metrics'])).stdout).get('rotate_secret_overdue')!.samples[0]!.value).toBe(0);
  });

  it('a window that excludes now holds --due back; an explicit rotation is not held', async () => {
    const hour = new Date().getUTCHours();
    // Two hours from now for one hour, in Tokyo's clock: never now.
    const tokyo = (hour + 9) % 24;
    writeConfig({ window: { hours: `${pad((tokyo + 2) % 24)}:00-${pad((tokyo + 3) % 24)}:00`, timezone: 'Asia/Tokyo' } });
    const held = await cli(['--due']);
    expect(held.code, held.stderr).toBe(0);
    expect(held.stdout).toContain('due, waiting for the window');
    expect(env().JWT_SECRET).toBe(OLD);

    const explicit = await cli(['jwt', '--yes']);
    expect(explicit.code, explicit.stderr).toBe(0);
    expect(env().JWT_SECRET).not.toBe(OLD);
  });

  it('a secret due in ten days gets one reminder a day with a text, and is not rotated', async () => {
    expect((await cli(['mark', 'jwt', '--rotated-at', day(-80), '--yes'])).code).toBe(0);
    const due = await cli(['--due']);
    expect(due.code, due.stderr).toBe(0);
    expect(env().JWT_SECRET).toBe(OLD);
    expect(bodies).toHaveLength(1);
    const reminder = JSON.parse(bodies[0]!);
    expect(reminder).toMatchObject({ event: 'due-soon', secret: 'jwt', daysLeft: 10 });
    expect(reminder.text).toContain(`jwt (jwt) is due for rotation in 10 days, on ${day(10)}`);
    expect((await cli(['--due'])).code).toBe(0);
    expect(bodies).toHaveLength(1);
  });

  it('a failed rotation posts a one-line text saying what to run next, and no secret', async () => {
    writeFileSync(join(dir, 'stale.env'), ENV_TEXT);
    writeConfig({}, app.restartCommand.replace('--env-file .env', '--env-file stale.env'));
    const failed = await cli(['jwt', '--yes']);
    expect(failed.code).toBe(1);
    expect(env().JWT_SECRET).toBe(OLD);
    expect(bodies).toHaveLength(1);
    const notice = JSON.parse(bodies[0]!);
    expect(notice).toMatchObject({ event: 'failure', secret: 'jwt', result: 'rolled-back', error: { code: 'VERIFY_FAILED' } });
    expect(notice.text).not.toContain('\n');
    expect(notice.text).toContain('jwt rotation failed');
    expect(notice.text).toContain('`rotate jwt`');
    const tried = valuesSeen().filter((v) => v !== OLD);
    expect(tried.length).toBeGreaterThan(0);
    expect(findLeaks({ hook: bodies.join('\n'), out: failed.stdout + failed.stderr }, [OLD, ...tried])).toEqual([]);
    expect((await cli(['status', '--check'])).code).toBe(1);
  });

  it('a rotation stopped by its checks (nothing changed) is recorded as failed, posted, and seen by monitoring', async () => {
    // The app keeps the value it started with; the env file now holds another one, which the app refuses.
    const other = 'another-signing-secret-0123456789-abcdefghij';
    writeFileSync(join(dir, '.env'), ENV_TEXT.replace(OLD, other));
    const failed = await cli(['--due']);
    expect(failed.code).toBe(1);
    expect(env().JWT_SECRET).toBe(other);
    expect(bodies).toHaveLength(1);
    const notice = JSON.parse(bodies[0]!);
    expect(notice).toMatchObject({ event: 'failure', secret: 'jwt', error: { code: 'PREFLIGHT_FAILED' } });
    expect(notice.text).toContain('jwt rotation failed its checks');
    expect(notice.text).toContain('`rotate verify jwt`');
    expect(findLeaks({ hook: bodies[0]! }, [OLD, other])).toEqual([]);

    // The failed run is in the history, and monitoring sees that the last run failed.
    const history = await cli(['history', '--json']);
    const [entry] = JSON.parse(history.stdout).results;
    expect(entry).toMatchObject({ secret: 'jwt', action: 'rotate', result: 'failed', error: { code: 'PREFLIGHT_FAILED' } });
    expect(entry.runId).toBe(JSON.parse((await cli(['history', 'jwt', '--json'])).stdout).results[0].runId);
    const table = await cli(['history']);
    expect(table.stdout).toMatch(/jwt\s+rotate\s+failed/);
    const metrics = parsePrometheusText((await cli(['metrics'])).stdout);
    expect(metrics.get('rotate_secret_last_run_ok')!.samples[0]!.value).toBe(0);
    const check = await cli(['status', '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('ended failed');
    expect((await cli(['history', '--verify'])).code).toBe(0);
    // A dry run changes nothing, its history included.
    const dry = await cli(['--dry-run', 'jwt']);
    expect(dry.code).toBe(1);
    expect(JSON.parse((await cli(['history', '--json'])).stdout).results).toHaveLength(1);
    const texts = { ...readTree(join(dir, '.rotate')), out: history.stdout + table.stdout + check.stdout + dry.stdout + dry.stderr };
    expect(findLeaks(texts, [OLD, other])).toEqual([]);
  });

  it('an unreachable webhook is a warning and does not change the exit code', async () => {
    await hook.close();
    writeConfig({ notify: { webhookUrl: hook.url, on: ['success'] } });
    const rotated = await cli(['jwt', '--yes']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(env().JWT_SECRET).not.toBe(OLD);
    expect(rotated.stderr).toContain('could not deliver the success notification');
  });

  it.each([
    [{ notify: { webhookUrl: null, on: ['failure', 'always'] } }, 'notify.on'],
    [{ window: { hours: '02:00-05:00', timezone: 'Mars/Base' } }, 'window.timezone'],
    [{ window: { hours: '2-5' } }, 'window.hours'],
  ])('bad config %j: exit 2 naming %s, nothing touched', async (extra, path) => {
    writeConfig(extra);
    const result = await cli(['--due']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(path);
    expect(env().JWT_SECRET).toBe(OLD);
  });
});
