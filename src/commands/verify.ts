import { Command } from 'commander';
import { renderResults } from '../terminal/render.js';
import { defineCommand, type GlobalOptions, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { resolveSecretIds, withSession } from './session.js';

export const verifyCommand = defineCommand(
  () =>
    new Command('verify')
      .description(
        'run the verification checks against the current values; change nothing (after a --no-restart rotation, a pass records that it is applied)',
      )
      .argument('[secret...]', 'secrets to check (default: all present in the env file)'),
  globalOptionsSchema,
  (options, args) => verify(args[0] as string[], options),
);

/** `rotate verify`: the verification checks against the current values; changes nothing. */
async function verify(names: string[], options: GlobalOptions): Promise<number> {
  const [engine, { factSentences }] = await Promise.all([import('../engine/index.js'), import('../secrets/index.js')]);
  return withSession(options, { envFile: 'required', names: { secrets: names } }, async (session) => {
    const { results, code } = await engine.verify(session, names.length ? resolveSecretIds(session, names) : []);
    return printResult(options, 'verify', code, { results }, () => renderResults(results, session.deps.environment, factSentences));
  });
}
