import { usageError } from '../errors.js';
import { appendChained, fingerprint } from '../history/audit.js';
import { historyNotice } from '../notify/history-notice.js';
import { sendNotice } from '../notify/send.js';
import { redactTyped } from '../secret-value.js';
import { envKeysOf } from '../secrets/index.js';
import type { HistoryEntry } from '../store/types.js';
import { inTheFuture } from './due.js';
import { withLock } from './lock.js';
import { assertNoPendingRun } from './preflight.js';
import { type Session, secretConfig } from './session.js';

export interface MarkRequest {
  id: string;
  rotatedAt: Date;
  /** As the person typed it, for the message refusing an older date. */
  rotatedAtText: string;
  reason?: string;
  /** How a time reads in the refusal. */
  localTime(iso: string): string;
}

/**
 * `rotate mark`: records a rotation done by hand or before rotate was adopted. Under the lock it writes the new state
 * and the `mark` record (refusing a date older than what rotate recorded), then posts its notification.
 */
export async function mark(session: Session, request: MarkRequest): Promise<HistoryEntry> {
  const entry = await withLock(session, `rotate mark ${request.id}`, () => recordMark(session, request));
  const notice = historyNotice(entry, 'marked', session.deps.host, await session.store.readHistoryHead());
  if (notice) await sendNotice(session.config.notify, session.deps, notice);
  return entry;
}

async function recordMark(session: Session, { id, rotatedAt, rotatedAtText, reason, localTime }: MarkRequest): Promise<HistoryEntry> {
  const config = secretConfig(session, id);
  await assertNoPendingRun(session);
  const state = (await session.store.readStates())[id] ?? {};
  // A record from the future (a run made with a clock ahead) is what mark is there to correct.
  const fromTheFuture = state.lastRotatedAt !== undefined && inTheFuture(state.lastRotatedAt, session.deps.now());
  if (state.lastRotatedAt && Date.parse(state.lastRotatedAt) > rotatedAt.getTime() && !fromTheFuture) {
    throw usageError(
      'MARK_DATE_INVALID',
      `rotate recorded a later rotation of ${id} (${localTime(state.lastRotatedAt)}) than --rotated-at ${rotatedAtText}`,
      'rotate history shows it; mark only a rotation newer than the last one recorded',
    );
  }
  // The value changed outside rotate: what rotate kept for `rotate rollback` no longer describes it.
  const { last: _, reminded: __, ...kept } = state;
  const runId = session.deps.randomUUID();
  const current = await session.target.read().then(
    (snapshot) => snapshot.values,
    () => ({}) as Record<string, string>,
  );
  const entry: HistoryEntry = {
    at: session.deps.now().toISOString(),
    runId,
    secret: id,
    kind: config.kind,
    action: 'mark',
    result: 'marked',
    actor: session.deps.actor,
    ...(reason
      ? {
          reason: redactTyped(
            reason,
            envKeysOf(config).map((key) => current[key]),
          ),
        }
      : {}),
    facts: { rotatedAt: rotatedAt.toISOString() },
    durationMs: 0,
    fingerprints: { old: null, new: await fingerprint(session.store, current[envKeysOf(config)[0]!]) },
  };
  // The record first: a state naming a run the history does not hold reads as a removed record (history --verify).
  await appendChained(session.store, entry, session.deps.log.warn);
  await session.store.writeState(id, { ...kept, lastRotatedAt: rotatedAt.toISOString(), lastRunId: runId });
  return entry;
}
