import { type Schedule, schedules } from '../engine/due.js';
import type { Session } from '../engine/session.js';
import { ExitCode, type ExitCodeValue } from '../errors.js';
import { envKeysOf } from '../secrets/index.js';
import type { HistoryEntry, HistoryResult } from '../store/types.js';
import type { PlaceProblem } from '../target/types.js';
import { type Drift, detectDrift, driftText, readPlaces, unreadableText } from './drift.js';

/** What monitoring asks of one secret: is it in date, did its last run work, does it wait for a person. */
export interface SecretHealth extends Schedule {
  secret: string;
  kind: string;
  intervalDays: number;
  /** Past its due date, never rotated by rotate (age unknown), or a grace period that ended without retirement. */
  overdue: boolean;
  /** The newest history record of this secret, if any. */
  lastRun: Pick<HistoryEntry, 'at' | 'action' | 'result' | 'runId'> | null;
  lastRunOk: boolean;
  /** The last rotation was written with `--no-restart` and not yet applied: no service restarted, nothing verified. */
  notApplied: boolean;
  /** An interrupted run or a failed rollback waits for `rotate resume` (exit 3). */
  needsPerson: boolean;
  /** A place no longer holds the value of the last recorded rotation (reverted, or changed outside rotate). */
  drifted: boolean;
  drift: Drift | null;
  /** Git delivery: the last run pushed the source and the live Secret did not hold the new value in time. */
  notConverged: boolean;
  /**
   * Places of the target that could not be read (a missing source file, an encrypted source without its key): the
   * secret's value there is unknown and its next rotation would be refused; each named with its fix.
   */
  unreadable: UnreadablePlace[];
  /** The env key drift compares (the secret's main key). */
  key: string;
}

export interface UnreadablePlace extends PlaceProblem {
  where: string;
}

/**
 * The state `status` reports (its table and `--json` alike): a drifted secret is `drifted` and one whose source
 * cannot be read is `unreadable`, whatever its schedule says (`overdue`, `nextDue` keep that); otherwise its schedule.
 */
export type ReportedState = SecretHealth['state'] | 'drifted' | 'unreadable';
export const reportedState = (h: Pick<SecretHealth, 'state' | 'drifted' | 'unreadable'>): ReportedState =>
  h.drifted ? 'drifted' : h.unreadable.length > 0 && h.state !== 'absent' ? 'unreadable' : h.state;

const FAILED: HistoryResult[] = ['failed', 'rolled-back', 'rollback-failed', 'not-converged'];
const OVERDUE: Schedule['state'][] = ['due', 'never-rotated', 'retire-due', 'future'];

export async function secretHealth(session: Session): Promise<SecretHealth[]> {
  const [secrets, shared] = await Promise.all([schedules(session), session.store.readHistory()]);
  // On a store shared by environments, another environment's runs of the same id are not this secret's: neither its
  // last run nor the value drift compares against (staging's new value is not production's).
  const env = session.config.environment;
  const history = shared.filter((e) => !env || !e.environment || e.environment === env);
  // A secret in the middle of a run (a journal) or absent from the target has no settled value to compare.
  const settled = secrets.filter((s) => !s.journal && s.schedule.state !== 'absent');
  const places = await readPlaces(session.target);
  const unreadable = places.flatMap((p) => (p.unreadable ? [{ where: p.where, ...p.unreadable }] : []));
  const drifts = await detectDrift(places, session.store, settled, history);
  return secrets.map(({ id, config, journal, schedule: s }) => {
    const last = history.filter((e) => e.secret === id).at(-1);
    return {
      secret: id,
      kind: config.kind,
      intervalDays: config.intervalDays,
      ...s,
      overdue: OVERDUE.includes(s.state),
      lastRun: last ? { at: last.at, action: last.action, result: last.result, runId: last.runId } : null,
      lastRunOk: !last || !FAILED.includes(last.result),
      notApplied: s.unapplied !== null,
      // Pushed, not converged is a failed run (exit 1), not a person's decision: resume only waits again.
      needsPerson: journal !== undefined && s.state !== 'not-converged',
      drifted: Boolean(drifts[id]),
      drift: drifts[id] ?? null,
      notConverged: s.state === 'not-converged',
      unreadable: s.state === 'absent' ? [] : unreadable,
      key: envKeysOf(config)[0]!,
    };
  });
}

/**
 * `rotate status --check`: 3 when a person is needed, else 1 when a secret is overdue, its last run failed, it drifted,
 * a place of its target cannot be read (a missing source file: the next rotation would be refused)
 * (a place no longer holds the value rotate recorded), or its last rotation is written but not applied (`--no-restart`: the contract is silent; a value no service runs with is
 * not a finished rotation, so monitoring must see it), else 0.
 */
export function checkExitCode(health: SecretHealth[]): ExitCodeValue {
  if (health.some((h) => h.needsPerson)) return ExitCode.needsPerson;
  if (health.some((h) => h.overdue || !h.lastRunOk || h.notApplied || h.drifted || h.unreadable.length > 0)) return ExitCode.failed;
  return ExitCode.ok;
}

/**
 * One line per problem, for people reading the check's output. `time` writes a moment: ISO (UTC) for `--json`, the
 * local time with its zone for a terminal.
 */
export function checkProblems(health: SecretHealth[], time: (iso: string) => string = (iso) => iso): string[] {
  return [...unreadableProblems(health), ...secretProblems(health, time)];
}

/** One line per place that cannot be read, naming the secrets it holds (a source is shared by the target's secrets). */
export function unreadableProblems(health: SecretHealth[]): string[] {
  const byPlace = new Map<string, { place: UnreadablePlace; secrets: string[] }>();
  for (const h of health) {
    for (const place of h.unreadable) {
      const seen = byPlace.get(place.where) ?? { place, secrets: [] };
      seen.secrets.push(h.secret);
      byPlace.set(place.where, seen);
    }
  }
  return [...byPlace.values()].map(({ place, secrets }) => `${secrets.join(', ')}: ${unreadableText(place)}`);
}

function secretProblems(health: SecretHealth[], time: (iso: string) => string): string[] {
  return health.flatMap((h) => [
    ...(h.needsPerson ? [`${h.secret}: needs a person (an unfinished run): rotate status, then rotate resume`] : []),
    ...(h.state === 'future'
      ? [
          `${h.secret}: the last rotation is recorded in the future (${time(h.lastRotatedAt ?? '')}; a clock was ahead): rotate --due rotates it, or record when it really was: rotate mark ${h.secret} --rotated-at YYYY-MM-DD`,
        ]
      : h.state === 'never-rotated'
        ? [
            `${h.secret}: never rotated by rotate: rotate --due rotates it, or record an earlier rotation: rotate mark ${h.secret} --rotated-at YYYY-MM-DD`,
          ]
        : h.overdue
          ? [`${h.secret}: overdue since ${time((h.state === 'retire-due' ? h.graceUntil : h.nextDue) ?? '')}`]
          : []),
    ...(h.notApplied ? [notAppliedText(h.secret, h.unapplied?.services ?? [])] : []),
    ...(h.drift ? [driftText(h.secret, h.drift, h.key)] : []),
    ...(h.lastRunOk
      ? []
      : [
          `${h.secret}: the last run (${h.lastRun?.action}, ${time(h.lastRun?.at ?? '')}) ended ${h.lastRun?.result}: rotate history ${h.secret}`,
        ]),
  ]);
}

/** What to do about a rotation written with `--no-restart`: the one line `status` and `status --check` print. */
export function notAppliedText(secret: string, services: string[]): string {
  const restart = services.length ? `restart ${services.join(', ')}` : 'restart every process that reads it';
  return `${secret}: written but not applied (--no-restart: no service restarted, nothing verified): ${restart}, then \`rotate verify ${secret}\``;
}
