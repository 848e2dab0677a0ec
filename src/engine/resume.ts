import { RotateError } from '../errors.js';
import { isLegacyJournal, type StoredJournal } from '../store/types.js';
import { trace } from '../trace.js';
import type { SecretResult } from './result.js';
import { Run } from './run.js';
import type { Session } from './session.js';

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
  const run = await Run.load(session, stored);
  session.deps.log.info(`${run.ids.join(', ')}: resuming the ${stored.mode} run ${stored.runId} from ${stored.host} (pid ${stored.pid})`);
  if (stored.mode === 'retire' || run.verified) {
    trace(`engine: resume: every secret of run ${stored.runId} had verified (or it retires): finishing it`);
    return run.finish();
  }
  trace(`engine: resume: run ${stored.runId} had not verified: undoing it`);
  return run.undoInterrupted();
}
