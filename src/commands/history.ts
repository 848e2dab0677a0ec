import * as z from 'zod/mini';
import { ExitCode } from '../errors.js';
import { jsonDocument, printStdout, table } from '../terminal/render.js';
import { globalOptionsSchema, openSession, parseOptions, resolveSecretIds } from './session.js';

const optionsSchema = z.extend(globalOptionsSchema, { limit: z.optional(z.coerce.number().check(z.int(), z.positive())) });

export async function historyCommand(secret: string | undefined, raw: unknown): Promise<number> {
  const options = parseOptions(optionsSchema, raw);
  const session = await openSession(options);
  try {
    if (secret) resolveSecretIds(session, [secret]);
    let entries = (await session.store.readHistory()).filter((e) => !secret || e.secret === secret).reverse();
    if (options.limit) entries = entries.slice(0, options.limit);
    if (options.json) {
      printStdout(jsonDocument('history', ExitCode.ok, { entries }));
      return ExitCode.ok;
    }
    if (entries.length === 0) {
      printStdout(secret ? `no history for ${secret}` : 'no history yet');
      return ExitCode.ok;
    }
    printStdout(
      table(
        ['WHEN', 'SECRET', 'ACTION', 'RESULT', 'BY', 'NOTE'],
        entries.map((e) => [
          e.at.replace('T', ' ').slice(0, 19),
          e.secret,
          e.action + (e.emergency ? ' (emergency)' : ''),
          e.result,
          e.actor,
          [e.reason, e.error && `[${e.error.code}] ${e.error.message}`].filter(Boolean).join('; '),
        ]),
      ),
    );
    return ExitCode.ok;
  } finally {
    await session.store.close();
  }
}
