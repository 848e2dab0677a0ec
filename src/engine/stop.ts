import { RotateError } from '../errors.js';
import type { Journal } from '../store/types.js';
import type { Session } from './session.js';
import { lastStep } from './steps.js';

/** A SIGINT/SIGTERM asked the run to stop (the command layer's handler aborts `deps.stop`). */
export const stopRequested = (session: Session): boolean => session.deps.stop?.aborted === true;

const signalName = (session: Session): string => String(session.deps.stop?.reason ?? 'a signal');

/** Stopped before anything changed: exit 2, nothing to resume. */
export function stoppedBeforeChanges(session: Session): RotateError {
  return new RotateError('INTERRUPTED', `stopped by ${signalName(session)} before anything was changed`, {
    hint: 'run the command again when you are ready',
  });
}

/** The last step the journal names, for the message: where a `resume` picks the run up. */
function lastStepText(journal: Journal): string {
  const last = lastStep(journal);
  return last ? `${last.name} (${last.state}${last.of === 'run' ? '' : `, ${last.of}`})` : 'its start';
}

/** Stopped at a safe point after changes: the journal stays for `rotate resume` (exit 3). */
export function stoppedWithRunPending(session: Session, journal: Journal): RotateError {
  const ids = journal.secrets.map((e) => e.secret).join(', ');
  return new RotateError(
    'INTERRUPTED_PENDING',
    `stopped by ${signalName(session)} after ${lastStepText(journal)}; the run of ${ids} (${journal.runId}) is pending`,
    { hint: '`rotate status` shows it; `rotate resume` finishes it (if it had verified) or undoes it' },
  );
}

/** Where a run is when a stop is requested: what the line acknowledging the signal says. */
export interface RunMoment {
  /** The step under way: its name and number among the run's steps (runSteps), its phase, and whether it commits. */
  step?: { name: string; number: number; of: number; phase: 'change' | 'finish'; commits: boolean };
  /** Where the step ends early on a stop (a rotator's stopsApplyAt); absent: after the step. */
  endsAt?: string;
  /** Every secret of the run had passed verification: `rotate resume` goes forward. */
  committed: boolean;
  /** The run is being rolled back (or a resume is undoing it). */
  undoing: boolean;
}

/** Before a run's first change (its checks, generation, consent): nothing has changed, nothing will. */
export const BEFORE_CHANGES = 'stopping before anything is changed, once the check under way ends: nothing will have changed (exit 2)';

/**
 * What a stop does at `moment`, as the engine will really do it: pipeline.ts and resume.ts leave the run pending at the
 * next checkpoint (between change steps; inside apply where the rotator stops early), the finish phase and an undo go
 * on (a restart command they start is ended at once, which parks the run for `rotate resume`).
 */
export function stopNotice(moment: RunMoment): string {
  const { step } = moment;
  if (moment.undoing) {
    return 'the rollback goes on to its end, then rotate exits; a restart it still needs is ended, and `rotate resume` then finishes the rollback (exit 3)';
  }
  const where = step && `step ${step.number} of ${step.of}: ${step.name}`;
  if (step?.phase === 'finish' || (!step && moment.committed)) {
    return `the new values are verified: rotate finishes ${where ? `${where} and ` : ''}the rest of the run; a restart it needs is ended, and \`rotate resume\` then finishes the run (exit 3)`;
  }
  if (!step) return 'stopping before the first change: nothing will have changed (exit 2)';
  const stop = moment.endsAt
    ? `stopping ${step.name} (step ${step.number} of ${step.of}) ${moment.endsAt}`
    : step.name === 'restart'
      ? `stopping now: the restart command under way is ended (${where})`
      : `stopping after ${where}`;
  const resume = moment.committed
    ? 'finishes it'
    : step.commits
      ? 'finishes it if every secret passed verification, and otherwise undoes it'
      : 'undoes it';
  return `${stop}; the run is then left pending (exit 3) and \`rotate resume\` ${resume}`;
}

/** Runs `work` while `describe` says what a stop would do (EngineDeps.describeStop); taken back when it ends. */
export async function describingStop<T>(session: Session, describe: () => string | undefined, work: () => Promise<T>): Promise<T> {
  const release = session.deps.describeStop?.(describe);
  try {
    return await work();
  } finally {
    release?.();
  }
}
