#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { ExitCode, RotateError } from './errors.js';
import { redact } from './secret-value.js';

/** Every action returns its exit code; this file is the only one that sets process.exitCode. */
type Action = () => Promise<number>;

function wantsJson(argv: string[]): boolean {
  return argv.includes('--json');
}

async function runAction(action: Action, json: boolean, command: string): Promise<void> {
  try {
    process.exitCode = await action();
  } catch (error) {
    const re = error instanceof RotateError ? error : undefined;
    const code = re?.exitCode ?? ExitCode.failed;
    const info = re
      ? { code: re.code, message: redact(re.message), ...(re.hint ? { hint: redact(re.hint) } : {}) }
      : { code: 'UNEXPECTED', message: redact(error instanceof Error ? error.message : String(error)) };
    if (json) {
      const { jsonDocument } = await import('./terminal/render.js');
      process.stdout.write(`${jsonDocument(command, code, { error: info })}\n`);
    }
    process.stderr.write(`[${info.code}] ${info.message}\n`);
    if ('hint' in info && info.hint) process.stderr.write(`hint: ${info.hint}\n`);
    if (!re && process.env.ROTATE_DEBUG) process.stderr.write(`${redact(String((error as Error).stack))}\n`);
    process.exitCode = code;
  }
}

const withGlobals = (cmd: Command) => cmd.optsWithGlobals();

export function buildProgram(): Command {
  const json = wantsJson(process.argv);
  const program = new Command('rotate')
    .description('Rotate the secrets of a web platform: JWT, data-encryption key, PostgreSQL, Redis, Stripe')
    .version('0.1.0')
    .argument('[secret...]', 'secrets to rotate now (ids from the config: jwt, exchange-key, database, redis, stripe)')
    .option('--due', 'rotate every secret whose interval has elapsed (and retire grace periods that ended)')
    .option('--all', 'rotate every configured secret')
    .option('--dry-run', 'check config and reachability, show the plan, change nothing')
    .option('-y, --yes', 'do not ask for confirmation on a terminal')
    .option('--json', 'print exactly one JSON document on stdout')
    .option('--config <file>', 'config file (default: ./rotate.config.json, else built-in defaults)')
    .option('--env-file <file>', 'env file to edit (overrides envFile in the config)')
    .option('--no-restart', "do not run the services' restart commands")
    .option('--emergency', 'retire the old value at once, no grace period (needs --reason)')
    .option('--reason <text>', 'why, recorded in the history (with --emergency)')
    .option('--allow-unpersisted', 'Redis: rotate even if the server cannot persist the new password')
    .option('-q, --quiet', 'no progress or info on stderr; a successful rotation prints nothing')
    .option('--verbose', 'print debug details on stderr')
    .showHelpAfterError('(run rotate --help for usage)')
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s) })
    .exitOverride()
    .action(async (secrets: string[], _opts, cmd: Command) => {
      const { rotateCommand } = await import('./commands/rotate.js');
      await runAction(() => rotateCommand(secrets, withGlobals(cmd)), json, 'rotate');
    });

  program
    .command('status')
    .description('one row per secret: kind, last rotated, interval, next due, state')
    .action(async (_opts, cmd: Command) => {
      const { statusCommand } = await import('./commands/status.js');
      await runAction(() => statusCommand(withGlobals(cmd)), json, 'status');
    });
  program
    .command('history')
    .argument('[secret]', 'only this secret')
    .option('--limit <n>', 'newest n entries')
    .option('--verify', 'check that no record was edited, inserted, moved or removed (HMAC chain under the master key)')
    .description('the audit log, newest first')
    .action(async (secret: string | undefined, _opts, cmd: Command) => {
      const { historyCommand } = await import('./commands/history.js');
      await runAction(() => historyCommand(secret, withGlobals(cmd)), json, 'history');
    });
  program
    .command('verify')
    .argument('[secret...]', 'secrets to check (default: all present in the env file)')
    .description('run the verification checks against the current values; change nothing')
    .action(async (secrets: string[], _opts, cmd: Command) => {
      const { verifyCommand } = await import('./commands/verify.js');
      await runAction(() => verifyCommand(secrets, withGlobals(cmd)), json, 'verify');
    });
  program
    .command('rollback')
    .argument('<secret>', 'the secret to put back')
    .description('put back the previous value (env file and provider), verify, record it')
    .action(async (secret: string, _opts, cmd: Command) => {
      const { rollbackCommand } = await import('./commands/rollback.js');
      await runAction(() => rollbackCommand(secret, withGlobals(cmd)), json, 'rollback');
    });
  program
    .command('resume')
    .description('finish or undo a rotation that was interrupted (crash, kill, power loss)')
    .action(async (_opts, cmd: Command) => {
      const { resumeCommand } = await import('./commands/resume.js');
      await runAction(() => resumeCommand(withGlobals(cmd)), json, 'resume');
    });
  program
    .command('init')
    .option('--force', 'overwrite an existing config file')
    .description('write a starter rotate.config.json for the current directory')
    .action(async (_opts, cmd: Command) => {
      const { initCommand } = await import('./commands/init.js');
      await runAction(() => initCommand(withGlobals(cmd)), json, 'init');
    });
  program
    .command('setup')
    .argument('<secret>', 'the secret whose strategy needs a one-time layout (database with alternate-roles)')
    .option('--apply', 'run the SQL instead of printing it')
    .description('print (or --apply) the one-time setup a strategy needs')
    .action(async (secret: string, _opts, cmd: Command) => {
      const { setupCommand } = await import('./commands/setup.js');
      await runAction(() => setupCommand(secret, withGlobals(cmd)), json, 'setup');
    });
  for (const sub of program.commands) sub.exitOverride().configureOutput(program.configureOutput());
  return program;
}

/** Ctrl-C or a kill mid-rotation leaves a journal behind; say what to do rather than vanish silently. */
function onInterrupt(signal: NodeJS.Signals): void {
  process.stderr.write(
    `\n[INTERRUPTED] stopped by ${signal}; if a rotation was running, \`rotate status\` shows it and \`rotate resume\` finishes or undoes it\n`,
  );
  process.exit(ExitCode.needsPerson);
}

async function main(): Promise<void> {
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  const program = buildProgram();
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // --help and --version end with code 0; every usage mistake is exit 2 (CONTRACT.md).
      process.exitCode = error.exitCode === 0 ? ExitCode.ok : ExitCode.usage;
      if (process.exitCode !== 0 && wantsJson(process.argv)) {
        const { jsonDocument } = await import('./terminal/render.js');
        const message = error.message.replace(/^error: /, '');
        process.stdout.write(
          `${jsonDocument('rotate', ExitCode.usage, { error: { code: 'USAGE', message, hint: 'see rotate --help' } })}\n`,
        );
      }
      return;
    }
    throw error;
  }
}

await main();
