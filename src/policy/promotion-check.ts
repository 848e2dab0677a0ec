// The promotion gate as a preflight of a rotation: a real run refuses before anything changes (exit 2), a dry run
// reports a failed check, `--emergency --reason` passes (src/policy/promotion-record.ts records and posts that).
import { type Check, check } from '../core-types.js';
import type { Session } from '../engine/session.js';
import { RotateError } from '../errors.js';
import type { HistoryEntry } from '../store/types.js';
import { decideGate, describeGate, type GateDecision } from './promotion.js';

const codeOf = (decision: GateDecision) => (decision.state === 'closed' ? 'PROMOTION_GATE_CLOSED' : 'PROMOTION_ENVIRONMENT_UNKNOWN');

/** The gate of secret `id` as a check (none when the secret has no gate). */
export function promotionCheck(session: Session, id: string, history: readonly HistoryEntry[]): Check | undefined {
  const decision = decideGate(session.config, id, history, session.deps.now());
  if (decision.state === 'none') return undefined;
  const name = `promotion: a verified ${decision.gate.after} rotation within ${decision.gate.withinDays} days`;
  const { text, fix } = describeGate(decision, id);
  if (decision.state === 'open') return check('promotion-gate', name, true, text);
  if (session.options.emergency)
    return check('promotion-gate', name, true, `closed, bypassed by --emergency (recorded and notified): ${text}`);
  return { ...check('promotion-gate', name, false, text, fix), code: codeOf(decision) };
}

/** The gate's decisions for the secrets of a run, from one read of the shared history. */
export async function promotionDecisions(session: Session, ids: readonly string[]): Promise<Map<string, GateDecision>> {
  const history = await session.store.readHistory();
  const now = session.deps.now();
  return new Map(ids.map((id) => [id, decideGate(session.config, id, history, now)]));
}

/**
 * Refuses a rotation whose gate is closed, before anything changes (a pending retirement included). With
 * `--emergency` the run goes on, with a warning; the record names the bypass.
 */
export async function assertPromotion(session: Session, ids: readonly string[]): Promise<void> {
  if (!ids.some((id) => decideGateNeeded(session, id))) return;
  for (const [id, decision] of await promotionDecisions(session, ids)) {
    if (decision.state === 'none' || decision.state === 'open') continue;
    const { text, fix } = describeGate(decision, id);
    if (session.options.emergency) {
      session.deps.log.warn(`${id}: promotion gate closed, bypassed by --emergency (recorded and notified): ${text}`);
      continue;
    }
    throw new RotateError(
      decision.state === 'closed' ? 'PROMOTION_GATE_CLOSED' : 'PROMOTION_ENVIRONMENT_UNKNOWN',
      `${id}: ${text}; nothing was changed`,
      { ...(fix ? { hint: fix } : {}) },
    );
  }
}

const decideGateNeeded = (session: Session, id: string): boolean =>
  Boolean(session.config.secrets[id]?.promotion ?? session.config.promotion);
