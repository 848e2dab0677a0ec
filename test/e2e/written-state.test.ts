// A rotation written with --no-restart is not a finished rotation: status, status --check and the metrics say so
// until the operator restarts the services and `rotate verify` passes against them.
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { findLeaks, readTree } from '../helpers/cli.js';
import { eachJwtProject, type JwtProject, OLD_JWT } from '../helpers/jwt-project.js';
import { parsePrometheusText } from '../helpers/prometheus-text.js';

const MASTER_KEY = 'e'.repeat(64);

describe('status of a rotation written with --no-restart', () => {
  const project = eachJwtProject({ masterKey: MASTER_KEY });
  let p: JwtProject;
  beforeEach(() => {
    p = project();
  });

  const notApplied = async () =>
    parsePrometheusText((await p.cli(['metrics'])).stdout)
      .get('rotate_secret_not_applied')!
      .samples.find((s) => s.labels.secret === 'jwt')!.value;

  it('is a warning with what to do, in human and JSON output, fails --check, until a verify passes', async () => {
    const written = await p.cli(['jwt', '--yes', '--no-restart']);
    expect(written.code, written.stderr).toBe(0);
    const next = p.jwt()!;
    expect(next).not.toBe(OLD_JWT);

    const status = await p.cli(['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^jwt .*written, not applied/m);
    expect(status.stdout).not.toMatch(/^jwt .* ok$/m);
    expect(status.stdout).toContain('restart backend, then `rotate verify jwt`');
    const json = JSON.parse((await p.cli(['status', '--json'])).stdout).results[0];
    expect(json).toMatchObject({ state: 'written', notApplied: true, unapplied: { services: ['backend'] } });

    const check = await p.cli(['status', '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('jwt: written but not applied');
    expect(JSON.parse((await p.cli(['status', '--check', '--json'])).stdout).check.ok).toBe(false);
    expect(await notApplied()).toBe(1);

    // The app still runs with the old secret: verify fails, and the secret stays written, not applied.
    const early = await p.cli(['verify', 'jwt']);
    expect(early.code).toBe(1);
    expect((await p.cli(['status', '--check'])).code).toBe(1);

    await p.app.start();
    const verified = await p.cli(['verify', 'jwt']);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    // It says what the pass rests on: rotate restarted nothing, the operator restarted backend.
    expect(verified.stdout).toContain('recorded as applied');
    expect(verified.stdout).toContain('relies on backend having been restarted since');
    const after = await p.cli(['status', '--check']);
    expect(after.code, after.stdout).toBe(0);
    expect((await p.cli(['status'])).stdout).toMatch(/^jwt .* ok$/m);
    expect(await notApplied()).toBe(0);
    // Newest first: applied, the old value's overlap ends as after a rotation (graceHours 0: verify retires it).
    const history = JSON.parse((await p.cli(['history', '--json'])).stdout).results;
    expect(history[0]).toMatchObject({ action: 'retire', result: 'retired', secret: 'jwt' });
    expect(history[1]).toMatchObject({ action: 'verify', result: 'verified', secret: 'jwt' });
    expect(history[2]).toMatchObject({ action: 'rotate', result: 'written' });
    // The verification names the value it found applied: the one the written record put in.
    expect(history[1].fingerprints.new).toBe(history[2].fingerprints.new);
    expect((await p.cli(['history', '--verify'])).code).toBe(0);
    // A second verify records nothing more.
    expect((await p.cli(['verify', 'jwt'])).code).toBe(0);
    expect(JSON.parse((await p.cli(['history', '--json'])).stdout).results).toHaveLength(3);

    const texts = {
      ...readTree(join(p.dir, '.rotate')),
      out: [written, status, check, early, verified, after].map((r) => r.stdout + r.stderr).join('\n'),
    };
    expect(findLeaks(texts, [OLD_JWT, next])).toEqual([]);
  });

  it('a later rotation that restarts clears it', async () => {
    expect((await p.cli(['jwt', '--yes', '--no-restart'])).code).toBe(0);
    // The running app still has the old value: restart it onto the written one, as the operator would.
    await p.app.start();
    const rotated = await p.cli(['jwt', '--yes']);
    expect(rotated.code, rotated.stderr).toBe(0);
    expect((await p.cli(['status', '--check'])).code).toBe(0);
    expect(await notApplied()).toBe(0);
  });
});
