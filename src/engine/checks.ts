import type { Check } from '../core-types.js';
import { type ErrorCode, RotateError } from '../errors.js';
import type { Rotation, Verified } from '../secrets/types.js';

export const failedChecks = (checks: readonly Check[]): Check[] => checks.filter((c) => !c.ok);

/** Stops a step with `code` when a check failed, naming every failed check and the first hint. */
export function assertChecks(checks: Check[], code: ErrorCode, what: string): void {
  const bad = failedChecks(checks);
  if (bad.length > 0) {
    throw new RotateError(code, `${what}: ${bad.map((c) => `${c.name}${c.detail ? ` (${c.detail})` : ''}`).join('; ')}`, {
      hint: bad.find((c) => c.hint)?.hint,
    });
  }
}

/** The checks of what a rotator's `verify` returned, with or without a rotation. */
export const checksOf = <R extends Rotation>(verified: Verified<R>): Check[] => (Array.isArray(verified) ? verified : verified.checks);
