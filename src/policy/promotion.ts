// Staging first (CONTRACT.md, "Environments, policy, leaks"): a rotation in an environment with a `promotion` gate
// rests on a verified rotation of the same secret, or else of the same kind, in the environment named `after`,
// within `withinDays`. The store every environment shares holds the history this reads; no value is involved.
import type { HistoryEntry } from '../store/types.js';
import type { PromotionConfig } from './schema.js';

const DAY_MS = 86_400_000;

/** What the gate of one secret needs of the config. */
export interface GateConfig {
  environment?: string | undefined;
  promotion?: PromotionConfig | undefined;
  secrets: Record<string, { kind: string; promotion?: PromotionConfig | undefined }>;
}

/** The gate that applies to a secret: its own `promotion`, else the config's, else none. */
export function gateOf(config: GateConfig, id: string): PromotionConfig | undefined {
  return config.secrets[id]?.promotion ?? config.promotion;
}

/** The earlier run a rotation rests on. */
export interface RestingRun {
  runId: string;
  at: string;
  secret: string;
  kind: string;
  environment: string;
  /** `secret`: the same secret id; `kind`: another secret of the same kind. */
  match: 'secret' | 'kind';
}

export type GateDecision =
  | { state: 'none' }
  | { state: 'open'; gate: PromotionConfig; restsOn: RestingRun }
  /** No verified run recent enough; `latest` is the newest verified one of any age, if any. */
  | { state: 'closed'; gate: PromotionConfig; latest?: RestingRun }
  /** No run at all was recorded in the named environment: a typo, or that environment uses another store. */
  | { state: 'unknown-environment'; gate: PromotionConfig; known: string[] };

/**
 * A run that proved its new value: a rotation, a resumed run that finished, or `rotate verify` recording a
 * `--no-restart` write as applied. A rollback, a mark (done outside rotate, never verified by it) or a write do not.
 */
const isVerifiedRotation = (entry: HistoryEntry): boolean =>
  (entry.action === 'rotate' || entry.action === 'resume' || entry.action === 'verify') &&
  (entry.result === 'rotated' || entry.result === 'verified');

/** The decision for secret `id` of kind `kind` at `now`, from the whole history of the shared store. */
export function decideGate(config: GateConfig, id: string, history: readonly HistoryEntry[], now: Date): GateDecision {
  const gate = gateOf(config, id);
  if (!gate) return { state: 'none' };
  const kind = config.secrets[id]?.kind;
  const there = history.filter((e) => e.environment === gate.after);
  if (there.length === 0) {
    const known = [...new Set(history.flatMap((e) => (e.environment ? [e.environment] : [])))].sort();
    return { state: 'unknown-environment', gate, known };
  }
  const verified = there.filter(isVerifiedRotation);
  const newest = (match: RestingRun['match']): RestingRun | undefined => {
    const entry = verified.filter((e) => (match === 'secret' ? e.secret === id : e.kind === kind)).at(-1);
    return entry ? { runId: entry.runId, at: entry.at, secret: entry.secret, kind: entry.kind, environment: gate.after, match } : undefined;
  };
  const since = now.getTime() - gate.withinDays * DAY_MS;
  const recent = (run: RestingRun | undefined) => (run && Date.parse(run.at) >= since ? run : undefined);
  const bySecret = newest('secret');
  const byKind = newest('kind');
  const restsOn = recent(bySecret) ?? recent(byKind);
  if (restsOn) return { state: 'open', gate, restsOn };
  const latest = [bySecret, byKind].filter((r): r is RestingRun => !!r).sort((a, b) => Date.parse(b.at) - Date.parse(a.at))[0];
  return { state: 'closed', gate, ...(latest ? { latest } : {}) };
}

/** One sentence for people: what the rotation rests on, or why the gate is closed, and what to do. */
export function describeGate(decision: GateDecision, id: string): { text: string; fix?: string } {
  switch (decision.state) {
    case 'none':
      return { text: 'no promotion gate' };
    case 'open': {
      const r = decision.restsOn;
      const which = r.match === 'secret' ? r.secret : `${r.secret} (same kind, ${r.kind})`;
      return { text: `rests on the verified ${r.environment} rotation of ${which} at ${r.at} (run ${r.runId})` };
    }
    case 'closed': {
      const { after, withinDays } = decision.gate;
      const latest = decision.latest
        ? `; the newest is ${decision.latest.secret} at ${decision.latest.at} (run ${decision.latest.runId})`
        : '';
      return {
        text: `no verified ${after} rotation of ${id} (or of its kind) within ${withinDays} days${latest}`,
        fix: `rotate ${id} in ${after} first (with the ${after} config, on this store), or pass --emergency --reason "<why>" to bypass the gate (recorded and notified)`,
      };
    }
    case 'unknown-environment': {
      const { after } = decision.gate;
      const known = decision.known.length
        ? `environments recorded there: ${decision.known.join(', ')}`
        : 'no run there names an environment yet';
      return {
        text: `no run in this store was ever recorded in the environment "${after}" (${known})`,
        fix: `check promotion.after for a typo; the ${after} config must set "environment": "${after}" and use this same store; rotate there first, or pass --emergency --reason "<why>"`,
      };
    }
  }
}
