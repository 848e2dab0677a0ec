import { isLegacyJournal, type StoredJournal } from './types.js';

/** How far a pending run got for one secret: the last step journaled (the run's or the secret's), and what resume does. */
export interface StepReached {
  step: string;
  state: 'started' | 'done';
  at: string;
  /** `rotate resume` finishes a run whose every secret verified, and undoes any other. */
  resume: 'finish' | 'undo';
}

export function stepReached(journal: StoredJournal, secret: string): StepReached | null {
  if (isLegacyJournal(journal)) return null;
  const entry = journal.secrets.find((e) => e.secret === secret);
  const steps = [...journal.steps, ...(entry?.steps ?? [])].sort((a, b) => a.at.localeCompare(b.at));
  const last = steps.at(-1);
  if (!last) return null;
  const verified = journal.secrets.every((e) => e.steps.some((s) => s.name === 'verify' && s.state === 'done'));
  return { step: last.name, state: last.state, at: last.at, resume: journal.mode === 'retire' || verified ? 'finish' : 'undo' };
}
