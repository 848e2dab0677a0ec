import { ERROR_CODES, type ErrorCode, ExitCode, type ExitCodeValue, type UsageErrorCode } from './error-codes.js';
import { redact } from './secret-value.js';

export { ERROR_CODES, type ErrorCode, ExitCode, type ExitCodeValue } from './error-codes.js';

/**
 * The one error type of `rotate`. `code` is stable (docs and scripts match on it) and must be in the registry
 * (src/error-codes.ts), which also gives the exit code the process ends with when this error reaches the top.
 * `hint` says what to do; without one of its own the error carries the registry's.
 */
export class RotateError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;

  constructor(code: ErrorCode, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RotateError';
    this.code = code;
    // `?.`: a code that reached here through a cast still makes an error, not a TypeError in the error path.
    this.hint = options.hint ?? ERROR_CODES[code]?.hint;
  }

  get exitCode(): ExitCodeValue {
    return ERROR_CODES[this.code]?.exit ?? ExitCode.failed;
  }
}

/** An error of bad usage or config (exit 2: nothing was touched); only codes registered with exit 2 are accepted. */
export const usageError = (code: UsageErrorCode, message: string, hint?: string): RotateError => new RotateError(code, message, { hint });

/** An error as results and the JSON document carry it: its code, message and hint, redacted. */
export interface ErrorInfo {
  code: string;
  message: string;
  hint?: string;
}

/** Any thrown value as an `ErrorInfo`: a RotateError's code and hint, anything else `UNEXPECTED`; never a value. */
export function errorInfo(error: unknown): ErrorInfo {
  if (error instanceof RotateError) {
    return { code: error.code, message: redact(error.message), ...(error.hint ? { hint: redact(error.hint) } : {}) };
  }
  return { code: 'UNEXPECTED', message: redact(error instanceof Error ? error.message : String(error)) };
}

/** A short, printable reason for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** Why a file could not be read, for `the env file X ${why}`: a folder, no permission, or Node's own words. */
export function unreadableFileReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EISDIR') return 'is a folder, not a file';
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'EACCES' || code === 'EPERM') return 'cannot be read by this user (permission denied)';
  return `cannot be read (${describeError(error)})`;
}
