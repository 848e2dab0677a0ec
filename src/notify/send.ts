import { NO_REDIRECT, redirectTarget, sameOrigin } from '../http/redirect.js';
import { redact } from '../secret-value.js';
import type { RotatorDeps } from '../secrets/types.js';
import { escapeInline } from '../terminal/escape.js';
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
/** A 307/308 within the webhook's own origin is followed (it keeps the POST and its body), this many times at most. */
const MAX_REDIRECTS = 3;

type Delivery = { ok: true } | { ok: false; problem: string; retry: boolean };

/**
 * One POST. Redirects are never followed by fetch: a 307/308 to the same origin is posted again there, any other
 * redirect (another origin, or a 301/302/303 that would turn the POST into a GET) fails the delivery, naming only
 * where it pointed (no userinfo, query or fragment). A failure is told by status or error kind, never by fetch's
 * message, which can quote the URL whole (a token in its path or userinfo).
 */
async function post(deps: SendDeps, webhookUrl: string, body: string): Promise<Delivery> {
  let url = webhookUrl;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    let response: Response;
    try {
      response = await deps.fetch(
        url,
        tracedAs('notify.webhookUrl', {
          ...NO_REDIRECT,
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(TIMEOUT_MS),
        }),
      );
    } catch (error) {
      return { ok: false, problem: fetchFailure(error), retry: true };
    }
    await response.body?.cancel();
    if (response.ok) return { ok: true };
    const target = redirectTarget(response, url);
    if (target === undefined) return { ok: false, problem: `it answered HTTP ${response.status}`, retry: retryable(response.status) };
    const location = response.headers.get('location');
    const next = location ? new URL(location, url).href : '';
    if (!((response.status === 307 || response.status === 308) && sameOrigin(next, webhookUrl))) {
      return { ok: false, problem: `it answered HTTP ${response.status}, a redirect to ${target}, not followed`, retry: false };
    }
    url = next;
  }
  return { ok: false, problem: `more than ${MAX_REDIRECTS} redirects`, retry: false };
}

/** Why a fetch threw, in words that hold no part of the URL: a timeout, a refused connection, a DNS failure. */
function fetchFailure(error: unknown): string {
  const err = error as Error & { cause?: { code?: unknown } };
  if (err?.name === 'TimeoutError' || err?.name === 'AbortError') return `no answer within ${TIMEOUT_MS / 1000} s`;
  const code = typeof err?.cause?.code === 'string' ? err.cause.code : undefined;
  return code ? `cannot connect: ${code}` : 'cannot connect';
}

/** Whether a notice of `event` goes anywhere: a webhook is configured and `notify.on` asks for the event. */
export const willPost = (config: NotifyConfig, event: NotifyEvent): boolean => Boolean(config.webhookUrl) && config.on.includes(event);

/**
 * Posts `notice` when `notify.on` asks for its event. Tries a few times over a few seconds, then logs a warning;
 * it never throws, so it never changes a rotation's outcome or exit code. The body passes through redact() last.
 */
export async function sendNotice(config: NotifyConfig, deps: SendDeps, notice: Notice): Promise<boolean> {
  const url = config.webhookUrl;
  if (!url || !willPost(config, notice.event)) return false;
  const body = redact(JSON.stringify({ ...notice, text: oneLine(notice.text) }));
  let problem = '';
  for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
    const delivery = await post(deps, url, body);
    if (delivery.ok) return true;
    problem = delivery.problem;
    if (!delivery.retry) break;
    if (attempt < ATTEMPTS) await deps.sleep(BACKOFF_MS[attempt - 1] ?? 2_000);
  }
  deps.log.warn(`could not deliver the ${notice.event} notification to notify.webhookUrl (${problem}); the run's result stands`);
  return false;
}

/** Chat webhooks show one line: collapse newlines and runs of blanks, and keep it readable. */
export function oneLine(text: string, max = 400): string {
  // Control characters a reason or a server's error text carried are shown escaped in the chat, as in a terminal.
  const flat = escapeInline(text.replace(/\s+/g, ' ').trim());
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
