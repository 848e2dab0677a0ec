// Waiting on a `rotate` child from the outside: its journal, the pid files its restart command writes, and a poll
// that never sleeps longer than it must; and killing a run in the middle of its restart.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI } from './cli.js';

export interface JournalStep {
  name: string;
  state: string;
}

/**
 * The steps of the file store's journal in `dir` that holds `secret`: the run's own steps (write-target, restart)
 * and that secret's (apply, verify). [] when not written yet (or caught mid-rename).
 */
export function journalSteps(dir: string, secret: string): JournalStep[] {
  const folder = join(dir, '.rotate/journal');
  try {
    for (const name of readdirSync(folder).filter((n) => n.endsWith('.json'))) {
      const journal = JSON.parse(readFileSync(join(folder, name), 'utf8'));
      const entry = journal.secrets?.find((s: { secret: string }) => s.secret === secret);
      if (entry) return [...journal.steps, ...entry.steps];
    }
  } catch {
    // not written yet, or caught mid-rename
  }
  return [];
}

/**
 * The pids a restart command wrote to `file` (`echo $$ $! > file`): [] until the shell has written them. A pid file
 * exists before its numbers are in it; never hand the 0 of an empty file to kill (0 is the whole process group).
 */
export function pidsIn(file: string): number[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .trim()
    .split(/\s+/)
    .map((word) => Number.parseInt(word, 10))
    .filter((pid) => pid > 0);
}

/** Polls `condition` every `everyMs` until it holds or `timeoutMs` has passed; says whether it held. */
export async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}

/** Waits until the clock has passed `iso`, a time rotate reported (the end of a grace period). */
export async function waitPast(iso: string, timeoutMs = 30_000): Promise<boolean> {
  const at = Date.parse(iso);
  if (Number.isNaN(at)) throw new Error(`not a time: ${iso}`);
  return waitUntil(() => Date.now() > at, timeoutMs, 50);
}

/**
 * A restart command prefix that hangs: its shell starts a long sleep, writes both pids to restart.pids in the run's
 * folder, and waits. Put it before the real restart command of the secret `killInRestart` will run.
 */
export const HANGING_RESTART = 'sleep 30 & echo $$ $! > restart.pids; wait $!; ';

/** Whether the run in `dir` is in the middle of its HANGING_RESTART: the journal names the restart, both pids are written. */
export function inHangingRestart(dir: string, secret: string): boolean {
  return journalSteps(dir, secret).some((step) => step.name === 'restart') && pidsIn(join(dir, 'restart.pids')).length === 2;
}

/**
 * A restart command prefix that holds the run in its restart until the test calls `releaseRestart(dir)`: it marks
 * `restarting` in the run's folder, then waits for `release` (for 60 s at most, so a failed test leaves no shell).
 */
export const HELD_RESTART = 'touch restarting; i=0; while [ ! -e release ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done; ';

/** Whether the run in `dir` is held in its HELD_RESTART. */
export const heldInRestart = (dir: string): boolean => existsSync(join(dir, 'restarting'));

/** Lets a run held in its HELD_RESTART go on. */
export const releaseRestart = (dir: string): void => writeFileSync(join(dir, 'release'), '');

/**
 * Runs `rotate <args>` in `dir` and SIGKILLs it in the middle of its restart: once the journal of `secret` names
 * the restart step and the hanging restart shell (HANGING_RESTART) wrote its pids. Then ends that shell and its
 * sleep, which outlive rotate and would otherwise restart the app later. Throws if the run never got there.
 */
export async function killInRestart(dir: string, secret: string, args: string[], env: Record<string, string | undefined>): Promise<void> {
  const childEnv: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1', ...env };
  for (const [name, value] of Object.entries(env)) if (value === undefined) delete childEnv[name];
  const child = spawn(process.execPath, [CLI, ...args], { cwd: dir, env: childEnv, stdio: 'ignore' });
  const exited = new Promise((resolve) => child.on('close', resolve));
  const reached = await waitUntil(() => inHangingRestart(dir, secret), 15_000, 20);
  child.kill('SIGKILL');
  await exited;
  for (const pid of pidsIn(join(dir, 'restart.pids'))) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  if (!reached) throw new Error(`rotate ${args.join(' ')} never reached its restart: ${JSON.stringify(journalSteps(dir, secret))}`);
}
