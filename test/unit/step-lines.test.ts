// "step N of M: <step> (<elapsed> elapsed)": each step of a run says so on the log (stderr) before it acts (#25 item 6).
// The real engine, file store and env-file target, a fake clock, and the in-memory rotator.
import { describe, expect, it } from 'vitest';
import { retireSet, rotateSet } from '../../src/engine/pipeline.js';
import { resumeRun } from '../../src/engine/resume.js';
import { SecretValue } from '../../src/secret-value.js';
import { oldAndNew } from '../../src/secrets/journaled.js';
import type { JwtSecretConfig } from '../../src/secrets/jwt/kind.js';
import type { Rotator } from '../../src/secrets/types.js';
import type { Journal } from '../../src/store/types.js';
import { memoryRotator } from '../helpers/memory-rotator.js';
import { type TestSession, testSession } from '../helpers/session.js';

const OLD = 'old-value-0123456789-0123456789-abcdef';
const NEW = 'new-value-9876543210-9876543210-zyxwvu';

const stepLines = (session: TestSession) => session.logged.filter((line) => line.startsWith('step '));

/** The in-memory rotator whose preflight takes 4 s and whose apply takes 8 s of the session's fake clock. */
function slowRotator(session: () => TestSession): Rotator {
  const rotator = memoryRotator(OLD, NEW);
  return {
    ...rotator,
    preflight: async (ctx) => {
      session().clock.now = new Date(session().clock.now.getTime() + 4_000);
      return rotator.preflight(ctx);
    },
    apply: async (ctx, rotation) => {
      session().clock.now = new Date(session().clock.now.getTime() + 8_000);
      return rotator.apply(ctx, rotation);
    },
  };
}

/** Any number of jwt secrets, each under its own env key: every value works until retired. */
function keyedRotator(): Rotator<JwtSecretConfig> {
  const retired = new Set<string>();
  return {
    kind: 'jwt',
    journaled: oldAndNew,
    preflight: async () => ({ checks: [] }),
    generate: async (ctx) => {
      const next = new SecretValue(`${ctx.id}-${NEW}`);
      return { env: { [ctx.config.env]: next }, secrets: { old: new SecretValue(ctx.env[ctx.config.env]!), new: next }, facts: {} };
    },
    apply: async () => {},
    undoApply: async () => {},
    verify: async () => [{ id: 'env-key-holds-new' as const, name: 'new works', ok: true }],
    retire: async (_ctx, rotation) => void retired.add(rotation.secrets.old!.reveal()),
    verifyRetired: async (_ctx, rotation) => [
      { id: 'old-value-refused' as const, name: 'old refused', ok: retired.has(rotation.secrets.old!.reveal()) },
    ],
    verifyCurrent: async () => [{ id: 'env-key-present' as const, name: 'current works', ok: true }],
  };
}

describe('step lines', () => {
  it('a run says each step, numbered among the steps it takes, with the time since its checks began', async () => {
    let session: TestSession | undefined;
    session = testSession({ rotator: slowRotator(() => session!) });
    const [result] = await rotateSet(session, ['jwt']);
    expect(result!.status).toBe('rotated');
    expect(stepLines(session)).toEqual([
      'step 1 of 6: apply (4s elapsed)',
      'step 2 of 6: write-target (12s elapsed)',
      'step 3 of 6: restart (12s elapsed)',
      'step 4 of 6: verify (12s elapsed)',
      'step 5 of 6: retire (12s elapsed)',
      'step 6 of 6: verify-retired (12s elapsed)',
    ]);
    // The steps said are the steps the result lists.
    expect(result!.steps).toEqual(stepLines(session).map((line) => /: ([a-z-]+) \(/.exec(line)![1]));
  });

  it('a set names the secrets of a per-secret step and counts it once; --no-restart has fewer steps', async () => {
    const session = testSession({
      rotator: keyedRotator(),
      envText: `JWT_SECRET=${OLD}\nB_SECRET=b-${OLD}\n`,
      config: {
        services: { app: { restart: 'restart-app' } },
        secrets: { jwt: { kind: 'jwt', services: ['app'] }, b: { kind: 'jwt', env: 'B_SECRET', services: ['app'], graceHours: 2 } },
      },
    });
    await rotateSet(session, ['jwt', 'b']);
    // b keeps its old value for its grace period: the retire steps act for jwt alone.
    expect(stepLines(session)).toEqual([
      'step 1 of 6: apply of jwt, b (0s elapsed)',
      'step 2 of 6: write-target (0s elapsed)',
      'step 3 of 6: restart (0s elapsed)',
      'step 4 of 6: verify of jwt, b (0s elapsed)',
      'step 5 of 6: retire of jwt (0s elapsed)',
      'step 6 of 6: verify-retired of jwt (0s elapsed)',
    ]);

    const written = testSession({ rotator: memoryRotator(OLD, NEW), run: { restart: false } });
    await rotateSet(written, ['jwt']);
    expect(stepLines(written)).toEqual(['step 1 of 2: apply (0s elapsed)', 'step 2 of 2: write-target (0s elapsed)']);

    // A retirement at the end of a grace period is a run of its own: its steps only.
    session.logged.length = 0;
    session.clock.now = new Date(session.clock.now.getTime() + 3 * 3_600_000);
    await retireSet(session, ['b']);
    expect(stepLines(session)).toEqual(['step 1 of 2: retire (0s elapsed)', 'step 2 of 2: verify-retired (0s elapsed)']);
  });

  it('a resumed run that goes forward says the steps it still takes, numbered as in the run it finishes', async () => {
    const session = testSession({ rotator: memoryRotator(OLD, NEW) });
    // The run stops for good in retire, after verify (the process died there): resume goes forward.
    const rotator = memoryRotator(OLD, NEW);
    const dying: Rotator = {
      ...rotator,
      retire: async () => {
        throw new Error('killed');
      },
    };
    await rotateSet({ ...session, deps: { ...session.deps, loadRotator: async () => dying } }, ['jwt']);
    const [journal] = (await session.store.readJournals()) as Journal[];
    expect(journal).toBeDefined();
    session.logged.length = 0;
    const [resumed] = await resumeRun(session, journal!);
    expect(resumed!.status).toBe('rotated');
    expect(stepLines(session)).toEqual(['step 5 of 6: retire (0s elapsed)', 'step 6 of 6: verify-retired (0s elapsed)']);
  });
});
