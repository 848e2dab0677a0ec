import type { Session } from '../engine/session.js';
import { decideGate, describeGate, type GateDecision, type RestingRun } from './promotion.js';

/** What `rotate status` shows of a secret's gate: the run a rotation now would rest on, or why it would be refused. */
export interface PromotionStatus {
  after: string;
  withinDays: number;
  state: Exclude<GateDecision['state'], 'none'>;
  restsOn: RestingRun | null;
  text: string;
}

export async function promotionStatus(session: Session): Promise<Map<string, PromotionStatus>> {
  const ids = Object.keys(session.config.secrets);
  const out = new Map<string, PromotionStatus>();
  if (!session.config.promotion && !ids.some((id) => session.config.secrets[id]?.promotion)) return out;
  const history = await session.store.readHistory();
  const now = session.deps.now();
  for (const id of ids) {
    const decision = decideGate(session.config, id, history, now);
    if (decision.state === 'none') continue;
    const { text, fix } = describeGate(decision, id);
    out.set(id, {
      after: decision.gate.after,
      withinDays: decision.gate.withinDays,
      state: decision.state,
      restsOn: decision.state === 'open' ? decision.restsOn : null,
      text: fix ? `${text}; ${fix}` : text,
    });
  }
  return out;
}
