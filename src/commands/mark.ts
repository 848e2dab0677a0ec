import { Command } from 'commander';
import * as z from 'zod/mini';
import { ExitCode, usageError } from '../errors.js';
import { lazy } from '../lazy.js';
import { confirm } from '../terminal/confirm.js';
import { localDate, localTime } from '../terminal/time.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { resolveSecretIds, withSession } from './session.js';

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
    const { mark: markRotation } = await import('../engine/index.js');
    const entry = await markRotation(session, {
      id,
      rotatedAt,
      rotatedAtText: options.rotatedAt,
      ...(options.reason ? { reason: options.reason } : {}),
      localTime,
    });
    const result = { secret: id, rotatedAt: rotatedAt.toISOString(), nextDue, runId: entry.runId };
    return printResult(options, 'mark', ExitCode.ok, { results: [result] }, () =>
      options.quiet ? '' : `${id}: recorded as rotated on ${localTime(result.rotatedAt)}; next due ${localDate(nextDue)}`,
    );
  });
}
