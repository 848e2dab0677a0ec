import { RotateError } from '../errors.js';
import { historyNotice } from '../notify/history-notice.js';
import { sendNotice } from '../notify/send.js';
import { type HistoryEntry, type HistoryResult, isLegacyJournal, type Journal, type StoredJournal } from '../store/types.js';
import { trace } from '../trace.js';
import type { SecretResult } from './result.js';
import { Run } from './run.js';
import type { Session } from './session.js';
import { describingStop, stoppedWithRunPending, stopRequested } from './stop.js';

/**
 * Finishes or undoes a run that stopped half-way, for its whole set of secrets. A run whose every secret had passed
 * verification goes forward (retire, record); anything earlier goes back, step by step, like a rollback.
 */
export async function resumeRun(session: Session, stored: StoredJournal): Promise<SecretResult[]> {
  if (isLegacyJournal(stored)) {
    throw new RotateError(
      'JOURNAL_OLD_FORMAT',
      `the interrupted ${stored.mode} run ${stored.runId} of ${stored.secret} (from ${stored.host}) was journaled by an older rotate, one journal per secret; this rotate cannot resume it`,
      {
        hint: `run \`rotate resume\` with the rotate version that started it; or check ${stored.secret} with \`rotate verify ${stored.secret}\`, put the env file back from the store's backups if needed, and remove the journal ${stored.secret} from the store`,
      },
    );
  }
  delete stored.needsPerson;
  delete stored.notConverged;
  const done = await recordedBeforeTheKill(session, stored);
  if (stored.secrets.length === 0) {
    await session.store.removeJournal(stored.runId);
    return done;
  }
  if (done.length > 0) await session.store.writeJournal(stored);
  const run = await Run.load(session, stored);
  session.deps.log.info(`${run.ids.join(', ')}: resuming the ${stored.mode} run ${stored.runId} from ${stored.host} (pid ${stored.pid})`);
  return [
    ...done,
    ...(await describingStop(
      session,
      () => run.stopNotice(),
      () => finishOrUndo(session, run, stored),
    )),
  ];
}

/** A loaded run: forward (converge, or every secret verified) or back. */
async function finishOrUndo(session: Session, run: Run, stored: Journal): Promise<SecretResult[]> {
  if (run.converging) return forwardFromConverge(session, run);
  if (run.verified) {
    trace(`engine: resume: every secret of run ${stored.runId} had verified (or it retires): finishing it`);
    if (stored.mode !== 'retire') {
      // An afterVerify hook the run had not finished runs now (or waits for a person); one that fails rolls back.
      try {
        await run.afterCommit();
      } catch (error) {
        if (error instanceof RotateError && error.code === 'HOOK_INTERRUPTED') throw error;
        if (error instanceof RotateError && error.code === 'FLEET_LAGGING') return run.fleetLagging(error);
        return run.rollBack(error);
      }
    }
    return run.finish();
  }
  trace(`engine: resume: run ${stored.runId} had not verified: undoing it`);
  return run.undoInterrupted();
}

/**
 * Git delivery: a run parked pushed, not converged (or stopped while it waited) goes forward: wait again for the live
 * Secret, then restart, verify and retire; a failure after the wait rolls back like any run.
 */
async function forwardFromConverge(session: Session, run: Run): Promise<SecretResult[]> {
  trace(`engine: resume: run ${run.journal.runId} was pushed and not converged: waiting again`);
  try {
    await run.changeFromConverge(() => {
      if (stopRequested(session)) throw stoppedWithRunPending(session, run.journal);
    });
    if (!run.restarts) return await run.written();
  } catch (error) {
    if (stopRequested(session)) throw stoppedWithRunPending(session, run.journal);
    if (error instanceof RotateError && error.code === 'SOURCE_NOT_CONVERGED') return run.notConverged(error);
    if (error instanceof RotateError && error.code === 'FLEET_LAGGING') return run.fleetLagging(error);
    return run.rollBack(error);
  }
  return run.finish();
}

/** Records a parked run writes for a person: the run is not over, resume finishes it under the same run id. */
const PARKED: ReadonlySet<HistoryResult> = new Set(['failed', 'rollback-failed', 'not-converged']);

const STATUS_OF: Partial<Record<HistoryResult, SecretResult['status']>> = {
  rotated: 'rotated',
  written: 'written',
  restored: 'restored',
  retired: 'retired',
};

/**
 * A run records each secret's outcome, marks the journal entry (`noticeStarted`), posts its notification, and only then
 * drops the secret from its journal: a secret of the journal whose outcome the history already holds was finished by
 * the killed process. Unless the mark says the post had started (it may have arrived: never twice), its notification
 * is posted now (marked `resumed`); then it leaves the journal (changed in place and written at once, so a second
 * resume posts nothing again); its result says so. Nothing is redone or recorded twice.
 */
async function recordedBeforeTheKill(session: Session, journal: Journal): Promise<SecretResult[]> {
  const history = await session.store.readHistory();
  const outcome = (secret: string): HistoryEntry | undefined =>
    [...history].reverse().find((e) => e.runId === journal.runId && e.secret === secret && !PARKED.has(e.result));
  const results: SecretResult[] = [];
  for (const entry of [...journal.secrets]) {
    const recorded = outcome(entry.secret);
    if (!recorded) continue;
    trace(`engine: resume: ${entry.secret} of run ${journal.runId} was recorded (${recorded.result}) before the run stopped`);
    const status = STATUS_OF[recorded.result] ?? (recorded.action === 'resume' ? 'undone' : 'rolled-back');
    const notice = entry.noticeStarted ? undefined : historyNotice(recorded, status, journal.host, await session.store.readHistoryHead());
    const posted = notice ? await sendNotice(session.config.notify, session.deps, { ...notice, resumed: true }) : false;
    journal.secrets = journal.secrets.filter((e) => e !== entry);
    if (journal.secrets.length > 0) await session.store.writeJournal(journal);
    results.push({
      secret: entry.secret,
      kind: entry.kind,
      runId: journal.runId,
      status,
      checks: [],
      facts: recorded.facts ?? {},
      envKeys: entry.rotation.envKeys,
      steps: [],
      note: `run ${journal.runId} recorded this outcome before it stopped; only its journal was left, now cleared${posted ? ' (its notification posted now)' : ''}`,
    });
  }
  return results;
}
