// The dry run's steps are the steps a real run journals: for each kind's shape of rotation (the staging write of
// exchange-key, the retire write of jwt with a grace period, neither for the others), with and without a grace
// period, --emergency and --no-restart, and for a set that mixes them. A fake rotator per kind writes what its kind
// declares (SecretKind.writes); the e2e test of each kind compares a real rotator's run with its dry run.
import { chmodSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Kind } from '../../src/config/schema.js';
import { rotateSet } from '../../src/engine/pipeline.js';
import { planSet } from '../../src/engine/plan.js';
import { resumeFinishes, STEPS, stepReached } from '../../src/engine/steps.js';
import { SecretValue } from '../../src/secret-value.js';
import { oldAndNew } from '../../src/secrets/journaled.js';
import type { Rotator } from '../../src/secrets/types.js';
import type { Journal } from '../../src/store/types.js';
import { type TestSession, testSession } from '../helpers/session.js';

const KEYS: Record<Kind, string> = {
  jwt: 'JWT_SECRET',
  'exchange-key': 'EXCHANGE_KEY_ENCRYPTION_KEY',
  postgres: 'DATABASE_URL',
  redis: 'REDIS_URL',
  stripe: 'STRIPE_SECRET_KEY',
  // Not DOTENV_PUBLIC_KEY: that line would make the plain test file a dotenvx-encrypted one; the shape is what counts.
  dotenvx: 'STANDIN_DOTENVX_PUBLIC_KEY',
  random: 'SESSION_SECRET',
};
// Each secret's old value differs (the same value under two secrets' keys is reuse, which a run refuses).
const OLD = 'old-value-0123456789-0123456789-abcdef';
const NEW = 'new-value-9876543210-9876543210-zyxwvu';

/** A rotator whose rotations have `kind`'s shape: its staging write and its retire write, as the real one's. */
function shapedRotator(): Rotator<any> {
  const ok = async () => [{ id: 'env-key-holds-new' as const, name: 'works', ok: true }];
  return {
    kind: 'jwt',
    journaled: oldAndNew,
    preflight: async () => ({ checks: [{ id: 'env-key-present', name: 'current works', ok: true }] }),
    async generate(ctx) {
      const key = KEYS[ctx.config.kind as Kind];
      const next = new SecretValue(NEW);
      const keepOld = ctx.config.kind === 'jwt' && ctx.config.graceHours > 0 && !ctx.emergency;
      const exchange = ctx.config.kind === 'exchange-key';
      return {
        env: { [key]: next, ...(exchange ? { [`${key}_NEXT`]: null, [`${key}_PREVIOUS`]: new SecretValue(OLD) } : {}) },
        ...(exchange ? { stageEnv: { [`${key}_NEXT`]: next }, retireWithoutRestart: true as const } : {}),
        ...(exchange ? { retireEnv: { [`${key}_PREVIOUS`]: null } } : keepOld ? { retireEnv: { [`${key}_PREVIOUS`]: null } } : {}),
        secrets: { old: new SecretValue(OLD), new: next },
        facts: {},
      };
    },
    apply: async () => {},
    undoApply: async () => {},
    verify: ok,
    retire: async () => {},
    verifyRetired: ok,
    verifyCurrent: ok,
  };
}

/** The steps each secret's entry of the journal named while the secret was part of the run, in order. */
function journaledSteps(session: TestSession): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const write = session.store.writeJournal.bind(session.store);
  session.store.writeJournal = async (journal: Journal) => {
    for (const entry of journal.secrets) {
      const names = seen.get(entry.secret) ?? [];
      for (const step of [...journal.steps, ...entry.steps]) if (!names.includes(step.name)) names.push(step.name);
      seen.set(entry.secret, names);
    }
    return write(journal);
  };
  return seen;
}

function session(secrets: Record<string, Record<string, unknown>>, run: { restart?: boolean; emergency?: boolean } = {}) {
  const env = Object.values(secrets)
    .map((s) => `${KEYS[s.kind as Kind]}=${OLD}-${s.kind}\n`)
    .join('');
  return testSession({
    rotator: shapedRotator(),
    envText: env,
    config: { services: { app: { restart: 'restart-app' } }, secrets },
    run: { restart: run.restart ?? true, emergency: run.emergency ?? false },
  });
}

// A random secret names its key: it has no default.
const one = (kind: Kind, extra: Record<string, unknown> = {}) => ({
  [kind]: { kind, services: ['app'], ...(kind === 'random' ? { env: KEYS.random } : {}), ...extra },
});

const cases: [string, Record<string, Record<string, unknown>>, { restart?: boolean; emergency?: boolean }?][] = [
  ...(Object.keys(KEYS) as Kind[]).map((kind) => [kind, one(kind)] as [string, Record<string, Record<string, unknown>>]),
  ['jwt with a grace period', one('jwt', { graceHours: 24 })],
  ['jwt with a grace period, --emergency', one('jwt', { graceHours: 24 }), { emergency: true }],
  ['exchange-key --no-restart', one('exchange-key'), { restart: false }],
  ['postgres --no-restart', one('postgres'), { restart: false }],
  ['a set: exchange-key, jwt with a grace period, redis', { ...one('exchange-key'), ...one('jwt', { graceHours: 24 }), ...one('redis') }],
  ['a set: jwt and stripe', { ...one('jwt'), ...one('stripe') }],
];

describe('the steps of a run', () => {
  it.each(cases)('%s: the dry run lists the steps the run journals, and its result', async (_name, secrets, run) => {
    const ids = Object.keys(secrets);
    const s = session(secrets, run);
    const plan = await planSet(s, ids);
    expect(plan.map((r) => r.status)).toEqual(ids.map(() => 'planned'));
    const journaled = journaledSteps(s);
    const results = await rotateSet(s, ids);
    for (const [i, id] of ids.entries()) {
      expect(plan[i]!.steps, id).toEqual(journaled.get(id));
      expect(results.find((r) => r.secret === id)?.steps, id).toEqual(journaled.get(id));
    }
    expect(await s.store.readJournals()).toEqual([]);
  });

  it('exchange-key plans write-stage before apply; a grace period ends the run after verify', async () => {
    const s = session({ ...one('exchange-key'), ...one('jwt', { graceHours: 24 }) });
    const [exchange, jwt] = await planSet(s, ['exchange-key', 'jwt']);
    expect(exchange!.steps).toEqual([
      'write-stage',
      'apply',
      'write-target',
      'restart',
      'verify',
      'retire',
      'write-retire-target',
      'verify-retired',
    ]);
    expect(jwt!.steps).toEqual(['write-stage', 'apply', 'write-target', 'restart', 'verify']);
  });

  it('resume finishes a run whose every secret committed (verify done), and undoes any other; status names the last step', () => {
    const journal: Journal = {
      format: 2,
      runId: 'r',
      mode: 'rotate',
      startedAt: 't0',
      host: 'h',
      pid: 1,
      emergency: false,
      steps: [{ name: 'write-target', state: 'done', at: 't2' }],
      secrets: [
        {
          secret: 'a',
          kind: 'jwt',
          rotation: { facts: {}, envKeys: [], sealed: '' },
          steps: [{ name: 'verify', state: 'done', at: 't3' }],
        },
        {
          secret: 'b',
          kind: 'jwt',
          rotation: { facts: {}, envKeys: [], sealed: '' },
          steps: [{ name: 'verify', state: 'started', at: 't4' }],
        },
      ],
    };
    expect(resumeFinishes(journal)).toBe(false);
    expect(stepReached(journal, 'b')).toEqual({ step: 'verify', state: 'started', at: 't4', resume: 'undo' });
    journal.secrets[1]!.steps.push({ name: 'verify', state: 'done', at: 't5' });
    expect(resumeFinishes(journal)).toBe(true);
    expect(resumeFinishes({ ...journal, mode: 'retire', secrets: [] })).toBe(true);
    // One step commits the run, and it is the last of the change phase.
    expect(STEPS.filter((step) => step.commits).map((step) => step.name)).toEqual(['verify']);
  });
});

describe('one preflight for a run and a dry run', () => {
  it("a dry run says the env file's warnings (a ${VAR} reference, a world-readable file) as a run does", async () => {
    for (const run of [false, true]) {
      const s = testSession({ rotator: shapedRotator(), envText: 'JWT_SECRET=${OTHER_SECRET}\n' });
      chmodSync(s.envFile, 0o644);
      if (run) await rotateSet(s, ['jwt']);
      else await planSet(s, ['jwt']);
      const said = s.logged.join('\n');
      expect(said, run ? 'run' : 'dry run').toContain('JWT_SECRET is written as ${OTHER_SECRET}');
      expect(said, run ? 'run' : 'dry run').toContain('is readable by every user');
    }
  });
});
