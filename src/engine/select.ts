import { describeGate } from '../policy/promotion.js';
import { promotionDecisions } from '../policy/promotion-check.js';
import { closedWindow, describeWindow } from '../schedule/window.js';
import { isDue, schedules } from './due.js';
import type { SecretResult } from './result.js';
import type { Session } from './session.js';

/** What a `rotate` invocation acts on: named secrets, or `--due`/`--all` picked from the schedule. */
export interface Selection {
  /** Secrets whose grace period has ended: their old value is retired. */
  retire: string[];
  rotate: string[];
  skipped: SecretResult[];
}

/** Which secrets: `ids` (already checked against the config), or every due one (`due`) or every one (`all`). */
export interface SelectionRequest {
  ids: string[];
  due: boolean;
  all: boolean;
}

/**
 * The named secrets, or those the schedule picks: a grace period that ended is retired; a secret absent from the
 * target, not due, or due outside its rotation window (`--due`) is skipped with a note saying why.
 */
export async function select(session: Session, request: SelectionRequest, localTime: (iso: string) => string): Promise<Selection> {
  if (request.ids.length > 0) return { retire: [], rotate: request.ids, skipped: [] };
  const selection: Selection = { retire: [], rotate: [], skipped: [] };
  const now = session.deps.now();
  for (const { id, config, schedule: s } of await schedules(session)) {
    const skip = (note: string) =>
      selection.skipped.push({ secret: id, kind: config.kind, status: 'skipped', note, checks: [], facts: {}, envKeys: [], steps: [] });
    if (s.state === 'retire-due') selection.retire.push(id);
    else if (s.state === 'absent') skip(`not in ${session.target.description}`);
    else if (request.due && isDue(s) && closedWindow(session.config.window, config, now)) {
      // Cron's run outside the team's window: the secret stays due, the next run inside the window rotates it.
      skip(`due, waiting for the window (${describeWindow(closedWindow(session.config.window, config, now)!)})`);
    } else if (request.all || isDue(s)) selection.rotate.push(id);
    else skip(s.nextDue ? `not due until ${localTime(s.nextDue)}` : 'not due');
  }
  if (request.due && !session.options.emergency) await holdAtClosedGates(session, selection);
  return selection;
}

/**
 * Cron's run of a due secret whose promotion gate is closed: the secret stays due (status --check says so once it is
 * overdue) and waits for its staging rotation, while the other due secrets rotate. A named rotation is refused instead.
 */
async function holdAtClosedGates(session: Session, selection: Selection): Promise<void> {
  const gated = selection.rotate.filter((id) => session.config.secrets[id]?.promotion ?? session.config.promotion);
  if (gated.length === 0) return;
  for (const [id, decision] of await promotionDecisions(session, gated)) {
    if (decision.state !== 'closed' && decision.state !== 'unknown-environment') continue;
    selection.rotate = selection.rotate.filter((other) => other !== id);
    const kind = session.config.secrets[id]!.kind;
    const note = `due, waiting for the promotion gate: ${describeGate(decision, id).text}`;
    selection.skipped.push({ secret: id, kind, status: 'skipped', note, checks: [], facts: {}, envKeys: [], steps: [] });
  }
}
