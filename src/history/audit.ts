import { timingSafeEqual } from 'node:crypto';
import type { HistoryEntry, HistoryHead, SecretState, Store, StoredJournal } from '../store/types.js';
import { journalSecretIds } from '../store/types.js';

/** The MAC purposes: one key per job, each derived from the master key (Store.mac). */
const FINGERPRINT = 'fingerprint';
const CHAIN = 'history-chain';
const HEAD = 'history-head';

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

/** The MAC that authenticates a head: nobody without the master key can write a head that passes. */
const headMac = (store: Pick<Store, 'mac'>, seq: number, link: string) => store.mac(HEAD, `${seq}\n${link}`);

const sameText = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

/** The head as stored, if its MAC holds; `false` when it was edited (or written under another key). */
export async function checkedHead(store: Pick<Store, 'mac'>, head: HistoryHead | undefined): Promise<HistoryHead | undefined | false> {
  if (!head) return undefined;
  if (!Number.isSafeInteger(head.seq) || typeof head.link !== 'string' || typeof head.mac !== 'string') return false;
  return sameText(await headMac(store, head.seq, head.link), head.mac) ? head : false;
}

/**
 * Appends `entry` chained to the last record, and moves the history's head (sequence number and last link,
 * authenticated) with it. Runs under the store's lock (every writer of the history holds it), so no other append
 * slips in between the read and the write. A second append of the same outcome (sameOutcome) is a no-op that returns
 * the record already there.
 *
 * The head, not the history, says where the chain goes on: when records were removed from the end, the new record
 * links to the last link the head holds, so the gap stays visible to `history --verify` instead of being papered over.
 */
export async function appendChained(store: Store, entry: HistoryEntry, warn?: (message: string) => void): Promise<HistoryEntry> {
  const history = await store.readHistory();
  // Idempotent: a resumed run may append the outcome its killed process had already recorded.
  const existing = history.find((e) => sameOutcome(e, entry));
  if (existing) return existing;
  const chained = history.filter((e) => typeof e.chain === 'string');
  const head = await checkedHead(store, await store.readHistoryHead());
  let previous = history.at(-1)?.chain ?? '';
  let seq = chained.length + 1;
  // A head one or more records behind the history is a head whose write a crash cut off (file store): the records
  // after it are chained from it, so the history goes on from its own end.
  const throughHead = head && head.seq <= chained.length && chained[head.seq - 1]?.chain === head.link;
  if (head && !throughHead) {
    previous = head.link;
    seq = head.seq + 1;
    warn?.(`the history does not end where its head says (record ${head.seq}): records were removed; run \`rotate history --verify\``);
  }
  if (head === undefined && chained.length > 0) {
    warn?.(
      `the history had no head (a store whose chain began before rotate kept one, or a deleted head): it starts now at record ${seq}; ` +
        '`rotate history --verify` checks against it from here on',
    );
  }
  const record = { ...entry, chain: await linkOf(store, previous, entry) };
  await store.appendHistory(record, { seq, link: record.chain, mac: await headMac(store, seq, record.chain) });
  return record;
}

export interface ChainReport {
  ok: boolean;
  /** The head (sequence number and last link) the history was checked against, when it was. */
  head?: { seq: number; link: string };
  /** Records before the first chained one: written by a rotate that kept no chain yet. */
  unchained: number;
  checked: number;
  /** The first record that does not follow from the one before it (1-based position, oldest first). */
  broken?: { position: number; entry: HistoryEntry; why: string };
  /** What the head shows missing (records removed from the end, links stripped, the head deleted or edited). */
  missing?: string;
  /**
   * The history holds chained records and no head, and the caller accepted that (`acceptNoHead`): a store whose chain
   * began before rotate kept a head. Its chain was checked; records removed from its end cannot be ruled out.
   */
  noHead?: true;
}

/**
 * Checks every link: an edited, inserted, reordered or removed record breaks the chain at or after it. With
 * `options.head` (the store's head, or undefined when it has none) it also sees records removed from the end, and
 * chain links stripped: the chained records must reach the head's sequence number and pass through its last link.
 * "Written before chaining" holds only for records before the first chained one, and only while no head exists.
 */
export async function verifyChain(
  store: Pick<Store, 'mac'>,
  entries: HistoryEntry[],
  options?: { head: HistoryHead | undefined; acceptNoHead?: boolean },
): Promise<ChainReport> {
  let unchained = 0;
  while (unchained < entries.length && entries[unchained]!.chain === undefined) unchained++;
  let head: { head?: { seq: number; link: string }; noHead?: true } = {};
  if (options) {
    const chained = entries.length - unchained;
    if (!options.head && chained > 0 && options.acceptNoHead) head = { noHead: true };
    else {
      const problem = await headProblem(store, entries, unchained, options.head);
      if (problem) return { ok: false, unchained, checked: 0, ...problem };
    }
    if (options.head) head = { head: { seq: options.head.seq, link: options.head.link } };
  }
  let previous = '';
  for (let index = unchained; index < entries.length; index++) {
    const entry = entries[index]!;
    const broken = (why: string): ChainReport => ({
      ok: false,
      ...head,
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
  return { ok: true, ...head, unchained, checked: entries.length - unchained };
}

type HeadProblem = Pick<ChainReport, 'broken' | 'missing' | 'head'>;

/** What the head says is wrong with the history, if anything (see verifyChain). */
async function headProblem(
  store: Pick<Store, 'mac'>,
  entries: HistoryEntry[],
  unchained: number,
  stored: HistoryHead | undefined,
): Promise<HeadProblem | undefined> {
  const chained = entries.slice(unchained);
  const head = await checkedHead(store, stored);
  if (head === false) return { missing: 'the history head was edited or written under another master key: its MAC does not match' };
  const seen = { head: head ? { seq: head.seq, link: head.link } : undefined };
  if (!head) {
    if (chained.length === 0) return undefined;
    const last = chained.at(-1)!;
    return {
      missing:
        `the history head is missing though the history holds ${chained.length} chained record(s): either the store's chain began ` +
        'before rotate kept a head (a store last written by an older rotate: the next record written starts the head), or the head ' +
        'was deleted, and records removed from the end cannot be ruled out. If the newest record ' +
        `(#${chained.length}, link ${last.chain!.slice(0, 12)}, ${last.at}) is the last one your notifications name, or the store predates ` +
        'the head, run `rotate history --verify --accept-no-head` to check the chain without it',
    };
  }
  if (chained.length < head.seq) {
    const lost = head.seq - chained.length;
    return {
      ...seen,
      missing:
        chained.length === 0 && unchained > 0
          ? `every chain link was stripped: the head says ${head.seq} chained record(s), the history holds none`
          : `${lost} record(s) were removed: the head says ${head.seq} chained record(s), the history holds ${chained.length}`,
    };
  }
  if (chained[head.seq - 1]!.chain !== head.link) {
    return {
      ...seen,
      missing: `the history does not pass through its head (record ${head.seq}, link ${head.link.slice(0, 12)}): records were removed or replaced`,
    };
  }
  return undefined;
}

/**
 * Each secret's last run, as its state names it, must have a record in the history (unless that run is still in a
 * journal, recorded when it ends): a state whose run has no record means records were removed.
 */
export function runsWithoutRecord(
  states: Record<string, SecretState>,
  journals: StoredJournal[],
  entries: HistoryEntry[],
): Array<{ secret: string; runId: string }> {
  const recorded = new Set(entries.map((e) => `${e.secret}\n${e.runId}`));
  const pending = new Set(journals.flatMap((j) => journalSecretIds(j).map((secret) => `${secret}\n${j.runId}`)));
  return Object.entries(states).flatMap(([secret, state]) => {
    const runId = state?.lastRunId;
    if (!runId) return [];
    const key = `${secret}\n${runId}`;
    return recorded.has(key) || pending.has(key) ? [] : [{ secret, runId }];
  });
}
