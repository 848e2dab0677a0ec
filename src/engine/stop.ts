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
