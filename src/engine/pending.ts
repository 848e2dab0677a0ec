import { journalSecretIds, type StoredJournal } from '../store/types.js';
import type { Session } from './session.js';
import { type StepReached, stepReached } from './steps.js';

/** A run left unfinished, as `rotate status` shows it for one of its secrets. */
export interface PendingRun {
  runId: string;
  mode: string;
  host: string;
  startedAt: string;
  needsPerson: string | null;
  reached: StepReached | null;
}

/** Every run left unfinished: how many, and the one holding up each secret. */
export async function pendingRuns(session: Session): Promise<{ count: number; of(secret: string): PendingRun | undefined }> {
  const journals: StoredJournal[] = await session.store.readJournals();
  return {
    count: journals.length,
    of(secret) {
      const journal = journals.find((j) => journalSecretIds(j).includes(secret));
      if (!journal) return undefined;
      return {
        runId: journal.runId,
        mode: journal.mode,
        host: journal.host,
        startedAt: journal.startedAt,
        needsPerson: journal.needsPerson ?? null,
        reached: stepReached(journal, secret),
      };
    },
  };
}
