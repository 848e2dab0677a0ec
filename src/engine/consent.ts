// What a person is told before saying yes: where the values change, what each secret's rotation costs the people and
// processes using it, and what restarts. From the config, and from cheap read-only counts a kind makes (the rows an
// exchange key re-encrypts), in the words the dry run uses for the same facts.
import type { SecretConfig } from '../config/schema.js';
import { consentCostsOf, keysWrittenOf } from '../secrets/index.js';
import { buildContext, keysOf } from './context.js';
import { servicesOf } from './preflight.js';
import { errorInfo } from './result.js';
import { type Session, secretConfig } from './session.js';

/** The keys a run writes for this secret (its kind's `keysWritten`): no grace key when there is no grace. */
export const keysWritten = (config: SecretConfig, emergency: boolean): string[] => keysWrittenOf(config, { emergency });

/** The plan shown before the question (stderr, a terminal): one block per secret, then the restarts and where. */
export function consentPlan(session: Session, ids: readonly string[], counts: ReadonlyMap<string, string[]> = new Map()): string[] {
  const lines: string[] = [];
  const kube = (session.target as { clients?: { server?: string; context?: string } }).clients;
  lines.push(
    `in ${session.target.description}${kube?.server ? ` on cluster ${kube.server}${kube.context ? `, context ${kube.context}` : ''}` : ''}:`,
  );
  for (const id of ids) {
    const config = secretConfig(session, id);
    const services = session.options.restart ? config.services : [];
    lines.push(`  ${id} (${config.kind}): writes ${keysWritten(config, Boolean(session.options.emergency)).join(', ')}`);
    const until = services.length ? `until ${services.join(', ')} restart` : 'until the processes that read it restart';
    // Each kind words its own cost (its kind.ts): a new kind adds its sentences there.
    for (const cost of session.options.restart ? consentCostsOf(config, { services, until }) : []) lines.push(`    ${cost}`);
    for (const count of counts.get(id) ?? []) lines.push(`    ${count}`);
  }
  const restarts = servicesOf(session, ids);
  lines.push(
    session.options.restart
      ? `  restarts ${restarts.length ? restarts.join(', ') : 'no service'}, then verifies and retires the old values`
      : '  --no-restart: no service restarts and the old values stay valid',
  );
  return lines;
}

/**
 * What the kinds count before consent (Rotator.consentCounts: read-only, cheap), by secret id; a count that cannot be
 * made is said as such, never a reason to stop: the preflight after consent checks the same place and stops there.
 */
export async function consentCounts(session: Session, ids: readonly string[]): Promise<Map<string, string[]>> {
  const counts = new Map<string, string[]>();
  let snapshot: Awaited<ReturnType<Session['target']['read']>> | undefined;
  for (const id of ids) {
    const rotator = await session.deps.loadRotator(secretConfig(session, id).kind);
    if (!rotator.consentCounts) continue;
    try {
      snapshot ??= await session.target.read(keysOf(session, ids));
      counts.set(id, await rotator.consentCounts(buildContext(session, id, undefined, snapshot)));
    } catch (error) {
      counts.set(id, [`not counted before asking: ${errorInfo(error).message}`]);
    }
  }
  return counts;
}
