import type { SecretHealth } from './health.js';

/** A label value as the text exposition format wants it: backslash, double quote and line feed escaped. */
export const escapeLabelValue = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

const seconds = (iso: string | null): number => (iso ? Math.floor(Date.parse(iso) / 1000) : 0);
const flag = (yes: boolean): number => (yes ? 1 : 0);

const GAUGES: { name: string; help: string; value: (h: SecretHealth) => number }[] = [
  {
    name: 'rotate_secret_last_rotation_timestamp_seconds',
    help: 'When the secret was last rotated (by rotate, or recorded with rotate mark), as Unix seconds; 0 when never.',
    value: (h) => seconds(h.lastRotatedAt),
  },
  {
    name: 'rotate_secret_next_due_timestamp_seconds',
    help: 'When the secret is next due for rotation, as Unix seconds; 0 when never rotated by rotate (due now).',
    value: (h) => seconds(h.nextDue),
  },
  {
    name: 'rotate_secret_overdue',
    help: '1 when the secret is past its due date, never rotated by rotate, or its grace period ended unretired; else 0.',
    value: (h) => flag(h.overdue),
  },
  {
    name: 'rotate_secret_last_run_ok',
    help: "1 when the secret's last recorded run succeeded (or none is recorded); 0 when it failed.",
    value: (h) => flag(h.lastRunOk),
  },
  {
    name: 'rotate_secret_needs_person',
    help: '1 when an interrupted run or a failed rollback of the secret waits for rotate resume; else 0.',
    value: (h) => flag(h.needsPerson),
  },
];

/** Prometheus text exposition (version 0.0.4): one gauge family per fact, one sample per secret. */
export function metricsText(health: SecretHealth[]): string {
  const lines: string[] = [];
  for (const gauge of GAUGES) {
    lines.push(`# HELP ${gauge.name} ${gauge.help}`, `# TYPE ${gauge.name} gauge`);
    for (const h of health) {
      lines.push(`${gauge.name}{secret="${escapeLabelValue(h.secret)}",kind="${escapeLabelValue(h.kind)}"} ${gauge.value(h)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
