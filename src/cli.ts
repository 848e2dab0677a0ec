#!/usr/bin/env -S node --
import { type Command, CommanderError } from 'commander';
import { agentCommand } from './commands/agent.js';
import { backupsCommand } from './commands/backups.js';
import { checkCommand } from './commands/check.js';
import { completionCommand } from './commands/completion.js';
import { helpFooter } from './commands/examples.js';
import { helpCommand } from './commands/help.js';
import { historyCommand } from './commands/history.js';
import { initCommand } from './commands/init.js';
import { installInterruptHandler } from './commands/interrupt.js';
import { leakCommand } from './commands/leak.js';
import { markCommand } from './commands/mark.js';
import { metricsCommand } from './commands/metrics.js';
import type { ActionRunner } from './commands/options.js';
import { resumeCommand } from './commands/resume.js';
import { rollbackCommand } from './commands/rollback.js';
import { rotateCommand } from './commands/rotate.js';
import { setupCommand } from './commands/setup.js';
import { statusCommand } from './commands/status.js';
import { verifyCommand } from './commands/verify.js';
import { VERSION, versionCommand } from './commands/version.js';
import { ExitCode, errorInfo, RotateError, usageError } from './errors.js';
import { redact } from './secret-value.js';
import { errorLines, jsonDocument } from './terminal/render.js';
import { trace } from './trace.js';

const wantsJson = (argv: string[]): boolean => argv.includes('--json');

/** The command an argv runs (the first of the program's command names in it), for an error raised outside its action. */
function commandOf(argv: string[], program: Command): string {
  const names = new Set(program.commands.map((c) => c.name()));
  return argv.slice(2).find((arg) => names.has(arg)) ?? 'rotate';
}

/** Prints an error (as the JSON document with --json, and always on stderr) and returns its exit code. */
function reportError(error: unknown, command: string): number {
  const re = error instanceof RotateError ? error : undefined;
  const code = re?.exitCode ?? ExitCode.failed;
  const info = errorInfo(error);
  if (wantsJson(process.argv)) process.stdout.write(`${jsonDocument(command, code, { results: [], error: info })}\n`);
  // The message may quote a server or a file: its control characters are shown escaped, its own lines kept (render.ts).
  for (const line of errorLines(info)) process.stderr.write(`${line}\n`);
  if (!re && process.env.ROTATE_DEBUG) process.stderr.write(`${redact(String((error as Error).stack))}\n`);
  return code;
}

/** Every action returns its exit code or throws; this is the one place that turns either into process.exitCode. */
const runAction: ActionRunner =
  (action) =>
  async (...args) => {
    const command = args.at(-1) as Command;
    try {
      process.exitCode = await action(command);
    } catch (error) {
      process.exitCode = reportError(error, command.name());
    }
    trace(`${command.parent ? `rotate ${command.name()}` : 'rotate'}: exit ${process.exitCode}`);
  };

export function buildProgram(): Command {
  const program = rotateCommand(runAction)
    .optionsGroup('Options:')
    .version(VERSION, '-V, --version', 'print the version of rotate')
    .enablePositionalOptions()
    .exitOverride()
    // Commander's own error line is not printed: main() reports its mistakes as rotate reports every error.
    .configureOutput({ writeOut: (s) => process.stdout.write(s), writeErr: (s) => process.stderr.write(s), outputError: () => {} });
  const commands = [statusCommand, historyCommand, verifyCommand, rollbackCommand, resumeCommand, initCommand, setupCommand];
  commands.push(markCommand, metricsCommand, checkCommand, leakCommand, agentCommand);
  for (const define of [...commands, backupsCommand, completionCommand, versionCommand, helpCommand]) {
    program.addCommand(define(runAction).copyInheritedSettings(program));
  }
  program.addHelpText('after', helpFooter('rotate', true));
  for (const command of program.commands) command.addHelpText('after', helpFooter(command.name(), false));
  return program;
}

async function main(): Promise<void> {
  // The first SIGINT/SIGTERM stops a run at its next safe point; a second one forces the exit.
  const program = buildProgram();
  installInterruptHandler((signal) => {
    const stopped = new RotateError('INTERRUPTED', `stopped by ${signal}; rotate was only reading, so nothing was changed`);
    process.exit(reportError(stopped, commandOf(process.argv, program)));
  });
  // `rotate help | head`: a reader that closes the pipe early has all it wanted; no stack trace for EPIPE.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
    process.exit(process.exitCode ?? ExitCode.ok);
  });
  // `rotate ... 2>&1 | head -1`: a closed stderr loses the rest of the message, never the command's exit code.
  process.stderr.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
  try {
    await program.parseAsync(process.argv);
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    // --help and --version end with code 0; every usage mistake is exit 2 (CONTRACT.md).
    if (error.exitCode === 0) {
      process.exitCode = ExitCode.ok;
      return;
    }
    const command = commandOf(process.argv, program);
    process.exitCode = reportError(usageMistake(error, command, program), command);
  }
}

/**
 * A usage mistake commander found, said as rotate says every error: which command, whose option it is (an option of a
 * rotation given to `rotate status`), and where that command's usage is.
 */
function usageMistake(error: CommanderError, command: string, program: Command): RotateError {
  const where = command === 'rotate' ? 'rotate' : `rotate ${command}`;
  let message = error.message.replace(/^error: /, '');
  const unknown = /^unknown option '([^']+)'/.exec(message)?.[1];
  if (unknown) {
    const name = unknown.split('=')[0]!;
    const ofRotation = command !== 'rotate' && name !== '--version' && program.options.some((o) => o.long === name || o.short === name);
    const guess = /\(Did you mean (\S+)\?\)/.exec(message)?.[1];
    message = `${unknown} is not an option of ${where}${guess ? `; did you mean \`${guess}\`?` : ''}${ofRotation ? `; it is an option of a rotation (rotate --help lists them)` : ''}`;
  }
  return usageError('USAGE', message, `rotate help${command === 'rotate' ? '' : ` ${command}`} shows its usage and options`);
}

// No top-level await: the bundle is CommonJS (scripts/bundle.mjs). A throw from main is an unhandled rejection: exit 1.
void main();
