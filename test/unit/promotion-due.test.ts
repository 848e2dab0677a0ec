// Cron's `--due` and the staging-first gate: a due secret whose gate is closed waits (skipped, saying why) while the
// other due secrets rotate; a verified staging run or --emergency lets it through; named secrets are not held here
// (the run refuses them with exit 2 instead).
import { describe, expect, it } from 'vitest';
import { select } from '../../src/engine/select.js';
import { memoryRotator } from '../helpers/memory-rotator.js';
import { testSession } from '../helpers/session.js';

const config = {
  environment: 'production',
  services: { app: { restart: 'restart-app' } },
  secrets: {
    jwt: { kind: 'jwt', services: ['app'], promotion: { after: 'staging', withinDays: 14 } },
    'jwt-refresh': { kind: 'jwt', env: 'JWT_REFRESH_SECRET', services: ['app'] },
  },
};
const envText = 'JWT_SECRET=old-value-0123456789-0123456789-abcdef\nJWT_REFRESH_SECRET=old-refresh-0123456789-0123456789-ab\n';
const due = { ids: [], due: true, all: false };

function session(emergency = false) {
  const s = testSession({ rotator: memoryRotator('a', 'b'), config, envText, run: { emergency, unattended: true } });
  s.clock.now = new Date('2026-12-07T12:00:00Z');
  return s;
}

const stagingRun = (at: string) => ({
  at,
  runId: 'staging-run',
  secret: 'jwt',
  kind: 'jwt',
  action: 'rotate' as const,
  result: 'rotated' as const,
  actor: 'ops',
  environment: 'staging',
});

describe('--due and a promotion gate', () => {
  it('holds a due secret whose gate is closed and rotates the other due ones', async () => {
    const s = session();
    const selection = await select(s, due, (iso) => iso);
    expect(selection.rotate).toEqual(['jwt-refresh']);
    expect(selection.skipped.map((r) => [r.secret, r.status])).toEqual([['jwt', 'skipped']]);
    expect(selection.skipped[0]!.note).toMatch(/^due, waiting for the promotion gate: /);
    expect(selection.skipped[0]!.note).toContain('staging');
  });

  it('holds it when the staging run is older than withinDays, and lets it through after a recent one', async () => {
    const s = session();
    await s.store.appendHistory(stagingRun('2026-11-01T12:00:00.000Z'));
    expect((await select(s, due, (iso) => iso)).rotate).toEqual(['jwt-refresh']);
    await s.store.appendHistory({ ...stagingRun('2026-12-06T12:00:00.000Z'), runId: 'staging-run-2' });
    expect((await select(s, due, (iso) => iso)).rotate).toEqual(['jwt', 'jwt-refresh']);
  });

  it('lets --emergency through, and leaves named secrets to the run (which refuses them)', async () => {
    expect((await select(session(true), due, (iso) => iso)).rotate).toEqual(['jwt', 'jwt-refresh']);
    expect((await select(session(), { ids: ['jwt'], due: false, all: false }, (iso) => iso)).rotate).toEqual(['jwt']);
  });
});
