// Waiting on a `rotate` child from the outside: its journal, the pid files its restart command writes, and a poll
// that never sleeps longer than it must.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface JournalStep {
  name: string;
  state: string;
}

/** The steps of the file store's journal for `secret` in `dir`: [] when not written yet (or caught mid-rename). */
export function journalSteps(dir: string, secret: string): JournalStep[] {
  try {
    return JSON.parse(readFileSync(join(dir, '.rotate/journal', `${secret}.json`), 'utf8')).steps;
  } catch {
    return [];
  }
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
export async function waitUntil(condition: () => boolean, timeoutMs = 10_000, everyMs = 25): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
  return true;
}
