import { fetchErrorText } from '../connection/fetch-error.js';
import { type Check, check } from '../core-types.js';
import { NO_REDIRECT, redirectText } from '../http/redirect.js';
import { promotionCheck } from '../policy/promotion-check.js';
import { rotationWritesOf } from '../secrets/index.js';
import { serviceInstances } from '../services/instances.js';
import type { HistoryEntry, SecretState, StoredJournal } from '../store/types.js';
import { journalSecretIds } from '../store/types.js';
import type { TargetSnapshot } from '../target/types.js';
import { safeUrl } from '../trace.js';
import { keysWritten } from './consent.js';
import { buildContext, keysOf } from './context.js';
import { nameAServiceFix } from './pipeline.js';
import { preflightSecret, preflightSet } from './preflight.js';
import { errorInfo, type SecretResult } from './result.js';
import { type Session, secretConfig } from './session.js';
import { hookPointsOf, plannedSteps, type RunShape } from './steps.js';

/**
 * A dry run for a set: the steps each secret would take (the names a real run journals, from steps.ts) and every
 * read-only preflight check. Changes nothing.
 */
export async function planSet(session: Session, ids: readonly string[]): Promise<SecretResult[]> {
  if (ids.length === 0) return [];
  // Env files that disagree are bad input (exit 2), for a dry run as for a rotation.
  const snapshot = await session.target.read(keysOf(session, ids));
  const [states, journals, history] = await Promise.all([
    session.store.readStates(),
    session.store.readJournals(),
    session.store.readHistory(),
  ]);
  // The same preflight as a run's (preflight.ts), the target's warnings included.
  const setChecks = await preflightSet(session, ids);
  const shape = plannedShape(session, ids);
  const results: SecretResult[] = [];
  for (const [index, id] of ids.entries()) {
    const pending = journals.find((j) => journalSecretIds(j).includes(id));
    results.push(
      await planSecret(session, id, states[id], snapshot, pendingCheck(pending), setChecks, plannedSteps(shape, index), history),
    );
  }
  return results;
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

function pendingCheck(pending: StoredJournal | undefined): Check[] {
  if (!pending) return [];
  return [
    check(
      'no-pending-run',
      'no interrupted run is pending',
      false,
      `${pending.mode} run ${pending.runId} from ${pending.host}`,
      'run `rotate resume` first',
    ),
  ];
}

async function planSecret(
  session: Session,
  id: string,
  state: SecretState | undefined,
  snapshot: TargetSnapshot,
  pending: Check[],
  setChecks: Check[],
  steps: string[],
  history: readonly HistoryEntry[],
): Promise<SecretResult> {
  const config = secretConfig(session, id);
  const services = session.options.restart ? config.services : [];
  // The keys a real run writes: no JWT_SECRET_PREVIOUS without a grace period (engine/consent.ts).
  const base = { secret: id, kind: config.kind, envKeys: keysWritten(config, session.options.emergency), steps, facts: {} };
  try {
    const rotator = await session.deps.loadRotator(config.kind);
    const ctx = buildContext(session, id, state, snapshot);
    const operator = session.options.unattended ? rotator.needsOperator?.(ctx) : undefined;
    if (operator) return { ...base, status: 'needs-operator', checks: [], note: operator };
    const preflight = await preflightSecret(session, { id, rotator, ctx }, setChecks);
    const gate = promotionCheck(session, id, history);
    const checks = [...pending, ...(gate ? [gate] : []), ...preflight.checks];
    // No silent non-delivery: what a real run refuses (exit 2) is a failed check here, so CI catches it (exit 1).
    if (session.options.restart && config.services.length === 0) {
      checks.push(
        check(
          'service-restarts-app',
          'a service restarts the app',
          false,
          `secrets.${id}.services is empty`,
          `${nameAServiceFix(session, id)}; or pass --no-restart`,
        ),
      );
    }
    for (const name of services) {
      const service = session.config.services[name]!;
      // A Kubernetes workload is checked with the set (it exists, rotate may patch it): services/kubernetes.ts.
      if (service.kubernetes) {
        if (service.health) checks.push(await reachable(session, name, service.health.url));
        continue;
      }
      // Each replica of `instances` is checked as its own service: it restarts one at a time after this plan.
      for (const instance of serviceInstances(name, service)) {
        checks.push(
          check(
            'service-restart-command',
            `service ${instance.label} has a restart command`,
            Boolean(instance.restart),
            undefined,
            `add ${instance.path}.restart`,
          ),
        );
        if (instance.health) checks.push(await reachable(session, instance.label, instance.health.url, instance.path));
      }
    }
    // A plan whose checks fail is not a plan: say so in the status too, not only in the checks.
    const status = checks.every((c) => c.ok) ? 'planned' : 'preflight-failed';
    return { ...base, status, checks, facts: preflight.facts };
  } catch (error) {
    const info = errorInfo(error);
    return {
      ...base,
      status: 'preflight-failed',
      checks: [...pending, ...setChecks, check('preflight-error', 'preflight', false, info.message, info.hint)],
    };
  }
}

async function reachable(session: Session, name: string, url: string, path = `services.${name}`) {
  try {
    const response = await session.deps.fetch(url, { ...NO_REDIRECT, signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    const redirect = redirectText(response, url);
    return check(
      'service-healthy',
      `service ${name} is healthy`,
      response.ok && !redirect,
      `${safeUrl(url)} ${redirect ?? `answered ${response.status}`}`,
      `start ${name} or fix ${path}.health.url`,
    );
  } catch (error) {
    return check(
      'service-healthy',
      `service ${name} is healthy`,
      false,
      `${safeUrl(url)}: ${fetchErrorText(error)}`,
      `start ${name} or fix ${path}.health.url`,
    );
  }
}
