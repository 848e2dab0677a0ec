// What a person reads at a terminal (#14 item 8): facts as sentences, times in the local zone (TZ) with the zone named;
// --json keeps the facts as data and ISO 8601 in UTC.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { findLeaks, readTree } from '../helpers/cli.js';
import { eachJwtProject, type JwtProject, jwtProject, OLD_JWT } from '../helpers/jwt-project.js';

const MASTER_KEY = 'f'.repeat(64);
const pad = (n: number) => String(n).padStart(2, '0');

/** `iso` as a clock on a wall `offsetMinutes` from UTC: `2026-12-01 18:03`. */
function wall(iso: string, offsetMinutes: number): string {
  const d = new Date(Date.parse(iso) + offsetMinutes * 60_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

describe('times in human output', () => {
  const project = eachJwtProject({ masterKey: MASTER_KEY });
  let p: JwtProject;
  beforeEach(() => {
    p = project();
  });

  it.each([
    // No daylight saving time in either zone, so the offsets hold all year.
    ['America/Phoenix', -420, 'MST'],
    ['Asia/Kolkata', 330, '+05:30'],
  ])('TZ=%s: status, history and grace times are local with the zone; JSON stays UTC', async (tz, offset, zone) => {
    const env = { TZ: tz };
    const rotated = await p.cli(['jwt', '--yes'], { env });
    expect(rotated.code, rotated.stderr).toBe(0);
    const entry = JSON.parse((await p.cli(['history', '--json'], { env })).stdout).results[0];
    expect(entry.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const history = await p.cli(['history'], { env });
    expect(history.stdout).toContain(`${wall(entry.at, offset)}:${pad(new Date(entry.at).getUTCSeconds())} ${zone}`);

    const statusJson = JSON.parse((await p.cli(['status', '--json'], { env })).stdout).results[0];
    expect(statusJson.lastRotatedAt).toMatch(/Z$/);
    expect(statusJson.nextDue).toMatch(/Z$/);
    const status = await p.cli(['status'], { env });
    expect(status.stdout).toContain(`${wall(statusJson.lastRotatedAt, offset)} ${zone}`);
    expect(status.stdout).toContain(`${wall(statusJson.nextDue, offset)} ${zone}`);
    expect(status.stdout).not.toMatch(/\d{4}-\d\d-\d\dT/);

    // A grace period: its end is a local time too, in the result and in status; JSON keeps it in UTC.
    const config = JSON.parse(readFileSync(join(p.dir, 'rotate.config.json'), 'utf8'));
    config.secrets.jwt.graceHours = 2;
    writeFileSync(join(p.dir, 'rotate.config.json'), JSON.stringify(config));
    const graced = await p.cli(['jwt', '--yes', '--json'], { env });
    expect(graced.code, graced.stderr).toBe(0);
    const graceUntil = JSON.parse(graced.stdout).results[0].graceUntil as string;
    expect(graceUntil).toMatch(/Z$/);
    const graceStatus = await p.cli(['status'], { env });
    expect(graceStatus.stdout).toContain(`grace until ${wall(graceUntil, offset)} ${zone}`);
    const texts = { ...readTree(join(p.dir, '.rotate')), out: rotated.stdout + history.stdout + status.stdout + graceStatus.stdout };
    expect(findLeaks(texts, [OLD_JWT])).toEqual([]);
  });

  it('plan, result and verify print facts as sentences, never `key: value`; JSON keeps the facts as data', async () => {
    const keyValue = /^\s+[A-Za-z]+: /m;
    const plan = await p.cli(['--dry-run', 'jwt']);
    expect(plan.code, plan.stderr).toBe(0);
    // No grace period: the run writes no JWT_SECRET_PREVIOUS, so the plan does not say it would.
    expect(plan.stdout).toContain('would write JWT_SECRET\n');
    expect(plan.stdout).not.toContain('JWT_SECRET_PREVIOUS');
    expect(plan.stdout).toContain('no grace period: tokens signed with the old secret are refused as soon as the new one is verified');
    expect(plan.stdout).toContain(`the app is asked to accept a token at ${p.app.url}/api/auth/me`);
    expect(plan.stdout).not.toMatch(keyValue);
    const planJson = JSON.parse((await p.cli(['--dry-run', 'jwt', '--json'])).stdout).results[0];
    expect(planJson.facts).toEqual({ graceHours: 0, verifyUrl: `${p.app.url}/api/auth/me` });

    const rotated = await p.cli(['jwt', '--yes']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect(rotated.stdout).toContain('wrote JWT_SECRET\n');
    expect(rotated.stdout).toContain('new secret: 43 characters (32 random bytes)');
    expect(rotated.stdout).toContain('the old secret is retired now; no grace period');
    expect(rotated.stdout).not.toMatch(keyValue);
    const next = p.jwt()!;
    const entry = JSON.parse((await p.cli(['history', '--json'])).stdout).results[0];
    expect(entry.facts).toEqual({ characters: 43, randomBytes: 32, grace: false });

    const verified = await p.cli(['verify', 'jwt']);
    expect(verified.code, verified.stderr).toBe(0);
    expect(verified.stdout).not.toMatch(keyValue);
    const rollback = await p.cli(['rollback', 'jwt', '--yes']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('the previous secret is put back');
    expect(rollback.stdout).not.toMatch(keyValue);
    const outputs = [plan, rotated, verified, rollback].map((r) => r.stdout + r.stderr).join('\n');
    expect(findLeaks({ ...readTree(join(p.dir, '.rotate')), outputs }, [OLD_JWT, next])).toEqual([]);
  });
});

describe('the master key warning', () => {
  it('explains itself once per invocation when the key is made, also for a set of secrets, and never again', async () => {
    const refresh = 'old-refresh-secret-0123456789-abcdefghijklmnop';
    const p = await jwtProject({ envText: `APP_ENV=production\nJWT_SECRET=${OLD_JWT}\nJWT_REFRESH_SECRET=${refresh}\n` });
    try {
      const config = JSON.parse(readFileSync(join(p.dir, 'rotate.config.json'), 'utf8'));
      config.secrets['jwt-refresh'] = { kind: 'jwt', env: 'JWT_REFRESH_SECRET', services: ['backend'] };
      writeFileSync(join(p.dir, 'rotate.config.json'), JSON.stringify(config));
      const first = await p.cli(['--all', '--yes']);
      expect(first.code, first.stderr).toBe(0);
      const keyPath = join(p.dir, '.rotate/master.key');
      expect(first.stderr.split('created the master key')).toHaveLength(2);
      expect(first.stderr).toContain(`created the master key ${keyPath} (mode 0600); back it up now.`);
      expect(first.stderr).toContain('the backups of the env files and the journal of a run in progress');
      expect(first.stderr).toContain('Lose it and `rotate rollback`, `rotate resume` and `rotate backups restore` cannot open them');
      expect(first.stderr).toContain(`ROTATE_MASTER_KEY`);
      expect(first.stderr).toContain(`\`cat ${keyPath}\``);
      const second = await p.cli(['--all', '--yes']);
      expect(second.code, second.stderr).toBe(0);
      expect(second.stderr).not.toContain('master key');
      const key = readFileSync(keyPath, 'utf8').trim();
      const outputs = { out: [first, second].map((r) => r.stdout + r.stderr).join('\n') };
      expect(findLeaks(outputs, [OLD_JWT, refresh, key, p.jwt()!])).toEqual([]);
    } finally {
      await p.app.stop();
    }
  });
});
