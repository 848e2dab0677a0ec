import { Chalk, type ChalkInstance } from 'chalk';
import type { Logger } from '../core-types.js';
import { redact } from '../secret-value.js';

export interface TerminalOptions {
  quiet: boolean;
  verbose: boolean;
}

/** Colour only on a TTY, and never with NO_COLOR set (CONTRACT.md, Output). */
export function colorFor(stream: NodeJS.WriteStream, environment: Record<string, string | undefined>): ChalkInstance {
  const enabled = stream.isTTY === true && !('NO_COLOR' in environment);
  return new Chalk({ level: enabled ? 1 : 0 });
}

/** Progress and logs: stderr only, every line passed through redact(). */
export function createLogger(options: TerminalOptions, environment: Record<string, string | undefined>): Logger {
  const color = colorFor(process.stderr, environment);
  const write = (text: string) => process.stderr.write(`${redact(text)}\n`);
  return {
    info: (message) => {
      if (!options.quiet) write(message);
    },
    warn: (message) => write(color.yellow(`warning: ${message}`)),
    debug: (message) => {
      if (options.verbose) write(color.dim(message));
    },
  };
}
