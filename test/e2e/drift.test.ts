// Drift end to end: a rotation that an old env file undid is caught by status, status --check, metrics and --due
// (one notification per drifted value), the file named, no value anywhere.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findLeaks, readTree } from '../helpers/cli.js';
import { eachJwtProject, JWT_ENV_TEXT, OLD_JWT } from '../helpers/jwt-project.js';
import { startWebhook, type Webhook } from '../helpers/webhook.js';

describe('drift: a rotation that was undone', () => {
  const project = eachJwtProject({ masterKey: 'd'.repeat(64) });
  let hook: Webhook | undefined;
  afterEach(async () => {
    await hook?.close();
  });

  it('status, --check, metrics and --due see the env file that went back; one notification per drifted value', async () => {
    const p = project();
    hook = await startWebhook();
    const configPath = join(p.dir, 'rotate.config.json');
    writeFileSync(configPath, JSON.stringify({ ...JSON.parse(readFileSync(configPath, 'utf8')), notify: { webhookUrl: hook.url } }));
    expect((await p.cli(['jwt', '--yes'])).code).toBe(0);
    const rotated = p.jwt()!;
    const clean = await p.cli(['status', '--check', '--json']);
    expect(clean.code).toBe(0);
    expect(JSON.parse(clean.stdout).results[0]).toMatchObject({ state: 'ok', drifted: false, drift: null });

    // The next deploy writes the old file back.
    writeFileSync(join(p.dir, '.env'), JWT_ENV_TEXT);
    const status = await p.cli(['status']);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/jwt .*drifted: .*\.env/);
    expect(status.stdout).toContain('JWT_SECRET in');
    // The JSON says what the table says: a drifted secret is not "ok"; its schedule is kept beside.
    const plain = JSON.parse((await p.cli(['status', '--json'])).stdout).results[0];
    expect(plain).toMatchObject({ state: 'drifted', scheduleState: 'ok', drifted: true, overdue: false });
    const check = await p.cli(['status', '--check', '--json']);
    expect(check.code).toBe(1);
    const body = JSON.parse(check.stdout);
    expect(body.results[0]).toMatchObject({ state: 'drifted', drifted: true, drift: { where: [join(p.dir, '.env')] } });
    expect(body.check.problems.join('\n')).toContain('jwt: drifted');
    const metrics = await p.cli(['metrics']);
    expect(metrics.stdout).toContain('rotate_secret_drifted{secret="jwt",kind="jwt"} 1');

    const due = await p.cli(['--due']);
    expect(due.code).toBe(0);
    expect(due.stderr).toContain('jwt: drifted');
    expect(await p.cli(['--due'])).toMatchObject({ code: 0 });
    const notices = hook.events().filter((e) => e.drifted);
    expect(notices).toHaveLength(1);
    expect(notices[0]).toMatchObject({ event: 'failure', secret: 'jwt', where: [join(p.dir, '.env')] });

    // A different value written by hand is a new drift: posted again.
    writeFileSync(join(p.dir, '.env'), JWT_ENV_TEXT.replace(OLD_JWT, 'hand-edited-secret-0123456789abcdefghijkl'));
    await p.cli(['--due']);
    expect(hook.events().filter((e) => e.drifted)).toHaveLength(2);

    // Back at the recorded value: no drift.
    writeFileSync(join(p.dir, '.env'), JWT_ENV_TEXT.replace(OLD_JWT, rotated));
    expect((await p.cli(['status', '--check'])).code).toBe(0);
    const outputs = [status, check, metrics, due].flatMap((r) => [r.stdout, r.stderr]);
    expect(
      findLeaks({ ...readTree(join(p.dir, '.rotate')), outputs: outputs.join('\n'), hooks: hook.bodies.join('\n') }, [OLD_JWT, rotated]),
    ).toEqual([]);
  });
});
