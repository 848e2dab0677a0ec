import { redact } from '../secret-value.js';
import type { RotatorDeps } from '../secrets/types.js';
import { tracedAs } from '../trace.js';
import type { NotifyConfig, NotifyEvent } from './schema.js';

/** One notification: a one-line `text` that Slack, Mattermost and Teams show, plus fields for machines. */
export interface Notice {
  event: NotifyEvent;
  text: string;
  [field: string]: unknown;
}

type SendDeps = Pick<RotatorDeps, 'fetch' | 'log' | 'sleep'>;

/** Short: a notification must never hold a rotation (or cron) up for long. */
const ATTEMPTS = 3;
const TIMEOUT_MS = 5_000;
const BACKOFF_MS = [500, 2_000];

const retryable = (status: number) => status === 408 || status === 429 || status >= 500;

/**
 * Posts `notice` when `notify.on` asks for its event. Tries a few times over a few seconds, then logs a warning;
 * it never throws, so it never changes a rotation's outcome or exit code. The body passes through redact() last.
 */
export async function sendNotice(config: NotifyConfig, deps: SendDeps, notice: Notice): Promise<boolean> {
  const url = config.webhookUrl;
  if (!url || !config.on.includes(notice.event)) return false;
  const body = redact(JSON.stringify({ ...notice, text: oneLine(notice.text) }));
  let problem = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    try {
      const response = await deps.fetch(
        url,
        tracedAs('notify.webhookUrl', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        }),
      );
      await response.body?.cancel();
      if (response.ok) return true;
      problem = `it answered HTTP ${response.status}`;
      if (!retryable(response.status)) break;
    } catch (error) {
      problem = (error as Error).message;
    }
    if (attempt < ATTEMPTS) await deps.sleep(BACKOFF_MS[attempt - 1] ?? 2_000);
  }
  deps.log.warn(`could not deliver the ${notice.event} notification to notify.webhookUrl (${problem}); the run's result stands`);
  return false;
}

/** Chat webhooks show one line: collapse newlines and runs of blanks, and keep it readable. */
export function oneLine(text: string, max = 400): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
