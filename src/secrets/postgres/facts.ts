// The database secret's facts: the role and strategy its preflight finds, the roles its rotation moves between, and
// the sentences a person reads for them. `postgresFacts` (credentials.ts) reads the ones later steps need back.
import { counted, countOf, type Facts, type FactsMoment, flagOf, listed, textOf, textsOf } from '../facts.js';

/** What the preflight records (the plan); the strategy adds its own (changedBy, or owner/activeRole/nextRole). */
export type PostgresPlanFacts = {
  role: string;
  /** host:port/database, never a password. */
  target: string;
  strategy: string;
  readableTables?: number;
  /** How many of the app's tables each role owns. */
  tableOwners?: Record<string, number>;
  changedBy?: string;
  owner?: string;
  activeRole?: string;
  nextRole?: string;
};

function owners(value: Facts[string] | undefined): string[] {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return [];
  return Object.entries(value).flatMap(([role, n]) => (typeof n === 'number' ? [`${role} (${n})`] : []));
}

export function postgresFactSentences(facts: Facts, moment: FactsMoment): string[] {
  const out: string[] = [];
  const role = textOf(facts.role);
  const target = textOf(facts.target);
  if (role) out.push(`the app connects as role ${role}${target ? ` to ${target}` : ''}`);
  const strategy = textOf(facts.strategy);
  const changedBy = textOf(facts.changedBy);
  const activeRole = textOf(facts.activeRole);
  const nextRole = textOf(facts.nextRole);
  if (moment === 'plan' && strategy === 'alter-password') {
    out.push(
      `strategy alter-password: the role's password changes in place${changedBy && changedBy !== role ? `, set by ${changedBy}` : ', set by the role itself'}`,
    );
  } else if (moment === 'plan' && strategy === 'alternate-roles') {
    out.push(
      `strategy alternate-roles: the app moves${activeRole && nextRole ? ` from role ${activeRole} to ${nextRole}` : ' to the idle login role'}`,
    );
  }
  const readable = countOf(facts.readableTables);
  if (readable !== undefined && moment === 'plan')
    out.push(`the role can read ${counted(readable, 'table')}; the new credentials must read as many`);
  const owned = owners(facts.tableOwners);
  if (owned.length && moment === 'plan') out.push(`the app's tables are owned by ${listed(owned)}`);
  const oldUser = textOf(facts.oldUser);
  const newUser = textOf(facts.newUser);
  if (newUser) {
    const restored = flagOf(facts.restored) === true;
    if (oldUser && oldUser !== newUser)
      out.push(
        `${restored ? 'back' : 'moved'} from role ${oldUser} to ${newUser}${restored ? ' and its previous password' : ' with a new password'}`,
      );
    else out.push(restored ? `role ${newUser} gets its previous password back` : `role ${newUser} gets a new password`);
  }
  const copies = textsOf(facts.alsoUpdated);
  if (copies.length) out.push(`${listed(copies)} ${copies.length === 1 ? 'holds' : 'hold'} the new credentials too`);
  return out;
}
