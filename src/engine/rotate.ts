import type { ExitCodeValue } from '../errors.js';
import { consentCounts, consentPlan } from './consent.js';
import { withLock } from './lock.js';
import { retireSet, rotateSet } from './pipeline.js';
import { planSet } from './plan.js';
import { assertNoPendingRun } from './preflight.js';
import { exitCodeOf, type SecretResult } from './result.js';
import { type Selection, type SelectionRequest, select } from './select.js';
import type { Session } from './session.js';

/** One `rotate` invocation as the command hands it over. */
export interface RotateRequest extends SelectionRequest {
  dryRun: boolean;
  /** Asks the person before anything changes (throws to refuse); the command decides whether a terminal asks. */
  /** Asks; a function is called only when a person will be asked (the plan's counts read the database). */
  confirm(question: string | (() => Promise<string>)): Promise<void>;
  /** How a time reads in a note ("not due until ..."). */
  localTime(iso: string): string;
}

export interface RunOutcome {
  results: SecretResult[];
  code: ExitCodeValue;
}

/**
 * `rotate <secrets>`, `--due`, `--all`: the selection, then a dry run's plan or the run (grace periods that ended
 * retired first), every failure posted, `--due`'s reminders sent. Results in the config's order.
 */
export async function rotate(session: Session, request: RotateRequest): Promise<RunOutcome> {
  let results: SecretResult[];
  if (request.dryRun) {
    const selection = await select(session, request, request.localTime);
    results = [...selection.skipped, ...(await planSet(session, [...selection.retire, ...selection.rotate]))];
  } else {
    results = await executeAndNotify(session, request);
  }
  return inConfigOrder(session, results);
}

/** One order for people and machines alike: the config's. */
export function inConfigOrder(session: Session, results: SecretResult[]): RunOutcome {
  const order = Object.keys(session.config.secrets);
  results.sort((a, b) => order.indexOf(a.secret) - order.indexOf(b.secret));
  return { results, code: exitCodeOf(results) };
}

/**
 * Runs the selection and makes sure nothing fails silently: a failure the history does not record (failed checks,
 * nothing changed) and a `--due` run stopped by an error are posted too; then `--due` sends its reminders.
 */
async function executeAndNotify(session: Session, request: RotateRequest): Promise<SecretResult[]> {
  const { notifyRunError, notifyUnrecorded } = await import('../notify/run-notice.js');
  const recordsBefore = (await session.store.readHistory()).length;
  let results: SecretResult[];
  try {
    results = await execute(session, await select(session, request, request.localTime), request.confirm);
  } catch (error) {
    if (request.due) await notifyRunError(session, 'rotate --due', error);
    throw error;
  }
  const recorded = new Set((await session.store.readHistory()).slice(recordsBefore).map((e) => e.secret));
  await notifyUnrecorded(session, results, recorded);
  if (request.due) {
    await (await import('../notify/reminders.js')).sendReminders(session, results);
    await (await import('../notify/drift-notice.js')).reportDrift(session);
  }
  return results;
}

/** Under the lock: grace periods that ended are retired first; a failed retirement holds the rotations back. */
async function execute(session: Session, selection: Selection, confirm: RotateRequest['confirm']): Promise<SecretResult[]> {
  const results = [...selection.skipped];
  if (selection.retire.length + selection.rotate.length === 0) return results;
  await withLock(session, `rotate ${selection.rotate.join(' ')}`.trim(), async () => {
    await assertNoPendingRun(session);
    if (selection.rotate.length > 0) {
      // The plan and its cost come before the question (engine/consent.ts); --yes and --due never see it asked.
      const ids = selection.rotate;
      await confirm(
        async () => `${consentPlan(session, ids, await consentCounts(session, ids)).join('\n')}\nRotate ${ids.join(', ')} now?`,
      );
    }
    const retired = await retireSet(session, selection.retire);
    results.push(...retired);
    // A retirement that failed leaves a pending run: rotate nothing else until it is resumed.
    const stuck = retired.filter((r) => r.status === 'retire-failed').map((r) => r.secret);
    if (stuck.length > 0) {
      const note = `not rotated: the retirement of ${stuck.join(', ')} needs \`rotate resume\` first`;
      for (const id of selection.rotate) {
        results.push({
          secret: id,
          kind: session.config.secrets[id]!.kind,
          status: 'skipped',
          note,
          checks: [],
          facts: {},
          envKeys: [],
          steps: [],
        });
      }
    } else {
      // One run for the whole set: one write of the target, one restart of each service.
      results.push(...(await rotateSet(session, selection.rotate)));
    }
  });
  return results;
}

/** `rotate rollback <id>`: back to the value the last rotation replaced, verified and recorded. */
export async function rollback(session: Session, id: string, confirm: RotateRequest['confirm']): Promise<RunOutcome> {
  return withLock(session, `rollback ${id}`, async () => {
    await assertNoPendingRun(session);
    await confirm(`Put back the previous value of ${id}? Services will restart.`);
    const results = await rotateSet(session, [id], 'rollback');
    return { results, code: exitCodeOf(results) };
  });
}

/** `rotate resume`: finishes (if it had verified) or undoes every run that was interrupted. */
export async function resume(session: Session): Promise<RunOutcome> {
  const { resumeRun } = await import('./resume.js');
  return withLock(session, 'resume', async () => {
    const results: SecretResult[] = [];
    for (const journal of await session.store.readJournals()) {
      // The run goes on as it was started: --emergency is the journal's, not this invocation's.
      const options = { ...session.options, emergency: 'emergency' in journal && journal.emergency };
      results.push(...(await resumeRun({ ...session, options }, journal)));
    }
    return { results, code: exitCodeOf(results) };
  });
}
