import type { Journal } from '../store/types.js';
import { buildContext } from './context.js';
import { finishResumed, parkForPerson, Run, retireResumed, undoSteps } from './pipeline.js';
import { record } from './record.js';
import { errorInfo, type SecretResult } from './result.js';
import { unsealRotation } from './sealing.js';
import { type Session, secretConfig } from './session.js';

/**
 * Finishes or undoes a run that stopped half-way. A run whose new value had passed verification goes forward
 * (retire, record); anything earlier goes back, step by step, like a rollback.
 */
export async function resumeJournal(session: Session, journal: Journal): Promise<SecretResult> {
  const config = secretConfig(session, journal.secret);
  const rotator = await session.deps.loadRotator(config.kind);
  const rotation = await unsealRotation(session.store, journal.secret, journal.rotation);
  const state = (await session.store.readStates())[journal.secret];
  const ctx = await buildContext(session, journal.secret, state);
  delete journal.needsPerson;
  const run = new Run(session, journal, rotation);
  const summary = {
    secret: journal.secret,
    kind: config.kind,
    checks: [],
    facts: rotation.facts,
    envKeys: journal.rotation.envKeys,
    steps: run.steps,
  };
  session.deps.log.info(`${journal.secret}: resuming the ${journal.mode} run ${journal.runId} from ${journal.host} (pid ${journal.pid})`);

  if (journal.mode === 'retire') return retireResumed(run, rotator, ctx, rotation, summary);
  if (run.done('verify')) return finishResumed(run, rotator, ctx, rotation, summary);

  try {
    const checks = await undoSteps(run, rotator, ctx, rotation);
    await session.store.removeJournal(journal.secret);
    const result: SecretResult = { ...summary, status: 'undone', checks };
    await record(session, journal, result, 'resume');
    return result;
  } catch (error) {
    return parkForPerson(
      run,
      'undoing the interrupted run failed',
      { ...summary, status: 'rollback-failed', error: errorInfo(error) },
      'resume',
    );
  }
}
