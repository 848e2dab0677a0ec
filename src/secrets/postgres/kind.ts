import * as z from 'zod/mini';
import { envName, intervalDays, nonEmpty, secretFields } from '../../config/fields.js';
import { counted, countOf, type Facts, type FactsMoment, flagOf, listed, textOf, textsOf } from '../facts.js';
import type { SecretKind } from '../types.js';

// A newline in a role name would start a line of its own in SQL and logs (src/connection/postgres-url.ts).
const roleName = () =>
  nonEmpty().check(z.refine((name) => !/[\u0000-\u001f\u007f-\u009f]/.test(name), 'a role name cannot hold a control character'));

export const postgresSecretSchema = z.strictObject({
  kind: z.literal('postgres'),
  env: z._default(envName, 'DATABASE_URL'),
  ...secretFields,
  intervalDays: intervalDays(90),
  strategy: z._default(z.enum(['alter-password', 'alternate-roles']), 'alter-password'),
  /** Name of an environment variable holding an admin connection URL (never the URL itself). */
  adminUrlEnv: z.optional(envName),
  alsoUpdate: z._default(z.array(envName), []),
  /** alternate-roles: the two login roles and the NOLOGIN role that owns the app's objects. */
  roles: z.optional(
    z.strictObject({
      owner: roleName(),
      logins: z.tuple([roleName(), roleName()]),
    }),
  ),
});

export type PostgresSecretConfig = z.output<typeof postgresSecretSchema>;

// The database secret's facts: the role and strategy its preflight finds, the roles its rotation moves between, and
// the sentences a person reads for them. `postgresFacts` (credentials.ts) reads the ones later steps need back.

/** What the preflight records (the plan); the strategy adds its own (changedBy, or owner/activeRole/nextRole). */
export type PostgresPlanFacts = {
  role: string;
  /** user@host:port/database (describeTarget), never a password. */
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
  // The target names the role too (`app@db:5432/app`): the sentence names it once.
  const target = textOf(facts.target)?.replace(/^[^@]*@/, '');
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

export const postgresKind: SecretKind<PostgresSecretConfig> = {
  kind: 'postgres',
  descriptions: {
    roles: 'alternate-roles: the NOLOGIN role that owns the tables and the two login roles that take turns.',
    'roles.owner': 'The NOLOGIN role that owns the app objects.',
    'roles.logins': 'The two login roles, members of owner; each rotation switches DATABASE_URL to the other.',
  },
  ids: ['database', 'postgres'],
  // POSTGRES_PASSWORD: the database container's copy of the password (absent from the target: skipped).
  builtIn: { id: 'database', config: { alsoUpdate: ['POSTGRES_PASSWORD'] } },
  starter: {
    description:
      'password of the role in DATABASE_URL; set ROTATE_DATABASE_ADMIN_URL in the environment, or remove adminUrlEnv to let the role change its own',
    env: 'DATABASE_URL',
    intervalDays: 90,
    services: ['backend'],
    strategy: 'alter-password',
    adminUrlEnv: 'ROTATE_DATABASE_ADMIN_URL',
    alsoUpdate: ['POSTGRES_PASSWORD'],
  },
  load: async () => (await import('./index.js')).postgresRotator,
  envKeys: (config) => [config.env, ...config.alsoUpdate],
  credentialEnvNames: (config) => (config.adminUrlEnv ? [config.adminUrlEnv] : []),
  // Only alternate-roles has a one-time layout; alter-password changes the app's own role and needs none.
  setup: async (config) => (config.strategy === 'alternate-roles' ? (await import('./role-setup.js')).alternateRolesSetup : undefined),
  describeFacts: postgresFactSentences,
  consentCosts: (config, run) => [
    config.strategy === 'alternate-roles'
      ? 'the app moves to the idle login role; the old role keeps working until it is retired: no login is refused'
      : `new database logins with the old password are refused from the password change ${run.until}; open connections stay`,
  ],
};
