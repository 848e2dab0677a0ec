/** Exit codes of the contract (CONTRACT.md, "Exit codes"). */
export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  needsPerson: 3,
  locked: 4,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * The one error type of `rotate`. `code` is stable (docs and scripts match on it), `hint` says what to do, and
 * `exitCode` is what the process ends with when this error reaches the top.
 */
export class RotateError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly exitCode: ExitCodeValue;

  constructor(code: string, message: string, options: { hint?: string; exitCode?: ExitCodeValue; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RotateError';
    this.code = code;
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? ExitCode.failed;
  }
}

export const usageError = (code: string, message: string, hint?: string): RotateError =>
  new RotateError(code, message, { hint, exitCode: ExitCode.usage });

/** A short, printable reason for any thrown value. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}
