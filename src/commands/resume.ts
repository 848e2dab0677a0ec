import { Command } from 'commander';
import * as z from 'zod/mini';
import { lazy } from '../lazy.js';
import { renderResults } from '../terminal/render.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { withSession } from './session.js';

const optionsSchema = lazy(() => z.extend(globalOptionsSchema(), { restart: z._default(z.boolean(), true) }));

export const resumeCommand = defineCommand(
  () =>
    new Command('resume')
      .description('finish or undo a rotation that was interrupted (crash, kill, power loss)')
      .option('--no-restart', "do not run the services' restart commands"),
  optionsSchema,
  resume,
);

/** `rotate resume`: finish (if it had verified) or undo every run that was interrupted. */
async function resume(options: z.output<ReturnType<typeof optionsSchema>>): Promise<number> {
  const [engine, { factSentences }] = await Promise.all([import('../engine/index.js'), import('../secrets/index.js')]);
  return withSession(options, { restart: options.restart }, async (session) => {
    const { results, code } = await engine.resume(session);
    return printResult(options, 'resume', code, { results }, () =>
      results.length ? renderResults(results, session.deps.environment, factSentences) : 'nothing to resume',
    );
  });
}
