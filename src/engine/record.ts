import dotenv from 'dotenv';
import { readEnvFile } from '../envfile/file.js';
import { appendChained, fingerprint } from '../history/audit.js';
import { historyNotice } from '../notify/history-notice.js';
import { sendNotice } from '../notify/send.js';
import { redactTyped } from '../secret-value.js';
import { envKeysOf } from '../secrets/index.js';
import type { HistoryEntry, HistoryResult, Journal } from '../store/types.js';
import type { SecretResult } from './result.js';
import { type Session, secretConfig } from './session.js';

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

/** The secret's main value before the run (the env backup taken before the write) and now, for the fingerprints. */
async function valuesAround(session: Session, journal: Journal): Promise<{ old?: string; new?: string }> {
  const key = envKeysOf(secretConfig(session, journal.secret))[0]!;
  const now = (await readEnvFile(session.envFile)).values[key];
  if (!journal.envBackup) return { old: now, new: now };
  const backup = dotenv.parse((await session.store.getBackup(journal.envBackup)).toString('utf8'));
  return { old: backup[key], new: now };
}

/**
 * Appends the run to the history (with its duration, keyed fingerprints and chain link) and posts the notification
 * `notify.on` asks for. Neither ever carries a secret value.
 */
export async function record(session: Session, journal: Journal, result: SecretResult, action?: HistoryEntry['action']): Promise<void> {
  const now = session.deps.now();
  const values = await valuesAround(session, journal).catch(() => ({}) as { old?: string; new?: string });
  const entry: HistoryEntry = {
    at: now.toISOString(),
    runId: journal.runId,
    secret: journal.secret,
    kind: journal.kind,
    action: action ?? journal.mode,
    result: RESULT[result.status] ?? 'skipped',
    actor: session.deps.actor,
    ...(journal.emergency ? { emergency: true } : {}),
    // A person may paste the leaked value into --reason: the current and new values never reach history or a post.
    ...(session.options.reason ? { reason: redactTyped(session.options.reason, [values.old, values.new]) } : {}),
    ...(Object.keys(result.facts).length ? { facts: result.facts } : {}),
    ...(result.error ? { error: { code: result.error.code, message: result.error.message } } : {}),
    durationMs: Math.max(0, now.getTime() - Date.parse(journal.startedAt)),
    fingerprints: { old: await fingerprint(session.store, values.old), new: await fingerprint(session.store, values.new) },
  };
  await appendChained(session.store, entry);
  const notice = historyNotice(entry, result.status, session.deps.host);
  if (notice) await sendNotice(session.config.notify, session.deps, notice);
}
