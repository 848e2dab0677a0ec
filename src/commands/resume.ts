import * as z from 'zod/mini';
import { exitCodeOf, type SecretResult } from '../engine/result.js';
import { resumeJournal } from '../engine/resume.js';
import { jsonDocument, printStdout, renderResults } from '../terminal/render.js';
import { globalOptionsSchema, openSession, parseOptions } from './session.js';

const optionsSchema = z.extend(globalOptionsSchema, { restart: z._default(z.boolean(), true) });

/** `rotate resume`: finish (if it had verified) or undo every run that was interrupted. */
export async function resumeCommand(raw: unknown): Promise<number> {
  const options = parseOptions(optionsSchema, raw);
  const session = await openSession(options, { restart: options.restart });
  try {
    const lock = await session.store.acquireLock('resume');
    try {
      const results: SecretResult[] = [];
      for (const journal of await session.store.readJournals()) {
        session.options.emergency = journal.emergency;
        results.push(await resumeJournal(session, journal));
      }
      const code = exitCodeOf(results);
      if (options.json) printStdout(jsonDocument('resume', code, { results }));
      else printStdout(results.length ? renderResults(results, session.deps.environment) : 'nothing to resume');
      return code;
    } finally {
      await lock.release();
    }
  } finally {
    await session.store.close();
  }
}
