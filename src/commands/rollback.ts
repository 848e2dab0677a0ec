import { Command } from 'commander';
import * as z from 'zod/mini';
import { lazy } from '../lazy.js';
import { confirm } from '../terminal/confirm.js';
import { renderResults } from '../terminal/render.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { resolveSecretIds, withSession } from './session.js';

const optionsSchema = lazy(() =>
  z.extend(globalOptionsSchema(), {
    yes: z._default(z.boolean(), false),
    restart: z._default(z.boolean(), true),
  }),
);

export const rollbackCommand = defineCommand(
  () =>
    new Command('rollback')
      .description('put back the previous value (env file and provider), verify, record it')
      .argument('<secret>', 'the secret to put back')
      .option('-y, --yes', 'do not ask for confirmation on a terminal')
      .option('--no-restart', "do not run the services' restart commands"),
  optionsSchema,
  (options, args) => rollback(args[0] as string, options),
);

/** `rotate rollback <secret>`: back to the value the last rotation replaced, verified and recorded. */
async function rollback(secret: string, options: z.output<ReturnType<typeof optionsSchema>>): Promise<number> {
  const [engine, { factSentences }] = await Promise.all([import('../engine/index.js'), import('../secrets/index.js')]);
  return withSession(
    options,
    { restart: options.restart, consent: { yes: options.yes, command: `rotate rollback ${secret}` } },
    async (session) => {
      const [id] = resolveSecretIds(session, [secret]) as [string];
      const { results, code } = await engine.rollback(session, id, (question) => confirm(question, options.yes));
      return printResult(options, 'rollback', code, { results }, () => renderResults(results, session.deps.environment, factSentences));
    },
  );
}
