import type { HistoryEntry, Store } from '../store/types.js';

/** The MAC purposes: one key per job, each derived from the master key (Store.mac). */
const FINGERPRINT = 'fingerprint';
const CHAIN = 'history-chain';

/**
 * A value's keyed fingerprint: the first 12 hex digits of HMAC-SHA256 under a key derived from the master key.
 * The same value gives the same fingerprint in every run on every host sharing the key, so an auditor can tell
 * "this is the value rotation X put in" without the history holding anything a guesser could test offline.
 */
export async function fingerprint(store: Pick<Store, 'mac'>, value: string | undefined | null): Promise<string | null> {
  if (value === undefined || value === null || value === '') return null;
  return (await store.mac(FINGERPRINT, value)).slice(0, 12);
}

/** JSON with object keys sorted at every level, so a record reads the same after a jsonb round trip. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/** The link of `entry` to the one before it: an HMAC over the previous link and the entry without its own link. */
async function linkOf(store: Pick<Store, 'mac'>, previous: string, entry: HistoryEntry): Promise<string> {
  const { chain: _, ...body } = entry;
  return store.mac(CHAIN, `${previous}\n${canonicalJson(body)}`);
}

/**
 * The same outcome of the same run for the same secret. The action and result are part of it: a run parked for a
 * person records its failure, and the resume that finishes it records the outcome under the same run id.
 */
export const sameOutcome = (a: HistoryEntry, b: HistoryEntry): boolean =>
  a.runId === b.runId && a.secret === b.secret && a.action === b.action && a.result === b.result;

/**
 * Appends `entry` chained to the last record. Runs under the store's lock (every writer of the history holds it),
 * so no other append slips in between the read and the write. A second append of the same outcome (sameOutcome)
 * is a no-op that returns the record already there.
 */
export async function appendChained(store: Store, entry: HistoryEntry): Promise<HistoryEntry> {
  const history = await store.readHistory();
  // Idempotent: a resumed run may append the outcome its killed process had already recorded.
  const existing = history.find((e) => sameOutcome(e, entry));
  if (existing) return existing;
  const previous = history.at(-1)?.chain ?? '';
  const chained = { ...entry, chain: await linkOf(store, previous, entry) };
  await store.appendHistory(chained);
  return chained;
}

export interface ChainReport {
  ok: boolean;
  /** Records before the first chained one: written by a rotate that kept no chain yet. */
  unchained: number;
  checked: number;
  /** The first record that does not follow from the one before it (1-based position, oldest first). */
  broken?: { position: number; entry: HistoryEntry; why: string };
}

/** Checks every link: an edited, inserted, reordered or removed record breaks the chain at or after it. */
export async function verifyChain(store: Pick<Store, 'mac'>, entries: HistoryEntry[]): Promise<ChainReport> {
  let unchained = 0;
  while (unchained < entries.length && entries[unchained]!.chain === undefined) unchained++;
  let previous = '';
  for (let index = unchained; index < entries.length; index++) {
    const entry = entries[index]!;
    const broken = (why: string): ChainReport => ({
      ok: false,
      unchained,
      checked: index - unchained,
      broken: { position: index + 1, entry, why },
    });
    if (typeof entry.chain !== 'string') return broken('it has no chain link (removed, or added by hand)');
    if ((await linkOf(store, previous, entry)) !== entry.chain) {
      return broken('its link does not match: it or the record before it was edited, removed or moved');
    }
    previous = entry.chain;
  }
  return { ok: true, unchained, checked: entries.length - unchained };
}
