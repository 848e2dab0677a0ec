// Types every room shares: what a check found, JSON-safe facts, and the log and progress a run reports through.
// (They were in secrets/types.ts; the engine, the targets, the services and the commands use them too.)

import type { CheckId } from './check-ids.js';
import type { ErrorCode } from './error-codes.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** One named check: a preflight, a verification, a retirement proof. */
export interface Check {
  /** What the check is about, for scripts: stable across releases and configs (docs/checks.md, src/check-ids.ts). */
  id: CheckId;
  /** The same for people: a sentence that may name env keys, files and services. */
  name: string;
  ok: boolean;
  /** What was seen; never a secret value. */
  detail?: string;
  /** What to do when it failed. */
  hint?: string;
  /**
   * The error a failing check stands for. One registered with exit 2 (a missing right, Secret or workload) stops a
   * real run as bad usage before anything changes; a dry run reports it as a failed check (exit 1).
   */
  code?: ErrorCode;
}

export interface Progress {
  tick(count: number): void;
  done(): void;
}

export interface Logger {
  info(message: string): void;
  warn(message: string): void;
  debug(message: string): void;
}

export const check = (id: CheckId, name: string, ok: boolean, detail?: string, hint?: string): Check => ({
  id,
  name,
  ok,
  ...(detail === undefined ? {} : { detail }),
  ...(hint === undefined || ok ? {} : { hint }),
});
