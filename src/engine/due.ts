import type { SecretConfig } from '../config/schema.js';
import { envKeysOf } from '../secrets/index.js';
import { isLegacyJournal, journalSecretIds, type SecretState, type StoredJournal } from '../store/types.js';
import { trace } from '../trace.js';
import type { Session } from './session.js';

export type DueState =
  | 'ok'
  | 'due'
  | 'never-rotated'
  | 'absent'
  | 'grace'
  | 'retire-due'
  | 'interrupted'
  | 'needs-person'
  /** Git delivery: pushed, not converged (the live Secret does not hold the new value yet): rotate resume waits again. */
  | 'not-converged'
  /** Rotated with `--no-restart`: written to the target, not applied to the services nor verified. */
  | 'written'
  /** The last rotation is recorded in the future (a run made with a clock ahead): its real age is unknown. */
  | 'future';

export interface Schedule {
  state: DueState;
  lastRotatedAt: string | null;
  nextDue: string | null;
  graceUntil: string | null;
  /** Set while the last rotation is written but not applied (`--no-restart`): when, and the services to restart. */
  unapplied: { at: string; services: string[] } | null;
}

const DAY = 86_400_000;

/** How far ahead of this host's clock a record may be before it is from the future, not another host's skew. */
export const CLOCK_SKEW_MS = 5 * 60_000;

/** A time rotate recorded that is later than now by more than a clock skew between hosts: a clock was ahead. */
export const inTheFuture = (iso: string, now: Date): boolean => Date.parse(iso) > now.getTime() + CLOCK_SKEW_MS;

/** When a secret is next due, and what `status` should say about it. */
export function schedule(
  config: SecretConfig,
  state: SecretState | undefined,
  journal: StoredJournal | undefined,
  env: Record<string, string>,
  now: Date,
): Schedule {
  const last = state?.lastRotatedAt ?? null;
  const nextDue = last ? new Date(Date.parse(last) + config.intervalDays * DAY).toISOString() : null;
  const graceUntil = state?.pendingRetire?.after ?? null;
  const unapplied = state?.unapplied ? { at: state.unapplied.at, services: state.unapplied.services } : null;
  const base = { lastRotatedAt: last, nextDue, graceUntil, unapplied };
  if (journal) {
    const converging = !isLegacyJournal(journal) && journal.notConverged !== undefined;
    return { ...base, state: journal.needsPerson ? 'needs-person' : converging ? 'not-converged' : 'interrupted' };
  }
  if (graceUntil) return { ...base, state: Date.parse(graceUntil) <= now.getTime() ? 'retire-due' : 'grace' };
  if (!(envKeysOf(config)[0]! in env)) return { ...base, state: 'absent' };
  if (!nextDue) return { ...base, state: 'never-rotated' };
  if (last && inTheFuture(last, now)) return { ...base, state: 'future' };
  if (Date.parse(nextDue) <= now.getTime()) return { ...base, state: 'due' };
  return { ...base, state: unapplied ? 'written' : 'ok' };
}

/** `--due` rotates secrets that are due or whose age is unknown (never rotated by rotate, or recorded in the future). */
export const isDue = (s: Schedule): boolean => s.state === 'due' || s.state === 'never-rotated' || s.state === 'future';

export interface SecretSchedule {
  id: string;
  config: SecretConfig;
  /** The pending run that covers this secret, if any. */
  journal: StoredJournal | undefined;
  schedule: Schedule;
}

/** Every configured secret with its schedule now: what `--due`, reminders and monitoring start from. */
export async function schedules(session: Session): Promise<SecretSchedule[]> {
  const [states, journals, env] = await Promise.all([session.store.readStates(), session.store.readJournals(), session.target.read()]);
  const now = session.deps.now();
  return Object.entries(session.config.secrets).map(([id, config]) => {
    const journal = journals.find((j) => journalSecretIds(j).includes(id));
    const s = schedule(config, states[id], journal, env.values, now);
    trace(`schedule: ${id}: ${s.state}${s.nextDue ? `, next due ${s.nextDue}` : ''}${s.graceUntil ? `, grace until ${s.graceUntil}` : ''}`);
    return { id, config, journal, schedule: s };
  });
}
