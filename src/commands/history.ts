import * as z from 'zod/mini';
import type { Session } from '../engine/session.js';
import { ExitCode } from '../errors.js';
import { verifyChain } from '../history/audit.js';
import type { HistoryEntry } from '../store/types.js';
import { jsonDocument, printStdout, table } from '../terminal/render.js';
import { globalOptionsSchema, openSession, parseOptions, resolveSecretIds } from './session.js';

const optionsSchema = z.extend(globalOptionsSchema, {
  limit: z.optional(z.coerce.number().check(z.int(), z.positive())),
  verify: z._default(z.boolean(), false),
});

/** "850 ms", "12.4 s", "3 min 5 s": how long a run took, at a glance. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

const fingerprintText = (e: HistoryEntry) => (e.fingerprints ? `${e.fingerprints.old ?? '-'} -> ${e.fingerprints.new ?? '-'}` : '-');

export async function historyCommand(secret: string | undefined, raw: unknown): Promise<number> {
  const options = parseOptions(optionsSchema, raw);
  const session = await openSession(options);
  try {
    if (options.verify) return await verifyHistory(session, options.json);
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
        ['WHEN', 'SECRET', 'ACTION', 'RESULT', 'TOOK', 'VALUE (OLD -> NEW)', 'BY', 'NOTE'],
        entries.map((e) => [
          e.at.replace('T', ' ').slice(0, 19),
          e.secret,
          e.action + (e.emergency ? ' (emergency)' : ''),
          e.result,
          formatDuration(e.durationMs),
          fingerprintText(e),
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

/** `rotate history --verify`: every record follows from the one before it under the master key; exit 1 names the first that does not. */
async function verifyHistory(session: Session, json: boolean): Promise<number> {
  const entries = await session.store.readHistory();
  const report = await verifyChain(session.store, entries);
  const code = report.ok ? ExitCode.ok : ExitCode.failed;
  const broken = report.broken && {
    position: report.broken.position,
    at: report.broken.entry.at,
    secret: report.broken.entry.secret,
    runId: report.broken.entry.runId,
    why: report.broken.why,
  };
  if (json) {
    printStdout(
      jsonDocument('history', code, {
        verified: report.ok,
        records: entries.length,
        unchained: report.unchained,
        ...(broken ? { broken } : {}),
      }),
    );
    return code;
  }
  const older = report.unchained
    ? ` (${report.unchained} older record(s) were written before rotate chained its history and are not covered)`
    : '';
  if (broken) {
    printStdout(
      `history check FAILED at record ${broken.position} of ${entries.length} (${broken.at}, ${broken.secret}, run ${broken.runId}): ${broken.why}${older}`,
    );
  } else {
    const newest = entries.at(-1);
    printStdout(
      `history verified: ${report.checked} record(s) chained under the master key, none edited, inserted, moved or removed` +
        `${newest ? `; the newest is from ${newest.at}` : ''}${older}`,
    );
  }
  return code;
}
