import * as z from 'zod/mini';
import { envName, intervalDays, nonEmpty, secretFields } from '../../config/fields.js';
import type { SecretKind } from '../types.js';
import { postgresFactSentences } from './facts.js';

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

export const postgresKind: SecretKind<PostgresSecretConfig> = {
  kind: 'postgres',
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
  setup: async () => (await import('./role-setup.js')).alternateRolesSetup,
  describeFacts: postgresFactSentences,
};
