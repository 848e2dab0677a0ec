// The promotion gate as a preflight check of a rotation (engine/preflight.ts): a real run refuses before anything
// changes (exit 2), a dry run reports the same failed check, `--emergency --reason` passes
// (src/policy/promotion-record.ts records and posts that).
import { type Check, check } from '../core-types.js';
import type { Session } from '../engine/session.js';
import type { HistoryEntry } from '../store/types.js';
import { decideGate, describeGate, type GateDecision } from './promotion.js';

/** The gate of secret `id` as a check (none when the secret has no gate). */
export function promotionCheck(session: Session, id: string, history: readonly HistoryEntry[]): Check | undefined {
  const decision = decideGate(session.config, id, history, session.deps.now());
  if (decision.state === 'none') return undefined;
  const name = `promotion: a verified ${decision.gate.after} rotation within ${decision.gate.withinDays} days`;
  const { text, fix } = describeGate(decision, id);
  if (decision.state === 'open') return check('promotion-gate', name, true, text);
  if (session.options.emergency) {
    // Said by a run and a dry run alike; the run's record names the bypass (promotion-record.ts).
    session.deps.log.warn(`${id}: promotion gate closed, bypassed by --emergency (recorded and notified): ${text}`);
    return check('promotion-gate', name, true, `closed, bypassed by --emergency (recorded and notified): ${text}`);
  }
  return {
    ...check('promotion-gate', name, false, text, fix),
    code: decision.state === 'closed' ? 'PROMOTION_GATE_CLOSED' : 'PROMOTION_ENVIRONMENT_UNKNOWN',
  };
}

/** The gate's decisions for the secrets of a run, from one read of the shared history. */
export async function promotionDecisions(session: Session, ids: readonly string[]): Promise<Map<string, GateDecision>> {
  const history = await session.store.readHistory();
  const now = session.deps.now();
  return new Map(ids.map((id) => [id, decideGate(session.config, id, history, now)]));
}
