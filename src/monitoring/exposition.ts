import type { SecretHealth } from './health.js';

/** A label value as the text exposition format wants it: backslash, double quote and line feed escaped. */
export const escapeLabelValue = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const seconds = (iso: string | null): number => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);
const flag = (yes: boolean): number => (yes ? 1 : 0);

/** One gauge family per fact of a secret's health: a time as Unix seconds (0: never), a yes/no as 1 or 0. */
const GAUGES = {
  rotate_secret_last_rotation_timestamp_seconds: (h: SecretHealth) => seconds(h.lastRotatedAt),
  rotate_secret_next_due_timestamp_seconds: (h: SecretHealth) => seconds(h.nextDue),
  rotate_secret_overdue: (h: SecretHealth) => flag(h.overdue),
  rotate_secret_last_run_ok: (h: SecretHealth) => flag(h.lastRunOk),
  rotate_secret_not_applied: (h: SecretHealth) => flag(h.notApplied),
  rotate_secret_needs_person: (h: SecretHealth) => flag(h.needsPerson),
  rotate_secret_drifted: (h: SecretHealth) => flag(h.drifted),
  rotate_secret_not_converged: (h: SecretHealth) => flag(h.notConverged),
};

/** Each gauge's `# HELP` text (every gauge must have one). */
const HELP: Record<keyof typeof GAUGES, string> = {
  rotate_secret_last_rotation_timestamp_seconds:
    'When the secret was last rotated (by rotate, or recorded with rotate mark), as Unix seconds; 0 when never.',
  rotate_secret_next_due_timestamp_seconds:
    'When the secret is next due for rotation, as Unix seconds; 0 when never rotated by rotate (due now).',
  rotate_secret_overdue: '1 when the secret is past its due date, never rotated by rotate, or its grace period ended unretired; else 0.',
  rotate_secret_last_run_ok: "1 when the secret's last recorded run succeeded (or none is recorded); 0 when it failed.",
  rotate_secret_not_applied:
    '1 when the last rotation was written with --no-restart and no rotate verify has passed since (no service restarted onto it); else 0.',
  rotate_secret_needs_person: '1 when an interrupted run or a failed rollback of the secret waits for rotate resume; else 0.',
  rotate_secret_drifted:
    '1 when the env file, Secret or source no longer holds the value of the last recorded rotation (reverted, or changed outside rotate); else 0.',
  rotate_secret_not_converged:
    '1 when the last run pushed the source to git and the live Secret did not hold the new value in time (pushed, not converged: rotate resume waits again); else 0.',
};

/** Prometheus text exposition (version 0.0.4): one gauge family per fact, one sample per secret. */
export function metricsText(health: SecretHealth[]): string {
  const lines: string[] = [];
  for (const [name, value] of Object.entries(GAUGES) as [keyof typeof GAUGES, (h: SecretHealth) => number][]) {
    lines.push(`# HELP ${name} ${HELP[name]}`, `# TYPE ${name} gauge`);
    for (const h of health) {
      lines.push(`${name}{secret="${escapeLabelValue(h.secret)}",kind="${escapeLabelValue(h.kind)}"} ${value(h)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
