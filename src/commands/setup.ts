import { Command } from 'commander';
import * as z from 'zod/mini';
import type { PostgresSecretConfig } from '../config/schema.js';
import { ExitCode, usageError } from '../errors.js';
import type { RotatorContext } from '../secrets/types.js';
import { type ActionRunner, commandOptions, globalOptionsSchema, parseOptions, withGlobalOptions } from './options.js';
import { printResult } from './output.js';
import { resolveSecretIds, withSession } from './session.js';

const optionsSchema = z.extend(globalOptionsSchema, { apply: z._default(z.boolean(), false) });

export function setupCommand(run: ActionRunner): Command {
  return withGlobalOptions(
    new Command('setup')
      .description('print (or --apply) the one-time setup a strategy needs')
      .argument('<secret>', 'the secret whose strategy needs a one-time layout (database with alternate-roles)')
      .option('--apply', 'run the SQL instead of printing it'),
  ).action(run((command) => setup(command.processedArgs[0] as string, parseOptions(optionsSchema, commandOptions(command)))));
}

/**
 * `rotate setup <secret>`: the one-time layout a strategy needs. For PostgreSQL alternate-roles: a NOLOGIN owner
 * role and two login roles. Prints the SQL; `--apply` runs it.
 */
async function setup(secret: string, options: z.output<typeof optionsSchema>): Promise<number> {
  return withSession(options, {}, async (session) => {
    const [id] = resolveSecretIds(session, [secret]);
    const config = session.config.secrets[id!]!;
    if (config.kind !== 'postgres') {
      throw usageError('SETUP_NOT_NEEDED', `${id} is a ${config.kind} secret; only postgres secrets have a one-time setup`);
    }
    const { buildContext } = await import('../engine/context.js');
    const ctx = buildContext(session, id!, undefined, await session.target.read()) as RotatorContext<PostgresSecretConfig>;
    const { applyRoleSetup, roleSetupSql, setupRolesOf } = await import('../secrets/postgres/index.js');
    if (!options.apply) {
      const roles = setupRolesOf(ctx);
      const sql = roleSetupSql(roles, ctx.id);
      return printResult(options, 'setup', ExitCode.ok, { results: [{ secret: id, applied: false, roles, sql }] }, () => sql);
    }
    const { roles, sql } = await applyRoleSetup(ctx);
    return printResult(
      options,
      'setup',
      ExitCode.ok,
      { results: [{ secret: id, applied: true, roles, sql }] },
      () => `applied: ${roles.logins.join(' and ')} log in as members of ${roles.owner}, which owns the tables`,
    );
  });
}
