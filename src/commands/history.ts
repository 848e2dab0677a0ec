import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Session } from '../engine/index.js';
import { ExitCode, usageError } from '../errors.js';
import { lazy } from '../lazy.js';
import type { HistoryEntry } from '../store/types.js';
import { table } from '../terminal/render.js';
import { localTime } from '../terminal/time.js';
import { defineCommand, type GlobalOptions, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { resolveSecretIds, withSession } from './session.js';

const LIMIT = 'expected a whole number above 0';

const optionsSchema = lazy(() =>
  z.extend(globalOptionsSchema(), {
    limit: z.optional(z.coerce.number({ error: LIMIT }).check(z.int({ error: LIMIT }), z.positive({ error: LIMIT }))),
    verify: z._default(z.boolean(), false),
    acceptNoHead: z._default(z.boolean(), false),
  }),
);

export const historyCommand = defineCommand(
  () =>
    new Command('history')
      .description('the audit log, newest first')
      .argument('[secret]', 'only this secret')
      .option('--limit <n>', 'newest n entries')
      .option('--verify', 'check that no record was edited, inserted, moved or removed (HMAC chain under the master key)')
      .option(
        '--accept-no-head',
        'with --verify: accept a chained history without a head (a store whose chain began before rotate kept one); records removed from its end cannot be ruled out',
      ),
  optionsSchema,
  (options, args) => history(args[0] as string | undefined, options),
);

/** "850 ms", "12.4 s", "3 min 5 s": how long a run took, at a glance. */
function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return '-';
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1_000)} s`;
}

const fingerprintText = (e: HistoryEntry) => (e.fingerprints ? `${e.fingerprints.old ?? '-'} -> ${e.fingerprints.new ?? '-'}` : '-');

async function history(secret: string | undefined, options: z.output<ReturnType<typeof optionsSchema>>): Promise<number> {
  return withSession(options, {}, async (session) => {
    if (options.acceptNoHead && !options.verify) {
      throw usageError('USAGE', '--accept-no-head goes with --verify', 'rotate history --verify --accept-no-head');
    }
    if (options.verify) return verifyHistory(session, options);
    if (secret) resolveSecretIds(session, [secret]);
    const report = await session.store.readHistoryReport();
    // A damaged record never hides the good ones: they are shown, and the damaged ones named (file and line).
    for (const d of report.damaged) session.deps.log.warn(`${d.file} line ${d.line} is damaged and was skipped: ${d.error}`);
    let entries = report.entries.filter((e) => !secret || e.secret === secret).reverse();
    if (options.limit) entries = entries.slice(0, options.limit);
    return printResult(options, 'history', ExitCode.ok, { results: entries, damaged: report.damaged }, () => {
      if (entries.length === 0) return secret ? `no history for ${secret}` : 'no history yet';
      return table(
        ['WHEN', 'SECRET', 'ACTION', 'RESULT', 'TOOK', 'VALUE (OLD -> NEW)', 'BY', 'NOTE'],
        entries.map((e) => [
          localTime(e.at, { seconds: true }),
          e.secret,
          e.action + (e.emergency ? ' (emergency)' : ''),
          e.result,
          formatDuration(e.durationMs),
          fingerprintText(e),
          e.actor,
          [e.reason, e.error && `[${e.error.code}] ${e.error.message}`].filter(Boolean).join('; '),
        ]),
      );
    });
  });
}

/**
 * `rotate history --verify`: every record follows from the one before it under the master key, the chain reaches the
 * history's head (nothing removed from the end, no link stripped), and each secret's last run has its record.
 * Exit 1 names what does not hold.
 */
async function verifyHistory(session: Session, options: GlobalOptions & { acceptNoHead: boolean }): Promise<number> {
  const { runsWithoutRecord, verifyChain } = await import('../history/audit.js');
  // A damaged (torn or hand-edited) record cannot be checked: it fails the check too, named by file and line.
  const [{ entries, damaged }, head, states, journals] = await Promise.all([
    session.store.readHistoryReport(),
    session.store.readHistoryHead(),
    session.store.readStates(),
    session.store.readJournals(),
  ]);
  const report = await verifyChain(session.store, entries, { head, acceptNoHead: options.acceptNoHead });
  const lost = runsWithoutRecord(states, journals, entries);
  const code = report.ok && damaged.length === 0 && lost.length === 0 ? ExitCode.ok : ExitCode.failed;
  const broken = report.broken && {
    position: report.broken.position,
    at: report.broken.entry.at,
    secret: report.broken.entry.secret,
    runId: report.broken.entry.runId,
    why: report.broken.why,
  };
  const body = {
    verified: code === ExitCode.ok,
    records: entries.length,
    unchained: report.unchained,
    ...(report.head ? { head: report.head } : {}),
    ...(report.noHead ? { noHead: true } : {}),
    ...(broken ? { broken } : {}),
    ...(report.missing ? { missing: report.missing } : {}),
    ...(lost.length ? { runsWithoutRecord: lost } : {}),
    damaged,
    results: [],
  };
  return printResult(options, 'history', code, body, () => {
    const older = report.unchained
      ? ` (${report.unchained} older record(s) were written before rotate chained its history and are not covered)`
      : '';
    const failures = damaged.map((d) => `history check FAILED: ${d.file} line ${d.line} is not a readable record (${d.error})`);
    if (report.missing) failures.push(`history check FAILED: ${report.missing}`);
    if (broken) {
      failures.push(
        `history check FAILED at record ${broken.position} of ${entries.length} (${localTime(broken.at, { seconds: true })}, ${broken.secret}, run ${broken.runId}): ${broken.why}${older}`,
      );
    }
    for (const run of lost) {
      failures.push(`history check FAILED: ${run.secret}'s last run ${run.runId} (its state) has no record in the history: it was removed`);
    }
    if (failures.length > 0) return failures.join('\n');
    const newest = entries.at(-1);
    // The sequence number and link are also in every notification: compare them with the chat's copy.
    const at = report.head
      ? `; it ends at record #${report.head.seq}, link ${report.head.link.slice(0, 12)} (notifications carry them too)`
      : report.noHead
        ? `; it has no head yet (accepted with --accept-no-head: a chain begun before rotate kept one), so records removed from its end cannot be ruled out; the next record written starts the head`
        : '';
    return (
      `history verified: ${report.checked} record(s) chained under the master key, none edited, inserted, moved or removed${at}` +
      `${newest ? `; the newest is from ${localTime(newest.at, { seconds: true })}` : ''}${older}`
    );
  });
}
