import { envKeysOf } from '../secrets/index.js';
import { check } from '../secrets/types.js';
import { buildContext } from './context.js';
import { errorInfo, type SecretResult } from './result.js';
import { type Session, secretConfig } from './session.js';

/** A dry run for one secret: the steps it would take and every read-only preflight check. Changes nothing. */
export async function planSecret(session: Session, id: string): Promise<SecretResult> {
  const config = secretConfig(session, id);
  const state = (await session.store.readStates())[id];
  const services = session.options.restart ? config.services : [];
  const grace = config.graceHours > 0 && !session.options.emergency;
  const steps = [
    'preflight',
    'generate',
    'apply',
    'write-env',
    ...(services.length ? [`restart ${services.join(', ')}`] : []),
    'verify',
    grace ? `retire after ${config.graceHours}h` : 'retire',
    'record',
  ];
  const base = { secret: id, kind: config.kind, envKeys: envKeysOf(config), steps, facts: {} };
  try {
    const rotator = await session.deps.loadRotator(config.kind);
    const ctx = await buildContext(session, id, state);
    const operator = session.options.unattended ? rotator.needsOperator?.(ctx) : undefined;
    if (operator) return { ...base, status: 'needs-operator', checks: [], note: operator };
    const preflight = await rotator.preflight(ctx);
    const pending = (await session.store.readJournals()).find((j) => j.secret === id);
    const checks = [
      ...(pending
        ? [
            check(
              'no interrupted run is pending',
              false,
              `${pending.mode} run ${pending.runId} from ${pending.host}`,
              'run `rotate resume` first',
            ),
          ]
        : []),
      ...preflight.checks,
    ];
    for (const name of services) {
      const service = session.config.services[name]!;
      checks.push(check(`service ${name} has a restart command`, Boolean(service.restart), undefined, `add services.${name}.restart`));
      if (service.health) checks.push(await reachable(session, name, service.health.url));
    }
    return { ...base, status: 'planned', checks, facts: preflight.facts ?? {} };
  } catch (error) {
    const info = errorInfo(error);
    return { ...base, status: 'planned', checks: [check('preflight', false, info.message, info.hint)] };
  }
}

async function reachable(session: Session, name: string, url: string) {
  try {
    const response = await session.deps.fetch(url, { signal: AbortSignal.timeout(5000) });
    await response.body?.cancel();
    return check(
      `service ${name} is healthy`,
      response.ok,
      `${url} answered ${response.status}`,
      `start ${name} or fix services.${name}.health.url`,
    );
  } catch (error) {
    return check(
      `service ${name} is healthy`,
      false,
      `${url}: ${(error as Error).message}`,
      `start ${name} or fix services.${name}.health.url`,
    );
  }
}
