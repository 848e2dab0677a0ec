import { type PostgresUrl, refuseUnsafeRoleName } from '../../connection/postgres-url.js';
import { RotateError } from '../../errors.js';
import type { OneTimeSetup } from '../types.js';
import { adminUrl, appUrl, type Ctx } from './credentials.js';
import { type Client, connectError, ident, literal, withClient } from './db.js';
import type { PostgresSecretConfig } from './kind.js';

/** The alternate-roles layout: two LOGIN roles that are members of the NOLOGIN role owning the app's objects. */
export interface AlternateRoles {
  owner: string;
  logins: [string, string];
}

const SUFFIXES = ['_blue', '_green'] as const;

/**
 * The roles of a secret: `secrets.<id>.roles` when configured; otherwise the app's current role is the owner (before
 * the first rotation) or one of `<owner>_blue` / `<owner>_green` (after it).
 */
export function rolesOf(ctx: Ctx, appUser: string): AlternateRoles {
  if (ctx.config.roles) {
    const { owner, logins } = ctx.config.roles;
    for (const name of [owner, ...logins]) refuseUnsafeRoleName(name, `secrets.${ctx.id}.roles`);
    return { owner, logins };
  }
  const suffix = SUFFIXES.find((s) => appUser.endsWith(s) && appUser.length > s.length);
  const owner = suffix ? appUser.slice(0, -suffix.length) : appUser;
  return { owner, logins: [`${owner}${SUFFIXES[0]}`, `${owner}${SUFFIXES[1]}`] };
}

/** The roles for `rotate setup <id>`, from the config and the env file's URL. */
export const setupRolesOf = (ctx: Ctx): AlternateRoles => rolesOf(ctx, appUrl(ctx).user);

/**
 * The one-time setup SQL, safe to run twice. The owner keeps owning every object (nothing is reassigned); the two
 * login roles act as the owner (`SET role`), so objects they create (migrations) belong to the owner too. The app
 * keeps working as the owner until the first rotation moves it to a login role and makes the owner NOLOGIN.
 */
export function roleSetupSql(roles: AlternateRoles, id: string): string {
  const names = [roles.owner, ...roles.logins];
  if (new Set(names).size !== 3) {
    throw new RotateError('POSTGRES_ROLES_INVALID', 'the owner and the two login roles must be three different roles', {
      hint: `Check secrets.${id}.roles.`,
    });
  }
  const tag = '$rotate_setup$';
  if (names.some((name) => name.includes('$'))) {
    throw new RotateError('POSTGRES_ROLES_INVALID', 'role names with `$` are not supported by the setup', {
      hint: `Choose role names without \`$\` in secrets.${id}.roles.`,
    });
  }
  for (const name of names) refuseUnsafeRoleName(name, `secrets.${id}.roles or the URL of secret ${id}`);
  const owner = ident(roles.owner);
  // Role names appear only as quoted identifiers and literals, never in a `--` comment: a name is data, not text.
  const lines = [
    '-- rotate: one-time setup of the alternate-roles strategy (the owner role and two login roles below).',
    '-- Run as a superuser, or as a CREATEROLE role with ADMIN OPTION on the owner. Safe to run twice.',
    '-- The owner keeps owning its tables. The login roles get no password here: each rotation gives the idle one a',
    "-- new password and VALID UNTIL 'infinity', and expires the other once the app has moved over.",
    `DO ${tag}`,
    'BEGIN',
  ];
  for (const login of roles.logins) {
    lines.push(
      `  IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = ${literal(login)}) THEN`,
      `    CREATE ROLE ${ident(login)} LOGIN INHERIT;`,
      '  END IF;',
    );
  }
  lines.push('END', `${tag};`);
  for (const login of roles.logins) {
    lines.push(
      `GRANT ${owner} TO ${ident(login)};`,
      '-- Sessions of this login role act as the owner: new tables belong to the owner, readable by both login roles.',
      `ALTER ROLE ${ident(login)} SET role = ${literal(roles.owner)};`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Applies the setup with the admin URL (or the app's URL when none is configured). */
export async function applyRoleSetup(ctx: Ctx): Promise<{ roles: AlternateRoles; sql: string }> {
  const roles = setupRolesOf(ctx);
  const sql = roleSetupSql(roles, ctx.id);
  const target: PostgresUrl = adminUrl(ctx) ?? appUrl(ctx);
  const run = async (client: Client): Promise<void> => {
    await client.query('BEGIN');
    try {
      await client.query(sql);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK').catch(() => {});
      throw error;
    }
  };
  try {
    await withClient(target, run);
  } catch (error) {
    throw connectError(
      'POSTGRES_SETUP_FAILED',
      'the alternate-roles setup failed',
      error,
      `Run it as a superuser or a CREATEROLE role: set secrets.${ctx.id}.adminUrlEnv, or print the SQL with \`rotate setup ${ctx.id}\` and run it with psql.`,
    );
  }
  ctx.deps.log.info(`alternate-roles setup applied: ${roles.logins.join(', ')} act as ${roles.owner}`);
  return { roles, sql };
}

const asResult = (roles: AlternateRoles, sql: string) => ({ roles: { owner: roles.owner, logins: [...roles.logins] }, sql });

/** `rotate setup <id>` for the alternate-roles strategy: the SQL to read (or run with psql), or applied. */
export const alternateRolesSetup: OneTimeSetup<PostgresSecretConfig> = {
  describe(ctx) {
    const roles = setupRolesOf(ctx);
    const sql = roleSetupSql(roles, ctx.id);
    return { result: asResult(roles, sql), text: sql };
  },
  async apply(ctx) {
    const { roles, sql } = await applyRoleSetup(ctx);
    return {
      result: asResult(roles, sql),
      text: `applied: ${roles.logins.join(' and ')} log in as members of ${roles.owner}, which owns the tables`,
    };
  },
};
