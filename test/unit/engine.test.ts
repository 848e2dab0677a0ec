// The engine's order, journal, rollback, resume and grace handling, with a fake rotator whose "provider" is a set
// of valid values in memory, and the real file store and env editor.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { schedule } from '../../src/engine/due.js';
import { retireSet, rotateSet } from '../../src/engine/pipeline.js';
import { exitCodeOf } from '../../src/engine/result.js';
import { resumeRun } from '../../src/engine/resume.js';
import type { Session } from '../../src/engine/session.js';
import { SecretValue } from '../../src/secret-value.js';
import { oldAndNew } from '../../src/secrets/journaled.js';
import type { Rotator } from '../../src/secrets/types.js';
import type { Journal, StoredJournal } from '../../src/store/types.js';
import { findLeaks, readTree } from '../helpers/cli.js';
import { type TestSession, testSession } from '../helpers/session.js';
import { startWebhook } from '../helpers/webhook.js';

// One secret per run, as the tests before sets: the result of that secret.
const rotateSecret = async (session: Session, id: string, mode?: 'rotate' | 'rollback') => (await rotateSet(session, [id], mode))[0]!;
const retirePending = async (session: Session, id: string) => (await retireSet(session, [id]))[0]!;
const resumeJournal = async (session: Session, journal: StoredJournal) => (await resumeRun(session, journal))[0]!;

const OLD = 'old-value-0123456789-0123456789-abcdef';
const NEW = 'new-value-9876543210-9876543210-zyxwvu';

type Fail = 'apply' | 'verify' | 'undoApply' | 'retire' | 'verifyCurrent';

function fakeRotator(fail: Set<Fail> = new Set()) {
  const calls: string[] = [];
  const provider = new Set([OLD]);
  let session: TestSession | undefined;
  const boom = (step: Fail) => {
    if (fail.has(step)) throw new Error(`${step} broke`);
  };
  const rotator: Rotator<any> = {
    kind: 'jwt',
    journaled: oldAndNew,
    async preflight(ctx) {
      calls.push('preflight');
      return { checks: [{ id: 'env-key-present', name: 'current works', ok: provider.has(ctx.env.JWT_SECRET!) }] };
    },
    async generate(ctx, restore) {
      calls.push(restore ? 'generate-restore' : 'generate');
      const next = restore ? restore.secrets.old! : new SecretValue(NEW);
      return { env: { JWT_SECRET: next }, secrets: { old: new SecretValue(ctx.env.JWT_SECRET!), new: next }, facts: { n: 1 } };
    },
    async apply(_ctx, rotation) {
      calls.push('apply');
      // The journal names the step before the side effect happens.
      const journal = (await session!.store.readJournals())[0] as Journal;
      expect(journal.secrets[0]!.steps.at(-1)).toMatchObject({ name: 'apply', state: 'started' });
      provider.add(rotation.secrets.new!.reveal());
      boom('apply');
    },
    async undoApply(_ctx, rotation) {
      calls.push('undoApply');
      boom('undoApply');
      if (!rotation.secrets.new!.equals(rotation.secrets.old)) provider.delete(rotation.secrets.new!.reveal());
    },
    async verify(ctx) {
      calls.push('verify');
      return [{ id: 'env-key-holds-new', name: 'new works', ok: !fail.has('verify') && provider.has(ctx.env.JWT_SECRET!) }];
    },
    async retire(_ctx, rotation) {
      calls.push('retire');
      boom('retire');
      provider.delete(rotation.secrets.old!.reveal());
    },
    async verifyRetired(_ctx, rotation) {
      calls.push('verifyRetired');
      return [{ id: 'old-value-refused', name: 'old refused', ok: !provider.has(rotation.secrets.old!.reveal()) }];
    },
    async verifyCurrent(ctx) {
      calls.push('verifyCurrent');
      return [{ id: 'env-key-present', name: 'current works', ok: !fail.has('verifyCurrent') && provider.has(ctx.env.JWT_SECRET!) }];
    },
  };
  return { rotator, calls, provider, attach: (s: TestSession) => (session = s) };
}

function setup(fail: Fail[] = [], config?: Record<string, unknown>) {
  const fake = fakeRotator(new Set(fail));
  const session = testSession({ rotator: fake.rotator, ...(config ? { config } : {}) });
  fake.attach(session);
  const env = () => readFileSync(session.envFile, 'utf8');
  return { ...fake, session, env, before: env() };
}

/** The session as a new process sees it with `rotator` loaded: only the store and the env file are shared. */
const withRotator = (session: TestSession, rotator: Rotator<any>): TestSession => ({
  ...session,
  deps: { ...session.deps, loadRotator: async () => rotator },
});

/** Resumes `journal` in a new process whose provider already knows NEW (the person fixed the cause). */
async function resumeFixed(session: TestSession, journal: StoredJournal) {
  const fixed = fakeRotator();
  fixed.provider.add(NEW);
  return { fixed, resumed: await resumeJournal(withRotator(session, fixed.rotator), journal) };
}

const JWT_ON_APP = { services: { app: { restart: 'restart-app' } }, secrets: { jwt: { kind: 'jwt', services: ['app'] } } };
const WITH_GRACE = { ...JWT_ON_APP, secrets: { jwt: { ...JWT_ON_APP.secrets.jwt, graceHours: 24 } } };
const notifying = (webhookUrl: string) => ({ ...JWT_ON_APP, notify: { webhookUrl, on: ['success'] } });

describe('engine', () => {
  it('runs the steps in the contract order, restarts, records, and keeps no secret in the store', async () => {
    const { session, calls, provider, env } = setup();
    const result = await rotateSecret(session, 'jwt');
    expect(result.status).toBe('rotated');
    expect(calls).toEqual(['preflight', 'generate', 'apply', 'verify', 'retire', 'verifyRetired']);
    expect(session.commands).toEqual(['restart-app']);
    expect(env()).toBe(`JWT_SECRET=${NEW}\n`);
    expect([...provider]).toEqual([NEW]);
    expect(await session.store.readJournals()).toEqual([]);
    expect((await session.store.readHistory())[0]).toMatchObject({ secret: 'jwt', result: 'rotated', actor: 'tester@host' });
    const state = (await session.store.readStates()).jwt!;
    expect(state.lastRotatedAt).toBe('2026-01-01T00:00:00.000Z');
    expect(state.last?.facts).toEqual({ n: 1 });
    expect(findLeaks(readTree(join(session.dir, '.rotate')), [OLD, NEW])).toEqual([]);
  });

  it('a failing preflight changes nothing and never generates', async () => {
    const { session, calls, env, before } = setup();
    await (await import('node:fs/promises')).writeFile(session.envFile, 'JWT_SECRET=unknown-to-the-provider-123456\n');
    const result = await rotateSecret(session, 'jwt');
    expect(result.status).toBe('failed');
    expect(result.error?.code).toBe('PREFLIGHT_FAILED');
    expect(calls).toEqual(['preflight']);
    expect(env()).not.toBe(before);
    expect(session.commands).toEqual([]);
  });

  it('a failing apply is undone; the env file is never written', async () => {
    const { session, calls, provider, env, before } = setup(['apply']);
    const result = await rotateSecret(session, 'jwt');
    expect(result.status).toBe('rolled-back');
    expect(exitCodeOf([result])).toBe(1);
    expect(calls).toEqual(['preflight', 'generate', 'apply', 'undoApply', 'verifyCurrent']);
    expect([...provider]).toEqual([OLD]);
    expect(env()).toBe(before);
    expect(session.commands).toEqual([]);
  });

  it('a failing verification restores the env bytes, undoes apply, restarts again, proves the old value works', async () => {
    const { session, calls, provider, env, before } = setup(['verify']);
    const result = await rotateSecret(session, 'jwt');
    expect(result.status).toBe('rolled-back');
    expect(result.error?.code).toBe('VERIFY_FAILED');
    expect(calls).toEqual(['preflight', 'generate', 'apply', 'verify', 'undoApply', 'verifyCurrent']);
    expect(session.commands).toEqual(['restart-app', 'restart-app']);
    expect(env()).toBe(before);
    expect([...provider]).toEqual([OLD]);
    expect((await session.store.readHistory())[0]).toMatchObject({ result: 'rolled-back', error: { code: 'VERIFY_FAILED' } });
  });

  it('a failing rollback needs a person (exit 3), blocks status, and resume finishes the undo', async () => {
    const fake = setup(['verify', 'undoApply']);
    const result = await rotateSecret(fake.session, 'jwt');
    expect(result.status).toBe('rollback-failed');
    expect(exitCodeOf([result])).toBe(3);
    const [journal] = await fake.session.store.readJournals();
    expect(journal?.needsPerson).toMatch(
      /^the rotation and its rollback failed: .*verification.*; rolling back failed too: undoApply broke/,
    );
    const sched = schedule(fake.session.config.secrets.jwt!, undefined, journal, { JWT_SECRET: OLD }, fake.session.deps.now());
    expect(sched.state).toBe('needs-person');

    // The person fixes the cause; resume (a new process: only the journal is shared) undoes the rest.
    const { fixed, resumed } = await resumeFixed(fake.session, journal!);
    expect(resumed.status).toBe('undone');
    expect(fixed.calls).toEqual(['undoApply', 'verifyCurrent']);
    expect([...fixed.provider]).toEqual([OLD]);
    expect(fake.env()).toBe(fake.before);
    expect(await fake.session.store.readJournals()).toEqual([]);
  });

  it('a failing retirement leaves the verified new value in place (exit 3), and resume goes forward', async () => {
    const fake = setup(['retire']);
    const result = await rotateSecret(fake.session, 'jwt');
    expect(result.status).toBe('retire-failed');
    expect(exitCodeOf([result])).toBe(3);
    expect(fake.env()).toBe(`JWT_SECRET=${NEW}\n`);
    const [journal] = await fake.session.store.readJournals();
    const { fixed, resumed } = await resumeFixed(fake.session, journal!);
    expect(resumed.status).toBe('rotated');
    expect(fixed.calls).toEqual(['retire', 'verifyRetired']);
    expect([...fixed.provider]).toEqual([NEW]);
    expect((await fake.session.store.readStates()).jwt?.lastRotatedAt).toBeDefined();
  });

  it("a resumed run's history entry is timed from the resume's own start, and names the run's start beside it", async () => {
    const fake = setup(['retire']);
    fake.session.clock.now = new Date('2026-01-01T00:00:00Z');
    await rotateSecret(fake.session, 'jwt');
    const [journal] = await fake.session.store.readJournals();
    // The person comes back three hours later; the resume itself takes 2 seconds.
    fake.session.clock.now = new Date('2026-01-01T03:00:00Z');
    const fixed = fakeRotator();
    fixed.provider.add(NEW);
    fixed.rotator.retire = async (_ctx, rotation) => {
      fake.session.clock.now = new Date('2026-01-01T03:00:02Z');
      fixed.provider.delete(rotation.secrets.old!.reveal());
    };
    expect((await resumeJournal(withRotator(fake.session, fixed.rotator), journal!)).status).toBe('rotated');
    const last = (await fake.session.store.readHistory()).at(-1)!;
    expect(last).toMatchObject({ action: 'rotate', durationMs: 2000, runStartedAt: journal!.startedAt });
    // A run that was not resumed names no other start.
    expect((await fake.session.store.readHistory()).at(0)!.runStartedAt).toBeUndefined();
  });

  it('a run killed after apply started is undone by resume from the journal alone', async () => {
    const fake = setup();
    // Simulate the kill: stop the run inside apply, leaving the journal as the dead process left it.
    const kill = new Error('killed');
    fake.rotator.apply = async (_ctx, rotation) => {
      fake.provider.add(rotation.secrets.new!.reveal());
      throw kill;
    };
    fake.rotator.undoApply = async () => {
      throw kill; // the "process" dies again during its own rollback
    };
    await rotateSecret(fake.session, 'jwt');
    const [journal] = await fake.session.store.readJournals();
    expect((journal as Journal).secrets[0]!.steps.map((s) => `${s.name}:${s.state}`)).toEqual(['apply:started']);
    expect((journal as Journal).steps).toEqual([]);
    const { fixed, resumed } = await resumeFixed(fake.session, journal!);
    expect(resumed.status).toBe('undone');
    expect([...fixed.provider]).toEqual([OLD]);
    expect(fake.env()).toBe(fake.before);
  });

  it('grace: the old value stays until the period ends, then retirePending retires it', async () => {
    const fake = setup([], WITH_GRACE);
    const result = await rotateSecret(fake.session, 'jwt');
    expect(result.status).toBe('grace');
    expect(result.graceUntil).toBe('2026-01-02T00:00:00.000Z');
    expect(fake.calls).not.toContain('retire');
    expect([...fake.provider].sort()).toEqual([NEW, OLD].sort());
    const state = (await fake.session.store.readStates()).jwt;
    expect(schedule(fake.session.config.secrets.jwt!, state, undefined, { JWT_SECRET: NEW }, fake.session.deps.now()).state).toBe('grace');
    fake.session.clock.now = new Date('2026-01-02T00:00:01Z');
    expect(schedule(fake.session.config.secrets.jwt!, state, undefined, { JWT_SECRET: NEW }, fake.session.deps.now()).state).toBe(
      'retire-due',
    );
    const retired = await retirePending(fake.session, 'jwt');
    expect(retired.status).toBe('retired');
    expect([...fake.provider]).toEqual([NEW]);
    expect((await fake.session.store.readStates()).jwt?.pendingRetire).toBeUndefined();
  });

  it('a rotation during a grace period retires the pending old value first', async () => {
    const fake = setup([], WITH_GRACE);
    expect((await rotateSecret(fake.session, 'jwt')).status).toBe('grace');
    const second = fakeRotator();
    second.provider.clear();
    for (const v of fake.provider) second.provider.add(v);
    second.rotator.generate = async (ctx) => {
      second.calls.push('generate');
      return {
        env: { JWT_SECRET: new SecretValue('third-value-0123456789-0123456789-abcd') },
        secrets: { old: new SecretValue(ctx.env.JWT_SECRET!), new: new SecretValue('third-value-0123456789-0123456789-abcd') },
        facts: {},
      };
    };
    second.attach(fake.session);
    const result = await rotateSecret(withRotator(fake.session, second.rotator), 'jwt');
    expect(result.status).toBe('grace');
    // First the retirement of OLD (the first rotation's old value), then the new rotation from NEW.
    expect(second.calls).toEqual(['retire', 'verifyRetired', 'preflight', 'generate', 'apply', 'verify']);
    expect([...second.provider].sort()).toEqual([NEW, 'third-value-0123456789-0123456789-abcd'].sort());
    expect(fake.session.logged.join('\n')).toContain('grace period is cut short');
  });

  it('--emergency retires at once despite a grace period', async () => {
    const fake = fakeRotator();
    const session = testSession({
      rotator: fake.rotator,
      config: WITH_GRACE,
      run: { emergency: true, reason: 'leak' },
    });
    fake.attach(session);
    const result = await rotateSecret(session, 'jwt');
    expect(result.status).toBe('rotated');
    expect([...fake.provider]).toEqual([NEW]);
    expect((await session.store.readHistory())[0]).toMatchObject({ emergency: true, reason: 'leak' });
  });

  it('tells the notification hook what happened, without a secret value', async () => {
    const hook = await startWebhook();
    const { bodies } = hook;
    const fake = setup([], notifying(hook.url));
    await rotateSecret(fake.session, 'jwt');
    await hook.close();
    expect(bodies).toHaveLength(1);
    expect(JSON.parse(bodies[0]!)).toMatchObject({ event: 'success', action: 'rotate', secret: 'jwt', result: 'rotated' });
    expect(JSON.parse(bodies[0]!).text).toMatch(/^rotate: jwt rotation done on host/);
    expect(findLeaks({ hook: bodies[0]! }, [OLD, NEW])).toEqual([]);
  });

  it('--reason with the current or new value typed in is stored and posted redacted', async () => {
    const hook = await startWebhook();
    const { bodies } = hook;
    const fake = setup([], notifying(hook.url));
    fake.session.options.reason = `leaked ${OLD} in CI; replaced by ${NEW}`;
    await rotateSecret(fake.session, 'jwt');
    await hook.close();
    const [entry] = await fake.session.store.readHistory();
    expect(entry?.reason).toBe('leaked [redacted] in CI; replaced by [redacted]');
    expect(bodies).toHaveLength(1);
    expect(
      findLeaks({ hook: bodies[0]!, history: JSON.stringify(entry), store: JSON.stringify(readTree(join(fake.session.dir, '.rotate'))) }, [
        OLD,
        NEW,
      ]),
    ).toEqual([]);
  });

  it('rollback goes back to the replaced value, then has nothing left to roll back', async () => {
    const fake = setup();
    await rotateSecret(fake.session, 'jwt');
    const back = await rotateSecret(fake.session, 'jwt', 'rollback');
    expect(back.status).toBe('restored');
    expect(fake.env()).toBe(fake.before);
    expect(fake.provider.has(OLD)).toBe(true);
    expect(fake.provider.has(NEW)).toBe(false);
    await expect(rotateSecret(fake.session, 'jwt', 'rollback')).rejects.toMatchObject({ code: 'NOTHING_TO_ROLL_BACK', exitCode: 2 });
  });
});

describe('engine: a rotation that stages its new value (exchange-key)', () => {
  /** The fake rotator with exchange-key's env changes; each undoApply and apply records the env file as it found it. */
  function staging(fail: Fail[] = []) {
    const base = setup(fail, JWT_ON_APP);
    const seen: string[] = [];
    const { rotator } = base;
    const staged: Rotator<any> = {
      ...rotator,
      async generate(ctx, restore) {
        const rotation = await rotator.generate(ctx, restore);
        const next = rotation.secrets.new!;
        return {
          ...rotation,
          stageEnv: { JWT_SECRET_NEXT: next },
          env: { JWT_SECRET: next, JWT_SECRET_NEXT: null, JWT_SECRET_PREVIOUS: rotation.secrets.old! },
          retireEnv: { JWT_SECRET_PREVIOUS: null },
          retireWithoutRestart: true,
        };
      },
      async apply(ctx, rotation) {
        seen.push(`apply: ${base.env().trim().replace(/\n/g, ' ')}`);
        await rotator.apply(ctx, rotation);
      },
      async undoApply(ctx, rotation) {
        seen.push(`undoApply: ${base.env().trim().replace(/\n/g, ' ')} (after ${base.session.commands.length} restarts)`);
        await rotator.undoApply(ctx, rotation);
      },
    };
    const session = withRotator(base.session, staged);
    return { ...base, session, seen };
  }

  it('writes the staging key before apply, the old value beside the new one after, and removes it at retire without a restart', async () => {
    const { session, env, seen } = staging();
    const result = await rotateSecret(session, 'jwt');
    expect(result.status).toBe('rotated');
    expect(seen).toEqual([`apply: JWT_SECRET=${OLD} JWT_SECRET_NEXT=${NEW}`]);
    expect(env()).toBe(`JWT_SECRET=${NEW}\n`);
    expect(session.commands).toEqual(['restart-app']); // removing JWT_SECRET_PREVIOUS restarts nothing
    expect(findLeaks(readTree(join(session.dir, '.rotate')), [OLD, NEW])).toEqual([]);
  });

  // Undone as the forward path goes: the old value back with the new one staged beside it, the app restarted onto the
  // old one (when it had been restarted onto the new one: the app may have written under it), then undoApply.
  it.each([
    { fail: 'apply' as const, during: `JWT_SECRET=${OLD} JWT_SECRET_NEXT=${NEW} (after 0 restarts)`, restarts: [] },
    {
      fail: 'verify' as const,
      during: `JWT_SECRET=${OLD} JWT_SECRET_NEXT=${NEW} (after 2 restarts)`,
      restarts: ['restart-app', 'restart-app'],
    },
  ])(
    'a failing $fail: undoApply runs once the app is back on the old value with the new one staged, then the bytes come back',
    async ({ fail, during, restarts }) => {
      const { session, env, before, seen } = staging([fail]);
      const result = await rotateSecret(session, 'jwt');
      expect(result.status).toBe('rolled-back');
      expect(seen.at(-1)).toBe(`undoApply: ${during}`);
      expect(env()).toBe(before);
      expect(session.commands).toEqual(restarts);
    },
  );
});
