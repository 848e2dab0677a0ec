import { rotationWritesOf } from '../secrets/index.js';
import { keysWritten } from './consent.js';
import { buildContext, keysOf } from './context.js';
import { type PreflightSubject, preflightGate, preflightSecrets, thrownCheck } from './preflight.js';
import type { SecretResult } from './result.js';
import { type Session, secretConfig } from './session.js';
import { hookPointsOf, plannedSteps, type RunShape } from './steps.js';

/**
 * A dry run for a set: the steps each secret would take (the names a real run journals, from steps.ts) and the checks
 * of the one preflight (preflight.ts) that a real rotation takes, so that what fails here is what stops the run.
 * Changes nothing.
 */
export async function planSet(session: Session, ids: readonly string[]): Promise<SecretResult[]> {
  if (ids.length === 0) return [];
  // Env files that disagree are bad input (exit 2), for a dry run as for a rotation.
  const snapshot = await session.target.read(keysOf(session, ids));
  const states = await session.store.readStates();
  const gate = await preflightGate(session, ids, 'dry-run');
  const shape = plannedShape(session, ids);
  const results = new Map<string, SecretResult>();
  const subjects: PreflightSubject[] = [];
  for (const [index, id] of ids.entries()) {
    const config = secretConfig(session, id);
    // The keys a real run writes: no JWT_SECRET_PREVIOUS without a grace period (the kind's keysWritten).
    const base = {
      secret: id,
      kind: config.kind,
      envKeys: keysWritten(config, session.options.emergency),
      steps: plannedSteps(shape, index),
      facts: {},
    };
    try {
      const rotator = await session.deps.loadRotator(config.kind);
      const ctx = buildContext(session, id, states[id], snapshot);
      const operator = session.options.unattended ? rotator.needsOperator?.(ctx) : undefined;
      // Needs a person: the gate's checks still apply (a real run refuses on them first).
      const gateOk = gate.get(id)!.every((c) => c.ok);
      if (operator)
        results.set(id, { ...base, status: gateOk ? 'needs-operator' : 'preflight-failed', checks: gate.get(id)!, note: operator });
      else {
        subjects.push({ id, rotator, ctx });
        results.set(id, { ...base, status: 'planned', checks: gate.get(id)! });
      }
    } catch (error) {
      results.set(id, { ...base, status: 'preflight-failed', checks: [...gate.get(id)!, thrownCheck(error)] });
    }
  }
  const checked = await preflightSecrets(session, subjects, 'dry-run');
  for (const { id } of subjects) {
    const result = results.get(id)!;
    const { checks, facts } = checked.get(id)!;
    result.checks = [...result.checks, ...checks];
    result.facts = facts;
    // A plan whose checks fail is not a plan: say so in the status too, not only in the checks.
    if (!result.checks.every((c) => c.ok)) result.status = 'preflight-failed';
  }
  return ids.map((id) => results.get(id)!);
}

/** The shape a run of `ids` would have, from the kinds and the options: which of the steps (steps.ts) it takes. */
function plannedShape(session: Session, ids: readonly string[]): RunShape {
  const { emergency, restart } = session.options;
  return {
    mode: 'rotate',
    restarts: restart,
    fleet: session.config.fleet !== undefined,
    ...(session.target.delivery ? { converges: true } : {}),
    secrets: ids.map((id) => {
      const config = secretConfig(session, id);
      const writes = rotationWritesOf(config, { emergency });
      return {
        stages: writes.stage,
        retiresNow: emergency || config.graceHours === 0,
        writesOnRetire: writes.onRetire,
        hooks: hookPointsOf(config),
      };
    }),
  };
}
