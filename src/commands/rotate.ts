import { Command } from 'commander';
import * as z from 'zod/mini';
import type { SecretResult } from '../engine/result.js';
import type { Session } from '../engine/session.js';
import { ExitCode, usageError } from '../errors.js';
import { lazy } from '../lazy.js';
import { confirm } from '../terminal/confirm.js';
import { renderResults } from '../terminal/render.js';
import { localTime } from '../terminal/time.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { assertNoPendingRun, resolveSecretIds, withLock, withSession } from './session.js';

const optionsSchema = lazy(() =>
  z.extend(globalOptionsSchema(), {
    due: z._default(z.boolean(), false),
    all: z._default(z.boolean(), false),
    dryRun: z._default(z.boolean(), false),
    yes: z._default(z.boolean(), false),
    restart: z._default(z.boolean(), true),
    emergency: z._default(z.boolean(), false),
    reason: z.optional(z.string().check(z.minLength(1))),
    allowUnpersisted: z._default(z.boolean(), false),
  }),
);

/** The root command: `rotate <secret...>`, `rotate --due`, `rotate --all`; cli.ts adds the other commands to it. */
export const rotateCommand = defineCommand(
  () =>
    new Command('rotate')
      .description('Rotate the secrets of a web platform: JWT, data-encryption key, PostgreSQL, Redis, Stripe')
      .argument('[secret...]', 'secrets to rotate now (ids from the config: jwt, exchange-key, database, redis, stripe)')
      .option('--due', 'rotate every secret whose interval has elapsed (and retire grace periods that ended)')
      .option('--all', 'rotate every configured secret')
      .option('--dry-run', 'check config and reachability, show the plan, change nothing')
      .option('-y, --yes', 'do not ask for confirmation on a terminal')
      .option('--no-restart', "do not run the services' restart commands")
      .option('--emergency', 'retire the old value at once, no grace period (needs --reason)')
      .option('--reason <text>', 'why, recorded in the history (with --emergency)')
      .option('--allow-unpersisted', 'Redis: rotate even if the server cannot persist the new password'),
  optionsSchema,
  (options, [names], command) =>
    rotate(
      names as string[],
      options,
      command.commands.map((c) => c.name()),
    ),
);

interface Selection {
  /** Secrets whose grace period has ended: their old value is retired. */
  retire: string[];
  rotate: string[];
  skipped: SecretResult[];
}

type RotateOptions = z.output<ReturnType<typeof optionsSchema>>;

async function select(session: Session, names: string[], options: RotateOptions, commands: string[]): Promise<Selection> {
  if (names.length > 0) return { retire: [], rotate: resolveSecretIds(session, names, commands), skipped: [] };
  const [{ isDue, schedules }, { closedWindow, describeWindow }] = await Promise.all([
    import('../engine/due.js'),
    import('../schedule/window.js'),
  ]);
  const selection: Selection = { retire: [], rotate: [], skipped: [] };
  const now = session.deps.now();
  for (const { id, config, schedule: s } of await schedules(session)) {
    const skip = (note: string) =>
      selection.skipped.push({ secret: id, kind: config.kind, status: 'skipped', note, checks: [], facts: {}, envKeys: [], steps: [] });
    if (s.state === 'retire-due') selection.retire.push(id);
    else if (s.state === 'absent') skip(`not in ${session.target.description}`);
    else if (options.due && isDue(s) && closedWindow(session.config.window, config, now)) {
      // Cron's run outside the team's window: the secret stays due, the next run inside the window rotates it.
      skip(`due, waiting for the window (${describeWindow(closedWindow(session.config.window, config, now)!)})`);
    } else if (options.all || isDue(s)) selection.rotate.push(id);
    else skip(s.nextDue ? `not due until ${localTime(s.nextDue)}` : 'not due');
  }
  return selection;
}

async function rotate(names: string[], options: RotateOptions, commands: string[]): Promise<number> {
  if (options.emergency && !options.reason) {
    throw usageError(
      'USAGE',
      '--emergency needs --reason <text>',
      'say why, for the audit log: --emergency --reason "key leaked in CI log"',
    );
  }
  const chosen = [names.length > 0, options.due, options.all].filter(Boolean).length;
  if (chosen !== 1) {
    throw usageError(
      'USAGE',
      'name the secrets to rotate, or give --due or --all (exactly one of these)',
      'rotate jwt | rotate --due | rotate --all; rotate status lists the secrets',
    );
  }
  const needs = {
    // Off a terminal an explicit rotation needs --yes; --due is cron's consent; a dry run changes nothing.
    ...(options.dryRun || options.due
      ? {}
      : { consent: { yes: options.yes, command: `rotate ${names.length ? names.join(' ') : '--all'}` } }),
    envFile: 'required' as const,
    names: { secrets: names, commands },
    restart: options.restart,
    emergency: options.emergency,
    ...(options.reason ? { reason: options.reason } : {}),
    unattended: options.due,
    allowUnpersisted: options.allowUnpersisted,
  };
  const [{ planSet }, { exitCodeOf }, { factSentences }] = await Promise.all([
    import('../engine/plan.js'),
    import('../engine/result.js'),
    import('../secrets/index.js'),
  ]);
  return withSession(options, needs, async (session) => {
    let results: SecretResult[];
    if (options.dryRun) {
      const selection = await select(session, names, options, commands);
      results = [...selection.skipped, ...(await planSet(session, [...selection.retire, ...selection.rotate]))];
    } else {
      results = await executeAndNotify(session, options, () => select(session, names, options, commands));
    }
    // One order for people and machines alike: the config's.
    const order = Object.keys(session.config.secrets);
    results.sort((a, b) => order.indexOf(a.secret) - order.indexOf(b.secret));
    const code = exitCodeOf(results);
    return printResult(options, 'rotate', code, { dryRun: options.dryRun, results }, () =>
      options.quiet && code === ExitCode.ok ? '' : renderResults(results, session.deps.environment, factSentences) || 'nothing to do',
    );
  });
}

/**
 * Runs the selection and makes sure nothing fails silently: a failure the history does not record (failed checks,
 * nothing changed) and a `--due` run stopped by an error are posted too; then `--due` sends its reminders.
 */
async function executeAndNotify(session: Session, options: RotateOptions, selecting: () => Promise<Selection>): Promise<SecretResult[]> {
  const { notifyRunError, notifyUnrecorded } = await import('../notify/run-notice.js');
  const recordsBefore = (await session.store.readHistory()).length;
  let results: SecretResult[];
  try {
    results = await execute(session, await selecting(), options.yes || options.due);
  } catch (error) {
    if (options.due) await notifyRunError(session, 'rotate --due', error);
    throw error;
  }
  const recorded = new Set((await session.store.readHistory()).slice(recordsBefore).map((e) => e.secret));
  await notifyUnrecorded(session, results, recorded);
  if (options.due) {
    await (await import('../notify/reminders.js')).sendReminders(session, results);
    await (await import('../notify/drift-notice.js')).reportDrift(session);
  }
  return results;
}

async function execute(session: Session, selection: Selection, yes: boolean): Promise<SecretResult[]> {
  const results = [...selection.skipped];
  if (selection.retire.length + selection.rotate.length === 0) return results;
  const { retireSet, rotateSet, servicesOf } = await import('../engine/pipeline.js');
  await withLock(session, `rotate ${selection.rotate.join(' ')}`.trim(), async () => {
    await assertNoPendingRun(session);
    if (selection.rotate.length > 0) {
      const services = servicesOf(session, selection.rotate);
      const restarts = services.length ? `restarts ${services.join(', ')}` : 'restarts no service';
      const what = session.options.restart
        ? `This writes ${session.target.description}, ${restarts} and retires the old values.`
        : `This writes ${session.target.description} only (--no-restart): no service restarts and the old values stay valid.`;
      await confirm(`Rotate ${selection.rotate.join(', ')} now? ${what}`, yes);
    }
    const retired = await retireSet(session, selection.retire);
    results.push(...retired);
    // A retirement that failed leaves a pending run: rotate nothing else until it is resumed.
    const stuck = retired.filter((r) => r.status === 'retire-failed').map((r) => r.secret);
    if (stuck.length > 0) {
      const note = `not rotated: the retirement of ${stuck.join(', ')} needs \`rotate resume\` first`;
      for (const id of selection.rotate) {
        results.push({
          secret: id,
          kind: session.config.secrets[id]!.kind,
          status: 'skipped',
          note,
          checks: [],
          facts: {},
          envKeys: [],
          steps: [],
        });
      }
    } else {
      // One run for the whole set: one write of the target, one restart of each service.
      results.push(...(await rotateSet(session, selection.rotate)));
    }
  });
  return results;
}
