// A run over a set of secrets: one write of the target, one restart per service, the whole set rolled back or
// resumed together. A fake rotator (its "provider" a set of valid values per env key in memory), the real file
// store, env editor and env-file target.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { rotateSet } from '../../src/engine/pipeline.js';
import { resumeRun } from '../../src/engine/resume.js';
import { SecretValue } from '../../src/secret-value.js';
import { oldAndNew } from '../../src/secrets/journaled.js';
import type { JwtSecretConfig } from '../../src/secrets/jwt/kind.js';
import type { Rotator } from '../../src/secrets/types.js';
import type { Journal } from '../../src/store/types.js';
import { openEnvFileTarget } from '../../src/target/envfile.js';
import { testSession } from '../helpers/session.js';

const OLD = { A_SECRET: 'a-old-0123456789-0123456789-abcdef', B_SECRET: 'b-old-0123456789-0123456789-abcdef' };
const NEW = { A_SECRET: 'a-new-9876543210-9876543210-zyxwvu', B_SECRET: 'b-new-9876543210-9876543210-zyxwvu' };
type Key = keyof typeof OLD;
const ENV = `# app\nA_SECRET=${OLD.A_SECRET}\nOTHER=1\nB_SECRET=${OLD.B_SECRET}\n`;

/** Every secret of the set is kind jwt with its own env key; `failVerify` names the keys whose verify fails. */
function fakeRotator(failVerify: Key[] = []) {
  const calls: string[] = [];
  const valid: Record<Key, Set<string>> = { A_SECRET: new Set([OLD.A_SECRET]), B_SECRET: new Set([OLD.B_SECRET]) };
  const key = (ctx: { config: JwtSecretConfig }) => ctx.config.env as Key;
  const rotator: Rotator<JwtSecretConfig> = {
    kind: 'jwt',
    journaled: oldAndNew,
    async preflight(ctx) {
      calls.push(`preflight ${key(ctx)}`);
      return { checks: [{ id: 'env-key-present', name: 'current works', ok: valid[key(ctx)].has(ctx.env[key(ctx)]!) }] };
    },
    async generate(ctx) {
      const k = key(ctx);
      const next = new SecretValue(NEW[k]);
      return { env: { [k]: next }, secrets: { old: new SecretValue(ctx.env[k]!), new: next }, facts: {} };
    },
    async apply(ctx, rotation) {
      calls.push(`apply ${key(ctx)}`);
      valid[key(ctx)].add(rotation.secrets.new!.reveal());
    },
    async undoApply(ctx, rotation) {
      calls.push(`undoApply ${key(ctx)}`);
      valid[key(ctx)].delete(rotation.secrets.new!.reveal());
    },
    async verify(ctx) {
      calls.push(`verify ${key(ctx)}`);
      return [{ id: 'env-key-holds-new', name: 'new works', ok: !failVerify.includes(key(ctx)) && ctx.env[key(ctx)] === NEW[key(ctx)] }];
    },
    async retire(ctx, rotation) {
      calls.push(`retire ${key(ctx)}`);
      valid[key(ctx)].delete(rotation.secrets.old!.reveal());
    },
    async verifyRetired(ctx, rotation) {
      return [{ id: 'old-value-refused', name: 'old refused', ok: !valid[key(ctx)].has(rotation.secrets.old!.reveal()) }];
    },
    async verifyCurrent(ctx) {
      calls.push(`verifyCurrent ${key(ctx)}`);
      return [{ id: 'env-key-present', name: 'current works', ok: valid[key(ctx)].has(ctx.env[key(ctx)]!) }];
    },
  };
  return { rotator, calls, valid };
}

function setup(failVerify: Key[] = []) {
  const fake = fakeRotator(failVerify);
  const session = testSession({
    rotator: fake.rotator,
    envText: ENV,
    config: {
      services: { app: { restart: 'restart-app' }, worker: { restart: 'restart-worker' } },
      secrets: {
        a: { kind: 'jwt', env: 'A_SECRET', services: ['app'] },
        b: { kind: 'jwt', env: 'B_SECRET', services: ['app', 'worker'] },
      },
    },
  });
  return { ...fake, session, env: () => readFileSync(session.envFile, 'utf8') };
}

describe('a run over a set of secrets', () => {
  it('writes the env file once with both values and restarts a shared service once', async () => {
    const { session, calls, env } = setup();
    const results = await rotateSet(session, ['a', 'b']);
    expect(results.map((r) => r.status)).toEqual(['rotated', 'rotated']);
    expect(new Set(results.map((r) => r.runId)).size).toBe(1);
    expect(session.commands).toEqual(['restart-app', 'restart-worker']);
    expect(calls).toEqual([
      'preflight A_SECRET',
      'preflight B_SECRET',
      'apply A_SECRET',
      'apply B_SECRET',
      'verify A_SECRET',
      'verify B_SECRET',
      'retire A_SECRET',
      'retire B_SECRET',
    ]);
    expect(env()).toBe(`# app\nA_SECRET=${NEW.A_SECRET}\nOTHER=1\nB_SECRET=${NEW.B_SECRET}\n`);
    const history = await session.store.readHistory();
    expect(history.map((e) => `${e.secret}:${e.result}`)).toEqual(['a:rotated', 'b:rotated']);
    expect(await session.store.readJournals()).toEqual([]);
  });

  it("a failure in the second secret's verification rolls back both, with one more restart", async () => {
    const { session, calls, valid, env } = setup(['B_SECRET']);
    const results = await rotateSet(session, ['a', 'b']);
    expect(results.map((r) => r.status)).toEqual(['rolled-back', 'rolled-back']);
    expect(results.every((r) => r.error?.code === 'VERIFY_FAILED')).toBe(true);
    expect(calls.slice(calls.indexOf('verify B_SECRET'))).toEqual([
      'verify B_SECRET',
      'undoApply B_SECRET',
      'undoApply A_SECRET',
      'verifyCurrent A_SECRET',
      'verifyCurrent B_SECRET',
    ]);
    expect(env()).toBe(ENV);
    expect([...valid.A_SECRET]).toEqual([OLD.A_SECRET]);
    expect([...valid.B_SECRET]).toEqual([OLD.B_SECRET]);
    expect(session.commands).toEqual(['restart-app', 'restart-worker', 'restart-app', 'restart-worker']);
    expect(await session.store.readJournals()).toEqual([]);
  });

  it('a run killed after writing the target is undone by resume for the whole set', async () => {
    const { session, env } = setup();
    // The "process" dies in the restart, and again as its rollback starts: the journal holds both applies and the write.
    const died = new Error('killed');
    session.deps.runCommand = async () => {
      throw died;
    };
    const dying = { ...session, target: { ...session.target, restore: () => Promise.reject(died) } };
    await rotateSet(dying, ['a', 'b']);
    const [journal] = (await session.store.readJournals()) as Journal[];
    expect(journal!.steps.map((s) => `${s.name}:${s.state}`)).toEqual(['write-target:started', 'write-target:done', 'restart:started']);
    expect(journal!.secrets.map((s) => s.secret)).toEqual(['a', 'b']);
    expect(env()).toContain(NEW.A_SECRET);

    const fixed = fakeRotator();
    fixed.valid.A_SECRET.add(NEW.A_SECRET);
    fixed.valid.B_SECRET.add(NEW.B_SECRET);
    const commands: string[] = [];
    const resumed = await resumeRun(
      {
        ...session,
        deps: {
          ...session.deps,
          loadRotator: async () => fixed.rotator,
          runCommand: async (c) => {
            commands.push(c);
            return { code: 0, stdout: '', stderr: '' };
          },
        },
      },
      journal!,
    );
    expect(resumed.map((r) => `${r.secret}:${r.status}`)).toEqual(['a:undone', 'b:undone']);
    expect(fixed.calls).toEqual(['undoApply B_SECRET', 'undoApply A_SECRET', 'verifyCurrent A_SECRET', 'verifyCurrent B_SECRET']);
    expect(commands).toEqual(['restart-app', 'restart-worker']);
    expect(env()).toBe(ENV);
    expect(await session.store.readJournals()).toEqual([]);
  });

  it('two env files that disagree on a rotated key stop the run (exit 2) before anything changes', async () => {
    const { session, calls, env } = setup();
    const worker = join(session.dir, 'worker.env');
    const workerText = `A_SECRET=${OLD.A_SECRET}\nB_SECRET=something-else-0123456789-abcdef\n`;
    writeFileSync(worker, workerText);
    session.target = openEnvFileTarget([session.envFile, worker]);
    const error = await rotateSet(session, ['a', 'b']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'ENV_FILES_DISAGREE', exitCode: 2 });
    expect((error as Error).message).toContain(session.envFile);
    expect((error as Error).message).toContain(worker);
    expect((error as Error).message).toContain('B_SECRET');
    expect((error as Error).message).not.toContain(OLD.B_SECRET);
    expect((error as Error).message).not.toContain('something-else');
    expect(calls).toEqual([]);
    expect(env()).toBe(ENV);
    expect(readFileSync(worker, 'utf8')).toBe(workerText);
    expect(session.commands).toEqual([]);
  });

  it('two env files that agree both get the new values, each edited in place', async () => {
    const { session, env } = setup();
    const worker = join(session.dir, 'worker.env');
    writeFileSync(worker, `export B_SECRET="${OLD.B_SECRET}" # shared\nA_SECRET=${OLD.A_SECRET}\n`);
    session.target = openEnvFileTarget([session.envFile, worker]);
    const results = await rotateSet(session, ['a', 'b']);
    expect(results.map((r) => r.status)).toEqual(['rotated', 'rotated']);
    expect(env()).toBe(`# app\nA_SECRET=${NEW.A_SECRET}\nOTHER=1\nB_SECRET=${NEW.B_SECRET}\n`);
    expect(readFileSync(worker, 'utf8')).toBe(`export B_SECRET="${NEW.B_SECRET}" # shared\nA_SECRET=${NEW.A_SECRET}\n`);
  });

  it('a failing preflight of one secret changes nothing for the set', async () => {
    const { session, calls, env } = setup();
    writeFileSync(session.envFile, ENV.replace(OLD.B_SECRET, 'unknown-to-the-provider-0123456789'));
    const before = env();
    const results = await rotateSet(session, ['a', 'b']);
    expect(results.map((r) => `${r.secret}:${r.status}`)).toEqual(['a:skipped', 'b:failed']);
    expect(calls.filter((c) => !c.startsWith('preflight'))).toEqual([]);
    expect(env()).toBe(before);
    expect(session.commands).toEqual([]);
  });

  it('a secret that no service restarts is refused before anything changes (exit 2, NO_RESTART)', async () => {
    const { session, calls, env } = setup();
    session.config.secrets.b!.services = [];
    const error = await rotateSet(session, ['a', 'b']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NO_RESTART', exitCode: 2 });
    expect((error as Error).message).toContain('secrets.b.services');
    expect((error as { hint: string }).hint).toContain('--no-restart');
    expect(calls).toEqual([]);
    expect(env()).toBe(ENV);
  });

  it('--no-restart writes, restarts nothing, verifies and retires nothing, and says so', async () => {
    const { session, calls, valid, env } = setup();
    session.config.secrets.b!.services = [];
    session.options.restart = false;
    const results = await rotateSet(session, ['a', 'b']);
    expect(results.map((r) => `${r.secret}:${r.status}:${r.applied}`)).toEqual(['a:written:false', 'b:written:false']);
    expect(env()).toBe(`# app\nA_SECRET=${NEW.A_SECRET}\nOTHER=1\nB_SECRET=${NEW.B_SECRET}\n`);
    expect(session.commands).toEqual([]);
    expect(calls.filter((c) => /^(verify|retire)/.test(c))).toEqual([]);
    expect(valid.A_SECRET.has(OLD.A_SECRET)).toBe(true); // the old value is not retired
    expect((await session.store.readHistory()).map((e) => e.result)).toEqual(['written', 'written']);
    expect((await session.store.readStates()).a?.lastRotatedAt).toBeDefined();
    expect(await session.store.readJournals()).toEqual([]);
  });

  it('a key holding the current value unlisted stops the run (exit 2) naming it; listed in alsoUpdate it gets the new value', async () => {
    const { session, calls, env } = setup();
    const text = `${ENV}A_COPY=${OLD.A_SECRET}\n`;
    writeFileSync(session.envFile, text);
    const error = await rotateSet(session, ['a']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'UNLISTED_COPY', exitCode: 2 });
    expect((error as Error).message).toContain('A_COPY');
    expect((error as { hint: string }).hint).toContain('secrets.a.alsoUpdate');
    expect(`${(error as Error).message} ${(error as { hint: string }).hint}`).not.toContain(OLD.A_SECRET);
    expect(calls.filter((c) => !c.startsWith('preflight'))).toEqual([]);
    expect(env()).toBe(text);

    session.config.secrets.a = { ...session.config.secrets.a!, alsoUpdate: ['A_COPY', 'A_ABSENT'] } as never;
    const results = await rotateSet(session, ['a']);
    expect(results.map((r) => r.status)).toEqual(['rotated']);
    expect(env()).toBe(`# app\nA_SECRET=${NEW.A_SECRET}\nOTHER=1\nB_SECRET=${OLD.B_SECRET}\nA_COPY=${NEW.A_SECRET}\n`);
    expect(session.logged.join('\n')).toContain('A_ABSENT');
  });

  it("another secret's key holding the same value is reuse: the run stops (exit 2) and nothing changes", async () => {
    const { session, env } = setup();
    const text = ENV.replace(OLD.B_SECRET, OLD.A_SECRET);
    writeFileSync(session.envFile, text);
    const error = await rotateSet(session, ['a']).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VALUE_REUSED', exitCode: 2 });
    expect((error as Error).message).toContain('B_SECRET (secret b)');
    expect(env()).toBe(text);
  });
});
