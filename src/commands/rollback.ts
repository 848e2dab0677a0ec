import * as z from 'zod/mini';
import { rotateSecret } from '../engine/pipeline.js';
import { exitCodeOf } from '../engine/result.js';
import { confirm } from '../terminal/confirm.js';
import { jsonDocument, printStdout, renderResults } from '../terminal/render.js';
import { assertNoPendingRun, globalOptionsSchema, openSession, parseOptions, resolveSecretIds } from './session.js';

const optionsSchema = z.extend(globalOptionsSchema, {
  yes: z._default(z.boolean(), false),
  restart: z._default(z.boolean(), true),
});

/** `rotate rollback <secret>`: back to the value the last rotation replaced, verified and recorded. */
export async function rollbackCommand(secret: string, raw: unknown): Promise<number> {
  const options = parseOptions(optionsSchema, raw);
  const session = await openSession(options, { restart: options.restart });
  try {
    const [id] = resolveSecretIds(session, [secret]);
    const lock = await session.store.acquireLock(`rollback ${id}`);
    try {
      await assertNoPendingRun(session);
      if (!options.yes) await confirm(`Put back the previous value of ${id}? Services will restart.`);
      const result = await rotateSecret(session, id!, 'rollback');
      const code = exitCodeOf([result]);
      if (options.json) printStdout(jsonDocument('rollback', code, { results: [result] }));
      else printStdout(renderResults([result], session.deps.environment));
      return code;
    } finally {
      await lock.release();
    }
  } finally {
    await session.store.close();
  }
}
