import type { Check, JsonValue } from '../core-types.js';
import { type ErrorInfo, ExitCode, type ExitCodeValue } from '../errors.js';

export type SecretStatus =
  | 'rotated'
  /** `--no-restart`: the new value is written to the target, not applied to any running process, not verified. */
  | 'written'
  | 'grace'
  | 'retired'
  | 'rolled-back'
  | 'rollback-failed'
  | 'retire-failed'
  | 'failed'
  | 'needs-operator'
  | 'skipped'
  | 'planned'
  | 'preflight-failed'
  | 'verified'
  | 'verify-failed'
  | 'restored'
  | 'undone'
  /** Git delivery: pushed, not converged: the live Secret did not hold the new value in time; resume goes on. */
  | 'not-converged';

export { type ErrorInfo, errorInfo } from '../errors.js';

/** What happened to one secret in one run: the data behind both the human and the JSON output. */
export interface SecretResult {
  secret: string;
  kind: string;
  /** The run this secret was part of (absent when no run started: a failed preflight, a plan, a skip). */
  runId?: string;
  status: SecretStatus;
  /** For a run that wrote new values: whether the services were restarted onto them (false with `--no-restart`). */
  applied?: boolean;
  checks: Check[];
  facts: Record<string, JsonValue>;
  envKeys: string[];
  steps: string[];
  graceUntil?: string;
  /**
   * For a value put in place (rotated, grace, restored) or verified: what nothing checked in the running app, as a
   * sentence (a JWT secret without verify.url). Absent when the verify step checked the value where it is used.
   */
  unchecked?: string;
  note?: string;
  error?: ErrorInfo;
}

const EXIT_BY_STATUS: Record<SecretStatus, ExitCodeValue> = {
  rotated: ExitCode.ok,
  written: ExitCode.ok,
  grace: ExitCode.ok,
  retired: ExitCode.ok,
  verified: ExitCode.ok,
  'verify-failed': ExitCode.failed,
  restored: ExitCode.ok,
  undone: ExitCode.ok,
  planned: ExitCode.ok,
  'preflight-failed': ExitCode.failed,
  skipped: ExitCode.ok,
  // `--due` could not rotate a due secret that needs an operator (Stripe): cron monitoring must see it.
  'needs-operator': ExitCode.failed,
  failed: ExitCode.failed,
  'rolled-back': ExitCode.failed,
  'rollback-failed': ExitCode.needsPerson,
  'retire-failed': ExitCode.needsPerson,
  'not-converged': ExitCode.failed,
};

/**
 * Failures whose code promises exit 2 (docs/kubernetes.md): a concurrent change of the Secret stops the run, nothing
 * of it is overwritten, and the run is undone; it is a conflict to look at, not a failed rotation.
 */
// Git delivery (target.source.git): a push the remote refused, or a commit git or rotate refused, is undone the same way.
const USAGE_FAILURES = new Set(['KUBE_CONFLICT', 'GIT_PUSH_REFUSED', 'GIT_PLAINTEXT', 'GIT_COMMIT_FAILED']);

/**
 * A failure whose rollback failed too, as one error that says each thing once. The rollback usually fails the way the
 * run did (a restart command that fails again prints the same): its message and its hint (which quotes the command's
 * output) are then shown once, not once per attempt; different ones are shown each with what it belongs to.
 */
export function rollbackFailed(run: ErrorInfo, rollback: ErrorInfo): ErrorInfo {
  const message =
    rollback.message === run.message
      ? `${run.message}, and again while rolling back`
      : `${run.message}; rolling back failed too: ${rollback.message}`;
  const hints =
    !rollback.hint || rollback.hint === run.hint
      ? [run.hint]
      : !run.hint
        ? [rollback.hint]
        : [`the run: ${run.hint}`, `the rollback: ${rollback.hint}`];
  const next = 'fix the cause, then run `rotate resume`: it finishes the rollback (`rotate status` shows the run)';
  return { code: 'ROLLBACK_FAILED', message, hint: [...hints.filter((h) => h !== undefined), next].join('\n') };
}

/** The worst outcome decides: needs a person (3) over bad input (2) over failed (1) over done (0). */
export function exitCodeOf(results: SecretResult[]): ExitCodeValue {
  const rank = (exit: ExitCodeValue) => [ExitCode.ok, ExitCode.failed, ExitCode.usage, ExitCode.needsPerson].indexOf(exit as 0);
  let code: ExitCodeValue = ExitCode.ok;
  for (const result of results) {
    let next = EXIT_BY_STATUS[result.status];
    if (next === ExitCode.failed && result.error && USAGE_FAILURES.has(result.error.code)) next = ExitCode.usage;
    if (rank(next) > rank(code)) code = next;
  }
  return code;
}
