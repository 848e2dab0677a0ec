import { Chalk, type ChalkInstance } from 'chalk';
import type { Logger } from '../core-types.js';
import { redact } from '../secret-value.js';
import { setTraceSink, trace } from '../trace.js';
import { escapeBlock } from './escape.js';

export interface TerminalOptions {
  quiet: boolean;
  verbose: boolean;
}

/** Colour only on a TTY, and never with NO_COLOR set (CONTRACT.md, Output). */
export function colorFor(stream: NodeJS.WriteStream, environment: Record<string, string | undefined>): ChalkInstance {
  const enabled = stream.isTTY === true && !('NO_COLOR' in environment);
  return new Chalk({ level: enabled ? 1 : 0 });
}

/** Every stderr line: redacted, and its control characters from outside escaped (escape.ts). */
const writeStderr = (text: string) => process.stderr.write(`${escapeBlock(redact(text))}\n`);

/**
 * `--verbose`: trace lines (src/trace.ts) go to stderr, dimmed on a TTY, redacted like every other line. Started
 * before the config is read, so that the trace says which config and env files it read.
 */
export function startTracing(environment: Record<string, string | undefined>): void {
  const color = colorFor(process.stderr, environment);
  setTraceSink((line) => writeStderr(color.dim(line)));
}

/** Progress and logs: stderr only, every line passed through redact(). `debug` is a trace line (`--verbose` only). */
export function createLogger(options: TerminalOptions, environment: Record<string, string | undefined>): Logger {
  const color = colorFor(process.stderr, environment);
  const write = writeStderr;
  return {
    info: (message) => {
      if (!options.quiet) write(message);
    },
    warn: (message) => write(color.yellow(`warning: ${message}`)),
    debug: (message) => {
      if (options.verbose) trace(message);
    },
  };
}
