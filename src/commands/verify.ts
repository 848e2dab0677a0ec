import { buildContext } from '../engine/context.js';
import { errorInfo, exitCodeOf, type SecretResult } from '../engine/result.js';
import { secretConfig } from '../engine/session.js';
import { envKeysOf } from '../secrets/index.js';
import { jsonDocument, printStdout, renderResults } from '../terminal/render.js';
import { globalOptionsSchema, openSession, parseOptions, resolveSecretIds } from './session.js';

/** `rotate verify`: the verification checks against the current values; changes nothing. */
export async function verifyCommand(names: string[], raw: unknown): Promise<number> {
  const options = parseOptions(globalOptionsSchema, raw);
  const session = await openSession(options);
  try {
    const ids = names.length ? resolveSecretIds(session, names) : Object.keys(session.config.secrets);
    const states = await session.store.readStates();
    const results: SecretResult[] = [];
    for (const id of ids) {
      const config = secretConfig(session, id);
      const base = { secret: id, kind: config.kind, envKeys: envKeysOf(config), facts: {}, steps: [] };
      try {
        const ctx = await buildContext(session, id, states[id]);
        if (names.length === 0 && !(envKeysOf(config)[0]! in ctx.env)) {
          results.push({ ...base, status: 'skipped', checks: [], note: `not in ${session.envFile}` });
          continue;
        }
        const checks = await (await session.deps.loadRotator(config.kind)).verifyCurrent(ctx);
        results.push({ ...base, status: checks.every((c) => c.ok) ? 'verified' : 'verify-failed', checks });
      } catch (error) {
        results.push({ ...base, status: 'verify-failed', checks: [], error: errorInfo(error) });
      }
    }
    const code = exitCodeOf(results);
    if (options.json) printStdout(jsonDocument('verify', code, { results }));
    else printStdout(renderResults(results, session.deps.environment));
    return code;
  } finally {
    await session.store.close();
  }
}
