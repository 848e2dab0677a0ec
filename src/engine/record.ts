import type { HistoryEntry, HistoryResult, Journal } from '../store/types.js';
import type { SecretResult } from './result.js';
import type { Session } from './session.js';

const RESULT: Partial<Record<SecretResult['status'], HistoryResult>> = {
  rotated: 'rotated',
  grace: 'rotated',
  restored: 'restored',
  undone: 'rolled-back',
  retired: 'retired',
  'rolled-back': 'rolled-back',
  'rollback-failed': 'rollback-failed',
  'retire-failed': 'failed',
  failed: 'failed',
};

/** Appends the run to the history and tells the notification hook. Neither ever carries a secret value. */
export async function record(session: Session, journal: Journal, result: SecretResult, action?: HistoryEntry['action']): Promise<void> {
  const entry: HistoryEntry = {
    at: session.deps.now().toISOString(),
    runId: journal.runId,
    secret: journal.secret,
    kind: journal.kind,
    action: action ?? journal.mode,
    result: RESULT[result.status] ?? 'skipped',
    actor: session.deps.actor,
    ...(journal.emergency ? { emergency: true } : {}),
    ...(session.options.reason ? { reason: session.options.reason } : {}),
    ...(Object.keys(result.facts).length ? { facts: result.facts } : {}),
    ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
  };
  await session.store.appendHistory(entry);
  await notify(session, entry);
}

async function notify(session: Session, entry: HistoryEntry): Promise<void> {
  const url = session.config.notify.webhookUrl;
  if (!url) return;
  try {
    const response = await session.deps.fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: `rotate.${entry.action}`, ...entry }),
      signal: AbortSignal.timeout(10_000),
    });
    await response.body?.cancel();
    if (!response.ok) session.deps.log.warn(`the notification hook answered HTTP ${response.status}`);
  } catch (error) {
    session.deps.log.warn(`could not reach the notification hook: ${(error as Error).message}`);
  }
}
