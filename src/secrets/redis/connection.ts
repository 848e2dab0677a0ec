// Short-lived Redis connections for the rotator. AUTH is sent by hand after connecting (not by ioredis), so a
// refused password is a clean WRONGPASS reply rather than a reconnect loop, and every error that leaves this file
// is rebuilt from the reply's first line: ioredis attaches the command's arguments (passwords) to its errors.
import './quiet-debug.js'; // before ioredis: its debug channel prints passwords
import { Redis } from 'ioredis';
import { type ErrorCode, RotateError } from '../../errors.js';
import { redact, type SecretValue } from '../../secret-value.js';
import { timed } from '../../trace.js';
import { describeTarget, type RedisUrl } from './url.js';

export type RedisClient = Redis;

/** The first line of a Redis or socket error, with any of `sensitive` (passwords, hashes) blanked out. */
export function replyText(error: unknown, sensitive: string[] = []): string {
  let text = (error instanceof Error ? error.message : String(error)).split('\n')[0] ?? '';
  for (const value of sensitive) if (value) text = text.split(value).join('[redacted]');
  return redact(text);
}

/** `WRONGPASS`, `NOPERM`, `ECONNREFUSED`...: the error's code word. */
export function replyCode(error: unknown): string {
  const err = error as { code?: unknown; message?: unknown };
  if (typeof err?.code === 'string') return err.code;
  const first = /^([A-Z][A-Z_-]+)\b/.exec(String(err?.message ?? ''));
  return first?.[1] ?? 'ERROR';
}

async function openSocket(url: RedisUrl): Promise<Redis> {
  const client = new Redis({
    host: url.host,
    port: url.port,
    ...(url.tls ? { tls: { servername: url.host } } : {}),
    lazyConnect: true,
    enableReadyCheck: false,
    enableOfflineQueue: false,
    disableClientInfo: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 5_000,
    commandTimeout: 10_000,
  });
  let lastError: unknown;
  client.on('error', (error) => {
    lastError = error;
  });
  try {
    await timed(`redis: connect to ${url.host.includes(':') ? `[${url.host}]` : url.host}:${url.port}${url.tls ? ' (TLS)' : ''}`, () =>
      client.connect(),
    );
  } catch (error) {
    client.disconnect();
    throw new RotateError('REDIS_UNREACHABLE', `cannot connect to Redis (${describeTarget(url)}): ${replyText(lastError ?? error)}`, {
      hint: 'Check that Redis is running and that the host and port in the URL are right.',
    });
  }
  return client;
}

export interface Authenticated {
  client: Redis;
  close(): Promise<void>;
}

/**
 * A fresh connection authenticated as `url.user` with `password` (none: no AUTH), on the URL's database.
 * Throws RotateError `REDIS_WRONGPASS` (or `REDIS_AUTH_FAILED`) when Redis refuses the password.
 */
export async function connectAs(url: RedisUrl, password: SecretValue | undefined): Promise<Authenticated> {
  const client = await openSocket(url);
  const close = async () => {
    await client.quit().catch(() => client.disconnect());
  };
  try {
    if (password) await timed(`redis: AUTH as ${url.user}`, () => client.auth(url.user, password.reveal()));
    if (url.db !== 0) await timed(`redis: SELECT ${url.db}`, () => client.select(url.db));
  } catch (error) {
    await close();
    const code = replyCode(error);
    throw new RotateError(
      code === 'WRONGPASS' ? 'REDIS_WRONGPASS' : 'REDIS_AUTH_FAILED',
      `Redis refused ${describeTarget(url)}: ${replyText(error, password ? [password.reveal()] : [])}`,
    );
  }
  return { client, close };
}

/** Runs `fn` on a fresh authenticated connection and closes it. */
export async function withConnection<T>(url: RedisUrl, password: SecretValue | undefined, fn: (client: Redis) => Promise<T>): Promise<T> {
  const conn = await connectAs(url, password);
  try {
    return await fn(conn.client);
  } finally {
    await conn.close();
  }
}

/**
 * Sends one command; a failure becomes RotateError `code` naming `what`, never the arguments. `sensitive` lists
 * arguments to blank out of the reply text as well (Redis echoes an ACL SETUSER modifier in its error); nothing is blanked by default.
 */
export async function command<T = unknown>(
  client: Redis,
  what: string,
  args: string[],
  options: { code?: ErrorCode; sensitive?: string[]; hint?: string } = {},
): Promise<T> {
  try {
    return (await timed(
      // `what` names the command for people ("ACL SETUSER app (add the new password)"); its arguments carry passwords.
      `redis: ${what}`,
      () => client.call(args[0]!, ...args.slice(1)),
    )) as T;
  } catch (error) {
    throw new RotateError(options.code ?? 'REDIS_COMMAND_FAILED', `${what} failed: ${replyText(error, options.sensitive ?? [])}`, {
      ...(options.hint ? { hint: options.hint } : {}),
    });
  }
}
