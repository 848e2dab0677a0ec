// `redis://` and `rediss://` URLs as the platform (redis-py, Celery) reads them: the authority ends at the first
// `/`, `?` or `#`; the userinfo ends at the last `@` in it; the password is everything after the first `:` of the
// userinfo, percent-decoded (a stray `%` stays as written, as Python's unquote leaves it). Rewriting changes the
// password and keeps every other byte of the URL as it was. A query that sets the user or password is refused.
import { encodeUserinfo, percentDecode } from '../../connection/userinfo.js';
import { RotateError, usageError } from '../../errors.js';
import { markSecret, SecretValue } from '../../secret-value.js';

export interface RedisUrl {
  scheme: 'redis' | 'rediss';
  /** Percent-decoded user name; `''` when the URL names none (Redis then means the `default` user). */
  username: string;
  /** The user to authenticate as and whose password changes. */
  user: string;
  password: SecretValue | undefined;
  /** Host name as written, without IPv6 brackets. */
  host: string;
  port: number;
  db: number;
  tls: boolean;
}

interface UrlParts {
  scheme: 'redis' | 'rediss';
  schemeRaw: string;
  userRaw: string | undefined;
  passwordRaw: string | undefined;
  hostPort: string;
  rest: string;
}

const URL_SHAPE = /^(rediss?):\/\/([^/?#]*)(.*)$/is;

/** `where` names the value for errors (an env var name); the URL itself never appears in a message. */
function split(raw: string, where: string): UrlParts {
  const match = URL_SHAPE.exec(raw);
  if (!match) {
    throw usageError(
      'REDIS_URL_INVALID',
      `${where} is not a redis:// or rediss:// URL`,
      `Write it as redis://[user]:password@host:6379/0 (the value is not shown here because it may hold a password).`,
    );
  }
  const authority = match[2]!;
  const at = authority.lastIndexOf('@');
  const userinfo = at === -1 ? undefined : authority.slice(0, at);
  const colon = userinfo === undefined ? -1 : userinfo.indexOf(':');
  return {
    scheme: match[1]!.toLowerCase() as 'redis' | 'rediss',
    schemeRaw: match[1]!,
    userRaw: userinfo === undefined ? undefined : colon === -1 ? userinfo : userinfo.slice(0, colon),
    passwordRaw: colon === -1 ? undefined : userinfo!.slice(colon + 1),
    hostPort: at === -1 ? authority : authority.slice(at + 1),
    rest: match[3]!,
  };
}

function hostAndPort(hostPort: string, where: string): { host: string; port: number } {
  const bracketed = /^\[([^\]]+)\](?::(\d*))?$/.exec(hostPort);
  const plain = /^([^:]*)(?::(\d*))?$/.exec(hostPort);
  const match = bracketed ?? plain;
  if (!match) throw usageError('REDIS_URL_INVALID', `${where}: cannot read host and port`, 'Write host:port, or [v6addr]:port.');
  const port = match[2] ? Number(match[2]) : 6379;
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw usageError('REDIS_URL_INVALID', `${where}: port ${match[2]} is out of range`);
  }
  return { host: match[1] || 'localhost', port };
}

/** Query parameters that redis-py or ioredis would read as credentials, in place of (or besides) the userinfo. */
const CREDENTIAL_PARAMS = new Set(['password', 'username', 'user']);

/** The database number: `?db=N` wins over the path, as in redis-py. Refuses credentials in the query. */
function dbOf(rest: string, where: string): number {
  const hash = rest.indexOf('#');
  const beforeHash = hash === -1 ? rest : rest.slice(0, hash);
  const q = beforeHash.indexOf('?');
  const path = q === -1 ? beforeHash : beforeHash.slice(0, q);
  const query = new URLSearchParams(q === -1 ? '' : beforeHash.slice(q + 1));
  const overrides = [...query.keys()].filter((key) => CREDENTIAL_PARAMS.has(key.toLowerCase()));
  if (overrides.length > 0) {
    throw usageError(
      'REDIS_URL_CREDENTIAL_OVERRIDE',
      `${where} carries ${overrides.map((k) => `\`${k}=\``).join(', ')} in its query string, which overrides the user or password`,
      'Put the user and password in the userinfo (redis://user:password@host:6379/0) and remove them from the query string.',
    );
  }
  const text = query.get('db') ?? path.replace(/^\//, '');
  if (text === '') return 0;
  if (!/^\d+$/.test(text)) {
    throw usageError('REDIS_URL_INVALID', `${where}: the database must be a number (the path /N or ?db=N)`);
  }
  return Number(text);
}

export function parseRedisUrl(raw: string, where: string): RedisUrl {
  const parts = split(raw, where);
  const username = parts.userRaw ? percentDecode(parts.userRaw) : '';
  let password: SecretValue | undefined;
  if (parts.passwordRaw !== undefined && parts.passwordRaw !== '') {
    const decoded = percentDecode(parts.passwordRaw);
    markSecret(decoded);
    markSecret(parts.passwordRaw);
    password = new SecretValue(decoded);
  }
  return {
    scheme: parts.scheme,
    username,
    user: username || 'default',
    password,
    ...hostAndPort(parts.hostPort, where),
    db: dbOf(parts.rest, where),
    tls: parts.scheme === 'rediss',
  };
}

/** Percent-encodes what a userinfo cannot carry as is (everything but RFC 3986 unreserved characters). */
const encodePassword = encodeUserinfo;

/**
 * The same URL with `password` in it. Scheme, user, host, port, path (db), query and fragment keep their exact bytes.
 * Refuses a URL without a userinfo: there is no password to replace there, and adding one changes what it means.
 */
export function withPassword(raw: string, password: SecretValue, where: string): SecretValue {
  const parts = split(raw, where);
  if (parts.userRaw === undefined) {
    throw new RotateError('REDIS_URL_NO_PASSWORD', `${where} has no user or password part to rewrite`, {
      hint: 'Write it as redis://:password@host:6379/0 (or redis://user:password@...).',
    });
  }
  const encoded = encodePassword(password.reveal());
  markSecret(encoded);
  const url = `${parts.schemeRaw}://${parts.userRaw}:${encoded}@${parts.hostPort}${parts.rest}`;
  return new SecretValue(url);
}

/** Where a URL points, for log lines and facts: never its password. */
export const describeTarget = (url: RedisUrl): string =>
  `user ${url.user} at ${url.host.includes(':') ? `[${url.host}]` : url.host}:${url.port} db ${url.db}`;
