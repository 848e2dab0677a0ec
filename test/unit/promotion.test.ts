// The staging-first gate: which earlier run a rotation rests on, what the config refuses, and how one store keeps two
// environments' states apart.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { decideGate, describeGate, type GateConfig } from '../../src/policy/promotion.js';
import { withEnvironment } from '../../src/store/environment.js';
import { FileStore } from '../../src/store/file.js';
import type { HistoryEntry } from '../../src/store/types.js';

const NOW = new Date('2026-12-07T12:00:00Z');
const daysAgo = (days: number) => new Date(NOW.getTime() - days * 86_400_000).toISOString();

const entry = (over: Partial<HistoryEntry>): HistoryEntry => ({
  at: daysAgo(1),
  runId: 'run-1',
  secret: 'jwt',
  kind: 'jwt',
  action: 'rotate',
  result: 'rotated',
  actor: 'ops',
  environment: 'staging',
  ...over,
});

const production: GateConfig = {
  environment: 'production',
  promotion: { after: 'staging', withinDays: 14 },
  secrets: { jwt: { kind: 'jwt' }, 'jwt-refresh': { kind: 'jwt' }, redis: { kind: 'redis' } },
};

describe('decideGate', () => {
  it('rests on the newest verified rotation of the same secret in the named environment', () => {
    const history = [entry({ runId: 'old', at: daysAgo(10) }), entry({ runId: 'new', at: daysAgo(2) })];
    const decision = decideGate(production, 'jwt', history, NOW);
    expect(decision).toMatchObject({ state: 'open', restsOn: { runId: 'new', match: 'secret', environment: 'staging' } });
    expect(describeGate(decision, 'jwt').text).toContain('run new');
  });

  it('falls back to a secret of the same kind, never of another kind', () => {
    const history = [entry({ secret: 'jwt-refresh', runId: 'refresh' }), entry({ secret: 'redis', kind: 'redis', runId: 'r' })];
    expect(decideGate(production, 'jwt', history, NOW)).toMatchObject({ state: 'open', restsOn: { runId: 'refresh', match: 'kind' } });
    expect(decideGate(production, 'redis', [entry({ secret: 'jwt' })], NOW)).toMatchObject({ state: 'closed' });
  });

  it('is closed when the verified run is older than withinDays, naming the newest one', () => {
    const decision = decideGate(production, 'jwt', [entry({ runId: 'stale', at: daysAgo(15) })], NOW);
    expect(decision).toMatchObject({ state: 'closed', latest: { runId: 'stale' } });
    const { text, fix } = describeGate(decision, 'jwt');
    expect(text).toContain('within 14 days');
    expect(fix).toContain('--emergency --reason');
  });

  it('counts only runs that proved the new value: not a failure, a rollback, a mark or a --no-restart write', () => {
    const history = [
      entry({ result: 'failed' }),
      entry({ result: 'rolled-back' }),
      entry({ action: 'rollback', result: 'rotated' }),
      entry({ action: 'mark', result: 'marked' }),
      entry({ result: 'written' }),
    ];
    expect(decideGate(production, 'jwt', history, NOW).state).toBe('closed');
    expect(decideGate(production, 'jwt', [...history, entry({ action: 'verify', result: 'verified' })], NOW).state).toBe('open');
  });

  it('tells an environment no run was recorded in from a closed gate, listing the ones it knows', () => {
    const decision = decideGate(production, 'jwt', [entry({ environment: 'production' })], NOW);
    expect(decision).toMatchObject({ state: 'unknown-environment', known: ['production'] });
    expect(describeGate(decision, 'jwt').text).toContain('no run in this store was ever recorded in the environment "staging"');
  });

  it("uses a secret's own gate before the config's, and none without either", () => {
    const config: GateConfig = {
      ...production,
      secrets: { ...production.secrets, redis: { kind: 'redis', promotion: { after: 'qa', withinDays: 1 } } },
    };
    expect(decideGate(config, 'redis', [entry({ environment: 'qa', secret: 'redis', kind: 'redis', at: daysAgo(2) })], NOW).state).toBe(
      'closed',
    );
    expect(decideGate({ secrets: { jwt: { kind: 'jwt' } } }, 'jwt', [], NOW).state).toBe('none');
  });
});

describe('the policy keys of the config', () => {
  const issues = (config: unknown) => {
    const result = configSchema.safeParse(config);
    return result.success ? [] : result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  };

  it('refuses a gate that names its own environment, at its path', () => {
    expect(issues({ environment: 'staging', promotion: { after: 'staging' } })).toEqual([
      expect.stringMatching(/^promotion\.after: the gate names this config's own environment "staging"/),
    ]);
  });

  it("refuses a gate without the config's own environment", () => {
    expect(issues({ secrets: { jwt: { promotion: { after: 'staging' } } } })).toEqual([
      expect.stringMatching(/^secrets\.jwt\.promotion: a promotion gate needs this config's own "environment"/),
    ]);
  });

  it('refuses a related id that is not a secret of the config, and accepts one that is', () => {
    expect(issues({ secrets: { jwt: { related: ['jwt-refrsh'] } } })).toEqual([
      expect.stringMatching(/^secrets\.jwt\.related\.0: no secret "jwt-refrsh"/),
    ]);
    expect(issues({ secrets: { jwt: { related: ['jwt-refresh'] }, 'jwt-refresh': { kind: 'jwt', env: 'JWT_REFRESH_SECRET' } } })).toEqual(
      [],
    );
  });

  it('defaults withinDays to 14', () => {
    const config = configSchema.parse({ environment: 'production', promotion: { after: 'staging' } });
    expect(config.promotion).toEqual({ after: 'staging', withinDays: 14 });
  });
});

describe('one store, two environments', () => {
  let dir: string;
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("keeps each environment's state of a secret apart, reading an older unscoped state until it writes its own", async () => {
    dir = mkdtempSync(join(tmpdir(), 'rotate-envs-'));
    const raw = new FileStore({ dir: join(dir, '.rotate'), holder: { pid: 1, host: 'h' }, warn: () => {} });
    await raw.writeState('jwt', { lastRotatedAt: '2026-01-01T00:00:00.000Z' });
    const staging = withEnvironment(raw, 'staging');
    const production = withEnvironment(raw, 'production');
    expect((await production.readStates()).jwt?.lastRotatedAt).toBe('2026-01-01T00:00:00.000Z');
    await staging.writeState('jwt', { lastRotatedAt: '2026-12-01T00:00:00.000Z' });
    expect((await staging.readStates()).jwt?.lastRotatedAt).toBe('2026-12-01T00:00:00.000Z');
    expect((await production.readStates()).jwt?.lastRotatedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(Object.keys(await raw.readStates()).sort()).toEqual(['jwt', 'jwt@staging']);
    // Everything else is the shared store's own (private fields and all).
    expect(staging.location).toBe(raw.location);
    expect(await staging.readHistory()).toEqual([]);
  });
});
