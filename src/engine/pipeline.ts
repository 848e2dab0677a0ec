import type { Check } from '../core-types.js';
import { RotateError } from '../errors.js';
import type { Rotation, Rotator } from '../secrets/types.js';
import { traced } from '../trace.js';
import { failedChecks } from './checks.js';
import { buildContext, keysOf } from './context.js';
import { withBareCopies } from './copies.js';
import { assertNoRefusal, preflightGate, preflightSecrets } from './preflight.js';
import { recordUnstarted } from './record.js';
import { errorInfo, type SecretResult } from './result.js';
import { type Prepared, Run } from './run.js';
import { unsealRotation } from './sealing.js';
import { type Session, secretConfig } from './session.js';
import { BEFORE_CHANGES, describingStop, stoppedBeforeChanges, stoppedWithRunPending, stopRequested } from './stop.js';

const emptyResult = (session: Session, id: string) => ({
  secret: id,
  kind: secretConfig(session, id).kind,
  checks: [] as Check[],
  facts: {},
  envKeys: [] as string[],
  steps: [] as string[],
});

/**
 * Rotates a set of secrets as one run, in the contract's order: check all (one failing check and nothing changes
 * for any of them), generate all, apply all, write the target once, restart each service once, verify all, retire
 * all. A failure after the first apply rolls back the whole set. Mode `rollback` goes back to the values the last
 * rotation of each secret replaced.
 */
export async function rotateSet(session: Session, ids: readonly string[], mode: 'rotate' | 'rollback' = 'rotate'): Promise<SecretResult[]> {
  if (ids.length === 0) return [];
  return describingStop(
    session,
    () => BEFORE_CHANGES,
    () => checkThenRun(session, ids, mode),
  );
}

async function checkThenRun(session: Session, ids: readonly string[], mode: 'rotate' | 'rollback'): Promise<SecretResult[]> {
  const began = session.deps.now();
  // Before anything changes (a pending retirement included): the gate stage of the one preflight (preflight.ts), the
  // checks that refuse a run outright: a run pending, nothing restarts the app, a closed promotion gate (staging
  // first), an unsafe target (a world-writable env file, a Secret another tool writes back); the target's warnings said.
  const gate = await preflightGate(session, ids, mode);
  for (const id of ids) assertNoRefusal(id, gate.get(id)!);
  let states = await session.store.readStates();
  const pending = ids.filter((id) => states[id]?.pendingRetire);
  if (pending.length > 0) {
    for (const id of pending) {
      const ended = Date.parse(states[id]!.pendingRetire!.after) <= session.deps.now().getTime();
      session.deps.log.warn(
        ended
          ? `${id}: retiring the previous rotation's old value first (its grace period has ended)`
          : `${id}: the previous rotation's grace period is cut short: retiring its old value first`,
      );
    }
    const retired = await retireSet(session, pending);
    const notRetired = retired.filter((r) => r.status !== 'retired');
    if (notRetired.length > 0) {
      const note = `not rotated: retiring ${notRetired.map((r) => r.secret).join(', ')} failed first`;
      const others = ids.filter((id) => !notRetired.some((r) => r.secret === id));
      return [...notRetired, ...others.map((id) => ({ ...emptyResult(session, id), status: 'skipped' as const, note }))];
    }
    states = await session.store.readStates();
  }

  if (mode === 'rollback') {
    const missing = ids.find((id) => !states[id]?.last);
    if (missing) {
      throw new RotateError('NOTHING_TO_ROLL_BACK', `${missing} has no completed rotation to roll back`, {
        hint: 'rotate history shows what rotate has done to this secret',
      });
    }
  }

  const snapshot = await session.target.read(keysOf(session, ids));
  const results: SecretResult[] = [];
  const candidates: Prepared[] = [];
  for (const id of ids) {
    const rotator = await session.deps.loadRotator(secretConfig(session, id).kind);
    const ctx = buildContext(session, id, states[id], snapshot);
    const operator = session.options.unattended ? rotator.needsOperator?.(ctx) : undefined;
    if (operator) results.push({ ...emptyResult(session, id), status: 'needs-operator', note: operator });
    else candidates.push({ id, rotator, ctx, checks: [], rotation: { env: {}, secrets: {}, facts: {} } });
  }
  if (candidates.length === 0) return results;

  const prepared = await checkAndGenerate(session, candidates, mode, gate);
  if (!Array.isArray(prepared)) return [...results, ...prepared.results];

  // Safe points: here nothing has changed yet; between the steps below the journal says how far the run got.
  if (stopRequested(session)) throw stoppedBeforeChanges(session);
  const run = await Run.start(session, mode, prepared, snapshot, began);
  return [
    ...results,
    ...(await describingStop(
      session,
      () => run.stopNotice(),
      () => changeThenFinish(session, run),
    )),
  ];
}

/** The run's change phase, then its finish; a failure rolls back, a stop leaves the run to `rotate resume`. */
async function changeThenFinish(session: Session, run: Run): Promise<SecretResult[]> {
  const checkpoint = () => {
    if (stopRequested(session)) throw stoppedWithRunPending(session, run.journal);
  };
  try {
    await run.change(checkpoint);
    // --no-restart: written, applied to no running process; nothing verifies or retires what no process uses yet.
    if (!run.restarts) return await run.written();
  } catch (error) {
    // Stopped by a signal (its restart command ended with it, or a step that stops early): leave the run to
    // `rotate resume`, do not undo it here.
    if (stopRequested(session)) {
      if (run.journal.steps.length === 0 && run.journal.secrets.every((e) => e.steps.length === 0)) {
        await session.store.removeJournal(run.journal.runId);
        throw stoppedBeforeChanges(session);
      }
      throw stoppedWithRunPending(session, run.journal);
    }
    if (error instanceof RotateError && error.code === 'FLEET_LAGGING') return run.fleetLagging(error);
    if (error instanceof RotateError && error.code === 'SOURCE_NOT_CONVERGED') return run.notConverged(error);
    return run.rollBack(error);
  }
  return run.finish();
}

/**
 * The secret stage of the preflight for every secret (its checks follow the gate's), then generation: nothing has
 * changed yet when this returns results.
 */
async function checkAndGenerate(
  session: Session,
  candidates: Prepared[],
  mode: 'rotate' | 'rollback',
  gate: ReadonlyMap<string, Check[]>,
): Promise<Prepared[] | { results: SecretResult[] }> {
  const startedAt = session.deps.now();
  const checked = await preflightSecrets(session, candidates, mode);
  const facts: Record<string, SecretResult['facts']> = {};
  for (const c of candidates) {
    facts[c.id] = checked.get(c.id)!.facts;
    c.checks = [...gate.get(c.id)!, ...checked.get(c.id)!.checks];
  }
  for (const c of candidates) assertNoRefusal(c.id, c.checks);
  const failing = candidates.filter((c) => failedChecks(c.checks).length > 0);
  if (failing.length > 0) {
    const note = `not rotated: ${failing.map((c) => c.id).join(', ')} failed its checks, and the set rotates together`;
    return {
      results: await recordUnstarted(
        session,
        mode,
        startedAt,
        candidates.map((c): SecretResult => {
          const base = { ...emptyResult(session, c.id), checks: c.checks, facts: facts[c.id] ?? {} };
          if (!failing.includes(c)) return { ...base, status: 'skipped', note };
          const error = new RotateError('PREFLIGHT_FAILED', `${c.id}: the current value does not pass its checks; nothing was changed`, {
            hint: failedChecks(c.checks).find((check) => check.hint)?.hint,
          });
          return { ...base, status: 'failed', error: errorInfo(error) };
        }),
      ),
    };
  }

  const states = await session.store.readStates();
  for (const c of candidates) {
    try {
      const restore = mode === 'rollback' ? await lastRotation(session, c.id, c.rotator, states[c.id]!.last) : undefined;
      const config = secretConfig(session, c.id);
      const generated = await traced(`engine: generate ${c.id}${restore ? ' (the values to go back to)' : ''}`, () =>
        c.rotator.generate(c.ctx, restore),
      );
      c.rotation = withBareCopies(config, c.ctx.env, generated, (m) => session.deps.log.warn(m));
    } catch (error) {
      const note = `not rotated: generating ${c.id}'s new value failed, and the set rotates together`;
      return {
        results: await recordUnstarted(
          session,
          mode,
          startedAt,
          candidates.map(
            (other): SecretResult =>
              other === c
                ? { ...emptyResult(session, c.id), status: 'failed', checks: c.checks, error: errorInfo(error) }
                : { ...emptyResult(session, other.id), status: 'skipped', checks: other.checks, note },
          ),
        ),
      };
    }
  }
  assertDisjoint(candidates);
  return candidates;
}

/** Two secrets of one set must not write the same key: their values would overwrite each other. */
function assertDisjoint(prepared: { id: string; rotation: Rotation }[]): void {
  const owner = new Map<string, string>();
  for (const { id, rotation } of prepared) {
    for (const key of [...Object.keys(rotation.env), ...Object.keys(rotation.retireEnv ?? {})]) {
      const other = owner.get(key);
      if (other && other !== id) {
        throw new RotateError('KEY_WRITTEN_TWICE', `secrets ${other} and ${id} both write ${key}; nothing was changed`, {
          hint: `a key belongs to one secret: remove ${key} from the env or alsoUpdate of one of them in the config`,
        });
      }
      owner.set(key, id);
    }
  }
}

/** Ends the grace periods of a set: retires the old values of their last rotations, as one run. */
export async function retireSet(session: Session, ids: readonly string[]): Promise<SecretResult[]> {
  if (ids.length === 0) return [];
  const states = await session.store.readStates();
  const results: SecretResult[] = [];
  const due = ids.filter((id) => states[id]?.pendingRetire && states[id]?.last);
  for (const id of ids.filter((id) => !due.includes(id))) {
    results.push({ ...emptyResult(session, id), status: 'skipped', note: 'nothing to retire' });
  }
  if (due.length === 0) return results;
  const snapshot = await session.target.read(keysOf(session, due));
  const prepared: Prepared[] = [];
  for (const id of due) {
    const rotator = await session.deps.loadRotator(secretConfig(session, id).kind);
    prepared.push({
      id,
      rotator,
      rotation: await lastRotation(session, id, rotator, states[id]!.last),
      ctx: buildContext(session, id, states[id], snapshot),
      checks: [],
    });
  }
  const run = await Run.start(session, 'retire', prepared, snapshot);
  return [
    ...results,
    ...(await describingStop(
      session,
      () => run.stopNotice(),
      () => run.finish(),
    )),
  ];
}

/** The last completed rotation of a secret, kept in its state: what a rollback goes back from, a retirement ends. */
function lastRotation(session: Session, id: string, rotator: Rotator, kept: unknown): Promise<Rotation> {
  return unsealRotation(session.store, id, kept, rotator.journaled, {
    where: `the last rotation of ${id} recorded in the state of ${session.store.location}`,
    hint: `\`rotate history ${id}\` shows what that rotation did; restore the store's state from a backup, or check ${id} with \`rotate verify ${id}\` and rotate it again`,
  });
}
