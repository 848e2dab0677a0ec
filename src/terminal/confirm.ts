import { RotateError, usageError } from '../errors.js';

/** A person at a terminal: both stdin (to answer) and stderr (where the question goes) are TTYs. */
const atTerminal = (): boolean => process.stdin.isTTY === true && process.stderr.isTTY === true;

/**
 * Consent to a change (CONTRACT.md): `--yes`, or a person who can be asked. Off a terminal without `--yes` (ssh with
 * a command, a pipe, CI) nothing is asked and nothing changes: exit 2, before the store is even opened.
 */
export function assertConsentPossible(yes: boolean, command: string): void {
  if (yes || atTerminal()) return;
  throw usageError(
    'CONSENT_REQUIRED',
    `${command} changes what rotate manages and this is not a terminal, so rotate cannot ask; nothing was changed`,
    `add --yes to say yes here (cron uses rotate --due, which never asks): ${typedCommand()} --yes`,
  );
}

/** The command line as typed (`rotate jwt --no-restart`), each argument quoted for a POSIX shell where it needs it. */
function typedCommand(): string {
  const quote = (arg: string) => (/^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`);
  return ['rotate', ...process.argv.slice(2).map(quote)].join(' ');
}

/** Asks on a terminal; `--yes` skips it. Answering no stops the run before anything changed. */
export async function confirm(question: string | (() => Promise<string>), yes: boolean): Promise<void> {
  if (yes || !atTerminal()) return;
  // A plan that reads (counts rows) is made only for a person who will read it.
  const message = typeof question === 'string' ? question : await question();
  const { default: ask } = await import('@inquirer/confirm');
  const answer = await ask({ message, default: false }, { output: process.stderr });
  if (!answer) throw new RotateError('CANCELLED', 'cancelled; nothing was changed');
}
