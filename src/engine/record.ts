import { appendChained, fingerprint } from '../history/audit.js';
import { historyNotice } from '../notify/history-notice.js';
import { sendNotice, willPost } from '../notify/send.js';
import { promotionOfRun } from '../policy/promotion-record.js';
import { redactTyped } from '../secret-value.js';
import type { HistoryEntry, HistoryResult, Journal } from '../store/types.js';
import type { SecretResult } from './result.js';
import type { Session } from './session.js';

const RESULT: Partial<Record<SecretResult['status'], HistoryResult>> = {
  rotated: 'rotated',
  written: 'written',
  grace: 'rotated',
  restored: 'restored',
  undone: 'rolled-back',
  retired: 'retired',
  verified: 'verified',
  'rolled-back': 'rolled-back',
  'rollback-failed': 'rollback-failed',
  'retire-failed': 'failed',
  failed: 'failed',
  'not-converged': 'not-converged',
};

/** Outcomes that put a new value in place: a gate bypass that ended in one of these is posted. */
const CHANGED: SecretResult['status'][] = ['rotated', 'grace', 'written'];

/** What a record needs of its run: a journaled run, or one that stopped at its checks before it journaled anything. */
/** `startedAt`: what the record's duration counts from; `runStartedAt`: the start of the run a resume finishes. */
export type RunInfo = Pick<Journal, 'runId' | 'startedAt' | 'mode' | 'emergency'> & { runStartedAt?: string };

/** A secret's main value before the run and after it, as the run read them: only their keyed fingerprints are kept. */
export interface ValuesAround {
  old?: string | undefined;
  new?: string | undefined;
  /** The old value's fingerprint when the value itself is gone (a resumed run: from the journal). */
  oldFingerprint?: string | null;
}

/**
 * Appends one secret's outcome of the run to the history (with its duration, keyed fingerprints and chain link) and
 * posts the notification `notify.on` asks for. Neither ever carries a secret value.
 */
export async function record(
  session: Session,
  journal: RunInfo,
  result: SecretResult,
  action?: HistoryEntry['action'],
  values: ValuesAround = {},
  /** Called after the record is written and before its notification is posted (only when one will be). */
  beforeNotice?: () => Promise<void>,
): Promise<void> {
  const now = session.deps.now();
  const entry: HistoryEntry = {
    at: now.toISOString(),
    runId: journal.runId,
    secret: result.secret,
    kind: result.kind,
    action: action ?? journal.mode,
    result: RESULT[result.status] ?? 'skipped',
    actor: session.deps.actor,
    ...(session.config.environment ? { environment: session.config.environment } : {}),
    ...(journal.emergency ? { emergency: true } : {}),
    // A person may paste the leaked value into --reason: the current and new values never reach history or a post.
    ...(session.options.reason ? { reason: redactTyped(session.options.reason, [values.old, values.new]) } : {}),
    ...(Object.keys(result.facts).length ? { facts: result.facts } : {}),
    ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
    durationMs: Math.max(0, now.getTime() - Date.parse(journal.startedAt)),
    ...(journal.runStartedAt ? { runStartedAt: journal.runStartedAt } : {}),
    fingerprints: {
      old: values.oldFingerprint !== undefined ? values.oldFingerprint : await fingerprint(session.store, values.old),
      new: await fingerprint(session.store, values.new),
    },
  };
  const promotion = (action ?? journal.mode) === 'rotate' ? await promotionOfRun(session, result.secret, now) : undefined;
  if (promotion) entry.promotion = promotion.record;
  await appendChained(session.store, entry, session.deps.log.warn);
  const notice = historyNotice(entry, result.status, session.deps.host, await session.store.readHistoryHead());
  if (notice && willPost(session.config.notify, notice.event)) {
    await beforeNotice?.();
    await sendNotice(session.config.notify, session.deps, notice);
  }
  if (promotion?.bypassNotice && CHANGED.includes(result.status))
    await sendNotice(session.config.notify, session.deps, promotion.bypassNotice(entry));
}

/**
 * A run stopped by its checks or its generation (nothing changed, no journal): its failures are recorded too, so
 * that `rotate history` shows them and monitoring (`status --check`, `last_run_ok`) sees the last run failed.
 */
export async function recordUnstarted(
  session: Session,
  mode: RunInfo['mode'],
  startedAt: Date,
  results: SecretResult[],
): Promise<SecretResult[]> {
  const run: RunInfo = { runId: session.deps.randomUUID(), startedAt: startedAt.toISOString(), mode, emergency: session.options.emergency };
  const out: SecretResult[] = [];
  for (const result of results) {
    if (result.status !== 'failed') {
      out.push(result);
      continue;
    }
    const recorded = { ...result, runId: run.runId };
    await record(session, run, recorded);
    out.push(recorded);
  }
  return out;
}
