import { Command } from 'commander';
import * as z from 'zod/mini';
import { ExitCode, usageError } from '../errors.js';
import { lazy } from '../lazy.js';
import { whileChanging } from './interrupt.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { resolveSecretIds, withSession } from './session.js';

const optionsSchema = lazy(() => z.extend(globalOptionsSchema(), { apply: z._default(z.boolean(), false) }));

export const setupCommand = defineCommand(
  () =>
    new Command('setup')
      .description('print (or --apply) the one-time setup a strategy needs')
      .argument('<secret>', 'the secret whose strategy needs a one-time layout (database with alternate-roles)')
      .option('--apply', 'run the SQL instead of printing it'),
  optionsSchema,
  (options, args) => setup(args[0] as string, options),
);

/**
 * `rotate setup <secret>`: the one-time layout its kind's strategy needs (PostgreSQL alternate-roles: a NOLOGIN
 * owner role and two login roles). Prints it; `--apply` runs it.
 */
async function setup(secret: string, options: z.output<ReturnType<typeof optionsSchema>>): Promise<number> {
  return withSession(options, {}, async (session) => {
    const [id] = resolveSecretIds(session, [secret]);
    const config = session.config.secrets[id!]!;
    const { loadSetup, kindsWithSetup } = await import('../secrets/index.js');
    const kindSetup = await loadSetup(config);
    if (!kindSetup && kindsWithSetup().includes(config.kind) && 'strategy' in config) {
      // `rotate setup` follows the configured strategy: printing another strategy's SQL would set up roles nothing uses.
      throw usageError(
        'SETUP_NOT_NEEDED',
        `${id} uses strategy ${config.strategy}, which needs no one-time setup; nothing to print or apply`,
        `only strategy alternate-roles has one: set secrets.${id}.strategy to "alternate-roles" first if you mean to switch (docs/secrets/database.md)`,
      );
    }
    if (!kindSetup) {
      throw usageError(
        'SETUP_NOT_NEEDED',
        `${id} is a ${config.kind} secret; only ${kindsWithSetup().join(', ')} secrets have a one-time setup`,
      );
    }
    const ctx = await (await import('../engine/index.js')).rotatorContext(session, id!);
    const { result, text } = options.apply ? await whileChanging(() => kindSetup.apply(ctx)) : kindSetup.describe(ctx);
    return printResult(options, 'setup', ExitCode.ok, { results: [{ secret: id, applied: options.apply, ...result }] }, () => text);
  });
}
