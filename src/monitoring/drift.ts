// Drift: a rotation that was undone. The value a place holds now (each env file, the Secret, its source) is compared
// with the keyed fingerprint of the last value rotate recorded for the secret; a revert (a deploy of an old manifest,
// a GitOps sync, a hand edit) shows here before the next restart locks the pods out. Fingerprints only: no value is
// kept or printed, and the master key is used (crypto loaded) only for a secret that has a recorded fingerprint.
import { fingerprint } from '../history/audit.js';
import { envKeysOf } from '../secrets/index.js';
import type { HistoryEntry, HistoryResult, Store } from '../store/types.js';
import type { Place, Target } from '../target/types.js';
import { localTime } from '../terminal/time.js';

/** Records whose `fingerprints.new` is the value the target should hold afterwards. */
const SETS_VALUE: HistoryResult[] = ['rotated', 'written', 'verified', 'restored', 'marked'];

/** The fingerprint of the value the last recorded rotation (or mark, or restore) left, and when. */
export function expectedFingerprint(history: readonly HistoryEntry[], secret: string): { fingerprint: string; at: string } | null {
  for (let i = history.length - 1; i >= 0; i--) {
    const entry = history[i]!;
    if (entry.secret !== secret || entry.action === 'retire' || !SETS_VALUE.includes(entry.result)) continue;
    return entry.fingerprints?.new ? { fingerprint: entry.fingerprints.new, at: entry.at } : null;
  }
  return null;
}

export interface Drift {
  /** The places whose value no longer matches (a file path, `Secret ns/name`, the source file). */
  where: string[];
  /** When the value they should hold was recorded. */
  since: string;
  /** The fingerprints found there, joined: a notification is sent once per drifted value. */
  found: string;
}

/** Every place of the target, each read on its own; one that cannot be read says why (`unreadable`). */
export async function readPlaces(target: Target): Promise<Place[]> {
  return target.places ? target.places() : [{ where: target.description, values: (await target.read()).values }];
}

/**
 * Each secret's drift, or null where every readable place holds the recorded value (or nothing was recorded). A place
 * that cannot be read is not compared: the caller reports it (see `readPlaces`).
 */
export async function detectDrift(
  places: readonly Place[],
  store: Pick<Store, 'mac'>,
  secrets: readonly { id: string; config: Parameters<typeof envKeysOf>[0] }[],
  history: readonly HistoryEntry[],
): Promise<Record<string, Drift | null>> {
  const out: Record<string, Drift | null> = {};
  const expected = secrets.map((s) => ({ ...s, last: expectedFingerprint(history, s.id) }));
  if (expected.every((s) => s.last === null)) return Object.fromEntries(secrets.map((s) => [s.id, null]));
  for (const { id, config, last } of expected) {
    if (!last) {
      out[id] = null;
      continue;
    }
    const key = envKeysOf(config)[0]!;
    const where: string[] = [];
    const found: string[] = [];
    for (const place of places) {
      if (!place.values) continue;
      const now = await fingerprint(store, place.values[key]);
      if (now === last.fingerprint) continue;
      where.push(place.where);
      found.push(now ?? 'absent');
    }
    out[id] = where.length > 0 ? { where, since: last.at, found: found.join(',') } : null;
  }
  return out;
}

/** The sentence status, --check and notifications say about a drifted secret (no value, no fingerprint). */
export function driftText(secret: string, drift: Drift, key: string): string {
  return (
    `${secret}: drifted: ${key} in ${drift.where.join(' and ')} no longer holds the value rotate recorded at ${localTime(drift.since)} ` +
    '(reverted by a deploy or sync, or changed outside rotate): find what wrote it back (its source file, a controller), ' +
    `then \`rotate ${secret}\` to rotate it again, or \`rotate mark ${secret} --rotated-at <date>\` if the change was meant`
  );
}

/** What status and status --check say about a place that cannot be read (the file and the fix; never a value). */
export function unreadableText(place: { where: string; message: string; hint?: string | undefined }): string {
  return `cannot read ${place.where}: ${place.message}${place.hint ? `; fix: ${place.hint}` : ''}`;
}
