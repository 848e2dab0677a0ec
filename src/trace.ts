// `--verbose`: the one tracing path. What rotate does at each step (the files it reads, each engine step, the commands
// it runs, the URLs it checks, the servers and APIs it contacts, the store's operations), with the time, on stderr.
// Off unless the command line asks: `trace()` then costs a branch. The terminal logger's `debug` writes here too, and
// every line passes through the sink, which redacts every known secret value. What callers hand in is already free of
// values (URLs through safeUrl, commands through safeCommand, endpoints as host:port/db): redact() is the last guard.
import { performance } from 'node:perf_hooks';
import type { Check } from './core-types.js';

const HIDDEN = '[redacted]';

let sink: ((line: string) => void) | undefined;

/** A poll (a health URL, a rollout) repeats one line: it is written once, then counted until another line comes. */
let last: { shape: string; repeats: number; at: number } | undefined;
const REPEAT_EVERY_MS = 10_000;

/** Sends every trace line to `write` (the terminal logger's stderr writer); `undefined` turns tracing off. */
export function setTraceSink(write: ((line: string) => void) | undefined): void {
  sink = write;
  last = undefined;
}

export const tracing = (): boolean => sink !== undefined;

/** Milliseconds, rounded, for "done in 12 ms". */
const ms = (since: number): number => Math.round(performance.now() - since);

/**
 * One line, stamped with the time since the process started (`[+1234ms]`). The same line again (but for its
 * timings) right after itself is counted instead, and written again every 10 s so that a long wait shows.
 */
export function trace(message: string): void {
  if (!sink) return;
  const now = Math.round(performance.now());
  const shape = message.replace(/\d+ ms\b/g, '# ms');
  if (last && last.shape === shape && now - last.at < REPEAT_EVERY_MS) {
    last.repeats++;
    return;
  }
  if (last && last.repeats > 0) sink(`[+${now}ms] (the line above ${last.repeats} more time${last.repeats > 1 ? 's' : ''})`);
  sink(`[+${now}ms] ${message}`);
  last = { shape, repeats: 0, at: now };
}

/** What a failure was, for the line that says so: its code (RotateError, SQLSTATE, errno), never its message. */
function failure(error: unknown): string {
  const codeOf = (e: unknown) => (typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined);
  // fetch's TypeError carries the socket's code (ECONNREFUSED) on its cause.
  const code = codeOf(error) ?? codeOf((error as { cause?: unknown } | undefined)?.cause);
  return typeof code === 'string' || typeof code === 'number' ? String(code) : error instanceof Error ? error.name : 'error';
}

/**
 * Runs `work` between two lines: `label ...` when it starts (for long steps: the trace shows what rotate waits on),
 * and `label: done in N ms` (with `outcome` of the value) or `label: failed after N ms (CODE)` when it ends.
 */
export function traced<T>(label: string, work: () => Promise<T>, outcome?: (value: T) => string): Promise<T> {
  if (!sink) return work();
  trace(`${label} ...`);
  return timed(label, work, outcome);
}

/** Like `traced`, with the end line only: for quick operations (a store write, an API call, a connection). */
export async function timed<T>(label: string, work: () => Promise<T>, outcome?: (value: T) => string): Promise<T> {
  if (!sink) return work();
  const started = performance.now();
  try {
    const value = await work();
    const said = outcome?.(value);
    trace(`${label}: done in ${ms(started)} ms${said ? ` (${said})` : ''}`);
    return value;
  } catch (error) {
    trace(`${label}: failed after ${ms(started)} ms (${failure(error)})`);
    throw error;
  }
}

/** A URL for a trace line: no userinfo, every query value and the fragment blanked; text that is no URL is not shown. */
export function safeUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return '(not a URL)';
  }
  url.username = '';
  url.password = '';
  const query = [...url.searchParams.keys()].map((key) => `${encodeURIComponent(key)}=${HIDDEN}`).join('&');
  return `${url.protocol}//${url.host}${url.pathname}${query ? `?${query}` : ''}${url.hash ? `#${HIDDEN}` : ''}`;
}

// Words after which a command's next word is a credential, and NAME=value assignments whose name says secret.
const SECRET_FLAG = /(--?(?:password|passwd|pass|token|secret|key|api-key|auth|credentials?)(?:=|\s+))("[^"]*"|'[^']*'|\S+)/gi;
const SECRET_ASSIGNMENT =
  /\b([A-Za-z_][A-Za-z0-9_]*(?:SECRET|PASS|PASSWORD|PASSWD|TOKEN|KEY|CREDENTIALS?|AUTH|DSN)[A-Za-z0-9_]*)=("[^"]*"|'[^']*'|\S+)/gi;
const USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s'"]*@/gi;
// `-u user:pass` (curl), and a header that carries a credential (`-H "Authorization: Bearer ..."`).
const USER_FLAG = /((?:^|\s)(?:-u|--user)(?:=|\s+))("[^"]*"|'[^']*'|\S*:\S*)/g;
const SECRET_HEADER = /((?:proxy-)?(?:authorization|x-api-key|api-key|x-auth-token|cookie)\s*:\s*)[^"'\n]+/gi;

/**
 * A command line (as configured: a shell string) for a trace line: the credentials it may carry written out are
 * blanked (`--password x`, `TOKEN=x`, `scheme://user:pass@`, `-u user:pass`, an `Authorization:` header). A reference
 * such as `$DB_PASSWORD` stays as written: the shell expands it in the child, and its value never reaches rotate's
 * output.
 */
export function safeCommand(command: string): string {
  return command
    .replace(USERINFO, `$1${HIDDEN}@`)
    .replace(SECRET_HEADER, `$1${HIDDEN}`)
    .replace(USER_FLAG, (all, flag: string, value: string) => (value.startsWith('$') ? all : `${flag}${HIDDEN}`))
    .replace(SECRET_FLAG, (all, flag: string, value: string) => (value.startsWith('$') ? all : `${flag}${HIDDEN}`))
    .replace(SECRET_ASSIGNMENT, (all, name: string, value: string) => (value.startsWith('$') ? all : `${name}=${HIDDEN}`));
}

/** "3 checks passed", or "2 of 3 checks passed; failed: <names>", for the line after a preflight or a verification. */
export function checkCount(checks: readonly Check[]): string {
  const failed = checks.filter((c) => !c.ok);
  if (failed.length === 0) return `${checks.length} check${checks.length === 1 ? '' : 's'} passed`;
  return `${checks.length - failed.length} of ${checks.length} checks passed; failed: ${failed.map((c) => c.name).join('; ')}`;
}

const TRACE_AS = Symbol('trace as');

/** A request whose URL is itself a credential (a chat webhook's path): traced by `name` and its host only. */
export const tracedAs = (name: string, init: RequestInit): RequestInit => Object.assign(init, { [TRACE_AS]: name });

/** `fetch` that traces each request: method, URL (safeUrl), status and time. Headers and bodies are never traced. */
export function tracedFetch(inner: typeof fetch): typeof fetch {
  return ((input: string | URL | Request, init?: RequestInit & { [TRACE_AS]?: string }) => {
    if (!sink) return inner(input, init);
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const name = init?.[TRACE_AS];
    const shown = name ? `${name} (${safeUrl(url).split('/')[2] ?? '?'})` : safeUrl(url);
    return timed(
      `http: ${method} ${shown}`,
      () => inner(input, init),
      (response) => `HTTP ${response.status}`,
    );
  }) as typeof fetch;
}
