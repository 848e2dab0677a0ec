// A journaled rotation is decoded once, by the engine, against its kind's schema (Rotator.journaled): whatever the
// kind, one that does not decode is STORE_CORRUPT (exit 3) naming where it was kept, before any rotator reads it.
import { describe, expect, it } from 'vitest';
import type { Kind } from '../../src/config/schema.js';
import { resumeRun } from '../../src/engine/resume.js';
import { sealRotation, unsealRotation } from '../../src/engine/sealing.js';
import { ERROR_CODES } from '../../src/error-codes.js';
import { ExitCode, RotateError } from '../../src/errors.js';
import { SecretValue } from '../../src/secret-value.js';
import { loadRotator } from '../../src/secrets/index.js';
import type { Rotation } from '../../src/secrets/types.js';
import { damagedJournalHint, type Journal, type SealedRotation } from '../../src/store/types.js';
import { memoryRotator } from '../helpers/memory-rotator.js';
import { testSession } from '../helpers/session.js';

/** Secrets each kind's rotations hold (as its generate makes them), the first one required. */
const SECRETS: Record<Kind, Record<string, string>> = {
  jwt: { new: 's3cr3t-n', old: 's3cr3t-o' },
  'exchange-key': { new: 's3cr3t-n', old: 's3cr3t-o' },
  postgres: {
    newUrl: 'postgresql://app:s3cr3t-new@db/app',
    oldUrl: 'postgresql://app:s3cr3t-old@db/app',
    oldPassword: 's3cr3t-old',
    newPassword: 's3cr3t-new',
  },
  redis: { newPassword: 's3cr3t-new', oldPassword: 's3cr3t-old' },
  stripe: { newSecretKey: 'sk_test_s3cr3t-new', oldSecretKey: 'sk_test_s3cr3t-old' },
  dotenvx: { new: 's3cr3t-n', old: 's3cr3t-o' },
  random: { new: 's3cr3t-n', old: 's3cr3t-o' },
};

const KINDS = Object.keys(SECRETS) as Kind[];

const rotationOf = (secrets: Record<string, string>, facts: Rotation['facts'] = {}): Rotation => ({
  env: { KEY: new SecretValue('n') },
  secrets: Object.fromEntries(Object.entries(secrets).map(([k, v]) => [k, new SecretValue(v)])),
  facts,
});

const without = (secrets: Record<string, string>, name: string) => Object.fromEntries(Object.entries(secrets).filter(([k]) => k !== name));

/** Each way a journal entry can be damaged, as the store would hold it. */
const DAMAGES: [string, (kind: Kind, seal: (r: Rotation) => Promise<SealedRotation>) => Promise<unknown>][] = [
  ['a required secret missing', (kind, seal) => seal(rotationOf(without(SECRETS[kind], Object.keys(SECRETS[kind])[0]!)))],
  ['the sealed field missing', async (kind, seal) => ({ ...(await seal(rotationOf(SECRETS[kind]))), sealed: undefined })],
  ['no rotation at all', async () => undefined],
  ['a fact that is not JSON', async (kind, seal) => ({ ...(await seal(rotationOf(SECRETS[kind]))), facts: { n: () => 1 } })],
];

async function attempt(work: () => Promise<unknown>): Promise<RotateError> {
  const error = await work().then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(RotateError);
  return error as RotateError;
}

describe('a journaled rotation is decoded once against its kind’s schema', () => {
  const session = testSession({ rotator: memoryRotator('o', 'n') });
  const store = session.store;
  const where = store.journalLocation('run-1');
  const kept = { where: `the journal of run run-1 (${where})`, hint: damagedJournalHint(where) };

  it.each(KINDS)('%s: a whole rotation decodes, its secrets wrapped again, its facts as kept', async (kind) => {
    const rotator = await loadRotator(kind);
    const sealed = await sealRotation(store, 's', rotationOf(SECRETS[kind], { keysBefore: 3 }));
    const back = await unsealRotation(store, 's', sealed, rotator.journaled, kept);
    expect(Object.fromEntries(Object.entries(back.secrets).map(([k, v]) => [k, v?.reveal()]))).toEqual(SECRETS[kind]);
    expect(back.facts).toEqual({ keysBefore: 3 });
    expect(back.env.KEY?.reveal()).toBe('n');
  });

  for (const [damage, make] of DAMAGES) {
    it.each(KINDS)(`%s: ${damage} is STORE_CORRUPT, exit 3, naming the journal`, async (kind) => {
      const rotator = await loadRotator(kind);
      const entry = await make(kind, (rotation) => sealRotation(store, 's', rotation));
      const error = await attempt(() => unsealRotation(store, 's', entry, rotator.journaled, kept));
      expect(error.code).toBe('STORE_CORRUPT');
      expect(ERROR_CODES[error.code].exit).toBe(ExitCode.needsPerson);
      expect(error.message).toContain(where);
      expect(error.message).toContain('the rotation of s is damaged');
      expect(error.hint).toContain('rotate backups restore');
      // The message names what is wrong, never a value.
      expect(`${error.message} ${error.hint}`).not.toContain('s3cr3t');
    });
  }

  it('a payload the engine cannot read as JSON is the same error', async () => {
    const rotator = await loadRotator('jwt');
    const entry: SealedRotation = { facts: {}, envKeys: [], sealed: await store.seal('{not json', 'rotation:s') };
    const error = await attempt(() => unsealRotation(store, 's', entry, rotator.journaled, kept));
    expect(error.code).toBe('STORE_CORRUPT');
  });

  it('a fact of the wrong type where the kind reads it (Stripe’s endpoint id) is the same error', async () => {
    const rotator = await loadRotator('stripe');
    const entry = await sealRotation(store, 's', rotationOf(SECRETS.stripe, { oldEndpointId: 42 }));
    const error = await attempt(() => unsealRotation(store, 's', entry, rotator.journaled, kept));
    expect(error.code).toBe('STORE_CORRUPT');
    expect(error.message).toContain('facts.oldEndpointId');
  });
});

describe('rotate resume of a damaged journal', () => {
  it('stops with STORE_CORRUPT naming the journal file, before any rotator step, and keeps the journal', async () => {
    const session = testSession({ rotator: memoryRotator('o', 'n') });
    const journal: Journal = {
      format: 2,
      runId: 'run-damaged',
      mode: 'rotate',
      startedAt: '2026-01-01T00:00:00.000Z',
      host: 'host',
      pid: 1,
      emergency: false,
      secrets: [
        {
          secret: 'jwt',
          kind: 'jwt',
          rotation: await sealRotation(session.store, 'jwt', rotationOf({ old: 'o' })),
          steps: [{ name: 'apply', state: 'started', at: '2026-01-01T00:00:01.000Z' }],
        },
      ],
      steps: [],
    };
    await session.store.writeJournal(journal);
    const error = await attempt(() => resumeRun(session, journal));
    expect(error.code).toBe('STORE_CORRUPT');
    expect(error.message).toContain(session.store.journalLocation('run-damaged'));
    expect(error.message).toContain('secrets.new');
    expect(await session.store.readJournals()).toHaveLength(1);
    expect(session.commands).toEqual([]);
  });
});
