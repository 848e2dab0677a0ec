import { Command } from 'commander';
import * as z from 'zod/mini';
import type { Session } from '../engine/session.js';
import { ExitCode, usageError } from '../errors.js';
import { lazy } from '../lazy.js';
import { redactTyped } from '../secret-value.js';
import type { HistoryEntry } from '../store/types.js';
import { confirm } from '../terminal/confirm.js';
import { localDate, localTime } from '../terminal/time.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { assertNoPendingRun, resolveSecretIds, withLock, withSession } from './session.js';

const optionsSchema = lazy(() =>
  z.extend(globalOptionsSchema(), {
    rotatedAt: z.string(),
    reason: z.optional(z.string().check(z.minLength(1))),
    yes: z._default(z.boolean(), false),
  }),
);
type MarkOptions = z.output<ReturnType<typeof optionsSchema>>;

const DAY = 86_400_000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})$/;

/** A calendar day (taken as 00:00 UTC) or a full ISO 8601 time with its offset; never in the future. */
function parseRotatedAt(text: string, now: Date): Date {
  const trimmed = text.trim();
  const time = DATE.test(trimmed) ? Date.parse(`${trimmed}T00:00:00Z`) : DATE_TIME.test(trimmed) ? Date.parse(trimmed) : Number.NaN;
  // Date.parse rolls 2026-02-30 over to March: a day that does not exist is not a date either.
  if (Number.isNaN(time) || (DATE.test(trimmed) && new Date(time).toISOString().slice(0, 10) !== trimmed)) {
    throw usageError('MARK_DATE_INVALID', `--rotated-at "${text}" is not a date`);
  }
  if (time > now.getTime()) {
    throw usageError('MARK_DATE_INVALID', `--rotated-at ${text} is in the future (now is ${now.toISOString()})`);
  }
  return new Date(time);
}

export const markCommand = defineCommand(
  () =>
    new Command('mark')
      .description('record a rotation done by hand or before rotate was adopted')
      .argument('<secret>', 'the secret that was rotated outside rotate')
      .requiredOption('--rotated-at <date>', 'when: a day (YYYY-MM-DD, UTC) or an ISO 8601 time; not in the future')
      .option('--reason <text>', 'why, recorded in the history')
      .option('-y, --yes', 'do not ask for confirmation on a terminal (required off a terminal)'),
  optionsSchema,
  (options, args) => mark(args[0] as string, options),
);

/** Writes the new state and the `mark` record, under the lock, refusing a date older than what rotate recorded. */
async function record(session: Session, id: string, rotatedAt: Date, options: MarkOptions): Promise<HistoryEntry> {
  const [{ secretConfig }, { appendChained, fingerprint }, { envKeysOf }] = await Promise.all([
    import('../engine/session.js'),
    import('../history/audit.js'),
    import('../secrets/index.js'),
  ]);
  const config = secretConfig(session, id);
  await assertNoPendingRun(session);
  const state = (await session.store.readStates())[id] ?? {};
  if (state.lastRotatedAt && Date.parse(state.lastRotatedAt) > rotatedAt.getTime()) {
    throw usageError(
      'MARK_DATE_INVALID',
      `rotate recorded a later rotation of ${id} (${localTime(state.lastRotatedAt)}) than --rotated-at ${options.rotatedAt}`,
      'rotate history shows it; mark only a rotation newer than the last one recorded',
    );
  }
  // The value changed outside rotate: what rotate kept for `rotate rollback` no longer describes it.
  const { last: _, reminded: __, ...kept } = state;
  const runId = session.deps.randomUUID();
  const current = await session.target.read().then(
    (snapshot) => snapshot.values,
    () => ({}) as Record<string, string>,
  );
  const entry: HistoryEntry = {
    at: session.deps.now().toISOString(),
    runId,
    secret: id,
    kind: config.kind,
    action: 'mark',
    result: 'marked',
    actor: session.deps.actor,
    ...(options.reason
      ? {
          reason: redactTyped(
            options.reason,
            envKeysOf(config).map((key) => current[key]),
          ),
        }
      : {}),
    facts: { rotatedAt: rotatedAt.toISOString() },
    durationMs: 0,
    fingerprints: { old: null, new: await fingerprint(session.store, current[envKeysOf(config)[0]!]) },
  };
  // The record first: a state naming a run the history does not hold reads as a removed record (history --verify).
  await appendChained(session.store, entry, session.deps.log.warn);
  await session.store.writeState(id, { ...kept, lastRotatedAt: rotatedAt.toISOString(), lastRunId: runId });
  return entry;
}

/** `rotate mark <secret> --rotated-at <date>`: records a rotation done by hand or before rotate was adopted. */
async function mark(secret: string, options: MarkOptions): Promise<number> {
  // Consent as for rotations: a terminal asks unless --yes; off a terminal nobody can answer, so --yes is required.
  const consent = { yes: options.yes, command: `rotate mark ${secret}` };
  return withSession(options, { ...(options.reason ? { reason: options.reason } : {}), consent }, async (session) => {
    const [id] = resolveSecretIds(session, [secret]) as [string];
    const rotatedAt = parseRotatedAt(options.rotatedAt, session.deps.now());
    const nextDue = new Date(rotatedAt.getTime() + session.config.secrets[id]!.intervalDays * DAY).toISOString();
    await confirm(
      `Record that ${id} was rotated outside rotate on ${localTime(rotatedAt)}? It is then next due on ${localDate(nextDue)}.`,
      options.yes,
    );
    const entry = await withLock(session, `rotate mark ${id}`, () => record(session, id, rotatedAt, options));
    const [{ historyNotice }, { sendNotice }] = await Promise.all([import('../notify/history-notice.js'), import('../notify/send.js')]);
    const notice = historyNotice(entry, 'marked', session.deps.host, await session.store.readHistoryHead());
    if (notice) await sendNotice(session.config.notify, session.deps, notice);
    const result = { secret: id, rotatedAt: rotatedAt.toISOString(), nextDue, runId: entry.runId };
    return printResult(options, 'mark', ExitCode.ok, { results: [result] }, () =>
      options.quiet ? '' : `${id}: recorded as rotated on ${localTime(result.rotatedAt)}; next due ${localDate(nextDue)}`,
    );
  });
}
