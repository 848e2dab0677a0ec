import * as z from 'zod/mini';
import type { PostgresSecretConfig } from '../config/schema.js';
import { buildContext } from '../engine/context.js';
import { ExitCode, usageError } from '../errors.js';
import type { RotatorContext } from '../secrets/types.js';
import { jsonDocument, printStdout } from '../terminal/render.js';
import { globalOptionsSchema, openSession, parseOptions, resolveSecretIds } from './session.js';

const optionsSchema = z.extend(globalOptionsSchema, { apply: z._default(z.boolean(), false) });

/**
 * `rotate setup <secret>`: the one-time layout a strategy needs. For PostgreSQL alternate-roles: a NOLOGIN owner
 * role and two login roles. Prints the SQL; `--apply` runs it.
 */
export async function setupCommand(secret: string, raw: unknown): Promise<number> {
  const options = parseOptions(optionsSchema, raw);
  const session = await openSession(options);
  try {
    const [id] = resolveSecretIds(session, [secret]);
    const config = session.config.secrets[id!]!;
    if (config.kind !== 'postgres') {
      throw usageError('SETUP_NOT_NEEDED', `${id} is a ${config.kind} secret; only postgres secrets have a one-time setup`);
    }
    const ctx = (await buildContext(session, id!, undefined)) as RotatorContext<PostgresSecretConfig>;
    const { applyRoleSetup, roleSetupSql, setupRolesOf } = await import('../secrets/postgres/index.js');
    if (!options.apply) {
      const roles = setupRolesOf(ctx);
      const sql = roleSetupSql(roles);
      if (options.json) printStdout(jsonDocument('setup', ExitCode.ok, { secret: id, applied: false, roles, sql }));
      else printStdout(sql);
      return ExitCode.ok;
    }
    const { roles, sql } = await applyRoleSetup(ctx);
    if (options.json) printStdout(jsonDocument('setup', ExitCode.ok, { secret: id, applied: true, roles, sql }));
    else printStdout(`applied: ${roles.logins.join(' and ')} log in as members of ${roles.owner}, which owns the tables`);
    return ExitCode.ok;
  } finally {
    await session.store.close();
  }
}
