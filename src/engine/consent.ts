// What a person is told before saying yes: where the values change, what each secret's rotation costs the people and
// processes using it, and what restarts. From the config alone (nothing is read or asked before consent), in the
// words the dry run uses for the same facts.
import type { SecretConfig } from '../config/schema.js';
import { counted } from '../secrets/facts.js';
import { envKeysOf, rotationWritesOf } from '../secrets/index.js';
import { servicesOf } from './preflight.js';
import { type Session, secretConfig } from './session.js';

/** The cost of rotating one secret, one sentence each (who is logged out, what is refused until when). */
function costOf(config: SecretConfig, services: readonly string[]): string[] {
  const until = services.length ? `until ${services.join(', ')} restart` : 'until the processes that read it restart';
  switch (config.kind) {
    case 'jwt':
      return [
        config.graceHours > 0
          ? `tokens signed with the old secret stay valid for ${counted(config.graceHours, 'hour')} (grace): nobody is logged out`
          : 'every signed-in user is logged out: tokens signed with the old secret are refused once the new one is verified (no grace period)',
      ];
    case 'exchange-key': {
      const tables = config.tables.map((t) => t.table).join(', ');
      return [
        `every encrypted value in ${tables} is re-encrypted (${config.commit === 'once' ? 'one transaction: writers of those rows wait until it commits' : `batches of ${config.batchSize}, each committed`})`,
        `a process that reads only ${config.env} cannot read the re-encrypted rows ${until} (the app given both keys reads either)`,
      ];
    }
    case 'postgres':
      return [
        config.strategy === 'alternate-roles'
          ? 'the app moves to the idle login role; the old role keeps working until it is retired: no login is refused'
          : `new database logins with the old password are refused from the password change ${until}; open connections stay`,
      ];
    case 'redis':
      return [
        config.strategy === 'acl'
          ? 'old and new Redis passwords both work until the new one is verified: no login is refused'
          : `new Redis connections with the old password are refused from the change ${until}; open connections stay`,
      ];
    case 'stripe':
      return [
        'a new secret key, rolled in the Stripe Dashboard, is handed in first (the old one stays valid until the expiry chosen there)',
        ...(config.webhook ? ['the webhook endpoint is replaced by a copy with a new signing secret'] : []),
      ];
    default:
      return [];
  }
}

/** The keys a run writes for this secret: not the grace key when there is no grace, nor staging keys a kind skips. */
export function keysWritten(config: SecretConfig, emergency: boolean): string[] {
  const keys = envKeysOf(config);
  const writes = rotationWritesOf(config, { emergency });
  if (config.kind === 'jwt' && config.graceHours === 0 && !writes.onRetire)
    return keys.filter((k) => !k.endsWith('_PREVIOUS') && k !== config.previousEnv);
  return keys;
}

/** The plan shown before the question (stderr, a terminal): one block per secret, then the restarts and where. */
export function consentPlan(session: Session, ids: readonly string[]): string[] {
  const lines: string[] = [];
  const kube = (session.target as { clients?: { server?: string; context?: string } }).clients;
  lines.push(
    `in ${session.target.description}${kube?.server ? ` on cluster ${kube.server}${kube.context ? `, context ${kube.context}` : ''}` : ''}:`,
  );
  for (const id of ids) {
    const config = secretConfig(session, id);
    const services = session.options.restart ? config.services : [];
    lines.push(`  ${id} (${config.kind}): writes ${keysWritten(config, Boolean(session.options.emergency)).join(', ')}`);
    for (const cost of session.options.restart ? costOf(config, services) : []) lines.push(`    ${cost}`);
  }
  const restarts = servicesOf(session, ids);
  lines.push(
    session.options.restart
      ? `  restarts ${restarts.length ? restarts.join(', ') : 'no service'}, then verifies and retires the old values`
      : '  --no-restart: no service restarts and the old values stay valid',
  );
  return lines;
}
