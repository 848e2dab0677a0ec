import type { Check, JsonValue } from '../core-types.js';
import { ERROR_CODES, ExitCode, RotateError } from '../errors.js';
import type { Rotator, RotatorContext } from '../secrets/types.js';
import { preflightServices } from '../services/restart.js';
import { checkCount, traced } from '../trace.js';
import { failedChecks } from './checks.js';
import { keysOf } from './context.js';
import { copyChecks } from './copies.js';
import { type Session, secretConfig } from './session.js';

/**
 * The one preflight path: a run (`pipeline.ts`) and a dry run (`plan.ts`) check a set through these functions, so
 * that what a dry run passes a run passes too. All read-only.
 */

/** The services a set restarts, each once, in the order the set names them. */
export const servicesOf = (session: Session, ids: readonly string[]): string[] =>
  session.options.restart ? [...new Set(ids.flatMap((id) => secretConfig(session, id).services))] : [];

/**
 * The target's checks for a set (it exists, rotate may write it, nobody else may), with its warnings said on stderr
 * (a world-readable env file, a value written as `${OTHER}`, a managed key in plaintext in an encrypted file).
 */
export async function preflightTarget(session: Session, ids: readonly string[]): Promise<Check[]> {
  const { checks, warnings } = await session.target.preflight(keysOf(session, ids));
  for (const warning of warnings) session.deps.log.warn(warning);
  return checks;
}

/** Checks of the run as a whole: the target's (given when the run checked it already) and the services'. */
export async function preflightSet(session: Session, ids: readonly string[], targetChecks?: Check[]): Promise<Check[]> {
  return traced(
    `engine: preflight of the set (${ids.join(', ')}): target and services`,
    async () => [
      ...(targetChecks ?? (await preflightTarget(session, ids))),
      ...(await preflightServices(servicesOf(session, ids), session.config, session.deps)),
    ],
    checkCount,
  );
}

/** One secret's checks: its rotator's preflight, the copies of its value under other keys, and the set's checks. */
export async function preflightSecret(
  session: Session,
  secret: { id: string; rotator: Rotator; ctx: RotatorContext },
  setChecks: Check[],
): Promise<{ checks: Check[]; facts: Record<string, JsonValue> }> {
  const preflight = await traced(
    `engine: preflight ${secret.id}`,
    () => secret.rotator.preflight(secret.ctx),
    (p) => checkCount(p.checks),
  );
  return {
    checks: [...preflight.checks, ...copyChecks(session, secret.id, secret.ctx.env), ...setChecks],
    facts: preflight.facts ?? {},
  };
}

/**
 * A failing check that stands for bad usage or config (its code is registered with exit 2: a world-writable env
 * file, an unlisted copy, a missing Kubernetes right) stops a run as that error, before anything changes; a dry
 * run shows it as a failed check instead.
 */
export function assertNoUsageProblem(what: string, checks: readonly Check[]): void {
  const bad = failedChecks(checks).find((check) => check.code && ERROR_CODES[check.code].exit === ExitCode.usage);
  if (bad?.code) {
    throw new RotateError(bad.code, `${what}: ${bad.name}${bad.detail ? ` (${bad.detail})` : ''}; nothing was changed`, {
      ...(bad.hint ? { hint: bad.hint } : {}),
    });
  }
}
