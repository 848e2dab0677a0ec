import { randomUUID } from 'node:crypto';
import dotenv from 'dotenv';
import { replaceEnvLines } from '../envfile/edit.js';
import { editEnvFile, readEnvFile, writeEnvText } from '../envfile/file.js';
import { checkEnvFilePermissions } from '../envfile/permissions.js';
import { type ErrorCode, RotateError } from '../errors.js';
import type { Check, Rotation, Rotator, RotatorContext } from '../secrets/types.js';
import { restartServices } from '../services/restart.js';
import type { HistoryEntry, Journal, StepName } from '../store/types.js';
import { buildContext, reloadEnv } from './context.js';
import { record } from './record.js';
import { errorInfo, type SecretResult } from './result.js';
import { revealEnv, sealRotation, unsealRotation } from './sealing.js';
import { type Session, secretConfig } from './session.js';

/** A run in progress for one secret: the journal is written before each side effect. */
class Run {
  readonly steps: string[] = [];

  constructor(
    readonly session: Session,
    readonly journal: Journal,
    /** What a step adds to the rotation (facts, secrets) is journaled with that step. */
    readonly rotation?: Rotation,
  ) {}

  started(name: StepName): boolean {
    return this.journal.steps.some((s) => s.name === name);
  }

  done(name: StepName): boolean {
    return this.journal.steps.some((s) => s.name === name && s.state === 'done');
  }

  async step<T>(name: StepName, action: () => Promise<T>): Promise<T> {
    const at = () => this.session.deps.now().toISOString();
    this.journal.steps.push({ name, state: 'started', at: at() });
    await this.session.store.writeJournal(this.journal);
    let value: T;
    try {
      value = await action();
    } finally {
      // A step may add to the rotation (Stripe's apply learns the new endpoint's secret), also when it then
      // fails: journal what the rotation holds now, so an undo in another process knows it.
      if (this.rotation) {
        this.journal.rotation = await sealRotation(this.session.store, this.journal.secret, this.rotation);
        await this.session.store.writeJournal(this.journal);
      }
    }
    this.journal.steps.push({ name, state: 'done', at: at() });
    await this.session.store.writeJournal(this.journal);
    this.steps.push(name);
    return value;
  }
}

const failed = (checks: Check[]) => checks.filter((c) => !c.ok);

function assertChecks(checks: Check[], code: ErrorCode, what: string): void {
  const bad = failed(checks);
  if (bad.length > 0) {
    throw new RotateError(code, `${what}: ${bad.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ')}`, {
      hint: bad.find((c) => c.hint)?.hint,
    });
  }
}

function restartNames(session: Session, id: string): string[] {
  return session.options.restart ? secretConfig(session, id).services : [];
}

async function writeEnv(run: Run, ctx: RotatorContext, changes: Rotation['env']): Promise<RotatorContext> {
  await editEnvFile(run.session.envFile, revealEnv(changes));
  return reloadEnv(ctx);
}

async function startJournal(
  session: Session,
  id: string,
  mode: Journal['mode'],
  rotation: Journal['rotation'],
  runId: string,
): Promise<Journal> {
  const journal: Journal = {
    runId,
    secret: id,
    kind: secretConfig(session, id).kind,
    mode,
    startedAt: session.deps.now().toISOString(),
    host: session.deps.host,
    pid: process.pid,
    emergency: session.options.emergency,
    rotation,
    steps: [],
  };
  await session.store.writeJournal(journal);
  return journal;
}

/** Keeps the journal, marked with what a person must look at (`rotate status` shows it), and records the run. */
export async function parkForPerson(run: Run, what: string, result: SecretResult, action?: HistoryEntry['action']): Promise<SecretResult> {
  run.journal.needsPerson = `${what}: ${result.error?.message ?? 'unknown error'}`;
  await run.session.store.writeJournal(run.journal);
  await record(run.session, run.journal, result, action);
  return result;
}

/** Runs the contract's sequence for one secret; mode `rollback` goes back to the value the last rotation replaced. */
export async function rotateSecret(session: Session, id: string, mode: 'rotate' | 'rollback' = 'rotate'): Promise<SecretResult> {
  const config = secretConfig(session, id);
  const rotator = await session.deps.loadRotator(config.kind);
  const state = (await session.store.readStates())[id];
  const base = { secret: id, kind: config.kind, checks: [], facts: {}, envKeys: [], steps: [] };
  // Before anything changes: a world-writable env file is refused, a world-readable one warned about.
  for (const warning of await checkEnvFilePermissions(session.envFile)) session.deps.log.warn(warning);

  if (state?.pendingRetire) {
    const ended = Date.parse(state.pendingRetire.after) <= session.deps.now().getTime();
    session.deps.log.warn(
      ended
        ? `${id}: retiring the previous rotation's old value first (its grace period has ended)`
        : `${id}: the previous rotation's grace period is cut short: retiring its old value first`,
    );
    const retired = await retirePending(session, id);
    if (retired.status !== 'retired') return retired;
  }

  let ctx = await buildContext(session, id, state);
  const operator = session.options.unattended ? rotator.needsOperator?.(ctx) : undefined;
  if (operator) return { ...base, status: 'needs-operator', note: operator };

  const preflight = await rotator.preflight(ctx);
  if (failed(preflight.checks).length > 0) {
    const error = new RotateError('PREFLIGHT_FAILED', `${id}: the current value does not pass its checks; nothing was changed`, {
      hint: failed(preflight.checks).find((c) => c.hint)?.hint,
    });
    return { ...base, status: 'failed', checks: preflight.checks, facts: preflight.facts ?? {}, error: errorInfo(error) };
  }

  let restore: Rotation | undefined;
  if (mode === 'rollback') {
    if (!state?.last) {
      throw new RotateError('NOTHING_TO_ROLL_BACK', `${id} has no completed rotation to roll back`, {
        hint: 'rotate history shows what rotate has done to this secret',
      });
    }
    restore = await unsealRotation(session.store, id, state.last);
  }

  let rotation: Rotation;
  try {
    rotation = await rotator.generate(ctx, restore);
  } catch (error) {
    return { ...base, status: 'failed', checks: preflight.checks, error: errorInfo(error) };
  }
  const journal = await startJournal(session, id, mode, await sealRotation(session.store, id, rotation), randomUUID());
  const run = new Run(session, journal, rotation);
  const summary = { ...base, envKeys: journal.rotation.envKeys, facts: rotation.facts, steps: run.steps };

  let checks: Check[];
  try {
    await run.step('apply', () => rotator.apply(ctx, rotation));
    journal.envBackup = await session.store.putBackup(id, Buffer.from((await readEnvFile(session.envFile)).text));
    ctx = await run.step('write-env', () => writeEnv(run, ctx, rotation.env));
    await run.step('restart', () => restartServices(restartNames(session, id), session.config, session.configDir, session.deps));
    // 'verify' is journaled as done only when every check passed: resume goes forward from there and only there.
    checks = await run.step('verify', async () => {
      const verified = await rotator.verify(ctx, rotation);
      assertChecks(verified, 'VERIFY_FAILED', `${id}: the new value did not pass verification`);
      return verified;
    });
  } catch (error) {
    return rollBack(run, rotator, ctx, rotation, error, summary);
  }
  return finish(run, rotator, ctx, rotation, { ...summary, checks });
}

/** After a verified rotation: retire now, or schedule it for the end of the grace period. */
async function finish(
  run: Run,
  rotator: Rotator,
  ctx: RotatorContext,
  rotation: Rotation,
  summary: Omit<SecretResult, 'status'>,
): Promise<SecretResult> {
  const { session, journal } = run;
  const config = secretConfig(session, journal.secret);
  const graceHours = journal.mode === 'rotate' && !journal.emergency ? config.graceHours : 0;
  const now = session.deps.now();
  // After a rollback there is nothing left to roll back to: `last` goes, the facts stay for the next run.
  const nextState = {
    lastRotatedAt: now.toISOString(),
    lastRunId: journal.runId,
    facts: rotation.facts,
    ...(journal.mode === 'rollback' ? {} : { last: journal.rotation }),
  };

  if (graceHours > 0) {
    const after = new Date(now.getTime() + graceHours * 3_600_000).toISOString();
    await session.store.writeState(journal.secret, { ...nextState, pendingRetire: { after, runId: journal.runId } });
    await session.store.removeJournal(journal.secret);
    const result: SecretResult = { ...summary, status: 'grace', graceUntil: after };
    await record(session, journal, result);
    return result;
  }

  try {
    const retireChecks = await retireSteps(run, rotator, ctx, rotation);
    await session.store.writeState(journal.secret, nextState);
    await session.store.removeJournal(journal.secret);
    const result: SecretResult = {
      ...summary,
      status: journal.mode === 'rollback' ? 'restored' : 'rotated',
      checks: [...summary.checks, ...retireChecks],
    };
    await record(session, journal, result);
    return result;
  } catch (error) {
    // The new value is in place and verified; only the old one may still work. Resume retries the retirement.
    return parkForPerson(run, 'retiring the old value failed', { ...summary, status: 'retire-failed', error: errorInfo(error) });
  }
}

async function retireSteps(run: Run, rotator: Rotator, ctx: RotatorContext, rotation: Rotation): Promise<Check[]> {
  await run.step('retire', () => rotator.retire(ctx, rotation));
  let current = ctx;
  if (rotation.retireEnv && Object.keys(rotation.retireEnv).length > 0) {
    current = await run.step('write-retire-env', async () => {
      const next = await writeEnv(run, ctx, rotation.retireEnv ?? {});
      await restartServices(restartNames(run.session, run.journal.secret), run.session.config, run.session.configDir, run.session.deps);
      return next;
    });
  }
  return run.step('verify-retired', async () => {
    const checks = await rotator.verifyRetired(current, rotation);
    assertChecks(checks, 'RETIRE_VERIFY_FAILED', `${run.journal.secret}: the old value still works after retirement`);
    return checks;
  });
}

/** Ends a grace period: retires the old value of the last rotation. */
export async function retirePending(session: Session, id: string): Promise<SecretResult> {
  const config = secretConfig(session, id);
  const rotator = await session.deps.loadRotator(config.kind);
  const state = (await session.store.readStates())[id];
  const base = { secret: id, kind: config.kind, checks: [], facts: {}, envKeys: [], steps: [] };
  if (!state?.pendingRetire || !state.last) return { ...base, status: 'skipped', note: 'nothing to retire' };
  const rotation = await unsealRotation(session.store, id, state.last);
  const journal = await startJournal(session, id, 'retire', state.last, state.pendingRetire.runId);
  const ctx = await buildContext(session, id, state);
  const summary = { ...base, facts: rotation.facts, envKeys: state.last.envKeys, steps: [] };
  return retireResumed(new Run(session, journal, rotation), rotator, ctx, rotation, summary);
}

/** Runs (or re-runs, after a crash) the retirement at the end of a grace period. */
export async function retireResumed(
  run: Run,
  rotator: Rotator,
  ctx: RotatorContext,
  rotation: Rotation,
  summary: Omit<SecretResult, 'status'>,
): Promise<SecretResult> {
  const { session, journal } = run;
  const id = journal.secret;
  try {
    const checks = await retireSteps(run, rotator, ctx, rotation);
    const { pendingRetire: _, ...rest } = (await session.store.readStates())[id] ?? {};
    await session.store.writeState(id, rest);
    await session.store.removeJournal(id);
    const result: SecretResult = { ...summary, steps: run.steps, status: 'retired', checks };
    await record(session, journal, result);
    return result;
  } catch (error) {
    return parkForPerson(run, 'retiring the old value failed', {
      ...summary,
      steps: run.steps,
      status: 'retire-failed',
      error: errorInfo(error),
    });
  }
}

/** Undoes every step that started, in reverse, then proves the old value works again. */
async function rollBack(
  run: Run,
  rotator: Rotator,
  ctx: RotatorContext,
  rotation: Rotation,
  cause: unknown,
  summary: Omit<SecretResult, 'status'>,
): Promise<SecretResult> {
  const { session, journal } = run;
  const reason = errorInfo(cause);
  session.deps.log.warn(`${journal.secret}: ${reason.message}; rolling back`);
  try {
    const restored = await undoSteps(run, rotator, ctx, rotation);
    await session.store.removeJournal(journal.secret);
    const result: SecretResult = { ...summary, status: 'rolled-back', checks: restored, error: reason };
    await record(session, journal, result);
    return result;
  } catch (error) {
    const why = errorInfo(error);
    return parkForPerson(run, 'the rotation and its rollback failed', {
      ...summary,
      status: 'rollback-failed',
      error: {
        code: 'ROLLBACK_FAILED',
        message: `${reason.message}; rolling back failed too: ${why.message}`,
        hint: 'run `rotate status`, fix the cause, then `rotate resume`',
      },
    });
  }
}

export async function undoSteps(run: Run, rotator: Rotator, ctx: RotatorContext, rotation: Rotation): Promise<Check[]> {
  const { session, journal } = run;
  if (run.started('write-env') && journal.envBackup) {
    await restoreEnv(session, journal.envBackup, rotation);
  }
  let current = await reloadEnv(ctx);
  if (run.started('apply')) await rotator.undoApply(current, rotation);
  if (run.started('write-env') || run.started('restart')) {
    await restartServices(restartNames(session, journal.secret), session.config, session.configDir, session.deps);
  }
  current = await reloadEnv(current);
  const checks = await rotator.verifyCurrent(current);
  assertChecks(checks, 'ROLLBACK_VERIFY_FAILED', `${journal.secret}: after the rollback the old value does not pass its checks`);
  return checks;
}

/**
 * Puts the env file back: the backup's exact bytes when nobody touched the file since rotate wrote it, otherwise
 * only the lines of the keys this rotation changed.
 */
async function restoreEnv(session: Session, backupId: string, rotation: Rotation): Promise<void> {
  const backup = (await session.store.getBackup(backupId)).toString('utf8');
  const current = (await readEnvFile(session.envFile)).text;
  if (current === backup) return;
  if (current === replaceEnvLines(backup, revealEnv(rotation.env))) {
    await writeEnvText(session.envFile, backup);
    return;
  }
  const old = dotenv.parse(backup);
  const keys = new Set([...Object.keys(rotation.env), ...Object.keys(rotation.retireEnv ?? {})]);
  await editEnvFile(session.envFile, Object.fromEntries([...keys].map((key) => [key, old[key] ?? null])));
}

export { finish as finishResumed, Run };
