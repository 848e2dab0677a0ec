// `--due` is what cron runs: a rotation that was undone (drift) is said on stderr at every run and posted once per
// drifted value (a `failure` notification), so a revert is seen before the next restart locks the pods out.
import type { Session } from '../engine/session.js';
import { driftText } from '../monitoring/drift.js';
import { secretHealth } from '../monitoring/health.js';
import type { Lock } from '../store/types.js';
import { sendNotice } from './send.js';

export async function reportDrift(session: Session): Promise<void> {
  const drifted = (await secretHealth(session)).filter((h) => h.drift);
  if (drifted.length === 0) return;
  for (const h of drifted) session.deps.log.warn(driftText(h.secret, h.drift!, h.key));
  const notify = session.config.notify;
  if (!notify.webhookUrl || !notify.on.includes('failure')) return;
  const states = await session.store.readStates();
  const owed = drifted.filter((h) => states[h.secret]?.driftNotified?.found !== h.drift!.found);
  if (owed.length === 0) return;
  let lock: Lock;
  try {
    lock = await session.store.acquireLock('rotate --due (drift notices)');
  } catch (error) {
    session.deps.log.warn(`drift notices not sent this time: ${(error as Error).message}`);
    return;
  }
  try {
    for (const h of owed) {
      const drift = h.drift!;
      const sent = await sendNotice(notify, session.deps, {
        event: 'failure',
        drifted: true,
        secret: h.secret,
        kind: h.kind,
        host: session.deps.host,
        where: drift.where,
        lastRotatedAt: h.lastRotatedAt,
        text: `rotate: ${driftText(h.secret, drift, h.key)}`,
      });
      if (!sent) continue;
      const state = (await session.store.readStates())[h.secret] ?? {};
      await session.store.writeState(h.secret, { ...state, driftNotified: { at: session.deps.now().toISOString(), found: drift.found } });
    }
  } finally {
    await lock.release();
  }
}
