// What a rotation behind a promotion gate records: the run it rested on, or that --emergency passed the gate closed
// (recorded in the history and posted, so a bypass never goes unseen).
import type { Session } from '../engine/session.js';
import type { Notice } from '../notify/send.js';
import type { HistoryEntry } from '../store/types.js';
import { decideGate, describeGate } from './promotion.js';

export interface PromotionOfRun {
  record: NonNullable<HistoryEntry['promotion']>;
  /** Set when the gate was closed and --emergency passed it: the notice to post. */
  bypassNotice?: (entry: HistoryEntry) => Notice;
}

export async function promotionOfRun(session: Session, id: string, now: Date): Promise<PromotionOfRun | undefined> {
  const decision = decideGate(session.config, id, await session.store.readHistory(), now);
  if (decision.state === 'none') return undefined;
  if (decision.state === 'open') return { record: { after: decision.gate.after, restsOn: decision.restsOn.runId } };
  const why = describeGate(decision, id).text;
  return {
    record: { after: decision.gate.after, bypassed: true },
    bypassNotice: (entry) => ({
      // Posted as a failure: the policy failed and a person overrode it (notify.on lists failure by default).
      event: 'failure',
      text:
        `rotate: ${id} was rotated in ${entry.environment ?? 'this environment'} on ${session.deps.host} past its promotion gate ` +
        `(--emergency by ${entry.actor}: ${entry.reason ?? 'no reason'}); ${why}`,
      policy: 'promotion-bypassed',
      secret: id,
      kind: entry.kind,
      environment: entry.environment ?? null,
      after: decision.gate.after,
      runId: entry.runId,
      actor: entry.actor,
      reason: entry.reason ?? null,
      host: session.deps.host,
    }),
  };
}
