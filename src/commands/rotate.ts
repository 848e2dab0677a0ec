import { Command } from 'commander';
import * as z from 'zod/mini';
import { ExitCode, usageError } from '../errors.js';
import { lazy } from '../lazy.js';
import { confirm } from '../terminal/confirm.js';
import { renderResults } from '../terminal/render.js';
import { localTime } from '../terminal/time.js';
import { defineCommand, globalOptionsSchema } from './options.js';
import { printResult } from './output.js';
import { resolveSecretIds, withSession } from './session.js';

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

type RotateOptions = z.output<ReturnType<typeof optionsSchema>>;

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
  const [engine, { factSentences }] = await Promise.all([import('../engine/index.js'), import('../secrets/index.js')]);
  return withSession(options, needs, async (session) => {
    const outcome = await engine.rotate(session, {
      ids: names.length > 0 ? resolveSecretIds(session, names, commands) : [],
      due: options.due,
      all: options.all,
      dryRun: options.dryRun,
      confirm: (question) => confirm(question, options.yes || options.due),
      localTime,
    });
    let { results, code } = outcome;
    if (options.dryRun) {
      // rotate check's findings that make a rotation unsafe (an env file git tracks...) fail the dry run too.
      const [{ withPolicyChecks }, { realGit }] = await Promise.all([import('../policy/dry-run.js'), import('../policy/git.js')]);
      const policy = await withPolicyChecks(session, results, realGit);
      results = policy.results;
      if (policy.failed && code === ExitCode.ok) code = ExitCode.failed;
    }
    return printResult(options, 'rotate', code, { dryRun: options.dryRun, results }, () =>
      options.quiet && code === ExitCode.ok ? '' : renderResults(results, session.deps.environment, factSentences) || 'nothing to do',
    );
  });
}
