import { RotateError } from '../errors.js';

/** Asks on a TTY; never on a pipe or under cron (CONTRACT.md: a non-TTY run never prompts). */
export async function confirm(message: string): Promise<void> {
  if (!process.stdin.isTTY || !process.stderr.isTTY) return;
  const { default: ask } = await import('@inquirer/confirm');
  const yes = await ask({ message, default: false }, { output: process.stderr });
  if (!yes) throw new RotateError('CANCELLED', 'cancelled; nothing was changed');
}
