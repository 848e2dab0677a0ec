import { jsonDocument, printStdout } from '../terminal/render.js';
import type { GlobalOptions } from './options.js';

/** The body of a command's result: one list under `results`, plus anything the command adds. */
export interface ResultBody {
  results: unknown[];
  [key: string]: unknown;
}

/**
 * Prints a command's result, as the one JSON document (`--json`) or as text for people, and returns its exit code.
 * `human` is only called without `--json`; an empty text prints nothing.
 */
export function printResult(options: GlobalOptions, command: string, code: number, body: ResultBody, human: () => string): number {
  if (options.json) {
    printStdout(jsonDocument(command, code, body));
    return code;
  }
  const text = human();
  if (text) printStdout(text);
  return code;
}
